"""Regressions found by conformance/test_modules.py (nn modules, functional and losses vs PyTorch).

Expected values are derived by hand from PyTorch's documented formulas; no torch import here.
"""

import math

import numpy as np
import pytest

import descend
import descend.nn.functional as F


def test_cosine_similarity_norms_are_over_the_broadcast_inputs():
    # x2 of shape (1,) broadcasts to (3,) before the norms: ||(2, 2, 2)|| = sqrt(12), not 2
    a = descend.tensor([1.0, 2.0, 3.0], dtype=descend.float64)
    out = F.cosine_similarity(a, descend.tensor([2.0], dtype=descend.float64), dim=0)
    assert out.item() == pytest.approx(12 / math.sqrt(14 * 12), rel=1e-12)
    assert abs(out.item()) <= 1.0


def test_cosine_similarity_eps_clamp_leaves_the_norm_gradient():
    # the clamp to eps changes the value, not the gradient path: d/da sum((a / c) * u) with
    # c = max(||a||, eps) = eps, and d||a||/da = a / ||a|| still counted
    a_np, b_np, eps = np.array([0.1, 0.2, -0.1]), np.array([1.0, 2.0, 0.5]), 0.5
    a = descend.tensor(a_np, requires_grad=True)
    b = descend.tensor(b_np, requires_grad=True)
    out = F.cosine_similarity(a, b, dim=0, eps=eps)
    out.backward()
    u = b_np / np.linalg.norm(b_np)
    assert out.item() == pytest.approx(a_np @ u / eps, rel=1e-12)
    expected = u / eps - (a_np @ u) / eps**2 * a_np / np.linalg.norm(a_np)
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)
    # b's norm is above eps: the ordinary gradient (a/eps) / ||b|| - cos_b * b / ||b||^2 form
    nb = np.linalg.norm(b_np)
    expected_b = (a_np / eps) / nb - (a_np / eps @ b_np) * b_np / nb**3
    np.testing.assert_allclose(b.grad.numpy(), expected_b, rtol=1e-12)


@pytest.mark.parametrize(
    "shape, groups",
    [((1, 2), 2), ((1, 1), 1), ((1, 3, 1), 3), ((1, 4), 4)],
)
def test_group_norm_rejects_one_value_per_group(shape, groups):
    # PyTorch's F.group_norm: N * C // G * prod(spatial) == 1 raises, in eval mode too
    x = descend.ones(*shape)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.group_norm(x, groups)
    m = descend.nn.GroupNorm(groups, shape[1]).eval()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        m(x)


def test_group_norm_two_values_per_group_still_normalises():
    out = F.group_norm(descend.tensor([[[1.0], [3.0]]]), 1)
    np.testing.assert_allclose(out.numpy().ravel(), [-1.0, 1.0], rtol=1e-4)
