"""Tensor factories with PyTorch's names, spellings and defaults.

Sizes are given as PyTorch accepts them: `zeros(2, 3)`, `zeros((2, 3))`, `zeros([2, 3])` or
`zeros(size=(2, 3))`. Floating-point results take the default dtype (`set_default_dtype`, float32
unless changed); `device=` accepts only the CPU; `out=` writes the result into a given tensor.
Random factories take `generator=` (a `descend.Generator`) and otherwise draw from the global one.

Example:
    >>> g = descend.Generator().manual_seed(0)
    >>> descend.randn(2, 3, generator=g).shape
    descend.Size([2, 3])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._defaults import default_float_dtype
from .autograd import _GradMode
from .random import _generator, _rng
from .tensor import Tensor, _dtype, _parse_to, _wrap, bool_, int64

__all__ = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "logspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "tril_indices",
    "triu_indices",
    "zeros",
    "zeros_like",
]


# --- shared plumbing: sizes, dtypes, devices, out= ---


def _is_int(x):
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


def _shape(args, size, fn):
    """The shape from `fn(*args)` or `fn(size=...)`: ints, or one tuple/list of ints."""
    if size is not None:
        if args:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        args = (size,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if not _is_int(s):
            raise TypeError(
                f"{fn}(): argument 'size' must be a tuple of ints, but found element of type "
                f"{type(s).__name__} in {args!r}"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(args)}")
    return tuple(int(s) for s in args)


def _float_dtype(dtype, out, fn):
    """The floating dtype of a result: `dtype=`, else `out`'s, else the default; ints are an error."""
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    if dt.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating-point dtype, got {dt}")
    return dt


def _result(arr, requires_grad=False, out=None, device=None):
    """Wrap `arr` (or write it into `out`, resizing it as PyTorch does); check the device."""
    if device is not None:
        _parse_to((device,), {})
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError(
            f"Only Tensors of floating point and complex dtype can require gradients, got {arr.dtype}"
        )
    if out is None:
        t = _wrap(arr)
        return t.requires_grad_() if requires_grad else t
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
    if out._requires_grad and _GradMode.enabled:
        raise RuntimeError(
            "out=... arguments don't support automatic differentiation, but one of the arguments "
            "requires grad"
        )
    if out._data.shape == arr.shape:
        out._data[...] = arr
    else:
        out._data = arr.astype(out._data.dtype, copy=False)
    out._version[0] += 1
    return out


# --- filled tensors ---


def zeros(*args, size=None, out=None, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: `zeros(2, 3)`, `zeros((2, 3))` or `zeros(size=(2, 3))`.

    Example:
        >>> descend.zeros(2, dtype=descend.int64)
        tensor([0, 0])
    """
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    return _result(np.zeros(_shape(args, size, "zeros"), dt), requires_grad, out, device)


def ones(*args, size=None, out=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ones (same spellings as `zeros`).

    Example:
        >>> descend.ones(2)
        tensor([1., 1.])
    """
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    return _result(np.ones(_shape(args, size, "ones"), dt), requires_grad, out, device)


def empty(*args, size=None, out=None, dtype=None, device=None, requires_grad=False):
    """An "uninitialised" tensor: zeros here, since NumPy's empty memory would make runs unrepeatable.

    Example:
        >>> descend.empty(2, 3).shape
        descend.Size([2, 3])
    """
    return zeros(*args, size=size, out=out, dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, (bool, np.bool_)):
        return bool_
    if _is_int(fill_value):
        return int64
    return default_float_dtype()


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    """A tensor filled with `fill_value`; its dtype follows the value (bool, int64 or the default float).

    Example:
        >>> descend.full((2,), 7)
        tensor([7, 7])
    """
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = _shape((size,) if _is_int(size) else tuple(size), None, "full")
    dt = _dtype(dtype) or (out._data.dtype if out is not None else _fill_dtype(fill_value))
    return _result(np.full(shape, fill_value, dtype=dt), requires_grad, out, device)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    """An `n` x `m` identity matrix (square when `m` is None).

    Example:
        >>> descend.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    for name, v in (("n", n), ("m", m)):
        if v is not None and (not _is_int(v) or v < 0):
            raise RuntimeError(f"eye(): {name} must be a non-negative int, got {v!r}")
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    return _result(np.eye(n, m, dtype=dt), requires_grad, out, device)


# --- ranges ---


def _scalar(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """Values from `start` (inclusive) to `end` (exclusive) by `step`.

    The dtype is int64 when every argument is an int and the default float dtype when any is a float,
    as in PyTorch.

    Example:
        >>> descend.arange(3), descend.arange(0, 1, 0.25)
        (tensor([0, 1, 2]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    values = (start, end, step)
    for v in values:
        if not isinstance(v, (numbers.Real, np.number)) or isinstance(v, bool):
            raise TypeError(f"arange(): start, end and step must be numbers, got {v!r}")
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"arange(): unsupported range: {start} -> {end} with step {step}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and larger bound inconsistent with step sign (start={start}, end={end}, "
            f"step={step})"
        )
    ints = all(_is_int(v) for v in values)
    dt = _dtype(dtype) or (out._data.dtype if out is not None else int64 if ints else default_float_dtype())
    if ints:
        arr = np.arange(int(start), int(end), int(step), dtype=np.int64)
    else:  # in double precision, then cast: the length is ceil((end - start) / step), as in PyTorch
        n = math.ceil((end - start) / step)
        arr = start + step * np.arange(n, dtype=np.float64)
    return _result(arr.astype(dt, copy=False), requires_grad, out, device)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from `start` to `end`, both included.

    Example:
        >>> descend.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if not _is_int(steps):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    arr = np.linspace(float(_scalar(start)), float(_scalar(end)), int(steps))
    return _result(arr.astype(dt), requires_grad, out, device)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None, requires_grad=False):
    """`steps` values from `base ** start` to `base ** end`, evenly spaced on a log scale.

    Example:
        >>> descend.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    exps = linspace(start, end, steps, dtype=np.float64)._data
    dt = _dtype(dtype) or (out._data.dtype if out is not None else default_float_dtype())
    return _result(np.power(float(base), exps).astype(dt), requires_grad, out, device)


def _tri_indices(fn, row, col, offset, dtype, device):
    for name, v in (("row", row), ("col", col), ("offset", offset)):
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{fn}(): row and col must be non-negative, got row={row}, col={col}")
    dt = _dtype(dtype) or int64
    if dt not in (np.dtype(np.int32), int64):
        raise RuntimeError(f"{fn}(): dtype must be int32 or int64, got {dt}")
    np_fn = np.tril_indices if fn == "tril_indices" else np.triu_indices
    rows, cols = np_fn(row, offset, col)
    return _result(np.stack([rows, cols]).astype(dt), False, None, device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) indices of the lower triangle of a `row` x `col` matrix, row by row.

    Example:
        >>> descend.tril_indices(2, 2)
        tensor([[0, 1, 1],
                [0, 0, 1]])
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) indices of the upper triangle of a `row` x `col` matrix, row by row.

    Example:
        >>> descend.triu_indices(2, 2)
        tensor([[0, 0, 1],
                [0, 1, 1]])
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


# --- random ---


def _draw(rng_fn, shape, dt):
    """Draw in float32/float64 (NumPy's native sampling dtypes), other floats by casting."""
    native = dt if dt in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)
    return rng_fn(shape, dtype=native).astype(dt, copy=False)


def randn(*args, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution N(0, 1).

    Example:
        >>> descend.randn(2, 3, generator=descend.Generator().manual_seed(0)).shape
        descend.Size([2, 3])
    """
    shape = _shape(args, size, "randn")
    dt = _float_dtype(dtype, out, "randn")
    g = _generator(generator)
    if g is not None:
        arr = g.normal(shape, 0.0, 1.0, dt)
    else:
        arr = _draw(_rng(generator).standard_normal, shape, dt)
    return _result(arr, requires_grad, out, device)


def rand(*args, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1).

    Example:
        >>> float(descend.rand(100).max()) < 1
        True
    """
    shape = _shape(args, size, "rand")
    dt = _float_dtype(dtype, out, "rand")
    g = _generator(generator)
    arr = g.uniform(shape, 0.0, 1.0, dt) if g is not None else _draw(_rng(generator).random, shape, dt)
    return _result(arr, requires_grad, out, device)


def _randint_bounds(low, high, fn):
    for name, v in (("low", low), ("high", high)):
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return int(low), int(high)


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high): `randint(high, size)` or `randint(low, high, size)`.

    `low` defaults to 0; the dtype defaults to int64.

    Example:
        >>> descend.randint(10, (3,)).dtype == descend.int64, descend.randint(5, 10, size=(2, 2)).shape
        (True, descend.Size([2, 2]))
    """
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if size is None:
        raise TypeError(
            "randint() missing the 'size' argument: randint(high, size) or randint(low, high, size)"
        )
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"randint() takes at most 3 positional arguments, got {len(args) + 1}")
    if high is None:
        raise TypeError("randint() missing the 'high' argument")
    low, high = _randint_bounds(0 if low is None else low, high, "randint")
    shape = _shape((size,), None, "randint")
    dt = _dtype(dtype) or (out._data.dtype if out is not None else int64)
    g = _generator(generator)
    arr = g.randint(shape, low, high) if g is not None else _rng(generator).integers(low, high, size=shape,
                                                                                      dtype=np.int64)
    return _result(arr.astype(dt, copy=False), requires_grad, out, device)


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0, ..., n - 1 (int64 by default).

    Example:
        >>> sorted(descend.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    if not _is_int(n):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    dt = _dtype(dtype) or (out._data.dtype if out is not None else int64)
    g = _generator(generator)
    perm = g.randperm(int(n)) if g is not None else _rng(generator).permutation(int(n))
    return _result(perm.astype(dt), requires_grad, out, device)


# --- *_like ---


def _check_input(input, fn):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return tuple(input._data.shape)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Zeros with the shape (and dtype, unless given) of `input`.

    Example:
        >>> descend.zeros_like(descend.ones(2), dtype=descend.int64)
        tensor([0, 0])
    """
    shape = _check_input(input, "zeros_like")
    return zeros(shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Ones with the shape (and dtype, unless given) of `input`."""
    shape = _check_input(input, "ones_like")
    return ones(shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """`empty` with the shape (and dtype, unless given) of `input` (zeros here)."""
    shape = _check_input(input, "empty_like")
    return empty(shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """`fill_value` everywhere, with the shape (and dtype, unless given) of `input`.

    Example:
        >>> descend.full_like(descend.zeros(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    shape = _check_input(input, "full_like")
    return full(shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """`rand` with the shape (and dtype, unless given) of `input`."""
    shape = _check_input(input, "rand_like")
    return rand(shape, generator=generator, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """`randn` with the shape (and dtype, unless given) of `input`."""
    shape = _check_input(input, "randn_like")
    return randn(shape, generator=generator, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad)


def randint_like(input, *args, low=None, high=None, generator=None, dtype=None, device=None,  # noqa: A002
                 requires_grad=False):
    """`randint` with the shape (and dtype, unless given) of `input`: `(x, high)` or `(x, low, high)`.

    Example:
        >>> descend.randint_like(descend.zeros(3), 10).dtype == descend.float32
        True
    """
    shape = _check_input(input, "randint_like")
    if low is not None:
        args = (low, *args)
    if high is not None:
        args = (*args, high)
    return randint(*args, shape, generator=generator, dtype=dtype or input.dtype, device=device,
                   requires_grad=requires_grad)
