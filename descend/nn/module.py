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

from ..autograd import no_grad, record
from ..tensor import Tensor, _wrap, from_numpy, tensor
from ..tensor import _parse_to as _parse_tensor_to

__all__ = ["Module", "Parameter", "RemovableHandle"]


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
        self._view = None
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """What the hook registrations return: `handle.remove()` takes the hook out (also as a `with` block).

    Example:
        >>> lin = descend.nn.Linear(1, 1)
        >>> with lin.register_forward_hook(lambda m, a, out: out * 0):
        ...     pass
    """

    _next_id = 0

    def __init__(self, hooks, extra=None):
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self._hooks = hooks
        self._extra = [extra] if extra is not None else []

    def remove(self):
        """Take the hook out (removing twice is harmless)."""
        self._hooks.pop(self.id, None)
        for table in self._extra:
            table.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _grad_enabled():
    from .. import autograd

    return autograd._GradMode.enabled


def _hook_grad(value, like):
    """A hook's gradient (Tensor, array or None) as an array for the engine (zeros for None)."""
    if value is None:
        return np.zeros(like.shape, dtype=like.dtype)
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
    if arr.shape != tuple(like.shape):
        raise RuntimeError(
            f"a backward hook returned a gradient of shape {tuple(arr.shape)} for a tensor of shape "
            f"{tuple(like.shape)}"
        )
    return arr.astype(like.dtype, copy=False)


def _hook_identity(tensors, on_grad):
    """Tensors equal to `tensors`, recorded through ONE node whose backward calls `on_grad(grads)` once.

    One node for all of them (packed into one flat array when there are several) so a module hook sees
    every gradient at once and can replace them all before any reaches the rest of the graph.
    """
    if len(tensors) == 1:
        t = tensors[0]
        return [record("BackwardHookFunctionBackward", t._data.view(), (t,), (lambda g: on_grad([g])[0],))]
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    sizes = [t._data.size for t in tensors]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    packed = np.concatenate([t._data.ravel().astype(dtype, copy=False) for t in tensors])
    cache = {}

    def vjp_for(k):
        def vjp(g):
            if cache.get("g") is not g:  # the first parent's VJP for this gradient: run the hooks once
                parts = [g[offsets[i]:offsets[i + 1]].reshape(t.shape).astype(t.dtype, copy=False)
                         for i, t in enumerate(tensors)]
                cache["g"], cache["out"] = g, on_grad(parts)
            return cache["out"][k]
        return vjp

    node = record("BackwardHookFunctionBackward", packed, tuple(tensors),
                  tuple(vjp_for(k) for k in range(len(tensors))))
    out = []
    for i, t in enumerate(tensors):
        piece = node[int(offsets[i]):int(offsets[i + 1])].reshape(t.shape)
        out.append(piece if piece.dtype == t.dtype else piece.to(t.dtype))
    return out


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
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d.get("_forward_pre_hooks") or d.get("_forward_hooks") or d.get("_backward_hooks")
                or d.get("_backward_pre_hooks")):
            return self.forward(*args, **kwargs)  # the hot path: no hooks, no overhead
        return self._call_with_hooks(args, kwargs)

    # --- hooks ---

    def _hooks(self, name):
        d = self.__dict__
        if name not in d:  # a module built without Module.__init__'s hook tables (an old pickle)
            d[name] = set() if name.endswith("with_kwargs") else OrderedDict()
        return d[name]

    def _add_hook(self, table, hook, prepend, kwargs_table=None, with_kwargs=False):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        hooks = self._hooks(table)
        handle = RemovableHandle(hooks, self._hooks(kwargs_table) if kwargs_table else None)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        if with_kwargs:
            self._hooks(kwargs_table).add(handle.id)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call `hook(module, args)` before each forward; a non-None return replaces the args.

        With with_kwargs=True the hook is `hook(module, args, kwargs)` and returns None or a
        tuple (new_args, new_kwargs). A single non-tuple return is wrapped into a 1-tuple.

        Returns:
            A handle whose `remove()` takes the hook out.

        Example:
            >>> lin = descend.nn.Linear(2, 1)
            >>> h = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
            >>> h.remove()
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, "_forward_pre_hooks_with_kwargs",
                              with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call `hook(module, args, output)` after each forward; a non-None return replaces the output.

        With with_kwargs=True the hook is `hook(module, args, kwargs, output)`. `always_call=True`
        also runs it when forward raises (then with output None... as PyTorch: the error propagates).

        Returns:
            A handle whose `remove()` takes the hook out.

        Example:
            >>> acts = []
            >>> lin = descend.nn.Linear(2, 1)
            >>> h = lin.register_forward_hook(lambda m, args, out: acts.append(out.shape))
            >>> _ = lin(descend.ones(3, 2)); acts
            [(3, 1)]
        """
        handle = self._add_hook("_forward_hooks", hook, prepend, "_forward_hooks_with_kwargs", with_kwargs)
        if always_call:
            self._hooks("_forward_hooks_always_called").add(handle.id)
            handle._extra.append(self._hooks("_forward_hooks_always_called"))
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call `hook(module, grad_output)` when the gradients of the outputs are known.

        A non-None return (a tuple like grad_output) replaces grad_output for the rest of backward.

        Example:
            >>> lin = descend.nn.Linear(2, 1)
            >>> h = lin.register_full_backward_pre_hook(lambda m, g_out: (g_out[0] * 2,))
        """
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call `hook(module, grad_input, grad_output)` when the gradients of the inputs are known.

        grad_input has one entry per positional argument (None for non-tensors and inputs not requiring
        grad); a non-None return replaces grad_input. Implemented with identity nodes
        ("BackwardHookFunctionBackward", as in PyTorch) recorded around the forward on the inputs and
        the outputs, so the hook fires at the right point of the backward pass.

        Example:
            >>> seen = []
            >>> lin = descend.nn.Linear(2, 1)
            >>> h = lin.register_full_backward_hook(lambda m, g_in, g_out: seen.append(g_out[0].shape))
            >>> lin(descend.ones(3, 2, requires_grad=True)).sum().backward(); seen
            [(3, 1)]
        """
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_backward_hook(self, hook):
        """The legacy module backward hook: not supported (use register_full_backward_hook)."""
        raise NotImplementedError(
            "register_backward_hook is deprecated in PyTorch and not supported by descend; use "
            "register_full_backward_hook(hook), which gets the same (module, grad_input, grad_output)"
        )

    def _call_with_hooks(self, args, kwargs):
        pre_kw = self._hooks("_forward_pre_hooks_with_kwargs")
        for hook_id, hook in list(self._hooks("_forward_pre_hooks").items()):
            if hook_id in pre_kw:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got "
                            f"{result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooked = self._hooks("_backward_hooks") or self._hooks("_backward_pre_hooks")
        backward = bool(hooked) and _grad_enabled()
        state = {}
        if backward:
            args = self._hook_inputs(args, state)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            always = self._hooks("_forward_hooks_always_called")
            for hook_id, hook in list(self._hooks("_forward_hooks").items()):
                if hook_id in always:
                    try:
                        hook(self, args, kwargs, None) if hook_id in self._hooks(
                            "_forward_hooks_with_kwargs") else hook(self, args, None)
                    except Exception:  # noqa: S110 - the forward's error is the one to report
                        pass
            raise
        post_kw = self._hooks("_forward_hooks_with_kwargs")
        for hook_id, hook in list(self._hooks("_forward_hooks").items()):
            result = hook(self, args, kwargs, output) if hook_id in post_kw else hook(self, args, output)
            if result is not None:
                output = result
        if backward:
            output = self._hook_outputs(output, state)
        return output

    def _hook_inputs(self, args, state):
        """Route the tensor args needing grad through one identity node that calls the backward hooks."""
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        state["n_args"] = len(args)
        state["inputs"] = positions
        if not positions:
            return args

        def on_grad(grads):
            grad_input = [None] * len(args)
            for i, g in zip(positions, grads):
                grad_input[i] = _wrap(g)
            grad_input = tuple(grad_input)
            grad_output = state.get("grad_output", ())
            for hook in list(self._hooks("_backward_hooks").values()):
                result = hook(self, grad_input, grad_output)
                if result is not None:
                    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                    if len(result) != len(grad_input):
                        raise RuntimeError(
                            f"Backward hook returned an invalid number of grad_input, got {len(result)}, but "
                            f"expected {len(grad_input)}"
                        )
                    grad_input = result
            return [_hook_grad(grad_input[i], args[i]) for i in positions]

        new = _hook_identity([args[i] for i in positions], on_grad)
        args = list(args)
        for i, t in zip(positions, new):
            args[i] = t
        return tuple(args)

    def _hook_outputs(self, output, state):
        """Route the outputs through an identity node that records grad_output (and runs pre-hooks)."""
        single = isinstance(output, Tensor)
        outputs = (output,) if single else (tuple(output) if isinstance(output, (tuple, list)) else ())
        positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output

        def on_grad(grads):
            grad_output = [None] * len(outputs)
            for i, g in zip(positions, grads):
                grad_output[i] = _wrap(g)
            grad_output = tuple(grad_output)
            for hook in list(self._hooks("_backward_pre_hooks").values()):
                result = hook(self, grad_output)
                if result is not None:
                    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                    if len(result) != len(grad_output):
                        raise RuntimeError(
                            "Backward pre hook returned an invalid number of grad_output, got "
                            f"{len(result)}, but expected {len(grad_output)}"
                        )
                    grad_output = result
            state["grad_output"] = grad_output
            if not state["inputs"]:  # no input needs a gradient: PyTorch calls the hook here
                grad_input = (None,) * state["n_args"]
                for hook in list(self._hooks("_backward_hooks").values()):
                    hook(self, grad_input, grad_output)
            return [_hook_grad(grad_output[i], outputs[i]) for i in positions]

        new = _hook_identity([outputs[i] for i in positions], on_grad)
        outputs = list(outputs)
        for i, t in zip(positions, new):
            outputs[i] = t
        return outputs[0] if single else type(output)(outputs)

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

    def get_parameter(self, target):
        """The parameter at the dotted path `target` (e.g. "0.weight").

        Example:
            >>> descend.nn.Sequential(descend.nn.Linear(1, 1)).get_parameter("0.bias").shape
            (1,)
        """
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target):
        """The buffer at the dotted path `target` (e.g. "1.running_mean")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

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
