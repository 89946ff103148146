"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_betas, check_nonnegative, lerp_, scalar_dtype

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop,
    https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ), following PyTorch's `NAdam`.

    With learning rate γ, betas (β1, β2), momentum decay ψ, weight decay λ and ε, starting from
    m = v = 0 and Π μ = 1, each step t = 1, 2, ... does::

        g_t   ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        θ_{t−1} ← θ_{t−1} (1 − γλ)         if decoupled_weight_decay   (NAdamW)
        g_t   ← g_t + λ θ_{t−1}            otherwise, if λ ≠ 0
        μ_t   ← β1 (1 − ½ · 0.96^(t ψ));  μ_{t+1} ← β1 (1 − ½ · 0.96^((t+1) ψ))
        m_t   ← β1 m_{t−1} + (1 − β1) g_t
        v_t   ← β2 v_{t−1} + (1 − β2) g_t²
        v_hat ← v_t / (1 − β2^t)
        θ_t   ← θ_{t−1} − γ (1 − μ_t) / (1 − Π_{i≤t} μ_i) · g_t / (√v_hat + ε)
                        − γ μ_{t+1} / (1 − Π_{i≤t+1} μ_i) · m_t / (√v_hat + ε)

    The running product Π μ is kept in the state as `mu_product`, as in PyTorch, and rounded as
    PyTorch's 0-d state tensor is: float32 arithmetic unless the default dtype is float64.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: shrink θ directly instead of adding λθ to the gradient (NAdamW).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.
        capturable, differentiable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.NAdam(model.parameters(), lr=2e-3)
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        check_betas(options["betas"])
        check_nonnegative(options["momentum_decay"], "momentum_decay value")

    def _update(self, param, grad, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        psi = group["momentum_decay"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = _wrap(np.zeros_like(theta))
            state["exp_avg_sq"] = _wrap(np.zeros_like(theta))
        t = state["step"] = state["step"] + 1
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data

        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            theta *= 1 - lr * wd  # NAdamW: θ = θ (1 − γλ)
        g_buf, tmp = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, 0 if decoupled else wd, group["maximize"], out=g_buf)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        dt = scalar_dtype()
        mu_product = state["mu_product"] = float(dt(state["mu_product"]) * dt(mu))

        lerp_(m, g, 1 - beta1, tmp)  # m = β1 m + (1 − β1) g
        v *= beta2  # v = β2 v + (1 − β2) g²
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2**t)) + group["eps"]  # √v_hat + ε
        theta -= lr * (1 - mu) / (1 - mu_product) * g / denom
        theta -= lr * mu_next / (1 - mu_product * mu_next) * m / denom
