"""The activations, normalisations, padding, embeddings and losses added to nn.functional (issue 10).

Values are checked against their formulas (NumPy) or hand-computed numbers; gradients by float64
central differences (`descend.gradcheck`).
"""

import math

import numpy as np
import pytest

import descend
import descend.nn.functional as F
from descend import gradcheck

RNG = np.random.default_rng(7)


def t64(a, grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# x away from the kinks (0, +-1, +-3, 6) so finite differences are smooth
X = np.array([[-4.2, -2.5, -1.4, -0.6, -0.2], [0.3, 0.7, 1.6, 2.2, 7.5]])


def _sig(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(_sig(x))),
    "silu": (F.silu, lambda x: x * _sig(x)),
    "mish": (F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (F.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "celu": (lambda x: F.celu(x, alpha=2.0), lambda x: np.maximum(x, 0) + np.minimum(0, 2 * np.expm1(x / 2))),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "threshold": (lambda x: F.threshold(x, 0.5, -3.0), lambda x: np.where(x > 0.5, x, -3.0)),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                      lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients(name):
    fn, ref = ACTIVATIONS[name]
    x = t64(X)
    np.testing.assert_allclose(fn(x).detach().numpy(), ref(X), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, (x,))


def test_softplus_and_logsigmoid_are_stable_far_out():
    x = descend.tensor([-200.0, 200.0])
    assert F.softplus(x).tolist() == [pytest.approx(0.0, abs=1e-30), 200.0]
    assert F.logsigmoid(x).tolist() == [-200.0, pytest.approx(0.0, abs=1e-30)]
    x = descend.tensor([-200.0, 200.0], requires_grad=True)
    F.logsigmoid(x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]


def test_hardtanh_gradient_is_zero_at_the_edges_as_pytorch():
    x = descend.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    F.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_prelu_per_channel_and_gradient():
    x = t64(RNG.standard_normal((3, 2, 4)))
    w = t64([0.1, 0.3])
    out = F.prelu(x, w).detach().numpy()
    X3 = x.detach().numpy()
    np.testing.assert_allclose(out, np.where(X3 > 0, X3, X3 * np.array([0.1, 0.3])[None, :, None]))
    assert gradcheck(lambda x, w: F.prelu(x, w), (x, w))
    with pytest.raises(RuntimeError, match="parameter numbers"):
        F.prelu(x, t64([0.1, 0.2, 0.3]))


def test_gelu_tanh_and_softmin():
    x = t64(X)
    ref = 0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X**3)))
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").detach().numpy(), ref, rtol=1e-12)
    e = np.exp(-X)
    np.testing.assert_allclose(F.softmin(x, dim=1).detach().numpy(), e / e.sum(1, keepdims=True))


def test_normalize_cosine_similarity_pairwise_distance():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    x1, x2 = t64(a), t64(b)
    np.testing.assert_allclose(F.normalize(x1).detach().numpy(), a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(F.normalize(x1, p=1, dim=0).detach().numpy(),
                               a / np.abs(a).sum(0, keepdims=True))
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(F.cosine_similarity(x1, x2).detach().numpy(), cos)
    np.testing.assert_allclose(F.pairwise_distance(x1, x2).detach().numpy(),
                               np.linalg.norm(a - b + 1e-6, axis=1))
    assert F.pairwise_distance(x1, x2, keepdim=True).shape == (3, 1)
    for fn in (F.normalize, lambda u: F.cosine_similarity(u, x2), lambda u: F.pairwise_distance(u, x2, p=3)):
        assert gradcheck(fn, (x1,))
    # eps clamps each norm separately: 3 / (max(5, 10) * max(1, 10))
    far = F.cosine_similarity(descend.tensor([[3.0, 4.0]]), descend.tensor([[1.0, 0.0]]), eps=10.0)
    assert far.item() == pytest.approx(0.03)


def test_one_hot():
    out = F.one_hot(descend.tensor([[0, 2], [1, 1]]))
    assert out.dtype == descend.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]
    assert F.one_hot(descend.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(descend.tensor([-1]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(descend.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(descend.tensor([], dtype=descend.int64))
    with pytest.raises(RuntimeError, match="index tensor"):
        F.one_hot(descend.tensor([1.0]))


@pytest.mark.parametrize("mode,np_mode",
                         [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_pad_modes_match_numpy_and_gradcheck(mode, np_mode):
    a = RNG.standard_normal((2, 3, 4, 5))
    x = t64(a)
    out = F.pad(x, (1, 2, 2, 1), mode=mode)
    ref = np.pad(a, ((0, 0), (0, 0), (2, 1), (1, 2)), mode=np_mode)
    np.testing.assert_allclose(out.detach().numpy(), ref)
    assert gradcheck(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), (x,))
    assert gradcheck(lambda x: F.pad(x, (2, 1), mode=mode), (t64(a[0]),))


def test_pad_constant_order_value_and_cropping():
    x = t64([[1.0, 2.0, 3.0]])
    # (left, right) of the last dim first, then the dim before
    assert F.pad(x, (1, 0, 0, 1), value=9.0).tolist() == [[9.0, 1.0, 2.0, 3.0], [9.0, 9.0, 9.0, 9.0]]
    assert F.pad(x, (-1, 2), value=5.0).tolist() == [[2.0, 3.0, 5.0, 5.0]]
    assert gradcheck(lambda x: F.pad(x, (-1, 2, 1, 1)), (x,))


def test_pad_errors_are_pytorchs():
    x = descend.zeros(1, 1, 3)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input"):
        F.pad(x, (3, 3), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    with pytest.raises(RuntimeError, match="two times the input dimension"):
        F.pad(x, (1,) * 8)
    with pytest.raises(NotImplementedError, match="not supported for 1D input"):
        F.pad(descend.zeros(3), (1, 1), mode="reflect")


def test_embedding_lookup_padding_frequency_and_max_norm():
    W = t64(RNG.standard_normal((5, 3)))
    idx = descend.tensor([[0, 1, 1], [4, 0, 2]])
    out = F.embedding(idx, W, padding_idx=1)
    np.testing.assert_allclose(out.detach().numpy(), W.detach().numpy()[idx.numpy()])
    out.sum().backward()
    assert W.grad.tolist() == [[2.0] * 3, [0.0] * 3, [1.0] * 3, [0.0] * 3, [1.0] * 3]
    W.grad = None
    F.embedding(idx, W, scale_grad_by_freq=True).sum().backward()
    assert W.grad.tolist() == [[1.0] * 3, [1.0] * 3, [1.0] * 3, [0.0] * 3, [1.0] * 3]
    assert gradcheck(lambda w: F.embedding(idx, w), (W,))
    M = descend.tensor([[3.0, 4.0], [0.3, 0.4]])
    F.embedding(descend.tensor([0, 1]), M, max_norm=1.0)
    np.testing.assert_allclose(M.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(descend.tensor([5]), W)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(idx, W, sparse=True)


def _norm(a, axes, eps=1e-5):
    return (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + eps)


def test_layer_norm_and_group_norm_values_and_gradients():
    a = RNG.standard_normal((2, 6, 4))
    x, w, b = t64(a), t64(RNG.standard_normal(4)), t64(RNG.standard_normal(4))
    np.testing.assert_allclose(F.layer_norm(x, (4,), w, b).detach().numpy(),
                               _norm(a, (2,)) * w.detach().numpy() + b.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(F.layer_norm(x, (6, 4)).detach().numpy(), _norm(a, (1, 2)), rtol=1e-10)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))
    gw, gb = t64(RNG.standard_normal(6)), t64(RNG.standard_normal(6))
    ref = _norm(a.reshape(2, 3, 8), (2,)).reshape(a.shape) * gw.detach().numpy()[:, None] + \
        gb.detach().numpy()[:, None]
    np.testing.assert_allclose(F.group_norm(x, 3, gw, gb).detach().numpy(), ref, rtol=1e-10)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), (x, gw, gb))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 3\]"):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(x, 4)


def test_batch_norm_training_updates_running_stats_and_gradchecks():
    a = RNG.standard_normal((5, 3, 2))
    x, w, b = t64(a), t64(RNG.standard_normal(3)), t64(RNG.standard_normal(3))
    rm, rv = descend.zeros(3, dtype=descend.float64), descend.ones(3, dtype=descend.float64)
    out = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.25)
    np.testing.assert_allclose(out.detach().numpy(), _norm(a, (0, 2)) * w.detach().numpy()[:, None] +
                               b.detach().numpy()[:, None], rtol=1e-10)
    np.testing.assert_allclose(rm.numpy(), 0.25 * a.mean((0, 2)))
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * a.var((0, 2), ddof=1))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    # evaluation: the running statistics normalise
    ev = F.batch_norm(x, rm, rv, w, b)
    ref = (a - rm.numpy()[:, None]) / np.sqrt(rv.numpy()[:, None] + 1e-5) * w.detach().numpy()[:, None] + \
        b.detach().numpy()[:, None]
    np.testing.assert_allclose(ev.detach().numpy(), ref, rtol=1e-10)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (x, w, b))
    with pytest.raises(RuntimeError, match="must be defined in evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(descend.ones(1, 3), None, None, training=True)


def test_bilinear():
    a, b = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 3))
    A, c = RNG.standard_normal((5, 2, 3)), RNG.standard_normal(5)
    out = F.bilinear(t64(a), t64(b), t64(A), t64(c))
    np.testing.assert_allclose(out.detach().numpy(), np.einsum("ni,kij,nj->nk", a, A, b) + c)
    assert gradcheck(lambda x, y, w: F.bilinear(x, y, w), (t64(a), t64(b), t64(A)))
