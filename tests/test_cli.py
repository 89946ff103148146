"""The `descend` command line: each command's success path and its bad-argument path.

Bad arguments must give exit status 2 and exactly one line on standard error that names the valid
choices, never a traceback. Everything runs in-process through `main(argv)` with tiny step counts,
except one `python -m descend --help` subprocess.
"""

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from descend import problems
from descend.cli import MNIST_FILES, main

REPO = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``descend ARGV``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_idx_folder(folder: Path, n_train: int = 48, n_test: int = 20, seed: int = 0) -> Path:
    """Four small MNIST-format files (gzip IDX, the original names): digits are noisy class templates."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(10, 28, 28))
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        noise = rng.integers(-40, 40, size=(n, 28, 28))
        images = np.clip(templates[labels] + noise, 0, 255).astype(np.uint8)
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, n) + labels.tobytes())
    return folder


def table_rows(out: str) -> list[list[str]]:
    """The rows of a printed table whose first field is a step number."""
    return [line.split() for line in out.splitlines() if line.split() and line.split()[0].isdigit()]


# --- help ---------------------------------------------------------------------------------------
def test_python_dash_m_help_runs_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "descend", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "usage: descend" in proc.stdout
    for command in ("demo", "run", "compare", "problems", "lr-find", "train"):
        assert command in proc.stdout
    assert "examples:" in proc.stdout


@pytest.mark.parametrize("command", ["demo", "run", "compare", "problems", "lr-find", "train"])
def test_every_command_has_help_with_examples(capsys, command):
    code, out, err = run_cli(capsys, command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"usage: descend {command}")
    assert "example" in out and f"descend {command}" in out.split("example", 1)[1]


# --- run ----------------------------------------------------------------------------------------
def test_run_prints_the_worked_example_step_by_step(capsys):
    code, out, err = run_cli(capsys, "run", "quadratic", "--optim", "gd", "--lr", "0.1", "--steps", "5")
    assert code == 0 and err == ""
    rows = table_rows(out)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3, 4, 5]
    # GD on (w - 3)**2 from 0 with lr 0.1: w_k = 3 - 3 * 0.8**k, loss (w_k - 3)**2.
    for k, (_, w, loss) in enumerate(rows):
        assert float(w) == pytest.approx(3 - 3 * 0.8**k, rel=1e-5, abs=1e-9)
        assert float(loss) == pytest.approx((3 * 0.8**k) ** 2, rel=1e-5)
    assert [round(float(r[1]), 4) for r in rows[1:]] == [0.6, 1.08, 1.464, 1.7712, 2.017]
    assert "final loss 0.966" in out


def test_run_summarises_a_long_path_and_reports_the_final_loss(capsys):
    code, out, _ = run_cli(capsys, "run", "bowl", "--optim", "gd", "--lr", "0.1", "--steps", "200")
    assert code == 0
    rows = table_rows(out)
    assert 6 <= len(rows) <= 14  # summarised, not 201 rows
    assert int(rows[0][0]) == 0 and int(rows[-1][0]) == 200
    assert "..." in out
    # x and y shrink by 0.8 per step on x**2 + y**2: the final point is (start) * 0.8**200.
    start = np.array(problems.get("bowl").start)
    final = start * 0.8**200
    assert float(rows[-1][1]) == pytest.approx(final[0], abs=1e-12)
    final_loss = float(out.split("final loss ")[1].split()[0])
    assert final_loss == pytest.approx(float(final @ final), rel=1e-6)


def test_run_accepts_a_negative_start_and_uses_it(capsys):
    code, out, _ = run_cli(capsys, "run", "rosenbrock", "--optim", "adam", "--start", "-1,-1", "--steps", "3")
    assert code == 0
    first = table_rows(out)[0]
    assert [float(v) for v in first[1:]] == [-1.0, -1.0, 404.0]  # (1 - x)**2 + 100 (y - x**2)**2 at (-1, -1)


def test_run_reports_divergence_without_failing(capsys):
    code, out, err = run_cli(capsys, "run", "quadratic", "--lr", "1.5", "--steps", "2000")
    assert code == 0 and err == ""
    assert "diverged at step" in out and "smaller learning rate" in out


def test_run_writes_a_png_and_a_gif(capsys, tmp_path):
    png, gif = tmp_path / "path.png", tmp_path / "sub" / "path.gif"
    assert run_cli(capsys, "run", "bowl", "--optim", "momentum", "--steps", "5", "--plot", png)[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run_cli(capsys, "run", "quadratic", "--steps", "3", "--plot", gif)
    assert code == 0 and gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert str(gif) in out


# --- compare ------------------------------------------------------------------------------------
def test_compare_prints_one_row_per_optimizer_and_draws(capsys, tmp_path):
    png = tmp_path / "cmp.png"
    code, out, err = run_cli(capsys, "compare", "bowl", "--optim", "gd,momentum,adam", "--steps", "10",
                             "--lr", "0.1", "--plot", png)
    assert code == 0 and err == ""
    for label in ("GD (lr=0.1)", "Momentum (lr=0.1, momentum=0.9)", "Adam (lr=0.1)"):
        assert label in out
    # GD with lr 0.1 on x**2 + y**2 ends at start * 0.8**10.
    start = np.array(problems.get("bowl").start)
    gd_row = next(line for line in out.splitlines() if line.startswith("GD (lr=0.1)"))
    assert float(gd_row.split()[-2]) == pytest.approx(float(((start * 0.8**10) ** 2).sum()), rel=1e-5)
    assert "lowest final loss" in out
    assert png.stat().st_size > 1000


def test_compare_uses_each_problems_preset_learning_rates(capsys):
    code, out, _ = run_cli(capsys, "compare", "beale", "--optim", "sgd,adam", "--steps", "2")
    assert code == 0
    beale = problems.get("beale")
    assert f"SGD (lr={beale.lr('sgd'):g})" in out and f"Adam (lr={beale.lr('adam'):g})" in out


# --- problems -----------------------------------------------------------------------------------
def test_problems_lists_every_problem_and_optimizer(capsys):
    code, out, _ = run_cli(capsys, "problems")
    assert code == 0
    for name in problems.names():
        assert f"  {name} " in out
    for name in problems.optimizer_names():
        assert name in out.split("Optimizers", 1)[1]


# --- lr-find ------------------------------------------------------------------------------------
def test_lr_find_on_spirals_prints_the_curve_and_a_suggestion(capsys, tmp_path):
    png = tmp_path / "lr.png"
    code, out, err = run_cli(capsys, "lr-find", "--data", "spirals", "--iters", "30", "--plot", png)
    assert code == 0 and err == ""
    rows = table_rows(out)
    lrs = [float(r[1]) for r in rows]
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(1e-7, rel=1e-2)  # descend.lr_find's default
    assert "suggested learning rate:" in out or "too few steps" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_lr_find_on_a_tiny_mnist_folder(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    code, out, _ = run_cli(capsys, "lr-find", "--data", "mnist", "--data-dir", folder, "--iters", "10",
                           "--batch-size", "16")
    assert code == 0
    assert "MNIST (48 training images)" in out


# --- train --------------------------------------------------------------------------------------
def test_train_mnist_on_a_tiny_idx_folder_reports_accuracy_and_saves(capsys, tmp_path):
    from descend.serialize import load

    folder = write_idx_folder(tmp_path / "mnist")
    weights = tmp_path / "out" / "mlp.npz"
    code, out, err = run_cli(capsys, "train", "mnist", "--data", folder, "--epochs", "2", "--batch-size", "8",
                             "--hidden", "16", "--lr", "0.01", "--save", weights)
    assert code == 0, err
    assert "MNIST: 44 training, 4 validation, 20 test images" in out
    assert "epoch 1/2" in out and "epoch 2/2" in out
    line = next(line for line in out.splitlines() if "test accuracy" in line)
    accuracy = float(line.split("test accuracy ")[1].split("%")[0]) / 100
    assert 0.0 <= accuracy <= 1.0 and "on 20 test images" in line
    state = load(weights)
    assert tuple(state["0.weight"].shape) == (16, 784) and tuple(state["2.weight"].shape) == (10, 16)


def test_train_fashion_mnist_reads_the_same_file_layout(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "fashion", n_train=24, n_test=10)
    code, out, _ = run_cli(capsys, "train", "fashion-mnist", "--data", folder, "--epochs", "1",
                           "--hidden", "8", "--optim", "momentum", "--patience", "1")
    assert code == 0
    assert out.startswith("Fashion-MNIST: 22 training, 2 validation, 10 test images")
    assert "Momentum (lr=0.1, momentum=0.9)" in out and "one-cycle schedule peaking at lr=0.1" in out


def test_train_constant_schedule_uses_the_constant_default_lr(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", n_train=24, n_test=10)
    code, out, _ = run_cli(capsys, "train", "mnist", "--data", folder, "--epochs", "1", "--hidden", "8",
                           "--schedule", "constant")
    assert code == 0
    assert "Adam (lr=0.001)" in out and "constant lr=0.001" in out
    assert "inputs standardised: (pixel - " in out


# --- bad arguments: exit 2, one line on stderr naming the valid choices --------------------------
def _one_error_line(code, out, err, *expected):
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("descend") and ": error: " in err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{text!r} missing from {err!r}"


_OPTIMS = problems.optimizer_names()
_PROBLEMS = problems.names()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "nope"], ["descend run: error:", "unknown problem 'nope'", *_PROBLEMS]),
        (["run", "bowl", "--optim", "nope"], ["unknown optimizer 'nope'", *_OPTIMS]),
        (["run", "bowl", "--optim", "gd,adam"], ["one optimizer", "descend compare"]),
        (["run", "bowl", "--lr", "abc"], ["--lr", "'abc'", "positive number"]),
        (["run", "bowl", "--lr", "-1"], ["--lr", "positive number"]),
        (["run", "bowl", "--lr", "nan"], ["--lr", "positive number"]),
        (["run", "bowl", "--steps", "0"], ["--steps", "whole number"]),
        (["run", "bowl", "--steps", "2.5"], ["--steps", "whole number"]),
        (["run", "bowl", "--start", "1"], ["--start needs 2 numbers", "X,Y"]),
        (["run", "bowl", "--start", "a,b"], ["--start", "coordinates"]),
        (["run", "quadratic", "--start", "1,2"], ["--start needs 1 number", "quadratic"]),
        (["run", "bowl", "--plot", "path.doc"], ["--plot", ".png", ".svg"]),
        (["run"], ["descend run: error:", "PROBLEM"]),
        (["compare", "nope"], ["unknown problem 'nope'", *_PROBLEMS]),
        (["compare", "bowl", "--optim", "gd,nope"], ["unknown optimizer 'nope'", *_OPTIMS]),
        (["compare", "bowl", "--optim", "gd,adam", "--lr", "0.1,0.2,0.3"], ["--lr", "one per optimizer (2)"]),
        (["compare", "bowl", "--plot", "x.xyz"], ["--plot", ".png", ".pdf"]),
        (["compare", "quadratic", "--plot", "x.png", "--steps", "2"], ["1-D", "descend run quadratic"]),
        (["lr-find", "--data", "cifar"], ["invalid choice: 'cifar'", "spirals", "mnist"]),
        (["lr-find", "--data", "mnist"], ["--data-dir", *MNIST_FILES]),
        (["lr-find", "--optim", "nope"], ["unknown optimizer", *_OPTIMS]),
        (["train", "mnist"], ["descend train: error:", "--data"]),
        (["train", "cifar", "--data", "x"], ["invalid choice: 'cifar'", "mnist", "fashion-mnist"]),
        (["train", "mnist", "--data", "/no/such/folder"], ["not found", "/no/such/folder", *MNIST_FILES]),
        (["train", "mnist", "--data", ".", "--optim", "nope"], ["unknown optimizer", *_OPTIMS]),
        (["train", "mnist", "--data", "/no/such/folder", "--epochs", "x"], ["--epochs", "whole number"]),
        (["demo", "--data", "/no/such/folder"], ["not found", *MNIST_FILES]),
        (["run", "rosenbrock", "--steps", "5", "--plot", "/proc/x.png"], ["--plot", "cannot write"]),
        (["run", "rosenbrock", "--steps", "5", "--plot", "/proc/x.gif"], ["--plot", "cannot write"]),
        (["compare", "rosenbrock", "--steps", "5", "--plot", "/proc/x.png"], ["--plot", "cannot write"]),
        (["run", "rosenbrock", "--steps", "5", "--plot", "x.pgf"], ["--plot", "unknown image type", ".png"]),
        (["run", "bowl", "--steps", "200000", "--plot", "x.png"], ["--plot draws at most 100000 steps"]),
        (["lr-find", "--iters", "1"], ["--iters", ">= 2"]),
        (["lr-find", "--start-lr", "10", "--end-lr", "1"], ["--start-lr (10) must be below --end-lr (1)"]),
        (["lr-find", "--seed", "-3"], ["--seed", "between 0 and 2**64 - 1", "'-3'"]),
        (["lr-find", "--data-dir", "X"], ["--data-dir 'X'", "--data mnist"]),
        (["train", "mnist", "--data", "/no/such/folder", "--seed", "-1"], ["--seed", "'-1'"]),
        (["run", "bowl", "--steps", "99999999999999999999"], ["--steps", "up to 1,000,000,000"]),
        (["train", "mnist", "--download", "--data", "/proc/x"], ["--data '/proc/x'", "cannot create"]),
        (["bogus"], ["invalid choice: 'bogus'", "demo", "run", "compare", "train"]),
        ([], ["choose a command", "demo", "run", "compare", "problems", "lr-find", "train"]),
    ],
)
def test_bad_arguments_give_one_line_and_exit_status_2(capsys, argv, expected):
    _one_error_line(*run_cli(capsys, *argv), *expected)


def test_a_data_folder_missing_files_names_them(capsys, tmp_path):
    folder = tmp_path / "half"
    write_idx_folder(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    _one_error_line(*run_cli(capsys, "train", "mnist", "--data", folder), "lacks t10k-labels-idx1-ubyte.gz")


def test_a_corrupt_data_file_is_a_one_line_error(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "bad")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not a gzip file")
    _one_error_line(*run_cli(capsys, "train", "mnist", "--data", folder), "train-images-idx3-ubyte.gz",
                    "gzip")


def test_demo_checks_its_data_files_before_running(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "bad")
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not a gzip file")
    _one_error_line(*run_cli(capsys, "demo", "--quick", "--out", tmp_path / "d", "--data", folder),
                    "t10k-images-idx3-ubyte.gz", "gzip")
    assert not (tmp_path / "d" / "index.html").exists()


def test_demo_out_must_be_a_folder(capsys, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    _one_error_line(*run_cli(capsys, "demo", "--quick", "--out", blocker / "pictures"), "--out",
                    "cannot use it")


def test_train_save_needs_an_npz_name(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    _one_error_line(*run_cli(capsys, "train", "mnist", "--data", folder, "--save", tmp_path / "w.pt"), ".npz")


def test_train_checks_the_save_target_before_training(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    _one_error_line(*run_cli(capsys, "train", "mnist", "--data", folder, "--save", "/proc/m.npz"),
                    "--save '/proc/m.npz'", "cannot write")


def test_train_on_the_wrong_data_set_is_caught(capsys, tmp_path, monkeypatch):
    import hashlib

    from descend.data import mnist

    folder = write_idx_folder(tmp_path / "mnist")
    digest = hashlib.md5((folder / "train-labels-idx1-ubyte.gz").read_bytes()).hexdigest()
    monkeypatch.setitem(mnist.MD5["MNIST"], "train-labels-idx1-ubyte.gz", digest)  # "these are MNIST's"
    _one_error_line(*run_cli(capsys, "train", "fashion-mnist", "--data", folder), "holds the mnist files")


def test_train_with_an_exploding_lr_stops_restores_and_exits_1(capsys, tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", n_train=240)
    save = tmp_path / "w.npz"
    code, out, err = run_cli(capsys, "train", "mnist", "--data", folder, "--epochs", "2", "--batch-size",
                             "16", "--hidden", "16", "--lr", "1e9", "--schedule", "constant", "--save", save)
    assert code == 1
    assert err.count("\n") == 1 and "Warning" not in err and ".py" not in err
    assert "training diverged at step" in err and "restored" in err and "--lr 0.001" in err
    assert "test accuracy" not in out and not save.exists()


def test_version(capsys):
    import descend

    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"descend {descend.__version__}"


def test_run_says_diverged_when_the_loss_grows_without_overflow(capsys):
    # lr 1.1 on (w - 3)**2: w - 3 is multiplied by 1 - 2.2 = -1.2 every step, the loss by 1.44.
    code, out, _ = run_cli(capsys, "run", "quadratic", "--lr", "1.1", "--steps", "10")
    assert code == 0
    assert "diverged: the loss grew from 9 to 345" in out
    suggested = float(out.split("--lr ")[1].split()[0])
    assert suggested < 1.0  # gd on (w-3)**2 converges exactly when lr < 1
    assert "checked" in out


def test_run_suggests_an_lr_that_converges_for_a_huge_lr(capsys):
    code, out, _ = run_cli(capsys, "run", "quadratic", "--lr", "1e9", "--steps", "10")
    suggested = float(out.split("--lr ")[1].split()[0])
    assert 0 < suggested < 1.0
    code, out, _ = run_cli(capsys, "run", "quadratic", "--lr", str(suggested), "--steps", "10")
    assert "diverged" not in out


def test_run_table_columns_never_run_together(capsys):
    code, out, _ = run_cli(capsys, "run", "quadratic", "--steps", "5", "--start", "177150")
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert [float(r[1]) for r in rows[:2]] == [177150.0, pytest.approx(141720.6)]
    assert float(rows[0][2]) == pytest.approx((177150 - 3) ** 2, rel=1e-5)


def test_compare_marks_a_growing_loss_diverged_and_says_one_optimizer(capsys):
    code, out, _ = run_cli(capsys, "compare", "quadratic", "--optim", "gd", "--lr", "1.1", "--steps", "10")
    assert code == 0
    assert "1 optimizer on quadratic" in out
    assert "diverged (loss still growing)" in out and "checked" in out
    assert "lowest final loss" not in out


# --- descend train --download (a local server stands in for the mirrors) --------------------------
def _serve(folder: Path):
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the test reads stderr
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_train_download_fetches_verified_files_into_the_cache(capsys, tmp_path, monkeypatch):
    import hashlib

    from descend.data import mnist

    served = write_idx_folder(tmp_path / "served", n_train=40, n_test=10)
    httpd = _serve(served)
    try:
        monkeypatch.setitem(mnist.MIRRORS, "MNIST", [f"http://127.0.0.1:{httpd.server_port}/"])
        for name in MNIST_FILES:
            digest = hashlib.md5((served / name).read_bytes()).hexdigest()
            monkeypatch.setitem(mnist.MD5["MNIST"], name, digest)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        code, out, err = run_cli(capsys, "train", "mnist", "--download", "--epochs", "1", "--hidden", "8")
        assert code == 0, err
        cache = tmp_path / "cache" / "descend" / "MNIST"
        assert f"fetching mnist into {cache}" in out and "test accuracy" in out
        assert sorted(p.name for p in cache.iterdir()) == sorted(MNIST_FILES)  # no partial files left
        # A wrong checksum: one line, exit 1, and nothing that looks whole is left behind.
        monkeypatch.setitem(mnist.MD5["MNIST"], MNIST_FILES[0], "0" * 32)
        code, out, err = run_cli(capsys, "train", "mnist", "--download", "--data", tmp_path / "fresh")
        assert code == 1 and err.count("\n") == 1 and "download failed: checksum mismatch" in err
        assert not (tmp_path / "fresh" / MNIST_FILES[0]).exists()
    finally:
        httpd.shutdown()


def test_an_interrupted_train_keeps_its_weights_and_exits_130(capsys, tmp_path, monkeypatch):
    from descend import cli
    from descend.serialize import load
    from descend.train import Callback

    class CtrlC(Callback):
        def on_batch_end(self, learner):
            if learner.step == 3:
                raise KeyboardInterrupt

    real_fit = cli.fit

    def fit_with_ctrl_c(*args, callbacks=(), **kwargs):
        return real_fit(*args, callbacks=[*callbacks, CtrlC()], **kwargs)

    monkeypatch.setattr(cli, "fit", fit_with_ctrl_c)
    folder = write_idx_folder(tmp_path / "mnist")
    save = tmp_path / "w.npz"
    code, out, err = run_cli(capsys, "train", "mnist", "--data", folder, "--batch-size", "8", "--hidden", "8",
                             "--save", save)
    assert code == 130
    assert err.strip() == "descend train: interrupted (the weights reached so far were kept)"
    assert "training stopped: interrupted" in out and set(load(save)) >= {"0.weight", "0.bias"}


def test_long_runs_keep_only_the_rows_they_print():
    from descend import cli

    problem = problems.get("bowl")
    rows, last = cli._walk(problem, "gd", problem.start, 3000, 0.01, keep={0, 10, 2999})
    assert last == 3000 and sorted(rows) == [0, 10, 2999, 3000]  # not 3001 points
    np.testing.assert_allclose(rows[10][0], np.asarray(problem.start) * 0.98**10)  # gd on x² + y²
