"""Matrix products."""

from __future__ import annotations

import numpy as np

from ..autograd import record, unbroadcast
from ._core import _shape_str, _tensor, op

# --- linalg ---


@op("matmul")
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
