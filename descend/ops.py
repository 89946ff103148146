"""Every differentiable primitive: the forward in NumPy and its vector-Jacobian products, side by side.

Each function computes its result and hands `record` one VJP per input. A VJP maps the gradient of
the output, `g`, to the gradient of that input; binary ops pass it through `unbroadcast`, the one
place where broadcast gradients are summed back to an input's shape. VJPs never modify `g` in place.
Adding a primitive is one block here; composites (var, std, flatten, ...) have no backward of their own.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections import namedtuple

import numpy as np

from .autograd import _GradMode, attach, record, unbroadcast
from .tensor import Tensor, _wrap, as_tensor, float32, float64

_NUMBER = (int, float)
_F64 = float64

# --- operands ---


def _tensor(x):
    """Any operand as a Tensor: constants become tensors outside the graph (arrays are not copied)."""
    return x if isinstance(x, Tensor) else as_tensor(x)


def _operand(x):
    """(tensor or None, value for NumPy): Python numbers stay weak scalars, as in PyTorch."""
    if isinstance(x, Tensor):
        return x, x._data
    if isinstance(x, np.generic):  # before numbers: np.float64 is a float, but NumPy treats it as strong
        return None, x.item()
    if isinstance(x, _NUMBER):
        return None, x
    t = _tensor(x)
    return t, t._data


def _is_f64(x):
    return isinstance(x, np.ndarray) and x.dtype == _F64


def _float_result(out, a, b):
    """Keep PyTorch's promotion: a Python float or true division never makes float64 from float32/ints."""
    # NOTE: not `getattr(b, "dtype", None) != _F64`: NumPy reads a None dtype as float64.
    if out.dtype == _F64 and not _is_f64(a) and not _is_f64(b):
        return out.astype(float32)
    return out


def _pass(g, A, B, out):
    """The VJP of an input that reaches the output unchanged (either side of +, the left of -)."""
    return g


def _identity(g):
    return g


def _input_vjp(vjp, A, B, out, shape):
    """One input's VJP: the op's formula, summed back to the input's shape when it was broadcast."""
    if shape == out.shape:
        return _identity if vjp is _pass else (lambda g: vjp(g, A, B, out))
    return lambda g: unbroadcast(vjp(g, A, B, out), shape)


def _binary(name, a, b, forward, vjp_a, vjp_b, save_a=False, save_b=False):
    """Shared plumbing of the broadcasting binary ops: operands, dtype, graph, unbroadcast.

    `vjp_a(g, A, B, out)` and `vjp_b(...)` give the gradients before unbroadcasting; `save_a` /
    `save_b` say that a VJP reads that input's data (so in-place changes to it are caught).
    """
    ta, A = (a, a._data) if isinstance(a, Tensor) else _operand(a)
    tb, B = (b, b._data) if isinstance(b, Tensor) else _operand(b)
    try:
        out = forward(A, B)
    except ValueError as e:
        raise RuntimeError(
            f"{name.replace('Backward0', '').lower()}: shapes {tuple(np.shape(A))} and {tuple(np.shape(B))} "
            f"are not broadcastable ({e})"
        ) from None
    if type(out) is not np.ndarray or out.dtype == _F64:
        out = _float_result(np.asarray(out), A, B)
    need_a = ta is not None and ta._requires_grad
    need_b = tb is not None and tb._requires_grad
    if not ((need_a or need_b) and _GradMode.enabled):
        return _wrap(out)
    saved = ()
    if save_a and ta is not None:
        saved = (ta,)
    if save_b and tb is not None:
        saved += (tb,)
    if need_a and need_b:
        return attach(name, out, (ta, tb),
                      (_input_vjp(vjp_a, A, B, out, A.shape), _input_vjp(vjp_b, A, B, out, B.shape)), saved)
    if need_a:
        return attach(name, out, (ta,), (_input_vjp(vjp_a, A, B, out, A.shape),), saved)
    return attach(name, out, (tb,), (_input_vjp(vjp_b, A, B, out, B.shape),), saved)


# --- arithmetic ---


def add(a, b, alpha=1):
    """a + alpha * b, broadcasting like NumPy."""
    if alpha != 1:
        b = mul(b, alpha)
    return _binary("AddBackward0", a, b, operator.add, _pass, _pass)


def sub(a, b, alpha=1):
    """a - alpha * b."""
    if alpha != 1:
        b = mul(b, alpha)
    return _binary("SubBackward0", a, b, operator.sub, _pass, lambda g, A, B, o: -g)


def rsub(a, b):
    """b - a (the reflected operator of `number - tensor`)."""
    return _binary("RsubBackward1", b, a, operator.sub, _pass, lambda g, A, B, o: -g)


def mul(a, b):
    """a * b."""
    return _binary(
        "MulBackward0",
        a,
        b,
        operator.mul,
        lambda g, A, B, o: g * B,
        lambda g, A, B, o: g * A,
        save_a=True,
        save_b=True,
    )


def div(a, b):
    """a / b (true division: integer tensors give float32, as in PyTorch)."""
    return _binary(
        "DivBackward0",
        a,
        b,
        operator.truediv,
        lambda g, A, B, o: g / B,
        lambda g, A, B, o: -g * o / B,
        save_a=True,
        save_b=True,
    )


def rdiv(a, b):
    return div(b, a)


def pow(a, exponent):  # noqa: A001 - PyTorch's name
    """a ** exponent; a Python-number exponent records PowBackward0, a tensor one PowBackward1."""
    if not isinstance(a, Tensor):
        return rpow(exponent, a)
    ta, A = a, a._data
    te, E = _operand(exponent)
    if te is None:
        p = E
        out = A * A if p == 2 else A**p  # NOTE: operators, not np.power: twice as fast on small arrays
        if type(out) is not np.ndarray or out.dtype == _F64:
            out = _float_result(np.asarray(out), A, None)
        if p == 2:
            vjp = lambda g: g * 2 * A
        else:
            vjp = lambda g: g * p * np.power(A, p - 1)
        return record("PowBackward0", out, (ta,), (vjp,), saved=(ta,))
    out = _float_result(np.asarray(np.power(A, E)), A, E)
    sa, se = A.shape, E.shape

    def vjp_exp(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a = np.where(A > 0, np.log(np.where(A > 0, A, 1)), np.where(A == 0, 0.0, np.nan))
        return unbroadcast(g * out * log_a, se)

    return record(
        "PowBackward1",
        out,
        (ta, te),
        (lambda g: unbroadcast(g * E * np.power(A, E - 1), sa), vjp_exp),
        saved=(ta, te),
    )


def rpow(a, base):
    """base ** a for a number `base` (the reflected `2 ** tensor`)."""
    tb, B = _operand(base)
    if tb is not None:
        return pow(tb, a)
    ta = _tensor(a)
    A = ta._data
    out = _float_result(np.asarray(np.power(B, A)), A, None)
    log_b = math.log(B) if B > 0 else float("nan")
    return record("PowBackward2", out, (ta,), (lambda g: g * out * log_b,))


def neg(a):
    """-a."""
    return record("NegBackward0", np.negative(a._data), (a,), (np.negative,))


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D dot, 2-D matrix, N-D batched with broadcast batch dims."""
    a, b = _tensor(a), _tensor(b)
    A, B = a._data, b._data
    if A.ndim == 0 or B.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {A.ndim}D and {B.ndim}D"
        )
    if A.shape[-1] != B.shape[-2 if B.ndim > 1 else 0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(A)} and {_shape_str(B)}): "
            f"{A.shape[-1]} != {B.shape[-2 if B.ndim > 1 else 0]}"
        )
    out = np.matmul(A, B)
    if A.ndim == 2 and B.ndim == 2:
        return record("MmBackward0", out, (a, b), (lambda g: g @ B.T, lambda g: A.T @ g), saved=(a, b))
    if A.ndim == 1 and B.ndim == 1:
        return record("DotBackward0", out, (a, b), (lambda g: g * B, lambda g: g * A), saved=(a, b))
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B

    def as_2d(g):
        if A.ndim == 1:
            g = np.expand_dims(g, -2)
        if B.ndim == 1:
            g = np.expand_dims(g, -1)
        return g

    name = "MvBackward0" if (A.ndim == 2 and B.ndim == 1) else "BmmBackward0"
    return record(
        name,
        out,
        (a, b),
        (
            lambda g: unbroadcast(as_2d(g) @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape),
            lambda g: unbroadcast(np.swapaxes(A2, -1, -2) @ as_2d(g), B2.shape).reshape(B.shape),
        ),
        saved=(a, b),
    )


def _shape_str(arr):
    return "x".join(str(n) for n in arr.shape)


# --- elementwise ---


def exp(x):
    """e ** x; backward reuses the output."""
    out = np.exp(x._data)
    return record("ExpBackward0", out, (x,), (lambda g: g * out,))


def log(x):
    """Natural logarithm."""
    X = x._data
    return record("LogBackward0", np.log(X), (x,), (lambda g: g / X,), saved=(x,))


def log1p(x):
    """log(1 + x), accurate for small x."""
    X = x._data
    return record("Log1PBackward0", np.log1p(X), (x,), (lambda g: g / (1 + X),), saved=(x,))


def sqrt(x):
    out = np.sqrt(x._data)
    return record("SqrtBackward0", out, (x,), (lambda g: g / (2 * out),))


def abs(x):  # noqa: A001 - PyTorch's name
    """|x|; the gradient at 0 is 0, as in PyTorch."""
    X = x._data
    return record("AbsBackward0", np.abs(X), (x,), (lambda g: g * np.sign(X),), saved=(x,))


def sin(x):
    X = x._data
    return record("SinBackward0", np.sin(X), (x,), (lambda g: g * np.cos(X),), saved=(x,))


def cos(x):
    X = x._data
    return record("CosBackward0", np.cos(X), (x,), (lambda g: -g * np.sin(X),), saved=(x,))


def tanh(x):
    out = np.tanh(x._data)
    return record("TanhBackward0", out, (x,), (lambda g: g * (1 - out * out),))


def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    X = x._data
    # NOTE: tanh form is exact and never overflows, unlike 1 / (1 + exp(-x)) for x << 0.
    out = 0.5 * (np.tanh(0.5 * X) + 1)
    out = out.astype(X.dtype, copy=False)
    return record("SigmoidBackward0", out, (x,), (lambda g: g * out * (1 - out),))


def relu(x):
    """max(x, 0); gradient 0 at x = 0, as in PyTorch."""
    out = np.maximum(x._data, 0)
    return record("ReluBackward0", out, (x,), (lambda g: g * (out > 0),))


def erf(x):
    """The error function (for exact GELU).

    NumPy has no erf, so the forward uses Numerical Recipes' Chebyshev fit of erfc (fractional error
    below 1.2e-7, under float32 resolution); the gradient 2/sqrt(pi) exp(-x^2) is exact.
    """
    X = x._data
    out = _erf(X).astype(X.dtype, copy=False)
    return record(
        "ErfBackward0", out, (x,), (lambda g: g * (2 / math.sqrt(math.pi)) * np.exp(-X * X),), saved=(x,)
    )


def _erf(X):
    # Numerical Recipes' erfc approximation (Chebyshev fit), fractional error < 1.2e-7 everywhere.
    z = np.abs(X.astype(np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    return np.sign(X) * (1.0 - erfc)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit x to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    X = x._data
    out = np.clip(X, min, max)

    def vjp(g):
        keep = np.ones(X.shape, dtype=bool)
        if min is not None:
            keep &= X >= min
        if max is not None:
            keep &= X <= max
        return g * keep

    return record("ClampBackward1", out, (x,), (vjp,), saved=(x,))


clip = clamp


def maximum(a, b):
    """Elementwise max; ties split the gradient equally, as in PyTorch."""
    return _binary(
        "MaximumBackward0",
        a,
        b,
        np.maximum,
        lambda g, A, B, o: g * ((A > B) + 0.5 * (A == B)),
        lambda g, A, B, o: g * ((B > A) + 0.5 * (A == B)),
        save_a=True,
        save_b=True,
    )


def minimum(a, b):
    """Elementwise min; ties split the gradient equally."""
    return _binary(
        "MinimumBackward0",
        a,
        b,
        np.minimum,
        lambda g, A, B, o: g * ((A < B) + 0.5 * (A == B)),
        lambda g, A, B, o: g * ((B < A) + 0.5 * (A == B)),
        save_a=True,
        save_b=True,
    )


def where(condition, a, b):
    """a where condition holds, else b (each broadcast); the gradient follows the chosen branch."""
    C = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    return _binary(
        "WhereBackward0",
        a,
        b,
        lambda A, B: np.where(C, A, B),
        lambda g, A, B, o: np.where(C, g, 0),
        lambda g, A, B, o: np.where(C, 0, g),
    )


def _no_grad_unary(fn):
    def op(x):
        return _wrap(np.asarray(fn(_tensor(x)._data)))

    op.__name__ = fn.__name__
    op.__doc__ = f"{fn.__name__}(x): piecewise constant, so outside the graph (its gradient is 0 a.e.)."
    return op


sign = _no_grad_unary(np.sign)
floor = _no_grad_unary(np.floor)
ceil = _no_grad_unary(np.ceil)
round = _no_grad_unary(np.round)  # noqa: A001
isnan = _no_grad_unary(np.isnan)
isinf = _no_grad_unary(np.isinf)
isfinite = _no_grad_unary(np.isfinite)
logical_not = _no_grad_unary(np.logical_not)


# --- comparisons (bool tensors, no gradient) ---


def _compare(ufunc):
    def op(a, b):
        _, A = _operand(a)
        tb, B = _operand(b) if b is not None else (None, None)
        if B is None:
            return NotImplemented
        try:
            return _wrap(np.asarray(ufunc(A, B)))
        except ValueError:
            raise RuntimeError(
                f"{ufunc.__name__}: shapes {tuple(np.shape(A))} and {tuple(np.shape(B))} "
                "are not broadcastable"
            ) from None

    op.__name__ = ufunc.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


bitwise_and = _compare(np.bitwise_and)  # `&` and `|`: on bool tensors, logical and / or
bitwise_or = _compare(np.bitwise_or)


def bitwise_not(a):
    A = _tensor(a)._data
    return _wrap(np.asarray(~A if A.dtype.kind != "b" else np.logical_not(A)))


def equal(a, b) -> bool:
    """True when both tensors have the same shape and elements."""
    A, B = _tensor(a)._data, _tensor(b)._data
    return A.shape == B.shape and bool(np.array_equal(A, B))


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(np.allclose(_tensor(a)._data, _tensor(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return _wrap(np.isclose(_tensor(a)._data, _tensor(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


# --- reductions ---


def _dims(dim, ndim):
    """Normalise dim (int, tuple, list or None) to a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        n = builtins.max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape, axes):
    """The shape of a reduction over `axes` with keepdim=True (all axes when None)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, shape, kept):
    """The gradient of a reduction: `g` (reshaped to the kept-dims shape) copied over the input's shape."""
    grad = np.empty(shape, dtype=g.dtype)
    # NOTE: a fresh array, not np.broadcast_to: that view costs more to make than this copy on small
    # tensors, and a leaf can take a fresh array as its .grad without another copy.
    grad[...] = g.reshape(kept)
    return grad


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


def max(x, dim=None, keepdim=False):  # noqa: A001
    """The largest element, or `(values, indices)` along `dim`, or `maximum(x, other)`."""
    return _extreme(x, dim, keepdim, np.max, np.argmax, "max")


def min(x, dim=None, keepdim=False):  # noqa: A001
    """The smallest element, or `(values, indices)` along `dim`, or `minimum(x, other)`."""
    return _extreme(x, dim, keepdim, np.min, np.argmin, "min")


def amax(x, dim=None, keepdim=False):
    return max(x, dim, keepdim) if dim is None else max(x, dim, keepdim).values


def amin(x, dim=None, keepdim=False):
    return min(x, dim, keepdim) if dim is None else min(x, dim, keepdim).values


def argmax(x, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when dim is None)."""
    X = _tensor(x)._data
    if dim is None:
        return _wrap(np.asarray(np.argmax(X), dtype=np.int64))
    return _wrap(np.argmax(X, axis=_dims(dim, X.ndim)[0], keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim=False):
    X = _tensor(x)._data
    if dim is None:
        return _wrap(np.asarray(np.argmin(X), dtype=np.int64))
    return _wrap(np.argmin(X, axis=_dims(dim, X.ndim)[0], keepdims=keepdim).astype(np.int64))


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance; unbiased (correction=1) unless `unbiased=False` or `correction` says otherwise."""
    x = _tensor(x)
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axes = _dims(dim, x.ndim)
    n = x.numel() if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centred = x - mean(x, dim=axes, keepdim=True)
    return sum(centred * centred, dim=axes, keepdim=keepdim) / builtins.max(n - c, 0)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation, sqrt(var) with the same correction rules."""
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


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


# --- shape ---


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    """The same elements in a new shape (-1 infers one dimension)."""
    X = x._data
    shape = _shape_args(shape)
    try:
        out = X.reshape(shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {X.size}") from None
    old = X.shape
    return record("ViewBackward0", out, (x,), (lambda g: g.reshape(old),))


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    x = _tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dims(start_dim, x.ndim)[0], _dims(end_dim, x.ndim)[0]
    shape = x.shape[:s] + (-1,) + x.shape[e + 1 :]
    return reshape(x, *shape) if s <= e else x


def squeeze(x, dim=None):
    """Remove size-1 dims (only `dim` when given)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = _dims(dim, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, *shape) if shape != x.shape else x


def unsqueeze(x, dim):
    """Insert a size-1 dim at `dim`."""
    d = int(dim)
    if not -(x.ndim + 1) <= d <= x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-(x.ndim + 1)}, {x.ndim}], but got {d})"
        )
    d = d % (x.ndim + 1)
    return reshape(x, *(x.shape[:d] + (1,) + x.shape[d:]))


def transpose(x, dim0, dim1):
    """Swap two dims."""
    d0, d1 = _dims(dim0, x.ndim)[0], _dims(dim1, x.ndim)[0]
    return record(
        "TransposeBackward0", np.swapaxes(x._data, d0, d1), (x,), (lambda g: np.swapaxes(g, d0, d1),)
    )


def t(x):
    """Transpose of a matrix (a vector is returned unchanged)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def permute(x, *dims):
    """Reorder dims."""
    dims = _shape_args(dims)
    if sorted(d % builtins.max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise RuntimeError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}"
        )
    dims = tuple(d % x.ndim for d in dims)
    inverse = tuple(np.argsort(dims))
    return record(
        "PermuteBackward0", np.transpose(x._data, dims), (x,), (lambda g: np.transpose(g, inverse),)
    )


def expand(x, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(x._data, shape)
    except ValueError:
        raise RuntimeError(f"expand: the shape {x.shape} can't be expanded to {shape}") from None
    old = x.shape
    return record("ExpandBackward0", out, (x,), (lambda g: unbroadcast(g, old),))


def expand_as(x, other):
    return expand(x, *other.shape)


def _index(index):
    """Convert tensors in an index to NumPy arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


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


def cat(tensors, dim=0):
    """Join tensors along an existing dim."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    axis = _dims(dim, tensors[0].ndim)[0]
    try:
        out = np.concatenate([t._data for t in tensors], axis=axis)
    except ValueError:
        raise RuntimeError(
            f"cat(): sizes of tensors must match except in dimension {dim}; got shapes "
            f"{[tuple(t.shape) for t in tensors]}"
        ) from None
    bounds = np.cumsum([0] + [t.shape[axis] for t in tensors])
    vjps = tuple(
        (lambda g, lo=lo, hi=hi: np.take(g, np.arange(lo, hi), axis=axis))
        for lo, hi in zip(bounds[:-1], bounds[1:])
    )
    return record("CatBackward0", out, tuple(tensors), vjps)


concatenate = cat
concat = cat


def stack(tensors, dim=0):
    """Join tensors along a new dim."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(
            f"stack expects each tensor to be equal size, but got shapes {[t.shape for t in tensors]}"
        )
    axis = int(dim) % (tensors[0].ndim + 1)
    out = np.stack([t._data for t in tensors], axis=axis)
    vjps = tuple((lambda g, i=i: np.take(g, i, axis=axis)) for i in range(len(tensors)))
    return record("StackBackward0", out, tuple(tensors), vjps)


def to_dtype(x, dtype):
    """A copy of x with another dtype; floating casts stay differentiable."""
    X = x._data
    if X.dtype == dtype:
        return x
    out = X.astype(dtype)
    if out.dtype.kind != "f":
        return _wrap(out)
    src = X.dtype
    return record("ToCopyBackward0", out, (x,), (lambda g: g.astype(src),))


def clone(x):
    """A copy that stays in the graph."""
    return record("CloneBackward0", x._data.copy(), (x,), (lambda g: g,))
