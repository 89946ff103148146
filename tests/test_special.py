"""descend.special and the special-function ops: known values, poles, and float64 gradchecks."""

import math

import numpy as np
import pytest

import descend as torch
from descend import special
from descend.distributions import Beta, Dirichlet, Gamma, Normal, kl_divergence


def _t(v):
    return torch.tensor(v, dtype=torch.float64)


def test_known_values():
    assert math.isclose(torch.lgamma(_t(0.5)).item(), math.log(math.sqrt(math.pi)), rel_tol=1e-15)
    assert math.isclose(torch.digamma(_t(1.0)).item(), -0.5772156649015329, rel_tol=1e-15)
    # PyTorch's trigamma series stops at 1/x^7 terms: 5e-10 relative at 1 (torch gives the same bits)
    assert math.isclose(torch.polygamma(1, _t(1.0)).item(), math.pi**2 / 6, rel_tol=1e-9)
    x = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(torch.erfinv(torch.erf(_t(x))).numpy(), x, rtol=1e-12, atol=1e-14)


def test_poles_and_domains():
    assert torch.lgamma(_t([0.0, -1.0, -2.0])).tolist() == [math.inf] * 3
    assert torch.digamma(_t(0.0)).item() == -math.inf and torch.digamma(_t(-0.0)).item() == math.inf
    assert math.isnan(torch.digamma(_t(-2.0)).item())
    assert torch.erfinv(_t([1.0, -1.0])).tolist() == [math.inf, -math.inf]
    assert math.isnan(torch.erfinv(_t(1.5)).item())
    with pytest.raises(RuntimeError, match="negative n"):
        torch.polygamma(-1, _t(1.0))


@pytest.mark.parametrize("fn", [
    torch.lgamma, torch.digamma, lambda x: torch.polygamma(2, x), lambda x: x.polygamma(1),
    lambda x: torch.erfinv(x * 0.2), lambda x: special.logit(x * 0.2), lambda x: special.xlogy(x, x + 1),
    lambda x: special.mvlgamma(x + 2, 3), special.ndtr, special.expit, special.sinc,
])
def test_gradcheck(fn):
    x = torch.tensor([0.3, 1.7, 4.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (x,))


def test_gamma_family_formulas():
    g = Gamma(_t(2.0), _t(3.0))
    assert math.isclose(g.log_prob(_t(1.0)).item(), 2 * math.log(3) - 3, rel_tol=1e-14)
    assert math.isclose(g.mean.item(), 2 / 3)
    b = Beta(_t(2.0), _t(2.0))
    assert math.isclose(b.log_prob(_t(0.5)).item(), math.log(1.5), rel_tol=1e-14)
    dirichlet = Dirichlet(_t([1.0, 1.0, 1.0]))
    assert math.isclose(dirichlet.log_prob(_t([0.2, 0.3, 0.5])).item(), math.log(2), rel_tol=1e-14)
    assert abs(kl_divergence(b, Beta(_t(2.0), _t(2.0))).item()) < 1e-15
    assert math.isclose(Normal(_t(0.0), _t(1.0)).icdf(_t(0.975)).item(), 1.959963984540054, rel_tol=1e-12)


def test_gamma_samples_are_positive_and_rsample_refuses_concentration_grad():
    torch.manual_seed(0)
    s = Gamma(_t([0.5, 3.0]), _t(1.0)).sample((200,))
    assert (s > 0).all() and abs(s[:, 1].mean().item() - 3.0) < 0.5
    with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
        Gamma(torch.tensor([1.0], requires_grad=True), torch.tensor([1.0])).rsample()
