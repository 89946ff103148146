"""In-place operations: `add_`, `mul_`, `clamp_`, `copy_`, `x[i] = v`... recorded as PyTorch records them.

An in-place op writes its result into the tensor's own storage, so every view of it (and the base
of a view) sees the new values, and bumps the version counter that views share with their base, so
a node that saved the old values refuses to run backward (PyTorch's "modified by an inplace
operation" error) instead of computing a wrong gradient.

Inside a graph the change is also recorded:
- on a tensor that is not a view, the tensor's history becomes the op applied to its old history;
- on a view, the *base* gets a CopySlices node (the gradient of the untouched part flows to the
  base's old history, the written part's to the op's inputs) and the view reads its history out of
  the base's, as PyTorch's CopySlices and AsStridedBackward do.
"""

from __future__ import annotations

import operator

import numpy as np

from ..autograd import (
    Node,
    _edges,
    _GradMode,
    _nr,
    _view_index,
    move_retain,
    no_grad,
    revive,
    view_refusal,
    view_to_base_node,
)
from ..tensor import Tensor, _wrap
from ._core import _index, _is_basic, check_fits, op, result_type
from .indexing import as_ints, getitem, index_put, locate, put

_LEAF_ERROR = (
    "a leaf Variable that requires grad is being used in an in-place operation; wrap the update in "
    "`with descend.no_grad():` or update `.data`"
)
_VIEW_OF_LEAF_ERROR = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation; wrap the "
    "update in `with descend.no_grad():` or change a clone"
)
_OVERLAP_ERROR = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
    "location. Please clone() the tensor before performing the operation."
)


def check_inplace(t):
    """Refuse, under grad mode, an in-place change of a leaf that requires grad or of a view of one,
    and of a view that an op returning several views made (unbind, split, chunk), as PyTorch does."""
    multi = getattr(t, "_multi", None)
    if multi and t._requires_grad:
        raise view_refusal(t, "is being modified inplace")
    if t._requires_grad and t.grad_fn is None and t._view is None:
        raise RuntimeError(_LEAF_ERROR)
    if t._view is not None:
        root = t._view[0]
        if root._requires_grad and root.grad_fn is None:
            raise RuntimeError(_VIEW_OF_LEAF_ERROR)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _check_cast(result_dtype, t):
    """PyTorch's rule for in-place results: the result may not be of a higher category than `t`."""
    if _CATEGORY[result_dtype.kind] > _CATEGORY[t._data.dtype.kind]:
        raise RuntimeError(
            f"result type {_torch_name(result_dtype)} can't be cast to the desired output type "
            f"{_torch_name(t._data.dtype)}"
        )


def _torch_name(dtype):
    return {
        "float32": "Float",
        "float64": "Double",
        "float16": "Half",
        "int64": "Long",
        "int32": "Int",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
        "bool": "Bool",
    }.get(dtype.name, dtype.name)


def _write(t, arr):
    """Copy `arr` into `t`'s storage (broadcast to its shape, cast to its dtype)."""
    arr = np.asarray(arr)
    try:
        np.copyto(t._data, np.broadcast_to(arr, t._data.shape), casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(t._data.shape)} doesn't match the broadcast shape {list(arr.shape)}"
        ) from None


def _snapshot(t):
    """A handle on `t`'s current values and history, so the recorded op does not point at itself."""
    before = _wrap(t._data.copy())
    before._requires_grad = t._requires_grad
    before.grad_fn = t.grad_fn
    if t.grad_fn is not None and t.grad_fn.n_out != 1:
        before._nr = t._nr
    return before


def _recording(t, args):
    if not _GradMode.enabled:
        return False
    if t._requires_grad or (t._view is not None and revive(t)):
        return True
    return any(isinstance(a, Tensor) and (a._requires_grad or (a._view is not None and revive(a)))
               for a in args)


def _check_overlap(dst, src):
    """PyTorch refuses to copy between tensors that share only some of their memory."""
    D, S = dst._data, src._data
    if D is S or not np.shares_memory(D, S):
        return
    same = (D.shape == S.shape and D.strides == S.strides
            and D.__array_interface__["data"][0] == S.__array_interface__["data"][0])
    if not same:
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )


def apply(t, fn, *args, **kwargs):
    """Make `t` hold `fn(t, *args, **kwargs)`, in place: the one path every in-place op takes."""
    recording = _recording(t, args)
    if recording:
        check_inplace(t)
    if not recording or t._data.dtype.kind not in "fc":  # an integer or bool tensor holds no gradient
        with no_grad():
            r = fn(t, *args, **kwargs)
        _check_cast(r._data.dtype, t)
        _write(t, r._data)
        t._version[0] += 1
        return t
    if t._view is not None:
        return _apply_to_view(t, fn, args, kwargs)
    r = fn(_snapshot(t), *args, **kwargs)
    _check_cast(r._data.dtype, t)
    _write(t, r._data)
    _adopt(t, r)
    t._version[0] += 1
    if t.grad_fn is not None and t.grad_fn.saved_output is not None:
        t.grad_fn.saved_output = (t._version, t._version[0])  # the output is now `t` itself
    return t


def _adopt(t, r):
    old_fn = t.grad_fn
    old_nr = _nr(t) if old_fn is not None else 0
    t.grad_fn = r.grad_fn
    t._requires_grad = r._requires_grad or t._requires_grad
    if r.grad_fn is not None and r.grad_fn.n_out != 1:
        t._nr = r._nr
    if old_fn is not None and old_fn.retained:  # retain_grad() follows the tensor to its new history
        move_retain(t, old_fn, old_nr)


def _apply_to_view(view, fn, args, kwargs):
    root = view._view[0]
    idx = _view_index(view._view).reshape(-1)
    if np.unique(idx).size != idx.size:
        raise RuntimeError(_OVERLAP_ERROR)
    if view._view[2] != view._version[0] and root._requires_grad:
        view_to_base_node(view)
    r = fn(_snapshot(view), *args, **kwargs)
    _check_cast(r._data.dtype, view)
    _write(view, r._data)  # through the view, into the base's storage
    shape = root._data.shape

    def vjp_base(g):
        gb = np.array(g, copy=True, order="C")
        gb.reshape(-1)[idx] = 0
        return gb

    def vjp_src(g):
        return np.ascontiguousarray(g).reshape(-1)[idx].reshape(r._data.shape)

    nxt, nrs = _edges((root, r))
    node = Node(
        "CopySlices",
        nxt,
        (vjp_base if root._requires_grad else None, vjp_src if r._requires_grad else None),
        (),
        nrs,
    )
    del shape
    old_fn = root.grad_fn
    old_nr = _nr(root) if old_fn is not None else 0
    root.grad_fn = node
    if old_fn is not None and old_fn.retained:
        move_retain(root, old_fn, old_nr)
    root._requires_grad = True
    view._version[0] += 1
    if r.grad_fn is not None and r.grad_fn.saved_output is not None:
        # the op's output is now the view's storage (relu_, sigmoid_ on a view): a later in-place
        # change of the view or its base must make that node's backward refuse, as in PyTorch
        r.grad_fn.saved_output = (view._version, view._version[0])
    view_to_base_node(view)
    return view


def inplace_method(fn, name):
    """`Tensor.<name>_`: the in-place form of the out-of-place `fn`."""

    def method(self, *args, **kwargs):
        return apply(self, fn, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place `{name[:-1]}`: writes the result into this tensor and returns it."
    return method


# --- the in-place ops with behaviour of their own ---


def _ufunc_fast(ufunc, name):
    """add_/sub_/mul_/div_: outside a graph, one NumPy call writing into the storage."""
    scalar_op = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul}.get(ufunc)

    def method(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        if not (
            _GradMode.enabled
            and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
        ):
            arr = other._data if isinstance(other, Tensor) else other
            kind = self._data.dtype.kind
            # NOTE: a float tensor can take any real result: the tutorials' update skips result_type
            if kind != "f" or not (type(arr) is float or type(arr) is int or arr.dtype.kind in "biuf"):
                _check_cast(
                    result_type(self, other)
                    if ufunc is not np.true_divide
                    else result_type(self, other, 1.0),
                    self,
                )
            data = self._data
            if scalar_op is not None and data.ndim == 0 and kind == "f" and (type(arr) is float or (
                    type(arr) is np.ndarray and arr.ndim == 0 and arr.dtype.kind == "f")):
                # NOTE: the tutorials' `w -= lr * w.grad` on a 0-d w as scalar arithmetic (same bits):
                # ~250 ns against ~1.3 us for the ufunc with out= on 0-d arrays
                data[()] = scalar_op(data[()], arr if type(arr) is float else arr[()])
                self._version[0] += 1
                return self
            try:
                ufunc(data, arr, out=data, casting="unsafe")
            except ValueError:
                raise RuntimeError(
                    f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                    f"{list(np.broadcast_shapes(self._data.shape, np.shape(arr)))}"
                ) from None
            self._version[0] += 1
            return self
        from . import arithmetic

        return apply(self, getattr(arithmetic, name[:-1]), other)

    method.__name__ = name
    method.__doc__ = (
        f"In-place `{name[:-1]}`: this tensor {name[:-1]} other (times alpha), in its own storage."
    )
    return method


def _filled(t, value):
    """The out-of-place `fill`: value everywhere, gradient flowing to a tensor value, none to `t`."""
    from ..autograd import record

    shape, dtype = t._data.shape, t._data.dtype
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        out = np.full(shape, value._data, dtype=dtype)
        return record(
            "FillBackward1",
            out,
            (t, value),
            (lambda g: np.zeros(shape, g.dtype), lambda g: np.asarray(g.sum(), value._data.dtype)),
        )
    out = np.full(shape, value, dtype=dtype)
    return record("FillBackward0", out, (t,), (lambda g: np.zeros(shape, g.dtype),))


def _copied(t, src, non_blocking=False):
    """The out-of-place `copy_`: src broadcast to t's shape and cast to its dtype."""
    from ..autograd import record, unbroadcast

    if not isinstance(src, Tensor):
        src = _wrap(np.asarray(src))
    shape, dtype = t._data.shape, t._data.dtype
    try:
        out = np.broadcast_to(src._data, shape).astype(dtype, copy=True)
    except ValueError:
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} can't be broadcast to the destination shape "
            f"{list(shape)}"
        ) from None
    if dtype.kind not in "fc":  # an integer or bool destination holds no gradient (PyTorch's)
        return _wrap(out)
    sshape, sdtype = src._data.shape, src._data.dtype
    vjp_src = None
    if sdtype.kind == "f" and dtype.kind == "f":
        vjp_src = lambda g: unbroadcast(g, sshape).astype(sdtype, copy=False)  # noqa: E731
    return record("CopyBackwards", out, (t, src), (lambda g: np.zeros(shape, g.dtype), vjp_src))


@op("fill_", function=False)
def fill_(self, value):
    """Set every element to `value` (a number or a 0-d tensor)."""
    check_fits(value._data if isinstance(value, Tensor) else value, self._data.dtype)
    if not _GradMode.enabled or not (
        self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    ):
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._version[0] += 1
        return self
    return apply(self, _filled, value)


@op("zero_", function=False)
def zero_(self):
    """Set every element to 0."""
    if not (_GradMode.enabled and self._requires_grad):  # NOTE: `w.grad.zero_()` of every step, direct
        self._data[...] = 0
        self._version[0] += 1
        return self
    return apply(self, _filled, 0)


@op("copy_", function=False)
def copy_(self, src, non_blocking=False):
    """Copy `src` (broadcast to this shape, cast to this dtype) into this tensor's storage."""
    if isinstance(src, Tensor):
        _check_overlap(self, src)
    if not _recording(self, (src,)):
        arr = src._data if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.copyto(self._data, np.broadcast_to(arr, self._data.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {list(np.shape(arr))} can't be broadcast to the destination "
                f"shape {list(self._data.shape)}"
            ) from None
        self._version[0] += 1
        return self
    return apply(self, _copied, src)


def _check_index_put_dtype(t, idx, value, target_shape):
    """PyTorch's `x[index_tensor] = v` (index_put_) takes no tensor v of another dtype; a single bool
    mask with a one-element v is a masked_fill, which casts, and so does basic indexing (copy_)."""
    if _is_basic(idx) or value._data.dtype == t._data.dtype:
        return
    items = idx if isinstance(idx, tuple) else (idx,)
    if value._data.size == 1 and any(isinstance(i, np.ndarray) and i.dtype == bool for i in items):
        return  # a mask with one value becomes a masked_fill, which casts
    try:
        np.broadcast_shapes(value._data.shape, target_shape)
    except ValueError:
        return  # the shape error comes first, from the write
    raise RuntimeError(
        f"Index put requires the source and destination dtypes match, got {_torch_name(t._data.dtype)} "
        f"for the destination and {_torch_name(value._data.dtype)} for the source."
    )


def setitem(self, index, value):
    """`x[index] = value`: an in-place op like the others (basic indexing writes through a view).

    As in PyTorch, leading size-1 dims of a tensor value are dropped to fit the target.
    """
    index = as_ints(_index(index))
    if isinstance(value, Tensor):
        idx = index
        target_shape = np.shape(operator.getitem(*locate(self._data, idx)))
        while value.ndim > len(target_shape) and value.shape[0] == 1:
            value = value[0]
        _check_index_put_dtype(self, idx, value, target_shape)
    if not _recording(self, (value,)):
        # NOTE: locate only for a tuple (the one index that can mix ints with index arrays)
        target, idx = (self._data, index) if type(index) is not tuple else locate(self._data, index)
        V = value._data if isinstance(value, Tensor) else value
        if not _is_basic(idx):
            put(target, idx, V)  # PyTorch's index_put_, and its error
            self._version[0] += 1
            return
        try:
            target[idx] = V
        except ValueError:
            if not isinstance(value, Tensor):
                raise
            from .shape import expand_error

            raise expand_error(value.shape, target[idx].shape) from None
        self._version[0] += 1
        return

    idx = _index(index)
    if _is_basic(idx):
        target = getitem(self, index)
        if target._view is not None or target is self:
            copy_(target, value)
            return
    apply(self, index_put, index, value)


for _name in ("add_", "sub_", "mul_", "div_"):
    op(_name, function=False)(
        _ufunc_fast(
            {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.true_divide}[_name], _name
        )
    )
