"""Python's bitwise operators on tensors are PyTorch's bitwise ops, reflected and in place too."""

import pytest

import descend


def test_xor_of_integers_is_bitwise_not_logical():
    x, y = descend.tensor([-7, 5]), descend.tensor([3, 5])
    out = x ^ y
    assert out.dtype == descend.int64
    assert out.tolist() == [-7 ^ 3, 5 ^ 5]  # [-6, 0]


def test_reflected_operators_take_a_python_number_on_the_left():
    x = descend.tensor([-7, 5])
    assert (2 & x).tolist() == [2 & -7, 2 & 5]
    assert (2 | x).tolist() == [2 | -7, 2 | 5]
    assert (6 ^ x).tolist() == [6 ^ -7, 6 ^ 5]
    assert (1 << descend.tensor([1, 2])).tolist() == [2, 4]
    assert (64 >> descend.tensor([1, 2])).tolist() == [32, 16]


def test_shifts_are_arithmetic():
    x = descend.tensor([-7, 5])
    assert (x << 1).tolist() == [-14, 10]
    assert (x >> 1).tolist() == [-7 >> 1, 5 >> 1]  # floor: [-4, 2]


def test_in_place_operators_write_into_the_same_storage():
    x = descend.tensor([-7, 5])
    view = x[:]
    x &= 6
    assert view.tolist() == [-7 & 6, 5 & 6]
    x |= 8
    x ^= descend.tensor([1, 1])
    x <<= 2
    x >>= 1
    assert view.tolist() == [((((-7 & 6) | 8) ^ 1) << 2) >> 1, ((((5 & 6) | 8) ^ 1) << 2) >> 1]


def test_bool_operands_stay_bool():
    b = descend.tensor([True, False])
    assert (b ^ descend.tensor([True, True])).tolist() == [False, True]
    assert (True ^ b).tolist() == [False, True]
    assert (b & True).dtype == descend.bool_


def test_logical_in_place_writes_ones_and_zeros_in_the_tensors_dtype():
    f = descend.tensor([1.0, 0.0, 2.0])
    f.logical_and_(descend.tensor([1.0, 1.0, 0.0]))
    assert f.dtype == descend.float32 and f.tolist() == [1.0, 0.0, 0.0]


def test_bitwise_op_on_floats_names_the_op_and_dtype():
    with pytest.raises(NotImplementedError, match="bitwise_xor_cpu.*Float"):
        descend.tensor([1.0]) ^ 1
