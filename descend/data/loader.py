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

The rest is PyTorch's ``torch.utils.data`` (``descend.utils.data`` is this module): samplers,
``default_collate``, iterable datasets, ``ConcatDataset``, and ``num_workers > 0`` loading batches in
worker processes, each seeded ``base_seed + worker_id`` as in PyTorch.
"""

from __future__ import annotations

import bisect
import itertools
import math
import multiprocessing
import numbers
import queue
import random as _pyrandom
import time
import traceback
import warnings
import weakref
from collections.abc import Mapping, Sequence

import numpy as np

from ..random import Generator, _generator, _rng, manual_seed
from ..tensor import Tensor, _wrap, as_tensor, from_numpy

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "get_worker_info",
    "random_split",
]


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


# --- datasets ---


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` (one sample) and ``__len__()``.

    A sample is usually a tuple ``(x, y)`` of Tensors, NumPy arrays or numbers; `DataLoader` stacks
    the samples of a batch field by field as PyTorch's `default_collate` does (Python floats become
    float64, ints int64). Any sequence with ``__getitem__`` and ``__len__`` (a list, a range) works too.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return float(i), float(i * i)
        >>> next(iter(DataLoader(Squares(), batch_size=4)))[1]
        tensor([0., 1., 4., 9.], dtype=descend.float64)
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
        return _gather_samples(self, indices)


class TensorDataset(Dataset):
    """A dataset of tensors that share their first dimension; sample ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors: one or more Tensors with the same size along dimension 0.

    Example:
        >>> x, y = descend.randn(100, 3), descend.randn(100, 1)
        >>> ds = TensorDataset(x, y)
        >>> len(ds), ds[0][0].shape
        (100, descend.Size([3]))
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
        dataset: the Dataset (or sequence) to draw from.
        indices: a sequence of integer positions into ``dataset``.

    Example:
        >>> ds = TensorDataset(descend.arange(10))
        >>> Subset(ds, [9, 0])[0]
        (tensor(9),)
    """

    def __init__(self, dataset, indices):
        _check_map_style(dataset, "Subset")
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
        return _gather(self.dataset, self.indices[indices])

    def __repr__(self):
        return f"Subset({len(self)} of {self.dataset!r})"


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__`` (yielding samples), not indexing.

    With ``num_workers > 0`` every worker iterates its own copy; split the stream between them with
    `get_worker_info()` inside ``__iter__``, as in PyTorch.

    Example:
        >>> class Count(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5))
        >>> [b.tolist() for b in DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(), yielding samples")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, don't index it")


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other.

    Args:
        datasets: a non-empty sequence of map-style datasets (or sequences).

    Example:
        >>> ds = ConcatDataset([[1, 2], [3]])
        >>> len(ds), ds[2], ds.cumulative_sizes
        (3, 3, [2, 3])
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
            _check_map_style(d, "ConcatDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"absolute value of index {idx} should not exceed dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def _check_map_style(dataset, who):
    if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise TypeError(
            f"{who} expects a Dataset (or a sequence with __getitem__ and __len__), got "
            f"{type(dataset).__name__}"
        )


# --- collation: PyTorch's default_collate ---

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _collate(batch, sequence=list):
    """PyTorch's `default_collate`; `sequence` is what a batch of tuple samples becomes."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = [tuple(t._data.shape) for t in batch]
        for i, s in enumerate(shapes):
            if s != shapes[0]:
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 and "
                    f"{list(s)} at entry {i}"
                )
        return _wrap(np.stack([t._data for t in batch]))
    if isinstance(elem, np.ndarray) or (
        isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_))
    ):
        if elem.dtype.kind in "SaUO":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return as_tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, float):
        return _wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (bool, int)):
        return _wrap(np.array(batch, dtype=np.bool_ if all(isinstance(b, bool) for b in batch) else np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: _collate([d[key] for d in batch], sequence) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that can't be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(_collate(list(s), sequence) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [_collate(list(s), sequence) for s in zip(*batch)]
        return sequence(fields) if isinstance(elem, tuple) else fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's `default_collate`.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a float64
    tensor, ints int64, bools bool; strings stay a list; dicts, namedtuples and lists/tuples are
    collated field by field (a batch of tuples becomes a list of fields, as in PyTorch).

    Example:
        >>> default_collate([(1, "a"), (2, "b")])
        [tensor([1, 2]), ['a', 'b']]
    """
    if not isinstance(batch, Sequence) or not batch:
        raise TypeError(f"default_collate expects a non-empty list of samples, got {batch!r}")
    return _collate(list(batch), list)


def _to_tensors(batch):
    """Wrap the arrays of a gathered batch as Tensors (no copy), keeping tuple/dict structure."""
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return batch  # a namedtuple is only built by the per-sample collation, already of Tensors
    if isinstance(batch, tuple):
        return tuple(_to_tensors(b) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, (Tensor, list)):
        return batch
    return from_numpy(np.asarray(batch))


def _gather_samples(dataset, indices):
    """The samples at `indices` (a slice or ints) collated one by one (tuples stay tuples)."""
    positions = range(len(dataset))[indices] if isinstance(indices, slice) else indices
    return _collate([dataset[int(i)] for i in positions], tuple)


def _gather(dataset, indices):
    """A batch from a map-style dataset: its vectorised `_gather` if it has one, else sample by sample."""
    gather = getattr(dataset, "_gather", None)
    return gather(indices) if gather is not None else _gather_samples(dataset, indices)


# --- samplers ---


class Sampler:
    """The base of every sampler: an iterable of dataset indices (or of lists of them).

    Example:
        >>> class Evens(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(0, self.n, 2))
        >>> [b.tolist() for b in DataLoader(list(range(6)), batch_size=2, sampler=Evens(6))]
        [[0, 2], [4]]
    """

    def __init__(self, data_source=None):
        pass  # PyTorch's signature; subclasses keep what they need

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(), yielding indices")


class SequentialSampler(Sampler):
    """The indices 0, 1, ..., len(data_source) - 1 in order.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


def _check_generator(generator, who="generator"):
    if generator is not None and not isinstance(generator, (Generator, np.random.Generator)):
        raise TypeError(
            f"{who} must be a descend.Generator or a numpy.random.Generator, got {type(generator).__name__}"
        )
    return generator


class RandomSampler(Sampler):
    """Indices in a random order: a permutation per pass, or `num_samples` draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per pass (default ``len(data_source)``); without replacement
            more than the length repeats whole permutations, as in PyTorch.
        generator: a `descend.Generator` (default: the global generator).

    Example:
        >>> sorted(RandomSampler(range(4), generator=descend.Generator().manual_seed(0)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_bool(replacement, "replacement")
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        self._num_samples = num_samples
        self.generator = _check_generator(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if _generator(self.generator) is not None:  # PyTorch's draws: the same order for the same seed
            order = _pytorch_random_indices(n, self.num_samples, self.replacement, self.generator)
            return iter(order.tolist())
        rng = _rng(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        full, rest = divmod(self.num_samples, n) if n else (0, 0)
        perms = [rng.permutation(n) for _ in range(full)] + ([rng.permutation(n)[:rest]] if rest else [])
        return iter(np.concatenate(perms).tolist() if perms else [])

    def __len__(self):
        return self.num_samples


def _int64_seed(generator=None):
    """`int(torch.empty((), dtype=torch.int64).random_(generator=generator))`: PyTorch's seed draw."""
    return int(_generator(generator).random_full((), np.int64))


def _pytorch_random_indices(n, num_samples, replacement, generator):
    """RandomSampler's indices as PyTorch draws them: without a generator, a fresh one seeded from a
    draw of the global one; permutations by randperm, draws with replacement by randint, 32 at a time.
    Returns an int64 array."""
    g = Generator().manual_seed(_int64_seed()) if generator is None else generator
    if replacement:
        draws = [g.randint((32,), 0, n) for _ in range(num_samples // 32)]
        return np.concatenate(draws + [g.randint((num_samples % 32,), 0, n)])
    if n == 0:
        return np.empty(0, dtype=np.int64)
    full, rest = divmod(num_samples, n)
    # PyTorch draws one permutation more than it uses whole, even when none of it is needed (rest 0):
    # a shared generator moves on by it at the end of every epoch
    perms = [g.randperm(n) for _ in range(full)] + [g.randperm(n)[:rest]]
    return np.concatenate(perms)


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one each pass.

    Example:
        >>> sorted(SubsetRandomSampler([5, 7, 9]))
        [5, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = _check_generator(generator)

    def __iter__(self):
        g = _generator(self.generator)  # PyTorch's randperm from the given (or the global) generator
        perm = g.randperm(len(self.indices)) if g is not None else _rng(self.generator).permutation(
            len(self.indices))
        return iter([self.indices[i] for i in perm])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probabilities proportional to `weights` (via `multinomial`).

    Args:
        weights: a sequence (or 1-D tensor) of non-negative weights, one per sample.
        num_samples: how many indices per pass.
        replacement: draw with replacement (default True); without it no index repeats.
        generator: a `descend.Generator`.

    Example:
        >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 3))
        [1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        self.replacement = _check_bool(replacement, "replacement")
        w = weights._data if isinstance(weights, Tensor) else np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = _wrap(w.astype(np.float64))
        self.num_samples = int(num_samples)
        self.generator = _check_generator(generator)

    def __iter__(self):
        from ..ops.sampling import multinomial

        draws = multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        return iter(draws.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of `batch_size` (the last one shorter unless dropped).

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = _check_bool(drop_last, "drop_last")

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(int(idx))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


# --- worker processes ---


class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: id, num_workers, seed and dataset (its copy)."""

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - PyTorch's name
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_WORKER_INFO = {"info": None}


def get_worker_info():
    """In a DataLoader worker process, its `WorkerInfo`; in the main process, None.

    Example:
        >>> get_worker_info() is None
        True
    """
    return _WORKER_INFO["info"]


class _Array:
    """A tensor on its way between processes (descend tensors refuse pickling; arrays don't)."""

    def __init__(self, data):
        self.data = data


def _to_wire(obj):
    if isinstance(obj, Tensor):
        return _Array(obj._data)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_wire(o) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_wire(o) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to_wire(v)) for k, v in obj.items())
    return obj


def _from_wire(obj):
    if isinstance(obj, _Array):
        return _wrap(obj.data)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_from_wire(o) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_from_wire(o) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _from_wire(v)) for k, v in obj.items())
    return obj


class _WorkerError:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, worker_id, where):
        self.exc_type = type(where)
        self.message = (
            f"Caught {self.exc_type.__name__} in DataLoader worker process {worker_id}.\n"
            f"Original {traceback.format_exc()}"
        )

    def reraise(self):
        try:
            err = self.exc_type(self.message)
        except Exception:  # an exception type whose constructor wants other arguments
            err = RuntimeError(self.message)
        raise err


class _Exhausted:
    """A worker's iterable dataset has no more batches."""


def _next_batch(it, batch_size, drop_last, collate_fn):
    """The next batch from an iterator of samples, or `_Exhausted`."""
    if batch_size is None:
        samples = list(it)
    else:
        samples = list(itertools.islice(it, batch_size))
    if not samples or (drop_last and batch_size is not None and len(samples) < batch_size):
        return _Exhausted
    return collate_fn(samples) if collate_fn is not None else _collate(samples, tuple)


def _fetch(dataset, indices, collate_fn):
    """One batch of a map-style dataset: the vectorised path with the default collate."""
    if collate_fn is None:
        return _to_tensors(_gather(dataset, indices))
    if isinstance(indices, slice):
        indices = range(len(dataset))[indices]
    return collate_fn([dataset[int(i)] for i in indices])


def _worker_loop(dataset, index_queue, result_queue, worker_id, num_workers, seed, init_fn, spec):
    """A worker process: seed as PyTorch does, then answer (epoch, task, indices) until told to stop."""
    _pyrandom.seed(seed)
    manual_seed(seed)
    np.random.seed(seed % 2**32)
    _WORKER_INFO["info"] = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as e:
            init_error = _WorkerError(worker_id, e)
    iterable, batch_size, drop_last, collate_fn = spec
    it, it_epoch = None, None
    while True:
        try:
            task = index_queue.get(timeout=5.0)
        except queue.Empty:
            continue
        if task is None:
            break
        epoch, idx, indices = task
        if init_error is not None:
            result_queue.put((epoch, idx, init_error))
            continue
        try:
            if iterable:
                if it_epoch != epoch:  # a new epoch: a fresh pass over this worker's copy
                    it, it_epoch = iter(dataset), epoch
                batch = _next_batch(it, batch_size, drop_last, collate_fn)
            else:
                batch = _fetch(dataset, indices, collate_fn)
            result_queue.put((epoch, idx, batch if batch is _Exhausted else _to_wire(batch)))
        except Exception as e:
            result_queue.put((epoch, idx, _WorkerError(worker_id, e)))


class _WorkerPool:
    """`num_workers` processes, one task queue each and one shared result queue."""

    def __init__(self, loader, base_seed):
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.result_queue = ctx.Queue()
        self.index_queues, self.workers = [], []
        spec = (loader._iterable, loader.batch_size, loader.drop_last, loader.collate_fn)
        for wid in range(loader.num_workers):
            q = ctx.Queue()
            w = ctx.Process(
                target=_worker_loop,
                args=(loader.dataset, q, self.result_queue, wid, loader.num_workers, base_seed + wid,
                      loader.worker_init_fn, spec),
                daemon=True,
            )
            w.start()
            self.index_queues.append(q)
            self.workers.append(w)
        self.closed = False

    def shutdown(self):
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            q.put(None)
        for w in self.workers:
            w.join(timeout=5.0)
            if w.is_alive():
                w.terminate()
        for q in (*self.index_queues, self.result_queue):
            q.cancel_join_thread()
            q.close()


def _epoch_results(loader, pool, epoch, tasks):
    """Send `tasks` (one per batch) to the workers and yield their results in order.

    Map-style tasks are index lists handed round-robin; iterable-dataset tasks are "your next batch"
    requests to each worker in turn until every worker is exhausted. At most `prefetch_factor` tasks
    per worker are outstanding.
    """
    n = loader.num_workers
    limit = loader.prefetch_factor * n
    active = list(range(n))
    outstanding, buffered, sent, wanted = {}, {}, 0, 0
    cycle = itertools.count()
    tasks = iter(tasks or ())
    while True:
        while len(outstanding) < limit and active:
            if loader._iterable:
                indices = None
                worker = active[next(cycle) % len(active)]
            else:
                indices = next(tasks, None)
                if indices is None:
                    break
                worker = sent % n
            pool.index_queues[worker].put((epoch, sent, indices))
            outstanding[sent] = worker
            sent += 1
        if wanted not in outstanding:
            return
        while wanted not in buffered:
            e, idx, data = _get_result(loader, pool)
            if e == epoch:
                buffered[idx] = data
        data = buffered.pop(wanted)
        worker = outstanding.pop(wanted)
        wanted += 1
        if isinstance(data, _WorkerError):
            data.reraise()
        if data is _Exhausted:
            if worker in active:
                active.remove(worker)
            continue
        yield _from_wire(data)


def _get_result(loader, pool):
    """The next result from any worker; a dead worker or the loader's `timeout` is a RuntimeError."""
    start = time.monotonic()
    while True:
        wait = 1.0 if loader.timeout <= 0 else min(1.0, loader.timeout)
        try:
            return pool.result_queue.get(timeout=wait)
        except queue.Empty:
            dead = [w.pid for w in pool.workers if not w.is_alive()]
            if dead:
                pool.shutdown()
                raise RuntimeError(
                    f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly"
                ) from None
            if loader.timeout > 0 and time.monotonic() - start >= loader.timeout:
                pool.shutdown()
                raise RuntimeError(f"DataLoader timed out after {loader.timeout} seconds") from None


# --- the loader ---


class DataLoader:
    """Iterate over a dataset in batches: the whole set (``batch_size=None``), one sample, or ``k`` samples.

    Each pass (epoch) visits every sample exactly once (except those dropped by ``drop_last``). With
    ``shuffle=True`` the order is a fresh random permutation every epoch: with a ``seed`` epoch ``e``
    uses a stream derived from ``(seed, e)``, so successive epochs differ but a run repeats exactly;
    with a ``generator`` (a `descend.Generator`) the permutations are drawn from it; otherwise from
    descend's global generator (``descend.manual_seed``). Without a ``seed`` the draws are PyTorch's
    (its RandomSampler's), so the same seed gives PyTorch's batches.

    The dataset is any map-style dataset or sequence (a list of ``(x, y)`` pairs, a ``range``, a list
    of dicts or strings), or an `IterableDataset`. Samples are merged as PyTorch's `default_collate`
    does, unless ``collate_fn`` is given. A `TensorDataset` (or `MNIST`, or a `Subset` of them) with
    the default collate is batched by one vectorised indexing per array, never a Python loop.

    Unlike PyTorch, ``batch_size=None`` means "the whole dataset in one batch" (batch gradient
    descent), and a batch of tuple samples is a tuple (PyTorch gives a list; both unpack as
    ``for x, y in loader``). Batches never share memory with the dataset.

    With ``num_workers > 0`` batches are loaded by that many worker processes (started by
    ``multiprocessing``, its default context unless ``multiprocessing_context`` says otherwise), each
    seeded with ``base_seed + worker_id`` (Python's ``random``, descend's global generator and NumPy's
    legacy global one), where ``base_seed`` is drawn from the loader's generator every epoch, as in
    PyTorch. Batches arrive in order and equal those of ``num_workers=0``; an exception in a worker
    is raised again here, naming the worker. Tensors in a batch travel between processes as arrays.

    Args:
        dataset: a `Dataset`, a sequence, or an `IterableDataset`.
        batch_size: samples per batch, a positive int, or None for the whole dataset. Default 1.
        shuffle: draw a new random order each epoch. Default False.
        sampler: a `Sampler` (or any iterable of indices) choosing the order; excludes ``shuffle``.
        batch_sampler: an iterable of index lists, one per batch; excludes batch_size, shuffle,
            sampler and drop_last.
        num_workers: worker processes; 0 loads in the main process. Default 0.
        collate_fn: merges a list of samples into a batch (default: `default_collate`'s rules).
        pin_memory: accepted for PyTorch's signature; a no-op on the CPU, as in PyTorch.
        drop_last: drop the last batch when it is smaller than ``batch_size``. Default False.
        timeout: seconds to wait for a worker's batch (0: no limit).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name or a multiprocessing context.
        generator: a `descend.Generator` (or ``numpy.random.Generator``) for shuffling and worker seeds.
        prefetch_factor: batches loaded in advance per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        seed: descend's shortcut: an int making the shuffling reproducible (instead of a generator).

    Example:
        >>> ds = TensorDataset(descend.randn(10, 2), descend.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
        >>> len(loader), [tuple(x.shape) for x, y in loader]
        (3, [(4, 2), (4, 2), (2, 2)])
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, seed=None):
        self._iterable = isinstance(dataset, IterableDataset)
        if not self._iterable and not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader expects a Dataset (or a sequence with __getitem__ and __len__), got "
                f"{type(dataset).__name__}; wrap tensors with TensorDataset(x, y)"
            )
        if batch_size is not None:
            if not _is_int(batch_size):
                raise TypeError(f"batch_size must be a positive int or None, got {type(batch_size).__name__}")
            if batch_size <= 0:
                raise ValueError(f"batch_size must be a positive int or None, got {batch_size}")
            batch_size = int(batch_size)
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last), ("pin_memory", pin_memory),
                           ("persistent_workers", persistent_workers)):
            if name == "shuffle" and flag is None:
                continue
            # 0 and 1 pass (they compare equal to False and True); strings and None do not.
            if not isinstance(flag, (bool, np.bool_, numbers.Integral)) or flag not in (False, True):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if seed is not None:
            if not _is_int(seed):
                raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
            if seed < 0:
                raise ValueError(f"seed must be non-negative, got {seed}")
        _check_generator(generator)
        if seed is not None and generator is not None:
            raise ValueError("give DataLoader a seed or a generator, not both")
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. let num_workers > 0 to "
                "enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and (not _is_int(prefetch_factor) or prefetch_factor <= 0):
            raise ValueError(f"prefetch_factor option should be a positive int, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {type(worker_init_fn).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        if self._iterable:
            if shuffle:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                    f"shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but got "
                    f"sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                    f"batch_sampler={batch_sampler}"
                )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
            )
        self.dataset = dataset
        self.batch_size = None if batch_sampler is not None else batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)
        self.drop_last = bool(drop_last)
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        if num_workers:
            self.prefetch_factor = 2 if prefetch_factor is None else int(prefetch_factor)
        else:
            self.prefetch_factor = None
        self.persistent_workers = bool(persistent_workers)
        self.seed = None if seed is None else int(seed)
        self.generator = generator
        self.epoch = 0  # the epoch the next iteration will be; set_epoch() moves it (e.g. on resume)
        self._pool = None

    def set_epoch(self, epoch):
        """Make the next iteration epoch ``epoch`` (with a seed, this picks that epoch's permutation)."""
        if not _is_int(epoch) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def _size(self):
        return len(self.dataset) if self.batch_size is None else self.batch_size

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if n == 0:
            return 0
        size = n if self.batch_size is None else self.batch_size
        return n // size if self.drop_last else (n + size - 1) // size

    def _rng(self, epoch, stream):
        """The generator of this epoch's draws: `stream` 0 shuffles, 1 seeds the workers."""
        if self.seed is not None:
            return np.random.default_rng([self.seed, epoch] if stream == 0 else [self.seed, epoch, stream])
        return _rng(self.generator)

    def _order(self, epoch):
        """This epoch's sample order: a permutation when shuffling, None for the natural order.

        Without a `seed`, the order is PyTorch's RandomSampler's for the same generator state.
        """
        if not self.shuffle:
            return None
        n = len(self.dataset)
        if self.seed is None and _generator(self.generator) is not None:
            return _pytorch_random_indices(n, n, False, self.generator)
        return self._rng(epoch, 0).permutation(n)

    def _index_batches(self, epoch):
        """This epoch's batches as index slices/arrays (or lists, from a sampler)."""
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        if self.sampler is not None:
            size = self.batch_size if self.batch_size is not None else max(len(self.sampler), 1)
            yield from BatchSampler(self.sampler, size, self.drop_last)
            return
        order = self._order(epoch)
        n = len(self.dataset)
        if n == 0:
            return
        size = self._size()
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            end = min(start + size, stop)
            yield slice(start, end) if order is None else order[start:end]

    def __iter__(self):
        # The permutation and the workers' seed are drawn now, not at the first next(), so iter()
        # marks the start of an epoch.
        epoch = self.epoch
        self.epoch += 1
        # NOTE: the workers' base seed is drawn with or without workers (as PyTorch does), so a loader
        # sharing a generator shuffles the same way whatever num_workers is.
        if self.seed is None and _generator(self.generator) is not None:
            base_seed = _int64_seed(self.generator)  # PyTorch's draw, before the sampler's
        else:
            base_seed = int(self._rng(epoch, 1).integers(0, 2**62))
        if self._iterable:
            if self.num_workers == 0:
                return self._iterable_batches()
            return self._worker_batches(epoch, base_seed, None)
        tasks = list(self._index_batches(epoch))
        if self.num_workers == 0:
            return (_fetch(self.dataset, idx, self.collate_fn) for idx in tasks)
        return self._worker_batches(epoch, base_seed, tasks)

    def _iterable_batches(self):
        it = iter(self.dataset)
        while True:
            batch = _next_batch(it, self.batch_size, self.drop_last, self.collate_fn)
            if batch is _Exhausted:
                return
            yield batch

    def _worker_batches(self, epoch, base_seed, tasks):
        pool = self._pool
        if pool is None or pool.closed:
            pool = _WorkerPool(self, base_seed)
            if self.persistent_workers:
                self._pool = pool
                weakref.finalize(self, pool.shutdown)
        try:
            yield from _epoch_results(self, pool, epoch, tasks)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def __repr__(self):
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, seed={self.seed})"
        )


# --- splitting ---


def random_split(dataset, lengths, seed=None, generator=None):
    """Split a dataset into non-overlapping random `Subset`s of the given lengths (or fractions).

    Fractions that sum to 1 are turned into lengths as PyTorch does: each gets ``floor(n * f)`` and the
    remaining samples are handed out one at a time, round-robin from the first split.

    Args:
        dataset: the Dataset (or sequence) to split.
        lengths: ints summing to ``len(dataset)``, or fractions summing to 1.
        seed: descend's shortcut: an int for a reproducible split; None uses the global generator.
        generator: alternatively, a `descend.Generator` to draw the permutation from (PyTorch's
            ``random_split(ds, lengths, generator=torch.Generator().manual_seed(42))``).

    Returns:
        A list of `Subset`s, one per length.

    Example:
        >>> train, valid = random_split(TensorDataset(descend.arange(10)), [0.8, 0.2], seed=0)
        >>> len(train), len(valid)
        (8, 2)
    """
    _check_map_style(dataset, "random_split")
    if not isinstance(lengths, Sequence) or isinstance(lengths, str) or not lengths:
        raise TypeError("lengths must be a non-empty sequence of ints or fractions")
    if seed is not None and (not _is_int(seed) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    _check_generator(generator)
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
    g = None if seed is not None else _generator(generator)
    if g is not None:  # PyTorch's randperm: the same split for the same generator state
        perm = g.randperm(n)
    else:
        perm = (np.random.default_rng(seed) if seed is not None else _rng(generator)).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]
