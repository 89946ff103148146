"""Shared plumbing of the primitives: operands as tensors, the broadcasting binary op, dims and shapes."""

from __future__ import annotations

import builtins

import numpy as np

from ..autograd import _GradMode, attach, unbroadcast
from ..tensor import Tensor, _wrap, as_tensor, float32, float64

_NUMBER = (int, float)
_F64 = float64

# --- operands ---


def _tensor(x):
    """Any operand as a Tensor: constants become tensors outside the graph (arrays are not copied)."""
    return x if isinstance(x, Tensor) else as_tensor(x)


def _operand(x):
    """(tensor or None, value for NumPy): Python numbers stay weak scalars, as in PyTorch."""
    if isinstance(x, Tensor):
        return x, x._data
    if isinstance(x, np.generic):  # before numbers: np.float64 is a float, but NumPy treats it as strong
        return None, x.item()
    if isinstance(x, _NUMBER):
        return None, x
    t = _tensor(x)
    return t, t._data


def _is_f64(x):
    return isinstance(x, np.ndarray) and x.dtype == _F64


def _float_result(out, a, b):
    """Keep PyTorch's promotion: a Python float or true division never makes float64 from float32/ints."""
    # NOTE: not `getattr(b, "dtype", None) != _F64`: NumPy reads a None dtype as float64.
    if out.dtype == _F64 and not _is_f64(a) and not _is_f64(b):
        return out.astype(float32)
    return out


def _pass(g, A, B, out):
    """The VJP of an input that reaches the output unchanged (either side of +, the left of -)."""
    return g


def _identity(g):
    return g


def _input_vjp(vjp, A, B, out, shape):
    """One input's VJP: the op's formula, summed back to the input's shape when it was broadcast."""
    if shape == out.shape:
        return _identity if vjp is _pass else (lambda g: vjp(g, A, B, out))
    return lambda g: unbroadcast(vjp(g, A, B, out), shape)


def _binary(name, a, b, forward, vjp_a, vjp_b, save_a=False, save_b=False):
    """Shared plumbing of the broadcasting binary ops: operands, dtype, graph, unbroadcast.

    `vjp_a(g, A, B, out)` and `vjp_b(...)` give the gradients before unbroadcasting; `save_a` /
    `save_b` say that a VJP reads that input's data (so in-place changes to it are caught).
    """
    ta, A = (a, a._data) if isinstance(a, Tensor) else _operand(a)
    tb, B = (b, b._data) if isinstance(b, Tensor) else _operand(b)
    try:
        out = forward(A, B)
    except ValueError as e:
        raise RuntimeError(
            f"{name.replace('Backward0', '').lower()}: shapes {tuple(np.shape(A))} and {tuple(np.shape(B))} "
            f"are not broadcastable ({e})"
        ) from None
    if type(out) is not np.ndarray or out.dtype == _F64:
        out = _float_result(np.asarray(out), A, B)
    need_a = ta is not None and ta._requires_grad
    need_b = tb is not None and tb._requires_grad
    if not ((need_a or need_b) and _GradMode.enabled):
        return _wrap(out)
    saved = ()
    if save_a and ta is not None:
        saved = (ta,)
    if save_b and tb is not None:
        saved += (tb,)
    if need_a and need_b:
        return attach(name, out, (ta, tb),
                      (_input_vjp(vjp_a, A, B, out, A.shape), _input_vjp(vjp_b, A, B, out, B.shape)), saved)
    if need_a:
        return attach(name, out, (ta,), (_input_vjp(vjp_a, A, B, out, A.shape),), saved)
    return attach(name, out, (tb,), (_input_vjp(vjp_b, A, B, out, B.shape),), saved)



def _shape_str(arr):
    return "x".join(str(n) for n in arr.shape)

def _dims(dim, ndim):
    """Normalise dim (int, tuple, list or None) to a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        n = builtins.max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape, axes):
    """The shape of a reduction over `axes` with keepdim=True (all axes when None)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, shape, kept):
    """The gradient of a reduction: `g` (reshaped to the kept-dims shape) copied over the input's shape."""
    grad = np.empty(shape, dtype=g.dtype)
    # NOTE: a fresh array, not np.broadcast_to: that view costs more to make than this copy on small
    # tensors, and a leaf can take a fresh array as its .grad without another copy.
    grad[...] = g.reshape(kept)
    return grad

def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _index(index):
    """Convert tensors in an index to NumPy arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


# --- the binding table ---
# One entry per public name: the function, whether it becomes a Tensor method, and whether it is
# exported as `descend.<name>`. Families register with the `op` decorator beside each definition;
# `ops/__init__.py` binds the table once, so a method and its function can never drift apart.

TABLE: dict[str, tuple] = {}

# NumPy's spellings PyTorch accepts without documenting them loudly.
_KEYWORD_ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def _accepting_aliases(fn):
    """`fn` taking NumPy's keyword names too (`axis=` for `dim=`, `keepdims=` for `keepdim=`).

    Built once per function at registration, and only for functions that have such a parameter.
    """
    import functools
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    aliases = {a: p for a, p in _KEYWORD_ALIASES.items() if p in params}
    if not aliases:
        return fn

    @functools.wraps(fn)
    def aliased(*args, **kwargs):
        if kwargs:
            for alias, name in aliases.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got both '{name}' and its alias '{alias}'")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return aliased


def op(*names, method=True, function=True):
    """Register a primitive or composite under PyTorch's `names` (the first is its own name).

    Args:
        names: public names; every one is bound the same way (aliases such as `clip` for `clamp`).
        method: bind as `Tensor.<name>` (the tensor is the first argument).
        function: export as `descend.<name>`.
    """

    def register(fn):
        bound = _accepting_aliases(fn)
        for name in names or (fn.__name__,):
            TABLE[name] = (bound, method, function)
        return fn

    return register
