"""Reductions: sum, mean, max/min, var/std, norms, logsumexp and softmax."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from ..autograd import _GradMode, record
from ..tensor import Tensor, _wrap
from ._core import _dims, _kept_shape, _spread, _tensor, float_dtype_of, op
from .elementwise import maximum, minimum

# --- reductions ---

# PyTorch's C++ names of the dtypes, as its messages spell them
TORCH_NAMES = {
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
    "float16": "Half", "float32": "Float", "float64": "Double",
}


def _no_grad_of_int(x, dtype):
    """PyTorch refuses an integer `dtype=` for a reduction of a tensor that requires grad."""
    if dtype is not None and np.dtype(dtype).kind != "f" and x._requires_grad and _GradMode.enabled:
        raise RuntimeError(f"Autograd not support dtype: {TORCH_NAMES.get(np.dtype(dtype).name)}")


def _axes(dim, ndim):
    """Reduction axes: None for all dims (also for PyTorch's `dim=()` / `dim=[]`, which mean all)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    return _dims(dim, ndim)


@op("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over `dim` (an int or tuple; all dims when None or empty); integer sums are int64."""
    x = _tensor(input)
    X = x._data
    axes = _axes(dim, X.ndim)
    _no_grad_of_int(x, dtype)
    if dtype is None and X.dtype.kind in "biu":
        dtype = np.int64  # integer and bool sums are int64, as in PyTorch
    out = np.add.reduce(X, axis=axes, keepdims=keepdim, dtype=dtype)
    shape, kept = X.shape, _kept_shape(X.shape, axes)
    name = "SumBackward0" if dim is None else "SumBackward1"
    return record(name, out, (x,), (lambda g: _spread(g, shape, kept),))


@op("nansum")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as 0 (their gradient is 0)."""
    X = input._data
    mask = np.isnan(X)
    from .indexing import masked_fill

    return sum(masked_fill(input, _wrap(mask), 0), dim, keepdim, dtype=dtype)


@op("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim` (all dims when None); floating tensors only, as in PyTorch."""
    x = _tensor(input)
    X = x._data
    if X.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {str(X.dtype).capitalize()} (use .float() first)"
        )
    if dtype is not None:
        if np.dtype(dtype).kind != "f":
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a floating point or "
                f"complex dtype. Got: {TORCH_NAMES.get(np.dtype(dtype).name)}"
            )
        X = X.astype(dtype)
    axes = None if dim is None else _axes(dim, X.ndim)
    shape, kept = X.shape, _kept_shape(X.shape, axes)
    n = X.size if axes is None else math.prod(shape[i] for i in axes)
    # NOTE: np.add.reduce / n rather than X.mean(): the same numbers, without NumPy's Python-level wrapper.
    if n:
        out = np.add.reduce(X, axes, None, None, keepdim) / n
    else:  # the mean of nothing is NaN, as in PyTorch
        out = np.full(np.add.reduce(X, axes, None, None, keepdim).shape, np.nan, X.dtype)
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return record(name, out, (x,), (lambda g: _spread(g / n, shape, kept),))


@op("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over `dim` (one int, or all elements); the gradient is right with zeros in the input."""
    x = _tensor(input)
    X = x._data
    _no_grad_of_int(x, dtype)
    if dtype is None and X.dtype.kind in "biu":
        dtype = np.int64
    axes = None if dim is None else _dims(dim, X.ndim)
    out = np.multiply.reduce(X, axis=axes, keepdims=keepdim, dtype=dtype)
    kept = _kept_shape(X.shape, axes)
    ax = tuple(range(X.ndim)) if axes is None else axes
    out_kept = np.reshape(out, kept)

    def vjp(g):
        if X.size == 0:  # nothing to differentiate (an empty product is 1, a constant)
            return np.zeros(X.shape, np.result_type(g.dtype, X.dtype))
        g = np.reshape(g, kept)
        if not (X == 0).any():  # PyTorch's formula without zeros, result / x (so NaN and inf propagate)
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * out_kept / X
        # product of the others, without dividing by a possibly-zero element: exclusive cumprods
        moved = np.moveaxis(X, ax, tuple(range(-len(ax), 0))).reshape(
            tuple(n for i, n in enumerate(X.shape) if i not in ax) + (-1,)
        )
        ones = np.ones(moved.shape[:-1] + (1,), X.dtype)
        left = np.cumprod(np.concatenate([ones, moved[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], -1), -1), -1)
        others = (left * right).reshape(
            tuple(n for i, n in enumerate(X.shape) if i not in ax) + tuple(X.shape[i] for i in ax)
        )
        others = np.moveaxis(others, tuple(range(-len(ax), 0)), ax)
        return g * others

    name = "ProdBackward0" if dim is None else "ProdBackward1"
    return record(name, out, (x,), (vjp,), saved=(x,), save_output=True)


_MinMax = namedtuple("return_types", ["values", "indices"])


def _evenly(X, out_kept, g_kept, axes, nan_share=True):
    """Ties share the gradient evenly. With `nan_share` (max()/min() of everything, PyTorch's
    evenly_distribute_backward) a NaN result's gradient goes to the NaNs; without it (amax/amin with
    dims) a NaN result has no equal element, so, as in PyTorch, its slice's gradient is NaN."""
    with np.errstate(invalid="ignore"):
        mask = np.where(np.isnan(out_kept), np.isnan(X), X == out_kept) if nan_share else X == out_kept
    count = mask.sum(axis=axes, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        if nan_share:
            return np.where(mask, g_kept / np.maximum(count, 1), 0)
        return mask * (g_kept / count)


def _reduce_extreme(x, axes, keepdim, ufunc, name, nan_share=True):
    """amax/amin (and max()/min() without dim): the gradient is shared evenly among tied extremes."""
    X = x._data
    if X.size == 0 and axes is None:  # PyTorch: a RuntimeError without a dim, an IndexError with one
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
            "dim with the 'dim' argument."
        )
    if X.size == 0 and builtins.any(X.shape[a] == 0 for a in axes):
        raise IndexError(f"{name}(): Expected reduction dim {axes[0]} to have non-zero size.")
    out = ufunc.reduce(X, axis=axes, keepdims=keepdim) if X.ndim else X.copy()
    if X.dtype.kind == "f" and X.size:
        nan = np.isnan(X).any(axis=axes, keepdims=keepdim)
        if np.any(nan):
            out = np.where(nan, np.nan, out)
    kept = _kept_shape(X.shape, axes)
    out_kept = np.reshape(out, kept)
    return out, lambda g: _evenly(X, out_kept, np.reshape(g, kept), axes, nan_share)


def _extreme(x, dim, keepdim, ufunc, arg, name):
    x = _tensor(x)
    X = x._data
    if dim is None:
        out, vjp = _reduce_extreme(x, None, False, ufunc, name)
        return record(f"{name.capitalize()}Backward1", out, (x,), (vjp,), saved=(x,), save_output=True)
    if isinstance(dim, Tensor):  # x.max(other) means maximum(x, other)
        return (maximum if name == "max" else minimum)(x, dim)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    (axis,) = _dims(dim, X.ndim) or (0,)
    if X.ndim == 0:
        return _MinMax(
            record(f"{name.capitalize()}Backward0", X.copy(), (x,), (lambda g: g,)), _wrap(np.array(0))
        )
    if X.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    idx = np.expand_dims(_nan_arg(X, axis, arg), axis)
    values = np.take_along_axis(X, idx, axis=axis)
    shape = X.shape

    def vjp(g):  # max(dim) sends the gradient to the returned index only, as PyTorch's
        grad = np.zeros(shape, dtype=np.result_type(g, X.dtype))
        np.put_along_axis(grad, idx, g if keepdim else np.expand_dims(g, axis), axis=axis)
        return grad

    indices = idx if keepdim else np.squeeze(idx, axis)
    if not keepdim:
        values = np.squeeze(values, axis)
    out = record(f"{name.capitalize()}Backward0", values, (x,), (vjp,))
    return _MinMax(out, _wrap(indices.astype(np.int64)))


def _nan_arg(X, axis, arg):
    """argmax/argmin that, like PyTorch, picks the first NaN when a slice has one."""
    i = arg(X, axis=axis)
    if X.dtype.kind == "f":
        nan = np.isnan(X)
        if nan.any():
            i = np.where(nan.any(axis=axis), np.argmax(nan, axis=axis), i)
    return i


@op("max")
def max(input, dim=None, keepdim=False):  # noqa: A001
    """The largest element, or `(values, indices)` along `dim`, or `maximum(input, other)`."""
    return _extreme(input, dim, keepdim, np.maximum, np.argmax, "max")


@op("min")
def min(input, dim=None, keepdim=False):  # noqa: A001
    """The smallest element, or `(values, indices)` along `dim`, or `minimum(input, other)`."""
    return _extreme(input, dim, keepdim, np.minimum, np.argmin, "min")


@op("amax")
def amax(input, dim=(), keepdim=False):
    """The maximum over `dim` (an int or tuple; all when empty); ties share the gradient evenly."""
    x = _tensor(input)
    out, vjp = _reduce_extreme(x, _axes(dim, x.ndim), keepdim, np.maximum, "amax", nan_share=False)
    return record("AmaxBackward0", out, (x,), (vjp,), saved=(x,), save_output=True)


@op("amin")
def amin(input, dim=(), keepdim=False):
    """The minimum over `dim` (an int or tuple; all when empty); ties share the gradient evenly."""
    x = _tensor(input)
    out, vjp = _reduce_extreme(x, _axes(dim, x.ndim), keepdim, np.minimum, "amin", nan_share=False)
    return record("AminBackward0", out, (x,), (vjp,), saved=(x,), save_output=True)


@op("aminmax")
def aminmax(input, *, dim=None, keepdim=False):
    return namedtuple("return_types", ["min", "max"])(
        amin(input, () if dim is None else dim, keepdim), amax(input, () if dim is None else dim, keepdim)
    )


def _arg_extreme(input, dim, keepdim, pick, name):
    """argmax/argmin: the index of the extreme (of the flattened tensor when dim is None)."""
    X = _tensor(input)._data
    if X.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if X.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = np.asarray(_nan_arg(X.reshape(-1), 0, pick), dtype=np.int64)
        return _wrap(out.reshape((1,) * X.ndim) if keepdim else out)  # keepdim: every dim kept as 1
    if X.ndim == 0:
        _dims(dim, 0)
        return _wrap(np.asarray(0, dtype=np.int64))
    axis = _dims(dim, X.ndim)[0]
    if X.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    out = _nan_arg(X, axis, pick)
    return _wrap(np.asarray(np.expand_dims(out, axis) if keepdim else out, dtype=np.int64))


@op("argmax")
def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when dim is None; the first NaN wins)."""
    return _arg_extreme(input, dim, keepdim, np.argmax, "argmax")


@op("argmin")
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (of the flattened tensor when dim is None; the first NaN wins)."""
    return _arg_extreme(input, dim, keepdim, np.argmin, "argmin")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@op("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; unbiased (correction=1) unless `unbiased=False` or `correction` says otherwise."""
    x = _tensor(input)
    if isinstance(dim, bool):  # var(x, False): the legacy positional `unbiased`
        dim, unbiased = None, dim
    c = _correction(unbiased, correction)
    X = x._data
    if X.dtype.kind != "f":
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {X.dtype}")
    axes = _axes(dim, X.ndim)
    n = X.size if axes is None else int(np.prod([X.shape[a] for a in axes]))
    denom = builtins.max(n - c, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        centred = X - np.add.reduce(X, axes, None, None, True) / builtins.max(n, 1)
        out = np.add.reduce(centred * centred, axes, None, None, keepdim) / denom
    kept = _kept_shape(X.shape, axes)

    def vjp(g):  # PyTorch's var_backward: 2 / (N - c) * g * (x - mean), in one pass
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (2.0 / denom if denom else np.inf) * np.reshape(g, kept) * centred

    name = "VarBackward0"
    return record(name, np.asarray(out, dtype=X.dtype), (x,), (vjp,), saved=(x,))


@op("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation, sqrt(var) with the same correction rules; gradient 0 where it is 0 (PyTorch)."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    V = v._data
    out = np.sqrt(V)

    def vjp(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(out == 0, 0, g / (2 * out))

    return record("StdBackward0", out, (v,), (vjp,), save_output=True)


@op("var_mean")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(
        input, _axes(dim, input.ndim), keepdim
    )


@op("std_mean")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(
        input, _axes(dim, input.ndim), keepdim
    )


@op("norm")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over `dim` (all elements when None), with PyTorch's gradient at 0 (0, not NaN)."""
    x = _tensor(input)
    X = x._data if dtype is None else x._data.astype(dtype)
    if X.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {TORCH_NAMES.get(X.dtype.name, X.dtype.name)}"
        )
    if p is None or p == "fro":
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported for vector norms (use 'fro' or a number)")
    p = float(p)
    axes = _axes(dim, X.ndim)
    kept = _kept_shape(X.shape, axes)
    A = np.abs(X)
    if p == math.inf or p == -math.inf:
        which, why = ("inf" if p > 0 else "-inf"), "the operation does not have an identity"
        if X.size == 0 and axes is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on an empty tensor "
                               f"because {why}")
        for a in axes or ():
            if X.shape[a] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on the dimension {a} "
                                   f"because this dimension is empty and {why}")
        ufunc = np.maximum if p > 0 else np.minimum
        out, even = _reduce_extreme(_wrap(A), axes, keepdim, ufunc, "amax" if p > 0 else "amin")
        sgn = np.where(np.isnan(X), 0, np.sign(X))
        return record("NormBackward1", out, (x,), (lambda g: sgn * even(g),), saved=(x,))
    if p == 0:
        out = np.add.reduce((X != 0).astype(X.dtype), axis=axes, keepdims=keepdim)
        shape = X.shape
        return record("NormBackward1", out, (x,), (lambda g: np.zeros(shape, g.dtype),))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if p == 1:
            out = np.add.reduce(A, axis=axes, keepdims=keepdim)
        elif p == 2:
            out = np.sqrt(np.add.reduce(X * X, axis=axes, keepdims=keepdim))
        else:
            out = np.power(np.add.reduce(np.power(A, p), axis=axes, keepdims=keepdim), 1.0 / p)
    out = np.asarray(out)
    out_kept = out.reshape(kept)

    def vjp(g):
        gk = np.reshape(g, kept)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:  # PyTorch: grad * (x / norm) with x / norm masked to 0 where the norm is 0
                return gk * np.where(out_kept == 0, 0, X / out_kept)
            # PyTorch's formulas (norm_backward), so zeros, infinities and NaNs come out as its do
            sgn = np.where(np.isnan(X), 0, np.sign(X)) if p < 2 else None  # sgn(NaN) is 0 in PyTorch
            if p == 1:
                return sgn * gk
            if p < 1:
                scaled = np.where(X == 0, 0, sgn * np.power(A, p - 1))
                return scaled * gk * np.power(out_kept, 1 - p)
            scaled = sgn * np.power(A, p - 1) if p < 2 else X * np.power(A, p - 2)
            return scaled * np.where(out_kept == 0, 0, gk / np.power(out_kept, p - 1))

    name = "NormBackward1" if dim is not None else "NormBackward0"
    return record(name, out, (x,), (vjp,), saved=(x,), save_output=True)


@op("dist")
def dist(input, other, p=2):
    """The p-norm of input - other."""
    return norm(input - other, p)


@op("count_nonzero")
def count_nonzero(input, dim=None):
    """How many elements are non-zero (along `dim` when given)."""
    X = input._data
    axes = _axes(dim, X.ndim)  # dim=() counts everything, as sum's does
    return _wrap(np.asarray(np.count_nonzero(X, axis=axes), dtype=np.int64))


@op("all")
def all(input, dim=None, keepdim=False):  # noqa: A001
    """Whether every element (along `dim`) is non-zero (uint8 for a uint8 input, as in PyTorch)."""
    return _logical_reduce(_tensor(input)._data, dim, keepdim, np.all)


@op("any")
def any(input, dim=None, keepdim=False):  # noqa: A001
    """Whether some element (along `dim`) is non-zero (uint8 for a uint8 input, as in PyTorch)."""
    return _logical_reduce(_tensor(input)._data, dim, keepdim, np.any)


def _logical_reduce(X, dim, keepdim, fn):
    # PyTorch's all/any reduce nothing for dim=() (each element's truth), unlike sum's dim=()
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        out = X != 0
    else:
        out = fn(X, axis=None if dim is None else _dims(dim, X.ndim), keepdims=keepdim)
    return _wrap(np.asarray(out, dtype=np.uint8 if X.dtype == np.uint8 else np.bool_))


@op("trace")
def trace(input):
    """The sum of a matrix's diagonal."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    X = input._data
    shape = X.shape

    def vjp(g):
        grad = np.zeros(shape, np.asarray(g).dtype)
        np.fill_diagonal(grad, g)
        return grad

    return record("TraceBackward0", np.asarray(np.trace(X)), (input,), (vjp,))


@op("logsumexp")
def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) along `dim` (required, as in PyTorch), stable for large |x| (shifts by the max)."""
    if dim is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    x = _tensor(x)
    X = x._data
    if X.dtype.kind != "f":
        X = X.astype(float_dtype_of(X.dtype))
    axes = _axes(dim, X.ndim) or tuple(range(X.ndim))
    m = np.max(X, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(X - m)
    s = e.sum(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out_k = np.log(s) + m
        soft = e / s
    out = out_k if keepdim else np.squeeze(out_k, axes)
    return record(
        "LogsumexpBackward0", out, (x,), (lambda g: soft * (g if keepdim else np.expand_dims(g, axes)),),
        save_output=True,
    )


@op("softmax")
def softmax(x, dim, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max so it never overflows."""
    x = _tensor(x)
    X = x._data if dtype is None else x._data.astype(dtype)
    if X.dtype.kind != "f":
        X = X.astype(float_dtype_of(X.dtype))
    axis = _softmax_dim(dim, X.ndim)
    e = np.exp(X - X.max(axis=axis, keepdims=True, initial=-np.inf))
    with np.errstate(invalid="ignore"):
        out = e / e.sum(axis=axis, keepdims=True)
    return record(
        "SoftmaxBackward0",
        out,
        (x,),
        (lambda g: out * (g - (g * out).sum(axis=axis, keepdims=True)),),
        save_output=True,
    )


@op("log_softmax")
def log_softmax(x, dim, dtype=None):
    """x - logsumexp(x) along `dim`: log-probabilities without forming log(softmax)."""
    x = _tensor(x)
    X = x._data if dtype is None else x._data.astype(dtype)
    if X.dtype.kind != "f":
        X = X.astype(float_dtype_of(X.dtype))
    axis = _softmax_dim(dim, X.ndim)
    shifted = X - X.max(axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return record(
        "LogSoftmaxBackward0",
        out,
        (x,),
        (lambda g: g - np.exp(out) * g.sum(axis=axis, keepdims=True),),
        save_output=True,
    )


def _softmax_dim(dim, ndim):
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim' (the dimension that sums to 1)")
    return _dims(dim, ndim)[0] if ndim else None
