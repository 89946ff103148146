"""descend against PyTorch on the engine behaviours of tests/test_engine_regressions_2.py: each program
runs once with `torch` and once with `descend` as `lib`, and gives the same values (rtol 1e-6,
float32 data), the same None gradients and the same exception type and message start."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import descend  # noqa: E402

RNG = np.random.default_rng(0)
DATA = [RNG.standard_normal(3).astype(np.float32) for _ in range(4)]


def run(program, lib, data):
    out = {}
    try:
        program(lib, data, out)
    except Exception as e:  # the error, compared by type and message
        out["error"] = (type(e).__name__, str(e).split(";")[0][:60])
    return out


def arr(t):
    return None if t is None else np.asarray(t.detach().numpy())


def p_backward_inputs_nonleaf(lib, d, out):
    x = lib.tensor(d, requires_grad=True)
    y = x * 2
    (y**2).sum().backward(inputs=[y])
    out["y"], out["x"] = arr(y.grad), arr(x.grad)


def p_backward_inputs_empty(lib, d, out):
    (lib.tensor(d, requires_grad=True) * 2).sum().backward(inputs=[])


def p_several_roots(lib, d, out):
    a = lib.tensor(d, requires_grad=True)
    b = lib.tensor(float(d[0]), requires_grad=True)
    lib.autograd.backward([a * b, (b * b).sum()], [lib.ones(3), None])
    lib.autograd.backward([a.sum(), a * 2], (None, lib.tensor(d)), inputs=[a])
    out["a"], out["b"] = arr(a.grad), arr(b.grad)


def p_cat_empty(lib, d, out):
    e = lib.zeros(0, requires_grad=True)
    a = lib.tensor(d, requires_grad=True)
    c = lib.cat([a, e, a * 3])
    (c * lib.tensor(np.concatenate([d, d]))).sum().backward()
    out["a"], out["e"] = arr(a.grad), arr(e.grad)
    for join in ("stack", "hstack", "vstack"):
        e = lib.zeros(0, requires_grad=True)
        getattr(lib, join)([e, lib.zeros(0)]).sum().backward()
        out[join] = arr(e.grad)


def _view_function(lib, how):
    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return {"view": lambda: x.view(-1), "slice": lambda: x[0], "same": lambda: x}[how]()

        @staticmethod
        def backward(ctx, g):
            return lib.zeros(3)

    return Fn


@pytest.mark.parametrize("how", ["view", "slice", "same"])
def test_function_view_inplace(how):
    def program(lib, d, out):
        y = _view_function(lib, how).apply(lib.tensor(d, requires_grad=True).clone())
        y.mul_(2)

    check(program, DATA[0])


def p_post_hook(lib, d, out):
    w = lib.tensor(d, requires_grad=True)
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda t: seen.append(arr(t.grad).copy()))
    (w * w).sum().backward()
    (w * 3).sum().backward()
    h.remove()
    (w * 3).sum().backward()
    out["seen"] = np.array(seen)
    opt = {w: lib.optim.SGD([w], lr=0.1)}

    def step(p):
        opt[p].step()
        opt[p].zero_grad()

    w.register_post_accumulate_grad_hook(step)
    for _ in range(3):
        ((w - 1) ** 2).sum().backward()
    out["w"] = arr(w)


def p_post_hook_nonleaf(lib, d, out):
    (lib.tensor(d, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)


def p_grad_materialize(lib, d, out):
    x = lib.tensor(d, requires_grad=True)
    lib.autograd.grad(x.sum(), x, materialize_grads=True, allow_unused=False)


def p_grad_empty(lib, d, out):
    lib.autograd.grad(lib.tensor(d, requires_grad=True).sum(), [])


def p_grad_batched(lib, d, out):
    x = lib.tensor(d, requires_grad=True)
    y = x * x.sum()
    (out["jac"],) = map(arr, lib.autograd.grad([y, y.sum()], x, (lib.eye(3), lib.ones(3)),
                                                is_grads_batched=True))


def p_format(lib, d, out):
    out["0d"] = f"{lib.tensor(float(d[0]))}"
    out["spec"] = format(lib.tensor(float(d[1])), ".3f")
    out["int"] = format(lib.tensor(7), "04d")
    format(lib.tensor(d), ".2f")


def p_where(lib, d, out):
    x = lib.tensor(d, requires_grad=True)
    r = x.where(x > 0, lib.tensor(d) * 10)
    (r * r).sum().backward()
    out["r"], out["g"] = arr(r), arr(x.grad)


def p_retain_inplace(lib, d, out):
    base = lib.tensor(d, requires_grad=True)
    v = base * 1
    v.retain_grad()
    v.mul_(3)
    b = base * 2
    w = b[:2]
    w.retain_grad()
    b.add_(1)
    c = base * 1
    c.retain_grad()
    c[1:].mul_(5)
    ((v * v).sum() + (w * w).sum() + (c * c).sum()).backward()
    out["v"], out["w"], out["c"], out["base"] = arr(v.grad), arr(w.grad), arr(c.grad), arr(base.grad)
    out["retains"] = (v.retains_grad, w.retains_grad, c.retains_grad)


def p_grad_batched_mismatch(lib, d, out):
    x = lib.tensor(d, requires_grad=True)
    lib.autograd.grad([x * 2, x.sum()], x, (lib.eye(3), lib.ones(2)), is_grads_batched=True)


PROGRAMS = [p_backward_inputs_nonleaf, p_backward_inputs_empty, p_several_roots, p_cat_empty, p_post_hook,
            p_post_hook_nonleaf, p_grad_materialize, p_grad_empty, p_grad_batched,
            p_grad_batched_mismatch, p_format, p_where,
            p_retain_inplace]


def check(program, d):
    want, got = run(program, torch, d), run(program, descend, d)
    assert want.keys() == got.keys(), (want, got)
    for k, w in want.items():
        g = got[k]
        if isinstance(w, np.ndarray) or isinstance(g, np.ndarray):
            assert w is not None and g is not None, (k, w, g)
            assert w.shape == g.shape, (k, w, g)
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6, err_msg=k)
        else:
            assert w == g, (k, w, g)


@pytest.mark.parametrize("d", range(len(DATA)))
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__[2:])
def test_engine_program(program, d):
    check(program, DATA[d])
