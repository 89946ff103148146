"""Elementwise functions, comparisons and logical ops."""

from __future__ import annotations

import math

import numpy as np

from .._fma import fma
from ..autograd import record, unbroadcast
from ..tensor import Tensor, _wrap
from ._core import _as_int_operand, _binary, _operand, _tensor, float_dtype_of, masked, op, result_type

# --- elementwise ---


# --- unary floating-point functions ---
# One entry per function: the NumPy forward and the VJP `(g, x, y) -> gradient`, written with the
# input `x` or the output `y` (an output-based VJP saves the output, so an in-place change of it is
# caught). Each VJP is PyTorch's formula in PyTorch's order of operations (`g / x`, not `g * (1 / x)`),
# checked bit for bit against torch 2.13 on float32 and float64 inputs where the forward values agree.
# Integer and bool inputs give the default float dtype, as in PyTorch.


def _unary(name, node, forward, vjp_of, reads="x", doc=""):
    def fn(input):
        x = _tensor(input)
        X = x._data
        if X.dtype.kind != "f":
            X = X.astype(float_dtype_of(X.dtype))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(forward(X))
        if out.dtype != X.dtype:
            out = out.astype(X.dtype)
        if reads == "y":
            return record(node, out, (x,), (lambda g: vjp_of(g, None, out),), save_output=True)
        return record(node, out, (x,), (lambda g: vjp_of(g, X, out),), saved=(x,))

    fn.__name__ = name
    fn.__doc__ = doc or f"Elementwise {name}, differentiable (records {node})."
    return fn


def _sigmoid(x):
    """PyTorch's 1 / (1 + exp(-x)): exp(-x) = inf for x << 0 gives exactly 0, never NaN."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _one_minus_square(y):
    """1 - y * y rounded once, as the fused multiply-add of PyTorch's compiled tanh backward."""
    return fma(-y, y, y.dtype.type(1))


_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_UNARY = [
    # name, node, forward, vjp(g, x, y), reads
    ("exp", "ExpBackward0", np.exp, lambda g, x, y: g * y, "y"),
    ("exp2", "Exp2Backward0", np.exp2, lambda g, x, y: g * y * _LN2, "y"),
    ("expm1", "Expm1Backward0", np.expm1, lambda g, x, y: g * (y + 1), "y"),
    ("log", "LogBackward0", np.log, lambda g, x, y: g / x, "x"),
    ("log2", "Log2Backward0", np.log2, lambda g, x, y: g / (x * _LN2), "x"),
    ("log10", "Log10Backward0", np.log10, lambda g, x, y: g / (x * _LN10), "x"),
    ("log1p", "Log1PBackward0", np.log1p, lambda g, x, y: g / (x + 1), "x"),
    ("sqrt", "SqrtBackward0", np.sqrt, lambda g, x, y: g / (2 * y), "y"),
    ("rsqrt", "RsqrtBackward0", lambda x: 1 / np.sqrt(x), lambda g, x, y: g * (-0.5 * y * y * y), "y"),
    ("sin", "SinBackward0", np.sin, lambda g, x, y: g * np.cos(x), "x"),
    ("cos", "CosBackward0", np.cos, lambda g, x, y: g * -np.sin(x), "x"),
    ("tan", "TanBackward0", np.tan, lambda g, x, y: g * (1 + y * y), "y"),
    ("asin", "AsinBackward0", np.arcsin, lambda g, x, y: g * (1 / np.sqrt(1 - x * x)), "x"),
    ("acos", "AcosBackward0", np.arccos, lambda g, x, y: g * (-1 / np.sqrt(1 - x * x)), "x"),
    ("atan", "AtanBackward0", np.arctan, lambda g, x, y: g / (x * x + 1), "x"),
    ("sinh", "SinhBackward0", np.sinh, lambda g, x, y: g * np.cosh(x), "x"),
    ("cosh", "CoshBackward0", np.cosh, lambda g, x, y: g * np.sinh(x), "x"),
    ("tanh", "TanhBackward0", np.tanh, lambda g, x, y: g * _one_minus_square(y), "y"),
    ("asinh", "AsinhBackward0", np.arcsinh, lambda g, x, y: g * (1 / np.sqrt(x * x + 1)), "x"),
    ("acosh", "AcoshBackward0", np.arccosh, lambda g, x, y: g * (1 / np.sqrt(x * x - 1)), "x"),
    ("atanh", "AtanhBackward0", np.arctanh, lambda g, x, y: g / (1 - x * x), "x"),
    ("sigmoid", "SigmoidBackward0", lambda x: _sigmoid(x), lambda g, x, y: g * (1 - y) * y, "y"),
    ("erf", "ErfBackward0", lambda x: _erf(x), lambda g, x, y: g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)), "x"),
    ("erfc", "ErfcBackward0", lambda x: _erfc(x), lambda g, x, y: g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x)),
     "x"),
]
_ALIASES = {"asin": ("arcsin",), "acos": ("arccos",), "atan": ("arctan",), "asinh": ("arcsinh",),
            "acosh": ("arccosh",), "atanh": ("arctanh",), "erf": ("special_erf",)}
for _name, _node, _fwd, _der, _reads in _UNARY:
    globals()[_name] = _fn = _unary(_name, _node, _fwd, _der, _reads)
    op(_name, *_ALIASES.get(_name, ()))(_fn)


@op("relu")
def relu(input):
    """max(input, 0); the gradient is 0 where the output is <= 0 (and flows at NaN), as PyTorch's
    threshold backward, selecting rather than multiplying so an infinite upstream gradient stays 0."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    out = np.maximum(input._data, 0)
    # NOTE: `out != 0` is `~(out <= 0)` here (out is >= 0 or NaN, and NaN != 0) in one pass, not two:
    # 0.92x of the backward on a (128, 256) gradient
    return record("ReluBackward0", out, (input,), (lambda g: masked(g, out != 0),), save_output=True)


_exact_erf = np.frompyfunc(math.erf, 1, 1)
_exact_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erf(X):
    if X.dtype == np.float64:
        # float64 needs erf to the last digit (the approximation below is only 1.2e-7): math.erf
        return np.asarray(_exact_erf(X), dtype=np.float64)
    return np.sign(X) * (1.0 - _erfc_of_abs(np.abs(X.astype(np.float64))))


def _erfc(X):
    """erfc to full relative precision in its tail (1 - erf(x) keeps only erf's absolute error)."""
    if X.dtype == np.float64:
        return np.asarray(_exact_erfc(X), dtype=np.float64)
    X64 = X.astype(np.float64)
    tail = _erfc_of_abs(np.abs(X64))
    return np.where(X64 < 0, 2.0 - tail, tail)


def _erfc_of_abs(z):
    """erfc(z) for z >= 0 (float64): Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7."""
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
    return t * np.exp(poly)


# --- clamps, extremes and selection: gradients select (never multiply by a 0/1 mask) ---


@op("clamp", "clip")
def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit input to [min, max] (numbers or tensors, broadcasting).

    The gradient passes where min <= input <= max; with tensor bounds, a bound gets the gradient
    where input lies beyond it, as PyTorch's clamp backward.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    x = _tensor(input)
    X = x._data
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    dt = result_type(*(v for v in (x, min, max) if v is not None))
    out = X
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    out = np.asarray(out).astype(dt, copy=False)
    with np.errstate(invalid="ignore"):
        inside = np.ones(np.shape(out), dtype=bool)
        if lo is not None:
            inside &= X >= lo
        if hi is not None:
            inside &= X <= hi
    parents, vjps, saved = [x], [lambda g: unbroadcast(masked(g, inside), X.shape)], [x]
    # PyTorch's rule for tensor bounds: min gets the gradient where x < min < max, max where x > max
    # or min > max (clamp then returns max everywhere), x where min <= x <= max.
    with np.errstate(invalid="ignore"):
        if isinstance(min, Tensor):
            to_min = (X < lo) if hi is None else (X < lo) & (lo < hi)
            parents.append(min)
            vjps.append(lambda g, m=to_min, s=lo.shape: unbroadcast(np.where(m, g, 0), s))
            saved.append(min)
        if isinstance(max, Tensor):
            to_max = (X > hi) if lo is None else (X > hi) | (lo > hi)
            parents.append(max)
            vjps.append(lambda g, m=to_max, s=hi.shape: unbroadcast(np.where(m, g, 0), s))
            saved.append(max)
    name = "ClampBackward1" if len(parents) == 1 else "ClampBackward0"
    return record(name, out, tuple(parents), tuple(vjps), saved=tuple(saved))


@op("clamp_min")
def clamp_min(input, min):  # noqa: A002
    """clamp(input, min=min)."""
    return clamp(input, min=min)


@op("clamp_max")
def clamp_max(input, max):  # noqa: A002
    """clamp(input, max=max)."""
    return clamp(input, max=max)


def _max_vjps(greater):
    # PyTorch: where(a == b, g / 2, g) with the losing side set to 0 (NaNs: neither side loses).
    def vjp_a(g, A, B, o):
        with np.errstate(invalid="ignore"):
            return np.where(A == B, g / 2, np.where(greater(B, A), 0, g))

    def vjp_b(g, A, B, o):
        with np.errstate(invalid="ignore"):
            return np.where(A == B, g / 2, np.where(greater(A, B), 0, g))

    return vjp_a, vjp_b


_MAX_VJPS = _max_vjps(np.greater)
_MIN_VJPS = _max_vjps(np.less)


def _both_tensors(name, input, other):
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__} (use "
                f"clamp(x, min=...) for a number)"
            )


@op("maximum")
def maximum(input, other):
    """Elementwise max (NaN if either is NaN); ties split the gradient equally, as in PyTorch."""
    _both_tensors("maximum", input, other)
    return _binary("MaximumBackward0", input, other, np.maximum, *_MAX_VJPS, reads_a="ab", reads_b="ab")


@op("minimum")
def minimum(input, other):
    """Elementwise min (NaN if either is NaN); ties split the gradient equally."""
    _both_tensors("minimum", input, other)
    return _binary("MinimumBackward0", input, other, np.minimum, *_MIN_VJPS, reads_a="ab", reads_b="ab")


def _nan_ignoring(name, node, ufunc, wins):
    """fmax/fmin: the other value wins over a NaN; the gradient goes to the value returned."""

    def vjp_a(g, A, B, o):
        return np.where(wins(A, B) | np.isnan(B), g, 0)

    def vjp_b(g, A, B, o):
        return np.where(~(wins(A, B) | np.isnan(B)), g, 0)

    def fn(input, other):
        return _binary(node, input, other, ufunc, vjp_a, vjp_b, reads_a="ab", reads_b="ab")

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name[1:]} that ignores NaN (the other value wins)."
    return fn


fmax = _nan_ignoring("fmax", "FmaxBackward0", np.fmax, np.greater_equal)
op("fmax")(fmax)
fmin = _nan_ignoring("fmin", "FminBackward0", np.fmin, np.less_equal)
op("fmin")(fmin)


@op("where", method=False)
def where(condition, input=None, other=None):
    """input where condition holds, else other (broadcast); the gradient follows the chosen branch.

    With only `condition`, the indices of its non-zero elements (as `nonzero(as_tuple=True)`).
    """
    C = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    if input is None and other is None:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(C))
    dt = result_type(input, other)
    if isinstance(input, Tensor) and input._data.dtype != dt:
        input = input.to(dt)
    if isinstance(other, Tensor) and other._data.dtype != dt:
        other = other.to(dt)

    def forward(A, B):
        return np.where(C, A, B).astype(dt, copy=False)

    def vjp_a(g, A, B, o):
        return unbroadcast(np.where(C, g, 0), np.broadcast_shapes(np.shape(C), np.shape(o)))

    def vjp_b(g, A, B, o):
        return unbroadcast(np.where(C, 0, g), np.broadcast_shapes(np.shape(C), np.shape(o)))

    return _binary("WhereBackward0", input, other, forward, vjp_a, vjp_b)


def _where_method(self, condition, other):
    """`x.where(condition, y)`: x where condition holds, else y (`descend.where(condition, x, y)`)."""
    return where(condition, self, other)


_where_method.__name__ = "where"
Tensor.where = _where_method  # the method's arguments differ from the function's (`where` above)


@op("atan2", "arctan2")
def atan2(input, other):
    """The angle of the point (other, input), elementwise."""
    def recip(A, B):  # 1 / (a^2 + b^2), 0 at the origin (PyTorch's gradient there is 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = A * A + B * B
            return np.where(d == 0, 0, 1 / np.where(d == 0, 1, d))

    def vjp_a(g, A, B, o):
        with np.errstate(invalid="ignore"):
            return g * B * recip(A, B)

    def vjp_b(g, A, B, o):
        with np.errstate(invalid="ignore"):
            return g * -A * recip(A, B)

    return _binary("Atan2Backward0", input, other, np.arctan2, vjp_a, vjp_b, reads_a="ab", reads_b="ab",
                   true_div=True)


@op("hypot")
def hypot(input, other):
    """sqrt(input**2 + other**2) without overflow."""
    return _binary("HypotBackward0", input, other, np.hypot, lambda g, A, B, o: g * A / o,
                   lambda g, A, B, o: g * B / o, reads_a="ao", reads_b="bo")


@op("lerp")
def lerp(input, end, weight):
    """input + weight * (end - input)."""
    from .arithmetic import add, mul, sub

    return add(input, mul(weight, sub(end, input)))


# --- piecewise-constant functions: recorded, with gradient 0 (as PyTorch's FloorBackward0...) ---


def _constant_piece(name, node, forward, keeps_int=True):
    def fn(input):
        x = _tensor(input)
        X = x._data
        out = np.asarray(forward(X))
        if keeps_int and out.dtype != X.dtype and X.dtype.kind != "b":
            out = out.astype(X.dtype)
        if X.dtype.kind != "f":
            return _wrap(out)
        shape = X.shape
        return record(node, out, (x,), (lambda g: np.zeros(shape, g.dtype),))

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}: piecewise constant, so its gradient is 0 (as in PyTorch)."
    return fn


sign = _constant_piece("sign", "SignBackward0",  # sign(NaN) is 0 in PyTorch
                       lambda X: X.copy() if X.dtype.kind == "b" else np.where(X != X, 0, np.sign(X)))
op("sign", "sgn")(sign)
floor = _constant_piece("floor", "FloorBackward0", np.floor)
op("floor")(floor)
ceil = _constant_piece("ceil", "CeilBackward0", np.ceil)
op("ceil")(ceil)
trunc = _constant_piece("trunc", "TruncBackward0", np.trunc)
op("trunc", "fix")(trunc)


@op("round")
def round(input, *, decimals=0):  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch), to `decimals` places; gradient 0."""
    return _constant_piece("round", "RoundBackward0", lambda X: np.round(X, decimals))(input)


@op("frac")
def frac(input):
    """input - trunc(input), with gradient 1."""
    X = input._data
    return record("FracBackward0", X - np.trunc(X), (input,), (lambda g: g,))


def _predicate(name, fn):
    def pred(input):
        return _wrap(np.asarray(fn(_tensor(input)._data)))

    pred.__name__ = name
    pred.__doc__ = f"Elementwise {name} (a bool tensor, outside the graph)."
    return pred


isnan = _predicate("isnan", np.isnan)
op("isnan")(isnan)
isinf = _predicate("isinf", np.isinf)
op("isinf")(isinf)
isfinite = _predicate("isfinite", np.isfinite)
op("isfinite")(isfinite)
isposinf = _predicate("isposinf", np.isposinf)
op("isposinf")(isposinf)
isneginf = _predicate("isneginf", np.isneginf)
op("isneginf")(isneginf)
signbit = _predicate("signbit", np.signbit)
op("signbit")(signbit)
logical_not = _predicate("logical_not", np.logical_not)
op("logical_not")(logical_not)


# --- comparisons (bool tensors, no gradient) ---


_KERNEL_NAMES = {"bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double"}


def _common(a, b):
    """(A, B): the operands as NumPy values in PyTorch's common dtype, or None when `b` is None.

    PyTorch compares and combines bits in `result_type(a, b)`: a float32 tensor == 0-d float64 0.1
    compares in float32, uint8 < (0-d int64 -1) compares with 255, and a Python int beyond the
    dtype wraps around first (uint8 < -2 is uint8 < 254). NumPy would compare the exact values.
    """
    # NOTE: one dtype, or a float tensor and a Python number (NumPy 2 casts a weak number to the
    # tensor's dtype, as PyTorch does): nothing to cast
    if type(a) is Tensor:
        A = a._data
        if type(b) is Tensor:
            if A.dtype is b._data.dtype:
                return A, b._data
        elif (type(b) is float or type(b) is int) and A.dtype.kind == "f":
            return A, b
    ta, A = _operand(a)
    tb, B = _operand(b)
    dt = result_type(a if ta is None else ta, b if tb is None else tb)
    if dt.kind == "f":
        if ta is not None and A.dtype != dt:
            A = A.astype(dt)
        if tb is not None and B.dtype != dt:
            B = B.astype(dt)
        return A, B
    return _as_int_operand(ta, A, dt), _as_int_operand(tb, B, dt)


def _broadcasting(ufunc, A, B, name):
    try:
        return _wrap(np.asarray(ufunc(A, B)))
    except ValueError:
        raise RuntimeError(
            f"{name}: shapes {tuple(np.shape(A))} and {tuple(np.shape(B))} are not broadcastable"
        ) from None


def _compare(ufunc, promote=True):
    def op(a, b):
        if b is None:
            return NotImplemented
        if promote:
            A, B = _common(a, b)
        else:  # logical ops: only truthiness counts, which a cast could change (256 as uint8 is 0)
            A, B = _operand(a)[1], _operand(b)[1]
        return _broadcasting(ufunc, A, B, ufunc.__name__)

    op.__name__ = ufunc.__name__
    return op


for _name, _ufunc in dict(eq=np.equal, ne=np.not_equal, lt=np.less, le=np.less_equal, gt=np.greater,
                          ge=np.greater_equal).items():
    globals()[_name] = _fn = _compare(_ufunc)
    op(_name)(_fn)
for _name, _ufunc in dict(logical_and=np.logical_and, logical_or=np.logical_or,
                          logical_xor=np.logical_xor).items():
    globals()[_name] = _fn = _compare(_ufunc, promote=False)
    op(_name)(_fn)


def _no_float_bits(A, B, kernel):
    for X in (A, B):
        dt = np.result_type(X)
        if dt.kind == "f" and not isinstance(X, (int, bool)):
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_KERNEL_NAMES[dt.name]}\'')


def _bitwise(name, kernel, ufunc):
    def fn(input, other):
        """Elementwise bitwise {name} of integer or bool tensors in their common dtype (as PyTorch's)."""
        if other is None:
            return NotImplemented
        A, B = _common(input, other)
        _no_float_bits(A, B, kernel)
        return _broadcasting(ufunc, A, B, name)

    fn.__name__ = name
    fn.__doc__ = fn.__doc__.format(name=name.replace("bitwise_", ""))
    return fn


def _shift(left):
    """PyTorch's shifts: a shift by a negative count or by the dtype's width or more gives 0 (or -1 for
    a negative number shifted right), where C and NumPy leave it undefined."""
    kernel = "lshift" if left else "rshift"

    def fn(input, other):
        if other is None:
            return NotImplemented
        dt = result_type(input, other)
        if dt.kind in "bf":
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_KERNEL_NAMES[dt.name]}\'')
        A, B = _common(input, other)
        A, B = np.asarray(A).astype(dt, copy=False), np.asarray(B).astype(dt, copy=False)
        width = dt.itemsize * 8
        inside = (B >= 0) & (B < width)
        safe = np.where(inside, B, 0)
        try:
            np.broadcast_shapes(A.shape, B.shape)
        except ValueError:
            return _broadcasting(np.left_shift, A, B, kernel)
        if left:
            out = np.where(inside, np.left_shift(A, safe), 0)
        else:
            out = np.where(inside, np.right_shift(A, safe), np.where(A < 0, -1, 0))
        return _wrap(np.asarray(out.astype(dt, copy=False)))

    fn.__name__ = "bitwise_left_shift" if left else "bitwise_right_shift"
    return fn


bitwise_and = _bitwise("bitwise_and", "bitwise_and", np.bitwise_and)
op("bitwise_and")(bitwise_and)
bitwise_or = _bitwise("bitwise_or", "bitwise_or", np.bitwise_or)
op("bitwise_or")(bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", np.bitwise_xor)
op("bitwise_xor")(bitwise_xor)
bitwise_left_shift = _shift(left=True)
op("bitwise_left_shift")(bitwise_left_shift)
bitwise_right_shift = _shift(left=False)
op("bitwise_right_shift")(bitwise_right_shift)


@op("bitwise_not")
def bitwise_not(input):
    """~input: bits inverted for integers, logical not for bool (floats refuse, as in PyTorch)."""
    A = _tensor(input)._data
    if A.dtype.kind == "f":
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_KERNEL_NAMES[A.dtype.name]}\'')
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
