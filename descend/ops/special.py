"""Special functions (erfinv, lgamma, digamma, polygamma, mvlgamma, logit, xlogy) and `descend.special`.

Each forward ports PyTorch's CPU kernel (ATen's Math.h: calc_erfinv, calc_digamma, calc_trigamma and
cephes' Hurwitz zeta) in float64, rounded once to the input's dtype; lgamma is libm's (math.lgamma).
Poles and domains are PyTorch's: lgamma is +inf at 0 and the negative integers, digamma(+-0) is -+inf
and NaN at the negative integers, erfinv(+-1) = +-inf and NaN outside [-1, 1]. The gradients are
PyTorch's formulas: erfinv' = sqrt(pi)/2 exp(erfinv(x)^2), lgamma' = digamma, digamma' = polygamma(1, .),
polygamma(n, .)' = polygamma(n + 1, .).

This module is also the `descend.special` namespace: torch.special's names for these functions and
re-exports of the engine's own (expit = sigmoid, erf, erfc, ndtr, log1p, logsumexp, softmax...).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor
from ._core import _operand, _tensor, float_dtype_of, op, result_type

# and, looked up on use, the engine's erf, erfc, exp2, expm1, log1p, logsumexp, softmax, log_softmax
__all__ = [
    "digamma", "entr", "erfinv", "expit", "gammaln", "logit", "multigammaln", "mvlgamma", "ndtr", "polygamma",
    "psi", "sinc", "xlog1py", "xlogy",
]

_F64 = np.float64


def _float_input(input):
    x = _tensor(input)
    X = x._data
    if X.dtype.kind != "f":
        X = X.astype(float_dtype_of(X.dtype))
    return x, X


def _cast(out, dtype):
    return np.asarray(out).astype(dtype, copy=False)


# --- erfinv (calc_erfinv) ---

_erf64 = np.frompyfunc(math.erf, 1, 1)
_erfc64 = np.frompyfunc(math.erfc, 1, 1)
_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_D = (3.543889200, 1.637067800)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfinv_np(y):
    """PyTorch's calc_erfinv in float64: a rational first guess (centre |y| <= 0.7, tail beyond), then
    two Newton steps on erf."""
    y = np.asarray(y, _F64)
    ya = np.abs(y)
    with np.errstate(all="ignore"):
        z = y * y
        centre = y * (((_A[3] * z + _A[2]) * z + _A[1]) * z + _A[0]) / (
            (((_B[3] * z + _B[2]) * z + _B[1]) * z + _B[0]) * z + 1.0)
        t = np.sqrt(-np.log((1.0 - ya) / 2.0))
        tail = np.copysign(((_C[3] * t + _C[2]) * t + _C[1]) * t + _C[0], y) / ((_D[1] * t + _D[0]) * t + 1.0)
        x = np.where(ya <= 0.7, centre, tail)
        ok = ya < 1.0
        x = np.where(ok, x, 0.0)
        # Newton on erf(x) = y; beyond |y| = 0.5 on erfc(|x|) = 1 - |y| (exact there), whose error is
        # relative, so the tail keeps full precision (erf(x) - y would leave 1e-16 / erf'(x) absolute)
        tail = ya > 0.5
        for _ in range(3):
            r = np.where(tail, np.sign(y) * (np.asarray(_erfc64(np.abs(x)), _F64) - (1.0 - ya)),
                         y - np.asarray(_erf64(x), _F64))
            x = x + r / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(ya == 1.0, np.copysign(np.inf, y), x)
        return np.where((ya > 1.0) | np.isnan(y), np.nan, x)


@op("erfinv", "special_erfinv")
def erfinv(input):
    """The inverse of erf on (-1, 1): erfinv(+-1) = +-inf, NaN outside [-1, 1]."""
    x, X = _float_input(input)
    out = _cast(_erfinv_np(X), X.dtype)

    def vjp(g):
        with np.errstate(over="ignore"):
            return g * (0.5 * math.sqrt(math.pi) * np.exp(np.square(out)))

    return record("ErfinvBackward0", out, (x,), (vjp,), saved=(x,))


# --- lgamma, digamma, polygamma ---

def _libm(name, ctype):
    """libm's `name` (PyTorch's std::lgamma is the C library's), else None."""
    try:
        import ctypes
        import ctypes.util

        fn = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctype, (ctype,)
    return fn


def _lgamma_ufuncs():
    import ctypes

    f64, f32 = _libm("lgamma", ctypes.c_double), _libm("lgammaf", ctypes.c_float)
    f64 = f64 or math.lgamma
    return np.frompyfunc(f64, 1, 1), np.frompyfunc(f32 or f64, 1, 1)


_lgamma64, _lgamma32 = _lgamma_ufuncs()


def _lgamma_np(X):
    """lgamma in X's dtype: libm's lgamma (float64) or lgammaf (float32), +inf at the poles."""
    X = np.asarray(X)
    pole = (X <= 0) & (X == np.floor(X))
    safe = np.where(pole, 1, X)
    fn = _lgamma32 if X.dtype == np.float32 else _lgamma64
    out = np.asarray(fn(safe), _F64).astype(X.dtype if X.dtype.kind == "f" else _F64)
    return np.where(pole, np.inf, out)


_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)
_PSI_10 = 2.25175258906672110764


def _digamma_np(X):
    """PyTorch's calc_digamma in X's precision (float32 arithmetic for float32, as its float kernel):
    reflection below 0 (on the fractional part, the pi / tan term in float64), recurrence up to 10,
    then the asymptotic series; +-0 gives -+inf, the negative integers NaN."""
    x = np.asarray(X)
    if x.dtype != np.float32:
        x = x.astype(_F64)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        neg = x < 0
        frac = np.where(neg, x - np.trunc(x), 0).astype(_F64)
        z = np.where(neg, 1 - x, x)
        acc = np.zeros_like(z)
        while True:
            small = z < 10
            if not small.any():
                break
            acc = np.where(small, acc - 1 / z, acc)
            z = np.where(small, z + 1, z)
        w = 1 / (z * z)
        poly = np.zeros_like(w)
        for c in _PSI_A:
            poly = poly * w + t(c)
        y = np.where(z < 1.0e17, w * poly, 0)
        psi = np.where(z == 10, acc + t(_PSI_10), acc + np.log(z) - t(0.5) / z - y)
        psi = np.where(neg, psi - (math.pi / np.tan(math.pi * frac)).astype(x.dtype), psi)
        psi = np.where(neg & (x == np.trunc(x)), np.nan, psi)
        return np.where(x == 0, np.copysign(np.inf, -x), psi).astype(x.dtype)


def _trigamma_np(X):
    """PyTorch's calc_trigamma in X's precision: reflection below 0.5, six recurrence steps, the
    asymptotic series."""
    x = np.asarray(X)
    if x.dtype != np.float32:
        x = x.astype(_F64)
    t = x.dtype.type
    pi = t(math.pi)
    with np.errstate(all="ignore"):
        reflect = x < 0.5
        sin_pi_x = np.sin(pi * x)
        result = np.where(reflect, -(pi * pi) / (sin_pi_x * sin_pi_x), 0).astype(x.dtype)
        z = np.where(reflect, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (z * z)
            z = z + 1
        ixx = 1 / (z * z)
        result = result + (1 + 1 / (2 * z) + ixx * (t(1 / 6) - ixx * (t(1 / 30) - ixx * t(1 / 42)))) / z
        return np.where(reflect, -result, result)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042e-16


def _zeta_one(x, q):
    """The Hurwitz zeta function sum_k (k + q)^-x (cephes' zeta, as ATen's): Euler-Maclaurin."""
    if x == 1:
        return math.inf
    if x < 1 or math.isnan(q):
        return math.nan
    if math.isinf(q):
        return math.nan if q > 0 else math.inf
    if q <= 0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    try:
        s = math.pow(q, -x)
        a, i, b = q, 0, 0.0
        while i < 9 or a <= 9.0:
            i += 1
            a += 1.0
            b = math.pow(a, -x)
            s += b
            if -_MACHEP * s < b < _MACHEP * s:
                return s
        w = a
        s += b * w / (x - 1.0)
        s -= 0.5 * b
        a, k = 1.0, 0.0
        for c in _ZETA_A:
            a *= x + k
            b /= w
            t = a * b / c
            s = s + t
            if abs(t / s) < _MACHEP:
                return s
            k += 1.0
            a *= x + k
            b /= w
            k += 1.0
        return s
    except (OverflowError, ZeroDivisionError):
        return math.inf


_zeta64 = np.frompyfunc(_zeta_one, 2, 1)


def _polygamma_np(n, X):
    if n == 0:
        return _digamma_np(X)
    if n == 1:
        return _trigamma_np(X)
    x = np.asarray(X, _F64)
    with np.errstate(all="ignore"):
        zeta = np.asarray(_zeta64(n + 1.0, x), _F64)
        return (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0)) * zeta


def _polygamma_node(n, x, X):
    out = _cast(_polygamma_np(n, X), X.dtype)
    node = {0: "DigammaBackward0", 1: "PolygammaBackward0"}.get(n, "PolygammaBackward0")
    return record(node, out, (x,), (lambda g: g * _cast(_polygamma_np(n + 1, X), X.dtype),), saved=(x,))


@op("lgamma", "special_gammaln")
def lgamma(input):
    """log|Gamma(x)| elementwise (+inf at 0 and the negative integers); its gradient is digamma(x)."""
    x, X = _float_input(input)
    out = _cast(_lgamma_np(X), X.dtype)
    return record("LgammaBackward0", out, (x,), (lambda g: g * _cast(_digamma_np(X), X.dtype),), saved=(x,))


@op("digamma", "special_digamma", "special_psi")
def digamma(input):
    """The logarithmic derivative of Gamma; its gradient is polygamma(1, x)."""
    x, X = _float_input(input)
    return _polygamma_node(0, x, X)


@op("polygamma", "special_polygamma")
def polygamma(n, input):
    """The n-th derivative of digamma, `polygamma(n, x)` (also `x.polygamma(n)`); n >= 0."""
    if isinstance(n, Tensor) and not isinstance(input, Tensor):  # the method form x.polygamma(n)
        n, input = input, n
    n = int(n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x, X = _float_input(input)
    return _polygamma_node(n, x, X)


@op("mvlgamma", "special_multigammaln")
def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi), i < p."""
    from .reductions import sum as _sum

    x, X = _float_input(input)
    p = int(p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if X.size and not (X > 0.5 * (p - 1)).all():
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {0.5 * (p - 1)}")
    if X.dtype != x._data.dtype:
        x = Tensor(X)
    args = Tensor(np.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=X.dtype))
    return _sum(lgamma(x.unsqueeze(-1) + args), -1) + p * (p - 1) / 4 * math.log(math.pi)


# --- logit, xlogy, xlog1py, entr, sinc ---


@op("logit", "special_logit")
def logit(input, eps=None):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given (gradient 0 outside)."""
    x, X = _float_input(input)
    Z = X if eps is None else np.clip(X, eps, 1 - eps).astype(X.dtype, copy=False)
    with np.errstate(all="ignore"):
        out = _cast(np.log(Z / (1 - Z)), X.dtype)

    def vjp(g):
        with np.errstate(all="ignore"):
            d = g / (X * (1 - X))
            if eps is None:
                return np.where((X < 0) | (X > 1), np.nan, d)
            return np.where((X < eps) | (X > 1 - eps), 0, d)

    return record("LogitBackward0", out, (x,), (vjp,), saved=(x,))


def _binary_special(node, input, other, forward, vjp_a, vjp_b):
    ta, A = _operand(input)
    tb, B = _operand(other)
    dt = result_type(input, other)
    if dt.kind != "f":
        dt = float_dtype_of(dt)
    A = np.asarray(A, dt)
    B = np.asarray(B, dt)
    with np.errstate(all="ignore"):
        out = _cast(forward(A, B), dt)
    ta = ta if ta is not None else Tensor(A)
    tb = tb if tb is not None else Tensor(B)

    def ga(g):
        with np.errstate(all="ignore"):
            return unbroadcast(_cast(vjp_a(g, A, B), dt), A.shape)

    def gb(g):
        with np.errstate(all="ignore"):
            return unbroadcast(_cast(vjp_b(g, A, B), dt), B.shape)

    return record(node, out, (ta, tb), (ga, gb), saved=(ta, tb))


def _xlogy_np(a, b):
    return np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log(b)))


def _xlog1py_np(a, b):
    return np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log1p(b)))


@op("xlogy", "special_xlogy")
def xlogy(input, other):
    """x * log(y), 0 where x == 0 (unless y is NaN)."""
    return _binary_special("XlogyBackward0", input, other, _xlogy_np,
                           lambda g, a, b: g * _xlogy_np((a != 0).astype(a.dtype), b),
                           lambda g, a, b: g * a / b)


@op("special_xlog1py", method=False)
def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0 (unless y is NaN)."""
    return _binary_special("SpecialXlog1PyBackward0", input, other, _xlog1py_np,
                           lambda g, a, b: g * _xlog1py_np((a != 0).astype(a.dtype), b),
                           lambda g, a, b: g * a / (b + 1))


@op("special_entr", method=False)
def entr(input):
    """-x log(x) for x > 0, 0 at 0, -inf below 0."""
    x, X = _float_input(input)
    with np.errstate(all="ignore"):
        out = _cast(np.where(X > 0, -X * np.log(X), np.where(X == 0, 0.0, -np.inf)), X.dtype)
        out = np.where(np.isnan(X), X, out)
    return record("SpecialEntrBackward0", out, (x,), (lambda g: g * (-(1 + np.log(X))),), saved=(x,))


@op("sinc", "special_sinc")
def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    x, X = _float_input(input)
    with np.errstate(all="ignore"):
        out = _cast(np.sinc(X), X.dtype)

    def vjp(g):
        with np.errstate(all="ignore"):
            px = math.pi * X
            d = (np.cos(px) - np.sin(px) / px) / X
            return g * np.where(X == 0, 0.0, d).astype(X.dtype, copy=False)

    return record("SincBackward0", out, (x,), (vjp,), saved=(x,))


# --- the descend.special namespace: torch.special's names ---

gammaln = lgamma
psi = digamma
multigammaln = mvlgamma


def expit(input):
    """The logistic sigmoid 1 / (1 + exp(-x)) (torch.special.expit)."""
    from .elementwise import sigmoid

    return sigmoid(input)


def ndtr(input):
    """The standard normal CDF, 0.5 erfc(-x / sqrt(2))."""
    from .elementwise import erfc as _erfc

    x, X = _float_input(input)
    if X.dtype != x._data.dtype:
        x = Tensor(X)
    return 0.5 * _erfc(x * -math.sqrt(0.5))


def __getattr__(name):
    """erf, erfc, exp2, expm1, log1p, logsumexp, softmax, log_softmax: the engine's own ops."""
    if name in ("erf", "erfc", "exp2", "expm1", "log1p", "logsumexp", "softmax", "log_softmax"):
        from ._core import TABLE

        return TABLE[name][0]
    raise AttributeError(f"module 'descend.special' has no attribute '{name}'")


# `import descend.special` finds this module too (descend/__init__.py binds it as descend.special)
sys.modules.setdefault(__name__.rsplit(".", 2)[0] + ".special", sys.modules[__name__])
