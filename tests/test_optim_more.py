"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS: each against its documented formula.

The references below are written in float64 NumPy from PyTorch's documented algorithms (in the
papers' form, e.g. m = β1 m + (1 − β1) g), and the optimizers must reproduce them to rounding.
Gradients are set by hand (`p.grad = ...`), so these tests exercise the optimizers alone.
"""

import math

import numpy as np
import pytest

# --- helpers (the parameter and gradient helpers and the quadratic are test_optim's) ---
from test_optim import X0, A, B, param, set_grad, value  # noqa: E402, I001 - tests/ is on pytest's path

import descend
from descend import optim

STEPS = 12  # past RAdam's switch to the rectified step (ρ_t > 5 from t = 6 with β2 = 0.999)


def quad_grad(x, t):
    """Gradient at step t (0-based) of a quadratic whose scale changes (so signs and sizes vary)."""
    return (1.0 + 0.5 * math.sin(3 * t)) * (A @ x - B)


def run(make_opt, steps=STEPS, x0=X0, grad=quad_grad, dtype=np.float64):
    p = param(x0, dtype)
    opt = make_opt([p])
    path = []
    for t in range(steps):
        set_grad(p, grad(value(p), t))
        opt.step()
        path.append(value(p))
    return np.array(path)


def reference(update, steps=STEPS, maximize=False, weight_decay=0.0, decoupled=False, lr=None):
    """Drive `update(theta, g, t)` (t = 1, 2, ...) over the quadratic, with the shared gradient rules."""
    theta, path = X0.copy(), []
    for t in range(1, steps + 1):
        g = quad_grad(theta, t - 1)
        g = -g if maximize else g
        if weight_decay and decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        theta = update(theta, g, t)
        path.append(theta)
    return np.array(path)


# --- reference updates (float64), one per optimizer ---


def ref_adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    v, u = np.zeros(3), np.zeros(3)

    def update(theta, g, t):
        nonlocal v, u
        v = rho * v + (1 - rho) * g**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        return theta - lr * delta

    return reference(update, maximize=maximize, weight_decay=weight_decay)


def ref_adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    (b1, b2), m, u = betas, np.zeros(3), np.zeros(3)

    def update(theta, g, t):
        nonlocal m, u
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        return theta - lr / (1 - b1**t) * m / u

    return reference(update, maximize=maximize, weight_decay=weight_decay)


def ref_nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    (b1, b2), m, v, mus = betas, np.zeros(3), np.zeros(3), []

    def update(theta, g, t):
        nonlocal m, v
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mus.append(mu)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_hat = v / (1 - b2**t)
        denom = np.sqrt(v_hat) + eps
        prod = float(np.prod(np.array(mus, np.float32)))  # Π μ as PyTorch's float32 mu_product keeps it
        prod_next = prod * mu_next
        return theta - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu_next / (1 - prod_next) * m / denom

    return reference(update, maximize=maximize, weight_decay=weight_decay, decoupled=decoupled_weight_decay,
                     lr=lr)


def ref_radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
              maximize=False):
    (b1, b2), m, v = betas, np.zeros(3), np.zeros(3)
    rho_inf = 2 / (1 - b2) - 1

    def update(theta, g, t):
        nonlocal m, v
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t <= 5:
            return theta - lr * m_hat
        l_t = math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return theta - lr * m_hat * l_t * r_t

    return reference(update, maximize=maximize, weight_decay=weight_decay, decoupled=decoupled_weight_decay,
                     lr=lr)


def f32(x):
    """A scalar rounded as PyTorch's 0-d float32 optimizer state holds it (the default dtype is float32)."""
    return float(np.float32(x))


def ref_asgd(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False, averages=None):
    eta, mu, ax = f32(lr), 1.0, np.zeros(3)

    def update(theta, g, t):
        nonlocal eta, mu, ax
        theta = theta * (1 - lambd * eta) - eta * g
        ax = ax + mu * (theta - ax)
        eta = f32(lr / (1 + lambd * lr * t) ** alpha)
        mu = f32(1 / max(1, t - t0))
        if averages is not None:
            averages.append(ax)
        return theta

    return reference(update, maximize=maximize, weight_decay=weight_decay)


def ref_rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    (eta_minus, eta_plus), (lo, hi) = etas, step_sizes
    prev, size = np.zeros(3), np.full(3, lr)

    def update(theta, g, t):
        nonlocal prev, size
        g = g.copy()
        for i in range(3):  # coordinate by coordinate, as the paper writes it
            if prev[i] * g[i] > 0:
                size[i] = min(size[i] * eta_plus, hi)
            elif prev[i] * g[i] < 0:
                size[i] = max(size[i] * eta_minus, lo)
                g[i] = 0.0
        prev = g
        return theta - np.sign(g) * size

    return reference(update, maximize=maximize)


CASES = {  # id: (optimizer factory, reference path)
    "Adadelta": (lambda ps: optim.Adadelta(ps), ref_adadelta()),
    "Adadelta-options": (lambda ps: optim.Adadelta(ps, lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1),
                         ref_adadelta(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    "Adadelta-maximize": (lambda ps: optim.Adadelta(ps, maximize=True), ref_adadelta(maximize=True)),
    "Adamax": (lambda ps: optim.Adamax(ps), ref_adamax()),
    "Adamax-options": (lambda ps: optim.Adamax(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1),
                       ref_adamax(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1)),
    "Adamax-maximize": (lambda ps: optim.Adamax(ps, maximize=True), ref_adamax(maximize=True)),
    "NAdam": (lambda ps: optim.NAdam(ps), ref_nadam()),
    "NAdam-l2": (lambda ps: optim.NAdam(ps, lr=0.05, weight_decay=0.1, momentum_decay=0.01),
                 ref_nadam(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    "NAdamW": (lambda ps: optim.NAdam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
               ref_nadam(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    "NAdam-maximize": (lambda ps: optim.NAdam(ps, maximize=True), ref_nadam(maximize=True)),
    "RAdam": (lambda ps: optim.RAdam(ps), ref_radam()),
    "RAdam-small-beta2": (lambda ps: optim.RAdam(ps, lr=0.05, betas=(0.9, 0.9)),
                          ref_radam(lr=0.05, betas=(0.9, 0.9))),
    "RAdam-l2": (lambda ps: optim.RAdam(ps, lr=0.05, weight_decay=0.1), ref_radam(lr=0.05, weight_decay=0.1)),
    "RAdamW": (lambda ps: optim.RAdam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
               ref_radam(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    "RAdam-maximize": (lambda ps: optim.RAdam(ps, maximize=True), ref_radam(maximize=True)),
    "ASGD": (lambda ps: optim.ASGD(ps), ref_asgd()),
    "ASGD-options": (lambda ps: optim.ASGD(ps, lr=0.05, lambd=0.01, alpha=0.6, t0=4, weight_decay=0.1),
                     ref_asgd(lr=0.05, lambd=0.01, alpha=0.6, t0=4, weight_decay=0.1)),
    "ASGD-maximize": (lambda ps: optim.ASGD(ps, lr=0.01, maximize=True), ref_asgd(lr=0.01, maximize=True)),
    "Rprop": (lambda ps: optim.Rprop(ps), ref_rprop()),
    "Rprop-options": (lambda ps: optim.Rprop(ps, lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-2, 0.2)),
                      ref_rprop(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-2, 0.2))),
    "Rprop-maximize": (lambda ps: optim.Rprop(ps, maximize=True), ref_rprop(maximize=True)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_updates_follow_documented_formula(case):
    make_opt, expected = CASES[case]
    np.testing.assert_allclose(run(make_opt), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_float32_parameters_stay_float32_and_track_the_float64_path(case):
    make_opt, expected = CASES[case]
    path = run(make_opt, dtype=np.float32)
    assert path.dtype == np.float32
    np.testing.assert_allclose(path, expected, rtol=2e-4, atol=1e-5)


def test_reference_cases_differ_from_each_other():
    # guards against a flag that is accepted but changes nothing
    for plain, variant in [("NAdam-l2", "NAdamW"), ("RAdam-l2", "RAdamW"), ("RAdam", "RAdam-maximize"),
                           ("Rprop", "Rprop-options"), ("ASGD", "ASGD-options")]:
        assert np.abs(CASES[plain][1][-1] - CASES[variant][1][-1]).max() > 1e-6


# --- hand-computed first steps on the parabola f(w) = (w − 3)², f'(w) = 2(w − 3), from w = 0 ---


def parabola_steps(make_opt, steps):
    w = param([0.0])
    opt = make_opt([w])
    out = []
    for _ in range(steps):
        set_grad(w, 2 * (value(w) - 3))
        opt.step()
        out.append(value(w)[0])
    return out


def test_adadelta_first_step_hand_computed():
    # g = −6, v = 0.1·36 = 3.6, Δx = √1e-6 / √(3.6 + 1e-6) · (−6), u = 0.1 Δx²
    delta = math.sqrt(1e-6) / math.sqrt(3.6 + 1e-6) * -6
    np.testing.assert_allclose(parabola_steps(optim.Adadelta, 1), [-delta], rtol=1e-14)


def test_adamax_first_step_is_lr_times_sign():
    # m = 0.1 g, u = |g| + ε, bias correction 0.1: step = lr · g / (|g| + ε)
    np.testing.assert_allclose(parabola_steps(lambda ps: optim.Adamax(ps, lr=0.1), 1),
                               [0.1 * 6 / (6 + 1e-8)], rtol=1e-14)


def test_radam_first_steps_are_bias_corrected_momentum_sgd():
    # ρ_1 = 1 ≤ 5: θ_1 = −lr m_hat = −lr g = 0.06; then m = 0.9·0.1·(−6) + 0.1 g_2, m_hat = m / 0.19
    w1 = 0.01 * 6
    g2 = 2 * (w1 - 3)
    w2 = w1 - 0.01 * (0.9 * 0.1 * -6 + 0.1 * g2) / (1 - 0.9**2)
    np.testing.assert_allclose(parabola_steps(lambda ps: optim.RAdam(ps, lr=0.01), 2), [w1, w2], rtol=1e-14)


def test_rprop_grows_steps_while_the_sign_holds_and_skips_after_a_flip():
    p = param([0.0])
    opt = optim.Rprop([p], lr=0.1)
    path = []
    for g in [1.0, 1.0, 1.0, -1.0, -1.0]:
        set_grad(p, [g])
        opt.step()
        path.append(value(p)[0])
    # steps: 0.1, 0.12, 0.144; the flip halves to 0.072 and skips; the next step uses 0.072 (no change)
    np.testing.assert_allclose(path, [-0.1, -0.22, -0.364, -0.364, -0.364 + 0.072], rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["step_size"].numpy(), [0.072], rtol=1e-14)


def test_asgd_ax_is_the_mean_of_the_iterates_once_averaging_starts():
    # with t0 = 0, μ_t = 1/t, so ax after step t is the mean of θ_2 .. θ_t; exactly so with float64
    # scalar state (default dtype float64: μ = 1/3 is not rounded to float32, as in PyTorch)
    descend.set_default_dtype(descend.float64)
    try:
        p = param(X0)
        opt = optim.ASGD([p], lr=0.05, t0=0)
        thetas = []
        for t in range(8):
            set_grad(p, quad_grad(value(p), t))
            opt.step()
            thetas.append(value(p))
            if t >= 1:
                mean = np.mean(thetas[1:], axis=0)
                np.testing.assert_allclose(opt.state[p]["ax"].numpy(), mean, rtol=1e-12)
    finally:
        descend.set_default_dtype(descend.float32)


def test_asgd_ax_follows_its_formula_with_a_later_start():
    averages = []
    ref_asgd(lr=0.05, t0=4, averages=averages)
    p = param(X0)
    opt = optim.ASGD([p], lr=0.05, t0=4)
    for t in range(STEPS):
        set_grad(p, quad_grad(value(p), t))
        opt.step()
        np.testing.assert_allclose(opt.state[p]["ax"].numpy(), averages[t], rtol=1e-12)


# --- convergence ---


def rosenbrock_grad(x, t):
    a, b = x
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


def bowl_grad(x, t):
    return np.array([2.0, 20.0]) * (x - np.array([3.0, -1.0]))  # elongated bowl, minimum (3, -1)


CONVERGENCE = {  # name: (optimizer, steps); tuned so each converges in well under a second
    # Adadelta crawls along Rosenbrock's valley unless its averages are long-lived (ρ close to 1)
    "Adadelta": (lambda ps: optim.Adadelta(ps, lr=1.0, rho=0.9999), 10000),
    "Adamax": (lambda ps: optim.Adamax(ps, lr=0.02), 5000),
    "NAdam": (lambda ps: optim.NAdam(ps, lr=0.02), 5000),
    # RAdam's first steps are plain momentum SGD, so lr must suit Rosenbrock's large early gradients
    "RAdam": (lambda ps: optim.RAdam(ps, lr=2e-3, betas=(0.9, 0.99)), 5000),
    "ASGD": (lambda ps: optim.ASGD(ps, lr=1e-3, t0=1000), 20000),
    "Rprop": (lambda ps: optim.Rprop(ps), 5000),
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


def test_asgd_average_is_closer_than_the_iterate_under_noisy_gradients():
    rng = np.random.default_rng(0)
    p = param([0.0, 0.0])
    opt = optim.ASGD([p], lr=0.02, t0=500)
    for t in range(5000):
        set_grad(p, bowl_grad(value(p), t) + rng.normal(scale=2.0, size=2))
        opt.step()
    best = np.array([3.0, -1.0])
    err_avg = np.abs(opt.state[p]["ax"].numpy() - best).max()
    assert err_avg < 0.05
    assert err_avg < 0.5 * np.abs(value(p) - best).max()


# --- the shared contract: state_dict, flags, validation ---

OPTIMIZERS = {
    "Adadelta": lambda ps, **kw: optim.Adadelta(ps, lr=0.5, **kw),
    "Adamax": lambda ps, **kw: optim.Adamax(ps, lr=0.05, **kw),
    "NAdam": lambda ps, **kw: optim.NAdam(ps, lr=0.05, **kw),
    "RAdam": lambda ps, **kw: optim.RAdam(ps, lr=0.05, **kw),
    "ASGD": lambda ps, **kw: optim.ASGD(ps, lr=0.05, t0=3, **kw),
    "Rprop": lambda ps, **kw: optim.Rprop(ps, lr=0.05, **kw),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_resumes_the_same_path(name):
    make = OPTIMIZERS[name]
    full = run(make)
    p = param(X0)
    opt = make([p])
    for t in range(5):
        set_grad(p, quad_grad(value(p), t))
        opt.step()
    saved = opt.state_dict()
    for t in range(5, 7):  # steps after the snapshot must not leak into it
        set_grad(p, quad_grad(value(p), t))
        opt.step()
    q = param(full[4])
    resumed = make([q])
    resumed.load_state_dict(saved)
    for t in range(5, STEPS):
        set_grad(q, quad_grad(value(q), t))
        resumed.step()
    np.testing.assert_allclose(value(q), full[-1], rtol=1e-13)
    assert saved["state"][0]["step"] == 5


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_foreach_is_accepted_and_changes_nothing(name):
    make = OPTIMIZERS[name]
    with_foreach, without = run(lambda ps: make(ps, foreach=True)), run(lambda ps: make(ps, foreach=False))
    np.testing.assert_array_equal(with_foreach, without)
    assert make([param(X0)], foreach=True).param_groups[0]["foreach"] is True


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("flag", ["capturable", "differentiable"])
def test_capturable_and_differentiable_raise_a_clear_error(name, flag):
    make = OPTIMIZERS[name]
    with pytest.raises(NotImplementedError, match=f"{flag}=True is not supported"):
        make([param(X0)], **{flag: True})
    assert make([param(X0)], **{flag: False}).param_groups[0][flag] is False


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.Adadelta(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value: 1.5"),
    (lambda ps: optim.Adadelta(ps, eps=-1e-6), "Invalid epsilon value: -1e-06"),
    (lambda ps: optim.Adadelta(ps, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda ps: optim.Adamax(ps, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adamax(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda ps: optim.NAdam(ps, momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (lambda ps: optim.NAdam(ps, lr=-0.5), "Invalid learning rate: -0.5"),
    (lambda ps: optim.RAdam(ps, eps=-1), "Invalid epsilon value: -1"),
    (lambda ps: optim.RAdam(ps, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (lambda ps: optim.ASGD(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.Rprop(ps, etas=(1.2, 0.5)), "Invalid eta values: 1.2, 0.5"),
    (lambda ps: optim.Rprop(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.LBFGS(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.LBFGS(ps, line_search_fn="armijo"), "Invalid line_search_fn: 'armijo'"),
])
def test_invalid_hyper_parameters_raise_value_error_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make([param(X0)])


def test_per_group_options_are_validated_too():
    opt = optim.NAdam([param(X0)])
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 2"):
        opt.add_param_group({"params": [param(X0)], "betas": (2, 0.999)})


def test_defaults_match_pytorch():
    p = [param(X0)]
    assert optim.Adadelta(p).defaults["lr"] == 1.0 and optim.Adadelta(p).defaults["rho"] == 0.9
    assert optim.Adamax(p).defaults["lr"] == 2e-3 and optim.NAdam(p).defaults["momentum_decay"] == 4e-3
    assert optim.RAdam(p).defaults["lr"] == 1e-3 and optim.ASGD(p).defaults["t0"] == 1e6
    assert optim.Rprop(p).defaults["step_sizes"] == (1e-6, 50)
    assert optim.LBFGS(p).defaults["max_eval"] == 25  # max_iter · 5 // 4


# --- LBFGS ---


def quadratic_closure(opt, p, counter=None):
    """f(x) = ½ xᵀA x − bᵀx, gradient A x − b, minimum at A⁻¹ b."""

    def closure():
        if counter is not None:
            counter.append(1)
        opt.zero_grad()
        x = value(p)
        set_grad(p, A @ x - B)
        return descend.tensor(np.array(0.5 * x @ A @ x - B @ x))

    return closure


def rosenbrock_closure(opt, p):
    def closure():
        opt.zero_grad()
        a, b = value(p)
        set_grad(p, rosenbrock_grad((a, b), 0))
        return descend.tensor(np.array((1 - a) ** 2 + 100 * (b - a * a) ** 2))

    return closure


def test_lbfgs_first_iteration_is_a_scaled_steepest_descent_step():
    p = param(X0)
    opt = optim.LBFGS([p], lr=1, max_iter=1)
    g = A @ X0 - B
    loss = opt.step(quadratic_closure(opt, p))
    t = min(1.0, 1.0 / np.abs(g).sum())
    np.testing.assert_allclose(value(p), X0 - t * g, rtol=1e-14)
    np.testing.assert_allclose(float(loss), 0.5 * X0 @ A @ X0 - B @ X0, rtol=1e-14)  # the first loss


def test_lbfgs_second_iteration_uses_the_two_loop_direction():
    # with one (s, y) pair, d = −H g where H = (I − ρ s yᵀ) H0 (I − ρ y sᵀ) + ρ s sᵀ, H0 = (yᵀs / yᵀy) I
    p = param(X0)
    opt = optim.LBFGS([p], lr=1, max_iter=2, max_eval=10)  # the default max_eval (2) would stop after one
    opt.step(quadratic_closure(opt, p))
    g0 = A @ X0 - B
    t0 = min(1.0, 1.0 / np.abs(g0).sum())
    x1 = X0 - t0 * g0
    s, y = x1 - X0, (A @ x1 - B) - g0
    rho, gamma = 1 / (y @ s), (y @ s) / (y @ y)
    eye = np.eye(3)
    H = (eye - rho * np.outer(s, y)) @ (gamma * eye) @ (eye - rho * np.outer(y, s)) + rho * np.outer(s, s)
    np.testing.assert_allclose(value(p), x1 - H @ (A @ x1 - B), rtol=1e-12)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic(line_search_fn):
    p = param(X0)
    opt = optim.LBFGS([p], line_search_fn=line_search_fn, tolerance_change=1e-14)
    for _ in range(3):
        opt.step(quadratic_closure(opt, p))
    np.testing.assert_allclose(value(p), np.linalg.solve(A, B), atol=1e-8)


@pytest.mark.parametrize("line_search_fn, steps", [(None, 10), ("strong_wolfe", 5)])
def test_lbfgs_converges_on_rosenbrock(line_search_fn, steps):
    p = param([-1.2, 1.0])
    opt = optim.LBFGS([p], line_search_fn=line_search_fn)
    for _ in range(steps):
        opt.step(rosenbrock_closure(opt, p))
    np.testing.assert_allclose(value(p), [1.0, 1.0], atol=1e-4)


def test_lbfgs_strong_wolfe_step_satisfies_the_wolfe_conditions():
    p = param([-1.2, 1.0])
    opt = optim.LBFGS([p], max_iter=1, max_eval=25, line_search_fn="strong_wolfe")
    x0 = value(p)
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    g0 = rosenbrock_grad(x0, 0)
    opt.step(rosenbrock_closure(opt, p))
    x1 = value(p)
    d = -g0  # first direction; x1 = x0 + t d
    t = (x1 - x0)[0] / d[0]
    assert f(x1) <= f(x0) + 1e-4 * t * (g0 @ d)
    assert abs(rosenbrock_grad(x1, 0) @ d) <= -0.9 * (g0 @ d)


def test_lbfgs_respects_max_iter_max_eval_and_history_size():
    p = param([-1.2, 1.0])
    opt = optim.LBFGS([p], max_iter=7, history_size=3)
    calls = []
    opt.step(quadratic_closure_2d(opt, p, calls))
    state = opt.state[p]
    assert state["n_iter"] == 7 and len(calls) == 7  # one evaluation per iteration, none after the last
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 3
    q = param([-1.2, 1.0])
    opt = optim.LBFGS([q], max_iter=20, max_eval=4, line_search_fn="strong_wolfe")
    calls = []
    opt.step(quadratic_closure_2d(opt, q, calls))
    assert len(calls) <= 4 + 1 and opt.state[q]["func_evals"] == len(calls)


def quadratic_closure_2d(opt, p, counter):
    def closure():
        counter.append(1)
        opt.zero_grad()
        x = value(p)
        set_grad(p, np.array([2.0, 20.0]) * x)
        return descend.tensor(np.array(x[0] ** 2 + 10 * x[1] ** 2))

    return closure


def test_lbfgs_stops_at_once_when_the_gradient_is_below_tolerance_grad():
    p = param(np.linalg.solve(A, B))
    opt = optim.LBFGS([p], tolerance_grad=1e-7)
    calls = []
    opt.step(quadratic_closure(opt, p, calls))
    assert len(calls) == 1 and opt.state[p]["n_iter"] == 0


def test_lbfgs_history_carries_over_between_steps_and_through_state_dict():
    def path(resume_at):
        p = param([-1.2, 1.0])
        opt = optim.LBFGS([p], max_iter=3, history_size=5)
        for i in range(6):
            if i == resume_at:
                saved = opt.state_dict()
                p = param(value(p))
                opt = optim.LBFGS([p], max_iter=3, history_size=5)
                opt.load_state_dict(saved)
            opt.step(rosenbrock_closure(opt, p))
        return value(p)

    np.testing.assert_allclose(path(resume_at=3), path(resume_at=None), rtol=1e-14)


def test_lbfgs_spans_several_parameters_and_needs_one_group_and_a_closure():
    w, b = param([[0.0, 0.0]]), param([0.0])
    opt = optim.LBFGS([w, b], line_search_fn="strong_wolfe")
    xs = np.array([[1.0, 2.0], [2.0, -1.0], [0.5, 0.5], [-1.0, 1.0]])
    ys = xs @ np.array([1.5, -0.5]) + 0.25

    def closure():
        opt.zero_grad()
        r = xs @ value(w)[0] + value(b)[0] - ys
        set_grad(w, [xs.T @ r / len(r)])
        set_grad(b, [r.mean()])
        return descend.tensor(np.array(0.5 * (r**2).mean()))

    opt.step(closure)
    np.testing.assert_allclose(value(w), [[1.5, -0.5]], atol=1e-6)
    np.testing.assert_allclose(value(b), [0.25], atol=1e-6)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [b]}])
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step(None)


def test_lbfgs_state_dict_rejects_buffers_of_the_wrong_size():
    p = param([-1.2, 1.0])
    opt = optim.LBFGS([p], max_iter=2)
    opt.step(rosenbrock_closure(opt, p))
    saved = opt.state_dict()
    other = optim.LBFGS([param([1.0, 2.0, 3.0])])
    message = r"loaded LBFGS state 'd' has shape \(2,\), but the parameters have 3"
    with pytest.raises(ValueError, match=message):
        other.load_state_dict(saved)


# --- PyTorch's implementation flags on the older optimizers ---

OLDER = {
    "SGD": (lambda ps, **kw: optim.SGD(ps, lr=0.05, momentum=0.9, **kw), ["foreach", "fused"],
            ["differentiable"]),
    "Adam": (lambda ps, **kw: optim.Adam(ps, lr=0.05, **kw), ["foreach", "fused"],
             ["capturable", "differentiable"]),
    "AdamW": (lambda ps, **kw: optim.AdamW(ps, lr=0.05, **kw), ["foreach", "fused"],
              ["capturable", "differentiable"]),
    "RMSprop": (lambda ps, **kw: optim.RMSprop(ps, lr=0.01, **kw), ["foreach"],
                ["capturable", "differentiable"]),
    "Adagrad": (lambda ps, **kw: optim.Adagrad(ps, lr=0.1, **kw), ["foreach", "fused"], ["differentiable"]),
}


@pytest.mark.parametrize("name", sorted(OLDER))
def test_older_optimizers_take_pytorchs_flags(name):
    make, no_ops, unsupported = OLDER[name]
    plain = run(make)
    for flag in no_ops:
        np.testing.assert_array_equal(run(lambda ps, flag=flag: make(ps, **{flag: True})), plain)
        assert make([param(X0)], **{flag: True}).param_groups[0][flag] is True
    for flag in unsupported:
        with pytest.raises(NotImplementedError, match=f"{flag}=True is not supported"):
            make([param(X0)], **{flag: True})


def test_fused_and_foreach_together_is_an_error_as_in_pytorch():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam([param(X0)], foreach=True, fused=True)


def test_lbfgs_and_nadam_state_survive_save_and_load(tmp_path):
    p = param([-1.2, 1.0])
    opt = optim.LBFGS([p], max_iter=3)
    opt.step(rosenbrock_closure(opt, p))
    descend.save(opt.state_dict(), tmp_path / "lbfgs.npz")
    q = param(value(p))
    resumed = optim.LBFGS([q], max_iter=3)
    resumed.load_state_dict(descend.load(tmp_path / "lbfgs.npz"))
    opt.step(rosenbrock_closure(opt, p))
    resumed.step(rosenbrock_closure(resumed, q))
    np.testing.assert_array_equal(value(q), value(p))
