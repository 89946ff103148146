"""The floor: a hand-written NumPy forward/backward/update for a 784-H-10 ReLU MLP, no autograd.

This is the yardstick for any NumPy engine, so it is written to do as little as NumPy allows:
float32 throughout; every parameter and every gradient is a view into one flat buffer, so the optimizer
runs a handful of ufuncs over one array instead of a handful per parameter; activations, gradients and
optimizer scratch are preallocated and written with ``out=``; the softmax cross-entropy gradient is
fused ((softmax - onehot) / n, formed in the logits buffer); the ReLU backward reuses the post-ReLU
activations as its mask; no gradient is formed for the input.

The updates follow PyTorch's ``SGD`` and ``Adam`` formulas, so with the same initial weights and the
same batches the trajectories agree with PyTorch's to float32 rounding.
"""

from __future__ import annotations

import math
import time

import numpy as np


class FloorMLP:
    """784-H-10 ReLU MLP with softmax cross-entropy, trained by a fused hand-written step.

    Args:
        init: dict of float32 arrays W1 (H, 784), b1 (H,), W2 (10, H), b2 (10,) (PyTorch layout).
        batch: largest batch the step will see (buffers are sized for it; smaller batches use slices).
        optimizer: ``"sgd"`` or ``"adam"``.
        lr: learning rate.
        betas: Adam's (beta1, beta2).
        eps: Adam's epsilon.

    Example:
        >>> from common import mlp_init
        >>> net = FloorMLP(mlp_init(16), batch=4, optimizer="sgd", lr=0.1)
        >>> x = np.zeros((4, 784), np.float32); y = np.array([0, 1, 2, 3])
        >>> round(net.step(x, y), 1) > 0
        True
    """

    def __init__(self, init: dict, batch: int, optimizer: str = "sgd", lr: float = 0.1,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        hidden, n_in = init["W1"].shape
        n_out = init["W2"].shape[0]
        shapes = {"W1": (hidden, n_in), "b1": (hidden,), "W2": (n_out, hidden), "b2": (n_out,)}
        total = sum(math.prod(s) for s in shapes.values())
        self.flat = np.empty(total, dtype=np.float32)
        self.grad = np.empty(total, dtype=np.float32)
        self.params, self.grads = {}, {}
        offset = 0
        for name, shape in shapes.items():
            size = math.prod(shape)
            self.params[name] = self.flat[offset:offset + size].reshape(shape)
            self.grads[name] = self.grad[offset:offset + size].reshape(shape)
            self.params[name][...] = init[name]
            offset += size

        # Activations and their gradients, sized for the largest batch.
        self.h = np.empty((batch, hidden), dtype=np.float32)
        self.dh = np.empty((batch, hidden), dtype=np.float32)
        self.mask = np.empty((batch, hidden), dtype=bool)
        self.logits = np.empty((batch, n_out), dtype=np.float32)
        self.rowmax = np.empty((batch, 1), dtype=np.float32)
        self.rowsum = np.empty((batch, 1), dtype=np.float32)
        self.rows = np.arange(batch)

        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"unknown optimizer {optimizer!r}: expected 'sgd' or 'adam'")
        self.optimizer, self.lr, self.betas, self.eps = optimizer, lr, betas, eps
        self.tmp = np.empty(total, dtype=np.float32)
        if optimizer == "adam":
            self.m = np.zeros(total, dtype=np.float32)
            self.v = np.zeros(total, dtype=np.float32)
            self.t = 0

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One forward, backward and update on the batch ``(x, y)``; returns the batch's mean loss."""
        n = len(x)
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        gW1, gb1, gW2, gb2 = (self.grads[k] for k in ("W1", "b1", "W2", "b2"))
        h, dh, mask, z = self.h[:n], self.dh[:n], self.mask[:n], self.logits[:n]
        rowmax, rowsum, rows = self.rowmax[:n], self.rowsum[:n], self.rows[:n]

        # forward: h = relu(x W1^T + b1); z = h W2^T + b2
        np.matmul(x, W1.T, out=h)
        np.add(h, b1, out=h)
        np.maximum(h, 0, out=h)
        np.matmul(h, W2.T, out=z)
        np.add(z, b2, out=z)

        # fused softmax cross-entropy: loss = mean(logsumexp(z) - z_y); dz = (softmax(z) - onehot) / n
        np.max(z, axis=1, keepdims=True, out=rowmax)
        np.subtract(z, rowmax, out=z)
        picked = z[rows, y]
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=rowsum)
        loss = float(np.log(rowsum).sum() - picked.sum()) / n
        np.multiply(rowsum, n, out=rowsum)
        np.divide(z, rowsum, out=z)
        z[rows, y] -= np.float32(1 / n)

        # backward: the post-ReLU activations are positive exactly where the ReLU let gradient through
        np.matmul(z.T, h, out=gW2)
        np.sum(z, axis=0, out=gb2)
        np.matmul(z, W2, out=dh)
        np.greater(h, 0, out=mask)
        np.multiply(dh, mask, out=dh)
        np.matmul(dh.T, x, out=gW1)
        np.sum(dh, axis=0, out=gb1)

        if self.optimizer == "sgd":
            self._sgd()
        else:
            self._adam()
        return loss

    def _sgd(self) -> None:
        # p <- p - lr * g over the one flat buffer
        np.multiply(self.grad, np.float32(self.lr), out=self.tmp)
        np.subtract(self.flat, self.tmp, out=self.flat)

    def _adam(self) -> None:
        # PyTorch's Adam (Kingma & Ba, https://arxiv.org/abs/1412.6980):
        #   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
        #   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        # rewritten as p <- p - (lr sqrt(1 - b2^t) / (1 - b1^t)) * m / (sqrt(v) + eps sqrt(1 - b2^t))
        # to spend one pass less; equal to float32 rounding.
        b1, b2 = self.betas
        g, m, v, tmp = self.grad, self.m, self.v, self.tmp
        self.t += 1
        bc1 = 1 - b1**self.t
        bc2_sqrt = math.sqrt(1 - b2**self.t)
        np.multiply(m, np.float32(b1), out=m)
        np.multiply(g, np.float32(1 - b1), out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, np.float32(b2), out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, np.float32(1 - b2), out=tmp)
        np.add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        np.add(tmp, np.float32(self.eps * bc2_sqrt), out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, np.float32(self.lr * bc2_sqrt / bc1), out=tmp)
        np.subtract(self.flat, tmp, out=self.flat)

    def weights(self) -> dict:
        """Copies of the current parameters, keyed W1, b1, W2, b2."""
        return {k: v.copy() for k, v in self.params.items()}


def floor_epoch(X: np.ndarray, y: np.ndarray, init: dict, batch: int, optimizer: str, lr: float) -> dict:
    """One epoch of the floor over ``(X, y)`` in order, in contiguous batches (the last may be short).

    Args:
        X: float32 inputs (n, 784).
        y: int64 labels (n,).
        init: initial weights (see ``common.mlp_init``).
        batch: batch size.
        optimizer: ``"sgd"`` or ``"adam"``.
        lr: learning rate.

    Returns:
        dict with ``seconds`` (the epoch loop only), ``steps``, ``losses`` (per step) and ``weights``.
    """
    net = FloorMLP(init, batch, optimizer, lr)
    n = len(X)
    losses = []
    start = time.perf_counter()
    for i in range(0, n, batch):
        losses.append(net.step(X[i:i + batch], y[i:i + batch]))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": len(losses), "losses": losses, "weights": net.weights()}
