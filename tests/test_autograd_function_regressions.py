"""Regressions of autograd.Function, autograd.functional and gradcheck (expected values by formula)."""

import warnings

import numpy as np
import pytest

import descend
from descend.autograd import Function


def leaf(values):
    return descend.tensor(values, dtype=descend.float64, requires_grad=True)


class AddOne_(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2  # deliberately not 1, to see this backward run


def test_backward_gets_none_for_non_tensor_outputs():
    seen = []

    class F(Function):
        @staticmethod
        def forward(ctx, x, n):
            return x * n, n + 1, "s"

        @staticmethod
        def backward(ctx, g, g_int, g_str):
            seen.append((g_int, g_str))
            return g * 3, None

    x = leaf([1.0, 3.0])
    y, k, s = F.apply(x, 3)
    y.sum().backward()
    assert (k, s) == (4, "s")
    assert seen == [(None, None)]
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_non_differentiable_output_gets_zeros_and_no_grad():
    seen = []

    class F(Function):
        @staticmethod
        def forward(ctx, x):
            m = x * 0
            ctx.mark_non_differentiable(m)
            return x * 2, m

        @staticmethod
        def backward(ctx, g, gm):
            seen.append(gm.tolist())
            return g * 2

    x = leaf([1.0, -2.0])
    a, m = F.apply(x)
    assert not m.requires_grad
    a.sum().backward()
    assert seen == [[0.0, 0.0]]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_mark_dirty_returns_the_input_with_its_history_rebased():
    a = leaf([1.0, 2.0])
    x = a * 3
    before = x._version[0]
    y = AddOne_.apply(x)
    assert y is x
    assert x.grad_fn.name() == "AddOne_Backward"
    assert x._version[0] == before + 2  # add_ inside forward, then mark_dirty's bump, as PyTorch
    (y * y).sum().backward()
    # d/da of (3a + 1)^2 through a backward that doubles: 2 * (3a + 1) * 2 * 3
    np.testing.assert_allclose(a.grad.numpy(), [2 * 4 * 2 * 3, 2 * 7 * 2 * 3])


def test_mark_dirty_on_a_view_rebases_the_base():
    a = leaf([1.0, 2.0, 3.0])
    b = a * 1
    y = AddOne_.apply(b[1:])
    np.testing.assert_allclose(b.detach().numpy(), [1.0, 3.0, 4.0])
    assert b.grad_fn.name() == "CopySlices"
    np.testing.assert_allclose(y.detach().numpy(), [3.0, 4.0])
    (b * descend.tensor([1.0, 10.0, 100.0], dtype=descend.float64)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 20.0, 200.0])


def test_mark_dirty_refuses_a_leaf_that_requires_grad():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        AddOne_.apply(leaf([1.0]))


def test_mark_dirty_of_a_tensor_not_returned_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, x, y):
            y.add_(1)
            ctx.mark_dirty(y)
            return x * 2

    with pytest.raises(RuntimeError, match="marked as dirty"):
        F.apply(leaf([1.0]), descend.tensor([1.0]))


def test_gradient_of_a_broadcast_shape_is_summed_and_cast():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return descend.ones(3, 2, dtype=descend.float64) * g

    x = descend.tensor([1.0, 3.0], requires_grad=True)  # float32
    F.apply(x).backward()
    assert x.grad.dtype == descend.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_gradient_of_an_incompatible_shape_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return descend.ones(3)

    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[3\] but expected shape"):
        F.apply(leaf([1.0, 3.0])).backward()


def test_gradient_for_a_non_tensor_input_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(
        RuntimeError, match="position 2, but the corresponding forward input was not a Variable"
    ):
        F.apply(leaf([1.0]), 2.0).sum().backward()


def test_save_for_backward_names_the_bad_argument():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        F.apply(leaf([1.0]))


def test_jvp_and_vmap_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="forward mode AD"):
        Function.jvp(None, leaf([1.0]))
    with pytest.raises(NotImplementedError, match="vmap"):
        Function.vmap(None, (0,), leaf([1.0]))


def test_instantiating_warns_and_calling_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = F()
    assert caught and caught[0].category is DeprecationWarning
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        f(leaf([1.0]))


# --- autograd.functional ---

functional = descend.autograd.functional


def test_functional_strict_mode_raises_for_independent_inputs():
    args = (descend.tensor([1.0, 2.0]), descend.tensor([3.0, 4.0]))
    with pytest.raises(
        RuntimeError, match="Output 0 of the user-provided function is independent of input 1"
    ):
        functional.jacobian(lambda x, y: x * 2, args, strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        functional.vjp(lambda x, y: x * 2, args, descend.ones(2), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        functional.jacobian(lambda x: descend.ones(2), args[0], strict=True)


def test_functional_vjp_of_a_constant_output_is_zero():
    _, g = functional.vjp(lambda x: descend.ones(2), descend.tensor([1.0, 2.0]), descend.ones(2))
    np.testing.assert_allclose(g.numpy(), [0.0, 0.0])


def test_functional_argument_errors():
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        functional.jacobian(lambda x: x, [descend.ones(1)])
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        functional.vjp(lambda x: 3.0, descend.ones(1))
    with pytest.raises(RuntimeError, match="v has invalid size"):
        functional.vjp(lambda x: x * 2, descend.ones(2), descend.ones(3))
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function returns"):
        functional.vjp(lambda x: x * 2, descend.ones(2))
    with pytest.raises(RuntimeError, match="should be 2 but got 1"):
        functional.jvp(lambda x, y: x, (descend.ones(2), descend.ones(2)), (descend.ones(2),))


def test_functional_jacobian_strategies():
    x = descend.tensor([1.0, 2.0], dtype=descend.float64)
    j = functional.jacobian(lambda x: x**3, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(j.numpy(), np.diag([3.0, 12.0]))
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        functional.jacobian(lambda x: x, x, strategy="forward-mode")


def test_second_order_functional_raises_not_implemented():
    for fn in (functional.hessian, functional.hvp, functional.vhp):
        with pytest.raises(NotImplementedError, match="higher-order gradients"):
            fn(lambda x: (x**3).sum(), descend.ones(2), descend.ones(2))
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        functional.jvp(lambda x: x, descend.ones(2), descend.ones(2), create_graph=True)


# --- gradcheck ---


def test_gradcheck_takes_pytorch_keywords_and_refuses_what_it_cannot_check():
    from descend.gradcheck import gradgradcheck

    x = leaf([0.3, -0.7])
    assert descend.gradcheck(lambda x: x.sin(), (x,), fast_mode=True, nondet_tol=0.0)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        descend.gradcheck(lambda x: x.sin(), (x,), check_forward_ad=True)
    with pytest.raises(NotImplementedError, match="higher-order"):
        gradgradcheck(lambda x: x.sin(), (x,))
