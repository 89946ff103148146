"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_betas, lerp_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2014, section 7.1, https://arxiv.org/abs/1412.6980), as PyTorch's `Adamax`.

    With learning rate γ, betas (β1, β2), weight decay λ and ε, starting from m = u = 0, each step
    t = 1, 2, ... does::

        g_t ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        g_t ← g_t + λ θ_{t−1}                    (if λ ≠ 0)
        m_t ← β1 m_{t−1} + (1 − β1) g_t           (exp_avg)
        u_t ← max(β2 u_{t−1}, |g_t| + ε)          (exp_inf)
        θ_t ← θ_{t−1} − γ / (1 − β1^t) · m_t / u_t

    ε goes inside the max, as in PyTorch, so u_t > 0 from the first step.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.
        differentiable, capturable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        check_betas(options["betas"])

    def _update(self, param, grad, group):
        beta1, beta2 = group["betas"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _wrap(np.zeros_like(theta))
            state["exp_inf"] = _wrap(np.zeros_like(theta))
        t = state["step"] = state["step"] + 1
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        g_buf, tmp = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"], out=g_buf)

        lerp_(m, g, 1 - beta1, tmp)  # m = β1 m + (1 − β1) g
        np.maximum(u * beta2, np.abs(g) + group["eps"], out=u)  # u = max(β2 u, |g| + ε)
        theta -= group["lr"] / (1 - beta1**t) * m / u  # θ = θ − γ / (1 − β1^t) · m / u
