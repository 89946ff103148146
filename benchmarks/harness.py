"""The runner's machinery: worker processes, alternating repetitions, per-pair ratios, checks, tables.

Every repetition runs each contender of a row once, back to back (in a rotated order: AB, BA, AB, ...
for two contenders), so repetition r of A and repetition r of B form a *pair* measured under the same
conditions. A comparison's ratio is computed per pair, and reported as the median over the pairs with
its min–max; a target is judged on that median.
"""

from __future__ import annotations

import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import REPO_ROOT, thread_env

WORKER = Path(__file__).resolve().parent / "worker.py"


class WorkerError(RuntimeError):
    """A worker could not start, died, timed out or answered an error."""


class Worker:
    """One child process (``worker.py``) holding one library; send it JSON requests, get JSON replies.

    Args:
        lib: ``"numpy"``, ``"torch"`` or ``"descend"``.
        threads: thread count pinned in the child before NumPy loads.
        data_dir: MNIST folder passed on to the child (None: the default).
        timeout: seconds to wait for any one reply.

    Example:
        >>> w = Worker("numpy", threads=2)  # doctest: +SKIP
        >>> w.request(cmd="run", fn="square-tape", spec={"steps": 100})["ok"]  # doctest: +SKIP
        True
    """

    def __init__(self, lib: str, threads: int, data_dir: str | None = None, timeout: float = 900,
                 keep_openblas_tuning: bool = False):
        self.lib, self.timeout = lib, timeout
        self.log = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, str(WORKER), "--lib", lib, "--threads", str(threads)]
        if data_dir is not None:
            cmd += ["--data", str(data_dir)]
        env = thread_env(threads, keep_openblas_tuning=keep_openblas_tuning)
        # A fresh checkout that was not pip-installed still finds the package.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, env=env, cwd=str(REPO_ROOT))
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        hello = self._receive()
        if not hello.get("ready"):
            self.close()
            raise WorkerError(hello.get("error", "worker failed to start"))
        self.hello = hello

    def request(self, **message) -> dict:
        """Send one request and return the reply; raise WorkerError if the reply says it failed."""
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"{self.lib} worker is gone: {exc}; stderr: {self.stderr_tail()}") from exc
        reply = self._receive()
        if not reply.get("ok"):
            detail = reply.get("traceback") or ""
            raise WorkerError(f"{reply.get('error', 'failed')}\n{detail}".rstrip())
        return reply

    def _receive(self) -> dict:
        if not self.selector.select(self.timeout):
            self.proc.kill()
            raise WorkerError(f"{self.lib} worker gave no answer within {self.timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise WorkerError(f"{self.lib} worker exited with code {code}; stderr: {self.stderr_tail()}")
        return json.loads(line)

    def stderr_tail(self, lines: int = 15) -> str:
        """The last lines the child wrote to stderr (its library output and tracebacks)."""
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-lines:]).strip()

    def close(self) -> None:
        """Ask the child to exit, then make sure it did."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.selector.close()
        self.log.close()


@dataclass
class Contender:
    """A competitor in a comparison: which library its worker imports and which workload it runs."""

    key: str
    label: str
    lib: str
    fn: str
    worker: str = ""  # contenders sharing a worker key share a process (same library, same section)

    def __post_init__(self):
        self.worker = self.worker or self.key


@dataclass
class Row:
    """One line of a table: a workload spec and the contenders run on it side by side."""

    key: str
    label: str
    spec: dict
    contenders: list
    warmup: dict | None = None  # a smaller spec run once per contender before the timed repetitions
    targets: list = field(default_factory=list)  # the Targets (ratios) this row reports


@dataclass
class Target:
    """A ratio to report for a row: contender ``num``'s time over ``den``'s, judged ``<= limit``.

    ``limit=None`` reports the ratio for information only (status "info").
    """

    num: str
    den: str
    limit: float | None = None


@dataclass
class Outcome:
    """Every repetition of one contender on one row (``seconds[r]`` is repetition r)."""

    seconds: list = field(default_factory=list)
    steps: int = 0
    problem: str | None = None
    error: str | None = None
    last: dict = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The median of the timed repetitions; None when it never ran or failed."""
        if not self.seconds or self.error:
            return None
        return statistics.median(self.seconds)

    @property
    def usable(self) -> bool:
        """Timed at least once, never failed, and computed something sane."""
        return self.value is not None and self.problem is None

    def as_json(self) -> dict:
        timed = bool(self.seconds)
        return {"seconds": self.seconds, "median_s": statistics.median(self.seconds) if timed else None,
                "min_s": min(self.seconds) if timed else None, "steps": self.steps,
                "problem": self.problem, "error": self.error,
                "details": {k: v for k, v in self.last.items() if k not in ("ok", "seconds")}}


def start_workers(contenders: list, threads: int, data_dir: str | None, log,
                  keep_openblas_tuning: bool = False) -> tuple[dict, dict]:
    """Start one worker per distinct worker key; return ``(workers, startup_errors)`` keyed by it."""
    workers, errors = {}, {}
    for c in contenders:
        if c.worker in workers or c.worker in errors:
            continue
        log(f"  starting {c.lib} worker for {c.worker}")
        try:
            workers[c.worker] = Worker(c.lib, threads, data_dir, keep_openblas_tuning=keep_openblas_tuning)
        except WorkerError as exc:
            errors[c.worker] = str(exc)
            log(f"  ! {c.worker}: {exc}")
    return workers, errors


def run_rows(rows: list, workers: dict, startup_errors: dict, reps: int, log, settle: float = 0.0,
             deadline: float | None = None) -> dict:
    """Time every row's contenders ``reps`` times, alternating them, and return Outcomes by row and key.

    Repetition r visits the rows in order and, within a row, runs every contender once, back to back, in
    a rotated order (ABC, BCA, CAB, ...; AB, BA, ... for two): the contenders' r-th samples are the r-th
    pair of every comparison, measured seconds apart, and slow drifts fall on every contender alike.

    ``settle`` seconds pass before every run: an idle OpenBLAS keeps its worker threads spinning for
    about 0.1 s after its last call (measured here: a whole core for 0.1 s), which would otherwise slow
    whichever contender runs next, always the same one since the rotation keeps the cyclic order.

    Args:
        rows: the Rows to run.
        workers: started Workers by worker key.
        startup_errors: why a worker key has no Worker.
        reps: repetitions per contender and row.
        log: function printing one progress line.
        settle: pause before each run, in seconds.
        deadline: a ``time.perf_counter()`` value after which no new repetition starts (the first one
            always runs, and a started one finishes, so every pair stays complete).

    Returns:
        ``{row.key: {contender.key: Outcome}}``.
    """
    outcomes = {row.key: {c.key: Outcome() for c in row.contenders} for row in rows}
    for row in rows:
        for c in row.contenders:
            if c.worker in startup_errors:
                outcomes[row.key][c.key].error = startup_errors[c.worker]
            elif row.warmup is not None:
                time.sleep(settle)
                _attempt(workers[c.worker], c, row.warmup, outcomes[row.key][c.key], timed=False)
    for rep in range(reps):
        if rep and deadline is not None and time.perf_counter() > deadline:
            log(f"  out of time (--max-minutes): stopping after {rep} of {reps} repetitions")
            break
        log(f"  repetition {rep + 1}/{reps}")
        for row in rows:
            shift = rep % len(row.contenders)
            for c in row.contenders[shift:] + row.contenders[:shift]:
                outcome = outcomes[row.key][c.key]
                if outcome.error is None:
                    time.sleep(settle)
                    _attempt(workers[c.worker], c, row.spec, outcome, timed=True)
                    if outcome.error is None:
                        log(f"    {row.key} {c.key}: {outcome.seconds[-1]:.3g} s")
    return outcomes


def _attempt(worker: Worker, contender: Contender, spec: dict, outcome: Outcome, timed: bool) -> None:
    try:
        reply = worker.request(cmd="run", fn=contender.fn, spec=spec)
    except WorkerError as exc:
        outcome.error = str(exc)
        return
    if timed:
        outcome.seconds.append(reply["seconds"])
        outcome.steps = reply["steps"]
        outcome.last = reply
        outcome.problem = outcome.problem or reply.get("problem")


# --- ratios and tables ---------------------------------------------------------------------------------

@dataclass
class Check:
    """A target evaluated on per-pair ratios: the median of ``num / den`` over the pairs ``<= limit``."""

    name: str
    ratio: float | None  # median over the pairs
    limit: float | None
    # PASS, FAIL, BROKEN (a contender failed its sanity check or crashed), n/a (not run), info (no target)
    status: str
    low: float | None = None  # min and max of the per-pair ratios
    high: float | None = None
    pairs: list = field(default_factory=list)

    @property
    def spread(self) -> float | None:
        """max / min of the per-pair ratios (None with fewer than two pairs)."""
        return self.high / self.low if len(self.pairs) > 1 and self.low else None

    def ratio_text(self) -> str:
        """``0.52× [0.49–0.55]``: the median ratio and its range over the pairs."""
        if self.ratio is None:
            return "—"
        text = f"{self.ratio:.2f}×"
        if len(self.pairs) > 1:
            text += f" [{self.low:.2f}–{self.high:.2f}]"
        return text

    def cell(self) -> str:
        if self.ratio is None:
            return self.status
        return f"{self.ratio_text()} {self.status}"

    def as_json(self) -> dict:
        return {"name": self.name, "ratio": self.ratio, "limit": self.limit, "status": self.status,
                "min": self.low, "max": self.high, "pair_ratios": self.pairs}


def pair_ratios(num: list, den: list) -> list:
    """The ratio of each repetition's pair, ``num[r] / den[r]``; repetitions one side lacks are dropped.

    Example:
        >>> pair_ratios([2.0, 3.0, 4.0], [1.0, 2.0])
        [2.0, 1.5]
    """
    return [a / b for a, b in zip(num, den) if a is not None and b]


def summarize(ratios: list) -> tuple:
    """``(median, min, max)`` of per-pair ratios, or ``(None, None, None)`` for none.

    Example:
        >>> summarize([1.0, 3.0, 2.0])
        (2.0, 1.0, 3.0)
    """
    if not ratios:
        return None, None, None
    return statistics.median(ratios), min(ratios), max(ratios)


def check(name: str, num: Outcome | None, den: Outcome | None, limit: float | None) -> Check:
    """Judge ``num / den`` per pair against ``limit`` (smaller is better; None: information only)."""
    if num is None or den is None:
        return Check(name, None, limit, "n/a")
    pairs = pair_ratios(num.seconds, den.seconds)
    ratio, low, high = summarize(pairs)
    if num.error or den.error or num.problem or den.problem:
        return Check(name, ratio, limit, "BROKEN", low, high, pairs)
    if ratio is None:
        return Check(name, None, limit, "n/a")
    if limit is None:
        return Check(name, ratio, limit, "info", low, high, pairs)
    return Check(name, ratio, limit, "PASS" if ratio <= limit else "FAIL", low, high, pairs)


def markdown_table(header: list, rows: list) -> str:
    """A GitHub-flavoured markdown table; numbers are expected already formatted as strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 3) -> str:
    """A time for a table cell; an em dash when the contender did not run."""
    return "—" if value is None else f"{value:.{digits}g}" if value < 100 else f"{value:.0f}"
