"""Shape: reshape and views, transposes, expand, concatenation, dtype casts and clone."""

from __future__ import annotations

import builtins

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import (
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
from ._core import _dims, _shape_args, _tensor, op

# --- shape ---


@op("reshape")
def reshape(x, *shape):
    """The same elements in a new shape (-1 infers one dimension)."""
    X = x._data
    shape = _shape_args(shape)
    try:
        out = X.reshape(shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {X.size}") from None
    old = X.shape
    return record("ViewBackward0", out, (x,), (lambda g: g.reshape(old),))


op("view", function=False)(reshape)


@op("flatten")
def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    x = _tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dims(start_dim, x.ndim)[0], _dims(end_dim, x.ndim)[0]
    shape = x.shape[:s] + (-1,) + x.shape[e + 1 :]
    return reshape(x, *shape) if s <= e else x


@op("squeeze")
def squeeze(x, dim=None):
    """Remove size-1 dims (only `dim` when given)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = _dims(dim, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, *shape) if shape != x.shape else x


@op("unsqueeze")
def unsqueeze(x, dim):
    """Insert a size-1 dim at `dim`."""
    d = int(dim)
    if not -(x.ndim + 1) <= d <= x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-(x.ndim + 1)}, {x.ndim}], but got {d})"
        )
    d = d % (x.ndim + 1)
    return reshape(x, *(x.shape[:d] + (1,) + x.shape[d:]))


@op("transpose")
def transpose(x, dim0, dim1):
    """Swap two dims."""
    d0, d1 = _dims(dim0, x.ndim)[0], _dims(dim1, x.ndim)[0]
    return record(
        "TransposeBackward0", np.swapaxes(x._data, d0, d1), (x,), (lambda g: np.swapaxes(g, d0, d1),)
    )


@op("t")
def t(x):
    """Transpose of a matrix (a vector is returned unchanged)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x if x.ndim < 2 else transpose(x, 0, 1)


@op("permute")
def permute(x, *dims):
    """Reorder dims."""
    dims = _shape_args(dims)
    if sorted(d % builtins.max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise RuntimeError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}"
        )
    dims = tuple(d % x.ndim for d in dims)
    inverse = tuple(np.argsort(dims))
    return record(
        "PermuteBackward0", np.transpose(x._data, dims), (x,), (lambda g: np.transpose(g, inverse),)
    )


@op("expand")
def expand(x, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(x._data, shape)
    except ValueError:
        raise RuntimeError(f"expand: the shape {x.shape} can't be expanded to {shape}") from None
    old = x.shape
    return record("ExpandBackward0", out, (x,), (lambda g: unbroadcast(g, old),))


@op("expand_as", function=False)
def expand_as(x, other):
    return expand(x, *other.shape)


@op("cat", "concatenate", "concat", method=False)
def cat(tensors, dim=0):
    """Join tensors along an existing dim."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    axis = _dims(dim, tensors[0].ndim)[0]
    try:
        out = np.concatenate([t._data for t in tensors], axis=axis)
    except ValueError:
        raise RuntimeError(
            f"cat(): sizes of tensors must match except in dimension {dim}; got shapes "
            f"{[tuple(t.shape) for t in tensors]}"
        ) from None
    bounds = np.cumsum([0] + [t.shape[axis] for t in tensors])
    vjps = tuple(
        (lambda g, lo=lo, hi=hi: np.take(g, np.arange(lo, hi), axis=axis))
        for lo, hi in zip(bounds[:-1], bounds[1:])
    )
    return record("CatBackward0", out, tuple(tensors), vjps)




@op("stack", method=False)
def stack(tensors, dim=0):
    """Join tensors along a new dim."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(
            f"stack expects each tensor to be equal size, but got shapes {[t.shape for t in tensors]}"
        )
    axis = int(dim) % (tensors[0].ndim + 1)
    out = np.stack([t._data for t in tensors], axis=axis)
    vjps = tuple((lambda g, i=i: np.take(g, i, axis=axis)) for i in range(len(tensors)))
    return record("StackBackward0", out, tuple(tensors), vjps)


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
def clone(x):
    """A copy that stays in the graph."""
    return record("CloneBackward0", x._data.copy(), (x,), (lambda g: g,))


# --- dtype conversions and shape-taking methods ---


def _to(self, *args, **kwargs):
    """`to(dtype)`, `to("cpu")`, `to(device)`, `to(other_tensor)`: devices are no-ops, dtypes convert."""
    dtype = _parse_to(args, kwargs)
    return self if dtype is None else to_dtype(self, dtype)


op("to", function=False)(_to)

_TYPE_NAMES = {float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", int8: "CharTensor",
               int16: "ShortTensor", int32: "IntTensor", int64: "LongTensor", uint8: "ByteTensor",
               bool_: "BoolTensor"}


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


for _name, _dt in dict(float=float32, double=float64, half=float16, long=int64, int=int32,
                       bool=bool_).items():
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
    return _new_like(self, np.full(_shape_args((size,)), fill_value, dtype=_dtype(dtype) or self.dtype),
                     requires_grad)


@op("new_empty", function=False)
def new_empty(self, *size, dtype=None, requires_grad=False):
    return new_zeros(self, *size, dtype=dtype, requires_grad=requires_grad)


@op("new_tensor", function=False)
def new_tensor(self, data, dtype=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_like(self, arr, requires_grad):
    t = _wrap(arr)
    return t.requires_grad_() if requires_grad else t
