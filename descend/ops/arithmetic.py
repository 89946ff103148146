"""Arithmetic: + - * / ** // % and negation, each with its vector-Jacobian products."""

from __future__ import annotations

import math
import operator

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor, _wrap
from ._core import _as_int_operand, _binary, _operand, _pass, _tensor, float_dtype_of, op, result_type

# --- arithmetic ---


# The VJPs of the binary operators, `vjp(g, A, B, out)`, made once (a lambda per call costs a function
# object per operation on the hot path).


def _neg_g(g, A, B, o):
    return -g


def _g_times_b(g, A, B, o):
    return g * B


def _g_times_a(g, A, B, o):
    return g * A


def _g_over_b(g, A, B, o):
    return g / B


def _div_vjp_b(g, A, B, o):
    # PyTorch's formula and order, -g * ((a / b) / b), from the inputs: the output is not saved, so
    # an in-place change of it after the division (`(a / b).clamp_(...)`) is allowed, as in PyTorch
    return -g * (A / B / B)


@op("add")
def add(input, other, *, alpha=1):
    """input + alpha * other, broadcasting like NumPy.

    Example:
        >>> descend.add(descend.tensor([1., 2.]), 1)
        tensor([2., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha)
    return _binary("AddBackward0", input, other, operator.add, _pass, _pass)


@op("sub", "subtract")
def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    # NOTE: the bool check by exact types first (`w - 3`, `preds - targets` run every step of the
    # tutorials' loops); anything else takes the full check
    t = type(other)
    if (type(input) is Tensor and input._data.dtype.kind == "b") or (
        other._data.dtype.kind == "b" if t is Tensor else (t is not int and t is not float)
    ):
        _no_bool_sub(input, other)
    if alpha != 1:
        other = mul(other, alpha)
    return _binary("SubBackward0", input, other, operator.sub, _pass, _neg_g)


def _no_bool_sub(a, b):
    for t in (a, b):
        if (isinstance(t, Tensor) and t._data.dtype.kind == "b") or isinstance(t, (bool, np.bool_)):
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                "trying to invert "
                "a mask, use the `~` or `logical_not()` operator instead."
            )


def rsub(a, b):
    """b - a (the reflected operator of `number - tensor`)."""
    _no_bool_sub(a, b)
    return _binary("RsubBackward1", b, a, operator.sub, _pass, _neg_g)


@op("mul", "multiply")
def mul(input, other):
    """input * other."""
    return _binary(
        "MulBackward0",
        input,
        other,
        operator.mul,
        _g_times_b,
        _g_times_a,
        reads_a="b",
        reads_b="a",
    )


def _div_forward(rounding_mode):
    if rounding_mode is None:
        return operator.truediv
    if rounding_mode == "trunc":
        return _trunc_div
    if rounding_mode == "floor":
        return _floor_div
    raise RuntimeError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
    )


def _trunc_div(A, B):
    """The quotient rounded towards zero; integers exactly (a float quotient loses int64's low bits)."""
    if np.result_type(A, B).kind != "f":
        q, r = np.divmod(A, B)
        # floor and trunc differ by one where the remainder is nonzero and the signs differ
        return q + ((r != 0) & ((np.asarray(A) < 0) != (np.asarray(B) < 0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trunc(np.true_divide(A, B))


def _floor_div(A, B):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(A, B)


def _no_int_zero_division(dt, B):
    """PyTorch's integer //, %, fmod and rounded division raise on a zero divisor (floats give inf/nan)."""
    if dt.kind in "iub" and not np.all(B):
        raise RuntimeError("ZeroDivisionError")


@op("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None):
    """input / other: true division (integer tensors give the default float dtype, as in PyTorch);
    `rounding_mode="trunc"` or `"floor"` rounds the quotient (and keeps integer dtypes).

    Example:
        >>> descend.tensor([7, -7]) / 2
        tensor([ 3.5000, -3.5000])
    """
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode, "DivBackward2", _zero_vjp)
    return _binary(
        "DivBackward0",
        input,
        other,
        _true_div,
        _g_over_b,
        _div_vjp_b,
        reads_a="b",
        reads_b="ab",
        true_div=True,
    )


def _rounded_div(input, other, rounding_mode, name, vjp_of):
    """div with a rounding mode (and //): computed in the result dtype; `vjp_of(t)` is each input's VJP."""
    forward = _div_forward(rounding_mode)
    ta, A = _operand(input)
    tb, B = _operand(other)
    dt = result_type(input, other)
    if dt.kind != "f":  # computed in the result dtype, as PyTorch does (uint8 // -1 is x // 255)
        A, B = _as_int_operand(ta, A, dt), _as_int_operand(tb, B, dt)
        _no_int_zero_division(dt, B)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(forward(A, B)).astype(dt, copy=False)
    return record(
        name,
        out,
        tuple(t for t in (input, other) if isinstance(t, Tensor)),
        tuple(vjp_of(t) for t in (input, other) if isinstance(t, Tensor)),
    )


def _true_div(A, B):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(A, B)


def _zero_vjp(t):
    shape = t._data.shape
    return lambda g: np.zeros(shape, g.dtype)


def _underivable(aten):
    """The VJP maker of an op PyTorch has no derivative for: backward through it raises, as PyTorch's."""

    def vjp_of(t):
        def vjp(g):
            raise RuntimeError(f"derivative for aten::{aten} is not implemented")

        return vjp

    return vjp_of


def rdiv(a, b):
    """b / a for a number `b` (the reflected `2 / tensor`): PyTorch's `a.reciprocal() * b`, which
    differs from a true division in the last bit for a quarter of float32 inputs, and its gradient."""
    if isinstance(b, (int, float)) and isinstance(a, Tensor):
        return mul(reciprocal(a), b)
    return div(b, a)


@op("floor_divide")
def floor_divide(input, other):
    """input // other, rounded towards minus infinity (PyTorch 2's `//`); not differentiable.

    Example:
        >>> descend.tensor([7, -7]) // 2
        tensor([ 3, -4])
    """
    # PyTorch's floor_divide has no derivative (div(rounding_mode="floor")'s is zero)
    return _rounded_div(input, other, "floor", "FloorDivideBackward0", _underivable("floor_divide"))


def rfloordiv(a, b):
    return floor_divide(b, a)


@op("remainder")
def remainder(input, other):
    """The remainder with the sign of the divisor (Python's `%`); differentiable in `input`.

    Example:
        >>> descend.tensor([5., -5.]) % 3
        tensor([2., 1.])
    """
    return _binary(
        "RemainderBackward0",
        input,
        other,
        _np_mod,
        _pass,
        lambda g, A, B, o: -g * _floor_div(A, B),
        reads_b="ab",
    )


def _np_mod(A, B):
    _no_int_zero_division(np.result_type(A, B), B)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mod(A, B)


def rmod(a, b):
    """b % a for a number `b`: PyTorch's remainder(Scalar, Tensor) has no derivative."""
    if isinstance(b, (int, float)) and isinstance(a, Tensor):
        out = remainder(b, a.detach())
        return record("RemainderBackward1", out._data, (a,), (_underivable("remainder")(a),))
    return remainder(b, a)


@op("fmod")
def fmod(input, other):
    """The remainder with the sign of the dividend (C's fmod); differentiable in `input`.

    Example:
        >>> descend.fmod(descend.tensor([5., -5.]), 3)
        tensor([ 2., -2.])
    """

    def forward(A, B):
        _no_int_zero_division(np.result_type(A, B), B)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(A, B)

    def vjp_b(g, A, B, o):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -g * np.trunc(A / B)

    return _binary("FmodBackward0", input, other, forward, _pass, vjp_b, reads_b="ab")


# --- powers ---


@op("pow")
def pow(input, exponent):  # noqa: A001 - PyTorch's name
    """input ** exponent; a Python-number exponent records PowBackward0, a tensor one PowBackward1.

    The gradient follows PyTorch: 0 where the exponent is 0 (even at 0 ** 0), and the exponent's
    gradient is 0 where the base is 0 and the exponent is non-negative.
    """
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    ta, A = input, input._data
    te, E = _operand(exponent)
    if te is None:
        p = E
        if p == 2 and A.dtype.kind == "f":  # NOTE: the tutorials' square, without promotion or errstate
            if A.ndim == 0:
                A = A[()]  # NOTE: scalar arithmetic here and in the VJP (see _core._SCALAR_OPS)
            out = A * A
        else:
            dt = A.dtype if A.dtype.kind == "f" else result_type(ta, p)
            if dt.kind != "f" and p < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = _scalar_power(A.astype(dt, copy=False), p) if dt.kind == "f" else np.power(A, p)
            out = np.asarray(out)
            if out.dtype != dt:
                out = out.astype(dt)
        if p == 0:
            shape = A.shape
            vjp = lambda g: np.zeros(shape, g.dtype)  # noqa: E731
        elif p == 2:
            # NOTE: (g + g) * A is g * 2 * A to the bit (doubling is exact) without the Python-int
            # operand, which costs NumPy 2's weak-scalar promotion a third more than an array operand
            vjp = lambda g: (g + g) * A  # noqa: E731
        elif p == 1:
            vjp = lambda g: g  # noqa: E731
        else:

            def vjp(g):
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    return g * p * _scalar_power(A, p - 1)

        return record("PowBackward0", out, (ta,), (vjp,), saved=(ta,))
    if not isinstance(exponent, Tensor):
        te = _tensor(exponent)
    dt = result_type(ta, te)
    bool_exponent = E.dtype.kind == "b"
    sa, se = A.shape, E.shape
    # the VJPs compute in the result dtype too: np.log of a uint8 base would be float16
    A, E = A.astype(dt, copy=False), E.astype(dt, copy=False)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.asarray(np.power(A, E) if dt.kind not in "iu" else _int_power(A, E))

    def vjp_base(g):
        if bool_exponent:  # PyTorch's formula subtracts 1 from the exponent, which bool refuses
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                "invert a mask, use the `~` or `logical_not()` operator instead."
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            d = E * np.power(A, E - 1)
        return unbroadcast(g * np.where(E == 0, 0, d), sa)

    def vjp_exp(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            d = out * np.log(A)
        return unbroadcast(g * np.where((A == 0) & (E >= 0), 0, d), se)

    return record("PowBackward1", out, (ta, te), (vjp_base, vjp_exp), saved=(ta, te), save_output=True)


def _int_power(A, E):
    """Integer ** integer tensors as PyTorch computes them: a negative exponent gives 1 for base 1,
    -1 or 1 for base -1 (odd or even exponent) and 0 for every other base (NumPy raises instead)."""
    negative = E < 0
    if not negative.any():
        return np.power(A, E)
    out = np.power(A, np.where(negative, 0, E))
    at_negative = np.where(A == 1, 1, np.where(A == -1, np.where(E % 2 == 0, 1, -1), 0))
    return np.where(negative, at_negative, out).astype(out.dtype)


def _scalar_power(A, p):
    """A ** p for a float array, with PyTorch's special cases (sqrt for 0.5, rsqrt for -0.5,
    products for 2, 3, -1, -2), so infinities and signed zeros come out as PyTorch's do."""
    if p == 0.5:
        return np.sqrt(A)
    if p == -0.5:
        return 1 / np.sqrt(A)
    if p == 2:
        return A * A
    if p == 3:
        return A * A * A
    if p == -1:
        return 1 / A
    if p == -2:
        return 1 / (A * A)
    return np.power(A, p)


def rpow(a, base):
    """base ** a for a number `base` (the reflected `2 ** tensor`)."""
    tb, B = _operand(base)
    if tb is not None:
        return pow(tb, a)
    ta = _tensor(a)
    A = ta._data
    dt = result_type(ta, B)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if dt.kind == "f":
            out = np.asarray(np.power(np.asarray(B, dtype=dt), A)).astype(dt, copy=False)
        else:  # PyTorch's integer powers: 2 ** -1 is 0, (-1) ** -3 is -1 (NumPy raises)
            out = np.asarray(_int_power(np.asarray(_as_int_operand(None, B, dt), dtype=dt), A.astype(dt)))
    if B == 0:

        def vjp(g):
            with np.errstate(invalid="ignore"):
                return g * np.where(A >= 0, 0, out * -np.inf)
    else:
        log_b = math.log(B) if B > 0 else float("nan")
        vjp = lambda g: g * out * log_b  # noqa: E731
    return record("PowBackward2", out, (ta,), (vjp,), save_output=True)


@op("square")
def square(input):
    """input ** 2."""
    return pow(input, 2)


@op("float_power")
def float_power(input, exponent):
    """input ** exponent computed in float64, as `torch.float_power`."""
    x = _tensor(input).double()
    e = exponent.double() if isinstance(exponent, Tensor) else exponent
    return pow(x, e)


@op("neg", "negative")
def neg(input):
    """-input."""
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )
    return record("NegBackward0", np.negative(input._data), (input,), (np.negative,))


@op("positive")
def positive(input):
    return input


@op("abs", "absolute")
def abs(input):  # noqa: A001 - PyTorch's name
    """|input|; the gradient at 0 and at NaN is 0, as in PyTorch (its sgn(nan) is 0)."""
    X = input._data
    return record(
        "AbsBackward0",
        np.abs(X),
        (input,),
        (lambda g: g * np.where(np.isnan(X), 0, np.sign(X)),),
        saved=(input,),
    )


@op("reciprocal")
def reciprocal(input):
    """1 / input (the default float dtype for integer tensors)."""
    x = _tensor(input)
    X = x._data.astype(float_dtype_of(x._data.dtype), copy=False)
    with np.errstate(divide="ignore"):
        out = 1 / X
    # PyTorch's -g * (y * y), in that order (bit for bit)
    return record("ReciprocalBackward0", out, (x,), (lambda g: -g * (out * out),), save_output=True)


def _wrap_int(x):
    return _wrap(np.asarray(x))
