"""The differentiable primitives the distributions need and the engine lacks.

lgamma / digamma (Binomial, Beta, Gamma, Dirichlet), cholesky and solve_triangular (MultivariateNormal),
each a NumPy forward with its VJP beside it, recorded through `descend.autograd.record` under PyTorch's
node names. Private to the package: they live here so that no other file changes.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor

# --- special functions ---

_lgamma64 = np.frompyfunc(math.lgamma, 1, 1)


def _lgamma_np(x):
    out = np.asarray(_lgamma64(np.asarray(x, np.float64)), np.float64)
    return out.astype(x.dtype, copy=False)


def _digamma_np(x):
    """digamma to float64 precision: reflection below 0.5, recurrence up to 6, then the asymptotic series."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        reflect = x < 0.5
        z = np.where(reflect, 1.0 - x, x)
        acc = np.zeros_like(z)
        while True:
            small = z < 6.0
            if not small.any():
                break
            acc = np.where(small, acc - 1.0 / z, acc)
            z = np.where(small, z + 1.0, z)
        inv2 = 1.0 / (z * z)
        series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
        psi = np.log(z) - 0.5 / z - series + acc
        out = np.where(reflect, psi - math.pi / np.tan(math.pi * x), psi)
        out = np.where(pole, np.nan, out)
    return out


def lgamma(x: Tensor) -> Tensor:
    """log|Gamma(x)| elementwise; its gradient is digamma(x)."""
    X = x._data
    return record("LgammaBackward0", _lgamma_np(X), (x,),
                  (lambda g: g * _digamma_np(X).astype(X.dtype, copy=False),), saved=(x,))


def digamma(x: Tensor) -> Tensor:
    """The logarithmic derivative of Gamma (no gradient of its own: nothing here differentiates it)."""
    return record("DigammaBackward0", _digamma_np(x._data).astype(x._data.dtype, copy=False), (x,), (None,))


# --- triangular factors ---


def _tri(a, upper):
    return np.triu(a) if upper else np.tril(a)


def _solve_tri_np(A, B, upper, left=True):
    """X with A X = B (left) or X A = B (right), A triangular (the other triangle is ignored)."""
    A = _tri(A, upper)
    if left:
        return np.linalg.solve(A, B)
    return np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), np.swapaxes(B, -1, -2)), -1, -2)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool) -> Tensor:
    """X with A X = B for a triangular A, batch dims broadcast (torch.linalg.solve_triangular, left=True)."""
    a, b = A._data, B._data
    X = _solve_tri_np(a, b, upper)

    def vjp_b(g):
        return unbroadcast(_solve_tri_np(np.swapaxes(a, -1, -2), g, not upper), b.shape)

    def vjp_a(g):
        gB = _solve_tri_np(np.swapaxes(a, -1, -2), g, not upper)
        return unbroadcast(_tri(-gB @ np.swapaxes(X, -1, -2), upper), a.shape)

    return record("LinalgSolveTriangularBackward0", X.astype(a.dtype, copy=False), (A, B),
                  (vjp_a, vjp_b), saved=(A, B))


def cholesky(A: Tensor) -> Tensor:
    """The lower Cholesky factor L of a symmetric positive-definite A (A = L L^T), batched.

    Backward is PyTorch's (cholesky_backward): gA = L^-T Phi(L^T gL) L^-1 with Phi the lower triangle,
    diagonal halved, made symmetric.
    """
    a = A._data
    try:
        L = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise ValueError(
            "linalg.cholesky: The factorization could not be completed because the input is not "
            "positive-definite."
        ) from None

    def vjp(g):
        Lt = np.swapaxes(L, -1, -2)
        gA = np.tril(Lt @ g)
        gA = 0.5 * (gA + np.swapaxes(np.tril(gA, -1), -1, -2))
        gA = _solve_tri_np(Lt, gA, upper=True, left=True)
        return _solve_tri_np(L, gA, upper=False, left=False)

    return record("LinalgCholeskyExBackward0", L.astype(a.dtype, copy=False), (A,), (vjp,), saved=(A,))
