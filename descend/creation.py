"""Tensor factories with PyTorch's names and defaults (float32 unless told otherwise)."""

from __future__ import annotations

import numpy as np

from .random import generator
from .tensor import _dtype, _wrap, float32, int64

__all__ = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "zeros",
    "zeros_like",
]


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {size!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _make(arr, requires_grad):
    t = _wrap(arr)
    return t.requires_grad_() if requires_grad else t


def zeros(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros: `zeros(2, 3)` or `zeros((2, 3))`."""
    return _make(np.zeros(_size(size), dtype=_dtype(dtype) or float32), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of ones."""
    return _make(np.ones(_size(size), dtype=_dtype(dtype) or float32), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor (zeros here: NumPy's empty memory would make runs unrepeatable)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor filled with `fill_value` (its dtype follows the value, as in PyTorch)."""
    if dtype is None:
        dtype = (
            np.bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, int) else float32
        )
    return _make(
        np.full(_size((size,) if isinstance(size, int) else (size,)), fill_value, dtype=_dtype(dtype)),
        requires_grad,
    )


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """An identity matrix."""
    return _make(np.eye(n, m, dtype=_dtype(dtype) or float32), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from start (inclusive) to end (exclusive); int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    return _make(
        np.arange(start, end, step, dtype=_dtype(dtype) or (int64 if ints else float32)), requires_grad
    )


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """`steps` evenly spaced values from start to end inclusive."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, steps, dtype=_dtype(dtype) or float32), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal samples from the global generator (see `manual_seed`)."""
    rng = generator or _global()
    return _make(rng.standard_normal(_size(size)).astype(_dtype(dtype) or float32), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform samples in [0, 1)."""
    rng = generator or _global()
    return _make(rng.random(_size(size)).astype(_dtype(dtype) or float32), requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None):
    """Integers in [low, high): `randint(10, (3,))` or `randint(0, 10, (3,))`."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size tuple: randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    rng = generator or _global()
    return _wrap(
        rng.integers(low, high, size=_size((size,) if isinstance(size, int) else (size,))).astype(
            _dtype(dtype) or int64
        )
    )


def randperm(n, dtype=None, generator=None, device=None):
    """A random permutation of 0..n-1."""
    rng = generator or _global()
    return _wrap(rng.permutation(n).astype(_dtype(dtype) or int64))


def _like(fn):
    def like(t, dtype=None, requires_grad=False, device=None):
        return fn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"`{fn.__name__}` with the shape (and dtype, unless given) of `t`."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
randn_like = _like(randn)
rand_like = _like(rand)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    """`full` with the shape (and dtype, unless given) of `t`."""
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def _global():
    return generator()
