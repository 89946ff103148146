"""Regressions found by the dtype / promotion / reduction conformance programs (PyTorch's semantics,
expected values by hand)."""

import numpy as np
import pytest

import descend


def t(values, dtype):
    return descend.tensor(values, dtype=getattr(descend, dtype))


def values(x):
    return np.asarray(x._data).tolist()


# --- integer ops compute in the result dtype (PyTorch casts both operands first) ---


def test_uint8_floor_divide_by_zero_dim_negative_int64_wraps_divisor():
    # result_type(uint8 tensor, 0-d int64) is uint8: -1 becomes 255, so x // 255
    out = t([0, 1, 3, 7, 200], "uint8") // t(-1, "int64")
    assert out.dtype.name == "uint8"
    assert values(out) == [0, 0, 0, 0, 0]


def test_uint8_remainder_by_negative_python_int_wraps_it():
    # -2 as uint8 is 254: x % 254 is x for x < 254
    out = t([0, 1, 3, 7, 200], "uint8") % -2
    assert out.dtype.name == "uint8"
    assert values(out) == [0, 1, 3, 7, 200]
    assert values(t([0, 1, 3, 7, 200], "uint8") // 300) == [0, 0, 0, 0, 4]  # 300 as uint8 is 44


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: descend.fmod(a, b),
        lambda a, b: descend.div(a, b, rounding_mode="trunc"),
        lambda a, b: descend.div(a, b, rounding_mode="floor"),
    ],
)
def test_integer_division_by_zero_raises(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(t([-7, 7], "int64"), t([0, 2], "int64"))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(t([-7, 7], "int32"), 0)


def test_float_division_by_zero_still_gives_inf_and_nan():
    out = t([-7.0, 7.0, 0.0], "float64") // 0
    assert values(out)[:2] == [-np.inf, np.inf] and np.isnan(values(out)[2])


def test_trunc_division_of_large_int64_is_exact():
    big = 2**62 + 1
    out = descend.div(t([big, -big, -7, 7], "int64"), t([3, 3, 2, -2], "int64"), rounding_mode="trunc")
    assert values(out) == [big // 3, -(big // 3), -3, -3]


# --- powers of integers ---


def test_number_to_integer_tensor_power_with_negative_exponents():
    # PyTorch: base ** negative exponent is 0 unless the base is 1 or -1
    assert values(2 ** t([-7, -1, 0, 3, 7], "int64")) == [0, 0, 1, 8, 128]
    assert values((-1) ** t([-3, -2, 2], "int64")) == [-1, 1, 1]


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_integer_tensor_to_negative_python_int_raises_runtime_error(dtype):
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        t([1, 0], dtype) ** -1


# --- reflected division: PyTorch's reciprocal() * number ---


def test_number_over_tensor_is_reciprocal_times_number():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    out = 2.5 / descend.tensor(x)
    expected = (np.float32(1) / x) * np.float32(2.5)  # differs from 2.5 / x in the last bit here and there
    assert np.array_equal(out._data, expected)
    xt = descend.tensor(np.array([2.0, -4.0]), requires_grad=True)
    (3 / xt).sum().backward()
    assert values(xt.grad) == [-3 / 4, -3 / 16]


# --- comparisons in the common dtype ---


def test_comparison_with_wider_zero_dim_int_casts_to_the_tensor_dtype():
    x = t([200, 7, 0], "uint8")
    assert values(t(-1, "int64") < x) == [False, False, False]  # -1 as uint8 is 255
    assert values(x >= t(-1, "int32")) == [False, False, False]
    assert values(t(0, "uint8") < -2) is True  # -2 wraps to 254


def test_float32_tensor_equals_zero_dim_float64_in_float32():
    x = descend.tensor(np.array([0.1], np.float32))
    assert values(x == descend.tensor(np.float64(0.1))) == [True]


# --- bitwise ops ---


def test_bitwise_ops_promote_like_arithmetic():
    a = t([-7, -1, 0, 3, 7], "int32")
    out = descend.bitwise_and(t(-1, "int64"), a)  # the dimensioned int32 wins over the 0-d int64
    assert out.dtype.name == "int32" and values(out) == [-7, -1, 0, 3, 7]
    xor = descend.bitwise_xor(t([-7, 5], "int64"), t([3, 5], "int64"))
    assert xor.dtype.name == "int64" and values(xor) == [-7 ^ 3, 0]
    assert values(t([0, 1, 200], "uint8") & -2) == [0, 0, 200]  # -2 is 254 as uint8
    assert values(descend.bitwise_or(t([True, False], "bool"), t([False, False], "bool"))) == [True, False]


def test_shifts_saturate_like_pytorch():
    x = t([-7, -1, 0, 3, 7], "int64")
    assert values(descend.bitwise_left_shift(x, t([7, 3, 0, -1, 64], "int64"))) == [-896, -8, 0, 0, 0]
    assert values(descend.bitwise_right_shift(x, t([7, 70, 0, -1, 1], "int64"))) == [-1, -1, 0, 0, 3]
    out = descend.bitwise_left_shift(t([3, 200], "uint8"), 2)
    assert out.dtype.name == "uint8" and values(out) == [12, 32]


@pytest.mark.parametrize("fn", [descend.bitwise_and, descend.bitwise_xor, descend.bitwise_left_shift])
def test_bitwise_ops_refuse_floats(fn):
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        fn(t([1, 2], "int64"), 2.5)
    with pytest.raises(NotImplementedError, match="not implemented for 'Double'"):
        descend.bitwise_not(t([1.0], "float64"))


# --- gradients PyTorch does not define ---


@pytest.mark.parametrize(
    "fn, aten",
    [
        (lambda x: x // 2, "floor_divide"),
        (lambda x: descend.floor_divide(x, x), "floor_divide"),
        (lambda x: 5 % x, "remainder"),
    ],
)
def test_backward_through_underivable_ops_raises(fn, aten):
    x = descend.tensor([3.0, -4.0], requires_grad=True)
    out = fn(x)
    with pytest.raises(RuntimeError, match=f"derivative for aten::{aten} is not implemented"):
        out.sum().backward()


def test_div_floor_rounding_mode_gradient_is_zero():
    x = descend.tensor([3.0, -4.0], requires_grad=True)
    descend.div(x, 2, rounding_mode="floor").sum().backward()
    assert values(x.grad) == [0.0, 0.0]


# --- reductions ---


def test_argmax_without_dim_keepdim_keeps_every_dim():
    x = t([[1.0, 5.0, 3.0], [0.0, 2.0, 4.0]], "float64")
    out = descend.argmax(x, keepdim=True)
    assert tuple(out.shape) == (1, 1) and values(out) == [[1]]
    assert tuple(descend.argmin(x, dim=None, keepdim=False).shape) == ()


def test_all_any_keep_uint8_and_reduce_nothing_for_empty_dims():
    x = t([[1, 0, 3], [4, 5, 250]], "uint8")
    assert descend.all(x, dim=1).dtype.name == "uint8" and values(descend.all(x, dim=1)) == [0, 1]
    assert descend.any(x).dtype.name == "uint8" and values(descend.any(x)) == 1
    b = t([[1.0, 0.0], [2.0, 3.0]], "float64")
    assert values(descend.all(b, dim=())) == [[True, False], [True, True]]
    assert descend.all(b).dtype.name == "bool"


def test_count_nonzero_with_empty_dims_counts_everything():
    x = t([[1.0, 0.0, 3.0], [0.0, 5.0, 6.0]], "float64")
    out = descend.count_nonzero(x, dim=())
    assert tuple(out.shape) == () and values(out) == 4


def test_reduction_errors_name_the_dtype():
    i = t([[1, 2], [3, 4]], "int64")
    with pytest.raises(RuntimeError, match="Optional dtype must be either a floating point.*Got: Int"):
        descend.mean(i, dim=1, dtype=descend.int32)
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        descend.norm(i)
    with pytest.raises(TypeError, match='missing 1 required positional arguments: "dim"'):
        descend.logsumexp(t([1.0, 2.0], "float64"))
    with pytest.raises(RuntimeError, match="topk does not support bool dtypes"):
        descend.topk(t([True, False], "bool"), 1)


@pytest.mark.parametrize("name", ["sum", "prod", "cumprod"])
def test_integer_dtype_of_a_tensor_that_requires_grad_is_refused(name):
    x = descend.tensor([1.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Autograd not support dtype: Long"):
        getattr(descend, name)(x, dim=0, dtype=descend.int64)
    expected = {"sum": 3, "prod": 2, "cumprod": 2}[name]  # the input cast to int64 first: 1 and 2
    with descend.no_grad():
        out = getattr(descend, name)(x, dim=0, dtype=descend.int64)
    assert out.dtype.name == "int64" and np.ravel(out._data)[-1] == expected
    assert np.ravel(getattr(descend, name)(x.detach(), dim=0, dtype=descend.int64)._data)[-1] == expected
