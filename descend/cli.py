"""The ``descend`` command line: the demo, and gradient descent on built-in problems from the shell.

Commands (``descend COMMAND --help`` shows each one's options and examples):

    descend demo      the tutorials' worked examples, step by step, with every picture
    descend run       one optimizer on a named problem: the path and the final loss
    descend compare   several optimizers on the same problem from the same start
    descend problems  the built-in problems and optimizer names
    descend lr-find   the learning-rate range test on spirals or MNIST
    descend train     an MLP on MNIST or Fashion-MNIST with a progress bar
    descend sweep     an optimizer x learning-rate x seed grid as parallel Ray trials

Bad arguments (an unknown problem or optimizer, a malformed number, a missing data folder) get one
line on standard error that names the valid choices, and exit status 2; success exits with 0.

Example:
    >>> from descend.cli import main
    >>> main(["run", "bowl", "--optim", "gd", "--steps", "5"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from descend.optim.lr_scheduler import OneCycleLR
from descend.recipes import (
    DATASETS,
    MNIST_FILES,
    ONECYCLE_LRS,
    TRAIN_LRS,
    EpochLines,
    accuracy,
    check_mnist_folder,
    make_optimizer,
    mlp,
)
from descend.recipes import cnn as _cnn
from descend.recipes import load_mnist as _load_mnist
from descend.train import Callback, EarlyStopping, LRSchedulerCallback, fit, lr_find

__all__ = ["UsageError", "build_parser", "main"]

_PATH_ROWS = 12  # `run` prints every step up to this many, a summary beyond


class UsageError(Exception):
    """A bad argument found after parsing (unknown name, wrong length, missing folder): exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``descend run: error: ...``), not usage + error."""

    def error(self, message):
        # argparse prints the whole usage block and then the error; one line is easier to read, and
        # `--help` is one command away.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# --- argument types: each raises ArgumentTypeError, which argparse turns into a one-line error ---
def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number such as 0.01, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number such as 0.01, got {text!r}")
    return value


def _float_list(text: str) -> list[float]:
    """``"0.01"`` or ``"0.001,0.01,0.1"``: one positive number, or one per optimizer."""
    return [_positive_float(part.strip()) for part in text.split(",")]


_MAX_COUNT = 10**9  # steps, epochs, sizes: past this a run would take days or all the memory


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 100, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    if value > _MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected a whole number up to {_MAX_COUNT:,}, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 0, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected a seed between 0 and 2**64 - 1, got {text!r}")
    return value


def _at_least_2(text: str) -> int:
    value = _count(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 2 (the test needs two steps to "
                                         f"draw a curve), got {text!r}")
    return value


def _point(text: str) -> tuple[float, ...]:
    try:
        coords = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected coordinates such as -1.5,2 got {text!r}") from None
    if not all(math.isfinite(c) for c in coords):
        raise argparse.ArgumentTypeError(f"expected finite coordinates, got {text!r}")
    return coords


_NUMBER_LIST = re.compile(r"^-?[0-9.][0-9.eE+\-]*(,-?[0-9.][0-9.eE+\-]*)*$")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--start -1.5,2`` -> ``--start=-1.5,2``: argparse would read ``-1.5,2`` as an option."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--start" and i + 1 < len(argv) and _NUMBER_LIST.match(argv[i + 1]):
            out.append(f"--start={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


# --- shared lookups ------------------------------------------------------------------------------
def _problem(name: str):
    from descend import problems

    try:
        return problems.get(name)
    except ValueError:
        raise UsageError(f"unknown problem {name!r}; choose from: {', '.join(problems.names())}") from None


def _optim_names(text: str) -> list[str]:
    from descend import problems

    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    valid = problems.optimizer_names()
    for name in names:
        if name not in valid:
            raise UsageError(f"unknown optimizer {name!r}; choose from: {', '.join(valid)}")
    if not names:
        raise UsageError(f"no optimizer given; choose from: {', '.join(valid)}")
    return names


def _one_optim(text: str, command: str) -> str:
    names = _optim_names(text)
    if len(names) != 1:
        hint = "; use 'descend compare' for several" if command == "run" else ""
        raise UsageError(f"--optim takes one optimizer here, got {text!r}{hint}")
    return names[0]


# Image types offered for --plot: those matplotlib writes with no outside program (.pgf and .ps with
# usetex need LaTeX; raw buffers are no picture to open).
_IMAGE_TYPES = ("png", "jpg", "jpeg", "svg", "pdf", "eps", "tif", "tiff", "webp")


def _writable(path: str, option: str) -> Path:
    """Check up front that ``path`` can be written (its folder made, a file created there), so a long
    run never ends by failing to save: the check creates and removes a small probe file."""
    import secrets

    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError(f"{option} {path!r} is a folder; give a file name")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{option} {path!r}: {parent} is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".descend-probe-{secrets.token_hex(4)}"
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: cannot write there ({exc.strerror or exc})") from None
    return target


def _plot_target(path: str | None, allow_gif: bool) -> Path | None:
    """Check ``--plot FILE`` before any work is done: a known image format, a folder we can write to."""
    if path is None:
        return None
    suffix = Path(path).suffix.lower().lstrip(".")
    formats = list(_IMAGE_TYPES) + (["gif"] if allow_gif else [])
    if suffix not in formats:
        raise UsageError(f"--plot {path!r}: unknown image type; end the name with one of: "
                         + ", ".join("." + f for f in formats))
    return _writable(path, "--plot")


def _save_figure(fig, target: Path) -> None:
    fig.savefig(target, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"picture written to {target}")


def _fmt(v: float, width: int = 0) -> str:
    """Numbers for tables: 6 significant digits, 'nan'/'inf' spelled out, right-aligned to ``width``."""
    text = f"{v:.6g}" if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    return text.rjust(width)


def _coord(v: float, width: int = 0) -> str:
    """A coordinate for tables: fixed 6 decimals so the columns line up; exponent form when huge."""
    text = f"{v:.6f}" if math.isfinite(v) and abs(v) < 1e6 else _fmt(v)
    return text.rjust(width)


def _point_text(p, var: str = "w") -> str:
    """``(x, y)`` rounded to 4 decimals, or ``w = 3`` for a 1-D point: ``(-1.5, 2)``, ``(0.5025, 0.2512)``."""
    # + 0.0 turns the -0.0 that rounding a tiny negative number gives into 0.
    coords = [f"{round(float(c), 4) + 0.0:g}" for c in p]
    return f"{var} = {coords[0]}" if len(coords) == 1 else "(" + ", ".join(coords) + ")"


def _variable(problem) -> str:
    """The name of a 1-D problem's variable, as its formula writes it: w in (w - 3)², x in x²."""
    return "x" if problem.name == "parabola" else "w"


def _summary_rows(n: int, limit: int = _PATH_ROWS) -> list[int]:
    """Which of steps 0..n-1 to print: all when few, else the first few and log-spaced ones to the end."""
    if n <= limit:
        return list(range(n))
    head = list(range(5))
    tail = np.unique(np.geomspace(5, n - 1, limit - 5).round().astype(int)).tolist()
    return sorted(set(head + tail + [n - 1]))


# --- descend run -------------------------------------------------------------------------------
def _start(args, problem) -> tuple[float, ...]:
    if args.start is None:
        return tuple(problem.start)
    if len(args.start) != problem.dim:
        coords = "X,Y" if problem.dim == 2 else "X"
        raise UsageError(f"--start needs {problem.dim} number{'s' * (problem.dim > 1)} ({coords}) for "
                         f"{problem.name}, got {len(args.start)}")
    return args.start


def _describe_problem(problem) -> str:
    variables = "x, y" if problem.dim == 2 else _variable(problem)
    minimum = (f"minimum {problem.min_value:.4g} at {_point_text(problem.minima[0], variables)}"
               if problem.minima
               else "no minimum")
    if len(problem.minima) > 1:
        minimum = f"{len(problem.minima)} minima, value {problem.min_value:.4g}"
    return f"f({variables}) = {problem.formula}   ({minimum})"


def _nearest_minimum(problem, point) -> tuple[tuple[float, ...], float] | None:
    if not problem.minima:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # a point near 1e308 is inf away: say so, quietly
        dists = [float(np.linalg.norm(np.subtract(point, m))) for m in problem.minima]
    i = int(np.argmin(dists))
    return problem.minima[i], dists[i]


_BIG_RUN = 100_000  # more steps than this: a progress bar, and only the printed rows are kept
_PLOT_STEPS = 100_000  # a picture of more steps than this would hold the whole path in memory


def _walk(problem, name, start, steps, lr, keep, progress=False):
    """Descend ``problem`` like ``Problem.path``, keeping only the rows in ``keep`` (bounded memory).

    Returns ``(rows, losses_at, last)``: ``rows`` maps a kept step to ``(point, loss)``, ``last`` is
    the last step whose point and loss are finite.
    """
    import descend
    from descend import problems

    cls, kwargs = problems.optimizer(name)
    p = descend.tensor(np.asarray(start, dtype=np.float64), dtype=descend.float64, requires_grad=True)
    opt = cls([p], lr=lr, **kwargs)
    rows, last, kept = {}, 0, (None, math.nan)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, unit="step", file=sys.stderr, disable=not _is_terminal(sys.stderr),
                   mininterval=0.5)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            for i in range(steps + 1):
                opt.zero_grad()
                loss = problem.f(*(p[j] for j in range(p.shape[0])))
                value = float(loss._data)
                if not (math.isfinite(value) and np.all(np.isfinite(p._data))):
                    break
                last, kept = i, (p._data.copy(), value)
                if i in keep:
                    rows[i] = kept
                if i == steps:
                    break
                loss.backward()
                opt.step()
                if bar is not None and (i + 1) % 1000 == 0:
                    bar.update(1000)
        finally:
            if bar is not None:
                bar.close()
    if kept[0] is None:  # the start itself is not finite
        kept = (np.asarray(start, dtype=np.float64), value)
    rows[last] = kept
    return rows, last


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _diverges(problem, name, start, steps, lr) -> tuple[bool, int, float]:
    """Whether ``lr`` makes the loss grow without bound: ``(diverged, last finite step, final loss)``.

    Diverged means the loss overflowed, or it ended more than 10 times above where it started and
    was still growing over the last quarter of the run.
    """
    quarter = (3 * steps) // 4
    rows, last = _walk(problem, name, start, steps, lr, keep={0, quarter, steps})
    first, final = rows[0][1], rows[last][1]
    if last < steps:
        return True, last, final
    growing = final > rows[quarter][1] if quarter in rows else True
    return bool(final > 10 * abs(first) + 1e-12 and growing), last, final


def _converging_lr(problem, name, start, steps, lr) -> tuple[float, float] | None:
    """A learning rate below ``lr``, found by halving, with which the same run stays finite and lowers
    the loss: ``(lr, final loss)``, checked by running it; None if 60 halvings find none."""
    steps = min(steps, 5000)  # the check must stay quick
    first = float(problem.f(*np.asarray(start, dtype=np.float64)))
    for _ in range(60):
        lr /= 2
        candidate = float(f"{lr:.2g}")  # the number we print is the number we check
        diverged, _, final = _diverges(problem, name, start, steps, candidate)
        if not diverged and math.isfinite(final) and final < first:
            return candidate, final
    return None


def _divergence_advice(problem, name, start, steps, lr) -> str:
    found = _converging_lr(problem, name, start, steps, lr)
    if found is None:
        return "no smaller learning rate tried (down to 60 halvings) lowers the loss from this start"
    good, final = found
    return (f"try a smaller learning rate: --lr {good:g} (checked: from the same start it stays finite "
            f"and ends at loss {final:.4g})")


def _cmd_run(args) -> int:
    from descend import problems

    problem = _problem(args.problem)
    name = _one_optim(args.optim, "run")
    start = _start(args, problem)
    target = _plot_target(args.plot, allow_gif=True)
    steps = args.steps or problem.steps
    if target is not None and steps > _PLOT_STEPS:
        raise UsageError(f"--plot draws at most {_PLOT_STEPS} steps, got --steps {steps}; "
                         "use fewer steps for a picture")
    lr = args.lr if args.lr is not None else problem.lr(name)
    label = problems.optimizer_label(name, {"lr": lr})

    print(f"{label} on {problem.name}: {_describe_problem(problem)}")
    var = _variable(problem)
    print(f"start at {_point_text(start, var)}, {steps} steps"
          + ("" if args.lr else "  (lr: this problem's preset)"))
    print()
    wanted = set(_summary_rows(steps + 1)) | {(3 * steps) // 4}
    rows, last = _walk(problem, name, start, steps, lr, keep=wanted, progress=steps > _BIG_RUN)
    coords = ["x", "y"] if problem.dim == 2 else [var]
    shown = [i for i in _summary_rows(steps + 1) if i <= last] or [0]
    if last not in shown:
        shown.append(last)
    cells = [[str(i)] + [_coord(c) for c in rows[i][0]] + [_fmt(rows[i][1])] for i in shown]
    names = ["step", *coords, "loss"]
    # Each column as wide as its widest entry, two spaces apart: wide numbers never run together.
    widths = [max(len(n), *(len(r[k]) for r in cells)) + 2 for k, n in enumerate(names)]
    print("".join(n.rjust(w) for n, w in zip(names, widths)))
    previous = -1
    for i, row in zip(shown, cells):
        if i - previous > 1:
            print("...".rjust(widths[0]))
        print("".join(c.rjust(w) for c, w in zip(row, widths)))
        previous = i
    print()
    first, final = rows[0][1], rows[last][1]
    quarter = (3 * steps) // 4
    growing = final > rows[quarter][1] if quarter in rows and quarter < last else True
    if last < steps:
        print(f"diverged at step {last + 1}: the loss overflowed; "
              + _divergence_advice(problem, name, start, steps, lr))
    elif final > 10 * abs(first) + 1e-12 and growing:
        print(f"diverged: the loss grew from {first:.4g} to {final:.4g} and was still growing; "
              + _divergence_advice(problem, name, start, steps, lr))
    print(f"final loss {final:.6g} at {_point_text(rows[last][0], var)} after {last} steps")
    nearest = _nearest_minimum(problem, rows[last][0])
    if nearest is not None:
        print(f"distance to the minimum at {_point_text(nearest[0], var)}: {nearest[1]:.4g}")
    if target is not None:
        _draw_run(problem, name, lr, start, steps, target)
    return 0


def _draw_run(problem, name, lr, start, steps, target: Path) -> None:
    from descend import plot, problems

    if target.suffix.lower() == ".gif":
        fig = plot.animate_path(problem, name, lr=lr, steps=steps, start=start, path=target)
        import matplotlib.pyplot as plt

        plt.close(fig)
        print(f"animation written to {target}")
        return
    if problem.dim == 1:
        fig = plot.descent_path_1d(problem, start=start[0], optimizer=name, lr=lr, steps=steps)
    else:
        label = problems.OPTIMIZERS[name][2]
        fig = plot.contour_paths(problem, {label: (name, {"lr": lr})}, start=start, steps=steps)
    _save_figure(fig, target)


# --- descend compare ---------------------------------------------------------------------------
def _cmd_compare(args) -> int:
    from descend import problems

    problem = _problem(args.problem)
    names = _optim_names(args.optim)
    start = _start(args, problem)
    target = _plot_target(args.plot, allow_gif=False)
    if target is not None and problem.dim == 1:
        raise UsageError(f"--plot: {problem.name} is 1-D; 'descend run {problem.name} --plot FILE' "
                         "draws one optimizer's path on its curve")
    steps = args.steps or problem.steps
    if args.lr is None:
        lrs = [problem.lr(n) for n in names]
    elif len(args.lr) == 1:
        lrs = args.lr * len(names)
    elif len(args.lr) == len(names):
        lrs = args.lr
    else:
        raise UsageError(f"--lr takes one number or one per optimizer ({len(names)}), got {len(args.lr)}")

    plural = "s" * (len(names) > 1)
    print(f"{len(names)} optimizer{plural} on {problem.name}: {_describe_problem(problem)}")
    print(f"same start at {_point_text(start)}, {steps} steps each" + ("" if args.lr else
                                                                     "  (lrs: this problem's presets)"))
    print()
    rows = []
    for name, lr in zip(names, lrs):
        quarter = (3 * steps) // 4
        walked, last = _walk(problem, name, start, steps, lr, keep={0, quarter})
        point, loss = walked[last]
        nearest = _nearest_minimum(problem, point)
        growing = loss > walked[quarter][1] if quarter in walked and quarter < last else True
        if last < steps:
            verdict = f"diverged at step {last + 1} (overflow)"
        elif loss > 10 * abs(walked[0][1]) + 1e-12 and growing:
            verdict = "diverged (loss still growing)"
        else:
            verdict = ""
        rows.append((problems.optimizer_label(name, {"lr": lr}), point, loss,
                     nearest[1] if nearest else math.nan, verdict, name, lr))
    width = max(len(r[0]) for r in rows) + 2
    points = [_point_text(r[1]) for r in rows]
    pw = max(len("final point"), *(len(t) for t in points)) + 2
    print(f"{'optimizer':<{width}}{'final point':>{pw}}{'final loss':>14}{'to minimum':>12}")
    for (label, _, loss, dist, verdict, _, _), text in zip(rows, points):
        print(f"{label:<{width}}{text:>{pw}}{_fmt(loss, 14)}{_fmt(dist, 12)}"
              + (f"   {verdict}" if verdict else ""))
    for label, _, _, _, verdict, name, lr in rows:
        if verdict:
            print(f"{label}: {_divergence_advice(problem, name, start, steps, lr)}")
    rows = [r for r in rows if not r[4]]
    best = min((r for r in rows if math.isfinite(r[2])), key=lambda r: r[2], default=None)
    if best is not None:
        print()
        print(f"lowest final loss: {best[0]}")
    if target is not None:
        from descend import plot

        optimizers = {problems.OPTIMIZERS[n][2]: (n, {"lr": lr}) for n, lr in zip(names, lrs)}
        _save_figure(plot.contour_paths(problem, optimizers, start=start, steps=steps), target)
    return 0


# --- descend problems --------------------------------------------------------------------------
def _cmd_problems(args) -> int:
    from descend import problems

    print("Built-in problems (descend run NAME / descend compare NAME):")
    print()
    width = max(len(n) for n in problems.names()) + 2
    for name in problems.names():
        p = problems.get(name)
        print(f"  {name:<{width}}{p.dim}-D  f = {p.formula}")
        where = (f"minimum at {_point_text(p.minima[0], _variable(p))}" if len(p.minima) == 1
                 else f"{len(p.minima)} minima" if p.minima else "no minimum")
        start = _point_text(p.start, _variable(p))
        print(f"  {'':<{width}}     start at {start}, {where}, {p.steps} steps by default")
        if p.note:
            print(f"  {'':<{width}}     {p.note}")
    print()
    print("Optimizers (--optim): " + ", ".join(problems.optimizer_names()))
    print("  momentum = SGD(momentum=0.9), nesterov = SGD(momentum=0.9, nesterov=True);")
    print("  without --lr, each problem uses its preset learning rate for each optimizer.")
    return 0


# --- data for lr-find and train ----------------------------------------------------------------
def _mnist_folder(path: str | None, option: str, dataset: str = "mnist") -> Path:
    if path is None:
        raise UsageError(f"{dataset} needs {option} DIR: a folder holding {', '.join(MNIST_FILES)}")
    try:
        return check_mnist_folder(path)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def _load(folder: Path, dataset: str = "mnist", limit: int | None = None):
    """recipes.load_mnist, with a bad file reported as a UsageError (one line, exit 2)."""
    try:
        return _load_mnist(folder, dataset, limit)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def _spirals_data(seed: int):
    from descend import data

    return data.spirals(200, classes=3, noise=0.2, seed=seed)


# --- descend lr-find ---------------------------------------------------------------------------
def _cmd_lr_find(args) -> int:
    import descend
    from descend import data, nn

    name = _one_optim(args.optim, "lr-find")
    if not args.start_lr < args.end_lr:
        raise UsageError(f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g}): "
                         "the learning rate grows during the test")
    if args.data_dir is not None and args.data != "mnist":
        raise UsageError(f"--data-dir {args.data_dir!r} is only read with --data mnist (the test would "
                         "run on the generated spirals); add --data mnist")
    target = _plot_target(args.plot, allow_gif=False)
    descend.manual_seed(args.seed)
    if args.data == "spirals":
        x, y = _spirals_data(args.seed)
        model, batch = mlp(2, 64, 3, layers=2), args.batch_size or 64
        what = f"spirals ({len(y)} points, 3 classes), MLP 2-64-64-3"
    else:
        folder = _mnist_folder(args.data_dir, "--data-dir")
        x, y, _, _, _ = _load(folder, limit=args.limit)
        model, batch = mlp(784, 128, 10), args.batch_size or 128
        what = f"MNIST ({len(y)} training images), MLP 784-128-10"
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch, shuffle=True, seed=args.seed)
    optimizer = make_optimizer(name, model.parameters(), lr=1e-3)
    print(f"Learning-rate range test: {what}, {args.iters} steps of {name} (batch {batch}),")
    print(f"the learning rate growing from {args.start_lr:g} to {args.end_lr:g}; the loss is smoothed.")
    print()
    result = lr_find(model, nn.CrossEntropyLoss(), optimizer, loader, start_lr=args.start_lr,
                             end_lr=args.end_lr, num_iter=args.iters)
    if len(result.lrs) == 0:
        print("the very first loss was not finite: nothing to show")
        return 0
    print(f"{'step':>6}{'lr':>12}{'smoothed loss':>16}")
    # The lr grows exponentially, so evenly spaced steps are evenly spaced on a log-lr axis.
    n, lowest = len(result.lrs), int(np.argmin(result.losses))
    for i in sorted(set(np.linspace(0, n - 1, min(n, 13)).round().astype(int).tolist()) | {lowest}):
        note = "   <- lowest" if i == lowest else ""
        print(f"{i:>6}{result.lrs[i]:>12.3g}{result.losses[i]:>16.4f}{note}")
    print()
    if result.stopped_early:
        print(f"stopped after {len(result.lrs)} steps: the loss exploded at lr {result.lrs[-1]:.3g}")
    if result.suggestion is None:
        print("too few steps to suggest a learning rate: try more --iters")
    else:
        print(f"suggested learning rate: {result.suggestion:.3g}  (where the loss falls fastest)")
        if args.data == "mnist":
            print(f"try it: descend train mnist --data {args.data_dir} --optim {name} "
                  f"--lr {result.suggestion:.2g}")
    if target is not None:
        from descend import plot

        _save_figure(plot.lr_find(result), target)
    return 0


# --- descend train -----------------------------------------------------------------------------
class _ExplodingLoss(Callback):
    """Stop training when the loss explodes (smoothed loss 4x its best, or one batch 100x it) and
    put back the last weights whose loss was healthy.

    fit's own guard catches non-finite losses; a learning rate like 1e9 keeps them finite (1e19) and
    would otherwise train to the end and report a meaningless accuracy.
    """

    def __init__(self, advice: str = ""):
        self.message = None
        self.advice = advice

    def on_fit_start(self, learner):
        self.params = learner.params
        self.pending = [np.empty_like(p._data) for p in self.params]
        self.good = None
        self.average, self.best, self.n = 0.0, math.inf, 0

    def on_batch_start(self, learner):
        for p, buffer in zip(self.params, self.pending):
            buffer[...] = p._data  # the weights this step's loss is computed with

    def on_batch_end(self, learner):
        value = learner.loss_value
        self.n += 1
        self.average = 0.9 * self.average + 0.1 * value
        smoothed = self.average / (1 - 0.9 ** self.n)
        if self.n > 1 and (smoothed > 4 * self.best or value > 100 * self.best):
            if self.good is not None:
                for p, buffer in zip(self.params, self.good):
                    p._data[...] = buffer
            self.message = (f"training diverged at step {learner.step} (epoch {learner.epoch + 1}): the loss "
                            f"exploded to {value:.4g} from a best of {self.best:.4g}; stopped, and the last "
                            f"weights with a healthy loss were restored. {self.advice}")
            learner.stop = "diverged"
            return
        self.best = min(self.best, smoothed)
        self.good, self.pending = self.pending, self.good or [np.empty_like(b) for b in self.pending]


class _Failed(Exception):
    """Something outside the arguments went wrong (a download): one line on stderr, exit status 1."""


def _download(dataset: str, folder: str | None) -> Path:
    """Fetch the four files of ``dataset`` into ``folder`` (default: the cache folder), MD5-verified."""
    from descend import data
    from descend.data import mnist

    name = DATASETS[dataset]
    target = Path(folder).expanduser() if folder is not None else mnist.default_root(name)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--data {str(target)!r} is not a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--data {str(target)!r}: cannot create the folder "
                         f"({exc.strerror or exc})") from None
    print(f"fetching {dataset} into {target} (MD5-verified; files already there and intact are kept)")
    try:
        getattr(data, name)(target, train=True, download=True)
    except (ConnectionError, OSError, ValueError) as exc:
        raise _Failed(f"download failed: {str(exc).splitlines()[0]}") from None
    return target


def _cmd_train(args) -> int:
    import descend
    from descend import data, nn, problems
    from descend.serialize import save as save_weights

    name = _one_optim(args.optim, "train")
    if args.download:
        folder = _download(args.dataset, args.data)
    else:
        folder = _mnist_folder(args.data, "--data (or --download)", args.dataset)
    if args.save is not None:
        if Path(args.save).suffix != ".npz":
            raise UsageError(f"--save {args.save!r}: descend saves .npz files; end the name with .npz")
        _writable(args.save, "--save")  # now, not after the training it would lose
    onecycle = args.schedule == "onecycle"
    lr = args.lr if args.lr is not None else (ONECYCLE_LRS if onecycle else TRAIN_LRS)[name]
    descend.manual_seed(args.seed)
    x, y, x_test, y_test, classes = _load(folder, args.dataset, args.limit)
    # Standardise with the training images' own mean and spread (MNIST: 0.13 and 0.31), so every
    # input starts on the scale the default initialisation expects.
    mean, spread = float(x.mean()), float(x.std())
    x, x_test = (x - mean) / spread, (x_test - mean) / spread
    # Hold out a twelfth of the training images (5000 of 60000) to watch for overfitting: the test
    # images are only looked at once, at the end.
    n_valid = max(1, len(y) // 12) if len(y) > 1 else 0
    perm = np.random.default_rng(args.seed).permutation(len(y))
    valid_idx, train_idx = perm[:n_valid], perm[n_valid:]
    train_ds = data.TensorDataset(x[train_idx], y[train_idx])
    loader = data.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    valid = (x[valid_idx], y[valid_idx]) if n_valid else None
    if args.model == "cnn":
        model = _cnn(10)
        blocks = " ".join(f"conv{m.out_channels}" for m in model if isinstance(m, nn.Conv2d))
        described = f"CNN {blocks} (3x3 conv-bn-relu-maxpool blocks) + linear head"
    else:
        model = mlp(784, args.hidden, 10, layers=args.layers)
        described = "MLP " + "-".join(["784"] + [str(args.hidden)] * args.layers + ["10"])
    optimizer = make_optimizer(name, model.parameters(), lr)
    n_params = sum(p.numel() for p in model.parameters())
    title = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}[args.dataset]
    print(f"{title}: {len(train_idx)} training, {n_valid} validation, {len(y_test)} test images "
          f"from {folder}")
    schedule = f"one-cycle schedule peaking at lr={lr:g}" if onecycle else f"constant lr={lr:g}"
    print(f"model: {described} ({n_params:,} parameters), {problems.optimizer_label(name, {'lr': lr})}, "
          f"batch {args.batch_size}, {args.epochs} epoch{'s' * (args.epochs > 1)}, {schedule}")
    print(f"inputs standardised: (pixel - {mean:.4f}) / {spread:.4f}")
    print()
    started = time.perf_counter()
    preset = (ONECYCLE_LRS if onecycle else TRAIN_LRS)[name]
    exploding = _ExplodingLoss(f"The learning rate {lr:g} is too large for {name}: try its preset, "
                               f"--lr {preset:g}" if lr > preset else
                               f"Try a smaller learning rate than {lr:g}, e.g. --lr {lr / 10:g}")
    callbacks = [exploding, EpochLines()]
    if onecycle:
        cycle = OneCycleLR(optimizer, max_lr=lr, total_steps=args.epochs * len(loader))
        callbacks.append(LRSchedulerCallback(cycle, "batch"))
    if args.patience:
        callbacks.append(EarlyStopping(patience=args.patience, restore_best_weights=True))
    with warnings.catch_warnings(record=True) as caught:
        # fit warns when a loss is not finite; the command line says so in one line of its own.
        warnings.simplefilter("always")
        history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, valid=valid, epochs=args.epochs,
                      callbacks=callbacks, metrics=["accuracy"], progress=True)
    seconds = time.perf_counter() - started
    print()
    if history.stop_reason == "diverged":
        message = exploding.message or next((str(w.message) for w in caught), "the loss was not finite")
        print(f"descend train: {message}", file=sys.stderr)
        return 1
    for w in caught:
        print(f"descend train: warning: {w.message}", file=sys.stderr)
    test_accuracy = accuracy(model, x_test, y_test)
    if history.stop_reason not in (None, "completed"):
        print(f"training stopped: {history.stop_reason} after {history.epochs} epochs")
    print(f"trained in {seconds:.1f} s; test accuracy {test_accuracy:.2%} on {len(y_test)} test images")
    if args.save is not None:
        save_weights(model.state_dict(), args.save)
        print(f"weights written to {args.save}")
    if history.stop_reason == "interrupted":
        print("descend train: interrupted (the weights reached so far were kept)", file=sys.stderr)
        return 130
    return 0


# --- descend demo ------------------------------------------------------------------------------
def _cmd_demo(args) -> int:
    from descend import demo

    data_dir = _mnist_folder(args.data, "--data") if args.data is not None else None
    if data_dir is not None:
        _load(data_dir, "mnist", limit=1)  # a corrupt file: one line now, not a traceback mid-demo
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".descend-probe-{os.getpid()}"  # an existing folder may still refuse files
        with open(probe, "wb"):
            pass
        probe.unlink()
    except OSError as exc:  # a file in the way, no permission
        raise UsageError(f"--out {args.out!r}: cannot use it as the pictures folder "
                         f"({exc.strerror})") from None
    demo.run(out=out, quick=args.quick, data_dir=data_dir)
    return 0


# --- the parser --------------------------------------------------------------------------------
_EPILOGS = {
    "descend": """examples:
  descend demo                          the tutorials step by step; pictures in descend-demo/index.html
  descend run rosenbrock --optim adam   one optimizer's path on the Rosenbrock valley
  descend compare beale --optim sgd,momentum,adam --plot beale.png
  descend problems                      the problems and optimizers to choose from
  descend train mnist --download --epochs 3   fetch MNIST into ~/.cache/descend/MNIST and train
""",
    "demo": """examples:
  descend demo                        the full demo (well under a minute)
  descend demo --quick --out /tmp/d   fewer steps and epochs, a few seconds
  descend demo --data DIR
                                      also train on MNIST (a folder with the four .gz files)
""",
    "run": """examples:
  descend run quadratic --optim gd --lr 0.1 --steps 5     the worked example (w - 3)**2 from w = 0
  descend run rosenbrock --optim adam --steps 1000 --plot adam.png
  descend run himmelblau --optim momentum --start -1,-1 --plot path.gif
  descend run elongated_bowl --optim gd --lr 1.1          too large: watch it diverge

PROBLEM is one of the names 'descend problems' lists; without --lr each optimizer uses the
problem's preset learning rate. --plot draws the path (.png, .svg, .pdf) or animates it (.gif).
""",
    "compare": """examples:
  descend compare rosenbrock --optim gd,momentum,adam
  descend compare beale --optim sgd,momentum,adam --steps 500 --plot beale.png
  descend compare elongated_bowl --optim gd,momentum --lr 0.4,0.1

--lr takes one number for all, or one per optimizer; without it each uses the problem's preset.
""",
    "problems": """example:
  descend problems
""",
    "lr-find": """examples:
  descend lr-find --data spirals --plot lr.png
  descend lr-find --data mnist --data-dir ~/.cache/descend/MNIST --optim sgd

The learning rate grows exponentially while a fresh model trains; the suggestion is where the
smoothed loss falls fastest (fastai's range test). The model's weights are put back afterwards.
""",
    "train": """examples:
  descend train mnist --download                   fetch the files once, into ~/.cache/descend/MNIST
  descend train mnist --data DIR --epochs 5 --optim momentum --lr 0.05 --save mlp.npz
  descend train fashion-mnist --data ~/data/fashion --hidden 512 --layers 2

DIR holds the four original IDX files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. A twelfth of the training images is held out
for validation; the test images are used once, for the final accuracy.
""",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``descend`` argument parser with one sub-parser per command."""
    from descend import problems

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="descend", formatter_class=fmt, epilog=_EPILOGS["descend"],
                     description="Gradient descent you can see: the tutorials' examples, optimizers on "
                                 "classic problems, MNIST.")
    from descend import __version__

    parser.add_argument("--version", action="version", version=f"descend {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    optims = ", ".join(problems.optimizer_names())
    names = ", ".join(problems.names())

    p = sub.add_parser("demo", help="walk through the tutorials' examples and write every picture",
                       formatter_class=fmt, epilog=_EPILOGS["demo"],
                       description="The tutorials' worked examples step by step, optimizers compared, a "
                                   "classifier trained; every picture in DIR with an index.html.")
    p.add_argument("--out", default="descend-demo", metavar="DIR",
                   help="folder for the pictures and index.html (default: descend-demo)")
    p.add_argument("--quick", action="store_true", help="fewer steps and epochs: a few seconds")
    p.add_argument("--data", metavar="DIR", help="MNIST folder (four .gz files): also train on MNIST")

    p = sub.add_parser("run", help="one optimizer on a named problem: the path and final loss",
                       formatter_class=fmt, epilog=_EPILOGS["run"],
                       description="Run one optimizer on a built-in problem and print its path.")
    p.add_argument("problem", metavar="PROBLEM", help=f"one of: {names}")
    p.add_argument("--optim", default="gd", metavar="NAME", help=f"one of: {optims} (default: gd)")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the problem's preset)")
    p.add_argument("--steps", type=_count, help="number of steps (default: the problem's)")
    p.add_argument("--start", type=_point, metavar="X,Y", help="starting point (default: the problem's)")
    p.add_argument("--plot", metavar="FILE",
                   help="draw the path to FILE (.png/.svg/.pdf, or .gif to animate it)")

    p = sub.add_parser("compare", help="several optimizers on the same problem from the same start",
                       formatter_class=fmt, epilog=_EPILOGS["compare"],
                       description="Run several optimizers on a built-in problem and compare where they end.")
    p.add_argument("problem", metavar="PROBLEM", help=f"one of: {names}")
    p.add_argument("--optim", default="gd,momentum,adam", metavar="A,B,...",
                   help=f"comma-separated names from: {optims} (default: gd,momentum,adam)")
    p.add_argument("--lr", type=_float_list, metavar="X[,Y,...]",
                   help="one learning rate for all, or one per optimizer (default: presets)")
    p.add_argument("--steps", type=_count, help="number of steps (default: the problem's)")
    p.add_argument("--start", type=_point, metavar="X,Y", help="starting point (default: the problem's)")
    p.add_argument("--plot", metavar="FILE", help="draw contours and paths to FILE (.png/.svg/.pdf)")

    sub.add_parser("problems", help="list the built-in problems and optimizer names", formatter_class=fmt,
                   epilog=_EPILOGS["problems"], description="The built-in problems and optimizers.")

    p = sub.add_parser("lr-find", help="the learning-rate range test on spirals or MNIST",
                       formatter_class=fmt, epilog=_EPILOGS["lr-find"],
                       description="Find a learning rate: train briefly while it grows, watch the loss.")
    p.add_argument("--data", choices=("spirals", "mnist"), default="spirals",
                   help="spirals (generated) or mnist (needs --data-dir); default spirals")
    p.add_argument("--data-dir", metavar="DIR", help="MNIST folder holding the four .gz files")
    p.add_argument("--optim", default="sgd", metavar="NAME", help=f"one of: {optims} (default: sgd)")
    p.add_argument("--iters", type=_at_least_2, default=100, help="steps of the test, >= 2 (default: 100)")
    p.add_argument("--start-lr", type=_positive_float, default=1e-7,
                   help="first learning rate (default: 1e-7, as descend.lr_find)")
    p.add_argument("--end-lr", type=_positive_float, default=10.0, help="last learning rate (10)")
    p.add_argument("--batch-size", type=_count, help="batch size (default: 64 spirals, 128 MNIST)")
    p.add_argument("--limit", type=_count, default=10000, help="MNIST training images to use (10000)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**64-1 (default: 0)")
    p.add_argument("--plot", metavar="FILE", help="draw loss against learning rate to FILE")

    p = sub.add_parser("train", help="an MLP on MNIST or Fashion-MNIST with a progress bar",
                       formatter_class=fmt, epilog=_EPILOGS["train"],
                       description="Train a multi-layer perceptron on MNIST or Fashion-MNIST.")
    p.add_argument("dataset", choices=tuple(DATASETS), metavar="DATASET", help="mnist or fashion-mnist")
    p.add_argument("--data", metavar="DIR",
                   help="folder holding the four .gz files (with --download: where to put them)")
    p.add_argument("--download", action="store_true",
                   help="fetch the files first (MD5-verified, atomic) into --data DIR or the cache folder "
                        "~/.cache/descend/<dataset>")
    p.add_argument("--epochs", type=_count, default=3, help="passes over the training images (default: 3)")
    p.add_argument("--batch-size", type=_count, default=128, help="images per step (default: 128)")
    p.add_argument("--optim", default="adam", metavar="NAME", help=f"one of: {optims} (default: adam)")
    p.add_argument("--lr", type=_positive_float,
                   help="learning rate; the peak of the one-cycle schedule (default: 5e-3 adam/adamw, "
                        "0.2 sgd, 0.1 momentum; constant: 1e-3 adam, 0.1 sgd, 0.05 momentum)")
    p.add_argument("--schedule", choices=("onecycle", "constant"), default="onecycle",
                   help="onecycle: warm up to --lr then anneal, stepped every batch (default); "
                        "constant: --lr throughout")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                   help="mlp: 784-hidden-10, seconds per epoch (default); cnn: two conv-bn-relu-pool "
                        "blocks, above 99%% on MNIST in 3 epochs but several times slower per epoch")
    p.add_argument("--hidden", type=_count, default=256, help="hidden units per layer (default: 256)")
    p.add_argument("--layers", type=_count, default=1, help="hidden layers (default: 1)")
    p.add_argument("--limit", type=_count, help="use only the first N training images")
    p.add_argument("--patience", type=_count,
                   help="stop after N epochs without a better validation loss (keeps the best weights)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**64-1 (default: 0)")
    p.add_argument("--save", metavar="FILE", help="write the trained weights to FILE (.npz)")
    # `descend sweep` lives with descend.distributed (importing it does not import Ray).
    from descend.distributed import cli as sweep_cli

    sweep_cli.add_parser(sub, fmt, optims, {"float_list": _float_list, "count": _count})
    return parser



def _sweep_cli():
    from descend.distributed import cli as sweep_cli

    return sweep_cli


_COMMANDS = {"demo": _cmd_demo, "run": _cmd_run, "compare": _cmd_compare, "problems": _cmd_problems,
             "lr-find": _cmd_lr_find, "train": _cmd_train, "sweep": lambda args: _sweep_cli().run(args)}


def main(argv: list[str] | None = None) -> int:
    """Run the ``descend`` command line; returns the exit status (0 success, 2 bad arguments).

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        0 on success, 2 for bad arguments (one line on standard error), 130 when interrupted.

    Example:
        >>> main(["problems"])  # doctest: +SKIP
        0
    """
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    for stream in (sys.stdout, sys.stderr):
        # Formulas print as "(1 − x)²": never crash on a terminal that cannot show them.
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) and argparse's errors (2) end here; report, don't exit
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        print(f"descend: error: choose a command: {', '.join(_COMMANDS)} (see 'descend --help')",
              file=sys.stderr)
        return 2
    try:
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"descend {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except _Failed as exc:
        print(f"descend {args.command}: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"descend {args.command}: error: not enough memory for these sizes (--hidden, --batch-size, "
              "--steps?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"descend {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`descend problems | head`): stop quietly, as Python's docs advise,
        # pointing stdout at devnull so the final flush at exit cannot fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        return 1
