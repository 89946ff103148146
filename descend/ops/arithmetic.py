"""Arithmetic: + - * / ** and negation, each with its vector-Jacobian products."""

from __future__ import annotations

import math
import operator

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor
from ._core import _F64, _binary, _float_result, _operand, _pass, _tensor, op

# --- arithmetic ---


@op("add")
def add(a, b, alpha=1):
    """a + alpha * b, broadcasting like NumPy."""
    if alpha != 1:
        b = mul(b, alpha)
    return _binary("AddBackward0", a, b, operator.add, _pass, _pass)


@op("sub", "subtract")
def sub(a, b, alpha=1):
    """a - alpha * b."""
    if alpha != 1:
        b = mul(b, alpha)
    return _binary("SubBackward0", a, b, operator.sub, _pass, lambda g, A, B, o: -g)


def rsub(a, b):
    """b - a (the reflected operator of `number - tensor`)."""
    return _binary("RsubBackward1", b, a, operator.sub, _pass, lambda g, A, B, o: -g)


@op("mul", "multiply")
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


@op("div", "divide")
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


@op("pow")
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


@op("neg")
def neg(a):
    """-a."""
    return record("NegBackward0", np.negative(a._data), (a,), (np.negative,))
