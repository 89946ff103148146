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

from . import ops, random
from ._fma import fma as _fma
from .autograd import record, unbroadcast
from .creation import empty_like, zeros_like
from .ops._core import float_dtype_of
from .ops.elementwise import _sigmoid
from .ops.reductions import TORCH_NAMES
from .tensor import _wrap

__all__ = [
    "batch_norm",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "instance_norm",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_with_distance_loss",
    "rms_norm",
    "softshrink",
    "tanhshrink",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "embedding_bag",
    "gaussian_nll_loss",
    "gelu",
    "group_norm",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "local_response_norm",
    "lp_pool1d",
    "lp_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "linear",
    "log_softmax",
    "logsigmoid",
    "margin_ranking_loss",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "poisson_nll_loss",
    "prelu",
    "relu",
    "relu6",
    "rmse_loss",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax",
    "softmin",
    "softplus",
    "softsign",
    "tanh",
    "threshold",
    "triplet_margin_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


_tensor = ops._tensor


# --- activations ---



def _honours_inplace(fn):
    """PyTorch's `inplace=True`: the result is written into the input through the engine's in-place
    path (recorded in the graph like any in-place op), and the input is returned."""
    import functools
    import inspect

    pos = list(inspect.signature(fn).parameters).index("inplace")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not kwargs.get("inplace", args[pos] if len(args) > pos else False):
            return fn(*args, **kwargs)
        from .ops.inplace import apply

        args = list(args)
        if len(args) > pos:
            args[pos] = False
        else:
            kwargs["inplace"] = False
        input = args.pop(0) if args else kwargs.pop("input")
        return apply(input, lambda t: fn(t, *args, **kwargs))

    return wrapper


@_honours_inplace
def relu(input, inplace=False):
    """max(x, 0), elementwise.

    Args:
        input: a tensor.
        inplace: write the result into `input` (its in-place form) and return it.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> F.relu(descend.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return ops.relu(_tensor(input))


@_honours_inplace
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x.

    Args:
        input: a tensor.
        negative_slope: the slope for negative inputs.
        inplace: write the result into `input` (its in-place form) and return it.

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


# C's M_SQRT1_2, M_SQRT2 and M_2_SQRTPI, and the constants PyTorch's GELU kernels derive from them
_M_SQRT1_2 = 0.70710678118654752440
_M_SQRT2 = 1.41421356237309504880
_M_2_SQRTPI = 1.12837916709551257390
_GELU_PDF = _M_2_SQRTPI * _M_SQRT1_2 * 0.5  # 1 / sqrt(2 pi)
_GELU_BETA = _M_SQRT2 * _M_2_SQRTPI * 0.5  # sqrt(2 / pi)
_GELU_KAPPA = 0.044715


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
    # NOTE: one fused node (GeluBackward0), PyTorch's CPU kernel formulas in their order of operations,
    # with the fused multiply-adds its compiled kernel has; float32's erf is PyTorch's vectorised one.
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    if approximate == "none":
        with np.errstate(over="ignore", invalid="ignore"):
            erf = _kernel_erf(X * dt(_M_SQRT1_2))  # kept for the backward (PyTorch recomputes it)
            out = X * dt(0.5) * (1 + erf)
        return _fused("GeluBackward0", x, X, out,
                      lambda g, X: g * _fma(X, dt(_GELU_PDF) * np.exp(X * X * dt(-0.5)), dt(0.5) * (1 + erf)))

    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh(dt(_GELU_BETA) * _fma(dt(_GELU_KAPPA), X * X * X, X))  # kept for the backward
        out = dt(0.5) * X * (1 + t)

    def vjp(g, X):
        left = dt(0.5) * X
        tanh_derivative = _fma(-t, t, dt(1))
        inner_derivative = dt(_GELU_BETA) * _fma(dt(3) * dt(_GELU_KAPPA), X * X, dt(1))
        return g * _fma(left * tanh_derivative, inner_derivative, dt(0.5) * (1 + t))

    return _fused("GeluBackward0", x, X, out, vjp)


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


@_honours_inplace
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) ("inverted" dropout).

    The expected value of every element is unchanged, so nothing needs rescaling at evaluation time,
    when (training=False) the input is returned as it is. The mask is PyTorch's for the same seed
    (`descend.manual_seed`): `bernoulli_(1 - p)` from the global generator, divided by 1 - p.

    Args:
        input: a tensor.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout only when True.
        inplace: write the result into `input` (its in-place form) and return it.

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
        scale = random.default_generator.bernoulli(X.shape, 1.0 - p).astype(dtype)
        scale /= dtype.type(1.0 - p)
    # PyTorch's CPU dropout multiplies by the mask: MulBackward0
    return record("MulBackward0", X * scale, (x,), (lambda g: g * scale,))


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


def _reduce_elementwise(name, parents, loss, partials, reduction, *, full=False):
    """Record an elementwise loss with its reduction folded into one primitive.

    Args:
        name: the backward node's name.
        parents: the input tensors (input, target).
        loss: the elementwise loss (the broadcast shape of the parents).
        partials: per parent, a function returning d(loss element)/d(parent) elementwise (called only
            during backward), or None when that parent can get no gradient.
        reduction: "mean", "sum" or "none".
        full: the partials are instead `partial(g, n)`, returning the gradient itself in PyTorch's
            order of operations, given the output gradient `g` and n, the element count for "mean"
            (None otherwise), so each loss applies the mean's 1 / n where PyTorch does.
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
            if full:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    grad = partial(g, n if reduction == "mean" else None)
                return unbroadcast(np.asarray(grad), shape).astype(dtype, copy=False)
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

    # PyTorch's backward: (norm (x - y)) g, norm = scalar_t(2 / n) for "mean" (2 otherwise); the
    # target's is its negation, exactly
    norm = diff.dtype.type(scale)

    def grad(g):  # (2 d) g is d (2 g) exactly: one pass for "sum" and "none"
        return (norm * diff) * g if reduction == "mean" else diff * (g * norm)

    def vjp_input(g):
        return unbroadcast(grad(g), input.shape).astype(input.dtype, copy=False)

    def vjp_target(g):
        return unbroadcast(-grad(g), target.shape).astype(target.dtype, copy=False)

    return record("MseLossBackward0", out, (input, target), (vjp_input, vjp_target))


def l1_loss(input, target, *, reduction="mean"):
    """Mean absolute error: mean(|x - y|); the gradient at x == y is 0, as in PyTorch.

    Example:
        >>> F.l1_loss(descend.tensor([1.0, 5.0]), descend.tensor([2.0, 2.0]))
        tensor(2.)
    """
    # NOTE: fused (PyTorch's composite (x - y).abs().mean() measured 1.7x slower on a (128, 256)
    # input), named as the composite's last node (MeanBackward0, SumBackward0 or AbsBackward0), with
    # its gradient: sign(x - y) times g / n for "mean" (MeanBackward0's division)
    input, target, diff = _regression_inputs(input, target, "l1_loss", reduction)
    node = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}[reduction]

    sign = []

    def d_input(g, n):
        if not sign:  # computed once for both gradients; [d > 0] - [d < 0] is PyTorch's sgn (0 at NaN)
            sign.append(np.subtract(diff > 0, diff < 0, dtype=diff.dtype))
        return sign[0] * (g if n is None else g / diff.dtype.type(n))

    return _reduce_elementwise(node, (input, target), np.abs(diff),
                               (d_input, lambda g, n: -d_input(g, n)), reduction, full=True)


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
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target, diff = _regression_inputs(input, target, "huber_loss", reduction)
    ad = np.abs(diff)
    loss = np.where(ad < delta, 0.5 * diff * diff, delta * (ad - 0.5 * delta)).astype(diff.dtype, copy=False)
    # PyTorch's backward: (norm clamp(x - y, -delta, delta)) g, norm = scalar_t(1 / n) for "mean"
    return _reduce_elementwise(
        "HuberLossBackward0", (input, target), loss,
        (lambda g, n: _normed(np.clip(diff, -delta, delta), n) * g,
         lambda g, n: -(_normed(np.clip(diff, -delta, delta), n) * g)), reduction, full=True,
    )


def _normed(d, n):
    """PyTorch's regression backward kernels' first product: scalar_t(1 / n) * d for a mean."""
    return d if n is None else d.dtype.type(1.0 / n) * d


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
    if input.dtype != target.dtype:  # PyTorch's kernel wants one dtype, with no promotion
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype} but expected {input.dtype}")
    _check_same_shape(input, target, "binary_cross_entropy")
    X = input._data.astype(dtype, copy=False)
    Y = target._data.astype(dtype, copy=False)
    if X.size and not (X.min() >= 0 and X.max() <= 1):  # also catches NaN
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities), got "
            f"values in [{X.min()}, {X.max()}]; for raw scores use binary_cross_entropy_with_logits"
        )
    if Y.size and not (Y.min() >= 0 and Y.max() <= 1):  # PyTorch checks the target too
        raise RuntimeError(
            f"binary_cross_entropy: all elements of target should be between 0 and 1, got values in "
            f"[{Y.min()}, {Y.max()}]"
        )
    w = _optional_array(weight, dtype, "weight")
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(X), -100)
        log_1mx = np.maximum(np.log1p(-X), -100)
    loss = (Y - 1) * log_1mx - Y * log_x  # PyTorch's kernel, in its order
    if w is not None:
        loss = loss * w
    eps = X.dtype.type(1e-12)

    def finish(d, n):  # PyTorch: times the weight, then divided by n for "mean"
        if w is not None:
            d = d * w
        return d if n is None else d / X.dtype.type(n)

    def d_input(g, n):
        # PyTorch's backward: g (x - y) / max((1 - x) x, 1e-12), finite at x = 0 or 1
        return finish(g * (X - Y) / np.maximum((1 - X) * X, eps), n)

    def d_target(g, n):
        return finish(-np.log(X / (1 - X)) * g, n)  # -logit(x) g

    return _reduce_elementwise("BinaryCrossEntropyBackward0", (input, target), loss, (d_input, d_target),
                               reduction, full=True)


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

    def finish(d, g, n):  # PyTorch: times g, times the weight, then divided by n for "mean"
        d = d * g
        if w is not None:
            d = d * w
        return d if n is None else d / X.dtype.type(n)

    def d_input(g, n):
        sig = _sigmoid(X)
        if pw is None:
            return finish(sig - Y, g, n)
        t = pw * Y
        return finish((t + 1 - Y) * sig - t, g, n)

    def d_target(g, n):
        if pw is None:
            return finish(-X, g, n)
        # PyTorch's log_sigmoid(-x) - log_sigmoid(x) p
        return finish((np.minimum(-X, 0) - tail) - (np.minimum(X, 0) - tail) * pw, g, n)

    return _reduce_elementwise("BinaryCrossEntropyWithLogitsBackward0", (input, target), loss,
                               (d_input, d_target), reduction, full=True)


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
        raise RuntimeError(
            f"{name}: class-index targets must be integers (use target.long()), got dtype {T.dtype}"
            + (f"; class-probability targets must be floats of the input's shape {tuple(X.shape)}"
               if T.dtype.kind == "f" else "")
        )
    if T.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"{name}: expected target dtype to be Long or Byte (int64 or uint8), but got {T.dtype}"
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
        raise RuntimeError(
            f"{name}: weight should be a 1-D tensor with one entry per class (shape ({n_classes},)), "
            f"got shape {tuple(w.shape)}"
        )
    if w.dtype != dtype:  # PyTorch does not promote a class weight to the input's dtype
        raise RuntimeError(
            f"{name}: expected scalar type {dtype} for weight (the input's), but found {w.dtype}"
        )
    return w


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
    if valid is not None:  # ignored rows contribute 0 even when their logits are NaN or -inf
        loss = np.where(valid, loss, 0)
    if eps:
        loss *= 1 - eps
        # sum_c w[c] (-log p[c]) = W lse - sum_c w[c] z[c], W = sum_c w[c]
        W = n_classes if w is None else w.sum()
        zsum = z.sum(axis=1) if w is None else z @ w
        smooth = (W * lse - zsum) * (eps / n_classes)
        if valid is not None:
            smooth = np.where(valid, smooth, 0)
        loss += smooth
    denom = float(n_rows if wy is None else wy.sum())
    out, row_scale = _reduce_rows(loss.astype(dtype, copy=False), denom, reduction, target_shape)

    def vjp(g):
        s = row_scale(g)  # scalar or per row
        # p * coef - (1 - eps) w[y] onehot(y) - (eps / C) w, on non-ignored rows, p = softmax
        p = z - lse[:, None]
        np.exp(p, out=p)
        if not eps:
            # PyTorch's NllLossBackward0 then LogSoftmaxBackward0: the row's one nonzero nll gradient
            # s = w[y] * -(g / total weight), then s onehot(y) - exp(log_softmax) s, a fused
            # multiply-add on the target's column and a plain product elsewhere
            sn = np.asarray(np.negative(s) if wy is None else wy * np.negative(s), dtype)
            at_target = _fma(-p[ar, t_safe], sn, sn)
            p *= np.negative(sn) if sn.ndim == 0 else np.negative(sn)[:, None]
            p[ar, t_safe] = at_target
            return unrows(p.astype(input.dtype, copy=False))
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
    loss = -rows[ar, t_safe] * wy
    if valid is not None:  # ignored rows contribute 0 even when their log-probabilities are NaN
        loss = np.where(valid, loss, 0)
    loss = loss.astype(dtype, copy=False)
    out, row_scale = _reduce_rows(loss, float(wy.sum()), reduction, target_shape)
    n_rows = len(t)

    def vjp(g):
        grad = np.zeros((n_rows, n_classes), dtype)
        grad[ar, t_safe] = -wy * row_scale(g)
        return unrows(grad.astype(input.dtype, copy=False))

    return record("NllLossBackward0", out, (input, target), (vjp, None))


# --- more activations ---


def _elementwise(name, x, out, keep):
    """Record a fused elementwise activation whose gradient is `g` where the mask `keep()` (computed
    during backward) holds and +0 elsewhere, as PyTorch's vectorised masks select it."""
    X = x._data
    return record(name, out.astype(X.dtype, copy=False), (x,),
                  (lambda g: _select(keep(), np.asarray(g, X.dtype)),), saved=(x,))


_INTS = {2: np.int16, 4: np.int32, 8: np.int64}


def _select(keep, values, out=None):
    """`values` where `keep`, +0.0 elsewhere, bit for bit: PyTorch's vectorised `mask & values`
    (never NaN from inf * 0, and no -0.0). Into `out` when given (it may be `values`).

    NOTE: a bitwise and, not np.where: 3x faster on a (128, 256) float32 gradient.
    """
    values = np.asarray(values)
    bits = values.view(_INTS[values.itemsize])
    mask = np.asarray(keep).astype(bits.dtype)
    np.negative(mask, out=mask)  # all ones where kept
    if out is None:
        out = mask.view(values.dtype) if mask.shape == values.shape else np.empty(values.shape, values.dtype)
    np.bitwise_and(bits, mask, out=out.view(bits.dtype))
    return out


def _blend(mask, a, b):
    """`a` where `mask`, else `b`, bit for bit (np.where's result, PyTorch's blendv), as two bitwise
    selects and an or; `a` and `b` are arrays of the result's shape and dtype."""
    out = _select(mask, a)
    bits = out.view(_INTS[out.itemsize])
    np.bitwise_or(bits, _select(~mask, b).view(bits.dtype), out=bits)
    return out


def _float_data(x):
    """The input's array, integers and bools as the default float dtype (as the engine's unary ops);
    a 0-d input as one element (NumPy gives scalars, not arrays, for 0-d results: no `out=`)."""
    X = x._data
    X = X if X.dtype.kind == "f" else X.astype(float_dtype_of(X.dtype))
    return X.reshape(1) if X.ndim == 0 else X


def _fused(name, x, X, out, vjp):
    """Record a fused activation as one node: `vjp(g, X)` is PyTorch's backward formula, written in
    its order of operations, on the input's array `X`."""
    out = np.asarray(out).astype(X.dtype, copy=False)
    inner_shape = out.shape  # one element for a 0-d input (see `_float_data`)

    def backward(g):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            grad = vjp(np.reshape(g, inner_shape), X)
        return np.asarray(grad).astype(X.dtype, copy=False).reshape(x.shape)

    return record(name, out.reshape(x.shape) if x.ndim == 0 else out, (x,), (backward,), saved=(x,))


def _kernel_erf(z):
    """erf as PyTorch's vectorised CPU kernels compute it.

    float32 (and float16): Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7) with
    PyTorch's fused multiply-adds: t = 1 / (p |z| + 1), erf = sign(z) (1 - t r(t) exp(-z^2)).
    float64: erf to the last digit.
    """
    if z.dtype == np.float64:
        from .ops.elementwise import _erf

        return _erf(z)
    f = z.dtype.type
    t = f(1) / _fma(f(0.3275911), np.abs(z), f(1))
    r = _fma(_fma(_fma(_fma(f(1.061405429), t, f(-1.453152027)), t, f(1.421413741)), t, f(-0.284496736)), t,
             f(0.254829592))
    return np.copysign(_fma(-np.exp(-(z * z)) * t, r, f(1)), z)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0; the gradient is 1 there and 0 elsewhere.

    Example:
        >>> F.hardshrink(descend.tensor([-1.0, 0.2, 0.7]))
        tensor([-1.0000,  0.0000,  0.7000])
    """
    # PyTorch's kernels: 0 on [-lambd, lambd] (NaN passes through); the gradient flows outside it
    x = _tensor(input)
    X = x._data
    zero = (X >= -lambd) & (X <= lambd)
    keep = (X < -lambd) | (X > lambd)
    return _elementwise("HardshrinkBackward0", x, _select(~zero, X), lambda: keep)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between; lambd must be >= 0.

    Example:
        >>> F.softshrink(descend.tensor([-1.0, 0.2, 0.7]))
        tensor([-0.5000,  0.0000,  0.2000])
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = _tensor(input)
    X = x._data
    keep = (X < -lambd) | (X > lambd)
    # PyTorch's kernel: x * 0 between (-0.0 for negative x, NaN for NaN)
    with np.errstate(invalid="ignore"):
        out = _blend(X > lambd, X - lambd, _blend(X < -lambd, X + lambd, X * 0))
    return _elementwise("SoftshrinkBackward0", x, out, lambda: keep)


def tanhshrink(input):
    """x - tanh(x).

    Example:
        >>> F.tanhshrink(descend.tensor([0.0]))
        tensor([0.])
    """
    x = _tensor(input)
    return x - ops.tanh(x)


def glu(input, dim=-1):
    """The gated linear unit: a * sigmoid(b), where a and b are the two halves of `input` along `dim`.

    Example:
        >>> F.glu(descend.tensor([[1.0, 0.0]]))
        tensor([[0.5000]])
    """
    x = _tensor(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % x.ndim if -x.ndim <= dim < x.ndim else dim
    if not 0 <= d < x.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], "
                         f"but got {dim})")
    n = x.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    # NOTE: one fused node (GluBackward0), PyTorch's kernels: a * (1 / (1 + exp(-b)))
    # forward; backward sigmoid(b) g for a and (((1 - s) s) a) g for b
    X = _float_data(x)
    A, B = np.split(X, 2, axis=d)
    sig = _sigmoid(B)
    out = A * sig

    def vjp(g, X):
        return np.concatenate([sig * g, (1 - sig) * sig * A * g], axis=d)

    return _fused("GluBackward0", x, X, out, vjp)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing `normalized_shape` dims, times `weight`.

    eps=None takes the machine epsilon of the input's dtype, as PyTorch does.

    Example:
        >>> F.rms_norm(descend.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    x = _tensor(input)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(v) for v in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(str(v) for v in shape)}], but got input of size{list(x.shape)}"
        )
    if eps is None:
        eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else float(np.finfo(np.float32).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    out = x * ops.rsqrt(ops.mean(x * x, dims, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    return out


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (numerically linear there).

    Args:
        input: a tensor.
        beta: the sharpness (softplus tends to relu as beta grows).
        threshold: above this value of beta x the function is the identity.

    Example:
        >>> F.softplus(descend.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """
    # NOTE: fused (SoftplusBackward0), PyTorch's formulas: log1p(exp(beta x)) / beta and, backward,
    # g z / (z + 1) with z = exp(beta x). Where exp(beta x) overflows (a threshold above ~88 in
    # float32) PyTorch gives inf forward and NaN backward; this gives the finite limits instead,
    # x + log1p(exp(-beta x)) / beta and g.
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    beta_, threshold_ = dt(beta), dt(threshold)
    z = X if beta_ == 1 else X * beta_  # (x * 1 and / 1 are exact: skipped)
    linear = z > threshold_
    with np.errstate(over="ignore"):
        e = np.exp(z)  # kept for the backward (PyTorch recomputes it: same values)
    soft = np.log1p(e)
    out = _blend(linear, X, soft if beta_ == 1 else soft / beta_)
    # exp(z) overflows only above log(max): never when the threshold is below it (the default 20)
    overflow = np.isinf(e) & ~linear if threshold_ >= np.log(np.finfo(X.dtype).max) else None
    if overflow is not None and overflow.any():
        out = np.where(overflow, X + np.log1p(np.exp(-z)) / beta_, out)
        linear = linear | overflow

    def vjp(g, X):
        g = np.asarray(g, X.dtype)
        return _blend(linear, np.broadcast_to(g, X.shape), g * e / (e + 1))

    return _fused("SoftplusBackward0", x, X, out, vjp)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow.

    Example:
        >>> F.logsigmoid(descend.tensor([0.0]))
        tensor([-0.6931])
    """
    # NOTE: fused for stability, PyTorch's kernels: min(x, 0) - log1p(exp(-|x|)) is finite for every
    # finite x (log(sigmoid(x)) underflows to -inf below about -100 in float32); the backward is
    # (max' - sign (b / (1 + b))) g with b = exp(-|x|), max' 1 and sign 1 for x < 0, else 0 and -1.
    x = _tensor(input)
    X = _float_data(x)
    buffer = np.abs(X)  # exp(-|x|), PyTorch's saved buffer, computed in place
    np.negative(buffer, out=buffer)
    np.exp(buffer, out=buffer)
    out = np.minimum(X, 0)
    out -= np.log1p(buffer)

    def vjp(g, X):
        # (1 - 1 q) and (0 - -1 q) are 1 - q and q exactly (0 <= q <= 1/2), no selects or multiply
        q = buffer + 1
        np.divide(buffer, q, out=q)
        np.subtract((X < 0).astype(q.dtype), q, out=q)  # 1 - q, or -q (made q by the abs)
        np.abs(q, out=q)
        q *= g
        return q

    return _fused("LogSigmoidBackward0", x, X, out, vjp)


@_honours_inplace
def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish).

    Example:
        >>> F.silu(descend.tensor([1.0]))
        tensor([0.7311])
    """
    # NOTE: one fused node (SiluBackward0), PyTorch's kernel formulas: x / (1 + exp(-x)) forward, and
    # g s (1 + x (1 - s)) backward with s = 1 / (1 + exp(-x)) and the sum fused into a multiply-add.
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    denominator = np.negative(X)  # 1 + exp(-x), in place; kept for the backward (PyTorch recomputes it)
    with np.errstate(over="ignore", invalid="ignore"):
        np.exp(denominator, out=denominator)
        denominator += 1
        out = X / denominator  # -inf / inf is NaN, as in PyTorch

    def vjp(g, X):
        s = np.divide(1, denominator)
        grad = g * s
        np.subtract(1, s, out=s)
        grad *= _fma(X, s, dt(1), out=s)
        return grad

    return _fused("SiluBackward0", x, X, out, vjp)


@_honours_inplace
def mish(input, inplace=False):
    """x * tanh(softplus(x)).

    Example:
        >>> F.mish(descend.tensor([1.0]))
        tensor([0.8651])
    """
    # NOTE: one fused node (MishBackward0), PyTorch's kernel formulas: x tanh(log1p(exp(x))) forward
    # (exp(x) = inf for large x gives tanh(inf) = 1, so x), and g (t + x s (1 - t t)) backward with
    # t = tanh(log1p(exp(x))), s = 1 / (1 + exp(-x)) and its two multiply-adds fused.
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh(np.log1p(np.exp(X)))  # kept for the backward (PyTorch recomputes it: same values)
        out = X * t  # -inf * 0 is NaN, as in PyTorch

    def vjp(g, X):
        s = _sigmoid(X)
        return g * _fma(X * s, _fma(-t, t, dt(1)), t)

    return _fused("MishBackward0", x, X, out, vjp)


def _elu(name, input, alpha, scale, input_scale, backward_input_scale=None, inplace=False, from_result=False):
    """PyTorch's ELU kernel: expm1(x input_scale) alpha scale for x <= 0, x scale above; backward
    ((g input_scale) (alpha scale)) exp(x input_scale) and g scale, the coefficients in the dtype.

    In place, PyTorch records EluBackward1 (CeluBackward1), whose backward reads the result y
    instead: (g input_scale) (y + alpha scale) where y <= 0.
    """
    if inplace:
        from .ops.inplace import apply

        return apply(_tensor(input), lambda t: _elu(name[:-1] + "1", t, alpha, scale, input_scale,
                                                    backward_input_scale, from_result=True))
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    negcoef = dt(alpha) * dt(scale)
    poscoef = dt(scale)
    forward_scale = dt(input_scale)
    backward_scale = dt(input_scale if backward_input_scale is None else backward_input_scale)
    positive = X > 0

    def times(a, c):  # a * c, skipping the exact multiplication by 1
        return a if c == 1 else a * c

    # NOTE: the exponentials of min(x s, 0): the same values where they are used, and no overflow
    # where they are not (or expm1's slow path: 0.7x of its time on a (128, 256) normal input)
    scaled = times(X, forward_scale)
    negative = times(np.expm1(np.copysign(np.minimum(scaled, 0), scaled)), negcoef)  # expm1(-0) is -0
    out = _blend(positive, times(X, poscoef), negative)

    def vjp_from_result(g, X):
        negative = times(g, backward_scale) * (out + negcoef)
        return _blend(out > 0, np.broadcast_to(times(g, poscoef), X.shape), negative)

    def vjp(g, X):
        negative = times(times(g, backward_scale), negcoef) * np.exp(np.minimum(times(X, backward_scale), 0))
        if poscoef == 1 and backward_scale == 1 and negcoef == 1:
            return negative  # g exp(0) = g where x > 0: no select needed
        return _blend(positive, np.broadcast_to(times(g, poscoef), X.shape), negative)

    return _fused(name, x, X, out, vjp_from_result if from_result else vjp)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (exp(x) - 1) otherwise.

    Example:
        >>> F.elu(descend.tensor([-1.0, 2.0]))
        tensor([-0.6321,  2.0000])
    """
    return _elu("EluBackward0", input, alpha, 1.0, 1.0, inplace=inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants (alpha 1.6733, scale 1.0507).

    Example:
        >>> F.selu(descend.tensor([1.0]))
        tensor([1.0507])
    """
    return _elu("EluBackward0", input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace=inplace)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    Example:
        >>> F.celu(descend.tensor([-1.0]), alpha=2.0)
        tensor([-0.7869])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    # PyTorch: elu with input_scale 1 / alpha, recorded as CeluBackward0, whose backward takes the
    # input scale as 1.0 / float32(alpha) (its derivative formula's `1.0 / alpha.toFloat()`)
    return _elu("CeluBackward0", input, alpha, 1.0, 1.0 / alpha, 1.0 / float(np.float32(alpha)),
                inplace=inplace)


@_honours_inplace
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere (as PyTorch).

    Example:
        >>> F.hardtanh(descend.tensor([-2.0, 0.5, 2.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    x = _tensor(input)
    X = x._data
    out = np.clip(X, min_val, max_val)
    return _elementwise("HardtanhBackward0", x, out, lambda: (X > min_val) & (X < max_val))


@_honours_inplace
def relu6(input, inplace=False):
    """min(max(x, 0), 6).

    Example:
        >>> F.relu6(descend.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0)


@_honours_inplace
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between.

    Example:
        >>> F.hardsigmoid(descend.tensor([0.0]))
        tensor([0.5000])
    """
    # PyTorch's kernels: min(max(x + 3, 0), 6) / 6; the gradient is g * float32(1 / 6) strictly
    # between -3 and 3 (the constant is float32's 1/6 in every dtype, float64 too), else 0
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    out = X + dt(3)  # min(max(x + 3, 0), 6) / 6: np.clip is that selection (NaN too), in one pass
    np.clip(out, dt(0), dt(6), out=out)
    out /= dt(6)
    sixth = dt(np.float32(1.0) / np.float32(6.0))
    def vjp(g, X):
        grad = g * sixth
        return _select(np.abs(X) < 3, grad, out=grad)  # -3 < x < 3 (not NaN); +0 outside, whatever g

    return _fused("HardsigmoidBackward0", x, X, out, vjp)


@_honours_inplace
def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6.

    Example:
        >>> F.hardswish(descend.tensor([1.0]))
        tensor([0.6667])
    """
    # PyTorch's kernels: x * min(max(x + 3, 0), 6) / 6; the derivative is 0 up to -3, g (x / 3 + 0.5)
    # strictly between -3 and 3 (NaN at NaN), g from 3 on
    x = _tensor(input)
    X = _float_data(x)
    dt = X.dtype.type
    out = X + dt(3)  # x * min(max(x + 3, 0), 6) / 6, in place (np.clip: that selection, NaN too)
    np.clip(out, dt(0), dt(6), out=out)
    with np.errstate(invalid="ignore"):
        out *= X  # -inf * 0 is NaN, as in PyTorch
    out /= dt(6)

    def vjp(g, X):
        grad = X / dt(3)
        grad += dt(0.5)
        grad *= g
        high = X >= 3
        return _blend(~((X <= -3) | high), grad, _select(high, np.asarray(g, X.dtype)))

    return _fused("HardswishBackward0", x, X, out, vjp)


def softsign(input):
    """x / (1 + |x|).

    Example:
        >>> F.softsign(descend.tensor([1.0]))
        tensor([0.5000])
    """
    x = _tensor(input)
    return x / (ops.abs(x) + 1)


@_honours_inplace
def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value.

    Example:
        >>> F.threshold(descend.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    # PyTorch's kernel: `value` where x <= threshold, else x (NaN passes, and so does its gradient)
    x = _tensor(input)
    X = x._data
    drop = X <= threshold
    return _elementwise("ThresholdBackward0", x, np.where(drop, value, X), lambda: ~drop)


def prelu(input, weight):
    """x where x > 0, else weight * x; a weight of C elements applies per channel (dim 1).

    Example:
        >>> F.prelu(descend.tensor([-2.0, 2.0]), descend.tensor([0.25]))
        tensor([-0.5000,  2.0000])
    """
    x, w = _tensor(input), _tensor(weight)
    if w.numel() != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1  # PyTorch: below 2 dims there is one channel
        if w.numel() != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{w.numel()} and channel size = {channels}."
            )
        if x.ndim >= 2:
            w = ops.reshape(w, (channels,) + (1,) * (x.ndim - 2))
    elif w.ndim:
        w = ops.reshape(w, ())
    # NOTE: one fused node (PreluKernelBackward0), PyTorch's kernel: x where x > 0, else w x; backward
    # g or w g for the input, 0 or x g for the weight (summed over the broadcast dims)
    X = _float_data(x)
    W = w._data.astype(X.dtype, copy=False)
    positive = X > 0
    out = _blend(positive, X, np.broadcast_to(W, X.shape) * X)

    def vjp_input(g):
        g = np.reshape(np.asarray(g, X.dtype), X.shape)
        return _blend(positive, g, np.broadcast_to(W * g, X.shape)).reshape(x.shape)

    def vjp_weight(g):
        grad = _select(~positive, X * np.reshape(g, X.shape)).reshape(x.shape)
        return unbroadcast(grad, w.shape).astype(w.dtype, copy=False)

    return record("PreluKernelBackward0", out.reshape(x.shape), (x, w), (vjp_input, vjp_weight), saved=(x, w))


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along `dim`.

    Example:
        >>> F.softmin(descend.tensor([[0.0, 0.0]]), dim=1)
        tensor([[0.5000, 0.5000]])
    """
    x = _tensor(input)
    return ops.softmax(-x, _softmax_dim("softmin", x.ndim, dim), dtype)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (Concrete) distribution: softmax((logits + g) / tau), g ~ Gumbel(0, 1).

    Jang et al., https://arxiv.org/abs/1611.01144; Maddison et al., https://arxiv.org/abs/1611.00712.
    As PyTorch's: the Gumbel noise is -log of an `exponential_()` draw (so a seed gives PyTorch's
    sample), and `hard=True` returns the one-hot of the argmax in the forward pass while the gradient
    is the soft sample's (the straight-through estimator: y_hard - y_soft.detach() + y_soft).
    `eps` is accepted for compatibility and unused, as in PyTorch (where it is deprecated).

    Example:
        >>> descend.manual_seed(0)
        >>> F.gumbel_softmax(descend.zeros(1, 3), tau=0.5, hard=True).sum()
        tensor(1.)
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    logits = _tensor(logits)
    gumbels = -empty_like(logits).exponential_().log()  # ~ Gumbel(0, 1)
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft  # the reparametrisation trick
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# --- normalisation and similarity ---


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along `dim`: unit-norm slices.

    Example:
        >>> F.normalize(descend.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported by descend; use the returned tensor")
    x = _tensor(input)
    if x.dtype.kind not in "fc":  # PyTorch's vector_norm refuses integers rather than promote them
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}"
        )
    return x / ops.clamp(ops.norm(x, p, dim, True), min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along `dim` (the inputs broadcast).

    Example:
        >>> F.cosine_similarity(descend.tensor([[1.0, 0.0]]), descend.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    a, b = _tensor(x1), _tensor(x2)
    common = ops.result_type(a, b)
    if common.kind not in "fc":
        name = TORCH_NAMES.get(common.name, common.name)
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {name}")
    a, b = a.to(common), b.to(common)  # an integer operand takes part in the floating common dtype
    if a.shape != b.shape:  # the norms are over the broadcast inputs, as in PyTorch
        shape = np.broadcast_shapes(a.shape, b.shape)
        a, b = ops.broadcast_to(a, shape), ops.broadcast_to(b, shape)
    return ops.sum((a / _norm_at_least(a, dim, eps)) * (b / _norm_at_least(b, dim, eps)), dim)


def _norm_at_least(x, dim, eps):
    """||x||_2 along `dim` (kept), raised to `eps` where smaller, with the gradient of the unclamped norm.

    PyTorch's cosine_similarity clamps a clone of the norms in place under no_grad, so the clamp
    is invisible to autograd: the gradient flows through x / max(||x||, eps) and through ||x||
    as if it were not clamped. A straight-through primitive gives exactly that.
    """
    n = ops.norm(x, 2, dim, True)
    return record("CloneBackward0", np.maximum(n._data, np.asarray(eps, dtype=n._data.dtype)), (n,),
                  (lambda g: g,))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension.

    Example:
        >>> F.pairwise_distance(descend.tensor([[0.0, 0.0]]), descend.tensor([[3.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    a, b = _tensor(x1), _tensor(x2)
    diff = a - b + eps
    return ops.norm(diff, p, diff.ndim - 1 if diff.ndim else None, keepdim)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing `normalized_shape` dims per sample, then scale and shift.

    One fused primitive (see `descend.ops.normalization`).

    Example:
        >>> F.layer_norm(descend.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    return ops.layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Normalise each channel (dim 1) by batch statistics (training) or the running ones (evaluation).

    In training the running statistics, when given, are updated in place with `momentum` (the
    variance unbiased). One fused primitive (see `descend.ops.normalization`).

    Example:
        >>> F.batch_norm(descend.tensor([[1.0], [3.0]]), None, None, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
    """
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            "batch_norm: running_mean and running_var must be defined in evaluation mode (training=False)"
        )
    return ops.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalise each (sample, channel) slice of (N, C, *) over its spatial dims, then scale and shift.

    PyTorch's way: a batch norm of the input viewed as (1, N * C, *), with weight, bias and the
    running statistics repeated N times; the running statistics then take the mean of the N
    updated copies.

    Example:
        >>> F.instance_norm(descend.tensor([[[1.0, 3.0]]]))
        tensor([[[-1.0000,  1.0000]]])
    """
    x = _tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dimensions (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    if use_input_stats and math.prod(x.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {list(x.shape)}"
        )
    N, C = x.shape[:2]

    def repeated(t):
        return None if t is None else ops.repeat(_tensor(t), N)

    def repeated_stats(t):
        # copies in the input's dtype: PyTorch's instance norm accepts float32 running statistics
        # with a float64 input (its batch norm would not), and casts the update back
        return None if t is None else _wrap(np.tile(t._data, N).astype(x.dtype, copy=False))

    rm, rv = repeated_stats(running_mean), repeated_stats(running_var)
    flat = ops.reshape(x, (1, N * C) + tuple(x.shape[2:]))
    out = ops.batch_norm(flat, repeated(weight), repeated(bias), rm, rv, use_input_stats, momentum, eps)
    if use_input_stats:
        for t, r in ((running_mean, rm), (running_var, rv)):
            if t is not None:
                t._data[...] = r._data.reshape(N, C).mean(axis=0).astype(t.dtype, copy=False)
                t._version[0] += 1
    return ops.reshape(out, x.shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise groups of channels per sample, then scale and shift each channel.

    Example:
        >>> F.group_norm(descend.tensor([[1.0, 3.0]]), 1)
        tensor([[-1.0000,  1.0000]])
    """
    x = _tensor(input)
    if x.ndim >= 2 and num_groups > 0:
        # PyTorch's F.group_norm check (its _verify_batch_size on [N * C // G, G, *spatial]),
        # in training and evaluation alike
        values = x.shape[0] * x.shape[1] // num_groups * math.prod(x.shape[2:])
        if values == 1:
            size = [x.shape[0] * x.shape[1] // num_groups, num_groups] + list(x.shape[2:])
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    return ops.group_norm(x, num_groups, weight, bias, eps)


# --- embeddings, one-hot, padding ---


def one_hot(tensor, num_classes=-1):
    """Class indices as one-hot vectors: a new last dimension of size num_classes (int64 result).

    Args:
        tensor: integer class indices, any shape.
        num_classes: the number of classes; -1 infers max(tensor) + 1.

    Example:
        >>> F.one_hot(descend.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    t = _tensor(tensor)
    X = t._data
    if X.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if X.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(X.max()) + 1
    if X.size and X.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if X.size and X.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(X.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, X[..., None].astype(np.int64), 1, axis=-1)
    return _wrap(out)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` picked by the integer `input` (a lookup table C[X]).

    Args:
        input: integer indices, any shape.
        weight: (num_embeddings, embedding_dim).
        padding_idx: that row gets no gradient.
        max_norm: rows looked up whose `norm_type`-norm exceeds it are rescaled to it, in place.
        scale_grad_by_freq: divide each row's gradient by how often it occurs in `input`.
        sparse: sparse gradients are not supported (True raises).

    Returns:
        A tensor of shape input.shape + (embedding_dim,).

    Example:
        >>> F.embedding(descend.tensor([[0, 1]]), descend.tensor([[0.0, 1.0], [2.0, 3.0]]))
        tensor([[[0., 1.],
                 [2., 3.]]])
    """
    # NOTE: one primitive (a gather forward, one scatter-add backward) so padding_idx and
    # scale_grad_by_freq act on the gradient directly.
    if sparse:
        raise NotImplementedError(
            "embedding: sparse gradients are not supported by descend (use sparse=False)"
        )
    idx_t = _tensor(input)
    idx = idx_t._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            f"Int; "
            f"but got {idx.dtype} instead (while checking arguments for embedding)"
        )
    W = weight._data
    if W.ndim != 2:
        raise RuntimeError(
            f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape {W.shape}"
        )
    num = W.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):  # no wrap-around: -1 is out of range too
        raise IndexError(f"index out of range in self: indices must be in [0, {num}), got values in "
                         f"[{idx.min()}, {idx.max()}]")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    out = W[idx]
    shape, dtype = W.shape, W.dtype

    def vjp_weight(g):
        flat = idx.reshape(-1) % num
        gflat = g.reshape(-1, shape[1])
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=num)
            gflat = gflat / counts[flat][:, None]
        grad = np.zeros(shape, dtype=dtype)
        np.add.at(grad, flat, gflat)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return grad

    return record("EmbeddingBackward0", out, (weight,), (vjp_weight,))


def _embedding_renorm(weight, idx, max_norm, norm_type):
    """Rescale, in place, the rows of `weight` that `idx` names and whose norm exceeds max_norm."""
    W = weight._data
    rows = np.unique(idx % W.shape[0])
    norms = np.linalg.norm(W[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        W[rows[big]] *= (max_norm / (norms[big] + 1e-7)).astype(W.dtype)[:, None]
        weight._version[0] += 1


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of rows of `weight`, without building the (n, dim) lookup.

    Args:
        input: integer indices: (B, N) for B bags of N, or 1-D with `offsets`.
        weight: (num_embeddings, embedding_dim).
        offsets: with 1-D input, where each bag starts (offsets[0] must be 0).
        max_norm, norm_type: as `embedding` (looked-up rows are renormalised in place).
        scale_grad_by_freq: divide each row's gradient by its count in `input` (not with "max").
        mode: "sum" | "mean" | "max"; an empty bag gives zeros.
        sparse: not supported (True raises).
        per_sample_weights: same shape as input, scales each looked-up row (mode "sum" only).
        include_last_offset: offsets has B + 1 entries, the last one the end of the last bag.
        padding_idx: that index is left out of its bags (and of the mean's count).

    Returns:
        A tensor of shape (B, embedding_dim).

    Example:
        >>> w = descend.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> F.embedding_bag(descend.tensor([0, 1, 2]), w, descend.tensor([0, 2]), mode="sum")
        tensor([[4., 6.],
                [5., 6.]])
    """
    # NOTE: one primitive: the bags are contiguous runs of the flat input, reduced with ufunc
    # reduceat over the non-empty ones; the backward scatters with one np.add.at.
    idx_t, weight = _tensor(input), _tensor(weight)
    if weight._data.dtype.kind in "iu" and idx_t._data.dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        idx_t, weight = weight, idx_t
    idx, W = idx_t._data, weight._data
    psw = None if per_sample_weights is None else _tensor(per_sample_weights)
    if psw is not None and psw._data.shape != idx.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({psw._data.shape}) is not None, then it "
                         f"must have the same shape as the input ({idx.shape})")
    if W.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {W.ndim}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        if idx.shape[1] == 0:
            raise RuntimeError(f"embedding_bag: a 2-D input of shape {idx.shape} has bags of length 0 "
                               "(step must be nonzero)")
        starts = np.arange(0, idx.size, idx.shape[1])
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        starts = _tensor(offsets)._data
        if starts.ndim != 1:
            raise ValueError(f"offsets has to be a 1D Tensor, got shape {starts.shape}")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if sparse:
        raise NotImplementedError(
            "embedding_bag: sparse gradients are not supported by descend (use sparse=False)"
        )
    for name, a in (("indices", idx), ("offsets", starts)):
        if a.dtype.kind not in "iu":
            raise RuntimeError(
                f"Expected tensor for argument #1 '{name}' to have one of the following scalar types: Long, "
                f"Int; but got {a.dtype} instead (while checking arguments for embedding_bag)"
            )
    num, dim = W.shape
    bad = (idx < 0) | (idx >= num)
    if bad.any():
        raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                           f"{idx[np.argmax(bad)]} (num_embeddings={num})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} through "
                               f"{num - 1}, but got {padding_idx}")
        padding_idx %= num
    n = idx.size
    if starts.size:
        if starts[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                               f"start from position 0. However, got {starts[0]}")
        if starts[-1] > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                               f"offsets[-1] of {starts[-1]}")
        if (np.diff(starts) < 0).any():
            raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {starts.tolist()}")
    if include_last_offset:
        if starts.size == 0:
            raise RuntimeError("embedding_bag: include_last_offset=True needs at least one offset (the end)")
        starts, end = starts[:-1], starts[-1]
    else:
        end = n
    B = starts.size
    if psw is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
            )
        if psw._data.dtype != W.dtype:
            raise RuntimeError(
                "Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
                f"'per_sample_weights'; but type {W.dtype} does not equal {psw._data.dtype} (while checking "
                "arguments for embedding_bag)"
            )
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    # every element's bag; the elements past `end` (include_last_offset) and padding are left out
    bag = np.searchsorted(starts, np.arange(n), side="right") - 1
    keep = (np.arange(n) < end) & (bag >= 0)  # no offsets at all: no bags
    if padding_idx is not None:
        keep &= idx != padding_idx
    pos = np.flatnonzero(keep)
    sv, iv = bag[pos], idx[pos]
    m = pos.size
    first = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]]) if m else np.zeros(0, dtype=np.intp)
    filled = sv[first]  # the non-empty bags, in order
    count = np.diff(np.r_[first, m])
    out = np.zeros((B, dim), dtype=W.dtype)
    rows = W[iv]
    P = None if psw is None else psw._data.reshape(-1)
    if mode == "max":
        arg = np.zeros((0, dim), dtype=np.intp)
        if m:
            mx = np.maximum.reduceat(rows, first, axis=0)
            out[filled] = mx
            group = np.repeat(np.arange(filled.size), count)
            where = np.where(rows == mx[group], np.arange(m)[:, None], m)
            arg = iv[np.minimum.reduceat(where, first, axis=0)]  # the first maximum wins, as PyTorch
        scale = None
    else:
        scale = None if P is None else P[pos]
        if m:
            out[filled] = np.add.reduceat(rows if scale is None else rows * scale[:, None], first, axis=0)
        if mode == "mean":
            out[filled] /= count[:, None].astype(W.dtype)
            scale = (1.0 / count[np.searchsorted(filled, sv)]).astype(W.dtype)
    shape, dtype = W.shape, W.dtype

    def vjp_weight(g):
        grad = np.zeros(shape, dtype=dtype)
        if mode == "max":
            np.add.at(grad, (arg, np.arange(dim)), g[filled])
            return grad
        gr = g[sv] if scale is None else g[sv] * scale[:, None]
        if scale_grad_by_freq:
            # NOTE: PyTorch's CPU kernel (_embedding_bag_dense_backward_cpu_sum_mean) divides the
            # k-th distinct index's gradient by counts[sorted(input)[k]] (it indexes with the group
            # number, not the group's start): followed as is, so gradients agree.
            uniq = np.unique(idx)
            divisor = np.bincount(idx, minlength=num)[np.sort(idx)[: uniq.size]]
            gr = gr / divisor[np.searchsorted(uniq, iv)].astype(dtype)[:, None]
        np.add.at(grad, iv, gr)
        return grad

    def vjp_psw(g):
        gp = np.zeros(n, dtype=dtype)
        gp[pos] = np.einsum("ij,ij->i", g[sv], rows)
        return gp.reshape(psw._data.shape)

    parents, vjps = (weight,), (vjp_weight,)
    if psw is not None:
        parents, vjps = (weight, psw), (vjp_weight, vjp_psw)
    return record("EmbeddingBagBackward0", out, parents, vjps, saved=parents)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each value divided by (k + alpha * mean of the squares of `size` neighbouring channels) ** beta.

    PyTorch's composition: the squares, zero-padded by size // 2 channels before and (size - 1) // 2
    after, averaged by a (size, 1) pool over the channel dimension (dim 1).

    Args:
        input: (N, C, *), at least 3-D.
        size: how many channels each window spans.

    Example:
        >>> F.local_response_norm(descend.ones(1, 2, 1), 2, alpha=1.0, beta=1.0, k=1.0)
        tensor([[[0.6667],
                 [0.5000]]])
    """
    from .ops.conv import avg_pool2d

    x = _tensor(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions), "
                         f"shape {tuple(x.shape)}")
    if x._data.size == 0:
        return x
    sizes = tuple(x.shape)
    # the trailing dims flattened: a (size, 1) window is PyTorch's avg_pool3d (size, 1, 1) window
    div = ops.reshape(x * x, (sizes[0], 1, sizes[1], -1))
    div = pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = ops.reshape(avg_pool2d(div, (size, 1), stride=1), sizes)
    return x / (div * alpha + k) ** beta


def _lp_pool(name, input, norm_type, kernel_size, stride, ceil_mode, count):
    from .ops import conv

    x = _tensor(input)
    if norm_type == math.inf:
        return getattr(conv, f"max_{name}")(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -getattr(conv, f"max_{name}")(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = getattr(conv, f"avg_{name}")(x**norm_type, kernel_size, stride, 0, ceil_mode)
    return ((ops.sign(out) * ops.relu(ops.abs(out))) * count) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum of x ** p over each window) ** (1 / p); p = inf is max of |x|.

    PyTorch's formula: avg_pool1d of x ** p, times kernel_size, through sign(.) * relu(|.|), to 1 / p
    (a window whose sum is zero gets a zero gradient, a negative sum gives nan).

    Example:
        >>> F.lp_pool1d(descend.tensor([[[3.0, 4.0]]]), 2, 2)
        tensor([[[5.]]])
    """
    return _lp_pool("pool1d", input, norm_type, kernel_size, stride, ceil_mode, kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 2-D windows: (sum of x ** p) ** (1 / p); see `lp_pool1d`.

    Example:
        >>> F.lp_pool2d(descend.tensor([[[[1.0, 1.0], [1.0, 1.0]]]]), 1, 2)
        tensor([[[[4.]]]])
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    return _lp_pool("pool2d", input, norm_type, kernel_size, stride, ceil_mode, kh * kw)


def _unpool_output_size(shape, kernel, stride, padding, output_size):
    nd = len(kernel)
    default = [(shape[-nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default
    given = list(output_size)
    if len(given) == nd + 2:
        given = given[2:]
    if len(given) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
                         f"has a length of '{len(given)}'")
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < given[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return [int(s) for s in given]


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    def tup(v):
        return (v,) * nd if isinstance(v, int) else tuple(v)

    x, ind = _tensor(input), _tensor(indices)
    kernel = tup(kernel_size)
    stride = kernel if stride is None else tup(stride)
    size = _unpool_output_size(x._data.shape, kernel, stride, tup(padding), output_size)
    X, I = x._data, ind._data
    if nd == 1:  # PyTorch's route: a (L, 1) plane through max_unpool2d
        X, I, size = X[..., None], I[..., None], size + [1]
    if I.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {I.dtype}")
    if X.ndim not in (3, 4):
        raise RuntimeError("Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{X.ndim} dimensions.")
    if I.shape != X.shape:
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({list(X.shape)}) but got indices tensor with shape: {list(I.shape)}")
    plane = size[0] * size[1]
    lead = X.shape[:-2]
    flat_i = I.reshape(lead + (-1,))
    bad = (flat_i < 0) | (flat_i >= plane)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {flat_i[bad][0]} (output volumes are of size "
                           f"{size[0]}x{size[1]})")
    out = np.zeros(lead + (plane,), dtype=X.dtype)
    np.put_along_axis(out, flat_i, X.reshape(lead + (-1,)), axis=-1)  # a repeated index: the last wins
    out_shape = lead + tuple(size[:nd])
    in_shape = x._data.shape

    def vjp(g):
        return np.take_along_axis(g.reshape(lead + (plane,)), flat_i, axis=-1).reshape(in_shape)

    return record("MaxUnpool2DBackward0", out.reshape(out_shape), (x,), (vjp,))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d: each value put back at its `indices` (from return_indices=True), zeros
    elsewhere.

    Args:
        input, indices: (N, C, L) or (C, L), the pool's output and its indices (int64).
        kernel_size, stride, padding: the pool's (stride defaults to kernel_size).
        output_size: the length to restore (a pool's floor can drop one), optionally with (N, C).

    Example:
        >>> F.max_unpool1d(descend.tensor([[5.0, 7.0]]), descend.tensor([[1, 2]]), 2)
        tensor([[0., 5., 7., 0.]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d: each value put back at its flat `indices` into its (H, W) plane.

    Args:
        input, indices: (N, C, H, W) or (C, H, W), the pool's output and its indices (int64).
        kernel_size, stride, padding: the pool's (stride defaults to kernel_size).
        output_size: the (H, W) to restore, optionally with (N, C) in front.

    Example:
        >>> F.max_unpool2d(descend.tensor([[[9.0]]]), descend.tensor([[[3]]]), 2)
        tensor([[[0., 0.],
                 [0., 9.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dimensions; `pad` is (left, right) of the last dim, then the one before...

    Args:
        input: a tensor.
        pad: an even-length sequence; negative entries crop (constant mode).
        mode: "constant" | "reflect" | "replicate" | "circular".
        value: the fill of constant mode (0 when None).

    Example:
        >>> F.pad(descend.tensor([[1.0, 2.0]]), (1, 2))
        tensor([[0., 1., 2., 0., 0.]])
    """
    x = _tensor(input)
    X = x._data
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > X.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {X.ndim}"
        )
    pairs = [(0, 0)] * (X.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        return _pad_constant(x, pairs, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or X.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {X.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    index = []
    for d, (lo, hi) in enumerate(pairs):
        n = X.shape[d]
        if n + lo + hi < 0:
            raise RuntimeError(
                f"input of size {list(X.shape)} is too small: padding ({lo}, {hi}) at dimension {d} "
                f"gives an output size of {n + lo + hi}"
            )
        if mode == "reflect" and (lo >= n or hi >= n) and (lo or hi):
            raise RuntimeError(
                f"Argument #{2 * (X.ndim - d)}: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input {list(X.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(
                f"Padding value causes wrapping around more than once: padding ({lo}, {hi}) at dimension "
                f"{d} of input {list(X.shape)}"
            )
        # which input position each output position reads along this dimension (a negative lo
        # or hi crops, as in PyTorch's kernels)
        index.append(_pad_index(n, lo, hi, mode, X.shape, d) if (lo or hi) else None)
    sizes = [n + lo + hi for n, (lo, hi) in zip(X.shape[X.ndim - k:], pairs[X.ndim - k:])]
    if mode != "circular" and not any(sizes):
        # PyTorch's reflection and replication kernels want at least one non-empty padded dim
        raise RuntimeError(
            f"input of size {list(X.shape)} is too small: padding {tuple(pad)} gives the padded "
            f"dimensions the sizes {sizes}"
        )
    out = X
    for d, ix in enumerate(index):
        if ix is not None:
            out = np.take(out, ix, axis=d)

    def vjp(g):
        for d in reversed(range(len(index))):
            ix = index[d]
            if ix is None:
                continue
            moved = np.moveaxis(g, d, 0)
            acc = np.zeros((X.shape[d],) + moved.shape[1:], dtype=g.dtype)
            np.add.at(acc, ix, moved)
            g = np.moveaxis(acc, 0, d)
        return g

    return record(f"{mode.capitalize()}PadBackward0" if mode != "replicate" else "ReplicationPadBackward0",
                  out, (x,), (vjp,))


def _pad_index(n, lo, hi, mode, shape, d):
    """Input positions read by the n + lo + hi output positions of one padded dimension.

    Reflect and replicate map output o to o - lo, reflected or clamped into [0, n). Circular
    crops first, then wraps the cropped part (PyTorch's _pad_circular copies from the cropped
    output), so a pad longer than that part is refused as PyTorch refuses its overlapping copy.
    """
    if n + lo + hi == 0:
        return np.arange(0)
    if mode != "circular":
        i = np.arange(-lo, n + hi)
        if mode == "reflect":
            i = np.abs(i)
            return np.where(i >= n, 2 * (n - 1) - i, i)
        return np.clip(i, 0, n - 1)
    start = max(-lo, 0)
    m = n - start - max(-hi, 0)
    if max(lo, hi) > m:
        raise RuntimeError(
            f"circular padding ({lo}, {hi}) at dimension {d} of input {list(shape)} wraps around more than "
            f"the {m} elements left after cropping"
        )
    return np.arange(-max(lo, 0), m + max(hi, 0)) % m + start


def _pad_constant(x, pairs, value):
    X = x._data
    out_shape = tuple(n + lo + hi for n, (lo, hi) in zip(X.shape, pairs))
    # PyTorch crops (narrows) before it pads, so the crops alone must fit in the input
    cropped = (n + min(lo, 0) + min(hi, 0) for n, (lo, hi) in zip(X.shape, pairs))
    if any(s < 0 for s in out_shape) or any(c < 0 for c in cropped):
        raise RuntimeError(
            f"The input size {list(X.shape)}, plus negative padding {pairs} resulted in a negative output "
            f"size, which is invalid. Check dimension of your input."
        )
    src = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(X.shape, pairs))
    dst = tuple(slice(max(lo, 0), max(lo, 0) + (s.stop - s.start)) for s, (lo, _) in zip(src, pairs))
    out = np.full(out_shape, value, dtype=X.dtype)
    out[dst] = X[src]

    def vjp(g):
        grad = np.zeros(X.shape, dtype=g.dtype)
        grad[src] = g[dst]
        return grad

    return record("ConstantPadNdBackward0", out, (x,), (vjp,))


# --- more losses ---


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the deprecated size_average/reduce flags onto `reduction`."""
    if size_average is None and reduce is None:
        if reduction != "batchmean":
            _check_reduction(reduction)
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{'none' if reduce is False else ('sum' if size_average is False else 'mean')}' instead.",
                  UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss, reduction):
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    return loss


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence with `input` log-probabilities: target (log target - input).

    With log_target=True the target is given as log-probabilities too: exp(t) (t - input).
    reduction="batchmean" divides the sum by the batch size (the true KL divergence); "mean" divides
    by the number of elements, as PyTorch does (with its warning).

    Example:
        >>> F.kl_div(descend.tensor([0.0]).log(), descend.tensor([1.0]), reduction="sum")
        tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction!r} is not a valid value for reduction: expected 'mean', 'batchmean', "
                         "'sum' or 'none'")
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning, stacklevel=2,
        )
    input, target, dtype = _float_pair(input, target, "kl_div")
    X = input._data.astype(dtype, copy=False)
    Y = target._data.astype(dtype, copy=False)
    if log_target:
        pY = np.exp(Y)
        loss = pY * (Y - X)
        partials = (lambda: np.broadcast_to(-pY, loss.shape), lambda: pY * (Y - X + 1))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            logY = np.where(Y > 0, np.log(np.where(Y > 0, Y, 1)), 0)
        loss = np.where(Y > 0, Y * logY, 0) - Y * X
        partials = (lambda: np.broadcast_to(-Y, loss.shape), lambda: np.where(Y > 0, logY + 1, 0) - X)
    partials = tuple(p if t._requires_grad else None for p, t in zip(partials, (input, target)))
    if reduction == "batchmean":
        out = _reduce_elementwise("KlDivBackward0", (input, target), loss, partials, "sum")
        return out / X.shape[0] if X.ndim else out
    return _reduce_elementwise("KlDivBackward0", (input, target), loss, partials, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, d = x - y (beta=0 is the L1 loss).

    Example:
        >>> F.smooth_l1_loss(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target, diff = _regression_inputs(input, target, "smooth_l1_loss", reduction)
    ad = np.abs(diff)
    if beta == 0:  # PyTorch's smooth_l1_loss is l1_loss there, graph included
        return l1_loss(input, target, reduction=reduction)
    loss = np.where(ad < beta, 0.5 * diff * diff / beta, ad - 0.5 * beta).astype(diff.dtype, copy=False)
    slope = np.clip(diff / diff.dtype.type(beta), -1, 1)
    # PyTorch's backward: (norm slope) g, norm = scalar_t(1 / n) for "mean"
    return _reduce_elementwise("SmoothL1LossBackward0", (input, target), loss,
                               (lambda g, n: _normed(slope, n) * g, lambda g, n: -(_normed(slope, n) * g)),
                               reduction, full=True)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of a Poisson target: exp(x) - y x (log_input) or x - y log(x + eps).

    full=True adds Stirling's approximation of log(y!): y log y - y + 0.5 log(2 pi y), where y > 1.

    Example:
        >>> F.poisson_nll_loss(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(1.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _tensor(input), _tensor(target)
    loss = ops.exp(x) - y * x if log_input else x - y * ops.log(x + eps)
    if full:
        above = y > 1
        y1 = ops.where(above, y, 1.0)  # log only where y > 1, so no inf reaches the gradient
        stirling = y1 * ops.log(y1) - y1 + 0.5 * ops.log(2 * math.pi * y1)
        loss = loss + ops.where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction="mean"):
    """Gaussian negative log-likelihood: 0.5 (log max(var, eps) + (x - y)^2 / max(var, eps)) (+ 0.5 log 2 pi).

    `var` has the input's shape, or lacks (or has size 1 in) its last dimension (one variance per
    sample), or is a float. As in PyTorch the clamp at eps does not stop var's gradient.

    Example:
        >>> F.gaussian_nll_loss(descend.tensor([1.0]), descend.tensor([1.0]), descend.tensor([1.0]))
        tensor(0.)
    """
    _check_reduction(reduction)
    x, y = _tensor(input), _tensor(target)
    if isinstance(var, (int, float)):
        var = ops.new_full(x, x.shape, float(var))
    var = _tensor(var)
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:
            var = ops.unsqueeze(var, -1)
        elif x.ndim and var.shape == x.shape[:-1] + (1,):
            pass
        elif var.numel() == 1 and var.ndim <= 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if np.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    # the clamp changes values only: its gradient is the identity (PyTorch clamps under no_grad)
    floor = np.maximum(var._data, eps) - var._data
    v = var + _wrap(floor.astype(var.dtype, copy=False))
    loss = 0.5 * (ops.log(v) + (x - y) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin), y in {1, -1}: x1 should rank above x2 when y = 1.

    Example:
        >>> F.margin_ranking_loss(descend.tensor([1.0]), descend.tensor([2.0]), descend.tensor([1.0]))
        tensor(1.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b, y = _tensor(input1), _tensor(input2), _tensor(target)
    if not (a.ndim == b.ndim == y.ndim):
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
            f"{tuple(a.shape)}, input2: {tuple(b.shape)}, target: {tuple(y.shape)} "
        )
    return _reduce(ops.clamp(-y * (a - b) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (x usually a distance).

    Example:
        >>> F.hinge_embedding_loss(descend.tensor([0.3, 2.0]), descend.tensor([1.0, -1.0]))
        tensor(0.1500)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _tensor(input), _tensor(target)
    zero = x.new_zeros(())
    margin_part = ops.where(y != 1, ops.clamp(margin - x, min=0), zero)
    self_part = ops.where(y != -1, x, zero)
    return _reduce(margin_part + self_part, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)), the logistic loss for targets y in {1, -1}.

    Example:
        >>> F.soft_margin_loss(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _tensor(input), _tensor(target)
    return _reduce(softplus(-y * x), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (per row).

    Example:
        >>> F.cosine_embedding_loss(descend.tensor([[1.0, 0.0]]), descend.tensor([[0.0, 1.0]]),
        ...                         descend.tensor([1.0]))
        tensor(1.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b, y = _tensor(input1), _tensor(input2), _tensor(target)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise RuntimeError(
            f"cosine_embedding_loss: expected 1-D or 2-D inputs of the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    dim = a.ndim - 1
    # PyTorch's form: eps = 1e-12 added to each squared norm
    cos = ops.sum(a * b, dim) / ops.sqrt((ops.sum(a * a, dim) + 1e-12) * (ops.sum(b * b, dim) + 1e-12))
    zero = cos.new_zeros(())
    pos = ops.where(y == 1, 1 - cos, zero)
    neg = ops.where(y == -1, ops.clamp(cos - margin, min=0), zero)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d the pairwise p-norm distance; `swap` uses min(d(a,n), d(p,n)).

    Example:
        >>> F.triplet_margin_loss(descend.tensor([[0.0]]), descend.tensor([[1.0]]), descend.tensor([[3.0]]),
        ...                       eps=0.0)
        tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
    a, pos, neg = _tensor(anchor), _tensor(positive), _tensor(negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(ops.clamp(d_pos - d_neg + margin, min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance d (pairwise_distance when None).

    Example:
        >>> F.triplet_margin_with_distance_loss(descend.tensor([[0.0]]), descend.tensor([[1.0]]),
        ...                                     descend.tensor([[3.0]]))
        tensor(0.)
    """
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                         "instead")
    a, pos, neg = _tensor(anchor), _tensor(positive), _tensor(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D inputs"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(a, pos)
    d_neg = distance(a, neg)
    if swap:
        d_neg = ops.minimum(d_neg, distance(pos, neg))
    return _reduce(ops.clamp(margin + d_pos - d_neg, min=0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-mean over classes of w (y log sigmoid(x) + (1 - y) log sigmoid(-x)), one value per sample.

    Example:
        >>> F.multilabel_soft_margin_loss(descend.tensor([[0.0, 0.0]]), descend.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _tensor(input), _tensor(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _tensor(weight)
    class_dim = x.ndim - 1
    loss = ops.sum(loss, class_dim) / x.shape[class_dim]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C per sample, times weight[y] when given.

    (PyTorch's kernel applies the weight after the power, whatever its docs' formula says.)

    Example:
        >>> F.multi_margin_loss(descend.tensor([[0.0, 1.0]]), descend.tensor([1]))
        tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x, t = _tensor(input), _tensor(target)
    if x.ndim not in (1, 2):
        raise RuntimeError(f"multi_margin_loss: expected a 1-D or 2-D input, got shape {tuple(x.shape)}")
    rows = ops.unsqueeze(x, 0) if x.ndim == 1 else x
    n, c = rows.shape
    T = t._data.reshape(-1)
    if T.dtype.kind not in "iu":
        raise RuntimeError(f"multi_margin_loss: expected integer class-index targets, got dtype {T.dtype}")
    if T.size != n:
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: {list(x.shape)}")
    if n and (T.min() < 0 or T.max() >= c):
        raise IndexError(f"target out of range: class indices must be in [0, {c - 1}]")
    picked = ops.gather(rows, 1, _wrap(T.reshape(n, 1).astype(np.int64)))
    z = ops.clamp(margin - picked + rows, min=0)
    if p == 2:
        z = z * z
    others = _wrap((np.arange(c)[None, :] != T[:, None]).astype(x.dtype))
    z = z * others
    if weight is not None:
        z = z * ops.unsqueeze(_tensor(weight)[_wrap(T.astype(np.int64))], 1)
    loss = ops.sum(z, 1) / c
    if x.ndim == 1:
        loss = ops.reshape(loss, ())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: per sample, sum over its target classes j and non-target classes i of
    max(0, 1 - (x[j] - x[i])), divided by C.

    `target` holds class indices (int64), read up to its first -1 (a repeated index counts twice, as
    PyTorch's kernel does); `input` is (C,) or (N, C).

    Example:
        >>> F.multilabel_margin_loss(descend.tensor([[0.1, 0.2, 0.4, 0.8]]), descend.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _tensor(input), _tensor(target)
    X, T = x._data, t._data
    if X.ndim > 2 or (X.ndim == 2 and X.shape[1] == 0) or (X.ndim == 1 and X.shape[0] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(X.shape)}")
    if T.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {T.dtype} (multilabel_margin_loss target)")
    rows = X.reshape(-1, X.shape[-1]) if X.ndim else X.reshape(1, 1)
    n, c = rows.shape
    if T.shape != X.shape:
        raise RuntimeError(f"inconsistent target size: {list(T.shape)} for input of size: {list(X.shape)}")
    T = T.reshape(n, c)
    if T.size and (T.min() < -1 or T.max() >= c):
        raise RuntimeError(f"argument #2 'target' is out of range: class indices must be in [-1, {c}), got "
                           f"values in [{T.min()}, {T.max()}]")
    valid = np.cumsum(T == -1, axis=1) == 0  # the entries before each row's first -1
    cls = np.where(valid, T, 0)
    is_target = np.zeros((n, c), dtype=bool)
    r = np.broadcast_to(np.arange(n)[:, None], (n, c))
    is_target[r[valid], cls[valid]] = True
    xt = np.take_along_axis(rows, cls, axis=1)  # (n, K): x at each target
    z = 1 - xt[:, :, None] + rows[:, None, :]  # (n, K, C)
    active = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
    loss = (np.where(active, z, 0).sum(axis=(1, 2)) / c).astype(X.dtype)
    dtype = X.dtype
    if reduction == "none":
        out = loss.reshape(X.shape[:-1] if X.ndim else ())
    elif reduction == "sum":
        out = loss.sum()
    else:  # an empty batch's mean is nan (PyTorch's kernel returns uninitialised memory there)
        out = loss.mean() if n else np.array(np.nan, dtype=dtype)
    out = np.asarray(out, dtype=dtype)

    def vjp(g):
        gs = np.broadcast_to(g / n if reduction == "mean" else g, (n,)) if reduction != "none" else g
        a = active * (np.reshape(gs, (n, 1, 1)) / c)
        grad = a.sum(axis=1).astype(dtype)
        np.add.at(grad, (r, cls), -a.sum(axis=2))
        return grad.reshape(X.shape)

    return record("MultilabelMarginLossBackward0", out, (x,), (vjp,))


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T A_k x2 + b_k for a weight A of shape (out, in1, in2).

    Example:
        >>> F.bilinear(descend.ones(1, 2), descend.ones(1, 3), descend.ones(4, 2, 3)).shape
        (1, 4)
    """
    a, b, w = _tensor(input1), _tensor(input2), _tensor(weight)
    # (N, in1) -> (N, 1, in1) @ (out, in1, in2) -> (N, out, in2), then dot with x2
    left = ops.matmul(ops.unsqueeze(ops.unsqueeze(a, -2), -3), w)  # (..., out, 1, in2)
    out = ops.sum(ops.squeeze(left, -2) * ops.unsqueeze(b, -2), -1)
    return out if bias is None else out + bias


# --- convolutional networks: the primitives of descend/ops/conv.py, under PyTorch's F.<name> ---
# --- attention ---


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims, any leading (broadcast) batch dims.

    As PyTorch's: query (..., L, E), key (..., S, E), value (..., S, Ev) give (..., L, Ev); `scale`
    defaults to 1 / sqrt(E); a bool `attn_mask` marks with True the pairs that take part (False ones
    get -inf), a float one is added to the scores; `is_causal` masks the future with an upper-left
    aligned lower triangle (query i sees keys 0..i) and excludes `attn_mask`; a row in which no key
    takes part gives 0 (PyTorch's safe softmax), not NaN; `dropout_p` applies `dropout` (always, as
    the function does not know the module's mode) to the weights, drawing PyTorch's masks for the same
    seed; `enable_gqa` repeats each key/value head over its group of query heads (dim -3).

    A composite of matmul, add, softmax and dropout (PyTorch's math path), so autograd gives every
    gradient, the mask's too when it is a float tensor that requires grad.

    Example:
        >>> q = k = v = descend.ones(2, 3, 4)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        descend.Size([2, 3, 4])
    """
    q, k, v = _tensor(query), _tensor(key), _tensor(value)
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_ctype(q)} key.dtype: {_ctype(k)} and value.dtype: {_ctype(v)} instead."
        )
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value need at least 2 dims (..., L, E), got "
            f"shapes {_sdpa_shape(q)}, {_sdpa_shape(k)} and {_sdpa_shape(v)}"
        )
    L, E, S = q.shape[-2], q.shape[-1], k.shape[-2]
    if k.shape[-1] != E or v.shape[-2] != S:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and value "
            f"(..., S, Ev), got shapes {_sdpa_shape(q)}, {_sdpa_shape(k)} and {_sdpa_shape(v)}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hq % hk or v.shape[-3] != hk:
            raise RuntimeError(
                f"scaled_dot_product_attention: enable_gqa needs the query's heads ({hq}) to be a multiple "
                f"of the key's ({hk}) and the value's ({v.shape[-3]}) heads"
            )
        k = ops.repeat_interleave(k, hq // hk, dim=-3)
        v = ops.repeat_interleave(v, hq // hk, dim=-3)
    factor = 1.0 / math.sqrt(E) if scale is None else float(scale)
    attn = ops.matmul(q, ops.transpose(k, -2, -1)) * factor
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), bool))
    if attn_mask is not None:
        mask = attn_mask._data if hasattr(attn_mask, "_data") else np.asarray(attn_mask)
        try:
            fits = np.broadcast_shapes(mask.shape, attn.shape) == attn.shape
        except ValueError:
            fits = False
        if not fits:  # as PyTorch's math path, which adds the mask in place: it may not grow the scores
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {_sdpa_shape(mask)} does not broadcast "
                f"to the attention weights' shape {_sdpa_shape(attn)} (query {_sdpa_shape(q)}, "
                f"key {_sdpa_shape(k)})"
            )
        if mask.dtype == np.bool_:
            attn = attn + _wrap(np.where(mask, 0.0, -np.inf).astype(attn.dtype))
        else:
            attn = attn + _tensor(attn_mask)
    empty = np.isneginf(attn._data).all(-1, keepdims=True)
    if empty.any():  # rows no key takes part in: 0 (PyTorch's _safe_softmax), and no NaN in backward
        empty = _wrap(empty)
        attn = ops.softmax(ops.where(empty, 0.0, attn), -1)
        attn = ops.where(empty, 0.0, attn)
    else:
        attn = ops.softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return ops.matmul(attn, v)


def _sdpa_shape(x):
    return list(x.shape)


_CTYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}


def _ctype(t):
    return _CTYPES.get(t._data.dtype.name, t._data.dtype.name)


from .ops.conv import *  # noqa: E402, F403 - re-exports (conv.__all__), after the composites above
from .ops.conv import __all__ as _conv_names  # noqa: E402

__all__ += _conv_names
