"""Metrics for `descend.fit`: plain functions of (predictions, targets) that return a float.

`fit` computes every metric once per epoch on the predictions of the whole epoch (it concatenates
the batches), so a metric is exact over the epoch rather than a mean of per-batch values: accuracy
with a short last batch, or RMSE (a square root of a mean, which batch means would bias), come out
as if the epoch were one batch.

Each function accepts `descend.Tensor`s or NumPy arrays and computes in float64.

Example:
    >>> from descend.metrics import accuracy, mae, rmse
    >>> accuracy(np.array([[2.0, 0.1], [0.3, 0.9]]), np.array([0, 0]))
    0.5
    >>> rmse(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    1.4142135623730951
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "get_metric", "mae", "rmse"]


def _array(x) -> np.ndarray:
    """The NumPy array behind a Tensor (no copy), or `np.asarray` of anything else."""
    data = getattr(x, "_data", None)  # descend.Tensor keeps its array in `_data`
    return data if isinstance(data, np.ndarray) else np.asarray(x)


def _paired(pred, target, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets as flat float64 arrays of the same length.

    Shapes (N,) and (N, 1) are both accepted, for either side: a regression head outputs (N, 1)
    while targets are often (N,). Broadcasting them against each other would silently compare
    every prediction with every target, so any other mismatch is an error.
    """
    p, t = _array(pred), _array(target)
    if p.size != t.size:
        raise ValueError(
            f"{name}: predictions and targets differ in size: {p.shape} vs {t.shape}"
        )
    if p.size == 0:
        raise ValueError(f"{name}: no predictions (empty input)")
    return p.reshape(-1).astype(np.float64, copy=False), t.reshape(-1).astype(np.float64, copy=False)


def accuracy(pred, target, threshold: float = 0.5) -> float:
    """Fraction of predictions whose class equals the target class.

    What counts as the predicted class depends on the shape of `pred`:
    - `(N, C)` with C > 1: scores (logits or probabilities) per class; the class is the argmax.
      `target` is class indices `(N,)`, or one-hot / probabilities `(N, C)` (argmax taken too).
    - `(N,)` or `(N, 1)` floats: binary classification. As in torchmetrics, values outside
      [0, 1] are taken as logits and passed through a sigmoid; the class is `p >= threshold`.
      `target` holds 0/1 (or probabilities, rounded at 0.5).
    - integer predictions: already class labels, compared with `target` directly.

    Args:
        pred: model outputs, a Tensor or array.
        target: true classes, a Tensor or array.
        threshold: decision threshold on probabilities, binary case only.

    Returns:
        The accuracy in [0, 1] as a Python float.

    Example:
        >>> accuracy(np.array([0.2, 0.7, 0.9]), np.array([0, 1, 0]))
        0.6666666666666666
    """
    p, t = _array(pred), _array(target)
    if p.ndim == 2 and p.shape[1] > 1:
        classes = p.argmax(axis=1)
        if t.ndim == 2 and t.shape == p.shape:
            t = t.argmax(axis=1)
        elif t.reshape(-1).shape[0] != p.shape[0]:
            raise ValueError(
                f"accuracy: {p.shape[0]} predictions of {p.shape[1]} classes but targets of shape {t.shape}"
            )
        t = t.reshape(-1)
    elif np.issubdtype(p.dtype, np.integer) or p.dtype == np.bool_:
        classes = p.reshape(-1)
        t = t.reshape(-1)
    else:
        if p.size != t.size:
            raise ValueError(f"accuracy: predictions and targets differ in size: {p.shape} vs {t.shape}")
        p = p.reshape(-1)
        if p.size and (p.min() < 0.0 or p.max() > 1.0):
            p = 1.0 / (1.0 + np.exp(-p.astype(np.float64)))  # logits -> probabilities
        classes = p >= threshold
        t = t.reshape(-1)
        if np.issubdtype(t.dtype, np.floating):
            t = t >= 0.5
    if classes.shape[0] != t.shape[0]:
        raise ValueError(f"accuracy: {classes.shape[0]} predictions but {t.shape[0]} targets")
    if classes.shape[0] == 0:
        raise ValueError("accuracy: no predictions (empty input)")
    return float(np.count_nonzero(classes == t) / classes.shape[0])


def mae(pred, target) -> float:
    """Mean absolute error, `mean(|pred - target|)` (the tutorials' L1 norm).

    Args:
        pred: predictions, shape (N,) or (N, 1) (or any shape with as many elements as `target`).
        target: targets with the same number of elements.

    Returns:
        The mean absolute error as a Python float.

    Example:
        >>> mae(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0]))
        1.3333333333333333
    """
    p, t = _paired(pred, target, "mae")
    return float(np.mean(np.abs(p - t)))


def rmse(pred, target) -> float:
    """Root mean squared error, `sqrt(mean((pred - target)**2))` (the tutorials' L2 norm).

    Args:
        pred: predictions, shape (N,) or (N, 1) (or any shape with as many elements as `target`).
        target: targets with the same number of elements.

    Returns:
        The root mean squared error as a Python float.

    Example:
        >>> rmse(np.array([3.0, 0.0]), np.array([0.0, 4.0]))
        3.5355339059327378
    """
    p, t = _paired(pred, target, "rmse")
    d = p - t
    return float(np.sqrt(np.mean(d * d)))


_BY_NAME = {"accuracy": accuracy, "acc": accuracy, "mae": mae, "rmse": rmse}


def get_metric(metric) -> tuple[str, object]:
    """Resolve a metric given by name or as a function into `(name, function)`.

    Args:
        metric: "accuracy" (or "acc"), "mae", "rmse", or any callable `f(pred, target)` returning a
            number; its name in the history is the function's `__name__`.

    Returns:
        A pair `(name, function)`.

    Example:
        >>> get_metric("accuracy")[0]
        'accuracy'
    """
    if isinstance(metric, str):
        try:
            fn = _BY_NAME[metric]
        except KeyError:
            raise ValueError(f"unknown metric {metric!r}; known: {sorted(_BY_NAME)}") from None
        return fn.__name__, fn
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise TypeError(f"a metric is a name or a function f(pred, target), got {type(metric).__name__}")
