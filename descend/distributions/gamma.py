"""Gamma, Beta and Dirichlet, and their KL divergences (Gamma-Gamma, Beta-Beta, Dirichlet-Dirichlet).

Samples are PyTorch's draws: `_standard_gamma` and `_sample_dirichlet` port ATen's sample_gamma
(Marsaglia-Tsang, boosted below concentration 1) on the generator's uniform_real_distribution<double>
and normal_distribution<double>, element by element in PyTorch's order, so a seeded draw equals torch's.
The reparameterised gradient of those draws (ATen's _standard_gamma_grad / _dirichlet_grad) is not
ported: `rsample` raises NotImplementedError when a gradient to the concentration is asked for.
"""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from .. import creation
from .. import functional as F
from .._defaults import finfo
from ..autograd import is_grad_enabled
from ..ops import stack
from ..ops.special import digamma, lgamma, xlogy
from ..random import _generator
from ..tensor import Size, Tensor, as_tensor
from . import constraints
from .distribution import Distribution
from .kl import register_kl
from .utils import broadcast_all

__all__ = ["Beta", "Dirichlet", "Gamma"]

_F32 = np.float32
_THIRD_F = float(_F32(1.0) / _F32(3.0))  # `1.0f / 3.0f`
_C0331_F = float(_F32(0.0331))


def _sample_gamma(alpha, gen, single):
    """ATen's sample_gamma for one concentration; `single`: alpha is a float (scalar_t = float)."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        inv = float(_F32(1.0) / _F32(alpha)) if single else 1.0 / alpha
        scale *= math.pow(1 - float(gen._unit(1, np.dtype(np.float64))[0]), inv)
        alpha = float(_F32(alpha) + _F32(1.0)) if single else alpha + 1.0
    d = float(_F32(alpha) - _F32(_THIRD_F)) if single else alpha - _THIRD_F
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = gen._normal_one()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - float(gen._unit(1, np.dtype(np.float64))[0])
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _check_no_concentration_grad(concentration, name):
    if is_grad_enabled() and concentration.requires_grad:
        raise NotImplementedError(
            f"{name}.rsample: the reparameterised gradient of the gamma draws (PyTorch's "
            f"_standard_gamma_grad / _dirichlet_grad) is not implemented; use sample() or detach the "
            f"concentration"
        )


def _standard_gamma(concentration):
    """torch._standard_gamma: Gamma(concentration, 1) draws, at least the dtype's smallest normal."""
    a = concentration._data
    gen = _generator()
    single = a.dtype == np.float32
    flat = np.ascontiguousarray(a).reshape(-1).tolist()
    out = np.array([_sample_gamma(v, gen, single) for v in flat], dtype=np.float64).astype(a.dtype)
    return Tensor(np.maximum(out, finfo(a.dtype).tiny).reshape(a.shape))


def _sample_dirichlet(concentration):
    """torch._sample_dirichlet: float64 gamma draws normalised over the last dim, in [tiny, 1 - ulp]."""
    a = concentration._data
    gen = _generator()
    flat = np.ascontiguousarray(a).reshape(-1).astype(np.float64).tolist()
    g = np.array([_sample_gamma(v, gen, False) for v in flat], dtype=np.float64).reshape(a.shape)
    g = np.maximum(g, np.finfo(np.float64).tiny)
    ret = (g / g.sum(-1, keepdims=True)).astype(a.dtype)
    hi = np.nextafter(a.dtype.type(1), a.dtype.type(0))
    return Tensor(np.minimum(hi, np.maximum(finfo(a.dtype).tiny, ret)))


class Gamma(Distribution):
    """The gamma distribution with shape `concentration` and inverse scale `rate`.

    Example:
        >>> Gamma(descend.tensor([2.0]), descend.tensor([1.0])).mean
        tensor([2.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        _check_no_concentration_grad(self.concentration, "Gamma")
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.detach().expand(shape)) / self.rate.expand(shape)
        value._data = np.maximum(value._data, finfo(value.dtype).tiny)
        return value

    def log_prob(self, value):
        value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)


class Dirichlet(Distribution):
    """The Dirichlet distribution on the simplex, with concentration vector(s) over the last dim.

    Example:
        >>> Dirichlet(descend.tensor([1.0, 1.0])).mean
        tensor([0.5000, 0.5000])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        _check_no_concentration_grad(self.concentration, "Dirichlet")
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.detach().expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        concm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concm1 / concm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        if bool(mask.any()):
            mode[mask] = F.one_hot(mode[mask].argmax(dim=-1), concm1.shape[-1]).to(mode.dtype)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((c - 1.0) * digamma(c)).sum(-1)


class Beta(Distribution):
    """The beta distribution on [0, 1] with concentrations concentration1 (alpha), concentration0 (beta).

    Example:
        >>> Beta(descend.tensor([2.0]), descend.tensor([2.0])).mean
        tensor([0.5000])
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            pair = creation.tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            pair = stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(pair, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_parameters(Beta, batch_shape, _instance, ("_dirichlet",))

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        result = self._dirichlet.concentration[..., 0]
        return creation.tensor([result]) if isinstance(result, Number) else result

    @property
    def concentration0(self):
        result = self._dirichlet.concentration[..., 1]
        return creation.tensor([result]) if isinstance(result, Number) else result


# --- KL divergences (PyTorch's closed forms) ---


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sum_params_p = p.concentration1 + p.concentration0
    sum_params_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_params_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_params_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_params_q - sum_params_p) * digamma(sum_params_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = digamma(p.concentration) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)
