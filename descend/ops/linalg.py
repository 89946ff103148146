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

    As PyTorch's: subscripts are letters a-z and A-Z; `...` stands for the dims no letter names (they
    broadcast across operands, aligned from the right); without `->` the output is the ellipsis dims
    followed by the letters that appear exactly once, in alphabetical order (upper case first); a
    letter of size 1 in one operand broadcasts against the others; an input letter (or ellipsis) missing
    from an explicit output is summed over.

    Each `...` is first rewritten as letters the equation does not use, and a broadcast size-1 dim is
    dropped from its operand (that operand then has no subscript for it), so the rest is plain
    letters. The gradient of operand i is the einsum of the output gradient with the other operands,
    writing operand i's subscripts as the output: letters found nowhere else are broadcast back, a
    repeated letter (a diagonal) is scattered back onto it, a dropped size-1 dim sums into it.

    Example:
        >>> a, b = descend.ones(5, 2, 3), descend.ones(5, 3, 4)
        >>> descend.einsum("...ij,...jk->...ik", a, b).shape
        descend.Size([5, 2, 4])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [_tensor(o) for o in operands]
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) > len(ts):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(ins) < len(ts):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    arrays = [t._data for t in ts]
    used = set()
    n_ell = []
    for i, (sub, arr) in enumerate(zip(ins, arrays)):
        for k, c in enumerate(sub.replace("...", "")):
            if c == ".":
                raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any ellipsis")
            if not c.isascii() or not c.isalpha():
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {k} in the equation string, subscripts "
                    "must be in [a-zA-Z]"
                )
            used.add(c)
        n_sub = len(sub.replace("...", ""))
        if "..." in sub:
            if n_sub > arr.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_sub}) is more than the number "
                    f"of dimensions ({arr.ndim}) for operand {i}"
                )
            n_ell.append(arr.ndim - n_sub)
        else:
            if n_sub != arr.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_sub}) does not match the "
                    f"number of dimensions ({arr.ndim}) for operand {i} and no ellipsis was given"
                )
            n_ell.append(0)
    ell = "".join(c for c in _LETTERS if c not in used)[: max(n_ell, default=0)]
    subs = [sub.replace("...", ell[len(ell) - n :]) for sub, n in zip(ins, n_ell)]
    if arrow:
        for c in rhs.replace("...", ""):
            if c not in used:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        out_sub = rhs.replace("...", ell)
    else:
        flat = lhs.replace("...", "").replace(",", "")
        out_sub = ell + "".join(sorted(c for c in set(flat) if flat.count(c) == 1))
    # each letter's size; a size-1 dim that broadcasts is dropped from its operand
    sizes = {}
    for i, (sub, arr) in enumerate(zip(subs, arrays)):
        for k, (c, n) in enumerate(zip(sub, arr.shape)):
            if sub.index(c) != k and arr.shape[sub.index(c)] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't match, "
                    f"{n} != {arr.shape[sub.index(c)]}"
                )
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                if c in ell:
                    raise RuntimeError(
                        f"einsum(): dimension {ell.index(c) - (len(ell) - n_ell[i])} covered by ellipsis in "
                        f"operand {i} has size {n} which does not broadcast with previously seen ellipsis "
                        f"with size {sizes[c]} for the respective dimension"
                    )
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast with "
                    f"previously seen size {sizes[c]}"
                )
    work, wsubs = [], []
    for sub, arr in zip(subs, arrays):
        keep = [k for k, c in enumerate(sub) if not (arr.shape[k] == 1 != sizes[c] and sub.count(c) == 1)]
        if len(keep) != len(sub):
            arr = arr.reshape([arr.shape[k] for k in keep])
            sub = "".join(sub[k] for k in keep)
        work.append(arr)
        wsubs.append(sub)
    out = np.asarray(np.einsum(",".join(wsubs) + "->" + out_sub, *work, optimize=_optimize(work)))

    def vjp_for(i):
        sub = wsubs[i]
        shape = arrays[i].shape

        def vjp(g):
            others = [a for j, a in enumerate(work) if j != i]
            osubs = [s for j, s in enumerate(wsubs) if j != i]
            uniq = "".join(dict.fromkeys(sub))
            seen = set(out_sub).union(*osubs)
            target = "".join(c for c in uniq if c in seen)
            spec = ",".join([out_sub] + osubs) + "->" + target
            grad = np.einsum(spec, g, *others, optimize=_optimize([g] + others))
            if target != uniq:  # letters summed out of operand i alone: their gradient is broadcast
                grad = grad.reshape([sizes[c] if c in seen else 1 for c in uniq])
                grad = np.broadcast_to(grad, [sizes[c] for c in uniq])
            if uniq != sub:  # a repeated subscript (a diagonal): scatter back onto it
                wshape = work[i].shape
                full = np.zeros(wshape, grad.dtype)
                idx = np.indices(wshape, sparse=True)
                mask = np.ones(wshape, bool)
                for k, c in enumerate(sub):
                    if sub.index(c) != k:
                        mask = mask & (idx[k] == idx[sub.index(c)])
                src = grad[tuple(idx[sub.index(c)] for c in uniq)]
                full[mask] = np.broadcast_to(src, wshape)[mask]
                grad = full
            return np.ascontiguousarray(grad).reshape(shape)

        return vjp

    return record(
        "EinsumBackward0", out, tuple(ts), tuple(vjp_for(i) for i in range(len(ts))), saved=tuple(ts)
    )


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _optimize(arrays):
    # NOTE: NumPy's optimize picks a contraction order and BLAS (tensordot) where it can, as torch's
    # opt_einsum path does: 7.6x faster on "bhqd,bhkd->bhqk" (8, 4, 64, 16), 1.5x on a (128, 256) @
    # (256, 128), but its path search costs ~16 us, 7x a 3x4 @ 4x5 einsum: only for large or 3+ operands
    return len(arrays) > 2 or sum(a.size for a in arrays) > 4096


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
