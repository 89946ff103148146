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

import warnings

import numpy as np

from . import _GradMode, _modified_error, attach_multi, no_grad, unbroadcast

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
        for i, t in enumerate(tensors):
            if t is not None and not hasattr(t, "_data"):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__} (tensors or None only)"
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
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, "
            "so you should invoke them on the class itself (MyFunction.apply(x)).",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method: MyFunction.apply(x)."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` on `args` and record `backward` as the node's VJP."""
        from ..tensor import Tensor, _wrap

        name = f"{cls.__name__}Backward"
        ctx = FunctionCtx()
        ctx._node_name = name
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        for t in ctx._dirty:
            if not any(o is t for o in outs):
                raise RuntimeError(
                    "Some elements marked as dirty during the forward method were not returned as output. "
                    "The inputs that are modified inplace must all be outputs of the Function."
                )
        parents = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
        recording = _GradMode.enabled and bool(parents)
        if recording and ctx._dirty:
            from ..ops.inplace import check_inplace

            for t in ctx._dirty:
                check_inplace(t)  # PyTorch's errors for a leaf that requires grad (or a view of one)
        if not recording:
            for t in ctx._dirty:
                t._version[0] += 1
            return out
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._requires_grad]
        tensor_outs = [(k, o) for k, o in enumerate(outs) if isinstance(o, Tensor)]
        metas = [(a._data.shape, a._data.dtype) for a in parents]
        n_args = len(args)
        n_outs = len(outs)
        tensor_args = [isinstance(a, Tensor) for a in args]

        def vjp_all(grads):
            # one gradient per output of forward, as PyTorch hands them: None for a non-tensor output
            gs = [None] * n_outs
            for (k, o), g in zip(tensor_outs, grads):
                if ctx.materialize_grads or (np.any(g) and id(o) not in ctx._non_differentiable):
                    # NOTE: the engine hands zeros for an output that got no gradient; without
                    # materialized grads they are passed as None (a zero gradient that did arrive
                    # reads as None too: the engine does not tell them apart)
                    gs[k] = _wrap(np.asarray(g))
            with no_grad():
                result = cls.backward(ctx, *gs)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != n_args:
                if len(result) > n_args and all(r is None for r in result[n_args:]):
                    result = result[:n_args]
                else:
                    raise RuntimeError(
                        f"function {name} returned an incorrect number of gradients "
                        f"(expected {n_args}, got {len(result)})"
                    )
            for i, r in enumerate(result):
                if r is not None and not tensor_args[i]:
                    raise RuntimeError(
                        f"function {name} returned a gradient different than None at position {i + 1}, "
                        "but the corresponding forward input was not a Variable"
                    )
            out_grads = []
            for i, (shape, dtype) in zip(positions, metas):
                r = result[i]
                if r is None:
                    out_grads.append(None)
                    continue
                arr = np.asarray(r._data if isinstance(r, Tensor) else r)
                if arr.shape != shape:
                    # PyTorch sums a gradient the input's shape broadcasts to back to that shape
                    try:
                        expandable = np.broadcast_shapes(shape, arr.shape) == arr.shape
                    except ValueError:
                        expandable = False
                    if not expandable:
                        raise RuntimeError(
                            f"Function {name} returned an invalid gradient at index {i} - got "
                            f"{list(arr.shape)} but expected shape compatible with {list(shape)}"
                        )
                    arr = unbroadcast(arr, shape)
                if arr.dtype != dtype:
                    arr = arr.astype(dtype)
                out_grads.append(arr)
            return tuple(out_grads)

        datas = [o._data for _, o in tensor_outs]
        made = attach_multi(name, datas, tuple(parents), vjp_all, materializes=True)
        wrapped = list(outs)
        dirty = ctx._dirty
        for (k, o), m in zip(tensor_outs, made):
            if any(o is t for t in dirty):
                wrapped[k] = _rebase(o, m)  # the input itself, its history now this node
                continue
            if id(o) in ctx._non_differentiable or o._data.dtype.kind != "f":
                m = _wrap(o._data)
            elif o._view is not None or any(o is a for a in args):
                # a view made inside forward, or an input returned as-is: PyTorch refuses to change
                # it in place (see ops.inplace.check_inplace)
                m._multi = (cls.__name__, k, "function")
            m._version = o._version
            wrapped[k] = m
        for t in dirty:
            if t._view is None:  # a view's counter was bumped by _rebase's in-place write
                t._version[0] += 1
        return wrapped[0] if single else tuple(wrapped)

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode "
            "AD (descend has no forward-mode AD: Function.jvp is not supported)."
        )

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True (descend has no vmap: Function.vmap is not supported)."
        )


def _rebase(t, made):
    """Make the dirty input `t` (changed in place by forward) output `made._nr` of the new node, as
    PyTorch rebases its history: a view's base gets a CopySlices node through the in-place path."""
    if t._view is not None:
        from ..ops.inplace import _apply_to_view

        return _apply_to_view(t, lambda _snapshot: made, (), {})
    t.grad_fn = made.grad_fn
    t._requires_grad = True
    t._nr = made._nr
    return t


def once_differentiable(fn):
    """Accepted for compatibility: descend's backward never builds a graph (no double backward)."""
    return fn
