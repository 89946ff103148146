"""Layers: `Linear`, containers (`Sequential`, `ModuleList`), activations, `Dropout`, `Flatten`, `Identity`.

Each layer is a thin `Module` around a function of `descend.functional`; its repr matches PyTorch's.

Example:
    >>> import descend as torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU())
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=16, bias=True)
      (1): ReLU()
    )
"""

from __future__ import annotations

import math
import operator
from collections import OrderedDict

import numpy as np

from .. import functional as F
from .. import ops
from ..tensor import _dtype, from_numpy
from . import init
from .module import Module, Parameter, _addindent

__all__ = [
    "Dropout",
    "Flatten",
    "GELU",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ModuleList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


def _check_device(device):
    if isinstance(device, np.dtype) or (isinstance(device, type) and issubclass(device, np.generic)):
        raise TypeError(f"got the dtype {device} as `device`; pass it by keyword: dtype={device}")
    if device is not None and not str(device).startswith("cpu"):
        raise RuntimeError(f"descend runs on the CPU with NumPy; device {str(device)!r} is not available")


def _renumbered(modules):
    """The same modules keyed "0", "1", ... in order (after a deletion)."""
    return {str(i): m for i, m in enumerate(modules.values())}


def _check_size(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x W^T + b, with PyTorch's default initialisation.

    W (out_features, in_features) and b (out_features) are drawn from U(-1/sqrt(in_features),
    1/sqrt(in_features)) (`kaiming_uniform_(a=sqrt(5))` on W), using `descend.random.generator()`.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias.
        device: only None or "cpu".
        dtype: parameter dtype (float32 by default).

    Example:
        >>> layer = descend.nn.Linear(3, 2)
        >>> layer(descend.ones(5, 3)).shape
        (5, 2)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        self.in_features = _check_size(in_features, "in_features")
        self.out_features = _check_size(out_features, "out_features")
        dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear: parameters must have a floating dtype, got {dtype}")
        self.weight = Parameter(from_numpy(np.empty((self.out_features, self.in_features), dtype=dtype)))
        if bias:
            self.bias = Parameter(from_numpy(np.empty(self.out_features, dtype=dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw the weight and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); constructor arguments are ignored.

    Example:
        >>> descend.nn.Identity()(descend.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


# --- containers ---


class Sequential(Module):
    """Modules applied one after another; indexable (`net[0]`, `net[1:]`), iterable, `len`, `append`.

    Built from modules (named "0", "1", ...) or from an OrderedDict of names to modules.

    Example:
        >>> net = descend.nn.Sequential(descend.nn.Linear(2, 4), descend.nn.ReLU(), descend.nn.Linear(4, 1))
        >>> net(descend.ones(3, 2)).shape
        (3, 1)
        >>> net[0]
        Linear(in_features=2, out_features=4, bias=True)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _index(self, idx):
        size = len(self._modules)
        i = operator.index(idx)
        if not -size <= i < size:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {size}")
        return i % size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules)[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules)[idx]:
                del self._modules[key]
        else:
            del self._modules[list(self._modules)[self._index(idx)]]
        # renumber so indices stay 0..len-1, as PyTorch does
        self.__dict__["_modules"] = _renumbered(self._modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each of `modules`; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert `module` before position `index`; returns self."""
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index %= n + 1
        modules = list(self._modules.values())
        modules.insert(index, module)
        self.__dict__["_modules"] = {}
        for i, m in enumerate(modules):
            self.add_module(str(i), m)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them).

    Example:
        >>> layers = descend.nn.ModuleList([descend.nn.Linear(2, 2) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx):
        size = len(self._modules)
        i = operator.index(idx)
        if not -size <= i < size:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {size}")
        return i % size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                del self._modules[str(k)]
        else:
            del self._modules[str(self._index(idx))]
        self.__dict__["_modules"] = _renumbered(self._modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each of `modules`; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert `module` before position `index`."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self.__dict__["_modules"] = {}
        self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it and call each module")

    def __repr__(self):
        # PyTorch collapses runs of identical entries: "(0-2): 3 x Linear(...)".
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            head = f"({start}): " if start == end else f"({start}-{end}): {end - start + 1} x "
            lines.append(_addindent(head + r, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


# --- activations ---


class ReLU(Module):
    """max(x, 0), elementwise.

    Example:
        >>> descend.nn.ReLU()(descend.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise.

    Example:
        >>> descend.nn.LeakyReLU(0.1)(descend.tensor([-1.0]))
        tensor([-0.1000])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise.

    Example:
        >>> descend.nn.Sigmoid()(descend.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x), elementwise.

    Example:
        >>> descend.nn.Tanh()(descend.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input):
        return F.tanh(input)


class GELU(Module):
    """x * Phi(x) (exact, approximate="none") or its tanh approximation (approximate="tanh").

    Example:
        >>> descend.nn.GELU()(descend.tensor([1.0]))
        tensor([0.8413])
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """softmax along `dim`: each slice along it is positive and sums to 1.

    Example:
        >>> descend.nn.Softmax(dim=1)(descend.zeros(1, 2))
        tensor([[0.5000, 0.5000]])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably.

    Example:
        >>> descend.nn.LogSoftmax(dim=1)(descend.zeros(1, 2))
        tensor([[-0.6931, -0.6931]])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# --- regularisation and reshaping ---


class Dropout(Module):
    """During training, zero each element with probability p and scale the rest by 1/(1-p).

    In eval mode (`model.eval()`) it returns its input unchanged.

    Example:
        >>> drop = descend.nn.Dropout(0.5).eval()
        >>> drop(descend.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one (by default everything but the batch dimension).

    Example:
        >>> descend.nn.Flatten()(descend.zeros(2, 3, 4)).shape
        (2, 12)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
