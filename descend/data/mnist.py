"""MNIST and Fashion-MNIST from their original IDX ``.gz`` files, with an optional verified download.

``root`` is the folder that holds the four files directly (``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``); by
default a cache folder, ``~/.cache/descend/MNIST`` (``$XDG_CACHE_HOME/descend/...`` when that is set).
Nothing is downloaded unless ``download=True``: then each missing file is fetched once from the
mirrors in `MIRRORS`, its MD5 checked against `MD5`, and written atomically (temporary file in the
same folder, then ``os.replace``), so an interrupted download never leaves a file that looks whole.

Local files are checked for what can be checked without a reference: gzip integrity, the IDX header
(magic number, dimensions) and the size. MD5 sums are checked on download (and on files already
present when ``download=True``, which are fetched again if they differ).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import secrets
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..tensor import from_numpy
from .loader import Dataset

__all__ = ["MNIST", "FashionMNIST", "MIRRORS", "MD5"]

# Where each data set can be downloaded from, tried in order. Tests point these at a local server.
MIRRORS = {
    "MNIST": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "FashionMNIST": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}

# The official MD5 sums of the published .gz files.
MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

_FILES = {
    True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049  # 0x0803: uint8 data, 3 dims; 0x0801: uint8 data, 1 dim
_CHUNK = 1 << 20
_TIMEOUT_S = 60


def default_root(name):
    """The cache folder for data set ``name``: ``$XDG_CACHE_HOME/descend/<name>`` or ``~/.cache/...``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "descend" / name


# --- reading IDX files ---


# Deflate can't compress better than about 1032:1, so an IDX header promising more bytes than
# that times the .gz file's size is a lie (or a decompression bomb); refuse it before reading.
_MAX_GZIP_RATIO = 1100


def _read_idx(path, magic, ndim):
    """The array stored in an IDX .gz file, checking the magic number, dimensions and size.

    The header is read first and the data size it promises (an exact Python integer, so dimensions
    whose product overflows int64 can't wrap around) is checked against what the file can hold
    before anything larger is read.
    """
    header = 4 + 4 * ndim
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(header)
            if len(head) < header:
                got = f"{len(head)} bytes after decompression"
                raise ValueError(f"{path} is too short for an IDX header ({got})")
            found = struct.unpack(">I", head[:4])[0]
            if found != magic:
                raise ValueError(
                    f"{path} has IDX magic number {found} (0x{found:08x}), expected {magic} (0x{magic:08x}): "
                    f"not an MNIST {'image' if magic == _IMAGE_MAGIC else 'label'} file"
                )
            dims = struct.unpack(f">{ndim}I", head[4:])
            size = math.prod(dims)
            limit = _MAX_GZIP_RATIO * os.path.getsize(path)
            if size > limit:
                raise ValueError(
                    f"{path} has an IDX header {list(dims)} promising {size} bytes of data, more than a "
                    f"{os.path.getsize(path)}-byte .gz file can hold: the header is corrupt"
                )
            data = f.read(size + 1)  # one byte more: a longer payload is found without reading it all
    except gzip.BadGzipFile as e:
        raise ValueError(f"{path} is not a gzip file ({e}); expected the original IDX .gz file") from None
    except EOFError:
        raise ValueError(f"{path} is truncated: its gzip stream ends early (interrupted download?)") from None
    except zlib.error as e:
        raise ValueError(f"{path} is corrupt: {e}") from None
    if len(data) < size:
        raise ValueError(
            f"{path} holds {len(data)} bytes of data, but its IDX header {list(dims)} promises {size} "
            "(a truncated file?)"
        )
    if len(data) > size:
        raise ValueError(f"{path} holds more data than the {size} bytes its IDX header {list(dims)} promises")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- downloading ---


def _fetch(name, filename, folder):
    """Download ``filename`` of data set ``name`` into ``folder``, verified, atomically; try each mirror."""
    expected = MD5[name][filename]
    target = folder / filename
    failures = []
    checksum_failed = False
    # A fresh opener per download reads the proxy settings of the moment (and honours no_proxy).
    opener = urllib.request.build_opener()
    for mirror in MIRRORS[name]:
        url = mirror.rstrip("/") + "/" + filename
        tmp = folder / f".{filename}.{secrets.token_hex(6)}.part"
        try:
            digest = hashlib.md5(usedforsecurity=False)
            received = 0
            with opener.open(url, timeout=_TIMEOUT_S) as response, open(tmp, "xb") as out:
                announced = response.headers.get("Content-Length")
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if announced is not None and announced.isdigit() and received != int(announced):
                # urllib returns what arrived when the server hangs up early; say so, not "bad MD5".
                failures.append(f"{url}: transfer cut off after {received} of {announced} bytes")
                continue
            got = digest.hexdigest()
            if got != expected:
                checksum_failed = True
                failures.append(f"{url}: MD5 {got}, expected {expected}")
                continue
            os.replace(tmp, target)
            return target
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as e:
            # An unreachable mirror, an HTTP error, a timeout or a cut-off transfer (IncompleteRead):
            # try the next mirror. Local errors (disk full, permissions) propagate as they are.
            failures.append(f"{url}: {e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    details = "; ".join(failures) or "no mirrors configured"
    if checksum_failed:
        raise ValueError(f"checksum mismatch for {target}: the download is not the official file ({details})")
    raise ConnectionError(f"could not download {target} from any mirror ({details})")


# --- the data sets ---


def _scale(pixels):
    """uint8 pixels -> float32 in [0, 1], in one pass and one allocation.

    Dividing (not multiplying by 1/255) gives exactly the values torchvision's ``ToTensor`` gives.
    """
    return np.divide(pixels, np.float32(255), dtype=np.float32)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

    Sample ``i`` is ``(image, label)``: ``image`` a float32 Tensor of shape ``(1, 28, 28)`` scaled to
    ``[0, 1]`` (what torchvision's ``ToTensor()`` gives), ``label`` a Python int (as torchvision). The
    whole set is in ``.data`` (uint8 Tensor ``(N, 28, 28)``) and ``.targets`` (int64 Tensor ``(N,)``).
    A `DataLoader` batches it by vectorised indexing: image batches are ``(B, 1, 28, 28)`` float32,
    label batches ``(B,)`` int64.

    Args:
        root: folder holding the four ``.gz`` files (not torchvision's ``root/MNIST/raw``); default the
            cache folder ``~/.cache/descend/MNIST``.
        train: the 60,000 training images (True, default) or the 10,000 test images (False).
        download: fetch the four files into ``root`` when missing (MD5-verified, atomic). Default False.
        transform: optional callable applied to each image Tensor (batches are then collated sample by
            sample, which is slower).
        target_transform: optional callable applied to each label.

    Example:
        >>> test = MNIST("../shared/data/mnist", train=False)
        >>> image, label = test[0]
        >>> image.shape, label
        ((1, 28, 28), 7)
    """

    name = "MNIST"
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        if not isinstance(train, bool):
            raise TypeError(f"train must be True or False, got {train!r}")
        for arg, value in (("transform", transform), ("target_transform", target_transform)):
            if value is not None and not callable(value):
                raise TypeError(f"{arg} must be callable or None, got {type(value).__name__}")
        self.root = Path(root).expanduser() if root is not None else default_root(self.name)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        images_file, labels_file = (self.root / f for f in _FILES[train])
        for path in (images_file, labels_file):
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} not found: pass download=True to fetch the {self.name} files into {self.root}, "
                    f"or copy the original {path.name} there"
                )
        images = _read_idx(images_file, _IMAGE_MAGIC, 3)
        labels = _read_idx(labels_file, _LABEL_MAGIC, 1)
        if images.shape[1:] != (28, 28):
            size = f"{images.shape[1]}x{images.shape[2]}"
            raise ValueError(f"{images_file} holds images of {size} pixels, expected 28x28")
        if len(images) != len(labels):
            counts = f"{len(images)} images, but {labels_file} has {len(labels)} labels"
            raise ValueError(f"{images_file} has {counts}")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{labels_file} has label {labels.max()}, expected 0..{len(self.classes) - 1}")
        # frombuffer arrays are read-only views of the decompressed bytes; own writable copies instead.
        self.data = from_numpy(images.copy())
        self.targets = from_numpy(labels.astype(np.int64))

    def download(self):
        """Fetch the four files into ``root``, skipping those already present with the right MD5."""
        self.root.mkdir(parents=True, exist_ok=True)
        for filename, md5 in MD5[self.name].items():
            path = self.root / filename
            if path.is_file() and _md5(path) == md5:
                continue
            _fetch(self.name, filename, self.root)

    def __len__(self):
        return self.data._data.shape[0]

    def __getitem__(self, index):
        image = from_numpy(_scale(self.data._data[index][None]))
        label = int(self.targets._data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def _gather(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return Dataset._gather(self, indices)
        images = self.data._data[indices].reshape(-1, 1, 28, 28)
        return _scale(images), np.array(self.targets._data[indices])

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, root={str(self.root)!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grayscale pictures of clothing in 10 classes, MNIST's format.

    Same arguments, items and files as `MNIST`; the default cache folder is
    ``~/.cache/descend/FashionMNIST`` and downloads come from the Fashion-MNIST mirrors.

    Example:
        >>> train = FashionMNIST(download=True)  # doctest: +SKIP
        >>> train.classes[int(train.targets[0])]  # doctest: +SKIP
        'Ankle boot'
    """

    name = "FashionMNIST"
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
