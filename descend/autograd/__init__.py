"""Reverse-mode automatic differentiation: grad mode, graph nodes, and backward.

A differentiable operation computes its output in NumPy and calls `record`, handing over one
vector-Jacobian product (VJP) per input. `record` wraps the output in a Tensor and, when grad mode
is on and an input requires grad, links it to a `Node` holding those VJPs and the *edges* to the
nodes that made its inputs, captured when the operation runs (so a later in-place change of an
input, which gives that tensor a new history, never reroutes an earlier node's gradient).
`backward` walks the nodes in reverse topological order with an explicit stack (no recursion, so a
chain of a million operations works) and accumulates gradients into the leaves' `.grad`.

Grad mode is per thread, as in PyTorch: a `no_grad` evaluator in one thread never turns recording
off for a training loop in another.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import threading
import weakref

import numpy as np

__all__ = [
    "AccumulateGrad",
    "Function",
    "FunctionCtx",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "record",
    "set_grad_enabled",
    "unbroadcast",
]


# --- grad mode (thread-local) ---


class _ThreadGradMode(threading.local):
    """Per-thread switches: `enabled` (record operations) and `inference` (inference_mode)."""

    def __init__(self):
        self.enabled = True
        self.inference = False


_GradMode = _ThreadGradMode()


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for backward (in this thread)."""
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    """Whether `inference_mode` is active in this thread."""
    return _GradMode.inference


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that also works as a decorator.

    As a decorator it wraps plain functions and generator functions alike: the mode holds while the
    generator's body runs, and the caller's mode is back in force whenever the generator yields.
    """

    _mode = True

    # NOTE: only the `enabled` switch on enter and exit: `with no_grad():` runs every training step.
    def __enter__(self):
        mode = _GradMode
        self._prev = mode.enabled
        mode.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.clone():
                    request = gen.send(None)
                while True:
                    try:
                        response = yield request
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:  # noqa: B036 - forward throw() into the body
                        with self.clone():
                            request = gen.throw(e)
                    else:
                        with self.clone():
                            request = gen.send(response)

            return _finish_generator(generator)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper


def _finish_generator(generator):
    """Turn the generator's StopIteration into a normal return (PEP 479 would make it an error)."""

    @functools.wraps(generator)
    def wrapper(*args, **kwargs):
        gen = generator(*args, **kwargs)
        try:
            value = yield from gen
        except RuntimeError as e:
            if isinstance(e.__cause__, StopIteration):
                return e.__cause__.value
            raise
        return value

    return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that turns off graph recording in this thread.

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
    """Set grad mode to `mode`: as a plain call (takes effect at once), a context manager or a decorator.

    Example:
        >>> with descend.set_grad_enabled(False):
        ...     y = x * 2          # not recorded
    """

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._mode  # PyTorch: the call itself sets the mode

    def __enter__(self):
        return self

    def clone(self):
        restore = _GradMode.enabled
        new = set_grad_enabled(self._mode)
        _GradMode.enabled = restore  # a clone is only entered later, as a context
        new._prev = None
        return _Entering(new._mode)

    def __call__(self, fn):
        # As a decorator, the mode applies inside `fn` only: undo the constructor's global switch.
        _GradMode.enabled = self._prev
        return super().__call__(fn)


class _Entering(_GradModeContext):
    def __init__(self, mode):
        self._mode = mode


class inference_mode(_GradModeContext):
    """Like `no_grad`, for code that will never need gradients (evaluation, serving).

    Nothing inside is recorded; `descend.is_inference_mode_enabled()` tells code inside that it runs
    in inference mode. (PyTorch also skips version counting for inference tensors; descend's counters
    are cheap enough to keep, so tensors made inside behave as tensors made under `no_grad`.)

    Example:
        >>> with descend.inference_mode():
        ...     y = model(x)
    """

    def __init__(self, mode: bool = True):
        self._mode = not mode
        self._inference = bool(mode)

    def __enter__(self):
        self._prev = (_GradMode.enabled, _GradMode.inference)
        _GradMode.enabled, _GradMode.inference = self._mode, self._inference
        return self

    def __exit__(self, *exc):
        _GradMode.enabled, _GradMode.inference = self._prev
        return False

    def clone(self):
        return inference_mode(self._inference)

    def __call__(self, fn=None):
        if isinstance(fn, bool):  # @inference_mode(False) already built; a bool here is a misuse
            raise TypeError("inference_mode(mode) takes a bool; decorate with @inference_mode()")
        return super().__call__(fn)


# --- graph nodes ---

_next_seq = itertools.count().__next__


class Node:
    """One recorded operation: the edges to its inputs' nodes, one VJP per input, and what it saved.

    `grad_fn` of a non-leaf tensor is its Node; `name()` gives PyTorch's name (`PowBackward0`) and
    `next_functions` PyTorch's `((node, output_nr), ...)`, with `AccumulateGrad` for leaves.

    `next[i]` is the Node that made input i, the leaf Tensor itself, or None when no gradient flows
    there; `next_nr[i]` (None when all are 0) is which output of a multi-output node input i was.
    A node with several outputs (`unbind`, custom Functions) has `n_out > 1`; its VJPs then take
    the list of the outputs' gradients.

    What few nodes have (hooks, retained gradients, several outputs' shapes) lives in `extra`, None
    until needed. NOTE: four fields in one: a node is made per operation, and backward tests one.
    """

    __slots__ = ("_name", "next", "next_nr", "vjps", "saved", "versions", "saved_output", "n_out",
                 "extra", "seq", "__weakref__")

    def __init__(self, name, next_, vjps, saved=(), next_nr=None, n_out=1):
        self.seq = _next_seq()  # creation order: backward runs the latest made of its ready nodes first
        self._name = name
        self.next = next_
        self.next_nr = next_nr
        self.vjps = vjps
        self.saved = saved
        # NOTE: one or two saved tensors without a comprehension (its frame costs more than the rest)
        if not saved:
            self.versions = ()
        elif len(saved) == 1:
            self.versions = (saved[0]._version[0],)
        else:
            self.versions = tuple([t._version[0] for t in saved])
        self.saved_output = None  # (version counter, expected) of the output, when the VJPs read it
        self.n_out = n_out
        self.extra = None  # a _NodeExtra once a hook, a retained gradient or several outputs need one

    def name(self) -> str:
        return self._name

    def _extra(self):
        if self.extra is None:
            self.extra = _NodeExtra()
        return self.extra

    @property
    def hooks(self):
        return None if self.extra is None else self.extra.hooks

    @property
    def retained(self):
        return None if self.extra is None else self.extra.retained

    @property
    def out_meta(self):
        return None if self.extra is None else self.extra.out_meta

    @property
    def next_functions(self):
        if self.next is None:
            return ()
        nrs = self.next_nr or (0,) * len(self.next)
        return tuple(
            (None, 0) if e is None else ((_accumulator(e), 0) if type(e) is not Node else (e, k))
            for e, k in zip(self.next, nrs)
        )

    def register_hook(self, hook):
        """Call `hook(grad_inputs, grad_outputs)` after this node's VJPs ran (PyTorch's Node hook)."""
        return _add_hook(self, -1, hook)

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"


class _NodeExtra:
    """The rarely used parts of a Node."""

    __slots__ = ("out_meta", "retained", "hooks", "materializes")

    def __init__(self):
        self.out_meta = None  # [(shape, dtype)] of each output, for multi-output nodes
        self.retained = None  # {output_nr: weakref to the tensor whose .grad is kept}
        self.hooks = None  # {output_nr: [hook(grad) -> grad or None]}
        self.materializes = False  # run the VJPs on zeros when no gradient arrived (custom Functions)


class AccumulateGrad:
    """The node PyTorch shows for a leaf in `next_functions`; `.variable` is the leaf tensor."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class _ByIdentity:
    """A weak mapping keyed by object identity (tensors compare elementwise, so `==` can't key a dict)."""

    def __init__(self):
        self._items = {}

    def __bool__(self):
        return bool(self._items)

    def get(self, key, default=None):
        item = self._items.get(id(key))
        return default if item is None or item[0]() is not key else item[1]

    def __contains__(self, key):
        return self.get(key) is not None

    def __getitem__(self, key):
        return self._items[id(key)][1]

    def __setitem__(self, key, value):
        k = id(key)
        self._items[k] = (weakref.ref(key, lambda _, k=k: self._items.pop(k, None)), value)


_ACCUMULATORS = _ByIdentity()


def _accumulator(leaf):
    acc = _ACCUMULATORS.get(leaf)
    if acc is None:
        acc = AccumulateGrad(leaf)
        _ACCUMULATORS[leaf] = acc
    return acc


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` takes the hook out again."""

    def __init__(self, hooks, hook):
        self._hooks = weakref.ref(hooks) if not isinstance(hooks, list) else (lambda: hooks)
        self._hook = hook

    def remove(self):
        hooks = self._hooks()
        if hooks is not None and self._hook in hooks:
            hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(node, output_nr, hook):
    extra = node._extra()
    if extra.hooks is None:
        extra.hooks = {}
    hooks = extra.hooks.setdefault(output_nr, [])
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


# Hooks on leaves, keyed weakly by the leaf: run on the leaf's gradient before it accumulates.
_LEAF_HOOKS = _ByIdentity()


def register_tensor_hook(tensor, hook):
    """`tensor.register_hook(hook)`: `hook(grad)` runs when this tensor's gradient is computed and
    may return a replacement gradient."""
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is None:
        return _append_hook(_LEAF_HOOKS, tensor, hook)
    return _add_hook(tensor.grad_fn, _nr(tensor), hook)


def _append_hook(registry, tensor, hook):
    """Add `hook` to `tensor`'s list in `registry` (a _ByIdentity); its handle's remove() takes it out."""
    hooks = registry.get(tensor)
    if hooks is None:
        hooks = []
        registry[tensor] = hooks
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _nr(t):
    """Which output of its node `t` is (0 unless the node has several outputs)."""
    return t._nr if t.grad_fn is not None and t.grad_fn.n_out != 1 else 0


def _edges(parents):
    """(next, next_nr) for a node whose inputs are `parents`, taken now, as PyTorch takes them."""
    nxt = []
    nrs = None
    for i, p in enumerate(parents):
        v = p._view
        if v is not None and v[2] != p._version[0]:
            _refresh_view(p)
        if not p._requires_grad:
            nxt.append(None)
            continue
        fn = p.grad_fn
        if fn is None:
            nxt.append(p)
        else:
            nxt.append(fn)
            if fn.n_out != 1:
                if nrs is None:
                    nrs = [0] * len(parents)
                nrs[i] = p._nr
    return tuple(nxt), (tuple(nrs) if nrs is not None else None)


def record(name, data, parents, vjps, saved=(), save_output=False, view_of=None, view_fn=None):
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
        view_of: for view operations (slicing, transpose, reshape...), the input whose storage the
            output shares; the output then shares its version counter and can write through.
        view_fn: with `view_of`, the NumPy function that makes the view from the input's array.

    Returns:
        The output Tensor.
    """
    if _GradMode.enabled:
        for p in parents:
            if p._requires_grad or (p._view is not None and revive(p)):
                out = attach(name, data, parents, vjps, saved, save_output)
                if view_of is not None:
                    _mark_view(out, view_of, view_fn)
                return out
    out = _new_tensor(data)
    if view_of is not None:
        _mark_view(out, view_of, view_fn)
    return out


def attach(name, data, parents, vjps, saved=(), save_output=False):
    """`record` for a caller that already knows a graph node is needed (grad mode on, an input
    requiring grad): the hot path of the binary operators."""
    out = _new_tensor(data)
    out._requires_grad = True
    # NOTE: the edges of one or two inputs inline (the binary ops' hot path), outputs of multi-output
    # nodes (`a, b, c = params`) included; _edges for the rest (views to refresh, more inputs).
    n = len(parents)
    if n == 1:
        p = parents[0]
        fn = p.grad_fn
        v = p._view
        if v is None or v[2] == p._version[0]:
            if fn is None:
                node = Node(name, (p if p._requires_grad else None,), vjps, saved)
            else:
                node = Node(name, (fn,), vjps, saved, None if fn.n_out == 1 else (p._nr,))
        else:
            nxt, nrs = _edges(parents)
            node = Node(name, nxt, vjps, saved, nrs)
    elif n == 2:
        p, q = parents
        fp, fq = p.grad_fn, q.grad_fn
        vp, vq = p._view, q._view
        # a view whose base has not changed since its history was set needs no refresh
        if (vp is None or vp[2] == p._version[0]) and (vq is None or vq[2] == q._version[0]):
            mp = fp is not None and fp.n_out != 1
            mq = fq is not None and fq.n_out != 1
            node = Node(name, ((p if p._requires_grad else None) if fp is None else fp,
                               (q if q._requires_grad else None) if fq is None else fq), vjps, saved,
                        (p._nr if mp else 0, q._nr if mq else 0) if mp or mq else None)
        else:
            nxt, nrs = _edges(parents)
            node = Node(name, nxt, vjps, saved, nrs)
    else:
        nxt, nrs = _edges(parents)
        node = Node(name, nxt, vjps, saved, nrs)
    out.grad_fn = node
    if save_output:
        node.saved_output = (out._version, 0)
    return out


def attach_multi(name, datas, parents, vjp_all, materializes=False):
    """Record one node with several outputs (`unbind`, custom Functions).

    `vjp_all(grads)` gets one gradient per output (zeros for outputs that received none) and returns
    one gradient (or None) per parent. With `materializes` (custom Functions, as in PyTorch) it runs
    on zeros even when no output received a gradient; otherwise such a node passes nothing on.
    Returns the output tensors.
    """
    nxt, nrs = _edges(parents)
    n = len(parents)
    single = len(datas) == 1
    if n == 1 and not single:  # one input (unbind): no sharing of results between VJPs needed
        vjps = (lambda grads: vjp_all(grads)[0],)
    else:
        cache = {}

        def per_parent(i):
            def vjp(grads):
                if single:  # a one-output node gets its gradient bare; vjp_all always takes a list
                    grads = [grads]
                key = id(grads) if not single else id(grads[0])
                if key not in cache:
                    cache.clear()
                    cache[key] = vjp_all(grads)
                return cache[key][i]

            return vjp

        vjps = tuple([per_parent(i) for i in range(n)])
    node = Node(name, nxt, vjps, (), nrs, n_out=len(datas))
    outs, meta = [], []
    for k, d in enumerate(datas):
        o = _new_tensor(d)
        o._requires_grad = True
        o.grad_fn = node
        o._nr = k
        outs.append(o)
        meta.append((o._data.shape, o._data.dtype))
    extra = node._extra()
    extra.out_meta = meta
    extra.materializes = materializes
    return outs


# --- views ---


def _mark_view(out, base, fn):
    """Make `out` a view of `base`: one storage, one version counter, and a way back to the base."""
    info = base._view
    if info is not None:  # a view of a view: keep the root base and compose the functions
        root, first = info[0], info[1]
        composed = lambda a: fn(first(a))  # noqa: E731
        out._view = (root, composed, base._version[0])
    else:
        out._view = (base, fn, base._version[0])
    out._version = base._version
    multi = getattr(base, "_multi", None)
    if multi:  # a view of a multi-output view (or of a custom Function's view) inherits the refusal
        out._multi = True if multi is True or len(multi) == 2 else (None, 0, multi[2])


# Why PyTorch refuses to change some views in place (`Tensor._multi`'s third item; "multi" if absent).
_REFUSALS = {
    "multi": "This view is the output of a function that returns multiple views. Such functions do not "
    "allow the output views to be modified inplace. You should replace the inplace operation by an "
    "out-of-place one.",
    "function": "This view was created inside a custom Function (or because an input was returned "
    "as-is) and the autograd logic to handle view+inplace would override the custom backward "
    "associated with the custom Function, leading to incorrect gradients. This behavior is forbidden. "
    "You can fix this by cloning the output of the custom Function.",
}


def view_refusal(t, what):
    """PyTorch's error for changing the view `t` (marked `_multi`) in place: `what` says how."""
    multi = t._multi
    if multi is True:
        multi = (None, 0)
    name, k = multi[0], multi[1]
    if name is None:  # a view of such a view: the last view op's name, output 0
        name = t.grad_fn.name().rstrip("0123456789").removesuffix("Backward")
    why = _REFUSALS[multi[2] if len(multi) > 2 else "multi"]
    return RuntimeError(f"Output {k} of {name} is a view and {what}. {why}")


def _view_index(info):
    """The flat positions in the base of each element of a view (an int array of the view's shape)."""
    root, fn = info[0], info[1]
    return np.asarray(fn(np.arange(root._data.size).reshape(root._data.shape)))


def revive(view):
    """Whether a view requires grad once its history is brought up to date: a view of a tensor that
    gained a history by an in-place op after the view was made (`buf.copy_(w)`) requires grad too."""
    root, _, version = view._view
    if version != view._version[0] and root._requires_grad:
        view_to_base_node(view)
    return view._requires_grad


def _refresh_view(view):
    """After an in-place change of its base (or of another view of it), a view's history is the
    base's new history seen through the view, as PyTorch regenerates it."""
    root, _, version = view._view
    if version != view._version[0] and root._requires_grad:
        view_to_base_node(view)


def view_to_base_node(view):
    """Give `view` a fresh grad_fn that reads its gradient out of its base's (AsStridedBackward0).

    PyTorch refuses this for a view that an op returning several views made (unbind, split,
    chunk) or a view of one: its history can't be regenerated once its base changed.
    """
    multi = getattr(view, "_multi", None)
    if multi and view._requires_grad:
        raise view_refusal(view, "its base or another view of its base has been modified inplace")
    root, fn, _ = view._view
    idx = _view_index(view._view)
    shape, dtype = root._data.shape, root._data.dtype
    overlap = np.unique(idx).size != idx.size

    def vjp(g):
        flat = np.zeros(root_size, dtype=np.result_type(g, dtype))
        if overlap:
            np.add.at(flat, idx.reshape(-1), np.reshape(g, -1))
        else:
            flat[idx.reshape(-1)] = np.reshape(g, -1)
        return flat.reshape(shape)

    root_size = root._data.size
    nxt, nrs = _edges_of_root(root)
    old_fn, old_nr = view.grad_fn, _nr(view)
    view.grad_fn = Node("AsStridedBackward0", nxt, (vjp,), (), nrs)
    if old_fn is not None and old_fn.retained:
        move_retain(view, old_fn, old_nr)
    view._requires_grad = True
    view._view = (root, fn, view._version[0])


def _edges_of_root(root):
    fn = root.grad_fn
    if fn is None:
        return (root,), None
    return (fn,), ((root._nr,) if fn.n_out != 1 else None)


# --- backward ---


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


def _count_consumers(roots):
    """For each node reachable from `roots`, how many gradient-carrying edges lead into it.

    Edges are counted exactly as backward follows them (a VJP, into a node), so every count
    reaches zero.
    """
    consumers = {}
    stack = []
    for r in roots:
        if r not in consumers:
            consumers[r] = 0
            stack.append(r)
    while stack:
        node = stack.pop()
        if node.vjps is None:
            raise RuntimeError(_FREED)
        for e, vjp in zip(node.next, node.vjps):
            if vjp is not None and type(e) is Node:
                if e in consumers:
                    consumers[e] += 1
                else:
                    consumers[e] = 1
                    stack.append(e)
    return consumers


def _modified_error(node, t, v):
    what = "its output" if t is None else f"[{t.dtype} tensor of shape {tuple(t.shape)}]"
    now = node.saved_output[0][0] if t is None else t._version[0]
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what}, used by {node._name}, is at version {now}; expected version {v} "
        "instead. Hint: do the in-place change after backward(), or use an out-of-place operation "
        "(x = x + y instead of x += y)."
    )


_ONE = {}  # dtype -> that dtype's scalar 1 (scalars are immutable: one each will do)


def _seed(root, gradient, i=0):
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(root.shape)}: pass backward(gradient=...) with a tensor of that shape"
            )
        data = root._data
        if data.ndim == 0:
            # NOTE: a NumPy scalar, so the VJPs of a 0-d loss run scalar arithmetic (~100 ns an op
            # against ~900 ns on 0-d arrays); np.ones alone costs 1.6 us here
            one = _ONE.get(data.dtype)
            if one is None:
                one = _ONE[data.dtype] = data.dtype.type(1)
            return one
        seed = np.empty(data.shape, data.dtype)
        seed.fill(1)
        return seed
    seed = np.asarray(getattr(gradient, "_data", gradient), dtype=root._data.dtype)
    if seed.shape != root._data.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(seed.shape)} and output[{i}] has "
            f"a shape of {tuple(root.shape)}."
        )
    return seed


def _add(prev, g):
    # Never add in place: `prev` may be an array another VJP passed through unchanged.
    return g if prev is None else prev + g


def _run_hooks(hooks, g):
    for hook in tuple(hooks):
        new = hook(_wrap_grad(g))
        if new is not None:
            new_arr = getattr(new, "_data", new)
            if np.shape(new_arr) != np.shape(g):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: expected "
                    f"{tuple(np.shape(g))}, got {tuple(np.shape(new_arr))}"
                )
            g = np.asarray(new_arr)
    return g


def _quiet_floats():
    """(context variable, value) that silence NumPy's floating-point warnings while set, or None.

    NOTE: NumPy 2 keeps its error state in a context variable: setting and resetting it to the state
    of `errstate(all="ignore")` costs 1.7k instructions (callgrind), a sixth of a fresh `errstate`'s
    10.3k; with run_backward's extra call it is about 2% of a `(w - 3) ** 2` step.
    """
    try:
        from numpy._core._multiarray_umath import _extobj_contextvar
    except ImportError:  # NumPy 1.x: run_backward falls back to np.errstate
        return None
    with np.errstate(all="ignore"):
        return _extobj_contextvar, _extobj_contextvar.get()


_QUIET = _quiet_floats()


def run_backward(roots, seeds, retain_graph=False, inputs=None, accumulate=True):
    """Propagate `seeds` (one per root tensor) back through the graph.

    With `accumulate`, leaf gradients are added into `.grad` (of `inputs` only, when given); without
    it (`autograd.grad`), nothing is written and the gradients of `inputs` are returned, in order
    (None where no gradient reached one).

    VJPs run with NumPy's floating-point warnings off: PyTorch's backward gives inf and NaN silently
    (1 / x at 0, inf - inf in a gradient's sum), and so does descend's.
    """
    if _QUIET is None:
        with np.errstate(all="ignore"):
            return _run_backward(roots, seeds, retain_graph, inputs, accumulate)
    var, quiet = _QUIET
    token = var.set(quiet)
    try:
        return _run_backward(roots, seeds, retain_graph, inputs, accumulate)
    finally:
        var.reset(token)


def _run_backward(roots, seeds, retain_graph, inputs, accumulate):
    want = None
    if inputs is not None:
        want = {}
        for t in inputs:
            key = t if t.grad_fn is None else (t.grad_fn, _nr(t))
            want[key] = None
    leaf_grads = {}
    grads = {}
    if len(roots) == 1:  # NOTE: the usual loss.backward(), without the bookkeeping of several roots
        r = roots[0]
        if r._view is not None:
            _refresh_view(r)
        fn = r.grad_fn
        if fn is None:
            leaf_grads[r] = seeds[0]
            node_roots = ()
        else:
            node_roots = (fn,)
            if fn.n_out == 1:
                grads[fn] = seeds[0]
            else:
                _give(grads, fn, _nr(r), seeds[0])
    else:
        node_roots = []
        for r, s in zip(roots, seeds):
            if r._view is not None and r._requires_grad:
                _refresh_view(r)
            fn = r.grad_fn
            if fn is None:  # a leaf: d(root)/d(root) = gradient
                leaf_grads[r] = _add(leaf_grads.get(r), s)
                continue
            node_roots.append(fn)
            _give(grads, fn, _nr(r), s)
        node_roots = tuple(dict.fromkeys(node_roots))

    # Reverse topological order without recursion: a node runs once every node that consumes it
    # has handed it its gradient (Kahn's algorithm over the counts of consumers). A root that another
    # root's graph also reaches waits for that gradient too.
    # NOTE: from one root, the counts wait until a node sends gradients to two different nodes: up
    # to there the graph is a chain, every node's only consumer has run, and it can run next. The
    # tutorials' (w - 3) ** 2 never counts (a counting pass costs about as much as the walk);
    # the quadratic fit counts from its first `+`.
    # Among the nodes ready to run, the one made last runs first, as in PyTorch's engine: so a
    # gradient that several consumers feed sums their contributions in PyTorch's order, and float32
    # sums round as PyTorch's do.
    consumers = None
    ready = []  # heap of (-node.seq, node) while counting
    node = node_roots[0] if len(node_roots) == 1 else None
    if len(node_roots) > 1:
        consumers = _count_consumers(node_roots)
        ready = [(-fn.seq, fn) for fn in node_roots if consumers[fn] == 0]
        heapq.heapify(ready)
        node = heapq.heappop(ready)[1]
    pop_grad = grads.pop
    while node is not None:
        g = pop_grad(node, None)
        vjps = node.vjps
        if vjps is None:
            raise RuntimeError(_FREED)
        extra = node.extra
        if g is None and extra is not None and extra.materializes:
            g = [np.zeros(s, d) for s, d in extra.out_meta]  # a custom Function runs on zeros
            if node.n_out == 1:
                g = g[0]
        if g is not None:
            if node.saved:
                for t, v in zip(node.saved, node.versions):
                    if t._version[0] != v:
                        _modified_error(node, t, v)
            so = node.saved_output
            if so is not None and so[0][0] != so[1]:
                _modified_error(node, None, so[1])
            if extra is not None:
                if node.n_out != 1:
                    g = [np.zeros(s, d) if x is None else x for x, (s, d) in zip(g, extra.out_meta)]
                if extra.hooks is not None or extra.retained is not None or want is not None:
                    g = _visit(node, g, want)
            elif want is not None:
                g = _visit(node, g, want)
        # else: every consumer's VJP gave None (a custom Function's backward): like PyTorch, this
        # node passes nothing on, but its inputs' nodes are still counted down
        nxt, nrs = node.next, node.next_nr
        kid = None
        branches = False
        for i, vjp in enumerate(vjps):
            e = nxt[i]
            if vjp is None or e is None:
                continue
            pg = None if g is None else vjp(g)
            if type(e) is Node:
                if pg is not None:
                    if e.n_out == 1:
                        prev = grads.get(e)
                        grads[e] = pg if prev is None else prev + pg
                    else:  # output nrs[i] of a multi-output node
                        _give(grads, e, nrs[i], pg)
                if consumers is None:
                    if kid is None:
                        kid = e
                    elif kid is not e:
                        branches = True
                else:
                    left = consumers[e] - 1
                    consumers[e] = left
                    if not left:
                        heapq.heappush(ready, (-e.seq, e))
            elif pg is not None:
                prev = leaf_grads.get(e)
                leaf_grads[e] = pg if prev is None else prev + pg
        following = None
        if consumers is None and kid is not None:
            if branches:  # count from here: the nodes this one fed are the roots of what is left
                kids = tuple(dict.fromkeys(e for e, v in zip(nxt, vjps) if v is not None and type(e) is Node))
                consumers = _count_consumers(kids)
                ready = [(-e.seq, e) for e in kids if consumers[e] == 0]
                heapq.heapify(ready)
            else:
                following = kid
        if extra is not None and g is not None and extra.hooks is not None and -1 in extra.hooks:
            for hook in tuple(extra.hooks[-1]):
                hook((), g)
        if not retain_graph:  # free what the VJPs hold; a later backward through here raises
            node.vjps = None
            node.saved = ()
            # NOTE: the edges go too, unlike PyTorch, which keeps the graph's structure: a learner's
            # `losses.append(loss)` would otherwise keep every step's nodes alive (about 1 KB a step
            # on the tutorial loop). Draw a graph after backward with backward(retain_graph=True).
            node.next = ()
        node = following if following is not None else (heapq.heappop(ready)[1] if ready else None)
    if want is not None:
        if not accumulate:
            for leaf, g in leaf_grads.items():
                if leaf in want:
                    if leaf in _LEAF_HOOKS:
                        g = _run_hooks(_LEAF_HOOKS[leaf], g)
                    want[leaf] = _shaped(g, leaf)
            keys = [t if t.grad_fn is None else (t.grad_fn, _nr(t)) for t in inputs]
            return [None if want[k] is None else _wrap_grad(want[k].copy()) for k in keys]
        leaf_grads = {k: v for k, v in leaf_grads.items() if k in want}
        for t in inputs:  # a non-leaf named in `inputs`: its gradient goes to its `.grad`
            if t.grad_fn is not None:
                g = want[(t.grad_fn, _nr(t))]
                if g is not None:
                    t._grad = _wrap_grad(g if t._grad is None else t._grad._data + g)
    _accumulate_leaves(leaf_grads, seeds)
    return None


def _give(grads, node, k, g):
    if node.n_out == 1:
        grads[node] = _add(grads.get(node), g)
        return
    lst = grads.get(node)
    if lst is None:
        lst = grads[node] = [None] * node.n_out
    lst[k] = _add(lst[k], g)


def _visit(node, g, want):
    """Tensor hooks, retained gradients and `autograd.grad` captures at a node's outputs."""
    outs = range(node.n_out)
    for k in outs:
        gk = g if node.n_out == 1 else g[k]
        if node.hooks is not None and k in node.hooks:
            gk = _run_hooks(node.hooks[k], gk)
        if node.retained is not None and k in node.retained:
            t = node.retained[k]()
            if t is not None:
                t._grad = _wrap_grad(gk.copy() if t._grad is None else t._grad._data + gk)
        if want is not None and (node, k) in want:
            want[(node, k)] = np.array(gk, copy=True)
        if node.n_out == 1:
            g = gk
        else:
            g[k] = gk
    return g


def _shaped(g, like):
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.shape != like._data.shape:
        g = unbroadcast(g, like._data.shape)
    if g.dtype != like._data.dtype:
        g = g.astype(like._data.dtype)
    return g


_EMPTY_INPUTS = "`inputs` argument to `{}()` cannot be empty."


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate the gradients of `tensors` (one or several roots) into the `.grad` of every leaf
    that requires grad (of `inputs` only, leaves or not, when given), as `torch.autograd.backward`.

    `grad_tensors`: one gradient per root (None for a scalar root: 1). Gradients accumulate (add to
    an existing `.grad`) as PyTorch documents. Non-recursive: nodes are visited in reverse
    topological order.
    """
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by descend")
    if grad_variables is not None and grad_tensors is None:
        grad_tensors = grad_variables
    if _is_tensor(tensors):
        roots = [tensors]
        grads = [grad_tensors[0] if isinstance(grad_tensors, (list, tuple)) else grad_tensors]
    else:
        roots = list(tensors)
        if grad_tensors is None:
            grads = [None] * len(roots)
        elif _is_tensor(grad_tensors):
            grads = [grad_tensors]
        else:
            grads = list(grad_tensors)
        if len(grads) != len(roots):
            raise RuntimeError(f"got {len(grads)} tensors and {len(roots)} gradients")
    if inputs is not None:
        inputs = (inputs,) if _is_tensor(inputs) else tuple(inputs)
        if not inputs:
            raise RuntimeError(_EMPTY_INPUTS.format("backward"))
    if len(roots) == 1:
        return backward_root(roots[0], grads[0], bool(retain_graph), inputs)
    for i, r in enumerate(roots):
        if not r._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    run_backward(roots, [_seed(r, g, i) for i, (r, g) in enumerate(zip(roots, grads))],
                 bool(retain_graph), inputs)


def backward_root(root, gradient=None, retain_graph=False, inputs=None):
    """`root.backward(gradient, retain_graph, inputs=...)`: one root, `inputs` None or a sequence.

    NOTE: Tensor.backward's path, without autograd.backward's sorting of several roots.
    """
    if inputs is not None and not inputs:
        raise RuntimeError(_EMPTY_INPUTS.format("backward"))
    if not root._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    run_backward([root], [_seed(root, gradient)], retain_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned instead of stored in `.grad`.

    Args:
        outputs: a tensor or sequence of tensors to differentiate.
        inputs: a tensor or sequence of tensors (leaves or not) to differentiate with respect to.
        grad_outputs: the vector of the vector-Jacobian product, one per output (None: ones for a
            scalar output).
        retain_graph: keep the graph for another backward (default: False).
        allow_unused: return None for an input the outputs do not depend on, instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple of gradients, one per input.

    Example:
        >>> x = descend.tensor(3.0, requires_grad=True)
        >>> descend.autograd.grad(x ** 2, x)
        (tensor(6.),)
    """
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported by descend: its VJPs run "
            "in NumPy, outside the graph"
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    outputs = (outputs,) if _is_tensor(outputs) else tuple(outputs)
    single = _is_tensor(inputs)
    inputs = (inputs,) if single else tuple(inputs)
    if not inputs:
        raise RuntimeError(_EMPTY_INPUTS.format("grad"))
    if grad_outputs is None or _is_tensor(grad_outputs):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, allow_unused, materialize_grads)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} for {len(outputs)} outputs"
        )
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    for i, o in enumerate(outputs):
        if not o._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    seeds = [_seed(o, g, i) for i, (o, g) in enumerate(zip(outputs, grad_outputs))]
    result = run_backward(list(outputs), seeds, bool(retain_graph), inputs, accumulate=False)
    out = []
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if materialize_grads:
                g = _wrap_grad(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        out.append(g)
    return tuple(out)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, allow_unused, materialize_grads):
    """`grad(..., is_grads_batched=True)`: one vector-Jacobian product per row of the first dimension
    of every grad_output, stacked (PyTorch's vmap, as a loop)."""
    if any(g is None for g in grad_outputs):
        raise RuntimeError("is_grads_batched=True needs a grad_output for every output")
    arrs = [np.asarray(getattr(g, "_data", g)) for g in grad_outputs]
    n = {a.shape[0] if a.ndim else None for a in arrs}
    if len(n) != 1 or None in n:
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension (is_grads_batched=True "
            "maps the first dimension of every grad_output)"
        )
    n = n.pop()
    rows = []
    for b in range(n):
        keep = True if b < n - 1 else bool(retain_graph)
        rows.append(grad(outputs, inputs, [_wrap_grad(a[b]) for a in arrs], retain_graph=keep,
                         allow_unused=allow_unused, materialize_grads=materialize_grads))
    out = []
    for i, t in enumerate(inputs):
        col = [r[i] for r in rows]
        if all(c is None for c in col):
            out.append(None)
            continue
        out.append(_wrap_grad(np.stack([np.zeros_like(t._data) if c is None else c._data for c in col])))
    return tuple(out)


def _is_tensor(x):
    return hasattr(x, "_data") and hasattr(x, "grad_fn")


def _accumulate_leaves(leaf_grads, seeds):
    """Add each leaf's gradient into its `.grad`, copying arrays that are not exclusively ours."""
    taken = None  # ids of arrays that are not ours to keep: the seeds, and gradients already taken
    hooks = _LEAF_HOOKS if _LEAF_HOOKS._items else None  # NOTE: one test per backward, not per leaf
    for leaf, g in leaf_grads.items():
        data = leaf._data
        if type(g) is not np.ndarray:  # NumPy returns scalars, not 0-d arrays, from 0-d arithmetic
            grad = leaf._grad
            if (grad is not None and hooks is None and not data.ndim
                    and getattr(g, "dtype", None) is data.dtype):
                # NOTE: the tutorials' 0-d leaf: scalar arithmetic into the 0-d .grad, without making
                # the scalar an array first (np.asarray alone is ~1.9k of a 104k-instruction step)
                acc = grad._data
                acc[()] = acc[()] + g
                grad._version[0] += 1
                continue
            g = np.asarray(g)
        if g.shape != data.shape:
            g = unbroadcast(g, data.shape)
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        if hooks is not None and leaf in hooks:
            g = _run_hooks(hooks[leaf], g)
        if leaf._grad is None:
            if taken is None:
                taken = set(map(id, seeds))
            if id(g) in taken or not g.flags.owndata or not g.flags.writeable:
                g = g.copy()
            taken.add(id(g))
            leaf._grad = _wrap_grad(g)
        else:
            acc = leaf._grad._data
            if acc.ndim == 0:  # NOTE: scalar arithmetic: ~150 ns against ~1.3 us for np.add on 0-d arrays
                acc[()] = acc[()] + g[()]
            else:
                np.add(acc, g, out=acc)
            leaf._grad._version[0] += 1
    if _POST_HOOKS._items:  # NOTE: one test per backward; none registered costs nothing per leaf
        _run_post_hooks(leaf_grads)


def move_retain(tensor, old_fn, old_nr):
    """`tensor` got a new history (an in-place op, a view regenerated): as PyTorch moves the
    retains-grad hook to the new grad_fn, its `.grad` now keeps the gradient of its new value."""
    kept = old_fn.retained if old_fn is not None else None
    if not kept:
        return
    ref = kept.get(old_nr)
    if ref is not None and ref() is tensor:
        del kept[old_nr]
        if tensor.grad_fn is not None:
            register_retain(tensor)


# Post-accumulate-grad hooks on leaves, keyed weakly by the leaf: `hook(leaf)` after `.grad` changed.
_POST_HOOKS = _ByIdentity()


def register_post_accumulate_grad_hook(tensor, hook):
    if tensor.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    return _append_hook(_POST_HOOKS, tensor, hook)


def _run_post_hooks(leaf_grads):
    for leaf in leaf_grads:
        hooks = _POST_HOOKS.get(leaf)
        if hooks:
            for hook in tuple(hooks):
                r = hook(leaf)
                if r is not None:
                    if not _is_tensor(r):
                        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def register_retain(tensor):
    """Make backward store the gradient of the non-leaf `tensor` in its `.grad`."""
    extra = tensor.grad_fn._extra()
    if extra.retained is None:
        extra.retained = {}
    extra.retained[_nr(tensor)] = weakref.ref(tensor)


# Set by tensor.py once Tensor exists (tensor.py imports this module first).
_new_tensor = None
_wrap_grad = None


from .function import Function, FunctionCtx, once_differentiable  # noqa: E402, F401


def __getattr__(name):
    # `autograd.functional` uses the tensor library, which imports this module first: load it on use.
    if name == "functional":
        import importlib

        return importlib.import_module(".functional", __name__)
    if name in ("gradcheck", "gradgradcheck"):  # descend.gradcheck imports the tensor library
        import importlib

        return getattr(importlib.import_module("descend.gradcheck"), name)
    raise AttributeError(f"module 'descend.autograd' has no attribute {name!r}")
