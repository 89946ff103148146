"""The anchors: JAX (``jax.jit`` of the whole training step, CPU) and micrograd (scalar autograd).

They answer "what would a user pick instead for the same job?" on the same workloads as descend and
PyTorch, in the same run: JAX on the ``(w-3)**2`` loop, the tutorial quadratic fit and the 784-H-10 MLP
epoch (its jitted step is the GEMM limit of that epoch); micrograd on the scalar ``(w-3)**2`` loop.

Each loop returns the same dict as its ``tiny``/``mlp`` counterpart, so the worker's sanity checks and
the referee judge it alike. Compilation is paid before the clock starts (once per shape, cached across
repetitions), as a user training for more than one step would amortise it; every timed loop ends with
``block_until_ready`` so JAX's asynchronous dispatch cannot hide work.

Optional: ``pip install -e ".[bench-anchors]"`` (jax, jaxlib, micrograd); without them their rows are
skipped with a note.
"""

from __future__ import annotations

import functools
import time

import numpy as np
from tiny import QUADFIT_LR, QUADFIT_STEPS, SQUARE_LR, SQUARE_STEPS, quadfit_data

# --- JAX ----------------------------------------------------------------------------------------------


@functools.cache
def _square_step(lr: float):
    import jax

    def step(w):
        loss, grad = jax.value_and_grad(lambda v: (v - 3.0) ** 2)(w)
        return w - lr * grad, loss

    return jax.jit(step)


def jax_square_loop(steps: int = SQUARE_STEPS, lr: float = SQUARE_LR) -> dict:
    """``(w - 3) ** 2`` from w = 0, one jitted step (loss, gradient and update) per iteration.

    Returns:
        The dict of ``tiny.square_loop``: seconds, steps, loss_first, loss_last, w.

    Example:
        >>> jax_square_loop(steps=200)["w"]  # doctest: +SKIP
        3.0
    """
    import jax.numpy as jnp

    step = _square_step(lr)
    w = jnp.asarray(0.0, dtype=jnp.float32)
    step(w)[0].block_until_ready()  # compile outside the timing
    loss_first = None
    start = time.perf_counter()
    for i in range(steps):
        w, loss = step(w)
        if i == 0:
            loss_first = float(loss)  # the PyTorch loop's loss.item() at step 0, a sync point too
    w.block_until_ready()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": float(loss),
            "w": float(w)}


@functools.cache
def _quadfit_step(lr: float):
    import jax
    import jax.numpy as jnp

    def loss_fn(params, t, speed):
        a, b, c = params[0], params[1], params[2]
        preds = a * (t**2) + (b * t) + c
        return jnp.mean((preds - speed) ** 2)

    def step(params, t, speed):
        loss, grad = jax.value_and_grad(loss_fn)(params, t, speed)
        return params - lr * grad, loss

    return jax.jit(step)


def jax_quadfit_loop(steps: int = QUADFIT_STEPS, lr: float = QUADFIT_LR) -> dict:
    """The tutorial's quadratic fit as one jitted step: MSE, gradient, ``params - lr * grad``.

    Returns:
        The dict of ``tiny.quadfit_loop``: seconds, steps, loss_first, loss_last, params.
    """
    import jax.numpy as jnp

    t_np, speed_np, params_np = quadfit_data()
    t, speed, params = jnp.asarray(t_np), jnp.asarray(speed_np), jnp.asarray(params_np)
    step = _quadfit_step(lr)
    step(params, t, speed)[0].block_until_ready()  # compile outside the timing
    loss_first = None
    start = time.perf_counter()
    for i in range(steps):
        params, loss = step(params, t, speed)
        if i == 0:
            loss_first = float(loss)
    params.block_until_ready()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": float(loss),
            "params": [float(v) for v in np.asarray(params)]}


@functools.cache
def _mlp_step(optimizer: str, lr: float, batch: int, betas: tuple = (0.9, 0.999), eps: float = 1e-8):
    """One jitted training step on rows ``[start, start + batch)`` of the whole (device) data set."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r}: expected 'sgd' or 'adam'")
    b1, b2 = betas

    def loss_fn(p, x, y):
        h = jnp.maximum(x @ p["W1"].T + p["b1"], 0.0)
        z = h @ p["W2"].T + p["b2"]
        picked = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)

    def step(p, state, X, Y, start):
        x = lax.dynamic_slice_in_dim(X, start, batch)
        y = lax.dynamic_slice_in_dim(Y, start, batch)
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        if optimizer == "sgd":
            return {k: p[k] - lr * g[k] for k in p}, state, loss
        # PyTorch's Adam: m, v moving averages; p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)
        t = state["t"] + 1
        m = {k: b1 * state["m"][k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * state["v"][k] + (1 - b2) * g[k] * g[k] for k in p}
        bc1, bc2_sqrt = 1 - b1**t, jnp.sqrt(1 - b2**t)
        new = {k: p[k] - (lr / bc1) * m[k] / (jnp.sqrt(v[k]) / bc2_sqrt + eps) for k in p}
        return new, {"t": t, "m": m, "v": v}, loss

    return jax.jit(step, donate_argnums=(0, 1))


def jax_mlp_epoch(X: np.ndarray, y: np.ndarray, init: dict, batch: int, optimizer: str, lr: float,
                  device_data: tuple | None = None) -> dict:
    """One epoch of the 784-H-10 MLP, contiguous batches in order, each step one jitted call.

    Args:
        X, y, init, batch, optimizer, lr: as ``mlp.manual_epoch``.
        device_data: ``(X, y)`` already on JAX's device (the worker caches them across repetitions;
            the copy is outside the timing, as PyTorch's ``from_numpy`` is free).

    Returns:
        dict with ``seconds``, ``steps``, ``losses`` and ``weights`` (as ``mlp.manual_epoch``).
    """
    import jax
    import jax.numpy as jnp

    X_d, y_d = device_data if device_data is not None else (jnp.asarray(X), jnp.asarray(y))
    n = len(X)
    sizes = sorted({min(batch, n - i) for i in range(0, n, batch)})

    def fresh():
        params = {k: jnp.asarray(v) for k, v in init.items()}
        state = {"t": jnp.asarray(0, jnp.int32), "m": {k: jnp.zeros_like(v) for k, v in params.items()},
                 "v": {k: jnp.zeros_like(v) for k, v in params.items()}}
        return params, state

    for size in sizes:  # compile every batch shape (the last batch may be short) outside the timing
        p, s = fresh()
        jax.block_until_ready(_mlp_step(optimizer, lr, size)(p, s, X_d, y_d, 0))
    params, state = fresh()
    steps = {size: _mlp_step(optimizer, lr, size) for size in sizes}
    losses = []
    start = time.perf_counter()
    for i in range(0, n, batch):
        params, state, loss = steps[min(batch, n - i)](params, state, X_d, y_d, i)
        losses.append(loss)
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": len(losses), "losses": [float(v) for v in jnp.stack(losses)],
            "weights": {k: np.asarray(v) for k, v in params.items()}}


# --- micrograd ----------------------------------------------------------------------------------------

def micrograd_square_loop(steps: int = SQUARE_STEPS, lr: float = SQUARE_LR) -> dict:
    """``(w - 3) ** 2`` from w = 0 on micrograd's scalar ``Value``: zero the grad, backward, update.

    Returns:
        The dict of ``tiny.square_loop``.

    Example:
        >>> micrograd_square_loop(steps=200)["w"]  # doctest: +SKIP
        3.0
    """
    from micrograd.engine import Value

    w = Value(0.0)
    loss_first = None
    start = time.perf_counter()
    for step in range(steps):
        loss = (w - 3) ** 2
        w.grad = 0.0  # micrograd accumulates; only the leaf outlives the step
        loss.backward()
        w.data -= lr * w.grad
        if step == 0:
            loss_first = loss.data
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "loss_first": loss_first, "loss_last": loss.data,
            "w": w.data}
