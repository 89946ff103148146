"""Random number generators: `descend.Generator` and the global default one behind every draw.

A `Generator` wraps NumPy's PCG64 bit generator. `descend.manual_seed(s)` reseeds the global
`descend.default_generator` (and returns it), so a seeded script repeats exactly; a seeded
`Generator` passed as `generator=` makes a draw repeatable and independent of the global state.

The numbers differ from PyTorch's for the same seed (PyTorch's generator is a Mersenne Twister
of its own, not NumPy's PCG64), so results match PyTorch's procedure, not its random draws.

Example:
    >>> g = descend.Generator().manual_seed(42)
    >>> a = descend.rand(3, generator=g)
    >>> g.manual_seed(42) and bool((descend.rand(3, generator=g) == a).all())
    True
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

# PyTorch's default seed for a fresh Generator (torch.Generator().initial_seed()).
_DEFAULT_SEED = 67280421310721
_U64 = 0xFFFF_FFFF_FFFF_FFFF
_STATE_BYTES = 16 + 16 + 1 + 4 + 8  # PCG64 state, increment, has_uint32, uinteger, initial seed


def _check_seed(seed):
    """The seed as PyTorch reads it: an int in [-2**63, 2**64), negatives wrapped to 2**64 - 1 + seed."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -0x8000_0000_0000_0000 <= seed <= _U64:
        raise RuntimeError(f"Overflow when unpacking long: seed {seed} is outside [-2**63, 2**64 - 1]")
    return _U64 + seed if seed < 0 else seed


class Generator:
    """A random number generator, as `torch.Generator`: seed it, save and restore its state.

    Args:
        device: "cpu" (the only device descend has; anything else is a RuntimeError).

    Example:
        >>> g = descend.Generator().manual_seed(0)
        >>> state = g.get_state()
        >>> x = descend.randn(2, generator=g)
        >>> g.set_state(state) is g and bool((descend.randn(2, generator=g) == x).all())
        True
    """

    def __init__(self, device="cpu"):
        from .tensor import _parse_to
        from .tensor import device as _device

        _parse_to((device,), {})
        self.device = _device("cpu")
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Reseed from `seed` (an int) and return this generator."""
        self._seed = _check_seed(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Reseed from the operating system's entropy and return the new seed."""
        s = int(np.random.SeedSequence().entropy) % (2**63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The full state as a 1-D uint8 tensor (45 bytes), for `set_state`.

        Example:
            >>> descend.Generator().get_state().dtype == descend.uint8
            True
        """
        from .tensor import _wrap

        st = self._rng.bit_generator.state
        raw = (
            int(st["state"]["state"]).to_bytes(16, "little")
            + int(st["state"]["inc"]).to_bytes(16, "little")
            + bytes([int(st["has_uint32"])])
            + int(st["uinteger"]).to_bytes(4, "little")
            + self._seed.to_bytes(8, "little")
        )
        return _wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from `get_state` (a uint8 tensor or array); returns this generator."""
        from .tensor import Tensor

        arr = new_state._data if isinstance(new_state, Tensor) else np.asarray(new_state)
        if arr.dtype != np.uint8 or arr.shape != (_STATE_BYTES,):
            raise RuntimeError(
                f"set_state expects a uint8 tensor of {_STATE_BYTES} bytes from get_state(), got dtype "
                f"{arr.dtype} and shape {tuple(arr.shape)}"
            )
        raw = arr.tobytes()
        bits = np.random.PCG64()
        bits.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[0:16], "little"),
                "inc": int.from_bytes(raw[16:32], "little"),
            },
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:37], "little"),
        }
        self._rng = np.random.Generator(bits)
        self._seed = int.from_bytes(raw[37:45], "little")
        return self

    def __repr__(self):
        return f"<descend.Generator object (device='cpu', initial_seed={self._seed})>"


default_generator = Generator()


def _rng(gen=None) -> np.random.Generator:
    """The NumPy generator to draw from: the global one, a `Generator`'s, or a NumPy one as given."""
    if gen is None:
        return default_generator._rng
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a descend.Generator, got {type(gen).__name__}")


def manual_seed(seed):
    """Reseed the global generator and return it (`descend.default_generator`), as PyTorch does.

    Example:
        >>> descend.manual_seed(0) is descend.default_generator
        True
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from the operating system's entropy and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state, a uint8 tensor (see `Generator.get_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator's state from `get_rng_state()`."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True):
    """Run a block with the global generator's state saved before and restored after.

    Args:
        devices: accepted for PyTorch's signature; descend has only the CPU, so it must be None or empty.
        enabled: False makes this a no-op.

    Example:
        >>> with descend.random.fork_rng():
        ...     _ = descend.rand(3)
    """
    if devices:
        raise RuntimeError(f"descend runs on the CPU only; fork_rng got devices {list(devices)}")
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def generator() -> np.random.Generator:
    """The global generator's NumPy `Generator` (what descend's own layers draw from)."""
    return default_generator._rng
