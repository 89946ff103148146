"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_nonnegative

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum, following PyTorch's `SGD`.

    With learning rate γ, weight decay λ, momentum μ and dampening τ, each step does::

        g_t ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        g_t ← g_t + λ θ_{t−1}                         (if λ ≠ 0)
        b_t ← g_t at t = 1, else μ b_{t−1} + (1 − τ) g_t   (if μ ≠ 0)
        g_t ← g_t + μ b_t if nesterov else b_t        (if μ ≠ 0)
        θ_t ← θ_{t−1} − γ g_t

    The momentum form is PyTorch's (v ← μv + g; θ ← θ − γv), not Sutskever et al.'s
    (v ← μv + γg; θ ← θ − v); they agree while γ is constant. Nesterov momentum: Sutskever et al.,
    "On the importance of initialization and momentum in deep learning", ICML 2013,
    http://www.cs.toronto.edu/~hinton/absps/momentum.pdf

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ for momentum (default 0).
        weight_decay: L2 penalty λ (default 0).
        nesterov: use Nesterov momentum (needs μ > 0 and τ = 0).
        maximize: ascend the objective instead of descending it.
        foreach, fused: accepted for PyTorch compatibility; descend has one NumPy path: no change.
        differentiable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        check_nonnegative(options["momentum"], "momentum value")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param, grad, group):
        mu, tau = group["momentum"], group["dampening"]
        theta = param._data
        g_buf, step = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"], out=g_buf)
        if mu != 0:
            state = self.state[param]
            if "momentum_buffer" not in state:  # t = 1: b_1 = g_1
                state["momentum_buffer"] = _wrap(g.copy())
                b = state["momentum_buffer"]._data
            else:  # b_t = μ b_{t−1} + (1 − τ) g_t
                b = state["momentum_buffer"]._data
                np.multiply(b, mu, out=b)
                np.multiply(g, 1 - tau, out=step)
                np.add(b, step, out=b)
            if group["nesterov"]:  # g_t = g_t + μ b_t
                np.multiply(b, mu, out=step)
                g = np.add(g, step, out=g_buf)
            else:
                g = b
        np.multiply(g, group["lr"], out=step)
        np.subtract(theta, step, out=theta)  # θ_t = θ_{t−1} − γ g_t
