"""`Tensor`: a NumPy array with a gradient, a link to the operation that made it, and PyTorch's manners.

The arithmetic itself lives in the `ops` package, which binds it onto Tensor; this file holds
storage, dtype rules, autograd attributes,
in-place updates (with the version counter that keeps gradients honest), conversion and `repr`.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import autograd
from ._defaults import DEFAULTS

__all__ = ["Tensor", "from_numpy", "tensor", "as_tensor"]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
_SUPPORTED = {float16, float32, float64, int8, int16, int32, int64, uint8, bool_}
_FLOATS = {float16, float32, float64}


def _dtype(dtype):
    """Normalise a dtype argument (descend/NumPy dtype, Python type or name) to a supported NumPy dtype."""
    if dtype is None:
        return None
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}") from None
    if d not in _SUPPORTED:
        raise TypeError(
            f"unsupported dtype {d}: descend tensors hold float16/32/64, (u)int8/16/32/64 or bool"
        )
    return d


def _to_array(data, dtype=None):
    """Convert Python data or an array to a NumPy array with PyTorch's default dtypes (copying)."""
    dtype = _dtype(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype if dtype is not None else arr.dtype, copy=True)
    if isinstance(data, np.ndarray):
        if data.dtype not in _SUPPORTED and dtype is None:
            if data.dtype.kind == "u" or data.dtype.kind == "i":
                return data.astype(int64)
            raise TypeError(f"can't convert np.ndarray of type {data.dtype} to a tensor: unsupported dtype")
        return np.array(data, dtype=dtype, copy=True)
    if isinstance(data, np.generic) and data.dtype in _SUPPORTED:  # keeps its dtype, as in torch.tensor
        return np.array(data, dtype=dtype)
    if isinstance(data, (bool, np.bool_)):
        return np.array(data, dtype=dtype or bool_)
    if isinstance(data, numbers.Integral):
        return np.array(data, dtype=dtype or int64)
    if isinstance(data, numbers.Real):
        return np.array(data, dtype=dtype or DEFAULTS["float"])
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, Tensor) for x in data):
            data = [x._data if isinstance(x, Tensor) else x for x in data]
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(
                f"expected a rectangular nested sequence of numbers (ragged input?): {e}"
            ) from None
        if arr.dtype == object:
            raise ValueError("expected a rectangular nested sequence of numbers, got a ragged or mixed one")
        if arr.dtype.kind in "US":
            raise TypeError("can't convert strings to a tensor: expected numbers")
        if dtype is None:
            dtype = {"f": DEFAULTS["float"], "i": int64, "u": int64, "b": bool_}.get(arr.dtype.kind)
            if dtype is None:
                raise TypeError(f"can't convert a sequence of {arr.dtype} to a tensor")
        return arr.astype(dtype, copy=False)
    raise TypeError(f"can't convert {type(data).__name__} to a tensor: expected a number, sequence or array")


def _check_grad_dtype(arr):
    if arr.dtype not in _FLOATS:
        raise RuntimeError(
            f"only Tensors of floating point dtype can require gradients (this one is {arr.dtype})"
        )


class Tensor:
    """An n-dimensional array that can record operations for reverse-mode differentiation.

    Example:
        >>> x = descend.tensor(3.0, requires_grad=True)
        >>> y = x**2
        >>> y.backward()
        >>> x.grad
        tensor(6.)
    """

    # `_view`: None, or (base, fn, version) for a view of `base` (see autograd._mark_view);
    # `_nr`: which output of a multi-output node this is (set only on such outputs).
    # `_multi` (set only on such views): this view comes from an op returning several views (unbind,
    # split), whose outputs PyTorch refuses to change in place in a graph: (the op's name, output
    # number), or True on a view of such a view.
    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_version", "_view", "_nr", "_multi",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__, keeping the graph

    def __init__(self, *args, dtype=None, requires_grad=False):
        # PyTorch's legacy constructor: `Tensor(data)` or `Tensor(*sizes)`, float32 unless `dtype`
        # says otherwise. `descend.tensor(data)` is the one that infers dtypes from the data.
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            arr = _to_array(args[0], dtype or float32)
        elif all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            arr = np.zeros(tuple(int(a) for a in args), dtype=_dtype(dtype) or float32)
        else:
            raise TypeError(f"Tensor() takes data or sizes (ints), got {args!r}")
        self._data = arr
        self._grad = None
        self.grad_fn = None
        self._version = [0]
        self._view = None
        self._requires_grad = False
        if requires_grad:
            _check_grad_dtype(arr)
            self._requires_grad = True

    # --- autograd attributes ---
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(bool(value))

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach() to get a "
                "tensor that does not require grad"
            )
        if requires_grad:
            _check_grad_dtype(self._data)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this shape), or None until backward sets it."""
        if self._grad is None and self.grad_fn is not None and not self.retains_grad:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got {type(value).__name__}"
                )
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: grad dtype {value.dtype}, tensor dtype "
                    f"{self.dtype}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: grad shape {tuple(value.shape)}, "
                    f"tensor shape {tuple(self.shape)}"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in `.grad` after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            autograd.register_retain(self)

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return node is not None and node.retained is not None and autograd._nr(self) in node.retained

    def register_hook(self, hook):
        """Call `hook(grad)` whenever this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose `remove()` takes the hook out.

        Example:
            >>> h = w.register_hook(lambda g: g * 2)   # double w's gradient
        """
        return autograd.register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(self)` after a backward has accumulated this leaf's `.grad` (the hook returns
        None); returns a handle whose `remove()` takes it out. On a non-leaf it raises, as PyTorch.

        Example:
            >>> opt = {w: descend.optim.SGD([w], lr=0.1)}
            >>> w.register_post_accumulate_grad_hook(lambda p: (opt[p].step(), opt[p].zero_grad()))
        """
        return autograd.register_post_accumulate_grad_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the `.grad` of every leaf it depends on.

        Args:
            gradient: d(something)/d(self) for non-scalar tensors; defaults to 1 for a scalar.
            retain_graph: keep the graph so backward can run through it again.
            inputs: accumulate only into these leaves' `.grad` (default: every leaf).
        """
        if create_graph:
            raise NotImplementedError(
                "create_graph=True (higher-order gradients) is not supported by descend"
            )
        if inputs is not None and isinstance(inputs, Tensor):
            inputs = (inputs,)
        autograd.backward_root(self, gradient, bool(retain_graph), inputs)

    @property
    def data(self):
        """A tensor sharing this one's storage, outside the graph (changes to it are not tracked)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr

    def detach(self):
        """A tensor sharing storage and version counter with this one, cut from the graph."""
        t = _wrap(self._data)
        t._version = self._version
        return t

    def detach_(self):
        """Cut this tensor from the graph in place (it becomes a leaf that does not require grad)."""
        if self._view is not None and self._requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel "
                "(DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of "
                "DDP buckets, and hence detach_() cannot be called on these gradients."
            )
        self.grad_fn = None
        self._requires_grad = False
        return self

    def is_inference(self) -> bool:
        return False

    # --- shape and type ---
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape (a `descend.Size`), or the length of dimension `dim`."""
        if dim is None:
            return Size(self._data.shape)
        n = self._data.ndim
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                f"but got {dim})"
            )
        return self._data.shape[dim] if n else 1

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def device(self):
        return _CPU

    def is_floating_point(self) -> bool:
        return self._data.dtype in _FLOATS

    def element_size(self):
        return self._data.itemsize

    # --- conversion ---
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar (shape {self.shape})"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        """The underlying NumPy array (shared, not copied), as PyTorch's `Tensor.numpy()`."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __format__(self, spec):
        # PyTorch: a 0-d tensor formats its number (with or without a spec); any other tensor is
        # str(t) with an empty spec and refuses a spec
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("descend runs on the CPU with NumPy; there is no CUDA device")

    def contiguous(self, memory_format=None):
        """This tensor if its elements are laid out in row-major order, else a contiguous copy."""
        if self._data.flags.c_contiguous:
            return self
        from .ops import clone

        return clone(self)

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements sit in memory in row-major order (False for most transposed views)."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim, as PyTorch reports them."""
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self):
        return _Storage(self)

    __hash__ = object.__hash__

    def __repr__(self):
        return _format_tensor(self)

    def __deepcopy__(self, memo):
        """A copy with its own storage (and `.grad`), as `copy.deepcopy` of a PyTorch leaf tensor."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol; "
                "use .detach() first"
            )
        new = _new(type(self))
        memo[id(self)] = new
        new._data = self._data.copy()
        new._requires_grad = self._requires_grad
        new._grad = None if self._grad is None else self._grad.__deepcopy__(memo)
        new.grad_fn = None
        new._version = [0]
        new._view = None
        if hasattr(self, "__dict__"):  # subclasses such as Parameter may carry attributes
            import copy

            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __reduce_ex__(self, protocol):
        raise TypeError("descend tensors are not pickled; use descend.save(obj, path), which writes .npz")

    # --- in-place updates live in ops/inplace.py (bound onto Tensor with the rest of the table) ---
    def _refuse_leaf_inplace(self):
        """Under grad mode a leaf requiring grad can't change in place (it wouldn't be differentiable)."""
        from .ops.inplace import check_inplace

        check_inplace(self)


_new = object.__new__


def _wrap(data):
    """A Tensor around an existing array, with no copy and no graph (the fast internal constructor)."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    t = _new(Tensor)
    t._data = data
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._version = [0]
    t._view = None
    return t


class Size(tuple):
    """The shape of a tensor, as `torch.Size`: a tuple of ints with `numel()`.

    Example:
        >>> descend.zeros(2, 3).shape
        descend.Size([2, 3])
    """

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"descend.Size({list(self)})"

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


class _Storage:
    """Enough of `untyped_storage()` to compare storages: `data_ptr()` of the underlying buffer."""

    def __init__(self, t):
        arr = t._data
        while isinstance(arr.base, np.ndarray):
            arr = arr.base
        self._root = arr

    def data_ptr(self) -> int:
        return self._root.__array_interface__["data"][0]

    def nbytes(self) -> int:
        return self._root.nbytes

    def size(self) -> int:
        return self._root.nbytes


autograd._new_tensor = _wrap
autograd._wrap_grad = _wrap


def tensor(data, dtype=None, requires_grad=False, device=None):
    """Make a tensor from a number, a (nested) sequence or an array, copying the data.

    Python floats become float32 and ints int64 (PyTorch's defaults); NumPy arrays keep their dtype.

    Example:
        >>> descend.tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    if device is not None:
        _parse_to((device,), {})  # the CPU, or a clear error
    t = _wrap(_to_array(data, dtype))
    if requires_grad:
        _check_grad_dtype(t._data)
        t._requires_grad = True
    return t


def as_tensor(data, dtype=None):
    """Like `tensor`, but shares memory with a NumPy array or Tensor of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype(dtype)):
        return data
    if (
        isinstance(data, np.ndarray)
        and data.dtype in _SUPPORTED
        and (dtype is None or data.dtype == _dtype(dtype))
    ):
        return _wrap(data)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array (no copy), as `torch.from_numpy`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in _SUPPORTED:
        raise TypeError(f"can't convert np.ndarray of type {array.dtype}: unsupported dtype")
    return _wrap(array)


# --- devices: descend has one, the CPU ---


class device:
    """A device, as `torch.device`: `device("cpu")` works everywhere; descend has no other device.

    Example:
        >>> dev = descend.device("cuda" if descend.cuda.is_available() else "cpu")
        >>> descend.ones(2).to(dev).device
        device(type='cpu')
    """

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's name
        name = str(type)
        self.type, _, number = name.partition(":")
        self.index = int(number) if number else index

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


_CPU = device("cpu")


def _parse_to(args, kwargs):
    """The dtype that `to(...)` asks for (or None); any device but the CPU is a clear error.

    Accepts PyTorch's forms: `to(dtype)`, `to("cpu")`, `to(device)`, `to(tensor)`, `to(device, dtype)`
    and the keywords `device=`, `dtype=`, `non_blocking=`, `copy=`.
    """
    kwargs = dict(kwargs)
    where = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            where = a
        elif a is not None:
            dtype = a
    if where is not None and device(where).type != "cpu":
        raise RuntimeError(f"descend runs on the CPU with NumPy; device {str(where)!r} is not available")
    return None if dtype is None else _dtype(dtype)


# --- repr, in PyTorch's format ---
_PRINT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, sci_mode=None):
    """Set how tensors print (as `torch.set_printoptions`)."""
    for k, v in dict(
        precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth
    ).items():
        if v is not None:
            _PRINT[k] = v
    _PRINT["sci_mode"] = sci_mode


def _summarise(arr, edge):
    """The elements that will be shown when the tensor is summarised with '...'."""
    if arr.ndim == 0:
        return arr.reshape(1)
    n = arr.shape[0]
    rows = list(range(n)) if n <= 2 * edge else [*range(edge), *range(n - edge, n)]
    if arr.ndim == 1:
        return arr[rows]
    return np.concatenate([_summarise(arr[i], edge) for i in rows])


class _Formatter:
    """Chooses one width and notation for all elements, as PyTorch's printer does."""

    def __init__(self, values):
        self.kind = values.dtype.kind
        self.int_mode = True
        self.sci = False
        prec = _PRINT["precision"]
        if self.kind == "b":
            strs = [str(bool(v)) for v in values]
        elif self.kind in "iu":
            strs = [str(int(v)) for v in values]
        else:
            finite = values[np.isfinite(values)]
            self.int_mode = bool(finite.size == 0 or np.all(finite == np.ceil(finite)))
            nonzero = np.abs(finite[finite != 0]).astype(np.float64)
            if self.int_mode:
                if nonzero.size and nonzero.max() > 1e8:
                    self.int_mode, self.sci = False, True
            elif nonzero.size:
                hi, lo = nonzero.max(), nonzero.min()
                self.sci = bool(hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4)
            if _PRINT["sci_mode"] is not None:
                self.sci = _PRINT["sci_mode"]
            self.prec = prec
            strs = [self._fmt(v) for v in values]
        self.width = max((len(s) for s in strs), default=1)

    def _fmt(self, v):
        if not np.isfinite(v):
            return str(float(v)).replace("inf", "inf").replace("nan", "nan")
        if self.sci:
            return f"{float(v):.{self.prec}e}"
        if self.int_mode:
            return f"{float(v):.0f}."
        return f"{float(v):.{self.prec}f}"

    def format(self, v):
        if self.kind == "b":
            s = str(bool(v))
        elif self.kind in "iu":
            s = str(int(v))
        else:
            s = self._fmt(v)
        return s.rjust(self.width)


def _format_array(arr, fmt, indent, summarise):
    edge = _PRINT["edgeitems"]
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        items = (
            [fmt.format(v) for v in arr.tolist()]
            if not (summarise and arr.shape[0] > 2 * edge)
            else (
                [fmt.format(v) for v in arr[:edge].tolist()]
                + ["..."]
                + [fmt.format(v) for v in arr[-edge:].tolist()]
            )
        )
        per_line = max(1, (_PRINT["linewidth"] - indent) // (fmt.width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(arr.shape[0])
    if summarise and arr.shape[0] > 2 * edge:
        rows = list(range(edge)) + [None] + list(range(arr.shape[0] - edge, arr.shape[0]))
    parts = ["..." if i is None else _format_array(arr[i], fmt, indent + 1, summarise) for i in rows]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _format_tensor(t, prefix="tensor("):
    arr = t._data
    summarise = arr.size > _PRINT["threshold"]
    if arr.size == 0:
        body = "[]"
    else:
        values = _summarise(arr, _PRINT["edgeitems"]) if summarise else arr.reshape(-1)
        body = _format_array(arr, _Formatter(values), len(prefix), summarise)
    extras = []
    if arr.size == 0 and arr.ndim != 1:
        extras.append(f"size={tuple(arr.shape)}")
    if arr.dtype not in (float32, int64, bool_):
        extras.append(f"dtype=descend.{arr.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"


Tensor.any = lambda self, dim=None, keepdim=False: _wrap(
    np.asarray(np.any(self._data, axis=dim, keepdims=keepdim))
)
Tensor.all = lambda self, dim=None, keepdim=False: _wrap(
    np.asarray(np.all(self._data, axis=dim, keepdims=keepdim))
)
