"""conv3d, conv_transpose3d and the 3-D pools (max, avg, adaptive avg/max) against PyTorch 2.13, functions
and modules: random configurations, both sides.

Each example draws a shape (odd sizes, sometimes unbatched 4-D input), the options PyTorch documents
(stride, padding incl. "same"/"valid", dilation, groups, output_padding, ceil_mode, count_include_pad,
divisor_override, return_indices) and a dtype; both sides run forward on the same inputs, then backward
with the same random upstream gradient. Values, indices and the gradients of input, weight and bias
are compared: float64 within 1e-10, float32 within 1e-5 (relative to the largest magnitude of torch's
value, at least 1). The modules are built under the same seed and their parameters must equal torch's.
Derandomized; a few seconds here.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import descend  # noqa: E402
import descend.nn.functional as DF  # noqa: E402

TF = torch.nn.functional
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
TOL = {np.float64: 1e-10, np.float32: 1e-5}
DTYPES = st.sampled_from([np.float64, np.float32])


def _close(name, mine, theirs, dtype):
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.shape == theirs.shape, (name, mine.shape, theirs.shape)
    assert np.array_equal(np.isnan(mine), np.isnan(theirs)), f"{name}: NaN in different places"
    mine, theirs = np.nan_to_num(mine), np.nan_to_num(theirs)
    scale = max(1.0, float(np.abs(theirs).max()) if theirs.size else 1.0)
    err = float(np.abs(mine - theirs).max()) if theirs.size else 0.0
    assert err <= TOL[dtype] * scale, f"{name}: max error {err:.3g} (scale {scale:.3g})"


def _compare(name, mine_fn, torch_fn, arrays, dtype, rng, grads=None):
    """Run both sides on `arrays`, compare outputs (and indices), backward with one random gradient."""
    grads = range(len(arrays)) if grads is None else grads
    mine = [descend.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out_m, out_t = mine_fn(*mine), torch_fn(*theirs)
    if isinstance(out_t, tuple):
        assert np.array_equal(out_m[1].numpy(), out_t[1].numpy()), f"{name}: indices differ"
        out_m, out_t = out_m[0], out_t[0]
    _close(f"{name} output", out_m.detach().numpy(), out_t.detach().numpy(), dtype)
    g = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    out_m.backward(descend.tensor(g))
    out_t.backward(torch.tensor(g))
    for i in grads:
        _close(f"{name} grad {i}", mine[i].grad.numpy(), theirs[i].grad.numpy(), dtype)


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2),
                             st.tuples(*[st.integers(0, 2)] * 3)))
    stride = (1, 1, 1) if padding == "same" else tuple(draw(st.integers(1, 3)) for _ in range(3))
    sizes = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for k, d in zip(kernel, dilation))
    batch = draw(st.sampled_from([None, 1, 2]))
    return dict(groups=groups, cin=cin, cout=cout, kernel=kernel, dilation=dilation, padding=padding,
                stride=stride, sizes=sizes, batch=batch, bias=draw(st.booleans()), dtype=draw(DTYPES),
                seed=draw(st.integers(0, 2**16)))


@SETTINGS
@given(conv_cases())
def test_conv3d_matches_torch(c):
    rng = np.random.default_rng(c["seed"])
    dtype = c["dtype"]
    lead = () if c["batch"] is None else (c["batch"],)
    x = rng.standard_normal(lead + (c["cin"],) + c["sizes"]).astype(dtype)
    w = rng.standard_normal((c["cout"], c["cin"] // c["groups"]) + c["kernel"]).astype(dtype)
    arrays = [x, w] + ([rng.standard_normal(c["cout"]).astype(dtype)] if c["bias"] else [])
    opts = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"])

    def mine(x, w, b=None):
        return DF.conv3d(x, w, b, **opts)

    def theirs(x, w, b=None):
        return TF.conv3d(x, w, b, **opts)

    with _quiet():
        _compare(f"conv3d {c}", mine, theirs, arrays, dtype, rng)


class _quiet:
    """Silence torch's padding='same' efficiency warning."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


@SETTINGS
@given(conv_cases(), st.data())
def test_conv_transpose3d_matches_torch(c, data):
    rng = np.random.default_rng(c["seed"])
    dtype = c["dtype"]
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    padding = tuple(data.draw(st.integers(0, 1)) for _ in range(3))
    output_padding = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, c["dilation"]))
    sizes = tuple(data.draw(st.integers(1, 4)) for _ in range(3))
    lead = () if c["batch"] is None else (c["batch"],)
    x = rng.standard_normal(lead + (c["cin"],) + sizes).astype(dtype)
    w = rng.standard_normal((c["cin"], c["cout"] // c["groups"]) + c["kernel"]).astype(dtype)
    arrays = [x, w] + ([rng.standard_normal(c["cout"]).astype(dtype)] if c["bias"] else [])
    opts = dict(stride=stride, padding=padding, output_padding=output_padding, groups=c["groups"],
                dilation=c["dilation"])
    out = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1
           for n, s, p, d, k, o in zip(sizes, stride, padding, c["dilation"], c["kernel"], output_padding)]
    if min(out) < 1:
        return

    def mine(x, w, b=None):
        return DF.conv_transpose3d(x, w, b, **opts)

    def theirs(x, w, b=None):
        return TF.conv_transpose3d(x, w, b, **opts)

    _compare(f"conv_transpose3d {c} {opts}", mine, theirs, arrays, dtype, rng)


@st.composite
def pool_cases(draw):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    sizes = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for k, d in zip(kernel, dilation))
    batch = draw(st.sampled_from([None, 1, 2]))
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, sizes=sizes, batch=batch,
                channels=draw(st.integers(1, 3)), ceil_mode=draw(st.booleans()), dtype=draw(DTYPES),
                ties=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _pool_input(c, rng):
    lead = () if c["batch"] is None else (c["batch"],)
    x = rng.standard_normal(lead + (c["channels"],) + c["sizes"])
    if c["ties"]:  # few distinct values: maxima tie, and the first one must win as in torch
        x = np.round(x)
    return x.astype(c["dtype"])


@SETTINGS
@given(pool_cases(), st.booleans())
def test_max_pool3d_matches_torch(c, indices):
    rng = np.random.default_rng(c["seed"])
    opts = dict(kernel_size=c["kernel"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
                ceil_mode=c["ceil_mode"], return_indices=indices)
    _compare(f"max_pool3d {c}", lambda x: DF.max_pool3d(x, **opts), lambda x: TF.max_pool3d(x, **opts),
             [_pool_input(c, rng)], c["dtype"], rng)


@SETTINGS
@given(pool_cases(), st.booleans(), st.sampled_from([None, None, 1, 5]))
def test_avg_pool3d_matches_torch(c, count_include_pad, divisor_override):
    rng = np.random.default_rng(c["seed"])
    opts = dict(kernel_size=c["kernel"], stride=c["stride"], padding=c["padding"], ceil_mode=c["ceil_mode"],
                count_include_pad=count_include_pad, divisor_override=divisor_override)
    _compare(f"avg_pool3d {c} {opts}", lambda x: DF.avg_pool3d(x, **opts), lambda x: TF.avg_pool3d(x, **opts),
             [_pool_input(c, rng)], c["dtype"], rng)


@SETTINGS
@given(pool_cases(), st.data())
def test_adaptive_pools_3d_match_torch(c, data):
    rng = np.random.default_rng(c["seed"])
    size = tuple(data.draw(st.one_of(st.none(), st.integers(1, 6))) for _ in range(3))
    x = _pool_input(c, rng)
    _compare(f"adaptive_avg_pool3d {c} {size}", lambda x: DF.adaptive_avg_pool3d(x, size),
             lambda x: TF.adaptive_avg_pool3d(x, size), [x], c["dtype"], rng)
    indices = data.draw(st.booleans())
    _compare(f"adaptive_max_pool3d {c} {size}", lambda x: DF.adaptive_max_pool3d(x, size, indices),
             lambda x: TF.adaptive_max_pool3d(x, size, indices), [x], c["dtype"], rng)


def test_max_pools_3d_nan_as_torch():
    """A window holding NaN gives NaN; its gradient goes where torch sends it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 4, 5, 3))
    x[0, 0, 1, 2, 1] = x[0, 1, 0, 0, 0] = x[0, 1, 3, 4, 2] = x[0, 1, 2, 4, 2] = np.nan
    opts = dict(kernel_size=2, stride=1, padding=1, return_indices=True)
    _compare("max_pool3d nan", lambda t: DF.max_pool3d(t, **opts), lambda t: TF.max_pool3d(t, **opts), [x],
             np.float64, rng)
    _compare("adaptive_max_pool3d nan", lambda t: DF.adaptive_max_pool3d(t, 2, True),
             lambda t: TF.adaptive_max_pool3d(t, 2, True), [x], np.float64, rng)


MODULES = [
    lambda nn: nn.Conv3d(4, 6, (2, 3, 1), stride=(2, 1, 1), padding=(1, 2, 0), groups=2),
    lambda nn: nn.Conv3d(2, 3, 3, padding="same", padding_mode="reflect", bias=False),
    lambda nn: nn.Conv3d(2, 3, (2, 3, 2), padding=(1, 2, 1), padding_mode="circular"),
    lambda nn: nn.Conv3d(2, 3, (2, 3, 2), padding=1, padding_mode="replicate", dilation=2),
    lambda nn: nn.Conv3d(3, 3, 1, groups=3, dtype=torch.float64 if nn is torch.nn else descend.float64),
    lambda nn: nn.ConvTranspose3d(4, 6, (2, 3, 1), stride=2, padding=1, output_padding=1, groups=2),
    lambda nn: nn.MaxPool3d(2),
    lambda nn: nn.MaxPool3d((2, 3, 2), stride=1, padding=1, return_indices=True, ceil_mode=True),
    lambda nn: nn.AvgPool3d(3, 2, 1, count_include_pad=False),
    lambda nn: nn.AvgPool3d(2, divisor_override=3, ceil_mode=True),
    lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)),
    lambda nn: nn.AdaptiveMaxPool3d(2, return_indices=True),
]


@pytest.mark.parametrize("make", MODULES)
def test_modules_3d_match_torch(make):
    torch.manual_seed(3)
    descend.manual_seed(3)
    mt, md = make(torch.nn), make(descend.nn)
    assert repr(md) == repr(mt)
    params_t, params_d = dict(mt.named_parameters()), dict(md.named_parameters())
    assert list(params_d) == list(params_t)
    for n, p in params_t.items():  # the seed gives torch's weights
        assert np.array_equal(params_d[n].detach().numpy(), p.detach().numpy()), n
    dtype = np.float64 if params_t and next(iter(params_t.values())).dtype == torch.float64 else np.float32
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, getattr(mt, "in_channels", 3), 5, 6, 7)).astype(dtype)
    xm, xt = descend.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    om, ot = md(xm), mt(xt)
    if isinstance(ot, tuple):
        assert np.array_equal(om[1].numpy(), ot[1].numpy())
        om, ot = om[0], ot[0]
    _close("module output", om.detach().numpy(), ot.detach().numpy(), dtype)
    g = rng.standard_normal(tuple(ot.shape)).astype(dtype)
    om.backward(descend.tensor(g))
    ot.backward(torch.tensor(g))
    _close("module input grad", xm.grad.numpy(), xt.grad.numpy(), dtype)
    for n, p in params_t.items():
        _close(f"module {n} grad", params_d[n].grad.numpy(), p.grad.numpy(), dtype)
