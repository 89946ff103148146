"""Optimizers: each update against its documented formula, convergence, and PyTorch's contract.

Reference updates are written out below in float64 NumPy straight from PyTorch's documented
algorithms; the optimizers must reproduce them to rounding. Gradients are set by hand
(`p.grad = ...`) so most tests exercise the optimizer alone; a few go through autograd.
"""

import tracemalloc

import numpy as np
import pytest

import descend
from descend import optim
from descend.autograd import record

# --- helpers ---


def param(values, dtype=np.float64):
    return descend.tensor(np.array(values, dtype=dtype), requires_grad=True)


def value(p):
    return p.detach().numpy().copy()


def set_grad(p, g):
    p.grad = descend.tensor(np.asarray(g, dtype=p.dtype))


A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, -0.2], [0.0, -0.2, 0.4]])
B = np.array([1.0, -1.0, 0.5])
X0 = np.array([1.0, -2.0, 0.5])
SCALE = [3.0, 0.1, 0.1, 1.0, 0.2]  # shrinking gradients make AMSGrad's running max matter


def quad_grad(x, t):
    """Gradient at step t (0-based) of a scaled quadratic: SCALE[t] * (A x - B)."""
    return SCALE[t] * (A @ x - B)


def run(make_opt, steps=None, x0=X0, grad=quad_grad):
    steps = len(SCALE) if steps is None else steps
    p = param(x0)
    opt = make_opt([p])
    path = []
    for t in range(steps):
        set_grad(p, grad(value(p), t))
        opt.step()
        path.append(value(p))
    return np.array(path)


# --- reference updates, written from PyTorch's documented algorithms (float64) ---


def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, b, path = X0.copy(), None, []
    for t in range(len(SCALE)):
        g = quad_grad(theta, t)
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            b = g.copy() if t == 0 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        path.append(theta)
    return np.array(path)


def ref_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
             decoupled=False):
    beta1, beta2 = betas
    theta = X0.copy()
    m, v, v_max, path = np.zeros(3), np.zeros(3), np.zeros(3), []
    for t in range(1, len(SCALE) + 1):
        g = quad_grad(theta, t - 1)
        g = -g if maximize else g
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay != 0:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta)
    return np.array(path)


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    theta = X0.copy()
    v, b, g_ave, path = np.zeros(3), np.zeros(3), np.zeros(3), []
    for t in range(len(SCALE)):
        g = quad_grad(theta, t)
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        path.append(theta)
    return np.array(path)


def ref_adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    theta = X0.copy()
    state_sum, path = np.full(3, initial_accumulator_value), []
    for t in range(1, len(SCALE) + 1):
        g = quad_grad(theta, t - 1)
        g = -g if maximize else g
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * theta
        state_sum = state_sum + g**2
        theta = theta - lr_t * g / (np.sqrt(state_sum) + eps)
        path.append(theta)
    return np.array(path)


FORMULA_CASES = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1), lambda: ref_sgd(0.1)),
    "sgd-momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda: ref_sgd(0.1, 0.9)),
    "sgd-dampening": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3),
        lambda: ref_sgd(0.1, 0.9, dampening=0.3),
    ),
    "sgd-nesterov": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda: ref_sgd(0.1, 0.9, nesterov=True),
    ),
    "sgd-weight-decay": (
        lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5),
        lambda: ref_sgd(0.1, weight_decay=0.5),
    ),
    "sgd-maximize-decay-momentum": (
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.2, maximize=True),
        lambda: ref_sgd(0.05, 0.5, weight_decay=0.2, maximize=True),
    ),
    "adam": (lambda ps: optim.Adam(ps, lr=0.1), lambda: ref_adam(0.1)),
    "adam-betas-eps": (
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-3),
        lambda: ref_adam(0.05, betas=(0.8, 0.9), eps=1e-3),
    ),
    "adam-amsgrad": (lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True), lambda: ref_adam(0.1, amsgrad=True)),
    "adam-weight-decay": (
        lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.3),
        lambda: ref_adam(0.1, weight_decay=0.3),
    ),
    "adam-maximize-amsgrad": (
        lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, maximize=True),
        lambda: ref_adam(0.1, amsgrad=True, maximize=True),
    ),
    "adamw": (
        lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.3),
        lambda: ref_adam(0.1, weight_decay=0.3, decoupled=True),
    ),
    "adamw-amsgrad-maximize": (
        lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True, maximize=True),
        lambda: ref_adam(0.1, weight_decay=1e-2, amsgrad=True, maximize=True, decoupled=True),
    ),
    "rmsprop": (lambda ps: optim.RMSprop(ps, lr=0.01), lambda: ref_rmsprop(0.01)),
    "rmsprop-centered": (
        lambda ps: optim.RMSprop(ps, lr=0.01, centered=True),
        lambda: ref_rmsprop(0.01, centered=True),
    ),
    "rmsprop-momentum": (
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9),
        lambda: ref_rmsprop(0.01, momentum=0.9),
    ),
    "rmsprop-everything": (
        lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1, momentum=0.5,
                                 centered=True, maximize=True),
        lambda: ref_rmsprop(0.01, alpha=0.9, eps=1e-4, weight_decay=0.1, momentum=0.5, centered=True,
                            maximize=True),
    ),
    "adagrad": (lambda ps: optim.Adagrad(ps, lr=0.1), lambda: ref_adagrad(0.1)),
    "adagrad-decay-init": (
        lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.5, initial_accumulator_value=0.2),
        lambda: ref_adagrad(0.1, lr_decay=0.5, initial_accumulator_value=0.2),
    ),
    "adagrad-weight-decay-maximize": (
        lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.4, eps=1e-3, maximize=True),
        lambda: ref_adagrad(0.1, weight_decay=0.4, eps=1e-3, maximize=True),
    ),
}


@pytest.mark.parametrize("case", sorted(FORMULA_CASES))
def test_updates_follow_documented_formula(case):
    make_opt, reference = FORMULA_CASES[case]
    np.testing.assert_allclose(run(make_opt), reference(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "variant, plain",
    [
        ("adam-amsgrad", "adam"),
        ("sgd-nesterov", "sgd-momentum"),
        ("rmsprop-centered", "rmsprop"),
        ("adamw", "adam-weight-decay"),
        ("sgd-dampening", "sgd-momentum"),
    ],
)
def test_variants_change_the_trajectory(variant, plain):
    # Guards the formula tests: each flag must matter on the test problem, or its test proves nothing.
    assert not np.allclose(run(FORMULA_CASES[variant][0]), run(FORMULA_CASES[plain][0]), rtol=1e-9)


# --- hand-computed steps on the tutorial's parabola f(w) = (w - 3)^2, f'(w) = 2(w - 3) ---


def parabola_steps(opt_class, steps, dtype=np.float64, **kwargs):
    w = param(0.0, dtype)
    opt = opt_class([w], **kwargs)
    out = []
    for _ in range(steps):
        set_grad(w, 2 * (w.item() - 3))
        opt.step()
        out.append(w.item())
    return out


def test_gd_reproduces_the_worked_example():
    np.testing.assert_allclose(
        parabola_steps(optim.GD, 5, lr=0.1), [0.6, 1.08, 1.464, 1.7712, 2.01696], rtol=1e-14
    )
    # The tutorial runs in float32 (descend's default, as PyTorch's): same numbers to float32 rounding.
    np.testing.assert_allclose(
        parabola_steps(optim.GD, 5, dtype=np.float32, lr=0.1), [0.6, 1.08, 1.464, 1.7712, 2.01696], rtol=1e-6
    )


def test_gd_with_autograd_backward():
    w = descend.tensor(0.0, requires_grad=True)
    opt = optim.GD([w], lr=0.1)
    seen = []
    for _ in range(5):
        opt.zero_grad()
        loss = (w - 3) ** 2
        loss.backward()
        opt.step()
        seen.append(w.item())
    np.testing.assert_allclose(seen, [0.6, 1.08, 1.464, 1.7712, 2.01696], rtol=1e-6)
    assert w.dtype == descend.float32


def test_sgd_momentum_hand_computed():
    # b1 = g1 = -6 -> w = 0.6; g2 = -4.8, b2 = 0.9*-6 - 4.8 = -10.2 -> w = 1.62;
    # g3 = -2.76, b3 = 0.9*-10.2 - 2.76 = -11.94 -> w = 2.814
    steps = parabola_steps(optim.SGD, 3, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(steps, [0.6, 1.62, 2.814], rtol=1e-14)


def test_sgd_nesterov_hand_computed():
    # step 1: b = -6, g = -6 + 0.9*-6 = -11.4 -> w = 1.14
    # step 2: g = 2(1.14-3) = -3.72, b = 0.9*-6 - 3.72 = -9.12, g = -3.72 + 0.9*-9.12 = -11.928 -> w = 2.3328
    np.testing.assert_allclose(
        parabola_steps(optim.SGD, 2, lr=0.1, momentum=0.9, nesterov=True), [1.14, 2.3328], rtol=1e-14
    )


def test_adam_first_steps_hand_computed():
    # t=1: g=-6, m=-0.6, v=0.036, m_hat=-6, v_hat=36 -> w = 0.1 * 6 / (6 + 1e-8)
    w1 = 0.1 * 6 / (6 + 1e-8)
    # t=2: g=2(w1-3), m=0.9*-0.6+0.1g, v=0.999*0.036+0.001g^2
    g = 2 * (w1 - 3)
    m, v = 0.9 * -0.6 + 0.1 * g, 0.999 * 0.036 + 0.001 * g**2
    w2 = w1 - 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(parabola_steps(optim.Adam, 2, lr=0.1), [w1, w2], rtol=1e-14)


def test_rmsprop_and_adagrad_first_step_hand_computed():
    # RMSprop: v = 0.01 * 36 = 0.36 -> w = 0.01 * 6 / (0.6 + 1e-8)
    np.testing.assert_allclose(parabola_steps(optim.RMSprop, 1), [0.01 * 6 / (0.6 + 1e-8)], rtol=1e-14)
    # Adagrad: sum = 36 -> w = 0.01 * 6 / (6 + 1e-10)
    np.testing.assert_allclose(parabola_steps(optim.Adagrad, 1), [0.01 * 6 / (6 + 1e-10)], rtol=1e-14)


# --- convergence ---


def rosenbrock_grad(x, t):
    a, b = x
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


def bowl_grad(x, t):
    return np.array([2.0, 20.0]) * (x - np.array([3.0, -1.0]))  # elongated bowl, minimum (3, -1)


CONVERGENCE = {  # name: (optimizer, steps); tuned so each converges in well under a second
    "GD": (lambda ps: optim.GD(ps, lr=1e-3), 20000),
    "SGD": (lambda ps: optim.SGD(ps, lr=1e-3), 20000),
    "SGD-momentum": (lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), 2000),
    "SGD-nesterov": (lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True), 2000),
    "Adam": (lambda ps: optim.Adam(ps, lr=0.05), 3000),
    "Adam-amsgrad": (lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True), 3000),
    "AdamW": (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=1e-4), 3000),
    "RMSprop": (lambda ps: optim.RMSprop(ps, lr=2e-3), 6000),
    "RMSprop-centered-momentum": (lambda ps: optim.RMSprop(ps, lr=1e-4, momentum=0.9, centered=True), 3000),
    "Adagrad": (lambda ps: optim.Adagrad(ps, lr=0.5), 8000),
}


@pytest.mark.parametrize("name", sorted(CONVERGENCE))
def test_converges_on_rosenbrock_from_standard_start(name):
    make_opt, steps = CONVERGENCE[name]
    final = run(make_opt, steps=steps, x0=[-1.2, 1.0], grad=rosenbrock_grad)[-1]
    np.testing.assert_allclose(final, [1.0, 1.0], atol=1e-2)


@pytest.mark.parametrize("name", sorted(CONVERGENCE))
def test_converges_on_a_parabola(name):
    make_opt, steps = CONVERGENCE[name]
    final = run(make_opt, steps=steps, x0=[0.0, 0.0], grad=bowl_grad)[-1]
    np.testing.assert_allclose(final, [3.0, -1.0], atol=1e-3)


# --- the Optimizer contract ---


def test_params_without_grad_are_skipped():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = optim.Adam([a, b], lr=0.1)
    set_grad(a, [1.0, -1.0])
    opt.step()
    np.testing.assert_array_equal(value(b), [3.0])
    assert b not in opt.state and opt.state[a]["step"] == 1
    np.testing.assert_allclose(value(a), [0.9, 2.1], rtol=1e-7)


def test_per_group_options_and_defaults():
    a, b = param(1.0), param(1.0)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    assert opt.defaults["lr"] == 0.1
    set_grad(a, 2.0)
    set_grad(b, 2.0)
    opt.step()
    assert a.item() == pytest.approx(1 - 0.1 * 2) and b.item() == pytest.approx(1 - 0.01 * 2)


def test_add_param_group_and_overlap_error():
    a, b = param(1.0), param(2.0)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)


def test_zero_grad():
    w = param([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1)
    set_grad(w, [3.0, 4.0])
    grad_array = w.grad._data
    opt.zero_grad(set_to_none=False)
    assert w.grad._data is grad_array
    np.testing.assert_array_equal(value(w.grad), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_runs_closure_with_grad_enabled_and_returns_its_loss():
    w = descend.tensor(0.0, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w - 3) ** 2
        loss.backward()
        return loss

    with descend.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    assert w.item() == pytest.approx(0.6)
    assert opt.step() is None


def test_step_bumps_the_parameter_version_so_stale_graphs_fail():
    w = descend.tensor(1.0, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = w * w  # saves w for backward
    set_grad(w, 1.0)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_updates_are_in_place_and_state_buffers_persist():
    w = param([1.0, 2.0, 3.0])
    data = w._data
    opt = optim.Adam([w], lr=0.1, amsgrad=True)
    set_grad(w, [1.0, 1.0, 1.0])
    opt.step()
    buffers = {k: v._data for k, v in opt.state[w].items() if k != "step"}
    set_grad(w, [0.5, 0.5, 0.5])
    opt.step()
    assert w._data is data
    assert all(opt.state[w][k]._data is arr for k, arr in buffers.items())


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.GD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda ps: optim.Adam(ps, amsgrad=True, weight_decay=0.1),
        lambda ps: optim.AdamW(ps, maximize=True),
        lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True, weight_decay=0.1),
        lambda ps: optim.Adagrad(ps, weight_decay=0.1),
    ],
    ids=["GD", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"],
)
def test_steady_state_step_allocates_no_parameter_sized_arrays(make_opt):
    n = 200_000
    w = param(np.linspace(-1, 1, n))
    set_grad(w, np.linspace(1, 2, n))
    opt = make_opt([w])
    opt.step()  # creates state and scratch buffers
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < w._data.nbytes / 10


def test_float32_parameters_stay_float32():
    w = param([1.0, 2.0], dtype=np.float32)
    opt = optim.Adam([w], lr=0.1, weight_decay=0.1)
    set_grad(w, [1.0, 1.0])
    opt.step()
    assert w.dtype == descend.float32
    assert opt.state[w]["exp_avg"].dtype == descend.float32


def test_repr_lists_groups_and_options():
    text = repr(optim.SGD([param(1.0)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")


# --- state_dict ---


def test_state_dict_layout_is_pytorchs():
    a, b, c = param([1.0, 2.0]), param(3.0), param([4.0])
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    set_grad(a, [1.0, 1.0])
    set_grad(c, [1.0])
    opt.step()
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2]  # b (index 1) never had a gradient
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 2 and isinstance(sd["state"][0]["step"], int)
    assert isinstance(sd["state"][0]["exp_avg"], descend.Tensor)
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1),
    ],
    ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"],
)
def test_state_dict_round_trip_resumes_identical_trajectory(make_opt):
    w = param(X0)
    opt = make_opt([w])
    for t in range(2):
        set_grad(w, quad_grad(value(w), t))
        opt.step()
    snapshot, resume_at = opt.state_dict(), value(w)

    for t in range(2, 5):  # the original carries on
        set_grad(w, quad_grad(value(w), t))
        opt.step()
    expected = value(w)

    w2 = param(resume_at)
    opt2 = make_opt([w2])
    opt2.load_state_dict(snapshot)  # the snapshot did not change while the original carried on
    for t in range(2, 5):
        set_grad(w2, quad_grad(value(w2), t))
        opt2.step()
    np.testing.assert_array_equal(value(w2), expected)


def test_checkpoint_through_a_file_resumes_optimizer_and_schedule(tmp_path):
    from descend.optim.lr_scheduler import OneCycleLR
    from descend.serialize import load, save

    def make(x):
        w = param(x)
        opt = optim.Adam([w], lr=0.1, amsgrad=True)
        return w, opt, OneCycleLR(opt, max_lr=0.1, total_steps=6)

    def train(w, opt, sched, steps):
        for t in steps:
            set_grad(w, quad_grad(value(w), t))
            opt.step()
            sched.step()

    w, opt, sched = make(X0)
    train(w, opt, sched, range(2))
    save({"w": w, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    train(w, opt, sched, range(2, 5))

    ckpt = load(tmp_path / "ckpt.npz")
    w2, opt2, sched2 = make(value(ckpt["w"]))
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    train(w2, opt2, sched2, range(2, 5))
    np.testing.assert_array_equal(value(w2), value(w))
    assert opt2.param_groups[0]["betas"] == opt.param_groups[0]["betas"]


def test_load_state_dict_copies_and_accepts_plain_arrays():
    w = param([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    saved = {
        "state": {"0": {"momentum_buffer": np.array([1.0, -1.0])}},  # as a file load might return it
        "param_groups": [{"lr": np.float64(0.2), "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                          "nesterov": False, "maximize": False, "params": [0]}],
    }
    opt.load_state_dict(saved)
    saved["state"]["0"]["momentum_buffer"][:] = 100.0  # must not reach the optimizer
    assert opt.param_groups[0]["lr"] == 0.2 and type(opt.param_groups[0]["lr"]) is float
    assert opt.param_groups[0]["params"][0] is w
    set_grad(w, [1.0, 1.0])
    opt.step()
    # b = 0.9 * [1, -1] + [1, 1] = [1.9, 0.1]; w = [1, 2] - 0.2 * b
    np.testing.assert_allclose(value(w), [1 - 0.2 * 1.9, 2 - 0.2 * 0.1], rtol=1e-14)


def test_load_state_dict_validates():
    a, b = param(1.0), param([1.0, 2.0])
    opt = optim.Adam([a, b], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict({"state": {}, "param_groups": [dict(opt.defaults, params=[0])]})
    bad = {"state": {1: {"step": 1, "exp_avg": np.zeros(3), "exp_avg_sq": np.zeros(3)}},
           "param_groups": [dict(opt.defaults, params=[0, 1])]}
    with pytest.raises(ValueError, match=r"'exp_avg' has shape \(3,\), but its parameter has shape \(2,\)"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="must be a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"param_groups": []})


# --- validation ---


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda ps: optim.GD(ps, lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
        (lambda ps: optim.SGD(ps, lr=float("nan")), ValueError, "Invalid learning rate: nan"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
        (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), ValueError,
         "Nesterov momentum requires a momentum and zero dampening"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
         "Nesterov momentum requires a momentum and zero dampening"),
        (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
        (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
        (lambda ps: optim.AdamW(ps, eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
        (lambda ps: optim.AdamW(ps, weight_decay=-0.01), ValueError, "Invalid weight_decay value: -0.01"),
        (lambda ps: optim.RMSprop(ps, alpha=-0.5), ValueError, "Invalid alpha value: -0.5"),
        (lambda ps: optim.RMSprop(ps, momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda ps: optim.Adagrad(ps, lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
        (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), ValueError,
         "Invalid initial_accumulator_value value: -1"),
        (lambda ps: optim.GD(ps), ValueError,
         "parameter group didn't specify a value of required optimization parameter lr"),
        (lambda ps: optim.SGD([{"params": ps, "lr": -0.5}], lr=0.1), ValueError,
         "Invalid learning rate: -0.5"),
        (lambda ps: optim.SGD(ps[0], lr=0.1), TypeError,
         "params argument given to the optimizer should be an iterable of Tensors or dicts"),
        (lambda ps: optim.SGD([{"params": set(ps)}], lr=0.1), TypeError, "ordered collections"),
        (lambda ps: optim.SGD([np.zeros(2)], lr=0.1), TypeError,
         "optimizer can only optimize Tensors, but one of the params is ndarray"),
    ],
)
def test_invalid_arguments_raise_clear_errors(make, error, message):
    with pytest.raises(error) as info:
        make([param([1.0])])
    assert message in str(info.value)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD(iter([]), lr=0.1)


def test_integer_and_non_leaf_tensors_are_refused():
    with pytest.raises(TypeError, match="can't optimize a tensor of dtype int64: parameters must be float"):
        optim.SGD([descend.tensor([1, 2])], lr=0.1)
    w = param([1.0])
    non_leaf = record("MulBackward0", w._data * 2, (w,), (lambda g: 2 * g,))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([non_leaf], lr=0.1)


def test_duplicate_parameter_in_a_group_warns():
    w = param(1.0)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)
