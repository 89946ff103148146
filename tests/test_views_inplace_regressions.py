"""Regressions for views, indexing and in-place ops found by conformance/test_views_inplace.py.

Expected values are worked out by hand from PyTorch's documented semantics.
"""

import numpy as np
import pytest

import descend


def _arange(*shape, grad=False):
    return descend.tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=grad)


# --- indexing: integers mixed with index tensors ---


def test_int_and_index_tensor_separated_by_a_slice_keep_pytorchs_dim_order():
    # PyTorch selects dim 0 first, then indexes dim 2 of what is left: (3, 2), not NumPy's (2, 3)
    x = _arange(2, 3, 4, grad=True)
    y = x[0, :, descend.tensor([0, 1, 1])]
    assert y.shape == (3, 3)
    np.testing.assert_array_equal(y.detach().numpy(), [[0, 1, 1], [4, 5, 5], [8, 9, 9]])
    y.backward(descend.ones(3, 3))
    expected = np.zeros((2, 3, 4))
    expected[0, :, 0] = 1
    expected[0, :, 1] = 2  # index 1 twice: the gradient accumulates
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_setitem_with_int_and_index_tensor_takes_pytorchs_shape():
    x = descend.zeros(2, 3, 4)
    x[0, :, [0, 1]] = descend.tensor([[10.0, 20.0]] * 3)  # value of PyTorch's (3, 2) shape
    np.testing.assert_array_equal(x[0, :, :2].numpy(), [[10, 20]] * 3)
    assert float(x.sum()) == 90.0


def test_zero_dim_integer_tensor_index_is_a_view_like_an_int():
    x = _arange(2, 3, grad=True) * 1
    v = x[:, descend.tensor(2)]
    v.sub_(1.0)
    np.testing.assert_array_equal(x.detach().numpy(), [[0, 1, 1], [3, 4, 4]])
    x.sum().backward()


# --- diagonal ---


def test_inplace_through_a_diagonal_view_writes_the_base():
    x = _arange(3, 3)
    x.diagonal().add_(1)
    np.testing.assert_array_equal(x.numpy(), [[1, 1, 2], [3, 5, 5], [6, 7, 9]])
    w = descend.ones(3, 3, requires_grad=True)
    y = w * 2
    y.diagonal().mul_(descend.tensor([1.0, 2.0, 3.0]))
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2, 2], [2, 4, 2], [2, 2, 6]])
    e = descend.zeros(1, 1)
    e.diagonal(2).sub_(3)  # an empty diagonal: nothing to write, no error
    assert float(e.sum()) == 0.0


def test_diagonal_of_identical_dims_raises_runtime_error():
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        descend.zeros(3, 3).diagonal(0, 1, 1)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        descend.zeros(()).diagonal(0, 0, 0)


# --- views of ops returning several views ---


@pytest.mark.parametrize("make", [lambda x: x.split(2)[0], lambda x: x.unbind()[1], lambda x: x.chunk(2)[1]])
def test_multi_output_view_of_a_base_changed_in_place_refuses_to_be_used(make):
    a = descend.ones(4, requires_grad=True)
    x = a * 1
    v = make(x)
    x.add_(1)
    with pytest.raises(RuntimeError, match="its base or another view of its base has been modified"):
        (v * 2).sum()
    b = descend.ones(4, requires_grad=True)
    y = b * 1
    w = make(y)
    with descend.no_grad():
        y.mul_(2)  # under no_grad too, as in PyTorch
    with pytest.raises(RuntimeError, match="function that returns multiple views"):
        (w * 2).sum()


def test_split_and_chunk_of_an_empty_dim():
    assert [t.shape for t in descend.zeros(0).split(2)] == [(0,)]
    assert [t.shape for t in descend.zeros(3, 0, 2).split(1, 1)] == [(3, 0, 2)]
    assert [t.shape for t in descend.zeros(0).chunk(3)] == [(0,), (0,), (0,)]
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        descend.zeros(()).chunk(2)
    with pytest.raises(RuntimeError, match="split expects at least a 1-dimensional tensor"):
        descend.zeros(()).split(1)


def test_zero_dim_views():
    x = descend.tensor(2.0, requires_grad=True)
    y = x.movedim(0, -1)
    assert y.shape == ()
    y.backward()
    assert float(x.grad) == 1.0
    with pytest.raises(RuntimeError, match="no dimensions"):
        descend.zeros(()).unflatten(0, (1, 1))
    with pytest.raises(TypeError, match="expand"):
        descend.zeros(()).expand()
    with pytest.raises(TypeError, match="view"):
        descend.zeros(2).view()


def test_inplace_on_an_empty_expanded_view():
    x = descend.zeros(2, 0, requires_grad=True) * 1
    v = x.expand(2, 2, -1)
    v.div_(descend.tensor([2.0]))
    assert v.shape == (2, 2, 0)


# --- index_add / index_select ---


def test_index_add_refuses_negative_and_out_of_range_indices():
    x = descend.zeros(4)
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_add_(0, descend.tensor([-1]), descend.ones(1))
    with pytest.raises(RuntimeError, match="out of bounds for dimension 1 with size 2"):
        descend.zeros(2, 2).index_add_(1, descend.tensor([2]), descend.ones(2, 1))
    with pytest.raises(RuntimeError, match="Number of indices"):
        descend.zeros(2, 2).index_add_(1, descend.tensor([0, 1]), descend.ones(2, 1))
    np.testing.assert_array_equal(x.numpy(), 0)  # nothing written


def test_index_add_on_a_zero_dim_tensor_and_integer_alpha():
    x = descend.tensor(1.0, requires_grad=True)
    s = descend.tensor(2.0, requires_grad=True)
    y = x.index_add(0, descend.tensor([0]), s, alpha=3)
    assert y.shape == () and float(y) == 7.0
    y.backward()
    assert float(x.grad) == 1.0 and float(s.grad) == 3.0
    i = descend.zeros(2, 1, 3, dtype=descend.int64)
    i.index_add_(1, descend.tensor([0, 0]), descend.ones(2, 2, 3, dtype=descend.int64), alpha=2.5)
    np.testing.assert_array_equal(i.numpy(), 4)  # alpha cast to the integer 2: 2 * (1 + 1)


def test_index_add_of_an_empty_source_with_bad_indices_fails_in_backward():
    x = descend.zeros(2, 0, requires_grad=True)
    src = descend.zeros(3, 0, requires_grad=True)
    y = x.index_add(0, descend.tensor([1, -1, 5]), src)  # nothing added: accepted, as in PyTorch
    with pytest.raises(RuntimeError, match="INDICES element is out of DATA bounds"):
        y.sum().backward()


def test_index_select_refuses_negative_indices_and_keeps_a_scalar_a_scalar():
    with pytest.raises(IndexError, match="index out of range in self"):
        descend.zeros(3).index_select(0, descend.tensor([-1]))
    x = descend.tensor(2.0, requires_grad=True)
    y = x.index_select(0, descend.tensor([0]))
    assert y.shape == ()
    y.backward()
    assert float(x.grad) == 1.0
    with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value"):
        x.index_select(0, descend.tensor([0, 0]))


def test_gather_and_scatter_on_a_zero_dim_tensor():
    x = descend.tensor(2.0, requires_grad=True)
    g = x.gather(0, descend.tensor([0, 0]))
    np.testing.assert_array_equal(g.detach().numpy(), [2.0, 2.0])
    g.sum().backward()
    assert float(x.grad) == 2.0  # both reads accumulate
    s = descend.tensor(1.0).scatter(0, descend.tensor(0), 5.0)
    assert s.shape == () and float(s) == 5.0


@pytest.mark.parametrize(
    "read",
    [
        lambda y: y.take(descend.tensor([0])),
        lambda y: y.gather(0, descend.tensor([0])),
        lambda y: y.masked_select(descend.tensor([True, False, True])),
    ],
)
def test_ops_whose_pytorch_backward_saves_the_input_refuse_an_inplace_change_of_it(read):
    x = descend.ones(3, requires_grad=True)
    y = x * 1
    z = read(y)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_nonzero_of_a_zero_dim_tensor():
    assert descend.tensor(2.0).nonzero().shape == (1, 0)
    assert descend.tensor(0.0).nonzero().shape == (0, 0)
    (i,) = descend.tensor(2.0).nonzero(as_tuple=True)
    np.testing.assert_array_equal(i.numpy(), [0])


# --- in-place into integer tensors ---


def test_copy_of_a_tensor_requiring_grad_into_an_int_tensor_has_no_history():
    t = descend.zeros(3, dtype=descend.int64)
    w = descend.tensor([1.7, -2.2, 3.0], requires_grad=True)
    t.copy_(w)
    assert not t.requires_grad and t.grad_fn is None
    np.testing.assert_array_equal(t.numpy(), [1, -2, 3])


def test_index_put_of_a_tensor_of_another_dtype_raises():
    t = descend.zeros(3, dtype=descend.int64)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        t[[0, 1]] = descend.tensor(1.5)
    t[0:2] = descend.tensor(1.5)  # basic indexing is a copy_, which casts
    np.testing.assert_array_equal(t.numpy(), [1, 1, 0])


@pytest.mark.parametrize("change", ["view", "base"])
def test_inplace_op_saving_its_output_through_a_view_refuses_a_later_change(change):
    # sigmoid_'s backward reads its output, which now lives in the base's storage
    a = descend.ones(4, requires_grad=True)
    x = a * 1
    v = x[1:]
    v.sigmoid_()
    (x if change == "base" else v).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()


def test_inplace_op_saving_its_output_through_a_view_gives_its_gradient():
    a = descend.ones(4, requires_grad=True)
    x = a * 1
    x[1:].sigmoid_()
    x.sum().backward()
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(a.grad.numpy(), [1.0, s * (1 - s), s * (1 - s), s * (1 - s)], rtol=1e-6)


def test_index_fill_of_a_zero_dim_tensor_and_bounds():
    x = descend.tensor(1.0, requires_grad=True)
    y = x.index_fill(0, descend.tensor([-1, 0]), 2.0)
    assert float(y) == 2.0
    y.backward()
    assert float(x.grad) == 0.0
    assert float(descend.tensor(1.0).index_fill(0, descend.tensor([], dtype=descend.int64), 2.0)) == 1.0
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        descend.zeros(3).index_fill(0, descend.tensor([3]), 1.0)


def test_expand_as_and_broadcast_to_a_zero_dim_shape():
    x = descend.tensor(1.0, requires_grad=True)
    assert x.expand_as(descend.zeros(())).shape == ()
    assert descend.broadcast_to(x, ()).shape == ()
    assert x.expand(()).shape == ()


def test_index_put_dtype_check_with_a_mask():
    t = descend.zeros(4, dtype=descend.int64)
    t[descend.tensor([False, True, True, False])] = descend.tensor(2.5)  # one value: masked_fill casts
    np.testing.assert_array_equal(t.numpy(), [0, 2, 2, 0])
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        t[descend.tensor([False, True, True, False])] = descend.tensor([1.5, 2.5])


def test_unflatten_infers_minus_one_from_the_dim_even_in_an_empty_tensor():
    assert descend.zeros(2, 0).unflatten(0, (-1, 1)).shape == (2, 1, 0)
    assert descend.zeros(6, 0).unflatten(0, (2, -1)).shape == (2, 3, 0)
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 0"):
        descend.zeros(6).unflatten(0, (4, 2))


@pytest.mark.parametrize(
    "index", [slice(None, None, -1), (slice(None), slice(None, None, -2)), (0, slice(2, 0, -1))]
)
def test_negative_slice_steps_raise_value_error_as_in_pytorch(index):
    x = descend.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[index]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[index] = 1.0
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))


def test_index_put_of_a_value_that_does_not_fit_raises_runtime_error():
    x = descend.zeros(3, 2)
    with pytest.raises(RuntimeError, match=r"value tensor of shape \[3\] cannot be broadcast"):
        x[descend.tensor([0, 1])] = descend.ones(3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x.index_put_((descend.tensor([0, 1]),), descend.ones(3))
    w = descend.zeros(3, 2, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="shape mismatch"):
        w[descend.tensor([0, 1])] = descend.ones(3, requires_grad=True)


def test_view_as_another_dtype_shares_the_bytes():
    x = descend.tensor([1.0, 2.0], dtype=descend.float32)
    v = x.view(descend.int32)
    np.testing.assert_array_equal(v.numpy(), [1065353216, 1073741824])  # IEEE-754 bits of 1.0 and 2.0
    v.add_(1)  # one storage: x's bits move by one ulp
    one = np.float32([1.0, 2.0])
    np.testing.assert_array_equal(x.numpy(), one + np.spacing(one))
    assert descend.zeros(2, 4, dtype=descend.float32).view(descend.float64).shape == (2, 2)
    a = descend.ones(2, requires_grad=True)
    assert not a.view(descend.float32).requires_grad  # view(dtype) is not differentiable in PyTorch
