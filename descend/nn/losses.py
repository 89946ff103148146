"""Loss modules: each holds its options and calls the function of the same name in `descend.functional`.

Every loss takes `reduction="mean"|"sum"|"none"` (anything else is a ValueError at construction).
Class weights and `pos_weight` are registered as buffers, as in PyTorch, so they appear in
`state_dict()` and follow `.double()`.

Example:
    >>> import descend as torch
    >>> loss_fn = torch.nn.MSELoss()
    >>> loss_fn(torch.tensor([2.0]), torch.tensor([4.0]))
    tensor(4.)
"""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "RMSELoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


def _buffer(value):
    """A weight argument as a Tensor (lists and arrays are converted), or None."""
    if value is None or isinstance(value, Tensor):
        return value
    return as_tensor(value)


class _Loss(Module):
    """Base of the losses: validates and stores `reduction`."""

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error, mean((x - y)^2): the tutorials' loss for regression.

    Example:
        >>> MSELoss()(descend.tensor([2.0]), descend.tensor([4.0]))
        tensor(4.)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, mean(|x - y|).

    Example:
        >>> L1Loss()(descend.tensor([1.0, 5.0]), descend.tensor([2.0, 2.0]))
        tensor(2.)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class RMSELoss(_Loss):
    """Root mean squared error, sqrt(mean((x - y)^2)) (not in PyTorch; the tutorials use it).

    reduction="mean" is RMSE, "sum" is sqrt(sum((x - y)^2)) and "none" is |x - y| elementwise; see
    `descend.functional.rmse_loss`.

    Example:
        >>> RMSELoss()(descend.tensor([1.0, 3.0]), descend.tensor([1.0, 1.0]))
        tensor(1.4142)
    """

    def __init__(self, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.rmse_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: quadratic for |x - y| < delta, linear beyond (robust to outliers).

    Example:
        >>> HuberLoss(delta=1.0)(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (apply a sigmoid first; logs clamped at -100).

    Example:
        >>> BCELoss()(descend.tensor([0.5]), descend.tensor([1.0]))
        tensor(0.6931)
    """

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, sigmoid and log fused stably; `pos_weight` weights positives.

    Example:
        >>> BCEWithLogitsLoss()(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(0.6931)
    """

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits against class indices or class probabilities.

    See `descend.functional.cross_entropy` for the formula with `weight`, `ignore_index` and
    `label_smoothing`.

    Example:
        >>> CrossEntropyLoss()(descend.tensor([[0.0, 0.0]]), descend.tensor([1]))
        tensor(0.6931)
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (pair with LogSoftmax).

    Example:
        >>> NLLLoss()(descend.tensor([[-0.5, -1.0]]), descend.tensor([1]))
        tensor(1.)
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class _LegacyLoss(_Loss):
    """A loss that also takes PyTorch's deprecated size_average/reduce flags (mapped onto reduction)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce, reduction)
        super().__init__(reduction)


class SmoothL1Loss(_LegacyLoss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y).

    Example:
        >>> SmoothL1Loss()(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(Module):
    """Kullback-Leibler divergence of a target from log-probability inputs (see `F.kl_div`).

    Example:
        >>> KLDivLoss(reduction="batchmean")(descend.tensor([[0.0]]), descend.tensor([[1.0]]))
        tensor(0.)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce, reduction)
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{reduction!r} is not a valid value for reduction: expected 'mean', "
                             "'batchmean', "
                             "'sum' or 'none'")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_LegacyLoss):
    """Poisson negative log-likelihood (see `F.poisson_nll_loss`).

    Example:
        >>> PoissonNLLLoss()(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(1.)
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance (see `F.gaussian_nll_loss`).

    Example:
        >>> GaussianNLLLoss()(descend.tensor([1.0]), descend.tensor([1.0]), descend.tensor([1.0]))
        tensor(0.)
    """

    def __init__(self, *, full=False, eps=1e-06, reduction="mean"):
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class MarginRankingLoss(_LegacyLoss):
    """max(0, -y (x1 - x2) + margin).

    Example:
        >>> MarginRankingLoss()(descend.tensor([1.0]), descend.tensor([2.0]), descend.tensor([1.0]))
        tensor(1.)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_LegacyLoss):
    """x where y = 1, max(0, margin - x) where y = -1.

    Example:
        >>> HingeEmbeddingLoss()(descend.tensor([0.3, 2.0]), descend.tensor([1.0, -1.0]))
        tensor(0.1500)
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_LegacyLoss):
    """log(1 + exp(-y x)) for targets in {1, -1}.

    Example:
        >>> SoftMarginLoss()(descend.tensor([0.0]), descend.tensor([1.0]))
        tensor(0.6931)
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_LegacyLoss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.

    Example:
        >>> CosineEmbeddingLoss()(descend.tensor([[1.0, 0.0]]), descend.tensor([[1.0, 0.0]]),
        ...                       descend.tensor([1.0]))
        tensor(0.)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_LegacyLoss):
    """max(d(a, p) - d(a, n) + margin, 0) with the pairwise p-norm distance.

    Example:
        >>> TripletMarginLoss()(descend.tensor([[0.0]]), descend.tensor([[0.0]]), descend.tensor([[3.0]]))
        tensor(0.)
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-06, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (pairwise_distance when None).

    Example:
        >>> TripletMarginWithDistanceLoss()(descend.tensor([[0.0]]), descend.tensor([[0.0]]),
        ...                                 descend.tensor([[3.0]]))
        tensor(0.)
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function, margin=self.margin,
            swap=self.swap, reduction=self.reduction,
        )


class MultiLabelMarginLoss(_LegacyLoss):
    """Multi-label hinge loss: per sample, sum over targets j, non-targets i of max(0, 1 - x[j] + x[i]) / C.

    The target holds class indices (int64), read up to the first -1.

    Example:
        >>> MultiLabelMarginLoss()(descend.tensor([[0.1, 0.2, 0.4, 0.8]]), descend.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_LegacyLoss):
    """Multi-label one-versus-all loss: the mean over classes of the per-class logistic loss.

    Example:
        >>> MultiLabelSoftMarginLoss()(descend.tensor([[0.0, 0.0]]), descend.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_LegacyLoss):
    """Multi-class hinge loss: sum over wrong classes of max(0, margin - x[y] + x[i])^p / C.

    Example:
        >>> MultiMarginLoss()(descend.tensor([[0.0, 1.0]]), descend.tensor([1]))
        tensor(0.)
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(
                f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.ndim}D instead"
            )
        self.register_buffer("weight", _buffer(weight))
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)
