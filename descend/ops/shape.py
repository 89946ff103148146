"""Shape: reshape and views, transposes, expand, concatenation, dtype casts and clone."""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..autograd import _GradMode, _mark_view, attach_multi, record, unbroadcast
from ..tensor import (
    Tensor,
    _dtype,
    _parse_to,
    _wrap,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    tensor,
    uint8,
)
from ._core import _dims, _shape_args, _tensor, op, result_type

# --- views: outputs share storage and version counter with their input (see autograd._mark_view) ---


def _dim(dim, ndim):
    """One dim, wrapped as PyTorch wraps it: a 0-d tensor takes dim 0 or -1 (and gives 0)."""
    d = _dims(dim, ndim)
    return d[0] if d else 0


def _shares(out, X):
    """Whether NumPy gave a view: an empty result counts as one (no element to share, but PyTorch
    still treats reshape/transpose of an empty tensor as a view)."""
    if not isinstance(out, np.ndarray) or out.base is None:
        return False
    return out.size == 0 or np.shares_memory(out, X)


def _view_record(name, out, x, vjp, fn):
    """Record a view op: a view when NumPy gave a view, else a plain result (a copying reshape)."""
    if _shares(out, x._data):
        return record(name, out, (x,), (vjp,), view_of=x, view_fn=fn)
    return record(name, out, (x,), (vjp,))


def _reshaped(x, shape, name):
    X = x._data
    try:
        out = X.reshape(shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {X.size}") from None
    old, new = X.shape, out.shape
    return _view_record(name, out, x, lambda g: np.reshape(g, old), lambda a: a.reshape(new))


@op("reshape")
def reshape(input, *shape):
    """The same elements in a new shape (-1 infers one dimension): a view when the layout allows."""
    return _reshaped(input, _shape_args(shape), "ViewBackward0")


def _view_dtype(x, dtype):
    """`x.view(dtype)`: the same bytes read as another dtype (a view; the last dim scales with the
    element size). Not differentiable, even to its own dtype, as in PyTorch."""
    X = x._data
    if X.ndim == 0 and dtype.itemsize != X.dtype.itemsize:
        raise RuntimeError(f"self.dim() cannot be 0 to view {X.dtype} as {dtype} (different element sizes)")
    try:
        out = X.view(dtype)
    except ValueError as e:
        raise RuntimeError(f"view({dtype}): {e}") from None
    result = _wrap(out)
    _mark_view(result, x, lambda a: a.view(dtype))
    return result


@op("view", function=False)
def view(input, *shape):
    """A view with a new shape; like PyTorch, refuses layouts that would need a copy."""
    X = input._data
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of: "
                        "(torch.dtype dtype), (tuple of ints size)")
    if len(shape) == 1 and isinstance(shape[0], (np.dtype, type)) and shape[0] is not int:
        return _view_dtype(input, _dtype(shape[0]))
    shape = _shape_args(shape)
    out = _reshaped(input, shape, "ViewBackward0")
    if X.size and not _shares(out._data, X):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension "
            "spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return out


@op("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    x = _tensor(input)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dims(start_dim, x.ndim)[0], _dims(end_dim, x.ndim)[0]
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return reshape(x, *shape)


@op("unflatten")
def unflatten(input, dim, sizes):
    """Split dim `dim` into `sizes` (one may be -1)."""
    if input.ndim == 0:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    d = _dims(dim, input.ndim)[0]
    sizes = [int(n) for n in sizes]
    if sizes.count(-1) == 1:  # inferred from dim d alone (NumPy can't infer it in an empty tensor)
        known = math.prod(n for n in sizes if n != -1)
        if known and input.shape[d] % known == 0:
            sizes[sizes.index(-1)] = input.shape[d] // known
    if math.prod(sizes) != input.shape[d] and -1 not in sizes:
        raise RuntimeError(
            f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
            f"({input.shape[d]}) in the input tensor"
        )
    return reshape(input, *(tuple(input.shape[:d]) + tuple(sizes) + tuple(input.shape[d + 1 :])))


@op("squeeze")
def squeeze(input, dim=None):
    """Remove size-1 dims (only those in `dim`, an int or tuple, when given)."""
    x = input
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = _dims(dim, x.ndim) or ()
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    name = "SqueezeBackward0" if dim is None else "SqueezeBackward1"
    return _reshaped(x, shape, name)


@op("unsqueeze")
def unsqueeze(input, dim):
    """Insert a size-1 dim at `dim`."""
    x = input
    d = int(dim)
    if not -(x.ndim + 1) <= d <= x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-(x.ndim + 1)}, {x.ndim}], but got {d})"
        )
    d = d % (x.ndim + 1)
    return _reshaped(x, tuple(x.shape[:d]) + (1,) + tuple(x.shape[d:]), "UnsqueezeBackward0")


@op("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    x = input
    if x.ndim == 0:
        _dims(dim0, 0), _dims(dim1, 0)
        return _view_record("TransposeBackward0", x._data.view(), x, lambda g: g, lambda a: a.view())
    d0, d1 = _dims(dim0, x.ndim)[0], _dims(dim1, x.ndim)[0]
    return _view_record(
        "TransposeBackward0",
        np.swapaxes(x._data, d0, d1),
        x,
        lambda g: np.swapaxes(g, d0, d1),
        lambda a: np.swapaxes(a, d0, d1),
    )


@op("t")
def t(input):
    """Transpose of a matrix (a vector or scalar is returned as a view of itself)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else transpose(input, 0, 0)


@op("adjoint", function=False)
def adjoint(input):
    return transpose(input, -2, -1)


@op("permute")
def permute(input, *dims):
    """Reorder dims (a view)."""
    x = input
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_args(dims)
    if len(dims) != x.ndim or sorted(d % builtins.max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        if len(dims) != x.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
                f"the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to "
                f"len(dims) = {len(dims)}"
            )
        raise RuntimeError(
            f"permute(): dims {dims} are not a permutation of the {x.ndim} dims of shape {tuple(x.shape)}"
        )
    dims = tuple(d % x.ndim for d in dims) if x.ndim else ()
    inverse = tuple(np.argsort(dims))
    return _view_record(
        "PermuteBackward0",
        np.transpose(x._data, dims),
        x,
        lambda g: np.transpose(g, inverse),
        lambda a: np.transpose(a, dims),
    )


@op("movedim", "moveaxis")
def movedim(input, source, destination):
    """Move dims from `source` to `destination` positions (a view)."""
    if input.ndim == 0:  # PyTorch: a 0-d tensor takes dim 0 or -1 and stays as it is
        src = source if isinstance(source, (tuple, list)) else (source,)
        dst = destination if isinstance(destination, (tuple, list)) else (destination,)
        _dims(tuple(src), 0), _dims(tuple(dst), 0)
        return _view_record("PermuteBackward0", input._data.view(), input, lambda g: g, lambda a: a.view())
    out = np.moveaxis(input._data, source, destination)
    return _view_record(
        "PermuteBackward0",
        out,
        input,
        lambda g: np.moveaxis(g, destination, source),
        lambda a: np.moveaxis(a, source, destination),
    )


def expand_error(shape, target):
    """PyTorch's error for a tensor of `shape` that cannot be expanded to `target` (expand, x[i] = v)."""
    shape, target = tuple(shape), tuple(target)
    if len(shape) > len(target):
        return RuntimeError(
            f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(target)}): the number of sizes "
            f"provided ({len(target)}) must be greater or equal to the number of dimensions in the tensor "
            f"({len(shape)})"
        )
    lead = len(target) - len(shape)
    for d in range(len(target) - 1, lead - 1, -1):
        have = shape[d - lead]
        if have != 1 and have != target[d]:
            return RuntimeError(
                f"The expanded size of the tensor ({target[d]}) must match the existing size ({have}) at "
                f"non-singleton dimension {d}.  Target sizes: {list(target)}.  Tensor sizes: {list(shape)}"
            )
    return RuntimeError(f"shape {list(shape)} cannot be expanded to {list(target)}")


@op("expand")
def expand(input, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dim; a view)."""
    x = input
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})"
        )
    for i in range(lead):
        if sizes[i] == -1:
            raise RuntimeError(
                f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
            )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(x._data, shape)
    except ValueError:
        raise expand_error(tuple(x.shape), shape) from None
    view_fn = lambda a: np.broadcast_to(a, shape)  # noqa: E731
    if out.size == x._data.size:
        # no element repeats (only size-1 dims added or kept): a writeable view, as PyTorch's, so an
        # in-place op through it reaches the base (broadcast_to's views are read-only)
        out = x._data.reshape(shape)
        view_fn = lambda a: a.reshape(shape)  # noqa: E731
    old = x.shape
    return record("ExpandBackward0", out, (x,), (lambda g: unbroadcast(g, old),), view_of=x, view_fn=view_fn)


@op("expand_as", function=False)
def expand_as(input, other):
    return expand(input, tuple(other.shape))


@op("broadcast_to")
def broadcast_to(input, size):
    return expand(input, tuple(size))


@op("narrow")
def narrow(input, dim, start, length):
    """The slice start:start+length of dim `dim` (a view)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dims(dim, input.ndim)[0]
    n = input.shape[d]
    if not -n <= int(start) <= n:  # PyTorch's error types: a start out of range is an IndexError
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {int(start)})")
    start = int(start) + (n if int(start) < 0 else 0)
    if not 0 <= length <= n - start:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    index = (slice(None),) * d + (slice(start, start + length),)
    from .indexing import getitem

    return getitem(input, index)


@op("select")
def select(input, dim, index):
    """The sub-tensor at `index` of dim `dim`, without that dim (a view)."""
    d = _dims(dim, input.ndim)[0]
    from .indexing import getitem

    return getitem(input, (slice(None),) * d + (int(index),))


@op("unbind")
def unbind(input, dim=0):
    """The slices along `dim` as a tuple of views, from one UnbindBackward0 node.

    Iteration is this along dim 0 (`a, b, c = params`), as in PyTorch.

    Example:
        >>> a, b, c = descend.tensor([1., 2., 3.], requires_grad=True).unbind()
    """
    x = _tensor(input)
    X = x._data
    if X.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = 0 if dim == 0 else _dims(dim, X.ndim)[0]
    n = X.shape[d]
    # NOTE: the rows' getters (views, never scalar copies) are made once per length and kept for
    # short ones; with the VJP kept per (dim, dtype) below, a quadratic-fit step went from 454k to
    # 425k instructions (callgrind)
    getters = (_ROW_GETTERS.get(n) or _row_getters(n)) if d == 0 else [
        operator.itemgetter((slice(None),) * d + (i, Ellipsis)) for i in range(n)]
    parts = [get(X) for get in getters]
    if not (x._requires_grad and _GradMode.enabled):
        outs = [_wrap(p) for p in parts]
    else:
        # NOTE: one node for all n outputs, whose backward runs one VJP (PyTorch's UnbindBackward0);
        # it holds no data, so one per (dim, dtype) serves every call
        key = (d, X.dtype)
        vjp = _UNBIND_VJPS.get(key) or _unbind_vjp(*key)
        outs = attach_multi("UnbindBackward0", parts, (x,), vjp)
    if x._view is None:  # NOTE: views of a plain tensor, without composing functions
        version = x._version
        for o, get in zip(outs, getters):
            o._view = (x, get, version[0])
            o._version = version
    else:
        for o, get in zip(outs, getters):
            _mark_view(o, x, get)
    return _multi_output_views(outs, "Unbind")


def _multi_output_views(outs, name):
    """Mark the views of an op that returns several (`unbind`, `split`): in a graph, PyTorch refuses
    to change them in place (see ops.inplace.check_inplace)."""
    if outs and outs[0]._requires_grad:
        for k, o in enumerate(outs):
            o._multi = (name, k)
    return tuple(outs)


_ROW_GETTERS = {}  # n -> [itemgetter((i, ...))]: row i of an array as a view (a 0-d array for 1-d)
_UNBIND_VJPS = {}  # (dim, dtype) -> the VJP of unbind


def _row_getters(n):
    getters = [operator.itemgetter((i, Ellipsis)) for i in range(n)]
    if n <= 64:
        _ROW_GETTERS[n] = getters
    return getters


def _unbind_vjp(d, dtype):
    def vjp(grads):
        # NOTE: np.array stacks along a new first axis in a tenth of np.stack's instructions
        stacked = np.array(grads, dtype=dtype)
        return (stacked if d == 0 else np.moveaxis(stacked, 0, d),)

    _UNBIND_VJPS[(d, dtype)] = vjp
    return vjp


@op("split")
def split(tensor, split_size_or_sections, dim=0):
    """Views of consecutive chunks along `dim`: equal chunks of a size, or the given sizes.

    As in PyTorch, its outputs (and chunk's) may not change in place while they are in a graph.
    """
    return _multi_output_views(_split(tensor, split_size_or_sections, dim), "Split")


def _split(tensor, split_size_or_sections, dim):
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        # an empty dim splits into one empty piece, as in PyTorch
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size and n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                "at dimension "
                f"{d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


@op("chunk")
def chunk(input, chunks, dim=0):
    """Split into `chunks` views of (nearly) equal size along `dim`."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input.shape[_dim(dim, input.ndim)]
    if n == 0:  # PyTorch: `chunks` empty pieces of an empty dim
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


@op("tensor_split")
def tensor_split(input, indices_or_sections, dim=0):
    """Split into n nearly equal views, or at the given indices, along `dim` (NumPy's array_split)."""
    d = _dims(dim, input.ndim)[0]
    n = input.shape[d]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [0] + [builtins.min(builtins.max(int(i), 0), n) for i in indices_or_sections] + [n]
        sizes = [builtins.max(b - a, 0) for a, b in zip(idx[:-1], idx[1:])]
    return _split(input, sizes, d)  # PyTorch's tensor_split views may change in place


@op("diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the 2-D sub-matrices given by dim1 and dim2 (a view; the diagonal is the last dim)."""
    X = input._data
    d1, d2 = _dim(dim1, X.ndim), _dim(dim2, X.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    # np.diagonal's views are read-only: PyTorch's diagonal is a view in-place ops write through
    out = _writable_diagonal(X, offset, d1, d2)
    shape = X.shape

    def vjp(g):
        grad = np.zeros(shape, dtype=g.dtype)
        _writable_diagonal(grad, offset, d1, d2)[...] = g
        return grad

    return _view_record("DiagonalBackward0", out, input, vjp, lambda a: _writable_diagonal(a, offset, d1, d2))


def _writable_diagonal(a, offset, d1, d2):
    """np.diagonal is read-only; the same elements as a writable strided view."""
    moved = np.moveaxis(a, (d1, d2), (-2, -1))
    n1, n2 = moved.shape[-2:]
    if offset >= 0:
        k = builtins.max(builtins.min(n1, n2 - offset), 0)
        start = moved[..., :k, offset : offset + k] if k else moved[..., :0, :0]
    else:
        k = builtins.max(builtins.min(n1 + offset, n2), 0)
        start = moved[..., -offset : -offset + k, :k] if k else moved[..., :0, :0]
    st = start.strides
    return np.lib.stride_tricks.as_strided(
        start, start.shape[:-2] + (k,), st[:-2] + (st[-2] + st[-1],), writeable=True
    )


# --- copies: joins, repeats, flips ---


@op("cat", "concatenate", "concat", method=False)
def cat(tensors, dim=0):
    """Join tensors along an existing dim (dtypes promote as in PyTorch; 1-D empty tensors are skipped)."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dt = result_type(*tensors) if len({t._data.dtype for t in tensors}) > 1 else tensors[0]._data.dtype
    # PyTorch's legacy rule: a 1-D empty tensor joins anything; it is skipped for the shapes only
    # and stays a parent (its gradient is an empty one)
    skip = [t.ndim == 1 and t.shape[0] == 0 for t in tensors]
    if all(skip):
        skip = [False] * len(tensors)
    ref = tensors[skip.index(False)]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = _dims(dim, ref.ndim)[0]
    for i, t in enumerate(tensors):
        if skip[i]:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != axis and t.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{ref.shape[k]} but "
                    f"got size {t.shape[k]} for tensor number {i} in the list."
                )
    out = np.concatenate([t._data.astype(dt, copy=False) for t, s in zip(tensors, skip) if not s], axis=axis)
    bounds = np.cumsum([0] + [0 if s else t.shape[axis] for t, s in zip(tensors, skip)])
    vjps = tuple(
        (
            (lambda g, src=t._data.dtype: np.zeros((0,), src))
            if s
            else (lambda g, lo=lo, hi=hi, src=t._data.dtype: np.take(g, np.arange(lo, hi), axis=axis).astype(
                src, copy=False
            ))
        )
        for lo, hi, t, s in zip(bounds[:-1], bounds[1:], tensors, skip)
    )
    return record("CatBackward0", out, tuple(tensors), vjps)


@op("stack", method=False)
def stack(tensors, dim=0):
    """Join tensors along a new dim."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                "entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    ndim = tensors[0].ndim + 1
    axis = _dims(dim, ndim)[0]
    dt = result_type(*tensors)
    out = np.stack([t._data.astype(dt, copy=False) for t in tensors], axis=axis)
    vjps = tuple(
        (lambda g, i=i, src=t._data.dtype: np.take(g, i, axis=axis).astype(src, copy=False))
        for i, t in enumerate(tensors)
    )
    return record("StackBackward0", out, tuple(tensors), vjps)


@op("hstack", method=False)
def hstack(tensors):
    tensors = [_tensor(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@op("vstack", "row_stack", method=False)
def vstack(tensors):
    return cat([t if t.ndim > 1 else reshape(t, 1, -1) for t in map(_tensor, tensors)], 0)


@op("flip")
def flip(input, dims):
    """Reverse the order of elements along `dims` (a copy, as in PyTorch)."""
    axes = _dims(dims, input.ndim)
    out = np.flip(input._data, axes).copy()
    return record("FlipBackward0", out, (input,), (lambda g: np.flip(g, axes),))


@op("fliplr")
def fliplr(input):
    return flip(input, (1,))


@op("flipud")
def flipud(input):
    return flip(input, (0,))


@op("roll")
def roll(input, shifts, dims=None):
    """Rotate elements along `dims` by `shifts` (flattened first when dims is None)."""
    X = input._data
    out = np.roll(X, shifts, dims)
    neg = tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts
    return record("RollBackward0", out, (input,), (lambda g: np.roll(g, neg, dims),))


@op("repeat", function=False)
def repeat(input, *sizes):
    """Tile the tensor `sizes` times along each dim (leading new dims allowed), as `Tensor.repeat`."""
    sizes = _shape_args(sizes)
    X = input._data
    if len(sizes) < X.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    Xe = X.reshape((1,) * (len(sizes) - X.ndim) + X.shape)
    out = np.tile(Xe, sizes)
    shape = X.shape

    def vjp(g):
        split = []
        for r, n in zip(sizes, Xe.shape):
            split += [r, n]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(sizes), 2))).reshape(shape)

    return record("RepeatBackward0", out, (input,), (vjp,))


@op("tile")
def tile(input, dims):
    """Like `repeat`, padding `dims` with leading 1s when it is shorter than the tensor's rank."""
    dims = tuple(dims)
    dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, *dims)


@op("repeat_interleave")
def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element `repeats` times (an int or a tensor of counts) along `dim` (flattened if None)."""
    x = _tensor(input)
    if dim is None:
        x = reshape(x, -1)
        d = 0
    else:
        d = _dims(dim, x.ndim)[0]
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = np.repeat(np.arange(x.shape[d]), reps)
    from .indexing import index_select

    return index_select(x, d, _wrap(idx))


def _tri(name, node, fn):
    def tri(input, diagonal=0):
        X = input._data
        if X.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        out = fn(X, diagonal)
        return record(node, out, (input,), (lambda g: fn(g, diagonal),))

    tri.__name__ = name
    tri.__doc__ = (
        f"The {'lower' if name == 'tril' else 'upper'} triangle of the last two dims (others zeroed)."
    )
    return tri


tril = _tri("tril", "TrilBackward0", np.tril)
op("tril")(tril)
triu = _tri("triu", "TriuBackward0", np.triu)
op("triu")(triu)


@op("diag")
def diag(input, diagonal=0):
    """A 1-D tensor becomes a diagonal matrix; a matrix gives its diagonal (a copy)."""
    X = input._data
    if X.ndim == 1:
        out = np.diag(X, diagonal)
        n = X.shape[0]
        return record("DiagEmbedBackward0", out, (input,), (lambda g: np.diagonal(g, diagonal).copy()[:n],))
    if X.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{X.ndim}D")
    return clone(diagonal_(input, diagonal))


def diagonal_(input, offset):
    return diagonal(input, offset, 0, 1)


@op("diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonals (last dims) are the input's last dim."""
    X = input._data
    n = X.shape[-1] + builtins.abs(offset)
    out = np.zeros(X.shape[:-1] + (n, n), dtype=X.dtype)
    _writable_diagonal(out, offset, -2, -1)[...] = X
    if (dim1, dim2) not in ((-2, -1), (X.ndim - 1, X.ndim)):
        out = np.moveaxis(out, (-2, -1), (dim1, dim2))
    return record(
        "DiagEmbedBackward0",
        out,
        (input,),
        (lambda g: np.diagonal(np.moveaxis(g, (dim1, dim2), (-2, -1)), offset, -2, -1).copy(),),
    )


def to_dtype(x, dtype):
    """A copy of x with another dtype; floating casts stay differentiable."""
    X = x._data
    if X.dtype == dtype:
        return x
    out = X.astype(dtype)
    if out.dtype.kind != "f":
        return _wrap(out)
    src = X.dtype
    return record("ToCopyBackward0", out, (x,), (lambda g: g.astype(src),))


@op("clone")
def clone(input, *, memory_format=None):
    """A copy (row-major) that stays in the graph."""
    return record("CloneBackward0", np.array(input._data, copy=True, order="C"), (input,), (lambda g: g,))


@op("contiguous", function=False)
def contiguous(input, memory_format=None):
    """This tensor if its elements are laid out in row-major order, else a contiguous copy."""
    return input if input._data.flags.c_contiguous else clone(input)


# --- dtype conversions and shape-taking methods ---


def _to(self, *args, **kwargs):
    """`to(dtype)`, `to("cpu")`, `to(device)`, `to(other_tensor)`: devices are no-ops, dtypes convert."""
    dtype = _parse_to(args, kwargs)
    return self if dtype is None else to_dtype(self, dtype)


op("to", function=False)(_to)

_TYPE_NAMES = {
    float16: "HalfTensor",
    float32: "FloatTensor",
    float64: "DoubleTensor",
    int8: "CharTensor",
    int16: "ShortTensor",
    int32: "IntTensor",
    int64: "LongTensor",
    uint8: "ByteTensor",
    bool_: "BoolTensor",
}


@op("type", function=False)
def type_(self, dtype=None):
    """`x.type()` names the tensor type ("descend.FloatTensor"); `x.type(dtype)` converts, as in PyTorch."""
    if dtype is None:
        return f"descend.{_TYPE_NAMES[self.dtype]}"
    return to_dtype(self, _dtype(dtype))


def _caster(dtype):
    def cast(self):
        return to_dtype(self, dtype)

    cast.__doc__ = f"This tensor as {dtype} (itself when it already is)."
    return cast


for _name, _dt in dict(
    float=float32, double=float64, half=float16, long=int64, int=int32, bool=bool_
).items():
    op(_name, function=False)(_caster(_dt))


@op("type_as", function=False)
def type_as(self, other):
    return to_dtype(self, other.dtype)


@op("view_as", "reshape_as", function=False)
def view_as(self, other):
    return reshape(self, *other.shape)


@op("new_zeros", function=False)
def new_zeros(self, *size, dtype=None, requires_grad=False):
    return _new_like(self, np.zeros(_shape_args(size), dtype=_dtype(dtype) or self.dtype), requires_grad)


@op("new_ones", function=False)
def new_ones(self, *size, dtype=None, requires_grad=False):
    return _new_like(self, np.ones(_shape_args(size), dtype=_dtype(dtype) or self.dtype), requires_grad)


@op("new_full", function=False)
def new_full(self, size, fill_value, dtype=None, requires_grad=False):
    return _new_like(
        self, np.full(_shape_args((size,)), fill_value, dtype=_dtype(dtype) or self.dtype), requires_grad
    )


@op("new_empty", function=False)
def new_empty(self, *size, dtype=None, requires_grad=False):
    return new_zeros(self, *size, dtype=dtype, requires_grad=requires_grad)


@op("new_tensor", function=False)
def new_tensor(self, data, dtype=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_like(self, arr, requires_grad):
    t = _wrap(arr)
    return t.requires_grad_() if requires_grad else t
