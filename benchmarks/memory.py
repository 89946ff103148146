"""Workload 4: peak resident memory of one MLP epoch, each contender alone in a fresh process.

Each contender gets a new worker that imports its library, loads the same float32 data (188 MB for
MNIST, decoded in chunks so loading itself adds only a few MB), runs one epoch, and reports
``ru_maxrss``: the peak resident set size of the whole process, import and data included, which is what
a user's machine has to hold. The resident size after the import and after loading the data are
reported too, so the training's own share is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import Contender, Worker, WorkerError


@dataclass
class MemoryResult:
    """Resident memory (MiB) of one contender's process at three moments, or why it was not measured."""

    rss_import: float | None = None
    rss_data: float | None = None
    peak: float | None = None
    problem: str | None = None
    error: str | None = None
    details: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # the worker's library versions

    def as_json(self) -> dict:
        return {"rss_after_import_mb": self.rss_import, "rss_after_data_mb": self.rss_data,
                "peak_rss_mb": self.peak, "problem": self.problem, "error": self.error,
                "details": self.details}


def measure(contender: Contender, spec: dict, threads: int, data_dir: str | None,
            keep_openblas_tuning: bool = False) -> MemoryResult:
    """Run one epoch of ``spec`` for ``contender`` in a fresh worker and read its memory.

    Args:
        contender: which library and workload.
        spec: the MLP workload (hidden, batch, optimizer, lr, rows).
        threads: thread count.
        data_dir: MNIST folder (None: default).
        keep_openblas_tuning: keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the worker's environment.

    Returns:
        A MemoryResult; its ``error`` says why when the worker could not run.
    """
    result = MemoryResult()
    try:
        worker = Worker(contender.lib, threads, data_dir, keep_openblas_tuning=keep_openblas_tuning)
    except WorkerError as exc:
        result.error = str(exc)
        return result
    try:
        result.info = worker.hello.get("info", {})
        result.rss_import = worker.hello.get("rss_import_mb")
        result.rss_data = worker.request(cmd="load")["rss_mb"]
        reply = worker.request(cmd="run", fn=contender.fn, spec=spec)
        result.problem = reply.get("problem")
        result.details = {k: reply[k] for k in ("seconds", "steps", "eval_after") if k in reply}
        result.peak = reply["peak_rss_mb"]  # read by the worker as the epoch ended, before its referee
    except WorkerError as exc:
        result.error = str(exc)
    finally:
        worker.close()
    return result


def measure_all(contenders: list, spec: dict, threads: int, data_dir: str | None, log,
                keep_openblas_tuning: bool = False) -> dict:
    """:func:`measure` each contender in turn; returns ``{contender.key: MemoryResult}``."""
    results = {}
    for c in contenders:
        log(f"  memory: {c.label}")
        results[c.key] = measure(c, spec, threads, data_dir, keep_openblas_tuning)
    return results
