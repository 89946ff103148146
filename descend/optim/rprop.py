"""Rprop: resilient backpropagation, a per-coordinate step size driven by the gradient's sign alone."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The
    RPROP Algorithm", ICNN 1993, https://doi.org/10.1109/ICNN.1993.298623), following PyTorch's `Rprop`
    (the variant without weight backtracking, sometimes called Rprop−).

    With etas (η−, η+) and step-size bounds (Γ_min, Γ_max), starting from g_0 = 0 and every step size
    η_0 = γ (the learning rate), each step t = 1, 2, ... does, coordinate by coordinate::

        g_t ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        η_t ← min(η_{t−1} η+, Γ_max)     if g_{t−1} g_t > 0
        η_t ← max(η_{t−1} η−, Γ_min);  g_t ← 0    if g_{t−1} g_t < 0   (overshot: shrink, skip once)
        η_t ← η_{t−1}                    otherwise
        θ_t ← θ_{t−1} − η_t sign(g_t)

    Only the sign of the gradient is used, so Rprop suits full-batch training, not minibatches.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: the initial step size γ of every coordinate (default 1e-2).
        etas: (η−, η+), with 0 < η− < 1 < η+ (default (0.5, 1.2)).
        step_sizes: (Γ_min, Γ_max), the bounds of the step sizes (default (1e-6, 50)).
        capturable, differentiable: only False is supported (True raises NotImplementedError).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.

    Example:
        >>> opt = descend.optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        eta_minus, eta_plus = options["etas"]
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"Invalid eta values: {eta_minus}, {eta_plus}")

    def _update(self, param, grad, group):
        (eta_minus, eta_plus), (step_min, step_max) = group["etas"], group["step_sizes"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["prev"] = _wrap(np.zeros_like(theta))
            state["step_size"] = _wrap(np.full_like(theta, group["lr"]))
        state["step"] += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        g, factor = self._scratch(param, 2)  # arrays even for a 0-d parameter (g[mask] = 0 below)
        if group["maximize"]:
            np.negative(grad, out=g)
        else:
            np.copyto(g, grad)

        np.multiply(g, prev, out=factor)
        sign = np.sign(factor)
        # the factors in the parameter's dtype, so float32 step sizes round as PyTorch's do
        factor[...] = 1.0
        factor[sign > 0] = eta_plus
        factor[sign < 0] = eta_minus
        np.multiply(step_size, factor, out=step_size)
        np.clip(step_size, step_min, step_max, out=step_size)
        g[sign < 0] = 0  # after a sign change, skip this coordinate's step and forget its gradient
        np.subtract(theta, np.sign(g) * step_size, out=theta)
        prev[...] = g
