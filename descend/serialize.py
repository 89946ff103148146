"""`save` and `load`: state dicts (and nests of them) as ``.npz`` files that never run code when loaded.

The file is an ordinary NumPy ``.npz`` archive. Every array (each Tensor or ndarray in the object)
is one member, named by its path of keys (``model/fc1.weight``, ``optimizer/state/0/exp_avg``), so
``numpy.load`` can read a checkpoint without descend. Everything else, the structure itself, the
numbers, strings, None, tuples versus lists and the types of dict keys (the optimizer's integer
parameter ids stay ints), is one JSON document stored as a uint8 array under ``__descend__``.
`load` opens the file with ``allow_pickle=False``: a file carrying a pickled object is refused and
nothing in it runs. `save` writes to a temporary file in the same folder, fsyncs it and renames it over the
target, so a crash never leaves a half-written checkpoint (or destroys the previous one). The
temporary's name carries the writer's host and pid: a later save removes those of writers that died
mid-write and leaves a live writer's alone. As with ``torch.save``, an existing file keeps its mode
and a symlink is written through to its target. Arrays are read back by their exact member name, so
dict keys round-trip whatever they contain (``"fc.weight"`` and ``"fc.weight.npy"`` stay apart).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import socket
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor, from_numpy

__all__ = ["save", "load"]

_META = "__descend__"
_FORMAT = "descend.save"
_VERSION = 1
# Containers nested deeper than this are refused by save and load (a state dict is 3-4 deep), so
# neither can run into Python's recursion limit.
_MAX_DEPTH = 200
# Deflate can't compress better than about 1032:1: a member claiming more is corrupt or a bomb.
_MAX_DEFLATE_RATIO = 1100
_TMP_SUFFIX = ".descend-tmp"
_TMP_NAME = re.compile(
    r"^\..*\.(?P<host>[A-Za-z0-9_-]*)\.(?P<pid>[0-9]+)\.[0-9a-f]{12}" + re.escape(_TMP_SUFFIX) + "$"
)


def _where(path):
    """``obj['model']['fc.weight']``-style description of a position in the saved object."""
    return "obj" + "".join(f"[{k!r}]" for k in path)


# --- encoding: Python object -> (JSON tree, arrays) ---


class _Encoder:
    def __init__(self):
        self.arrays = {}  # member name -> ndarray

    def _member(self, path):
        """A unique, readable archive member name for the array at ``path``."""
        base = "/".join(str(k) for k in path) or "value"
        if not base.isprintable() or base.startswith(_META):
            base = "array"
        name, n = base, 1
        # Members are read back by their exact archive name (name + ".npy"), so names only need to be
        # unique; none ends in ".npy" either, so numpy.load's own name lookup can't confuse two.
        while name in self.arrays or name.endswith(".npy"):
            name, n = f"{base}#{n}", n + 1
        return name

    def _array(self, arr, path, kind, **extra):
        if arr.dtype.hasobject:
            raise TypeError(f"can't save {_where(path)}: arrays of Python objects would need pickle")
        name = self._member(path)
        self.arrays[name] = arr
        return {"type": kind, "key": name, **extra}

    def key(self, key, path):
        # dict keys: the hashable JSON-able scalars, and tuples of them
        if isinstance(key, (np.integer, np.floating, np.bool_)):
            key = key.item()
        if key is None or isinstance(key, (bool, int, float, str)):
            return self.value(key, path)
        if isinstance(key, tuple):
            return {"type": "tuple", "items": [self.key(k, path) for k in key]}
        raise TypeError(
            f"can't save a dict key of type {type(key).__name__} in {_where(path)}: keys must be str, int, "
            "float, bool, None or tuples of them"
        )

    def value(self, obj, path):
        if len(path) > _MAX_DEPTH:
            raise ValueError(
                f"can't save {_where(path[:3])}...: containers nested more than {_MAX_DEPTH} deep"
            )
        if isinstance(obj, Tensor):
            return self._array(obj._data, path, "tensor", requires_grad=bool(obj.requires_grad))
        if isinstance(obj, np.ndarray):
            return self._array(obj, path, "ndarray")
        if isinstance(obj, np.generic):
            # NumPy scalars (np.float32(0.1), np.int64(3)) keep their dtype as 0-d members.
            return self._array(np.asarray(obj), path, "scalar")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            # JSON writes a float's repr ("0.1", "1.0", "NaN"), which reads back as the same float.
            return float(obj)
        if isinstance(obj, dict):
            items = [[self.key(k, path), self.value(v, (*path, k))] for k, v in obj.items()]
            # Module.state_dict() returns an OrderedDict (as PyTorch's); give the same type back.
            return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        if isinstance(obj, list):
            return {"type": "list", "items": [self.value(v, (*path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"type": "tuple", "items": [self.value(v, (*path, i)) for i, v in enumerate(obj)]}
        raise TypeError(
            f"can't save {_where(path)} of type {type(obj).__name__}: descend.save stores Tensors, "
            "arrays, numbers, strings, None, and dicts/lists/tuples of them"
        )


# --- decoding: (JSON tree, arrays) -> Python object ---


class _Bad(Exception):
    """A problem with the file's contents; `load` turns it into ValueError naming the path."""


def _items(node, pairs=False):
    items = node.get("items")
    if not isinstance(items, list):
        raise _Bad(f"malformed descend metadata (a {node['type']!r} entry without a list of items)")
    if pairs and not all(isinstance(kv, list) and len(kv) == 2 for kv in items):
        raise _Bad("malformed descend metadata (a dict item that is not a [key, value] pair)")
    return items


def _decode(node, read, depth=0):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if depth > _MAX_DEPTH:
        raise _Bad(f"malformed descend metadata (containers nested more than {_MAX_DEPTH} deep)")
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise _Bad(f"malformed descend metadata (unexpected {str(node)[:80]})")
    kind = node["type"]
    if kind in ("dict", "odict"):
        pairs = [(_key(k, depth + 1), _decode(v, read, depth + 1)) for k, v in _items(node, pairs=True)]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind == "list":
        return [_decode(v, read, depth + 1) for v in _items(node)]
    if kind == "tuple":
        return tuple(_decode(v, read, depth + 1) for v in _items(node))
    if kind in ("tensor", "ndarray", "scalar"):
        key = node.get("key")
        if not isinstance(key, str):
            raise _Bad(f"malformed descend metadata (an array entry whose key is {key!r})")
        arr = read(key)
        if kind == "ndarray":
            return arr
        if kind == "scalar":
            if arr.ndim != 0:
                raise _Bad(f"entry {key!r} should hold a 0-d scalar but has shape {arr.shape}")
            return arr[()]
        try:
            t = from_numpy(arr)
        except TypeError as e:
            raise _Bad(f"entry {key!r} can't be a Tensor ({e})") from None
        requires_grad = node.get("requires_grad", False)
        if not isinstance(requires_grad, bool):
            raise _Bad(f"malformed descend metadata (requires_grad={requires_grad!r} for entry {key!r})")
        if requires_grad:
            if arr.dtype.kind not in "fc":
                raise _Bad(
                    f"entry {key!r} is marked requires_grad but holds {arr.dtype} values: only floating "
                    "point and complex tensors can require gradients"
                )
            t.requires_grad_()
        return t
    raise _Bad(f"malformed descend metadata (unknown entry type {kind!r})")


def _key(node, depth):
    if isinstance(node, dict) and node.get("type") == "tuple":
        if depth > _MAX_DEPTH:
            raise _Bad(f"malformed descend metadata (keys nested more than {_MAX_DEPTH} deep)")
        return tuple(_key(k, depth + 1) for k in _items(node))
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise _Bad(f"malformed descend metadata (a dict key that is {str(node)[:80]})")


class _Reader:
    """The archive's members, checked against the file before anything is decompressed or allocated."""

    def __init__(self, archive, size):
        self.archive = archive
        self.cache = {}
        names = archive.namelist()
        if len(set(names)) != len(names):
            raise _Bad("the archive lists an entry twice (a crafted file?)")
        self.infos = {}
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise _Bad(f"entry {info.filename!r} is encrypted, which descend checkpoints never are")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _Bad(
                    f"entry {info.filename!r} uses zip compression method {info.compress_type}; descend "
                    "reads stored (0) and deflated (8) entries only"
                )
            if info.header_offset < 0 or info.header_offset + info.compress_size > size:
                raise _Bad(f"entry {info.filename!r} extends past the end of the file (truncated?)")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise _Bad(f"entry {info.filename!r} declares sizes that disagree")
            if info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
                raise _Bad(f"entry {info.filename!r} claims {info.file_size} bytes from {info.compress_size}")
            self.infos[info.filename] = info

    def __call__(self, key):
        if key not in self.cache:
            info = self.infos.get(key + ".npy")
            if info is None:
                raise _Bad(f"the array {key!r} named in its metadata is missing")
            self.cache[key] = self._read(info)
        return self.cache[key]

    def _read(self, info):
        try:
            return self._read_member(info)
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise _Bad(f"entry {info.filename[:-4]!r} is truncated or corrupt ({e})") from None

    def _read_member(self, info):
        name = info.filename
        with self.archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise _Bad(f"entry {name!r} has .npy format version {version}")
            if dtype.hasobject:
                raise _Bad(
                    f"its entry {name[:-4]!r} holds pickled Python objects, which descend.load refuses "
                    "to unpickle (nothing in the file was run)"
                )
            # Exact integers: a declared shape of 10**12 elements is compared, never allocated.
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != info.file_size - member.tell():
                raise _Bad(
                    f"entry {name!r} declares shape {shape} of {dtype} ({nbytes} bytes) but holds "
                    f"{info.file_size - member.tell()} bytes"
                )
            data = member.read(nbytes)
            if len(data) != nbytes:
                raise _Bad(f"entry {name!r} is truncated")
        arr = np.frombuffer(data, dtype=dtype).copy() if nbytes else np.empty(0, dtype=dtype)
        return arr.reshape(shape, order="F" if fortran else "C")


# --- the public functions ---


def save(obj, path):
    """Save a state dict (or a nest of them, with numbers and strings) to ``path`` as ``.npz``.

    Writes exactly to ``path`` (no suffix is added), atomically: the data go to a temporary file in
    the same folder, which then replaces ``path``; on any error no partial file is left and an
    existing ``path`` is untouched.

    Args:
        obj: a dict (usually), list or tuple whose leaves are Tensors, NumPy arrays or scalars, Python
            ints/floats/bools/strings or None. Dict keys may be str, int, float, bool, None or tuples.
        path: the file to write (str or path-like).

    Raises:
        TypeError: an object of another type, naming where it is (``obj['model']['fc.weight']``).

    Example:
        >>> model = descend.nn.Linear(2, 1)
        >>> opt = descend.optim.Adam(model.parameters())
        >>> save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    """
    path = os.fspath(path)
    encoder = _Encoder()
    # Encode first: an unsupported object fails before anything touches the disk.
    meta = {"format": _FORMAT, "version": _VERSION, "tree": encoder.value(obj, ())}
    meta_bytes = np.frombuffer(json.dumps(meta, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    # As torch.save (which opens the path for writing): a symlink is written through, to its target.
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"can't save to {path}: the folder {folder} does not exist")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # an existing file keeps its mode (0600 stays 0600)
    except FileNotFoundError:
        mode = None
    _remove_stale_temporaries(folder)
    # The temporary's name carries this host and pid, so a later save can tell a dead writer's
    # leftover (removed) from a live concurrent writer's (left alone).
    tmp = os.path.join(
        folder, f".{os.path.basename(target)}.{_HOST}.{os.getpid()}.{secrets.token_hex(6)}{_TMP_SUFFIX}"
    )
    try:
        # open(..., "xb") rather than mkstemp: the file gets the usual permissions (umask), not 0600.
        with open(tmp, "xb") as f:
            if mode is not None:
                os.chmod(f.fileno(), mode)
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, arr in ((_META, meta_bytes), *encoder.arrays.items()):
                    with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


_HOST = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:64]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's live process (or a pid we can't ask about): leave it alone
    return True


def _remove_stale_temporaries(folder):
    """Delete temporaries that earlier `save` calls on this host left when killed mid-write."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TMP_NAME.match(name)
        if match is None or match["host"] != _HOST:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _pid_alive(pid):
            continue  # a live writer (this process's other threads included) is still at work
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass  # another save removed it first, or the folder doesn't allow it: not this save's failure


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path, map_location=None, weights_only=True):
    """Load what `save` wrote: the same structure, with Tensors (same dtypes) where Tensors were saved.

    The file is read with ``numpy.load(..., allow_pickle=False)``: nothing in it is executed.

    Args:
        path: the ``.npz`` file written by `save`.
        map_location, weights_only: accepted so `torch.load(path, weights_only=True)` runs unchanged;
            descend has only the CPU, and loading is always weights-only (no pickle, whatever is passed).

    Returns:
        The saved object: dicts, lists, tuples, numbers, strings, None, Tensors and NumPy arrays.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is truncated or corrupt, holds pickled data, or was not written by `save`;
            the message names the path and the problem. Every member is checked before anything is
            decompressed or allocated: only stored or deflated entries, none encrypted, declared array
            sizes equal to the bytes the file holds, metadata nested at most 200 deep, requires_grad
            only on floating point or complex tensors.

    Example:
        >>> state = load("ckpt.npz")
        >>> model.load_state_dict(state["model"]); opt.load_state_dict(state["optimizer"])
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(6)
        size = os.fstat(f.fileno()).st_size
    if head[:2] != b"PK":
        if head[:1] == b"\x80" or head[:1] == b"(":
            what = "pickled data (a torch.save or pickle file?), which descend.load refuses to run"
        elif head == b"\x93NUMPY":
            what = "a single .npy array, not a descend checkpoint"
        else:
            what = "not an .npz archive"
        raise ValueError(f"can't load {path}: {what}")
    try:
        with zipfile.ZipFile(path) as archive:
            return _load(archive, size, path)
    except _Bad as e:
        raise ValueError(f"can't load {path}: {e}") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        struct.error,
        UnicodeDecodeError,
        OverflowError,
        OSError,
    ) as e:
        # (an OSError here is a seek to an offset the damaged directory names, the file itself opened)
        raise ValueError(
            f"can't load {path}: the file is truncated or corrupt ({type(e).__name__}: {e})"
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, NotImplementedError, SyntaxError) as e:
        # numpy's .npy header parser and zipfile's own checks on crafted fields
        raise ValueError(f"can't load {path}: the file is corrupt ({type(e).__name__}: {e})") from None


def _load(archive, size, path):
    read = _Reader(archive, size)
    if _META + ".npy" not in read.infos:
        raise _Bad(
            f"it is an .npz archive but not a descend checkpoint (no {_META!r} entry); "
            "read plain .npz files with numpy.load"
        )
    meta_arr = read(_META)
    if meta_arr.dtype != np.uint8 or meta_arr.ndim != 1:
        raise _Bad("its descend metadata is corrupt (not a uint8 vector)")
    try:
        meta = json.loads(meta_arr.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise _Bad(f"its descend metadata is corrupt ({e})") from None
    except RecursionError:
        raise _Bad("its descend metadata is corrupt (nested too deep to parse)") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "tree" not in meta:
        raise _Bad(f"its {_META!r} entry is not descend metadata")
    if meta.get("version") != _VERSION:
        raise _Bad(
            f"it was written in descend.save format version {meta.get('version')}, "
            f"this descend reads version {_VERSION}"
        )
    return _decode(meta["tree"], read)
