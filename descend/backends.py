"""`descend.backends`: PyTorch's backend checks, answered for a NumPy library on the CPU.

Tutorial code such as ``"mps" if torch.backends.mps.is_available() else "cpu"`` then picks the CPU,
and settings such as ``torch.backends.cudnn.deterministic = True`` are accepted (there is no cuDNN;
descend's CPU computations are deterministic anyway).

Example:
    >>> descend.backends.mps.is_available(), descend.backends.cuda.is_built()
    (False, False)
"""

from __future__ import annotations

__all__ = ["cuda", "cudnn", "mps"]


class _Mps:
    """Apple's Metal backend: not built into descend, never available."""

    @staticmethod
    def is_available() -> bool:
        """False: descend computes with NumPy on the CPU."""
        return False

    @staticmethod
    def is_built() -> bool:
        """False: descend has no MPS backend."""
        return False


class _Cuda:
    """The CUDA backend: not built into descend."""

    @staticmethod
    def is_built() -> bool:
        """False: descend has no CUDA backend."""
        return False


class _Cudnn:
    """cuDNN settings: stored so tutorial code can set them; nothing reads them (there is no GPU)."""

    def __init__(self):
        self.enabled = True
        self.deterministic = False
        self.benchmark = False

    @staticmethod
    def is_available() -> bool:
        """False: descend has no cuDNN."""
        return False

    @staticmethod
    def version():
        """None: cuDNN is not available."""
        return None


mps = _Mps()
cuda = _Cuda()
cudnn = _Cudnn()
