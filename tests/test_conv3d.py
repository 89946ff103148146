"""conv3d, conv_transpose3d and the 3-D pools: hand-computed values, float64 gradchecks, errors, modules."""

import numpy as np
import pytest

import descend
import descend.nn as nn
import descend.nn.functional as F

RNG = np.random.default_rng(0)


def t64(*shape):
    return descend.tensor(RNG.standard_normal(shape), requires_grad=True)


# --- hand-computed values ---


def test_conv3d_with_a_1x1x1_kernel_is_a_channel_mix():
    x = t64(2, 3, 2, 3, 4)
    w = RNG.standard_normal((5, 3))
    b = RNG.standard_normal(5)
    out = F.conv3d(x, descend.tensor(w.reshape(5, 3, 1, 1, 1)), descend.tensor(b))
    expected = np.einsum("oc,ncdhw->nodhw", w, x.detach().numpy()) + b[:, None, None, None]
    assert out.shape == (2, 5, 2, 3, 4)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-12)


def test_conv3d_with_an_all_ones_2x2x2_kernel_sums_blocks():
    x = descend.arange(27.0).reshape(1, 1, 3, 3, 3)  # x[d, h, w] = 9 d + 3 h + w
    out = F.conv3d(x, descend.ones(1, 1, 2, 2, 2))
    # the block at (d, h, w) sums 8 (9 d + 3 h + w) + 4 (9 + 3 + 1) = 72 d + 24 h + 8 w + 52
    expected = [[[72 * d + 24 * h + 8 * w + 52.0 for w in range(2)] for h in range(2)] for d in range(2)]
    assert out.tolist() == [[expected]]
    # stride 2 with padding 1: the corner block holds only x[0, 0, 0] = 0, the last one x[1:3, 1:3, 1:3],
    # 8 elements of mean 9 * 1.5 + 3 * 1.5 + 1.5 = 19.5
    strided = F.conv3d(x, descend.ones(1, 1, 2, 2, 2), stride=2, padding=1)
    assert strided.shape == (1, 1, 2, 2, 2)
    assert strided[0, 0, 0, 0, 0].item() == 0.0 and strided[0, 0, 1, 1, 1].item() == 156.0


def test_conv3d_backward_of_a_sum_counts_each_elements_windows():
    x = descend.ones(1, 1, 3, 3, 3, requires_grad=True)
    w = descend.ones(1, 1, 2, 2, 2, requires_grad=True)
    b = descend.zeros(1, requires_grad=True)
    F.conv3d(x, w, b).sum().backward()
    per_axis = np.array([1.0, 2.0, 1.0])  # how many of the 2 windows along an axis hold each index
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], np.einsum("i,j,k->ijk", per_axis, per_axis, per_axis))
    assert w.grad.tolist() == [[[[[8.0] * 2] * 2] * 2]]  # each weight sees 8 ones
    assert b.grad.tolist() == [8.0]  # 8 outputs


def test_conv3d_same_padding_keeps_the_size_and_unbatched_input_works():
    x = t64(2, 5, 4, 3)
    assert F.conv3d(x, t64(3, 2, 2, 3, 4), padding="same").shape == (3, 5, 4, 3)
    np.testing.assert_allclose(F.conv3d(x[None], descend.tensor(w := RNG.standard_normal((3, 2, 2, 3, 4))),
                                        padding="same")[0].detach().numpy(),
                               F.conv3d(x, descend.tensor(w), padding="same").detach().numpy(), atol=1e-12)


def test_conv_transpose3d_spreads_each_input_over_the_kernel():
    x = descend.tensor([[[[[1.0, 2.0]]]]])  # (1, 1, 1, 1, 2)
    out = F.conv_transpose3d(x, descend.ones(1, 1, 2, 2, 2), stride=2)
    assert out.shape == (1, 1, 2, 2, 4)
    assert out[0, 0].tolist() == [[[1.0, 1.0, 2.0, 2.0]] * 2] * 2


def test_max_pool3d_on_a_cube_by_hand():
    x = descend.arange(64.0).reshape(1, 1, 4, 4, 4)  # increasing along every axis: a block's max is its last
    out, idx = F.max_pool3d(x, 2, return_indices=True)
    expected = [[[16 * (2 * d + 1) + 4 * (2 * h + 1) + 2 * w + 1.0 for w in range(2)] for h in range(2)]
                for d in range(2)]
    assert out.tolist() == [[expected]]
    assert idx.tolist() == [[[[[int(v) for v in row] for row in plane] for plane in expected]]]


def test_max_pool3d_ties_go_to_the_first_and_the_gradient_follows():
    x = descend.ones(1, 1, 2, 2, 2, requires_grad=True)
    out, idx = F.max_pool3d(x, 2, return_indices=True)
    assert idx.tolist() == [[[[[0]]]]]
    out.sum().backward()
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = 1.0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool3d_padding_never_wins_and_ceil_mode_adds_a_window():
    x = descend.full((1, 1, 3, 3, 3), -np.inf)
    _, idx = F.max_pool3d(x, 2, stride=2, padding=1, return_indices=True)
    # every window's first real element: along an axis, window 0 starts at 0, window 1 at 1
    assert idx[0, 0, 1, 1, 1].item() == 9 + 3 + 1 and idx[0, 0, 0, 0, 0].item() == 0
    assert F.max_pool3d(descend.zeros(1, 1, 5, 5, 5), 2).shape == (1, 1, 2, 2, 2)
    assert F.max_pool3d(descend.zeros(1, 1, 5, 5, 5), 2, ceil_mode=True).shape == (1, 1, 3, 3, 3)


def test_avg_pool3d_divisors():
    x = descend.arange(8.0).reshape(1, 1, 2, 2, 2)
    assert F.avg_pool3d(x, 2).flatten().tolist() == [3.5]  # 28 / 8
    assert F.avg_pool3d(x, 2, divisor_override=4).flatten().tolist() == [7.0]
    ones = descend.ones(1, 1, 2, 2, 2)
    # padding 1: the corner window holds one element and 7 padded zeros
    assert F.avg_pool3d(ones, 2, padding=1)[0, 0, 0, 0, 0].item() == 1 / 8
    assert F.avg_pool3d(ones, 2, padding=1, count_include_pad=False)[0, 0, 0, 0, 0].item() == 1.0
    # ceil_mode: a 3-long axis with kernel 2 gets a last window of one element, divided by 1 along it
    out = F.avg_pool3d(descend.ones(1, 1, 3, 2, 2), 2, ceil_mode=True)
    assert out.flatten().tolist() == [1.0, 1.0]


def test_adaptive_pools_3d():
    x = descend.arange(24.0).reshape(1, 1, 2, 3, 4)
    assert F.adaptive_avg_pool3d(x, 1).flatten().tolist() == [11.5]
    assert F.adaptive_max_pool3d(x, 1).flatten().tolist() == [23.0]
    out, idx = F.adaptive_max_pool3d(x, (1, 1, 2), return_indices=True)
    assert out.flatten().tolist() == [21.0, 23.0] and idx.flatten().tolist() == [21, 23]
    assert F.adaptive_avg_pool3d(x, (2, None, 2)).shape == (1, 1, 2, 3, 2)
    assert F.adaptive_avg_pool3d(x[0], (1, 1, 2)).flatten().tolist() == [10.5, 12.5]


# --- gradients ---


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), ((2, 1, 3), (1, 0, 2), 1, 2), (1, "same", (2, 1, 1), 1), (2, 1, 2, 2),
])
def test_conv3d_gradcheck(stride, padding, dilation, groups):
    x, w, b = t64(2, 4, 5, 4, 6), t64(4, 4 // groups, 2, 3, 2), t64(4)
    assert descend.gradcheck(lambda x, w, b: F.conv3d(x, w, b, stride, padding, dilation, groups), (x, w, b))


def test_conv_transpose3d_and_unbatched_conv3d_gradcheck():
    x, w, b = t64(4, 2, 3, 2), t64(4, 1, 2, 2, 3), t64(2)
    assert descend.gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, (2, 1, 2), (0, 1, 1), (1, 0, 1), 2),
                             (x, w, b))
    w = t64(2, 2, 2, 2, 3)
    assert descend.gradcheck(lambda x, w, b: F.conv3d(x, w, b, padding=1, groups=2), (x, w, b))


def test_pools_3d_gradcheck():
    x = descend.tensor(RNG.permutation(120).reshape(1, 2, 3, 4, 5) / 10.0, requires_grad=True)  # no ties
    assert descend.gradcheck(lambda t: F.max_pool3d(t, (2, 3, 2), (1, 2, 1), 1, (1, 1, 2), True), (x,))
    assert descend.gradcheck(lambda t: F.avg_pool3d(t, 3, 2, 1, True, False), (x,))
    assert descend.gradcheck(lambda t: F.adaptive_avg_pool3d(t, (2, 3, 4)), (x,))
    assert descend.gradcheck(lambda t: F.adaptive_max_pool3d(t, (2, 3, 3)), (x,))


# --- errors ---


def test_conv3d_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="Expected 4D \\(unbatched\\) or 5D \\(batched\\) input to conv3d"):
        F.conv3d(descend.zeros(3, 3), descend.zeros(1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="expected weight to be 5-dimensional"):
        F.conv3d(descend.zeros(1, 1, 3, 3, 3), descend.zeros(1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="to have 4 channels, but got 3 channels"):
        F.conv3d(descend.zeros(1, 3, 3, 3, 3), descend.zeros(2, 2, 1, 1, 1), groups=2)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv3d(descend.zeros(1, 1, 3, 3, 3), descend.zeros(1, 1, 4, 1, 1))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        F.conv3d(descend.zeros(1, 1, 3, 3, 3), descend.zeros(1, 1, 1, 1, 1), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose3d(descend.zeros(1, 1, 2, 2, 2), descend.zeros(1, 1, 1, 1, 1), output_padding=1)


def test_pool3d_errors_name_the_problem():
    x = descend.zeros(1, 1, 3, 3, 3)
    with pytest.raises(RuntimeError, match="max_pool3d: non-empty 4D or 5D"):
        F.max_pool3d(descend.zeros(3, 3), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.avg_pool3d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool3d(x, 5)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="adaptive_avg_pool3d\\(\\): Expected 4D or 5D tensor"):
        F.adaptive_avg_pool3d(descend.zeros(3, 3), 1)
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 3 ints"):
        F.max_pool3d(x, (2, 2))


# --- modules ---


def test_modules_3d_shapes_parameters_and_repr():
    conv = nn.Conv3d(4, 6, (3, 1, 2), stride=2, padding=1, groups=2)
    assert conv.weight.shape == (6, 2, 3, 1, 2) and conv.bias.shape == (6,)
    assert repr(conv) == "Conv3d(4, 6, kernel_size=(3, 1, 2), stride=(2, 2, 2), padding=(1, 1, 1), groups=2)"
    bound = 1 / np.sqrt(2 * 3 * 1 * 2)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias alike
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    assert conv(descend.zeros(2, 4, 5, 5, 5)).shape == (2, 6, 3, 4, 3)
    up = nn.ConvTranspose3d(2, 4, 2, stride=2)
    assert up.weight.shape == (2, 4, 2, 2, 2) and up(descend.zeros(1, 2, 2, 3, 4)).shape == (1, 4, 4, 6, 8)
    circ = nn.Conv3d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    circ.weight.data = descend.ones(1, 1, 3, 3, 3)
    assert circ(descend.ones(1, 1, 3, 3, 3)).flatten().tolist() == [27.0] * 27  # wraps: every window is full
    assert nn.MaxPool3d(2)(descend.zeros(1, 3, 4, 6, 8)).shape == (1, 3, 2, 3, 4)
    assert nn.AvgPool3d(2, ceil_mode=True)(descend.zeros(3, 5, 5, 5)).shape == (3, 3, 3, 3)
    assert nn.AdaptiveAvgPool3d(1)(descend.zeros(2, 3, 4, 5, 6)).shape == (2, 3, 1, 1, 1)
    out, idx = nn.AdaptiveMaxPool3d(1, return_indices=True)(descend.arange(8.0).reshape(1, 1, 2, 2, 2))
    assert out.flatten().tolist() == [7.0] and idx.flatten().tolist() == [7]
