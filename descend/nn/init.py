"""Weight initialisers with PyTorch's names and formulas; each fills a tensor in place and returns it.

Random draws come from `descend.random.generator()` (or an explicit `numpy.random.Generator`), so
`descend.manual_seed(s)` makes an initialisation repeatable. Values are written without recording a
graph, so parameters that require grad can be (re)initialised at any time.

The scaled initialisers keep the variance of activations roughly constant from layer to layer:
Xavier/Glorot (std = gain * sqrt(2 / (fan_in + fan_out))) for tanh/sigmoid networks, Kaiming/He
(std = gain / sqrt(fan)) for ReLU networks.

Example:
    >>> import descend as torch
    >>> w = torch.empty(256, 784)
    >>> torch.nn.init.kaiming_normal_(w, nonlinearity="relu").shape
    (256, 784)
"""

from __future__ import annotations

import math
import numbers

from ..autograd import no_grad
from ..random import generator as _global_generator

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _fill(tensor, values):
    """Write `values` into `tensor`'s storage outside the graph (bumps its version counter)."""
    with no_grad():
        tensor.copy_(values)
    return tensor


def _rng(generator):
    return _global_generator() if generator is None else generator


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2)) with
    slope `param` (default 0.01); selu: 3/4.

    Args:
        nonlinearity: the name of the function that follows the layer.
        param: the negative slope for leaky_relu.

    Returns:
        The gain, a float.

    Example:
        >>> calculate_gain("relu")
        1.4142135623730951
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: (shape[1], shape[0]) times the receptive field size."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:]) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b).

    Example:
        >>> uniform_(descend.empty(3), -1.0, 1.0).shape
        (3,)
    """
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std^2).

    Example:
        >>> normal_(descend.empty(3), 0.0, 0.02).shape
        (3,)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor, val):
    """Fill with the value `val`.

    Example:
        >>> constant_(descend.empty(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    return _fill(tensor, val)


def ones_(tensor):
    """Fill with ones.

    Example:
        >>> ones_(descend.empty(2))
        tensor([1., 1.])
    """
    return _fill(tensor, 1)


def zeros_(tensor):
    """Fill with zeros.

    Example:
        >>> zeros_(descend.empty(2))
        tensor([0., 0.])
    """
    return _fill(tensor, 0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    From Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
    networks".

    Example:
        >>> xavier_uniform_(descend.empty(3, 5), gain=calculate_gain("tanh")).shape
        (3, 5)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> xavier_normal_(descend.empty(3, 5)).shape
        (3, 5)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan).

    From He et al. (2015), "Delving deep into rectifiers". `Linear`'s default is this with
    a=sqrt(5), which gives bound = 1 / sqrt(fan_in).

    Args:
        tensor: the weight to fill (at least 2-D).
        a: negative slope of the leaky_relu that follows (used only for "leaky_relu").
        mode: "fan_in" keeps the forward variance, "fan_out" the backward variance.
        nonlinearity: "relu" or "leaky_relu" (any name `calculate_gain` knows).
        generator: an optional numpy.random.Generator.

    Example:
        >>> kaiming_uniform_(descend.empty(3, 5), mode="fan_in", nonlinearity="relu").shape
        (3, 5)
    """
    if 0 in tensor.shape:
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    Example:
        >>> kaiming_normal_(descend.empty(3, 5), nonlinearity="relu").shape
        (3, 5)
    """
    if 0 in tensor.shape:
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)

