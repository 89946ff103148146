"""Datasets and the loader that turns them into batches: batch, stochastic and mini-batch descent.

One knob names the tutorials' three ways of sampling the training set:

* ``DataLoader(ds, batch_size=None)``: the whole dataset every step (batch gradient descent);
* ``DataLoader(ds, batch_size=1)``: one sample per step (stochastic gradient descent);
* ``DataLoader(ds, batch_size=k)``: ``k`` samples per step (mini-batch gradient descent).

In-memory datasets (`TensorDataset`, `MNIST`, and `Subset`s of them) are batched by indexing their
arrays with a whole batch of indices at once, never by a Python loop over samples. The protocol is
the private method ``Dataset._gather(indices)``: given a slice or an integer index array it returns
the batch as NumPy arrays (a tuple of them, usually). The base class implements it by collating
``self[i]`` one sample at a time, so any Dataset that defines ``__getitem__``/``__len__`` works; an
in-memory dataset overrides it with a vectorised version.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ..random import generator as _global_generator
from ..tensor import Tensor, from_numpy

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split"]


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


# --- datasets ---


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` (one sample) and ``__len__()``.

    A sample is usually a tuple ``(x, y)`` of Tensors, NumPy arrays or numbers; `DataLoader` stacks
    the samples of a batch field by field (Python floats become float32, ints int64).

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return float(i), float(i * i)
        >>> next(iter(DataLoader(Squares(), batch_size=4)))
        (tensor([0., 1., 2., 3.]), tensor([0., 1., 4., 9.]))
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A subclass that redefines how one sample looks (e.g. adds a transform to a TensorDataset)
        # but not how a batch is gathered must not have its __getitem__ bypassed by the fast path
        # it inherited: fall back to collating its samples.
        if "__getitem__" in cls.__dict__ and "_gather" not in cls.__dict__:
            cls._gather = Dataset._gather

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning a sample")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(), the number of samples")

    def _gather(self, indices):
        """The samples at ``indices`` (a slice or an int array), stacked into arrays.

        This generic version calls ``self[i]`` for each index; in-memory datasets override it with
        one vectorised indexing operation per array.
        """
        positions = np.arange(len(self))[indices]
        return _collate([self[int(i)] for i in positions])


class TensorDataset(Dataset):
    """A dataset of tensors that share their first dimension; sample ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors: one or more Tensors with the same size along dimension 0.

    Example:
        >>> x, y = descend.randn(100, 3), descend.randn(100, 1)
        >>> ds = TensorDataset(x, y)
        >>> len(ds), ds[0][0].shape
        (100, (3,))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects Tensors, got {type(t).__name__} at position {i}")
            if t._data.ndim == 0:
                raise ValueError(f"TensorDataset needs tensors of at least one dimension; tensor {i} is 0-d")
        sizes = [t._data.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(
                f"Size mismatch between tensors: TensorDataset needs equal first dimensions, got {sizes}"
            )
        self.tensors = tuple(tensors)

    def __len__(self):
        return self.tensors[0]._data.shape[0]

    def __getitem__(self, index):
        # Copies, so that editing a sample in place never edits the dataset.
        return tuple(from_numpy(np.array(t._data[index])) for t in self.tensors)

    def _gather(self, indices):
        if isinstance(indices, slice):  # a view: copy it so a batch never aliases the dataset
            return tuple(t._data[indices].copy() for t in self.tensors)
        return tuple(t._data[indices] for t in self.tensors)  # fancy indexing already made a copy

    def __repr__(self):
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (what `random_split` returns).

    A Subset of an in-memory dataset is batched just as fast as the dataset itself.

    Args:
        dataset: the Dataset to draw from.
        indices: a sequence of integer positions into ``dataset``.

    Example:
        >>> ds = TensorDataset(descend.arange(10))
        >>> Subset(ds, [9, 0])[0]
        (tensor(9),)
    """

    def __init__(self, dataset, indices):
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Subset expects a Dataset, got {type(dataset).__name__}")
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError("Subset indices must be a 1-D sequence of integers")
        idx = idx.astype(np.int64, copy=False)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset indices must lie in [-{n}, {n}) for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = idx

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def _gather(self, indices):
        return self.dataset._gather(self.indices[indices])

    def __repr__(self):
        return f"Subset({len(self)} of {self.dataset!r})"


# --- collation (for datasets without a vectorised _gather) ---


def _collate(samples):
    """Stack a list of samples field by field into NumPy arrays (keeping tuple/dict structure)."""
    first = samples[0]
    if isinstance(first, Mapping):
        return {k: _collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("all samples in a batch must have the same number of fields")
        return tuple(_collate(list(field)) for field in zip(*samples))
    if isinstance(first, Tensor):
        return np.stack([s._data for s in samples])
    if isinstance(first, (np.ndarray, np.generic)):
        return np.stack([np.asarray(s) for s in samples])
    if isinstance(first, (bool, numbers.Number)):
        arr = np.array(samples)
        # Python numbers follow descend's defaults: floats are float32, ints int64.
        default = {"f": np.float32, "i": np.int64, "u": np.int64, "b": np.bool_}.get(arr.dtype.kind)
        if default is None:
            raise TypeError(f"can't batch samples of type {type(first).__name__}")
        return arr.astype(default, copy=False)
    raise TypeError(
        f"can't batch samples of type {type(first).__name__}: expected Tensors, arrays, numbers, "
        "or tuples/dicts of them"
    )


def _to_tensors(batch):
    """Wrap the arrays of a gathered batch as Tensors (no copy), keeping tuple/dict structure."""
    if isinstance(batch, tuple):
        return tuple(_to_tensors(b) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    return from_numpy(np.asarray(batch))


# --- the loader ---


class DataLoader:
    """Iterate over a dataset in batches: the whole set (``batch_size=None``), one sample, or ``k`` samples.

    Each pass (epoch) visits every sample exactly once (except those dropped by ``drop_last``). With
    ``shuffle=True`` the order is a fresh random permutation every epoch: with a ``seed`` epoch ``e``
    uses a stream derived from ``(seed, e)``, so successive epochs differ but a run repeats exactly;
    without one the permutation comes from descend's global generator (``descend.manual_seed``).

    Unlike PyTorch, ``batch_size=None`` means "the whole dataset in one batch" (batch gradient
    descent), and a batch of tuple samples is a tuple (PyTorch gives a list; both unpack as
    ``for x, y in loader``). Batches never share memory with the dataset.

    Args:
        dataset: a `Dataset` (a `TensorDataset`, `MNIST`, `Subset`, or your own).
        batch_size: samples per batch, a positive int, or None for the whole dataset. Default 1.
        shuffle: draw a new random order each epoch. Default False.
        drop_last: drop the last batch when it is smaller than ``batch_size``. Default False.
        seed: an int making the shuffling reproducible; None uses the global generator.
        generator: alternatively, a ``numpy.random.Generator`` to draw every epoch's permutation from.

    Example:
        >>> ds = TensorDataset(descend.randn(10, 2), descend.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
        >>> len(loader), [tuple(x.shape) for x, y in loader]
        (3, [(4, 2), (4, 2), (2, 2)])
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, generator=None):
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"DataLoader expects a Dataset, got {type(dataset).__name__}; wrap tensors with "
                "TensorDataset(x, y)"
            )
        if batch_size is not None:
            if not _is_int(batch_size):
                raise TypeError(f"batch_size must be a positive int or None, got {type(batch_size).__name__}")
            if batch_size <= 0:
                raise ValueError(f"batch_size must be a positive int or None, got {batch_size}")
            batch_size = int(batch_size)
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            # 0 and 1 pass (they compare equal to False and True); strings and None do not.
            if not isinstance(flag, (bool, np.bool_, numbers.Integral)) or flag not in (False, True):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if seed is not None:
            if not _is_int(seed):
                raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
            if seed < 0:
                raise ValueError(f"seed must be non-negative, got {seed}")
        if generator is not None:
            if not isinstance(generator, np.random.Generator):
                raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
            if seed is not None:
                raise ValueError("give DataLoader a seed or a generator, not both")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = None if seed is None else int(seed)
        self.generator = generator
        self.epoch = 0  # the epoch the next iteration will be; set_epoch() moves it (e.g. on resume)

    def set_epoch(self, epoch):
        """Make the next iteration epoch ``epoch`` (with a seed, this picks that epoch's permutation)."""
        if not _is_int(epoch) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def _size(self):
        return len(self.dataset) if self.batch_size is None else self.batch_size

    def __len__(self):
        n = len(self.dataset)
        if n == 0:
            return 0
        size = self._size()
        return n // size if self.drop_last else (n + size - 1) // size

    def _order(self, epoch):
        """This epoch's sample order: a permutation when shuffling, None for the natural order."""
        if not self.shuffle:
            return None
        if self.generator is not None:
            rng = self.generator
        elif self.seed is not None:
            rng = np.random.default_rng([self.seed, epoch])
        else:
            rng = _global_generator()
        return rng.permutation(len(self.dataset))

    def __iter__(self):
        # The permutation is drawn now, not at the first next(), so iter() marks the start of an epoch.
        order = self._order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order):
        n = len(self.dataset)
        if n == 0:
            return
        size = self._size()
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            end = min(start + size, stop)
            indices = slice(start, end) if order is None else order[start:end]
            yield _to_tensors(self.dataset._gather(indices))

    def __repr__(self):
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed})"
        )


# --- splitting ---


def random_split(dataset, lengths, seed=None, generator=None):
    """Split a dataset into non-overlapping random `Subset`s of the given lengths (or fractions).

    Fractions that sum to 1 are turned into lengths as PyTorch does: each gets ``floor(n * f)`` and the
    remaining samples are handed out one at a time, round-robin from the first split.

    Args:
        dataset: the Dataset to split.
        lengths: ints summing to ``len(dataset)``, or fractions summing to 1.
        seed: an int for a reproducible split; None uses descend's global generator.
        generator: alternatively, a ``numpy.random.Generator`` to draw the permutation from.

    Returns:
        A list of `Subset`s, one per length.

    Example:
        >>> train, valid = random_split(TensorDataset(descend.arange(10)), [0.8, 0.2], seed=0)
        >>> len(train), len(valid)
        (8, 2)
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"random_split expects a Dataset, got {type(dataset).__name__}")
    if not isinstance(lengths, Sequence) or isinstance(lengths, str) or not lengths:
        raise TypeError("lengths must be a non-empty sequence of ints or fractions")
    if seed is not None and (not _is_int(seed) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
    if seed is not None and generator is not None:
        raise ValueError("give random_split a seed or a generator, not both")
    n = len(dataset)
    if all(_is_int(k) for k in lengths):
        sizes = [int(k) for k in lengths]
        if any(k < 0 for k in sizes):
            raise ValueError(f"lengths must be non-negative, got {list(lengths)}")
    elif all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in lengths):
        total = float(sum(lengths))
        if not (math.isclose(total, 1.0) and total <= 1.0 + 1e-12):
            raise ValueError(f"fractions must sum to 1, got {list(lengths)} (sum {total})")
        sizes = []
        for i, f in enumerate(lengths):
            if not 0.0 <= f <= 1.0:
                raise ValueError(f"fraction at index {i} is not between 0 and 1: {f}")
            sizes.append(int(math.floor(n * f)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, k in enumerate(sizes):
            if k == 0:
                warnings.warn(f"length of split at index {i} is 0: that subset is empty", stacklevel=2)
    else:
        raise TypeError(f"lengths must be all ints or all fractions, got {list(lengths)}")
    if sum(sizes) != n:
        raise ValueError(f"sum of lengths {sizes} is {sum(sizes)}, but the dataset has {n} samples")
    if generator is not None:
        rng = generator
    else:
        rng = np.random.default_rng(seed) if seed is not None else _global_generator()
    perm = rng.permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
