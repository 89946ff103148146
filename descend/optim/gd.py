"""Plain gradient descent: the tutorials' update rule and nothing else."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, required

__all__ = ["GD"]


class GD(Optimizer):
    r"""Gradient descent, exactly as the tutorials write it: w ← w − η ∇L(w).

    No momentum, no weight decay, no state: each step moves every parameter against its gradient
    by the learning rate η. (Cauchy, "Méthode générale pour la résolution des systèmes d'équations
    simultanées", 1847; see https://en.wikipedia.org/wiki/Gradient_descent.)

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: the learning rate η (required).

    Example:
        >>> w = descend.tensor(0.0, requires_grad=True)
        >>> opt = descend.optim.GD([w], lr=0.1)
        >>> loss = (w - 3) ** 2; loss.backward(); opt.step()
        >>> w.item()   # 0 - 0.1 * 2 * (0 - 3)
        0.6...
    """

    def __init__(self, params, lr=required):
        super().__init__(params, dict(lr=lr))

    def _update(self, param, grad, group):
        (step,) = self._scratch(param, 1)
        w = param._data
        np.multiply(grad, group["lr"], out=step)  # η ∇L
        np.subtract(w, step, out=w)  # w ← w − η ∇L
