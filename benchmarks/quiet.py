"""Is the machine quiet enough to trust a timing? Load average, a calibration loop, and others' CPU time.

A ratio measured while another program shares the cores can be off by 2x (issue 13: a published 0.45x
was 0.74x on a quiet machine). The runner therefore watches four things and prints a loud warning,
instead of a table it cannot vouch for, when any of them says the machine was busy:

- the 1-minute load average before the run (others' work; at the end it includes our own workers, so
  only a load above the core count, oversubscription, is held against the end);
- a calibration loop (pure Python plus a small BLAS GEMM on the benchmark's thread count) timed in short
  samples before and after the run: its spread (90th percentile over the minimum) and its drift
  (median after over median before);
- the CPU time the whole machine spent (``/proc/stat``) minus the CPU time of this runner and its workers
  (``os.times``), per section: the average number of cores *other* programs used while we measured,
  and the hypervisor's steal time;
- the spread of each judged ratio over its pairs (max / min), counted by the runner.

The judgement (:func:`verdict`) is a pure function of those readings, so it is tested without timing.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field

LIMITS = {
    "load_per_core": 0.25,  # 1-minute load average before the run, per usable core
    "calib_spread": 1.25,  # calibration p90 / min, before and after
    "calib_drift": 1.20,  # calibration median after / before (or before / after)
    "foreign_cores": 0.25,  # cores used by other programs, averaged over a section
    "steal": 0.05,  # fraction of the machine's CPU time stolen by the hypervisor
    "pair_spread": 1.30,  # max / min of one comparison's per-pair ratios
}


@dataclass
class Calibration:
    """Samples (seconds) of the fixed calibration work, and their spread."""

    samples: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """90th percentile over the minimum: 1.0 on a perfectly quiet machine."""
        return spread_p90(self.samples)

    def as_json(self) -> dict:
        return {"samples_s": self.samples, "median_s": self.median, "spread": self.spread}


def spread_p90(samples: list) -> float:
    """90th percentile (nearest rank) over the minimum of ``samples``.

    Example:
        >>> spread_p90([1.0, 1.0, 1.0, 1.0, 2.0])
        2.0
        >>> spread_p90([1.0] * 9 + [5.0])
        1.0
    """
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, -(-9 * len(ordered) // 10) - 1))
    return ordered[rank] / ordered[0]


def calibrate(samples: int = 25) -> Calibration:
    """Time ``samples`` runs of a fixed ~4 ms work unit: a Python loop and a 192x192 float32 GEMM.

    The GEMM runs on the BLAS threads the runner pinned (the same count as every contender), so another
    program on any of those cores shows up as spread.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((192, 192), dtype=np.float32)
    out = np.empty_like(a)

    def unit():
        total = 0
        for i in range(20_000):
            total += i * i
        for _ in range(8):
            np.matmul(a, a, out=out)
        return total

    unit()
    result = Calibration()
    for _ in range(samples):
        start = time.perf_counter()
        unit()
        result.samples.append(time.perf_counter() - start)
    return result


@dataclass
class CpuSnapshot:
    """The machine's and this process tree's CPU time at one moment (seconds)."""

    wall: float
    busy: float | None  # whole machine, all cores, from /proc/stat (None where it is missing)
    steal: float | None
    total: float | None  # busy + idle + iowait + steal: the machine's CPU capacity used so far
    own: float  # this runner plus every worker it has waited for


def snapshot() -> CpuSnapshot:
    """Read /proc/stat's first line and ``os.times()``; workers count once they have exited."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    busy = steal = total = None
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        tick = os.sysconf("SC_CLK_TCK")
        user, nice, system, idle, iowait, irq, softirq, stolen = (int(v) / tick for v in fields[1:9])
        busy = user + nice + system + irq + softirq
        steal = stolen
        total = busy + idle + iowait + stolen
    except (OSError, ValueError, IndexError):
        pass
    return CpuSnapshot(time.perf_counter(), busy, steal, total, own)


@dataclass
class Window:
    """What other programs did while one section ran."""

    label: str
    seconds: float
    foreign_cores: float | None  # average cores used by programs other than ours
    steal: float | None  # fraction of the machine's CPU time stolen

    def as_json(self) -> dict:
        return {"label": self.label, "seconds": self.seconds, "foreign_cores": self.foreign_cores,
                "steal_fraction": self.steal}


def window(label: str, before: CpuSnapshot, after: CpuSnapshot) -> Window:
    """Others' average core use and the steal fraction between two snapshots.

    Example:
        >>> a = CpuSnapshot(0.0, 100.0, 0.0, 200.0, 5.0)
        >>> b = CpuSnapshot(10.0, 115.0, 0.0, 220.0, 15.0)  # 15 core-s busy, 10 of them ours
        >>> window("x", a, b).foreign_cores
        0.5
    """
    seconds = after.wall - before.wall
    if before.busy is None or after.busy is None or seconds <= 0:
        return Window(label, seconds, None, None)
    foreign = max(0.0, (after.busy - before.busy) - (after.own - before.own)) / seconds
    capacity = after.total - before.total
    steal = (after.steal - before.steal) / capacity if capacity > 0 else None
    return Window(label, seconds, foreign, steal)


def verdict(cores: int, load_before: float | None, load_after: float | None,
            calib_before: Calibration | None, calib_after: Calibration | None, windows: list,
            noisy_ratios: int = 0, ratios: int = 0) -> list:
    """Every reason to distrust the run, as sentences; an empty list means the machine was quiet.

    Args:
        cores: usable cores.
        load_before: 1-minute load average before any worker started.
        load_after: the same at the end (our own workers included).
        calib_before, calib_after: the calibration loop's samples.
        windows: one :class:`Window` per section.
        noisy_ratios: how many comparisons spread more than ``LIMITS["pair_spread"]`` over their pairs.
        ratios: how many comparisons were measured.

    Example:
        >>> verdict(2, 0.1, 1.5, None, None, [])
        []
        >>> verdict(2, 1.9, 1.5, None, None, [])[0].startswith("load average 1.90 before the run")
        True
    """
    problems = []
    if load_before is not None and load_before > LIMITS["load_per_core"] * cores:
        problems.append(f"load average {load_before:.2f} before the run (limit "
                        f"{LIMITS['load_per_core'] * cores:.2f} on {cores} cores): other programs were "
                        "running")
    if load_after is not None and load_after > cores + 0.5:
        problems.append(f"load average {load_after:.2f} at the end, above the {cores} cores: oversubscribed")
    for name, calib in (("before", calib_before), ("after", calib_after)):
        if calib is not None and calib.samples and calib.spread > LIMITS["calib_spread"]:
            problems.append(f"calibration loop {name} the run spread {calib.spread:.2f}x (p90 / min; "
                            f"limit {LIMITS['calib_spread']}x)")
    if calib_before is not None and calib_after is not None and calib_before.samples and calib_after.samples:
        drift = calib_after.median / calib_before.median
        if max(drift, 1 / drift) > LIMITS["calib_drift"]:
            problems.append(f"calibration loop's median moved {drift:.2f}x between before and after "
                            f"(limit {LIMITS['calib_drift']}x either way)")
    for w in windows:
        if w.foreign_cores is not None and w.foreign_cores > LIMITS["foreign_cores"]:
            problems.append(f"other programs used {w.foreign_cores:.2f} cores on average during {w.label} "
                            f"({w.seconds:.0f} s; limit {LIMITS['foreign_cores']})")
        if w.steal is not None and w.steal > LIMITS["steal"]:
            problems.append(f"the hypervisor stole {w.steal:.0%} of the CPU time during {w.label} "
                            f"(limit {LIMITS['steal']:.0%})")
    if noisy_ratios:
        problems.append(f"{noisy_ratios} of {ratios} ratios spread more than {LIMITS['pair_spread']}x "
                        "(max / min) over their pairs")
    return problems
