"""descend.plot: every picture runs headless and holds the artists a reader relies on."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # headless, before pyplot is imported anywhere

from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection

import descend
from descend import nn, optim, plot, problems
from descend.train import fit
from descend.train import lr_find as run_lr_find

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(ax, label):
    (line,) = [ln for ln in ax.lines if ln.get_label() == label]
    return line


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _assert_image(path, kind):
    data = path.read_bytes()
    assert len(data) > 1000
    if kind == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert b"<svg" in data[:2000]


# --- 1-D -----------------------------------------------------------------------------------------
def test_plot_function_draws_the_curve(tmp_path):
    fig = plot.plot_function(lambda x: x**2, "x", "x**2", save=tmp_path / "f.png")
    ax = fig.axes[0]
    (line,) = ax.lines
    xs, ys = line.get_data()
    assert xs[0] == -2 and xs[-1] == 2 and len(xs) == 200
    np.testing.assert_allclose(ys, xs**2)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "x**2")
    _assert_image(tmp_path / "f.png", "png")


def test_plot_function_accepts_tensor_only_functions_and_an_axes():
    fig, ax = plt.subplots()
    out = plot.plot_function(lambda x: descend.exp(x), x_range=(0, 1), ax=ax)
    assert out is fig
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.exp(np.linspace(0, 1, 200)), rtol=1e-6)


def test_descent_path_1d_is_the_worked_example(tmp_path):
    fig = plot.descent_path_1d("quadratic", start=0.0, lr=0.1, steps=10, save=tmp_path / "d.svg")
    ax = fig.axes[0]
    path = _line(ax, "steps")
    ws, losses = path.get_data()
    assert len(ws) == 11
    np.testing.assert_allclose(ws[:6], [0.0, 0.6, 1.08, 1.464, 1.7712, 2.01696], rtol=1e-12)
    np.testing.assert_allclose(losses, (ws - 3) ** 2, rtol=1e-12)
    assert path.get_color() == "red"
    # Each step is a dashed corner above the curve: across at the old loss, then down to the new one.
    stairs = [ln for ln in ax.lines if ln.get_linestyle() == "--" and ln.get_color() == "red"]
    assert len(stairs) == 1
    sw, sl = stairs[0].get_data()
    np.testing.assert_allclose(sw[:4], [0.0, 0.6, 0.6, 1.08])
    np.testing.assert_allclose(sl[:4], [9.0, 9.0, losses[1], losses[1]])
    texts = _texts(ax)
    numbers = sorted(int(t) for t in texts if t.isdigit())
    assert numbers == list(range(len(numbers))) and len(numbers) >= 4  # in order, none skipped
    assert f"after 10 steps: w = {ws[-1]:.4g}, loss = {losses[-1]:.4g}" in texts
    assert ax.get_title() == "GD (lr=0.1) on (w − 3)²: 10 steps from w = 0"
    # The view is centred on the minimum and holds the whole path.
    lo, hi = ax.get_xlim()
    assert lo < 0 < 3 < hi and (lo + hi) / 2 == pytest.approx(3.0)
    _assert_image(tmp_path / "d.svg", "svg")


def test_descent_path_1d_on_a_plain_function_into_an_axes():
    fig, ax = plt.subplots()
    out = plot.descent_path_1d(lambda w: (w + 1) ** 2, start=2.0, optimizer="momentum", lr=0.05, steps=6,
                               ax=ax)
    assert out is fig
    assert len(_line(ax, "steps").get_xdata()) == 7
    assert "Momentum (lr=0.05, momentum=0.9)" in ax.get_title()


def test_descent_path_1d_errors():
    with pytest.raises(ValueError, match="start is required"):
        plot.descent_path_1d(lambda w: w**2)
    with pytest.raises(ValueError, match="rosenbrock is 2-D; 1-D problems: quadratic, parabola"):
        plot.descent_path_1d("rosenbrock")
    with pytest.raises(TypeError, match="loss_fn must be a callable"):
        plot.descent_path_1d(3.0, start=1.0)


def test_learning_rates_1d_titles_say_what_happened(tmp_path):
    fig = plot.learning_rates_1d("quadratic", start=0.0, steps=10, save=tmp_path / "lr.png")
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    # Default learning rates come from the curvature 2: 0.035/2, 0.3/2, 1.8/2, 2.15/2 at 2 digits.
    assert [t.splitlines()[0] for t in titles] == ["lr = 0.017", "lr = 0.15", "lr = 0.9", "lr = 1.1"]
    kinds = [t.splitlines()[1].split(":")[0] for t in titles]
    assert kinds == ["too small", "good", "bouncing", "diverges"]
    # Too small: GD on (w-3)^2 keeps a factor (1 - 2 lr) of the distance per step.
    covered = 1 - (1 - 2 * 0.017) ** 10
    assert titles[0].splitlines()[1] == f"too small: 10 steps get only {covered:.0%} of the way"
    assert titles[3].splitlines()[1] == f"diverges: loss grows from 9 to {(3 * 1.2**10) ** 2:.3g}"
    for ax in fig.axes:
        assert len(_line(ax, "steps").get_xdata()) == 11
    # The diverging path must not stretch the shared view.
    assert fig.axes[3].get_xlim() == fig.axes[0].get_xlim()
    assert fig.axes[0].get_xlim()[1] < 8
    _assert_image(tmp_path / "lr.png", "png")


def test_learning_rates_1d_verdicts_on_a_plain_function():
    fig = plot.learning_rates_1d(lambda w: 2 * (w + 1) ** 2, start=1.0, lrs=(0.01, 0.1, 0.45, 0.6), steps=8)
    kinds = [ax.get_title().splitlines()[1].split(":")[0] for ax in fig.axes]
    assert kinds == ["too small", "good", "bouncing", "diverges"]


def test_learning_rates_1d_overflow_is_reported_not_raised():
    fig = plot.learning_rates_1d("parabola", lrs=(1e6,), steps=100)
    assert fig.axes[0].get_title().splitlines()[1].startswith("diverges: overflows at step ")


# --- 2-D -----------------------------------------------------------------------------------------
def test_contour_paths_one_line_per_optimizer(tmp_path):
    optimizers = {"GD": (optim.GD, {"lr": 1e-3}), "Momentum": ("momentum", {"lr": 1e-3}),
                  "Adam": ("adam", {})}
    fig = plot.contour_paths("rosenbrock", optimizers, steps=20, save=tmp_path / "c.png")
    contour, losses, colorbar = fig.axes
    problem = problems.get("rosenbrock")
    for label in ("GD (lr=0.001)", "Momentum (lr=0.001, momentum=0.9)", "Adam (lr=0.1)"):
        xs, ys = _line(contour, label).get_data()
        assert len(xs) == len(ys) == 21
        assert (xs[0], ys[0]) == problem.start
    expected, _ = problem.path("adam", steps=20)
    np.testing.assert_array_equal(_line(contour, "Adam (lr=0.1)").get_xdata(), expected[:, 0])
    star = _line(contour, "minimum (1, 1)")
    assert (list(star.get_xdata()), list(star.get_ydata())) == ([1.0], [1.0])
    legend = [t.get_text() for t in contour.get_legend().get_texts()]
    assert all("lr=" in t for t in legend[:3])
    assert contour.get_xlim() == problem.x_range and contour.get_ylim() == problem.y_range
    assert losses.get_yscale() == "log"
    assert len(losses.lines) == 3 and all(len(ln.get_xdata()) == 21 for ln in losses.lines)
    assert "log-spaced" in colorbar.get_ylabel()
    _assert_image(tmp_path / "c.png", "png")


def test_contour_paths_keeps_the_view_when_a_path_diverges():
    fig = plot.contour_paths("bowl", {"too fast": ("gd", {"lr": 1.5}), "fine": ("gd", {"lr": 0.1})}, steps=10)
    ax = fig.axes[0]
    xs, _ = _line(ax, "too fast (lr=1.5)").get_data()
    assert np.nanmax(np.abs(xs)) > 100
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-2.0, 2.0)
    # The loss panel is capped a few decades above the start, not at the runaway's value.
    assert fig.axes[1].get_ylim()[1] <= 2 * 3.69e3


def test_contour_paths_saddle_and_himmelblau_markers():
    fig = plot.contour_paths("saddle", ["sgd", "adam"], steps=15)
    ax, losses, _ = fig.axes
    assert _line(ax, "saddle point (no minimum)").get_xydata().tolist() == [[0.0, 0.0]]
    assert [ln.get_label() for ln in ax.lines][:2] == ["SGD (lr=0.1)", "Adam (lr=0.05)"]
    assert losses.get_yscale() == "symlog"  # the loss goes negative
    fig = plot.contour_paths("himmelblau", "gd", steps=5)
    assert len(_line(fig.axes[0], "4 minima").get_xdata()) == 4


def test_contour_paths_into_given_axes_and_errors():
    fig, ax = plt.subplots()
    assert plot.contour_paths("beale", {"Adam": "adam"}, steps=5, ax=ax) is fig
    assert len(_line(ax, "Adam (lr=0.1)").get_xdata()) == 6
    with pytest.raises(ValueError, match="needs a 2-D problem, quadratic is 1-D"):
        plot.contour_paths("quadratic")
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        plot.contour_paths("bowl", ["nope"])


# --- fitting pictures ----------------------------------------------------------------------------
def _quadratic_model(t, params):
    a, b, c = params
    return a * (t**2) + (b * t) + c


def test_predictions_over_steps_is_the_tutorials_row(tmp_path):
    t = np.arange(20, dtype=np.float32)
    rng = np.random.default_rng(0)
    speed = (rng.standard_normal(20) + 0.5 * (t - 9.5) ** 2 + 1).astype(np.float32)
    params = descend.tensor([0.0121, -0.6397, 0.6416])
    fig = plot.predictions_over_steps(_quadratic_model, params, t, speed, steps=4, lr=1e-5,
                                      save=tmp_path / "p.png")
    assert len(fig.axes) == 4
    np.testing.assert_array_equal(params.numpy(), np.float32([0.0121, -0.6397, 0.6416]))  # untouched

    # Plain GD on the MSE, by hand in float64.
    p = np.array([0.0121, -0.6397, 0.6416])
    features = np.stack([t**2, t, np.ones_like(t)], axis=1).astype(np.float64)
    for step, ax in enumerate(fig.axes):
        preds = features @ p
        assert ax.get_title() == f"step {step}: loss {np.mean((preds - speed) ** 2):.4g}"
        data, predictions = [c for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_allclose(predictions.get_offsets()[:, 1], preds, rtol=1e-4)
        np.testing.assert_allclose(data.get_offsets()[:, 1], speed)
        p = p - 1e-5 * features.T @ (2 * (preds - speed) / 20)
    _assert_image(tmp_path / "p.png", "png")


def test_predictions_over_steps_every_and_errors():
    t = np.arange(5, dtype=np.float32)
    fig = plot.predictions_over_steps(_quadratic_model, [0.0, 0.0, 0.0], t, t**2, steps=3, lr=1e-3, every=5)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["step 0", "step 5", "step 10"]
    with pytest.raises(ValueError, match="steps and every must be >= 1"):
        plot.predictions_over_steps(_quadratic_model, [0.0, 0.0, 0.0], t, t, steps=0)


def test_sampling_comparison_is_fair(tmp_path):
    fig = plot.sampling_comparison(epochs=3, batch_size=8, save=tmp_path / "s.svg")
    per_epoch, per_update = fig.axes
    assert len(per_epoch.lines) == len(per_update.lines) == 3
    updates = [len(ln.get_xdata()) - 1 for ln in per_epoch.lines]
    assert updates == [3, 3 * 8, 3 * 64]  # batch, mini-batch of 8, stochastic on 64 points
    for line in per_epoch.lines:
        xs, ys = line.get_data()
        assert xs[0] == 0 and xs[-1] == 3  # every variant sees the same 3 epochs of samples
        assert ys[0] == per_epoch.lines[0].get_ydata()[0]  # ... from the same start
        assert ys[-1] < ys[0]
    assert per_epoch.get_xlabel() == "epochs (samples seen / 64)"
    assert per_update.get_xscale() == "log"
    _assert_image(tmp_path / "s.svg", "svg")


def test_sampling_comparison_with_a_module():
    descend.manual_seed(0)
    x = descend.linspace(-1, 1, 12).reshape(-1, 1)
    y = 3 * x
    model = nn.Linear(1, 1)
    before = model.weight.detach().numpy().copy()
    fig = plot.sampling_comparison(x, y, model, epochs=2, batch_size=4, lr=0.1)
    assert [len(ln.get_xdata()) for ln in fig.axes[0].lines] == [3, 7, 25]
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)  # each variant trained a copy
    with pytest.raises(ValueError, match="model_fn is required"):
        plot.sampling_comparison(x, y)


# --- training pictures ---------------------------------------------------------------------------
def _tiny_fit(epochs=4, scheduler=False):
    """A 3-class classifier on 32 points, trained briefly with fit."""
    descend.manual_seed(0)
    points = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    x = descend.tensor(points)
    y = descend.tensor(np.digitize(np.arctan2(points[:, 1], points[:, 0]), [-1.0, 1.0]))
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.5)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if scheduler else None
    hist = fit(model, nn.CrossEntropyLoss(), opt, (x, y), valid=(x, y), epochs=epochs, metrics=["accuracy"],
               scheduler=sched, progress=False)
    return model, x, y, hist


def test_history_panels_loss_metric_and_lr(tmp_path):
    _, _, _, hist = _tiny_fit(scheduler=True)
    fig = plot.history(hist, save=tmp_path / "h.png")
    loss, accuracy, lr = fig.axes
    np.testing.assert_allclose(_line(loss, "train loss (epoch)").get_ydata(), hist["train_loss"])
    np.testing.assert_allclose(_line(loss, "valid loss (epoch)").get_ydata(), hist["valid_loss"])
    assert len(_line(loss, "train loss (each step)").get_xdata()) == len(hist.step_loss)
    assert accuracy.get_title() == "accuracy" and len(accuracy.lines) == 2
    np.testing.assert_allclose(lr.lines[0].get_ydata(), hist.step_lr)
    _assert_image(tmp_path / "h.png", "png")


def test_history_constant_lr_goes_in_the_title_and_dicts_work():
    _, _, _, hist = _tiny_fit()
    fig = plot.history(hist)
    assert len(fig.axes) == 2
    assert "learning rate 0.5" in fig.get_suptitle()
    assert len(plot.history(hist.as_dict()).axes) == 2
    with pytest.raises(ValueError, match="the history is empty"):
        plot.history({"step_loss": [], "train_loss": []})
    with pytest.raises(TypeError, match="takes the History returned by fit"):
        plot.history([1, 2, 3])


def test_lr_find_marks_the_suggestion(tmp_path):
    lrs = np.geomspace(1e-5, 1.0, 50)
    losses = 2.0 - np.tanh(np.log10(lrs) + 2.5)
    result = SimpleNamespace(lrs=lrs, losses=losses, raw_losses=losses + 0.01, suggestion=10**-2.5,
                             stopped_early=False)
    fig = plot.lr_find(result, save=tmp_path / "lr.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(_line(ax, "smoothed loss").get_xdata(), lrs)
    vertical = [ln for ln in ax.lines if list(ln.get_xdata()) == [10**-2.5, 10**-2.5]]
    assert vertical, "no vertical line at the suggestion"
    assert any(t.startswith("suggested lr = 0.0032") for t in _texts(ax))
    _assert_image(tmp_path / "lr.png", "png")


def test_lr_find_on_a_real_run_and_without_suggestion():
    model, x, y, _ = _tiny_fit(epochs=1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = run_lr_find(model, nn.CrossEntropyLoss(), opt, (x, y), num_iter=30)
    ax = plot.lr_find(result).axes[0]
    assert len(_line(ax, "smoothed loss").get_xdata()) == len(result.lrs)
    short = SimpleNamespace(lrs=[1e-3, 1e-2], losses=[1.0, 0.9], suggestion=None)
    assert "no suggestion" in _texts(plot.lr_find(short).axes[0])[0]


def test_decision_boundary_binary_function_model(tmp_path):
    x = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.5], [2.0, -1.0]], dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    fig = plot.decision_boundary(lambda t: t[:, 0] - t[:, 1], x, y, resolution=40, save=tmp_path / "b.png")
    ax = fig.axes[0]
    assert ax.get_title() == "Decision boundary: accuracy 100.0% on these 4 points"
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in points] == [2, 2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    assert fig.axes[1].get_ylabel() == "P(class 1)"
    _assert_image(tmp_path / "b.png", "png")


def test_decision_boundary_multiclass_module_keeps_training_mode():
    model, x, y, _ = _tiny_fit(epochs=2)
    model.train()
    fig = plot.decision_boundary(model, x, y, resolution=30)
    assert model.training
    ax = fig.axes[0]
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (30, 30, 3)
    assert ax.get_title().startswith("Decision boundary: accuracy ")


def test_decision_boundary_errors():
    with pytest.raises(ValueError, match=r"needs \(N, 2\) points, got shape \(3,\)"):
        plot.decision_boundary(lambda t: t, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="x has 2 points but y has 3 labels"):
        plot.decision_boundary(lambda t: t, np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="output must be 'logits' or 'probs'"):
        plot.decision_boundary(lambda t: t, np.zeros((2, 2)), np.zeros(2), output="scores")


# --- animation -----------------------------------------------------------------------------------
def test_animate_path_writes_gifs(tmp_path):
    from PIL import Image

    # 1-D: one frame per step (0..3) and the last one held for 1 s at 1 fps, i.e. 5 frames, of which
    # Pillow merges the two identical ones.
    fig = plot.animate_path("quadratic", steps=3, path=tmp_path / "one.gif", fps=1, dpi=40)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.axes[0].get_title().endswith(f"step 3: loss {(3 * 0.8**3) ** 2:.4g}")
    with Image.open(tmp_path / "one.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
    fig = plot.animate_path("bowl", "adam", steps=2, path=tmp_path / "two.gif", fps=1, dpi=40)
    assert len(_line(fig.axes[0], "Adam (lr=0.05)").get_xdata()) == 3
    with Image.open(tmp_path / "two.gif") as gif:
        assert gif.n_frames == 3


def test_animate_path_errors(tmp_path):
    with pytest.raises(ValueError, match="start is required"):
        plot.animate_path(lambda w: w**2, path=tmp_path / "x.gif")
    with pytest.raises(ValueError, match="animated in 1-D only"):
        plot.animate_path(lambda x, y: x**2 + y**2, start=(1.0, 1.0), lr=0.1, path=tmp_path / "x.gif")


# --- the computation graph ------------------------------------------------------------------------
def _box_texts(fig):
    return [t.get_text() for t in fig.axes[0].texts if t.get_text()]  # the arrows are empty annotations


def test_graph_draws_one_box_per_op_and_leaf_with_values_then_grads(tmp_path):
    w = descend.tensor(2.0, requires_grad=True)
    x = descend.tensor([1.0, 2.0, 3.0])
    y = descend.tensor([4.0, 8.0, 12.0])
    pred = w * x
    pred.retain_grad()
    loss = ((pred - y) ** 2).mean()
    before = plot.graph(loss, params={"w": w, "pred": pred})
    boxes = _box_texts(before)
    ops = sorted(b.splitlines()[0] for b in boxes if "Backward" in b)
    assert ops == ["MeanBackward0", "MulBackward0", "PowBackward0", "SubBackward0"]
    assert "w\nscalar\nvalue 2" in boxes  # the leaf: its name, shape and value, no grad yet
    assert any(b.startswith("MulBackward0\n-> pred\nshape (3)\nvalue [2, 4, 6]") for b in boxes)
    assert not any("grad" in b for b in boxes)
    # mean((w x - y)^2) at w = 2: d/dw = mean(2 (w x - y) x) = 2 (-2 - 8 - 18) / 3 = -18.67
    loss.backward(retain_graph=True)
    after = plot.graph(loss, params={"w": w, "pred": pred}, save=tmp_path / "graph.png")
    boxes = _box_texts(after)
    assert "w\nscalar\nvalue 2\ngrad -18.67" in boxes
    # d loss / d pred = 2 (pred - y) / 3 = [-1.333, -2.667, -4]
    assert any("grad [-1.333, -2.667, -4]" in b for b in boxes)
    assert any(b.startswith("MeanBackward0") and "grad 1" in b for b in boxes)
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    plt.close("all")


def test_graph_arrows_follow_the_forward_pass_and_name_module_parameters():
    descend.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    out = model(descend.tensor([[1.0, 2.0]])).sum()
    fig = plot.graph(out, params=model)
    texts = {t: t.get_text().splitlines()[0] for t in fig.axes[0].texts if t.get_text()}
    wanted = {"0.weight", "0.bias", "2.weight", "2.bias", "ReluBackward0", "SumBackward0"}
    assert wanted <= set(texts.values())
    edges = []
    for child in fig.axes[0].get_children():
        xy = getattr(child, "xycoords", None)
        if xy in texts and getattr(child, "anncoords", None) in texts:
            edges.append((texts[child.anncoords], texts[xy]))
    assert ("ReluBackward0", "AddmmBackward0") in edges and ("AddmmBackward0", "SumBackward0") in edges
    assert ("2.weight", "AddmmBackward0") in edges
    # Forward runs left to right: every arrow's source sits left of its target.
    positions = {t.get_text().splitlines()[0]: t.get_position()[0] for t in texts}
    assert positions["0.weight"] < positions["ReluBackward0"] < positions["SumBackward0"]
    plt.close("all")


def test_graph_of_a_leaf_and_wrong_input():
    w = descend.tensor([1.0, 2.0], requires_grad=True)
    assert _box_texts(plot.graph(w, params={"w": w})) == ["w\nshape (2)\nvalue [1, 2]"]
    with pytest.raises(TypeError, match="graph of a descend Tensor, got list"):
        plot.graph([1.0])
    plt.close("all")


def test_log_axes_label_without_overprinting():
    from matplotlib.ticker import NullFormatter

    hist = SimpleNamespace(series={"train_loss": [2.0, 1.0, 0.5, 0.3]}, step_loss=[2.0, 1.0, 0.5, 0.3],
                           step_lr=[1e-4, 1e-3, 1e-2, 1e-1], stop_reason="completed")
    fig = plot.history(hist)
    lr_ax = fig.axes[-1]
    assert lr_ax.get_yscale() == "log"
    assert isinstance(lr_ax.yaxis.get_minor_formatter(), NullFormatter)  # minor ticks: marks only
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent() for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            for a, b in zip(boxes, boxes[1:]):
                assert not a.overlaps(b), [t.get_text() for t in axis.get_ticklabels()]
    plt.close("all")


def test_animation_titles_fit_the_frame(tmp_path):
    fig = plot.animate_path("himmelblau", "momentum", steps=5, start=(-1.0, -1.0), path=tmp_path / "p.gif")
    title = fig.axes[0].title
    box = title.get_window_extent(fig.canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    assert title.get_text().startswith("Momentum (lr=") and "on himmelblau" in title.get_text()
    plt.close("all")


def test_plot_function_takes_fastai_names():
    fig = plot.plot_function(lambda v: v**2, tx="x", ty="x**2", title="t", min=-3, max=1, figsize=(5, 3))
    ax = fig.axes[0]
    line = ax.lines[0].get_xdata()
    assert (ax.get_xlabel(), ax.get_ylabel(), line[0], line[-1]) == ("x", "x**2", -3.0, 1.0)
    assert tuple(fig.get_size_inches()) == (5.0, 3.0)
    with pytest.raises(TypeError, match="both xlabel= and fastai's tx="):
        plot.plot_function(lambda v: v, "a", tx="b")
    with pytest.raises(ValueError, match="min < max"):
        plot.plot_function(lambda v: v, min=1, max=1)
    plt.close("all")


def test_to_np_detaches_a_tensor_that_requires_grad():
    t = descend.tensor([1.5, 2.0], requires_grad=True)
    arr = descend.to_np(t)
    assert isinstance(arr, np.ndarray) and arr.tolist() == [1.5, 2.0]
    arr[0] = 9.0
    assert t.tolist() == [1.5, 2.0]  # a copy: changing it leaves the tensor alone
    assert plot.to_np is descend.to_np


def test_lr_find_result_plots_and_frames_its_curve():
    descend.manual_seed(0)
    x = descend.linspace(-1, 1, 64).reshape(-1, 1)
    model = nn.Linear(1, 1)
    result = run_lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, 3 * x), num_iter=40)
    fig = result.plot()
    ax = fig.axes[0]
    lowest = int(np.argmin(result.losses))
    bottom, top = ax.get_ylim()
    head = result.losses[: lowest + 1]
    assert bottom < head.min() and head.max() < top  # the curve up to its valley is inside the axes
    assert result._repr_png_()[:4] == b"\x89PNG"
    plt.close("all")
