"""Sorting and selection: sort/argsort, topk, kthvalue, median/mode, unique, bincount, histc,
searchsorted/bucketize, and the grid builders meshgrid/cartesian_prod.

NaN counts as larger than every number, as in PyTorch: it sorts last ascending, first descending.
The selecting ops send their gradient to the selected input elements only.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from ..autograd import record
from ..tensor import Tensor, _wrap
from ._core import _dims, _tensor, op

_Sort = namedtuple("sort", ["values", "indices"])
_Topk = namedtuple("topk", ["values", "indices"])
_Kth = namedtuple("kthvalue", ["values", "indices"])
_Median = namedtuple("median", ["values", "indices"])
_Nanmedian = namedtuple("nanmedian", ["values", "indices"])
_Mode = namedtuple("mode", ["values", "indices"])


def _axis(dim, ndim):
    (axis,) = _dims(int(dim), ndim) or (0,)
    return axis


def _argsort(X, axis, descending):
    """Stable argsort along `axis`; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(X, axis=axis, kind="stable")
    n = X.shape[axis]
    rev = np.argsort(np.flip(X, axis), axis=axis, kind="stable")  # ties in reversed order ...
    return np.flip(n - 1 - rev, axis)  # ... flipped back: largest first, ties in original order


def _select_vjp(shape, dtype, idx, axis):
    """The gradient of picking `idx` along `axis` (same rank as the input): scattered back, summed."""

    def vjp(g):
        grad = np.zeros(shape, dtype=np.result_type(g, dtype))
        np.put_along_axis(grad, idx, np.reshape(g, idx.shape), axis=axis)
        return grad

    return vjp


def _picked(name, x, idx, axis, keepdim, kind):
    """(values, indices) for `idx` (kept-dims indices along `axis`), recorded under `name`."""
    X = x._data
    values = np.take_along_axis(X, idx, axis=axis)
    vjp = _select_vjp(X.shape, X.dtype, idx, axis)
    if not keepdim:
        values, idx = np.squeeze(values, axis), np.squeeze(idx, axis)
    return kind(record(name, values, (x,), (vjp,)), _wrap(idx.astype(np.int64)))


@op("sort")
def sort(input, dim=-1, descending=False, *, stable=False):
    """Sort along `dim`: `(values, indices)`; the sort is always stable (so `stable=False` is too).

    Example:
        >>> descend.tensor([3., 1., 2.]).sort(descending=True).indices
        tensor([0, 2, 1])
    """
    x = _tensor(input)
    X = x._data
    name = "SortBackward1" if stable else "SortBackward0"
    if X.ndim == 0:
        return _Sort(record(name, X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),)),
                     _wrap(np.array(0, np.int64)))
    axis = _axis(dim, X.ndim)
    return _picked(name, x, _argsort(X, axis, descending), axis, True, _Sort)


@op("argsort")
def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort `input` along `dim` (stable; equal elements keep their order).

    Example:
        >>> descend.tensor([3., 1., 2.]).argsort()
        tensor([1, 2, 0])
    """
    X = _tensor(input)._data
    if X.ndim == 0:
        return _wrap(np.array(0, np.int64))
    return _wrap(_argsort(X, _axis(dim, X.ndim), descending).astype(np.int64))


@op("msort")
def msort(input):
    """Sort along the first dim (`sort(input, dim=0).values`).

    Example:
        >>> descend.msort(descend.tensor([[2., 1.], [1., 3.]]))
        tensor([[1., 1.],
                [2., 3.]])
    """
    x = _tensor(input)
    if x.ndim == 0:
        return sort(x, 0).values
    return _picked("SortBackward0", x, _argsort(x._data, 0, False), 0, True, _Sort).values


@op("topk")
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The `k` largest (or smallest) elements along `dim`: `(values, indices)`.

    The values always come sorted (largest first, or smallest first with `largest=False`), which
    `sorted=False` allows too (PyTorch then leaves the order unspecified).

    Example:
        >>> descend.tensor([1., 5., 3.]).topk(2)
        topk(values=tensor([5., 3.], grad_fn=<TopkBackward0>), indices=tensor([1, 2]))
    """
    x = _tensor(input)
    if x._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    X = x._data
    axis = _axis(dim, X.ndim) if X.ndim else 0
    n = X.shape[axis] if X.ndim else 1
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for dimension {dim} of size {n}")
    if X.ndim == 0:
        return _Topk(record("TopkBackward0", X.copy(), (x,),
                            (lambda g: np.asarray(g).astype(X.dtype),)), _wrap(np.array(0, np.int64)))
    idx = np.take(_argsort(X, axis, largest), np.arange(k), axis=axis)
    return _picked("TopkBackward0", x, idx, axis, True, _Topk)


@op("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False):
    """The `k`-th smallest element (1-based) along `dim`: `(values, indices)`.

    Example:
        >>> descend.tensor([3., 1., 2.]).kthvalue(2)
        kthvalue(values=tensor(2.), indices=tensor(2))
    """
    x = _tensor(input)
    X = x._data
    if X.ndim == 0:
        if int(k) != 1:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension 0 (k={k}, size 1)")
        return _Kth(record("KthvalueBackward0", X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),)),
                    _wrap(np.array(0, np.int64)))
    axis = _axis(dim, X.ndim)
    n, k = X.shape[axis], int(k)
    if not 1 <= k <= n:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {axis} (k={k}, size {n})"
        )
    idx = np.take(_argsort(X, axis, False), [k - 1], axis=axis)
    return _picked("KthvalueBackward0", x, idx, axis, keepdim, _Kth)


def _median_index(X, axis, ignore_nan):
    """Kept-dims index of the lower median along `axis`; a slice with NaN gives its first NaN
    (or, ignoring NaN, the lower median of the other elements; all-NaN gives its first NaN)."""
    order = _argsort(X, axis, False)
    if X.dtype.kind != "f":
        return np.take(order, [(X.shape[axis] - 1) // 2], axis=axis)
    nan = np.isnan(X)
    count = np.sum(~nan, axis=axis, keepdims=True)
    if ignore_nan:
        pos = np.maximum(count - 1, 0) // 2  # all-NaN: position 0 of the sorted NaNs, the first one
    else:
        pos = np.where(count < X.shape[axis], count, (X.shape[axis] - 1) // 2)  # the first NaN
    return np.take_along_axis(order, pos, axis=axis)


def _median(input, dim, keepdim, ignore_nan, name, kind):
    x = _tensor(input)
    X = x._data
    if dim is None:
        flat = X.reshape(-1)
        if flat.size == 0:
            out = np.array(np.nan, X.dtype) if X.dtype.kind == "f" else None
            if out is None:
                raise IndexError(f"{name.lower()}() input tensor cannot be empty")
            return _wrap(out)
        i = int(_median_index(flat, 0, ignore_nan)[0])
        value = flat[i]
        shape = X.shape

        def vjp(g):  # as PyTorch: shared evenly among the elements equal to the median
            with np.errstate(invalid="ignore"):
                mask = np.isnan(X) if np.isnan(value) else X == value
            return np.where(mask, np.asarray(g) / max(int(mask.sum()), 1), 0).astype(X.dtype).reshape(shape)

        return record(f"{name}Backward0", np.array(value), (x,), (vjp,), saved=(x,))
    if X.ndim == 0:
        return kind(record(f"{name}Backward1", X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),)),
                    _wrap(np.array(0, np.int64)))
    axis = _axis(dim, X.ndim)
    if X.shape[axis] == 0:
        raise IndexError(f"{name.lower()}(): Expected reduction dim {axis} to have non-zero size.")
    return _picked(f"{name}Backward1", x, _median_index(X, axis, ignore_nan), axis, keepdim, kind)


@op("median")
def median(input, dim=None, keepdim=False):
    """The lower median (of all elements, or `(values, indices)` along `dim`); NaN if a NaN is present.

    Example:
        >>> descend.tensor([4., 1., 3., 2.]).median()
        tensor(2.)
    """
    return _median(input, dim, keepdim, False, "Median", _Median)


@op("nanmedian")
def nanmedian(input, dim=None, keepdim=False):
    """The lower median ignoring NaN (NaN only where every element is NaN).

    Example:
        >>> descend.tensor([1., float("nan"), 3., 2.]).nanmedian()
        tensor(2.)
    """
    return _median(input, dim, keepdim, True, "Nanmedian", _Nanmedian)


@op("mode")
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along `dim` (the smallest among equally frequent ones) and the index of
    its last occurrence: `(values, indices)`.

    Example:
        >>> descend.tensor([2, 1, 1, 2, 3]).mode()
        mode(values=tensor(1), indices=tensor(2))
    """
    x = _tensor(input)
    X = x._data
    if X.ndim == 0:
        return _Mode(record("ModeBackward0", X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),)),
                     _wrap(np.array(0, np.int64)))
    axis = _axis(dim, X.ndim)
    if X.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    Xm = np.moveaxis(X, axis, -1)
    flat = Xm.reshape(-1, Xm.shape[-1])
    best = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        order = np.argsort(row, kind="stable")
        s = row[order]
        with np.errstate(invalid="ignore"):
            starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
        counts = np.diff(np.append(starts, len(s)))
        g = int(np.argmax(counts))  # the first (smallest) of the most frequent values
        best[r] = order[starts[g] + counts[g] - 1]  # the last occurrence (stable order)
    idx = np.expand_dims(best.reshape(Xm.shape[:-1]), axis)
    return _picked("ModeBackward0", x, idx, axis, keepdim, _Mode)


# --- uniqueness and counting (not differentiable, as in PyTorch) ---


def _unique_groups(X, dim, consecutive):
    """(unique values, inverse, counts) of X (flattened when dim is None) or of its slices along dim."""
    if dim is None:
        flat = X.reshape(-1)
        if consecutive:
            with np.errstate(invalid="ignore"):
                new = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
            starts = np.flatnonzero(new)
            inverse = (np.cumsum(new) - 1).reshape(X.shape)
            return flat[starts], inverse, np.diff(np.append(starts, flat.size))
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        return values, inverse.reshape(X.shape), counts
    axis = _axis(dim, X.ndim)
    moved = np.moveaxis(X, axis, 0)
    rows = moved.reshape(moved.shape[0], -1)
    if consecutive:
        new = np.concatenate([[True], np.any(rows[1:] != rows[:-1], axis=1)])
        new = new[:len(rows)]  # no rows: no groups
        starts = np.flatnonzero(new)
        values, inverse = moved[starts], np.cumsum(new) - 1
        counts = np.diff(np.append(starts, len(rows)))
    else:
        _, first, inverse, counts = np.unique(rows, axis=0, return_index=True, return_inverse=True,
                                              return_counts=True)
        values = moved[first]
        inverse = inverse.reshape(-1)
    return np.moveaxis(values, 0, axis), inverse, counts


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = [_wrap(np.ascontiguousarray(values))]
    if return_inverse:
        out.append(_wrap(np.asarray(inverse, np.int64)))
    if return_counts:
        out.append(_wrap(np.asarray(counts, np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@op("unique")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (or slices along `dim`), sorted; optionally the inverse map and counts.

    `sorted=False` returns them sorted too (PyTorch allows any order there). NaNs are not merged.

    Example:
        >>> descend.unique(descend.tensor([3, 1, 3]), return_counts=True)
        (tensor([1, 3]), tensor([1, 2]))
    """
    X = _tensor(input)._data
    return _unique_result(*_unique_groups(X, dim, False), return_inverse, return_counts)


@op("unique_consecutive")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along `dim`) to one.

    Example:
        >>> descend.unique_consecutive(descend.tensor([1, 1, 2, 1]))
        tensor([1, 2, 1])
    """
    X = _tensor(input)._data
    return _unique_result(*_unique_groups(X, dim, True), return_inverse, return_counts)


@op("bincount")
def bincount(input, weights=None, minlength=0):
    """Count the occurrences of each value of a 1-d non-negative integer tensor (or sum `weights`).

    Returns int64 counts, or sums in the weights' floating dtype (float64 for integer weights).

    Example:
        >>> descend.bincount(descend.tensor([1, 1, 3]))
        tensor([0, 2, 0, 1])
    """
    X = _tensor(input)._data
    if X.dtype.kind not in "iub":
        raise NotImplementedError(f'"bincount_cpu" not implemented for {X.dtype} (integer input required)')
    if X.ndim != 1 or (X.size and X.min() < 0):
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs (got shape {tuple(X.shape)}"
            + (f", minimum {X.min()})" if X.size else ")")
        )
    if int(minlength) < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if weights is None:
        return _wrap(np.bincount(X, minlength=int(minlength)).astype(np.int64))
    W = _tensor(weights)._data
    if W.shape != X.shape:
        raise RuntimeError(
            f"weights should be 1-d and have the same length as input (input {tuple(X.shape)}, "
            f"weights {tuple(W.shape)})"
        )
    dt = W.dtype if W.dtype.kind == "f" else np.dtype(np.float64)
    return _wrap(np.bincount(X, weights=W, minlength=int(minlength)).astype(dt))


@op("histc")
def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of `bins` equal-width bins over [min, max] (the data's range when both are 0).

    Elements outside the range are ignored; the last bin includes `max`.

    Example:
        >>> descend.histc(descend.tensor([1., 2., 1.]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    X = _tensor(input)._data
    if X.dtype.kind != "f":
        raise NotImplementedError(
            f'"histogram_cpu" not implemented for {X.dtype} (a floating tensor is needed)')
    if int(bins) <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    lo, hi = float(min), float(max)
    if lo == hi and X.size:
        lo, hi = float(X.min()), float(X.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: min must be <= max, but got min {lo} max {hi}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    counts, _ = np.histogram(X.reshape(-1), bins=int(bins), range=(lo, hi))
    return _wrap(counts.astype(X.dtype))


@op("searchsorted", method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where `input` would be inserted in the innermost dim of `sorted_sequence` to keep it sorted.

    Args:
        sorted_sequence: 1-d, or with the same leading dims as `input` (one sequence per row).
        input: a tensor or a Python number.
        right / side: `right=True` or `side="right"` gives the index after equal elements.
        sorter: indices that sort an unsorted `sorted_sequence` along its last dim.

    Example:
        >>> descend.searchsorted(descend.tensor([1, 3, 5, 7]), descend.tensor([3, 6, 9]))
        tensor([1, 3, 4])
    """
    S = _tensor(sorted_sequence)._data
    scalar = not isinstance(input, Tensor) and np.ndim(input) == 0
    V = np.asarray(input) if scalar else _tensor(input)._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, "
                "got side of left while right was True"
            )
        right = side == "right"
    if S.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension")
    if sorter is not None:
        order = _tensor(sorter)._data
        if order.shape != S.shape:
            raise RuntimeError(
                f"torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                f"tensor {tuple(S.shape)} and got sorter tensor {tuple(order.shape)}"
            )
        S = np.take_along_axis(S, order.astype(np.int64), axis=-1)
    how = "right" if right else "left"
    if S.ndim == 1:
        out = np.searchsorted(S, V, side=how)
    else:
        if scalar or S.shape[:-1] != V.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, "
                "but we got boundaries tensor "
                f"{list(S.shape)} and input value tensor {list(V.shape)}"
            )
        s2, v2 = S.reshape(-1, S.shape[-1]), V.reshape(-1, V.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(s2, v2)]).reshape(V.shape)
    return _wrap(np.asarray(out, np.int32 if out_int32 else np.int64))


@op("bucketize")
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of `input` given 1-d increasing `boundaries`.

    With `right=False`, boundaries[i-1] < x <= boundaries[i]; with `right=True`,
    boundaries[i-1] <= x < boundaries[i].

    Example:
        >>> descend.bucketize(descend.tensor([3, 6, 9]), descend.tensor([1, 3, 5, 7]))
        tensor([1, 3, 4])
    """
    B = _tensor(boundaries)._data
    if B.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({B.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# --- grids ---


@op("meshgrid", method=False)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-d tensors: `indexing="ij"` (matrix, the default) or `"xy"` (Cartesian).

    Each output is an expanded view of its input, so gradients flow back to it.

    Example:
        >>> xs, ys = descend.meshgrid(descend.tensor([1, 2]), descend.tensor([3, 4, 5]), indexing="ij")
        >>> xs.shape
        (2, 3)
    """
    from .shape import expand, reshape

    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning, stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    ts = [_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {tuple(t.shape)}")
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype, "
                           f"but got {[str(t.dtype) for t in ts]}")
    sizes = [int(np.prod(t.shape)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(ts):
        pos = {0: 1, 1: 0}.get(i, i) if swap else i
        shape = [1] * len(ts)
        shape[pos] = sizes[pos]
        out.append(expand(reshape(t, *shape), *sizes))
    return tuple(out)


@op("cartesian_prod", method=False)
def cartesian_prod(*tensors):
    """All combinations of the elements of 1-d tensors, one per row (a 1-d input is returned as is).

    Example:
        >>> descend.cartesian_prod(descend.tensor([1, 2]), descend.tensor([3, 4])).tolist()
        [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    from .shape import reshape, stack

    for t in tensors:
        if _tensor(t).ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {tuple(_tensor(t).shape)}")
    if len(tensors) == 1:
        return _tensor(tensors[0])
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)
