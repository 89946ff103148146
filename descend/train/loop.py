"""The loop itself: `fit`, the `Learner` that holds a run's state, and the `History` it returns.

The rules it follows are in the `descend.train` docstring.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import warnings

import numpy as np

from descend.autograd import no_grad
from descend.metrics import get_metric
from descend.tensor import Tensor, _wrap, from_numpy
from descend.train._state import check_data, is_pair, optimizer_params, set_training
from descend.train.callbacks import EVENTS, Callback, LRSchedulerCallback, NotebookProgress, ProgressBar

# --- History ---------------------------------------------------------------------------------------


class History:
    """What a `fit` run measured.

    Attributes:
        step_loss: training loss of every step, computed before that step's update (when the
            divergence guard stopped training, the last one is the loss that was not finite).
        step_lr: learning rate of every step.
        epochs: number of epochs completed.
        stop_reason: "completed", "early_stopping", "diverged", "interrupted" (or the reason a
            custom callback set).
        series: per-epoch values by name: "train_loss", "valid_loss" (with validation data),
            "train_<metric>", "valid_<metric>", "lr". Read them as `history["valid_loss"]`.

    Example:
        >>> history = descend.fit(model, loss_fn, optimizer, (x, y), epochs=3, progress=False)
        >>> len(history["train_loss"]), len(history.step_loss), history.stop_reason
        (3, 3, 'completed')
    """

    def __init__(self):
        self.step_loss: list[float] = []
        self.step_lr: list[float] = []
        self.series: dict[str, list[float]] = {}
        self.epochs = 0
        self.stop_reason: str | None = None

    def _add_epoch(self, logs: dict) -> None:
        for key, value in logs.items():
            if key != "epoch":
                self.series.setdefault(key, []).append(value)
        self.epochs += 1

    @property
    def train_loss(self) -> list[float]:
        """Per-epoch training loss."""
        return self.series.get("train_loss", [])

    @property
    def valid_loss(self) -> list[float]:
        """Per-epoch validation loss (empty without validation data)."""
        return self.series.get("valid_loss", [])

    @property
    def lr(self) -> list[float]:
        """Per-epoch learning rate."""
        return self.series.get("lr", [])

    def keys(self) -> list[str]:
        """Names accepted by `history[name]`: the per-epoch series, then "step_loss" and "step_lr"."""
        return [*self.series, "step_loss", "step_lr"]

    def __getitem__(self, key: str) -> list[float]:
        if key == "step_loss":
            return self.step_loss
        if key == "step_lr":
            return self.step_lr
        try:
            return self.series[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {self.keys()}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def as_dict(self) -> dict:
        """Everything as plain Python values (lists, ints, strings), e.g. for JSON."""
        return {
            **{k: list(v) for k, v in self.series.items()},
            "step_loss": list(self.step_loss),
            "step_lr": list(self.step_lr),
            "epochs": self.epochs,
            "stop_reason": self.stop_reason,
        }

    def plot(self, save=None):
        """Draw the training curves: the same picture as ``descend.plot.history(self)``.

        Example:
            >>> fig = descend.fit(model, loss_fn, opt, loader, epochs=5).plot()  # doctest: +SKIP
        """
        from descend import plot

        return plot.history(self, save=save)

    def __repr__(self) -> str:
        head = f"History(epochs={self.epochs}, steps={len(self.step_loss)}, stop_reason={self.stop_reason!r})"
        if not self.series:
            return head
        names = ["epoch", *self.series]
        rows = [[str(i + 1)] + [f"{self.series[k][i]:.4g}" for k in self.series] for i in range(self.epochs)]
        if len(rows) > 10:  # first and last five epochs are what people look at
            rows = [*rows[:5], ["..."] * len(names), *rows[-5:]]
        widths = [max(len(n), *(len(r[j]) for r in rows)) for j, n in enumerate(names)]
        lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        return head + "\n" + "\n".join(lines)


def _epoch_value(fn, preds: list, targets: list) -> float:
    """A metric over a whole epoch: the batches' outputs concatenated, then one call."""
    pred = preds[0] if len(preds) == 1 else np.concatenate(preds)
    target = targets[0] if len(targets) == 1 else np.concatenate(targets)
    return float(fn(from_numpy(pred), from_numpy(target)))


class _LastGoodWeights:
    """A copy of the parameters taken before a step, into buffers allocated once.

    The copy is refreshed every `every` steps, where `every` grows with the parameters' size so
    that copying stays a small part of a step: every step (an exact restore) for models up to
    `BYTES_PER_STEP`, such as the tutorials' ones; every 4th step for a 784-256-10 MLP (0.8 MB),
    where copying before every step cost 5-10% of a step at batch 128. Every snapshot holds
    weights that gave a finite loss.

    With `optimizer` given, its state (buffers, step counts, group options) is copied at the same
    moments, so that a KeyboardInterrupt raised inside `optimizer.step()` can put weights and
    optimizer state back to one and the same step boundary (`restore_optimizer`).
    """

    BYTES_PER_STEP = 256 * 1024

    def __init__(self, params, optimizer=None):
        self.params = params
        self.buffers = [np.empty_like(p._data) for p in params]
        self.every = max(1, math.ceil(sum(p._data.nbytes for p in params) / self.BYTES_PER_STEP))
        self.countdown = 0
        self.saved_step = None  # the step whose (finite) loss these weights gave
        self.optimizer = optimizer
        self.opt_state = {}  # {param: {name: array copy or number}}: the optimizer's state then
        self.opt_groups = []

    def save(self, step):
        if self.countdown == 0:
            for p, buffer in zip(self.params, self.buffers):
                buffer[...] = p._data  # as np.copyto, without its call overhead on tiny tensors
            if self.optimizer is not None:
                self._save_optimizer()
            self.saved_step = step
            self.countdown = self.every
        self.countdown -= 1

    @property
    def saved(self):
        return self.saved_step is not None

    def restore(self):
        if self.saved:
            for p, buffer in zip(self.params, self.buffers):
                p._data[...] = buffer

    def _save_optimizer(self):
        # Runs before every step on the tutorials' models: plain numbers are taken by a dict copy,
        # arrays into the previous snapshot's buffers.
        old, snapshot = self.opt_state, {}
        for param, entries in self.optimizer.state.items():
            copies = dict(entries)
            previous = old.get(param)
            for name, value in copies.items():
                kind = type(value)
                if kind is int or kind is float:
                    continue
                data = value._data if isinstance(value, Tensor) else value
                if isinstance(data, np.ndarray):
                    buffer = previous.get(name) if previous is not None else None
                    if buffer is not None and buffer.shape == data.shape and buffer.dtype == data.dtype:
                        buffer[...] = data  # the last snapshot's buffer, reused
                    else:
                        buffer = data.copy()
                    copies[name] = buffer
            snapshot[param] = copies
        self.opt_state = snapshot
        self.opt_groups = [dict(g) for g in self.optimizer.param_groups]

    def restore_optimizer(self):
        """The optimizer's state as it was at the snapshot (state created since then is dropped)."""
        state = self.optimizer.state
        for param in [p for p in state if p not in self.opt_state]:
            del state[param]
        for param, copies in self.opt_state.items():
            entries = state[param]
            entries.clear()
            for name, value in copies.items():
                entries[name] = _wrap(value.copy()) if isinstance(value, np.ndarray) else value
        for group, options in zip(self.optimizer.param_groups, self.opt_groups):
            group.update((k, v) for k, v in options.items() if k != "params")


class _DeferredInterrupt:
    """Holds a Ctrl-C that arrives inside `optimizer.step()` until the step has finished.

    `fit` installs it as the SIGINT handler for its duration, only in the main thread and only when
    SIGINT has Python's default handler (the one raising KeyboardInterrupt); the previous handler
    is put back when `fit` returns. Outside the step Ctrl-C raises at once, as usual: before the
    update nothing has changed, and after it the weights and the optimizer state are both new.
    """

    def __init__(self, learner):
        self.learner = learner
        self.previous = None

    @staticmethod
    def possible():
        return (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler)

    def _handler(self, signum, frame):
        if self.learner._in_step:
            self.learner._interrupt_pending = True  # the loop raises it once the step is done
        else:
            raise KeyboardInterrupt

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


class Learner:
    """The state of one training run; `fit` makes one and every callback event receives it.

    Attributes callbacks read (and `stop`, which they may set):
        model, loss_fn, optimizer, train_data, valid_data, params (what the optimizer updates),
        epochs (planned), epoch (current, from 0), step (steps taken so far, counting the current
        one), batch_index (in the epoch), xb, yb, pred, loss (the step's tensors), loss_value
        (its float), running_loss (mean loss of the epoch so far), logs (the epoch's values, at
        on_epoch_end), log_keys (the names logs will have), history, schedulers, stop.

    Example:
        >>> history = Learner(model, loss_fn, optimizer, loader, metrics=["accuracy"]).fit(epochs=3)
    """

    def __init__(self, model, loss_fn, optimizer, train, valid=None, callbacks=(), metrics=(), strategy=None):
        check_data(train, "train")
        if valid is not None:
            check_data(valid, "valid")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.train_data = train
        self.valid_data = valid
        self.train_is_pair = is_pair(train)
        self.callbacks = list(callbacks)
        items = metrics.items() if isinstance(metrics, dict) else [get_metric(m) for m in metrics]
        self.metrics = [(name, get_metric(fn)[1]) for name, fn in items]
        self.params = optimizer_params(optimizer)
        self.log_keys = ["train_loss", *(f"train_{n}" for n, _ in self.metrics)]
        if valid is not None:
            self.log_keys += ["valid_loss", *(f"valid_{n}" for n, _ in self.metrics)]
        self.log_keys.append("lr")
        self.history = History()
        self.schedulers = []
        self.epochs = self.epoch = self.step = self.batch_index = 0
        self.xb = self.yb = self.pred = self.loss = None
        self.loss_value = math.nan
        self.logs = {}
        self.stop = None
        self.divergence_message = None
        self.strategy = strategy  # e.g. descend.distributed.DataParallel: computes each step's gradients

    @property
    def running_loss(self) -> float:
        """Mean training loss of the current epoch so far (weighted by batch size)."""
        return self._loss_sum / self._count if self._count else math.nan

    def _batches(self, data):
        return (data,) if is_pair(data) else data

    def _fire(self, handlers):
        for handler in handlers:
            handler(self)
        return self.stop is not None

    def fit(self, epochs=1) -> History:
        """Train for `epochs` epochs (or until a callback, the guard or Ctrl-C stops it)."""
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        self.epochs = epochs
        # Each event's handlers, once: a callback not overriding an event costs nothing per batch.
        on = {e: [getattr(cb, e) for cb in self.callbacks if _overrides(cb, e)] for e in EVENTS}
        self._guard = _LastGoodWeights(self.params, self.optimizer)
        self._in_step = self._interrupt_pending = False
        deferred = _DeferredInterrupt(self) if _DeferredInterrupt.possible() else contextlib.nullcontext()
        self._loss_sum, self._count = 0.0, 0
        running = self.strategy.running(self) if self.strategy is not None else contextlib.nullcontext()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), running, deferred:
            try:
                self._fit(on)
            except KeyboardInterrupt:
                if self._in_step:  # a half-applied update is no state to keep
                    self._undo_step()
                self.stop = "interrupted"
            self.history.stop_reason = self.stop or "completed"
            self._fire(on["on_fit_end"])
        return self.history

    def _fit(self, on):
        set_training(self.model, True)
        if self._fire(on["on_fit_start"]):
            return
        for epoch in range(self.epochs):  # 6. repeat ...
            self.epoch = epoch
            if self._fire(on["on_epoch_start"]):
                return
            if self._train_epoch(on):  # ... until something asks to stop (7. stop)
                return
            if self._end_epoch(on):
                return

    def _undo_step(self):
        """Weights and optimizer state both back to the guard's snapshot, and History to match.

        Reached when a KeyboardInterrupt is raised inside `optimizer.step()` itself (Ctrl-C is
        deferred instead where `_DeferredInterrupt` can be installed). The snapshot was taken before
        step `saved_step`'s update: the run ends as after step `saved_step - 1`.
        """
        guard = self._guard
        guard.restore()
        guard.restore_optimizer()
        kept = guard.saved_step - 1
        del self.history.step_loss[kept:], self.history.step_lr[kept:]
        self.step = kept

    def _train_epoch(self, on) -> bool:
        self._epoch_lr = self.optimizer.param_groups[0]["lr"]
        self._loss_sum, self._count = 0.0, 0
        self._preds, self._targets = [], []
        on_batch_start, on_batch_end = on["on_batch_start"], on["on_batch_end"]
        # Locals: this loop runs once per step, and on the tutorials' tiny models every attribute
        # lookup shows in the time per step.
        model, loss_fn, optimizer, guard = self.model, self.loss_fn, self.optimizer, self._guard
        strategy = self.strategy
        step_loss, step_lr = self.history.step_loss, self.history.step_lr
        keep_outputs = bool(self.metrics)
        for batch_index, (xb, yb) in enumerate(self._batches(self.train_data)):
            self.batch_index, self.xb, self.yb = batch_index, xb, yb
            self.step += 1
            if on_batch_start and self._fire(on_batch_start):
                return True
            # 1. initialise was done by the caller (model and optimizer); the other steps:
            if strategy is None:
                self.pred = pred = model(xb)  # 2. predict
                self.loss = loss = loss_fn(pred, yb)  # 3. loss
            else:  # 2-4 on the strategy's workers: the gradients arrive in .grad, with no graph here
                self.pred, self.loss = pred, loss = strategy.loss_and_grad(self, xb, yb)
            self.loss_value = value = loss.item()
            step_loss.append(value)
            step_lr.append(optimizer.param_groups[0]["lr"])
            if not math.isfinite(value):
                self._diverged(value)
                return True
            if strategy is None:
                optimizer.zero_grad()  # 4. gradient
                loss.backward()
            guard.save(self.step)  # these weights gave a finite loss: ones to come back to
            self._in_step = True
            optimizer.step()  # 5. step
            self._in_step = False
            if self._interrupt_pending:  # Ctrl-C arrived during the update, which is now complete
                raise KeyboardInterrupt
            n = len(yb._data) if yb._data.ndim else 1
            self._loss_sum += value * n
            self._count += n
            if keep_outputs:
                self._preds.append(pred._data)
                self._targets.append(yb._data)
            if on_batch_end and self._fire(on_batch_end):
                return True
        return False

    def _diverged(self, value: float) -> None:
        lr = self.optimizer.param_groups[0]["lr"]
        where = f"at step {self.step} (epoch {self.epoch + 1})"
        guard = self._guard
        if guard.saved:
            guard.restore()
            if guard.saved_step == self.step - 1:
                kept = f"the weights that gave the last finite loss (step {guard.saved_step}) were restored"
            else:
                kept = (f"the weights that gave a finite loss at step {guard.saved_step} (the guard's latest "
                        f"snapshot; it copies a model this size every {guard.every} steps) were restored")
        else:
            kept = "the weights are the initial ones (no step was taken)"
        self.divergence_message = (
            f"loss became {value} {where}; training stopped and {kept}; the learning rate lr={lr:g} is "
            f"probably too large: try a smaller learning rate, e.g. lr={lr / 10:g}"
        )
        self.stop = "diverged"

    def _end_epoch(self, on) -> bool:
        if self._count == 0:
            raise ValueError(
                "the training data gave no batches (an empty dataset, or drop_last=True with a "
                "batch size larger than the dataset)"
            )
        logs = {"epoch": self.epoch + 1, "train_loss": self._loss_sum / self._count}
        for name, fn in self.metrics:
            logs[f"train_{name}"] = _epoch_value(fn, self._preds, self._targets)
        self._preds = self._targets = []  # let the epoch's outputs go before validation allocates
        if self.valid_data is not None:
            logs.update(self._validate())
        logs["lr"] = self._epoch_lr
        self.logs = logs
        self.history._add_epoch(logs)
        return self._fire(on["on_epoch_end"])

    def _validate(self) -> dict:
        """Loss and metrics on the validation data, with the model in eval mode and no graph."""
        total, count, preds, targets = 0.0, 0, [], []
        set_training(self.model, False)
        try:
            with no_grad():
                for xb, yb in self._batches(self.valid_data):
                    pred = self.model(xb)
                    n = yb.shape[0] if yb.ndim else 1
                    total += self.loss_fn(pred, yb).item() * n
                    count += n
                    if self.metrics:
                        preds.append(pred._data)
                        targets.append(yb._data)
        finally:
            set_training(self.model, True)
        if count == 0:
            raise ValueError("the validation data gave no batches")
        logs = {"valid_loss": total / count}
        for name, fn in self.metrics:
            logs[f"valid_{name}"] = _epoch_value(fn, preds, targets)
        return logs


def _overrides(callback, event: str) -> bool:
    method = getattr(type(callback), event, None)
    return callable(method) and method is not getattr(Callback, event)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where progress is shown as a live display."""
    ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def fit(model, loss_fn, optimizer, train, valid=None, epochs=1, callbacks=(), metrics=(), scheduler=None,
        progress=True, strategy=None) -> History:
    """Train a model by gradient descent: the tutorials' seven steps, with callbacks.

    Args:
        model: a `descend.nn.Module` (or any function `model(x)` whose parameters the optimizer holds).
        loss_fn: `loss_fn(pred, y)` returning a scalar tensor, e.g. `nn.MSELoss()`.
        optimizer: a `descend.optim` optimizer over the model's parameters.
        train: a DataLoader (any iterable of (x, y) batches), or an (x, y) pair of tensors: one full
            batch per step (batch gradient descent).
        valid: validation data in the same forms, evaluated after every epoch, or None.
        epochs: number of passes over `train`.
        callbacks: `Callback`s: EarlyStopping, Checkpoint, LRSchedulerCallback, Recorder, ...
        metrics: names ("accuracy", "mae", "rmse") or functions `f(pred, target) -> number`, or a
            dict name -> either; logged per epoch as "train_<name>" and "valid_<name>".
        scheduler: a learning-rate scheduler stepped once per epoch (ReduceLROnPlateau gets the
            valid loss, or the train loss without `valid`).
        progress: show a tqdm bar when standard error is a terminal, a live display in a Jupyter
            notebook (and the per-epoch table when done), nothing otherwise; False for none.
        strategy: None (this process computes the gradients), or `descend.distributed.DataParallel(...)`,
            whose workers compute each step's gradients while everything else stays here.

    Returns:
        A `History`; its `stop_reason` says why training ended.

    Ctrl-C: training stops with `stop_reason="interrupted"` and weights and optimizer state from the
    same step boundary. A Ctrl-C arriving inside `optimizer.step()` is deferred (a SIGINT handler,
    installed only in the main thread while SIGINT has Python's default handler, and put back when
    `fit` returns) until that update is complete: the run ends after that step. Anywhere else it
    stops at once, at the end of the last completed step. If a KeyboardInterrupt is raised inside
    `optimizer.step()` all the same (fit in another thread, another SIGINT handler), weights and
    optimizer state both go back to the divergence guard's latest snapshot (at most k-1 steps
    back, k=1 up to 256 KiB of parameters), and `History.step_loss` is cut to match.

    Example:
        >>> x = descend.linspace(-1, 1, 32).reshape(-1, 1); y = 4 * x
        >>> model = descend.nn.Linear(1, 1, bias=False)
        >>> opt = descend.optim.SGD(model.parameters(), lr=0.5)
        >>> history = descend.fit(model, descend.nn.MSELoss(), opt, (x, y), epochs=50, progress=False)
        >>> round(model.weight.item(), 3)
        4.0
    """
    callbacks = list(callbacks)
    if scheduler is not None:
        callbacks.insert(0, LRSchedulerCallback(scheduler, interval="epoch"))
    if progress and not any(isinstance(cb, (ProgressBar, NotebookProgress)) for cb in callbacks):
        if _stderr_is_terminal():
            callbacks.append(ProgressBar())
        elif _in_notebook():  # a Jupyter kernel: one live display, not a stream of bar lines
            callbacks.append(NotebookProgress())
    learner = Learner(model, loss_fn, optimizer, train, valid, callbacks=callbacks, metrics=metrics,
                      strategy=strategy)
    history = learner.fit(epochs)
    if learner.divergence_message is not None:
        warnings.warn(learner.divergence_message, UserWarning, stacklevel=2)
    return history
