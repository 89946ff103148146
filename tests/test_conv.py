"""Convolutions, pooling, unfold/fold and channel dropout: hand-computed values, gradchecks, errors, modules,
and the CNNs of PyTorch's tutorials written as they write them (`import descend as torch`)."""

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

import descend
import descend as torch
import descend.nn as nn
import descend.nn.functional as F

RNG = np.random.default_rng(0)


def t64(*shape):
    return descend.tensor(RNG.standard_normal(shape), requires_grad=True)


# --- hand-computed values ---


def test_conv2d_sums_each_window_times_the_kernel():
    x = descend.arange(16.0).reshape(1, 1, 4, 4)
    w = descend.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i + 1, j + 1] = -5 everywhere
    assert F.conv2d(x, w).tolist() == [[[[-5.0] * 3] * 3]]
    assert F.conv2d(x, w, descend.tensor([2.0]), stride=2).tolist() == [[[[-3.0, -3.0], [-3.0, -3.0]]]]


def test_conv2d_padding_and_dilation_by_hand():
    x = descend.ones(1, 1, 3, 3)
    w = descend.ones(1, 1, 3, 3)
    # zero padding 1: each output counts the input cells its 3x3 window covers
    assert F.conv2d(x, w, padding=1).tolist() == [[[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]]]
    assert F.conv2d(x, w, padding="same").shape == (1, 1, 3, 3)
    x5 = descend.arange(25.0).reshape(1, 1, 5, 5)
    corners = descend.tensor([[[[1.0, 1.0], [1.0, 1.0]]]])
    # dilation 4 over a 5x5 input: the four corners 0 + 4 + 20 + 24
    assert F.conv2d(x5, corners, dilation=4).item() == 48.0


def test_conv2d_groups_keep_channels_apart():
    x = descend.tensor([[[[1.0]], [[10.0]]]])  # two channels, 1x1
    w = descend.tensor([[[[2.0]]], [[[3.0]]]])  # depthwise: channel 0 * 2, channel 1 * 3
    assert F.conv2d(x, w, groups=2).reshape(-1).tolist() == [2.0, 30.0]


def test_conv1d_and_conv_transpose_by_hand():
    x = descend.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    assert F.conv1d(x, descend.tensor([[[1.0, -1.0]]])).tolist() == [[[-1.0, -1.0, -1.0]]]
    # the transposed conv scatters each input times the kernel: [1, 2] * [1, 1] with stride 2
    up = F.conv_transpose1d(descend.tensor([[[1.0, 2.0]]]), descend.tensor([[[1.0, 1.0]]]), stride=2)
    assert up.tolist() == [[[1.0, 1.0, 2.0, 2.0]]]
    out = F.conv_transpose2d(descend.ones(1, 1, 2, 2), descend.ones(1, 1, 2, 2))
    assert out.tolist() == [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]


def test_max_pool2d_values_indices_and_ceil_mode():
    x = descend.tensor([[[[1.0, 5.0, 2.0], [3.0, 4.0, 9.0], [0.0, 7.0, 6.0]]]])
    out, idx = F.max_pool2d(x, 2, stride=1, return_indices=True)
    assert out.tolist() == [[[[5.0, 9.0], [7.0, 9.0]]]]
    assert idx.tolist() == [[[[1, 5], [7, 5]]]]  # flat positions in the 3x3 plane
    assert F.max_pool2d(x, 2).tolist() == [[[[5.0]]]]
    assert F.max_pool2d(x, 2, ceil_mode=True).tolist() == [[[[5.0, 9.0], [7.0, 6.0]]]]
    # -inf padding: the padded border never wins
    assert F.max_pool2d(-x, 3, stride=1, padding=1)[0, 0, 0, 0].item() == -1.0


def test_max_pool_gradient_goes_to_the_maximum_only():
    x = descend.tensor([[[[1.0, 5.0], [3.0, 4.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]
    y = descend.tensor([[[2.0, 2.0, 1.0, 1.0]]], requires_grad=True)  # ties: the first maximum, as PyTorch
    F.max_pool1d(y, 2).sum().backward()
    assert y.grad.tolist() == [[[1.0, 0.0, 1.0, 0.0]]]



def test_max_pool2d_ties_in_2x2_and_1x3_windows_go_to_the_first_maximum_in_row_major_order():
    # one 2x2 window per tie pattern (the path that keeps running maxima): all four equal, the last
    # three, the two of the second row, only the last; then a 1x3 window tied at its ends
    x = descend.tensor([[[[7.0, 7.0, 1.0, 3.0, 0.0, 0.0, 1.0, 1.0],
                          [7.0, 7.0, 3.0, 3.0, 5.0, 5.0, 1.0, 2.0]]]], requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.backward(descend.tensor([[[[1.0, 2.0, 3.0, 4.0]]]]))
    assert out.tolist() == [[[[7.0, 3.0, 5.0, 2.0]]]]
    assert idx.tolist() == [[[[0, 3, 12, 15]]]]
    assert x.grad.tolist() == [[[[1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0],
                                 [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 4.0]]]]
    y = descend.tensor([[[[4.0, 1.0, 4.0, 2.0, 6.0, 6.0]]]], requires_grad=True)
    F.max_pool2d(y, (1, 3)).sum().backward()
    assert y.grad.tolist() == [[[[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]]]]


def test_max_pool2d_takes_a_windows_last_nan_as_its_maximum_as_pytorch():
    nan = float("nan")
    x = descend.tensor([[[[1.0, nan, nan, 1.0, 2.0, 1.0],
                          [3.0, 2.0, nan, 0.0, 0.0, 2.0]]]], requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    assert np.isnan(out.detach().numpy()[0, 0, 0, :2]).all() and out[0, 0, 0, 2].item() == 2.0
    assert idx.tolist() == [[[[1, 8, 4]]]]  # the last NaN of each window, then the first 2.0
    assert x.grad.tolist() == [[[[0.0, 1.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]]]

def test_avg_pool2d_divisors():
    x = descend.ones(1, 1, 3, 3)
    # count_include_pad: the corner window holds 4 ones and 5 zeros of padding
    assert F.avg_pool2d(x, 3, stride=1, padding=1)[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)[0, 0, 0, 0].item() == 1.0
    assert F.avg_pool2d(x, 2, divisor_override=1).item() == 4.0
    x4 = descend.arange(16.0).reshape(1, 1, 4, 4)
    assert F.avg_pool2d(x4, 2).tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]


def test_adaptive_pools_match_their_windows():
    x = descend.arange(10.0).reshape(1, 1, 2, 5)
    # length 5 into 3 windows: [0, 2), [1, 4), [3, 5), PyTorch's floor/ceil bounds
    assert F.adaptive_avg_pool2d(x, (1, 3)).tolist() == [[[[3.0, 4.5, 6.0]]]]
    assert F.adaptive_max_pool2d(x, (1, 3)).tolist() == [[[[6.0, 8.0, 9.0]]]]
    assert F.adaptive_avg_pool2d(x, 1).item() == 4.5
    assert F.adaptive_avg_pool2d(x, (None, 1)).shape == (1, 1, 2, 1)


def test_unfold_lists_channels_then_kernel_positions_and_fold_sums_back():
    x = descend.arange(18.0).reshape(1, 2, 3, 3)
    cols = F.unfold(x, 2)
    assert cols.shape == (1, 8, 4)
    assert cols[0, :, 0].tolist() == [0.0, 1.0, 3.0, 4.0, 9.0, 10.0, 12.0, 13.0]
    # fold(unfold(x)) multiplies each pixel by the number of blocks covering it
    counts = F.fold(F.unfold(descend.ones(1, 1, 3, 3), 2), (3, 3), 2)
    assert counts.tolist() == [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]


def test_conv2d_equals_unfold_then_matmul():
    x, w = t64(2, 3, 6, 5), t64(4, 3, 3, 2)
    direct = F.conv2d(x, w, stride=(2, 1), padding=1)
    cols = F.unfold(x, (3, 2), padding=1, stride=(2, 1))  # (2, 18, L)
    via = (w.reshape(4, -1) @ cols).reshape(2, 4, 3, 6)
    np.testing.assert_allclose(direct.detach().numpy(), via.detach().numpy(), atol=1e-12)


def test_pixel_shuffle_moves_channels_into_space():
    x = descend.arange(4.0).reshape(1, 4, 1, 1)
    assert F.pixel_shuffle(x, 2).tolist() == [[[[0.0, 1.0], [2.0, 3.0]]]]


def test_interpolate_nearest_and_bilinear_by_hand():
    x = descend.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    rows = [[1.0, 1.0, 2.0, 2.0]] * 2 + [[3.0, 3.0, 4.0, 4.0]] * 2
    assert F.interpolate(x, scale_factor=2).tolist() == [[rows]]
    # align_corners=True keeps the corners and spaces the rest evenly: 1, 1.5, 2 along each row
    corners = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    assert corners[0, 0].tolist() == [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]
    # align_corners=False samples at pixel centres: output pixel 1 of 4 sits at input 0.25
    assert F.interpolate(x, size=(2, 4), mode="bilinear")[0, 0, 0].tolist() == [1.0, 1.25, 1.75, 2.0]
    up = nn.Upsample(scale_factor=2, mode="bilinear")
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert up(x).shape == (1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x)


# --- gradients (float64 central differences) ---

CONV_CASES = [
    # (N, C, H, W), (O, C/g, kh, kw), stride, padding, dilation, groups
    ((2, 3, 5, 6), (4, 3, 3, 2), 1, 0, 1, 1),
    ((1, 2, 7, 5), (2, 2, 3, 3), 2, 1, 1, 1),
    ((2, 4, 6, 7), (6, 2, 2, 3), (2, 1), (1, 2), (2, 1), 2),
    ((1, 3, 5, 5), (3, 1, 3, 3), 1, "same", 2, 3),
    ((2, 2, 4, 5), (2, 2, 2, 2), 1, "valid", 1, 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_gradcheck(xs, ws, stride, padding, dilation, groups):
    x, w, b = t64(*xs), t64(*ws), t64(ws[0])
    assert descend.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), (x, w, b))


def test_conv2d_unbatched_and_conv1d_gradcheck():
    x, w, b = t64(2, 5, 4), t64(3, 2, 2, 2), t64(3)
    assert descend.gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (x, w, b))
    x1, w1, b1 = t64(2, 4, 7), t64(4, 2, 3), t64(4)
    assert descend.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=1, groups=2),
                             (x1, w1, b1))


@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), ((2, 3), (0, 1), (1, 2), 2, 1), (1, 1, 0, 1, 2)])
def test_conv_transpose2d_gradcheck(stride, padding, output_padding, groups, dilation):
    x, w, b = t64(2, 4, 3, 4), t64(4, 3, 3, 2), t64(3 * groups)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)  # noqa: E731
    assert descend.gradcheck(fn, (x, w, b))


def test_conv_transpose1d_gradcheck():
    x, w, b = t64(2, 2, 5), t64(2, 3, 3), t64(3)
    assert descend.gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1), (x, w, b))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True),
])
def test_max_pool2d_gradcheck(kwargs):
    x = t64(2, 2, 7, 6)
    assert descend.gradcheck(lambda x: F.max_pool2d(x, **kwargs), (x,))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(2, 2), ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, divisor_override=5),
])
def test_avg_pool2d_gradcheck(kwargs):
    x = t64(2, 2, 7, 5)
    assert descend.gradcheck(lambda x: F.avg_pool2d(x, **kwargs), (x,))


def test_pool1d_adaptive_unfold_fold_gradcheck():
    x = t64(2, 3, 7, 5)
    assert descend.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (x,))
    assert descend.gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (x,))
    assert descend.gradcheck(lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), (x,))
    c = t64(2, 6, 24)
    assert descend.gradcheck(lambda c: F.fold(c, (4, 5), (1, 2), padding=(0, 1), stride=(1, 1)), (c,))
    y = t64(2, 3, 9)
    assert descend.gradcheck(lambda y: F.max_pool1d(y, 3, stride=2, padding=1), (y,))
    assert descend.gradcheck(lambda y: F.avg_pool1d(y, 2, ceil_mode=True), (y,))
    assert descend.gradcheck(lambda y: F.adaptive_avg_pool1d(y, 4), (y,))
    assert descend.gradcheck(lambda x: F.interpolate(x, size=(5, 9), mode="bilinear"), (x,))
    assert descend.gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear",
                                                      align_corners=True), (x,))
    assert descend.gradcheck(lambda x: F.interpolate(x, scale_factor=2.3), (x,))
    assert descend.gradcheck(lambda y: F.interpolate(y, size=4, mode="linear"), (y,))


# --- errors worded as PyTorch words them ---


def test_conv2d_rank_and_channel_errors():
    conv = nn.Conv2d(1, 6, 5)
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, "
                                           r"but got input of size: \[32, 32\]"):
        conv(descend.zeros(32, 32))
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[6, 1, 5, 5\], expected "
                                           r"input\[1, 3, 32, 32\] to have 1 channels, but got 3 channels"):
        conv(descend.zeros(1, 3, 32, 32))
    with pytest.raises(RuntimeError, match=r"Kernel size can't be greater than actual input size"):
        conv(descend.zeros(1, 1, 3, 3))


def test_constructor_and_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(descend.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(descend.zeros(1, 1, 2, 2), descend.zeros(1, 1, 2, 2), stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"requested an output size of \(12, 12\), but valid sizes range"):
        nn.ConvTranspose2d(1, 1, 3, stride=2)(descend.zeros(1, 1, 4, 4), output_size=(12, 12))
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool2d(descend.zeros(1, 1, 1, 1), 2)


# --- modules ---


def test_conv_default_init_bounds_and_repr():
    descend.manual_seed(0)
    conv = nn.Conv2d(3, 8, 5)
    bound = 1 / math.sqrt(3 * 5 * 5)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert conv.weight.shape == (8, 3, 5, 5) and conv.bias.shape == (8,)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.weight.detach().numpy()).max() > 0.9 * bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1))"
    conv = nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2, bias=False, padding_mode="reflect")
    assert repr(conv) == (
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), groups=2, "
        "bias=False, padding_mode=reflect)"
    )
    assert repr(nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1)) == (
        "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"
    )
    assert nn.ConvTranspose2d(2, 4, 3, groups=2).weight.shape == (2, 2, 3, 3)
    assert repr(nn.Conv1d(2, 3, 4)) == "Conv1d(2, 3, kernel_size=(4,), stride=(1,))"
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"


@pytest.mark.parametrize("mode, np_mode",
                         [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_padding_modes_pad_before_the_convolution(mode, np_mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=descend.float64)
    x = RNG.standard_normal((1, 2, 4, 5))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode=np_mode)
    expected = F.conv2d(descend.tensor(padded), conv.weight, conv.bias)
    got = conv(descend.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected.detach().numpy(), atol=1e-12)
    assert conv(descend.tensor(x[0])).shape == (3, 4, 7)  # unbatched


def test_dropout2d_zeroes_whole_channels_and_repeats_under_a_seed():
    x = descend.ones(4, 16, 3, 3)
    descend.manual_seed(1)
    a = F.dropout2d(x, 0.5).numpy()
    descend.manual_seed(1)
    b = nn.Dropout2d(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    per_channel = a.reshape(4, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # each channel all kept or all dropped
    assert 0 < (per_channel[..., 0] == 0).sum() < 64
    assert nn.Dropout2d(0.5).eval()(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(x, 1.5)


# --- pictures ---


def test_plot_filters_and_feature_maps(tmp_path):
    from descend import plot, recipes

    descend.manual_seed(0)
    model = recipes.cnn(4, channels=(6, 5))
    fig = plot.filters(model[1], save=tmp_path / "filters.png")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6  # one tile per output filter of the first layer
    np.testing.assert_allclose(images[2].get_array(), model[1].weight.detach().numpy()[2, 0])
    assert (tmp_path / "filters.png").stat().st_size > 0
    deep = plot.filters(model[5])  # 5 filters over 6 input channels: a 5 x 6 grid
    assert sum(1 for ax in deep.axes if ax.images) == 30
    maps = plot.feature_maps(model, descend.randn(784), max_maps=4)
    shown = [ax.images[0].get_array().shape for ax in maps.axes if ax.images]
    assert shown == [(28, 28)] + [(28, 28)] * 4 + [(14, 14)] * 4  # the input, then each conv's maps
    assert model.training  # the model's mode is restored
    with pytest.raises(ValueError, match="has no Conv1d/Conv2d layer"):
        plot.feature_maps(nn.Sequential(nn.Linear(4, 2)), descend.zeros(4))


# --- the tutorials' CNNs, written as they write them ---


class Net(torch.nn.Module):
    """LeNet-5 as in PyTorch's 60-minute blitz ("Neural Networks")."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        return self.fc3(f6)


def test_blitz_lenet_trains():
    torch.manual_seed(0)
    net = Net()
    params = list(net.parameters())
    assert len(params) == 10 and params[0].size() == (6, 1, 5, 5)
    input = torch.randn(1, 1, 32, 32)
    out = net(input)
    assert out.shape == (1, 10)
    net.zero_grad()
    out.backward(torch.randn(1, 10))
    assert net.conv1.bias.grad.shape == (6,)

    x = torch.randn(16, 1, 32, 32)
    target = torch.randint(0, 10, (16,))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        loss = criterion(net(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


class Mnist_CNN(torch.nn.Module):
    """The CNN of PyTorch's "What is torch.nn really?" tutorial."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


class Lambda(torch.nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def _bright_square_task(n=64):
    """Images whose class is which quadrant holds a bright square: learnable in a few steps."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, (n, 784)).astype(np.float32)
    y = rng.integers(0, 4, n)
    img = x.reshape(n, 28, 28)
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        img[i, 14 * r + 3 : 14 * r + 11, 14 * col + 3 : 14 * col + 11] += 1.0
    return torch.tensor(x), torch.tensor(y)


def test_nn_tutorial_cnn_and_sequential_train():
    torch.manual_seed(0)
    xb, yb = _bright_square_task()
    for model in (
        Mnist_CNN(),
        torch.nn.Sequential(
            Lambda(lambda x: x.view(-1, 1, 28, 28)),
            torch.nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            Lambda(lambda x: x.view(x.size(0), -1)),
        ),
    ):
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        first = F.cross_entropy(model(xb), yb).item()
        for _ in range(30):  # PyTorch, from the same seed's weights: 0.599 and 0.607 of the first loss
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        assert loss.item() < 0.7 * first


# --- the MNIST recipe (slow: minutes) ---

REAL_MNIST = Path(os.environ.get("DESCEND_MNIST", Path(__file__).resolve().parents[2] / "shared/data/mnist"))


@pytest.mark.slow
@pytest.mark.skipif(not (REAL_MNIST / "t10k-labels-idx1-ubyte.gz").is_file(),
                    reason=f"real MNIST not found in {REAL_MNIST} (set DESCEND_MNIST to its folder)")
def test_cnn_recipe_passes_99_percent_on_mnist_in_3_epochs(capsys):
    from descend.cli import main

    assert main(["train", "mnist", "--data", str(REAL_MNIST), "--model", "cnn", "--epochs", "3"]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"test accuracy (\d+\.\d+)% on 10000 test images", printed)
    assert found, printed
    assert float(found.group(1)) >= 99.0, printed
