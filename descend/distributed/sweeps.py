"""Hyper-parameter sweeps as parallel Ray tasks: `sweep`, the `Trial`s it runs, the `SweepResult`.

Rules where the issue left a choice:
- Ray core tasks, not Ray Tune: a grid is a cartesian product and a trial is one function call, so a
  task per trial and `ray.wait` for the bookkeeping is all it takes. Tune would add its install
  extras (pandas, pyarrow, fsspec, tensorboardX, requests) and write result folders to ~/ray_results
  for every call; its early-stopping schedulers are not needed for grids this size.
- Every trial is seeded before `train_fn` runs (`descend.manual_seed`, NumPy's and Python's global
  generators): with `seed` in its config, or 0 when `seeds=None`, so a sweep repeats exactly.
- A trial is "diverged" when its History says so (`stop_reason == "diverged"`) or a final metric is
  not finite; diverged and failed trials stay in the result and are left out of the means.
- Seeds aggregate as mean ± sample standard deviation (ddof=1) over the trials that finished.
"""

from __future__ import annotations

import itertools
import math
import time
import traceback
import warnings

import numpy as np

from descend.distributed._ray import connected, register_tensors

__all__ = ["SweepResult", "Trial", "sweep"]


class Trial:
    """One point of a sweep: its config and what training it produced.

    Attributes:
        config: the grid point (plus "seed" when the sweep has seeds).
        history: the `History` train_fn returned, or None (it returned a dict, or raised).
        metrics: final value of every per-epoch series (or the dict train_fn returned).
        error: None, or "TypeError: message" when train_fn raised (`traceback` has the rest).
        diverged: the run's loss became NaN/inf (stop_reason "diverged", or a non-finite metric).
        seconds: wall-clock time of train_fn on its worker.
        warnings: messages of the warnings train_fn raised (the divergence guard's, for example).
    """

    def __init__(self, config, history=None, metrics=None, error=None, traceback=None, seconds=math.nan,
                 warnings=()):
        self.config = dict(config)
        self.history = history
        self.metrics = dict(metrics or {})
        self.error = error
        self.traceback = traceback
        self.seconds = seconds
        self.warnings = list(warnings)
        stopped = history is not None and history.stop_reason == "diverged"
        finite = all(math.isfinite(v) for v in self.metrics.values())
        self.diverged = error is None and (stopped or not finite)

    @property
    def ok(self) -> bool:
        """Finished without error and without diverging."""
        return self.error is None and not self.diverged

    @property
    def status(self) -> str:
        return "error" if self.error else "diverged" if self.diverged else "ok"

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={_short(v)}" for k, v in self.config.items())
        if self.error:
            return f"Trial({config}: {self.error})"
        metrics = ", ".join(f"{k}={_short(v)}" for k, v in self.metrics.items())
        return f"Trial({config}: {metrics}{', diverged' if self.diverged else ''}, {self.seconds:.1f} s)"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _final_metrics(out) -> tuple[object, dict]:
    """(history or None, {name: float}) from what train_fn returned."""
    series = getattr(out, "series", None)
    if isinstance(series, dict) and hasattr(out, "stop_reason"):
        return out, {k: float(v[-1]) for k, v in series.items() if len(v)}
    if isinstance(out, dict):
        try:
            return None, {k: float(v) for k, v in out.items()}
        except (TypeError, ValueError):
            kinds = {k: type(v).__name__ for k, v in out.items()}
            raise TypeError(f"train_fn's dict must map metric names to numbers, got {kinds}") from None
    raise TypeError(f"train_fn must return a descend History or a dict of final metrics, got "
                    f"{type(out).__name__}")


def _run_trial(train_fn, config, seed):
    """The body of one Ray task: seed, run, and turn the outcome (or the error) into plain values."""
    import random

    import descend

    register_tensors()
    descend.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            history, metrics = _final_metrics(train_fn(dict(config)))
            error = trace = None
        except Exception as exc:  # a failing trial is a result, not the end of the sweep
            history, metrics = None, {}
            error, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
    seconds = time.perf_counter() - started
    return dict(history=history, metrics=metrics, error=error, traceback=trace, seconds=seconds,
                warnings=[str(w.message) for w in caught])


def _grid_configs(grid, seeds) -> list[dict]:
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict of name -> list of values, got {grid!r}")
    axes = {}
    for name, values in grid.items():
        if not isinstance(name, str):
            raise TypeError(f"grid names must be strings, got {name!r}")
        values = list(values) if isinstance(values, (list, tuple, range, np.ndarray)) else [values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty: give at least one value")
        axes[name] = values
    if seeds is not None:
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"seeds must be a positive integer (the number of seeds) or None, got {seeds!r}")
        if "seed" in axes:
            raise ValueError("grid has a 'seed' entry and seeds= is given: use one of them")
        axes["seed"] = list(range(seeds))
    return [dict(zip(axes, point)) for point in itertools.product(*axes.values())]


def sweep(train_fn, grid, seeds=None, address=None, num_cpus=None, on_trial=None) -> SweepResult:
    """Run `train_fn` on every point of `grid` (times `seeds`) as parallel Ray tasks.

    Args:
        train_fn: `train_fn(config) -> History` (or a dict of final metrics); runs one trial on a
            worker, so it must be picklable (a module-level function, or a closure over data).
        grid: name -> list of values; the trials are their cartesian product, in order.
        seeds: number of seeds per grid point (config["seed"] = 0..seeds-1), or None for one.
        address: a Ray cluster to run on ("auto", "ray://host:10001"); None uses the Ray this process
            runs, or starts a local one for the call and shuts it down afterwards.
        num_cpus: CPUs of the local Ray started for the call (trials in parallel); None: all.
        on_trial: called with each `Trial` as it finishes (the CLI prints it).

    Returns:
        A `SweepResult` in grid order. Ctrl-C cancels the outstanding trials and returns those that
        finished (`result.interrupted` is True).

    Example:
        >>> def train_fn(config):
        ...     model = descend.nn.Linear(1, 1)
        ...     opt = descend.optim.SGD(model.parameters(), lr=config["lr"])
        ...     return descend.fit(model, descend.nn.MSELoss(), opt, (x, y), epochs=20, progress=False)
        >>> result = sweep(train_fn, {"lr": [1e-3, 1e-2, 1e-1]}, seeds=2, num_cpus=2)
        >>> print(result.table())
    """
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable, got {type(train_fn).__name__}")
    configs = _grid_configs(grid, seeds)
    trials: list[Trial | None] = [None] * len(configs)
    interrupted = False
    with connected(address, num_cpus) as ray:
        task = ray.remote(num_cpus=1, max_retries=0)(_run_trial)
        fn_ref = ray.put(train_fn)
        refs = {task.remote(fn_ref, config, config.get("seed", 0)): i for i, config in enumerate(configs)}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                i = refs[done[0]]
                try:
                    trials[i] = Trial(configs[i], **ray.get(done[0]))
                except ray.exceptions.RayError as exc:  # the worker process itself crashed
                    trials[i] = Trial(configs[i], error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                if on_trial is not None:
                    on_trial(trials[i])
        except KeyboardInterrupt:
            interrupted = True
            for ref in pending:
                ray.cancel(ref, force=True)
    return SweepResult([t for t in trials if t is not None], list(grid), interrupted=interrupted,
                       planned=len(configs))


class SweepResult:
    """The trials of a `sweep`, in grid order.

    `len(result)`, iteration and indexing give `Trial`s; `table()` aggregates seeds; `best()` picks a
    trial; `plot()` draws the final metric against a hyper-parameter.

    Example:
        >>> result = sweep(train_fn, {"optimizer": ["sgd", "adam"], "lr": [1e-3, 1e-2]}, seeds=3)
        >>> len(result), result.best("valid_loss").config
        (12, {'optimizer': 'adam', 'lr': 0.01, 'seed': 1})
    """

    def __init__(self, trials, names, interrupted=False, planned=None):
        self.trials = list(trials)
        self.names = [n for n in names if n != "seed"]  # the grid's hyper-parameters
        self.interrupted = interrupted
        self.planned = len(self.trials) if planned is None else planned

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self):
        return iter(self.trials)

    def __getitem__(self, index) -> Trial:
        return self.trials[index]

    def metric_names(self) -> list[str]:
        """Every metric some trial reported, in first-seen order."""
        names = {}
        for trial in self.trials:
            names.update(dict.fromkeys(trial.metrics))
        return list(names)

    def best(self, metric="valid_loss", mode="min") -> Trial:
        """The finished, non-diverged trial with the lowest (mode="min") or highest ("max") `metric`."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if metric not in self.metric_names():
            raise KeyError(f"no trial reported {metric!r}; the metrics are {self.metric_names()}")
        candidates = [t for t in self.trials if t.ok and metric in t.metrics]
        if not candidates:
            raise ValueError(f"no trial finished without error or divergence, so none is best by {metric!r}")
        pick = min if mode == "min" else max
        return pick(candidates, key=lambda t: t.metrics[metric])

    def groups(self) -> list[tuple[dict, list[Trial]]]:
        """(config without seed, its trials) for every grid point, in grid order."""
        groups: dict[tuple, tuple[dict, list]] = {}
        for trial in self.trials:
            config = {k: v for k, v in trial.config.items() if k != "seed"}
            groups.setdefault(tuple(config.items()), (config, []))[1].append(trial)
        return list(groups.values())

    def table(self, metrics=None) -> str:
        """One row per grid point: its config, each metric's mean ± std over seeds, seconds, status.

        Args:
            metrics: the metric names to show; None shows every one.
        """
        metrics = self.metric_names() if metrics is None else list(metrics)
        header = [*self.names, "trials", *metrics, "seconds", "status"]
        rows = []
        for config, trials in self.groups():
            done = [t for t in trials if t.ok]
            row = [_short(config.get(n, "")) for n in self.names] + [str(len(trials))]
            for m in metrics:
                row.append(_mean_std([t.metrics[m] for t in done if m in t.metrics]))
            row.append(_mean_std([t.seconds for t in trials if t.error is None], digits=2))
            row.append(_status(trials))
            rows.append(row)
        widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = {s: sum(t.status == s for t in self.trials) for s in ("ok", "diverged", "error")}
        head = (f"SweepResult({len(self.trials)} of {self.planned} trials: {counts['ok']} ok, "
                f"{counts['diverged']} diverged, {counts['error']} failed"
                f"{', interrupted' if self.interrupted else ''})")
        return head + ("\n" + self.table() if self.trials else "")

    def plot(self, x="lr", metric=None, hue="optimizer", save=None):
        """The final `metric` against `x` (log axis), one line per `hue`; beside it every loss curve.

        See `descend.distributed.plot.sweep` for the arguments. Returns the matplotlib Figure.
        """
        from descend.distributed.plot import sweep as plot_sweep

        return plot_sweep(self, x=x, metric=metric, hue=hue, save=save)


def _mean_std(values, digits=4) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}g}"
    return f"{np.mean(values):.{digits}g} ± {np.std(values, ddof=1):.2g}"


def _status(trials) -> str:
    parts = [f"{sum(t.status == s for t in trials)} {s}" for s in ("diverged", "error")
             if any(t.status == s for t in trials)]
    return ", ".join(parts) or "ok"
