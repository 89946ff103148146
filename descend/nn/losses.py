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
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "RMSELoss",
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
            raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
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
