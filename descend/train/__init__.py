"""The training loop: `fit`, its `History`, callbacks, and the learning-rate finder `lr_find`.

Modules: `loop` (fit, Learner, History), `callbacks` (Callback and the built-in ones),
`lr_finder` (lr_find), `_state` (copying and restoring weights, checking data).

`fit` runs the tutorials' seven steps. The caller has done step 1 (initialise: the model and the
optimizer); each batch then goes through predict, loss, gradient (zero_grad, backward) and step;
the batches and epochs repeat; and training stops when the epochs run out or something asks it to
stop. On the way the loop fires named events, and everything that is not one of the seven steps
(progress bars, early stopping, checkpoints, schedules, recording) is a callback listening to them:

    on_fit_start
      on_epoch_start
        on_batch_start, on_batch_end      (once per batch; on_batch_end comes after the step)
      on_epoch_end                        (after validation; `learner.logs` holds the epoch's values)
    on_fit_end                            (always, however training stopped)

Each event receives the `Learner`, the state of the run (`model`, `optimizer`, `epoch`, `step`,
`loss_value`, `logs`, `history`...). A callback stops training by setting `learner.stop` to a
reason, e.g. `learner.stop = "early_stopping"`; the loop checks it after every event and the reason
becomes `History.stop_reason`. There is no other control flow: no exceptions to raise, no
return values to remember.

Rules the loop follows where PyTorch has no opinion:
- `train` and `valid` are DataLoaders (any iterable of `(x, y)` batches) or one `(x, y)` pair of
  tensors, which is one full batch per step: batch gradient descent.
- Epoch losses are means over batches weighted by batch size, so with a mean-reduction loss they
  equal the loss over the whole epoch's data.
- Metrics are computed once per epoch on the predictions of the whole epoch (see
  `descend.metrics`). Validation metrics use the model at the end of the epoch. Training metrics
  reuse the predictions the training steps already made (no second forward pass; the batches are
  kept by reference, so the cost is one concatenation per epoch): they describe the model as it
  changed during the epoch, like Keras's, not the final weights.
- Validation runs under `no_grad` with `model.eval()`, then `model.train()` again.
- `scheduler=` is stepped once per epoch, after validation; a `ReduceLROnPlateau` gets the epoch's
  valid loss (the train loss without validation data). Per-batch schedules such as `OneCycleLR`
  go in `callbacks=[LRSchedulerCallback(scheduler, interval="batch")]`.
- The learning rate recorded per step and per epoch is that of the optimizer's first param group
  (per epoch: the one its first step used).
- The divergence guard: the loss value is checked every step *before* the update. A NaN or
  infinite loss stops training, puts back the weights that produced the last finite loss, warns,
  and sets `stop_reason="diverged"`. Those weights have been overwritten by the step that led to
  the bad loss, so the loop keeps one copy of the trained parameters in buffers allocated once,
  refreshed before every step for models up to 256 KiB (an exact restore: the tutorials' models)
  and every k-th step for bigger ones, k growing with the size (4 for a 784-256-10 MLP), so the
  copy stays about 1-2% of a step; the warning names the step whose weights came back. A free
  scheme (checking the loss and keeping whatever weights are there) would hand back weights that
  already gave a non-finite loss, or NaN weights after a NaN gradient. The optimizer's state (momentum, Adam's
  moments) is not rolled back: training has stopped, and a fresh run starts with a smaller lr.
- NumPy's overflow/invalid/divide warnings are silenced inside `fit` and `lr_find`: the guard
  reports a non-finite loss with a clearer message, and the finder drives the loss to explode on
  purpose.
- Ctrl-C (KeyboardInterrupt) ends training cleanly with `stop_reason="interrupted"`, with the
  weights and the optimizer state of one and the same step boundary. Inside `optimizer.step()` it
  is deferred until the update is complete (a SIGINT handler installed by `fit` in the main thread,
  restored afterwards); where it can't be deferred and lands inside the step, weights and optimizer
  state both go back to the guard's latest snapshot (copied with the weights) and `step_loss` is
  cut to that step.
"""

from descend.train.callbacks import (
    EVENTS,
    Callback,
    Checkpoint,
    EarlyStopping,
    LRSchedulerCallback,
    ProgressBar,
    Recorder,
    load_checkpoint,
)
from descend.train.loop import History, Learner, fit
from descend.train.lr_finder import LRFinderResult, lr_find

__all__ = [
    "EVENTS",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "History",
    "LRFinderResult",
    "LRSchedulerCallback",
    "Learner",
    "ProgressBar",
    "Recorder",
    "fit",
    "load_checkpoint",
    "lr_find",
]
