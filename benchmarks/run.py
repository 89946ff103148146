"""descend's benchmark suite: descend against PyTorch CPU, a NumPy floor, and the JAX / micrograd anchors.

How it measures (SPEC §7, issue 13):

- One worker process per contender (``worker.py``), all with the same thread count, kept alive across
  repetitions. Each repetition runs every contender of a row once, back to back, in a rotated order
  (AB, BA, AB, ...), so repetition r of two contenders is a *pair* measured seconds apart. A ratio is
  computed per pair; the tables show its median over the pairs with the min–max, and each contender's
  median time. Targets are judged on the median ratio: PASS or FAIL, with the target beside it.
- It watches for a busy machine (``quiet.py``): the load average before and after, a calibration loop's
  spread before and after, the CPU time other programs used while each section ran, steal time, and the
  spread of every ratio over its pairs. When any of them says "busy", a loud warning comes first and
  every verdict is marked untrusted: rerun on a quiet machine before quoting a number.
- It prints the thread settings each worker ran with (OMP/OPENBLAS/MKL variables, ``torch`` threads,
  the BLAS pools threadpoolctl or OpenBLAS itself reports, with OpenBLAS's kernel) and every version.
- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: some machines here set them for old OpenBLAS builds; they force
  a generic kernel that slows a current NumPy. The benchmark's processes drop both (never tests or CI)
  and print what was dropped and the kernel OpenBLAS then chose; ``--keep-openblas-tuning`` keeps them.
  A kernel that computed wrong results would be caught by the sanity checks (each run is judged).

Usage:
    python benchmarks/run.py                 # everything (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # sanity run under a minute: 3 pairs, batch 128, 1/5 epoch
    python benchmarks/run.py --only tiny     # sections: tiny, mlp, cnn, memory (comma-separated ok)
    python benchmarks/run.py --reps 7 --threads 2 --json bench.json
    python benchmarks/run.py --max-minutes 10  # busy machine: no new repetition after 10 minutes

Optional contenders, skipped with a note when absent: PyTorch (``make bench`` installs torch==2.13.0),
JAX and micrograd (``pip install -e ".[bench-anchors]"``). Exit status 1 when a contender crashed or
failed its sanity check, else 0 (a FAIL, or a busy machine, is a result, not an error).

Adding a workload: write a ``rows(args, available)`` function returning ``harness.Row`` objects (each
with its Contenders and the Targets it reports), wrap it in a :class:`Section`, and add it to
``SECTIONS`` below. A contender's ``fn`` is a built-in workload name or ``"module:function"`` in a file
of this folder (see worker.py's docstring for the function's contract).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cnn  # noqa: E402 - the convolutional workloads (benchmarks/cnn.py)
from common import (  # noqa: E402
    OPENBLAS_TUNING_VARS,
    REPO_ROOT,
    machine_info,
    mnist_source,
    pin_threads,
)
from harness import Check, Contender, Row, Target, check, fmt, markdown_table, run_rows, start_workers  # noqa: E402
from memory import measure_all  # noqa: E402
from quiet import LIMITS, calibrate, snapshot, verdict, window  # noqa: E402

# The targets (SPEC §7): a contender's time over another's, at most this much.
TARGETS = {"square_vs_torch": 0.35, "square_vs_micrograd": 2.0, "quadfit_vs_torch": 0.45,
           "mlp_vs_torch": 0.8, "mlp_vs_jax": 1.3, "memory_vs_torch": 0.6}
MNIST_ROWS = 60_000
QUICK_ROWS = 12_000  # --quick trains on the first fifth of the epoch
SETTLE_S = 0.15  # pause between MLP runs, longer than OpenBLAS's ~0.1 s of idle spinning
MEMORY_SPEC = {"hidden": 256, "batch": 64, "optimizer": "adam", "lr": 1e-3}
ANCHORS_HOW = "`pip install -e \".[bench-anchors]\"`"
OPTIONAL = {"torch": "`pip install torch==2.13.0` or `make bench`", "jax": ANCHORS_HOW,
            "micrograd": ANCHORS_HOW}
LIB_NAMES = {"torch": "PyTorch", "jax": "JAX", "micrograd": "micrograd"}


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def available_libraries() -> set:
    """The contenders' libraries importable here: numpy and descend always, the optional ones if installed."""
    return {"numpy", "descend"} | {name for name in OPTIONAL if importlib.util.find_spec(name) is not None}


def keep(contenders: list, available: set) -> list:
    """The contenders whose library is installed."""
    return [c for c in contenders if c.lib in available]


# --- the registry of workloads ---------------------------------------------------------------------------

@dataclass
class Section:
    """One table of the report: its rows (built per run) and how to show them.

    Attributes:
        key: the name ``--only`` selects it by.
        title: the table's heading.
        unit: ``"µs/step"`` (a run's seconds / steps, in µs) or ``"s"`` (a run's seconds).
        rows: ``rows(args, available) -> list[Row]``; ``available`` is the set of installed libraries.
        intro: a sentence under the heading, or ``intro(args) -> str``.
        settle: seconds of pause before each run (idle BLAS threads spin ~0.1 s after a GEMM).
        sanity: optional ``sanity(row, outcomes, notes)``: compare the contenders' results, append notes.
    """

    key: str
    title: str
    unit: str
    rows: Callable
    intro: str | Callable = ""
    settle: float = 0.0
    sanity: Callable | None = None


def tiny_rows(args, available: set) -> list:
    """Workload 1: the two tutorial loops; the NumPy tape, micrograd and JAX run the first as references."""
    square = keep([Contender("descend", "descend", "descend", "square", worker="descend"),
                   Contender("torch", "PyTorch", "torch", "square", worker="torch"),
                   Contender("micrograd", "micrograd", "micrograd", "square", worker="micrograd"),
                   Contender("jax", "JAX jit", "jax", "square", worker="jax"),
                   Contender("tape", "NumPy tape", "numpy", "square-tape", worker="numpy")], available)
    quadfit = keep([Contender("descend", "descend", "descend", "quadfit", worker="descend"),
                    Contender("torch", "PyTorch", "torch", "quadfit", worker="torch"),
                    Contender("jax", "JAX jit", "jax", "quadfit", worker="jax")], available)
    steps = (2000, 1000) if args.quick else (5000, 3000)
    return [Row("square", f"`(w-3)**2`, {steps[0]} steps", {"steps": steps[0]}, square, warmup={"steps": 300},
                targets=[Target("descend", "torch", TARGETS["square_vs_torch"]),
                         Target("descend", "micrograd", TARGETS["square_vs_micrograd"]),
                         Target("descend", "jax"), Target("descend", "tape")]),
            Row("quadfit", f"quadratic fit (`a, b, c = params`), {steps[1]} steps", {"steps": steps[1]},
                quadfit, warmup={"steps": 300},
                targets=[Target("descend", "torch", TARGETS["quadfit_vs_torch"]), Target("descend", "jax")])]


def mlp_rows(args, available: set) -> list:
    """Workloads 2 and 3: 784-256-10 at batch 64 and 128 and 784-800-10 at 128, each with SGD and Adam."""
    rows_per_epoch = QUICK_ROWS if args.quick else MNIST_ROWS
    configs = [(256, 128)] if args.quick else [(256, 64), (256, 128), (800, 128)]
    rows = []
    for hidden, batch in configs:
        for optimizer, lr in (("sgd", 0.1), ("adam", 1e-3)):
            spec = {"hidden": hidden, "batch": batch, "optimizer": optimizer, "lr": lr,
                    "rows": rows_per_epoch}
            label = f"784-{hidden}-10, {batch}, {'SGD(0.1)' if optimizer == 'sgd' else 'Adam(1e-3)'}"
            contenders = keep(mlp_contenders(), available)
            # The targets name the 784-256-10 epoch; 784-800-10 shows the GEMM-bound regime, where the
            # NumPy floor itself measures 0.85-0.94x PyTorch (OpenBLAS against MKL): for information.
            judged = hidden == 256
            targets = [Target("manual", "torch", TARGETS["mlp_vs_torch"] if judged else None),
                       Target("manual", "jax", TARGETS["mlp_vs_jax"] if judged else None),
                       Target("manual", "floor"), Target("fit", "manual"), Target("floor", "torch")]
            rows.append(Row(f"{hidden}-{batch}-{optimizer}", label, spec, contenders,
                            warmup={**spec, "rows": 20 * batch}, targets=targets))
    return rows


def mlp_contenders() -> list:
    """The MLP competitors, in the order they run: floor, PyTorch, JAX, descend manual, descend fit."""
    return [Contender("floor", "NumPy floor", "numpy", "mlp-floor"),
            Contender("torch", "PyTorch", "torch", "mlp-manual"),
            Contender("jax", "JAX jit", "jax", "mlp-manual"),
            Contender("manual", "descend manual", "descend", "mlp-manual"),
            Contender("fit", "descend fit", "descend", "mlp-fit")]


def _sanity_tiny(row: Row, got: dict, notes: list) -> None:
    """The quadratic fit runs the same code from the same start everywhere: the final losses must agree."""
    reference = got.get("torch")
    if row.key != "quadfit" or not (reference and reference.usable):
        return
    b = reference.last.get("loss_last")
    for key in ("descend", "jax"):
        o = got.get(key)
        if o and o.usable and abs(o.last["loss_last"] - b) > 1e-3 * max(1.0, abs(b)):
            notes.append(f"{row.label}: {key}'s final loss {o.last['loss_last']:.6g} differs from "
                         f"PyTorch's {b:.6g}")


def _sanity_mlp(row: Row, got: dict, notes: list) -> None:
    """The manual loops see the same batches from the same weights: their final losses must agree."""
    reference = got.get("torch") or got.get("floor")
    if not (reference and reference.usable):
        return
    b = reference.last["eval_after"]
    # SGD trajectories agree to ~1e-7; Adam's division by sqrt(v) + eps amplifies float32 rounding over
    # hundreds of steps (NumPy floor and PyTorch themselves differ by up to ~0.5% on 784-800-10).
    tolerance = 1e-4 if row.spec["optimizer"] == "sgd" else 2e-2
    for key in ("manual", "jax"):
        o = got.get(key)
        if o and o.usable and abs(o.last["eval_after"] - b) > tolerance * abs(b):
            notes.append(f"{row.label}: {key} ends at referee loss {o.last['eval_after']:.6f}, the reference "
                         f"at {b:.6f}; same data, same start: they should agree within {tolerance:g} "
                         "(relative)")


def _mlp_intro(args) -> str:
    return (f"Data: {mnist_source(args.data)}. Manual loops (PyTorch, JAX, descend manual, the floor): "
            "contiguous batches in order, the same initial weights; fit: shuffled `DataLoader`. JAX jits "
            "the whole step (compiled before the clock starts). Targets apply to 784-256-10; 784-800-10 "
            "ratios are for information.")


SECTIONS = {
    "tiny": Section("tiny", "Tiny loops, autograd every step", "µs/step", tiny_rows, sanity=_sanity_tiny),
    "mlp": Section("mlp", "MLP, {epoch} of softmax cross-entropy", "s", mlp_rows, intro=_mlp_intro,
                   settle=SETTLE_S, sanity=_sanity_mlp),
}
SECTIONS["cnn"] = Section("cnn", "CNNs on MNIST-shaped images, LeNet-5 and the examples/mnist Net", "s",
                          cnn.rows, intro=cnn.intro, settle=SETTLE_S)
SECTION_KEYS = (*SECTIONS, "memory")  # memory is measured differently: one fresh process per contender


# --- running and reporting a section ---------------------------------------------------------------------

def run_section(section: Section, rows: list, args) -> dict:
    """Start the section's workers, time its rows, stop the workers; returns outcomes and library info."""
    contenders = [c for row in rows for c in row.contenders]
    workers, errors = start_workers(contenders, args.threads, args.data, log, args.keep_openblas_tuning)
    try:
        settle = section.settle if args.threads > 1 else 0.0
        outcomes = run_rows(rows, workers, errors, args.reps, log, settle, args.deadline)
        infos = {f"{section.key}-{key}": w.hello.get("info", {}) for key, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()
    return {"outcomes": outcomes, "infos": infos}


def section_checks(rows: list, outcomes: dict) -> dict:
    """Every row's Targets evaluated on its per-pair ratios: ``{row.key: [Check, ...]}``."""
    result = {}
    for row in rows:
        got = outcomes[row.key]
        result[row.key] = [check(f"{row.key}: {t.num} / {t.den}", got.get(t.num), got.get(t.den), t.limit)
                           for t in row.targets]
    return result


def section_report(section: Section, rows: list, outcomes: dict, checks: dict, trusted: bool) -> str:
    """Two tables: each contender's median time per row, then every ratio with its spread and verdict."""
    labels = {}
    for row in rows:
        for c in row.contenders:
            labels.setdefault(c.key, c.label)
    times = []
    for row in rows:
        cells = []
        for key in labels:
            o = outcomes[row.key].get(key)
            value = None if o is None or o.value is None else o.value
            if value is not None and section.unit == "µs/step":
                value = value / o.steps * 1e6
            cells.append("—" if o is None else ("failed" if o.error else fmt(value)))
        times.append([row.label, *cells])
    ratio_rows = []
    for row in rows:
        got = outcomes[row.key]
        for target, c in zip(row.targets, checks[row.key]):
            if c.status == "n/a" and (target.num not in got or target.den not in got):
                continue  # a contender that is not installed: said once in the notes
            status = c.status
            if status in ("PASS", "FAIL") and not trusted:
                status += " (untrusted: busy machine)"
            noisy = c.spread is not None and c.spread > LIMITS["pair_spread"]
            ratio = f"{labels.get(target.num, target.num)} / {labels.get(target.den, target.den)}"
            ratio_rows.append([row.label, ratio, c.ratio_text() + (" noisy" if noisy else ""),
                               str(len(c.pairs)), "—" if target.limit is None else f"≤ {target.limit}×",
                               status])
    return (markdown_table(["workload", *(f"{label} {section.unit}" for label in labels.values())], times)
            + "\n\n" + markdown_table(["workload", "ratio", "median of pairs [min–max]", "pairs", "target",
                                       "result"], ratio_rows))


def memory_report(contenders: list, results: dict, notes: list) -> tuple[str, list]:
    """The memory table (MiB) and one check per descend contender against PyTorch's peak.

    Peak memory does not depend on a busy machine: these verdicts stand either way.
    """
    torch_peak = results["torch"].peak if "torch" in results else None
    limit = TARGETS["memory_vs_torch"]
    table, checks = [], []
    for c in contenders:
        r = results[c.key]
        if r.error:
            notes.append(f"memory, {c.label}: failed: {_first_line(r.error)}")
        elif r.problem:
            notes.append(f"memory, {c.label}: did not train sanely: {r.problem}")
        ratio = r.peak / torch_peak if (r.peak and torch_peak) else None
        cell = "—" if ratio is None else f"{ratio:.2f}×"
        if c.lib == "descend":
            if r.error or r.problem:
                status = "BROKEN"
            elif ratio is None:
                status = "n/a"
            else:
                status = "PASS" if ratio <= limit else "FAIL"
            checks.append(Check(f"memory: {c.label} / PyTorch", ratio, limit, status))
            cell = f"{cell} {status}" if ratio is not None else status
        mib = ["—" if v is None else f"{v:.0f}" for v in (r.peak, r.rss_import, r.rss_data)]
        table.append([c.label, *mib, cell])
    header = ["contender", "peak RSS MiB", "RSS after import MiB", "RSS after data MiB",
              f"peak / PyTorch (target ≤ {limit}×)"]
    return markdown_table(header, table), checks


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _note_failures(row: Row, got: dict, notes: list) -> None:
    for c in row.contenders:
        o = got[c.key]
        if o.error:
            notes.append(f"{row.label}, {c.label}: failed: {_first_line(o.error)}")
        elif o.problem:
            notes.append(f"{row.label}, {c.label}: computed something wrong, its time does not count: "
                         f"{o.problem}")


# --- header --------------------------------------------------------------------------------------------

def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (out.stdout.strip() or "no commit") + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def software_line(machine: dict, infos: dict, available: set) -> str:
    """Every library's version, as the workers reported them."""
    found = {}
    for info in infos.values():
        for key in ("descend", "torch", "torch_blas", "jax", "jaxlib", "micrograd"):
            if key in info:
                found.setdefault(key, info[key])
    parts = [f"Python {machine['python']}", f"NumPy {machine['numpy']} ({machine['numpy_blas']})"]
    if "torch" in found:
        parts.append(f"torch {found['torch']} (BLAS {found.get('torch_blas', '?')})")
    if "jax" in found:
        parts.append(f"jax {found['jax']} / jaxlib {found.get('jaxlib', '?')} (CPU)")
    if "micrograd" in found:
        parts.append(f"micrograd {found['micrograd']}")
    parts += [f"descend {found.get('descend', '?')} (git {git_revision()})"]
    missing = [LIB_NAMES[name] for name in OPTIONAL if name not in available]
    if missing:
        parts.append("not installed: " + ", ".join(missing))
    return "- software: " + ", ".join(parts)


def thread_lines(args, infos: dict, tuning_found: dict) -> list:
    """What each library's worker saw: thread variables, torch's threads, the BLAS pools and their kernel."""
    lines = [f"- threads: {args.threads} for every contender; each worker saw:"]
    seen = set()
    for info in infos.values():
        lib = next((k for k in ("torch", "jax", "micrograd", "descend") if k in info), "numpy")
        env = info.get("env", {})
        pools = "; ".join(f"{p.get('api')} {p.get('version')} {p.get('threads')} threads, "
                          f"kernel {p.get('kernel')}" for p in info.get("blas", []))
        text = ", ".join(f"{k}={env.get(k)}"
                         for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
        if lib == "torch":
            text += (f"; torch.get_num_threads()={info.get('torch_threads')}, "
                     f"get_num_interop_threads()={info.get('torch_interop_threads')}")
        if lib == "jax":
            text += f"; XLA on {info.get('jax_cores')} cores (XLA_FLAGS={env.get('XLA_FLAGS')})"
        line = f"  - {lib}: {text}; NumPy's BLAS: {pools or 'not reported'}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    if tuning_found:
        found = ", ".join(f"{k}={v}" for k, v in tuning_found.items())
        lines.append(f"- OpenBLAS tuning: {found} was set here and "
                     + ("kept (--keep-openblas-tuning)" if args.keep_openblas_tuning else
                        "dropped for the benchmark processes (a current NumPy runs slower under it); "
                        "the kernel above is the one OpenBLAS chose without it"))
    else:
        lines.append("- OpenBLAS tuning: neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE was set")
    return lines


def machine_check_lines(cores: int, loads: tuple, calibs: tuple, windows: list, problems: list) -> list:
    """The readings behind the busy-machine verdict, and the verdict."""
    load = ["unknown" if v is None else f"{v:.2f}" for v in loads]
    lines = [f"- machine check: 1-minute load average {load[0]} before, {load[1]} at the end (ours "
             f"included); calibration loop spread (p90 / min) {calibs[0].spread:.2f}× before, "
             f"{calibs[1].spread:.2f}× after, median {calibs[0].median * 1e3:.2f} → "
             f"{calibs[1].median * 1e3:.2f} ms"]
    others = ", ".join(f"{w.label} {w.foreign_cores:.2f}" + (f" (steal {w.steal:.0%})" if w.steal else "")
                       for w in windows if w.foreign_cores is not None)
    if others:
        lines.append(f"- cores used by other programs while we measured (average): {others}")
    lines.append("- verdict: " + ("quiet machine, the ratios can be trusted" if not problems else
                                  "BUSY MACHINE, the ratios cannot be trusted"))
    return lines


def busy_banner(problems: list) -> str:
    bar = "!" * 100
    body = "\n".join(f"!!   - {p}" for p in problems)
    return (f"{bar}\n!!   BUSY MACHINE: THESE NUMBERS CANNOT BE TRUSTED. Other work shared the cores\n"
            "!!   while they were measured; ratios can be off by 2x. Verdicts below are marked untrusted.\n"
            f"!!   Rerun on a quiet machine before quoting or acting on them. Why:\n{body}\n{bar}")


# --- main ----------------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="descend vs PyTorch, a NumPy floor, JAX and micrograd (SPEC §7).")
    parser.add_argument("--quick", action="store_true",
                        help="sanity run under a minute: 3 pairs, shorter tiny loops, batch 128 only, "
                             "a fifth of the MLP epoch")
    parser.add_argument("--only", default=",".join(SECTION_KEYS),
                        help=f"comma-separated sections to run: {', '.join(SECTION_KEYS)} (default: all)")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions, i.e. pairs per ratio (default 5, quick 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every contender (default 2)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="start no new repetition after this many minutes (a busy machine); every "
                             "section still runs at least one")
    parser.add_argument("--keep-openblas-tuning", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the workers' environment "
                             "(default: drop both)")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every sample, pair ratio and check to FILE")
    parser.add_argument("--data", default=None, help="MNIST folder (default ../shared/data/mnist)")
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTION_KEYS]
    if unknown:
        parser.error(f"--only: unknown section {unknown[0]!r}; choose from {', '.join(SECTION_KEYS)}")
    if args.reps is None:
        args.reps = 3 if args.quick else 5
    if args.reps < 1 or args.threads < 1:
        parser.error("--reps and --threads must be at least 1")
    if args.max_minutes is not None and args.max_minutes <= 0:
        parser.error(f"--max-minutes must be positive, got {args.max_minutes}")
    args.deadline = None if args.max_minutes is None else time.perf_counter() + 60 * args.max_minutes
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    tuning_found = {k: os.environ[k] for k in OPENBLAS_TUNING_VARS if k in os.environ}
    pin_threads(args.threads, args.keep_openblas_tuning)  # the runner's NumPy (calibration) alike
    started, started_at = time.perf_counter(), datetime.datetime.now().isoformat(timespec="seconds")
    available = available_libraries()
    machine = machine_info()
    notes = [f"{LIB_NAMES[name]} is not installed: its rows are skipped ({how})."
             for name, how in OPTIONAL.items() if name not in available]
    load_start = load_average()
    log("calibrating")
    calib_start = calibrate()
    texts, checks, infos, report, windows, ratio_checks = {}, [], {}, {}, [], []
    epoch = "a fifth of an epoch" if args.quick else "one epoch"

    pending = []  # (section, rows, outcomes, checks by row) rendered once the verdict is known
    for key in args.sections:
        if key == "memory":
            continue
        section = SECTIONS[key]
        log(section.title.format(epoch=epoch))
        rows = section.rows(args, available)
        before = snapshot()
        result = run_section(section, rows, args)
        windows.append(window(key, before, snapshot()))
        infos.update(result["infos"])
        by_row = section_checks(rows, result["outcomes"])
        for row in rows:
            _note_failures(row, result["outcomes"][row.key], notes)
            if section.sanity:
                section.sanity(row, result["outcomes"][row.key], notes)
            ratio_checks += [c for c in by_row[row.key] if c.ratio is not None]
            checks += by_row[row.key]
            report.setdefault(key, {})[row.key] = {
                "label": row.label, "spec": row.spec,
                **{k: o.as_json() for k, o in result["outcomes"][row.key].items()},
                "checks": [c.as_json() for c in by_row[row.key]]}
        pending.append((section, rows, result["outcomes"], by_row))

    memory = None
    if "memory" in args.sections:
        log("peak memory")
        # JAX copies the data onto its device (a second 188 MB): its peak is not the same measurement.
        contenders = keep([c for c in mlp_contenders() if c.key != "jax"], available)
        spec = {**MEMORY_SPEC, "rows": QUICK_ROWS if args.quick else MNIST_ROWS}
        before = snapshot()
        results = measure_all(contenders, spec, args.threads, args.data, log, args.keep_openblas_tuning)
        windows.append(window("memory", before, snapshot()))
        infos.update({f"memory-{key}": r.info for key, r in results.items()})
        memory = (contenders, results, spec)

    log("calibrating")
    calib_end = calibrate()
    load_end = load_average()
    # Only the judged ratios count towards the verdict; an information-only one is marked "noisy" alone.
    judged_ratios = [c for c in ratio_checks if c.limit is not None]
    noisy = sum(c.spread is not None and c.spread > LIMITS["pair_spread"] for c in judged_ratios)
    # Peak memory does not depend on others' load: the memory window is shown, not judged.
    timed_windows = [w for w in windows if w.label != "memory"]
    problems = verdict(machine["cores"], load_start, load_end, calib_start, calib_end, timed_windows,
                       noisy, len(judged_ratios))
    trusted = not problems

    for section, rows, outcomes, by_row in pending:
        intro = section.intro(args) if callable(section.intro) else section.intro
        done = max((len(o.seconds) for got in outcomes.values() for o in got.values()), default=0)
        cut = f" of {args.reps}: stopped by --max-minutes" if done < args.reps else ""
        heading = (f"### {section.title.format(epoch=epoch)} ({section.unit}, median of {done} "
                   f"repetitions{cut}; ratios per pair)\n\n")
        texts[section.key] = (heading + (intro + "\n\n" if intro else "")
                              + section_report(section, rows, outcomes, by_row, trusted))
    if memory is not None:
        contenders, results, spec = memory
        table, memory_checks = memory_report(contenders, results, notes)
        checks += memory_checks
        texts["memory"] = (f"### Peak resident memory, {epoch} of 784-256-10, batch 64, Adam "
                           f"(each contender in a fresh process; `ru_maxrss`)\n\n"
                           f"Data: {mnist_source(args.data)}, held as float32 by every contender.\n\n"
                           + table)
        report["memory"] = {"spec": spec, **{k: r.as_json() for k, r in results.items()}}

    judged = [c for c in checks if c.status in ("PASS", "FAIL", "BROKEN")]
    unmeasured = sum(c.status == "n/a" and c.limit is not None for c in checks)
    passed = sum(c.status == "PASS" for c in judged)
    broken = [c for c in judged if c.status == "BROKEN"]
    print("## descend benchmarks\n")
    if problems:
        print(busy_banner(problems) + "\n")
    print(f"- machine: {machine['cpu']}, {machine['cores']} usable cores ({machine['logical_cpus']} logical "
          f"CPUs), {machine['os']}")
    print(software_line(machine, infos, available))
    for line in thread_lines(args, infos, tuning_found):
        print(line)
    settle = (f"; MLP runs {SETTLE_S} s apart so idle BLAS threads stop spinning"
              if "mlp" in args.sections else "")
    print(f"- method: {args.reps} repetitions; in each, a row's contenders run back to back in a rotated "
          "order (AB, BA, ...), each in its own worker process; a ratio is computed per repetition (pair) "
          "and shown as the median over the pairs [min–max]; times are medians" + settle)
    print(f"- run: started {started_at}"
          + (" — QUICK sanity run: short loops, batch 128 only, a fifth of the epoch" if args.quick else ""))
    for line in machine_check_lines(machine["cores"], (load_start, load_end), (calib_start, calib_end),
                                    windows, problems):
        print(line)
    print()
    for text in texts.values():
        print(text + "\n")
    print(f"**Targets met: {passed} of {len(judged)}**"
          + (f" ({len(broken)} not comparable: a contender crashed or computed nonsense)" if broken else "")
          + (f"; {unmeasured} not measured (a contender was not installed or not run)" if unmeasured else "")
          + ("" if trusted else " — UNTRUSTED: busy machine, see the warning at the top")
          + f". Wall time {time.perf_counter() - started:.0f} s.")
    if notes:
        print("\nNotes:\n" + "\n".join(f"- {n}" for n in notes))
    if problems:
        print("\n" + busy_banner(problems))

    if args.json:
        payload = {"machine": machine, "library_info": infos, "trusted": trusted, "busy_reasons": problems,
                   "machine_check": {"load_before": load_start, "load_after": load_end,
                                     "calibration_before": calib_start.as_json(),
                                     "calibration_after": calib_end.as_json(),
                                     "windows": [w.as_json() for w in windows], "limits": LIMITS},
                   "settings": {"threads": args.threads, "reps": args.reps, "quick": args.quick,
                                "sections": args.sections, "targets": TARGETS,
                                "openblas_tuning_found": tuning_found,
                                "keep_openblas_tuning": args.keep_openblas_tuning},
                   "checks": [c.as_json() for c in checks], "results": report, "notes": notes}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
