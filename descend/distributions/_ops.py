"""The differentiable primitives the distributions need and the engine lacks.

cholesky and solve_triangular (MultivariateNormal; lgamma and digamma are descend/ops/special.py's),
each a NumPy forward with its VJP beside it, recorded through `descend.autograd.record` under PyTorch's
node names. Private to the package: they live here so that no other file changes.
"""

from __future__ import annotations

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor

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
