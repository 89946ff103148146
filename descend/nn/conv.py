"""Convolutional layers: `Conv1d/2d/3d`, `ConvTranspose1d/2d/3d`, pooling, `Dropout1d/2d`, `Unfold`, `Fold`.

Each is a thin `Module` around a function of `descend.ops.conv` with PyTorch's constructor, default
initialisation (`kaiming_uniform_(a=sqrt(5))` on the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on
the bias) and repr.

Example:
    >>> import descend as torch
    >>> torch.nn.Conv2d(1, 6, 5)
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
"""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..ops import conv as C
from ..tensor import _dtype, from_numpy
from . import init
from .layers import _check_device
from .module import Module, Parameter

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "PixelUnshuffle",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "Fold",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "PixelShuffle",
    "Unfold",
    "Upsample",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# --- convolutions ---


class _ConvNd(Module):
    """The parameters, checks, initialisation and repr shared by every convolution."""

    _spatial = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        _check_device(device)
        n = self._spatial
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode='{padding_mode}'"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = C._pair(kernel_size, "kernel_size", n)
        self.stride = C._pair(stride, "stride", n)
        self.dilation = C._pair(dilation, "dilation", n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = C._pair(padding, "padding", n)
        self.output_padding = C._pair(output_padding, "output_padding", n)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: parameters must have a floating dtype, got {dtype}")
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(from_numpy(np.empty(shape, dtype=dtype)))
        if bias:
            self.bias = Parameter(from_numpy(np.empty(self.out_channels, dtype=dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _explicit_padding(self, input):
        """`input` padded by `padding_mode` (not zeros) and the padding left for the conv itself (0)."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "valid":
            return input, 0
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in self.padding]
        flat = tuple(v for pair in reversed(pairs) for v in pair)  # F.pad order: last dim first
        return F.pad(input, flat, mode=self.padding_mode), 0

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        n = self._spatial
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) inputs.

    Args:
        in_channels, out_channels: channel counts (both divisible by groups).
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (h, w), "valid" or "same".
        groups: independent channel groups (groups == in_channels is a depthwise convolution).
        bias: learn a per-output-channel bias.
        padding_mode: "zeros", "reflect", "replicate" or "circular".
        device, dtype: only None/"cpu"; parameter dtype (float32 by default).

    Example:
        >>> conv = descend.nn.Conv2d(1, 6, 5, padding=2)
        >>> conv(descend.zeros(8, 1, 28, 28)).shape
        (8, 6, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        input, padding = self._explicit_padding(input)
        return C.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs; arguments as `Conv2d` with ints.

    Example:
        >>> descend.nn.Conv1d(2, 4, 3)(descend.zeros(5, 2, 10)).shape
        (5, 4, 8)
    """

    _spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        input, padding = self._explicit_padding(input)
        return C.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__} takes integer padding, got padding={padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output `output_size` (PyTorch's rule and message)."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        size = list(output_size)[-n:]
        spatial_in = tuple(input.shape[-n:])
        lo, hi = [], []
        for i in range(n):
            low = ((spatial_in[i] - 1) * self.stride[i] - 2 * self.padding[i]
                   + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            lo.append(low)
            hi.append(low + self.stride[i] - 1)
        if any(not lo[i] <= size[i] <= hi[i] for i in range(n)):
            raise ValueError(
                f"requested an output size of {tuple(size)}, but valid sizes range from {lo} to {hi} "
                f"(for an input of {spatial_in})"
            )
        return tuple(size[i] - lo[i] for i in range(n))


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution; weight (C_in, C_out / groups, kH, kW).

    `forward(input, output_size=None)`: output_size picks output_padding, as in PyTorch.

    Example:
        >>> up = descend.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        >>> up(descend.zeros(1, 4, 7, 7)).shape
        (1, 2, 14, 14)
    """

    def forward(self, input, output_size=None):
        op_ = self._output_padding(input, output_size)
        return C.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op_, self.groups,
                                  self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight (C_in, C_out / groups, k).

    Example:
        >>> descend.nn.ConvTranspose1d(2, 1, 2, stride=2)(descend.zeros(1, 2, 5)).shape
        (1, 1, 10)
    """

    _spatial = 1

    def forward(self, input, output_size=None):
        op_ = self._output_padding(input, output_size)
        return C.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op_, self.groups,
                                  self.dilation)


# --- pooling ---


class MaxPool2d(Module):
    """2-D max pooling; stride defaults to kernel_size.

    Example:
        >>> descend.nn.MaxPool2d(2)(descend.zeros(1, 3, 28, 28)).shape
        (1, 3, 14, 14)
    """

    _fn = staticmethod(C.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                        ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """1-D max pooling over (N, C, L) or (C, L).

    Example:
        >>> descend.nn.MaxPool1d(2)(descend.zeros(1, 3, 10)).shape
        (1, 3, 5)
    """

    _fn = staticmethod(C.max_pool1d)


class AvgPool2d(Module):
    """2-D average pooling; stride defaults to kernel_size.

    Example:
        >>> descend.nn.AvgPool2d(2)(descend.ones(1, 1, 4, 4)).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """1-D average pooling over (N, C, L) or (C, L).

    Example:
        >>> descend.nn.AvgPool1d(2)(descend.ones(1, 1, 4)).tolist()
        [[[1.0, 1.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = C._pair(kernel_size, "kernel_size", 1)
        self.stride = C._pair(stride if stride is not None else kernel_size, "stride", 1)
        self.padding = C._pair(padding, "padding", 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed (h, w) whatever the input size (`AdaptiveAvgPool2d(1)`: global pooling).

    Example:
        >>> descend.nn.AdaptiveAvgPool2d((1, 1))(descend.ones(2, 8, 5, 5)).shape
        (2, 8, 1, 1)
    """

    _fn = staticmethod(C.adaptive_avg_pool2d)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of (N, C, L) to a fixed length.

    Example:
        >>> descend.nn.AdaptiveAvgPool1d(2)(descend.ones(1, 3, 7)).shape
        (1, 3, 2)
    """

    _fn = staticmethod(C.adaptive_avg_pool1d)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed (h, w) whatever the input size.

    Example:
        >>> descend.nn.AdaptiveMaxPool2d(1)(descend.ones(2, 8, 5, 5)).shape
        (2, 8, 1, 1)
    """

    _fn = staticmethod(C.adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of (N, C, L) to a fixed length.

    Example:
        >>> descend.nn.AdaptiveMaxPool1d(1)(descend.ones(1, 3, 7)).shape
        (1, 3, 1)
    """

    _fn = staticmethod(C.adaptive_max_pool1d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) inputs; arguments as `Conv2d` with
    (d, h, w) triples (padding_mode "zeros", "reflect", "replicate" or "circular").

    Example:
        >>> descend.nn.Conv3d(2, 4, 3, padding=1)(descend.zeros(1, 2, 5, 6, 7)).shape
        (1, 4, 5, 6, 7)
    """

    _spatial = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        input, padding = self._explicit_padding(input)
        return C.conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution; weight (C_in, C_out / groups, kD, kH, kW).

    `forward(input, output_size=None)`: output_size picks output_padding, as in PyTorch.

    Example:
        >>> descend.nn.ConvTranspose3d(2, 1, 2, stride=2)(descend.zeros(1, 2, 2, 3, 4)).shape
        (1, 1, 4, 6, 8)
    """

    _spatial = 3

    def forward(self, input, output_size=None):
        op_ = self._output_padding(input, output_size)
        return C.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op_, self.groups,
                                  self.dilation)


class MaxPool3d(MaxPool2d):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.

    Example:
        >>> descend.nn.MaxPool3d(2)(descend.zeros(1, 3, 4, 6, 8)).shape
        (1, 3, 2, 3, 4)
    """

    _fn = staticmethod(C.max_pool3d)


class AvgPool3d(AvgPool2d):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.

    Example:
        >>> descend.nn.AvgPool3d(2)(descend.ones(1, 1, 2, 2, 2)).flatten().tolist()
        [1.0]
    """

    def forward(self, input):
        return C.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling to a fixed (d, h, w) whatever the input size.

    Example:
        >>> descend.nn.AdaptiveAvgPool3d(1)(descend.ones(2, 8, 3, 5, 5)).shape
        (2, 8, 1, 1, 1)
    """

    _fn = staticmethod(C.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling to a fixed (d, h, w) whatever the input size.

    Example:
        >>> descend.nn.AdaptiveMaxPool3d(1)(descend.ones(2, 8, 3, 5, 5)).shape
        (2, 8, 1, 1, 1)
    """

    _fn = staticmethod(C.adaptive_max_pool3d)


# --- channel dropout, im2col, rearrangement ---


class Dropout2d(Module):
    """In training, zero whole channels with probability p (scaling the rest by 1/(1-p)); identity in eval.

    Example:
        >>> descend.nn.Dropout2d(0.5).eval()(descend.ones(1, 2, 3, 3)).sum().item()
        18.0
    """

    _fn = staticmethod(C.dropout2d)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if inplace:
            raise NotImplementedError(f"{type(self).__name__}(inplace=True) is not supported")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return self._fn(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout2d):
    """Channel dropout for (N, C, L) or (C, L) inputs.

    Example:
        >>> descend.nn.Dropout1d(0.5).eval()(descend.ones(1, 2, 3)).sum().item()
        6.0
    """

    _fn = staticmethod(C.dropout1d)


class Dropout3d(Dropout2d):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) inputs.

    Example:
        >>> descend.nn.Dropout3d(0.5).eval()(descend.ones(1, 2, 1, 2, 2)).sum().item()
        8.0
    """

    _fn = staticmethod(C.dropout3d)


class Unfold(Module):
    """Sliding blocks as columns (im2col): (N, C, H, W) -> (N, C*kH*kW, L).

    Example:
        >>> descend.nn.Unfold(2)(descend.zeros(1, 3, 4, 4)).shape
        (1, 12, 9)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return C.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns summed back into an image (col2im): (N, C*kH*kW, L) -> (N, C, H, W).

    Example:
        >>> descend.nn.Fold((4, 4), 2)(descend.zeros(1, 12, 9)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return C.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r).

    Example:
        >>> descend.nn.PixelShuffle(2)(descend.zeros(1, 8, 3, 3)).shape
        (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return C.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of PixelShuffle.

    Example:
        >>> descend.nn.PixelUnshuffle(2)(descend.zeros(1, 2, 6, 6)).shape
        (1, 8, 3, 3)
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return C.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


# --- padding layers: F.pad with a fixed padding and mode ---


class _PadNd(Module):
    """F.pad of the last `_spatial` dims in `_mode`; padding is an int or a tuple of 2 * _spatial ints."""

    _mode = "constant"
    _spatial = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        n = 2 * self._spatial
        self.padding = (int(padding),) * n if isinstance(padding, (int, np.integer)) else tuple(padding)
        if len(self.padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {n} ints, "
                             f"got {padding!r}")
        self.value = value

    def forward(self, input):
        if self._mode == "circular" and input.ndim not in (self._spatial + 1, self._spatial + 2):
            raise ValueError(f"expected {self._spatial + 1}D or {self._spatial + 2}D input "
                             f"(got {input.ndim}D input)")
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding, value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class _ModePadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding)


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`: padding is an int or (left, right)."""

    _spatial = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with `value`: padding is an int or (left, right, top, bottom).

    Example:
        >>> descend.nn.ConstantPad2d(1, 3.0)(descend.zeros(1, 1, 1)).tolist()
        [[[3.0, 3.0, 3.0], [3.0, 0.0, 3.0], [3.0, 3.0, 3.0]]]
    """

    _spatial = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with `value`: padding is an int or (left, right, top, bottom, front, back)."""

    _spatial = 3


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros: padding is an int or (left, right)."""

    _spatial = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros: padding is an int or (left, right, top, bottom).

    Example:
        >>> descend.nn.ZeroPad2d((1, 0, 0, 0))(descend.ones(1, 1, 2)).tolist()
        [[[0.0, 1.0, 1.0]]]
    """

    _spatial = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros: padding is an int or a tuple of 6."""

    _spatial = 3


class ReflectionPad1d(_ModePadNd):
    """Pads the last dim by reflection (the edge not repeated): padding is an int or (left, right).

    Example:
        >>> descend.nn.ReflectionPad1d(2)(descend.tensor([[[1.0, 2.0, 3.0]]])).tolist()
        [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    """

    _mode, _spatial = "reflect", 1


class ReflectionPad2d(_ModePadNd):
    """Pads the last 2 dims by reflection: padding is an int or (left, right, top, bottom)."""

    _mode, _spatial = "reflect", 2


class ReflectionPad3d(_ModePadNd):
    """Pads the last 3 dims by reflection: padding is an int or a tuple of 6."""

    _mode, _spatial = "reflect", 3


class ReplicationPad1d(_ModePadNd):
    """Pads the last dim by repeating the edge: padding is an int or (left, right)."""

    _mode, _spatial = "replicate", 1


class ReplicationPad2d(_ModePadNd):
    """Pads the last 2 dims by repeating the edges: padding is an int or (left, right, top, bottom)."""

    _mode, _spatial = "replicate", 2


class ReplicationPad3d(_ModePadNd):
    """Pads the last 3 dims by repeating the edges: padding is an int or a tuple of 6."""

    _mode, _spatial = "replicate", 3


class CircularPad1d(_ModePadNd):
    """Pads the last dim by wrapping around: padding is an int or (left, right)."""

    _mode, _spatial = "circular", 1


class CircularPad2d(_ModePadNd):
    """Pads the last 2 dims by wrapping around: padding is an int or (left, right, top, bottom)."""

    _mode, _spatial = "circular", 2


class CircularPad3d(_ModePadNd):
    """Pads the last 3 dims by wrapping around: padding is an int or a tuple of 6."""

    _mode, _spatial = "circular", 3


class Upsample(Module):
    """Resize by `size` or `scale_factor`: modes "nearest", "nearest-exact", "area", "linear" (3-D),
    "bilinear" or "bicubic" (4-D), "trilinear" (5-D), as `F.interpolate`.

    Example:
        >>> descend.nn.Upsample(scale_factor=2)(descend.zeros(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor is not None else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return C.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """`Upsample(size, scale_factor, mode="nearest")` for (N, C, H, W) inputs.

    Example:
        >>> descend.nn.UpsamplingNearest2d(scale_factor=2)(descend.zeros(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """`Upsample(size, scale_factor, mode="bilinear", align_corners=True)`.

    Example:
        >>> descend.nn.UpsamplingBilinear2d(size=3)(descend.zeros(1, 1, 2, 2)).shape
        (1, 1, 3, 3)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
