"""Every primitive's gradient against float64 central differences (scalar, vector, matrix, broadcast)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import descend
from descend import gradcheck


def t64(*shape, low=-2.0, high=2.0, seed=0, positive=False):
    rng = np.random.default_rng(seed + sum(shape) * 7 + len(shape))
    a = rng.uniform(0.5 if positive else low, high, size=shape)
    return descend.tensor(a, dtype=descend.float64, requires_grad=True)


SHAPE_PAIRS = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((4, 1), (1, 3)),
    ((2, 1, 3), (4, 1)),
    ((3,), ()),
]


@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: descend.maximum(a, b),
        lambda a, b: descend.minimum(a, b),
        lambda a, b: descend.where(a > 0, a, b),
        lambda a, b: a**b,
    ],
    ids=["add", "sub", "mul", "div", "maximum", "minimum", "where", "pow"],
)
def test_binary_gradients(op, sa, sb):
    a = t64(*sa, positive=True, seed=1)
    b = t64(*sb, positive=True, seed=2)
    assert gradcheck(op, (a, b))


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.exp(),
        lambda x: x.log(),
        lambda x: x.sqrt(),
        lambda x: x.abs(),
        lambda x: x.sin(),
        lambda x: x.cos(),
        lambda x: x.tanh(),
        lambda x: x.sigmoid(),
        lambda x: x.relu(),
        lambda x: x.erf(),
        lambda x: -x,
        lambda x: x**3,
        lambda x: x**0.5,
        lambda x: 2**x,
        lambda x: 1 / x,
        lambda x: 3 - x,
        lambda x: x.clamp(0.8, 1.5),
        lambda x: x.log1p(),
        lambda x: x.clone(),
    ],
    ids=[
        "exp",
        "log",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "erf",
        "neg",
        "cube",
        "pow_half",
        "rpow",
        "rdiv",
        "rsub",
        "clamp",
        "log1p",
        "clone",
    ],
)
def test_unary_gradients(op, shape):
    x = t64(*shape, positive=True, seed=3)
    assert gradcheck(op, (x,))


def test_abs_and_relu_kinks_on_negative_side():
    x = descend.tensor([-1.5, -0.3, 0.7, 2.0], dtype=descend.float64, requires_grad=True)
    assert gradcheck(lambda x: x.abs() * x.relu() + x.abs(), (x,))


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.sum(),
        lambda x: x.sum(0),
        lambda x: x.sum(dim=(0, 2)),
        lambda x: x.sum(-1, keepdim=True),
        lambda x: x.mean(),
        lambda x: x.mean(1),
        lambda x: x.mean((0, 1), keepdim=True),
        lambda x: x.max(),
        lambda x: x.max(1).values,
        lambda x: x.min(0, keepdim=True)[0],
        lambda x: x.min(),
        lambda x: x.var(),
        lambda x: x.var(1),
        lambda x: x.std(0, unbiased=False),
        lambda x: x.std(),
        lambda x: x.norm(),
        lambda x: x.norm(dim=1),
        lambda x: x.norm(p=1),
        lambda x: x.logsumexp(1),
        lambda x: x.logsumexp(-1, keepdim=True),
        lambda x: x.softmax(1),
        lambda x: x.log_softmax(-1),
        lambda x: x.softmax(0),
    ],
    ids=[
        "sum",
        "sum0",
        "sum02",
        "sumkeep",
        "mean",
        "mean1",
        "meankeep",
        "max",
        "maxdim",
        "mindim",
        "min",
        "var",
        "var1",
        "std0",
        "std",
        "norm",
        "norm1",
        "normp1",
        "lse",
        "lsekeep",
        "softmax",
        "logsoftmax",
        "softmax0",
    ],
)
def test_reduction_gradients(op):
    x = t64(2, 3, 4, seed=4)
    assert gradcheck(op, (x,))


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.reshape(4, 6),
        lambda x: x.view(-1),
        lambda x: x.flatten(1),
        lambda x: x.transpose(0, 2),
        lambda x: x.permute(2, 0, 1),
        lambda x: x.T,
        lambda x: x.unsqueeze(1),
        lambda x: x[:1].squeeze(0),
        lambda x: x[0, 1:, ::2],
        lambda x: x[..., 1],
        lambda x: x[[0, 1, 1]],
        lambda x: x[x > 0],
        lambda x: x[descend.tensor([1, 0]), :, descend.tensor([2, 2])],
        lambda x: x[:, None, 0].expand(2, 5, 4),
        lambda x: descend.cat([x, x * 2], dim=1),
        lambda x: descend.stack([x, x + 1], dim=-1),
    ],
    ids=[
        "reshape",
        "view",
        "flatten",
        "transpose",
        "permute",
        "T",
        "unsqueeze",
        "squeeze",
        "slice",
        "ellipsis",
        "intarray",
        "mask",
        "advanced",
        "expand",
        "cat",
        "stack",
    ],
)
def test_shape_and_indexing_gradients(op):
    x = t64(2, 3, 4, seed=5)
    assert gradcheck(op, (x,))


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((2, 3), (3, 4)),
        ((5, 2, 3), (3, 4)),
        ((5, 2, 3), (1, 3, 4)),
        ((2, 3), (5, 3, 2)),
    ],
)
def test_matmul_gradients(sa, sb):
    a, b = t64(*sa, seed=6), t64(*sb, seed=7)
    assert gradcheck(lambda a, b: a @ b, (a, b))


def test_integer_array_index_accumulates_repeated_rows():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])


def test_softmax_and_logsumexp_are_stable_for_huge_logits():
    x = descend.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    p = x.softmax(1)
    assert np.isfinite(p.numpy(force=True)).all()
    np.testing.assert_allclose(p.detach().numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.logsumexp(1).item(), 1e4)
    x.log_softmax(1).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_max_with_dim_returns_values_and_indices():
    x = descend.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert x.max(1).indices.dtype == descend.int64
    assert x.argmax().item() == 3 and x.argmin(dim=1).tolist() == [0, 1]


def test_max_splits_gradient_between_ties():
    x = descend.tensor([2.0, 2.0, 1.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 0.0])


def test_norm_gradient_at_zero_is_zero():
    x = descend.zeros(3, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_var_std_defaults_follow_pytorch():
    data = np.array([1.0, 2.0, 4.0, 7.0])
    x = descend.tensor(data)
    assert x.var().item() == pytest.approx(data.var(ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(data.var())
    assert x.std(correction=0).item() == pytest.approx(data.std())


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_broadcast_gradients_reduce_to_input_shapes(data):
    sa, sb = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, base_shape=(), max_dims=3, max_side=3)
    ).input_shapes
    op = data.draw(st.sampled_from(["add", "sub", "mul", "div"]))
    a = t64(*sa, positive=True, seed=8)
    b = t64(*sb, positive=True, seed=9)
    fn = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
    }[op]
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert gradcheck(fn, (a, b))
    fn(a, b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_sum_of_broadcast_product_gradient_is_other_operand_summed(shape):
    a = t64(*shape, seed=10)
    b = descend.tensor(np.full(shape, 3.0), dtype=descend.float64)
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 3.0)


def test_shape_mismatch_names_both_shapes():
    a, b = descend.ones(2, 3), descend.ones(4)
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(RuntimeError, match=r"2x3 and 4x1"):
        a @ descend.ones(4, 1)
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        a.reshape(5)


def test_cat_and_stack_errors_name_shapes():
    with pytest.raises(RuntimeError, match="Expected size 3 but got size 4 for tensor number 1"):
        descend.cat([descend.ones(2, 3), descend.ones(2, 4)], dim=0)
    with pytest.raises(RuntimeError, match="equal size"):
        descend.stack([descend.ones(2), descend.ones(3)])


def test_comparisons_return_bool_tensors():
    x = descend.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).dtype == descend.bool
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == descend.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
