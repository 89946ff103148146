"""Callbacks: the base class with its named events, and the built-in ones.

EarlyStopping, Checkpoint (and load_checkpoint), LRSchedulerCallback, ProgressBar, NotebookProgress,
Recorder. Each
receives the `Learner` of the run (see `descend.train.loop`) at every event it overrides.
"""

from __future__ import annotations

import math
import time

import numpy as np

from descend.serialize import load, save
from descend.tensor import Tensor
from descend.train._state import restore, snapshot

EVENTS = ("on_fit_start", "on_epoch_start", "on_batch_start", "on_batch_end", "on_epoch_end", "on_fit_end")


class Callback:
    """Base class for callbacks: override the events you need; the others do nothing.

    Every event receives the `Learner`. Set `learner.stop = "<reason>"` to end training.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, learner):
        ...         print(learner.epoch + 1, learner.logs["train_loss"])
    """

    def on_fit_start(self, learner):
        """Before the first epoch."""

    def on_epoch_start(self, learner):
        """Before each epoch's first batch."""

    def on_batch_start(self, learner):
        """Before each training batch; `learner.xb`, `learner.yb` hold the batch."""

    def on_batch_end(self, learner):
        """After each optimizer step; `learner.loss_value` is the step's loss."""

    def on_epoch_end(self, learner):
        """After each epoch and its validation; `learner.logs` holds the epoch's values."""

    def on_fit_end(self, learner):
        """After training, whatever stopped it (`learner.stop` says what)."""


def _check_monitor(learner, monitor: str, who: str) -> None:
    """Fail at the start of fit, not after the first epoch, when a monitored value will not exist."""
    if monitor not in learner.log_keys:
        hint = "; pass valid= to fit" if monitor.startswith("valid_") and learner.valid_data is None else ""
        raise ValueError(f"{who} monitors {monitor!r} but fit logs only {learner.log_keys}{hint}")


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _check_mode(mode: str) -> str:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for `patience` epochs.

    An epoch improves on the best so far when its value is lower than `best - min_delta` (mode
    "min") or higher than `best + min_delta` (mode "max"). With `restore_best_weights`, a copy of
    the model's state at the best epoch is kept and put back at the end of fit, whatever ended it
    (this stop, the epoch count, the divergence guard, or Ctrl-C).

    Args:
        monitor: a name from the epoch logs: "valid_loss", "train_loss", "valid_accuracy", ...
        patience: epochs without improvement to wait before stopping.
        min_delta: smallest change that counts as an improvement.
        mode: "min" for losses and errors, "max" for accuracies.
        restore_best_weights: put back the weights of the best epoch at the end.

    Attributes:
        best, best_epoch (1-based), stopped_epoch (1-based, or None).

    Example:
        >>> stopper = EarlyStopping(patience=3)
        >>> history = fit(model, loss_fn, opt, train, valid, epochs=100, callbacks=[stopper])
        >>> history.stop_reason, stopper.best_epoch   # for instance
        ('early_stopping', 12)
    """

    def __init__(
        self, monitor="valid_loss", patience=5, min_delta=0.0, mode="min", restore_best_weights=True
    ):
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = _check_mode(mode)
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.stopped_epoch = None
        self.wait = 0
        self.best_state = None

    def on_fit_start(self, learner):
        _check_monitor(learner, self.monitor, "EarlyStopping")
        self._reset()

    def on_epoch_end(self, learner):
        value = learner.logs[self.monitor]
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, learner.epoch + 1, 0
            if self.restore_best_weights:
                self.best_state = snapshot(learner.model, learner.params)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = learner.epoch + 1
            learner.stop = "early_stopping"

    def on_fit_end(self, learner):
        if self.restore_best_weights and self.best_state is not None:
            restore(learner.model, learner.params, self.best_state)

    def __repr__(self):
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, min_delta={self.min_delta}, "
            f"mode={self.mode!r}, restore_best_weights={self.restore_best_weights})"
        )


class Checkpoint(Callback):
    """Save model and optimizer state with `descend.save` at the end of epochs.

    The file holds `{"model": model.state_dict(), "optimizer": optimizer.state_dict(),
    "epoch": n, "logs": {...the epoch's values...}}`, plus `"scheduler"` (its state_dict) when fit
    has one scheduler (or `"schedulers"`, a list, when several). `n` counts the epochs of this fit
    call, from 1. Resume with `load_checkpoint(path, model, optimizer, scheduler)`.

    Args:
        path: file to write (`.npz`). A `{epoch}` field, e.g. "ckpt-{epoch}.npz", keeps one file
            per epoch; otherwise each save replaces the last (atomically).
        monitor: the logged value that decides what "best" is.
        save_best_only: save only when `monitor` improves; otherwise save every epoch.
        mode: "min" or "max" for `monitor`.

    Attributes:
        best, best_epoch, last_path (the file most recently written).

    Example:
        >>> fit(model, loss_fn, opt, train, valid, epochs=20, callbacks=[Checkpoint("best.npz")])
        >>> load_checkpoint("best.npz", model, opt)["epoch"]   # the best epoch, for instance
        17
    """

    def __init__(self, path, monitor="valid_loss", save_best_only=True, mode="min"):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _check_mode(mode)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.last_path = None

    def on_fit_start(self, learner):
        if not hasattr(learner.model, "state_dict"):
            raise TypeError(
                f"Checkpoint saves model.state_dict(); a {type(learner.model).__name__} has none "
                "(use a descend.nn.Module)"
            )
        if self.save_best_only:
            _check_monitor(learner, self.monitor, "Checkpoint")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None

    def on_epoch_end(self, learner):
        epoch = learner.epoch + 1
        if self.save_best_only:
            value = learner.logs[self.monitor]
            if not _improved(value, self.best, self.mode, 0.0):
                return
            self.best, self.best_epoch = value, epoch
        path = self.path.format(epoch=epoch) if "{epoch" in self.path else self.path
        state = {
            "model": learner.model.state_dict(),
            "optimizer": learner.optimizer.state_dict(),
            "epoch": epoch,
            "logs": {k: v for k, v in learner.logs.items() if k != "epoch"},
        }
        if len(learner.schedulers) == 1:
            state["scheduler"] = learner.schedulers[0].state_dict()
        elif learner.schedulers:
            state["schedulers"] = [s.state_dict() for s in learner.schedulers]
        save(state, path)
        self.last_path = path

    def __repr__(self):
        return f"Checkpoint({self.path!r}, monitor={self.monitor!r}, save_best_only={self.save_best_only})"


def load_checkpoint(path, model, optimizer=None, scheduler=None) -> dict:
    """Load a file written by `Checkpoint` into a model (and optimizer and scheduler).

    Args:
        path: the checkpoint file.
        model: receives `checkpoint["model"]` through `load_state_dict`.
        optimizer: receives `checkpoint["optimizer"]`, when given.
        scheduler: receives `checkpoint["scheduler"]`, when given.

    Returns:
        The whole checkpoint dictionary (read `["epoch"]` and `["logs"]` from it).

    Example:
        >>> ckpt = load_checkpoint("best.npz", model, optimizer)
        >>> fit(model, loss_fn, optimizer, train, epochs=10 - ckpt["epoch"])
    """
    checkpoint = load(path)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        if "scheduler" not in checkpoint:
            raise KeyError(f"{path} holds no scheduler state (keys: {sorted(checkpoint)})")
        scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint


def _is_plateau(scheduler) -> bool:
    """Whether `step` wants the monitored value (ReduceLROnPlateau) rather than nothing."""
    try:
        from descend.optim.lr_scheduler import ReduceLROnPlateau
    except ImportError:  # schedules from elsewhere (or before optim exists): go by the class name
        return any(c.__name__ == "ReduceLROnPlateau" for c in type(scheduler).__mro__)
    return isinstance(scheduler, ReduceLROnPlateau)


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler once per epoch or once per batch.

    Per epoch, the scheduler steps after validation; per batch, after each optimizer step
    (`OneCycleLR` and warm-ups want this). A `ReduceLROnPlateau` is given `monitor`'s value:
    by default the epoch's valid loss, or the train loss without validation data (per batch: the
    step's loss). `fit(..., scheduler=s)` is `LRSchedulerCallback(s, interval="epoch")`.

    Args:
        scheduler: a `descend.optim.lr_scheduler` scheduler (anything with `step()`).
        interval: "epoch" or "batch".
        monitor: logged value for ReduceLROnPlateau ("valid_loss", "train_loss", ...).

    Example:
        >>> sched = OneCycleLR(opt, max_lr=0.1, total_steps=epochs * len(loader))
        >>> fit(model, loss_fn, opt, loader, epochs=epochs, callbacks=[LRSchedulerCallback(sched, "batch")])
    """

    def __init__(self, scheduler, interval="epoch", monitor=None):
        if interval not in ("epoch", "batch"):
            raise ValueError(f"interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = monitor
        self.plateau = _is_plateau(scheduler)

    def on_fit_start(self, learner):
        learner.schedulers.append(self.scheduler)
        if self.plateau and self.interval == "epoch":
            default = "valid_loss" if learner.valid_data is not None else "train_loss"
            self._monitor = self.monitor or default
            _check_monitor(learner, self._monitor, "LRSchedulerCallback")

    def on_batch_end(self, learner):
        if self.interval == "batch":
            if self.plateau:
                self.scheduler.step(learner.loss_value)
            else:
                self.scheduler.step()

    def on_epoch_end(self, learner):
        if self.interval == "epoch":
            if self.plateau:
                self.scheduler.step(learner.logs[self._monitor])
            else:
                self.scheduler.step()

    def __repr__(self):
        return f"LRSchedulerCallback({type(self.scheduler).__name__}, interval={self.interval!r})"


class ProgressBar(Callback):
    """A tqdm progress bar over all training steps, showing the epoch and the running loss.

    `fit(progress=True)` (the default) adds one when standard error is a terminal;
    `progress=False` keeps fit quiet (a ProgressBar passed in `callbacks` still shows).

    Args:
        file: stream to draw on (default: standard error).
        mininterval: seconds between updates of the loss shown.
        leave: keep the finished bar on screen.

    Example:
        >>> fit(model, loss_fn, opt, loader, epochs=5, callbacks=[ProgressBar()])
    """

    def __init__(self, file=None, mininterval=0.1, leave=True):
        self.file = file
        self.mininterval = mininterval
        self.leave = leave
        self.bar = None

    def on_fit_start(self, learner):
        from tqdm import tqdm  # tqdm costs an import only when a bar is wanted

        if learner.train_is_pair:
            total = learner.epochs  # one full batch per epoch
        else:
            try:
                total = learner.epochs * len(learner.train_data)
            except TypeError:  # an iterable without len: a bar without a total
                total = None
        self.bar = tqdm(
            total=total, unit="step", file=self.file, leave=self.leave, dynamic_ncols=True,
            mininterval=self.mininterval,
        )
        self._last = 0.0

    def on_epoch_start(self, learner):
        self.bar.set_description(f"epoch {learner.epoch + 1}/{learner.epochs}", refresh=False)

    def on_batch_end(self, learner):
        self.bar.update(1)
        now = time.monotonic()
        if now - self._last >= self.mininterval:  # formatting every step would cost more than the bar
            self.bar.set_postfix_str(f"loss={learner.running_loss:.4g}", refresh=False)
            self._last = now

    def on_epoch_end(self, learner):
        shown = ", ".join(f"{k}={v:.4g}" for k, v in learner.logs.items() if k not in ("epoch", "lr"))
        self.bar.set_postfix_str(shown, refresh=True)

    def on_fit_end(self, learner):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NotebookProgress(Callback):
    """Progress for Jupyter: one live display updated in place, then a compact per-epoch table.

    `fit(progress=True)` (the default) adds one in a notebook kernel, where standard error is no
    terminal and a tqdm text bar would print a new line per update. It needs IPython only (no
    ipywidgets): one `display(..., display_id=True)` handle, updated at most every `mininterval`
    seconds, replaced by the history's table when training ends.

    Example:
        >>> fit(model, loss_fn, opt, loader, epochs=5, callbacks=[NotebookProgress()])  # doctest: +SKIP
    """

    def __init__(self, mininterval=0.2):
        self.mininterval = mininterval
        self.handle = None

    @staticmethod
    def _bundle(text: str, fraction: float | None = None) -> dict:
        from html import escape

        bar = ("" if fraction is None else
               f'<progress value="{fraction:.4f}" max="1" style="width:24em"></progress> ')
        return {"text/plain": text, "text/html": f"<div>{bar}<code>{escape(text)}</code></div>"}

    def on_fit_start(self, learner):
        from IPython.display import display

        try:
            self.total = learner.epochs * (1 if learner.train_is_pair else len(learner.train_data))
        except TypeError:  # an iterable without len
            self.total = None
        self.started = self._last = time.monotonic()
        self.handle = display(self._bundle(f"epoch 1/{learner.epochs}: starting", 0.0), raw=True,
                              display_id=True)

    def _update(self, learner, force=False):
        now = time.monotonic()
        if self.handle is None or (not force and now - self._last < self.mininterval):
            return
        self._last = now
        done = f"step {learner.step}" + (f"/{self.total}" if self.total else "")
        text = (f"epoch {learner.epoch + 1}/{learner.epochs}  {done}  loss {learner.running_loss:.4g}  "
                f"{now - self.started:.1f} s")
        fraction = learner.step / self.total if self.total else None
        self.handle.update(self._bundle(text, fraction), raw=True)

    def on_batch_end(self, learner):
        self._update(learner)

    def on_epoch_end(self, learner):
        self._update(learner, force=True)

    def on_fit_end(self, learner):
        if self.handle is None:
            return
        seconds = time.monotonic() - self.started
        reason = learner.history.stop_reason
        note = "" if reason in (None, "completed") else f" (stopped: {reason.replace('_', ' ')})"
        table = repr(learner.history)
        from html import escape

        text = f"{table}\ntrained {learner.history.epochs} epochs in {seconds:.1f} s{note}"
        self.handle.update({"text/plain": text, "text/html": f"<pre>{escape(text)}</pre>"}, raw=True)
        self.handle = None


class Recorder(Callback):
    """Record parameter values after every step, for plots of low-dimensional models.

    `values[name][0]` is the value at the start of fit and `values[name][k]` the value after step
    k; `losses[k]` is the loss computed with `values[...][k]` (before step k+1's update). So the
    pairs `(recorder[name][k], recorder.losses[k])` are the points of the descent path on the loss
    curve, as in the tutorials' pictures. Each record is a NumPy copy: cheap for the tutorials'
    (w) or (a, b, c), not meant for large models.

    Args:
        params: None for all of the model's named parameters (or, for a model that is a plain
            function, the optimizer's parameters, named "param0", "param1"...); a dict of
            name -> tensor; a list of tensors; a single tensor (named "param"); or a list of the
            model's parameter names.

    Example:
        >>> rec = Recorder()
        >>> fit(model, loss_fn, descend.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=20,
        ...     callbacks=[rec])
        >>> rec["weight"].shape   # the start and 20 steps of a Linear(1, 1)
        (21, 1, 1)
    """

    def __init__(self, params=None):
        self.params = params
        self.values: dict[str, list[np.ndarray]] = {}
        self.losses: list[float] = []

    def _named(self, learner) -> list[tuple[str, Tensor]]:
        params = self.params
        model = learner.model
        model_named = dict(model.named_parameters()) if hasattr(model, "named_parameters") else {}
        if params is None:
            if model_named:
                return list(model_named.items())
            return [(f"param{i}", p) for i, p in enumerate(learner.params)]
        if isinstance(params, Tensor):
            return [("param", params)]
        if isinstance(params, dict):
            return list(params.items())
        params = list(params)
        if all(isinstance(p, str) for p in params):
            missing = [p for p in params if p not in model_named]
            if missing:
                raise KeyError(f"Recorder: the model has no parameter {missing}; it has {list(model_named)}")
            return [(p, model_named[p]) for p in params]
        return [(f"param{i}", p) for i, p in enumerate(params)]

    @property
    def names(self) -> list[str]:
        """Names of the recorded parameters."""
        return list(self.values)

    def on_fit_start(self, learner):
        self._tensors = self._named(learner)
        self.values = {name: [t._data.copy()] for name, t in self._tensors}
        self.losses = []

    def on_batch_end(self, learner):
        for name, t in self._tensors:
            self.values[name].append(t._data.copy())
        self.losses.append(learner.loss_value)

    def __getitem__(self, name: str) -> np.ndarray:
        """All recorded values of one parameter, stacked: shape (records, *param.shape)."""
        return np.stack(self.values[name])

    def __repr__(self):
        steps = len(self.losses)
        return f"Recorder(params={self.names}, steps={steps})"
