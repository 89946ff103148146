"""Elementwise functions, comparisons and logical ops."""

from __future__ import annotations

import math

import numpy as np

from ..autograd import record
from ..tensor import Tensor, _wrap
from ._core import _binary, _operand, _tensor, op

# --- elementwise ---


@op("exp")
def exp(x):
    """e ** x; backward reuses the output."""
    out = np.exp(x._data)
    return record("ExpBackward0", out, (x,), (lambda g: g * out,))


@op("log")
def log(x):
    """Natural logarithm."""
    X = x._data
    return record("LogBackward0", np.log(X), (x,), (lambda g: g / X,), saved=(x,))


@op("log1p")
def log1p(x):
    """log(1 + x), accurate for small x."""
    X = x._data
    return record("Log1PBackward0", np.log1p(X), (x,), (lambda g: g / (1 + X),), saved=(x,))


@op("sqrt")
def sqrt(x):
    out = np.sqrt(x._data)
    return record("SqrtBackward0", out, (x,), (lambda g: g / (2 * out),))


@op("abs")
def abs(x):  # noqa: A001 - PyTorch's name
    """|x|; the gradient at 0 is 0, as in PyTorch."""
    X = x._data
    return record("AbsBackward0", np.abs(X), (x,), (lambda g: g * np.sign(X),), saved=(x,))


@op("sin")
def sin(x):
    X = x._data
    return record("SinBackward0", np.sin(X), (x,), (lambda g: g * np.cos(X),), saved=(x,))


@op("cos")
def cos(x):
    X = x._data
    return record("CosBackward0", np.cos(X), (x,), (lambda g: -g * np.sin(X),), saved=(x,))


@op("tanh")
def tanh(x):
    out = np.tanh(x._data)
    return record("TanhBackward0", out, (x,), (lambda g: g * (1 - out * out),))


@op("sigmoid")
def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    X = x._data
    # NOTE: tanh form is exact and never overflows, unlike 1 / (1 + exp(-x)) for x << 0.
    out = 0.5 * (np.tanh(0.5 * X) + 1)
    out = out.astype(X.dtype, copy=False)
    return record("SigmoidBackward0", out, (x,), (lambda g: g * out * (1 - out),))


@op("relu")
def relu(x):
    """max(x, 0); gradient 0 at x = 0, as in PyTorch."""
    out = np.maximum(x._data, 0)
    return record("ReluBackward0", out, (x,), (lambda g: g * (out > 0),))


@op("erf")
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


@op("clamp", "clip")
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





@op("maximum")
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


@op("minimum")
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


@op("where", method=False)
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
op("sign")(sign)
floor = _no_grad_unary(np.floor)
op("floor")(floor)
ceil = _no_grad_unary(np.ceil)
op("ceil")(ceil)
round = _no_grad_unary(np.round)  # noqa: A001
op("round")(round)
isnan = _no_grad_unary(np.isnan)
op("isnan")(isnan)
isinf = _no_grad_unary(np.isinf)
op("isinf")(isinf)
isfinite = _no_grad_unary(np.isfinite)
op("isfinite")(isfinite)
logical_not = _no_grad_unary(np.logical_not)
op("logical_not")(logical_not)


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
op("eq")(eq)
ne = _compare(np.not_equal)
op("ne")(ne)
lt = _compare(np.less)
op("lt")(lt)
le = _compare(np.less_equal)
op("le")(le)
gt = _compare(np.greater)
op("gt")(gt)
ge = _compare(np.greater_equal)
op("ge")(ge)
logical_and = _compare(np.logical_and)
op("logical_and")(logical_and)
logical_or = _compare(np.logical_or)
op("logical_or")(logical_or)
logical_xor = _compare(np.logical_xor)


bitwise_and = _compare(np.bitwise_and)  # `&` and `|`: on bool tensors, logical and / or
bitwise_or = _compare(np.bitwise_or)


def bitwise_not(a):
    A = _tensor(a)._data
    return _wrap(np.asarray(~A if A.dtype.kind != "b" else np.logical_not(A)))


@op("equal", method=False)
def equal(a, b) -> bool:
    """True when both tensors have the same shape and elements."""
    A, B = _tensor(a)._data, _tensor(b)._data
    return A.shape == B.shape and bool(np.array_equal(A, B))


@op("allclose", method=False)
def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(np.allclose(_tensor(a)._data, _tensor(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@op("isclose", method=False)
def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return _wrap(np.isclose(_tensor(a)._data, _tensor(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
