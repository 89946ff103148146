"""Regressions found by comparing descend's optimizers and LR schedulers with PyTorch 2.13.

The comparison is conformance/test_optim.py.

Each expected value here is derived by hand from PyTorch's documented (and implemented) behaviour; no
torch import.
"""

import math

import numpy as np
import pytest

import descend
from descend import optim
from descend.optim import lr_scheduler


def param(values, dtype=np.float64):
    return descend.tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grad(p, g):
    p.grad = descend.tensor(np.array(g, dtype=p._data.dtype))


@pytest.fixture
def float64_default():
    descend.set_default_dtype(descend.float64)
    yield
    descend.set_default_dtype(descend.float32)


# ---------------------------------------------------------------- Rprop
def test_rprop_maximize_on_a_0d_parameter():
    # was: TypeError ('numpy.float64' object does not support item assignment): -grad of a 0-d array
    # is a NumPy scalar. Ascending: g = +2 each step, step sizes 0.1, 0.12 (η+ = 1.2).
    p = param(1.0)
    opt = optim.Rprop([p], lr=0.1, maximize=True)
    for _ in range(2):
        set_grad(p, -2.0)  # the gradient of the objective is -2, so ascending moves θ down
        opt.step()
    assert p.shape == ()
    np.testing.assert_allclose(p._data, 1.0 - 0.1 - 0.12, rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["prev"]._data, 2.0)
    np.testing.assert_allclose(opt.state[p]["step_size"]._data, 0.12, rtol=1e-15)


def test_rprop_sign_flip_on_a_0d_parameter_skips_the_step():
    p = param(0.0)
    opt = optim.Rprop([p], lr=0.1, etas=(0.5, 1.2))
    for g in (1.0, -1.0):
        set_grad(p, g)
        opt.step()
    # step 1: θ = −0.1; step 2: the sign flips, the size halves to 0.05, g is zeroed: θ stays
    np.testing.assert_allclose(p._data, -0.1, rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["step_size"]._data, 0.05, rtol=1e-15)
    assert float(opt.state[p]["prev"]._data) == 0.0


# ---------------------------------------------------------------- float32 scalar state (torch's default)
def f32(x):
    return float(np.float32(x))


def test_asgd_eta_and_mu_are_rounded_to_float32_like_pytorchs_state_tensors():
    lr, lambd, alpha, t0 = 0.1, 0.01, 0.75, 1
    p = param([1.0, -2.0])
    opt = optim.ASGD([p], lr=lr, lambd=lambd, alpha=alpha, t0=t0)
    theta = np.array([1.0, -2.0])
    eta = f32(lr)  # PyTorch: torch.as_tensor(lr, dtype=float32)
    for t in range(1, 5):
        g = np.array([0.5, 0.25]) * t
        set_grad(p, g)
        opt.step()
        theta = theta * (1 - lambd * eta) - eta * g
        eta = f32(lr / (1 + lambd * lr * t) ** alpha)
        mu = f32(1 / max(1, t - t0))
        np.testing.assert_allclose(p._data, theta, rtol=1e-15)
        assert opt.state[p]["eta"] == eta
        assert opt.state[p]["mu"] == mu
    assert opt.state[p]["mu"] == f32(1 / 3)  # t = 4: 1 / (4 − 1), not exact in float32


def test_asgd_scalar_state_is_float64_when_the_default_dtype_is(float64_default):
    p = param([1.0])
    opt = optim.ASGD([p], lr=0.1, lambd=0.01, t0=1)
    for _ in range(4):
        set_grad(p, [1.0])
        opt.step()
    assert opt.state[p]["eta"] == 0.1 / (1 + 0.01 * 0.1 * 4) ** 0.75
    assert opt.state[p]["mu"] == 1 / 3


def test_nadam_mu_product_is_a_float32_product():
    b1, psi = 0.9, 0.3
    p = param([1.0])
    opt = optim.NAdam([p], betas=(b1, 0.999), momentum_decay=psi)
    prod = np.float32(1.0)
    for t in range(1, 6):
        set_grad(p, [0.5])
        opt.step()
        prod = prod * np.float32(b1 * (1 - 0.5 * 0.96 ** (t * psi)))  # float32 × float32, as torch's mul_
        assert opt.state[p]["mu_product"] == float(prod)


def test_nadam_first_step_uses_the_float32_mu_product():
    # one step from m = v = 0 with g = 1: v_hat = 1, denom = 1 + ε, m = (1 − β1) g
    lr, b1, eps, psi = 0.1, 0.9, 1e-8, 0.004
    p = param([0.0])
    opt = optim.NAdam([p], lr=lr, betas=(b1, 0.999), eps=eps, momentum_decay=psi)
    set_grad(p, [1.0])
    opt.step()
    mu = b1 * (1 - 0.5 * 0.96**psi)
    mu_next = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    prod = f32(mu)
    expected = -lr * (1 - mu) / (1 - prod) / (1 + eps) - lr * mu_next / (1 - prod * mu_next) * (1 - b1) / (
        1 + eps
    )
    np.testing.assert_allclose(p._data, [expected], rtol=1e-15)


# ---------------------------------------------------------------- lerp: m = g exactly when β1 = 0
@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"])
def test_first_moment_with_beta1_zero_is_the_gradient_exactly_in_float32(name):
    # PyTorch's lerp_(g, w) computes g − (g − m)(1 − w) for w ≥ 0.5, so w = 1 gives g exactly; the
    # other form, m + w (g − m), loses g's digits when m ≫ g (here 100 then 1e-3)
    p = param([0.0, 0.0], dtype=np.float32)
    opt = getattr(optim, name)([p], betas=(0.0, 0.999))
    for g in ([100.0, -100.0], [1e-3, 3e-4]):
        set_grad(p, g)
        opt.step()
    m = opt.state[p]["exp_avg"]._data
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m, np.array([1e-3, 3e-4], dtype=np.float32))


def test_adam_first_moment_with_small_weight_keeps_the_usual_form():
    p = param([0.0])
    opt = optim.Adam([p], betas=(0.9, 0.999))
    for g in (1.0, 3.0):
        set_grad(p, [g])
        opt.step()
    m1 = 0.1 * 1.0
    np.testing.assert_allclose(opt.state[p]["exp_avg"]._data, [m1 + 0.1 * (3.0 - m1)], rtol=1e-15)


# ---------------------------------------------------------------- Adagrad's state exists from construction
def test_adagrad_state_exists_for_every_parameter_before_its_first_gradient():
    a, b = param([1.0, 2.0]), param(3.0)
    opt = optim.Adagrad([a, b], lr=0.1, initial_accumulator_value=0.5)
    saved = opt.state_dict()["state"]
    assert sorted(saved) == [0, 1]
    assert saved[0]["step"] == 0 and saved[1]["step"] == 0
    np.testing.assert_array_equal(saved[0]["sum"]._data, [0.5, 0.5])
    set_grad(a, [1.0, 1.0])
    opt.step()  # b has no gradient: its state stays at step 0
    saved = opt.state_dict()["state"]
    assert saved[0]["step"] == 1 and saved[1]["step"] == 0
    np.testing.assert_allclose(
        a._data, [1.0 - 0.1 / (math.sqrt(1.5) + 1e-10), 2.0 - 0.1 / (math.sqrt(1.5) + 1e-10)]
    )


def test_adagrad_initial_accumulator_value_is_the_constructors_for_every_group():
    # PyTorch initialises every sum from the constructor's value, also for a group that sets its own
    # and for a group added later
    a, b, c = param([1.0]), param([1.0]), param([1.0])
    opt = optim.Adagrad(
        [{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}], initial_accumulator_value=1.0
    )
    opt.add_param_group({"params": [c], "initial_accumulator_value": 8.0})
    for p in (a, b, c):
        set_grad(p, [1.0])
    opt.step()
    for p in (a, b, c):
        np.testing.assert_array_equal(opt.state[p]["sum"]._data, [2.0])
    assert opt.param_groups[1]["initial_accumulator_value"] == 3.0  # kept in the group, as PyTorch


def test_adagrad_state_dict_round_trip_keeps_the_unstepped_parameters():
    a, b = param([1.0]), param([2.0])
    opt = optim.Adagrad([a, b], initial_accumulator_value=0.25)
    fresh = optim.Adagrad([a, b])
    fresh.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(fresh.state[b]["sum"]._data, [0.25])


# ---------------------------------------------------------------- schedulers resumed with last_epoch ≥ 0
def resumable_opt(lr=0.5, initial_lr=1.0):
    opt = optim.SGD([param([0.0])], lr=lr)
    opt.param_groups[0]["initial_lr"] = initial_lr
    return opt


def test_exponential_lr_resumed_keeps_the_current_lr_at_construction():
    opt = resumable_opt(lr=0.5)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=3)
    assert opt.param_groups[0]["lr"] == 0.5 and sched.get_last_lr() == [0.5]  # was 0.45
    assert sched.last_epoch == 4
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.5 * 0.9


def test_cosine_annealing_lr_resumed_keeps_the_current_lr_at_construction():
    T, eta_min = 10, 0.0
    opt = resumable_opt(lr=0.5, initial_lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=eta_min, last_epoch=3)
    assert sched.get_last_lr() == [0.5]  # was the closed form at epoch 4
    sched.step()  # epoch 5: the chainable ratio applied to the current lr
    ratio = (1 + math.cos(math.pi * 5 / T)) / (1 + math.cos(math.pi * 4 / T))
    np.testing.assert_allclose(sched.get_last_lr(), [0.5 * ratio], rtol=1e-15)


def test_linear_lr_resumed_keeps_the_current_lr_at_construction():
    a, b, n = 0.25, 1.0, 8
    opt = resumable_opt(lr=0.5)
    sched = lr_scheduler.LinearLR(opt, start_factor=a, end_factor=b, total_iters=n, last_epoch=2)
    assert sched.get_last_lr() == [0.5]  # was 0.5 · factor(3) / factor(2)
    sched.step()  # epoch 4
    factor = 1 + (b - a) / (n * a + 3 * (b - a))
    np.testing.assert_allclose(sched.get_last_lr(), [0.5 * factor], rtol=1e-15)


def test_linear_lr_fresh_start_still_applies_the_start_factor():
    opt = optim.SGD([param([0.0])], lr=0.8)
    sched = lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
    assert sched.get_last_lr() == [0.2]


# ---------------------------------------------------------------- PyTorch's 0-d scalar state loads
def test_asgd_loads_scalar_state_saved_as_0d_arrays():
    # PyTorch's ASGD saves step, eta and mu as 0-d tensors; they were taken for buffers and refused
    # ("loaded state 'eta' has shape (), but its parameter has shape (2,)")
    p = param([1.0, -1.0])
    opt = optim.ASGD([p], lr=0.1, lambd=0.0, t0=0)
    saved = {
        "state": {
            0: {
                "step": np.array(3.0),
                "eta": np.array(0.05),
                "mu": np.array(0.5),
                "ax": np.array([0.25, 0.5]),
            }
        },
        "param_groups": [dict(opt.state_dict()["param_groups"][0])],
    }
    opt.load_state_dict(saved)
    state = opt.state[p]
    assert state["eta"] == 0.05 and state["mu"] == 0.5 and state["step"] == 3
    set_grad(p, [1.0, 2.0])
    opt.step()
    theta = np.array([1.0, -1.0]) - 0.05 * np.array([1.0, 2.0])  # λ = 0: θ − η g
    np.testing.assert_allclose(p._data, theta, rtol=1e-15)
    np.testing.assert_allclose(state["ax"]._data, [0.25, 0.5] + 0.5 * (theta - [0.25, 0.5]), rtol=1e-15)
    assert state["step"] == 4 and state["mu"] == f32(1 / 4)  # 1 / max(1, t − t0)


def test_nadam_loads_mu_product_saved_as_a_0d_array():
    p = param([1.0, 2.0])
    opt = optim.NAdam([p])
    group = dict(opt.state_dict()["param_groups"][0])
    opt.load_state_dict(
        {
            "state": {
                0: {
                    "step": np.array(2.0),
                    "mu_product": np.array(0.25),
                    "exp_avg": np.zeros(2),
                    "exp_avg_sq": np.zeros(2),
                }
            },
            "param_groups": [group],
        }
    )
    assert opt.state[p]["mu_product"] == 0.25
    set_grad(p, [1.0, 1.0])
    opt.step()
    mu = 0.9 * (1 - 0.5 * 0.96 ** (3 * 4e-3))
    assert opt.state[p]["mu_product"] == float(np.float32(0.25) * np.float32(mu))


# ---------------------------------------------------------------- LBFGS keeps PyTorch's `al` in its state
def test_lbfgs_state_has_the_two_loop_coefficients_al():
    # f = x², x0 = 1, lr = 0.5. Iteration 1: g = 2, d = −2, t = min(1, 1/|g|₁)·lr = 0.25, x = 0.5.
    # Iteration 2: g = 1, y = −1, s = −0.5, ρ = 1/yᵀs = 2, H = yᵀs/yᵀy = 0.5; q = −g = −1,
    # al[0] = sᵀq ρ = 1, q − al y = 0, r = 0, then r += (al − yᵀr ρ) s = −0.5: d = −0.5, t = 0.5, x = 0.25
    x = param([1.0])
    opt = optim.LBFGS([x], lr=0.5, max_iter=2, max_eval=10, history_size=3)

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x._data, [0.25], rtol=1e-15)
    state = opt.state_dict()["state"][0]
    assert state["al"] == [1.0, None, None]  # PyTorch: [None] * history_size, filled from the end
    assert state["ro"] == [2.0] and state["H_diag"] == 0.5
    fresh = optim.LBFGS([x], lr=0.5, max_iter=2, max_eval=10, history_size=3)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state[x]["al"] == [1.0, None, None]


def test_lbfgs_first_iteration_only_has_no_al():
    x = param([1.0])
    opt = optim.LBFGS([x], lr=0.5, max_iter=1)

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert "al" not in opt.state_dict()["state"][0]


# ---------------------------------------------------------------- a Tensor learning rate
@pytest.mark.parametrize(
    "name",
    ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"],
)
def test_a_tensor_lr_updates_as_its_value(name):
    # was: NAdam, RAdam, Adamax and Adadelta did nothing (θ −= Tensor rebound a local name)
    paths = []
    for lr in (0.01, descend.tensor(0.01, dtype=descend.float64)):
        p = param([1.0, 2.0])
        opt = getattr(optim, name)([p], lr=lr)
        for g in ([0.5, -1.0], [0.25, 1.0]):
            set_grad(p, g)
            opt.step()
        paths.append(p._data.copy())
    assert not np.array_equal(paths[0], [1.0, 2.0])
    np.testing.assert_array_equal(paths[1], paths[0])


def test_lbfgs_with_a_tensor_lr_steps_as_with_its_value():
    # f = x², x0 = 1: the first step is t = min(1, 1/|g|₁)·lr = 0.25 along d = −2, so x = 0.5
    x = param([1.0])
    opt = optim.LBFGS([x], lr=descend.tensor(0.5, dtype=descend.float64), max_iter=1)

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x._data, [0.5], rtol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"])
@pytest.mark.parametrize("betas", [(0.9,), (0.9, 0.99, 0.5)])
def test_betas_must_be_a_pair(name, betas):
    # was: accepted, then the first step failed unpacking them
    with pytest.raises(ValueError, match=r"Invalid betas: expected a pair \(beta1, beta2\)"):
        getattr(optim, name)([param([1.0])], betas=betas)
