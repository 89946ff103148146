"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_nonnegative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011, https://jmlr.org/papers/v12/duchi11a.html), following
    PyTorch's `Adagrad`.

    With learning rate γ, learning-rate decay η, weight decay λ, initial accumulator value τ and ε,
    starting from sum = τ, each step t = 1, 2, ... does::

        g_t ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        γ̃   ← γ / (1 + (t − 1) η)
        g_t ← g_t + λ θ_{t−1}                  (if λ ≠ 0)
        sum ← sum + g_t²
        θ_t ← θ_{t−1} − γ̃ g_t / (√sum + ε)

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-2).
        lr_decay: η (default 0).
        weight_decay: L2 penalty λ (default 0).
        initial_accumulator_value: τ, the starting value of every sum (default 0); as in PyTorch, the
            constructor's value applies to every group, even one that sets its own.
        eps: ε added to the denominator (default 1e-10).
        foreach, fused: accepted for PyTorch compatibility; descend has one NumPy path: no change.
        maximize: ascend the objective instead of descending it.
        differentiable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # As PyTorch: every parameter given here has its state from the start (step 0, sum = τ), so
        # state_dict() lists it before its first gradient.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, param):
        # NOTE: τ is the constructor's value for every group, as in PyTorch (whose eager and lazy
        # initialisations both read `defaults`): a group's own initial_accumulator_value is kept in
        # the group but not used.
        state = self.state[param]
        state["step"] = 0
        state["sum"] = _wrap(np.full_like(param._data, self.defaults["initial_accumulator_value"]))

    def _validate(self, options):
        super()._validate(options)
        check_nonnegative(options["lr_decay"], "lr_decay value")
        check_nonnegative(options["initial_accumulator_value"], "initial_accumulator_value value")

    def _update(self, param, grad, group):
        theta = param._data
        state = self.state[param]
        if not state:  # a parameter of a group added later
            self._init_state(param)
        t = state["step"] = state["step"] + 1
        g_buf, tmp = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"], out=g_buf)

        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])  # γ̃
        total = state["sum"]._data  # sum = sum + g²
        np.multiply(g, g, out=tmp)
        np.add(total, tmp, out=total)
        std = np.sqrt(total, out=tmp)  # √sum + ε
        np.add(std, group["eps"], out=std)
        np.divide(g, std, out=tmp)
        np.multiply(tmp, clr, out=tmp)
        np.subtract(theta, tmp, out=theta)  # θ = θ − γ̃ g / (√sum + ε)
