"""Custom differentiable functions: `descend.autograd.Function`, as `torch.autograd.Function`.

Subclass it with a static `forward` and `backward`; `MyFn.apply(...)` runs `forward` outside the
graph and records one node whose VJP calls your `backward` with one gradient per output.

Example (PyTorch's custom ReLU tutorial):
    >>> class MyReLU(descend.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, input):
    ...         ctx.save_for_backward(input)
    ...         return input.clamp(min=0)
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (input,) = ctx.saved_tensors
    ...         grad_input = grad_output.clone()
    ...         grad_input[input < 0] = 0
    ...         return grad_input
    >>> y = MyReLU.apply(x)
"""

from __future__ import annotations

import numpy as np

from . import _GradMode, _modified_error, attach_multi, no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The `ctx` handed to `forward`/`setup_context` and `backward`: saved tensors and any attributes."""

    def __init__(self):
        self._saved = ()
        self._versions = ()
        self.needs_input_grad = ()
        self._non_differentiable = set()
        self._dirty = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for `backward`; an in-place change of one afterwards is caught."""
        for t in tensors:
            if t is not None and not hasattr(t, "_data"):
                raise TypeError(
                    f"save_for_backward can only save tensors (or None), but got {type(t).__name__}"
                )
        self._saved = tensors
        self._versions = tuple(None if t is None else t._version[0] for t in tensors)

    @property
    def saved_tensors(self):
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._version[0] != v:
                _modified_error(_Named(self), t, v)
        return tuple(self._saved)

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no gradient (indices, masks): they are returned with requires_grad=False."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Inputs that `forward` changed in place; their version counters are bumped."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        """Whether `backward` receives zeros (True, the default) or None for outputs without a gradient."""
        self.materialize_grads = bool(value)


class _Named:
    def __init__(self, ctx):
        self._name = getattr(ctx, "_node_name", "a custom Function")
        self.saved_output = None


class Function:
    """Base class of custom differentiable functions (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function "
            "to use it "
            "with backward mode AD."
        )

    vjp = backward

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            "Function objects are not instantiated: call the class's static `apply` (MyFunction.apply(x))"
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` on `args` and record `backward` as the node's VJP."""
        from ..tensor import Tensor, _wrap

        ctx = FunctionCtx()
        ctx._node_name = f"{cls.__name__}Backward"
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        for t in ctx._dirty:
            t._version[0] += 1
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        parents = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
        if not (_GradMode.enabled and parents):
            return out
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._requires_grad]
        tensor_outs = [(k, o) for k, o in enumerate(outs) if isinstance(o, Tensor)]
        shapes = [a._data.shape for a in parents]
        n_args = len(args)

        def vjp_all(grads):
            gs = []
            for (_, o), g in zip(tensor_outs, grads):
                if id(o) in ctx._non_differentiable or (not ctx.materialize_grads and not np.any(g)):
                    gs.append(None if not ctx.materialize_grads else _wrap(np.asarray(g)))
                else:
                    gs.append(_wrap(np.asarray(g)))
            with no_grad():
                result = cls.backward(ctx, *gs)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != n_args:
                if len(result) > n_args and all(r is None for r in result[n_args:]):
                    result = result[:n_args]
                else:
                    raise RuntimeError(
                        f"function {cls.__name__}Backward returned an incorrect number of gradients "
                        f"(expected {n_args}, got {len(result)})"
                    )
            out_grads = []
            for i, shape in zip(positions, shapes):
                r = result[i]
                if r is None:
                    out_grads.append(None)
                    continue
                arr = np.asarray(r._data if isinstance(r, Tensor) else r)
                if arr.shape != shape:
                    raise RuntimeError(
                        f"Function {cls.__name__}Backward returned an invalid gradient at index {i} - got "
                        f"{list(arr.shape)} but expected shape compatible with {list(shape)}"
                    )
                out_grads.append(arr)
            return tuple(out_grads)

        made = attach_multi(
            f"{cls.__name__}Backward", [o._data for _, o in tensor_outs], tuple(parents), vjp_all,
            materializes=True,
        )
        wrapped = list(outs)
        for (k, o), m in zip(tensor_outs, made):
            if id(o) in ctx._non_differentiable or o._data.dtype.kind != "f":
                m = _wrap(o._data)
            m._version = o._version
            wrapped[k] = m
        return wrapped[0] if single else tuple(wrapped)


def once_differentiable(fn):
    """Accepted for compatibility: descend's backward never builds a graph (no double backward)."""
    return fn
