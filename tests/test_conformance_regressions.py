"""Regressions found by the PyTorch differential suite (conformance/), checked without torch."""

import math

import numpy as np
import pytest

import descend


def test_abs_gradient_is_zero_at_nan_and_sign_elsewhere():
    # PyTorch's abs backward is grad * sgn(x), and sgn(nan) is 0
    x = descend.tensor(np.array([np.nan, np.inf, 0.0, -0.2]), requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, -1.0])


def test_erf_float64_is_exact():
    # the float32 approximation is only good to 1.2e-7; float64 must match math.erf
    vals = [-3.0, -0.7, 0.0, 0.2, 0.21, 1.5, 6.0]
    out = descend.erf(descend.tensor(np.array(vals))).numpy()
    np.testing.assert_allclose(out, [math.erf(v) for v in vals], rtol=1e-15, atol=0)


def test_prod_over_an_empty_dim_backward():
    # prod of an empty row is the constant 1: backward gives an empty (or zero) gradient, no error
    x = descend.zeros(2, 0, dtype=descend.float64, requires_grad=True)
    y = x.prod(-1)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 1.0])
    y.sum().backward()
    assert x.grad.shape == (2, 0)
    v = descend.zeros(0, dtype=descend.float64, requires_grad=True)
    v.prod().backward()
    assert v.grad.shape == (0,)


# --- found by `make conformance` against PyTorch 2.13; expected values worked out by hand ---


def test_sign_of_nan_is_zero_and_of_bool_is_bool():
    import descend

    assert descend.sign(descend.tensor([float("nan"), -2.0, 3.0])).tolist() == [0.0, -1.0, 1.0]
    assert descend.sign(descend.tensor([True, False])).tolist() == [True, False]


def test_bool_tensors_refuse_relu_argmax_and_subtraction():
    import pytest

    import descend

    b = descend.tensor([True, False])
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        descend.relu(b)
    with pytest.raises(RuntimeError, match="does not support bool input"):
        b.argmax()
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor"):
        b - b
    with pytest.raises(RuntimeError, match="Subtraction"):
        descend.ones(2) - True


def test_maximum_needs_tensors_and_permute_needs_dims():
    import pytest

    import descend

    with pytest.raises(TypeError, match="argument 'other' \\(position 2\\) must be Tensor, not int"):
        descend.maximum(descend.ones(2), 0)
    with pytest.raises(TypeError, match="missing 1 required positional arguments"):
        descend.ones(2, 3).permute()


def test_clamp_with_equal_or_crossed_tensor_bounds_sends_the_gradient_to_max():
    import descend

    x = descend.tensor([0.0, 1.0, 1.5, 2.0, 3.0], dtype=descend.float64, requires_grad=True)
    lo = descend.full((5,), 1.0, dtype=descend.float64, requires_grad=True)
    hi = descend.full((5,), 1.0, dtype=descend.float64, requires_grad=True)
    descend.clamp(x, min=lo, max=hi).sum().backward()
    # x inside [1, 1] only at 1; min never wins when min == max; max where x > max
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert lo.grad.tolist() == [0.0] * 5
    assert hi.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_amax_over_a_size_one_dim_and_over_nan():
    import math

    import descend

    x = descend.tensor([[2.0], [3.0]], dtype=descend.float64, requires_grad=True)
    x.amin(-1).sum().backward()
    assert x.grad.tolist() == [[1.0], [1.0]]  # each element is its own minimum
    y = descend.tensor([[math.nan, 1.0], [2.0, 2.0]], dtype=descend.float64, requires_grad=True)
    y.amax(1).sum().backward()
    row0, row1 = y.grad.tolist()
    assert all(math.isnan(v) for v in row0) and row1 == [0.5, 0.5]  # no element equals a NaN maximum


def test_prod_and_var_let_inf_and_nan_through_as_their_formulas_do():
    import math

    import descend

    p = descend.tensor([math.inf, 2.0], dtype=descend.float64, requires_grad=True)
    p.prod().backward()  # g * prod / x: inf / inf is NaN, inf / 2 is inf
    assert math.isnan(p.grad[0].item()) and p.grad[1].item() == math.inf
    v = descend.tensor([[math.inf], [5.0]], dtype=descend.float64, requires_grad=True)
    v.var(dim=0, correction=0).sum().backward()  # 2/N * g * (x - mean): mean is inf
    assert math.isnan(v.grad[0, 0].item()) and v.grad[1, 0].item() == -math.inf


def test_atan2_gradient_at_the_origin_and_norm1_at_nan():
    import math

    import descend

    x = descend.tensor([0.0, 1.0], dtype=descend.float64, requires_grad=True)
    y = descend.tensor([0.0, 1.0], dtype=descend.float64, requires_grad=True)
    descend.atan2(x, y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5] and y.grad.tolist() == [0.0, -0.5]
    z = descend.tensor([math.nan, -2.0], dtype=descend.float64, requires_grad=True)
    z.norm(p=1).backward()
    assert z.grad.tolist() == [0.0, -1.0]


def test_pow_special_exponents_follow_sqrt_and_rsqrt():
    import math

    import descend

    out = []
    for v in [0.0, -0.0, math.inf, -math.inf]:
        x = descend.tensor([v], dtype=descend.float64, requires_grad=True)
        (x**0.5).sum().backward()
        out.append(x.grad.item())
    # d/dx x^0.5 = 0.5 / sqrt(x): +inf at +0, -inf at -0 (sqrt(-0) = -0), 0 at inf, NaN at -inf
    assert out[0] == math.inf and out[1] == -math.inf and out[2] == 0.0 and math.isnan(out[3])
    assert math.isnan((descend.tensor([-math.inf]) ** 0.5).item())  # sqrt(-inf), not pow's +inf


def test_integer_inputs_of_float_functions_compute_in_the_result_dtype():
    import math

    import descend

    a = descend.tensor(3, dtype=descend.uint8)
    assert abs(descend.atan2(a, a).item() - math.pi / 4) < 1e-7  # not float16's 0.785


def test_a_view_of_a_buffer_that_gains_a_history_requires_grad():
    import descend

    w = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = descend.zeros(3)
    v = buf[0:2]
    buf.copy_(w * 2)
    (v * 10).sum().backward()
    assert v.requires_grad and w.grad.tolist() == [20.0, 20.0, 0.0]


def test_copy_between_partly_overlapping_tensors_and_integer_overflow_raise():
    import pytest

    import descend

    a = descend.zeros(())
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        a.reshape(-1).copy_(a)
    with pytest.raises(RuntimeError, match="cannot be converted to type int64_t without overflow"):
        descend.zeros(2, dtype=descend.int64).masked_fill(descend.tensor([True, False]), float("-inf"))
    with pytest.raises(RuntimeError, match="uint8_t"):
        descend.zeros(2, dtype=descend.uint8).fill_(300)


def test_amax_output_changed_in_place_refuses_backward():
    import pytest

    import descend

    x = descend.tensor([1.0, 3.0], requires_grad=True)
    m = x.amax(0)
    m.clamp_(0, 1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        m.backward()


def test_setitem_drops_leading_unit_dims_of_the_value():
    import descend

    x = descend.zeros(3)
    x[0:1] = descend.ones(1, 1)
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_pow_with_a_tensor_exponent_refuses_backward_after_its_output_changed_in_place():
    import pytest

    x = descend.tensor([0.5, 2.0], requires_grad=True)
    y = x.pow(descend.tensor([2.0, 3.0], requires_grad=True))  # the exponent's VJP reads the output
    y.clamp_(-0.5, 1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_pow_exponent_gradient_of_an_integer_base_is_computed_in_float64():
    # d(3 ** e)/de = 3 ** e * log(3); NumPy's log of a uint8 is float16, 4 digits only
    e = descend.tensor(0.7, dtype=descend.float64, requires_grad=True)
    descend.pow(descend.tensor(3, dtype=descend.uint8), e).backward()
    assert e.grad.dtype == np.float64
    expected = 3**0.7 * math.log(3)
    assert abs(e.grad.item() - expected) < 1e-12 * expected


def test_integer_pow_with_negative_integer_exponents_follows_pytorch():
    base = descend.tensor([-3, -2, -1, 0, 1, 2, 3])
    assert descend.pow(base, descend.tensor(-1)).tolist() == [0, 0, -1, 0, 1, 0, 0]
    assert descend.pow(base, descend.tensor(-2)).tolist() == [0, 0, 1, 0, 1, 0, 0]
    mixed = descend.pow(descend.tensor([2, -1, 5]), descend.tensor([3, -3, 0]))
    assert mixed.tolist() == [8, -1, 1] and mixed.dtype == descend.int64


def test_an_expand_that_repeats_nothing_is_a_writeable_view():
    # PyTorch writes through x.expand(1, 2); broadcast_to's views are read-only
    x = descend.tensor([1.0, 2.0])
    e = x.expand(1, 2)
    e[0, 0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    w = descend.tensor(0.3, dtype=descend.float64, requires_grad=True)
    v = (w * 1.0).expand(1)
    v.add_(w)
    assert abs(v.item() - 0.6) < 1e-15


def test_norm_gradient_follows_pytorchs_formula_at_zeros_and_infinities():
    # 1 < p < 2: sgn(x)|x|^(p-1), so a zero element gets 0 (x * |x|^(p-2) would be 0 * inf = NaN)
    x = descend.tensor([0.0, 1.0], dtype=descend.float64, requires_grad=True)
    x.norm(p=1.5).backward()
    assert x.grad.tolist() == [0.0, 1.0]
    # p < 1: the zero element's 0 still meets norm ** (1 - p) = inf, and 0 * inf is NaN, as in PyTorch
    y = descend.tensor([float("inf"), 0.0], dtype=descend.float64, requires_grad=True)
    y.norm(p=0.5).backward()
    assert np.isnan(y.grad.numpy()).all()


def test_division_saves_its_inputs_not_its_output():
    # DivBackward0 saves a and b (PyTorch's formula reads no output): changing y in place is allowed
    x = descend.tensor([2.0, 3.0], requires_grad=True)
    y = x / x
    y.clamp_(-0.5, 1.0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # clamp_ keeps y = 1 (inside the bounds): d(x/x)/dx = 0


def test_division_gradient_follows_pytorchs_order_of_operations_to_the_bit():
    # d(a/b)/db = -g * ((a / b) / b), in that order: (-g * (a / b)) / b rounds differently in float32
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal(1000).astype(np.float32) for _ in range(3))
    ta, tb = descend.tensor(a, requires_grad=True), descend.tensor(b, requires_grad=True)
    (ta / tb).backward(descend.tensor(g))
    assert np.array_equal(tb.grad.numpy(), -g * ((a / b) / b))
    assert np.array_equal(ta.grad.numpy(), g / b)


def test_backward_gives_inf_and_nan_without_numpy_warnings():
    # pyproject turns descend's RuntimeWarnings into errors: this fails if a VJP warns
    a = descend.tensor([1.0, 0.0], requires_grad=True)
    b = descend.tensor([0.0, 0.0], requires_grad=True)
    (a / b).sum().backward()
    assert a.grad.tolist() == [float("inf"), float("inf")]
    assert b.grad[0].item() == float("-inf") and np.isnan(b.grad[1].item())


_LN2 = math.log(2.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name, domain, formula",
    [
        # PyTorch's formulas in PyTorch's order of operations: g / x and g * (1 / x) round differently
        ("log", "pos", lambda g, x, y: g / x),
        ("log2", "pos", lambda g, x, y: g / (x * _LN2)),
        ("log1p", "pos", lambda g, x, y: g / (x + 1)),
        ("sqrt", "pos", lambda g, x, y: g / (2 * y)),
        ("reciprocal", "pos", lambda g, x, y: -g * (y * y)),
        ("atan", "any", lambda g, x, y: g / (x * x + 1)),
        ("atanh", "unit", lambda g, x, y: g / (1 - x * x)),
        ("exp2", "any", lambda g, x, y: g * y * _LN2),
        ("sigmoid", "any", lambda g, x, y: g * (1 - y) * y),
    ],
)
def test_unary_gradients_follow_pytorchs_formulas_to_the_bit(name, domain, formula, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(500) * 2
    x = {"pos": np.abs(x) + 0.05, "unit": np.clip(x / 3, -0.95, 0.95), "any": x}[domain].astype(dtype)
    g = rng.standard_normal(500).astype(dtype)
    t = descend.tensor(x, requires_grad=True)
    y = getattr(descend, name)(t)
    y.backward(descend.tensor(g))
    assert np.array_equal(t.grad.numpy(), formula(g, x, y.detach().numpy()).astype(dtype))


def test_tanh_gradient_rounds_one_minus_y_squared_once_like_a_fused_multiply_add():
    x = np.random.default_rng(4).standard_normal(500).astype(np.float32)
    t = descend.tensor(x, requires_grad=True)
    y = descend.tanh(t)
    y.sum().backward()
    y64 = y.detach().numpy().astype(np.float64)
    assert np.array_equal(t.grad.numpy(), (1 - y64 * y64).astype(np.float32))


def test_sigmoid_is_one_over_one_plus_exp_minus_x_and_saturates_without_nan():
    x = descend.tensor([-800.0, -1.0, 0.0, 2.0, 800.0], dtype=descend.float64)
    expected = [0.0, 1 / (1 + math.exp(1)), 0.5, 1 / (1 + math.exp(-2)), 1.0]  # exp(800) = inf: 1 / inf
    assert descend.sigmoid(x).tolist() == expected


def test_erfc_keeps_its_relative_precision_in_the_tail():
    x = [0.5, 2.0, 5.0, 9.0]
    got64 = descend.erfc(descend.tensor(x, dtype=descend.float64)).tolist()
    assert got64 == [math.erfc(v) for v in x]
    got32 = descend.erfc(descend.tensor(x, dtype=descend.float32)).numpy().astype(np.float64)
    # 1 - erf(x) kept erf's absolute error: erfc(5) = 1.5e-12 came out with a relative error of 1e-4
    assert np.allclose(got32, [math.erfc(v) for v in x], rtol=3e-7, atol=0)
    assert descend.erfc(descend.tensor([-2.0])).item() == pytest.approx(math.erfc(-2.0), rel=1e-7)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: descend.tensor(1.0).unbind(), IndexError, "Dimension specified as 0 but tensor has no dim"),
        (lambda: list(descend.tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
        (lambda: descend.zeros(0).argmax(), IndexError, r"argmax\(\): Expected reduction dim to be spec"),
        (lambda: descend.zeros(0, 3).argmin(dim=0), IndexError, "reduction dim 0 to have non-zero size"),
        (lambda: descend.zeros(0).max(), RuntimeError, r"max\(\): Expected reduction dim to be specified"),
        (lambda: descend.zeros(0, 3).amax(dim=0), IndexError, "reduction dim 0 to have non-zero size"),
        (lambda: descend.zeros(3, 2).__setitem__(0, descend.zeros(3)), RuntimeError,
         r"size of the tensor \(2\) must match the existing size \(3\) at non-singleton dimension 0"),
        (lambda: descend.zeros(3).expand(2, 4), RuntimeError,
         r"size of the tensor \(4\) must match the existing size \(3\) at non-singleton dimension 1"),
        (lambda: descend.zeros(3).narrow(0, 4, 0), IndexError, r"start out of range .*\[-3, 3\], but got 4"),
        (lambda: descend.tensor(1.0).narrow(0, 0, 1), RuntimeError, r"narrow\(\) cannot be applied to a 0"),
        (lambda: descend.zeros(0, 3).norm(p=float("inf"), dim=0), RuntimeError,
         "cannot compute the inf norm on the dimension 0 because this dimension is empty"),
    ],
)
def test_errors_have_pytorchs_types_and_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_argmin_over_a_non_empty_dim_of_an_empty_tensor_is_empty():
    assert descend.zeros(0, 3).argmin(dim=1).shape == (0,)


def test_two_norm_gradient_masks_x_over_norm_not_the_incoming_gradient():
    # PyTorch: grad * (x / norm).masked_fill_(norm == 0, 0): an infinite gradient at a zero norm
    # (log of the norm) meets the masked 0 and gives NaN; a finite one gives 0
    x = descend.zeros(2, 2, dtype=descend.float64, requires_grad=True)
    descend.log(x.norm(dim=0)).sum().backward()
    assert np.isnan(x.grad.numpy()).all()
    y = descend.tensor([[3.0, 0.0], [4.0, 0.0]], dtype=descend.float64, requires_grad=True)
    y.norm(dim=0).sum().backward()
    assert y.grad.tolist() == [[0.6, 0.0], [0.8, 0.0]]
