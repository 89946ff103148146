"""Pictures that make gradient descent visible, one call each.

Every function returns the matplotlib ``Figure``; functions that draw a single panel accept
``ax=`` to draw into an existing one, and every function takes ``save=`` (a ``.png`` or ``.svg``
path) or you call ``fig.savefig`` yourself. matplotlib is imported lazily, and without a display
the headless Agg backend is selected, so all of this runs on servers and in tests.

Example:
    >>> from descend import plot
    >>> fig = plot.descent_path_1d("quadratic", start=0.0, lr=0.1, steps=10)   # (w - 3)**2
    >>> fig = plot.contour_paths("rosenbrock", save="rosenbrock.png")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from descend import problems as _problems

__all__ = [
    "animate_path",
    "contour_paths",
    "decision_boundary",
    "descent_path_1d",
    "graph",
    "history",
    "learning_rates_1d",
    "lr_find",
    "plot_function",
    "predictions_over_steps",
    "sampling_comparison",
    "to_np",
]

# Colours: the tutorials draw the loss curve in blue and the descent in red. Optimizer paths use
# colours that stay readable on the pale contour colormap below.
_CURVE = "tab:blue"
_PATH = "red"
_PATH_COLORS = ("#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
# Contours in pale greys (white valleys, grey walls): every path colour stays readable on top.
_CONTOUR_GREYS = (0.0, 0.6)
_CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


# --- shared helpers ------------------------------------------------------------------------------
def _pyplot():
    """Import pyplot, choosing Agg first when no display is available (and nobody chose a backend)."""
    import matplotlib

    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(ax=None, figsize=(6.4, 4.4)):
    """``(fig, ax)``: the caller's axes, or a new constrained-layout figure with one panel."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _finish(fig, save, dpi: int = 120):
    """Write the figure when ``save`` is a path (format from its extension: .png, .svg, ...)."""
    if save is not None:
        fig.savefig(os.fspath(save), dpi=dpi)
    _show_once(fig)
    return fig


def _ipython():
    """The running IPython shell, or None (IPython is never imported here: only looked up)."""
    module = sys.modules.get("IPython")
    get = getattr(module, "get_ipython", None)
    return get() if get is not None else None


class _ShowOnce:
    """A figure's ``_ipython_display_``: how IPython shows it, from a cell's last line or a ``display``.

    In a notebook the inline backend shows every pyplot figure when the cell ends, and IPython showed
    the returned Figure as well: each picture twice. Here the figure is drawn once as a PNG and, with
    the inline backend, let go by pyplot, so the end of the cell does not draw it again (when it is
    not the cell's last value, the inline backend's own display lands here: once as well). Under a
    window or widget backend, pyplot shows the figure itself, so nothing more is shown. ``gif`` (bytes)
    is shown instead of the last frame for animations.
    """

    def __init__(self, fig, gif: bytes | None = None):
        self.fig = fig
        self.gif = gif

    def __call__(self):
        from IPython.display import display

        if self.gif is not None:
            display({"image/gif": self.gif, "text/plain": "<animated GIF>"}, raw=True)
            return
        import matplotlib

        backend = matplotlib.get_backend().lower()
        plt = sys.modules.get("matplotlib.pyplot")
        manager = getattr(self.fig.canvas, "manager", None)
        held = plt is not None and manager is not None and plt.fignum_exists(manager.num)
        if held and "inline" not in backend and backend != "agg":
            return  # a window or a widget already shows it
        import io

        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        if held and "inline" in backend:
            plt.close(self.fig)
        display({"image/png": buffer.getvalue(), "text/plain": repr(self.fig)}, raw=True)


def _show_once(fig, gif: bytes | None = None) -> None:
    """Under IPython, make the returned Figure display exactly once (see `_ShowOnce`)."""
    if _ipython() is not None:
        fig._ipython_display_ = _ShowOnce(fig, gif)


def to_np(x) -> np.ndarray:
    """A Tensor (detached: one that requires grad is fine), array or list as a NumPy array, as fastai's
    ``to_np``.

    Example:
        >>> to_np(descend.tensor([1.0, 2.0], requires_grad=True))  # doctest: +SKIP
        array([1., 2.], dtype=float32)
    """
    return np.array(_numpy(x), copy=True)


def _log_axis(axis, values=None) -> None:
    """Label a log-scale axis (``ax.xaxis`` or ``ax.yaxis``) so that its labels never overprint.

    Over less than two decades the major ticks are 1, 2 and 5 times each power of ten, written
    plainly (2, 5, 10, 20); otherwise only powers of ten are labelled, at most about seven of them.
    Minor ticks stay as unlabelled marks: matplotlib's default labels them too on short ranges,
    and their labels ran into each other.
    """
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    values = None if values is None else np.asarray(values, dtype=float)
    values = None if values is None else values[np.isfinite(values) & (values > 0)]
    short = values is not None and values.size and values.max() / values.min() < 100
    if short:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        axis.set_major_locator(LogLocator(base=10, numticks=7))
        axis.set_major_formatter(LogFormatterSciNotation())
    axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10), numticks=12))
    axis.set_minor_formatter(NullFormatter())


def _log_y(ax, values: np.ndarray) -> None:
    """Log-scale y with labels that never overprint (see `_log_axis`)."""
    ax.set_yscale("log")
    _log_axis(ax.yaxis, values)


def _fmt(v: float) -> str:
    """A short number for titles and annotations: 4 significant digits."""
    return "nan" if not np.isfinite(v) else f"{v:.4g}"


def _numpy(x) -> np.ndarray:
    """A Tensor, array or list as a NumPy array (no copy for arrays and tensors)."""
    data = getattr(x, "_data", None)
    return data if isinstance(data, np.ndarray) else np.asarray(x)


def _evaluate(f: Callable, xs: np.ndarray) -> np.ndarray:
    """``f`` on a NumPy grid; functions that only accept Tensors (``torch.exp(x)``) get one."""
    try:
        out = f(xs)
    except Exception:  # any failure on arrays means: try a Tensor instead
        import descend

        with descend.no_grad():
            out = f(descend.from_numpy(xs))
    return np.broadcast_to(np.asarray(_numpy(out), dtype=np.float64), xs.shape)


def _loss_1d(loss_fn) -> tuple[Callable, _problems.Problem | None]:
    """A 1-D objective and its Problem (None for a plain callable) from a name, Problem or callable."""
    if isinstance(loss_fn, (str, _problems.Problem)):
        problem = _problems.get(loss_fn)
        if problem.dim != 1:
            raise ValueError(f"{problem.name} is {problem.dim}-D; 1-D problems: "
                             f"{', '.join(n for n in _problems.names() if _problems.get(n).dim == 1)}")
        return problem.f, problem
    if not callable(loss_fn):
        raise TypeError("loss_fn must be a callable, a Problem or a problem name, "
                        f"got {type(loss_fn).__name__}")
    return loss_fn, None


def _describe_1d(loss_fn, problem) -> tuple[str, str]:
    """``(formula, variable name)`` for titles and axis labels."""
    if problem is not None:
        return problem.formula, "x" if problem.name == "parabola" else "w"
    name = getattr(loss_fn, "__name__", "<lambda>")
    return ("loss(w)" if name == "<lambda>" else f"{name}(w)"), "w"


def _minimizer_1d(f: Callable, points: np.ndarray, problem) -> float | None:
    """Where the 1-D objective is lowest: the known minimum nearest the path's end, else a grid search.

    The search starts on the span of the finite path points and grows towards the side where the
    lowest value sits on the edge; it gives up (None) on functions without a minimum in reach.
    """
    finite = points[np.isfinite(points)]
    if problem is not None:
        if not problem.minima:
            return None
        ends = finite[-1] if finite.size else problem.start[0]
        return min((m[0] for m in problem.minima), key=lambda m: abs(m - ends))
    lo, hi = float(finite.min()), float(finite.max())
    width = max(hi - lo, 1e-3 * max(abs(lo), 1.0), 1e-6)
    lo, hi = lo - width, hi + width
    for _ in range(30):
        xs = np.linspace(lo, hi, 2001)
        with np.errstate(all="ignore"):
            values = _evaluate(f, xs)
        if not np.isfinite(values).any():
            return None
        i = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
        if 0 < i < xs.size - 1:
            return float(xs[i])
        width = hi - lo
        lo, hi = (lo - width, hi) if i == 0 else (lo, hi + width)
    return None


def _diverged(losses: np.ndarray) -> bool:
    """The run overflowed or ended with a higher loss than it started with."""
    if not np.all(np.isfinite(losses)):
        return True
    return float(losses[-1]) > float(losses[0]) + 1e-12 * max(abs(float(losses[0])), 1.0)


def _classify_1d(ws: np.ndarray, losses: np.ndarray, w_star: float | None) -> tuple[str, str]:
    """What a 1-D descent did: ``(kind, sentence)`` with kind in diverges/bouncing/too small/good.

    Computed from the path, never from the learning rate: a loss that ends above where it started
    (or overflows) diverges; steps that keep reversing direction bounce; less than half of the
    distance to the minimum covered is too small.
    """
    steps = len(ws) - 1
    bad = ~(np.isfinite(losses) & np.isfinite(ws))
    if bad.any():
        return "diverges", f"diverges: overflows at step {int(np.argmax(bad))}"
    l0, lf = float(losses[0]), float(losses[-1])
    if _diverged(losses):
        return "diverges", f"diverges: loss grows from {l0:.3g} to {lf:.3g}"
    moves = np.sign(np.diff(ws))
    moves = moves[moves != 0]
    reversals = int(np.count_nonzero(moves[1:] != moves[:-1]))
    progress = None
    if w_star is not None and ws[0] != w_star:
        progress = 1.0 - abs(ws[-1] - w_star) / abs(ws[0] - w_star)
    way = "" if progress is None else f", {max(progress, 0.0):.0%} of the way"
    if moves.size >= 2 and reversals >= (moves.size - 1) / 2:
        return "bouncing", f"bouncing: overshoots the minimum{way}"
    if progress is None:  # no minimum in reach: judge by the loss instead of the distance
        drop = 0.0 if l0 == 0 else 1.0 - lf / l0
        kind = "good" if drop >= 0.5 else "too small"
        return kind, f"{kind}: the loss falls by {drop:.0%} in {steps} steps"
    if progress < 0.5:
        return "too small", f"too small: {steps} steps get only {max(progress, 0.0):.0%} of the way"
    if progress > 0.995:
        return "good", f"good: reaches the minimum in {steps} steps"
    return "good", f"good: {steps} steps get {progress:.0%} of the way"


def _view_1d(ws: np.ndarray, w_star: float | None, spread: float = 1.3) -> tuple[float, float]:
    """An x-window centred on the minimum that holds the start and the path points near it.

    Points more than twice as far from the minimum as the start (a diverging path) are left out,
    so they cannot blow up the axes.
    """
    finite = ws[np.isfinite(ws)]
    centre = w_star if w_star is not None else float(np.median(finite))
    reach = abs(finite[0] - centre)
    near = np.abs(finite - centre)
    reach = max(reach, float(near[near <= 2 * reach].max(initial=0.0)) if reach > 0 else float(near.max()))
    reach = reach if reach > 0 else 1.0
    return centre - spread * reach, centre + spread * reach


def _draw_descent_1d(ax, f, ws, losses, view, var="w", compact=False):
    """The tutorials' picture on ``ax``: blue loss curve, red points joined by red dashes, step numbers
    and the final value. Returns the Line2D of the path (``len(ws)`` points)."""
    xs = np.linspace(view[0], view[1], 400)
    with np.errstate(all="ignore"):
        curve = _evaluate(f, xs)
    ax.plot(xs, curve, color=_CURVE, lw=2, label="loss", zorder=2)
    finite = curve[np.isfinite(curve)]
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else 1.0
    # Head-room above the curve for the annotation of the final step.
    ax.set_ylim(lo - 0.06 * span, hi + (0.42 if compact else 0.3) * span)
    ax.set_xlim(*view)
    # Each step as a dashed corner: across at the loss it started from (the move in w), then down
    # to the new loss. Dashes joining the points directly would lie on the curve, hidden under it.
    stair_w = np.repeat(ws, 2)[1:]
    stair_l = np.repeat(losses, 2)[:-1]
    ax.plot(stair_w, stair_l, "--", color=_PATH, lw=1.2, zorder=3)
    (line,) = ax.plot(ws, losses, "o", color=_PATH, ms=6 if len(ws) <= 30 else 3, label="steps", zorder=4)
    ax.set_xlabel(var)
    ax.set_ylabel("loss")
    ax.grid(alpha=0.25)

    ylim = ax.get_ylim()

    def inside(w, loss):
        return np.isfinite(w) and np.isfinite(loss) and view[0] <= w <= view[1] and ylim[0] <= loss <= ylim[1]

    # Number the points in order while they do not crowd a numbered one (the steps shrink near the
    # minimum, so late numbers would pile up), and stop at the first that would. The last point is
    # left to the final annotation below, and keeps its neighbourhood clear.
    def spot(w, loss):
        return (w - view[0]) / (view[1] - view[0]), (loss - ylim[0]) / (ylim[1] - ylim[0])

    placed = [spot(ws[-1], losses[-1])] if inside(ws[-1], losses[-1]) else []
    for i, (w, loss) in enumerate(zip(ws[:-1], losses[:-1])):
        if not inside(w, loss):
            continue
        u, v = spot(w, loss)
        if not all(np.hypot(u - pu, v - pv) > 0.05 for pu, pv in placed):
            break  # the steps only get closer from here: numbering a later one would skip numbers
        placed.append((u, v))
        # Numbers go up-right of their point, up-left near the right edge (not cut off).
        ax.annotate(str(i), (w, loss), xytext=(-10 if u > 0.93 else 4, 5), textcoords="offset points",
                    fontsize=8, color="darkred", zorder=4)

    last = len(ws) - 1
    w_end, l_end = ws[-1], losses[-1]
    sep = "\n" if compact else " "
    if not (np.isfinite(w_end) and np.isfinite(l_end)):
        text = f"overflow: {var} and the loss leave the floating-point range"
    elif inside(w_end, l_end):
        text = f"after {last} steps:{sep}{var} = {_fmt(w_end)}, loss = {_fmt(l_end)}"
    else:
        text = f"after {last} steps (off the chart):{sep}{var} = {_fmt(w_end)}, loss = {_fmt(l_end)}"
    box = dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.95)
    if inside(w_end, l_end):
        ax.plot(w_end, l_end, "o", mfc="none", mec="darkred", mew=1.2, ms=12, zorder=4)
        ax.annotate(text, (w_end, l_end), xytext=(0.5, 0.96), textcoords="axes fraction", ha="center",
                    va="top", fontsize=9, bbox=box, zorder=5,
                    arrowprops=dict(arrowstyle="->", color="0.35", lw=0.8, shrinkB=4))
    else:
        ax.text(0.5, 0.96, text, transform=ax.transAxes, ha="center", va="top", fontsize=9, bbox=box,
                zorder=5)
    return line


# --- 1-D pictures --------------------------------------------------------------------------------
def plot_function(
    f: Callable,
    xlabel: str | None = None,
    ylabel: str | None = None,
    x_range: tuple[float, float] = (-2.0, 2.0),
    ax=None,
    title: str | None = None,
    save=None,
    *,
    tx: str | None = None,
    ty: str | None = None,
    min: float | None = None,  # noqa: A002 - fastai's argument name
    max: float | None = None,  # noqa: A002 - fastai's argument name
    figsize: tuple[float, float] = (6.0, 4.0),
):
    """Plot a function of one variable (the tutorials' ``plot_function``).

    fastai's ``plot_function(f, tx=None, ty=None, title=None, min=-2, max=2, figsize=(6, 4))`` works
    unchanged: ``tx``/``ty`` are the axis labels, ``min``/``max`` the x-range.

    Args:
        f: a function of one variable; it receives a NumPy array (or a Tensor when it needs one).
        xlabel, ylabel: axis labels (or fastai's ``tx``, ``ty``).
        x_range: ``(min, max)`` of the x-axis (or fastai's ``min=``, ``max=``).
        ax: axes to draw into; a new figure when None.
        title: optional title.
        save: optional path to write the figure to (.png or .svg).
        figsize: size of a new figure in inches.

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = plot_function(lambda x: x**2, "x", "x**2")
        >>> fig = plot_function(lambda x: x**2, tx="x", ty="x**2", min=-3, max=3)  # fastai's names
    """
    for ours, theirs, name, alias in ((xlabel, tx, "xlabel", "tx"), (ylabel, ty, "ylabel", "ty")):
        if ours is not None and theirs is not None:
            raise TypeError(f"plot_function got both {name}= and fastai's {alias}=: give one")
    xlabel = tx if xlabel is None else xlabel
    ylabel = ty if ylabel is None else ylabel
    low = x_range[0] if min is None else min
    high = x_range[1] if max is None else max
    if not low < high:
        raise ValueError(f"plot_function needs min < max, got min={low}, max={high}")
    fig, ax = _figure(ax, figsize=figsize)
    xs = np.linspace(low, high, 200)
    ax.plot(xs, _evaluate(f, xs), color=_CURVE, lw=2)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.25)
    return _finish(fig, save)


def descent_path_1d(
    loss_fn,
    start: float | None = None,
    optimizer="GD",
    lr: float | None = 0.1,
    steps: int = 10,
    ax=None,
    x_range: tuple[float, float] | None = None,
    title: str | None = None,
    save=None,
    **opt_kwargs,
):
    """Gradient descent on a 1-D loss: the curve, the red points, the dashed steps and the final value.

    The descent is real: a float64 tensor and a ``descend.optim`` optimizer, gradients by autograd.

    Args:
        loss_fn: a function of one Tensor (e.g. ``lambda w: (w - 3)**2``), a 1-D Problem or its
            name (``"quadratic"`` = (w-3)², ``"parabola"`` = x²).
        start: starting weight; defaults to the problem's start.
        optimizer: a ``descend.optim`` class or short name (``"GD"``, ``"momentum"``, ``"adam"``...).
        lr: learning rate; None uses the problem's suggestion.
        steps: number of steps.
        ax: axes to draw into; a new figure when None.
        x_range: x-window; by default centred on the minimum, holding the start (diverging points
            beyond that are left off the chart rather than squashing it).
        title: title; a description of the run by default.
        save: optional path to write the figure to.
        **opt_kwargs: further optimizer arguments (``momentum=0.9``...).

    Returns:
        The Figure; ``fig.axes[0]`` holds the path as a Line2D with ``steps + 1`` points.

    Example:
        >>> fig = descent_path_1d(lambda w: (w - 3) ** 2, start=0.0, lr=0.1, steps=10)
    """
    f, problem = _loss_1d(loss_fn)
    start, lr = _start_and_lr(problem, start, lr, optimizer, opt_kwargs)
    kwargs = {**opt_kwargs, **({} if lr is None else {"lr": lr})}
    points, losses = _problems.run_path(f, start, optimizer, steps, **kwargs)
    ws = points[:, 0]
    formula, var = _describe_1d(loss_fn, problem)
    view = x_range or _view_1d(ws, _minimizer_1d(f, ws, problem))
    fig, ax = _figure(ax)
    _draw_descent_1d(ax, f, ws, losses, view, var=var)
    label = _problems.optimizer_label(optimizer, kwargs)
    ax.set_title(title or f"{label} on {formula}: {steps} steps from {var} = {_fmt(start)}")
    return _finish(fig, save)


def _start_and_lr(problem, start, lr, optimizer, opt_kwargs):
    """Fill a missing start / learning rate from the problem's suggestions."""
    if start is None:
        if problem is None:
            raise ValueError("start is required when loss_fn is a plain function")
        start = problem.start[0]
    if lr is None and problem is not None:
        lr = problem.lr(optimizer, **opt_kwargs)
    return float(start), lr


def _curvature_1d(f: Callable, w: float) -> float:
    """Second derivative at ``w`` from the engine's gradients (central difference of f')."""
    import descend

    def grad(at):
        p = descend.tensor([at], dtype=descend.float64, requires_grad=True)
        loss = f(p[0])
        (loss.sum() if loss.ndim else loss).backward()
        return float(p.grad._data[0])

    h = 1e-4 * max(abs(w), 1.0)
    return (grad(w + h) - grad(w - h)) / (2 * h)


def _round_lr(lr: float) -> float:
    """Two significant digits, so titles read "lr = 0.017" and not "lr = 0.0174999"."""
    return float(f"{lr:.2g}")


def learning_rates_1d(
    loss_fn,
    start: float | None = None,
    lrs: Sequence[float] | None = None,
    steps: int = 10,
    optimizer="GD",
    x_range: tuple[float, float] | None = None,
    save=None,
    **opt_kwargs,
):
    """The same 1-D descent with several learning rates side by side, each titled with what happened.

    The verdicts ("too small: 10 steps get only 29% of the way", "good", "bouncing", "diverges")
    are computed from each path, not assumed from the learning rate.

    Args:
        loss_fn: a function of one Tensor, a 1-D Problem or its name.
        start: starting weight; defaults to the problem's start.
        lrs: learning rates, one panel each. By default four chosen from the curvature ``c`` at the
            start (measured with autograd): ``0.035/c`` (too small), ``0.3/c`` (good), ``1.8/c``
            (bouncing) and ``2.15/c`` (diverging), the regimes of plain GD on a parabola.
        steps: steps per panel.
        optimizer: optimizer class or short name (GD by default, as in the tutorials).
        x_range: common x-window; by default centred on the minimum.
        save: optional path to write the figure to.
        **opt_kwargs: further optimizer arguments.

    Returns:
        The Figure with one panel per learning rate.

    Example:
        >>> fig = learning_rates_1d("quadratic", start=0.0, steps=10)
        >>> [ax.get_title().splitlines()[1].split(":")[0] for ax in fig.axes]
        ['too small', 'good', 'bouncing', 'diverges']
    """
    f, problem = _loss_1d(loss_fn)
    start, _ = _start_and_lr(problem, start, None, optimizer, opt_kwargs)
    if lrs is None:
        c = _curvature_1d(f, start)
        if not (np.isfinite(c) and c > 0):
            raise ValueError(f"the loss is not convex at start={start} (curvature {c:.3g}); pass lrs=")
        lrs = tuple(_round_lr(k / c) for k in (0.035, 0.3, 1.8, 2.15))
    if len(lrs) == 0:
        raise ValueError("lrs must hold at least one learning rate")
    runs = [_problems.run_path(f, start, optimizer, steps, lr=lr, **opt_kwargs) for lr in lrs]
    # The paths that do not diverge locate the minimum and size the window shared by every panel
    # (so the panels compare at a glance); a diverging path just leaves the chart.
    kept = np.concatenate([[start], *(pts[:, 0] for pts, losses in runs if not _diverged(losses))])
    w_star = _minimizer_1d(f, kept, problem)
    verdicts = [_classify_1d(pts[:, 0], losses, w_star) for pts, losses in runs]
    if x_range is None:
        x_range = _view_1d(kept, w_star)
    formula, var = _describe_1d(loss_fn, problem)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(lrs), figsize=(3.9 * len(lrs), 4.2), layout="constrained",
                             sharey=True, squeeze=False)
    for ax, lr, (pts, losses), (_, verdict) in zip(axes[0], lrs, runs, verdicts):
        _draw_descent_1d(ax, f, pts[:, 0], losses, x_range, var=var, compact=True)
        ax.set_title(f"lr = {lr:g}\n{verdict}", fontsize=10)
        if ax is not axes[0][0]:
            ax.set_ylabel("")
    name = _problems.optimizer_label(optimizer, opt_kwargs)
    fig.suptitle(f"{name} on {formula}: {steps} steps from {var} = {_fmt(start)} "
                 f"with {len(lrs)} learning rates")
    return _finish(fig, save)


# --- 2-D pictures --------------------------------------------------------------------------------
def _contour_cmap():
    """The pale part of matplotlib's "Greys": low loss white, high loss mid-grey."""
    from matplotlib import colormaps
    from matplotlib.colors import LinearSegmentedColormap

    greys = colormaps["Greys"]
    return LinearSegmentedColormap.from_list("descend_greys", greys(np.linspace(*_CONTOUR_GREYS, 256)))


def _draw_contours(ax, problem, levels: int = 30, resolution: int = 300):
    """Filled contours of a 2-D problem on ``ax`` (log-spaced levels where the problem asks for
    them), clipped to its plot window. Returns the ContourSet for a colour bar."""
    from matplotlib.colors import LogNorm

    X, Y, Z = problem.grid(resolution)
    if problem.log_levels:
        # Steep walls around a flat valley: linear levels would paint the whole valley one colour.
        top = float(Z.max())
        bottom = max(float(np.percentile(Z, 0.5)), top * 1e-7)
        lv = np.geomspace(bottom, top, levels)
        Zc = np.clip(Z, bottom, top)
        filled = ax.contourf(X, Y, Zc, levels=lv, cmap=_contour_cmap(), norm=LogNorm(bottom, top))
        ax.contour(X, Y, Zc, levels=lv[::2], colors="k", linewidths=0.3, alpha=0.35)
    else:
        filled = ax.contourf(X, Y, Z, levels=levels, cmap=_contour_cmap())
        ax.contour(X, Y, Z, levels=filled.levels[::2], colors="k", linewidths=0.3, alpha=0.35)
    ax.set_xlim(*problem.x_range)
    ax.set_ylim(*problem.y_range)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return filled


def _colorbar(fig, filled, ax, problem):
    """A colour bar for the contours; decades as ticks (10⁰, 10¹, ...) when the levels are log-spaced."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator

    if problem.log_levels:
        fig.colorbar(filled, ax=ax, shrink=0.85, label="loss (log-spaced levels)",
                     ticks=LogLocator(base=10), format=LogFormatterSciNotation(base=10))
    else:
        fig.colorbar(filled, ax=ax, shrink=0.85, label="loss")


def _mark_minima(ax, problem):
    """Gold stars on the known minima; a white cross on a saddle point (which is no minimum)."""
    if problem.minima:
        mx, my = np.array(problem.minima).T
        label = f"minimum ({_fmt(mx[0])}, {_fmt(my[0])})" if len(mx) == 1 else f"{len(mx)} minima"
        ax.plot(mx, my, "*", color="gold", mec="black", mew=0.8, ms=15, ls="none", label=label, zorder=6)
    for sx, sy in problem.stationary:
        ax.plot(sx, sy, "X", color="white", mec="black", ms=10, ls="none",
                label="saddle point (no minimum)", zorder=6)


def _optimizer_specs(problem, optimizers) -> list[tuple[str, object, dict]]:
    """``[(legend label, optimizer, kwargs with lr)]`` from the ``optimizers`` argument."""
    if optimizers is None:
        optimizers = ("gd", "momentum", "adam")
    if isinstance(optimizers, str):
        optimizers = optimizers.split(",")
    if not isinstance(optimizers, Mapping):
        # A list of short names, as the command line gives them: ["sgd", "momentum", "adam"].
        known = _problems.OPTIMIZERS
        optimizers = {known.get(name.lower(), ("", {}, name))[2]: (name, {}) for name in optimizers}
    specs = []
    for name, spec in optimizers.items():
        opt, kwargs = spec if isinstance(spec, tuple) else (spec, {})
        kwargs = dict(kwargs)
        if "lr" not in kwargs:
            kwargs["lr"] = problem.lr(opt, **kwargs)
        shown = {"lr": kwargs["lr"]}
        if isinstance(opt, str):
            # Show what the short name implies (momentum=0.9), not only what the caller typed.
            shown.update(_problems.OPTIMIZERS.get(opt.lower(), ("", {}, ""))[1])
        shown.update(kwargs)
        details = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
        specs.append((f"{name} ({details})", opt, kwargs))
    return specs


def contour_paths(
    problem="rosenbrock",
    optimizers: Mapping[str, object] | Sequence[str] | None = None,
    start=None,
    steps: int | None = None,
    ax=None,
    loss_ax=None,
    levels: int = 30,
    save=None,
):
    """Several optimizers descending the same 2-D objective from the same start, on its contour map.

    Left: filled contours, one path per optimizer (a Line2D with ``steps + 1`` points), the start
    and the minimum (or minima; the saddle's saddle point). Right: each optimizer's loss per step on
    a log scale. The view stays on the problem's window even when a path runs away.

    Args:
        problem: a 2-D Problem or its name (``problems.names()``).
        optimizers: ``{legend name: (class or short name, kwargs)}`` (a bare class/name also works),
            or a list of short names (``["sgd", "momentum", "adam"]``); a missing ``lr`` takes the
            problem's suggestion. Default: GD, Momentum and Adam.
        start: common starting point; the problem's default when None.
        steps: steps per optimizer; the problem's default when None.
        ax: axes for the contour map; when given, the loss panel is drawn only if ``loss_ax`` is too.
        loss_ax: axes for the loss-per-step panel.
        levels: number of contour levels.
        save: optional path to write the figure to.

    Returns:
        The Figure.

    Example:
        >>> from descend import optim
        >>> fig = contour_paths("beale", {"SGD": (optim.SGD, {"lr": 0.01}), "Adam": ("adam", {"lr": 0.05})})
    """
    problem = _problems.get(problem)
    if problem.dim != 2:
        raise ValueError(f"contour_paths needs a 2-D problem, {problem.name} is 1-D: use descent_path_1d")
    start = tuple(problem.start if start is None else np.asarray(start, dtype=float).tolist())
    steps = problem.steps if steps is None else steps
    specs = _optimizer_specs(problem, optimizers)
    runs = [problem.path(opt, start=start, steps=steps, **kwargs) for _, opt, kwargs in specs]

    if ax is None:
        fig, (ax, loss_ax) = _pyplot().subplots(1, 2, figsize=(12.5, 5.4), layout="constrained",
                                                width_ratios=(1.25, 1))
    fig = ax.figure
    filled = _draw_contours(ax, problem, levels)
    _colorbar(fig, filled, ax, problem)
    for i, ((label, _, _), (pts, _)) in enumerate(zip(specs, runs)):
        # Earlier paths are drawn wider, so a path that follows another one stays visible on top.
        ax.plot(pts[:, 0], pts[:, 1], "-o", color=_PATH_COLORS[i % len(_PATH_COLORS)],
                lw=max(3.6 - 0.8 * i, 1.2), ms=3 if steps <= 100 else 0, label=label, zorder=4, alpha=0.9)
    for i, (pts, _) in enumerate(runs):
        # Where each run ended (its last finite point), as a dot with a black rim.
        end = pts[np.all(np.isfinite(pts), axis=1)][-1]
        ax.scatter(*end, s=40, color=_PATH_COLORS[i % len(_PATH_COLORS)], edgecolors="black", zorder=5)
    ax.plot(*start, "o", color="white", mec="black", ms=8, ls="none",
            label=f"start ({_fmt(start[0])}, {_fmt(start[1])})", zorder=6)
    _mark_minima(ax, problem)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax.set_title(f"{problem.name}: f(x, y) = {problem.formula}", fontsize=10)

    if loss_ax is not None:
        _draw_losses(loss_ax, specs, runs, problem)
        fig.suptitle(f"{len(specs)} optimizer{'s' * (len(specs) != 1)} on {problem.name}, {steps} steps "
                     "from the same start")
    return _finish(fig, save)


def _draw_losses(ax, specs, runs, problem):
    """Loss per step for each optimizer: log scale when every loss is positive, symlog otherwise."""
    all_losses = np.concatenate([losses for _, losses in runs])
    finite = all_losses[np.isfinite(all_losses)]
    for i, ((label, _, _), (_, losses)) in enumerate(zip(specs, runs)):
        name = label.split(" (")[0]
        ax.plot(np.arange(losses.size), losses, color=_PATH_COLORS[i % len(_PATH_COLORS)], lw=1.6,
                label=f"{name}: final loss {_fmt(losses[np.isfinite(losses)][-1])}")
    if finite.size and finite.min() > 0:
        # A run that blows up must not hide the others: cap the top a few decades above the start.
        start_loss = max(float(losses[0]) for _, losses in runs)
        top = min(float(finite.max()), start_loss * 1e3)
        shown = finite[finite <= top]
        ax.set_yscale("log")
        ax.set_ylim(shown.min() / 2, top * 1.3)
        _log_axis(ax.yaxis, ax.get_ylim())  # by the range drawn, which the labels must fit
        ax.set_ylabel("loss (log scale)")
    else:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylabel("loss (symmetric log scale)")
        start_loss = max(abs(float(losses[0])) for _, losses in runs)
        ax.set_ylim(max(float(finite.min()), -start_loss * 1e3) * 1.1,
                    min(float(finite.max()), start_loss * 1e3) * 1.5 + 1e-2)
    ax.set_xlabel("step")
    ax.set_title("loss per step", fontsize=10)
    ax.grid(alpha=0.25, which="both")
    ax.legend(fontsize=8)


# --- fitting pictures ----------------------------------------------------------------------------
def _as_tensor(x):
    """A Tensor as is; an array or list as a new Tensor of the same dtype (as ``torch.tensor`` does)."""
    import descend

    if isinstance(x, descend.Tensor):
        return x
    return descend.tensor(np.asarray(x))


def _fresh_params(params):
    """A leaf copy of the initial parameters that requires grad (the caller's tensor stays as it was)."""
    import descend

    if isinstance(params, descend.Tensor):
        return params.detach().clone().requires_grad_()
    return descend.tensor(np.asarray(params, dtype=np.float32), requires_grad=True)


def _mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predictions_over_steps(
    model_fn: Callable,
    params,
    x,
    y,
    steps: int = 4,
    lr: float = 1e-5,
    every: int = 1,
    loss_fn: Callable | None = None,
    optimizer="GD",
    ylim: tuple[float, float] | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    save=None,
    **opt_kwargs,
):
    """A row of panels: the data and the model's predictions as gradient descent improves the parameters.

    The tutorials' noisy-quadratic picture: ``model_fn(t, params) = a*t**2 + b*t + c``, MSE loss,
    learning rate 1e-5. The caller's ``params`` are not modified (the descent runs on a copy).

    Args:
        model_fn: ``model_fn(x, params) -> predictions`` written with Tensor operations.
        params: initial parameters (Tensor, array or list).
        x, y: the data (Tensors or arrays).
        steps: number of panels.
        lr: learning rate.
        every: optimizer steps between panels; panel ``k`` shows the model after ``k * every`` steps.
        loss_fn: ``loss_fn(preds, y)``; mean squared error by default.
        optimizer: optimizer class or short name.
        ylim: y-limits shared by the panels; by default the data's range, widened for predictions
            that stray but never so far that the data becomes a flat line.
        xlabel, ylabel: axis labels.
        save: optional path to write the figure to.
        **opt_kwargs: further optimizer arguments.

    Returns:
        The Figure with ``steps`` panels.

    Example:
        >>> import descend as torch
        >>> t = torch.arange(0, 20).float()
        >>> speed = torch.randn(20) + 0.5 * (t - 9.5) ** 2 + 1
        >>> def f(t, params):
        ...     a, b, c = params
        ...     return a * (t**2) + (b * t) + c
        >>> fig = predictions_over_steps(f, torch.randn(3), t, speed, steps=4, lr=1e-5)
    """
    import descend

    if steps < 1 or every < 1:
        raise ValueError(f"steps and every must be >= 1, got steps={steps}, every={every}")
    loss_fn = loss_fn or _mse
    xt, yt = _as_tensor(x), _as_tensor(y)
    p = _fresh_params(params)
    cls, kwargs = _problems._resolve(optimizer, {**opt_kwargs, "lr": lr})
    opt = cls([p], **kwargs)

    snapshots = []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            with descend.no_grad():
                preds = model_fn(xt, p)
                snapshots.append((k * every, np.array(_numpy(preds), dtype=np.float64),
                                  float(_numpy(loss_fn(preds, yt)))))
            if k == steps - 1:
                break
            for _ in range(every):
                opt.zero_grad()
                loss_fn(model_fn(xt, p), yt).backward()
                opt.step()

    xs, ys = np.asarray(_numpy(xt), dtype=np.float64), np.asarray(_numpy(yt), dtype=np.float64)
    if ylim is None:
        lo, hi = float(ys.min()), float(ys.max())
        span = hi - lo if hi > lo else 1.0
        pred_all = np.concatenate([s[1].ravel() for s in snapshots])
        pred_all = pred_all[np.isfinite(pred_all)]
        plo = float(pred_all.min(initial=lo))
        phi = float(pred_all.max(initial=hi))
        ylim = (max(min(lo, plo), lo - 3 * span) - 0.05 * span,
                min(max(hi, phi), hi + 3 * span) + 0.05 * span)
    order = np.argsort(xs.ravel(), kind="stable")
    fig, axes = _pyplot().subplots(1, steps, figsize=(3.2 * steps, 3.3), layout="constrained", sharey=True,
                                   squeeze=False)
    for ax, (step, preds, loss) in zip(axes[0], snapshots):
        ax.scatter(xs, ys, s=16, color=_CURVE, label="data", zorder=3)
        ax.plot(xs.ravel()[order], preds.ravel()[order], "-", color=_PATH, lw=1, alpha=0.5, zorder=2)
        ax.scatter(xs, preds, s=16, color=_PATH, label="predictions", zorder=4)
        ax.set_ylim(*ylim)
        ax.set_title(f"step {step}: loss {_fmt(loss)}", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.25)
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(fontsize=8, loc="upper center")
    label = _problems.optimizer_label(optimizer, kwargs)
    fig.suptitle(f"Predictions approach the data as {label} runs"
                 + (f" ({every} steps between panels)" if every > 1 else ""))
    return _finish(fig, save)


def _linear(x, params):
    return params[0] * x + params[1]


def sampling_comparison(
    x=None,
    y=None,
    model_fn: Callable | None = None,
    params=None,
    loss_fn: Callable | None = None,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 8,
    optimizer="SGD",
    seed: int = 0,
    save=None,
    **opt_kwargs,
):
    """Batch vs mini-batch vs stochastic gradient descent: the same data, start, epochs and learning rate.

    Each variant is a real descend loop (a shuffling ``DataLoader``, forward, loss, backward,
    optimizer step) with batches of N (batch GD), ``batch_size`` (mini-batch) and 1 (stochastic):
    the one knob that names the tutorials' three variants. After every update the loss on the
    *whole* data set is recorded, so the three curves measure the same thing. Left panel: against
    epochs, i.e. samples seen / N, the fair comparison (every variant computed the same number of
    per-sample gradients). Right panel: against parameter updates (log axis).

    Args:
        x, y: the data; by default 64 points of y = 4x + 1 + noise (``descend.data.linear``) fitted
            by the model ``w*x + b``.
        model_fn: ``model_fn(x, params) -> predictions``, or an ``nn.Module`` (called as ``model(x)``;
            each variant trains its own deep copy, so all three start from the same weights).
        params: initial parameters for a ``model_fn`` function (default: zeros for the linear model).
        loss_fn: ``loss_fn(preds, y)``, a mean over the batch; mean squared error by default.
        epochs: passes over the data, the same for all three.
        lr: learning rate, the same for all three (the loss is a mean over the batch, so the
            gradient has the same scale whatever the batch size).
        batch_size: the mini-batch size.
        optimizer: optimizer class or short name (plain SGD by default).
        seed: seed of the loaders' shuffling.
        save: optional path to write the figure to.
        **opt_kwargs: further optimizer arguments.

    Returns:
        The Figure (two panels, one line per variant in each).

    Example:
        >>> fig = sampling_comparison(epochs=5)
    """
    import descend
    from descend.data import DataLoader, TensorDataset

    if x is None:
        if y is not None:
            raise ValueError("pass both x and y, or neither")
        x, y = descend.data.linear(n=64, w=4.0, b=1.0, noise=0.3, seed=seed)
        model_fn = model_fn or _linear
    if model_fn is None:
        raise ValueError("model_fn is required with your own data")
    xt, yt = _as_tensor(x), _as_tensor(y)
    n = xt.shape[0]
    if n < 2 or yt.shape[0] != n:
        raise ValueError(f"x and y need the same length >= 2, got {n} and {yt.shape[0]}")
    loss_fn = loss_fn or _mse
    is_module = hasattr(model_fn, "parameters")
    if not is_module and params is None:
        params = np.zeros(2, dtype=np.float32)
    batch_size = int(min(max(batch_size, 1), n))
    variants = [(f"batch GD (all {n} per step)", n), (f"mini-batch ({batch_size} per step)", batch_size),
                ("stochastic (1 per step)", 1)]

    def shaped(preds, target):
        # An (N, 1) prediction against (N,) targets would broadcast to (N, N): match the target.
        if preds.shape != target.shape and preds.numel() == target.numel():
            return preds.reshape(target.shape)
        return preds

    results = []
    for _, bs in variants:
        if is_module:
            model = copy.deepcopy(model_fn)
            forward, trainable = model, list(model.parameters())
        else:
            p = _fresh_params(params)
            forward, trainable = (lambda xb, p=p: model_fn(xb, p)), [p]
        cls, kwargs = _problems._resolve(optimizer, {**opt_kwargs, "lr": lr})
        opt = cls(trainable, **kwargs)
        loader = DataLoader(TensorDataset(xt, yt), batch_size=bs, shuffle=True, seed=seed)

        def full_loss(forward=forward):
            with descend.no_grad():
                return float(_numpy(loss_fn(shaped(forward(xt), yt), yt)))

        seen, losses = [0], [full_loss()]
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(epochs):
                for xb, yb in loader:
                    opt.zero_grad()
                    loss_fn(shaped(forward(xb), yb), yb).backward()
                    opt.step()
                    seen.append(seen[-1] + xb.shape[0])
                    losses.append(full_loss())
        results.append((np.array(seen) / n, np.array(losses)))

    fig, (ax_epoch, ax_step) = _pyplot().subplots(1, 2, figsize=(12, 4.4), layout="constrained", sharey=True)
    colors = ("tab:blue", "tab:orange", "tab:red")
    for (label, _), (epochs_seen, losses), color in zip(variants, results, colors):
        updates = np.arange(losses.size)
        ax_epoch.plot(epochs_seen, losses, color=color, lw=1.4 if losses.size < 200 else 0.9,
                      marker="o" if losses.size <= 30 else None, ms=4,
                      label=f"{label}: {losses.size - 1} updates, final {_fmt(losses[-1])}")
        ax_step.plot(updates[1:], losses[1:], color=color, lw=1.2, marker="o" if losses.size <= 30 else None,
                     ms=4, label=label)
    finite = np.concatenate([r[1] for r in results])
    finite = finite[np.isfinite(finite)]
    for ax in (ax_epoch, ax_step):
        if finite.size and finite.min() > 0:
            _log_y(ax, finite)
        ax.grid(alpha=0.25, which="both")
    ax_epoch.set_xlabel(f"epochs (samples seen / {n})")
    ax_epoch.set_ylabel("loss on all the data" + (" (log scale)" if ax_epoch.get_yscale() == "log" else ""))
    ax_epoch.set_title("same work: loss per epoch", fontsize=10)
    ax_epoch.legend(fontsize=8)
    ax_step.set_xscale("log")
    _log_axis(ax_step.xaxis, [1, max(r[1].size for r in results)])
    ax_step.set_xlabel("parameter updates (log scale)")
    ax_step.set_title("loss per update", fontsize=10)
    name = _problems.optimizer_label(optimizer, {"lr": lr, **opt_kwargs})
    fig.suptitle(f"Batch vs mini-batch vs stochastic: {n} samples, {epochs} epochs, {name}, same start")
    return _finish(fig, save)


# --- training pictures ---------------------------------------------------------------------------
def _history_series(hist) -> tuple[dict[str, list[float]], list[float], list[float], str | None]:
    """``(per-epoch series, step losses, step lrs, stop reason)`` from a History or its ``as_dict()``."""
    if isinstance(hist, Mapping):
        skip = ("step_loss", "step_lr", "epochs", "stop_reason")
        series = {k: list(v) for k, v in hist.items() if k not in skip and isinstance(v, (list, tuple))}
        return series, list(hist.get("step_loss", [])), list(hist.get("step_lr", [])), hist.get("stop_reason")
    if not hasattr(hist, "series"):
        raise TypeError("history() takes the History returned by fit (or its as_dict()), "
                        f"got {type(hist).__name__}")
    return ({k: list(v) for k, v in hist.series.items()}, list(getattr(hist, "step_loss", [])),
            list(getattr(hist, "step_lr", [])), getattr(hist, "stop_reason", None))


def history(hist, save=None):
    """Training curves from ``fit``: loss (per step and per epoch, train and valid), metrics, learning rate.

    Panels, left to right: the loss (the per-step training loss faintly, the per-epoch train and
    valid losses with markers, the best valid epoch circled; log scale when the loss spans more
    than a decade); one panel per metric (train and valid); and the learning rate per step when it
    changed during training (a constant rate is named in the title instead).

    Args:
        hist: the ``History`` returned by ``descend.fit`` (or its ``as_dict()``).
        save: optional path to write the figure to.

    Returns:
        The Figure.

    Example:
        >>> hist = descend.fit(model, loss_fn, opt, loader, valid=(xv, yv), epochs=20,
        ...                    metrics=["accuracy"], progress=False)  # doctest: +SKIP
        >>> fig = history(hist, save="history.png")  # doctest: +SKIP
    """
    series, step_loss, step_lr, stop_reason = _history_series(hist)
    epochs = max((len(v) for v in series.values()), default=0)
    if epochs == 0 and not step_loss:
        raise ValueError("the history is empty: nothing was trained")
    # Steps are drawn on the epoch axis: step i of S ends at epoch (i + 1) * epochs / S.
    per_step = np.arange(1, len(step_loss) + 1) * (epochs / len(step_loss)) if step_loss and epochs else \
        np.arange(1, len(step_loss) + 1, dtype=float)
    metrics = sorted({k.split("_", 1)[1] for k in series
                      if k.startswith(("train_", "valid_")) and k not in ("train_loss", "valid_loss")})
    lrs = np.asarray(step_lr, dtype=float)
    show_lr = lrs.size > 1 and not np.allclose(lrs, lrs[0])
    n_panels = 1 + len(metrics) + int(show_lr)
    fig, axes = _pyplot().subplots(1, n_panels, figsize=(5.2 * n_panels, 4.0), layout="constrained",
                                   squeeze=False)
    axes = list(axes[0])
    x_epoch = np.arange(1, epochs + 1)
    marker = 4 if epochs <= 30 else 0  # dots per epoch only while they stay apart

    ax = axes.pop(0)
    if step_loss:
        ax.plot(per_step, step_loss, color="tab:blue", alpha=0.3, lw=0.8, label="train loss (each step)")
    for key, color, label in (("train_loss", "tab:blue", "train loss (epoch)"),
                              ("valid_loss", "tab:orange", "valid loss (epoch)")):
        if series.get(key):
            ax.plot(x_epoch[: len(series[key])], series[key], "o-", color=color, ms=marker, lw=1.6,
                    label=label)
    valid = np.asarray(series.get("valid_loss", []), dtype=float)
    if valid.size and np.isfinite(valid).any():
        best = int(np.nanargmin(np.where(np.isfinite(valid), valid, np.nan)))
        ax.plot(best + 1, valid[best], "o", mfc="none", mec="black", ms=11, mew=1.2,
                label=f"best valid: epoch {best + 1}, {_fmt(valid[best])}")
    # The scale follows the per-epoch losses; single noisy steps must not stretch it by decades.
    values = np.asarray([v for key in ("train_loss", "valid_loss") for v in series.get(key, [])] or step_loss,
                        dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() / values.min() > 10:
        _log_y(ax, values)
        ax.set_ylim(values.min() / 4, values.max() * 2)
        ax.set_ylabel("loss (log scale)")
    elif values.size:
        span = float(values.max() - values.min()) or abs(float(values.max())) or 1.0
        ax.set_ylim(values.min() - 0.3 * span, values.max() + 0.3 * span)
        ax.set_ylabel("loss")
    ax.set_xlabel("epoch")
    ax.set_title("loss", fontsize=10)
    ax.grid(alpha=0.25, which="both")
    ax.legend(fontsize=8)

    for name in metrics:
        ax = axes.pop(0)
        for prefix, color in (("train", "tab:blue"), ("valid", "tab:orange")):
            values = series.get(f"{prefix}_{name}")
            if values:
                ax.plot(x_epoch[: len(values)], values, "o-", color=color, ms=marker, lw=1.6,
                        label=f"{prefix} {name}: last {_fmt(values[-1])}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=8)

    if show_lr:
        ax = axes.pop(0)
        ax.plot(per_step, lrs, color="tab:green", lw=1.6)
        if lrs.min() > 0 and lrs.max() / lrs.min() > 20:
            ax.set_yscale("log")
            _log_axis(ax.yaxis, lrs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_title("learning rate (each step)", fontsize=10)
        ax.grid(alpha=0.25, which="both")

    title = f"Training history: {epochs} epochs, {len(step_loss)} steps"
    if lrs.size and not show_lr:
        title += f", learning rate {lrs[0]:g}"
    if stop_reason and stop_reason != "completed":
        title += f" (stopped: {stop_reason.replace('_', ' ')})"
    fig.suptitle(title)
    return _finish(fig, save)


def lr_find(result, ax=None, save=None):
    """The learning-rate range test: loss against learning rate (log axis), the suggestion marked.

    Args:
        result: what ``descend.lr_find`` returned (``lrs``, smoothed ``losses``, ``raw_losses``,
            ``suggestion``).
        ax: axes to draw into; a new figure when None.
        save: optional path to write the figure to.

    Returns:
        The Figure.

    Example:
        >>> result = descend.lr_find(model, loss_fn, opt, loader)  # doctest: +SKIP
        >>> fig = lr_find(result)  # doctest: +SKIP
    """
    lrs = np.asarray(result.lrs, dtype=float)
    losses = np.asarray(result.losses, dtype=float)
    if lrs.size == 0:
        raise ValueError("the learning-rate finder made no iterations (the first loss was not finite)")
    fig, ax = _figure(ax, figsize=(6.4, 4.4))
    raw = np.asarray(getattr(result, "raw_losses", []), dtype=float)
    if raw.size == lrs.size:
        ax.plot(lrs, raw, color="tab:blue", alpha=0.25, lw=0.8, label="batch loss")
    ax.plot(lrs, losses, color="tab:blue", lw=2, label="smoothed loss")
    ax.set_xscale("log")
    _log_axis(ax.xaxis, lrs)
    finite = np.isfinite(losses)
    if finite.any():
        # The loss explodes at the end of the range: frame the smoothed curve from the start to its
        # lowest point (all of it inside the axes), with room above, and let the explosion leave.
        lowest = int(np.nanargmin(np.where(finite, losses, np.nan)))
        before = losses[: lowest + 1][finite[: lowest + 1]]
        low, high = float(before.min()), float(before.max())
        span = (high - low) or abs(high) or 1.0
        ax.set_ylim(low - 0.1 * span, high + 0.15 * span)
    suggestion = getattr(result, "suggestion", None)
    if suggestion is not None:
        at = float(np.interp(np.log(suggestion), np.log(lrs), losses))
        ax.axvline(suggestion, color="red", ls="--", lw=1)
        ax.plot(suggestion, at, "o", color="red", ms=8, zorder=4)
        # The note goes on the side of the point with more room, so it is never cut off.
        right_half = np.log(suggestion / lrs[0]) > 0.5 * np.log(lrs[-1] / lrs[0])
        ax.annotate(f"suggested lr = {suggestion:.2g}\n(loss falls fastest here)", (suggestion, at),
                    xytext=(-14 if right_half else 14, 28), textcoords="offset points", fontsize=9,
                    ha="right" if right_half else "left", color="darkred",
                    bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.95),
                    arrowprops=dict(arrowstyle="->", color="0.35", lw=0.8))
    else:
        ax.text(0.5, 0.95, "no suggestion: the run was too short", transform=ax.transAxes, ha="center",
                va="top", fontsize=9)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    ax.set_title("Learning-rate finder" + (" (stopped when the loss exploded)"
                                          if getattr(result, "stopped_early", False) else ""))
    ax.grid(alpha=0.25)
    ax.legend(fontsize=8, loc="lower left")
    return _finish(fig, save)


# --- classifiers ---------------------------------------------------------------------------------
def _class_probabilities(out: np.ndarray, output: str) -> np.ndarray:
    """``(M, C)`` class probabilities from a model's outputs: one column (or 1-D) means binary."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1 or out.shape[-1] == 1:
        p1 = out.reshape(-1)
        if output == "logits":
            p1 = 0.5 * (1.0 + np.tanh(0.5 * p1))  # sigmoid without overflow warnings
        return np.stack([1.0 - p1, p1], axis=1)
    if output == "logits":
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return out


def decision_boundary(
    model: Callable,
    x,
    y,
    ax=None,
    resolution: int = 200,
    output: str = "logits",
    title: str | None = None,
    save=None,
):
    """The regions a 2-D classifier assigns to each class, shaded by its confidence, with the data.

    Binary models (one output) get a red-blue probability map with the 0.5 boundary drawn in black;
    multi-class models get one colour per class, paler where the model is unsure, with the borders
    between classes drawn in black. The model runs in eval mode under ``no_grad`` (its training mode
    is restored afterwards).

    Args:
        model: an ``nn.Module`` or function mapping an ``(M, 2)`` float32 Tensor to ``(M, C)`` outputs
            (``(M,)`` or ``(M, 1)`` for binary).
        x: ``(N, 2)`` points (Tensor or array).
        y: ``(N,)`` integer class labels (0/1 floats for binary are fine).
        ax: axes to draw into; a new figure when None.
        resolution: grid points per side.
        output: ``"logits"`` (softmax/sigmoid applied here) or ``"probs"`` (the model already outputs
            probabilities).
        title: title; the model's accuracy on ``(x, y)`` by default.
        save: optional path to write the figure to.

    Returns:
        The Figure.

    Example:
        >>> from descend import nn
        >>> from descend.data import blobs
        >>> x, y = blobs(90)
        >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))  # train it with fit first
        >>> fig = decision_boundary(model, x, y)
    """
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap, to_rgb

    import descend

    if output not in ("logits", "probs"):
        raise ValueError(f"output must be 'logits' or 'probs', got {output!r}")
    xs = np.asarray(_numpy(x), dtype=np.float64)
    labels = np.asarray(_numpy(y)).reshape(-1).astype(np.int64)
    if xs.ndim != 2 or xs.shape[1] != 2:
        raise ValueError(f"decision_boundary needs (N, 2) points, got shape {xs.shape}")
    if labels.size != xs.shape[0]:
        raise ValueError(f"x has {xs.shape[0]} points but y has {labels.size} labels")

    pad = 0.1 * (xs.max(axis=0) - xs.min(axis=0)) + 1e-9
    lo, hi = xs.min(axis=0) - pad, xs.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)

    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval"):
        model.eval()
    try:
        with descend.no_grad():
            probs = _class_probabilities(_numpy(model(descend.from_numpy(grid))), output)
            data = descend.from_numpy(xs.astype(np.float32))
            data_probs = _class_probabilities(_numpy(model(data)), output)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()

    n_classes = max(probs.shape[1], int(labels.max()) + 1)
    accuracy = float(np.mean(data_probs.argmax(axis=1) == labels))
    fig, ax = _figure(ax, figsize=(6.0, 5.2))
    palette = ["#2166ac", "#b2182b"] if n_classes == 2 else _CLASS_COLORS
    if probs.shape[1] == 2:
        p1 = probs[:, 1].reshape(gx.shape)
        shade = ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 21),
                            cmap=LinearSegmentedColormap.from_list("p1", ["#92c5de", "#f7f7f7", "#f4a582"]))
        ax.contour(gx, gy, p1, levels=[0.5], colors="black", linewidths=1.2)
        fig.colorbar(shade, ax=ax, shrink=0.85, label="P(class 1)", ticks=[0, 0.25, 0.5, 0.75, 1])
    else:
        cls = probs.argmax(axis=1)
        # Paler where the model is unsure: blend each class colour with white by its confidence.
        sure = (probs.max(axis=1) - 1.0 / probs.shape[1]) / (1.0 - 1.0 / probs.shape[1])
        base = np.array([to_rgb(palette[c % len(palette)]) for c in cls])
        rgb = 1.0 - (1.0 - base) * (0.15 + 0.4 * sure[:, None])
        ax.imshow(rgb.reshape(*gx.shape, 3), origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                  aspect="auto", interpolation="bilinear")
        ax.contour(gx, gy, cls.reshape(gx.shape), levels=np.arange(probs.shape[1] - 1) + 0.5, colors="black",
                   linewidths=0.9)
    cmap = ListedColormap([palette[c % len(palette)] for c in range(n_classes)])
    for c in range(n_classes):
        mask = labels == c
        if mask.any():
            ax.scatter(xs[mask, 0], xs[mask, 1], s=18, color=cmap(c), edgecolors="black", linewidths=0.5,
                       label=f"class {c}", zorder=3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    ax.set_title(title or f"Decision boundary: accuracy {accuracy:.1%} on these {labels.size} points")
    return _finish(fig, save)


# --- the computation graph -----------------------------------------------------------------------
def _value_text(t, limit: int = 4) -> str | None:
    """A tensor's values for a box: all of them when at most ``limit``, else None."""
    data = _numpy(t)
    if data.size > limit:
        return None
    values = ", ".join(f"{float(v):.4g}" for v in np.ravel(data))
    return values if data.ndim == 0 else f"[{values}]"


def _shape_text(t) -> str:
    shape = tuple(np.shape(_numpy(t)))
    return "scalar" if not shape else "shape (" + ", ".join(str(n) for n in shape) + ")"


def _graph_nodes(root, names):
    """Walk the graph through PyTorch's public API: ``grad_fn.name()``, ``grad_fn.next_functions``.

    A leaf that requires grad is an AccumulateGrad-like node whose ``.variable`` is the leaf; the
    engine form where such a parent shows as ``(None, 0)`` is read from ``node.parents`` (which also
    gives the constants, drawn grey). Returns ``(boxes, edges)``: ``boxes`` maps a key to
    ``(kind, lines)``, ``edges`` lists ``(from key, to key)`` in the direction of the forward pass.
    """
    boxes, edges, stack, seen = {}, [], [], set()

    def leaf_box(t, constant=False):
        key = ("tensor", id(t))
        if key not in boxes:
            name = names.get(id(t))
            lines = [name or ("constant" if constant else "leaf"), _shape_text(t)]
            value = _value_text(t)
            if value is not None:
                lines.append(f"value {value}")
            grad = getattr(t, "grad", None)
            if grad is not None:
                text = _value_text(grad)
                lines.append(f"grad {text}" if text is not None else "grad computed")
            boxes[key] = ("constant" if constant else "leaf", lines)
        return key

    def op_key(node):
        key = ("node", id(node))
        if key not in boxes:
            named = names.get(("node", id(node)))
            lines = [node.name()]
            if named is not None:
                label, t = named
                lines = [f"{node.name()}", f"-> {label}" if label else "", _shape_text(t)]
                value = _value_text(t)
                if value is not None:
                    lines.append(f"value {value}")
                grad = getattr(t, "_grad", None) if getattr(t, "retains_grad", False) else None
                if grad is not None:
                    text = _value_text(grad)
                    lines.append(f"grad {text}" if text is not None else "grad computed")
                lines = [line for line in lines if line]
            boxes[key] = ("op", lines)
            stack.append(node)
        return key

    if root.grad_fn is None:
        leaf_box(root, constant=not root.requires_grad)
        return boxes, edges
    root_key = op_key(root.grad_fn)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        here = ("node", id(node))
        nexts = list(getattr(node, "next_functions", ()))
        parents = list(getattr(node, "parents", ()) or ())
        for k, (child, _) in enumerate(nexts):
            if child is not None and hasattr(child, "variable"):  # AccumulateGrad: a leaf
                edges.append((leaf_box(child.variable), here))
            elif child is not None:
                edges.append((op_key(child), here))
            elif k < len(parents) and parents[k] is not None:
                t = parents[k]
                if getattr(t, "grad_fn", None) is not None:
                    edges.append((op_key(t.grad_fn), here))
                else:
                    edges.append((leaf_box(t, constant=not t.requires_grad), here))
    boxes[root_key] = ("root", boxes[root_key][1])
    return boxes, edges


def graph(tensor, params=None, ax=None, save=None):
    """Draw the computation graph that produced ``tensor``, as micrograd's ``draw_dot`` and torchviz do.

    One box per operation (its PyTorch ``grad_fn`` name) and per leaf (its name when it is in
    ``params``, its shape, its value when it has at most 4 numbers, and its ``.grad`` once
    ``backward()`` has run); constants (tensors that do not require grad) in grey. Arrows follow
    the forward pass, left to right; once gradients exist, a red arrow under each one shows the
    gradient flowing back. Laid out in Python (layers by distance from the output) and drawn with
    matplotlib: no graphviz needed.

    Args:
        tensor: the output, usually the loss.
        params: names for tensors: a dict ``name -> tensor`` or a Module (its ``named_parameters``).
            A named tensor that is not a leaf labels the operation that made it (and shows its grad if
            you called ``retain_grad()`` on it).
        ax: axes to draw into; a new figure when None.
        save: optional path to write the figure to.

    Returns:
        The Figure.

    Example:
        >>> w = descend.tensor(2.0, requires_grad=True)
        >>> loss = (w * 3.0 - 4.0) ** 2
        >>> fig = graph(loss, params={"w": w})   # before backward: values only
        >>> loss.backward(retain_graph=True)      # keep the graph to draw it again
        >>> fig = graph(loss, params={"w": w})   # w's box now shows grad 12
    """
    if not hasattr(tensor, "grad_fn"):
        raise TypeError(f"graph() draws the graph of a descend Tensor, got {type(tensor).__name__}")
    if params is not None and hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    names = {}
    for name, t in dict(params or {}).items():
        if getattr(t, "grad_fn", None) is not None:
            names[("node", id(t.grad_fn))] = (name, t)
        else:
            names[id(t)] = name
    if getattr(tensor, "grad_fn", None) is not None and ("node", id(tensor.grad_fn)) not in names:
        names[("node", id(tensor.grad_fn))] = ("output", tensor)
    boxes, edges = _graph_nodes(tensor, names)

    # Layers: the output on the right; every box one column left of the leftmost box it feeds.
    order = list(boxes)
    column = {key: 0 for key in order}
    consumers = {}
    for a, b in edges:
        consumers.setdefault(a, []).append(b)
    for _ in range(len(order)):
        changed = False
        for a, bs in consumers.items():
            want = max(column[b] for b in bs) + 1
            if column[a] < want:
                column[a], changed = want, True
        if not changed:
            break
    depth = max(column.values())
    layers = {}
    for key in order:
        layers.setdefault(depth - column[key], []).append(key)
    # Rows: keep each box near the boxes it feeds (their mean row), column by column from the output.
    row = {}
    for x in sorted(layers, reverse=True):
        keys = layers[x]
        def target(k):
            fed = [row[b] for b in consumers.get(k, []) if b in row]
            return float(np.mean(fed)) if fed else 0.0
        keys.sort(key=target)
        n = len(keys)
        for i, k in enumerate(keys):
            row[k] = (i - (n - 1) / 2) * 1.0 + (target(k) if n == 1 else 0.0)

    tallest = max(len(v) for v in layers.values())
    if ax is None:
        fig, ax = _figure(None, figsize=(max(4.5, 2.6 * (depth + 1)), max(2.6, 1.25 * tallest + 1.0)))
    else:
        fig = ax.figure
    style = {"op": ("#e8f0fe", "#1a56b0"), "root": ("#fde8e8", "#b01a1a"), "leaf": ("#e9f7ec", "#1e7b34"),
             "constant": ("#f2f2f2", "#888888")}
    spacing_y = 1.35
    has_grads = any(line.startswith("grad") for _, lines in boxes.values() for line in lines)
    texts = {}
    for key in order:
        kind, lines = boxes[key]
        if kind == "root" and has_grads:
            lines = [*lines, "grad 1 (d out / d out)"]
        fc, ec = style[kind]
        texts[key] = ax.text(depth - column[key], -row[key] * spacing_y, "\n".join(lines), ha="center",
                             va="center", fontsize=8, color="black" if kind != "constant" else "#555555",
                             zorder=3, bbox=dict(boxstyle="round,pad=0.45", fc=fc, ec=ec, lw=1.3))
    for a, b in edges:
        # From the right edge of the input's box to the left edge of the box it feeds (coordinates
        # relative to each text, so long boxes never hide an arrow's end).
        ax.annotate("", xy=(0, 0.6), xycoords=texts[b], xytext=(1, 0.6), textcoords=texts[a], zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.1, shrinkA=7, shrinkB=7))
        if has_grads and boxes[a][0] != "constant":
            ax.annotate("", xy=(1, 0.25), xycoords=texts[a], xytext=(0, 0.25), textcoords=texts[b], zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color="#d62728", lw=0.9, ls="--", shrinkA=7,
                                        shrinkB=7))
    ys = [-row[k] * spacing_y for k in order]
    ax.set_xlim(-0.6, depth + 0.6)
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.9)
    ax.axis("off")
    ax.set_title("computation graph: forward left to right"
                 + ("; red dashed: the gradient flowing back" if has_grads else " (before backward)"),
                 fontsize=10)
    if tensor.grad_fn is not None and not edges:
        ax.text(0.5, 0.08, "backward() freed this graph: call backward(retain_graph=True) to draw it "
                "afterwards", transform=ax.transAxes, ha="center", fontsize=8, color="0.35")
    return _finish(fig, save)


# --- animation -----------------------------------------------------------------------------------
def animate_path(
    problem_or_fn="quadratic",
    optimizer="GD",
    lr: float | None = None,
    steps: int | None = None,
    start=None,
    path="descent.gif",
    fps: int = 5,
    max_frames: int = 40,
    dpi: int = 80,
    **opt_kwargs,
):
    """Write an animated GIF of a descent on a 1-D curve or a 2-D contour map (matplotlib's PillowWriter).

    Args:
        problem_or_fn: a Problem, its name, or a 1-D function of one Tensor (then ``start`` is needed).
        optimizer: optimizer class or short name.
        lr: learning rate; the problem's suggestion when None.
        steps: number of steps; the problem's default (10 for a plain function) when None.
        start: starting point; the problem's default when None.
        path: where to write the GIF.
        fps: frames per second.
        max_frames: at most this many frames (long runs show every k-th step); the last frame is held.
        dpi: resolution of the frames.
        **opt_kwargs: further optimizer arguments.

    Returns:
        The Figure, showing the last frame.

    Example:
        >>> fig = animate_path("rosenbrock", "adam", steps=200, path="adam.gif")  # doctest: +SKIP
    """
    from matplotlib.animation import PillowWriter

    if isinstance(problem_or_fn, (str, _problems.Problem)):
        problem = _problems.get(problem_or_fn)
        f = problem.f
    else:
        problem, f = None, problem_or_fn
        if start is None:
            raise ValueError("start is required when animating a plain function")
    steps = (problem.steps if problem else 10) if steps is None else steps
    start = (problem.start if start is None else start)
    kwargs = dict(opt_kwargs)
    if lr is not None:
        kwargs["lr"] = lr
    elif problem is not None:
        kwargs["lr"] = problem.lr(optimizer, **opt_kwargs)
    if problem is None and np.size(start) != 1:
        raise ValueError("a plain function is animated in 1-D only; for 2-D pass a Problem or one of: "
                         + ", ".join(n for n in _problems.names() if _problems.get(n).dim == 2))
    points, losses = _problems.run_path(f, start, optimizer, steps, **kwargs)
    label = _problems.optimizer_label(optimizer, kwargs)

    two_d = points.shape[1] == 2
    if two_d:
        # Size the figure to the problem's window (equal aspect), so no band of white surrounds it.
        ratio = (problem.y_range[1] - problem.y_range[0]) / (problem.x_range[1] - problem.x_range[0])
        fig, ax = _figure(None, figsize=(5.6, float(np.clip(5.0 * ratio + 1.0, 3.0, 7.0))))
        _draw_contours(ax, problem, resolution=150)
        _mark_minima(ax, problem)
        (line,) = ax.plot([], [], "-o", color=_PATH, lw=1.6, ms=3 if steps <= 100 else 0, label=label,
                          zorder=4)
        ax.plot(*points[0], "o", color="white", mec="black", ms=8, ls="none", label="start", zorder=6)
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
        name = f"{problem.name}: {problem.formula}"
    else:
        ws = points[:, 0]
        view = _view_1d(ws, _minimizer_1d(f, ws, problem))
        fig, ax = _figure(None, figsize=(6.4, 4.4))
        xs = np.linspace(*view, 400)
        with np.errstate(all="ignore"):
            curve = _evaluate(f, xs)
        ax.plot(xs, curve, color=_CURVE, lw=2)
        finite = curve[np.isfinite(curve)]
        span = float(finite.max() - finite.min()) or 1.0
        ax.set_xlim(*view)
        ax.set_ylim(float(finite.min()) - 0.06 * span, float(finite.max()) + 0.1 * span)
        (line,) = ax.plot([], [], "o--", color=_PATH, ms=6, lw=1.2, zorder=3)
        formula, var = _describe_1d(problem_or_fn, problem)
        ax.set_xlabel(var)
        ax.set_ylabel("loss")
        ax.grid(alpha=0.25)
        name = formula
    title = ax.set_title("")

    frames = np.unique(np.linspace(0, steps, min(steps + 1, max_frames)).round().astype(int))
    frames = np.concatenate([frames, np.full(fps, frames[-1])])  # hold the final frame for a second

    def draw(k):
        if two_d:
            line.set_data(points[: k + 1, 0], points[: k + 1, 1])
        else:
            line.set_data(points[: k + 1, 0], losses[: k + 1])
        title.set_text(f"{label}\non {name}\nstep {k}: loss {_fmt(losses[k])}")
        return line, title

    # Lay the figure out once (with the final, longest title) and freeze it: re-running the
    # constrained layout for every frame would cost more than drawing the frame.
    draw(frames[-1])
    # A title wider than the figure was cut off at both ends: shrink its font until it fits.
    renderer = fig.canvas.get_renderer()
    title.set_fontsize(10)
    while title.get_fontsize() > 6 and title.get_window_extent(renderer).width > 0.96 * fig.bbox.width:
        title.set_fontsize(title.get_fontsize() - 0.5)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    # Frames are grabbed directly (FuncAnimation would draw every frame twice when saving).
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, os.fspath(path), dpi):
        for k in frames:
            draw(k)
            writer.grab_frame()
    draw(frames[-1])
    if _ipython() is not None:
        # In a notebook, show the animation (not its last frame, twice): pyplot lets go of the figure
        # so the inline backend does not draw it, and displaying the Figure shows the GIF.
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(fig)
        _show_once(fig, gif=Path(os.fspath(path)).read_bytes())
    return fig


# --- convolutional networks ------------------------------------------------------------------------
__all__ += ["feature_maps", "filters"]


def _conv_weight(conv_layer) -> np.ndarray:
    weight = getattr(conv_layer, "weight", conv_layer)
    w = to_np(weight).astype(np.float64)
    if w.ndim == 3:  # Conv1d: each kernel as a one-row image
        w = w[:, :, None, :]
    if w.ndim != 4:
        raise ValueError(f"filters: expected a Conv1d/Conv2d layer or a (out, in, kh, kw) weight, got a "
                         f"weight of shape {tuple(w.shape)}")
    return w


def filters(conv_layer, max_filters: int | None = None, max_inputs: int = 8, save=None,
            title: str | None = None):
    """The learned kernels of a convolution as a grid of small images, on one colour scale.

    A first layer on one channel (MNIST) shows each output filter as one tile; a layer on three
    channels shows each filter as a colour image; deeper layers show one row per output filter and one
    column per input channel (the first ``max_inputs``). Red is positive, blue negative, white zero.

    Args:
        conv_layer: an ``nn.Conv2d`` / ``nn.Conv1d`` (or its weight tensor, shape (out, in, kh, kw)).
        max_filters: show at most this many output filters (default 64 on 1 or 3 input channels, else 16).
        max_inputs: columns per filter for layers with more than three input channels.
        save: optional path to write the figure to.
        title: the figure's title (default: the layer's shape).

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = plot.filters(model.conv1, save="filters.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    w = _conv_weight(conv_layer)
    out_c, in_c, kh, kw = w.shape
    if max_filters is None:
        max_filters = 64 if in_c in (1, 3) else 16
    n = min(out_c, max_filters)
    w = w[:n]
    if in_c == 3:  # colour kernels: each one scaled to [0, 1] around its own zero
        scale = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
        tiles = list(0.5 + 0.5 * np.transpose(w / np.where(scale > 0, scale, 1), (0, 2, 3, 1)))
        rows = cols = None
    elif in_c == 1:
        tiles = list(w[:, 0])
        rows = cols = None
    else:
        m = min(in_c, max_inputs)
        tiles = [w[o, c] for o in range(n) for c in range(m)]
        rows, cols = n, m
    if rows is None:
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
    vmax = float(np.abs(w).max()) or 1.0
    size = 0.9 if max(kh, kw) <= 7 else 1.2
    fig, axes = plt.subplots(rows, cols, figsize=(max(3.0, cols * size) + 0.8, max(2.0, rows * size) + 0.6),
                             squeeze=False, layout="constrained")
    image = None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(tiles):
            ax.set_axis_off()
            continue
        tile = tiles[i]
        if tile.ndim == 3:
            ax.imshow(tile, interpolation="nearest")
        else:
            image = ax.imshow(tile, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        if rows * cols <= 64 and in_c in (1, 3):
            ax.set_title(str(i), fontsize=7, pad=2)
    if in_c not in (1, 3):
        for o in range(rows):
            axes[o, 0].set_ylabel(f"out {o}", fontsize=7)
        for c in range(cols):
            axes[0, c].set_title(f"in {c}", fontsize=7, pad=2)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    name = type(conv_layer).__name__ if hasattr(conv_layer, "weight") else "weight"
    shown = f"{n} of {out_c}" if n < out_c else f"{out_c}"
    fig.suptitle(title or f"{name} filters: {shown} kernels of {kh}x{kw} over {in_c} input channel"
                 f"{'s' * (in_c > 1)}", fontsize=10)
    return _finish(fig, save)


def feature_maps(model, image, max_maps: int = 8, layers=None, save=None, title: str | None = None):
    """What each convolution of ``model`` outputs for one ``image``: one row of maps per conv layer.

    The model runs once in eval mode without a graph; forward hooks record every ``Conv1d``/``Conv2d``
    output (or the modules named in ``layers``). The input is drawn on the left of the first row.

    Args:
        model: an ``nn.Module`` containing convolutions.
        image: one sample as the model takes it without the batch dimension ((C, H, W), or (784,) for
            ``recipes.cnn``); a 2-D (H, W) array is read as a one-channel image.
        max_maps: channels shown per layer (the first ones).
        layers: optional module names (from ``model.named_modules()``) to show instead of every conv.
        save: optional path to write the figure to.
        title: the figure's title.

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = plot.feature_maps(model, x_test[0], save="maps.png")  # doctest: +SKIP
    """
    import descend
    from descend import nn

    plt = _pyplot()
    named = dict(model.named_modules())
    if layers is None:
        chosen = [(k, m) for k, m in named.items() if isinstance(m, (nn.Conv1d, nn.Conv2d))]
        if not chosen:
            raise ValueError(f"feature_maps: {type(model).__name__} has no Conv1d/Conv2d layer to show")
    else:
        missing = [k for k in layers if k not in named]
        if missing:
            raise ValueError(f"feature_maps: no module named {', '.join(map(repr, missing))}; the model has "
                             f"{', '.join(repr(k) for k in named if k)}")
        chosen = [(k, named[k]) for k in layers]
    x = to_np(image).astype(np.float32)
    if x.ndim == 2:  # (H, W): one channel
        x = x[None]
    outputs, handles = {}, []
    for key, m in chosen:
        handles.append(m.register_forward_hook(lambda mod, inp, out, key=key: outputs.__setitem__(key, out)))
    was_training = model.training
    model.eval()
    try:
        with descend.no_grad():
            model(descend.from_numpy(np.ascontiguousarray(x[None])))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    maps = []
    for key, _ in chosen:
        out = to_np(outputs[key])[0]
        if out.ndim == 2:  # 1-D maps: (C, L) as one-row images
            out = out[:, None, :]
        maps.append((key, out))
    cols = 1 + min(max_maps, max(m.shape[0] for _, m in maps))
    rows = len(maps)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols + 0.4, 1.45 * rows + 0.5), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if x.ndim == 1:  # a flat image (recipes.cnn takes 784 pixels): drawn square when it is one
        side = int(round(np.sqrt(x.size)))
        shown = x.reshape(side, side) if side * side == x.size else x[None]
    else:
        shown = x.reshape(-1, *x.shape[-2:])[0] if x.ndim > 2 else x  # the first channel
    axes[0, 0].imshow(shown, cmap="gray", interpolation="nearest")
    axes[0, 0].set_title("input", fontsize=8)
    for r in range(1, rows):
        axes[r, 0].set_axis_off()
    for r, (key, out) in enumerate(maps):
        for c in range(1, cols):
            ax = axes[r, c]
            if c - 1 >= out.shape[0]:
                ax.set_axis_off()
                continue
            # each map on its own scale: the pattern matters, and activations differ by orders of magnitude
            ax.imshow(out[c - 1], cmap="viridis", interpolation="nearest")
            if r == 0:
                ax.set_title(f"ch {c - 1}", fontsize=7, pad=2)
        label = f"{key} {type(chosen[r][1]).__name__}"
        axes[r, 1].set_ylabel(f"{label}\n{out.shape[0]}x{out.shape[1]}x{out.shape[2]}", fontsize=7)
    fig.suptitle(title or f"feature maps of {type(model).__name__}: each conv layer's output (first "
                 f"{cols - 1} channels)", fontsize=10)
    return _finish(fig, save)
