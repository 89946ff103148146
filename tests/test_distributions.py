"""descend.distributions: formula values, rsample's gradient, sample shapes and error messages."""

import math

import numpy as np
import pytest

import descend
import descend.distributions as D


def test_normal_log_prob_by_hand():
    loc, scale, x = 1.0, 2.0, 0.5
    want = -((x - loc) ** 2) / (2 * scale**2) - math.log(scale) - 0.5 * math.log(2 * math.pi)
    got = D.Normal(descend.tensor([loc]), descend.tensor([scale])).log_prob(descend.tensor([x]))
    assert got.item() == pytest.approx(want, rel=1e-6)


def test_bernoulli_entropy_formula():
    p = 0.3
    got = D.Bernoulli(probs=descend.tensor([p])).entropy().item()
    assert got == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)), rel=1e-6)


def test_kl_two_normals_formula():
    m1, s1, m2, s2 = 0.5, 1.5, -1.0, 0.7
    want = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    got = D.kl_divergence(D.Normal(m1, s1), D.Normal(m2, s2)).item()
    assert got == pytest.approx(want, rel=1e-6)


def test_rsample_gradient_is_one_and_eps():
    loc = descend.tensor([0.5, -1.0], requires_grad=True)
    scale = descend.tensor([2.0, 0.5], requires_grad=True)
    descend.manual_seed(0)
    x = D.Normal(loc, scale).rsample()
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.numpy(), rtol=1e-6)


def test_sample_shapes():
    d = D.Normal(descend.zeros(3), descend.ones(1))
    assert tuple(d.sample((4, 2)).shape) == (4, 2, 3)
    c = D.Categorical(logits=descend.zeros(2, 5))
    assert tuple(c.sample((7,)).shape) == (7, 2) and c.sample().dtype == descend.int64
    o = D.OneHotCategorical(probs=descend.ones(5))
    assert tuple(o.sample((3,)).shape) == (3, 5) and (o.sample((3,)).sum(-1) == 1).all()
    mv = D.MultivariateNormal(descend.zeros(2), descend.eye(2))
    assert tuple(mv.rsample((6,)).shape) == (6, 2) and tuple(mv.log_prob(descend.zeros(4, 2)).shape) == (4,)
    assert tuple(D.Independent(d, 1).sample((2,)).shape) == (2, 3)


def test_categorical_normalises_probs_and_logits():
    c = D.Categorical(probs=descend.tensor([1.0, 3.0]))
    np.testing.assert_allclose(c.probs.numpy(), [0.25, 0.75])
    lc = D.Categorical(logits=descend.tensor([0.0, math.log(3.0)]))
    np.testing.assert_allclose(lc.probs.numpy(), [0.25, 0.75], rtol=1e-6)
    assert lc.log_prob(descend.tensor(1)).item() == pytest.approx(math.log(0.75), rel=1e-6)


def test_mvn_matches_independent_normals():
    scale = descend.tensor([1.0, 2.0])
    mv = D.MultivariateNormal(descend.zeros(2), descend.diag(scale**2))
    ind = D.Independent(D.Normal(descend.zeros(2), scale), 1)
    x = descend.tensor([0.3, -1.2])
    assert mv.log_prob(x).item() == pytest.approx(ind.log_prob(x).item(), rel=1e-6)
    assert mv.entropy().item() == pytest.approx(ind.entropy().item(), rel=1e-6)


def test_binomial_log_prob_formula():
    got = D.Binomial(4, descend.tensor([0.5])).log_prob(descend.tensor([2.0])).item()
    assert got == pytest.approx(math.log(6 / 16), rel=1e-6)


def test_validation_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"Expected parameter scale .* GreaterThan\(lower_bound=0.0\)"):
        D.Normal(descend.tensor([0.0]), descend.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"within the support \(Boolean\(\)\)"):
        D.Bernoulli(probs=descend.tensor([0.5])).log_prob(descend.tensor([0.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical()
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))


def test_validation_can_be_turned_off():
    d = D.Normal(descend.tensor([0.0]), descend.tensor([-1.0]), validate_args=False)
    assert tuple(d.log_prob(descend.tensor([0.0])).shape) == (1,)


def test_register_kl_custom_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Exponential)
    def _kl(p, q):
        return descend.tensor(42.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Exponential(1.0)).item() == 42.0
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 0.0  # inherits Normal-Normal


def test_exposed_after_import_descend_as_torch():
    import descend as torch

    assert torch.distributions.Normal is D.Normal
