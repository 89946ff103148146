"""Autograd semantics users rely on: accumulation, freed graphs, in-place safety, deep graphs, memory."""

import gc
import weakref

import numpy as np
import pytest

import descend


def test_gradients_accumulate_until_reset():
    w = descend.tensor(2.0, requires_grad=True)
    (w * 3).backward()
    (w * 3).backward()
    assert w.grad.item() == 6.0
    w.grad.zero_()
    (w * w).backward()
    assert w.grad.item() == 4.0
    w.grad = None
    (w * 5).backward()
    assert w.grad.item() == 5.0


def test_second_backward_through_freed_graph_mentions_retain_graph():
    x = descend.tensor(1.5, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = descend.tensor(1.5, requires_grad=True)
    y = x**3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * 1.5**2)


def test_backward_on_non_scalar_needs_gradient():
    x = descend.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(descend.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_gradient_shape_mismatch_names_shapes():
    y = descend.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        y.backward(descend.ones(2))


def test_shared_input_gets_summed_gradient_and_leaves_do_not_alias():
    a = descend.tensor([1.0, 2.0], requires_grad=True)
    b = descend.tensor([3.0, 4.0], requires_grad=True)
    (a + b + a).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    b.grad += 10  # must not leak into a.grad
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_user_gradient_is_not_aliased_into_grad():
    x = descend.ones(2, requires_grad=True)
    g = descend.tensor([1.0, 1.0])
    (x + 0).backward(g)
    x.grad += 1
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_in_place_change_of_saved_tensor_raises():
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    with descend.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises_outside_no_grad():
    w = descend.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 0.1
    with descend.no_grad():
        w -= 0.5
    assert w.item() == 0.5 and w.is_leaf and w.requires_grad


def test_in_place_on_non_leaf_is_differentiable():
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x  # y = 3x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_data_updates_are_not_tracked_and_share_storage():
    params = descend.tensor([1.0, 2.0], requires_grad=True)
    d = params.data
    assert not d.requires_grad
    params.data -= 0.5
    np.testing.assert_array_equal(params.detach().numpy(), [0.5, 1.5])
    np.testing.assert_array_equal(d.numpy(), [0.5, 1.5])


def test_leaf_and_grad_fn_attributes():
    x = descend.tensor(3.0, requires_grad=True)
    y = x**2
    assert x.is_leaf and not y.is_leaf
    assert x.grad_fn is None and y.grad_fn.name() == "PowBackward0"
    assert (x * 2).mean().grad_fn.name() == "MeanBackward0"
    c = descend.tensor(1.0)
    assert c.is_leaf and (c * 2).grad_fn is None


def test_retain_grad_keeps_non_leaf_gradient():
    x = descend.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).backward()
    assert y.grad.item() == 12.0 and x.grad.item() == 36.0


def test_no_grad_and_enable_grad_as_context_and_decorator():
    x = descend.tensor(1.0, requires_grad=True)
    with descend.no_grad():
        assert not (x * 2).requires_grad
        with descend.enable_grad():
            assert (x * 2).requires_grad
    assert descend.is_grad_enabled()

    @descend.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and descend.is_grad_enabled()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        descend.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        descend.arange(3).requires_grad_()


def test_deep_chain_backward_without_recursion():
    x = descend.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_released_after_backward():
    x = descend.tensor(np.ones(1000), requires_grad=True)
    y = x.exp()
    out = (y * 2).sum()
    ref = weakref.ref(y)
    del y
    out.backward()
    gc.collect()
    assert ref() is None  # the node no longer holds its inputs


def test_unpacking_keeps_gradients():
    params = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b, c = params
    (a * 10 + b * 20 + c * 30).backward()
    np.testing.assert_array_equal(params.grad.numpy(), [10.0, 20.0, 30.0])


def test_gradcheck_reports_worst_element():
    def wrong(x):
        return descend.ops.record("Wrong", x._data**2, (x,), (lambda g: g * 3 * x._data,))

    x = descend.tensor([1.0, 2.0], dtype=descend.float64, requires_grad=True)
    with pytest.raises(descend.GradcheckError, match=r"input 0 at element \(1,\)"):
        descend.gradcheck(wrong, (x,))
    assert descend.gradcheck(wrong, (x,), raise_exception=False) is False


def test_item_assignment_inside_graph_is_differentiable():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = descend.tensor(5.0, requires_grad=True)
    y = x * 2
    y[1] = v * 3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 2.0])
    assert v.grad.item() == 3.0


def test_gradient_reaches_a_node_also_used_where_no_gradient_flows():
    x = descend.tensor([0.5, 1.5], requires_grad=True)
    h = x * 2
    no_grad_edge = descend.ops.record("Stop", h._data.copy(), (h,), (None,))  # uses h, passes nothing back
    (h.sum() + no_grad_edge.sum() * 0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_memory_does_not_grow_over_thousands_of_training_steps():
    import tracemalloc

    x = descend.randn(64, 8)
    y = descend.randn(64, 1)
    w = descend.zeros(8, 1, requires_grad=True)
    losses = []

    def step():
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        with descend.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
        losses.append(loss)  # keeping the loss tensors must not keep their graphs alive

    for _ in range(200):
        step()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for _ in range(2000):
        step()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 2000 kept scalar losses cost ~250 bytes each; a retained graph would cost kilobytes per step
    assert (after - before) / 2000 < 600
    assert losses[-1].item() < losses[0].item()
