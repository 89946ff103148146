"""Indexing: x[index] (basic slicing gives views), in-graph assignment, gather/scatter and masks."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from ..autograd import record, unbroadcast
from ..tensor import Tensor, _wrap
from ._core import _dims, _index, _is_basic, _operand, _tensor, check_fits, op, result_type

# --- indexing ---


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) or (
        isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")


def _split_ints(idx):
    """PyTorch's reading of an index that mixes integers with index arrays, or None for any other.

    PyTorch selects the integers' dims first and then indexes what is left, so an integer never
    counts as an advanced index (NumPy broadcasts it with the arrays, and so moves the arrays' dims
    to the front when a slice separates them: x[0, :, [0, 1]] of a (2, 3, 4) tensor is (3, 2) in
    PyTorch, (2, 3) in NumPy). Returns (first, then): a[first][then] is PyTorch's a[idx], and
    a[first] is a view of a.
    """
    if type(idx) is not tuple:  # NOTE: one index (the usual x[mask], x[idx]) mixes nothing
        return None
    items = tuple(np.asarray(i) if isinstance(i, list) else i for i in idx)
    if not builtins.any(_is_int(i) for i in items) or not builtins.any(
        isinstance(i, np.ndarray) and (i.ndim or i.dtype == bool) for i in items
    ):
        return None
    first, then = [], []
    for i in items:
        if _is_int(i):
            first.append(int(i))
        elif i is None:
            then.append(None)
        elif i is Ellipsis:
            first.append(Ellipsis)
            then.append(Ellipsis)
        else:
            first.extend([slice(None)] * (i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1))
            then.append(i)
    return tuple(first), tuple(then)


def as_ints(idx):
    """`idx` with its 0-d integer arrays as ints: PyTorch indexes with a 0-d integer tensor as with
    an int (a select, so the result is a view), where NumPy takes it for an index array (a copy)."""
    if type(idx) is tuple:
        scalar = False
        for i in idx:  # NOTE: a loop, not any(genexpr): x[:, 0] runs this on every call
            if type(i) is slice:
                if i.step is not None and i.step <= 0:
                    _bad_step(i)
            elif type(i) is np.ndarray and i.ndim == 0:
                scalar = True
        if scalar:
            return tuple(int(i) if type(i) is np.ndarray and _is_int(i) else i for i in idx)
        return idx
    if type(idx) is slice and idx.step is not None and idx.step <= 0:
        _bad_step(idx)
    return int(idx) if type(idx) is np.ndarray and _is_int(idx) else idx


def _bad_step(s):
    """PyTorch has no negative-step slices (NumPy's reversed views): x.flip(dims) reverses."""
    raise ValueError("step must be greater than zero")


def put(target, at, V, accumulate=False):
    """target[at] = V (or += with repeats accumulating), with PyTorch's error for a V that doesn't fit."""
    try:
        if accumulate:
            np.add.at(target, at, V)
        else:
            target[at] = V
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(V))} cannot be broadcast to indexing "
            f"result of shape {list(np.shape(target[at]))}"
        ) from None


def locate(a, idx):
    """(a2, idx2) with a2[idx2] PyTorch's a[idx] (a2 a view of a): see _split_ints."""
    split = _split_ints(idx)
    if split is None:
        return a, idx
    return a[split[0]], split[1]


def _scatter_back(shape, dtype, idx, basic):
    if basic:

        def vjp(g):
            grad = np.zeros(shape, dtype=g.dtype)
            grad[idx] = g
            return grad
    else:

        def vjp(g):
            grad = np.zeros(shape, dtype=g.dtype)
            target, at = locate(grad, idx)
            np.add.at(target, at, g)  # repeated indices accumulate
            return grad

    return vjp


def getitem(x, index):
    """x[index]: basic slicing (a view), integer arrays and boolean masks; the gradient scatter-adds back."""
    X = x._data
    if type(index) is int and X.ndim:  # the common `a, b, c = params`: one element of the first dim
        n = X.shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        vjp, view = _row_vjp(X.shape, index), operator.itemgetter((index, Ellipsis))
        return record("SelectBackward0", X[index, ...], (x,), (vjp,), view_of=x, view_fn=view)
    idx = as_ints(_index(index))
    basic = _is_basic(idx)
    if basic:  # an Ellipsis at the end makes NumPy return a (0-d) view, never a scalar copy
        idx = idx if isinstance(idx, tuple) else (idx,)
        if Ellipsis not in idx:
            idx = idx + (Ellipsis,)
    try:
        out = X[idx] if basic else operator.getitem(*locate(X, idx))
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(X.shape)})") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if basic:
        name = (
            "SelectBackward0"
            if builtins.all(isinstance(i, (int, np.integer)) for i in idx[:-1]) and len(idx) == 2
            else "SliceBackward0"
        )
        return record(
            name,
            out,
            (x,),
            (_scatter_back(X.shape, X.dtype, idx, True),),
            view_of=x,
            view_fn=lambda a: a[idx],
        )
    return record("IndexBackward0", out, (x,), (_scatter_back(X.shape, X.dtype, idx, False),))


def _row_vjp(shape, i):
    """The VJP of row i of an array of `shape`: the gradient in that row, zeros elsewhere."""

    def vjp(g):
        grad = np.zeros(shape, g.dtype)
        grad[i] = g
        return grad

    return vjp


@op("index_put")
def index_put(input, indices, values, accumulate=False):
    """A copy of input with input[indices] = values (or += with accumulate), differentiable in both."""
    x = input
    idx = _index(indices)
    tv, V = _operand(values)
    out = x._data.copy()
    target, at = locate(out, idx)
    put(target, at, V, accumulate)

    def vjp_x(g):
        if accumulate:
            return g
        grad = g.copy()
        gt, ga = locate(grad, idx)
        gt[ga] = 0
        return grad

    def picked(g):
        return operator.getitem(*locate(g, idx))

    parents, vjps = (x,), (vjp_x,)
    if tv is not None:
        vshape = np.shape(V)
        parents, vjps = (
            (x, tv),
            (
                vjp_x,
                lambda g: (
                    unbroadcast(
                        np.broadcast_to(picked(g), np.broadcast_shapes(np.shape(picked(g)), vshape)), vshape
                    )
                    if np.shape(picked(g)) != vshape
                    else picked(g)
                ),
            ),
        )
    return record("IndexPutBackward0", out, parents, vjps)


@op("masked_fill")
def masked_fill(input, mask, value):
    """value where mask is True, else input; keeps input's dtype (a Python float into an int tensor
    truncates, as PyTorch); differentiable in input and in a 0-d tensor value."""
    x = _tensor(input)
    M = np.asarray(mask._data if isinstance(mask, Tensor) else mask, dtype=bool)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    V = value._data if isinstance(value, Tensor) else value
    check_fits(V, x._data.dtype)
    try:
        out = np.where(M, np.asarray(V).astype(x._data.dtype), x._data)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({x.shape[-1] if x.ndim else 1}) must match the size of tensor b "
            f"({M.shape[-1] if M.ndim else 1}): mask of shape {list(M.shape)} can't broadcast to "
            f"{list(x.shape)}"
        ) from None
    if out.shape != x.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {list(M.shape)} would broadcast input {list(x.shape)}"
        )
    parents, vjps = [x], [lambda g: np.where(M, 0, g)]
    if isinstance(value, Tensor):
        vd = value._data.dtype
        parents.append(value)
        vjps.append(lambda g: np.asarray(np.where(M, g, 0).sum(), dtype=vd))
    return record("MaskedFillBackward0", out, tuple(parents), tuple(vjps))


@op("masked_select")
def masked_select(input, mask):
    """The elements where mask (broadcast) is True, as a 1-D tensor."""
    M = np.asarray(mask._data if isinstance(mask, Tensor) else mask, dtype=bool)
    shape = np.broadcast_shapes(input.shape, M.shape)
    X = np.broadcast_to(input._data, shape)
    Mb = np.broadcast_to(M, shape)
    ishape = input._data.shape

    def vjp(g):
        grad = np.zeros(shape, g.dtype)
        grad[Mb] = g
        return unbroadcast(grad, ishape)

    return record("MaskedSelectBackward0", X[Mb], (input,), (vjp,), saved=(input,))  # as PyTorch


@op("masked_scatter")
def masked_scatter(input, mask, source):
    """input with the True positions of mask filled, in order, from source's elements."""
    M = np.broadcast_to(np.asarray(mask._data if isinstance(mask, Tensor) else mask, dtype=bool), input.shape)
    k = int(M.sum())
    out = input._data.copy()
    S = source._data.reshape(-1)
    if S.size < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements, got {S.size}")
    out[M] = S[:k]
    sshape = source._data.shape

    def vjp_src(g):
        flat = np.zeros(S.size, g.dtype)
        flat[:k] = g[M]
        return flat.reshape(sshape)

    return record("MaskedScatterBackward0", out, (input, source), (lambda g: np.where(M, 0, g), vjp_src))


def _long_index(index, name):
    if not isinstance(index, Tensor):
        index = _wrap(np.asarray(index))
    I = index._data
    if I.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got {I.dtype}")
    return I.astype(np.int64, copy=False)


@op("index_select")
def index_select(input, dim, index):
    """The entries of dim `dim` at `index` (a 1-D integer tensor); the gradient scatter-adds back."""
    I = _long_index(index, "index_select")
    if I.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    X = input._data
    if X.ndim == 0 and I.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {I.size} value(s)")
    d = _dims(dim, X.ndim)[0] if X.ndim else 0
    n = X.shape[d] if X.ndim else 1
    if I.size and (I.min() < 0 or I.max() >= n):  # PyTorch takes no negative index here
        bad = int(I.min()) if I.min() < 0 else int(I.max())
        # PyTorch's kernels differ in the type they raise (observed on torch 2.13's CPU kernels)
        if X.size == 0 or (X.ndim == 2 and d == 1) or 0 < d < X.ndim - 1:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
        raise IndexError(f"index out of range in self: index {bad} for dimension {d} of size {n}")
    out = np.take(X, I.reshape(-1), axis=d) if X.ndim else X.reshape(())
    shape = X.shape

    def vjp(g):
        grad = np.zeros(shape, g.dtype)
        moved = np.moveaxis(grad, d, 0) if grad.ndim else grad.reshape(1)
        np.add.at(moved, I.reshape(-1), np.moveaxis(g, d, 0) if grad.ndim else np.reshape(g, 1))
        return grad

    return record("IndexSelectBackward0", out, (input,), (vjp,))


def _check_gather(X, I, d, name):
    if I.ndim != X.ndim and not (X.ndim == 0 and I.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor ({name})")
    for k in range(I.ndim):
        if k != d and I.shape[k] > X.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(I.shape)} to be smaller "
                "than self "
                f"{list(X.shape)} apart from dimension {d}"
            )
    n = X.shape[d] if X.ndim else 1
    if I.size and (I.min() < -n or I.max() >= n):
        bad = int(I.max()) if I.max() >= n else int(I.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")


def _along(I, d, ndim):
    """Index arrays selecting, for each position of I, the element at I along dim d."""
    grids = list(np.indices(I.shape, sparse=True))
    grids[d] = I
    return tuple(grids)


@op("gather")
def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] along `dim`; the gradient scatter-adds back."""
    I = _long_index(index, "gather")
    X = input._data
    if X.ndim == 0 and I.ndim <= 1:  # PyTorch: a 0-d input reads as a 1-element vector
        from .shape import _dim, reshape

        _dim(dim, 0)
        return reshape(gather(reshape(input, 1), 0, _wrap(I.reshape(-1))), *I.shape)
    d = _dims(dim, X.ndim)[0] if X.ndim else 0
    _check_gather(X, I, d, "gather")
    pos = _along(I, d, X.ndim)
    out = X[pos]
    shape = X.shape

    def vjp(g):
        grad = np.zeros(shape, g.dtype)
        np.add.at(grad, pos, g)
        return grad

    # PyTorch's GatherBackward0 saves self: an in-place change of it before backward raises there
    return record("GatherBackward0", out, (input,), (vjp,), saved=(input,))


@op("take_along_dim")
def _take_along_dim(input, indices, dim=None):
    """Gather along `dim` with broadcasting (NumPy's take_along_axis); flattened when dim is None."""
    if dim is None:
        from .shape import reshape

        return gather(reshape(input, -1), 0, _wrap(_long_index(indices, "take_along_dim").reshape(-1)))
    return gather(input, dim, indices)


@op("take")
def take(input, index):
    """The elements of the flattened input at `index` (result has index's shape)."""
    I = _long_index(index, "take")
    X = input._data
    n = X.size
    if I.size and (I.min() < -n or I.max() >= n):
        raise IndexError(f"out of range: tried to access index {int(I.max())} on a tensor of {n} elements.")
    flat = I % n if n else I
    shape = X.shape

    def vjp(g):
        grad = np.zeros(X.size, g.dtype)
        np.add.at(grad, flat.reshape(-1), g.reshape(-1))
        return grad.reshape(shape)

    return record("TakeBackward0", X.reshape(-1)[flat], (input,), (vjp,), saved=(input,))  # as PyTorch


_REDUCE = {
    "sum": np.add,
    "add": np.add,
    "prod": np.multiply,
    "multiply": np.multiply,
    "amax": np.maximum,
    "amin": np.minimum,
    "mean": np.add,
}


@op("scatter")
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with src's (or value's) elements written at `index` along `dim`.

    Differentiable in input (zero where overwritten) and src (its gathered entries). With
    `reduce="add"`/`"multiply"` the entries combine instead (only "add" is differentiable here).
    """
    if src is None and value is None:
        raise TypeError("scatter() needs src or value")
    I = _long_index(index, "scatter")
    X = input._data
    if X.ndim == 0 and I.ndim <= 1:  # PyTorch: a 0-d input reads as a 1-element vector
        from .shape import _dim, reshape

        _dim(dim, 0)
        if isinstance(src, Tensor) and src.ndim == 0:
            src = reshape(src, 1)
        out = scatter(reshape(input, 1), 0, _wrap(I.reshape(-1)), src, value=value, reduce=reduce)
        return reshape(out, ())
    d = _dims(dim, X.ndim)[0] if X.ndim else 0
    _check_gather(X, I, d, "scatter")
    pos = _along(I, d, X.ndim)
    out = X.copy()
    tsrc = src if isinstance(src, Tensor) else None
    if tsrc is not None:
        S = tsrc._data[tuple(slice(0, n) for n in I.shape)]
    else:
        S = np.asarray(value if src is None else src, dtype=X.dtype)
    if reduce is None:
        out[pos] = S
    elif reduce in ("add", "multiply"):
        (np.add if reduce == "add" else np.multiply).at(out, pos, np.broadcast_to(S, I.shape))
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    written = np.zeros(X.shape, bool)
    written[pos] = True

    def vjp_x(g):
        return g if reduce == "add" else np.where(written, 0, g)

    parents, vjps = [input], [vjp_x]
    if tsrc is not None:
        sshape = tsrc._data.shape

        def vjp_src(g):
            grad = np.zeros(sshape, g.dtype)
            grad[tuple(slice(0, n) for n in I.shape)] = g[pos]
            return grad

        parents.append(tsrc)
        vjps.append(vjp_src if reduce in (None, "add") else None)
    return record("ScatterBackward0", out, tuple(parents), tuple(vjps))


@op("scatter_add")
def scatter_add(input, dim, index, src):
    """input with src's entries added at `index` along `dim` (repeated indices accumulate)."""
    return scatter(input, dim, index, src, reduce="add")


@op("scatter_reduce")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Combine src's entries into input at `index` along `dim` with "sum", "prod", "mean", "amax" "
    "or "amin"."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    I = _long_index(index, "scatter_reduce")
    X = input._data
    d = _dims(dim, X.ndim)[0] if X.ndim else 0
    _check_gather(X, I, d, "scatter_reduce")
    pos = _along(I, d, X.ndim)
    S = src._data[tuple(slice(0, n) for n in I.shape)]
    touched = np.zeros(X.shape, bool)
    touched[pos] = True
    count = np.zeros(X.shape, np.int64)
    np.add.at(count, pos, 1)
    if include_self:
        out = X.copy()
    else:
        init = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        out = np.where(
            touched,
            np.asarray(init).astype(X.dtype)
            if X.dtype.kind == "f"
            else np.asarray(0 if reduce in ("sum", "mean") else 1).astype(X.dtype),
            X,
        )
        if X.dtype.kind != "f" and reduce in ("amax", "amin"):
            out = np.where(touched, np.iinfo(X.dtype).min if reduce == "amax" else np.iinfo(X.dtype).max, X)
    _REDUCE[reduce].at(out, pos, S)
    if reduce == "mean":
        n = count + (1 if include_self else 0)
        out = np.where(touched, out / np.maximum(n, 1), out).astype(X.dtype)
    parents, vjps = [input], []
    if reduce in ("sum", "mean"):
        denom = (count + (1 if include_self else 0)) if reduce == "mean" else 1

        def vjp_x(g):
            gx = g / np.maximum(denom, 1) if reduce == "mean" else g
            return gx if include_self else np.where(touched, 0, gx)

        def vjp_src(g):
            gs = g / np.maximum(denom, 1) if reduce == "mean" else g
            grad = np.zeros(src._data.shape, g.dtype)
            grad[tuple(slice(0, n) for n in I.shape)] = gs[pos]
            return grad
    elif reduce in ("amax", "amin"):
        hits = np.zeros(X.shape, np.float64)
        if include_self:
            hits += X == out
        np.add.at(hits, pos, S == out[pos])

        def vjp_x(g):
            return np.where(X == out, g / np.maximum(hits, 1), 0) if include_self else np.where(touched, 0, g)

        def vjp_src(g):
            grad = np.zeros(src._data.shape, g.dtype)
            grad[tuple(slice(0, n) for n in I.shape)] = np.where(S == out[pos], g[pos] / hits[pos], 0)
            return grad
    else:  # prod

        def vjp_x(g):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(touched, g * out / X, g) if include_self else np.where(touched, 0, g)

        def vjp_src(g):
            grad = np.zeros(src._data.shape, g.dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad[tuple(slice(0, n) for n in I.shape)] = g[pos] * out[pos] / S
            return grad

    vjps = [vjp_x]
    parents.append(src)
    vjps.append(vjp_src)
    return record("ScatterReduceBackward0", out, tuple(parents), tuple(vjps))


@op("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source's slices added at `index` along `dim`."""
    I = _long_index(index, "index_add")
    if I.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    I = I.reshape(-1)
    X = input._data
    if X.ndim == 0 and I.size != 1:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    from .shape import _dim

    d = _dim(dim, X.ndim)
    S0 = source._data
    ns = S0.shape[d] if S0.ndim else 1
    if I.size != ns:
        raise RuntimeError(
            f"index_add_(): Number of indices ({I.size}) should be equal to source.size(dim): ({ns}), "
            f"for dim: {d}"
        )
    n = X.shape[d] if X.ndim else 1
    bad = I[(I < 0) | (I >= n)] if S0.size else I[:0]  # PyTorch checks while it adds
    if bad.size:  # PyTorch takes no negative index here; its two kernels raise different types
        if alpha == 1 and X.ndim > 1 and d in (0, X.ndim - 1):
            raise RuntimeError(f"index {int(bad[0])} is out of bounds for dimension {d} with size {n}")
        raise IndexError("index out of range in self")
    out = X.astype(result_type(input, source), copy=True)
    if out.dtype.kind in "biu" and isinstance(alpha, float):
        alpha = int(alpha)  # PyTorch casts alpha to an integer tensor's type
    S = S0 * alpha
    try:
        if S0.size == 0:
            pass  # nothing to add (and NumPy would check the indices)
        elif X.ndim == 0:
            np.add.at(out.reshape(1), I, np.reshape(S, 1))
        else:
            np.add.at(np.moveaxis(out, d, 0), I, np.moveaxis(np.reshape(S, S.shape or (1,)), d, 0))
    except ValueError:
        raise RuntimeError(
            f"index_add_(): source of shape {list(S0.shape)} does not fit self of shape {list(X.shape)} "
            f"with {I.size} indices along dim {d}"
        ) from None
    sshape = S0.shape

    wild = I[(I < 0) | (I >= n)]  # only where source is empty (the forward checks otherwise)

    def vjp_src(g):
        if wild.size:  # PyTorch's backward reads them with index_select, which refuses them
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(wild[0])} axis_dim={n}")
        picked = np.take(g.reshape(1) if g.ndim == 0 else g, I, axis=d)
        return (picked * alpha).reshape(sshape)

    return record("IndexAddBackward0", out, (input, source), (lambda g: g, vjp_src))


@op("index_fill")
def index_fill(input, dim, index, value):
    """input with the slices at `index` along `dim` set to value."""
    I = _long_index(index, "index_fill")
    X = input._data
    from .shape import _dim

    d = _dim(dim, X.ndim)
    n = X.shape[d] if X.ndim else 1
    bad = I[(I < -n) | (I >= n)]
    if bad.size:
        raise IndexError(f"index {int(bad.reshape(-1)[0])} is out of bounds for dimension {d} with size {n}")
    out = X.copy()
    sel = [slice(None)] * X.ndim
    if X.ndim:
        sel[d] = I
    elif not I.size:  # a 0-d input: any index in [-1, 0] is its one element
        sel = None
    if sel is not None:
        out[tuple(sel)] = value._data if isinstance(value, Tensor) else value

    def vjp(g):
        grad = np.array(g, copy=True)
        if sel is not None:
            grad[tuple(sel)] = 0
        return grad

    return record("IndexFillBackward0", out, (input,), (vjp,))


@op("nonzero")
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one tensor per dim with as_tuple."""
    if input.ndim == 0:  # PyTorch: a 0-d tensor has one position, with no coordinates
        hit = bool(input._data)
        if as_tuple:
            return (_wrap(np.zeros(int(hit), np.int64)),)
        return _wrap(np.zeros((int(hit), 0), np.int64))
    idx = np.nonzero(input._data)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in idx)
    return _wrap(
        np.stack(idx, axis=-1).astype(np.int64) if idx else np.zeros((int(bool(input._data)), 0), np.int64)
    )


@op("argwhere")
def argwhere(input):
    return nonzero(input)
