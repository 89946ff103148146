"""Regressions of the engine and Tensor against PyTorch's documented behaviour (expected values by
formula): backward(inputs=...), several roots, cat of empty tensors, custom Function views,
post-accumulate-grad hooks, autograd.grad's arguments, __format__, Tensor.where, retain_grad."""

import numpy as np
import pytest

import descend
from descend.autograd import Function


def leaf(values):
    return descend.tensor(values, requires_grad=True)


# --- 1. backward(inputs=...) and autograd.backward with several roots ---


def test_backward_inputs_nonleaf_fills_its_grad_only():
    x = leaf([1.0, 2.0])
    y = x * 2
    (y**2).sum().backward(inputs=[y])
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])  # d(sum y^2)/dy = 2y
    assert x.grad is None


def test_backward_inputs_nonleaf_and_leaf_accumulate():
    x = leaf([1.0, 2.0])
    y = x * 2
    loss = (y**2).sum()
    loss.backward(inputs=[y, x], retain_graph=True)
    loss.backward(inputs=(y,))
    np.testing.assert_allclose(y.grad.numpy(), [8.0, 16.0])  # twice 2y
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])  # 8x, once


def test_backward_empty_inputs_raise():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        descend.autograd.backward((x * 2).sum(), inputs=())


def test_autograd_backward_several_roots():
    a = leaf([1.0, 2.0])
    b = leaf(3.0)
    descend.autograd.backward([a * 2, b * b], [descend.ones(2), None])
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    assert b.grad.item() == 6.0
    descend.autograd.backward((a * b).sum(), retain_graph=False)
    np.testing.assert_allclose(a.grad.numpy(), [5.0, 5.0])  # + b
    assert b.grad.item() == 9.0  # + sum(a)
    descend.autograd.backward([a.sum(), b * 1], grad_tensors=(None, descend.tensor(2.0)), inputs=[a])
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 6.0])
    assert b.grad.item() == 9.0


def test_autograd_backward_nonscalar_root_without_gradient_raises():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        descend.autograd.backward([a * 2], [None])
    with pytest.raises(RuntimeError, match="2 tensors and 1 gradients|1 gradients"):
        descend.autograd.backward([a.sum()], [None, None])


# --- 2. cat keeps empty 1-D tensors in the graph ---


@pytest.mark.parametrize("first", [True, False])
def test_cat_keeps_empty_leaf_as_parent(first):
    e = descend.zeros(0, requires_grad=True)
    other = descend.ones(2, 3)
    c = descend.cat([e, other] if first else [other, e])
    assert c.requires_grad and c.grad_fn is not None
    assert c.shape == (2, 3)
    (c * 2).sum().backward()
    assert e.grad is not None and e.grad.shape == (0,)


def test_cat_empty_among_grad_tensors_gradients():
    e = descend.zeros(0, requires_grad=True)
    a = leaf([1.0, 2.0])
    c = descend.cat([a, e, a * 3])
    np.testing.assert_allclose(c.detach().numpy(), [1.0, 2.0, 3.0, 6.0])
    (c * descend.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1 + 9.0, 2 + 12.0])
    assert e.grad.shape == (0,)


@pytest.mark.parametrize("join", ["stack", "hstack", "vstack"])
def test_stacking_empty_tensors_gives_empty_gradient(join):
    e = descend.zeros(0, requires_grad=True)
    c = getattr(descend, join)([e, descend.zeros(0)])
    assert c.requires_grad
    c.sum().backward()
    assert e.grad.shape == (0,)


# --- 3. a custom Function's view outputs ---


class ViewOut(Function):
    @staticmethod
    def forward(ctx, x):
        return x.view(-1)

    @staticmethod
    def backward(ctx, g):
        return g.view(2, 2)


class SliceOut(Function):
    @staticmethod
    def forward(ctx, x):
        return x[0]

    @staticmethod
    def backward(ctx, g):
        return descend.zeros(2, 2)


class Same(Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


@pytest.mark.parametrize("fn,name", [(ViewOut, "ViewOut"), (SliceOut, "SliceOut"), (Same, "Same")])
def test_function_view_output_refuses_inplace(fn, name):
    x = descend.ones(2, 2, requires_grad=True).clone()
    y = fn.apply(x)
    with pytest.raises(RuntimeError, match=f"Output 0 of {name} is a view and is being modified inplace. "
                                           "This view was created inside a custom Function"):
        y.mul_(2)


def test_function_view_of_view_output_refuses_inplace_and_nograd_allows():
    x = descend.ones(2, 2, requires_grad=True).clone()
    y = ViewOut.apply(x)
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace. This view was created "
                                           "inside a custom Function"):
        y[0:1].mul_(2)
    with descend.no_grad():
        y.mul_(2)
    np.testing.assert_allclose(x.detach().numpy(), [[2.0, 2.0], [2.0, 2.0]])
    z = ViewOut.apply(descend.ones(2, 2))  # no graph: nothing to refuse
    z.mul_(3)
    np.testing.assert_allclose(z.numpy(), [3.0] * 4)


def test_function_fresh_output_still_allows_inplace():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0, 2.0])
    y = Double.apply(x)
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


# --- 4. register_post_accumulate_grad_hook ---


def test_post_accumulate_grad_hook_sees_accumulated_grad_and_removes():
    w = leaf([1.0, 2.0])
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(np.array(seen), [[3.0, 3.0], [6.0, 6.0]])
    h.remove()
    (w * 3).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_errors_and_skips():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        descend.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    descend.autograd.grad((w * 2).sum(), w)  # no accumulation: no call
    other = leaf([1.0])
    (w * other).sum().backward(inputs=[other])  # w not accumulated: no call
    assert calls == []
    v = leaf([1.0])
    v.register_post_accumulate_grad_hook(lambda t: descend.zeros(1))
    with pytest.raises(RuntimeError, match="should return None"):
        (v * 2).sum().backward()


def test_optimizer_step_in_backward_matches_plain_sgd():
    # PyTorch's "optimizer step in backward" tutorial pattern: one optimizer per parameter, stepped
    # inside its post-accumulate-grad hook; SGD by formula: p <- p - lr * grad
    lr = 0.1
    p1 = leaf([1.0, -2.0])
    p2 = leaf(0.5)
    opts = {p: descend.optim.SGD([p], lr=lr) for p in (p1, p2)}

    def hook(p):
        opts[p].step()
        opts[p].zero_grad()

    for p in (p1, p2):
        p.register_post_accumulate_grad_hook(hook)
    a1, a2 = np.array([1.0, -2.0]), 0.5
    for _ in range(3):
        loss = ((p1 * p2 - 1) ** 2).sum()
        loss.backward()
        r = a1 * a2 - 1
        g1, g2 = 2 * r * a2, (2 * r * a1).sum()
        a1, a2 = a1 - lr * g1, a2 - lr * g2
        np.testing.assert_allclose(p1.detach().numpy(), a1, rtol=1e-6)
        np.testing.assert_allclose(p2.item(), a2, rtol=1e-6)
        assert p1.grad is None or not p1.grad.numpy().any()


# --- 5. autograd.grad's arguments ---


def test_grad_materialize_with_allow_unused_false_is_a_value_error():
    x = leaf(1.0)
    with pytest.raises(ValueError, match="allow_unused to be True or not passed when materialize_grads"):
        descend.autograd.grad(x * 2, x, materialize_grads=True, allow_unused=False)
    assert descend.autograd.grad(x * 2, x, materialize_grads=True)[0].item() == 2.0


@pytest.mark.parametrize("inputs", [[], ()])
def test_grad_empty_inputs_raise(inputs):
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty"):
        descend.autograd.grad(x * 2, inputs)


def test_grad_is_grads_batched_gives_the_jacobian_rows():
    x = leaf([1.0, 2.0])
    (jac,) = descend.autograd.grad(x * x, x, descend.eye(2), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), [[2.0, 0.0], [0.0, 4.0]])  # diag(2x)
    y = x * x
    (g,) = descend.autograd.grad([y, y.sum()], x, (descend.eye(2), descend.ones(2)), is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), [[2 + 2.0, 4.0], [2.0, 4 + 4.0]])


# --- 6. gradcheck under autograd ---


def test_gradcheck_and_gradgradcheck_exposed():
    assert descend.autograd.gradcheck is descend.gradcheck
    assert descend.autograd.gradgradcheck is descend.gradgradcheck
    x = descend.tensor([0.3, 1.2], dtype=descend.float64, requires_grad=True)
    assert descend.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))


# --- 7. __format__ ---


def test_format_zero_dim_formats_the_number():
    assert f"{descend.tensor(0.5)}" == "0.5"
    assert format(descend.tensor(0.5), ".3f") == "0.500"
    assert f"{descend.tensor(3)}" == "3" and format(descend.tensor(2), "05d") == "00002"
    assert format(descend.tensor(True)) == "True"


def test_format_nd_is_str_and_refuses_a_spec():
    t = descend.tensor([0.5])
    assert f"{t}" == str(t)
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(t, ".3f")


# --- 8. Tensor.where ---


def test_tensor_where_method():
    x = leaf([1.0, 2.0])
    cond = descend.tensor([True, False])
    np.testing.assert_allclose(x.where(cond, descend.tensor([9.0, 9.0])).detach().numpy(), [1.0, 9.0])
    r = x.where(cond, 0.0)
    np.testing.assert_allclose(r.detach().numpy(), [1.0, 0.0])
    r.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0])


# --- 9. retain_grad then an in-place change ---


def test_retain_grad_follows_inplace_change_of_nonleaf():
    base = leaf([1.0, 2.0, 3.0])
    v = base * 1
    v.retain_grad()
    v.mul_(3)
    (v * v).sum().backward()
    assert v.retains_grad
    np.testing.assert_allclose(v.grad.numpy(), [6.0, 12.0, 18.0])  # 2 * (3 * base): the new value's


def test_retain_grad_follows_inplace_change_of_view():
    base = leaf([1.0, 2.0, 3.0])
    b = base * 1
    v = b[:2]
    v.retain_grad()
    v.mul_(3)
    (v * v).sum().backward()
    assert v.retains_grad
    np.testing.assert_allclose(v.grad.numpy(), [6.0, 12.0])
    b = base * 1
    v = b[:2]
    v.retain_grad()
    v.mul_(3)
    (b * b).sum().backward()  # v's new history is not in this graph
    assert v.retains_grad and v.grad is None


def test_retain_grad_of_base_follows_inplace_change_of_its_view():
    base = leaf([1.0, 2.0, 3.0])
    b = base * 1
    b.retain_grad()
    b[:2].mul_(3)
    (b * b).sum().backward()
    assert b.retains_grad
    np.testing.assert_allclose(b.grad.numpy(), [6.0, 12.0, 6.0])
    np.testing.assert_allclose(base.grad.numpy(), [18.0, 36.0, 6.0])


def test_retain_grad_after_base_changed():
    base = leaf([1.0, 2.0, 3.0])
    b = base * 1
    v = b[:2]
    v.retain_grad()
    b.mul_(3)
    (v * v).sum().backward()
    assert v.retains_grad
    np.testing.assert_allclose(v.grad.numpy(), [6.0, 12.0])
