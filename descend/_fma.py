"""Fused multiply-adds in NumPy: a * b + c rounded once, as PyTorch's compiled CPU kernels compute it.

NumPy has no fused multiply-add; PyTorch's kernels (compiled with FMA contraction) round a * b + c
once where NumPy would round twice, so matching PyTorch's bits needs it emulated exactly.
"""

from __future__ import annotations

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
