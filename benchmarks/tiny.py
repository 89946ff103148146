"""Workload 1: the tutorials' tiny loops, autograd every step.

The two loops are written once, against PyTorch's API, and run unchanged on ``torch`` and on
``descend`` (``import descend as torch``): the same code is timed on both. A minimal hand-written NumPy
tape runs the first loop as the reference for what any NumPy autograd can do per step.
"""

from __future__ import annotations

import time

import numpy as np

SQUARE_STEPS = 5000
QUADFIT_STEPS = 3000
SQUARE_LR = 0.1
QUADFIT_LR = 1e-5


def square_loop(torch, steps: int = SQUARE_STEPS, lr: float = SQUARE_LR) -> dict:
    """Minimise ``(w - 3) ** 2`` from w = 0 with ``backward()`` and a hand-written update, every step.

    Args:
        torch: ``torch`` or ``descend`` (anything with PyTorch's API).
        steps: number of steps.
        lr: learning rate.

    Returns:
        dict with ``seconds`` (the loop), ``steps``, ``loss_first``, ``loss_last`` and ``w`` (final).

    Example:
        >>> import descend  # doctest: +SKIP
        >>> square_loop(descend, steps=100)["w"]  # doctest: +SKIP
    """
    w = torch.tensor(0.0, requires_grad=True)
    loss_first = None
    start = time.perf_counter()
    for step in range(steps):
        loss = (w - 3) ** 2
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
        if step == 0:
            loss_first = loss.item()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": loss.item(),
            "w": w.item()}


def quadfit_data(seed: int = 0) -> tuple:
    """The tutorial's data: 20 time steps, speed = noise + 0.5 (t - 9.5)^2 + 1, and 3 initial params.

    Args:
        seed: NumPy seed, so every contender fits the same points from the same start.

    Returns:
        ``(time, speed, params)`` as float32 arrays of shapes (20,), (20,), (3,).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(20, dtype=np.float32)
    speed = (rng.standard_normal(20) + 0.5 * (t - 9.5) ** 2 + 1).astype(np.float32)
    params = rng.standard_normal(3).astype(np.float32)
    return t, speed, params


def quadfit_loop(torch, steps: int = QUADFIT_STEPS, lr: float = QUADFIT_LR) -> dict:
    """The tutorial's quadratic fit: ``a, b, c = params``, MSE, ``params.data -= lr * params.grad.data``.

    Args:
        torch: ``torch`` or ``descend``.
        steps: number of steps.
        lr: learning rate (the tutorial's 1e-5).

    Returns:
        dict with ``seconds``, ``steps``, ``loss_first``, ``loss_last`` and the final ``params``.
    """
    t_np, speed_np, params_np = quadfit_data()
    time_ = torch.from_numpy(t_np)
    speed = torch.from_numpy(speed_np)
    params = torch.from_numpy(params_np.copy()).requires_grad_()

    def f(t, params):
        a, b, c = params
        return a * (t**2) + (b * t) + c

    def mse(preds, targets):
        return ((preds - targets) ** 2).mean()

    loss_first = None
    start = time.perf_counter()
    for step in range(steps):
        preds = f(time_, params)
        loss = mse(preds, speed)
        loss.backward()
        params.data -= lr * params.grad.data
        params.grad = None
        if step == 0:
            loss_first = loss.item()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": loss.item(),
            "params": [float(v) for v in params.detach().numpy()]}


# --- the reference: a minimal NumPy tape ---------------------------------------------------------------

class Var:
    """A node of a minimal reverse-mode tape over 0-d NumPy arrays: value, gradient, parents, VJPs."""

    __slots__ = ("data", "grad", "parents", "vjps")

    def __init__(self, data, parents=(), vjps=()):
        self.data = data
        self.grad = None
        self.parents = parents
        self.vjps = vjps

    def __sub__(self, other):
        return Var(self.data - other, (self,), (_identity,))

    def __pow__(self, k):
        x = self.data
        return Var(x**k, (self,), (lambda g: g * k * x ** (k - 1),))

    def backward(self):
        """Accumulate d(self)/d(leaf) into every leaf's ``grad``, walking the graph without recursion."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        grads = {id(self): np.ones_like(self.data)}
        for node in reversed(order):
            g = grads.pop(id(node))
            if not node.parents:
                node.grad = g if node.grad is None else node.grad + g
                continue
            for parent, vjp in zip(node.parents, node.vjps):
                pg = vjp(g)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg


def _identity(g):
    return g


def square_loop_numpy_tape(steps: int = SQUARE_STEPS, lr: float = SQUARE_LR) -> dict:
    """``(w - 3) ** 2`` on the minimal tape above: the per-step floor for a NumPy autograd.

    Args:
        steps: number of steps.
        lr: learning rate.

    Returns:
        The same dict as :func:`square_loop`.
    """
    w = Var(np.array(0.0, dtype=np.float32))
    lr32 = np.float32(lr)
    loss_first = None
    start = time.perf_counter()
    for step in range(steps):
        loss = (w - 3) ** 2
        loss.backward()
        np.subtract(w.data, lr32 * w.grad, out=w.data)
        w.grad = None
        if step == 0:
            loss_first = float(loss.data)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": float(loss.data),
            "w": float(w.data)}


def check_square(result: dict) -> str | None:
    """None when the square loop reached w = 3 (loss ~ 0), else what went wrong."""
    first, last, w = result["loss_first"], result["loss_last"], result["w"]
    if not (np.isfinite(first) and np.isfinite(last)) or not last < first or abs(w - 3.0) > 1e-3:
        return f"(w-3)**2 did not converge: loss {first:.4g} -> {last:.4g}, w = {w:.6g} (expected 3)"
    return None
