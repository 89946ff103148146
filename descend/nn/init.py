"""Weight initialisers with PyTorch's names and formulas; each fills a tensor in place and returns it.

Random draws come from the global generator (`descend.manual_seed(s)` makes an initialisation
repeatable) or from the `generator=` each function takes (a `descend.Generator`). Values are
written without recording a graph, so parameters that require grad can be (re)initialised at any time.

The scaled initialisers keep the variance of activations roughly constant from layer to layer:
Xavier/Glorot (std = gain * sqrt(2 / (fan_in + fan_out))) for tanh/sigmoid networks, Kaiming/He
(std = gain / sqrt(fan)) for ReLU networks.

Example:
    >>> import descend as torch
    >>> w = torch.empty(256, 784)
    >>> torch.nn.init.kaiming_normal_(w, nonlinearity="relu").shape
    descend.Size([256, 784])
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd import no_grad
from ..random import _generator, _rng

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
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
        descend.Size([3])
    """
    if tensor._data.dtype.kind == "f" and _generator(generator) is not None:
        with no_grad():  # the tensor's own uniform_, as PyTorch's init calls it: PyTorch's numbers
            return tensor.uniform_(a, b, generator=generator)
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std^2).

    Example:
        >>> normal_(descend.empty(3), 0.0, 0.02).shape
        descend.Size([3])
    """
    if tensor._data.dtype.kind == "f" and _generator(generator) is not None:
        with no_grad():  # the tensor's own normal_, as PyTorch's init calls it: PyTorch's numbers
            return tensor.normal_(mean, std, generator=generator)
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
        descend.Size([3, 5])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> xavier_normal_(descend.empty(3, 5)).shape
        descend.Size([3, 5])
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
        generator: an optional `descend.Generator`.

    Example:
        >>> kaiming_uniform_(descend.empty(3, 5), mode="fan_in", nonlinearity="relu").shape
        descend.Size([3, 5])
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    Example:
        >>> kaiming_normal_(descend.empty(3, 5), nonlinearity="relu").shape
        descend.Size([3, 5])
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, zeros elsewhere).

    Example:
        >>> eye_(descend.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution is the identity.

    With `groups` > 1 the output channels are split into groups, each an identity on its inputs.

    Example:
        >>> w = dirac_(descend.empty(2, 2, 3))
        >>> w[0, 0].tolist(), w[0, 1].tolist()
        ([0.0, 1.0, 0.0], [0.0, 0.0, 0.0])
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, got {tensor.ndim}")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups, got {sizes[0]} and groups={groups}")
    out_per_group = sizes[0] // groups
    values = np.zeros(sizes)
    centre = tuple(k // 2 for k in sizes[2:])
    for g in range(groups):
        for d in range(min(out_per_group, sizes[1])):
            values[(g * out_per_group + d, d, *centre)] = 1
    return _fill(tensor, values)


def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with draws from N(mean, std^2) truncated to [a, b] (a and b are absolute bounds).

    Draws outside [a, b] are redrawn (exact rejection sampling; PyTorch inverts the CDF instead, the
    same distribution).

    Example:
        >>> w = trunc_normal_(descend.empty(1000), std=0.02, a=-0.04, b=0.04)
        >>> bool((w.abs() <= 0.04).all())
        True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_ expects a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be "
            "incorrect.",
            stacklevel=2,
        )
    n = math.prod(tensor.shape)
    accept = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std) if std > 0 else float(a <= mean <= b)
    if accept < 1e-9:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}^2); widen it or move "
            "the mean"
        )
    rng = _rng(generator)
    kept = np.empty(0)
    while kept.size < n:
        draws = mean + std * rng.standard_normal(max(16, int(1.2 * (n - kept.size) / accept)))
        kept = np.concatenate([kept, draws[(draws >= a) & (draws <= b)]])
    return _fill(tensor, kept[:n].reshape(tensor.shape))


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times `gain`, from the QR decomposition of a Gaussian matrix.

    A tensor of more than 2 dimensions is treated as (shape[0], the product of the rest). From Saxe et
    al. (2013), "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks".

    Example:
        >>> w = orthogonal_(descend.empty(3, 5))
        >>> bool(((w @ w.T) - descend.eye(3)).abs().max() < 1e-5)
        True
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if math.prod(tensor.shape) == 0:
        return tensor
    rows = tensor.shape[0]
    cols = math.prod(tensor.shape) // rows
    g = _generator(generator)  # PyTorch's draw: normal_(0, 1) on a (rows, cols) tensor of this dtype
    dtype = tensor._data.dtype if tensor._data.dtype.kind == "f" else np.dtype(np.float32)
    if g is not None:
        flat = g.normal((rows, cols), 0.0, 1.0, dtype)
    else:
        flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the decomposition unique, so q is uniformly distributed
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor with N(0, std^2) draws, then zero a fraction `sparsity` of each column.

    From Martens (2010), "Deep learning via Hessian-free optimization".

    Example:
        >>> w = sparse_(descend.empty(4, 3), sparsity=0.5)
        >>> [int((w[:, j] == 0).sum()) for j in range(3)]
        [2, 2, 2]
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _rng(generator)
    values = rng.normal(0.0, std, size=(rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, values)
