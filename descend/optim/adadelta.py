"""Adadelta: step sizes from running averages of squared gradients and of squared updates."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012, https://arxiv.org/abs/1212.5701), following PyTorch's `Adadelta`.

    With learning rate γ, decay ρ, weight decay λ and ε, starting from v = u = 0, each step does::

        g_t ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        g_t ← g_t + λ θ_{t−1}                          (if λ ≠ 0)
        v_t ← ρ v_{t−1} + (1 − ρ) g_t²                  (square_avg)
        Δx_t ← √(u_{t−1} + ε) / √(v_t + ε) · g_t
        u_t ← ρ u_{t−1} + (1 − ρ) Δx_t²                 (acc_delta)
        θ_t ← θ_{t−1} − γ Δx_t

    The paper has no learning rate (γ = 1, PyTorch's default); ε sits inside both square roots.
    Adadelta with lr=1.0 is the optimizer of PyTorch's MNIST example.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: γ, scales the update (default 1.0).
        rho: ρ, decay of both running averages, in [0, 1] (default 0.9).
        eps: ε (default 1e-6).
        weight_decay: L2 penalty λ (default 0).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        capturable, differentiable: only False is supported (True raises NotImplementedError).
        maximize: ascend the objective instead of descending it.

    Example:
        >>> opt = descend.optim.Adadelta(model.parameters(), lr=1.0)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']}")

    def _update(self, param, grad, group):
        rho, eps = group["rho"], group["eps"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["square_avg"] = _wrap(np.zeros_like(theta))
            state["acc_delta"] = _wrap(np.zeros_like(theta))
        state["step"] += 1
        v, u = state["square_avg"]._data, state["acc_delta"]._data
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"],
                                  out=self._scratch(param, 1)[0])

        v *= rho  # v = ρ v + (1 − ρ) g²
        v += (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g  # Δx = √(u + ε) / √(v + ε) · g
        u *= rho  # u = ρ u + (1 − ρ) Δx²
        u += (1 - rho) * delta * delta
        theta -= group["lr"] * delta  # θ = θ − γ Δx
