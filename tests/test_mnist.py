"""descend.data.MNIST / FashionMNIST on small IDX files written here, and downloads from 127.0.0.1."""

import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

import descend
from descend.data import MNIST, DataLoader, FashionMNIST
from descend.data import mnist as mnist_module

FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]  # fmt: skip
REAL_MNIST = Path(os.environ.get("DESCEND_MNIST", Path(__file__).resolve().parents[2] / "shared/data/mnist"))


def idx_bytes(arr, magic=None):
    """An IDX file: big-endian magic (0x0800 | ndim for uint8 data), the dimensions, the bytes."""
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 | arr.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_gz(path, payload):
    with gzip.open(path, "wb") as f:
        f.write(payload)
    return path


def make_arrays(seed, n):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the scale
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.fixture
def arrays():
    return {"train": make_arrays(0, 6), "test": make_arrays(1, 4)}


def write_set(folder, arrays):
    folder.mkdir(parents=True, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = arrays[split]
        write_gz(folder / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(images))
        write_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes(labels))
    return folder


@pytest.fixture
def root(tmp_path, arrays):
    return write_set(tmp_path / "mnist", arrays)


# --- reading ---


def test_items_shapes_dtypes_scaling(root, arrays):
    images, labels = arrays["train"]
    ds = MNIST(root)
    assert len(ds) == 6
    assert ds.data.dtype == descend.uint8 and ds.data.shape == (6, 28, 28)
    assert ds.targets.dtype == descend.int64 and ds.targets.shape == (6,)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    image, label = ds[0]
    assert image.dtype == descend.float32 and image.shape == (1, 28, 28)
    np.testing.assert_array_equal(image.numpy()[0], images[0].astype(np.float32) / np.float32(255))
    assert image.numpy()[0, 0, 0] == 0.0 and image.numpy()[0, 0, 1] == 1.0
    assert isinstance(label, int) and label == labels[0]


def test_test_split(root, arrays):
    ds = MNIST(str(root), train=False)
    assert len(ds) == 4
    np.testing.assert_array_equal(ds.targets.numpy(), arrays["test"][1])
    assert "test" in repr(ds) and "4 images" in repr(ds)


def test_loader_batches_vectorised(root, arrays, monkeypatch):
    images, labels = arrays["train"]
    ds = MNIST(root)

    def forbidden(self, index):
        raise AssertionError("per-sample __getitem__ used by the DataLoader")

    monkeypatch.setattr(MNIST, "__getitem__", forbidden)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == descend.float32 and y.dtype == descend.int64
    np.testing.assert_array_equal(x.numpy()[:, 0], images[:4].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y.numpy(), labels[:4])
    batches = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 1, 28, 28), (2, 1, 28, 28)]
    # Every image once, still paired with its label (images are random, so each row is unique).
    rows = {(x.numpy()[i] * 255).round().astype(np.uint8).tobytes(): int(y.numpy()[i])
            for x, y in batches for i in range(len(y.numpy()))}  # fmt: skip
    assert rows == {images[i].tobytes(): int(labels[i]) for i in range(6)}


def test_transform_falls_back_to_per_sample(root, arrays):
    ds = MNIST(root, transform=lambda t: t * 2, target_transform=lambda y: y + 100)
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    np.testing.assert_allclose(x.numpy()[:, 0], arrays["train"][0][:3] / 255 * 2, rtol=1e-6)
    assert y.numpy().tolist() == (arrays["train"][1][:3].astype(int) + 100).tolist()
    with pytest.raises(TypeError, match="transform must be callable"):
        MNIST(root, transform=3)


def test_fashion_mnist_reads_the_same_format(root, arrays):
    ds = FashionMNIST(root, train=False)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["test"][0])
    assert ds.classes[9] == "Ankle boot" and len(ds.classes) == 10
    assert repr(ds).startswith("FashionMNIST(test")


# --- errors, each naming the file ---


def test_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz not found.*download=True"):
        MNIST(tmp_path)


def test_default_root_is_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "descend" / "FashionMNIST"
    with pytest.raises(FileNotFoundError, match=str(expected)):
        FashionMNIST()


def test_not_gzip(root):
    (root / FILES[0]).write_bytes(b"this is not gzip at all")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is not a gzip file"):
        MNIST(root)


def test_truncated_gzip(root):
    path = root / FILES[1]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz is truncated"):
        MNIST(root)


def test_bad_magic(root, arrays):
    write_gz(root / FILES[3], idx_bytes(arrays["test"][1], magic=2051))
    message = r"t10k-labels-idx1-ubyte\.gz has IDX magic number 2051.*expected 2049"
    with pytest.raises(ValueError, match=message):
        MNIST(root, train=False)


def test_size_disagrees_with_header(root, arrays):
    payload = idx_bytes(arrays["test"][0])
    write_gz(root / FILES[2], payload[:-10])
    message = r"t10k-images-idx3-ubyte\.gz holds 3126 bytes of data.*promises 3136"
    with pytest.raises(ValueError, match=message):
        MNIST(root, train=False)


def test_header_too_short(root):
    write_gz(root / FILES[0], b"\x00\x00\x08")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is too short for an IDX header"):
        MNIST(root)


def test_wrong_image_size(root):
    write_gz(root / FILES[0], idx_bytes(np.zeros((6, 8, 8))))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz holds images of 8x8 pixels"):
        MNIST(root)


def test_count_mismatch(root, arrays):
    write_gz(root / FILES[1], idx_bytes(arrays["train"][1][:5]))
    with pytest.raises(ValueError, match=r"has 6 images, but .*train-labels-idx1-ubyte\.gz has 5 labels"):
        MNIST(root)


def test_label_out_of_range(root):
    write_gz(root / FILES[1], idx_bytes(np.full(6, 10)))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz has label 10, expected 0\.\.9"):
        MNIST(root)


def test_header_dimensions_overflowing_int64(root):
    # 2**32-1 cubed is about 2**96: an int64 product would wrap around (possibly to a small number).
    big = 2**32 - 1
    write_gz(root / FILES[0], struct.pack(">4I", 2051, big, big, big) + bytes(100))
    message = r"train-images-idx3-ubyte\.gz has an IDX header \[4294967295, 4294967295, 4294967295\]"
    with pytest.raises(ValueError, match=message + r" promising .*more than a \d+-byte \.gz file can hold"):
        MNIST(root)


def test_header_product_wrapping_to_zero_in_int64(root):
    # 2**31 * 2**31 * 4 = 2**64 wraps to 0 in int64, which would match the empty payload here.
    write_gz(root / FILES[2], struct.pack(">4I", 2051, 2**31, 2**31, 4))
    message = r"t10k-images-idx3-ubyte\.gz has an IDX header .*promising 18446744073709551616 bytes"
    with pytest.raises(ValueError, match=message):
        MNIST(root, train=False)


def test_payload_shorter_than_the_header_says(root, arrays):
    # Within what gzip could hold, but the payload stops early: a truncated file, named as such.
    images = arrays["train"][0]
    write_gz(root / FILES[0], idx_bytes(images)[: 16 + 28 * 28 * 2])
    message = r"train-images-idx3-ubyte\.gz holds 1568 bytes of data, but its IDX header \[6, 28, 28\]"
    with pytest.raises(ValueError, match=message + r" promises 4704 \(a truncated file\?\)"):
        MNIST(root)


def test_payload_longer_than_the_header_says(root, arrays):
    write_gz(root / FILES[1], idx_bytes(arrays["train"][1]) + b"\x00\x01")
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz holds more data than the 6 bytes"):
        MNIST(root)


def test_truncated_gzip_after_a_valid_header(root, arrays):
    path = root / FILES[0]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # header intact, the deflate stream and its CRC cut off
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is truncated"):
        MNIST(root)


# --- downloading from a local server ---


class Server:
    """An HTTP server on 127.0.0.1 serving ``files`` under /good/; under /cut/ the body stops early."""

    def __init__(self, files):
        self.files = files
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                folder, _, name = self.path.strip("/").partition("/")
                data = outer.files.get(name)
                if data is None or folder not in ("good", "cut"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data if folder == "good" else data[: len(data) // 2])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def served(tmp_path, arrays, monkeypatch):
    """A local server with small generated files, MNIST's mirrors and checksums pointed at it."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    source = write_set(tmp_path / "source", arrays)
    files = {name: (source / name).read_bytes() for name in FILES}
    server = Server(files)
    monkeypatch.setitem(mnist_module.MIRRORS, "MNIST", [server.url + "/good/"])
    monkeypatch.setitem(mnist_module.MD5, "MNIST", {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
    yield server
    server.close()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in FILES)


def test_download_once_with_md5(served, tmp_path, arrays):
    cache = tmp_path / "cache" / "deep"
    ds = MNIST(cache, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train"][0])
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (cache / name).read_bytes() == served.files[name]
    assert len(served.requests) == 4
    test = MNIST(cache, train=False, download=True)  # already there and verified: no new request
    assert len(served.requests) == 4 and len(test) == 4


def test_download_replaces_a_corrupt_local_file(served, tmp_path):
    cache = tmp_path / "cache"
    MNIST(cache, download=True)
    (cache / FILES[1]).write_bytes(b"garbage")
    MNIST(cache, download=True)
    assert served.requests[4:] == ["/good/" + FILES[1]]
    assert (cache / FILES[1]).read_bytes() == served.files[FILES[1]]


def test_download_checksum_mismatch(served, tmp_path, monkeypatch):
    sums = dict(mnist_module.MD5["MNIST"], **{FILES[2]: "0" * 32})
    monkeypatch.setitem(mnist_module.MD5, "MNIST", sums)
    cache = tmp_path / "cache"
    message = r"checksum mismatch for .*t10k-images-idx3-ubyte\.gz.*expected 0{32}"
    with pytest.raises(ValueError, match=message):
        MNIST(cache, download=True)
    assert not (cache / FILES[2]).exists()
    assert leftovers(cache) == []  # no temporary file left behind


def test_download_cut_off_leaves_no_partial_file(served, tmp_path, monkeypatch):
    monkeypatch.setitem(mnist_module.MIRRORS, "MNIST", [served.url + "/cut/"])
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionError, match=r"could not download .*train-images-idx3-ubyte\.gz.*cut off"):
        MNIST(cache, download=True)
    assert list(cache.iterdir()) == []


def test_download_falls_back_to_the_next_mirror(served, tmp_path, monkeypatch):
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    mirrors = [dead, served.url + "/missing/", served.url + "/good"]
    monkeypatch.setitem(mnist_module.MIRRORS, "MNIST", mirrors)
    ds = MNIST(tmp_path / "cache", train=False, download=True)
    assert len(ds) == 4
    assert served.requests[:2] == ["/missing/" + FILES[0], "/good/" + FILES[0]]


def test_download_all_mirrors_fail(served, tmp_path, monkeypatch):
    monkeypatch.setitem(mnist_module.MIRRORS, "MNIST", [served.url + "/missing/"])
    with pytest.raises(ConnectionError, match=r"train-images-idx3-ubyte\.gz from any mirror.*404"):
        MNIST(tmp_path / "cache", download=True)


def test_fashion_mnist_checksums_are_the_official_ones():
    fashion, digits = mnist_module.MD5["FashionMNIST"], mnist_module.MD5["MNIST"]
    assert fashion["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fashion["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert digits["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert set(fashion) == set(digits) == set(FILES)


# --- the real files, when present ---


@pytest.mark.skipif(not (REAL_MNIST / FILES[2]).exists(), reason=f"no original MNIST files in {REAL_MNIST}")
def test_real_mnist_test_set():
    ds = MNIST(REAL_MNIST, train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    assert ds.targets.numpy()[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test labels
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]  # fmt: skip
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and label == 7
    assert image.numpy().min() == 0.0 and image.numpy().max() == 1.0
    for name in FILES[2:]:
        assert mnist_module._md5(REAL_MNIST / name) == mnist_module.MD5["MNIST"][name]


@pytest.mark.skipif(not (REAL_MNIST / FILES[0]).exists(), reason=f"no original MNIST files in {REAL_MNIST}")
def test_real_mnist_train_set_batches():
    ds = MNIST(REAL_MNIST)
    assert len(ds) == 60000
    assert ds.targets.numpy()[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training labels
    x, y = next(iter(DataLoader(ds, batch_size=256, shuffle=True, seed=0)))
    assert x.shape == (256, 1, 28, 28) and x.dtype == descend.float32 and y.dtype == descend.int64
    assert 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0
