"""Process-wide defaults every factory reads (the default float dtype and device), and dtype facts.

`set_default_dtype(descend.float64)` makes `randn`, `zeros`, `arange(0.5)`... produce float64, as
`torch.set_default_dtype` does. `finfo`/`iinfo` describe what a dtype can hold.

Example:
    >>> descend.set_default_dtype(descend.float64)
    >>> descend.zeros(2).dtype == descend.float64
    True
    >>> descend.set_default_dtype(descend.float32)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFAULTS",
    "default_float_dtype",
    "finfo",
    "get_default_device",
    "get_default_dtype",
    "iinfo",
    "is_tensor",
    "numel",
    "set_default_device",
    "set_default_dtype",
]

DEFAULTS = {"float": np.dtype("float32")}
_ALLOWED_FLOATS = (np.dtype("float32"), np.dtype("float64"))


def default_float_dtype() -> np.dtype:
    """The dtype factories give floating-point tensors when no `dtype=` is passed."""
    return DEFAULTS["float"]


def set_default_dtype(d) -> None:
    """Make `d` (float32 or float64) the default floating-point dtype of every factory.

    Example:
        >>> descend.set_default_dtype(descend.float64); descend.randn(2).dtype == descend.float64
        True
        >>> descend.set_default_dtype(descend.float32)
    """
    try:
        dt = np.dtype(d)
    except TypeError:
        dt = None
    # NOTE: Python's float is refused, as PyTorch refuses it: it must be a dtype (float64 or float32).
    if d is None or any(d is t for t in (float, int, bool)) or dt not in _ALLOWED_FLOATS:
        raise TypeError(
            f"only floating-point types are supported as the default type; descend supports float32 and "
            f"float64, got {d!r}"
        )
    DEFAULTS["float"] = dt


def get_default_dtype() -> np.dtype:
    """The default floating-point dtype (float32 unless `set_default_dtype` changed it)."""
    return DEFAULTS["float"]


def _check_device(device) -> None:
    from .tensor import _parse_to

    _parse_to((device,), {})


def set_default_device(device) -> None:
    """Set the device factories allocate on: only "cpu" (or None, the default) exists in descend.

    Example:
        >>> descend.set_default_device("cpu")
    """
    if device is not None:
        _check_device(device)


def get_default_device():
    """The default device: always `device(type='cpu')`."""
    from .tensor import device

    return device("cpu")


def is_tensor(obj) -> bool:
    """True when `obj` is a descend Tensor (as `torch.is_tensor`)."""
    from .tensor import Tensor

    return isinstance(obj, Tensor)


def numel(input) -> int:  # noqa: A002 - PyTorch's name
    """The number of elements of a tensor (as `torch.numel`).

    Example:
        >>> descend.numel(descend.zeros(2, 3))
        6
    """
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' must be Tensor, not {type(input).__name__}")
    return int(input._data.size)


def _dtype_name(dt):
    return "bool" if dt == np.bool_ else dt.name


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating-point dtype (as `torch.finfo`); the default dtype when none is given.

    Attributes: bits, eps, max, min, tiny (= smallest_normal), resolution, dtype (its name).

    Example:
        >>> descend.finfo(descend.float32).eps
        1.1920928955078125e-07
    """

    def __init__(self, type=None):  # noqa: A002 - PyTorch's name
        dt = default_float_dtype() if type is None else _numpy_dtype(type)
        if dt.kind != "f":
            raise TypeError(f"torch.finfo() requires a floating point input type, got {_dtype_name(dt)}")
        info = np.finfo(dt)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = _dtype_name(dt)

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's name
    """Machine limits of an integer dtype (as `torch.iinfo`): bits, max, min, dtype.

    Example:
        >>> descend.iinfo(descend.int64).max
        9223372036854775807
    """

    def __init__(self, type):  # noqa: A002 - PyTorch's name
        dt = _numpy_dtype(type)
        if dt.kind not in "iu":
            raise TypeError(f"torch.iinfo() requires an integer input type, got {_dtype_name(dt)}")
        info = np.iinfo(dt)
        self.bits, self.min, self.max = int(info.bits), int(info.min), int(info.max)
        self.dtype = _dtype_name(dt)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def _numpy_dtype(type):  # noqa: A002
    from .tensor import _dtype

    if type is float:  # Python's float is a double, as in PyTorch's finfo(float)
        return np.dtype(np.float64)
    return _dtype(type)
