"""The global random number generator behind `randn`, `rand`, weight initialisation and shuffling.

`descend.manual_seed(s)` reseeds it, so a seeded script repeats exactly. The numbers differ from
PyTorch's for the same seed (PyTorch's generator is not NumPy's), so results match PyTorch's
procedure, not its random draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["generator", "manual_seed", "seed", "initial_seed"]

_state = {"seed": 0, "gen": np.random.default_rng(0)}


def manual_seed(seed: int):
    """Reseed the global generator; returns the generator (PyTorch returns a Generator too)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
    _state["seed"] = int(seed)
    _state["gen"] = np.random.default_rng(int(seed))
    return _state["gen"]


def seed() -> int:
    """Seed the global generator from the operating system's entropy and return the seed."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed last given to `manual_seed`."""
    return _state["seed"]


def generator() -> np.random.Generator:
    """The global `numpy.random.Generator` that `manual_seed` controls."""
    return _state["gen"]
