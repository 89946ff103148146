"""descend.train: fit, History, callbacks, the divergence guard, Ctrl-C and lr_find."""

import io
import math
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest

import descend
import descend.nn as nn
import descend.optim as optim
from descend.data import DataLoader, TensorDataset, linear, spirals
from descend.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau, StepLR
from descend.train import (
    Callback,
    Checkpoint,
    EarlyStopping,
    History,
    LRSchedulerCallback,
    ProgressBar,
    Recorder,
    fit,
    load_checkpoint,
    lr_find,
)


def one_weight(value=0.0):
    """The tutorials' model y = weight * x, starting from a known weight."""
    model = nn.Linear(1, 1, bias=False)
    with descend.no_grad():
        model.weight.fill_(value)
    return model


def state(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def assert_same_optimizer_state(a, b):
    """Two optimizer state_dicts, tensors compared exactly."""
    assert a["param_groups"] == b["param_groups"]
    assert sorted(a["state"]) == sorted(b["state"])
    for k in a["state"]:
        sa, sb = a["state"][k], b["state"][k]
        assert sa.keys() == sb.keys()
        for name in sa:
            np.testing.assert_array_equal(np.asarray(sa[name]), np.asarray(sb[name]), err_msg=f"{k}/{name}")


class CallAt(Callback):
    """Runs `action(learner)` at the end of one given step."""

    def __init__(self, step, action):
        self.step, self.action = step, action

    def on_batch_end(self, learner):
        if learner.step == self.step:
            self.action(learner)


# --- the three ways of sampling ---


def test_batch_stochastic_and_minibatch_reach_w_equals_4():
    x, y = linear(n=40, seed=1)  # exactly y = 4x
    data = TensorDataset(x, y)
    runs = {
        "batch": ((x, y), 0.5, 60),
        "stochastic": (DataLoader(data, batch_size=1, shuffle=True, seed=0), 0.1, 8),
        "mini-batch": (DataLoader(data, batch_size=8, shuffle=True, seed=0), 0.3, 30),
    }
    for name, (train, lr, epochs) in runs.items():
        model = one_weight(0.0)
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), train, epochs=epochs,
                      progress=False)
        assert model.weight.item() == pytest.approx(4.0, abs=1e-3), name
        steps_per_epoch = 1 if name == "batch" else len(train)
        assert len(history.step_loss) == epochs * steps_per_epoch, name
        assert history.stop_reason == "completed"


def test_fit_with_a_pair_is_the_tutorials_hand_written_loop():
    """fit on an (x, y) pair with a plain-function model takes exactly the tutorial's steps."""
    time, speed = descend.data.speed()

    def f(t, params):
        a, b, c = params
        return a * (t**2) + (b * t) + c

    def mse(preds, targets):
        return ((preds - targets) ** 2).mean()

    start = descend.tensor([0.5, -0.6, 0.6])
    lr = 1e-5
    params = start.clone().requires_grad_()
    hand = []
    for _ in range(10):
        loss = mse(f(time, params), speed)
        loss.backward()
        params.data -= lr * params.grad.data
        params.grad = None
        hand.append(loss.item())

    params2 = start.clone().requires_grad_()
    recorder = Recorder(params2)
    history = fit(lambda t: f(t, params2), mse, optim.SGD([params2], lr=lr), (time, speed), epochs=10,
                  callbacks=[recorder], progress=False)
    assert history.step_loss == hand
    np.testing.assert_array_equal(params2.numpy(force=True), params.numpy(force=True))
    path = recorder["param"]
    assert path.shape == (11, 3)  # the start and ten steps
    np.testing.assert_array_equal(path[0], start.numpy())
    assert recorder.losses == hand  # losses[k] was computed with path[k]


# --- History ---


def test_history_epoch_values_are_batch_size_weighted_over_the_whole_data():
    x, y = linear(n=10, seed=2)
    y = y + 0.3 * descend.tensor(np.cos(np.arange(10, dtype=np.float32)).reshape(-1, 1))
    vx, vy = linear(n=5, seed=3)
    model = one_weight(1.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)  # batches of 4, 4, 2
    valid = DataLoader(TensorDataset(vx, vy), batch_size=3)  # 3, 2
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), loader, valid=valid, epochs=2,
                  metrics=["mae"], progress=False)
    w = 1.0
    pred, target = w * x.numpy(), y.numpy()
    full_train = float(np.mean((pred - target) ** 2, dtype=np.float64))
    full_valid = float(np.mean((w * vx.numpy() - vy.numpy()) ** 2, dtype=np.float64))
    assert history["train_loss"] == pytest.approx([full_train] * 2, rel=1e-6)
    assert history["valid_loss"] == pytest.approx([full_valid] * 2, rel=1e-6)
    assert history["train_mae"][0] == pytest.approx(np.mean(np.abs(pred - target)), rel=1e-6)
    assert history["valid_mae"][0] == pytest.approx(np.mean(np.abs(w * vx.numpy() - vy.numpy())), rel=1e-6)
    batches = (slice(0, 4), slice(4, 8), slice(8, 10))
    batch_losses = [float(np.mean((pred[s] - target[s]) ** 2)) for s in batches]
    assert history.step_loss == pytest.approx(batch_losses * 2, rel=1e-6)
    assert history.step_lr == [0.0] * 6
    assert history.epochs == 2
    assert history.keys() == ["train_loss", "train_mae", "valid_loss", "valid_mae", "lr", "step_loss",
                              "step_lr"]
    d = history.as_dict()
    assert d["epochs"] == 2 and d["stop_reason"] == "completed" and d["lr"] == [0.0, 0.0]
    assert d["valid_loss"] == history.valid_loss
    text = repr(history)
    assert text.startswith("History(epochs=2, steps=6, stop_reason='completed')\n")
    assert "epoch  train_loss  train_mae  valid_loss  valid_mae  lr\n    1       2.617" in text
    with pytest.raises(KeyError, match="History has no 'valid_accuracy'; it has"):
        history["valid_accuracy"]


def test_epoch_metric_is_computed_over_the_epoch_not_averaged_over_batches():
    # a fixed classifier: class = x > 0. Valid batches of 4 and 1: 4/4 right, then 0/1.
    model = nn.Linear(1, 2)
    with descend.no_grad():
        model.weight.copy_(descend.tensor([[-1.0], [1.0]]))
        model.bias.zero_()
    vx = descend.tensor([[1.0], [2.0], [-1.0], [-2.0], [3.0]])
    vy = descend.tensor([1, 1, 0, 0, 0])
    valid = DataLoader(TensorDataset(vx, vy), batch_size=4)

    def error_rate(pred, target):  # a metric written the PyTorch way, on tensors, returning a tensor
        return (pred.argmax(1) != target).float().mean()

    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (vx, vy), valid=valid,
                  metrics=["accuracy", error_rate], progress=False)
    assert history["valid_accuracy"] == [0.8]  # the mean of batch accuracies would be 0.5
    assert history["train_accuracy"] == [0.8]
    assert history["valid_error_rate"] == [pytest.approx(0.2)]


def test_history_repr_shows_first_and_last_epochs():
    history = History()
    for i in range(12):
        history._add_epoch({"epoch": i + 1, "train_loss": 1.0 / (i + 1), "lr": 0.1})
    history.stop_reason = "completed"
    lines = repr(history).splitlines()
    assert len(lines) == 2 + 5 + 1 + 5
    assert lines[2].split() == ["1", "1", "0.1"]
    assert lines[7].split() == ["...", "...", "..."]
    assert lines[-1].split() == ["12", "0.08333", "0.1"]


# --- validation mode ---


class ModeSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, descend.is_grad_enabled()))
        return self.lin(x)


def test_validation_runs_in_eval_mode_without_grad_then_restores_train():
    x, y = linear(n=8)
    model = ModeSpy()
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), valid=(x, y), epochs=2,
        progress=False)
    assert model.seen == [(True, True), (False, False)] * 2
    assert model.training


# --- EarlyStopping ---


def test_early_stopping_stops_and_restores_the_best_weights_exactly():
    # Train towards w = 4 while validation data follow y = 2x: the valid loss falls, then rises.
    x, y = linear(n=20, seed=4)
    vx, vy = linear(n=20, w=2.0, seed=5)
    model = one_weight(0.0)
    stopper = EarlyStopping(patience=3)
    recorder = Recorder()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.MSELoss(), opt, (x, y), valid=(vx, vy), epochs=100, callbacks=[recorder, stopper],
                  progress=False)
    valid = history["valid_loss"]
    best = int(np.argmin(valid))
    assert history.stop_reason == "early_stopping"
    assert stopper.best_epoch == best + 1 and stopper.best == valid[best]
    assert history.epochs == best + 1 + 3 == stopper.stopped_epoch
    assert all(v > valid[best] for v in valid[best + 1:])
    # one step per epoch: recorder[k] holds the weight after epoch k
    assert model.weight.item() == recorder["weight"][best + 1].item()
    assert model.weight.item() != recorder["weight"][-1].item()


def test_early_stopping_min_delta_mode_max_and_no_restore():
    stopper = EarlyStopping(monitor="valid_accuracy", patience=1, min_delta=0.1, mode="max",
                            restore_best_weights=False)
    x = descend.tensor([[1.0], [-1.0], [2.0], [-2.0]])
    y = descend.tensor([1, 0, 1, 0])
    model = nn.Linear(1, 2)
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5), (x, y), valid=(x, y),
                  epochs=50, metrics=["accuracy"], callbacks=[stopper], progress=False)
    # accuracy cannot beat its best by more than 0.1 forever: stop after `patience` epochs without
    assert history.stop_reason == "early_stopping"
    assert stopper.stopped_epoch == history.epochs == stopper.best_epoch + 1
    assert stopper.best_state is None


def test_early_stopping_needs_the_monitored_value():
    x, y = linear(n=4)
    model = one_weight()
    with pytest.raises(ValueError, match="EarlyStopping monitors 'valid_loss' but fit logs only "
                                         r"\['train_loss', 'lr'\]; pass valid= to fit"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), callbacks=[EarlyStopping()],
            progress=False)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'up'"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience must be a non-negative integer, got -1"):
        EarlyStopping(patience=-1)


# --- Checkpoint and resuming ---


def small_mlp(seed):
    descend.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))


def test_checkpoint_round_trips_and_resumed_training_continues_identically(tmp_path):
    x, y = spirals(n_per_class=16, classes=3, seed=0)
    data = TensorDataset(x, y)
    loss_fn = nn.CrossEntropyLoss()

    # Uninterrupted: 4 epochs, a checkpoint after every epoch; keep copies of the live state at epoch 2.
    model = small_mlp(0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    live = {}

    class Keep(Callback):
        def on_epoch_end(self, learner):
            if learner.epoch + 1 == 2:
                live["model"] = state(model)
                live["optimizer"] = opt.state_dict()
                live["scheduler"] = sched.state_dict()

    path = str(tmp_path / "ckpt-{epoch}.npz")
    saver = Checkpoint(path, save_best_only=False)
    full = fit(model, loss_fn, opt, DataLoader(data, batch_size=8, shuffle=True, seed=3), epochs=4,
               scheduler=sched, callbacks=[saver, Keep()], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ckpt-{e}.npz" for e in (1, 2, 3, 4)]
    assert saver.last_path == str(tmp_path / "ckpt-4.npz")

    # Round trip: a fresh model and optimizer hold exactly the state of epoch 2.
    model2 = small_mlp(1)
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    sched2 = StepLR(opt2, step_size=1, gamma=0.5)
    ckpt = load_checkpoint(tmp_path / "ckpt-2.npz", model2, opt2, sched2)
    assert ckpt["epoch"] == 2
    assert ckpt["logs"]["train_loss"] == full["train_loss"][1]
    assert_same_state(state(model2), live["model"])
    assert_same_optimizer_state(opt2.state_dict(), live["optimizer"])
    assert sched2.state_dict() == live["scheduler"]

    # Resume: epochs 3 and 4 again, with the loader at epoch 2, give the same steps and weights.
    loader = DataLoader(data, batch_size=8, shuffle=True, seed=3)
    loader.set_epoch(ckpt["epoch"])
    rest = fit(model2, loss_fn, opt2, loader, epochs=2, scheduler=sched2, progress=False)
    steps = len(loader)
    assert rest.step_loss == full.step_loss[2 * steps:]
    assert rest.step_lr == full.step_lr[2 * steps:]
    assert_same_state(state(model2), state(model))
    assert_same_optimizer_state(opt2.state_dict(), opt.state_dict())


def test_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    x, y = linear(n=20, seed=4)
    vx, vy = linear(n=20, w=2.0, seed=5)  # valid loss falls, then rises
    model = one_weight(0.0)
    saver = Checkpoint(tmp_path / "best.npz")
    recorder = Recorder()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.MSELoss(), opt, (x, y), valid=(vx, vy), epochs=12, callbacks=[saver, recorder],
                  progress=False)
    best = int(np.argmin(history["valid_loss"]))
    assert saver.best_epoch == best + 1 < 12
    restored = one_weight(-7.0)
    ckpt = load_checkpoint(tmp_path / "best.npz", restored)
    assert ckpt["epoch"] == best + 1
    assert restored.weight.item() == recorder["weight"][best + 1].item()


# --- divergence guard ---


def test_divergence_guard_stops_warns_and_keeps_the_last_good_weights():
    x, y = linear(n=20, seed=6)
    model = one_weight(0.0)
    recorder = Recorder()
    with pytest.warns(UserWarning) as caught:
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=10.0), (x, y), epochs=500,
                      callbacks=[recorder], progress=False)
    bad = len(history.step_loss)  # the step whose loss was not finite
    assert history.stop_reason == "diverged"
    assert not math.isfinite(history.step_loss[-1]) and all(map(math.isfinite, history.step_loss[:-1]))
    assert 5 < bad < 500
    assert history.epochs == bad - 1  # one step per epoch; the bad one is not an epoch completed
    # The bad loss was computed with the weights after step bad-1; the last finite one with those
    # after step bad-2, which are what fit leaves in the model.
    w = model.weight.item()
    assert math.isfinite(w) and w == recorder["weight"][bad - 2].item()
    message = str(caught[0].message)
    assert f"loss became inf at step {bad} (epoch {bad})" in message
    assert f"the weights that gave the last finite loss (step {bad - 1}) were restored" in message
    assert "the learning rate lr=10 is probably too large: try a smaller learning rate, e.g. lr=1" in message


def test_divergence_guard_with_nan_from_the_first_step():
    x, y = linear(n=4)
    model = one_weight(float("nan"))
    with pytest.warns(UserWarning, match=r"loss became nan at step 1 \(epoch 1\); training stopped and the "
                                         r"weights are the initial ones \(no step was taken\)"):
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
                      progress=False)
    assert history.stop_reason == "diverged" and history.epochs == 0


def test_divergence_guard_restores_weights_after_a_nan_gradient():
    # A finite loss with a NaN gradient makes NaN weights; the guard brings back the finite ones.
    x, y = linear(n=8, seed=7)
    model = one_weight(1.0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    recorder = Recorder()
    original_step = opt.step

    def step_with_nan_grad():
        if len(recorder.losses) == 2:  # the third step
            model.weight.grad.fill_(float("nan"))
        original_step()

    opt.step = step_with_nan_grad
    with pytest.warns(UserWarning, match="loss became nan at step 4"):
        history = fit(model, nn.MSELoss(), opt, (x, y), epochs=10, callbacks=[recorder], progress=False)
    assert history.stop_reason == "diverged"
    assert math.isfinite(history.step_loss[2])
    # step 3 made NaN weights, so step 4's loss was NaN: the weights that gave step 3's finite loss
    # (those after step 2) come back
    assert model.weight.item() == recorder["weight"][2].item()


# --- Ctrl-C ---


def test_keyboard_interrupt_from_a_callback_stops_cleanly():
    x, y = linear(n=16, seed=8)
    model = one_weight(0.0)
    recorder = Recorder()
    ended = []

    class Ended(Callback):
        def on_fit_end(self, learner):
            ended.append(learner.stop)

    def interrupt(learner):
        raise KeyboardInterrupt

    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), loader, epochs=5,
                  callbacks=[recorder, CallAt(6, interrupt), Ended()], progress=False)
    assert history.stop_reason == "interrupted"
    assert ended == ["interrupted"]
    assert len(history.step_loss) == 6 and history.epochs == 1  # epoch 2 was not completed
    assert model.weight.item() == recorder["weight"][6].item()  # the weights after 6 steps


def test_keyboard_interrupt_inside_the_optimizer_step_puts_the_weights_back():
    x, y = linear(n=8, seed=9)
    model = nn.Linear(1, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    recorder = Recorder()
    original_step = opt.step

    def step_then_ctrl_c():
        original_step()  # the update happened (think: half of it) when Ctrl-C arrives
        if len(recorder.losses) == 3:
            raise KeyboardInterrupt

    opt.step = step_then_ctrl_c
    history = fit(model, nn.MSELoss(), opt, (x, y), epochs=10, callbacks=[recorder], progress=False)
    assert history.stop_reason == "interrupted"
    assert_same_state(state(model), {"weight": recorder["weight"][3], "bias": recorder["bias"][3]})


def test_a_callback_can_stop_training_with_its_own_reason():
    x, y = linear(n=8)
    model = one_weight()

    def stop(learner):
        learner.stop = "time budget"

    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=10,
                  callbacks=[CallAt(3, stop)], progress=False)
    assert history.stop_reason == "time budget" and history.epochs == 2


# --- schedulers ---


def test_scheduler_steps_once_per_epoch():
    x, y = linear(n=8)
    model = one_weight()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.MSELoss(), opt, DataLoader(TensorDataset(x, y), batch_size=4), epochs=3,
                  scheduler=StepLR(opt, step_size=1, gamma=0.5), progress=False)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert history.step_lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_reduce_on_plateau_gets_the_valid_loss_or_else_the_train_loss():
    x, y = linear(n=8)
    for valid in ((x, y), None):
        model = one_weight(4.0)  # already the solution: the loss stays at 0, a plateau
        opt = optim.SGD(model.parameters(), lr=0.1)
        history = fit(model, nn.MSELoss(), opt, (x, y), valid=valid, epochs=4,
                      scheduler=ReduceLROnPlateau(opt, patience=0), progress=False)
        assert history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.001])


def test_per_batch_schedule_matches_the_scheduler_run_by_hand():
    x, y = linear(n=12)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    model = one_weight()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = OneCycleLR(opt, max_lr=0.5, total_steps=9)
    history = fit(model, nn.MSELoss(), opt, loader, epochs=3, callbacks=[LRSchedulerCallback(sched, "batch")],
                  progress=False)
    ref_opt = optim.SGD(one_weight().parameters(), lr=0.1)
    ref = OneCycleLR(ref_opt, max_lr=0.5, total_steps=9)
    expected = []
    for _ in range(9):
        expected.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()
    assert history.step_lr == expected
    assert history["lr"] == [expected[0], expected[3], expected[6]]
    with pytest.raises(ValueError, match="interval must be 'epoch' or 'batch', got 'step'"):
        LRSchedulerCallback(sched, "step")


# --- progress, recording, classification ---


def test_default_progress_bar_only_in_a_terminal_and_never_with_progress_false(monkeypatch, capsys):
    x, y = linear(n=8)
    model = one_weight()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.MSELoss(), opt, (x, y), epochs=3)
    assert capsys.readouterr().err == ""  # pytest's stderr is no terminal
    monkeypatch.setattr(descend.train.loop, "_stderr_is_terminal", lambda: True)
    fit(model, nn.MSELoss(), opt, (x, y), epochs=3, progress=False)
    assert capsys.readouterr().err == ""
    fit(model, nn.MSELoss(), opt, (x, y), epochs=3)
    err = capsys.readouterr().err
    assert "epoch 3/3" in err and "3/3" in err


def test_progress_bar_shows_epochs_and_loss():
    x, y = linear(n=8)
    model = one_weight()
    out = io.StringIO()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), loader, valid=(x, y), epochs=2,
        callbacks=[ProgressBar(file=out, mininterval=0)])
    text = out.getvalue()
    assert "epoch 2/2" in text and "4/4" in text
    assert "train_loss=" in text and "valid_loss=" in text


def test_recorder_named_parameters_of_a_module():
    model = nn.Linear(2, 1)
    x = descend.tensor([[1.0, 2.0], [0.0, 1.0], [1.0, -1.0]])
    y = descend.tensor([[1.0], [2.0], [0.5]])
    recorder = Recorder(["bias"])
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=4, callbacks=[recorder],
        progress=False)
    assert recorder.names == ["bias"] and recorder["bias"].shape == (5, 1)
    np.testing.assert_array_equal(recorder["bias"][-1], model.bias.numpy(force=True))
    assert repr(recorder) == "Recorder(params=['bias'], steps=4)"
    with pytest.raises(KeyError, match=r"Recorder: the model has no parameter \['w'\]"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), callbacks=[Recorder(["w"])],
            progress=False)


def test_mlp_on_spirals_reaches_95_percent_training_accuracy():
    x, y = spirals(n_per_class=100, classes=3, seed=0)
    descend.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader, epochs=60,
                  metrics=["accuracy"], progress=False)
    with descend.no_grad():
        final = descend.metrics.accuracy(model(x), y)
    assert final > 0.95
    assert history["train_accuracy"][-1] > 0.9


# --- errors ---


def test_fit_rejects_bad_data_and_epochs():
    model = one_weight()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = linear(n=4)
    pair = r"train: an \(x, y\) pair must hold two descend Tensors, got \(ndarray, ndarray\)"
    with pytest.raises(TypeError, match=pair):
        fit(model, nn.MSELoss(), opt, (x.numpy(), y.numpy()), progress=False)
    with pytest.raises(TypeError, match="valid must be a DataLoader"):
        fit(model, nn.MSELoss(), opt, (x, y), valid=3, progress=False)
    with pytest.raises(ValueError, match="epochs must be a non-negative integer, got 1.5"):
        fit(model, nn.MSELoss(), opt, (x, y), epochs=1.5, progress=False)
    with pytest.raises(TypeError, match="Checkpoint saves model.state_dict\\(\\); a function has none"):
        saver = Checkpoint("unused.npz", save_best_only=False)
        fit(lambda t: t * 2, nn.MSELoss(), opt, (x, y), callbacks=[saver], progress=False)
    with pytest.raises(ValueError, match="the training data gave no batches"):
        fit(model, nn.MSELoss(), opt, DataLoader(TensorDataset(x, y), batch_size=8, drop_last=True),
            progress=False)


# --- lr_find ---


def test_lr_find_restores_everything_and_suggests_a_sensible_lr():
    x, y = linear(n=64, seed=10)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    model = nn.Linear(1, 1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    fit(model, nn.MSELoss(), opt, loader, epochs=1, progress=False)  # optimizer state exists now
    before_model, before_opt, before_epoch = state(model), opt.state_dict(), loader.epoch
    model.eval()

    sgd_result = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), loader, num_iter=60)
    result = lr_find(model, nn.MSELoss(), opt, loader, num_iter=80)

    assert_same_state(state(model), before_model)
    assert_same_optimizer_state(opt.state_dict(), before_opt)
    assert loader.epoch == before_epoch and not model.training
    assert all(p.grad is None for p in model.parameters())
    # GD on this problem diverges above lr = 1/E[x^2] = 3; the best constant lr is about 1.5
    assert 1e-2 <= sgd_result.suggestion <= 3.0
    assert sgd_result.stopped_early  # end_lr=10 explodes
    assert 1e-2 <= result.suggestion <= 3.0  # Adam too: steps of about lr must cover w = 0 -> 4
    assert "suggestion=" in repr(result)


def test_lr_find_schedule_and_smoothing_follow_their_formulas():
    x, y = linear(n=32, seed=11)
    model = nn.Linear(1, 1)
    result = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), start_lr=1e-4,
                     end_lr=1.0, num_iter=20, smooth_f=0.2)
    n = len(result.lrs)
    np.testing.assert_allclose(result.lrs, 1e-4 * (1e4 ** (np.arange(n) / 19)), rtol=1e-12)
    average, smoothed = 0.0, []
    for i, raw in enumerate(result.raw_losses):
        average = 0.8 * average + 0.2 * raw
        smoothed.append(average / (1 - 0.8 ** (i + 1)))
    np.testing.assert_allclose(result.losses, smoothed, rtol=1e-12)
    assert result.losses[0] == result.raw_losses[0]  # bias correction: the first value is the loss


def test_lr_find_stops_when_the_loss_explodes():
    x, y = linear(n=32, seed=12)
    model = one_weight(0.0)
    result = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), start_lr=1e-3,
                     end_lr=1e3, num_iter=100, diverge_th=5)
    assert result.stopped_early and len(result.lrs) < 100
    best_so_far = np.minimum.accumulate(result.losses)
    assert result.losses[-1] > 5 * best_so_far[-1]
    assert (result.losses[:-1] <= 5 * best_so_far[:-1]).all()
    assert model.weight.item() == 0.0


def test_lr_find_rejects_bad_arguments():
    model = one_weight()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = linear(n=4)
    with pytest.raises(ValueError, match="need 0 < start_lr < end_lr, got start_lr=1, end_lr=0.1"):
        lr_find(model, nn.MSELoss(), opt, (x, y), start_lr=1, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter must be an integer >= 2, got 1"):
        lr_find(model, nn.MSELoss(), opt, (x, y), num_iter=1)
    with pytest.raises(ValueError, match=r"smooth_f must be in \(0, 1\], got 0"):
        lr_find(model, nn.MSELoss(), opt, (x, y), smooth_f=0)


# --- MNIST (slow, only where the files are) ---


def _mnist_folder():
    """$DESCEND_MNIST (the README's variable), else the project's shared copy beside the checkout."""
    import os

    here = Path(__file__).resolve()
    candidates = [Path(os.environ["DESCEND_MNIST"])] if os.environ.get("DESCEND_MNIST") else []
    candidates += [parent.parent / "shared" / "data" / "mnist" for parent in here.parents]
    for candidate in candidates:
        if (candidate / "t10k-labels-idx1-ubyte.gz").exists():
            return candidate
    return None


@pytest.mark.slow
def test_mnist_mlp_reaches_97_5_percent_in_two_epochs():
    """784-256-10 MLP, Adam, batch 128, 2 epochs: >= 97.5% test accuracy (measured: 97.7-97.9%).

    The recipe: inputs standardised with MNIST's usual mean and std (0.1307, 0.3081), Adam driven by a
    one-cycle schedule peaking at lr=5e-3. With a constant Adam(lr=1e-3) the same model reaches only
    96.5% (raw [0, 1] inputs) or 97.1% (standardised) after two epochs, as a plain NumPy
    implementation of the same model and optimizer does too (96.1% / 97.3%).
    """
    root = _mnist_folder()
    if root is None:
        pytest.skip("MNIST files not found (set DESCEND_MNIST to the folder of the four IDX .gz files)")
    from descend.data import MNIST

    def standardised(dataset):
        x = dataset.data.reshape(len(dataset), 784).float() / 255
        return (x - 0.1307) / 0.3081, dataset.targets

    x, y = standardised(MNIST(root, train=True))
    test_x, test_y = standardised(MNIST(root, train=False))
    descend.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, seed=0)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    schedule = LRSchedulerCallback(OneCycleLR(opt, max_lr=5e-3, total_steps=2 * len(loader)), "batch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        valid = DataLoader(TensorDataset(test_x, test_y), batch_size=1000)
        history = fit(model, nn.CrossEntropyLoss(), opt, loader, valid=valid, epochs=2, metrics=["accuracy"],
                      callbacks=[schedule], progress=False)
    print(history)
    assert history.stop_reason == "completed"
    assert history["valid_accuracy"][-1] >= 0.975


def test_lr_find_suggestion_never_lies_past_the_lowest_loss():
    from descend.train.lr_finder import _suggest

    lrs = list(np.logspace(-5, 1, 100))
    # falls gently to a minimum at index 60, blows up, then falls steeply again (below the threshold)
    losses = [2.0 - 0.02 * i for i in range(61)] + [0.8 + 0.1 * i for i in range(1, 20)]
    losses += [2.7 - 0.09 * i for i in range(20)]
    suggestion = _suggest(lrs, losses)
    assert suggestion <= lrs[60]
    assert suggestion >= lrs[10]


def test_divergence_guard_on_a_big_model_restores_its_latest_snapshot(monkeypatch):
    from descend.train.loop import _LastGoodWeights

    # Pretend the one-weight model (4 bytes) is big: a snapshot every 4 steps instead of every step.
    monkeypatch.setattr(_LastGoodWeights, "BYTES_PER_STEP", 1)
    x, y = linear(n=20, seed=6)
    model = one_weight(0.0)
    recorder = Recorder()
    with pytest.warns(UserWarning) as caught:
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=10.0), (x, y), epochs=500,
                      callbacks=[recorder], progress=False)
    bad = len(history.step_loss)
    snapshot_step = 1 + 4 * ((bad - 2) // 4)  # snapshots before steps 1, 5, 9, ... up to step bad-1
    assert history.stop_reason == "diverged"
    # the recorder holds the initial weights, then those after each step: before step s is index s-1
    assert model.weight.item() == recorder["weight"][snapshot_step - 1].item()
    message = str(caught[0].message)
    if snapshot_step == bad - 1:
        assert f"the weights that gave the last finite loss (step {snapshot_step}) were restored" in message
    else:
        assert f"the weights that gave a finite loss at step {snapshot_step} (the guard's latest snapshot; " \
               "it copies a model this size every 4 steps) were restored" in message


# --- Ctrl-C inside optimizer.step() on a model the guard copies only every 4th step ---


def mnist_sized_run(steps_before_stop=None, step=None, seed=21):
    """A 784-256-10 MLP (0.8 MB: the guard copies it every 4 steps) with Adam on random data."""
    rng = np.random.default_rng(seed)
    x = descend.tensor(rng.normal(size=(96, 784)).astype(np.float32))
    y = descend.tensor(rng.integers(0, 10, size=96))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    init = np.random.default_rng(seed + 1)
    with descend.no_grad():
        for p in model.parameters():
            p.copy_(descend.tensor(init.normal(scale=0.05, size=p.shape).astype(np.float32)))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    if step is not None:
        opt.step = step(opt)
    callbacks = []
    if steps_before_stop is not None:  # the reference: a run that ends cleanly at that step boundary
        callbacks.append(CallAt(steps_before_stop, lambda learner: setattr(learner, "stop", "boundary")))
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=3, callbacks=callbacks, progress=False)
    return model, opt, history


def assert_same_run(run, reference, steps):
    (model, opt, history), (ref_model, ref_opt, ref_history) = run, reference
    assert_same_state(state(model), state(ref_model))
    params, ref_params = list(model.parameters()), list(ref_model.parameters())
    assert len(opt.state) == len(ref_opt.state) == len(params)
    for p, q in zip(params, ref_params):
        s, r = opt.state[p], ref_opt.state[q]
        assert s["step"] == r["step"] == steps
        np.testing.assert_array_equal(s["exp_avg"].numpy(), r["exp_avg"].numpy())
        np.testing.assert_array_equal(s["exp_avg_sq"].numpy(), r["exp_avg_sq"].numpy())
    assert history.step_loss == ref_history.step_loss[:steps] and len(history.step_loss) == steps


def test_ctrl_c_inside_the_step_is_deferred_to_the_end_of_that_step():
    # A real SIGINT (Python's default handler) arriving after half of the parameters are updated:
    # fit holds it until the update is complete, then stops with weights and Adam state of step 7.
    def step_with_ctrl_c(opt):
        original, calls = opt.step, []

        def step():
            calls.append(1)
            if len(calls) != 7:
                return original()
            params = [p for g in opt.param_groups for p in g["params"]]
            grads = [p.grad for p in params]
            for p in params[2:]:
                p.grad = None  # first update only the first layer...
            original()
            signal.raise_signal(signal.SIGINT)  # ... Ctrl-C arrives here ...
            for i, p in enumerate(params):
                p.grad = grads[i] if i >= 2 else None
            original()  # ... and the rest of the update follows
            for p, grad in zip(params, grads):
                p.grad = grad

        return step

    # The two-part update above equals Adam's one step per parameter, so the reference is 7 plain steps.
    run = mnist_sized_run(step=step_with_ctrl_c)
    assert run[2].stop_reason == "interrupted"
    assert_same_run(run, mnist_sized_run(steps_before_stop=7), steps=7)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # fit put the handler back


def test_keyboard_interrupt_raised_inside_the_step_restores_weights_and_optimizer_together():
    # A KeyboardInterrupt raised by code in the middle of the update (it bypasses the deferral): the
    # guard's latest snapshot of this model is from before step 5, so weights, Adam's state and the
    # History all go back to the end of step 4, never weights of one step with moments of another.
    def step_raising_halfway(opt):
        original, calls = opt.step, []

        def step():
            calls.append(1)
            if len(calls) != 7:
                return original()
            params = [p for g in opt.param_groups for p in g["params"]]
            for p in params[2:]:
                p.grad = None
            original()  # the first layer (weights and moments) updated, the second not
            raise KeyboardInterrupt

        return step

    run = mnist_sized_run(step=step_raising_halfway)
    assert run[2].stop_reason == "interrupted"
    assert_same_run(run, mnist_sized_run(steps_before_stop=4), steps=4)


def test_ctrl_c_outside_the_step_still_stops_at_once():
    x, y = linear(n=16, seed=8)
    model = one_weight(0.0)
    recorder = Recorder()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), loader, epochs=5,
                  callbacks=[recorder, CallAt(6, lambda learner: signal.raise_signal(signal.SIGINT))],
                  progress=False)
    assert history.stop_reason == "interrupted" and len(history.step_loss) == 6
    assert model.weight.item() == recorder["weight"][6].item()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
