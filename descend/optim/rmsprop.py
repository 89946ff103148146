"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, check_nonnegative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning", 2012,
    https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf), following PyTorch's `RMSprop`.

    With learning rate γ, smoothing constant α, weight decay λ, momentum μ and ε, each step does::

        g_t   ← −∇f(θ_{t−1}) if maximize else ∇f(θ_{t−1})
        g_t   ← g_t + λ θ_{t−1}                  (if λ ≠ 0)
        v     ← α v + (1 − α) g_t²
        ṽ     ← v
        g_ave ← α g_ave + (1 − α) g_t;  ṽ ← v − g_ave²    (if centered)
        b     ← μ b + g_t / (√ṽ + ε);  θ_t ← θ_{t−1} − γ b  (if μ > 0)
        θ_t   ← θ_{t−1} − γ g_t / (√ṽ + ε)                  (otherwise)

    ε is added after the square root (TensorFlow adds it inside). The centered variant, which
    normalises by an estimate of the gradient's variance, is from Graves, "Generating Sequences
    With Recurrent Neural Networks", 2013, https://arxiv.org/abs/1308.0850

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-2).
        alpha: smoothing constant α of the squared-gradient average (default 0.99).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        momentum: momentum factor μ (default 0).
        centered: normalise by the gradient's estimated variance instead of its second moment.
        capturable, differentiable: only False is supported (True raises NotImplementedError).
        foreach: accepted for PyTorch compatibility; descend has one NumPy path, so it changes nothing.
        maximize: ascend the objective instead of descending it.

    Example:
        >>> opt = descend.optim.RMSprop(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["alpha"], "alpha value")

    def _update(self, param, grad, group):
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        theta = param._data
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["square_avg"] = _wrap(np.zeros_like(theta))
        if mu > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _wrap(np.zeros_like(theta))
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = _wrap(np.zeros_like(theta))
        state["step"] += 1
        g_buf, tmp = self._scratch(param, 2)
        g = self._grad_with_decay(theta, grad, group["weight_decay"], group["maximize"], out=g_buf)

        v = state["square_avg"]._data  # v = α v + (1 − α) g²
        np.multiply(v, alpha, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1 - alpha, out=tmp)
        np.add(v, tmp, out=v)
        if group["centered"]:
            g_ave = state["grad_avg"]._data  # g_ave = α g_ave + (1 − α) g;  ṽ = v − g_ave²
            np.multiply(g_ave, alpha, out=g_ave)
            np.multiply(g, 1 - alpha, out=tmp)
            np.add(g_ave, tmp, out=g_ave)
            np.multiply(g_ave, g_ave, out=tmp)
            denom = np.subtract(v, tmp, out=tmp)
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(v, out=tmp)
        np.add(denom, eps, out=denom)  # √ṽ + ε

        if mu > 0:
            b = state["momentum_buffer"]._data  # b = μ b + g / (√ṽ + ε)
            np.multiply(b, mu, out=b)
            np.divide(g, denom, out=tmp)
            np.add(b, tmp, out=b)
            np.multiply(b, lr, out=tmp)
        else:
            np.divide(g, denom, out=tmp)
            np.multiply(tmp, lr, out=tmp)
        np.subtract(theta, tmp, out=theta)
