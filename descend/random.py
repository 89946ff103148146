"""Random number generators: `descend.Generator` and the global default one behind every draw.

A `Generator` is PyTorch's CPU generator: a 32-bit Mersenne Twister (NumPy's MT19937, seeded
as `std::mt19937(seed)` is) and PyTorch's ways of turning its words into numbers. So after
`descend.manual_seed(s)`, `rand`, `randn`, `randint`, `randperm`, `normal_`, `uniform_`,
`bernoulli_`, `exponential_`, `multinomial`, dropout and the `nn.init` fills give PyTorch's
numbers for the same seed, bit for bit (checked against torch 2.13 on the CPU; `randn` of 16 or
more float32 values follows PyTorch's AVX2 kernel, the one x86-64 machines without AVX-512 run).
Other distributions (`poisson`, `geometric`, `cauchy_`, `log_normal_`) draw from the same
stream through NumPy's samplers: repeatable, but not PyTorch's numbers.

Example:
    >>> g = descend.Generator().manual_seed(42)
    >>> a = descend.rand(3, generator=g)
    >>> g.manual_seed(42) and bool((descend.rand(3, generator=g) == a).all())
    True
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ._fma import fma

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
# MT19937's 624 words and position, the cached second normal sample (valid flag + float64), the seed
_STATE_BYTES = 624 * 4 + 4 + 1 + 8 + 8
_F32, _F64 = np.float32, np.float64
_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


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
        bits = np.random.MT19937(0)
        bits._legacy_seeding(self._seed & 0xFFFF_FFFF)  # std::mt19937(seed): PyTorch keeps 32 bits
        self._use(bits)
        self._normal = None  # the second value of the last Box-Muller pair, for the next draw
        return self

    def _use(self, bits):
        self._bits = bits
        self._rng = np.random.Generator(bits)  # NumPy's samplers, for what PyTorch's are not mirrored

    def seed(self):
        """Reseed from the operating system's entropy and return the new seed."""
        s = int(np.random.SeedSequence().entropy) % (2**63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The full state as a 1-D uint8 tensor, for `set_state`.

        Example:
            >>> descend.Generator().get_state().dtype == descend.uint8
            True
        """
        from .tensor import _wrap

        st = self._bits.state["state"]
        cached = self._normal
        raw = (
            np.asarray(st["key"], dtype="<u4").tobytes()
            + int(st["pos"]).to_bytes(4, "little")
            + bytes([cached is not None])
            + np.float64(0.0 if cached is None else cached).tobytes()
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
        bits = np.random.MT19937(0)
        bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.frombuffer(raw[:2496], dtype="<u4").astype(np.uint32),
                      "pos": int.from_bytes(raw[2496:2500], "little")},
        }
        self._use(bits)
        self._normal = float(np.frombuffer(raw[2501:2509], dtype="<f8")[0]) if raw[2500] else None
        self._seed = int.from_bytes(raw[2509:2517], "little")
        return self

    def __repr__(self):
        return f"<descend.Generator object (device='cpu', initial_seed={self._seed})>"

    # --- PyTorch's draws (ATen's CPUGeneratorImpl and DistributionsHelper.h) ---

    def _random(self, n):
        """n 32-bit words (uint64), PyTorch's `random()`."""
        return self._bits.random_raw(n).astype(np.uint64)

    def _random64(self, n):
        """n 64-bit words, PyTorch's `random64()`: two 32-bit draws, the first the high half."""
        pairs = self._bits.random_raw(2 * n).astype(np.uint64).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def _unit(self, n, dtype):
        """n uniform [0, 1) values as `uniform_real_distribution(0, 1)` makes them for `dtype`: the low
        mantissa-width bits of one 32-bit draw (float16/32) or one 64-bit draw (float64), scaled."""
        digits = _DIGITS[dtype]
        words = self._random64(n) if digits == 53 else self._random(n)
        x = (words & np.uint64((1 << digits) - 1)).astype(_F64) * 2.0**-digits
        return x if digits == 53 else x.astype(_F32)

    def uniform(self, shape, low, high, dtype):
        """`uniform_(low, high)`: x * (high - low) + low per element, fused as PyTorch's kernel is."""
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        x = self._unit(n, dtype if dtype in _DIGITS else np.dtype(np.float32))
        if x.dtype == _F64:
            out = fma(x, float(high) - float(low), float(low))
        else:  # float32 arithmetic with one rounding (the compiler's fused multiply-add)
            lo, hi = _F32(low), _F32(high)
            out = fma(x, hi - lo, lo)
        return out.reshape(shape).astype(dtype, copy=False)

    def normal(self, shape, mean, std, dtype, contiguous=True):
        """`normal_(mean, std)` as PyTorch's CPU kernel: Box-Muller over uniforms, 16 at a time for 16
        or more contiguous values, else one pair per two values from float64 uniforms."""
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if n >= 16 and contiguous and dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            out = self._normal_fill(n, mean, std, dtype)
        else:  # normal_distribution<double>, then z * std + mean fused, in float64
            out = fma(np.array([self._normal_one() for _ in range(n)], dtype=_F64), std, mean)
        return out.reshape(shape).astype(dtype, copy=False)

    def _normal_one(self):
        """One N(0, 1) value from `normal_distribution<double>`, which keeps the pair's second value."""
        if self._normal is not None:
            value, self._normal = self._normal, None
            return value
        u1, u2 = self._unit(2, np.dtype(np.float64))
        r = math.sqrt(-2.0 * math.log1p(-float(u2)))
        theta = 2.0 * math.pi * float(u1)
        self._normal = r * math.sin(theta)
        return r * math.cos(theta)

    def _normal_fill(self, n, mean, std, dtype):
        data = self._unit(n, dtype)
        whole = n - n % 16
        data[:whole] = self._box_muller_16(data[:whole].reshape(-1, 16), mean, std).reshape(-1)
        if n % 16:  # PyTorch redraws the last 16 values when n is not a multiple of 16
            data[n - 16:] = self._box_muller_16(self._unit(16, dtype).reshape(1, 16), mean, std).reshape(-1)
        return data

    @staticmethod
    def _box_muller_16(blocks, mean, std):
        """Each row of 16 uniforms u -> 16 normals: rows j and j + 8 pair up, as `normal_fill_16`."""
        u1, u2 = 1 - blocks[:, :8], blocks[:, 8:]
        out = np.empty_like(blocks)
        if blocks.dtype == _F64:  # normal_fill_16<double>: libm's log, cos and sin
            radius = np.sqrt(-2 * np.log(u1))
            theta = 2.0 * math.pi * u2
            out[:, :8] = fma(radius * np.cos(theta), std, mean)
            out[:, 8:] = fma(radius * np.sin(theta), std, mean)
            return out
        # float32: normal_fill_16_AVX2, with avx_mathfun's log and sincos (fused as compiled)
        radius = np.sqrt(_F32(-2) * _log_avx(u1))
        sin, cos = _sincos_avx(_F32(2.0 * math.pi) * u2)
        out[:, :8] = fma(radius * cos, _F32(std), _F32(mean))
        out[:, 8:] = fma(radius * sin, _F32(std), _F32(mean))
        return out

    def randint(self, shape, low, high):
        """`randint(low, high)`: a 32-bit word mod the range (a 64-bit one from 2**32 on), plus low."""
        n = math.prod(shape)
        span = high - low
        words = self._random64(n) if span >= 1 << 32 else self._random(n)
        return ((words % np.uint64(span)).astype(np.int64) + low).reshape(shape)

    def randperm(self, n):
        """`randperm(n)`: Fisher-Yates, swapping position i with i + (a 32-bit word mod (n - i))."""
        perm = np.arange(n, dtype=np.int64)
        if n > 1:
            words = self._random(n - 1).tolist()
            for i, w in enumerate(words):
                j = i + w % (n - i)
                perm[i], perm[j] = perm[j], perm[i]
        return perm

    def bernoulli(self, shape, p):
        """`bernoulli_(p)` for a float p: a float64 uniform below p (PyTorch's kernel off Intel's MKL);
        for an array of probabilities (`bernoulli(input)`), a uniform below each, float64 for float64
        probabilities and float32 for the others."""
        n = math.prod(shape)
        if isinstance(p, np.ndarray):
            kind = np.dtype(np.float64) if p.dtype == np.float64 else np.dtype(np.float32)
            return self._unit(n, kind).reshape(shape) < np.broadcast_to(p, shape)
        return (self._unit(n, np.dtype(np.float64)) < p).reshape(shape)

    def exponential(self, shape, lambd, dtype):
        """`exponential_(lambd)`: (-1 / lambd) * log1p(-u) from float64 uniforms, in that order."""
        u = self._unit(math.prod(shape), np.dtype(np.float64))
        return ((-1.0 / lambd) * np.log1p(-u)).reshape(shape).astype(dtype, copy=False)

    def random_full(self, shape, dtype):
        """`random_()` without bounds: a word mod (the dtype's largest exact integer + 1), a 64-bit word
        for int64 and float64, a 32-bit one otherwise (bool takes its lowest bit)."""
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if dtype.kind == "b":
            return (self._random(n) & np.uint64(1)).astype(bool).reshape(shape)
        top = 2 ** (np.finfo(dtype).nmant + 1) if dtype.kind == "f" else int(np.iinfo(dtype).max)
        words = self._random64(n) if dtype.itemsize == 8 else self._random(n)
        return (words % np.uint64(top + 1)).reshape(shape).astype(dtype)

    def multinomial(self, weights, num_samples, replacement):
        """`multinomial` over the rows of 2-D `weights` (non-negative, each row summing above 0).

        With replacement: each draw is a float64 uniform located in the row's cumulative distribution
        (its last entry set to 1). Otherwise, and for one draw, PyTorch's exponential trick: the top
        `num_samples` of w / q with q ~ Exp(1) (float32 q for float32 weights)."""
        if replacement and num_samples > 1:
            out = np.empty((weights.shape[0], num_samples), dtype=np.int64)
            for i, row in enumerate(weights.astype(_F64)):
                cdf = np.cumsum(row) / row.sum()
                cdf[-1] = 1.0
                out[i] = np.searchsorted(cdf, self._unit(num_samples, np.dtype(np.float64)), side="left")
            return out
        q = self.exponential(weights.shape, 1.0, weights.dtype)
        keys = weights / q
        if num_samples == 1:
            return np.argmax(keys, axis=1)[:, None].astype(np.int64)
        return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)


_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)


def _log_avx(x):
    """avx_mathfun's log256_ps (Cephes' logf) step for step in float32, with GCC's fused multiply-adds."""
    x = np.asarray(x, _F32)
    bits = np.maximum(x, np.array(0x0080_0000, np.int32).view(_F32)).view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32) + _F32(1)
    m = ((bits & ~0x7F80_0000) | np.array(0.5, _F32).view(np.int32)).view(_F32)  # mantissa in [0.5, 1)
    low = m < _F32(0.707106781186547524)
    m = (m - _F32(1)) + np.where(low, m, _F32(0))
    e = e - low.astype(_F32)
    z = m * m
    y = np.full_like(m, _F32(_LOG_P[0]))
    for p in _LOG_P[1:]:
        y = fma(y, m, _F32(p))
    y = fma(y * m, z, e * _F32(-2.12194440e-4))
    y = fma(z, _F32(-0.5), y)
    out = fma(e, _F32(0.693359375), m + y)
    return np.where(x <= 0, _F32(np.nan), out)


def _sincos_avx(x):
    """avx_mathfun's sincos256_ps (Cephes' sinf and cosf) in float32, with GCC's fused multiply-adds."""
    x = np.asarray(x, _F32)
    negative = np.signbit(x)
    x = np.abs(x)
    j = (x * _F32(1.27323954473516)).astype(np.int32)  # x / (pi / 4), truncated
    j = (j + 1) & ~1
    y = j.astype(_F32)
    for dp in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8):  # x - j pi / 4
        x = fma(y, _F32(dp), x)
    sin_negative = negative ^ ((j & 4) != 0)
    cos_negative = ((j - 2) & 4) == 0
    use_sin_poly = (j & 2) == 0
    z = x * x
    yc = fma(fma(np.full_like(z, _F32(2.443315711809948e-5)), z, _F32(-1.388731625493765e-3)), z,
                _F32(4.166664568298827e-2))
    yc = fma(yc * z, z, -(z * _F32(0.5))) + _F32(1)
    ys = fma(fma(np.full_like(z, _F32(-1.9515295891e-4)), z, _F32(8.3321608736e-3)), z,
                _F32(-1.6666654611e-1))
    ys = fma(ys * z, x, x)
    sin = np.where(use_sin_poly, ys, yc)
    cos = np.where(use_sin_poly, yc, ys)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)


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


def _generator(gen=None):
    """The `Generator` to draw PyTorch's numbers from (the global one by default), or None when the
    caller passed a NumPy generator (whose own samplers are then used)."""
    if gen is None:
        return default_generator
    if isinstance(gen, Generator):
        return gen
    if isinstance(gen, np.random.Generator):
        return None
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
