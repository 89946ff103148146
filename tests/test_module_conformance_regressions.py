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


def test_binary_cross_entropy_rejects_a_target_outside_0_1():
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(descend.tensor([0.5]), descend.tensor([1.5]))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        descend.nn.BCELoss()(descend.tensor([0.5, 0.5]), descend.tensor([0.0, -0.1]))
    # the ends are fine: -log(0.5) each
    out = F.binary_cross_entropy(descend.tensor([0.5, 0.5]), descend.tensor([0.0, 1.0]))
    assert out.item() == pytest.approx(math.log(2), rel=1e-6)


def test_embedding_rejects_negative_indices():
    # PyTorch has no wrap-around for indices: -1 is out of range like num_embeddings
    emb = descend.nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index out of range"):
        emb(descend.tensor([0, -1]))
    with pytest.raises(IndexError, match="index out of range"):
        emb(descend.tensor([3]))
    assert emb(descend.tensor([2])).shape == (1, 2)


X5 = [1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    "mode, pads, expected",
    [
        # a negative side crops; the other side pads from the original input's edge
        ("reflect", (-1, 2), [2.0, 3.0, 4.0, 5.0, 4.0, 3.0]),
        ("reflect", (2, -3), [3.0, 2.0, 1.0, 2.0]),
        ("replicate", (-2, 1), [3.0, 4.0, 5.0, 5.0]),
        ("replicate", (1, -1), [1.0, 1.0, 2.0, 3.0, 4.0]),
        # circular wraps what the crop leaves: (-1, 2) keeps [2, 3, 4, 5], then appends 2, 3
        ("circular", (-1, 2), [2.0, 3.0, 4.0, 5.0, 2.0, 3.0]),
        ("circular", (2, -1), [3.0, 4.0, 1.0, 2.0, 3.0, 4.0]),
    ],
)
def test_pad_negative_padding_crops_in_every_mode(mode, pads, expected):
    x = descend.tensor([X5], requires_grad=True)
    out = F.pad(x, pads, mode=mode)
    np.testing.assert_array_equal(out.detach().numpy()[0], expected)
    out.sum().backward()
    # each input element's gradient counts how often the output reads it
    counts = [expected.count(v) for v in X5]
    np.testing.assert_array_equal(x.grad.numpy()[0], counts)


def test_pad_circular_longer_than_the_cropped_part_raises():
    # (3, -1) on 3 elements leaves 2 to wrap, fewer than the 3 asked for on the left
    with pytest.raises(RuntimeError, match="wraps around"):
        F.pad(descend.tensor([[1.0, 2.0, 3.0]]), (3, -1), mode="circular")


def test_pad_reflect_with_every_padded_dim_empty_raises():
    with pytest.raises(RuntimeError, match="too small"):
        F.pad(descend.tensor([[1.0, 2.0, 3.0]]), (-2, -1), mode="reflect")
    # one empty dimension of two is allowed (an empty result)
    out = F.pad(descend.ones(1, 2, 3), (-3, 0, 0, 0), mode="replicate")
    assert out.shape == (1, 2, 0)


def test_pad_constant_crops_before_padding():
    # 1 element cannot lose 2 even though the left pad of 1 would leave a size of 0
    with pytest.raises(RuntimeError, match="negative padding"):
        F.pad(descend.tensor([1.0]), (1, -2))
    np.testing.assert_array_equal(F.pad(descend.tensor([1.0, 2.0]), (1, -2)).numpy(), [0.0])


def test_prelu_below_two_dims_has_one_channel():
    # PyTorch: the channel dim is dim 1; a 1-d input has no channel dim and one channel
    with pytest.raises(RuntimeError, match="channel size = 1"):
        descend.nn.PReLU(3)(descend.tensor([-1.0, 2.0, -3.0]))
    out = descend.nn.PReLU(1, init=0.5)(descend.tensor([-1.0, 2.0, -3.0]))
    np.testing.assert_allclose(out.detach().numpy(), [-0.5, 2.0, -1.5])
    out = descend.nn.PReLU(2, init=0.5)(descend.tensor([[-1.0, 2.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[-0.5, 2.0]])


@pytest.mark.parametrize(
    "module, shape, out_shape",
    [
        (lambda: descend.nn.AdaptiveAvgPool1d(0), (1, 3, 2), (1, 3, 0)),
        (lambda: descend.nn.AdaptiveMaxPool1d(0), (1, 3, 2), (1, 3, 0)),
        (lambda: descend.nn.AdaptiveAvgPool2d((0, 2)), (1, 3, 2, 2), (1, 3, 0, 2)),
        (lambda: descend.nn.AdaptiveMaxPool2d((2, 0)), (3, 2, 2), (3, 2, 0)),
    ],
)
def test_adaptive_pool_output_size_zero_is_empty(module, shape, out_shape):
    x = descend.ones(*shape, requires_grad=True)
    out = module()(x)
    assert out.shape == out_shape
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))


def test_adaptive_pool_negative_output_size_raises():
    with pytest.raises(RuntimeError, match="greater than or equal to 0"):
        descend.nn.AdaptiveAvgPool1d(-1)(descend.ones(1, 3, 2))


@pytest.mark.parametrize(
    "module, x",
    [
        (lambda: descend.nn.BatchNorm1d(3), np.ones((2, 3))),
        (lambda: descend.nn.LayerNorm(3), np.ones((2, 3))),
        (lambda: descend.nn.GroupNorm(1, 3), np.ones((2, 3))),
        (lambda: descend.nn.LayerNorm(3).double(), np.ones((2, 3), dtype=np.float32)),
    ],
)
def test_norm_layers_refuse_a_float32_float64_mix(module, x):
    # PyTorch's CPU kernels do not promote: a float32 module refuses a float64 input and back
    with pytest.raises(RuntimeError, match="mixed dtype"):
        module()(descend.tensor(x))


def test_norm_layers_run_once_the_dtypes_agree():
    x = descend.tensor(np.array([[1.0, 3.0], [3.0, 1.0]]))
    out = descend.nn.BatchNorm1d(2).double()(x)
    np.testing.assert_allclose(out.detach().numpy(), [[-1.0, 1.0], [1.0, -1.0]], rtol=1e-4)


def test_class_index_targets_must_be_int64_or_uint8():
    logits = descend.zeros(2, 3)
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.cross_entropy(logits, descend.tensor(np.array([0, 2], dtype=np.int32)))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.nll_loss(logits, descend.tensor(np.array([0, 2], dtype=np.int16)))
    # uniform logits over 3 classes: -log(1/3) per sample, for int64 and uint8 alike
    for dt in (np.int64, np.uint8):
        loss = F.cross_entropy(logits, descend.tensor(np.array([0, 2], dtype=dt)))
        assert loss.item() == pytest.approx(math.log(3), rel=1e-6)


def test_cross_entropy_weight_must_share_the_input_dtype():
    x = descend.zeros(2, 3, dtype=descend.float64)
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, descend.tensor([0, 1]), weight=descend.ones(3, dtype=descend.float32))
    loss = F.cross_entropy(x, descend.tensor([0, 1]), weight=descend.ones(3, dtype=descend.float64))
    assert loss.item() == pytest.approx(math.log(3), rel=1e-12)


def test_binary_cross_entropy_target_must_share_the_input_dtype():
    p = descend.tensor(np.array([0.5], dtype=np.float32))
    with pytest.raises(RuntimeError, match="Found dtype float64 but expected float32"):
        F.binary_cross_entropy(p, descend.tensor(np.array([1.0])))


def test_one_hot_wants_int64_indices():
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(descend.tensor(np.array([0, 1], dtype=np.int32)), 3)
    np.testing.assert_array_equal(F.one_hot(descend.tensor([0, 2]), 3).numpy(), [[1, 0, 0], [0, 0, 1]])


def _resize(values, shape, **kwargs):
    return F.interpolate(descend.tensor(np.asarray(values, dtype=np.float64).reshape(shape)), **kwargs)


def test_interpolate_nearest_exact_picks_the_nearest_centre():
    # 3 -> 2: ratio 1.5, source floor((dst + 0.5) * 1.5) = 0, 2 (plain nearest: floor(dst * 1.5) = 0, 1)
    out = _resize([1.0, 2.0, 3.0], (1, 1, 3), size=2, mode="nearest-exact")
    np.testing.assert_array_equal(out.numpy().ravel(), [1.0, 3.0])
    np.testing.assert_array_equal(_resize([1.0, 2.0, 3.0], (1, 1, 3), size=2).numpy().ravel(), [1.0, 2.0])


def test_interpolate_area_is_adaptive_average_pooling():
    np.testing.assert_allclose(
        _resize([1.0, 2.0, 3.0, 4.0], (1, 1, 4), size=2, mode="area").numpy().ravel(), [1.5, 3.5]
    )
    # overlapping windows [0, 2), [1, 3), [2, 4)
    np.testing.assert_allclose(
        _resize([1.0, 2.0, 3.0, 4.0], (1, 1, 4), size=3, mode="area").numpy().ravel(), [1.5, 2.5, 3.5]
    )


def test_interpolate_bicubic_uses_keys_cubic_with_a_minus_0_75():
    # 8 -> 4: source (dst + 0.5) * 2 - 0.5 = 0.5, 2.5, 4.5, 6.5, so t = 0.5 and the weights of the
    # 4 neighbours are (-0.09375, 0.59375, 0.59375, -0.09375); a single 1 at index 3
    x = descend.tensor(np.array([0, 0, 0, 1.0, 0, 0, 0, 0]).reshape(1, 1, 1, 8), requires_grad=True)
    out = F.interpolate(x, size=(1, 4), mode="bicubic")
    np.testing.assert_allclose(out.detach().numpy().ravel(), [0.0, 0.59375, -0.09375, 0.0], atol=1e-15)
    out.sum().backward()
    # each input's gradient is the sum of its weights over the outputs: 0.5 everywhere for this
    # halving (interior samples: 0.59375 - 0.09375 from two outputs; at the edges the clamped
    # indices -1 -> 0 and 8 -> 7 add -0.09375 to 0.59375)
    np.testing.assert_allclose(x.grad.numpy().ravel(), [0.5] * 8, atol=1e-15)


def test_interpolate_trilinear_on_a_5d_input():
    # depth values 0, 1 -> 3 samples with aligned corners: 0, 0.5, 1 (constant over H and W)
    x = np.stack([np.zeros((2, 2)), np.ones((2, 2))]).reshape(1, 1, 2, 2, 2)
    out = _resize(x, x.shape, size=(3, 2, 2), mode="trilinear", align_corners=True)
    np.testing.assert_allclose(out.numpy()[0, 0, :, 0, 0], [0.0, 0.5, 1.0])
    assert out.shape == (1, 1, 3, 2, 2)
    out = _resize(x, x.shape, scale_factor=2, mode="nearest")
    assert out.shape == (1, 1, 4, 4, 4)


def test_normalize_and_cosine_similarity_refuse_integer_inputs():
    with pytest.raises(RuntimeError, match="floating point"):
        F.normalize(descend.tensor([[3, 4]]))
    with pytest.raises(RuntimeError, match="floating point"):
        F.cosine_similarity(descend.tensor([[3, 4]]), descend.tensor([[3, 4]]))
    np.testing.assert_allclose(F.normalize(descend.tensor([[3.0, 4.0]])).numpy(), [[0.6, 0.8]], rtol=1e-6)
    # one float operand is enough: the common dtype is floating
    mixed = F.cosine_similarity(descend.tensor([[3, 4]]), descend.tensor([[3.0, 4.0]]))
    assert mixed.item() == pytest.approx(1.0)
    assert mixed.dtype == descend.float32  # PyTorch's common dtype of int64 and float32, not NumPy's float64


# --- layers PyTorch has that descend lacked (added with their conformance cases) ---


def test_shrink_activations():
    x = descend.tensor([-1.0, -0.3, 0.0, 0.3, 1.0], requires_grad=True)
    np.testing.assert_allclose(F.hardshrink(x, 0.5).detach().numpy(), [-1.0, 0, 0, 0, 1.0])
    out = F.softshrink(x, 0.5)
    np.testing.assert_allclose(out.detach().numpy(), [-0.5, 0, 0, 0, 0.5])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 1])
    np.testing.assert_allclose(
        F.tanhshrink(x).detach().numpy(), x.detach().numpy() - np.tanh(x.detach().numpy())
    )
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(x, -0.5)


def test_glu_halves_and_gates():
    x = descend.tensor([[1.0, 2.0, 0.0, 100.0]], requires_grad=True)
    out = descend.nn.GLU()(x)  # (1, 2) * sigmoid((0, 100))
    np.testing.assert_allclose(out.detach().numpy(), [[0.5, 2.0]])
    out.sum().backward()
    # d/da = sigmoid(b); d/db = a sigmoid(b) (1 - sigmoid(b))
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 1.0, 0.25, 0.0]], atol=1e-12)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(descend.ones(2, 3))


def test_rms_norm_and_its_default_eps():
    x = descend.tensor([[3.0, 4.0]], dtype=descend.float64)
    rms = math.sqrt(12.5)
    np.testing.assert_allclose(F.rms_norm(x, (2,), eps=0.0).numpy(), [[3 / rms, 4 / rms]], rtol=1e-12)
    # eps=None is the dtype's machine epsilon: visible on a zero row, 0 / sqrt(eps) = 0, finite
    m = descend.nn.RMSNorm(2)
    assert m.weight.shape == (2,)
    np.testing.assert_array_equal(m(descend.zeros(1, 2)).detach().numpy(), [[0.0, 0.0]])
    with pytest.raises(RuntimeError, match="normalized_shape"):
        descend.nn.RMSNorm(3)(descend.zeros(2, 2))


def test_padding_layers_are_f_pad():
    x = descend.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(
        descend.nn.ReflectionPad1d((2, 1))(x).numpy(), [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    )
    np.testing.assert_array_equal(descend.nn.ReplicationPad1d(1)(x).numpy(), [[[1.0, 1.0, 2.0, 3.0, 3.0]]])
    np.testing.assert_array_equal(descend.nn.CircularPad1d((1, 0))(x).numpy(), [[[3.0, 1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(
        descend.nn.ConstantPad1d(1, -1.0)(x).numpy(), [[[-1.0, 1.0, 2.0, 3.0, -1.0]]]
    )
    assert descend.nn.ZeroPad2d(1)(descend.ones(1, 2, 2)).shape == (1, 4, 4)
    assert repr(descend.nn.ZeroPad2d((1, 2, 3, 4))) == "ZeroPad2d((1, 2, 3, 4))"
    with pytest.raises(ValueError, match="padding must be an int or a tuple of 4"):
        descend.nn.ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        descend.nn.CircularPad1d(1)(descend.ones(1, 1, 2, 3))


def test_pixel_unshuffle_inverts_pixel_shuffle():
    x = descend.tensor(np.arange(2 * 4 * 6, dtype=np.float64).reshape(1, 2, 4, 6))
    y = descend.nn.PixelUnshuffle(2)(x)
    assert y.shape == (1, 8, 2, 3)
    # channel c * 4 + i * 2 + j holds the pixels (2h + i, 2w + j) of channel c
    np.testing.assert_array_equal(y.numpy()[0, 1], x.numpy()[0, 0, 0::2, 1::2])
    np.testing.assert_array_equal(F.pixel_shuffle(y, 2).numpy(), x.numpy())


def test_distance_modules_and_upsampling_aliases():
    a, b = descend.tensor([[1.0, 0.0]]), descend.tensor([[0.0, 2.0]])
    assert descend.nn.CosineSimilarity()(a, b).item() == 0.0
    assert descend.nn.PairwiseDistance(eps=0.0)(a, b).item() == pytest.approx(math.sqrt(5))
    x = descend.tensor([[[[0.0, 1.0]]]])
    # align_corners=True: 2 -> 3 samples gives 0, 0.5, 1
    np.testing.assert_allclose(
        descend.nn.UpsamplingBilinear2d(size=(1, 3))(x).numpy().ravel(), [0.0, 0.5, 1.0]
    )
    np.testing.assert_array_equal(
        descend.nn.UpsamplingNearest2d(scale_factor=2)(x).numpy()[0, 0, 0], [0, 0, 1, 1]
    )
    np.testing.assert_allclose(descend.nn.Softmax2d()(descend.zeros(2, 1, 1)).numpy().ravel(), [0.5, 0.5])


def test_interpolate_area_to_an_empty_size_is_empty():
    # area is adaptive average pooling, which allows an output size of 0; the other modes do not
    assert F.interpolate(descend.ones(1, 1, 1), scale_factor=0.5, mode="area").shape == (1, 1, 0)
    with pytest.raises(RuntimeError, match="must be positive"):
        F.interpolate(descend.ones(1, 1, 1), scale_factor=0.5, mode="nearest")


def test_instance_norm_normalises_each_sample_and_channel():
    x = descend.tensor(np.array([[[1.0, 3.0], [0.0, 4.0]], [[2.0, 2.5], [-1.0, 1.0]]]), requires_grad=True)
    m = descend.nn.InstanceNorm1d(2, eps=0.0, track_running_stats=True, momentum=0.5)
    out = m(x)
    np.testing.assert_allclose(out.detach().numpy(), np.tile([-1.0, 1.0], (2, 2, 1)), atol=1e-12)
    # running stats: the mean over the batch of each instance's update 0.5 * 0 + 0.5 * stat,
    # the variance unbiased over the 2 spatial values: means (2, 2), (2.25, 0); vars (2, 8), (0.125, 2)
    np.testing.assert_allclose(m.running_mean.numpy(), [0.5 * (2 + 2.25) / 2, 0.5 * (2 + 0) / 2])
    np.testing.assert_allclose(m.running_var.numpy(), [0.5 + 0.5 * (2 + 0.125) / 2, 0.5 + 0.5 * (8 + 2) / 2])
    assert int(m.num_batches_tracked.item()) == 0  # instance norm does not count batches
    # unbatched (C, L) and the one-element error
    assert descend.nn.InstanceNorm1d(2)(descend.ones(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        descend.nn.InstanceNorm1d(2)(descend.ones(3, 2, 1))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        descend.nn.InstanceNorm1d(2)(descend.ones(1, 2, 3, 4))


def test_batchnorm3d_and_dropout3d():
    x = descend.tensor(np.array([1.0, 3.0], dtype=np.float32).reshape(2, 1, 1, 1, 1))
    np.testing.assert_allclose(descend.nn.BatchNorm3d(1, eps=0.0)(x).detach().numpy().ravel(), [-1.0, 1.0])
    with pytest.raises(ValueError, match="expected 5D input"):
        descend.nn.BatchNorm3d(1)(descend.ones(2, 1, 2, 2))
    ones = descend.ones(2, 3, 1, 2, 2)
    np.testing.assert_array_equal(descend.nn.Dropout3d(0.5).eval()(ones).numpy(), ones.numpy())
    # p=1 in training zeroes everything; whole channels share one mask otherwise
    np.testing.assert_array_equal(F.dropout3d(ones, 1.0).numpy(), np.zeros((2, 3, 1, 2, 2)))
    kept = F.dropout3d(ones, 0.5).numpy().reshape(6, -1)
    assert all(len(set(row)) == 1 for row in kept)


def test_multi_margin_loss_weights_after_the_power():
    # sample: x = (0, 1, 3), y = 1, margin 1: terms max(0, 1 - 1 + 0) = 0 and max(0, 1 - 1 + 3) = 3
    x = descend.tensor([[0.0, 1.0, 3.0]], requires_grad=True)
    y = descend.tensor([1])
    assert descend.nn.MultiMarginLoss()(x, y).item() == pytest.approx(3 / 3)
    assert descend.nn.MultiMarginLoss(p=2)(x, y).item() == pytest.approx(9 / 3)
    # PyTorch's kernel: weight[y] * z^p, not (weight[y] z)^p
    w = descend.tensor([1.0, 2.0, 1.0])
    loss = descend.nn.MultiMarginLoss(p=2, weight=w)(x, y)
    assert loss.item() == pytest.approx(2 * 9 / 3)
    loss.backward()
    # d/dx2 = 2 * 2 * 3 / 3 = 4, d/dx1 = -4, d/dx0 = 0 (its term is at the hinge: max(0, 0))
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, -4.0, 4.0]])
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        descend.nn.MultiMarginLoss(p=3)


def test_multilabel_soft_margin_loss_is_the_mean_logistic_loss():
    x = descend.tensor([[0.0, 2.0]])
    y = descend.tensor([[1.0, 0.0]])
    expected = (math.log(2) + math.log1p(math.exp(2.0))) / 2
    assert F.multilabel_soft_margin_loss(x, y).item() == pytest.approx(expected, rel=1e-6)
    out = descend.nn.MultiLabelSoftMarginLoss(weight=descend.tensor([2.0, 0.0]), reduction="none")(x, y)
    np.testing.assert_allclose(out.numpy(), [2 * math.log(2) / 2], rtol=1e-6)


def test_triplet_margin_with_distance_loss_takes_any_distance():
    a, p, n = descend.tensor([[0.0, 0.0]]), descend.tensor([[1.0, 0.0]]), descend.tensor([[0.0, 3.0]])

    def l1(u, v):
        return (u - v).abs().sum(-1)

    # l1: d(a, p) = 1, d(a, n) = 3 -> max(1 + 1 - 3, 0) = 0; margin 2.5 -> 0.5
    assert F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1).item() == 0.0
    loss = descend.nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=2.5)(a, p, n)
    assert loss.item() == pytest.approx(0.5)
    # swap: d(p, n) = 4 > d(a, n) = 3, so nothing changes
    loss = descend.nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=2.5, swap=True)(a, p, n)
    assert loss.item() == pytest.approx(0.5)
