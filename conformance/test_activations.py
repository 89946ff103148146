"""Activations and losses against PyTorch 2.13: the node torch records, and its numbers bit for bit.

Three checks per activation, on fixed seeded inputs (float32 and float64, 4096 values, a multiple of
the vector width so every torch value comes from its vectorised kernel) plus extremes (±0, ±3, ±6,
±20, ±1e4, ±inf, NaN):

* the node: descend records one node with torch's grad_fn name (SiluBackward0, GeluBackward0,
  GluBackward0, ...);
* the formula: descend's own code, run with torch's kernel's exp, expm1 and log1p in place of
  NumPy's, gives torch's forward and gradient bit for bit. torch's vectorised exp is read from
  `log_sigmoid_forward`'s buffer (exp(-|x|)), so this covers the arguments where exp is taken of
  values <= 0: silu for x >= 0, softplus and the ELU family for x <= 0, logsigmoid and float32 GELU
  (torch's own kernel, oneDNN off) everywhere. Activations without transcendentals (hardsigmoid,
  hardswish, hardtanh, relu6, leaky_relu, softsign, the shrinks, threshold) are compared directly,
  extremes included: zero mismatches;
* the rest is NumPy's transcendentals: with NumPy's exp, descend differs from torch only at the
  elements where NumPy's exp/expm1/log1p themselves change descend's result (the mismatches are a
  subset of those), and elsewhere (mish, tanh-GELU, oneDNN's float32 GELU, float64 erf) descend is
  within a tolerance: 1e-4 relative + 1e-6 absolute in float32, the absolute part times 1 + x^2 for
  tanh-GELU (its 1 + tanh cancels below x = -3 and amplifies tanh's last bit), 1e-10 + 1e-13 in
  float64.

prelu (per-channel and single weight, NaN and -inf inputs): PreluKernelBackward0, forward and input
gradient bit for bit, the weight's gradient (a sum over the broadcast dims) within 1e-5 / 1e-12. The
in-place ELU family: EluBackward1/CeluBackward1, gradients differing only where the forward does.

Losses (mse, l1, huber, smooth_l1 with beta 0.5 and 0, binary_cross_entropy, BCE-with-logits; mean,
sum, none; float32 and float64): torch's grad_fn name, and bit for bit wherever no transcendental
enters: the elementwise losses ("none") and every gradient of the regression losses, BCE's input
gradient, BCE-with-logits' target gradient; the rest (and every reduced value, whose summation
order differs) within 1e-5 + 1e-7 (float32) or 1e-12 + 1e-15 (float64). cross_entropy (indices,
weights, label smoothing, each reduction) within the same tolerance: its values go through
log-softmax's summed exponentials.

Not compared: softplus where exp(beta x) overflows below the threshold (torch gives inf and a NaN
gradient, descend the finite limits), and torch's scalar tail (the elements past the last full
vector, computed with glibc's functions: NaN gradients of hardshrink/softshrink/hardtanh differ
between torch's own two paths).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import descend  # noqa: E402
import descend.functional as DFM  # noqa: E402
import descend.nn.functional as DF  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

N = 4096
SPECIAL = [0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 20.0, -20.0, 1e4, -1e4, np.inf, -np.inf, np.nan, 1.0]
DTYPES = [np.float32, np.float64]

CONFIGS = [
    ("silu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("mish", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0}),
    ("softplus", {"beta": 0.5, "threshold": 5.0}),
    ("logsigmoid", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": 0.3}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.3, "max_val": 0.7}),
    ("relu6", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("softsign", {}),
    ("tanhshrink", {}),
    ("softshrink", {}),
    ("softshrink", {"lambd": 0.3}),
    ("hardshrink", {}),
    ("hardshrink", {"lambd": 1.0}),
    ("threshold", {"threshold": 0.1, "value": 2.0}),
    ("glu", {}),
]
EXACT = {
    "leaky_relu", "hardtanh", "relu6", "hardsigmoid", "hardswish",
    "softsign", "softshrink", "hardshrink", "threshold",
}
# where descend's formula can run on torch's own exp (exp of values <= 0 only): the input's sign
SUBSTITUTABLE = {"silu": 1, "softplus": -1, "elu": -1, "selu": -1, "celu": -1, "logsigmoid": 0}


def _inputs(dtype, sign=0, special=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(N) * 3
    if sign:
        x = sign * np.abs(x)
    if special:
        x[: len(SPECIAL)] = SPECIAL
    return x.astype(dtype)


def _run_torch(name, kw, x, g):
    t = torch.tensor(x, requires_grad=True)
    y = getattr(TF, name)(t, **kw)
    y.backward(torch.tensor(g[: y.numel()]))  # glu halves its input
    return type(y.grad_fn).__name__, y.detach().numpy(), t.grad.numpy()


def _run_descend(name, kw, x, g):
    t = descend.tensor(x, requires_grad=True)
    y = getattr(DF, name)(t, **kw)
    y.backward(descend.tensor(g[: y.numel()]))
    return y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()


def _differ(a, b):
    return ~((a == b) | (np.isnan(a) & np.isnan(b)))


class _TorchTranscendentals:
    """NumPy, with exp, expm1 and log1p taken from torch's vectorised kernels."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def _result(r, out):
        if out is None:
            return r
        out[...] = r
        return out

    def exp(self, v, out=None):
        v = np.asarray(v)
        assert ((v <= 0) | np.isnan(v)).all(), "torch's vectorised exp is only readable for arguments <= 0"
        buffer = torch.ops.aten.log_sigmoid_forward(torch.tensor(v))[1].numpy()  # exp(-|v|)
        return self._result(buffer, out)

    def expm1(self, v, out=None):
        return self._result(torch.expm1(torch.tensor(np.asarray(v))).numpy(), out)

    def log1p(self, v, out=None):
        return self._result(torch.log1p(torch.tensor(np.asarray(v))).numpy(), out)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=[f"{n}{k or ''}" for n, k in CONFIGS])
def test_records_torchs_node(name, kw):
    x = _inputs(np.float32)[:64]
    assert _run_descend(name, kw, x, x)[0] == _run_torch(name, kw, x, x)[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kw", [c for c in CONFIGS if c[0] in EXACT],
                         ids=[f"{n}{k or ''}" for n, k in CONFIGS if n in EXACT])
def test_activations_without_transcendentals_are_bit_for_bit(name, kw, dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, special=False, seed=1)
    _, ty, tg = _run_torch(name, kw, x, g)
    _, dy, dg = _run_descend(name, kw, x, g)
    assert _differ(ty, dy).sum() == 0
    assert _differ(tg, dg).sum() == 0


SUBSTITUTED = [c for c in CONFIGS if c[0] in SUBSTITUTABLE] + [("gelu", {})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kw", SUBSTITUTED, ids=[f"{n}{k or ''}" for n, k in SUBSTITUTED])
def test_formula_is_torchs_and_the_rest_is_numpys_transcendentals(name, kw, dtype, monkeypatch):
    if name == "gelu" and dtype == np.float64:
        pytest.skip("float64 erf is math.erf's, not torch's Sleef erf: covered by the tolerance test")
    x = _inputs(dtype, sign=SUBSTITUTABLE.get(name, 0), special=False)
    g = _inputs(dtype, special=False, seed=1)
    with torch.backends.mkldnn.flags(enabled=False):  # float32 GELU: torch's own kernel, not oneDNN's
        _, ty, tg = _run_torch(name, kw, x, g)
    _, real_y, real_g = _run_descend(name, kw, x, g)
    with monkeypatch.context() as m:
        m.setattr(DFM, "np", _TorchTranscendentals())
        _, sub_y, sub_g = _run_descend(name, kw, x, g)
    assert _differ(ty, sub_y).sum() == 0, "the forward formula differs from torch's kernel"
    assert _differ(tg, sub_g).sum() == 0, "the backward formula differs from torch's kernel"
    # with NumPy's functions, descend differs from torch only where NumPy's values change its result
    assert not (_differ(ty, real_y) & ~_differ(real_y, sub_y)).any()
    assert not (_differ(tg, real_g) & ~_differ(real_g, sub_g)).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kw", [c for c in CONFIGS if c[0] not in EXACT],
                         ids=[f"{n}{k or ''}" for n, k in CONFIGS if n not in EXACT])
def test_within_tolerance_everywhere(name, kw, dtype):
    x = _inputs(dtype)
    g = _inputs(dtype, special=False, seed=1)
    _, ty, tg = _run_torch(name, kw, x, g)
    _, dy, dg = _run_descend(name, kw, x, g)
    rtol, atol = (1e-4, 1e-6) if dtype == np.float32 else (1e-10, 1e-13)
    if kw.get("approximate") == "tanh":
        # 1 + tanh(inner) cancels for x below -3: one ulp of tanh (NumPy's float32 tanh is 1 ulp off
        # where Sleef's rounds to -1) is 6e-8 |x| forward and ~1e-7 (1 + x^2) in the gradient
        atol = atol * (1 + x.astype(np.float64) ** 2)
    for ours, theirs in ((dy, ty), (dg, tg)):
        keep = ~np.isinf(ty) if name == "softplus" else np.ones(theirs.shape, bool)
        a, b = ours.astype(np.float64), theirs.astype(np.float64)
        with np.errstate(invalid="ignore"):
            close = (np.abs(a - b) <= atol + rtol * np.abs(b)) | (a == b) | (np.isnan(a) & np.isnan(b))
        assert close[keep].all(), f"{(~close[keep]).sum()} values differ beyond the tolerance"


def test_gelu_float32_erf_is_torchs_vectorised_erf():
    # torch.erf itself is MKL's; the GELU kernel's erf is Vectorized<float>::erf (A&S 7.1.26)
    x = _inputs(np.float32, special=False)
    with torch.backends.mkldnn.flags(enabled=False):
        ty = TF.gelu(torch.tensor(x)).numpy()
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    np.testing.assert_allclose(ty, exact, rtol=0, atol=1e-6)


# --- losses: the elementwise order of operations (reductions' summation order is not compared) ---

LOSSES = {
    "mse_loss": lambda F, a, b, r: F.mse_loss(a, b, reduction=r),
    "l1_loss": lambda F, a, b, r: F.l1_loss(a, b, reduction=r),
    "huber_loss": lambda F, a, b, r: F.huber_loss(a, b, reduction=r, delta=0.5),
    "smooth_l1_loss": lambda F, a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
    "smooth_l1_loss_beta0": lambda F, a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
    "binary_cross_entropy": lambda F, a, b, r: F.binary_cross_entropy(a, b, reduction=r),
    "binary_cross_entropy_with_logits": (
        lambda F, a, b, r: F.binary_cross_entropy_with_logits(a, b, reduction=r)),
}
# (bit for bit: forward of "none", input gradient, target gradient); the rest within the tolerance
LOSS_BITWISE = {
    "mse_loss": (True, True, True), "l1_loss": (True, True, True), "huber_loss": (True, True, True),
    "smooth_l1_loss": (True, True, True), "smooth_l1_loss_beta0": (True, True, True),
    "binary_cross_entropy": (False, True, False),  # log/logit: NumPy's against glibc's and Sleef's
    "binary_cross_entropy_with_logits": (False, False, True),  # log1p, exp and sigmoid's exp
}


def _loss_inputs(name, dtype):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((32, 40)) * 2
    b = rng.standard_normal((32, 40)) * 2
    if name.startswith("binary"):
        b = rng.random((32, 40))
        if name == "binary_cross_entropy":
            a = rng.random((32, 40)) * 0.98 + 0.01
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_backward_in_torchs_order(name, reduction, dtype):
    a, b = _loss_inputs(name, dtype)
    g = np.asarray(1.3, dtype)
    if reduction == "none":
        g = np.random.default_rng(8).standard_normal(a.shape).astype(dtype)
    results = []
    for lib, F in ((torch, TF), (descend, DF)):
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = LOSSES[name](F, ta, tb, reduction)
        out.backward(lib.tensor(g))
        node = type(out.grad_fn).__name__ if lib is torch else out.grad_fn.name()
        results.append((node, out.detach().numpy(), ta.grad.numpy(), tb.grad.numpy()))
    (tn, *theirs), (dn, *ours) = results
    assert dn == tn
    exact = LOSS_BITWISE[name]
    rtol, atol = (1e-5, 1e-7) if dtype == np.float32 else (1e-12, 1e-15)
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if exact[i] and (i or reduction == "none"):
            assert _differ(o, t).sum() == 0, ("forward", "input gradient", "target gradient")[i]
        else:
            np.testing.assert_allclose(o, t, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1}, {"weight": True}]
)
def test_cross_entropy_within_tolerance(kw, dtype):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((64, 10)) * 3).astype(dtype)
    t = rng.integers(0, 10, 64)
    w = (rng.random(10) + 0.5).astype(dtype)
    results = []
    for lib, F in ((torch, TF), (descend, DF)):
        args = dict(kw, weight=lib.tensor(w)) if kw.get("weight") else kw
        xt = lib.tensor(x, requires_grad=True)
        out = F.cross_entropy(xt, lib.tensor(t), **args)
        out.backward(lib.ones_like(out))
        results.append((out.detach().numpy(), xt.grad.numpy()))
    rtol, atol = (1e-5, 1e-7) if dtype == np.float32 else (1e-12, 1e-15)
    for o, t_ in zip(results[1], results[0]):
        np.testing.assert_allclose(o, t_, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kw", [("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
                                      ("celu", {"alpha": 0.3})])
def test_inplace_elu_family_reads_the_result(name, kw, dtype):
    # EluBackward1 / CeluBackward1: the gradient differs from torch's only where the forward does
    x = _inputs(dtype, special=False)
    g = _inputs(dtype, special=False, seed=1)
    found = []
    for lib, F in ((torch, TF), (descend, DF)):
        leaf = lib.tensor(x, requires_grad=True)
        y = getattr(F, name)(leaf * 1, inplace=True, **kw)
        y.backward(lib.tensor(g))
        found.append((type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name(), y.detach().numpy(),
                      leaf.grad.numpy()))
    (tn, ty, tg), (dn, dy, dg) = found
    assert dn == tn
    assert not (_differ(tg, dg) & ~_differ(ty, dy)).any()
    # y + alpha cancels for very negative x: one ulp of y is the absolute tolerance
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-15)
    np.testing.assert_allclose(dg, tg, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, wshape", [((64, 8, 5), (8,)), ((300,), (1,)), ((5, 4, 3, 3), (1,))])
def test_prelu_is_torchs_kernel(shape, wshape, dtype):
    rng = np.random.default_rng(19)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    x.flat[:3] = [np.nan, 0.0, -np.inf]
    w = (rng.random(wshape) * 0.5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    found = []
    for lib, F in ((torch, TF), (descend, DF)):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = F.prelu(xt, wt)
        y.backward(lib.tensor(g))
        found.append((type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name(), y.detach().numpy(),
                      xt.grad.numpy(), wt.grad.numpy()))
    (tn, ty, tgx, tgw), (dn, dy, dgx, dgw) = found
    assert dn == tn
    assert _differ(ty, dy).sum() == 0 and _differ(tgx, dgx).sum() == 0
    np.testing.assert_allclose(dgw, tgw, rtol=1e-5 if dtype == np.float32 else 1e-12)  # summation order
