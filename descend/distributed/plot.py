"""The sweep picture: final metric against a hyper-parameter (the tutorials' "learning rate too small,
right, too large" on a real model), beside every trial's loss curve. Drawn in descend.plot's style."""

from __future__ import annotations

import math

import numpy as np

from descend.plot import _PATH_COLORS, _finish, _log_y, _pyplot

__all__ = ["sweep"]


def sweep(result, x="lr", metric=None, hue="optimizer", save=None):
    """Draw a `SweepResult`: `metric` against `x` on a log axis, one line per `hue` value with the
    seeds' mean ± std as a band (diverged or failed points marked with a cross on the top edge), and
    a second panel with every trial's per-epoch training loss, coloured by `hue`.

    Args:
        result: a `SweepResult`.
        x: the grid name for the horizontal axis (positive numbers: it is logarithmic).
        metric: the final metric to draw; None picks "valid_loss", else "train_loss".
        hue: the grid name that separates the lines, or None for one line.
        save: a path to write the figure to (.png, .svg, ...), or None.

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = result.plot(x="lr", metric="valid_loss", hue="optimizer", save="sweep.png")
    """
    names = result.metric_names()
    if metric is None:
        metric = "valid_loss" if "valid_loss" in names else "train_loss"
    if metric not in names:
        raise KeyError(f"no trial reported {metric!r}; the metrics are {names}")
    for name, what in ((x, "x"), (hue, "hue")):
        if name is not None and name not in result.names:
            raise KeyError(f"{what}={name!r} is not a grid name; the grid has {result.names}")
    xs = [t.config[x] for t in result]
    if not all(isinstance(v, (int, float)) and v > 0 for v in xs):
        raise ValueError(f"x={x!r} needs positive numbers for its log axis, got {sorted(set(map(str, xs)))}")
    hues = list(dict.fromkeys(t.config[hue] for t in result)) if hue else [None]
    colors = {h: _PATH_COLORS[i % len(_PATH_COLORS)] for i, h in enumerate(hues)}
    fig, (ax, ax_curves) = _pyplot().subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    drawn = []
    for h in hues:
        trials = [t for t in result if hue is None or t.config[hue] == h]
        points = sorted(set(t.config[x] for t in trials))
        mean, std, bad = [], [], []
        for p in points:
            values = [t.metrics[metric] for t in trials if t.config[x] == p and t.ok and metric in t.metrics]
            mean.append(np.mean(values) if values else math.nan)
            std.append(np.std(values, ddof=1) if len(values) > 1 else 0.0)
            if any(t.config[x] == p and not t.ok for t in trials):
                bad.append(p)
        mean, std = np.array(mean), np.array(std)
        label = "all trials" if h is None else f"{hue}={h}"
        ax.plot(points, mean, "o-", color=colors[h], label=label)
        ax.fill_between(points, mean - std, mean + std, color=colors[h], alpha=0.2, linewidth=0)
        if bad:
            ax.plot(bad, [1.0] * len(bad), "x", color=colors[h], transform=ax.get_xaxis_transform(),
                    markersize=9, clip_on=False)
        drawn.append(mean[np.isfinite(mean)])
    ax.set_xscale("log")
    values = np.concatenate(drawn) if drawn else np.array([])
    if metric.endswith("loss") and values.size and values.min() > 0:
        _log_y(ax, values)
    ax.set_xlabel(x)
    ax.set_ylabel(f"final {metric}")
    seeds = max(len(trials) for _, trials in result.groups())
    spread = f"mean ± std over {seeds} seeds; " if seeds > 1 else ""
    ax.set_title(f"final {metric} against {x} ({spread}× diverged or failed)", fontsize=10)
    ax.legend(fontsize=9)
    losses = []
    for t in result:
        curve = t.history.train_loss if t.history is not None else []
        finite = [v for v in curve if math.isfinite(v)]
        if finite:
            ax_curves.plot(range(1, len(curve) + 1), curve, color=colors[t.config[hue] if hue else None],
                           alpha=0.5, linewidth=1)
            losses += finite
    if losses and min(losses) > 0:
        _log_y(ax_curves, np.array(losses))
    ax_curves.set_xlabel("epoch")
    ax_curves.set_ylabel("train loss")
    ax_curves.set_title(f"every trial's training loss ({len(result)} trials)", fontsize=10)
    return _finish(fig, save)
