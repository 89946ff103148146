"""Fused multiply-adds in NumPy: a * b + c rounded once, as PyTorch's compiled CPU kernels compute it.

NumPy has no fused multiply-add; PyTorch's kernels (compiled with FMA contraction) round a * b + c
once where NumPy would round twice, so matching PyTorch's bits needs it emulated exactly.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np


def fma64(a, b, c):
    """float64 a * b + c rounded once, as PyTorch's compiled kernels fuse it (a * 1 + 0 is a + 0).

    The product splits exactly into p + e (Dekker's TwoProduct) and p + c + e is summed in long double,
    which rounds right unless the sum lands next to a float64 midpoint (a few in 10,000 with
    cancellation); those few are redone in exact rational arithmetic.
    """
    a = np.asarray(a, np.float64)
    if np.ndim(b) == 0 and np.ndim(c) == 0 and b == 1 and c == 0:  # NOTE: randn(10**6) f64: 252 -> 72 ms
        return a + 0.0
    b, c = np.asarray(b, np.float64), np.asarray(c, np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    a, b, c = (np.broadcast_to(v, shape) for v in (a, b, c))
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        t = 134217729.0 * a  # Veltkamp's split of each factor into two 26-bit halves (2**27 + 1)
        ah = t - (t - a)
        t = 134217729.0 * b
        bh = t - (t - b)
        al, bl = a - ah, b - bh
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a * b == p + e exactly
        wide = np.longdouble
        total = (p.astype(wide) + c.astype(wide)) + e.astype(wide)
        out = np.asarray(total.astype(np.float64))
        odd = ~np.isfinite(out)
        if odd.any():  # infinities, NaN, or a split that overflowed: the plain expression
            out = np.where(odd, p + c, out)
        toward = np.nextafter(out, np.where(total > out, np.inf, -np.inf))
        midpoint = (out.astype(wide) + toward.astype(wide)) / 2
        near = np.abs(total - midpoint) <= np.abs(total) * wide(2.0**-58)
    redo = near & np.isfinite(out)
    if redo.any():
        out = np.array(out, ndmin=1)  # a 0-d result as well
        for i in zip(*np.nonzero(np.atleast_1d(redo))):
            j = i if a.ndim else ()
            out[i] = float(Fraction(float(a[j])) * Fraction(float(b[j])) + Fraction(float(c[j])))
        out = out.reshape(a.shape)
    return out


def fma(a, b, c, out=None):
    """a * b + c rounded once, as the fused multiply-adds of PyTorch's compiled CPU kernels.

    The arguments' dtype is kept; constants must already be of it (PyTorch's `scalar_t(c)`).
    float32 (and float16) goes through float64, where the product is exact. float64 takes
    `fma64` (exact): long double's 64-bit product alone differed from the fused result
    in 9% of GELU-tanh float64 gradients. Into `out` when given (float32: it may be one of the
    arguments). The float32 route agreed with torch on every one of 5 million randn and 100,000
    uniform_ draws (it can differ only at a float32 tie that the float64 rounding made, about one
    case in 2**29).
    """
    dtype = np.result_type(a, b, c)
    if dtype.itemsize < 8:
        shape = np.broadcast_shapes(np.shape(a), np.shape(b), np.shape(c))
        wide, other = _scratch(shape, 0), _scratch(shape, 1)
        np.copyto(wide, a)  # (two plain casts and a float64 product: 0.85x of a casting multiply)
        np.copyto(other, b)
        np.multiply(wide, other, out=wide)
        np.add(wide, c, out=wide)
        if out is None:
            out = np.empty(shape, dtype)
        np.copyto(out, wide, casting="same_kind")  # the sum in float64, rounded once to the dtype
        return out
    result = fma64(np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64))
    if out is None:
        return result
    out[...] = result
    return out


_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 21  # elements (16 MiB of float64) kept per slot and thread at most


def _scratch(shape, slot):
    """A reused float64 work array of `shape` (two slots per thread).

    NOTE: a fresh float64 temporary of a (128, 256) activation is 256 KiB, above malloc's mmap
    threshold: its page faults made the float32 multiply-add 5x slower than the two passes it takes.
    """
    n = math.prod(shape)
    if n > _SCRATCH_MAX:  # not kept: a large array's faults are small beside its passes
        return np.empty(shape, np.float64)
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None:
        bufs = _SCRATCH.bufs = [np.empty(0), np.empty(0)]
    if bufs[slot].size < n:
        bufs[slot] = np.empty(n, np.float64)
    return bufs[slot][:n].reshape(shape)
