"""Reductions: sum, mean, max/min, var/std, norms, logsumexp and softmax."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from ..autograd import record
from ..tensor import Tensor, _wrap
from ._core import _dims, _kept_shape, _spread, _tensor, op
from .arithmetic import pow
from .elementwise import abs, maximum, minimum, sqrt

# --- reductions ---


@op("sum")
def sum(x, dim=None, keepdim=False, dtype=None):  # noqa: A001
    """Sum over `dim` (an int or tuple; all dims when None)."""
    x = _tensor(x)
    X = x._data
    axes = _dims(dim, X.ndim)
    if dtype is None and X.dtype.kind in "biu":
        dtype = np.int64  # integer and bool sums are int64, as in PyTorch
    out = np.add.reduce(X, axis=axes, keepdims=keepdim, dtype=dtype)
    shape, kept = X.shape, _kept_shape(X.shape, axes)
    name = "SumBackward0" if dim is None else "SumBackward1"
    return record(name, out, (x,), (lambda g: _spread(np.asarray(g), shape, kept),))


@op("mean")
def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over `dim` (all dims when None); floating tensors only, as in PyTorch."""
    x = _tensor(x)
    X = x._data
    if X.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got {X.dtype}; "
            "use .float() first"
        )
    axes = _dims(dim, X.ndim)
    shape, kept = X.shape, _kept_shape(X.shape, axes)
    n = X.size if axes is None else math.prod(shape[i] for i in axes)
    # NOTE: np.add.reduce / n rather than X.mean(): the same numbers, without NumPy's Python-level wrapper.
    out = np.add.reduce(X, axes, dtype, None, keepdim) / n
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return record(name, out, (x,), (lambda g: _spread(np.asarray(g) / n, shape, kept),))


_MinMax = namedtuple("return_types", ["values", "indices"])


def _extreme(x, dim, keepdim, pick, arg, name):
    x = _tensor(x)
    X = x._data
    if X.size == 0:
        raise RuntimeError(f"{name}(): expected a non-empty tensor")
    if dim is None:
        out = pick(X)

        def vjp_all(g):
            mask = X == out
            return mask * (g / mask.sum())  # ties share the gradient evenly, as PyTorch's max()

        return record(f"{name.capitalize()}Backward1", out, (x,), (vjp_all,), saved=(x,))
    if not isinstance(dim, (int, np.integer)):
        if isinstance(dim, Tensor):  # x.max(other) means maximum(x, other)
            return (maximum if name == "max" else minimum)(x, dim)
        raise TypeError(f"{name}(): dim must be an int, got {type(dim).__name__}")
    (axis,) = _dims(dim, X.ndim) or (0,)
    if X.ndim == 0:
        return _MinMax(
            record(f"{name.capitalize()}Backward0", X.copy(), (x,), (lambda g: g,)), _wrap(np.array(0))
        )
    idx = np.expand_dims(arg(X, axis=axis), axis)
    values = np.take_along_axis(X, idx, axis=axis)

    def vjp(g):
        grad = np.zeros(X.shape, dtype=np.result_type(g, X.dtype))
        np.put_along_axis(grad, idx, g if keepdim else np.expand_dims(g, axis), axis=axis)
        return grad

    indices = idx if keepdim else np.squeeze(idx, axis)
    if not keepdim:
        values = np.squeeze(values, axis)
    out = record(f"{name.capitalize()}Backward0", values, (x,), (vjp,))
    return _MinMax(out, _wrap(indices.astype(np.int64)))


@op("max")
def max(x, dim=None, keepdim=False):  # noqa: A001
    """The largest element, or `(values, indices)` along `dim`, or `maximum(x, other)`."""
    return _extreme(x, dim, keepdim, np.max, np.argmax, "max")


@op("min")
def min(x, dim=None, keepdim=False):  # noqa: A001
    """The smallest element, or `(values, indices)` along `dim`, or `minimum(x, other)`."""
    return _extreme(x, dim, keepdim, np.min, np.argmin, "min")


@op("amax")
def amax(x, dim=None, keepdim=False):
    return max(x, dim, keepdim) if dim is None else max(x, dim, keepdim).values


@op("amin")
def amin(x, dim=None, keepdim=False):
    return min(x, dim, keepdim) if dim is None else min(x, dim, keepdim).values


@op("argmax")
def argmax(x, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when dim is None)."""
    X = _tensor(x)._data
    if dim is None:
        return _wrap(np.asarray(np.argmax(X), dtype=np.int64))
    return _wrap(np.argmax(X, axis=_dims(dim, X.ndim)[0], keepdims=keepdim).astype(np.int64))


@op("argmin")
def argmin(x, dim=None, keepdim=False):
    X = _tensor(x)._data
    if dim is None:
        return _wrap(np.asarray(np.argmin(X), dtype=np.int64))
    return _wrap(np.argmin(X, axis=_dims(dim, X.ndim)[0], keepdims=keepdim).astype(np.int64))


@op("var")
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; unbiased (correction=1) unless `unbiased=False` or `correction` says otherwise."""
    x = _tensor(x)
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axes = _dims(dim, x.ndim)
    n = x.numel() if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centred = x - mean(x, dim=axes, keepdim=True)
    return sum(centred * centred, dim=axes, keepdim=keepdim) / builtins.max(n - c, 0)


@op("std")
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation, sqrt(var) with the same correction rules."""
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


@op("norm")
def norm(x, p="fro", dim=None, keepdim=False):
    """Vector p-norm over `dim` (all elements when None); the 2-norm has gradient 0 at the origin."""
    x = _tensor(x)
    if p in ("fro", 2, 2.0):
        X = x._data
        axes = _dims(dim, X.ndim)
        out = np.sqrt(np.sum(X * X, axis=axes, keepdims=keepdim))
        shape = X.shape

        def vjp(g):
            o = out if keepdim or axes is None else np.expand_dims(out, axes)
            gg = g if keepdim or axes is None else np.expand_dims(g, axes)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(o == 0, 0, gg / np.where(o == 0, 1, o))
            return np.broadcast_to(scale, shape) * X

        return record("NormBackward1", out, (x,), (vjp,), saved=(x,))
    if p in (float("inf"), "inf"):
        a = abs(x)
        return a.max() if dim is None else a.max(dim, keepdim).values
    return pow(sum(pow(abs(x), p), dim=dim, keepdim=keepdim), 1.0 / p)


@op("logsumexp")
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) along `dim`, stable for large |x| (shifts by the max)."""
    x = _tensor(x)
    X = x._data
    axes = _dims(dim, X.ndim)
    m = np.max(X, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(X - m)
    s = e.sum(axis=axes, keepdims=True)
    out_k = np.log(s) + m
    out = out_k if keepdim else np.squeeze(out_k, axes)
    soft = e / s
    return record(
        "LogsumexpBackward0", out, (x,), (lambda g: soft * (g if keepdim else np.expand_dims(g, axes)),)
    )


@op("softmax")
def softmax(x, dim, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max so it never overflows."""
    x = _tensor(x)
    X = x._data if dtype is None else x._data.astype(dtype)
    axis = _softmax_dim(dim, X.ndim)
    e = np.exp(X - X.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return record(
        "SoftmaxBackward0", out, (x,), (lambda g: out * (g - (g * out).sum(axis=axis, keepdims=True)),)
    )


@op("log_softmax")
def log_softmax(x, dim, dtype=None):
    """x - logsumexp(x) along `dim`: log-probabilities without forming log(softmax)."""
    x = _tensor(x)
    X = x._data if dtype is None else x._data.astype(dtype)
    axis = _softmax_dim(dim, X.ndim)
    shifted = X - X.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return record(
        "LogSoftmaxBackward0", out, (x,), (lambda g: g - np.exp(out) * g.sum(axis=axis, keepdims=True),)
    )


def _softmax_dim(dim, ndim):
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim' (the dimension that sums to 1)")
    return _dims(dim, ndim)[0] if ndim else None
