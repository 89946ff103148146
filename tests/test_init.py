"""descend.nn.init: PyTorch's initialisers against their formulas, with generator= and under no_grad."""

import math

import numpy as np
import pytest

import descend
from descend.nn import init


def big(*shape):
    return descend.empty(*shape)


@pytest.mark.parametrize(
    "name, param, gain",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv_transpose3d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3),
        ("relu", None, math.sqrt(2.0)),
        ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_table(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_every_initialiser_follows_a_seeded_generator_and_returns_the_tensor():
    calls = [
        lambda t, g: init.uniform_(t, -1, 1, generator=g),
        lambda t, g: init.normal_(t, 0, 2, generator=g),
        lambda t, g: init.xavier_uniform_(t, generator=g),
        lambda t, g: init.xavier_normal_(t, generator=g),
        lambda t, g: init.kaiming_uniform_(t, generator=g),
        lambda t, g: init.kaiming_normal_(t, generator=g),
        lambda t, g: init.trunc_normal_(t, generator=g),
        lambda t, g: init.orthogonal_(t, generator=g),
        lambda t, g: init.sparse_(t, 0.5, generator=g),
    ]
    for call in calls:
        t = big(6, 4)
        assert call(t, descend.Generator().manual_seed(1)) is t
        again = call(big(6, 4), descend.Generator().manual_seed(1))
        np.testing.assert_array_equal(t.numpy(), again.numpy())


def test_initialisers_write_parameters_without_recording_a_graph():
    w = descend.nn.Parameter(descend.zeros(20, 10))
    version = w._version[0]
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert w.requires_grad and w.grad_fn is None and w._version[0] > version
    assert np.abs(w.detach().numpy()).max() <= 1 / math.sqrt(10) + 1e-7  # Linear's default bound


def test_xavier_and_kaiming_spreads_match_their_formulas():
    g = descend.Generator().manual_seed(0)
    fan_in, fan_out = 400, 300
    w = init.xavier_uniform_(big(fan_out, fan_in), gain=2.0, generator=g).numpy()
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.xavier_normal_(big(fan_out, fan_in), generator=g).numpy()
    assert w.std() == pytest.approx(math.sqrt(2.0 / (fan_in + fan_out)), rel=0.02)
    w = init.kaiming_normal_(big(fan_out, fan_in), mode="fan_out", nonlinearity="relu", generator=g).numpy()
    assert w.std() == pytest.approx(math.sqrt(2.0) / math.sqrt(fan_out), rel=0.02)
    w = init.kaiming_uniform_(big(fan_out, fan_in), a=0.1, generator=g).numpy()
    bound = math.sqrt(2.0 / (1 + 0.1**2)) * math.sqrt(3.0 / fan_in)
    assert np.abs(w).max() <= bound and w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    # a conv weight: fans include the receptive field (3 x 3)
    w = init.kaiming_normal_(big(64, 32, 3, 3), nonlinearity="relu", generator=g).numpy()
    assert w.std() == pytest.approx(math.sqrt(2.0 / (32 * 9)), rel=0.03)


def test_trunc_normal_bounds_and_moments():
    g = descend.Generator().manual_seed(0)
    w = init.trunc_normal_(big(200, 200), mean=0.5, std=1.0, a=-1.0, b=1.5, generator=g).numpy()
    assert w.min() >= -1.0 and w.max() <= 1.5
    # the truncated normal's mean: mu + sigma (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha))
    alpha, beta = -1.5, 1.0
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = Phi(beta) - Phi(alpha)
    mean = 0.5 + (phi(alpha) - phi(beta)) / z
    var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / z - ((phi(alpha) - phi(beta)) / z) ** 2
    assert w.mean() == pytest.approx(mean, abs=0.01) and w.var() == pytest.approx(var, rel=0.02)


def test_trunc_normal_warns_and_errors():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(big(10), mean=5.0, std=1.0, a=-1.0, b=1.0)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(big(3), a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = init.orthogonal_(big(*shape), gain=2.0, generator=descend.Generator().manual_seed(0)).numpy()
    flat = w.reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_constant_ones_zeros_eye_and_dirac():
    assert init.constant_(big(2), 0.3).numpy().tolist() == pytest.approx([0.3, 0.3])
    assert init.ones_(big(2)).tolist() == [1.0, 1.0] and init.zeros_(descend.ones(2)).tolist() == [0.0, 0.0]
    assert init.eye_(big(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    w = init.dirac_(big(4, 2, 3)).numpy()
    expected = np.zeros((4, 2, 3))
    expected[0, 0, 1] = expected[1, 1, 1] = 1  # output channels past the inputs stay zero
    np.testing.assert_array_equal(w, expected)
    w = init.dirac_(big(4, 2, 3, 3), groups=2).numpy()
    assert [tuple(i) for i in np.argwhere(w)] == [(0, 0, 1, 1), (1, 1, 1, 1), (2, 0, 1, 1), (3, 1, 1, 1)]


def test_sparse_zeros_a_fraction_of_each_column():
    w = init.sparse_(big(10, 6), sparsity=0.25, std=0.5, generator=descend.Generator().manual_seed(0)).numpy()
    assert [(w[:, j] == 0).sum() for j in range(6)] == [3] * 6  # ceil(0.25 * 10)


def test_shape_errors_name_the_problem():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(big(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(big(2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(big(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(big(2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(big(3, 1, 3), groups=2)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(big(3))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_normal_(big(0, 3))
