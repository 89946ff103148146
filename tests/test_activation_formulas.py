"""Activations compute PyTorch's CPU kernel formulas, in its order of operations (checked without torch).

Each expected value is the formula written out here in NumPy, step by step as PyTorch's kernel
(aten/src/ATen/native/cpu/Activation.cpp) rounds it, and compared bit for bit. Fused multiply-adds,
which PyTorch's compiled kernels have, are computed exactly: float64 through fractions, float32
through float64 (where the product is exact). The transcendental functions are NumPy's on both
sides, so these tests pin the formula, not the last bit of exp.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

import descend
import descend.nn.functional as F

SPECIAL = [0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 20.0, -20.0, 1e4, -1e4, 88.0, -88.0, 1e-30]


def _inputs(dtype, n=240, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.standard_normal(n) * 3, SPECIAL]).astype(dtype)


def _grad(fn, x, g):
    t = descend.tensor(x, requires_grad=True)
    y = fn(t)
    y.backward(descend.tensor(g))
    return y.detach(), t.grad.numpy()


def _fma(a, b, c):
    """a * b + c with one rounding, elementwise."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v) for v in (a, b, c)))
    dtype = np.result_type(a, b, c)
    if dtype == np.float32:
        return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)
    exact = [
        float(Fraction(float(p)) * Fraction(float(q)) + Fraction(float(r))) if np.isfinite([p, q, r]).all()
        else float(p) * float(q) + float(r)
        for p, q, r in zip(a.ravel(), b.ravel(), c.ravel())
    ]
    return np.array(exact, dtype=np.float64).reshape(a.shape)


def _same(actual, expected):
    np.testing.assert_array_equal(actual, expected)  # NaN matches NaN; -0.0 matches 0.0
    zeros = expected == 0
    assert np.array_equal(np.signbit(actual[zeros]), np.signbit(expected[zeros]))


DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize(
    "call, node",
    [
        (lambda x: F.silu(x), "SiluBackward0"),
        (lambda x: F.gelu(x), "GeluBackward0"),
        (lambda x: F.gelu(x, approximate="tanh"), "GeluBackward0"),
        (lambda x: F.mish(x), "MishBackward0"),
        (lambda x: F.celu(x, 2.0), "CeluBackward0"),
        (lambda x: F.elu(x), "EluBackward0"),
        (lambda x: F.selu(x), "EluBackward0"),
        (lambda x: F.softplus(x), "SoftplusBackward0"),
        (lambda x: F.logsigmoid(x), "LogSigmoidBackward0"),
        (lambda x: F.hardsigmoid(x), "HardsigmoidBackward0"),
        (lambda x: F.hardswish(x), "HardswishBackward0"),
    ],
)
def test_activation_records_one_node_with_pytorchs_name(call, node):
    x = descend.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = call(x)
    assert y.grad_fn.name() == node
    assert [type(f).__name__ for f, _ in y.grad_fn.next_functions] == ["AccumulateGrad"]


def test_silu_and_its_module_record_silu_backward():
    x = descend.tensor([1.0], requires_grad=True)
    assert descend.nn.SiLU()(x).grad_fn.name() == "SiluBackward0"
    assert descend.nn.GELU()(x).grad_fn.name() == "GeluBackward0"
    assert descend.nn.Mish()(x).grad_fn.name() == "MishBackward0"


@pytest.mark.parametrize("dtype", DTYPES)
def test_silu_is_x_over_one_plus_exp_and_its_backward_fuses_one_multiply_add(dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=1)[::-1].copy()
    y, grad = _grad(F.silu, x, g)
    with np.errstate(over="ignore"):
        d = 1 + np.exp(-x)
    s = 1 / d
    _same(y.numpy(), x / d)
    _same(grad, g * s * _fma(x, 1 - s, dtype(1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mish_backward_is_two_multiply_adds(dtype):
    x = _inputs(dtype)
    g = np.ones_like(x)
    y, grad = _grad(F.mish, x, g)
    with np.errstate(over="ignore"):
        t = np.tanh(np.log1p(np.exp(x)))
        s = 1 / (1 + np.exp(-x))
    _same(y.numpy(), x * t)
    _same(grad, g * _fma(x * s, _fma(-t, t, dtype(1)), t))


def _as_erf_float32(z):
    # Abramowitz and Stegun 7.1.26, as PyTorch's vectorised float32 erf evaluates it
    f = np.float32
    t = f(1) / _fma(f(0.3275911), np.abs(z), f(1))
    r = f(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        r = _fma(r, t, f(c))
    return np.copysign(_fma(-np.exp(-(z * z)) * t, r, f(1)), z)


def test_gelu_float32_uses_pytorchs_vectorised_erf():
    x = _inputs(np.float32)
    g = _inputs(np.float32, seed=2)
    y, grad = _grad(F.gelu, x, g)
    f = np.float32
    alpha = f(math.sqrt(0.5))
    cdf = f(0.5) * (1 + _as_erf_float32(x * alpha))
    pdf = f(1 / math.sqrt(2 * math.pi)) * np.exp(x * x * f(-0.5))
    _same(y.numpy(), x * f(0.5) * (1 + _as_erf_float32(x * alpha)))
    _same(grad, g * _fma(x, pdf, cdf))


def test_pytorchs_float32_erf_is_within_its_documented_error():
    z = np.linspace(-5, 5, 2001).astype(np.float32)
    exact = np.array([math.erf(v) for v in z.astype(np.float64)])
    assert np.max(np.abs(_as_erf_float32(z) - exact)) < 4e-7  # 1.5e-7 and float32 rounding


def test_gelu_float64_is_exact_erf():
    x = _inputs(np.float64)
    y, grad = _grad(F.gelu, x, np.ones_like(x))
    erf = np.array([math.erf(v) for v in x * math.sqrt(0.5)])
    _same(y.numpy(), x * 0.5 * (1 + erf))
    pdf = (1.12837916709551257390 * 0.70710678118654752440 * 0.5) * np.exp(x * x * -0.5)
    _same(grad, _fma(x, pdf, 0.5 * (1 + erf)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_tanh_is_pytorchs_kernel(dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=3)
    y, grad = _grad(lambda t: F.gelu(t, approximate="tanh"), x, g)
    beta = dtype(math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5)
    kappa = dtype(0.044715)
    with np.errstate(over="ignore", invalid="ignore"):
        inner = beta * _fma(kappa, x * x * x, x)
        t = np.tanh(inner)
        expected = dtype(0.5) * x * (1 + t)
        slope = _fma(dtype(0.5) * x * _fma(-t, t, dtype(1)), beta * _fma(dtype(3) * kappa, x * x, dtype(1)),
                     dtype(0.5) * (1 + t))
    _same(y.numpy(), expected)
    _same(grad, g * slope)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 20.0), (0.5, 5.0)])
def test_softplus_is_log1p_exp_over_beta_and_its_backward_g_z_over_z_plus_one(dtype, beta, threshold):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=4)
    y, grad = _grad(lambda t: F.softplus(t, beta, threshold), x, g)
    b = dtype(beta)
    z = x * b
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        _same(y.numpy(), np.where(z > dtype(threshold), x, np.log1p(e) / b))
        _same(grad, np.where(z > dtype(threshold), g, g * e / (e + 1)))


def test_softplus_stays_finite_where_exp_overflows():
    # PyTorch gives inf forward and NaN backward once exp(beta x) overflows below the threshold
    x = descend.tensor(np.array([100.0, 1000.0], dtype=np.float32), requires_grad=True)
    y = F.softplus(x, threshold=1e6)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [100.0, 1000.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsigmoid_backward_is_pytorchs_buffer_formula(dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=5)
    y, grad = _grad(F.logsigmoid, x, g)
    b = np.exp(-np.abs(x))
    negative = x < 0
    _same(y.numpy(), np.minimum(x, 0) - np.log1p(b))
    max_deriv = np.where(negative, dtype(1), dtype(0))
    sign = np.where(negative, dtype(1), dtype(-1))
    expected = (max_deriv - sign * (b / (1 + b))) * g
    _same(grad, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "call, alpha, scale, input_scale, backward_scale",
    [
        (lambda t: F.elu(t), 1.0, 1.0, 1.0, 1.0),
        (lambda t: F.elu(t, 0.5), 0.5, 1.0, 1.0, 1.0),
        (lambda t: F.selu(t), 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0, 1.0),
        (lambda t: F.celu(t, 2.0), 2.0, 1.0, 0.5, 0.5),
        # CELU's backward takes 1 / float32(alpha), its forward 1 / alpha
        (lambda t: F.celu(t, 0.3), 0.3, 1.0, 1 / 0.3, 1 / float(np.float32(0.3))),
    ],
)
def test_elu_family_is_expm1_forward_and_scaled_exp_backward(dtype, call, alpha, scale, input_scale,
                                                             backward_scale):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=6)
    y, grad = _grad(call, x, g)
    negcoef = dtype(alpha) * dtype(scale)
    with np.errstate(over="ignore"):
        _same(y.numpy(), np.where(x > 0, x * dtype(scale), np.expm1(x * dtype(input_scale)) * negcoef))
        bs = dtype(backward_scale)
        _same(grad, np.where(x > 0, g * dtype(scale), g * bs * negcoef * np.exp(x * bs)))


def test_celu_backward_scale_differs_from_forward_in_float64():
    # the two scales differ in float64 for alpha = 0.3; the gradient uses 1 / float32(0.3)
    assert 1 / 0.3 != 1 / float(np.float32(0.3))
    x = descend.tensor(np.array([-1.0]), requires_grad=True)
    F.celu(x, 0.3).backward()
    bs = 1 / float(np.float32(0.3))
    assert x.grad.item() == 1.0 * bs * 0.3 * math.exp(-1.0 * bs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hardsigmoid_is_clamped_shift_over_six_with_a_float32_slope(dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, seed=7)
    y, grad = _grad(F.hardsigmoid, x, g)
    _same(y.numpy(), np.minimum(np.maximum(x + 3, 0), 6) / dtype(6))
    slope = dtype(np.float32(1) / np.float32(6))  # float32's 1/6, also in float64 (as PyTorch)
    _same(grad, np.where((x > -3) & (x < 3), g * slope, 0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hardswish_is_x_times_clamped_shift_over_six(dtype):
    x = np.concatenate([_inputs(dtype), np.array([np.nan, np.inf, -np.inf], dtype)])
    g = np.ones_like(x)
    y, grad = _grad(F.hardswish, x, g)
    with np.errstate(invalid="ignore"):
        _same(y.numpy(), x * np.minimum(np.maximum(x + 3, 0), 6) / dtype(6))
        _same(grad, np.where(x <= -3, 0, np.where(x >= 3, g, g * (x / dtype(3) + dtype(0.5)))))


def test_hardswish_gradient_at_the_kinks():
    x = descend.tensor([-3.0, 3.0, np.nan], requires_grad=True)
    F.hardswish(x).backward(descend.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, np.nan])


def test_nan_passes_through_threshold_and_the_shrinks():
    # PyTorch's kernels test "x <= threshold" and "-lambd <= x <= lambd", both false at NaN
    x = descend.tensor([np.nan, -0.25, 2.0], requires_grad=True)
    y = F.threshold(x, 0.1, 7.0)
    y.backward(descend.ones(3))
    np.testing.assert_array_equal(y.detach().numpy(), [np.nan, 7.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(F.hardshrink(x).detach().numpy(), [np.nan, 0.0, 2.0])
    soft = F.softshrink(x).detach().numpy()
    np.testing.assert_array_equal(soft, [np.nan, 0.0, 1.5])
    assert np.signbit(soft[1])  # -0.25 * 0 is -0.0, as PyTorch's kernel gives


@pytest.mark.parametrize("fn", [F.silu, F.mish, F.gelu, F.logsigmoid, F.softplus, F.elu, F.selu])
def test_extremes_stay_finite(fn):
    x = descend.tensor(np.array([1e4, -1e4, 1e30, -1e30], dtype=np.float32), requires_grad=True)
    y = fn(x)
    y.backward(descend.ones(4))
    assert np.isfinite(y.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


# --- losses: PyTorch's elementwise order of operations in the backward ---


def _loss_grads(fn, arrays, g):
    ts = [descend.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(descend.tensor(np.asarray(g, arrays[0].dtype)))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _pair(dtype, shape=(8, 30), seed=10):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2).astype(dtype), (rng.standard_normal(shape) * 2).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_mean_backward_scales_the_difference_first(dtype):
    x, y = _pair(dtype)
    n = x.size
    _, (gx, gy) = _loss_grads(F.mse_loss, [x, y], 1.3)
    expected = (dtype(2 / n) * (x - y)) * dtype(1.3)  # PyTorch: (norm * (x - y)) * g
    _same(gx, expected)
    _same(gy, -expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_huber_and_smooth_l1_backward_is_norm_times_slope_times_g(dtype, reduction, delta):
    x, y = _pair(dtype)
    d = x - y
    g = np.full((), 1.3, dtype) if reduction != "none" else _pair(dtype, seed=11)[0]
    norm = dtype(1 / x.size) if reduction == "mean" else dtype(1)
    _, (gx, gy) = _loss_grads(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta), [x, y], g)
    _same(gx, (norm * np.clip(d, -delta, delta)) * g)
    _same(gy, -((norm * np.clip(d, -delta, delta)) * g))
    _, (sx, _) = _loss_grads(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=delta), [x, y], g)
    _same(sx, (norm * np.clip(d / dtype(delta), -1, 1)) * g)


@pytest.mark.parametrize("reduction, node", [("mean", "MeanBackward0"), ("sum", "SumBackward0"),
                                             ("none", "AbsBackward0")])
def test_l1_loss_records_the_last_node_of_pytorchs_composite(reduction, node):
    # PyTorch's l1_loss is (x - y).abs() reduced; descend's fused node carries its last node's name
    x = descend.tensor([1.0, 5.0, 2.0], requires_grad=True)
    y = descend.tensor([2.0, 2.0, 2.0])
    loss = F.l1_loss(x, y, reduction=reduction)
    assert loss.grad_fn.name() == node
    assert F.smooth_l1_loss(x, y, reduction=reduction, beta=0.0).grad_fn.name() == node
    loss.backward(descend.ones_like(loss))
    scale = 1 / 3 if reduction == "mean" else 1.0
    np.testing.assert_array_equal(x.grad.numpy(), np.array([-1.0, 1.0, 0.0], np.float32) * np.float32(scale))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_is_pytorchs_kernel(dtype, reduction, weighted):
    rng = np.random.default_rng(12)
    x = (rng.random((6, 20)) * 0.98 + 0.01).astype(dtype)
    y = rng.random((6, 20)).astype(dtype)
    w = (rng.random(20) + 0.5).astype(dtype)
    g = np.full((), 1.3, dtype) if reduction != "none" else rng.standard_normal((6, 20)).astype(dtype)
    call = (lambda a, b: F.binary_cross_entropy(a, b, weight=descend.tensor(w) if weighted else None,
                                                reduction=reduction))
    out, (gx, gy) = _loss_grads(call, [x, y], g)

    def finish(d):
        d = d * w if weighted else d
        return d / dtype(x.size) if reduction == "mean" else d

    loss = (y - 1) * np.maximum(np.log1p(-x), -100) - y * np.maximum(np.log(x), -100)
    if reduction == "none":
        _same(out, loss * w if weighted else loss)
    _same(gx, finish(g * (x - y) / np.maximum((1 - x) * x, dtype(1e-12))))
    _same(gy, finish(-np.log(x / (1 - x)) * g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits_backward_is_pytorchs(dtype, reduction, with_pos_weight):
    rng = np.random.default_rng(13)
    x = (rng.standard_normal((6, 20)) * 3).astype(dtype)
    y = rng.random((6, 20)).astype(dtype)
    w = (rng.random(20) + 0.5).astype(dtype)
    pw = (rng.random(20) * 3).astype(dtype)
    g = np.full((), 1.3, dtype) if reduction != "none" else rng.standard_normal((6, 20)).astype(dtype)
    call = (lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=descend.tensor(w), reduction=reduction,
        pos_weight=descend.tensor(pw) if with_pos_weight else None))
    _, (gx, gy) = _loss_grads(call, [x, y], g)

    def finish(d):
        d = d * g * w
        return d / dtype(x.size) if reduction == "mean" else d

    sig = 1 / (1 + np.exp(-x))
    tail = np.log1p(np.exp(-np.abs(x)))
    if with_pos_weight:
        t = pw * y
        _same(gx, finish((t + 1 - y) * sig - t))
        _same(gy, finish((np.minimum(-x, 0) - tail) - (np.minimum(x, 0) - tail) * pw))
    else:
        _same(gx, finish(sig - y))
        _same(gy, finish(-x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_gradient_fuses_the_target_column(dtype, reduction, weighted):
    # PyTorch: nll's gradient s = w[y] * -(g / total weight) at the target, then log_softmax's
    # backward s onehot - exp(log_softmax) s: one fused multiply-add there, -(p s) elsewhere
    rng = np.random.default_rng(14)
    x = (rng.standard_normal((16, 7)) * 3).astype(dtype)
    t = rng.integers(0, 7, 16)
    w = (rng.random(7) + 0.5).astype(dtype)
    g = np.full((), 1.3, dtype) if reduction != "none" else rng.standard_normal(16).astype(dtype)
    xt = descend.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, descend.tensor(t), weight=descend.tensor(w) if weighted else None,
                           reduction=reduction)
    loss.backward(descend.tensor(g))
    z = x - x.max(axis=1, keepdims=True)
    p = np.exp(z - np.log(np.exp(z).sum(axis=1))[:, None])
    wy = w[t] if weighted else np.ones(16, dtype)
    if reduction == "mean":
        s = wy * -(g / float(wy.sum()))
    else:
        s = wy * -g
    s = np.broadcast_to(np.asarray(s, dtype), (16,))
    expected = -(p * s[:, None])
    expected[np.arange(16), t] = _fma(-p[np.arange(16), t], s, s)
    _same(xt.grad.numpy(), expected)


def test_l1_loss_gradient_is_zero_where_the_difference_is_nan():
    # PyTorch's abs backward multiplies by sgn(x - y), and sgn(NaN) is 0
    x = descend.tensor([np.nan, 3.0, 1.0], requires_grad=True)
    F.l1_loss(x, descend.tensor([0.0, 1.0, 2.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0])


@pytest.mark.parametrize("call, masked", [
    (lambda x: F.hardtanh(x), [True, False, True, False]),
    (lambda x: F.relu6(x), [True, False, True, True]),
    (lambda x: F.hardshrink(x), [False, True, False, True]),
    (lambda x: F.softshrink(x), [False, True, False, True]),
    (lambda x: F.threshold(x, 0.1, 2.0), [True, False, False, True]),
    (lambda x: F.hardsigmoid(x), [True, False, True, False]),
    (lambda x: F.hardswish(x), [True, False, False, False]),
])
def test_masked_gradients_are_plus_zero_and_never_nan(call, masked):
    # PyTorch's vectorised kernels select (mask & g): +0.0 where masked, for a negative or infinite g too
    x = descend.tensor(np.array([-8.0, 0.2, 8.0, -0.1], np.float32), requires_grad=True)
    call(x).backward(descend.tensor(np.array([-np.inf, -1.0, -np.inf, -2.0], np.float32)))
    grad = x.grad.numpy()[masked]
    assert (grad == 0).all() and not np.signbit(grad).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, kw, alpha, scale, backward_scale, node",
    [
        ("elu", {}, 1.0, 1.0, 1.0, "EluBackward1"),
        ("elu", {"alpha": 0.5}, 0.5, 1.0, 1.0, "EluBackward1"),
        ("selu", {}, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0,
         "EluBackward1"),
        ("celu", {"alpha": 0.3}, 0.3, 1.0, 1 / float(np.float32(0.3)), "CeluBackward1"),
    ],
)
def test_inplace_elu_family_backward_reads_the_result(name, kw, alpha, scale, backward_scale, node, dtype):
    # PyTorch's elu_/selu_/celu_ record EluBackward1/CeluBackward1: (g s) (y + alpha scale) for y <= 0
    x = _inputs(dtype)
    g = _inputs(dtype, seed=15)
    leaf = descend.tensor(x, requires_grad=True)
    y = getattr(F, name)(leaf * 1, inplace=True, **kw)
    assert y.grad_fn.name() == node
    y.backward(descend.tensor(g))
    out = y.detach().numpy()
    with np.errstate(invalid="ignore"):
        negative = (g * dtype(backward_scale)) * (out + dtype(alpha) * dtype(scale))
        expected = np.where(out > 0, g * dtype(scale), negative)
    _same(leaf.grad.numpy(), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [-1, 0])
def test_glu_is_one_node_with_pytorchs_kernel_formulas(dtype, dim):
    x = _inputs(dtype, n=256, seed=16)[:256].reshape(16, 16)
    g = _inputs(dtype, n=128, seed=17)[:128].reshape((16, 8) if dim == -1 else (8, 16))
    t = descend.tensor(x, requires_grad=True)
    y = F.glu(t, dim)
    assert y.grad_fn.name() == "GluBackward0"
    y.backward(descend.tensor(g))
    a, b = np.split(x, 2, axis=dim)
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-b))
    _same(y.detach().numpy(), a * s)
    _same(t.grad.numpy(), np.concatenate([s * g, (1 - s) * s * a * g], axis=dim))


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_is_one_node_with_pytorchs_kernel(dtype):
    rng = np.random.default_rng(18)
    x = (rng.standard_normal((6, 3, 4)) * 2).astype(dtype)
    x[0, 0, :3] = [np.nan, 0.0, -np.inf]
    w = np.array([0.25, -0.5, 2.0], dtype)
    g = rng.standard_normal((6, 3, 4)).astype(dtype)
    xt, wt = descend.tensor(x, requires_grad=True), descend.tensor(w, requires_grad=True)
    y = F.prelu(xt, wt)
    assert y.grad_fn.name() == "PreluKernelBackward0"
    y.backward(descend.tensor(g))
    wb = w.reshape(3, 1)
    _same(y.detach().numpy(), np.where(x > 0, x, wb * x))
    _same(xt.grad.numpy(), np.where(x > 0, g, wb * g))
    np.testing.assert_allclose(wt.grad.numpy(), np.where(x > 0, 0, x * g).sum(axis=(0, 2)), rtol=1e-6)


@pytest.mark.parametrize("call", [
    F.silu, F.mish, F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.softplus, F.logsigmoid, F.elu, F.selu,
    F.celu, F.hardsigmoid, F.hardswish, F.hardtanh, F.relu6, F.softshrink, F.hardshrink,
    lambda x: F.threshold(x, 0.1, 2.0), lambda x: F.prelu(x, descend.tensor([0.25])),
    lambda x: F.silu(x * 1, inplace=True), lambda x: F.elu(x * 1, inplace=True),
])
@pytest.mark.parametrize("value", [-4.0, 0.3])
def test_zero_dimensional_inputs_keep_their_shape(call, value):
    # NumPy gives scalars, not arrays, for 0-d results: the fused kernels must still work there
    x = descend.tensor(np.float32(value), requires_grad=True)
    y = call(x)
    y.backward()
    assert y.shape == () and x.grad.shape == ()
    ref = descend.tensor(np.array([value], np.float32), requires_grad=True)
    r = call(ref)
    r.backward(descend.ones(1))
    assert y.item() == r.detach().numpy()[0] and x.grad.item() == ref.grad.numpy()[0]
