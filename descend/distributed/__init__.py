"""Beyond one machine, on Ray: hyper-parameter sweeps and data-parallel training.

- `sweep(train_fn, grid, seeds=...)` runs every point of an optimizer x learning-rate x seed grid as
  a parallel Ray task and returns a `SweepResult` (table, best trial, the "final loss against
  learning rate" picture).
- `DataParallel(workers=N)`, passed to `descend.fit(..., strategy=...)`, computes every step's
  gradient on N Ray workers, each on its share of the batch.

Ray is the optional extra `descend[distributed]`: `import descend` never imports it, and importing
any of its names without it raises an ImportError that says how to install it. Both start a local Ray
for the call when none is running (and shut it down afterwards), or join a cluster with `address=`.

Example:
    >>> from descend.distributed import sweep
    >>> result = sweep(train_fn, {"optimizer": ["sgd", "adam"], "lr": [1e-3, 1e-2, 1e-1]}, seeds=2)
    >>> print(result.table()); result.best("valid_loss").config
"""

import importlib

from descend.distributed._ray import require_ray

__all__ = ["DataParallel", "SweepResult", "Trial", "WorkerDiedError", "sweep"]
# Each public name and the module that defines it. They load on first use, which is where a missing
# Ray is reported: `descend.cli` builds its `sweep` command from `descend.distributed.cli` without it.
_HOMES = {"DataParallel": "parallel", "WorkerDiedError": "parallel",
          "SweepResult": "sweeps", "Trial": "sweeps", "sweep": "sweeps"}


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'descend.distributed' has no attribute {name!r}")
    require_ray()
    value = getattr(importlib.import_module(f"descend.distributed.{home}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *__all__])
