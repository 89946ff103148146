"""Workloads 2 and 3: one epoch of a 784-H-10 ReLU MLP with softmax cross-entropy.

The manual loop is written once, against PyTorch's API, and runs unchanged on ``torch`` and on
``descend`` (``import descend as torch``). Every manual contender (these two and the NumPy floor) starts
from the same weights and sees the same batches in the same order (contiguous slices of the data, the
last one short), so their final weights should agree closely; ``descend.fit`` gets a shuffled
``DataLoader`` instead, which is what a practitioner would write.
"""

from __future__ import annotations

import time

import numpy as np


def build_model(torch, init: dict):
    """``nn.Sequential(Linear, ReLU, Linear)`` with its parameters overwritten by ``init``.

    Args:
        torch: ``torch`` or ``descend``.
        init: dict of float32 arrays W1, b1, W2, b2 (PyTorch layout).

    Returns:
        ``(model, [weight1, bias1, weight2, bias2])``.
    """
    nn = torch.nn
    hidden, n_in = init["W1"].shape
    n_out = init["W2"].shape[0]
    first, second = nn.Linear(n_in, hidden), nn.Linear(hidden, n_out)
    tensors = [first.weight, first.bias, second.weight, second.bias]
    with torch.no_grad():
        for p, key in zip(tensors, ("W1", "b1", "W2", "b2")):
            p.copy_(torch.from_numpy(init[key]))
    return nn.Sequential(first, nn.ReLU(), second), tensors


def make_optimizer(torch, params, optimizer: str, lr: float):
    """``optim.SGD(params, lr)`` or ``optim.Adam(params, lr)`` with default hyper-parameters otherwise."""
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {optimizer!r}: expected 'sgd' or 'adam'")


def _weights(tensors) -> dict:
    return {k: p.detach().numpy().copy() for k, p in zip(("W1", "b1", "W2", "b2"), tensors)}


def manual_epoch(torch, X: np.ndarray, y: np.ndarray, init: dict, batch: int, optimizer: str,
                 lr: float) -> dict:
    """One epoch of the classic loop: forward, loss, ``zero_grad``, ``backward``, ``step``, ``item``.

    Args:
        torch: ``torch`` or ``descend``.
        X: float32 inputs (n, 784), wrapped without a copy by ``from_numpy``.
        y: int64 labels (n,).
        init: initial weights (see ``common.mlp_init``).
        batch: batch size.
        optimizer: ``"sgd"`` or ``"adam"``.
        lr: learning rate.

    Returns:
        dict with ``seconds`` (the epoch loop only), ``steps``, ``losses`` and ``weights``.
    """
    model, tensors = build_model(torch, init)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = make_optimizer(torch, model.parameters(), optimizer, lr)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    n = len(X)
    losses = []
    start = time.perf_counter()
    for i in range(0, n, batch):
        xb, yb = X_t[i:i + batch], y_t[i:i + batch]
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": len(losses), "losses": losses, "weights": _weights(tensors)}


def fit_epoch(descend, X: np.ndarray, y: np.ndarray, init: dict, batch: int, optimizer: str,
              lr: float, seed: int = 0) -> dict:
    """One epoch through ``descend.fit`` with a shuffled ``DataLoader`` and no progress bar.

    Args:
        descend: the ``descend`` module.
        X, y, init, batch, optimizer, lr: as :func:`manual_epoch`.
        seed: shuffling seed.

    Returns:
        dict with ``seconds`` (the ``fit`` call, loader set-up included), ``steps``, ``losses`` (per
        step, ``History.step_loss``) and ``weights``.
    """
    model, tensors = build_model(descend, init)
    loss_fn = descend.nn.CrossEntropyLoss()
    opt = make_optimizer(descend, model.parameters(), optimizer, lr)
    start = time.perf_counter()
    dataset = descend.data.TensorDataset(descend.from_numpy(X), descend.from_numpy(y))
    loader = descend.data.DataLoader(dataset, batch_size=batch, shuffle=True, seed=seed)
    history = descend.fit(model, loss_fn, opt, loader, epochs=1, progress=False)
    seconds = time.perf_counter() - start
    losses = list(history.step_loss)
    return {"seconds": seconds, "steps": len(losses), "losses": losses, "weights": _weights(tensors)}
