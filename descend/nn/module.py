"""`Module`, the base of every layer and model, and `Parameter`, a tensor that a module trains.

As in PyTorch, assigning a `Parameter`, a `Module` or a registered buffer to an attribute records it
in `_parameters`, `_modules` or `_buffers`; everything else (`parameters()`, `state_dict()`,
`train()`, `repr`) walks those three dictionaries.

Example:
    >>> import descend as torch
    >>> class SimpleNN(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.weight = torch.nn.Parameter(torch.tensor([2.0], requires_grad=True))
    ...     def forward(self, x):
    ...         return self.weight * x
    >>> [name for name, _ in SimpleNN().named_parameters()]
    ['weight']
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, from_numpy, tensor
from ..tensor import _parse_to as _parse_tensor_to

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A tensor that is a module's trainable weight: assigning it to a Module attribute registers it.

    `Parameter(t)` shares `t`'s storage (no copy), as `torch.nn.Parameter` does, and is a leaf that
    requires grad unless `requires_grad=False`.

    Args:
        data: a Tensor (storage shared), or anything `descend.tensor` accepts (copied); None gives an
            empty float32 tensor.
        requires_grad: whether the parameter is trained.

    Example:
        >>> w = descend.nn.Parameter(descend.tensor([2.0], requires_grad=True))
        >>> w
        Parameter containing:
        tensor([2.], requires_grad=True)
    """

    def __init__(self, data=None, requires_grad=True):
        # Deliberately not Tensor.__init__, which copies: a Parameter wraps the given storage.
        if data is None:
            data = tensor(np.empty(0, dtype=np.float32))
        elif not isinstance(data, Tensor):
            data = tensor(data)
        self._data = data._data
        self._version = data._version
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(s, spaces):
    """Indent every line of `s` but the first (PyTorch's nested-repr helper)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _quoted(keys):
    return ", ".join(f'"{k}"' for k in keys)


def _parse_to(args, kwargs):
    """The floating dtype asked for by `Module.to(...)` (devices other than the CPU are rejected)."""
    dtype = _parse_tensor_to(args, kwargs)
    if dtype is not None and dtype.kind != "f":
        raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
    return dtype


class Module:
    """Base class of layers and models: subclasses set attributes in `__init__` and define `forward`.

    Calling the module calls `forward`. Parameters, buffers and sub-modules assigned as attributes
    are found by `parameters()`, `named_parameters()`, `state_dict()` and friends.

    Example:
        >>> class Line(descend.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w = descend.nn.Parameter(descend.zeros(1))
        ...     def forward(self, x):
        ...         return self.w * x
        >>> Line()(descend.ones(3)).shape
        (3,)
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments: Module.__init__ takes none "
                "(call super().__init__() without arguments)"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}

    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- registration ---

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def register_parameter(self, name, param):
        """Add a parameter (or None, a placeholder) under `name`.

        Example:
            >>> m = descend.nn.Module()
            >>> m.register_parameter("scale", descend.nn.Parameter(descend.ones(1)))
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(descend.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                "explicitly; to express '{name}' as a function of another Tensor, compute it in forward()"
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not trained (saved in `state_dict` unless persistent=False).

        Example:
            >>> m = descend.nn.Module()
            >>> m.register_buffer("running_mean", descend.zeros(3))
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under `name`.

        Example:
            >>> net = descend.nn.Module()
            >>> net.add_module("hidden", descend.nn.Linear(2, 3))
        """
        if isinstance(module, type) and issubclass(module, Module):
            raise TypeError(
                f"{name}: got the class {module.__name__}, not a module; did you mean {module.__name__}()?"
            )
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__module__}.{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at the dotted path `target` ("" is this module).

        Example:
            >>> descend.nn.Sequential(descend.nn.Linear(1, 1)).get_submodule("0")
            Linear(in_features=1, out_features=1, bias=True)
        """
        module = self
        if target == "":
            return module
        for item in target.split("."):
            child = module._modules.get(item)
            if child is None:
                raise AttributeError(
                    f"{module._get_name()} has no submodule `{item}` (looking up '{target}')"
                )
            module = child
        return module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(descend.nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(Module or None expected)"
                )
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name):
        """Remove `name` from every registry and the instance dict (before it is re-registered)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            d[registry].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and modules live in registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = d.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d[registry]:
                del d[registry][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(keys))

    # --- traversal ---

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module and every descendant, each once.

        Example:
            >>> [n for n, _ in descend.nn.Sequential(descend.nn.Linear(1, 1)).named_modules()]
            ['', '0']
        """
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """Yield this module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield (name, module) for the direct children."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield the direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, parameter), e.g. ('0.weight', ...), each shared parameter once.

        Example:
            >>> [n for n, _ in descend.nn.Linear(2, 1).named_parameters()]
            ['weight', 'bias']
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter once (what an optimizer trains).

        Example:
            >>> sum(p.numel() for p in descend.nn.Linear(2, 3).parameters())
            9
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, buffer)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every buffer once."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # --- modes and gradients ---

    def train(self, mode=True):
        """Set training mode (Dropout active) on this module and all descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode (Dropout inactive); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turn gradient recording on or off for every parameter (freezing); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros in place.

        Example:
            >>> model = descend.nn.Linear(2, 1)
            >>> model.zero_grad()
        """
        for p in self.parameters():
            grad = p._grad
            if grad is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                if grad.grad_fn is not None:
                    grad.detach_()
                grad.zero_()

    def apply(self, fn):
        """Call `fn` on every descendant, then on this module (e.g. custom initialisation); returns self.

        Example:
            >>> def init_weights(m):
            ...     if isinstance(m, descend.nn.Linear):
            ...         descend.nn.init.zeros_(m.weight)
            >>> net = descend.nn.Sequential(descend.nn.Linear(2, 2)).apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- dtype ---

    def _convert(self, dtype):
        """Cast floating parameters, their gradients and buffers to `dtype` in place (same objects)."""
        seen = set()
        for module in self.modules():
            for registry in ("_parameters", "_buffers"):
                for t in module.__dict__[registry].values():
                    if t is None or id(t) in seen or t.dtype.kind != "f" or t.dtype == dtype:
                        continue
                    seen.add(id(t))
                    t._data = t._data.astype(dtype)
                    t._version[0] += 1
                    if t._grad is not None:
                        t._grad = from_numpy(t._grad._data.astype(dtype))
        return self

    def to(self, *args, **kwargs):
        """Convert floating parameters and buffers to a dtype (`to(descend.float64)`); "cpu" is a no-op.

        The Parameter objects stay the same, so an optimizer built before the call keeps working.

        Example:
            >>> descend.nn.Linear(2, 1).to(descend.float64).weight.dtype
            dtype('float64')
        """
        dtype = _parse_to(args, dict(kwargs))
        if dtype is not None:
            self._convert(dtype)
        return self

    def float(self):
        """Convert floating parameters and buffers to float32 in place; returns self."""
        return self._convert(np.dtype(np.float32))

    def double(self):
        """Convert floating parameters and buffers to float64 in place; returns self."""
        return self._convert(np.dtype(np.float64))

    def half(self):
        """Convert floating parameters and buffers to float16 in place; returns self."""
        return self._convert(np.dtype(np.float16))

    def cpu(self):
        """A no-op (descend computes on the CPU); returns self."""
        return self

    def cuda(self, device=None):
        raise RuntimeError("descend runs on the CPU with NumPy; there is no CUDA device")

    # --- state ---

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An OrderedDict from dotted names to parameters and persistent buffers (detached tensors).

        The tensors share storage with the module, as in PyTorch: copy them to keep a snapshot.

        Example:
            >>> list(descend.nn.Linear(2, 1).state_dict())
            ['weight', 'bias']
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` into this module's parameters and buffers, in place.

        Values may be Tensors or NumPy arrays; they are cast to each parameter's dtype. Nothing is
        copied unless every entry fits: missing or unexpected keys (when `strict`) and any shape
        mismatch raise a RuntimeError that names each offending key and the shapes.

        Args:
            state_dict: a mapping from dotted names to tensors or arrays.
            strict: require exactly this module's keys.

        Returns:
            A named tuple (missing_keys, unexpected_keys).

        Example:
            >>> a, b = descend.nn.Linear(2, 1), descend.nn.Linear(2, 1)
            >>> b.load_state_dict(a.state_dict())
            IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values = {}
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(arr.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(target.shape)}."
                )
                continue
            values[key] = arr
        if strict:
            head = []
            if unexpected:
                head.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ". ")
            if missing:
                head.append("Missing key(s) in state_dict: " + _quoted(missing) + ". ")
            errors = head + errors
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)
            )
        with no_grad():
            for key, arr in values.items():
                target = own[key]
                np.copyto(target._data, arr, casting="unsafe")
                target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # --- repr ---

    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text shown inside this module's parentheses in its repr (subclasses override)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"
