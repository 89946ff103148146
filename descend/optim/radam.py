"""RAdam: Adam whose adaptive step is switched on only once the variance of v can be rectified."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_betas, lerp_

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
    https://arxiv.org/abs/1908.03265), following PyTorch's `RAdam`.

    With learning rate γ, betas (β1, β2), weight decay λ and ε, starting from m = v = 0, each step
    t = 1, 2, ... does::

        g_t   ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        θ_{t−1} ← θ_{t−1} (1 − γλ)       if decoupled_weight_decay
        g_t   ← g_t + λ θ_{t−1}          otherwise, if λ ≠ 0
        m_t   ← β1 m_{t−1} + (1 − β1) g_t;   m_hat ← m_t / (1 − β1^t)
        v_t   ← β2 v_{t−1} + (1 − β2) g_t²
        ρ_∞   ← 2 / (1 − β2) − 1;   ρ_t ← ρ_∞ − 2 t β2^t / (1 − β2^t)
        if ρ_t > 5:
            l_t ← √(1 − β2^t) / (√v_t + ε)
            r_t ← √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t))
            θ_t ← θ_{t−1} − γ m_hat l_t r_t
        else:
            θ_t ← θ_{t−1} − γ m_hat                      (plain momentum SGD while ρ_t ≤ 5)

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        decoupled_weight_decay: shrink θ directly instead of adding λθ to the gradient (RAdamW).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.
        capturable, differentiable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        check_betas(options["betas"])

    def _update(self, param, grad, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _wrap(np.zeros_like(theta))
            state["exp_avg_sq"] = _wrap(np.zeros_like(theta))
        t = state["step"] = state["step"] + 1
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data

        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            theta *= 1 - lr * wd  # RAdamW: θ = θ (1 − γλ)
        g_buf, tmp = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, 0 if decoupled else wd, group["maximize"], out=g_buf)
        lerp_(m, g, 1 - beta1, tmp)  # m = β1 m + (1 − β1) g
        v *= beta2  # v = β2 v + (1 − β2) g²
        v += (1 - beta2) * g * g

        bias_correction2 = 1 - beta2**t
        m_hat = m / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5.0:  # the variance of the adaptive step is tractable: rectify it
            l_t = math.sqrt(bias_correction2) / (np.sqrt(v) + group["eps"])
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            theta -= m_hat * lr * l_t * r_t
        else:
            theta -= m_hat * lr
