"""`save` and `load`: state dicts (and nests of them) as ``.npz`` files that never run code when loaded.

The file is an ordinary NumPy ``.npz`` archive. Every array (each Tensor or ndarray in the object)
is one member, named by its path of keys (``model/fc1.weight``, ``optimizer/state/0/exp_avg``), so
``numpy.load`` can read a checkpoint without descend. Everything else, the structure itself, the
numbers, strings, None, tuples versus lists and the types of dict keys (the optimizer's integer
parameter ids stay ints), is one JSON document stored as a uint8 array under ``__descend__``.
`load` opens the file with ``allow_pickle=False``: a file carrying a pickled object is refused and
nothing in it runs. `save` writes to a temporary file in the same folder and renames it over the
target, so a crash never leaves a half-written checkpoint (or destroys the previous one).
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor, from_numpy

__all__ = ["save", "load"]

_META = "__descend__"
_FORMAT = "descend.save"
_VERSION = 1


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
        while name in self.arrays:
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


def _decode(node, arrays, path):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or "type" not in node:
        raise ValueError(f"can't load {path}: malformed descend metadata (unexpected {node!r})")
    kind = node["type"]
    if kind in ("dict", "odict"):
        pairs = ((_key(k, path), _decode(v, arrays, path)) for k, v in node["items"])
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind == "list":
        return [_decode(v, arrays, path) for v in node["items"]]
    if kind == "tuple":
        return tuple(_decode(v, arrays, path) for v in node["items"])
    if kind in ("tensor", "ndarray", "scalar"):
        if node.get("key") not in arrays:
            raise ValueError(f"can't load {path}: the array {node.get('key')!r} named in it is missing")
        arr = arrays[node["key"]]
        if kind == "ndarray":
            return arr
        if kind == "scalar":
            return arr[()]
        try:
            t = from_numpy(arr)
        except TypeError as e:
            raise ValueError(f"can't load {path}: entry {node['key']!r} can't be a Tensor ({e})") from None
        if node.get("requires_grad"):
            t.requires_grad_()
        return t
    raise ValueError(f"can't load {path}: malformed descend metadata (unknown entry type {kind!r})")


def _key(node, path):
    if isinstance(node, dict) and node.get("type") == "tuple":
        return tuple(_key(k, path) for k in node["items"])
    return _decode(node, {}, path)


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
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"can't save to {path}: the folder {folder} does not exist")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        # open(..., "xb") rather than mkstemp: the file gets the usual permissions (umask), not 0600.
        with open(tmp, "xb") as f:
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, arr in ((_META, meta_bytes), *encoder.arrays.items()):
                    with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
            the message names the path.

    Example:
        >>> state = load("ckpt.npz")
        >>> model.load_state_dict(state["model"]); opt.load_state_dict(state["optimizer"])
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(6)
    if head[:2] != b"PK":
        if head[:1] == b"\x80" or head[:1] == b"(":
            what = "pickled data (a torch.save or pickle file?), which descend.load refuses to run"
        elif head == b"\x93NUMPY":
            what = "a single .npy array, not a descend checkpoint"
        else:
            what = "not an .npz archive"
        raise ValueError(f"can't load {path}: {what}")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ValueError(f"can't load {path}: the file is truncated or corrupt ({e})") from None
    arrays = {}
    with npz:
        for name in npz.files:
            try:
                value = npz[name]
            except ValueError as e:
                if "pickle" in str(e):
                    raise ValueError(
                        f"can't load {path}: its entry {name!r} holds pickled Python objects, which "
                        "descend.load refuses to unpickle (nothing in the file was run)"
                    ) from None
                raise ValueError(f"can't load {path}: entry {name!r} is truncated or corrupt ({e})") from None
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
                raise ValueError(f"can't load {path}: entry {name!r} is truncated or corrupt ({e})") from None
            if not isinstance(value, np.ndarray):
                raise ValueError(f"can't load {path}: entry {name!r} is not a NumPy array (not from descend)")
            arrays[name] = value
    if _META not in arrays:
        raise ValueError(
            f"can't load {path}: it is an .npz archive but not a descend checkpoint (no {_META!r} entry); "
            "read plain .npz files with numpy.load"
        )
    meta_arr = arrays.pop(_META)
    try:
        if meta_arr.dtype != np.uint8 or meta_arr.ndim != 1:
            raise ValueError("metadata is not a uint8 vector")
        meta = json.loads(meta_arr.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"can't load {path}: its descend metadata is corrupt ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "tree" not in meta:
        raise ValueError(f"can't load {path}: its {_META!r} entry is not descend metadata")
    if meta.get("version") != _VERSION:
        raise ValueError(
            f"can't load {path}: it was written in descend.save format version {meta.get('version')}, "
            f"this descend reads version {_VERSION}"
        )
    try:
        return _decode(meta["tree"], arrays, path)
    except (KeyError, TypeError, AttributeError) as e:
        # A hand-edited or damaged metadata tree (an entry without "items", a list where a pair was).
        raise ValueError(f"can't load {path}: malformed descend metadata ({type(e).__name__}: {e})") from None
