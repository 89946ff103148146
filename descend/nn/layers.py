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
import warnings
from collections import OrderedDict

import numpy as np

from .. import functional as F
from .. import ops
from ..tensor import Tensor, _dtype, from_numpy
from . import init
from .module import Module, Parameter, _addindent

__all__ = [
    "BatchNorm1d",
    "CosineSimilarity",
    "GLU",
    "Hardshrink",
    "PairwiseDistance",
    "RMSNorm",
    "Softmax2d",
    "Softshrink",
    "Tanhshrink",
    "BatchNorm2d",
    "BatchNorm3d",
    "Bilinear",
    "CELU",
    "Dropout",
    "ELU",
    "Embedding",
    "EmbeddingBag",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "LeakyReLU",
    "LocalResponseNorm",
    "LPPool1d",
    "LPPool2d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "ModuleDict",
    "ModuleList",
    "PReLU",
    "ParameterDict",
    "ParameterList",
    "ReLU",
    "ReLU6",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softsign",
    "Tanh",
    "Threshold",
    "Unflatten",
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
        return F.relu(input, inplace=self.inplace)

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
        return F.leaky_relu(input, self.negative_slope, inplace=self.inplace)

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
            raise RuntimeError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
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
        return F.dropout(input, self.p, self.training, inplace=self.inplace)

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


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size` (the inverse of Flatten).

    Example:
        >>> descend.nn.Unflatten(1, (2, 3))(descend.zeros(4, 6)).shape
        (4, 2, 3)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"invalid argument type for dim parameter: expected int, got {type(dim)}")
        sizes = tuple(unflattened_size)
        for i, s in enumerate(sizes):
            if not isinstance(s, int):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(s).__name__} "
                    f"at pos {i}"
                )
        self.dim = dim
        self.unflattened_size = sizes

    def forward(self, input):
        shape = tuple(input.shape)
        d = self.dim % len(shape) if shape else 0
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if (-1 not in sizes and known != shape[d]) or (-1 in sizes and (known == 0 or shape[d] % known)):
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {self.dim} "
                f"({shape[d]}) in the input tensor"
            )
        return ops.reshape(input, shape[:d] + sizes + shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# --- more containers ---


class ModuleDict(Module):
    """An ordered dict of named modules whose parameters are registered.

    Example:
        >>> heads = descend.nn.ModuleDict({"a": descend.nn.Linear(2, 1), "b": descend.nn.ReLU()})
        >>> list(heads.keys())
        ['a', 'b']
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def pop(self, key):
        """Remove `key` and return its module."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace entries from a mapping or an iterable of (name, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for j, entry in enumerate(items):
            if not hasattr(modules, "items") and len(entry) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{j} has length {len(entry)}; 2 is required"
                )
            key, module = entry
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: look a module up by name and call it")


def _param_summary(p, typename):
    size = "x".join(str(s) for s in p.shape)
    kind = "Parameter containing" if isinstance(p, Parameter) else "Tensor"
    return f"{kind}: [{typename} of size {size}]"


class ParameterList(Module):
    """A list of parameters registered with the module (tensors appended become Parameters).

    Example:
        >>> ws = descend.nn.ParameterList([descend.nn.Parameter(descend.ones(2)) for _ in range(3)])
        >>> len(list(ws.parameters()))
        3
    """

    def __init__(self, values=None):
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        i = operator.index(idx)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {idx} is out of range")
        return i % len(self)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, param):
        name = str(self._index(idx))
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, name, param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add `value` at the end (a Tensor becomes a Parameter); returns self."""
        self.__dict__["_size"] += 1
        self[len(self) - 1] = value
        return self

    def extend(self, values):
        """Append each of `values`; returns self."""
        for value in values:
            self.append(value)
        return self

    def __repr__(self):
        lines = []
        for i, p in enumerate(self):
            what = _param_summary(p, f"descend.{p.dtype}") if isinstance(p, Tensor) else (
                f"Object of type: {type(p).__name__}")
            lines.append(f"    ({i}): {what}")
        return self._get_name() + ("(\n" + "\n".join(lines) + "\n)" if lines else "()")

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward: iterate over it")


class ParameterDict(Module):
    """An ordered dict of named parameters registered with the module (tensors become Parameters).

    Example:
        >>> pd = descend.nn.ParameterDict({"scale": descend.nn.Parameter(descend.ones(1))})
        >>> [n for n, _ in pd.named_parameters()]
        ['scale']
    """

    def __init__(self, parameters=None):
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The names, in insertion order."""
        return list(self._keys)

    def items(self):
        """(name, parameter) pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def values(self):
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def pop(self, key):
        """Remove `key` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def clear(self):
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def get(self, key, default=None):
        """The parameter under `key`, or `default`."""
        return self[key] if key in self else default

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of (name, parameter) pairs."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def __repr__(self):
        lines = [f"    ({k}): " + _param_summary(p, p.type()) for k, p in self.items()]
        return self._get_name() + ("(\n" + "\n".join(lines) + "\n)" if lines else "()")

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward: look a parameter up by name")


# --- more activations ---


def _inplace(inplace):
    return "inplace=True" if inplace else ""


class _Activation(Module):
    """An activation with PyTorch's `inplace` flag (the result is written into the input)."""

    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class SiLU(_Activation):
    """x * sigmoid(x), elementwise.

    Example:
        >>> descend.nn.SiLU()(descend.tensor([1.0]))
        tensor([0.7311])
    """

    _fn = staticmethod(F.silu)


class Mish(_Activation):
    """x * tanh(softplus(x)), elementwise.

    Example:
        >>> descend.nn.Mish()(descend.tensor([1.0]))
        tensor([0.8651])
    """

    _fn = staticmethod(F.mish)


class SELU(_Activation):
    """Scaled ELU with the self-normalising constants.

    Example:
        >>> descend.nn.SELU()(descend.tensor([1.0]))
        tensor([1.0507])
    """

    _fn = staticmethod(F.selu)


class Hardsigmoid(_Activation):
    """relu6(x + 3) / 6, elementwise.

    Example:
        >>> descend.nn.Hardsigmoid()(descend.tensor([0.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Activation):
    """x * relu6(x + 3) / 6, elementwise.

    Example:
        >>> descend.nn.Hardswish()(descend.tensor([1.0]))
        tensor([0.6667])
    """

    _fn = staticmethod(F.hardswish)


class ReLU6(_Activation):
    """min(max(x, 0), 6), elementwise.

    Example:
        >>> descend.nn.ReLU6()(descend.tensor([8.0]))
        tensor([6.])
    """

    _fn = staticmethod(F.relu6)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably.

    Example:
        >>> descend.nn.LogSigmoid()(descend.tensor([0.0]))
        tensor([-0.6931])
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Softsign(Module):
    """x / (1 + |x|), elementwise.

    Example:
        >>> descend.nn.Softsign()(descend.tensor([1.0]))
        tensor([0.5000])
    """

    def forward(self, input):
        return F.softsign(input)


class ELU(Module):
    """x for x > 0, alpha (exp(x) - 1) otherwise.

    Example:
        >>> descend.nn.ELU()(descend.tensor([-1.0]))
        tensor([-0.6321])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, inplace=self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    Example:
        >>> descend.nn.CELU(2.0)(descend.tensor([-1.0]))
        tensor([-0.7869])
    """

    def forward(self, input):
        return F.celu(input, self.alpha, inplace=self.inplace)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold.

    Example:
        >>> descend.nn.Softplus()(descend.tensor([0.0]))
        tensor([0.6931])
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val].

    Example:
        >>> descend.nn.Hardtanh()(descend.tensor([-2.0, 0.5]))
        tensor([-1.0000,  0.5000])
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if not max_val > min_val:
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, inplace=self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    """x where x > threshold, else value.

    Example:
        >>> descend.nn.Threshold(1.0, 0.0)(descend.tensor([0.5, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, inplace=self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x for x > 0, a * x otherwise, with `a` learned (one value, or one per channel).

    Example:
        >>> descend.nn.PReLU()(descend.tensor([-4.0]))
        tensor([-1.], grad_fn=<WhereBackward0>)
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        self.num_parameters = num_parameters
        self.init = init
        dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
        self.weight = Parameter(from_numpy(np.full(num_parameters, init, dtype=dtype)))

    def reset_parameters(self):
        """Refill the slopes with `init`."""
        from . import init as _init

        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmin(Module):
    """softmax(-x) along `dim`.

    Example:
        >>> descend.nn.Softmin(dim=1)(descend.zeros(1, 2))
        tensor([[0.5000, 0.5000]])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0.

    Example:
        >>> descend.nn.Hardshrink()(descend.tensor([0.2, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    Example:
        >>> descend.nn.Softshrink()(descend.tensor([0.2, 1.0]))
        tensor([0.0000, 0.5000])
    """

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Tanhshrink(Module):
    """x - tanh(x).

    Example:
        >>> descend.nn.Tanhshrink()(descend.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input):
        return F.tanhshrink(input)


class GLU(Module):
    """The gated linear unit along `dim`: a * sigmoid(b) for the two halves a, b.

    Example:
        >>> descend.nn.GLU()(descend.tensor([[1.0, 0.0]]))
        tensor([[0.5000]])
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of a (N, C, H, W) or (C, H, W) input.

    Example:
        >>> descend.nn.Softmax2d()(descend.zeros(1, 2, 1, 1)).flatten().tolist()
        [0.5, 0.5]
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class CosineSimilarity(Module):
    """`F.cosine_similarity(x1, x2, dim, eps)` as a module.

    Example:
        >>> descend.nn.CosineSimilarity()(descend.tensor([[1.0, 0.0]]), descend.tensor([[1.0, 0.0]]))
        tensor([1.])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """`F.pairwise_distance(x1, x2, p, eps, keepdim)` as a module.

    Example:
        >>> descend.nn.PairwiseDistance(eps=0.0)(descend.tensor([[0.0, 0.0]]), descend.tensor([[3.0, 4.0]]))
        tensor([5.])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


# --- embeddings ---


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) is the vector of index i.

    The weight is drawn from N(0, 1), as in PyTorch; the `padding_idx` row starts at zero and never
    receives a gradient.

    Args:
        num_embeddings: the table's size.
        embedding_dim: the size of each vector.
        padding_idx: an index whose row stays zero (negative counts from the end).
        max_norm: rows looked up with a larger `norm_type`-norm are rescaled in place to it.
        norm_type: the p of that norm.
        scale_grad_by_freq: scale each row's gradient by 1 / its count in the batch.
        sparse: not supported (True raises at the forward).

    Example:
        >>> emb = descend.nn.Embedding(27, 2)
        >>> emb(descend.tensor([[1, 2, 3]])).shape
        (1, 3, 2)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__()
        _check_device(device)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
            self.weight = Parameter(from_numpy(np.empty((num_embeddings, embedding_dim), dtype=dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Redraw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            self.weight._version[0] += 1

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (storage shared), frozen unless freeze=False.

        Example:
            >>> emb = descend.nn.Embedding.from_pretrained(descend.eye(3))
            >>> emb(descend.tensor([1]))
            tensor([[0., 1., 0.]])
        """
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                   sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without the (n, dim) intermediate lookup.

    The weight is drawn from N(0, 1), as in PyTorch; the `padding_idx` row starts at zero and is left
    out of every bag.

    Args:
        num_embeddings: the table's size.
        embedding_dim: the size of each vector.
        max_norm, norm_type, scale_grad_by_freq: as `Embedding`.
        mode: "sum" | "mean" | "max".
        sparse: not supported (True raises at the forward).
        include_last_offset: `offsets` carries the end of the last bag as its last entry.
        padding_idx: an index whose row stays zero and is left out of the bags (and of the mean's count).

    Example:
        >>> bag = descend.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(descend.tensor([1, 2, 4, 5, 4]), descend.tensor([0, 2])).shape
        (2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        _check_device(device)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
            self.weight = Parameter(from_numpy(np.empty((num_embeddings, embedding_dim), dtype=dtype)))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self):
        """Redraw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            self.weight._version[0] += 1

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is `embeddings` (storage shared), frozen unless freeze=False.

        Example:
            >>> bag = descend.nn.EmbeddingBag.from_pretrained(descend.eye(3), mode="sum")
            >>> bag(descend.tensor([[0, 2]]))
            tensor([[1., 0., 1.]])
        """
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


class LocalResponseNorm(Module):
    """Normalise each value by the squares of its `size` neighbouring channels (AlexNet's LRN).

    y = x / (k + alpha / size * sum of x ** 2 over the window) ** beta; see `F.local_response_norm`.

    Example:
        >>> descend.nn.LocalResponseNorm(2)(descend.ones(1, 3, 4)).shape
        (1, 3, 4)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling over 1-D windows: (sum of x ** p) ** (1 / p); see `F.lp_pool1d`.

    Example:
        >>> descend.nn.LPPool1d(2, 3, stride=2)(descend.ones(1, 4, 9)).shape
        (1, 4, 4)
    """

    def forward(self, input):
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over 2-D windows: (sum of x ** p) ** (1 / p); see `F.lp_pool2d`.

    Example:
        >>> descend.nn.LPPool2d(2, 2)(descend.ones(1, 1, 4, 4)).shape
        (1, 1, 2, 2)
    """

    def forward(self, input):
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()

        def tup(v):
            return (v,) * self._nd if isinstance(v, int) else tuple(v)

        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The inverse of MaxPool1d: values back at the pool's indices, zeros elsewhere.

    Example:
        >>> pool, unpool = descend.nn.MaxPool1d(2, return_indices=True), descend.nn.MaxUnpool1d(2)
        >>> unpool(*pool(descend.tensor([[1.0, 3.0, 2.0, 0.0]])))
        tensor([[0., 3., 2., 0.]])
    """

    _nd = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """The inverse of MaxPool2d: values back at the pool's indices, zeros elsewhere.

    Example:
        >>> pool, unpool = descend.nn.MaxPool2d(2, return_indices=True), descend.nn.MaxUnpool2d(2)
        >>> unpool(*pool(descend.ones(1, 1, 4, 4))).shape
        (1, 1, 4, 4)
    """

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


# --- normalisation ---


def _param_dtype(dtype, name):
    dtype = np.dtype(np.float32) if dtype is None else _dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: parameters must have a floating dtype, got {dtype}")
    return dtype


class _BatchNorm(Module):
    """The shared body of BatchNorm1d/2d: affine parameters, running statistics as buffers, forward.

    momentum=None makes the running statistics a cumulative average (factor 1 / num_batches_tracked).
    """

    _expected = ""

    def __init__(self, num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, type(self).__name__)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._bias = bias
        if affine:
            self.weight = Parameter(from_numpy(np.ones(num_features, dtype=dtype)))
            if bias:
                self.bias = Parameter(from_numpy(np.zeros(num_features, dtype=dtype)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", from_numpy(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", from_numpy(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._version[0] += 1

    def reset_parameters(self):
        """Reset the running statistics and the affine parameters (weight 1, bias 0)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._version[0] += 1
            factor = 1.0 / float(self.num_batches_tracked._data) if self.momentum is None else self.momentum
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None, self.running_var if keep else None,
                            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.affine and self._bias}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Training normalises by the batch's mean and (biased) variance and updates running_mean and
    running_var (unbiased) with `momentum`; eval mode normalises by the running statistics.

    Example:
        >>> bn = descend.nn.BatchNorm1d(2)
        >>> bn(descend.tensor([[1.0, 2.0], [3.0, 6.0]]))
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]], grad_fn=<NativeBatchNormBackward0>)
    """

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C (see BatchNorm1d).

    Example:
        >>> descend.nn.BatchNorm2d(3)(descend.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs, per channel C (see BatchNorm1d).

    Example:
        >>> descend.nn.BatchNorm3d(2)(descend.randn(2, 2, 1, 2, 2)).shape
        (2, 2, 1, 2, 2)
    """

    def _check_input_dim(self, input):
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """Normalise each sample over its trailing `normalized_shape` dims, then scale and shift.

    Example:
        >>> descend.nn.LayerNorm(2)(descend.tensor([[1.0, 3.0]]))
        tensor([[-1.0000,  1.0000]], grad_fn=<NativeLayerNormBackward0>)
    """

    def __init__(self, normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None,
                 dtype=None):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, "LayerNorm")
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._bias = bias
        if elementwise_affine:
            self.weight = Parameter(from_numpy(np.ones(self.normalized_shape, dtype=dtype)))
            if bias:
                self.bias = Parameter(from_numpy(np.zeros(self.normalized_shape, dtype=dtype)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Weight 1, bias 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.elementwise_affine and self._bias}")


class GroupNorm(Module):
    """Split the C channels into `num_groups` groups and normalise each per sample; per-channel affine.

    Example:
        >>> descend.nn.GroupNorm(1, 2)(descend.tensor([[1.0, 3.0]]))
        tensor([[-1.0000,  1.0000]], grad_fn=<NativeGroupNormBackward0>)
    """

    def __init__(self, num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None, *,
                 bias=True):
        super().__init__()
        _check_device(device)
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        dtype = _param_dtype(dtype, "GroupNorm")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._bias = bias
        if affine:
            self.weight = Parameter(from_numpy(np.ones(num_channels, dtype=dtype)))
            if bias:
                self.bias = Parameter(from_numpy(np.zeros(num_channels, dtype=dtype)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.affine and self._bias}")


class _InstanceNorm(_BatchNorm):
    """The shared body of InstanceNorm1d/2d/3d: per-sample, per-channel statistics (`F.instance_norm`).

    affine and track_running_stats default to False; momentum=None means 0 (the running statistics
    stay as they are), as in PyTorch, whose instance norm has no cumulative average.
    """

    _spatial = 1

    def __init__(self, num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        if input.ndim not in (self._spatial + 1, self._spatial + 2):
            raise ValueError(
                f"expected {self._spatial + 1}D or {self._spatial + 2}D input (got {input.ndim}D input)"
            )
        feature_dim = input.ndim - self._spatial - 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not used because "
                          "affine=False", UserWarning, stacklevel=2)
        unbatched = input.ndim == self._spatial + 1
        x = ops.unsqueeze(input, 0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return ops.squeeze(out, 0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs.

    Example:
        >>> descend.nn.InstanceNorm1d(1)(descend.tensor([[[1.0, 3.0]]]))
        tensor([[[-1.0000,  1.0000]]])
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _spatial = 3


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing `normalized_shape` dims, with a per-element weight.

    eps=None takes the machine epsilon of the input's dtype, as PyTorch does.

    Example:
        >>> descend.nn.RMSNorm(2, eps=0.0)(descend.tensor([[3.0, 4.0]]))
        tensor([[0.8485, 1.1314]], grad_fn=<MulBackward0>)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(v) for v in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            ones = np.ones(self.normalized_shape, dtype=_param_dtype(dtype, "RMSNorm"))
            self.weight = Parameter(from_numpy(ones))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Bilinear(Module):
    """y = x1^T A x2 + b; A (out, in1, in2) and b drawn from U(-k, k) with k = 1 / sqrt(in1_features).

    Example:
        >>> descend.nn.Bilinear(2, 3, 4)(descend.ones(5, 2), descend.ones(5, 3)).shape
        (5, 4)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, "Bilinear")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(from_numpy(np.empty((out_features, in1_features, in2_features), dtype=dtype)))
        if bias:
            self.bias = Parameter(from_numpy(np.empty(out_features, dtype=dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
