"""descend.distributed on a local Ray with 2 CPUs: data-parallel equivalence, worker death, sweeps, CLI.

Ray starts once for the module (a few seconds) and is shut down at the end; the teardown checks
that none of its processes are left.
"""

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import descend
from descend import data, nn, optim

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    node = ray._private.worker._global_node
    pids = [p.process.pid for procs in node.all_processes.values() for p in procs]
    yield ray
    ray.shutdown()
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.1)
    assert not alive, f"Ray processes left behind: {alive}"


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


# --- import hygiene ------------------------------------------------------------------------------
def _python(code):
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_importing_descend_never_imports_ray():
    proc = _python("import sys, descend, descend.cli, descend.distributed; descend.cli.build_parser(); "
                   "print('ray' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_without_ray_a_one_line_error_says_how_to_install():
    proc = _python("import sys; sys.modules['ray'] = None\n"
                   "try:\n    from descend.distributed import sweep\n"
                   "except ImportError as e:\n    print(e)")
    assert proc.returncode == 0, proc.stderr
    hint = 'descend.distributed needs Ray, an optional extra: pip install "descend[distributed]"'
    assert proc.stdout.strip() == hint


# --- DataParallel --------------------------------------------------------------------------------
def _train(strategy, make_optimizer, epochs=2, loss_fn=None):
    descend.manual_seed(0)
    x, y = data.spirals(40, classes=3, seed=1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    loader = data.DataLoader(data.TensorDataset(x.double(), y), batch_size=25, shuffle=True, seed=0)
    history = descend.fit(model, loss_fn or nn.CrossEntropyLoss(), make_optimizer(model.parameters()), loader,
                          valid=(x.double(), y), epochs=epochs, metrics=["accuracy"], progress=False,
                          strategy=strategy)
    return [p._data.copy() for p in model.parameters()], history


@pytest.mark.parametrize("make_optimizer", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                            lambda p: optim.Adam(p, lr=0.01)], ids=["sgd", "adam"])
def test_data_parallel_follows_single_process_training(local_ray, make_optimizer):
    from descend.distributed import DataParallel

    single, h1 = _train(None, make_optimizer)
    parallel, h2 = _train(DataParallel(workers=2), make_optimizer)
    # 120 points in batches of 25: the last batch (20) splits 10/10, the others 12/13 (weighted mean)
    assert max(np.abs(a - b).max() for a, b in zip(single, parallel)) < 1e-10
    assert np.allclose(h1.step_loss, h2.step_loss, rtol=0, atol=1e-12) and len(h2.step_loss) == 10
    assert h1.series["train_accuracy"] == h2.series["train_accuracy"]


def test_data_parallel_sums_for_a_sum_reduction_loss(local_ray):
    from descend.distributed import DataParallel

    sgd = lambda p: optim.SGD(p, lr=0.001)
    single, _ = _train(None, sgd, epochs=1, loss_fn=nn.CrossEntropyLoss(reduction="sum"))
    parallel, _ = _train(DataParallel(2), sgd, epochs=1, loss_fn=nn.CrossEntropyLoss(reduction="sum"))
    assert max(np.abs(a - b).max() for a, b in zip(single, parallel)) < 1e-12


class DiesOnThirdCall:
    """A loss that kills the worker process running it at its third call (never the driver)."""

    def __init__(self):
        self.driver, self.calls = os.getpid(), 0
        self.loss = nn.CrossEntropyLoss()

    def __call__(self, pred, target):
        self.calls += 1
        if self.calls == 3 and os.getpid() != self.driver:
            os._exit(1)
        return self.loss(pred, target)


def test_a_dead_worker_is_an_error_and_the_weights_are_the_last_completed_steps(local_ray):
    from descend.distributed import DataParallel, WorkerDiedError

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the loss class travels by value
    sgd = lambda p: optim.SGD(p, lr=0.1)
    descend.manual_seed(0)
    x, y = data.spirals(40, classes=3, seed=1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    loader = data.DataLoader(data.TensorDataset(x.double(), y), batch_size=25, shuffle=True, seed=0)
    message = r"worker process died .* during step 3 \(epoch 1\).*last completed step \(2\)"
    with pytest.raises(WorkerDiedError, match=message):
        descend.fit(model, DiesOnThirdCall(), sgd(model.parameters()), loader, epochs=1, progress=False,
                    strategy=DataParallel(2))
    # the reference: the same run stopped after 2 steps without a strategy
    descend.manual_seed(0)
    ref = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    opt = sgd(ref.parameters())
    for step, (xb, yb) in enumerate(data.DataLoader(data.TensorDataset(x.double(), y), batch_size=25,
                                                    shuffle=True, seed=0)):
        if step == 2:
            break
        opt.zero_grad()
        nn.CrossEntropyLoss()(ref(xb), yb).backward()
        opt.step()
    assert max(np.abs(a._data - b._data).max() for a, b in zip(model.parameters(), ref.parameters())) < 1e-12


def test_data_parallel_checks_its_arguments():
    from descend.distributed import DataParallel

    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        DataParallel(workers=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        DataParallel(timeout=-1)


def test_data_parallel_refuses_more_workers_than_cpus(local_ray):
    from descend.distributed import DataParallel

    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"workers=3\) needs 3 CPUs, but this Ray has 2"):
        descend.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                    (descend.randn(4, 2), descend.randn(4, 1)), strategy=DataParallel(3), progress=False)


# --- sweep ---------------------------------------------------------------------------------------
X = descend.linspace(-1, 1, 16).reshape(-1, 1)
Y = 4 * X


def linear_trial(config):
    """y = 4x by gradient descent; lr 1.5 diverges (curvature 2 * E[x^2] ~ 0.76 ... too large at 3)."""
    if config["lr"] == 0.2 and config.get("optimizer") == "broken":
        raise RuntimeError("this trial fails on purpose")
    model = nn.Linear(1, 1, bias=False)
    opt = optim.SGD(model.parameters(), lr=config["lr"])
    return descend.fit(model, nn.MSELoss(), opt, (X, Y), valid=(X, Y), epochs=30, progress=False)


def test_sweep_reports_each_trial_errors_and_divergence(local_ray):
    from descend.distributed import sweep

    seen = []
    result = sweep(linear_trial, {"optimizer": ["gd", "broken"], "lr": [0.01, 0.2, 30.0]}, seeds=2,
                   on_trial=seen.append)
    assert len(result) == len(seen) == 12 and not result.interrupted
    assert [t.config for t in result][:3] == [{"optimizer": "gd", "lr": 0.01, "seed": s} for s in (0, 1)] + [
        {"optimizer": "gd", "lr": 0.2, "seed": 0}]
    by = {(t.config["optimizer"], t.config["lr"], t.config["seed"]): t for t in result}
    failed = by["broken", 0.2, 1]
    assert failed.error == "RuntimeError: this trial fails on purpose" and "linear_trial" in failed.traceback
    assert failed.history is None and not failed.diverged
    assert by["gd", 30.0, 0].diverged and by["gd", 30.0, 0].history.stop_reason == "diverged"
    assert any("too large" in w for w in by["gd", 30.0, 0].warnings)
    good = by["gd", 0.2, 0]
    assert good.ok and good.metrics["valid_loss"] == good.history.valid_loss[-1] < 1e-3
    # the same seed gives the same trial; the initial weight depends on it
    assert by["gd", 0.01, 0].metrics == by["broken", 0.01, 0].metrics
    assert by["gd", 0.01, 0].metrics != by["gd", 0.01, 1].metrics
    assert result.best("valid_loss").config["lr"] == 0.2
    assert result.best("valid_loss", mode="max").config["lr"] == 0.01
    with pytest.raises(KeyError, match="no trial reported 'accuracy'"):
        result.best("accuracy")


def test_sweep_table_aggregates_seeds_as_mean_and_std(local_ray):
    from descend.distributed import sweep

    result = sweep(linear_trial, {"lr": [0.01, 30.0]}, seeds=3)
    values = [t.metrics["train_loss"] for t in result if t.config["lr"] == 0.01]
    lines = result.table(metrics=["train_loss"]).splitlines()
    assert lines[0].split() == ["lr", "trials", "train_loss", "seconds", "status"]
    mean, std = np.mean(values), np.std(values, ddof=1)
    assert lines[1].split()[:5] == ["0.01", "3", f"{mean:.4g}", "±", f"{std:.2g}"]
    assert lines[2].split()[:3] == ["30", "3", "-"] and lines[2].endswith("3 diverged")
    assert repr(result).startswith("SweepResult(6 of 6 trials: 3 ok, 3 diverged, 0 failed)")


def test_sweep_plot_draws_metric_against_lr_on_a_log_axis(local_ray, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from descend.distributed import sweep

    result = sweep(linear_trial, {"optimizer": ["gd"], "lr": [0.01, 0.1, 30.0]}, seeds=2)
    fig = result.plot(x="lr", metric="valid_loss", hue="optimizer", save=tmp_path / "sweep.png")
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_ylabel() == "final valid_loss"
    xs, ys = left.lines[0].get_data()
    expected = [np.mean([t.metrics["valid_loss"] for t in result if t.config["lr"] == lr])
                for lr in (0.01, 0.1)]
    assert list(xs) == [0.01, 0.1, 30.0] and np.allclose(ys[:2], expected) and math.isnan(ys[2])
    assert len(right.lines) == 6  # every trial's loss curve
    assert (tmp_path / "sweep.png").stat().st_size > 0
    with pytest.raises(KeyError, match="x='momentum' is not a grid name"):
        result.plot(x="momentum")


def test_sweep_checks_its_arguments(local_ray):
    from descend.distributed import sweep

    with pytest.raises(ValueError, match="grid must be a non-empty dict"):
        sweep(linear_trial, {})
    with pytest.raises(ValueError, match=r"grid\['lr'\] is empty"):
        sweep(linear_trial, {"lr": []})
    with pytest.raises(ValueError, match="seeds must be a positive integer"):
        sweep(linear_trial, {"lr": [0.1]}, seeds=0)
    with pytest.raises(ValueError, match="Ray is already running in this process"):
        sweep(linear_trial, {"lr": [0.1]}, num_cpus=1)


# --- the command line ----------------------------------------------------------------------------
def _cli(capsys, *argv):
    from descend.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_help_has_examples(capsys):
    code, out, _ = _cli(capsys, "sweep", "--help")
    assert code == 0 and "descend sweep spirals --optim sgd,momentum,adam --lr 1e-3,1e-2,1e-1,1" in out


@pytest.mark.parametrize("argv, message", [
    (["sweep", "spirals", "--optim", "sgdd"], "unknown optimizer 'sgdd'"),
    (["sweep", "spirals", "--lr", "0.1,-1"], "expected a positive number"),
    (["sweep", "circles"], "invalid choice: 'circles'"),
    (["sweep", "mnist"], "mnist needs --data DIR"),
    (["sweep", "spirals", "--address", "auto", "--num-cpus", "2"], "--num-cpus caps a local Ray"),
])
def test_sweep_bad_arguments_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_sweep_command_prints_trials_table_and_best(local_ray, capsys, tmp_path):
    code, out, err = _cli(capsys, "sweep", "moons", "--optim", "sgd,adam", "--lr", "0.01,0.1", "--seeds", "1",
                          "--epochs", "2", "--plot", str(tmp_path / "s.png"))
    assert code == 0, err
    assert out.count("valid loss") >= 4 and "[4/4]" in out
    assert "optimizer  lr    trials  train_loss  valid_loss  valid_accuracy" in out
    assert "best: optimizer=" in out and (tmp_path / "s.png").is_file()
