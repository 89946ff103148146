"""The benchmark harness's arithmetic and its busy-machine judgement: pure functions, no timing asserted."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from common import thread_env  # noqa: E402
from harness import Outcome, check, pair_ratios, summarize  # noqa: E402
from quiet import LIMITS, Calibration, CpuSnapshot, Window, spread_p90, verdict, window  # noqa: E402


def outcome(*seconds, problem=None, error=None):
    return Outcome(seconds=list(seconds), steps=1, problem=problem, error=error)


# --- pairs and ratios ------------------------------------------------------------------------------------

def test_pair_ratios_divide_repetition_by_repetition():
    assert pair_ratios([2.0, 3.0, 8.0], [1.0, 2.0, 4.0]) == [2.0, 1.5, 2.0]


def test_pair_ratios_drop_repetitions_one_side_lacks():
    # A contender that crashed in repetition 3 has two samples: only two pairs exist.
    assert pair_ratios([1.0, 1.0], [2.0, 4.0, 8.0]) == [0.5, 0.25]


def test_summarize_is_median_min_max():
    assert summarize([3.0, 1.0, 2.0, 10.0, 2.5]) == (2.5, 1.0, 10.0)
    assert summarize([0.5, 1.5]) == (1.0, 0.5, 1.5)
    assert summarize([]) == (None, None, None)


def test_ratio_of_pairs_differs_from_ratio_of_medians():
    # A drift that slows both contenders of a pair alike cancels in the pair's ratio.
    a = outcome(1.0, 2.0, 4.0)
    b = outcome(2.0, 4.0, 8.0)
    c = check("a / b", a, b, 0.6)
    assert c.pairs == [0.5, 0.5, 0.5]
    assert (c.ratio, c.low, c.high, c.spread) == (0.5, 0.5, 0.5, 1.0)
    assert c.status == "PASS"
    assert c.ratio_text() == "0.50× [0.50–0.50]"


def test_check_fails_above_the_limit_and_reports_the_spread():
    c = check("a / b", outcome(1.0, 1.2, 0.9), outcome(1.0, 1.0, 1.0), 0.8)
    assert c.status == "FAIL"
    assert c.ratio == pytest.approx(1.0)
    assert (c.low, c.high) == (0.9, 1.2)
    assert c.spread == pytest.approx(1.2 / 0.9)
    assert c.cell() == "1.00× [0.90–1.20] FAIL"


def test_check_without_a_limit_is_information_only():
    assert check("x", outcome(1.0), outcome(2.0), None).status == "info"


def test_check_is_broken_when_a_contender_computed_nonsense_or_crashed():
    assert check("x", outcome(1.0, problem="loss did not decrease"), outcome(2.0), 1.0).status == "BROKEN"
    assert check("x", outcome(error="ImportError"), outcome(2.0), 1.0).status == "BROKEN"


def test_check_is_not_available_when_a_contender_is_absent():
    assert check("x", outcome(1.0), None, 1.0).status == "n/a"
    assert check("x", outcome(1.0), None, 1.0).ratio is None


# --- the busy-machine detector ---------------------------------------------------------------------------

def test_spread_is_p90_over_min():
    assert spread_p90([1.0] * 10) == 1.0
    assert spread_p90([1.0] * 9 + [3.0]) == 1.0  # one outlier in ten is beyond the 90th percentile
    assert spread_p90([1.0] * 8 + [2.0, 3.0]) == 2.0
    assert spread_p90([2.0, 1.0]) == 2.0


def test_window_subtracts_our_own_cpu_time():
    before = CpuSnapshot(wall=0.0, busy=50.0, steal=1.0, total=100.0, own=2.0)
    # 10 s: the machine was busy 18 core-seconds, 8 of them ours; 2 of its 20 core-seconds were stolen.
    after = CpuSnapshot(wall=10.0, busy=68.0, steal=3.0, total=120.0, own=10.0)
    w = window("mlp", before, after)
    assert w.foreign_cores == pytest.approx(1.0)
    assert w.steal == pytest.approx(0.1)


def test_window_never_reports_negative_foreign_load():
    # Our children's time is counted when they exit, so it can exceed the interval's busy time.
    w = window("x", CpuSnapshot(0.0, 10.0, 0.0, 20.0, 0.0), CpuSnapshot(1.0, 11.0, 0.0, 22.0, 3.0))
    assert w.foreign_cores == 0.0


def test_window_without_proc_stat_reports_nothing():
    w = window("x", CpuSnapshot(0.0, None, None, None, 0.0), CpuSnapshot(1.0, None, None, None, 1.0))
    assert (w.foreign_cores, w.steal) == (None, None)


def quiet_calibration():
    return Calibration([1.0, 1.01, 1.02, 1.0, 1.03])


def test_verdict_on_a_quiet_machine_is_empty():
    assert verdict(2, 0.1, 1.8, quiet_calibration(), quiet_calibration(),
                   [Window("tiny", 30.0, 0.05, 0.0)], noisy_ratios=0, ratios=10) == []


@pytest.mark.parametrize("kwargs, phrase", [
    ({"load_before": 1.2}, "load average 1.20 before the run"),
    ({"load_after": 3.0}, "oversubscribed"),
    ({"calib_before": Calibration([1.0] * 8 + [1.5] * 2)}, "calibration loop before the run spread 1.50x"),
    ({"calib_after": Calibration([1.3] * 5)}, "median moved 1.29x"),
    ({"windows": [Window("mlp", 60.0, 0.8, 0.0)]}, "other programs used 0.80 cores on average during mlp"),
    ({"windows": [Window("mlp", 60.0, 0.0, 0.2)]}, "stole 20% of the CPU time during mlp"),
    ({"noisy_ratios": 3, "ratios": 12}, "3 of 12 ratios spread more than 1.3x"),
])
def test_verdict_names_each_sign_of_a_busy_machine(kwargs, phrase):
    readings = {"cores": 2, "load_before": 0.1, "load_after": 1.5, "calib_before": quiet_calibration(),
                "calib_after": quiet_calibration(), "windows": [], "noisy_ratios": 0, "ratios": 5}
    readings.update(kwargs)
    problems = verdict(**readings)
    assert len(problems) == 1
    assert phrase in problems[0]


def test_verdict_thresholds_scale_with_cores():
    # The same load is busy on 2 cores and quiet on 8 (the limit is per core).
    load = 1.0
    assert verdict(2, load, None, None, None, [])
    assert verdict(8, load, None, None, None, []) == []
    assert LIMITS["load_per_core"] * 8 > load


# --- the environment the workers get ---------------------------------------------------------------------

def test_thread_env_pins_every_pool_and_drops_openblas_tuning_together():
    env = thread_env(2, {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "PATH": "/bin"})
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["PATH"] == "/bin"


def test_thread_env_keeps_openblas_tuning_when_asked():
    env = thread_env(2, {"OPENBLAS_CORETYPE": "Haswell"}, keep_openblas_tuning=True)
    assert env["OPENBLAS_CORETYPE"] == "Haswell"


def test_thread_env_gives_xla_one_thread_only_when_one_is_asked_for():
    assert "intra_op_parallelism_threads=1" in thread_env(1, {})["XLA_FLAGS"]
    assert "XLA_FLAGS" not in thread_env(2, {})


def test_thread_env_adds_xlas_one_thread_flags_once():
    env = thread_env(1, thread_env(1, {}))
    assert env["XLA_FLAGS"].count("intra_op_parallelism_threads=1") == 1


# --- the runner's registry and report --------------------------------------------------------------------

def test_rows_without_the_optional_libraries_keep_only_what_is_installed():
    from argparse import Namespace

    import run

    rows = run.tiny_rows(Namespace(quick=True), {"numpy", "descend"})
    assert [[c.key for c in r.contenders] for r in rows] == [["descend", "tape"], ["descend"]]
    outcomes = {r.key: {c.key: outcome(1.0, 1.1, 0.9) for c in r.contenders} for r in rows}
    checks = run.section_checks(rows, outcomes)
    by_name = {c.name: c for cs in checks.values() for c in cs}
    assert by_name["square: descend / torch"].status == "n/a"  # PyTorch absent: not measured, not failed
    assert by_name["square: descend / tape"].status == "info"
    text = run.section_report(run.SECTIONS["tiny"], rows, outcomes, checks, trusted=True)
    assert "PyTorch" not in text and "micrograd" not in text


def test_report_marks_verdicts_untrusted_on_a_busy_machine():
    from argparse import Namespace

    import run

    rows = run.tiny_rows(Namespace(quick=True), {"numpy", "descend", "torch"})
    outcomes = {r.key: {c.key: outcome(1.0, 1.0, 1.0) for c in r.contenders} for r in rows}
    outcomes["square"]["torch"] = outcome(4.0, 4.0, 4.0)
    checks = run.section_checks(rows, outcomes)
    busy = run.section_report(run.SECTIONS["tiny"], rows, outcomes, checks, trusted=False)
    quiet = run.section_report(run.SECTIONS["tiny"], rows, outcomes, checks, trusted=True)
    assert "| descend / PyTorch | 0.25× [0.25–0.25] | 3 | ≤ 0.35× | PASS (untrusted: busy machine) |" in busy
    assert "| descend / PyTorch | 0.25× [0.25–0.25] | 3 | ≤ 0.35× | PASS |" in quiet
    assert "untrusted" not in quiet
    assert "BUSY MACHINE" in run.busy_banner(["load average 2.00 before the run"])


def test_every_registered_section_builds_rows_with_known_targets():
    from argparse import Namespace

    import run

    everything = {"numpy", "descend", "torch", "jax", "micrograd"}
    for section in run.SECTIONS.values():
        for row in section.rows(Namespace(quick=True, data=None), everything):
            keys = {c.key for c in row.contenders}
            assert all(t.num in keys and t.den in keys for t in row.targets), (section.key, row.key)
