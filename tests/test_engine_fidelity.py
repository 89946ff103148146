"""Regression tests for the engine's PyTorch semantics: masked gradients, ties, views and in-place
ops recorded in the graph, grad mode per thread, type promotion, custom Functions and autograd.grad.

Every expected number here is worked out by hand (or by finite differences), never by PyTorch.
"""

import itertools
import math
import threading

import numpy as np
import pytest

import descend
import descend as torch


def f64(values, requires_grad=True):
    return descend.tensor(values, dtype=descend.float64, requires_grad=requires_grad)


# --- 1. masks select: an infinite upstream gradient stays 0 where the mask is off ---


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: descend.sqrt(descend.relu(x)),
        lambda x: descend.sqrt(descend.clamp(x, min=0)),
        lambda x: descend.sqrt(descend.maximum(x, descend.zeros(3, dtype=descend.float64))),
    ],
)
def test_masked_gradients_are_zero_not_nan(fn):
    x = f64([-1.0, 4.0, -2.0])
    fn(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.25, 0.0]


def test_reciprocal_of_relu_and_sqrt_of_max():
    x = f64([-1.0, 2.0])
    (1 / descend.relu(x)).sum().backward()
    assert x.grad.tolist() == [0.0, -0.25]
    y = f64([1.0, 2.0])
    descend.sqrt(y.max() - 2).backward()
    assert y.grad[0].item() == 0.0 and math.isinf(y.grad[1].item())


def test_std_of_constant_pow_zero_and_zero_pow():
    x = f64([1.0, 1.0, 1.0])
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    z = f64([0.0, 2.0])
    (z**0).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0]
    e = f64([0.0, 2.0])
    (0**e).sum().backward()  # d/de 0**e = 0**e * log(0): taken as 0 for e >= 0
    assert e.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("p", [3, 0.5])
def test_norm_of_zero_rows_has_zero_gradient(p):
    x = descend.zeros(2, 3, dtype=descend.float64, requires_grad=True)
    x.norm(p=p, dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_norm_p0_counts_and_general_p_matches_formula():
    x = f64([0.0, 2.0, -3.0])
    n = x.norm(p=0)
    n.backward()
    assert n.item() == 2.0 and x.grad.tolist() == [0.0, 0.0, 0.0]
    y = f64([1.0, -2.0])
    y.norm(p=3).backward()
    norm = (1 + 8) ** (1 / 3)
    assert np.allclose(y.grad.numpy(), [1 / norm**2, -4 / norm**2])


def test_nan_inputs_route_gradients_as_pytorch():
    x = f64([math.nan, 1.0])
    descend.relu(x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]  # threshold backward passes the gradient at NaN
    y = f64([math.nan, 1.0])
    y.max().backward()
    assert y.grad.tolist() == [1.0, 0.0]  # the NaN is the maximum
    a, b = f64([math.nan, 1.0]), f64([0.0, 2.0])
    descend.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0] and b.grad.tolist() == [1.0, 1.0]


# --- 2. ties ---


def test_amax_ties_share_and_tuple_dims():
    x = f64([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]])
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    y = f64([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]])
    y.amax((0, 1)).backward()
    assert y.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    z = f64([[1.0, -3.0, 3.0]])
    z.norm(p=math.inf, dim=1).sum().backward()
    assert z.grad.tolist() == [[0.0, -0.5, 0.5]]


def test_max_with_dim_sends_gradient_to_its_index():
    x = f64([[3.0, 3.0, 1.0]])
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.tolist() == [0] and x.grad.tolist() == [[1.0, 0.0, 0.0]]


def test_clamp_with_tensor_bounds_gives_x_the_gradient_at_a_bound():
    x = f64([0.0, 1.0, 2.0, -1.0, 3.0])
    lo, hi = f64([0.0] * 5), f64([2.0] * 5)
    (descend.clamp(x, min=lo, max=hi) * f64([1, 2, 3, 4, 5], False)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 0.0, 0.0]
    assert lo.grad.tolist() == [0.0, 0.0, 0.0, 4.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 5.0]


# --- 3. views and in-place ops ---


def test_clamp_inplace_on_a_non_leaf_is_recorded():
    x = descend.tensor([-1.0, 0.3, 3.0], requires_grad=True)
    y = x * 2
    y.clamp_(0, 1)
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_zero_and_copy_inplace():
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    w = descend.tensor([5.0, 6.0], requires_grad=True)
    buf = descend.zeros(2)
    buf.copy_(w)
    (buf * buf).sum().backward()
    assert w.grad.tolist() == [10.0, 12.0]


def test_detach_shares_the_version_counter_so_stale_outputs_raise():
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_a_view_writes_through_and_rebases_the_base():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0:2].mul_(3)
    assert y.tolist() == [6.0, 12.0, 6.0]
    (y * descend.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [6.0, 60.0, 200.0]
    assert y.grad_fn.name() == "CopySlices"


def test_setitem_in_a_graph_reaches_value_and_the_rest():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = descend.tensor(5.0, requires_grad=True)
    y = x * 2
    y[1] = v * 2
    (y * descend.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert y.tolist() == [2.0, 10.0, 6.0]
    assert x.grad.tolist() == [2.0, 0.0, 200.0] and v.grad.item() == 20.0


def test_view_used_after_its_base_changed_in_place_sees_the_new_history():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    y.mul_(3)
    (v * 1).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 0.0]


def test_earlier_nodes_keep_their_inputs_history():
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3  # saves only the scalar: a later in-place change of y is allowed
    y.mul_(5)
    z.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_inplace_on_a_view_of_a_leaf_and_on_the_leaf_raise():
    x = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)


def test_views_share_storage_and_report_contiguity():
    x = descend.arange(6.0).reshape(2, 3)
    t = x.t()
    assert not t.is_contiguous() and x.is_contiguous()
    t[0, 1] = 100.0
    assert x[1, 0].item() == 100.0
    assert t.contiguous().is_contiguous()


def test_unbind_is_one_node_and_iteration_gives_views():
    p = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b, c = p.unbind()
    assert a.grad_fn is b.grad_fn and a.grad_fn.name() == "UnbindBackward0"
    (a * b + c).backward()
    assert p.grad.tolist() == [2.0, 1.0, 1.0]
    q = descend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b, c = q  # iteration unbinds, as in PyTorch: one node, three 0-d views
    assert a.grad_fn is c.grad_fn and a.grad_fn.name() == "UnbindBackward0" and a.shape == ()
    (a * b + c).backward()
    assert q.grad.tolist() == [2.0, 1.0, 1.0]
    m = descend.arange(6.0).reshape(2, 3).requires_grad_()
    left, _, right = m.unbind(1)
    (left * 1 + right * 2).sum().backward()
    assert m.grad.tolist() == [[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]]
    buf = descend.zeros(3)
    first, _, _ = buf.unbind()
    first.fill_(7.0)  # a view: writes through
    assert buf.tolist() == [7.0, 0.0, 0.0]


# --- 4. grad mode ---


def test_no_grad_in_one_thread_leaves_another_recording():
    seen = []
    stop = threading.Event()

    def evaluator():
        while not stop.is_set():
            with descend.no_grad():
                pass

    t = threading.Thread(target=evaluator)
    t.start()
    try:
        w = descend.tensor(1.0, requires_grad=True)
        for _ in range(200):
            seen.append((w * 2).requires_grad)
    finally:
        stop.set()
        t.join()
    assert all(seen)


def test_set_grad_enabled_as_decorator_and_no_grad_on_generators():
    @descend.set_grad_enabled(False)
    def f(x):
        return x * 2

    assert descend.is_grad_enabled()  # decorating did not switch the program's mode
    w = descend.tensor(1.0, requires_grad=True)
    assert not f(w).requires_grad and (w * 2).requires_grad

    @descend.no_grad()
    def gen(x):
        for _ in range(2):
            yield x * 2

    assert [y.requires_grad for y in gen(w)] == [False, False]
    assert descend.is_grad_enabled()
    with descend.inference_mode():
        assert not (w * 2).requires_grad and descend.is_inference_mode_enabled()


# --- 5. type promotion ---


@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda: descend.ones(2) * descend.tensor(2.0, dtype=descend.float64), descend.float32),
        (lambda: descend.ones(2, dtype=descend.uint8) + descend.tensor(3), descend.uint8),
        (lambda: descend.tensor(np.float64(1.5)), descend.float64),
        (lambda: descend.cat([descend.ones(2, dtype=descend.int64), descend.ones(2)]), descend.float32),
        (
            lambda: descend.ones(2, dtype=descend.int64).masked_fill(descend.tensor([True, False]), 0.5),
            descend.int64,
        ),
        (lambda: descend.sigmoid(descend.tensor([1, 2])), descend.float32),
        (lambda: descend.tensor([1, 2]) * 2.5, descend.float32),
        (
            lambda: descend.tensor([1], dtype=descend.int32) + descend.tensor(1.5, dtype=descend.float64),
            descend.float64,
        ),
        (lambda: descend.ones(2, dtype=descend.float16) + 3.0, descend.float16),
        (lambda: descend.tensor([7, -7]) // 2, descend.int64),
    ],
)
def test_result_types_follow_pytorch_rules(make, dtype):
    assert make().dtype == dtype


def test_result_type_promote_types_can_cast():
    assert descend.result_type(descend.tensor([1, 2]), 1.0) == descend.float32
    assert descend.promote_types(descend.int64, descend.float16) == descend.float16
    assert not descend.can_cast(descend.float64, descend.int32)
    x = descend.ones(2, dtype=descend.int64)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        x += 1.5


# --- 6. edge shapes and PyTorch's errors ---


def test_empty_and_zero_dim_reductions():
    assert descend.zeros(3, 0).softmax(1).shape == (3, 0)
    assert descend.zeros(0, 3).amax(1).shape == (0,)
    assert descend.tensor(3.0).argmax(0).item() == 0
    assert descend.ones(2, 3).sum(dim=()).item() == 6.0
    assert descend.ones(2, 3).mean(dim=[]).item() == 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: descend.ones(3).expand(-1, 3), "isn't allowed in a leading, non-existing dimension"),
        (lambda: descend.dot(descend.ones(2, 2), descend.ones(2)), "1D tensors expected"),
        (lambda: descend.mm(descend.ones(2), descend.ones(2, 2)), "self must be a matrix"),
        (lambda: descend.bmm(descend.ones(2, 2), descend.ones(2, 2)), "batch1 must be a 3D tensor"),
        (lambda: descend.ones(2, 2) @ descend.ones(2, 2, dtype=descend.float64), "same dtype"),
        (lambda: descend.stack([descend.ones(2)], dim=3), "Dimension out of range"),
    ],
)
def test_pytorch_rejects_these_and_so_do_we(call, message):
    with pytest.raises((RuntimeError, IndexError), match=message):
        call()


def test_grad_assignment_checks_dtype_and_non_leaf_grad_warns():
    x = descend.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = descend.ones(2, dtype=descend.int64)
    y = x * 2
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None


# --- custom Functions, autograd.grad, hooks, jacobian ---


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LegendreP3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def test_custom_relu_function():
    x = torch.tensor([-1.0, 2.0, 0.5], requires_grad=True)
    y = MyReLU.apply(x)
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 3.0] and y.grad_fn.name() == "MyReLUBackward"


def test_legendre_function_matches_finite_differences():
    x = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    assert descend.gradcheck(LegendreP3.apply, (x,))


class TwoOut(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, scale):
        ctx.scale = scale
        return a * scale, a.sum()

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * ctx.scale + g2, None


def test_function_with_two_outputs_and_a_number_input():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = TwoOut.apply(a, 3.0)
    (y1.sum() + 10 * y2).backward()
    assert a.grad.tolist() == [13.0, 13.0]


class WrongCount(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g


def test_backward_returning_the_wrong_number_of_gradients_raises():
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(a, b).sum().backward()


class NoGrad(torch.autograd.Function):
    """Passes its input through and gives it no gradient (backward returns None)."""

    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, g):
        return None


class PlusOne(torch.autograd.Function):
    """Identity forward; backward adds 1 to whatever gradient it gets (zeros when none arrived)."""

    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, g):
        return g + 1


def test_a_none_gradient_still_counts_down_the_node_it_skipped():
    # a feeds NoGrad (gradient None) and a * 3 (gradient 3): a's node must still run, x gets 2 * 3
    x = torch.ones(3, requires_grad=True)
    a = x * 2
    (NoGrad.apply(a) + a * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_nodes_reached_by_no_gradient_pass_nothing_on_but_custom_functions_run_on_zeros():
    x = torch.ones(3, requires_grad=True)
    NoGrad.apply(x * 2).sum().backward()
    assert x.grad is None  # a built-in node that received nothing passes nothing on, as in PyTorch
    x = torch.ones(3, requires_grad=True)
    NoGrad.apply(PlusOne.apply(x)).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # PlusOne.backward ran on zeros (materialize_grads)
    x = torch.ones(3, requires_grad=True)
    a = PlusOne.apply(x)
    (NoGrad.apply(a) + a * 3).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]  # 3 from a * 3, plus PlusOne's 1


def test_contributions_to_a_gradient_sum_in_pytorchs_order_latest_made_consumer_first():
    # x's gradient is a + b + c, summed as PyTorch's engine sums it: among the nodes ready to run,
    # the one made last runs first, so here c, then b, then a: (c + b) + a = (-1e8 + 1e8) + 1 = 1.
    # Another order, (b + a) + c, rounds 1e8 + 1 to 1e8 in float32 and gives 0.
    x = torch.tensor([2.0], requires_grad=True)
    a, b, c = torch.tensor([1.0]), torch.tensor([1e8]), torch.tensor([-1e8])
    y1, y2, y3 = x * a, x * b, x * c
    t1, t2, t3 = y1.sum(), y2.sum(), y3.sum()
    ((t3 + t1) + t2).backward()
    assert x.grad.tolist() == [1.0]


def test_chain_then_branch_then_chain_matches_hand_derivative():
    # ((x * 2) ** 2) -> branches into two uses -> sum; d/dx of (4x^2)(1 + 3) = 32x
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    h = (x * 2) ** 2
    (h + h * 3).sum().backward()
    assert x.grad.tolist() == [32.0, -64.0]


def test_autograd_grad_returns_without_touching_grad():
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    (g,) = torch.autograd.grad(y, x)
    assert g.item() == 6.0 and x.grad is None
    z = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        torch.autograd.grad(x * 2, [x, z])
    assert torch.autograd.grad(x * 2, [x, z], allow_unused=True)[1] is None
    with pytest.raises(NotImplementedError, match="create_graph"):
        torch.autograd.grad(x * 2, x, create_graph=True)


def test_tensor_hooks_replace_gradients_and_remove():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    h = w.register_hook(lambda g: g * 2)
    (w * 3).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]
    h.remove()
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    seen = []
    y = w * 2
    y.register_hook(lambda g: seen.append(g.tolist()))
    (y * 5).sum().backward()
    assert seen == [[5.0, 5.0]]


def test_jacobian_vjp_jvp():
    from descend.autograd.functional import jacobian, jvp, vjp

    x = torch.tensor([1.0, 2.0])
    assert jacobian(lambda t: t**2, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    out, g = vjp(lambda t: (t**2).sum(), x)
    assert out.item() == 5.0 and g.tolist() == [2.0, 4.0]
    _, jv = jvp(lambda t: t**2, x, torch.tensor([1.0, 1.0]))
    assert jv.tolist() == [2.0, 4.0]


def test_inplace_activations_write_into_their_input_and_stay_differentiable():
    x = descend.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    z = descend.nn.ReLU(inplace=True)(y)
    assert z is y and y.tolist() == [0.0, 2.0]
    (z * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0]
    b = descend.tensor([-2.0, 1.0])
    descend.nn.functional.leaky_relu(b, 0.5, True)
    assert b.tolist() == [-1.0, 1.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        descend.nn.functional.relu(descend.tensor([1.0], requires_grad=True), inplace=True)


# --- 0-d fast paths: scalar arithmetic must give the array path's bits ---------------------------------

_ZERO_D_VALUES = [0.0, -0.0, 1.5, -2.25, 3e38, 1e-40, float("inf"), float("nan"), 65504.0, 0.1]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("name, ufunc", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply)])
def test_zero_d_arithmetic_matches_the_array_path_bit_for_bit(dtype, name, ufunc):
    """`w - 3`, `a * b` on 0-d tensors run as NumPy scalar arithmetic: values, dtypes and gradients must
    be exactly what the ufunc on arrays gives (including inf, nan, overflow, subnormals)."""
    dt = np.dtype(dtype)
    for a, b in itertools.product(_ZERO_D_VALUES, _ZERO_D_VALUES + [3, -2]):
        with np.errstate(all="ignore"):  # 3e38 overflows float16 on the way in
            x = descend.tensor(a, dtype=dt, requires_grad=True)
            other = b if isinstance(b, int) else descend.tensor(b, dtype=dt)
            out = getattr(descend, name)(x, other)
            want = ufunc(np.array([a], dt), np.array([b], dt) if not isinstance(b, int) else b)[0]
            out.backward()
        assert out.dtype == dt and out._data.shape == ()
        assert np.array_equal(out.detach().numpy(), want, equal_nan=True), (a, b)
        with np.errstate(over="ignore"):
            expected_grad = 1.0 if name != "mul" else np.array(b, dt)
        assert np.array_equal(x.grad.numpy(), np.asarray(expected_grad, dt), equal_nan=True), (a, b)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_zero_d_in_place_update_and_accumulation_match_the_array_path(dtype):
    """The tutorials' `w -= lr * w.grad` on a 0-d w, and a 0-d .grad accumulating over two backwards."""
    dt = np.dtype(dtype)
    for a, b in itertools.product(_ZERO_D_VALUES, _ZERO_D_VALUES):
        with np.errstate(all="ignore"):
            w = descend.tensor(a, dtype=dt)
            w -= 0.1 * descend.tensor(b, dtype=dt)
            ref = np.array([a], dt)
            np.subtract(ref, np.multiply(np.array([b], dt), 0.1), out=ref)
        assert np.array_equal(w.numpy(), ref[0], equal_nan=True), (a, b)
    v = descend.tensor(1.0, dtype=dt, requires_grad=True)
    for _ in range(2):
        (v * 3.0).backward()
    assert v.grad.dtype == dt and v.grad.item() == 6.0


def test_outputs_of_ops_returning_several_views_refuse_in_place_changes_in_a_graph():
    y = torch.ones(3, requires_grad=True) * 2
    cases = [(lambda: y.unbind()[1], "Output 1 of Unbind"), (lambda: list(y)[0], "Output 0 of Unbind"),
             (lambda: y.split(1)[0], "Output 0 of Split"), (lambda: y.chunk(3)[2], "Output 2 of Split"),
             (lambda: y.unbind()[0].view(1), "Output 0 of View")]  # PyTorch's messages
    for make, name in cases:
        with pytest.raises(RuntimeError, match=f"{name} is a view and is being modified inplace"):
            make().add_(1)
    with torch.no_grad():  # outside a graph, or off a tensor that needs no gradient, it is allowed
        y.unbind()[0].add_(1)
    plain = torch.ones(3)
    plain.unbind()[0].add_(1)
    y.tensor_split(3)[0].add_(1)  # tensor_split's views may change, as in PyTorch
    assert plain.tolist() == [2.0, 1.0, 1.0] and y.tolist() == [4.0, 2.0, 2.0]
