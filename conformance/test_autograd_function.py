"""Custom autograd Functions, tensor hooks, autograd.grad and autograd.functional against PyTorch.

Each case is written once against a library `L` (torch or descend) and run on both:
- the "Extending torch.autograd" docs' and tutorials' Functions (MyReLU, Exp, LegendrePolynomial3,
  MulConstant with a non-tensor argument, the set_materialize_grads SimpleFunc, a mark_dirty
  in-place Function, mark_non_differentiable sort, a straight-through estimator, gradient reversal,
  gradient clipping in backward, once_differentiable, setup_context-style Functions);
- ctx behaviour (needs_input_grad, saved tensors modified after save, non-tensor and None outputs,
  several outputs some unused, gradients summed to a broadcast input's shape);
- the errors PyTorch raises (wrong number of gradients, wrong shape, a gradient for a non-tensor
  input, mark_dirty on a leaf, jvp of a Function without one): both must raise the same type;
- tensor hooks (order, replacement, removal, retain_grad), autograd.grad (allow_unused,
  materialize_grads, several outputs, non-leaf inputs), backward(inputs=...);
- autograd.functional (jacobian, vjp, jvp, strict mode, its argument errors);
- random compositions (hypothesis, derandomized) of custom Functions with ordinary ops, comparing
  values and every leaf's gradient.
Tolerance: float64 to 1e-10 relative (float32 cases 1e-5).
"""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import descend  # noqa: E402

SETTINGS = settings(
    derandomize=True, deadline=None, database=None, max_examples=150, suppress_health_check=list(HealthCheck)
)


def _np(v):
    if v is None:
        return None
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return np.asarray(v.detach()._data)


def _norm(r):
    """A comparable form of a case's result: arrays for tensors, recursively."""
    if isinstance(r, (list, tuple)):
        return [_norm(x) for x in r]
    if isinstance(r, (torch.Tensor, descend.Tensor)):
        return ("T", _np(r).astype(np.float64), str(r.dtype).replace("torch.", "").replace("descend.", ""))
    return r


def _same(a, b, rtol):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rtol) for x, y in zip(a, b))
    if isinstance(a, tuple) and a and a[0] == "T" and isinstance(b, tuple) and b and b[0] == "T":
        tol = max(rtol, 1e-5) if a[2] == "float32" else rtol
        return (
            a[1].shape == b[1].shape
            and a[2] == b[2]
            and np.allclose(a[1], b[1], rtol=tol, atol=1e-14, equal_nan=True)
        )
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=rtol, atol=1e-14))
    return a == b


def _outcome(case, L):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", _norm(case(L)))
    except Exception as e:  # the type is what is compared
        return ("err", type(e).__name__)


CASES = {}


def case(f):
    CASES[f.__name__] = f
    return f


def leaf(L, values, dtype="float64"):
    return L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)


# --- the docs' and tutorials' Functions ---


def my_relu(L):
    class MyReLU(L.autograd.Function):
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

    return MyReLU


def legendre(L):
    class LegendrePolynomial3(L.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    return LegendrePolynomial3


def exp_fn(L):
    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    return Exp


def mul_constant(L):
    class MulConstant(L.autograd.Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, constant = inputs
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    return MulConstant


def straight_through(L):
    class STE(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, g):
            return g.clamp(-1, 1)

    return STE


def grad_reverse(L):
    class GradReverse(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, alpha):
            ctx.alpha = alpha
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return g.neg() * ctx.alpha, None

    return GradReverse


def clip_grad(L):
    class ClipGrad(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g.clamp(-0.5, 0.5)

    return ClipGrad


def square_once(L):
    class Square(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @L.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    return Square


def split_two(L):
    """Two outputs; backward adds what reaches each (one may be unused)."""

    class SplitTwo(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, ga, gb):
            x, y = ctx.saved_tensors
            return ga * y + gb, ga * x + gb

    return SplitTwo


@case
def docs_relu(L):
    x = leaf(L, [-1.5, 0.5, 2.0, -0.1])
    y = my_relu(L).apply(x * 2)
    (y * L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64)).sum().backward()
    return y, x.grad, y.grad_fn.name()


@case
def docs_legendre_fit(L):
    xs = L.linspace(-1.0, 1.0, 20, dtype=L.float64)
    ys = xs.sin()
    a = L.tensor(0.0, dtype=L.float64, requires_grad=True)
    b = L.tensor(-1.0, dtype=L.float64, requires_grad=True)
    c = L.tensor(0.0, dtype=L.float64, requires_grad=True)
    d = L.tensor(0.3, dtype=L.float64, requires_grad=True)
    P3 = legendre(L).apply
    losses = []
    for _ in range(5):
        y_pred = a + b * P3(c + d * xs)
        loss = (y_pred - ys).pow(2).sum()
        loss.backward()
        losses.append(loss.item())
        with L.no_grad():
            for p in (a, b, c, d):
                p -= 1e-3 * p.grad
                p.grad = None
    return losses, a, b, c, d


@case
def docs_exp(L):
    x = leaf(L, [[0.5, -1.0], [2.0, 0.0]])
    y = exp_fn(L).apply(x)
    (y * y).sum().backward()
    return y, x.grad


@case
def docs_mul_constant(L):
    x = leaf(L, [1.0, -2.0, 3.0])
    y = mul_constant(L).apply(x, 2.5)
    y.sum().backward()
    return y, x.grad, y.grad_fn.name()


@case
def docs_materialize_false(L):
    seen = []

    class SimpleFunc(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            (x,) = ctx.saved_tensors
            grad_input = L.zeros_like(x)
            if g1 is not None:
                grad_input += g1
            if g2 is not None:
                grad_input += g2
            return grad_input

    x = leaf(L, [1.0, 2.0])
    a, _ = SimpleFunc.apply(x)
    (a * 3).sum().backward()
    return x.grad, seen


@case
def docs_mark_dirty(L):
    class MulTwo_(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = leaf(L, [1.0, 2.0, 3.0])
    x = a * 1
    y = MulTwo_.apply(x)
    (y * y).sum().backward()
    return y, a.grad, y is x, y.grad_fn.name()


@case
def mark_dirty_view(L):
    class MulTwo_(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = leaf(L, [1.0, 2.0, 3.0])
    b = a * 1
    y = MulTwo_.apply(b[1:])
    (b * L.tensor([1.0, 10.0, 100.0], dtype=L.float64)).sum().backward()
    return b, y, a.grad


@case
def mark_dirty_leaf_error(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    return F.apply(leaf(L, [1.0]))


@case
def mark_dirty_no_grad(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = L.tensor([1.0, 2.0])
    y = F.apply(x)
    return y, y is x, y.requires_grad, x._version if isinstance(x._version, int) else x._version[0]


@case
def docs_sort_non_differentiable(L):
    class Sort(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            sorted_, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return sorted_, idx

        @staticmethod
        def backward(ctx, g1, g2):
            x, idx = ctx.saved_tensors
            grad_input = L.zeros_like(x)
            grad_input.index_add_(0, idx, g1)
            return grad_input

    x = leaf(L, [3.0, 1.0, 2.0])
    s, i = Sort.apply(x)
    (s * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    return s, i, i.requires_grad, x.grad


@case
def non_differentiable_gets_zeros(L):
    seen = []

    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            m = x * 0
            ctx.mark_non_differentiable(m)
            return x * 2, m, (x > 0).long(), 3

        @staticmethod
        def backward(ctx, g, gm, gi, gn):
            seen.append([None if t is None else (t.tolist(), str(t.dtype)[-5:]) for t in (gm, gi, gn)])
            return g * 2

    x = leaf(L, [1.0, -2.0])
    a, m, i, n = F.apply(x)
    a.sum().backward()
    return x.grad, m.requires_grad, i.requires_grad, n, seen


@case
def straight_through_estimator(L):
    x = leaf(L, [-2.0, -0.3, 0.4, 3.0])
    y = straight_through(L).apply(x)
    (y * L.tensor([3.0, 0.5, -4.0, 1.0], dtype=L.float64)).sum().backward()
    return y, x.grad


@case
def gradient_reversal(L):
    w = leaf(L, [[0.5, -1.0], [2.0, 1.0]])
    x = L.tensor([[1.0, 2.0]], dtype=L.float64)
    feat = x @ w
    y = grad_reverse(L).apply(feat, 0.3)
    (y**2).sum().backward()
    return y, w.grad


@case
def clipping_in_backward(L):
    x = leaf(L, [1.0, 2.0, -3.0])
    y = clip_grad(L).apply(x * 3)
    (y * y).sum().backward()
    return y, x.grad


@case
def once_differentiable_square(L):
    x = leaf(L, [1.0, -3.0])
    y = square_once(L).apply(x)
    y.sum().backward()
    return y, x.grad


@case
def needs_input_grad(L):
    seen = []

    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            return a * b * c

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, g, None

    a = leaf(L, [1.0])
    b = L.tensor([2.0], dtype=L.float64)
    F.apply(a, b, 3).sum().backward()
    with L.no_grad():
        F.apply(a, b, 3)
    return seen


@case
def several_outputs_one_unused(L):
    x, y = leaf(L, [1.0, 2.0]), leaf(L, [3.0, -1.0])
    a, _ = split_two(L).apply(x, y)
    a.sum().backward()
    return x.grad, y.grad


@case
def several_outputs_both(L):
    x, y = leaf(L, [1.0, 2.0]), leaf(L, [3.0, -1.0])
    a, b = split_two(L).apply(x, y)
    (a * b).sum().backward()
    return a, b, x.grad, y.grad


@case
def non_tensor_and_none_outputs(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, n):
            return x * n, n + 1, None

        @staticmethod
        def backward(ctx, g, gn, gnone):
            return g * 3, None

    x = leaf(L, [1.0, 3.0])
    y, k, z = F.apply(x, 3)
    y.sum().backward()
    return y, k, z, x.grad


@case
def nested_functions(L):
    Inner = legendre(L)

    class Outer(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = Inner.apply(x)
            ctx.save_for_backward(x)
            return y * 3, y.requires_grad

        @staticmethod
        def backward(ctx, g, _):
            (x,) = ctx.saved_tensors
            return Inner.apply(x) * g

    x = leaf(L, [0.5, -0.25])
    y, rq = Outer.apply(x)
    y.sum().backward()
    return y, rq, x.grad


@case
def apply_under_no_grad(L):
    x = leaf(L, [1.0, -1.0])
    with L.no_grad():
        y = exp_fn(L).apply(x)
    return y, y.requires_grad, y.grad_fn is None


@case
def broadcast_gradient_summed(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return L.ones(3, 2, dtype=L.float64) * g

    x = leaf(L, [1.0, 3.0])
    F.apply(x).backward()
    return x.grad


@case
def gradient_dtype_cast(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.double() * 2

    x = leaf(L, [1.0, 3.0], "float32")
    (F.apply(x) * x).sum().backward()
    return x.grad


@case
def modified_after_save(L):
    x = leaf(L, [1.0, 3.0])
    z = x * 1
    y = legendre(L).apply(z)
    z.add_(1)
    y.sum().backward()


@case
def saved_output_modified(L):
    x = leaf(L, [1.0, 3.0])
    y = exp_fn(L).apply(x)
    y.add_(1)
    y.sum().backward()


@case
def wrong_number_of_gradients(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = leaf(L, [1.0, 3.0])
    F.apply(x, x).sum().backward()


@case
def wrong_gradient_shape(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return L.ones(3, dtype=L.float64)

    F.apply(leaf(L, [1.0, 3.0])).backward()


@case
def gradient_for_non_tensor(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    F.apply(leaf(L, [1.0, 3.0]), 2.0).sum().backward()


@case
def save_non_tensor(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    F.apply(leaf(L, [1.0]))


@case
def dirty_not_returned(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            y.add_(1)
            ctx.mark_dirty(y)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, None

    F.apply(leaf(L, [1.0]), L.tensor([1.0], dtype=L.float64))


@case
def function_jvp_raises(L):
    L.autograd.Function.jvp(None, leaf(L, [1.0]))


@case
def no_backward_defined(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    F.apply(leaf(L, [1.0])).sum().backward()


# --- hooks ---


@case
def hook_order_and_removal(L):
    ev = []
    x = leaf(L, [1.0, 2.0])
    y = x * 2
    h1 = y.register_hook(lambda g: ev.append(("h1", g.tolist())) or g * 10)
    y.register_hook(lambda g: ev.append(("h2", g.tolist())))
    x.register_hook(lambda g: ev.append(("x", g.tolist())))
    (y * y).sum().backward(retain_graph=True)
    h1.remove()
    x.grad = None
    (y * y).sum().backward()
    return ev, x.grad


@case
def hook_on_function_output(L):
    ev = []
    x = leaf(L, [1.0, -2.0])
    a, b = split_two(L).apply(x, x * 3)
    a.register_hook(lambda g: ev.append(("a", g.tolist())) or g * 2)
    b.register_hook(lambda g: ev.append(("b", g.tolist())))
    (a + b * b).sum().backward()
    return ev, x.grad


@case
def retain_grad_with_hook(L):
    x = leaf(L, [1.0, 2.0])
    y = exp_fn(L).apply(x)
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    return y.grad, x.grad, y.retains_grad


@case
def hook_on_no_grad_tensor(L):
    L.tensor([1.0]).register_hook(lambda g: g)


@case
def node_hook_runs(L):
    ev = []
    x = leaf(L, [1.0, 2.0])
    y = exp_fn(L).apply(x)
    y.grad_fn.register_hook(lambda gi, go: ev.append("node"))
    y.sum().backward()
    return ev, x.grad


# --- autograd.grad and backward(inputs=...) ---


@case
def grad_through_function(L):
    x = leaf(L, [0.3, -0.6])
    y = legendre(L).apply(x)
    return L.autograd.grad(y.sum(), x)


@case
def grad_unused_raises(L):
    x, y = leaf(L, [1.0, 2.0]), leaf(L, [1.0, 2.0])
    return L.autograd.grad((x * 2).sum(), [x, y])


@case
def grad_allow_unused(L):
    x, y = leaf(L, [1.0, 2.0]), leaf(L, [1.0, 2.0])
    return L.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)


@case
def grad_materialize(L):
    x, y = leaf(L, [1.0, 2.0]), leaf(L, [1.0, 2.0])
    return L.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)


@case
def grad_several_outputs(L):
    x = leaf(L, [1.0, 2.0])
    a, b = split_two(L).apply(x, x * x)
    return L.autograd.grad(
        [a, b], x, grad_outputs=[L.ones(2, dtype=L.float64), L.tensor([1.0, 3.0], dtype=L.float64)]
    )


@case
def grad_non_leaf_input(L):
    x = leaf(L, [1.0, 2.0])
    y = exp_fn(L).apply(x)
    g = L.autograd.grad((y * y).sum(), y)
    return g, x.grad


@case
def grad_with_leaf_hook(L):
    x = leaf(L, [1.0, 2.0])
    x.register_hook(lambda g: g * 3)
    return L.autograd.grad((x * x).sum(), x), x.grad


@case
def grad_shape_mismatch(L):
    x = leaf(L, [1.0, 2.0])
    return L.autograd.grad(x * 2, x, grad_outputs=L.ones(3, dtype=L.float64))


@case
def grad_second_time(L):
    x = leaf(L, [1.0, 2.0])
    y = exp_fn(L).apply(x).sum()
    L.autograd.grad(y, x)
    return L.autograd.grad(y, x)


@case
def backward_inputs_leaf(L):
    x, w = leaf(L, [1.0, 2.0]), leaf(L, [3.0, 4.0])
    (legendre(L).apply(x) * w).sum().backward(inputs=[x])
    return x.grad, w.grad


# --- autograd.functional ---


def F(L):
    return L.autograd.functional


@case
def jacobian_function(L):
    return F(L).jacobian(lambda x: legendre(L).apply(x) * x, L.tensor([0.3, -0.5], dtype=L.float64))


@case
def jacobian_two_in_two_out(L):
    return F(L).jacobian(lambda x, y: (x * y, x.sum() + y), (L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])))


@case
def jacobian_independent(L):
    return F(L).jacobian(lambda x, y: x * 2, (L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])))


@case
def jacobian_strict(L):
    return F(L).jacobian(lambda x, y: x * 2, (L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])), strict=True)


@case
def jacobian_strict_constant(L):
    return F(L).jacobian(lambda x: L.ones(2), L.tensor([1.0, 2.0]), strict=True)


@case
def jacobian_constant(L):
    return F(L).jacobian(lambda x: (x * 2, L.tensor(3.0)), L.tensor([1.0, 2.0]))


@case
def jacobian_forward_mode_vectorized(L):
    return F(L).jacobian(lambda x: x.sin(), L.tensor([1.0, 2.0]), vectorize=True, strategy="forward-mode")


@case
def jacobian_forward_mode_plain(L):
    return F(L).jacobian(lambda x: x.sin(), L.tensor([1.0, 2.0]), strategy="forward-mode")


@case
def jacobian_list_input(L):
    return F(L).jacobian(lambda x: x * 2, [L.tensor([1.0])])


@case
def jacobian_float_output(L):
    return F(L).jacobian(lambda x: 3.0, L.tensor([1.0]))


@case
def vjp_function(L):
    return F(L).vjp(lambda x: exp_fn(L).apply(x), L.tensor([1.0, 2.0]), L.tensor([1.0, 3.0]))


@case
def vjp_two_outputs(L):
    return F(L).vjp(
        lambda x, y: (x * y, x + y),
        (L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
        (L.ones(2), L.tensor([1.0, 2.0])),
    )


@case
def vjp_unused_input(L):
    return F(L).vjp(lambda x, y: x * 2, (L.tensor([1.0, 2.0]), L.ones(2)), L.ones(2))


@case
def vjp_unused_strict(L):
    return F(L).vjp(lambda x, y: x * 2, (L.tensor([1.0, 2.0]), L.ones(2)), L.ones(2), strict=True)


@case
def vjp_v_none_scalar(L):
    return F(L).vjp(lambda x: (x**2).sum(), L.tensor([1.0, 2.0]))


@case
def vjp_v_none_vector(L):
    return F(L).vjp(lambda x: x**2, L.tensor([1.0, 2.0]))


@case
def vjp_v_wrong_size(L):
    return F(L).vjp(lambda x: x**2, L.tensor([1.0, 2.0]), L.ones(3))


@case
def vjp_v_wrong_count(L):
    return F(L).vjp(lambda x: (x, x), L.tensor([1.0, 2.0]), L.ones(2))


@case
def vjp_constant_output(L):
    return F(L).vjp(lambda x: L.ones(2), L.tensor([1.0, 2.0]), L.ones(2))


@case
def jvp_two_in(L):
    return F(L).jvp(
        lambda x, y: (x * y, (x + y).sum()),
        (L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
        (L.ones(2), L.tensor([1.0, 2.0])),
    )


@case
def jvp_v_wrong_count(L):
    return F(L).jvp(lambda x: x, L.tensor([1.0, 2.0]), (L.ones(2), L.ones(2)))


@case
def jvp_v_none(L):
    return F(L).jvp(lambda x: x * 3, L.tensor(2.0))


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    t = _outcome(CASES[name], torch)
    d = _outcome(CASES[name], descend)
    assert t[0] == d[0] and _same(t[1], d[1], 1e-10), f"{name}:\n torch:   {t}\n descend: {d}"


# --- random compositions of custom Functions with ordinary ops ---

UNARY = [
    "relu",
    "legendre",
    "exp",
    "ste",
    "clip",
    "square",
    "reverse",
    "mulconst",
    "tanh",
    "mul2",
    "sum_keep",
    "dirty",
]


def _step(L, name, x, k):
    if name == "relu":
        return my_relu(L).apply(x)
    if name == "legendre":
        return legendre(L).apply(x.tanh())
    if name == "exp":
        return exp_fn(L).apply(x.clamp(max=2.0))
    if name == "ste":
        return straight_through(L).apply(x) + x * 0.5
    if name == "clip":
        return clip_grad(L).apply(x)
    if name == "square":
        return square_once(L).apply(x)
    if name == "reverse":
        return grad_reverse(L).apply(x, 0.5 + k)
    if name == "mulconst":
        return mul_constant(L).apply(x, -1.5 + k)
    if name == "tanh":
        return x.tanh()
    if name == "mul2":
        return x * 2 - 1
    if name == "sum_keep":
        return x.sum(-1, keepdim=True) * x
    if name == "dirty":

        class AddOne_(L.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                t.add_(1)
                ctx.mark_dirty(t)
                return t

            @staticmethod
            def backward(ctx, g):
                return g

        return AddOne_.apply(x * 1)
    raise AssertionError(name)


def _program(L, data, steps, mix):
    x = L.tensor(data, dtype=L.float64, requires_grad=True)
    y = L.tensor(data[::-1].copy(), dtype=L.float64, requires_grad=True)
    h = x
    for i, name in enumerate(steps):
        h = _step(L, name, h, i * 0.25)
        if mix and i == 0:
            a, b = split_two(L).apply(h, y)
            h = a + b if i % 2 == 0 else a
    out = (h * h).sum()
    out.backward()
    return [out, x.grad, y.grad]


@SETTINGS
@given(
    data=st.lists(st.floats(-2, 2, allow_nan=False, width=32), min_size=3, max_size=3),
    steps=st.lists(st.sampled_from(UNARY), min_size=1, max_size=4),
    mix=st.booleans(),
)
def test_random_compositions(data, steps, mix):
    arr = np.array(data, dtype=np.float64).reshape(1, 3)
    t = _outcome(lambda L: _program(L, arr, steps, mix), torch)
    d = _outcome(lambda L: _program(L, arr, steps, mix), descend)
    assert t[0] == d[0] and _same(t[1], d[1], 1e-10), f"{steps} {mix}:\n torch:   {t}\n descend: {d}"
