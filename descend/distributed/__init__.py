"""Beyond one machine, on Ray: hyper-parameter sweeps and data-parallel training.

- `sweep(train_fn, grid, seeds=...)` runs every point of an optimizer x learning-rate x seed grid as
  a parallel Ray task and returns a `SweepResult` (table, best trial, the "final loss against
  learning rate" picture).
- `DataParallel(workers=N)`, passed to `descend.fit(..., strategy=...)`, computes every step's
  gradient on N Ray workers, each on its share of the batch.

Ray is the optional extra `descend[distributed]`: `import descend` never imports it, and importing
this package without it raises an ImportError that says how to install it. Both start a local Ray
for the call when none is running (and shut it down afterwards), or join a cluster with `address=`.

Example:
    >>> from descend.distributed import sweep
    >>> result = sweep(train_fn, {"optimizer": ["sgd", "adam"], "lr": [1e-3, 1e-2, 1e-1]}, seeds=2)
    >>> print(result.table()); result.best("valid_loss").config
"""

from descend.distributed._ray import require_ray

require_ray()

from descend.distributed.parallel import DataParallel, WorkerDiedError  # noqa: E402
from descend.distributed.sweep import SweepResult, Trial, sweep  # noqa: E402

__all__ = ["DataParallel", "SweepResult", "Trial", "WorkerDiedError", "sweep"]
