"""Synchronous data-parallel training on Ray workers: `fit(..., strategy=DataParallel(workers=N))`.

How a step runs (the driver is the process that called `fit`):
1. The driver puts its current weights in Ray's object store once and splits the batch along its
   first dimension into one contiguous shard per worker (`numpy.array_split`; an empty shard is
   not sent, so a batch smaller than the worker count uses fewer workers).
2. Every worker (a Ray actor holding a replica of the model and the loss) copies those weights in,
   runs forward, loss and backward on its shard, and sends back its loss, its gradients and its
   predictions.
3. The driver averages the losses and gradients weighted by shard size (summed instead for a loss
   with `reduction="sum"`), which is the gradient of the whole batch up to floating-point
   rounding, puts them in `.grad`, and the loop carries on as without a strategy.

So the driver keeps everything else: the optimizer and its state, schedulers, callbacks, the
divergence guard, early stopping, checkpoints. Workers never update weights; they receive the
driver's weights every step (a broadcast, not identical updates on every replica), so anything that
changes weights on the driver (a restored snapshot, a loaded checkpoint) reaches the workers with
the next step, and there is no replica state to keep in sync. The cost is the weights out and the
gradients back, every step (the README measures it).

Limits: models with buffers that training changes (BatchNorm's running statistics) are refused, as
the workers' copies would drift from the driver's; dropout draws differ from single-process
training (each worker has its own generator); `lr_find` does not take a strategy.
"""

from __future__ import annotations

import numpy as np

from descend.distributed._ray import connected, register_tensors, require_ray
from descend.tensor import _wrap

__all__ = ["DataParallel", "WorkerDiedError"]


class WorkerDiedError(RuntimeError):
    """A data-parallel worker stopped responding (its process died, or the step timed out)."""


class _Replica:
    """One worker's copy of the model and the loss (the body of the Ray actor)."""

    def __init__(self, payload):
        from descend.train._state import set_training

        register_tensors()
        self.model, self.loss_fn, self.params = payload
        set_training(self.model, True)

    def ready(self) -> bool:
        return True

    def loss_and_grad(self, weights, x, y):
        for p, w in zip(self.params, weights):
            p._data[...] = w
            p.grad = None
        pred = self.model(_wrap(x))
        loss = self.loss_fn(pred, _wrap(y))
        loss.backward()
        grads = [None if p.grad is None else p.grad._data for p in self.params]
        return float(loss.item()), grads, pred._data


class DataParallel:
    """Train with `workers` Ray workers, each computing the gradient of its share of every batch.

    The driver keeps the optimizer and applies every update; trajectories equal single-process
    training to floating-point rounding (see the `descend.distributed.parallel` docstring).

    Args:
        workers: number of replicas (one Ray actor, one CPU each).
        address: a Ray cluster to join ("auto", "ray://host:10001"); None uses the Ray this process
            already runs, or starts a local one for the duration of `fit`.
        timeout: seconds a step may wait for the workers before `WorkerDiedError`; None waits as long
            as they are alive (a dead worker is reported at once either way).

    Example:
        >>> strategy = DataParallel(workers=2)
        >>> history = descend.fit(model, loss_fn, optimizer, loader, epochs=2, strategy=strategy)
    """

    def __init__(self, workers=2, address=None, timeout=None):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        require_ray()
        self.workers = workers
        self.address = address
        self.timeout = timeout
        self._ray = None
        self._replicas = []

    def __repr__(self) -> str:
        return f"DataParallel(workers={self.workers}, address={self.address!r})"

    # --- the fit hooks ---------------------------------------------------------------------------
    def running(self, learner):
        """Context manager around one `fit` run: workers start with it and stop when it ends."""
        return _Running(self, learner)

    def loss_and_grad(self, learner, xb, yb):
        """One step's loss and predictions (Tensors, no graph), with the averaged gradients in `.grad`."""
        ray = self._ray
        x, y = xb._data, yb._data
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"DataParallel splits batches along dim 0: x and y need the same length there, "
                             f"got shapes {x.shape} and {y.shape}")
        bounds = np.linspace(0, len(x), self.workers + 1).round().astype(int)
        shards = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        weights = ray.put([p._data for p in self._params])
        refs = [replica.loss_and_grad.remote(weights, x[a:b], y[a:b])
                for replica, (a, b) in zip(self._replicas, shards)]
        results = self._gather(refs, learner)
        sizes = np.array([b - a for a, b in shards], dtype=np.float64)
        share = np.ones_like(sizes) if self._summed else sizes / sizes.sum()
        loss = sum(s * value for s, (value, _, _) in zip(share, results))
        for i, p in enumerate(self._params):
            parts = [grads[i] for _, grads, _ in results]
            if all(g is None for g in parts):
                p.grad = None
                continue
            total = np.zeros_like(p._data)
            for s, g in zip(share, parts):
                if g is not None:
                    total += s * g
            p.grad = _wrap(total)
        pred = np.concatenate([pred for _, _, pred in results])
        return _wrap(pred), _wrap(np.asarray(loss, dtype=results[0][2].dtype))

    # --- internals -------------------------------------------------------------------------------
    def _gather(self, refs, learner):
        ray = self._ray
        try:
            return ray.get(refs, timeout=self.timeout)
        except ray.exceptions.GetTimeoutError:
            reason = f"no answer within timeout={self.timeout} s"
        except ray.exceptions.RayActorError as exc:
            reason = f"a worker process died ({type(exc).__name__})"
        raise WorkerDiedError(
            f"DataParallel: {reason} during step {learner.step} (epoch {learner.epoch + 1}); training "
            f"stopped and the model keeps the weights of the last completed step ({learner.step - 1})"
        ) from None

    def _start(self, learner):
        buffers = getattr(learner.model, "named_buffers", None)
        if buffers is not None and any(True for _ in buffers()):
            names = ", ".join(name for name, _ in buffers())
            raise ValueError(f"DataParallel cannot keep buffers in sync across workers ({names}); train "
                             f"this model without a strategy")
        self._ray = ray = self._connection.__enter__()
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < self.workers:
            raise ValueError(f"DataParallel(workers={self.workers}) needs {self.workers} CPUs, but this Ray "
                             f"has {cpus:g}; use fewer workers or a bigger cluster")
        self._params = learner.params
        self._summed = getattr(learner.loss_fn, "reduction", "mean") == "sum"
        payload = ray.put((learner.model, learner.loss_fn, self._params))
        actor = ray.remote(num_cpus=1, max_restarts=0)(_Replica)
        self._replicas = [actor.remote(payload) for _ in range(self.workers)]
        self._gather([r.ready.remote() for r in self._replicas], learner)

    def _stop(self):
        ray, self._ray = self._ray, None
        for replica in self._replicas:
            ray.kill(replica)
        self._replicas = []
        self._connection.__exit__(None, None, None)


class _Running:
    def __init__(self, strategy, learner):
        self.strategy, self.learner = strategy, learner

    def __enter__(self):
        self.strategy._connection = connected(self.strategy.address)
        try:
            self.strategy._start(self.learner)
        except BaseException:
            self.__exit__()
            raise
        return self.strategy

    def __exit__(self, *exc):
        if self.strategy._ray is not None:
            self.strategy._stop()
        return False
