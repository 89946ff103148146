"""descend.recipes: the models, data and helpers the command line and the demo share."""

import gzip
import hashlib
import struct
import subprocess
import sys

import numpy as np
import pytest

import descend
from descend import nn, recipes
from descend.data import mnist as mnist_module


def write_idx_folder(folder, n_train=30, n_test=10, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, n) + labels.tobytes())
    return folder


def test_demo_and_cli_do_not_import_each_other():
    code = "import sys, descend.demo; print('descend.cli' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_mlp_layers_and_parameter_count():
    model = recipes.mlp(784, 256, 10)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert sum(p.numel() for p in model.parameters()) == 784 * 256 + 256 + 256 * 10 + 10
    deep = recipes.mlp(2, 64, 3, layers=2)
    assert [m.out_features for m in deep if isinstance(m, nn.Linear)] == [64, 64, 3]
    assert len(recipes.mlp(4, 8, 2, layers=0)) == 1


def test_mlp_rejects_bad_sizes():
    with pytest.raises(ValueError, match="hidden must be a positive int, got 0"):
        recipes.mlp(2, 0, 3)
    with pytest.raises(ValueError, match="layers must be an int >= 0, got -1"):
        recipes.mlp(2, 4, 3, layers=-1)


def test_make_optimizer_presets():
    params = list(recipes.mlp(2, 4, 2).parameters())
    opt = recipes.make_optimizer("nesterov", params, 0.05)
    group = opt.param_groups[0]
    assert type(opt).__name__ == "SGD" and group["lr"] == 0.05
    assert group["momentum"] == 0.9 and group["nesterov"] is True
    assert type(recipes.make_optimizer("adam", params, 1e-3)).__name__ == "Adam"
    with pytest.raises(ValueError, match="nope"):
        recipes.make_optimizer("nope", params, 0.1)


def test_accuracy_counts_right_answers_and_restores_mode():
    model = nn.Linear(2, 2)
    with descend.no_grad():
        model.weight.copy_(descend.tensor([[1.0, 0.0], [0.0, 1.0]]))
        model.bias.zero_()
    x = descend.tensor([[2.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 3.0]])
    y = descend.tensor([0, 1, 1, 1])  # the third is wrong: 3 > 1 picks class 0
    model.train()
    assert recipes.accuracy(model, x, y, batch=3) == 0.75
    assert model.training


def test_load_mnist_flat_scaled_and_limited(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    x, y, xt, yt, classes = recipes.load_mnist(folder, limit=12)
    assert x.shape == (12, 784) and xt.shape == (10, 784)
    assert x.dtype == descend.float32 and y.dtype == descend.int64
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert y.tolist() == [i % 10 for i in range(12)]
    assert len(classes) == 10


def test_load_mnist_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        recipes.check_mnist_folder(tmp_path / "none")
    folder = write_idx_folder(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        recipes.check_mnist_folder(folder)
    with pytest.raises(ValueError, match="unknown data set 'kmnist'"):
        recipes.load_mnist(folder, "kmnist")


def test_fashion_on_mnist_files_is_caught_by_checksum(tmp_path, monkeypatch):
    folder = write_idx_folder(tmp_path / "m")
    labels = folder / "train-labels-idx1-ubyte.gz"
    digest = hashlib.md5(labels.read_bytes()).hexdigest()
    # Pretend these labels are MNIST's official file: asking for Fashion-MNIST must refuse them.
    monkeypatch.setitem(mnist_module.MD5["MNIST"], "train-labels-idx1-ubyte.gz", digest)
    with pytest.raises(ValueError, match="holds the mnist files, not fashion-mnist"):
        recipes.load_mnist(folder, "fashion-mnist")
    assert recipes.load_mnist(folder, "mnist")[0].shape == (30, 784)


def test_mnist_from_env(tmp_path, monkeypatch):
    monkeypatch.delenv(recipes.MNIST_ENV, raising=False)
    assert recipes.mnist_from_env() is None
    monkeypatch.setenv(recipes.MNIST_ENV, str(tmp_path / "missing"))
    assert recipes.mnist_from_env() is None
    folder = write_idx_folder(tmp_path / "m")
    monkeypatch.setenv(recipes.MNIST_ENV, str(folder))
    assert recipes.mnist_from_env() == folder
