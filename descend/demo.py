"""``descend demo``: the tutorials' worked examples, step by step, with every picture in one folder.

In order: gradient descent by hand on ``(w - 3)**2``; a one-weight model ``y = w * x`` learning
``w = 4``; autograd on ``x**2``; the noisy-quadratic fit; learning rates compared; batch vs
stochastic vs mini-batch; optimizers on Rosenbrock and Beale; an MLP classifier on spirals trained
with ``fit``; and MNIST when a data folder is given. Each section prints its numbers with one short
line on what they mean; every picture is written as a PNG (plus one animated GIF) into the output
folder, with an ``index.html`` that shows them with the printed text, needing nothing but the folder.

Example:
    >>> from descend import demo
    >>> index = demo.run(out="descend-demo", quick=True)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import html
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import descend
from descend import data, nn, optim, plot, problems
from descend.recipes import EpochLines, accuracy, load_mnist, make_optimizer, mlp
from descend.train import EarlyStopping, fit, lr_find

__all__ = ["SimpleNN", "run"]

_RULE = 78  # width of the section rules


@dataclass
class _Settings:
    """Sizes of the demo's runs: the full demo, or `--quick` (same story, fewer steps and epochs)."""

    one_weight_steps: int = 20
    gif_steps: int = 20
    sampling_epochs: int = 10
    rosenbrock_steps: int = 500
    beale_steps: int = 300
    spiral_points: int = 100  # per class
    spiral_epochs: int = 200
    spiral_patience: int = 25
    lr_find_iters: int = 100
    mnist_train: int = 20000
    mnist_epochs: int = 2
    mnist_test: int = 10000


_FULL = _Settings()
_QUICK = _Settings(one_weight_steps=10, gif_steps=8, sampling_epochs=3, rosenbrock_steps=120, beale_steps=80,
                   spiral_points=80, spiral_epochs=40, spiral_patience=10, lr_find_iters=60, mnist_train=1500,
                   mnist_epochs=1, mnist_test=2000)


@dataclass
class _Section:
    title: str
    intro: str
    lines: list[str] = field(default_factory=list)
    pictures: list[tuple[str, str, str]] = field(default_factory=list)  # (file, heading, explanation)


class _Demo:
    """Prints the sections, writes the pictures, and remembers both for index.html."""

    def __init__(self, out: Path, quick: bool):
        self.out = out
        self.quick = quick
        self.settings = _QUICK if quick else _FULL
        self.sections: list[_Section] = []

    # --- printing ---
    def section(self, title: str, intro: str) -> None:
        number = len(self.sections) + 1
        self.sections.append(_Section(title, intro))
        heading = f"== {number}. {title} "
        print()
        print(heading + "=" * max(3, _RULE - len(heading)))
        for line in intro.splitlines():
            print(f"   {line}")
        print()

    def say(self, text: str = "") -> None:
        """One line of the section's output, indented under its heading."""
        print(f"   {text}" if text else "")
        self.record(text)

    def record(self, text: str) -> None:
        """Keep a line printed elsewhere (fit's epoch lines) for the section's text in index.html."""
        self.sections[-1].lines.append(text)

    # --- pictures ---
    def picture(self, fig, name: str, heading: str, explanation: str) -> None:
        """Write ``fig`` as ``NN_name.png`` and list it under the current section."""
        filename = f"{len(self.sections):02d}_{name}.png"
        fig.savefig(self.out / filename, dpi=100)
        _close(fig)
        self._listed(filename, heading, explanation)

    def _listed(self, filename: str, heading: str, explanation: str) -> None:
        self.sections[-1].pictures.append((filename, heading, explanation))
        print(f"   -> {self.out / filename}")

    def animation(self, name: str, heading: str, explanation: str, **kwargs) -> None:
        filename = f"{len(self.sections):02d}_{name}.gif"
        fig = plot.animate_path(path=self.out / filename, **kwargs)
        _close(fig)
        self._listed(filename, heading, explanation)

    def files(self) -> list[str]:
        return [f for s in self.sections for f, _, _ in s.pictures]


def _close(fig) -> None:
    """Free a figure that pyplot made (descend.plot uses pyplot); a bare Figure needs nothing."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)


# --- 1. the worked example -----------------------------------------------------------------------
def _worked_example(demo: _Demo) -> None:
    demo.section(
        "Gradient descent by hand: L(w) = (w - 3)**2",
        "The loss is a bowl with its lowest point at w = 3; its slope is dL/dw = 2(w - 3).\n"
        "Start at w = 0 and repeat: w <- w - lr * slope, with learning rate lr = 0.1.",
    )
    w = descend.tensor(0.0, requires_grad=True)
    opt = optim.GD([w], lr=0.1)
    demo.say(f"{'step':>4}  {'w':>7}  {'loss L(w)':>9}  {'slope':>7}   new w = w - 0.1 * slope")
    for step in range(1, 6):
        loss = (w - 3) ** 2
        loss.backward()  # autograd computes the slope 2(w - 3) into w.grad
        before, slope = w.item(), w.grad.item()
        opt.step()  # w -= lr * w.grad
        opt.zero_grad()
        demo.say(f"{step:>4}  {before:>7.4f}  {loss.item():>9.4f}  {slope:>7.4f}   {round(w.item(), 4):g}")
    for _ in range(25):
        loss = (w - 3) ** 2
        loss.backward()
        opt.step()
        opt.zero_grad()
    demo.say()
    demo.say("Each step moves w closer to 3, and the moves shrink as the slope flattens.")
    demo.say(f"After 30 steps w = {w.item():.4f}: it settles at the minimum.")
    demo.picture(plot.descent_path_1d("quadratic", start=0.0, lr=0.1, steps=10), "worked_example",
                 "The worked example: 10 steps down (w - 3)**2",
                 "Red points are the weights GD visits from w = 0; the dashed lines are the steps, "
                 "shorter as the slope flattens.")
    demo.animation("descent", "The same descent, animated",
                   "One frame per step: gradient descent walking down the loss curve to w = 3.",
                   problem_or_fn="quadratic", optimizer="GD", lr=0.1, start=0.0,
                   steps=demo.settings.gif_steps, fps=4)


# --- 2. a one-weight model -----------------------------------------------------------------------
class SimpleNN(nn.Module):
    """The tutorial's model with one weight: ``y = weight * x``, the weight starting at 2.

    Example:
        >>> SimpleNN()(descend.tensor([1.0]))
        tensor([2.], grad_fn=<MulBackward0>)
    """

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(descend.tensor([2.0], requires_grad=True))  # start with weight = 2

    def forward(self, x):
        return self.weight * x  # simple linear model: y = weight * x


def _one_weight(demo: _Demo) -> None:
    steps = demo.settings.one_weight_steps
    demo.section(
        "A one-weight model learns w = 4: y = w * x",
        "SimpleNN has one nn.Parameter, weight = 2. The data is one point: x = 1, y = 4,\n"
        "so the right weight is 4. Loss: nn.MSELoss(); optimizer: optim.GD, lr = 0.1.",
    )
    model = SimpleNN()
    loss_fn = nn.MSELoss()
    optimizer = optim.GD(model.parameters(), lr=0.1)
    x_train, y_train = descend.tensor([1.0]), descend.tensor([4.0])

    y_pred = model(x_train)  # step 4: forward pass
    loss = loss_fn(y_pred, y_train)  # step 5: the loss
    loss.backward()  # step 6: backpropagation
    grad = model.weight.grad.item()
    optimizer.step()  # step 7: weight -= lr * gradient
    optimizer.zero_grad()
    demo.say(f"prediction  weight * x = 2 * 1      = {y_pred.item():<4g} (the answer is 4: wrong)")
    demo.say(f"loss        (prediction - 4)**2      = {loss.item():<4g} (MSE of one point)")
    demo.say(f"gradient    2 * (prediction - 4) * x = {grad:<4g} (negative: a larger weight lowers the loss)")
    demo.say(f"update      2 - 0.1 * ({grad:g})           = {model.weight.item():<4g} (closer to 4)")
    demo.say()
    demo.say(f"{'step':>4}  {'prediction':>10}  {'loss':>8}  {'gradient':>8}  {'new weight':>10}")
    demo.say(f"{1:>4}  {2.0:>10.4f}  {loss.item():>8.4f}  {grad:>8.4f}  {model.weight.item():>10.4f}   "
             "(the step above)")
    rows = {2, 3, 4, 5, steps} | set(range(10, steps + 1, 5))
    for step in range(2, steps + 1):
        y_pred = model(x_train)
        loss = loss_fn(y_pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        grad = model.weight.grad.item()
        optimizer.step()
        if step in rows:
            demo.say(f"{step:>4}  {y_pred.item():>10.4f}  {loss.item():>8.4f}  {grad:>8.4f}  "
                     f"{model.weight.item():>10.4f}")
    demo.say()
    demo.say("The weight approaches 4 and the loss 0: each step closes 20% of the gap (1 - 2 * lr = 0.8).")
    fig = plot.descent_path_1d(lambda w: (w * 1.0 - 4.0) ** 2, start=2.0, lr=0.1, steps=steps,
                               title=f"MSE loss of y = w * x at x = 1, y = 4: {steps} GD steps from w = 2")
    demo.picture(fig, "one_weight", "One weight learning w = 4",
                 "The loss (w*1 - 4)**2 as a function of the weight: GD walks from 2 toward 4.")


# --- 3. autograd ---------------------------------------------------------------------------------
def _autograd(demo: _Demo) -> None:
    demo.section(
        "Autograd: the derivative of x**2 at x = 3",
        "requires_grad_() tags a tensor; every operation on it is recorded, and backward()\n"
        "walks the record in reverse with the chain rule.",
    )

    def f(x):
        return x**2

    xt = descend.tensor(3.0).requires_grad_()
    yt = f(xt)
    demo.say(">>> xt = descend.tensor(3.).requires_grad_()")
    demo.say(">>> yt = f(xt)              # f(x) = x**2")
    demo.say(">>> yt")
    demo.say(f"{yt!r}")
    yt.backward()
    demo.say(">>> yt.backward()")
    demo.say(">>> xt.grad")
    demo.say(f"{xt.grad!r:<26}  # d(x**2)/dx = 2x = 2 * 3 = 6")
    demo.say()
    demo.say("grad_fn=<PowBackward0> is the recorded step that backward() undoes.")
    fig = plot.plot_function(f, "x", "x**2", x_range=(-4.0, 4.0),
                             title="f(x) = x**2 and its slope 6 at x = 3")
    ax = fig.axes[0]
    xs = np.linspace(1.6, 4.0, 2)
    ax.plot(xs, 9.0 + 6.0 * (xs - 3.0), "--", color="red", lw=1.5,
            label="tangent at x = 3: slope xt.grad = 6")
    ax.scatter([3.0], [9.0], color="red", zorder=5)
    ax.scatter([-1.5], [2.25], color="orange", zorder=5, label="x = -1.5: slope -3, so step right")
    ax.legend(loc="upper center", fontsize=9)
    demo.picture(fig, "autograd", "The slope autograd computed",
                 "The red dashed line touches x**2 at x = 3 with slope 6, the value of xt.grad.")
    _graph(demo)


def _graph(demo: _Demo) -> None:
    """The one-weight model's loss as a graph: before backward (values) and after (every gradient)."""
    model = SimpleNN()
    x, y = descend.tensor([1.0]), descend.tensor([4.0])
    pred = model(x)
    pred.retain_grad()  # keep the gradient of this intermediate result, to show it
    error = pred - y
    error.retain_grad()
    loss = (error**2).mean()
    named = {"weight": model.weight, "pred = w * x": pred, "error = pred - y": error}
    demo.say()
    demo.say("The same one-weight model's loss, mean((w * x - y)**2) at w = 2, x = 1, y = 4, as a graph:")
    demo.say("loss.grad_fn is MeanBackward0; its next_functions lead to PowBackward0, SubBackward0,")
    demo.say("MulBackward0 and the weight. backward() sends d loss / d loss = 1 back along the arrows:")
    demo.picture(plot.graph(loss, params=named), "graph_before", "The computation graph, before backward()",
                 "One box per operation (its grad_fn name) and for the weight, with each value; arrows run "
                 "in the direction of the forward pass.")
    loss.backward(retain_graph=True)  # keep the graph, to draw it again with the gradients
    demo.say(f"  d loss / d error  = 2 * error        = 2 * {error.item():g} = {error.grad.item():g}")
    demo.say(f"  d loss / d pred   = d loss / d error = {pred.grad.item():g}")
    demo.say(f"  d loss / d weight = d loss / d pred * x = {model.weight.grad.item():g}   (weight.grad)")
    demo.picture(plot.graph(loss, params=named), "graph_after", "The computation graph, after backward()",
                 "Each box now shows its gradient; the red dashed arrows are the gradient flowing back, "
                 "from the loss to the weight.")


# --- 4. the noisy quadratic ----------------------------------------------------------------------
def _noisy_quadratic(demo: _Demo) -> None:
    demo.section(
        "Fitting a noisy quadratic: the seven steps",
        "Speed measured at 20 time steps (with noise); the model a*t**2 + b*t + c starts random.\n"
        "Each step: predict, MSE loss, backward, params -= 1e-5 * grad, zero the grad.",
    )
    # The tutorial's own code with `import descend as torch`; seed 101 gives a start like its own.
    torch = descend
    torch.manual_seed(101)
    time_ = torch.arange(0, 20).float()
    speed = torch.randn(20) + 0.50 * (time_ - 9.5) ** 2 + 1

    def f(t, params):
        a, b, c = params
        return a * (t**2) + (b * t) + c

    def mse(preds, targets):
        return ((preds - targets) ** 2).mean()

    params = torch.randn(3).requires_grad_()
    start = params.detach().clone()
    lr = 1e-5
    demo.say(f"params = torch.randn(3).requires_grad_()  ->  a, b, c = {_triple(params)}")
    demo.say()
    demo.say(f"{'step':>4}  {'loss':>10}   a, b, c after the step")
    for step in range(1, 11):
        preds = f(time_, params)
        loss = mse(preds, speed)
        loss.backward()
        params.data -= lr * params.grad.data
        params.grad = None
        demo.say(f"{step:>4}  {loss.item():>10.4f}   {_triple(params)}")
    demo.say()
    demo.say("The loss goes down, fast at first; each step is a different quadratic being tried.")
    demo.say("It then stalls: with lr = 1e-5 only a (times t**2, up to 361) moves; b and c barely do.")
    fig = plot.predictions_over_steps(f, start, time_, speed, steps=4, lr=lr, xlabel="time", ylabel="speed")
    demo.picture(fig, "noisy_quadratic", "Predictions approaching the data",
                 "Blue: the measured speeds; red: the quadratic's predictions after 0, 1, 2 and 3 steps.")


def _triple(t) -> str:
    return ", ".join(f"{v:8.4f}" for v in t.tolist())


# --- 5. learning rates ---------------------------------------------------------------------------
def _learning_rates(demo: _Demo) -> None:
    demo.section(
        "Learning rates compared on (w - 3)**2",
        "The same 10 steps from w = 0 with four learning rates: too small, good, too large.",
    )
    lrs = (0.01, 0.1, 0.95, 1.1)
    demo.say(f"{'lr':>6}  {'w after 10 steps':>16}  {'loss':>10}   what happened")
    for lr in lrs:
        points, losses = problems.run_path(problems.get("quadratic").f, 0.0, "gd", steps=10, lr=lr)
        w = points[-1, 0]
        demo.say(f"{lr:>6g}  {w:>16.4f}  {losses[-1]:>10.4g}   {_verdict(points[:, 0], 3.0)}")
    demo.say()
    demo.say("Too small crawls; too large overshoots the bottom each step, and past lr = 1 it diverges.")
    fig = plot.learning_rates_1d("quadratic", start=0.0, lrs=lrs, steps=10)
    demo.picture(fig, "learning_rates", "Four learning rates, side by side",
                 "Each panel is 10 GD steps from w = 0; its title says what that learning rate did.")


def _verdict(ws: np.ndarray, w_star: float) -> str:
    """What a 1-D descent did, read from its path: crawled, converged, bounced or diverged."""
    gaps = np.abs(ws - w_star)
    if not np.all(np.isfinite(ws)) or gaps[-1] > gaps[0]:
        return "diverges: every step overshoots further"
    crossed = np.any(np.sign(ws[1:] - w_star) != np.sign(ws[:-1] - w_star))
    progress = 1 - gaps[-1] / gaps[0]
    if crossed:
        return f"bounces across the minimum, {progress:.0%} of the way there"
    if progress < 0.5:
        return f"too small: only {progress:.0%} of the way to 3"
    return f"good: {progress:.0%} of the way to 3"


# --- 6. batch vs stochastic vs mini-batch --------------------------------------------------------
def _sampling(demo: _Demo) -> None:
    epochs = demo.settings.sampling_epochs
    demo.section(
        "Batch GD vs stochastic GD vs mini-batch",
        f"64 points of y = 4x + 1 + noise, the model nn.Linear(1, 1), SGD lr = 0.1, {epochs} epochs.\n"
        "One knob changes: DataLoader(batch_size=...) uses all points, one, or 8 per step.",
    )
    x, y = data.linear(n=64, w=4.0, b=1.0, noise=0.3, seed=0)
    descend.manual_seed(0)
    start = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    demo.say(f"{'variant':<22}{'batch':>6}{'updates':>9}{'final loss':>12}{'w':>8}{'b':>8}")
    for name, batch in (("batch GD", None), ("mini-batch", 8), ("stochastic GD", 1)):
        model = copy.deepcopy(start)  # the same starting weights for all three
        loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch, shuffle=True, seed=0)
        history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), loader, epochs=epochs,
                      progress=False)
        with descend.no_grad():
            final = loss_fn(model(x), y).item()
        demo.say(f"{name:<22}{batch or 64:>6}{len(history.step_loss):>9}{final:>12.4f}"
                 f"{model.weight.item():>8.3f}{model.bias.item():>8.3f}")
    demo.say()
    demo.say("Same work (epochs), more updates: small batches learn faster per epoch but noisily.")
    fig = plot.sampling_comparison(x, y, model_fn=start, epochs=epochs, lr=0.1, batch_size=8)
    demo.picture(fig, "sampling", "Batch vs mini-batch vs stochastic",
                 "Loss on all the data after every update: per epoch (left) and per update (right).")


# --- 7. optimizers on Rosenbrock and Beale -------------------------------------------------------
_OPTIMIZERS_2D = ("gd", "momentum", "rmsprop", "adam")


def _optimizers_2d(demo: _Demo) -> None:
    s = demo.settings
    demo.section(
        "Optimizers on Rosenbrock and Beale",
        "Four optimizers from the same start, each with the learning rate that suits it best on that\n"
        "problem (of five tried: its preset times 0.1, 0.3, 1, 3 and 10, by the final loss).\n"
        "Momentum remembers past steps; RMSprop and Adam scale each coordinate's step by its history.",
    )
    for name, steps in (("rosenbrock", s.rosenbrock_steps), ("beale", s.beale_steps)):
        problem = problems.get(name)
        demo.say(f"{name}: f(x, y) = {_ascii(problem.formula)}")
        demo.say(f"start at {_short(problem.start)}, minimum at {_short(problem.minima[0])}, {steps} steps")
        optimizers, rows = {}, []
        for key in _OPTIMIZERS_2D:
            lr, (points, losses) = _best_lr(problem, key, steps)
            rows.append((problems.optimizer_label(key, {"lr": lr}), _pt(points[-1]), losses[-1]))
            optimizers[problems.OPTIMIZERS[key][2]] = (key, {"lr": lr})
        width = max(len(r[0]) for r in rows) + 2
        demo.say(f"  {'optimizer':<{width}}{'final point':>18}{'final loss':>12}")
        for label, point, loss in rows:
            demo.say(f"  {label:<{width}}{point:>18}{loss:>12.3g}")
        for label, _, loss in rows:
            if label.startswith("RMSprop") and not loss < 0.1:
                demo.say("  RMSprop stays far from the minimum at every rate tried: its steps are about lr "
                         "long in each")
                demo.say("  coordinate whatever the slope, so they zigzag across the narrow curved valley.")
        demo.say()
        explanation = {
            "rosenbrock": "A curved valley with a flat floor: finding it is easy, following it to (1, 1) "
                          "is slow for plain GD.",
            "beale": "Steep walls around a flat valley: one learning rate cannot suit both, so "
                     "per-coordinate step sizes help.",
        }[name]
        demo.picture(plot.contour_paths(problem, optimizers, steps=steps), name,
                     f"Four optimizers on {name.capitalize()}", explanation)
    demo.say("Plain GD must use a tiny lr to stay stable on the steep walls, so it crawls along the floor.")


def _best_lr(problem, key: str, steps: int):
    """The learning rate, among the preset times 0.1, 0.3, 1, 3 and 10, whose run ends lowest, and its run.

    A preset suits most optimizers; RMSprop's on Rosenbrock (0.01) stalls at loss 0.98, so each
    optimizer gets the best of five from the same start.
    """
    best = None
    for factor in (0.1, 0.3, 1.0, 3.0, 10.0):
        lr = float(f"{problem.lr(key) * factor:.2g}")
        points, losses = problem.path(key, steps=steps, lr=lr)
        final = losses[-1] if np.isfinite(losses[-1]) else np.inf
        if best is None or final < best[0]:
            best = (final, lr, (points, losses))
    return best[1], best[2]


def _ascii(formula: str) -> str:
    """The problems' formulas use − and ²; print them as Python writes them."""
    return (formula.replace("−", "-").replace("²", "**2").replace("³", "**3")
            .replace("xy**2", "x*y**2").replace("xy**3", "x*y**3").replace("xy", "x*y"))


def _pt(p) -> str:
    """A point for a table column: fixed 4 decimals, so the columns line up."""
    return "(" + ", ".join(f"{float(c):.4f}" for c in p) + ")"


def _short(p) -> str:
    """A point in a sentence: ``(-1.5, 2)``."""
    return "(" + ", ".join(f"{float(c):g}" for c in p) + ")"


# --- 8. a classifier on spirals ------------------------------------------------------------------
def _pick_lr(result) -> float:
    """The range test's suggestion (where the smoothed loss falls fastest), to one significant digit.

    One rule everywhere: ``descend.lr_find``, ``descend lr-find`` and this demo all suggest the
    steepest point of the smoothed curve, and the picture marks that point.
    """
    if result.suggestion is None:
        raise RuntimeError("lr_find made too few steps to suggest a learning rate")
    return float(f"{result.suggestion:.1g}")


def _spirals(demo: _Demo) -> None:
    s = demo.settings
    demo.section(
        "An MLP learns three interleaved spirals",
        f"{3 * s.spiral_points} points in 3 classes no straight line can separate; 20% held out for "
        "validation.\nModel 2-64-64-3 with ReLU, cross-entropy loss, Adam, mini-batches of 32.",
    )
    x, y = data.spirals(s.spiral_points, classes=3, noise=0.2, seed=0)
    train_set, valid_set = data.random_split(data.TensorDataset(x, y), [0.8, 0.2], seed=0)
    loader = data.DataLoader(train_set, batch_size=32, shuffle=True, seed=0)
    valid_idx = valid_set.indices
    valid = (x[valid_idx], y[valid_idx])
    descend.manual_seed(0)
    model = mlp(2, 64, 3, layers=2)
    loss_fn = nn.CrossEntropyLoss()

    result = lr_find(model, loss_fn, optim.Adam(model.parameters(), lr=1e-3), loader, end_lr=10.0,
                     num_iter=s.lr_find_iters)
    lr = _pick_lr(result)
    stopped = ", until the loss exploded" if result.stopped_early else ""
    demo.say(f"lr_find trains {len(result.lrs)} steps with the lr growing from {result.lrs[0]:g} "
             f"(its default){stopped}.")
    demo.say(f"Its suggestion is where the smoothed loss falls fastest: lr = {result.suggestion:.2g}; "
             f"we round it to {lr:g}.")
    demo.say(f"We train with Adam, lr = {lr:g}, for up to {s.spiral_epochs} epochs, stopping early after "
             f"{s.spiral_patience} epochs")
    demo.say("without a better validation loss (and keeping the best weights).")
    demo.say()
    demo.picture(plot.lr_find(result), "lr_find", "Finding a learning rate",
                 "Loss while the learning rate grows every step; the red line marks the suggestion, where "
                 "the smoothed loss falls fastest.")

    optimizer = optim.Adam(model.parameters(), lr=lr)
    stopper = EarlyStopping(patience=s.spiral_patience, restore_best_weights=True)
    lines = EpochLines(every=max(5, s.spiral_epochs // 10), indent="   ", on_line=demo.record)
    started = time.perf_counter()
    # The stopper runs first, so the epoch lines know when it has stopped training and print that epoch.
    history = fit(model, loss_fn, optimizer, loader, valid=valid, epochs=s.spiral_epochs,
                  callbacks=[stopper, lines], metrics=["accuracy"], progress=True)
    seconds = time.perf_counter() - started
    train_acc = accuracy(model, x[train_set.indices], y[train_set.indices])
    valid_acc = accuracy(model, *valid)
    demo.say()
    if history.stop_reason == "early_stopping":
        demo.say(f"Early stopping after epoch {history.epochs}: the valid loss was best at epoch "
                 f"{stopper.best_epoch}, whose weights are kept.")
    else:
        demo.say(f"Trained all {history.epochs} epochs in {seconds:.2f} s (best valid loss at epoch "
                 f"{stopper.best_epoch}, whose weights are kept).")
    demo.say(f"Accuracy: {train_acc:.1%} on the training points, {valid_acc:.1%} on the held-out ones.")
    demo.picture(plot.decision_boundary(model, x, y), "decision_boundary", "The spirals, classified",
                 "Each colour is the region the MLP assigns to a class; paler where it is unsure.")
    demo.picture(plot.history(history), "history", "Training history",
                 "Train and validation loss and accuracy per epoch; the learning rate was constant, so "
                 "the title names it.")


# --- 9. MNIST ------------------------------------------------------------------------------------
def _mnist(demo: _Demo, data_dir: Path | None) -> None:
    s = demo.settings
    if data_dir is None:
        demo.section("MNIST handwritten digits (skipped)",
                     "Give the demo a folder holding the four MNIST .gz files to train on real digits:\n"
                     "    descend demo --data DIR   (descend train mnist --download fetches them)")
        demo.say("Skipped: no --data folder given (nothing is downloaded).")
        return
    demo.section(
        "MNIST handwritten digits",
        f"A short run: {s.mnist_train} of the 60000 training images, {s.mnist_epochs} "
        f"epoch{'s' * (s.mnist_epochs > 1)}, "
        "MLP 784-128-10,\nAdam lr = 1e-3, batches of 64; accuracy measured on the test images.",
    )
    x, y, x_test, y_test, _ = load_mnist(data_dir, "mnist", limit=s.mnist_train)
    x_test, y_test = x_test[: s.mnist_test], y_test[: s.mnist_test]
    descend.manual_seed(0)
    model = mlp(784, 128, 10)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    started = time.perf_counter()
    lines = EpochLines(indent="   ", on_line=demo.record)
    fit(model, nn.CrossEntropyLoss(), make_optimizer("adam", model.parameters(), 1e-3), loader,
        epochs=s.mnist_epochs, callbacks=[lines], metrics=["accuracy"], progress=True)
    test_accuracy = accuracy(model, x_test, y_test)
    demo.say()
    demo.say(f"Trained in {time.perf_counter() - started:.1f} s; test accuracy {test_accuracy:.1%} on "
             f"{len(y_test)} images it never saw (chance: 10%).")
    demo.say("All 60000 images with a one-cycle schedule reach about 98% in 2 epochs: "
             "descend train mnist --data DIR --epochs 2")
    demo.picture(_digits_figure(model, x_test, y_test), "mnist", "MNIST test digits and the MLP's answers",
                 "Each title is the model's guess; red ones are wrong.")


def _digits_figure(model, x, y, n: int = 24):
    """A grid of test digits titled with the model's prediction (red when wrong)."""
    from matplotlib.figure import Figure

    with descend.no_grad():
        model.eval()
        guesses = model(x[:n])._data.argmax(axis=1)
        model.train()
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    axes = fig.subplots(3, n // 3)
    for i, ax in enumerate(axes.flat):
        ax.imshow(x._data[i].reshape(28, 28), cmap="gray_r")
        right = guesses[i] == y._data[i]
        ax.set_title(f"{guesses[i]}" + ("" if right else f" (is {y._data[i]})"), fontsize=9,
                     color="black" if right else "red")
        ax.axis("off")
    fig.suptitle(f"MLP guesses on the first {n} test digits")
    return fig


# --- 10. a convolutional network ---------------------------------------------------------------------
def _stroke_images(n: int, seed: int = 0):
    """A synthetic image task that a small CNN learns in seconds: which way a stroke runs.

    28x28 images of one noisy stroke: horizontal, vertical, or one of the two diagonals (4 classes), at
    a random place, flattened as MNIST's images are.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.normal(0.0, 0.15, (n, 28, 28)).astype(np.float32)
    t = np.arange(-8, 9)
    for i, c in enumerate(y):
        r0, c0 = rng.integers(10, 18, 2)
        dr, dc = ((0, 1), (1, 0), (1, 1), (1, -1))[c]
        x[i, r0 + dr * t, c0 + dc * t] += 1.0
    return descend.from_numpy(x.reshape(n, 784)), descend.from_numpy(y.astype(np.int64))


def _cnn_section(demo: _Demo, data_dir: Path | None) -> None:
    from descend.recipes import cnn

    quick = demo.quick
    if data_dir is None:
        task = "4 kinds of noisy strokes (horizontal, vertical, two diagonals) on 28x28 images"
        x, y = _stroke_images(800 if quick else 2400)
        x_test, y_test = _stroke_images(400, seed=1)
        classes, epochs = 4, 2
    else:
        n_train = 1500 if quick else 6000
        task = f"{n_train} MNIST training images"
        x, y, x_test, y_test, _ = load_mnist(data_dir, "mnist", limit=n_train)
        x_test, y_test = x_test[:2000], y_test[:2000]
        classes, epochs = 10, 1
    # Standardised inputs, and enough steps (batches of 32) for batch norm's running statistics, which
    # eval mode uses, to forget their initial values (mean 0, variance 1).
    mean, spread = float(x.mean()), float(x.std())
    x, x_test = (x - mean) / spread, (x_test - mean) / spread
    demo.section(
        "A convolutional network looks at images",
        f"{task}. Model: two blocks of 3x3 Conv2d (8 and 16 filters) -> BatchNorm2d -> ReLU -> MaxPool2d,\n"
        f"then a Linear head; Adam lr = 3e-3, batches of 32, {epochs} epoch{'s' * (epochs > 1)}.",
    )
    descend.manual_seed(0)
    model = cnn(classes, channels=(8, 16))
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    started = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), make_optimizer("adam", model.parameters(), 3e-3), loader, epochs=epochs,
        callbacks=[EpochLines(indent="   ", on_line=demo.record)], metrics=["accuracy"], progress=True)
    demo.say()
    demo.say(f"Trained in {time.perf_counter() - started:.1f} s; test accuracy "
             f"{accuracy(model, x_test, y_test):.1%} on {len(y_test)} images it never saw.")
    if data_dir is not None:
        demo.say("The full recipe (32 and 64 filters, 3 epochs, one-cycle) passes 99% on MNIST: "
                 "descend train mnist --data DIR --model cnn")
    demo.picture(plot.filters(model[1]), "cnn_filters", "The first layer's learned filters",
                 "Each 3x3 kernel slides over the image; red weights add the pixels under them, blue ones "
                 "subtract, so each filter answers to an edge or stroke of its own direction.")
    demo.picture(plot.feature_maps(model, x_test[0]), "cnn_feature_maps", "What each conv layer sees",
                 "One test image (left) and the outputs of the first channels of each convolution: the "
                 "first layer responds to edges, the second (after pooling, half the size) to parts.")


# --- index.html ----------------------------------------------------------------------------------
_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;
padding-bottom:.2em;margin-top:2.2em}h3{margin:1.2em 0 .2em}p.intro{color:#444}
pre{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:6px;padding:.8em;overflow-x:auto;
font-size:.85em}figure{margin:0 0 1.5em}img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;margin:.2em 0 .6em}.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.scroll img.wide{min-width:760px}"""


def _png_width(path: Path) -> int:
    """The pixel width of a PNG from its header (0 for anything else)."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return 0
    return int.from_bytes(head[16:20], "big") if head[:8] == b"\x89PNG\r\n\x1a\n" else 0


def _write_index(demo: _Demo, seconds: float) -> Path:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>descend demo</title><style>{_CSS}</style></head><body>",
        "<h1>descend demo: gradient descent, step by step</h1>",
        f"<p>The tutorials' worked examples run on descend ({'quick run, ' if demo.quick else ''}"
        f"{seconds:.0f} s). Each section shows what <code>descend demo</code> printed and the "
        "pictures it drew.</p>",
    ]
    parts.append("<ol>" + "".join(f'<li><a href="#s{number}">{esc(sec.title)}</a></li>'
                                  for number, sec in enumerate(demo.sections, 1)) + "</ol>")
    for number, sec in enumerate(demo.sections, 1):
        parts.append(f'<h2 id="s{number}">{number}. {esc(sec.title)}</h2>')
        parts.append(f'<p class="intro">{esc(" ".join(sec.intro.split()))}</p>')
        if sec.lines:
            parts.append("<pre>" + esc("\n".join(sec.lines)) + "</pre>")
        for filename, heading, explanation in sec.pictures:
            # Each picture links to its full-size file; a wide multi-panel one keeps a readable size
            # and scrolls sideways on a phone instead of shrinking to a strip.
            wide = ' class="wide"' if _png_width(demo.out / filename) > 900 else ""
            parts.append(f"<figure><h3>{esc(heading)}</h3><figcaption>{esc(explanation)}</figcaption>"
                         f'<div class="scroll"><a href="{esc(filename)}"><img src="{esc(filename)}"{wide} '
                         f'alt="{esc(heading)}"></a></div></figure>')
    parts.append("</body></html>")
    index = demo.out / "index.html"
    index.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return index


# --- the demo ------------------------------------------------------------------------------------
def run(out="descend-demo", quick: bool = False, data_dir=None) -> Path:
    """Run the demo: print every section and write the pictures and ``index.html`` into ``out``.

    Args:
        out: output folder (created if missing).
        quick: fewer steps and epochs (a few seconds), the same sections and pictures.
        data_dir: folder holding the four MNIST ``.gz`` files; None skips the MNIST section.

    Returns:
        The path of the ``index.html`` written.

    Example:
        >>> index = run("descend-demo", quick=True)  # doctest: +SKIP
        >>> index.name  # doctest: +SKIP
        'index.html'
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    demo = _Demo(out, quick)
    started = time.perf_counter()
    print("descend demo: gradient descent, step by step"
          + ("  (quick: fewer steps and epochs)" if quick else ""))
    print(f"Pictures go to {out}/; each section says what its numbers mean.")
    with np.errstate(over="ignore", invalid="ignore"):  # the diverging learning rate overflows on purpose
        _worked_example(demo)
        _one_weight(demo)
        _autograd(demo)
        _noisy_quadratic(demo)
        _learning_rates(demo)
        _sampling(demo)
        _optimizers_2d(demo)
        _spirals(demo)
        _mnist(demo, None if data_dir is None else Path(data_dir))
        _cnn_section(demo, None if data_dir is None else Path(data_dir))
    seconds = time.perf_counter() - started
    index = _write_index(demo, seconds)
    files = demo.files()
    pngs = sum(f.endswith(".png") for f in files)
    print()
    print("=" * _RULE)
    print(f"Done in {seconds:.1f} s: {pngs} pictures and {len(files) - pngs} animation in {out}/")
    print(f"Open {index} in a browser to see them all with their explanations.")
    return index
