"""F.gumbel_softmax: softmax((logits + g) / tau), g = -log(Exponential(1)); and its straight-through form."""

import numpy as np
import pytest

import descend
import descend.nn.functional as F


def _noise(shape, seed):
    descend.manual_seed(seed)
    return -np.log(descend.empty(shape, dtype=descend.float64).exponential_().numpy())


def test_soft_sample_is_the_softmax_of_logits_plus_the_seeded_gumbel_noise():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    z = (logits + _noise((2, 3), 7)) / 0.7
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    descend.manual_seed(7)
    out = F.gumbel_softmax(descend.tensor(logits), tau=0.7)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(out.numpy().sum(1), 1.0, rtol=1e-12)


def test_hard_sample_is_one_hot_forward_with_the_soft_samples_gradient():
    logits = descend.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=descend.float64, requires_grad=True)
    w = descend.tensor([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], dtype=descend.float64)
    descend.manual_seed(3)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    (hard * w).sum().backward()
    grad_hard = logits.grad.numpy().copy()
    logits.grad = None
    descend.manual_seed(3)
    soft = F.gumbel_softmax(logits, tau=0.5)
    (soft * w).sum().backward()
    assert sorted(hard.detach().numpy().ravel().tolist()) == [0, 0, 0, 0, 1, 1]
    np.testing.assert_array_equal(hard.detach().numpy().argmax(1), soft.detach().numpy().argmax(1))
    np.testing.assert_allclose(grad_hard, logits.grad.numpy(), rtol=1e-12)


def test_dim_picks_the_axis_the_sample_normalises():
    descend.manual_seed(0)
    out = F.gumbel_softmax(descend.zeros(4, 2), hard=True, dim=0)
    np.testing.assert_array_equal(out.numpy().sum(0), [1.0, 1.0])


def test_eps_is_deprecated_and_warns():
    with pytest.warns(UserWarning, match="eps.*deprecated"):
        F.gumbel_softmax(descend.zeros(3), eps=1e-5)
