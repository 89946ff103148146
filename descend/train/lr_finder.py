"""The learning-rate range test (Smith 2015, as fastai and torch-lr-finder run it)."""

from __future__ import annotations

import math

import numpy as np

from descend.train._state import (
    check_data,
    clone_state,
    is_pair,
    optimizer_params,
    restore,
    set_training,
    snapshot,
)


class LRFinderResult:
    """What `lr_find` measured.

    Attributes:
        lrs: learning rate of each iteration (NumPy array).
        losses: exponentially smoothed, bias-corrected loss at each iteration.
        raw_losses: the batch losses themselves.
        suggestion: the learning rate where the smoothed loss falls fastest against log(lr)
            (slopes measured across a twentieth of the curve, its first tenth left out as noise);
            None when the run was too short to tell.
        stopped_early: True when the loss exploded before `num_iter` iterations.
    """

    def __init__(self, lrs, losses, raw_losses, suggestion, stopped_early):
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.raw_losses = np.asarray(raw_losses, dtype=np.float64)
        self.suggestion = suggestion
        self.stopped_early = stopped_early

    def plot(self, ax=None, save=None):
        """Draw the loss against the learning rate with the suggestion marked (``descend.plot.lr_find``).

        Example:
            >>> fig = descend.lr_find(model, loss_fn, opt, loader).plot()  # doctest: +SKIP
        """
        from descend import plot

        return plot.lr_find(self, ax=ax, save=save)

    def _repr_png_(self):
        """In a notebook the result shows as its picture (and its text repr elsewhere)."""
        if len(self.lrs) == 0:
            return None
        import io
        import sys

        fig = self.plot()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(fig)  # drawn here: the inline backend must not show it a second time
        return buffer.getvalue()

    def __repr__(self):
        if len(self.lrs) == 0:
            return "LRFinderResult(no iterations: the first loss was not finite)"
        best = int(np.argmin(self.losses))
        why = "loss exploded" if self.stopped_early else "end of range"
        suggestion = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        return (
            f"LRFinderResult(suggestion={suggestion}, iterations={len(self.lrs)}, "
            f"lr {self.lrs[0]:.3g} -> {self.lrs[-1]:.3g} ({why}), "
            f"min smoothed loss {self.losses[best]:.4g} at lr={self.lrs[best]:.3g})"
        )


def _suggest(lrs: list, losses: list) -> float | None:
    """The lr at the steepest descent of the smoothed loss against log(lr), or None if too short.

    The slope at point i is taken across i-k .. i+k with k = n // 20: on a slope from one point to
    the next, one noisy batch in the flat start (or a dip after the minimum) can outdo the real
    descent. The first tenth of the curve, still averaging few batches, is left out, and so is
    everything past the lowest smoothed loss: once the loss has started to blow up, a later fall
    (it can recover below the divergence threshold) is no place to train.
    """
    n = len(losses)
    k = max(1, n // 20)
    log_lr, smoothed = np.log(np.asarray(lrs)), np.asarray(losses)
    lo, hi = max(n // 10, k), min(n - k, int(np.nanargmin(smoothed)) + 1)
    if hi <= lo:
        return None
    centre = np.arange(lo, hi)
    slope = (smoothed[centre + k] - smoothed[centre - k]) / (log_lr[centre + k] - log_lr[centre - k])
    return float(lrs[lo + int(np.argmin(slope))])


def _cycle(data):
    """Batches forever, starting the loader over (a new epoch, a new shuffle) when it runs out."""
    while True:
        empty = True
        for batch in (data,) if is_pair(data) else data:
            empty = False
            yield batch
        if empty:
            raise ValueError("the training data gave no batches")


def lr_find(model, loss_fn, optimizer, train, start_lr=1e-7, end_lr=10, num_iter=100, smooth_f=0.05,
            diverge_th=5) -> LRFinderResult:
    """The learning-rate range test: train briefly while the learning rate grows exponentially.

    Iteration i uses `lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))` for every param
    group, cycling through `train` as often as needed. The loss is smoothed exponentially
    (`avg = (1 - smooth_f) * avg + smooth_f * loss`, divided by `1 - (1 - smooth_f) ** (i + 1)`
    to remove the bias towards the zero start), and the test stops once the smoothed loss exceeds
    `diverge_th` times the best so far (or is not finite). Afterwards the model's weights, the
    optimizer's state and learning rates, and the model's train/eval mode are put back exactly,
    and the gradients are cleared. A DataLoader with `set_epoch` is set back to the epoch it was
    at, so a seeded loader shuffles in `fit` as if `lr_find` had not run.

    Args:
        model, loss_fn, optimizer, train: as for `fit`.
        start_lr, end_lr: the range, 0 < start_lr < end_lr.
        num_iter: iterations (>= 2).
        smooth_f: weight of each new loss in the moving average, in (0, 1].
        diverge_th: stop when the smoothed loss exceeds this multiple of the best (> 1).

    Returns:
        An `LRFinderResult` with `lrs`, `losses` (smoothed), `raw_losses` and `suggestion`.

    Example:
        >>> result = descend.lr_find(model, loss_fn, descend.optim.SGD(model.parameters(), lr=0.1), loader)
        >>> optimizer = descend.optim.SGD(model.parameters(), lr=result.suggestion)
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"num_iter must be an integer >= 2, got {num_iter!r}")
    if not 0 < smooth_f <= 1:
        raise ValueError(f"smooth_f must be in (0, 1], got {smooth_f!r}")
    if not diverge_th > 1:
        raise ValueError(f"diverge_th must be > 1, got {diverge_th!r}")
    check_data(train, "train")
    params = optimizer_params(optimizer)
    model_state = snapshot(model, params)
    optimizer_state = clone_state(optimizer.state_dict())
    was_training = getattr(model, "training", True)
    loader_epoch = getattr(train, "epoch", None) if hasattr(train, "set_epoch") else None
    beta = 1.0 - smooth_f
    lrs, losses, raw_losses = [], [], []
    average, best, stopped_early = 0.0, math.inf, False
    batches = _cycle(train)
    set_training(model, True)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i in range(num_iter):
                lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                xb, yb = next(batches)
                loss = loss_fn(model(xb), yb)
                value = loss.item()
                if not math.isfinite(value):
                    stopped_early = True
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                average = beta * average + (1.0 - beta) * value
                smoothed = average / (1.0 - beta ** (i + 1))
                lrs.append(lr)
                raw_losses.append(value)
                losses.append(smoothed)
                best = min(best, smoothed)
                if best > 0 and smoothed > diverge_th * best:
                    stopped_early = True
                    break
    finally:
        restore(model, params, model_state)
        optimizer.load_state_dict(optimizer_state)
        for p in params:
            p.grad = None
        set_training(model, was_training)
        if loader_epoch is not None:
            train.set_epoch(loader_epoch)
    return LRFinderResult(lrs, losses, raw_losses, _suggest(lrs, losses), stopped_early)
