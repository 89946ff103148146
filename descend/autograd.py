"""Reverse-mode automatic differentiation: grad mode, graph nodes, and backward.

A differentiable operation computes its output in NumPy and calls `record`, handing over one
vector-Jacobian product (VJP) per input. `record` wraps the output in a Tensor and, when grad mode
is on and an input requires grad, links it to a `Node` holding those VJPs. `backward` walks the
nodes in reverse topological order with an explicit stack (no recursion, so a chain of a million
operations works) and accumulates gradients into the leaves' `.grad`.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

__all__ = [
    "Node",
    "backward",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "record",
    "set_grad_enabled",
    "unbroadcast",
]


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for backward."""
    return _GradMode.enabled


class _GradModeContext:
    """Base of `no_grad` / `enable_grad`: a context manager that also works as a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that turns off graph recording.

    Example:
        >>> w = descend.tensor(1.0, requires_grad=True)
        >>> with descend.no_grad():
        ...     w -= 0.1 * 2.0
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns graph recording back on inside `no_grad`."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Context manager that sets grad mode to `mode` (also usable as a plain call)."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class Node:
    """One recorded operation: its inputs, one VJP per input, and the tensors its VJPs read.

    `grad_fn` of a non-leaf tensor is its Node; `name()` gives PyTorch's name (`PowBackward0`).
    """

    __slots__ = ("_name", "parents", "vjps", "saved", "versions", "retained", "saved_output", "__weakref__")

    def __init__(self, name, parents, vjps, saved):
        self._name = name
        self.parents = parents
        self.vjps = vjps
        self.saved = saved
        self.versions = tuple([t._version[0] for t in saved])
        self.retained = None
        self.saved_output = None  # the output's version counter, when the VJPs read the output

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self):
        if self.parents is None:
            return ()
        return tuple((p.grad_fn, 0) if p._requires_grad else (None, 0) for p in self.parents)

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"


def record(name, data, parents, vjps, saved=(), save_output=False):
    """Wrap `data` in a Tensor and, when needed, record how to differentiate it.

    Args:
        name: PyTorch's name for the backward node, e.g. "MulBackward0".
        data: the forward result (a NumPy array or scalar).
        parents: tuple of input Tensors.
        vjps: tuple of callables, one per parent: `vjp(g) -> gradient for that parent`, where `g` is
            the gradient of the output; `None` for a parent that can never need a gradient.
        saved: tensors whose data the VJPs read; backward refuses to run if one of them was
            modified in place after this call (a version counter, as in PyTorch).
        save_output: the VJPs read the output's data (exp, tanh, sqrt, softmax...): backward refuses
            to run if the output was modified in place afterwards.

    Returns:
        The output Tensor.
    """
    if _GradMode.enabled:
        for p in parents:
            if p._requires_grad:
                return attach(name, data, parents, vjps, saved, save_output)
    return _new_tensor(data)


def attach(name, data, parents, vjps, saved=(), save_output=False):
    """`record` for a caller that already knows a graph node is needed (grad mode on, an input
    requiring grad): the hot path of the binary operators."""
    out = _new_tensor(data)
    out._requires_grad = True
    node = out.grad_fn = Node(name, parents, vjps, saved)
    if save_output:
        node.saved_output = out._version
    return out


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, giving it `shape`.

    The one place where binary operations reduce a broadcast gradient back to an input's shape.
    """
    if grad.shape == shape:
        return grad
    if not shape:  # a scalar operand: everything sums
        return np.add.reduce(grad, axis=None)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = np.add.reduce(grad, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = np.add.reduce(grad, axis=axes, keepdims=True)
    if grad.shape != shape:  # a 0-d target broadcast to nothing, or a size-1 axis kept by numpy
        grad = grad.reshape(shape)
    return grad


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward(). Specify retain_graph=True if you need to backward through the graph a second time."
)


def _count_consumers(root):
    """For each node reachable from `root`, how many gradient-carrying edges lead into it.

    Edges are counted exactly as backward follows them (a VJP, into a tensor requiring grad), so
    every count reaches zero.
    """
    consumers = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.vjps is None:
            raise RuntimeError(_FREED)
        for p, vjp in zip(node.parents, node.vjps):
            fn = p.grad_fn
            if fn is not None and vjp is not None and p._requires_grad:
                if fn in consumers:
                    consumers[fn] += 1
                else:
                    consumers[fn] = 1
                    stack.append(fn)
    return consumers


def _modified_error(node, t, v):
    what = "its output" if t is None else f"[{t.dtype} tensor of shape {tuple(t.shape)}]"
    now = node.saved_output[0] if t is None else t._version[0]
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what}, used by {node._name}, is at version {now}; expected version {v} "
        "instead. Do the in-place change after backward(), or use an out-of-place operation "
        "(x = x + y instead of x += y)."
    )


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into the `.grad` of every leaf that requires grad.

    Non-recursive: nodes are visited in reverse topological order from an explicit stack.
    Gradients accumulate (add to an existing `.grad`) as PyTorch documents.
    """
    if not root._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(root.shape)}: pass backward(gradient=...) with a tensor of that shape"
            )
        seed = np.ones(root._data.shape, root._data.dtype)
    else:
        seed = np.asarray(getattr(gradient, "_data", gradient), dtype=root._data.dtype)
        if seed.shape != root._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {tuple(seed.shape)} and output[0] has "
                f"a shape of {tuple(root.shape)}."
            )
    if root.grad_fn is None:  # a leaf: d(root)/d(root) = gradient
        _accumulate_leaves({root: seed}, {id(seed)})
        return

    # Reverse topological order without recursion: a node runs once every node that consumes it
    # has handed it its gradient (Kahn's algorithm over the counts of consumers).
    consumers = _count_consumers(root.grad_fn)
    grads = {root.grad_fn: seed}
    leaf_grads = {}
    ready = [root.grad_fn]
    pop_grad, next_node, schedule = grads.pop, ready.pop, ready.append
    while ready:
        node = next_node()
        g = pop_grad(node)
        if node.saved:
            for t, v in zip(node.saved, node.versions):
                if t._version[0] != v:
                    _modified_error(node, t, v)
        if node.saved_output is not None and node.saved_output[0] != 0:
            _modified_error(node, None, 0)
        if node.retained is not None:
            t = node.retained()
            if t is not None:
                t._grad = _wrap_grad(g.copy() if t._grad is None else t._grad._data + g)
        for p, vjp in zip(node.parents, node.vjps):
            if vjp is None or not p._requires_grad:
                continue
            pg = vjp(g)
            fn = p.grad_fn
            if fn is None:
                prev = leaf_grads.get(p)
                # Never add in place: `prev` may be an array another VJP passed through unchanged.
                leaf_grads[p] = pg if prev is None else prev + pg
            else:
                prev = grads.get(fn)
                grads[fn] = pg if prev is None else prev + pg
                left = consumers[fn] - 1
                consumers[fn] = left
                if not left:
                    schedule(fn)
        if not retain_graph:  # free what the VJPs hold; a later backward through here raises
            node.vjps = None
            node.saved = ()
            node.parents = ()
    _accumulate_leaves(leaf_grads, {id(seed)})


def _accumulate_leaves(leaf_grads, foreign):
    """Add each leaf's gradient into its `.grad`, copying arrays that are not exclusively ours."""
    taken = set(foreign)
    for leaf, g in leaf_grads.items():
        data = leaf._data
        if type(g) is not np.ndarray:  # NumPy returns scalars, not 0-d arrays, from 0-d arithmetic
            g = np.asarray(g)
        if g.shape != data.shape:
            g = unbroadcast(g, data.shape)
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        if leaf._grad is None:
            if id(g) in taken or not g.flags.owndata or not g.flags.writeable:
                g = g.copy()
            taken.add(id(g))
            leaf._grad = _wrap_grad(g)
        else:
            acc = leaf._grad._data
            np.add(acc, g, out=acc)
            leaf._grad._version[0] += 1


def register_retain(tensor):
    """Make backward store the gradient of the non-leaf `tensor` in its `.grad`."""
    tensor.grad_fn.retained = weakref.ref(tensor)


# Set by tensor.py once Tensor exists (tensor.py imports this module first).
_new_tensor = None
_wrap_grad = None
