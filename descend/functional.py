"""Activations, `linear`, dropout and every loss, as functions (`import descend.nn.functional as F`).

Most activations are the engine's primitives or short composites of them. Four operations are fused
primitives with a hand-written backward, each for a reason given at its definition: `linear` (speed),
`leaky_relu` and `dropout` (one pass, one saved mask), and the losses (stability: cross-entropy never
forms `log(softmax)`, BCE-with-logits never forms `sigmoid`, and the reductions are folded into the
backward so a training step allocates only what the gradient needs).

Losses follow PyTorch's documented formulas and `reduction="mean"|"sum"|"none"`. `rmse_loss` has no
PyTorch counterpart; its reductions are defined in its docstring.

Example:
    >>> import descend as torch
    >>> import descend.nn.functional as F
    >>> logits = torch.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, torch.tensor([0]))
    >>> loss.backward()
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import ops
from .autograd import record, unbroadcast
from .random import generator

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "gelu",
    "huber_loss",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "rmse_loss",
    "sigmoid",
    "softmax",
    "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")


_tensor = ops._tensor


# --- activations ---


def relu(input, inplace=False):
    """max(x, 0), elementwise.

    Args:
        input: a tensor.
        inplace: accepted for PyTorch compatibility; descend always returns a new tensor (same values).

    Returns:
        A tensor of the input's shape.

    Example:
        >>> F.relu(descend.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return ops.relu(_tensor(input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x.

    Args:
        input: a tensor.
        negative_slope: the slope for negative inputs.
        inplace: accepted for PyTorch compatibility; a new tensor is always returned.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> F.leaky_relu(descend.tensor([-1.0, 2.0]), 0.1)
        tensor([-0.1000,  2.0000])
    """
    # NOTE: one primitive instead of where(x > 0, x, slope * x): one pass forward, and backward keeps
    # only the sign mask.
    x = _tensor(input)
    X = x._data
    pos = X > 0
    out = np.where(pos, X, X * negative_slope).astype(X.dtype, copy=False)
    slope = np.asarray(negative_slope, dtype=X.dtype)
    return record("LeakyReluBackward0", out, (x,), (lambda g: np.where(pos, g, g * slope),))


def sigmoid(input):
    """1 / (1 + exp(-x)), elementwise (stable for large |x|).

    Example:
        >>> F.sigmoid(descend.tensor([0.0]))
        tensor([0.5000])
    """
    return ops.sigmoid(_tensor(input))


def tanh(input):
    """Hyperbolic tangent, elementwise.

    Example:
        >>> F.tanh(descend.tensor([0.0]))
        tensor([0.])
    """
    return ops.tanh(_tensor(input))


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input, approximate="none"):
    """Gaussian Error Linear Unit: x * Phi(x), Phi the standard normal CDF.

    Args:
        input: a tensor.
        approximate: "none" for the exact form 0.5 x (1 + erf(x / sqrt 2)); "tanh" for
            0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Returns:
        A tensor of the input's shape.

    Example:
        >>> F.gelu(descend.tensor([1.0]))
        tensor([0.8413])
    """
    x = _tensor(input)
    if approximate == "none":
        return 0.5 * x * (1.0 + ops.erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + ops.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _softmax_dim(name, ndim, dim):
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
            f"dim={dim} as an argument.",
            UserWarning,
            stacklevel=3,
        )
    return dim


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (shifted by the max, so it never overflows).

    Args:
        input: a tensor.
        dim: the dimension that sums to 1. Omitting it picks PyTorch's legacy default with a warning.
        dtype: compute in this dtype.

    Example:
        >>> F.softmax(descend.tensor([[1.0, 1.0]]), dim=1)
        tensor([[0.5000, 0.5000]])
    """
    x = _tensor(input)
    return ops.softmax(x, _softmax_dim("softmax", x.ndim, dim), dtype)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along `dim`, computed as x - logsumexp(x) (finite for any finite input).

    Example:
        >>> F.log_softmax(descend.tensor([[0.0, 0.0]]), dim=1)
        tensor([[-0.6931, -0.6931]])
    """
    x = _tensor(input)
    return ops.log_softmax(x, _softmax_dim("log_softmax", x.ndim, dim), dtype)


# --- linear and dropout ---


def linear(input, weight, bias=None):
    """y = x @ W.T + b, as one primitive.

    Args:
        input: (*, in_features); any number of leading dimensions, or none.
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Returns:
        A tensor of shape (*, out_features).

    Example:
        >>> F.linear(descend.ones(2, 3), descend.ones(4, 3), descend.zeros(4)).shape
        (2, 4)
    """
    # NOTE: fused (PyTorch's addmm) because a training step of an MLP is mostly this op: one matmul
    # forward with the bias added in place, and exactly the three products backward needs.
    x = _tensor(input)
    X, W = x._data, weight._data
    if W.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {W.shape}")
    if X.ndim == 0 or X.shape[-1] != W.shape[1]:
        rows = math.prod(X.shape[:-1]) if X.ndim else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{X.shape[-1] if X.ndim else 1} and "
            f"{W.shape[1]}x{W.shape[0]}): the input's last dimension must equal in_features={W.shape[1]}"
        )
    if X.dtype != W.dtype:
        raise RuntimeError(
            f"linear: input dtype {X.dtype} differs from weight dtype {W.dtype}; convert the input "
            f"(x.to({W.dtype}) / x.float()) or the model (model.to({X.dtype}))"
        )
    n_out, n_in = W.shape
    batched = X.ndim > 2
    X2 = X.reshape(-1, n_in) if batched else X
    out = X2 @ W.T
    if bias is not None:
        out += bias._data
    if batched:
        out = out.reshape(X.shape[:-1] + (n_out,))

    def vjp_input(g):
        return g @ W

    def vjp_weight(g):
        if X.ndim == 1:
            return np.outer(g, X)
        return g.reshape(-1, n_out).T @ X2

    if bias is None:
        return record("MmBackward0", out, (x, weight), (vjp_input, vjp_weight), saved=(x, weight))

    def vjp_bias(g):
        return g if g.ndim == 1 else g.reshape(-1, n_out).sum(axis=0)

    return record("AddmmBackward0", out, (x, weight, bias), (vjp_input, vjp_weight, vjp_bias),
                  saved=(x, weight))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) ("inverted" dropout).

    The expected value of every element is unchanged, so nothing needs rescaling at evaluation time,
    when (training=False) the input is returned as it is. Randomness comes from
    `descend.random.generator()`, so `descend.manual_seed` makes masks repeatable.

    Args:
        input: a tensor.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout only when True.
        inplace: accepted for PyTorch compatibility; a new tensor is always returned.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> F.dropout(descend.ones(4), p=0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _tensor(input)
    if not training or p == 0.0:
        return x
    X = x._data
    if p == 1.0:
        scale = np.zeros_like(X)
    else:
        # NOTE: one fused primitive: the mask is drawn, scaled and kept as one array that backward reuses.
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
        scale = (generator().random(X.shape, dtype=np.float32) >= p).astype(dtype)
        scale *= 1.0 / (1.0 - p)
    return record("NativeDropoutBackward0", X * scale, (x,), (lambda g: g * scale,))


# --- losses: shared checks ---


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{reduction!r} is not a valid value for reduction: expected 'mean', 'sum' or 'none'"
        )


def _float_pair(input, target, name):
    """(input, target) as tensors and their common floating dtype (integer targets take the input's)."""
    input, target = _tensor(input), _tensor(target)
    a, b = input.dtype, target.dtype
    if a.kind == "f" and b.kind == "f":
        dtype = np.result_type(a, b)
    elif a.kind == "f":
        dtype = a
    elif b.kind == "f":
        dtype = b
    else:
        raise TypeError(f"{name}: expected floating-point input and target, got {a} and {b}")
    return input, target, dtype


def _check_broadcast(input, target, name):
    """Warn (as PyTorch does) when shapes differ but broadcast; raise when they do not broadcast."""
    if input.shape == target.shape:
        return
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(
            f"{name}: the input of shape {tuple(input.shape)} and the target of shape {tuple(target.shape)} "
            "cannot be broadcast together; they should have the same shape"
        ) from None
    warnings.warn(
        f"Using a target size {tuple(target.shape)} that is different to the input size "
        f"{tuple(input.shape)}. This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size.",
        UserWarning,
        stacklevel=4,
    )


def _check_same_shape(input, target, name):
    """BCE losses require equal shapes (PyTorch raises rather than broadcasting)."""
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: Using a target size {tuple(target.shape)} that is different to the input size "
            f"{tuple(input.shape)} is not supported; please ensure they have the same size"
        )


def _reduce_elementwise(name, parents, loss, partials, reduction):
    """Record an elementwise loss with its reduction folded into one primitive.

    Args:
        name: the backward node's name.
        parents: the input tensors (input, target).
        loss: the elementwise loss (the broadcast shape of the parents).
        partials: per parent, a function returning d(loss element)/d(parent) elementwise (called only
            during backward), or None when that parent can get no gradient.
        reduction: "mean", "sum" or "none".
    """
    n = loss.size
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.sum() / n if n else np.full((), np.nan, loss.dtype)
    out = np.asarray(out, dtype=loss.dtype)
    factor = 1.0 / n if (reduction == "mean" and n) else 1.0

    def make(parent, partial):
        if partial is None:
            return None
        shape, dtype = parent.shape, parent.dtype

        def vjp(g):
            d = partial()
            grad = d * (g * factor) if factor != 1.0 else d * g
            return unbroadcast(grad, shape).astype(dtype, copy=False)

        return vjp

    return record(name, out, tuple(parents), tuple(make(p, d) for p, d in zip(parents, partials)))


def _regression_inputs(input, target, name, reduction):
    _check_reduction(reduction)
    input, target, dtype = _float_pair(input, target, name)
    _check_broadcast(input, target, name)
    X = input._data.astype(dtype, copy=False)
    Y = target._data.astype(dtype, copy=False)
    return input, target, X - Y


# --- losses: regression ---


def mse_loss(input, target, *, reduction="mean"):
    """Mean squared error: mean((x - y)^2) (or its sum, or elementwise).

    Args:
        input: predictions.
        target: targets, the same shape as input (a shape that merely broadcasts warns).
        reduction: "mean" | "sum" | "none".

    Returns:
        A 0-d tensor (mean, sum) or the elementwise losses (none).

    Example:
        >>> F.mse_loss(descend.tensor([2.0]), descend.tensor([4.0]))
        tensor(4.)
    """
    input, target, diff = _regression_inputs(input, target, "mse_loss", reduction)
    n = diff.size
    if reduction == "none":
        out = diff * diff
        scale = 2.0
    else:
        # NOTE: fused: the reduction is one dot product, and backward is one scaled copy of diff.
        total = np.vdot(diff, diff) if n else 0.0
        if reduction == "sum":
            out, scale = total, 2.0
        else:
            out, scale = (total / n if n else np.nan), 2.0 / max(n, 1)
        out = np.asarray(out, dtype=diff.dtype)

    def vjp_input(g):
        return unbroadcast(diff * (g * scale), input.shape).astype(input.dtype, copy=False)

    def vjp_target(g):
        return unbroadcast(diff * (g * -scale), target.shape).astype(target.dtype, copy=False)

    return record("MseLossBackward0", out, (input, target), (vjp_input, vjp_target))


def l1_loss(input, target, *, reduction="mean"):
    """Mean absolute error: mean(|x - y|); the gradient at x == y is 0, as in PyTorch.

    Example:
        >>> F.l1_loss(descend.tensor([1.0, 5.0]), descend.tensor([2.0, 2.0]))
        tensor(2.)
    """
    input, target, diff = _regression_inputs(input, target, "l1_loss", reduction)
    return _reduce_elementwise(
        "L1LossBackward0", (input, target), np.abs(diff),
        (lambda: np.sign(diff), lambda: -np.sign(diff)), reduction,
    )


def rmse_loss(input, target, *, reduction="mean"):
    """Root mean squared error, sqrt(mean((x - y)^2)), the tutorials' "L2 norm" loss.

    PyTorch has no RMSE loss, so descend defines the reductions as the root of the reduced squared
    error: "mean" gives sqrt(mean((x - y)^2)) (RMSE), "sum" gives sqrt(sum((x - y)^2)) (the Euclidean
    norm of the error), and "none" gives sqrt((x - y)^2) = |x - y| elementwise. Where the error is
    exactly zero the square root has no derivative; the gradient there is taken as 0 (the minimum).

    Args:
        input: predictions.
        target: targets, the same shape as input.
        reduction: "mean" | "sum" | "none".

    Returns:
        A 0-d tensor (mean, sum) or the elementwise losses (none).

    Example:
        >>> F.rmse_loss(descend.tensor([1.0, 3.0]), descend.tensor([1.0, 1.0]))
        tensor(1.4142)
    """
    input, target, diff = _regression_inputs(input, target, "rmse_loss", reduction)
    if reduction == "none":
        return _reduce_elementwise(
            "RmseLossBackward0", (input, target), np.abs(diff),
            (lambda: np.sign(diff), lambda: -np.sign(diff)), reduction,
        )
    n = diff.size
    total = np.vdot(diff, diff) if n else 0.0
    if reduction == "mean":
        root = math.sqrt(total / n) if n else math.nan
        denom = n * root
    else:
        root = math.sqrt(total)
        denom = root
    out = np.asarray(root, dtype=diff.dtype)
    # d sqrt(S / n) / dx = (x - y) / (n * root); zero error gives a zero gradient instead of 0/0.
    scale = 1.0 / denom if denom > 0 else 0.0

    def vjp_input(g):
        return unbroadcast(diff * (g * scale), input.shape).astype(input.dtype, copy=False)

    def vjp_target(g):
        return unbroadcast(diff * (g * -scale), target.shape).astype(target.dtype, copy=False)

    return record("RmseLossBackward0", out, (input, target), (vjp_input, vjp_target))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = x - y.

    Quadratic near zero, linear in the tails, so outliers pull less than in MSE.

    Args:
        input: predictions.
        target: targets, the same shape as input.
        reduction: "mean" | "sum" | "none".
        delta: the threshold between the quadratic and the linear part (> 0).

    Example:
        >>> F.huber_loss(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    if not delta > 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target, diff = _regression_inputs(input, target, "huber_loss", reduction)
    ad = np.abs(diff)
    loss = np.where(ad < delta, 0.5 * diff * diff, delta * (ad - 0.5 * delta)).astype(diff.dtype, copy=False)
    return _reduce_elementwise(
        "HuberLossBackward0", (input, target), loss,
        (lambda: np.clip(diff, -delta, delta), lambda: -np.clip(diff, -delta, delta)), reduction,
    )


# --- losses: binary classification ---


def _optional_array(t, dtype, name):
    if t is None:
        return None
    return _tensor(t)._data.astype(dtype, copy=False)


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """Binary cross-entropy of probabilities: -w [y log x + (1 - y) log(1 - x)].

    Each log is clamped at -100 as in PyTorch, so a probability of exactly 0 or 1 gives a large
    finite loss instead of inf. Prefer `binary_cross_entropy_with_logits` on raw scores: it is
    stable without clamping.

    Args:
        input: probabilities in [0, 1].
        target: targets in [0, 1], the same shape as input.
        weight: optional rescaling weight, broadcast against input.
        reduction: "mean" | "sum" | "none".

    Example:
        >>> F.binary_cross_entropy(descend.tensor([0.5]), descend.tensor([1.0]))
        tensor(0.6931)
    """
    _check_reduction(reduction)
    input, target, dtype = _float_pair(input, target, "binary_cross_entropy")
    _check_same_shape(input, target, "binary_cross_entropy")
    X = input._data.astype(dtype, copy=False)
    Y = target._data.astype(dtype, copy=False)
    if X.size and not (X.min() >= 0 and X.max() <= 1):  # also catches NaN
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities), got "
            f"values in [{X.min()}, {X.max()}]; for raw scores use binary_cross_entropy_with_logits"
        )
    w = _optional_array(weight, dtype, "weight")
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(X), -100)
        log_1mx = np.maximum(np.log1p(-X), -100)
    loss = -(Y * log_x + (1 - Y) * log_1mx)
    if w is not None:
        loss = loss * w

    def d_input():
        # PyTorch's backward: (x - y) / max(x (1 - x), 1e-12), finite at x = 0 or 1.
        d = (X - Y) / np.maximum(X * (1 - X), 1e-12)
        return d if w is None else d * w

    def d_target():
        d = log_1mx - log_x
        return d if w is None else d * w

    return _reduce_elementwise("BinaryCrossEntropyBackward0", (input, target), loss, (d_input, d_target),
                               reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):
    """Binary cross-entropy on raw scores: -w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    Computed as w [(1 - y) x + (1 + (p - 1) y) softplus(-x)], with softplus(z) = max(z, 0) +
    log1p(exp(-|z|)), so it is finite for any finite logit (no sigmoid is formed).

    Args:
        input: logits, any shape.
        target: targets in [0, 1], the same shape as input.
        weight: optional rescaling weight, broadcast against input.
        reduction: "mean" | "sum" | "none".
        pos_weight: optional weight p of positive examples, broadcast against input (one per class,
            the last dimension).

    Example:
        >>> F.binary_cross_entropy_with_logits(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(0.6931)
    """
    _check_reduction(reduction)
    input, target, dtype = _float_pair(input, target, "binary_cross_entropy_with_logits")
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    X = input._data.astype(dtype, copy=False)
    Y = target._data.astype(dtype, copy=False)
    w = _optional_array(weight, dtype, "weight")
    pw = _optional_array(pos_weight, dtype, "pos_weight")
    tail = np.log1p(np.exp(-np.abs(X)))
    sp_neg = np.maximum(-X, 0) + tail  # softplus(-x) = -log sigmoid(x)
    if pw is None:
        loss = (1 - Y) * X + sp_neg
    else:
        loss = (1 - Y) * X + (1 + (pw - 1) * Y) * sp_neg
    if w is not None:
        loss = loss * w

    def d_input():
        sig = np.exp(-sp_neg)  # sigmoid(x), in (0, 1] without overflow
        d = sig - Y if pw is None else sig * (1 - Y + pw * Y) - pw * Y
        return d if w is None else d * w

    def d_target():
        # d/dy [(1 - y) x + (1 + (p - 1) y) sp_neg] = -x + (p - 1) sp_neg
        d = -X if pw is None else -X + (pw - 1) * sp_neg
        return d if w is None else d * w

    return _reduce_elementwise("BinaryCrossEntropyWithLogitsBackward0", (input, target), loss,
                               (d_input, d_target), reduction)


# --- losses: multi-class ---


def _class_layout(input, name):
    """Input of shape (C,), (N, C) or (N, C, d1, ...) as rows (M, C), with a function undoing it."""
    X = input._data
    if X.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if X.ndim == 1:
        return X[None, :], lambda G: G.reshape(X.shape)
    if X.ndim == 2:
        return X, lambda G: G
    moved = np.moveaxis(X, 1, -1)
    rows = moved.reshape(-1, X.shape[1])
    moved_shape = moved.shape
    return rows, lambda G: np.moveaxis(G.reshape(moved_shape), -1, 1)


def _class_targets(input, target, ignore_index, name, n_classes):
    """Validate class-index targets; returns (flat int64 targets, valid mask or None, target shape)."""
    T = target._data
    X = input._data
    expected = X.shape[:1] + X.shape[2:] if X.ndim > 1 else ()
    if T.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class-index targets must be integers (use target.long()), got dtype {T.dtype}"
            + (f"; class-probability targets must be floats of the input's shape {tuple(X.shape)}"
               if T.dtype.kind == "f" else "")
        )
    if T.shape != expected:
        raise ValueError(
            f"{name}: expected class-index targets of shape {expected} for input of shape {tuple(X.shape)} "
            f"(one index per sample: input is (N, C, d1, ...), target (N, d1, ...)), got target of shape "
            f"{tuple(T.shape)}"
        )
    flat = T.reshape(-1).astype(np.int64, copy=False)
    if flat.size == 0:
        return flat, None, T.shape
    lo, hi = int(flat.min()), int(flat.max())
    # The common case (every index in range, ignore_index not among them) costs two reductions.
    valid = None if not lo <= ignore_index <= hi else flat != ignore_index
    if valid is not None and valid.all():
        valid = None
    if lo < 0 or hi >= n_classes:
        bad = (flat < 0) | (flat >= n_classes)
        if valid is not None:
            bad &= valid
        if bad.any():
            first = int(flat[np.argmax(bad)])
            raise IndexError(
                f"{name}: Target {first} is out of bounds: class indices must be in [0, {n_classes - 1}] "
                f"for {n_classes} classes (or equal ignore_index={ignore_index})"
            )
    return flat, valid, T.shape


def _class_weight(weight, n_classes, dtype, name):
    if weight is None:
        return None
    w = _tensor(weight)._data
    if w.shape != (n_classes,):
        raise ValueError(
            f"{name}: weight should be a 1-D tensor with one entry per class (shape ({n_classes},)), "
            f"got shape {tuple(w.shape)}"
        )
    return w.astype(dtype, copy=False)


def _reduce_rows(loss_rows, denom, reduction, target_shape):
    """Reduce per-row losses; returns (output array, per-row gradient scale function)."""
    if reduction == "none":
        return loss_rows.reshape(target_shape), lambda g: g.reshape(-1)
    if reduction == "sum":
        return np.asarray(loss_rows.sum(), loss_rows.dtype), lambda g: g
    if denom == 0:  # every target ignored: PyTorch gives nan and zero gradients
        return np.full((), np.nan, loss_rows.dtype), lambda g: g * 0
    return np.asarray(loss_rows.sum() / denom, loss_rows.dtype), lambda g: g / denom


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class indices or class probabilities (PyTorch's formula).

    With class indices y and class weights w (1 when omitted), per sample
        l = (1 - eps) * (-w[y] log p[y]) + (eps / C) * (-sum_c w[c] log p[c]),  p = softmax(x),
    and 0 where y == ignore_index; "mean" divides the sum by sum(w[y]) over non-ignored samples.
    With class probabilities t (same shape as the input) the target is first smoothed to
    (1 - eps) t + eps / C, then l = -sum_c w[c] t[c] log p[c] and "mean" divides by the number of
    samples.

    Computed from log-sum-exp in one primitive (never log(softmax)), finite for logits of any
    magnitude; the gradient is softmax(x) - onehot(y), weighted and smoothed.

    Args:
        input: logits of shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers) of shape (), (N,) or (N, d1, ...), or class probabilities
            (floats) of the input's shape.
        weight: optional per-class weight of shape (C,).
        ignore_index: a class-index target value that contributes nothing (indices only).
        reduction: "mean" | "sum" | "none".
        label_smoothing: eps in [0, 1].

    Returns:
        A 0-d tensor (mean, sum) or per-sample losses (none).

    Example:
        >>> F.cross_entropy(descend.tensor([[0.0, 0.0]]), descend.tensor([1]))
        tensor(0.6931)
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    input, target = _tensor(input), _tensor(target)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must hold floating-point logits, got dtype {input.dtype}")
    rows, unrows = _class_layout(input, "cross_entropy")
    n_classes = rows.shape[1]
    dtype = rows.dtype
    w = _class_weight(weight, n_classes, dtype, "cross_entropy")
    if target.dtype.kind == "f" and target.shape == input.shape:
        return _soft_cross_entropy(input, target, rows, unrows, w, reduction, label_smoothing)
    t, valid, target_shape = _class_targets(input, target, ignore_index, "cross_entropy", n_classes)
    eps = float(label_smoothing)

    m = rows.max(axis=1, keepdims=True)
    z = rows - m
    lse = np.log(np.exp(z).sum(axis=1))
    n_rows = len(t)
    ar = np.arange(n_rows)
    t_safe = t if valid is None else np.where(valid, t, 0)
    # wy: per-row weight of the true class (w[y]), zero where ignored; None means all ones (fast path)
    wy = None
    if w is not None or valid is not None:
        wy = np.ones(n_rows, dtype) if w is None else w[t_safe]
        if valid is not None:
            wy = wy * valid
    loss = lse - z[ar, t_safe]
    if wy is not None:
        loss *= wy
    if eps:
        loss *= 1 - eps
        # sum_c w[c] (-log p[c]) = W lse - sum_c w[c] z[c], W = sum_c w[c]
        W = n_classes if w is None else w.sum()
        zsum = z.sum(axis=1) if w is None else z @ w
        smooth = (W * lse - zsum) * (eps / n_classes)
        if valid is not None:
            smooth *= valid
        loss += smooth
    denom = float(n_rows if wy is None else wy.sum())
    out, row_scale = _reduce_rows(loss.astype(dtype, copy=False), denom, reduction, target_shape)

    def vjp(g):
        s = row_scale(g)  # scalar or per row
        # p * coef - (1 - eps) w[y] onehot(y) - (eps / C) w, on non-ignored rows, p = softmax
        p = z - lse[:, None]
        np.exp(p, out=p)
        ones = np.ones(n_rows, dtype) if wy is None else wy
        if eps:
            W = n_classes if w is None else w.sum()
            vrow = 1.0 if valid is None else valid
            coef = (1 - eps) * ones + (eps / n_classes) * W * vrow
        else:
            coef = wy
        if coef is None and np.ndim(s) == 0:
            p *= s
            p[ar, t_safe] -= s
            return unrows(p.astype(input.dtype, copy=False))
        coef = ones if coef is None else coef
        p *= (coef * s)[:, None]
        p[ar, t_safe] -= (1 - eps) * ones * s
        if eps:
            sv = s * (1.0 if valid is None else valid)
            wvec = np.ones(n_classes, dtype) if w is None else w
            p -= (eps / n_classes) * np.multiply.outer(np.broadcast_to(sv, (n_rows,)), wvec)
        return unrows(p.astype(input.dtype, copy=False))

    return record("NllLossBackward0", out, (input, target), (vjp, None))


def _soft_cross_entropy(input, target, rows, unrows, w, reduction, eps):
    """Cross-entropy with class-probability targets (see `cross_entropy`)."""
    n_classes = rows.shape[1]
    T = np.moveaxis(target._data, 1, -1).reshape(-1, n_classes) if target.ndim > 2 else (
        target._data.reshape(1, -1) if target.ndim == 1 else target._data)
    T = T.astype(rows.dtype, copy=False)
    if eps:
        T = T * (1 - eps) + eps / n_classes
    wt = T if w is None else T * w  # w[c] t[c]
    m = rows.max(axis=1, keepdims=True)
    z = rows - m
    lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
    logp = z - lse
    loss = -(wt * logp).sum(axis=1)
    target_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    out, row_scale = _reduce_rows(loss, float(len(loss)), reduction, target_shape)

    def vjp_input(g):
        s = row_scale(g)
        # d/dx [-sum_c wt[c] log p[c]] = (sum_c wt[c]) p - wt
        p = np.exp(logp) * wt.sum(axis=1, keepdims=True) - wt
        p *= np.reshape(s, (-1, 1)) if np.ndim(s) else s
        return unrows(p.astype(input.dtype, copy=False))

    def vjp_target(g):
        s = row_scale(g)
        d = -logp * (1 - eps) if w is None else -logp * w * (1 - eps)
        d = d * (np.reshape(s, (-1, 1)) if np.ndim(s) else s)
        return unrows(d.astype(target.dtype, copy=False))

    return record("CrossEntropyLossBackward0", out, (input, target), (vjp_input, vjp_target))


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities: -w[y] x[y] per sample (0 where ignored).

    Pair with `log_softmax`: nll_loss(log_softmax(x, 1), y) equals cross_entropy(x, y). "mean"
    divides by sum(w[y]) over non-ignored samples, as PyTorch documents.

    Args:
        input: log-probabilities of shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices of shape (), (N,) or (N, d1, ...).
        weight: optional per-class weight of shape (C,).
        ignore_index: a target value that contributes nothing.
        reduction: "mean" | "sum" | "none".

    Example:
        >>> F.nll_loss(descend.tensor([[-0.5, -1.0]]), descend.tensor([1]))
        tensor(1.)
    """
    _check_reduction(reduction)
    input, target = _tensor(input), _tensor(target)
    if input.dtype.kind != "f":
        raise TypeError(
            f"nll_loss: input must hold floating-point log-probabilities, got dtype {input.dtype}"
        )
    rows, unrows = _class_layout(input, "nll_loss")
    n_classes = rows.shape[1]
    dtype = rows.dtype
    w = _class_weight(weight, n_classes, dtype, "nll_loss")
    t, valid, target_shape = _class_targets(input, target, ignore_index, "nll_loss", n_classes)
    ar = np.arange(len(t))
    t_safe = t if valid is None else np.where(valid, t, 0)
    wy = np.ones(len(t), dtype) if w is None else w[t_safe]
    if valid is not None:
        wy = wy * valid
    loss = (-rows[ar, t_safe] * wy).astype(dtype, copy=False)
    out, row_scale = _reduce_rows(loss, float(wy.sum()), reduction, target_shape)
    n_rows = len(t)

    def vjp(g):
        grad = np.zeros((n_rows, n_classes), dtype)
        grad[ar, t_safe] = -wy * row_scale(g)
        return unrows(grad.astype(input.dtype, copy=False))

    return record("NllLossBackward0", out, (input, target), (vjp, None))
