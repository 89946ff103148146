"""`descend.accelerator`: PyTorch's device-agnostic accelerator checks; descend has none (CPU only).

Example:
    >>> descend.accelerator.is_available(), descend.accelerator.current_accelerator()
    (False, None)
"""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: descend computes with NumPy on the CPU, without an accelerator."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (PyTorch returns None too when none is present)."""
    return None


def device_count() -> int:
    """0: descend sees no accelerators."""
    return 0
