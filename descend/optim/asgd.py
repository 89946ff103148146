"""ASGD: stochastic gradient descent with Polyak-Ruppert averaging of the iterates."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, scalar_dtype

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging", SIAM J.
    Control Optim. 1992, https://doi.org/10.1137/0330046), following PyTorch's `ASGD`.

    With learning rate γ, decay λ (`lambd`), power α, averaging start t0 and weight decay λ_w, starting
    from η_0 = γ, μ_0 = 1 and ax = 0, each step t = 1, 2, ... does::

        g_t  ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        g_t  ← g_t + λ_w θ_{t−1}                       (if λ_w ≠ 0)
        θ_t  ← θ_{t−1} (1 − λ η_{t−1}) − η_{t−1} g_t
        ax_t ← ax_{t−1} + μ_{t−1} (θ_t − ax_{t−1})    (ax_t = θ_t while μ_{t−1} = 1)
        η_t  ← γ / (1 + λ γ t)^α
        μ_t  ← 1 / max(1, t − t0)

    `state[p]["ax"]` holds the averaged parameters; averaging starts after t0 steps (so with the
    default t0 = 1e6, ax simply tracks θ). η and μ are kept as Python floats in the state, rounded to
    float32 unless the default dtype is float64, as PyTorch's 0-d state tensors round them.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-2).
        lambd: decay term λ (default 1e-4).
        alpha: power α of the η update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty λ_w (default 0).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.
        differentiable, capturable: only False is supported (True raises NotImplementedError).

    Example:
        >>> opt = descend.optim.ASGD(model.parameters(), lr=1e-2, t0=100)
        >>> averaged = opt.state[w]["ax"]
    """

    _scalar_state = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, group):
        lr, lambd = group["lr"], group["lambd"]
        theta = param._data
        state = self.state[param]
        dt = scalar_dtype()
        if not state:
            state["step"] = 0
            state["eta"] = float(dt(lr))
            state["mu"] = 1.0
            state["ax"] = _wrap(np.zeros_like(theta))
        t = state["step"] = state["step"] + 1
        eta, mu, ax = state["eta"], state["mu"], state["ax"]._data
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"],
                                  out=self._scratch(param, 1)[0])

        theta *= 1 - lambd * eta  # θ = θ (1 − λη) − η g
        theta -= eta * g
        if mu != 1:
            ax += (theta - ax) * mu  # ax = ax + μ (θ − ax)
        else:
            ax[...] = theta
        state["eta"] = float(dt(lr / (1 + lambd * lr * t) ** group["alpha"]))
        state["mu"] = float(dt(1 / max(1, t - group["t0"])))
