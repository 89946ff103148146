"""Indexing: x[index] and its in-graph assignment."""

from __future__ import annotations

import numpy as np

from ..autograd import record, unbroadcast
from ._core import _index, _is_basic, _operand

# --- indexing ---


def getitem(x, index):
    """x[index]: basic slicing, integer arrays and boolean masks; the gradient scatter-adds back."""
    X = x._data
    if type(index) is int and X.ndim:  # the common `a, b, c = params`: one element of the first dim
        return _select(x, X, index)
    idx = _index(index)
    try:
        out = X[idx]
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(X.shape)})") from None
    shape, dtype = X.shape, X.dtype
    if _is_basic(idx):
        name = "SelectBackward0" if isinstance(idx, (int, np.integer)) else "SliceBackward0"

        def vjp(g):
            grad = np.zeros(shape, dtype=dtype)
            grad[idx] = g
            return grad
    else:
        name = "IndexBackward0"

        def vjp(g):
            grad = np.zeros(shape, dtype=dtype)
            np.add.at(grad, idx, g)  # repeated indices accumulate
            return grad

    if type(out) is not np.ndarray:
        out = np.asarray(out)
    return record(name, out, (x,), (vjp,))


def _select(x, X, i):
    n = X.shape[0]
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for dimension 0 with size {n}")
    shape, dtype = X.shape, X.dtype

    def vjp(g):
        grad = np.zeros(shape, dtype=dtype)
        grad[i] = g
        return grad

    return record("SelectBackward0", X[i, ...], (x,), (vjp,))


def index_put(x, index, value):
    """A copy of x with x[index] = value, differentiable in both (backs `x[index] = value` in a graph)."""
    idx = _index(index)
    tv, V = _operand(value)
    out = x._data.copy()
    out[idx] = V

    def vjp_x(g):
        grad = g.copy()
        grad[idx] = 0
        return grad

    parents, vjps = (x,), (vjp_x,)
    if tv is not None:
        vshape = np.shape(V)
        parents, vjps = (x, tv), (vjp_x, lambda g: unbroadcast(g[idx], vshape))
    return record("IndexPutBackward0", out, parents, vjps)
