"""descend.functional: activations, linear and dropout against NumPy formulas and finite differences."""

import math

import numpy as np
import pytest

import descend
import descend.nn.functional as F
from descend import gradcheck


def t64(a, requires_grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), dtype=descend.float64, requires_grad=requires_grad)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- activations ---


def test_nn_functional_reexports_descend_functional():
    import descend.functional as core

    for name in core.__all__:
        assert getattr(F, name) is getattr(core, name)


def test_relu_values_and_gradient(rng):
    a = rng.standard_normal((3, 4))
    x = t64(a)
    np.testing.assert_allclose(F.relu(x)._data, np.maximum(a, 0))
    assert gradcheck(lambda x: F.relu(x), (x,))


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_values_and_gradient(rng, slope):
    a = rng.standard_normal((3, 4))
    x = t64(a)
    out = F.leaky_relu(x, slope)
    np.testing.assert_allclose(out._data, np.where(a > 0, a, slope * a))
    assert out.grad_fn.name() == "LeakyReluBackward0"
    assert gradcheck(lambda x: F.leaky_relu(x, slope), (x,))


def test_leaky_relu_keeps_float32():
    out = F.leaky_relu(descend.tensor([-2.0, 3.0]), 0.1)
    assert out.dtype == descend.float32
    np.testing.assert_allclose(out._data, [-0.2, 3.0], rtol=1e-6)


def test_sigmoid_and_tanh(rng):
    a = rng.standard_normal(5)
    x = t64(a)
    np.testing.assert_allclose(F.sigmoid(x)._data, 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(F.tanh(x)._data, np.tanh(a))
    assert gradcheck(lambda x: F.sigmoid(x), (x,))
    assert gradcheck(lambda x: F.tanh(x), (x,))


def test_gelu_exact_matches_erf_formula(rng):
    a = rng.standard_normal(7) * 2
    x = t64(a)
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in a]
    np.testing.assert_allclose(F.gelu(x)._data, expected, atol=1e-6)
    assert gradcheck(lambda x: F.gelu(x), (x,))


def test_gelu_tanh_approximation(rng):
    a = rng.standard_normal(7) * 2
    x = t64(a)
    expected = 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))
    np.testing.assert_allclose(F.gelu(x, approximate="tanh")._data, expected)
    assert gradcheck(lambda x: F.gelu(x, approximate="tanh"), (x,))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(descend.ones(2), approximate="fast")


def test_softmax_and_log_softmax_along_dim(rng):
    a = rng.standard_normal((3, 4))
    x = t64(a)
    e = np.exp(a - a.max(axis=0))
    np.testing.assert_allclose(F.softmax(x, dim=0)._data, e / e.sum(axis=0))
    lse = np.log(np.exp(a).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(x, dim=1)._data, a - lse)
    assert gradcheck(lambda x: F.softmax(x, dim=1), (x,))
    assert gradcheck(lambda x: F.log_softmax(x, dim=0), (x,))


def test_softmax_without_dim_warns_and_uses_pytorch_default():
    x = descend.tensor([[1.0, 2.0], [3.0, 5.0]])
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x)
    np.testing.assert_allclose(out._data.sum(axis=1), [1.0, 1.0], rtol=1e-6)


def test_log_softmax_is_finite_for_huge_logits():
    out = F.log_softmax(descend.tensor([[1e4, -1e4, 0.0]]), dim=1)
    assert np.all(np.isfinite(out._data))
    np.testing.assert_allclose(out._data, [[0.0, -2e4, -1e4]])


# --- linear ---


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_numpy_and_finite_differences(rng, shape, with_bias):
    a, w, b = rng.standard_normal(shape), rng.standard_normal((3, 5)), rng.standard_normal(3)
    x, W, B = t64(a), t64(w), t64(b)
    out = F.linear(x, W, B if with_bias else None)
    expected = a @ w.T + (b if with_bias else 0)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out._data, expected)
    if with_bias:
        assert gradcheck(lambda x, W, B: F.linear(x, W, B), (x, W, B))
    else:
        assert gradcheck(lambda x, W: F.linear(x, W), (x, W))


def test_linear_is_one_fused_node():
    x = descend.ones(4, 2)
    w = descend.ones(3, 2, requires_grad=True)
    b = descend.zeros(3, requires_grad=True)
    out = F.linear(x, w, b)
    assert out.grad_fn.name() == "AddmmBackward0"
    assert F.linear(x, w).grad_fn.name() == "MmBackward0"


def test_linear_gradients_by_hand():
    x = descend.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = descend.tensor([[1.0, -1.0]], requires_grad=True)
    b = descend.tensor([0.5], requires_grad=True)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_allclose(w.grad._data, [[4.0, 6.0]])
    np.testing.assert_allclose(b.grad._data, [2.0])


def test_linear_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x5\)"):
        F.linear(descend.ones(4, 3), descend.ones(5, 2))


def test_linear_dtype_mismatch_is_explained():
    with pytest.raises(RuntimeError, match="input dtype float64 differs from weight dtype float32"):
        F.linear(descend.ones(2, 3, dtype=descend.float64), descend.ones(4, 3))


def test_linear_detects_weight_changed_before_backward():
    w = descend.ones(2, 2, requires_grad=True)
    out = F.linear(descend.ones(1, 2, requires_grad=True), w).sum()
    with descend.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


# --- dropout ---


def test_dropout_scales_kept_elements_and_zeroes_about_p():
    descend.manual_seed(0)
    x = descend.ones(100_000)
    out = F.dropout(x, p=0.3, training=True)._data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert abs((~kept).mean() - 0.3) < 0.01
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_gradient_is_the_same_mask():
    descend.manual_seed(3)
    x = descend.ones(1000, requires_grad=True)
    out = F.dropout(x, p=0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, out._data)
    assert out.grad_fn.name() == "MulBackward0"  # PyTorch's CPU dropout multiplies by its mask


def test_dropout_masks_are_pytorchs_for_the_same_seed():
    descend.manual_seed(0)  # values recorded from torch 2.13: bernoulli_(1 - p) / (1 - p)
    assert F.dropout(descend.ones(8), 0.5).tolist() == [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 2.0]


def test_dropout_inactive_when_not_training_or_p_zero():
    x = descend.randn(10)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p_one_zeroes_everything():
    out = F.dropout(descend.ones(5), p=1.0)
    np.testing.assert_array_equal(out._data, np.zeros(5))


def test_dropout_follows_manual_seed():
    descend.manual_seed(7)
    a = F.dropout(descend.ones(50), 0.5)._data
    descend.manual_seed(7)
    b = F.dropout(descend.ones(50), 0.5)._data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5"])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(descend.ones(3), p)
