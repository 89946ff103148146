"""`descend demo`: it completes, prints the tutorials' numbers, and writes every picture it lists
with an index.html whose links all resolve.

The quick demo runs once (in-process, through `main`) and the tests read what it printed and wrote.
"""

import contextlib
import gzip
import io
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import descend
from descend import demo
from descend.cli import main


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    """``(exit status, printed text, output folder)`` of ``descend demo --quick --out DIR``."""
    out = tmp_path_factory.mktemp("demo") / "descend-demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["demo", "--quick", "--out", str(out)])
    return code, printed.getvalue(), out


def section(text: str, number: int) -> str:
    """The printed text of section ``number`` (from its ``== N.`` heading to the next one)."""
    parts = re.split(r"^== (\d+)\. ", text, flags=re.M)
    return parts[parts.index(str(number)) + 1]


def listed(text: str) -> list[Path]:
    """The pictures the demo says it wrote: its ``-> PATH`` lines."""
    return [Path(line.split("-> ", 1)[1]) for line in text.splitlines() if line.strip().startswith("-> ")]


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.split() and line.split()[0].isdigit()]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.hrefs, self.other_sources = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag in ("script", "link", "iframe"):
            self.other_sources.append(tag)


# --- what it writes ------------------------------------------------------------------------------
def test_the_quick_demo_completes(quick_demo):
    code, text, out = quick_demo
    assert code == 0
    assert text.rstrip().endswith("in a browser to see them all with their explanations.")
    assert f"Open {out / 'index.html'}" in text  # the printed output names the index at the end


def test_every_listed_picture_is_written(quick_demo):
    _, text, out = quick_demo
    files = listed(text)
    pngs = [p for p in files if p.suffix == ".png"]
    gifs = [p for p in files if p.suffix == ".gif"]
    assert len(pngs) >= 10 and len(gifs) == 1
    assert len(set(files)) == len(files)
    for path in pngs:
        assert path.parent == out and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert path.stat().st_size > 5000, path
    assert gifs[0].read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert f"{len(pngs)} pictures and 1 animation" in text
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for p in files] + ["index.html"])


def test_index_html_links_every_picture_and_nothing_outside(quick_demo):
    _, text, out = quick_demo
    page = (out / "index.html").read_text(encoding="utf-8")
    links = _Links()
    links.feed(page)
    assert set(links.images) == {p.name for p in listed(text)}
    for src in links.images:
        assert "/" not in src and ":" not in src  # relative, in the same folder
        assert (out / src).is_file()
    # Links within the page, and each picture to its own full-size file in the folder.
    assert all(href.startswith("#") or (href in links.images) for href in links.hrefs)
    assert set(links.images) <= set(links.hrefs)
    assert links.other_sources == [] and "http" not in page  # self-contained: no scripts or external CSS
    for heading in ("Gradient descent by hand", "Autograd", "Rosenbrock and Beale", "spirals"):
        assert heading in page
    assert "tensor(9., grad_fn=&lt;PowBackward0&gt;)" in page  # each section's printed numbers are there


# --- the tutorials' numbers ----------------------------------------------------------------------
def test_worked_example_matches_the_tutorial(quick_demo):
    table = rows(section(quick_demo[1], 1))
    assert [r[-1] for r in table] == ["0.6", "1.08", "1.464", "1.7712", "2.017"]
    for k, (step, w, loss, slope, _) in enumerate(table):
        w_k = 3 - 3 * 0.8**k  # GD on (w - 3)**2 from w = 0 with lr 0.1
        assert int(step) == k + 1
        assert float(w) == pytest.approx(w_k, abs=1e-4)
        assert float(loss) == pytest.approx((w_k - 3) ** 2, abs=1e-4)
        assert float(slope) == pytest.approx(2 * (w_k - 3), abs=1e-4)


def test_one_weight_model_follows_the_tutorial(quick_demo):
    text = section(quick_demo[1], 2)
    assert re.search(r"prediction .*= 2 ", text) and re.search(r"loss .*= 4 ", text)
    assert re.search(r"gradient .*= -4 ", text) and re.search(r"update .*= 2\.4 ", text)
    table = rows(text)
    for step, prediction, loss, gradient, weight, *_ in table:
        k = int(step)
        # weight_k = 4 - 2 * 0.8**k: each GD step with lr 0.1 closes 20% of the gap to 4.
        assert float(weight) == pytest.approx(4 - 2 * 0.8**k, abs=1e-4)
        assert float(prediction) == pytest.approx(4 - 2 * 0.8 ** (k - 1), abs=1e-4)
        assert float(loss) == pytest.approx((2 * 0.8 ** (k - 1)) ** 2, abs=1e-4)
        assert float(gradient) == pytest.approx(-4 * 0.8 ** (k - 1), abs=1e-4)
    assert float(table[-1][4]) > 3.7  # approaching 4


def test_autograd_prints_the_tutorials_reprs(quick_demo):
    lines = [line.strip() for line in section(quick_demo[1], 3).splitlines()]
    assert "tensor(9., grad_fn=<PowBackward0>)" in lines
    assert any(line.startswith("tensor(6.) ") for line in lines)


def test_noisy_quadratic_loss_goes_down_every_step(quick_demo):
    losses = [float(r[1].rstrip(",")) for r in rows(section(quick_demo[1], 4))]
    assert len(losses) == 10
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[0] > 2 * losses[-1]


def test_learning_rates_are_judged_from_their_paths(quick_demo):
    table = [line.split() for line in section(quick_demo[1], 5).splitlines()
             if re.match(r"\s*\d+(\.\d+)?\s+-?\d", line)]
    verdicts = {r[0]: " ".join(r[3:]) for r in table}
    assert len(verdicts) == 4
    assert verdicts["0.01"].startswith("too small") and verdicts["0.1"].startswith("good")
    assert verdicts["0.95"].startswith("bounces") and verdicts["1.1"].startswith("diverges")


def test_mnist_is_skipped_with_a_note_on_how_to_enable_it(quick_demo):
    text = section(quick_demo[1], 9)
    assert "skipped" in text.lower() and "descend demo --data" in text


# --- the pieces ----------------------------------------------------------------------------------
def test_verdict_reads_what_a_1d_path_did():
    w = np.array
    assert demo._verdict(w([0.0, 0.06, 0.12]), 3.0).startswith("too small: only 4%")
    assert demo._verdict(w([0.0, 2.0, 2.9]), 3.0) == "good: 97% of the way to 3"
    assert demo._verdict(w([0.0, 5.0, 1.5]), 3.0).startswith("bounces across the minimum, 50%")
    assert demo._verdict(w([0.0, 6.5, -1.0]), 3.0).startswith("diverges")
    assert demo._verdict(w([0.0, np.inf]), 3.0).startswith("diverges")


def test_pick_lr_is_the_suggestion_rounded():
    class Result:
        suggestion = 0.0183

    assert demo._pick_lr(Result()) == 0.02


def test_lr_find_story_is_one_rule_with_one_default(quick_demo):
    text = section(quick_demo[1], 8)
    assert "growing from 1e-07 (its default)" in text
    assert "where the smoothed loss falls fastest" in text and "a tenth" not in text


def test_graph_section_shows_each_gradient(quick_demo):
    text = section(quick_demo[1], 3)
    # mean((w x - y)**2) at w = 2, x = 1, y = 4: error -2, d loss/d error = -4, weight.grad = -4 * x
    assert "d loss / d error  = 2 * error        = 2 * -2 = -4" in text
    assert "d loss / d weight = d loss / d pred * x = -4   (weight.grad)" in text
    names = [p.name for p in listed(quick_demo[1])]
    assert "03_graph_before.png" in names and "03_graph_after.png" in names


def test_each_optimizer_gets_the_best_of_five_rates():
    from descend import problems

    problem = problems.get("rosenbrock")
    lr, (points, losses) = demo._best_lr(problem, "adam", 60)
    tried = [float(f"{problem.lr('adam') * f:.2g}") for f in (0.1, 0.3, 1.0, 3.0, 10.0)]
    finals = [problem.path("adam", steps=60, lr=t)[1][-1] for t in tried]
    assert lr == tried[int(np.nanargmin(finals))] and losses[-1] == min(finals)


def test_simple_nn_is_the_tutorials_model():
    model = demo.SimpleNN()
    assert [tuple(p.shape) for p in model.parameters()] == [(1,)]
    out = model(descend.tensor([3.0]))
    assert out.tolist() == [6.0] and out.grad_fn is not None


def _write_idx(folder: Path, n_train: int = 40, n_test: int = 24) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, n) + labels.tobytes())
    return folder


def test_mnist_section_trains_on_a_data_folder(tmp_path, capsys):
    folder = _write_idx(tmp_path / "mnist")
    out = tmp_path / "out"
    out.mkdir()
    run = demo._Demo(out, quick=True)
    demo._mnist(run, folder)
    text = capsys.readouterr().out
    assert "test accuracy" in text and "on 24 images" in text
    assert run.files() == ["01_mnist.png"] and (out / "01_mnist.png").read_bytes()[:4] == b"\x89PNG"
    assert any(line.startswith("epoch 1/1") for line in run.sections[0].lines)  # kept for index.html
