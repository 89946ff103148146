"""Ready models, data and settings that the command line, the demo and the examples share.

``descend train``, ``descend lr-find`` and ``descend demo`` build the same models and read the same
data; they get them from here, so the command line and the demo do not import each other:

    mlp(n_in, hidden, n_out, layers)      Linear -> ReLU blocks and a Linear head
    cnn(n_classes, channels)              conv-bn-relu-pool blocks and a Linear head (28x28 images)
    load_mnist(folder, dataset, limit)    MNIST / Fashion-MNIST as flat float32 tensors
    accuracy(model, x, y)                 the fraction classified right (eval mode, no graph)
    make_optimizer(name, params, lr)      an optimizer from a preset name ("adam", "momentum", ...)
    EpochLines                            a fit callback printing one line per epoch

Example:
    >>> from descend import recipes
    >>> model = recipes.mlp(2, 16, 3)
    >>> opt = recipes.make_optimizer("adam", model.parameters(), 1e-3)
    >>> type(opt).__name__
    'Adam'
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from descend.train import Callback

__all__ = ["DATASETS", "MNIST_ENV", "MNIST_FILES", "ONECYCLE_LRS", "TRAIN_LRS", "EpochLines", "accuracy",
           "check_mnist_folder", "cnn", "load_mnist", "make_optimizer", "mlp", "mnist_from_env"]

# Learning rates for `descend train` / `lr-find` per optimizer preset: the usual starting points for
# an MLP on MNIST (adaptive methods want ~1e-3, plain and momentum SGD a much larger step).
TRAIN_LRS = {"gd": 0.1, "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "adamw": 1e-3,
             "rmsprop": 1e-3, "adagrad": 0.01}
# Peak learning rates for the one-cycle schedule (measured on MNIST 784-256-10, batch 128, 2 epochs:
# adam 97.8%, sgd 97.9%, momentum 97.9% test accuracy, against 96.0% for Adam at a constant 1e-3).
ONECYCLE_LRS = {"gd": 0.2, "sgd": 0.2, "momentum": 0.1, "nesterov": 0.1, "adam": 5e-3, "adamw": 5e-3,
                "rmsprop": 1e-3, "adagrad": 0.05}
# The data sets `descend train` knows: command-line name -> descend.data class name.
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# The environment variable naming a folder with the four MNIST files (the tests read it).
MNIST_ENV = "DESCEND_MNIST"


# --- models --------------------------------------------------------------------------------------
def mlp(n_in: int, hidden: int, n_out: int, layers: int = 1):
    """A multi-layer perceptron: ``Linear -> ReLU`` ``layers`` times, then a ``Linear`` to ``n_out`` logits.

    Args:
        n_in: input features (784 for MNIST, 2 for the spirals).
        hidden: units in each hidden layer.
        n_out: outputs (classes).
        layers: number of hidden layers (0 gives a single Linear layer).

    Returns:
        An ``nn.Sequential``.

    Example:
        >>> mlp(784, 256, 10)  # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=784, out_features=256, bias=True)
          (1): ReLU()
          (2): Linear(in_features=256, out_features=10, bias=True)
        )
    """
    from descend import nn

    for arg, value in (("n_in", n_in), ("hidden", hidden), ("n_out", n_out)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"mlp: {arg} must be a positive int, got {value!r}")
    if not isinstance(layers, int) or layers < 0:
        raise ValueError(f"mlp: layers must be an int >= 0, got {layers!r}")
    modules, width = [], n_in
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*modules, nn.Linear(width, n_out))


def cnn(n_classes: int = 10, channels=(32, 64), image_size: int = 28, in_channels: int = 1):
    """A small convolutional network for 28x28 digits: two conv-bn-relu-pool blocks and a linear head.

    ``Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)`` per entry of ``channels``, then a
    ``Linear`` from the flattened maps to ``n_classes`` logits. It takes flat images (N, side * side *
    in_channels), as ``load_mnist`` gives them, and reshapes them itself. Chosen by measurement on MNIST
    (3 epochs, one-cycle Adam peaking at 5e-3, batch 128): see the README for its accuracy and time.

    Args:
        n_classes: outputs (classes).
        channels: output channels of each block.
        image_size: the side of the square input images.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential``.

    Example:
        >>> cnn()(descend.zeros(2, 784)).shape  # doctest: +SKIP
        (2, 10)
    """
    from descend import nn

    channels = tuple(channels)
    if not channels or not all(isinstance(c, int) and c > 0 for c in channels):
        raise ValueError(f"cnn: channels must be positive ints, got {channels!r}")
    side = image_size
    for _ in channels:
        side //= 2
    if side < 1:
        raise ValueError(
            f"cnn: {len(channels)} pooling blocks shrink a {image_size}x{image_size} image to nothing"
        )
    modules, width = [nn.Unflatten(1, (in_channels, image_size, image_size))], in_channels
    for c in channels:
        # no conv bias: the batch norm's shift replaces it
        modules += [nn.Conv2d(width, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                    nn.MaxPool2d(2)]
        width = c
    return nn.Sequential(*modules, nn.Flatten(), nn.Linear(width * side * side, n_classes))


def make_optimizer(name: str, params, lr: float):
    """A ``descend.optim`` optimizer from a preset name over ``params`` with learning rate ``lr``.

    Args:
        name: ``gd sgd momentum nesterov adam adamw rmsprop adagrad`` (momentum and nesterov are SGD
            with momentum 0.9, the latter with ``nesterov=True``).
        params: the parameters to optimize, e.g. ``model.parameters()``.
        lr: the learning rate.

    Returns:
        The optimizer.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).

    Example:
        >>> opt = make_optimizer("momentum", mlp(2, 4, 2).parameters(), 0.05)
        >>> type(opt).__name__, opt.param_groups[0]["momentum"]
        ('SGD', 0.9)
    """
    from descend import problems

    cls, kwargs = problems.optimizer(name)
    return cls(params, lr=lr, **kwargs)


# --- data ----------------------------------------------------------------------------------------
def check_mnist_folder(folder) -> Path:
    """``folder`` as a Path after checking it holds the four MNIST ``.gz`` files.

    Raises:
        FileNotFoundError: the folder or one of the files is missing (the message names them).

    Example:
        >>> check_mnist_folder("/nowhere")  # doctest: +SKIP
        FileNotFoundError: data folder '/nowhere' not found; it should hold train-images-idx3-ubyte.gz, ...
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {str(folder)!r} not found; it should hold "
                                f"{', '.join(MNIST_FILES)}")
    missing = [f for f in MNIST_FILES if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"data folder {str(folder)!r} lacks {', '.join(missing)}; it should hold "
                                f"{', '.join(MNIST_FILES)}")
    return folder


def _check_not_the_other(folder: Path, dataset: str) -> None:
    """MNIST and Fashion-MNIST files have identical headers: tell them apart by their official MD5s."""
    from descend.data import mnist

    wanted = DATASETS[dataset]
    for other_key, other in DATASETS.items():
        if other == wanted:
            continue
        path = folder / MNIST_FILES[1]  # the labels file: small, and differs between the two sets
        if mnist._md5(path) == mnist.MD5[other][MNIST_FILES[1]]:
            raise ValueError(f"{folder} holds the {other_key} files, not {dataset}: "
                             f"{path.name} is {other_key}'s official file")


def load_mnist(folder, dataset: str = "mnist", limit: int | None = None, download: bool = False):
    """The training and test images of MNIST or Fashion-MNIST in ``folder`` as flat float32 tensors.

    Args:
        folder: folder holding the four original IDX ``.gz`` files.
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        limit: keep only the first ``limit`` training images (quick runs); None keeps all.
        download: fetch missing files into ``folder`` first (MD5-verified, atomic).

    Returns:
        ``(x_train, y_train, x_test, y_test, classes)``: images ``(N, 784)`` in ``[0, 1]``, int64 labels,
        and the class names.

    Raises:
        ValueError: a file that is not a valid IDX file, or the other data set's files (the message
            says what is wrong). FileNotFoundError: a missing file.

    Example:
        >>> x, y, xt, yt, classes = load_mnist(os.environ["DESCEND_MNIST"], limit=1000)  # doctest: +SKIP
        >>> x.shape, xt.shape  # doctest: +SKIP
        ((1000, 784), (10000, 784))
    """
    import descend
    from descend import data

    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; choose from: {', '.join(DATASETS)}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    cls = getattr(data, DATASETS[dataset])
    folder = Path(folder).expanduser()
    train = cls(folder, train=True, download=download)
    test = cls(folder, train=False)
    _check_not_the_other(folder, dataset)

    def flat(ds, n=None):
        images = ds.data._data[:n].reshape(-1, 784).astype(np.float32) / np.float32(255)
        return descend.from_numpy(images), descend.from_numpy(ds.targets._data[:n].copy())

    return (*flat(train, limit), *flat(test), list(train.classes))


def mnist_from_env() -> Path | None:
    """The folder named by ``$DESCEND_MNIST`` when it holds the four files, else None.

    Example:
        >>> folder = mnist_from_env()  # doctest: +SKIP
    """
    value = os.environ.get(MNIST_ENV)
    if not value:
        return None
    try:
        return check_mnist_folder(value)
    except FileNotFoundError:
        return None


# --- evaluation ----------------------------------------------------------------------------------
def accuracy(model, x, y, batch: int = 2048) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y`` (eval mode, no graph, in batches).

    Args:
        model: a classifier returning ``(N, classes)`` scores.
        x, y: inputs and integer labels (Tensors).
        batch: rows per forward pass (bounds the memory used).

    Returns:
        The accuracy as a float in [0, 1]; the model's train/eval mode is restored.

    Example:
        >>> accuracy(model, x_test, y_test)  # doctest: +SKIP
        0.9602
    """
    import descend

    was_training = model.training
    model.eval()
    correct = 0
    try:
        with descend.no_grad():
            for i in range(0, len(y), batch):
                logits = model(x[i:i + batch])._data
                correct += int((logits.argmax(axis=1) == y._data[i:i + batch]).sum())
    finally:
        model.train(was_training)
    return correct / max(len(y), 1)


# --- progress lines ------------------------------------------------------------------------------
class EpochLines(Callback):
    """A fit callback printing one line per ``every`` epochs (and the last), through tqdm so that a live
    progress bar stays intact, e.g.
    ``epoch  3/10   train loss 0.2134 acc  93.4%   valid loss 0.2201 acc  93.1%    4.2 s``.

    Args:
        every: print every this many epochs.
        indent: put before each line.
        on_line: also called with each line's text (the demo keeps them for its index.html).

    Example:
        >>> fit(model, loss_fn, opt, loader, epochs=10, callbacks=[EpochLines(every=2)])  # doctest: +SKIP
    """

    def __init__(self, every: int = 1, indent: str = "", on_line=None):
        self.every = every
        self.indent = indent
        self.on_line = on_line
        self.started = time.perf_counter()

    def on_fit_start(self, learner):
        self.started = time.perf_counter()

    def on_epoch_end(self, learner):
        epoch = learner.epoch + 1
        # Every `every`-th epoch, the last one, and the one where a callback listed before this one
        # (early stopping) ended training.
        if epoch % self.every and epoch != learner.epochs and learner.stop is None:
            return
        from tqdm import tqdm

        logs = learner.logs
        width = len(str(learner.epochs))
        parts = [f"epoch {epoch:>{width}}/{learner.epochs}"]
        for split in ("train", "valid"):
            if f"{split}_loss" in logs:
                part = f"{split} loss {logs[f'{split}_loss']:.4f}"
                if f"{split}_accuracy" in logs:
                    part += f" acc {logs[f'{split}_accuracy']:6.1%}"
                parts.append(part)
        parts.append(f"{time.perf_counter() - self.started:5.1f} s")
        line = "   ".join(parts)
        tqdm.write(self.indent + line, file=sys.stdout)
        if self.on_line is not None:
            self.on_line(line)
