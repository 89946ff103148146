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
    _same_dtype(a, b)
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


def _same_dtype(a, b, what="m1 and m2"):
    if a._data.dtype != b._data.dtype:
        names = {
            "float32": "float",
            "float64": "double",
            "float16": "half",
            "int64": "long int",
            "int32": "int",
            "bool": "bool",
            "uint8": "unsigned char",
        }
        raise RuntimeError(
            f"expected {what} to have the same dtype, but got: {names.get(a.dtype.name, a.dtype.name)} != "
            f"{names.get(b.dtype.name, b.dtype.name)}"
        )


@op("mm")
def mm(input, mat2):
    """Matrix product of two matrices (2-D only, as torch.mm)."""
    a, b = _tensor(input), _tensor(mat2)
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b)


@op("bmm")
def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with equal batch sizes."""
    a, b = _tensor(input), _tensor(mat2)
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
            f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
        )
    return matmul(a, b)


@op("dot", "inner")
def dot(input, other):
    """The dot product of two 1-D tensors."""
    a, b = _tensor(input), _tensor(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
            "have the same "
            "number of elements, but got different number of elements"
        )
    _same_dtype(a, b, "both vectors")
    return matmul(a, b)


@op("mv")
def mv(input, vec):
    """Matrix-vector product."""
    a, b = _tensor(input), _tensor(vec)
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}, {b.ndim}")
    return matmul(a, b)


@op("outer", "ger")
def outer(input, vec2):
    """The outer product of two vectors."""
    a, b = _tensor(input), _tensor(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {a.ndim}D and {b.ndim}D")
    from .shape import reshape

    return reshape(a, -1, 1) * reshape(b, 1, -1)


@op("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)


@op("einsum", method=False)
def einsum(equation, *operands):
    """Einstein summation (`einsum("ij,jk->ik", a, b)`), differentiable in every operand.

    The gradient of operand i is the einsum of the output gradient with the other operands, writing
    operand i's subscripts as the output (with repeated or summed-out subscripts handled by NumPy).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [_tensor(o) for o in operands]
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum: '...' (ellipsis) subscripts are not supported by descend yet")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ts):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(ts) > len(ins)
            else "einsum(): fewer operands were provided than specified"
        )
    if not _:
        letters = sorted(c for c in set(lhs.replace(",", "")) if lhs.replace(",", "").count(c) == 1)
        rhs = "".join(letters)
    arrays = [t._data for t in ts]
    out = np.asarray(np.einsum(f"{lhs}->{rhs}", *arrays))
    sizes = {}
    for sub, arr in zip(ins, arrays):
        for c, n in zip(sub, arr.shape):
            sizes[c] = n

    def vjp_for(i):
        sub = ins[i]

        def vjp(g):
            others = [a for j, a in enumerate(arrays) if j != i]
            subs = [s for j, s in enumerate(ins) if j != i]
            uniq = "".join(dict.fromkeys(sub))
            grad = np.einsum(",".join([rhs] + subs) + "->" + uniq, g, *others)
            if uniq != sub:  # a repeated subscript (a diagonal): scatter back onto it
                full = np.zeros(arrays[i].shape, grad.dtype)
                idx = tuple(np.indices(arrays[i].shape, sparse=True))
                pos = {c: k for k, c in enumerate(uniq)}
                mask = np.ones(arrays[i].shape, bool)
                for a_k, c in enumerate(sub):
                    first = sub.index(c)
                    if first != a_k:
                        mask &= idx[a_k] == idx[first]
                src = grad[tuple(idx[sub.index(c)] for c in uniq)]
                full[mask] = np.broadcast_to(src, arrays[i].shape)[mask]
                del pos
                return full
            return grad

        return vjp

    return record(
        "EinsumBackward0", out, tuple(ts), tuple(vjp_for(i) for i in range(len(ts))), saved=tuple(ts)
    )


@op("tensordot", method=False)
def tensordot(a, b, dims=2):
    """Sum products over the last `dims` dims of a and first of b (or the given dim lists)."""
    a, b = _tensor(a), _tensor(b)
    if isinstance(dims, int):
        ax_a, ax_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        ax_a, ax_b = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    letters = "abcdefghijklmnopqrstuvwxyz"
    sa = list(letters[: a.ndim])
    sb = list(letters[a.ndim : a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        sb[j % b.ndim] = sa[i % a.ndim]
    contracted = {sa[i % a.ndim] for i in ax_a}
    out = "".join(c for c in sa if c not in contracted) + "".join(c for c in sb if c not in contracted)
    return einsum(f"{''.join(sa)},{''.join(sb)}->{out}", a, b)
