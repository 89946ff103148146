"""descend in a real Jupyter kernel: each picture shows once, fit shows live progress, results draw.

One notebook is built with nbformat and executed by nbclient in an ipykernel running this very
Python (a kernelspec written to a temporary JUPYTER_PATH), then each test reads one cell's outputs.
"""

import json
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SETUP = """
import descend
from descend import nn, optim, plot
x = descend.linspace(-1, 1, 32).reshape(-1, 1)
y = 3 * x
"""

CELLS = {
    "one_call": 'plot.descent_path_1d("quadratic", start=0.0, lr=0.1, steps=5)',
    "two_calls": 'plot.plot_function(lambda v: v**2, tx="x", ty="x**2", min=-3, max=3)\n'
                 'plot.contour_paths("bowl", steps=5)',
    "assigned": 'fig = plot.plot_function(lambda v: v**3)\nprint(type(fig).__name__)',
    "shown_later": "fig",
    "animation": 'plot.animate_path("quadratic", "gd", lr=0.1, steps=4, path="a.gif")',
    "fit": "descend.manual_seed(0)\nmodel = nn.Linear(1, 1)\n"
           "hist = descend.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.3), (x, y), epochs=3)",
    "fit_quiet": "model = nn.Linear(1, 1)\n"
                 "h2 = descend.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.3), (x, y),"
                 " epochs=2, progress=False)",
    "history_plot": "hist.plot()",
    "lr_find": "model = nn.Linear(1, 1)\n"
               "descend.lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y),"
               " num_iter=20)",
    "to_np": "t = descend.tensor([1.5, 2.0], requires_grad=True)\n"
             "print(descend.to_np(t).tolist(), plot.to_np is descend.to_np)",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The outputs of each cell in CELLS, by name, after running the notebook in a real kernel."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "descend-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "descend test", "language": "python"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(root))
    mp.delenv("MPLBACKEND", raising=False)
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(c) for c in CELLS.values()]
        client = nbclient.NotebookClient(nb, kernel_name="descend-test", timeout=120,
                                         resources={"metadata": {"path": str(root)}})
        client.execute()
    finally:
        mp.undo()
    return dict(zip(CELLS, (cell.outputs for cell in nb.cells[1:]))), root


def _kinds(outs, mime):
    shown = ("display_data", "execute_result")
    return [o for o in outs if o.output_type in shown and mime in o.get("data", {})]


def test_a_plot_call_shows_its_figure_once(outputs):
    outs = outputs[0]["one_call"]
    assert len(_kinds(outs, "image/png")) == 1, outs


def test_two_plot_calls_in_a_cell_show_two_figures(outputs):
    assert len(_kinds(outputs[0]["two_calls"], "image/png")) == 2


def test_an_assigned_figure_shows_once_and_is_a_figure(outputs):
    outs = outputs[0]["assigned"]
    assert len(_kinds(outs, "image/png")) == 1
    assert any(o.output_type == "stream" and "Figure" in o.text for o in outs)
    # Shown again later by name (the inline backend closed it at the end of its cell): once.
    assert len(_kinds(outputs[0]["shown_later"], "image/png")) == 1


def test_animate_path_shows_the_animation_not_its_last_frame(outputs):
    outs, root = outputs[0]["animation"], outputs[1]
    assert len(_kinds(outs, "image/gif")) == 1 and not _kinds(outs, "image/png")
    assert (root / "a.gif").read_bytes()[:3] == b"GIF"


def test_fit_shows_one_live_display_ending_in_the_epoch_table(outputs):
    outs = outputs[0]["fit"]
    shown = _kinds(outs, "text/plain")
    assert len(shown) == 1, outs  # updated in place: one output, not a stream of lines
    text = shown[0]["data"]["text/plain"]
    assert "train_loss" in text and "trained 3 epochs" in text
    assert [line.split()[0] for line in text.splitlines()[2:5]] == ["1", "2", "3"]
    assert not [o for o in outs if o.output_type == "stream"]


def test_fit_with_progress_false_shows_nothing(outputs):
    assert outputs[0]["fit_quiet"] == []


def test_history_and_lr_find_results_draw_once(outputs):
    assert len(_kinds(outputs[0]["history_plot"], "image/png")) == 1
    assert len(_kinds(outputs[0]["lr_find"], "image/png")) == 1


def test_to_np_detaches(outputs):
    assert outputs[0]["to_np"][0].text.strip() == "[1.5, 2.0] True"
