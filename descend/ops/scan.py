"""Scans along one dim: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import record
from ..tensor import _wrap
from ._core import _dims, _tensor, float_dtype_of, op
from .reductions import _no_grad_of_int


def _axis(dim, ndim):
    """One dim as a non-negative axis (a zero-dim tensor accepts 0 and -1, as in PyTorch)."""
    if dim is None:
        raise TypeError("missing the required argument 'dim' (the dimension to scan along)")
    (axis,) = _dims(int(dim), ndim) or (0,)
    return axis


def _rev_cumsum(g, axis):
    """sum_{j >= i} g_j along `axis`: the adjoint of a cumulative sum."""
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _scan_dtype(X, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.int64) if X.dtype.kind in "biu" else X.dtype


@op("cumsum")
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along `dim`; integer and bool inputs give int64 (unless `dtype` says otherwise).

    Example:
        >>> descend.tensor([1, 2, 3]).cumsum(0)
        tensor([1, 3, 6])
    """
    x = _tensor(input)
    X = x._data
    axis = _axis(dim, X.ndim)
    dt = _scan_dtype(X, dtype)
    out = np.cumsum(X, axis=axis, dtype=dt) if X.ndim else X.astype(dt, copy=True)
    in_dt = X.dtype
    if X.ndim == 0:
        return record("CumsumBackward0", out, (x,), (lambda g: np.asarray(g).astype(in_dt),))
    return record("CumsumBackward0", out, (x,), (lambda g: _rev_cumsum(g, axis).astype(in_dt, copy=False),))


def _cumprod_grad(X, out, g, axis):
    """The gradient of cumprod, exact when the input has zeros (no division by a zero element).

    grad_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k. Before a slice's first zero z this is
    rev_cumsum(g * out)_i / x_i; after it, 0; at z, prod_{k < z} x_k * sum_{j >= z} g_j prod_{z < k <= j} x_k.
    """
    zero = X == 0
    if not np.any(zero):
        with np.errstate(invalid="ignore", divide="ignore"):
            return _rev_cumsum(g * out, axis) / X
    Xm, gm, om = np.moveaxis(X, axis, -1), np.moveaxis(g, axis, -1), np.moveaxis(out, axis, -1)
    zm = np.moveaxis(zero, axis, -1)
    n = Xm.shape[-1]
    pos = np.arange(n)
    z = np.where(zm.any(-1), np.argmax(zm, -1), n)[..., None]  # first zero per slice (n: none)
    with np.errstate(invalid="ignore", divide="ignore"):
        before = _rev_cumsum(gm * om, -1) / np.where(pos < z, Xm, 1)
    ones = np.ones(Xm.shape[:-1] + (1,), Xm.dtype)
    left = np.cumprod(np.concatenate([ones, Xm[..., :-1]], -1), -1)  # prod_{k < i} x_k
    tail = np.cumprod(np.where(pos > z, Xm, 1), -1)  # prod_{z < k <= j} x_k for j >= z
    at_zero = np.take_along_axis(left, np.minimum(z, n - 1), -1)[..., 0] * np.sum(
        np.where(pos >= z, gm * tail, 0), -1)
    grad = np.where(pos < z, before, np.where(pos == z, at_zero[..., None], 0))
    return np.moveaxis(grad, -1, axis)


@op("cumprod")
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along `dim`; the gradient is exact with zeros in the input.

    Example:
        >>> descend.tensor([1., 2., 3.]).cumprod(0)
        tensor([1., 2., 6.])
    """
    x = _tensor(input)
    _no_grad_of_int(x, dtype)  # PyTorch: an integer dtype= of a tensor that requires grad is refused
    X = x._data
    axis = _axis(dim, X.ndim)
    dt = _scan_dtype(X, dtype)
    out = np.cumprod(X, axis=axis, dtype=dt) if X.ndim else X.astype(dt, copy=True)
    if X.ndim == 0:
        return record("CumprodBackward0", out, (x,), (lambda g: np.asarray(g).astype(X.dtype),))
    return record("CumprodBackward0", out, (x,),
                  (lambda g: _cumprod_grad(X, out, g, axis).astype(X.dtype, copy=False),), saved=(x,))


_Cummax = namedtuple("cummax", ["values", "indices"])
_Cummin = namedtuple("cummin", ["values", "indices"])


def _cum_extreme(input, dim, better, name, kind):
    """cummax/cummin: the running extreme and the index of its latest occurrence (a NaN sticks)."""
    x = _tensor(input)
    X = x._data
    axis = _axis(dim, X.ndim)
    if X.ndim == 0:
        values = record(f"{name}Backward0", X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),))
        return kind(values, _wrap(np.array(0, dtype=np.int64)))
    Xm = np.moveaxis(X, axis, -1)
    vals = np.empty_like(Xm)
    idx = np.empty(Xm.shape, dtype=np.int64)
    if Xm.shape[-1]:
        cur, cur_i = Xm[..., 0].copy(), np.zeros(Xm.shape[:-1], np.int64)
        floating = X.dtype.kind == "f"
        for i in range(Xm.shape[-1]):
            v = Xm[..., i]
            # PyTorch's rule: take the new element when it is at least as good (ties go to the latest
            # index), or when it is NaN; once a NaN is taken, only a later NaN replaces it.
            with np.errstate(invalid="ignore"):
                take = better(v, cur)
            if floating:
                take = np.where(np.isnan(cur), np.isnan(v), take | np.isnan(v))
            cur = np.where(take, v, cur)
            cur_i = np.where(take, i, cur_i)
            vals[..., i], idx[..., i] = cur, cur_i
    vals, idx = np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)
    shape = X.shape

    def vjp(g):  # the gradient goes to the selected elements, summed where one is selected repeatedly
        grad = np.zeros(shape, dtype=np.result_type(g, X.dtype))
        gm, im = np.moveaxis(grad, axis, -1), np.moveaxis(idx, axis, -1)
        lead = np.indices(im.shape[:-1])
        for i in range(im.shape[-1]):
            np.add.at(gm, (*lead, im[..., i]), np.moveaxis(g, axis, -1)[..., i])
        return grad

    return kind(record(f"{name}Backward0", vals, (x,), (vjp,)), _wrap(idx))


@op("cummax")
def cummax(input, dim):
    """Running maximum along `dim`: `(values, indices)`; ties take the latest index, NaN propagates.

    Example:
        >>> descend.tensor([1., 3., 2.]).cummax(0).indices
        tensor([0, 1, 1])
    """
    return _cum_extreme(input, dim, np.greater_equal, "Cummax", _Cummax)


@op("cummin")
def cummin(input, dim):
    """Running minimum along `dim`: `(values, indices)`; ties take the latest index, NaN propagates.

    Example:
        >>> descend.tensor([3., 1., 2.]).cummin(0).values
        tensor([3., 1., 1.])
    """
    return _cum_extreme(input, dim, np.less_equal, "Cummin", _Cummin)


def _logcumsumexp(X, axis):
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.logaddexp.accumulate(X, axis=axis)


@op("logcumsumexp")
def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along `dim`, computed without overflow.

    Example:
        >>> descend.tensor([0., 0.]).logcumsumexp(0)
        tensor([0.0000, 0.6931])
    """
    x = _tensor(input)
    X = x._data
    if X.dtype.kind != "f":
        X = X.astype(float_dtype_of(X.dtype))
    axis = _axis(dim, X.ndim)
    if X.ndim == 0:
        return record("LogcumsumexpBackward0", X.copy(), (x,), (lambda g: np.asarray(g).astype(X.dtype),))
    out = _logcumsumexp(X, axis) if X.shape[axis] else X.copy()

    def vjp(g):
        # sum_{j >= i} g_j exp(x_i - out_j), split by the sign of g so it stays in log space
        # (TensorFlow's formulation, which PyTorch uses too).
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pos = np.where(g > 0, np.log(np.where(g > 0, g, 1)), -np.inf)
            neg = np.where(g < 0, np.log(np.where(g < 0, -g, 1)), -np.inf)

            def rev(a):
                return np.flip(_logcumsumexp(np.flip(a, axis), axis), axis)

            return (np.exp(rev(pos - out) + X) - np.exp(rev(neg - out) + X)).astype(X.dtype, copy=False)

    return record("LogcumsumexpBackward0", out, (x,), (vjp,), saved=(x,), save_output=True)


@op("diff")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`, after joining `prepend`/`append` on that dim.

    Example:
        >>> descend.diff(descend.tensor([1, 3, 6, 10]))
        tensor([2, 3, 4])
    """
    from .shape import cat, narrow

    x = _tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if int(n) < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = _axis(dim, x.ndim)
    parts = [_tensor(p) for p in (prepend,) if p is not None] + [x]
    parts += [_tensor(p) for p in (append,) if p is not None]
    for p in parts:
        if p.ndim != x.ndim:
            raise RuntimeError(
                "diff expects prepend or append to be the same dimension as input "
                f"(got {p.ndim} and {x.ndim})"
            )
    y = cat(parts, axis) if len(parts) > 1 else x
    for _ in range(int(n)):
        m = y.shape[axis]
        if m == 0:
            break
        a, b = narrow(y, axis, 1, m - 1), narrow(y, axis, 0, m - 1)
        y = (a ^ b) if y.dtype == np.bool_ else a - b
    return y
