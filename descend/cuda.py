"""`descend.cuda`: PyTorch's device checks, answered for a NumPy library (there is no GPU here).

Tutorial code such as `device = "cuda" if torch.cuda.is_available() else "cpu"` then picks the CPU.
"""


def is_available() -> bool:
    """False: descend computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    """0: descend sees no CUDA devices."""
    return 0


def is_built() -> bool:
    """False: descend is not built with CUDA."""
    return False


def manual_seed(seed) -> None:
    """Accepted and ignored, as in PyTorch when CUDA is not available (there is no CUDA generator)."""


def manual_seed_all(seed) -> None:
    """Accepted and ignored, as in PyTorch when CUDA is not available (there is no CUDA generator)."""
