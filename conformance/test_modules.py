"""nn modules, nn.functional and losses against PyTorch 2.13: random configurations, both sides.

Every case draws constructor arguments PyTorch documents, an input (odd shapes included:
size-1 dims, batch 1, unbatched, non-square kernels) and a dtype (float32 or float64). The
same initial parameters and buffers go into both modules (torch's state_dict loaded into
descend's), both run forward on the same input (several times for running statistics), then
backward with the same random upstream gradient; outputs, input gradients, parameter gradients
and buffers (running stats, num_batches_tracked, a weight renormalised by max_norm) are
compared. When torch raises for a configuration descend must raise too, at construction or at
the forward (the exception type may differ: recorded in the summary). `test_module[edges]`
draws from ~80 fixed edge configurations and documented errors; `test_every_export_is_covered`
fails when descend.nn gains a class torch.nn has without a case here.

94 cases, at most ~3650 configurations (about 30 s here, derandomized); a longer hunt:
DESCEND_CONFORMANCE_SCALE=10 multiplies every case's examples.

Tolerances: float64 rtol 1e-10 and atol 1e-10 times the largest magnitude of torch's value
(at least 1). float32: rtol 1e-5 and atol 1e-6 scaled the same way, or, for ill-conditioned
results (a norm layer over two close values), descend's largest error against torch's own
float64 run at most 4x torch's float32 error. CELU and Hardsigmoid float64 gradients: rtol
1e-7, since torch's backward rounds a constant to float32 (descend's is exact).

Not compared, by decision (each is a torch quirk; descend raises or gives the clean value):
a ConvTranspose output size of 0 (torch's oneDNN path returns an empty tensor, its slow path
raises), a max-pool window wholly in the padding (torch returns an index past the row and
scatters its gradient there), a circular pad longer than what a crop leaves (torch: an
overlapping copy or uninitialised memory), the gradient of an empty reflection-padded or
adaptive-pooled output (uninitialised or refused by torch), and the target's own gradient at
a zero target in KLDivLoss and PoissonNLLLoss(full=True) (torch: 0/0 and 0*inf = NaN).
"""

import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import descend  # noqa: E402
from conformance import harness  # noqa: E402

TOL = {"float64": (1e-10, 1e-10), "float32": (1e-5, 1e-6)}
CASES = {}


def case(name, examples=30):
    def register(fn):
        CASES[name] = (fn, examples)
        return fn

    return register


class Draw:
    """The hypothesis draw plus a seeded NumPy generator for array contents."""

    def __init__(self, draw):
        self.draw = draw
        self.rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
        self.dtype = draw(st.sampled_from(["float32", "float64"]))

    def __call__(self, strategy):
        return self.draw(strategy)

    def int(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def pick(self, *options):
        return self.draw(st.sampled_from(options))

    def once(self, key, *options):
        """pick(), drawn on the first call for `key` and the same on every later call (inside make(L))."""
        memo = self.__dict__.setdefault("_once", {})
        if key not in memo:
            memo[key] = self.pick(*options)
        return memo[key]

    def bool(self):
        return self.draw(st.booleans())

    def x(self, *shape, scale=1.5, positive=False, unit=False):
        a = self.rng.standard_normal(shape) * scale
        if positive:
            a = np.abs(a) + 0.1
        if unit:
            a = self.rng.uniform(0.05, 0.95, size=shape)
        return np.asarray(a, dtype=self.dtype)

    def idx(self, hi, *shape):
        return self.rng.integers(0, hi, size=shape).astype(np.int64)


def lib_tensor(L, a, grad):
    t = L.tensor(a.copy())
    if grad:
        t.requires_grad_(True)
    return t


def compare(where, t, d, dtype, ref=None, rtol=0.0):
    """torch's `t` against descend's `d`; `ref`: torch's value computed in float64 (float32 cases).

    A float32 value passes when it is within the float32 tolerance of torch's, or when its largest
    distance from the float64 value is at most four times torch's own largest float32 error
    (ill-conditioned results, such as a LayerNorm or a BatchNorm over two close values, where both
    sides lose digits, differently: measured over 3000 such cases, the mean errors of the two
    agree, while single elements differ by several times either way).
    """
    rtol, atol = max(rtol, TOL[dtype][0]), TOL[dtype][1]
    if isinstance(t, (tuple, list)):
        if not isinstance(d, (tuple, list)) or len(t) != len(d):
            raise harness.Mismatch(f"{where}: torch gave {len(t)} results, descend {d!r}")
        refs = ref if isinstance(ref, (tuple, list)) and len(ref) == len(t) else [None] * len(t)
        for i, (a, b, r) in enumerate(zip(t, d, refs)):
            compare(f"{where}[{i}]", a, b, dtype, r, rtol)
        return
    if isinstance(t, torch.Tensor) and not isinstance(d, descend.Tensor):
        raise harness.Mismatch(f"{where}: torch gave a tensor, descend {type(d).__name__}")
    if isinstance(t, torch.Tensor):
        if tuple(t.shape) != tuple(d.shape):
            raise harness.Mismatch(f"{where}: shape torch {tuple(t.shape)} vs descend {tuple(d.shape)}")
        if harness.dtype_name(t.dtype) != harness.dtype_name(d.dtype):
            raise harness.Mismatch(
                f"{where}: dtype torch {harness.dtype_name(t.dtype)} vs descend {harness.dtype_name(d.dtype)}"
            )
    a, b = harness.to_numpy(t), harness.to_numpy(d)
    if a.dtype.kind == "f" and a.size:
        finite = np.abs(a[np.isfinite(a)])
        scale = max(1.0, float(finite.max()) if finite.size else 1.0)
        if ref is not None and a.dtype == np.float32 and np.shape(ref) == a.shape:
            r = harness.to_numpy(ref).astype(np.float64)
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            with np.errstate(all="ignore"):
                close = np.isclose(a64, b64, rtol=rtol, atol=atol * scale, equal_nan=True)
                fin = np.isfinite(r) & np.isfinite(a64) & np.isfinite(b64)
                err_t = np.abs(a64 - r)[fin].max(initial=0.0)
                err_d = np.abs(b64 - r)[fin]
                no_worse = fin & (err_d.max(initial=0.0) <= 4 * err_t + atol * scale)
            if not (close | no_worse).all():
                raise harness.Mismatch(f"{where}: values differ\ntorch   {a}\ndescend {b}\nfloat64 {r}")
            return
        harness.compare_arrays(where, a, b, rtol=rtol, atol=atol * scale)
    else:
        harness.compare_arrays(where, a, b)


def floats_of(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in floats_of(x)]
    if hasattr(out, "dtype") and harness.dtype_name(out.dtype).startswith("float") and out.requires_grad:
        return [out]
    return []


class Side:
    """One library's run of a case: construct, load the shared state, forward, backward."""

    def __init__(self, L, make, dtype, train, state=None):
        self.L, self.obj = L, make(L)
        self.modules = isinstance(self.obj, L.nn.Module)
        if self.modules:
            if dtype == "float64":
                self.obj.double()
            self.obj.train(train)
            if state is not None:
                if L is torch:
                    self.obj.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
                else:
                    self.obj.load_state_dict({k: v.copy() for k, v in state.items()})

    def state(self):
        return {k: v.detach().numpy().copy() for k, v in self.obj.state_dict().items()}

    def forward(self, inputs, dtype, calls):
        self.xs = []
        for a, g in inputs:
            if a.dtype.kind == "f" and dtype is not None:  # the float64 reference run casts
                a = a.astype(dtype)
            self.xs.append(lib_tensor(self.L, a, g))
        out = None
        for _ in range(calls):
            out = self.obj(*self.xs)
        self.out = out
        return out

    def backward(self, ups):
        outs = floats_of(self.out)
        total = sum(
            (o * self.L.tensor(u.astype(harness.dtype_name(o.dtype)))).sum() for o, u in zip(outs, ups)
        )
        total.backward()

    def buffers(self):
        return dict(self.obj.named_buffers()) if self.modules else {}

    def params(self):
        return dict(self.obj.named_parameters()) if self.modules else {}


def reference(make, inputs, train, calls, state, ups):
    """torch's float64 run of a float32 case (None where it cannot run: a float32 tensor in `make`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            side = Side(torch, make, "float64", train)
            if side.modules:
                side.obj.load_state_dict(
                    {
                        k: torch.from_numpy(v.astype(np.float64) if v.dtype.kind == "f" else v)
                        for k, v in state.items()
                    }
                )
            side.forward(inputs, "float64", calls)
            if ups is not None:
                side.backward(ups)
        return side
    except Exception:  # noqa: BLE001 - the reference is optional
        return None


def check(
    where,
    make,
    inputs,
    dtype,
    rng,
    train=True,
    calls=1,
    backward=True,
    descend_raises=None,
    rtol=0.0,
    keep_dtypes=False,
):
    """make(L) -> a Module or a function of the input tensors; inputs: [(array, requires_grad)].

    keep_dtypes: the module and inputs keep the dtypes `make` and `inputs` give (a float32/float64
    mix on purpose) instead of the module being converted to `dtype`.

    descend_raises: a configuration where torch's result is not compared (it raises, or returns
    an empty or uninitialised tensor, depending on its kernel) and descend must raise a
    RuntimeError matching this pattern.
    """
    module_dtype = None if keep_dtypes else dtype
    if descend_raises:
        with pytest.raises(RuntimeError, match=descend_raises):
            Side(descend, make, module_dtype, train).forward(inputs, None, calls)
        return
    try:
        d_early = None
        Side(descend, make, module_dtype, train)
    except Exception as e:  # noqa: BLE001
        d_early = e
    if d_early is not None:
        # descend refuses the configuration at construction; torch must refuse it by the forward
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Side(torch, make, module_dtype, train).forward(inputs, None, calls)
        except Exception as e:  # noqa: BLE001
            harness.STATS["torch_raised"] += 1
            if type(e).__name__ != type(d_early).__name__:
                harness.STATS["error_type_differences"].add((type(e).__name__, type(d_early).__name__, where))
            return
        raise harness.Mismatch(f"{where}: descend raised {d_early!r} at construction; torch ran") from d_early
    t, d = harness.run_both(
        f"{where}: construct",
        lambda: Side(torch, make, module_dtype, train),
        lambda: Side(descend, make, module_dtype, train),
    )
    if t is None:
        return
    state = t.state() if t.modules else None
    if t.modules:
        d.obj.load_state_dict({k: v.copy() for k, v in state.items()})
    t_out, d_out = harness.run_both(
        f"{where}: forward", lambda: t.forward(inputs, None, calls), lambda: d.forward(inputs, None, calls)
    )
    if t_out is None:
        return
    t_f, d_f = floats_of(t_out), floats_of(d_out)
    if len(t_f) != len(d_f):
        raise harness.Mismatch(f"{where}: {len(t_f)} differentiable outputs in torch, {len(d_f)} in descend")
    ups = [rng.standard_normal(tuple(o.shape)) for o in t_f] if backward and t_f else None
    ref = (
        reference(make, inputs, train, calls, state, ups) if dtype == "float32" and not keep_dtypes else None
    )
    compare(f"{where}: output", t_out, d_out, dtype, ref and ref.out, rtol=rtol)
    for name, tb in t.buffers().items():
        compare(
            f"{where}: buffer {name}",
            tb,
            d.buffers()[name],
            dtype,
            ref and ref.buffers().get(name),
            rtol=rtol,
        )
    for name, tp in t.params().items():
        compare(
            f"{where}: parameter {name} after forward",
            tp,
            d.params()[name],
            dtype,
            ref and ref.params()[name],
            rtol=rtol,
        )
    if ups is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            harness.run_both(f"{where}: backward", lambda: t.backward(ups), lambda: d.backward(ups))
    for i, (a, b) in enumerate(zip(t.xs, d.xs)):
        if a.requires_grad:
            if (a.grad is None) != (b.grad is None):
                raise harness.Mismatch(f"{where}: input {i} grad torch {a.grad} vs descend {b.grad}")
            if a.grad is not None:
                compare(f"{where}: input {i} grad", a.grad, b.grad, dtype, ref and ref.xs[i].grad, rtol=rtol)
    d_params = d.params()
    for name, tp in t.params().items():
        dp = d_params[name]
        if (tp.grad is None) != (dp.grad is None):
            raise harness.Mismatch(f"{where}: grad of {name} torch {tp.grad} vs descend {dp.grad}")
        if tp.grad is not None:
            compare(
                f"{where}: grad of {name}",
                tp.grad,
                dp.grad,
                dtype,
                ref and ref.params()[name].grad,
                rtol=rtol,
            )


def nn(L):
    return L.nn


def F(L):
    return L.nn.functional


# --- layers ---


@case("Linear")
def _linear(d):
    i, o, bias = d.int(1, 5), d.int(1, 4), d.bool()
    lead = d.pick((), (1,), (3,), (2, 3))
    return "Linear", lambda L: nn(L).Linear(i, o, bias=bias), [(d.x(*lead, i), True)], {}


@case("Bilinear")
def _bilinear(d):
    i1, i2, o, bias, n = d.int(1, 4), d.int(1, 4), d.int(1, 3), d.bool(), d.int(1, 3)
    return (
        "Bilinear",
        lambda L: nn(L).Bilinear(i1, i2, o, bias=bias),
        [(d.x(n, i1), True), (d.x(n, i2), True)],
        {},
    )


def _conv_args(d, nd, transpose):
    groups = d.pick(1, 1, 2)
    cin, cout = groups * d.int(1, 2), groups * d.int(1, 2)
    k = tuple(d.int(1, 3) for _ in range(nd))
    stride = tuple(d.int(1, 3) for _ in range(nd))
    dil = tuple(d.int(1, 2) for _ in range(nd))
    kw = {"groups": groups, "bias": d.bool(), "dilation": dil if d.bool() else dil[0]}
    kw["stride"] = stride if d.bool() else stride[0]
    if transpose:
        pad = tuple(d.int(0, 2) for _ in range(nd))
        kw["padding"] = pad
        s = stride if isinstance(kw["stride"], tuple) else (stride[0],) * nd
        dl = dil if isinstance(kw["dilation"], tuple) else (dil[0],) * nd
        kw["output_padding"] = tuple(d.int(0, max(si, di) - 1) for si, di in zip(s, dl))
    else:
        kw["padding"] = d.pick(0, 1, 2, (1,) * nd, tuple(range(nd)), "same", "valid")
        kw["padding_mode"] = d.pick("zeros", "zeros", "reflect", "replicate", "circular")
    ksize = k if d.bool() or nd == 1 else k[0]
    spatial = tuple(d.int(1, 7) for _ in range(nd))
    batch = d.pick((), (1,), (2,))
    opts = {}
    if transpose:
        # an output size of 0: torch's slow kernel raises "Output size is too small", its oneDNN
        # path (several channels) returns an empty tensor; descend always raises (a decision)
        kk = k if isinstance(ksize, tuple) else (k[0],) * nd
        sizes = [
            (n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
            for n, si, pi, di, ki, oi in zip(spatial, s, kw["padding"], dl, kk, kw["output_padding"])
        ]
        opts = {"descend_raises": "too small" if min(sizes) < 1 else None}
    return cin, cout, ksize, kw, batch + (cin,) + spatial, opts


@case("Conv1d", 60)
def _conv1d(d):
    cin, cout, k, kw, shape, _ = _conv_args(d, 1, False)
    return (
        f"Conv1d({cin},{cout},{k},{kw})",
        lambda L: nn(L).Conv1d(cin, cout, k, **kw),
        [(d.x(*shape), True)],
        {},
    )


@case("Conv2d", 60)
def _conv2d(d):
    cin, cout, k, kw, shape, _ = _conv_args(d, 2, False)
    return (
        f"Conv2d({cin},{cout},{k},{kw})",
        lambda L: nn(L).Conv2d(cin, cout, k, **kw),
        [(d.x(*shape), True)],
        {},
    )


@case("ConvTranspose1d", 50)
def _convt1d(d):
    cin, cout, k, kw, shape, opts = _conv_args(d, 1, True)
    return (
        f"ConvTranspose1d({cin},{cout},{k},{kw})",
        lambda L: nn(L).ConvTranspose1d(cin, cout, k, **kw),
        [(d.x(*shape), True)],
        opts,
    )


@case("ConvTranspose2d", 50)
def _convt2d(d):
    cin, cout, k, kw, shape, opts = _conv_args(d, 2, True)
    return (
        f"ConvTranspose2d({cin},{cout},{k},{kw})",
        lambda L: nn(L).ConvTranspose2d(cin, cout, k, **kw),
        [(d.x(*shape), True)],
        opts,
    )


def _pool_args(d, nd, kind):
    k = tuple(d.int(1, 3) for _ in range(nd))
    kw = {"kernel_size": k if nd > 1 and d.bool() else k[0]}
    kk = k if isinstance(kw["kernel_size"], tuple) else (k[0],) * nd
    if d.bool():
        kw["stride"] = d.pick(1, 2, 3) if d.bool() else tuple(d.int(1, 3) for _ in range(nd))
    kw["padding"] = d.int(0, min(kk) // 2) if d.bool() else tuple(d.int(0, ki // 2) for ki in kk)
    if nd == 1 and isinstance(kw["padding"], tuple):
        kw["padding"] = kw["padding"][0]
    kw["ceil_mode"] = d.bool()
    if kind == "max":
        if d.bool():
            kw["dilation"] = d.int(1, 2)
        kw["return_indices"] = d.bool()
    else:
        kw["count_include_pad"] = d.bool()
        if nd == 2 and d.int(0, 3) == 0:
            kw["divisor_override"] = d.int(1, 4)
    spatial = tuple(d.int(1, 7) for _ in range(nd))
    batch = d.pick((), (1,), (2,))
    if kind == "max" and _all_padding_window(spatial, kw, nd):
        # a window wholly in the padding: torch returns -inf with an index past the row (1 for a
        # row of length 1) and scatters its gradient there, into a neighbouring row; descend
        # returns -inf, index -1 and no gradient. A torch bug, not compared: dilation 1 instead
        kw["dilation"] = 1
    return kw, batch + (d.int(1, 2),) + spatial


def _all_padding_window(spatial, kw, nd):
    def per_dim(v):
        return v if isinstance(v, tuple) else (v,) * nd

    k, p = per_dim(kw["kernel_size"]), per_dim(kw["padding"])
    s, dil = per_dim(kw.get("stride") or kw["kernel_size"]), per_dim(kw.get("dilation", 1))
    for n, ki, si, pi, di in zip(spatial, k, s, p, dil):
        span = n + 2 * pi - di * (ki - 1) - 1
        out = (span + (si - 1 if kw["ceil_mode"] else 0)) // si + 1
        if kw["ceil_mode"] and (out - 1) * si >= n + pi:
            out -= 1
        for o in range(out):
            if not any(0 <= o * si - pi + j * di < n for j in range(ki)):
                return True
    return False


@case("MaxPool1d", 50)
def _maxpool1d(d):
    kw, shape = _pool_args(d, 1, "max")
    return f"MaxPool1d({kw})", lambda L: nn(L).MaxPool1d(**kw), [(d.x(*shape), True)], {}


@case("MaxPool2d", 50)
def _maxpool2d(d):
    kw, shape = _pool_args(d, 2, "max")
    return f"MaxPool2d({kw})", lambda L: nn(L).MaxPool2d(**kw), [(d.x(*shape), True)], {}


@case("AvgPool1d", 50)
def _avgpool1d(d):
    kw, shape = _pool_args(d, 1, "avg")
    return f"AvgPool1d({kw})", lambda L: nn(L).AvgPool1d(**kw), [(d.x(*shape), True)], {}


@case("AvgPool2d", 50)
def _avgpool2d(d):
    kw, shape = _pool_args(d, 2, "avg")
    return f"AvgPool2d({kw})", lambda L: nn(L).AvgPool2d(**kw), [(d.x(*shape), True)], {}


def _adaptive(d, nd, name, kind):
    if nd == 1:
        out = d.int(0, 5)
    else:
        out = d.pick(d.int(1, 4), (d.int(0, 4), d.int(1, 4)), (None, d.int(1, 3)), (d.int(1, 3), None))
    kw = {"return_indices": d.bool()} if kind == "max" else {}
    shape = d.pick((), (1,), (2,)) + (d.int(1, 2),) + tuple(d.int(1, 7) for _ in range(nd))
    # an empty output: torch's backward refuses it, descend's gives zeros (not compared)
    empty = 0 in (out if isinstance(out, tuple) else (out,))
    opts = {"backward": not empty}
    return f"{name}({out},{kw})", lambda L: getattr(nn(L), name)(out, **kw), [(d.x(*shape), True)], opts


for _nd, _kind in ((1, "avg"), (2, "avg"), (1, "max"), (2, "max")):
    _name = f"Adaptive{_kind.capitalize()}Pool{_nd}d"
    case(_name, 40)(lambda d, nd=_nd, name=_name, kind=_kind: _adaptive(d, nd, name, kind))


def _batchnorm(d, nd):
    c = d.int(1, 3)
    kw = {
        "eps": d.pick(1e-5, 1e-3),
        "momentum": d.pick(0.1, None, 0.3),
        "affine": d.bool(),
        "track_running_stats": d.bool(),
    }
    if nd == 1:
        shape = d.pick((d.int(1, 4), c), (d.int(1, 3), c, d.int(1, 4)))
    else:
        shape = (d.int(1, 3), c) + tuple(d.int(1, 3) for _ in range(nd))
    train = d.bool()
    calls = d.int(1, 3)
    name = f"BatchNorm{nd}d"
    return (
        f"{name}({c},{kw}) train={train} calls={calls}",
        lambda L: getattr(nn(L), name)(c, **kw),
        [(d.x(*shape), True)],
        {"train": train, "calls": calls},
    )


case("BatchNorm1d", 60)(lambda d: _batchnorm(d, 1))
case("BatchNorm2d", 60)(lambda d: _batchnorm(d, 2))
case("BatchNorm3d", 20)(lambda d: _batchnorm(d, 3))


def _instancenorm(d, nd):
    c = d.int(1, 3)
    kw = {
        "eps": d.pick(1e-5, 1e-3),
        "momentum": d.pick(0.1, None, 0.3),
        "affine": d.bool(),
        "track_running_stats": d.bool(),
    }
    shape = d.pick((), (1,), (d.int(2, 3),)) + (c,) + tuple(d.int(1, 3) for _ in range(nd))
    train, calls = d.bool(), d.int(1, 2)
    name = f"InstanceNorm{nd}d"
    return (
        f"{name}({c},{kw}) train={train} calls={calls} {shape}",
        lambda L: getattr(nn(L), name)(c, **kw),
        [(d.x(*shape), True)],
        {"train": train, "calls": calls},
    )


case("InstanceNorm1d", 40)(lambda d: _instancenorm(d, 1))
case("InstanceNorm2d", 40)(lambda d: _instancenorm(d, 2))
case("InstanceNorm3d", 20)(lambda d: _instancenorm(d, 3))


@case("LayerNorm", 40)
def _layernorm(d):
    shape = tuple(d.int(1, 4) for _ in range(d.int(1, 4)))
    k = d.int(1, len(shape))
    ns = shape[-k:]
    kw = {"eps": d.pick(1e-5, 1e-2), "elementwise_affine": d.bool(), "bias": d.bool()}
    norm = ns[0] if len(ns) == 1 and d.bool() else ns
    return f"LayerNorm({norm},{kw})", lambda L: nn(L).LayerNorm(norm, **kw), [(d.x(*shape), True)], {}


@case("GroupNorm", 40)
def _groupnorm(d):
    g = d.int(1, 3)
    c = g * d.int(1, 2)
    kw = {"eps": d.pick(1e-5, 1e-2), "affine": d.bool()}
    shape = (d.int(1, 3), c) + tuple(d.int(1, 3) for _ in range(d.int(0, 2)))
    return f"GroupNorm({g},{c},{kw})", lambda L: nn(L).GroupNorm(g, c, **kw), [(d.x(*shape), True)], {}


@case("Embedding", 50)
def _embedding(d):
    n, dim = d.int(1, 6), d.int(1, 4)
    kw = {}
    if d.bool():
        kw["padding_idx"] = d.int(-n, n - 1)
    if d.bool():
        kw["max_norm"] = d.pick(0.5, 1.0, 2.0)
        kw["norm_type"] = d.pick(1.0, 2.0, 3.0)
    kw["scale_grad_by_freq"] = d.bool()
    idx = d.idx(n, *d.pick((3,), (2, 3), (1,), (4, 1)))
    return f"Embedding({n},{dim},{kw})", lambda L: nn(L).Embedding(n, dim, **kw), [(idx, False)], {}


@case("Dropout", 20)
def _dropout(d):
    name = d.pick("Dropout", "Dropout1d", "Dropout2d", "Dropout3d")
    p = d.pick(0.0, 0.3, 0.9, 1.0)
    train = p in (0.0, 1.0) and d.bool()
    shape = {
        "Dropout": (2, 3),
        "Dropout1d": (2, 3, 4),
        "Dropout2d": (2, 3, 2, 2),
        "Dropout3d": (2, 3, 1, 2, 2),
    }[name]
    return (
        f"{name}({p}) train={train}",
        lambda L: getattr(nn(L), name)(p),
        [(d.x(*shape), True)],
        {"train": train},
    )


ACTIVATIONS = {
    "ReLU": lambda d: {},
    "LeakyReLU": lambda d: {"negative_slope": d.pick(0.01, 0.2, -0.5, 1.5)},
    "Sigmoid": lambda d: {},
    "Tanh": lambda d: {},
    "GELU": lambda d: {"approximate": d.pick("none", "tanh")},
    "SiLU": lambda d: {},
    "Mish": lambda d: {},
    "SELU": lambda d: {},
    "Hardsigmoid": lambda d: {},
    "Hardswish": lambda d: {},
    "ReLU6": lambda d: {},
    "LogSigmoid": lambda d: {},
    "Softsign": lambda d: {},
    "ELU": lambda d: {"alpha": d.pick(1.0, 0.5, 2.0)},
    "CELU": lambda d: {"alpha": d.pick(1.0, 0.5, 2.0)},
    "Softplus": lambda d: {"beta": d.pick(1.0, 0.5, 2.0), "threshold": d.pick(20.0, 1.0, 0.5)},
    "Hardtanh": lambda d: {"min_val": d.pick(-1.0, -2.0, 0.0), "max_val": d.pick(1.0, 0.5, 2.0)},
    "Threshold": lambda d: {"threshold": d.pick(0.0, 0.5, -1.0), "value": d.pick(0.0, -2.0, 3.0)},
    "Identity": lambda d: {},
    "Hardshrink": lambda d: {"lambd": d.pick(0.5, 0.0, 1.0)},
    "Softshrink": lambda d: {"lambd": d.pick(0.5, 0.0, 1.0, -0.5)},
    "Tanhshrink": lambda d: {},
    "Softmax": lambda d: {"dim": d.pick(0, 1, -1)},
    "LogSoftmax": lambda d: {"dim": d.pick(0, 1, -1)},
    "Softmin": lambda d: {"dim": d.pick(0, 1, -1)},
}


# torch's float64 backward rounds a constant to float32: Hardsigmoid's slope is float32(1/6)
# (5e-9 off 1/6), CELU's uses 1 / alpha.toFloat(); descend's are exact, so 1e-7 for these
LOOSE_FLOAT64_GRADS = {"CELU": 1e-7, "Hardsigmoid": 1e-7, "celu": 1e-7, "hardsigmoid": 1e-7}


def _activation(d, name):
    kw = ACTIVATIONS[name](d)
    shape = d.pick((3,), (2, 3), (1, 4), (2, 3, 2))
    if "dim" in kw and kw["dim"] >= len(shape):
        kw["dim"] = -1
    x = d.x(*shape, scale=d.pick(1.5, 4.0, 30.0))
    if d.bool():  # exact kink points: 0 and the documented thresholds
        flat = x.reshape(-1)
        flat[: min(2, flat.size)] = d.pick(0.0, 1.0, -1.0, 3.0, -3.0, 0.5, 6.0)
    return (
        f"{name}({kw})",
        lambda L: getattr(nn(L), name)(**kw),
        [(x, True)],
        {"rtol": LOOSE_FLOAT64_GRADS.get(name, 0.0)},
    )


for _name in ACTIVATIONS:
    case(_name, 25)(lambda d, name=_name: _activation(d, name))


@case("PReLU")
def _prelu(d):
    c = d.int(1, 3)
    num = d.pick(1, c)
    init = d.pick(0.25, -0.5)
    shape = d.pick((2, c), (2, c, 3), (1, c, 2, 2))
    return f"PReLU({num},{init})", lambda L: nn(L).PReLU(num, init), [(d.x(*shape), True)], {}


@case("Flatten")
def _flatten(d):
    shape = tuple(d.int(1, 3) for _ in range(d.int(1, 4)))
    s, e = d.int(-len(shape), len(shape) - 1), d.int(-len(shape), len(shape) - 1)
    return f"Flatten({s},{e}) {shape}", lambda L: nn(L).Flatten(s, e), [(d.x(*shape), True)], {}


@case("Unflatten")
def _unflatten(d):
    shape = (2, 6, 1)
    dim = d.pick(1, -2)
    sizes = d.pick((2, 3), (3, 2), (6,), (1, 6), (-1, 2), (2, -1))
    return f"Unflatten({dim},{sizes})", lambda L: nn(L).Unflatten(dim, sizes), [(d.x(*shape), True)], {}


@case("PixelShuffle")
def _pixel_shuffle(d):
    r = d.int(1, 3)
    shape = d.pick((), (1,), (2,)) + (r * r * d.int(1, 2), d.int(1, 3), d.int(1, 3))
    return f"PixelShuffle({r}) {shape}", lambda L: nn(L).PixelShuffle(r), [(d.x(*shape), True)], {}


def _upsample_kw(d):
    nd = d.pick(1, 2, 3)
    interpolating = {1: "linear", 2: d.pick("bilinear", "bicubic"), 3: "trilinear"}[nd]
    mode = d.pick("nearest", "nearest-exact", "area", interpolating, interpolating)
    kw = {"mode": mode}
    if d.bool():
        kw["size"] = d.int(1, 6) if d.bool() else tuple(d.int(1, 6) for _ in range(nd))
    else:
        kw["scale_factor"] = (
            d.pick(1, 2, 3, 1.5, 0.5, 2.5)
            if d.bool()
            else tuple(d.pick(0.5, 1.0, 2.0, 1.5) for _ in range(nd))
        )
    if mode == interpolating and d.bool():
        kw["align_corners"] = d.bool()
    shape = (d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 5) for _ in range(nd))
    return kw, shape


def _upsample_opts(kw, shape):
    """No backward for an empty "area" output (adaptive pooling to 0: torch's backward refuses it)."""
    sf = kw.get("scale_factor")
    if kw["mode"] != "area" or sf is None:
        return {}
    sf = sf if isinstance(sf, tuple) else (sf,) * (len(shape) - 2)
    return {"backward": all(int(n * f) > 0 for n, f in zip(shape[2:], sf))}


@case("Upsample", 60)
def _upsample(d):
    kw, shape = _upsample_kw(d)
    return (
        f"Upsample({kw}) {shape}",
        lambda L: nn(L).Upsample(**kw),
        [(d.x(*shape), True)],
        _upsample_opts(kw, shape),
    )


@case("Unfold", 40)
def _unfold(d):
    k = (d.int(1, 3), d.int(1, 3))
    kw = {"dilation": d.int(1, 2), "padding": d.int(0, 1), "stride": d.pick(1, 2, (1, 2))}
    shape = d.pick((), (1,), (2,)) + (d.int(1, 2), d.int(2, 6), d.int(2, 6))
    return f"Unfold({k},{kw}) {shape}", lambda L: nn(L).Unfold(k, **kw), [(d.x(*shape), True)], {}


@case("Fold", 40)
def _fold(d):
    out = (d.int(2, 5), d.int(2, 5))
    k = (d.int(1, 2), d.int(1, 2))
    kw = {"dilation": d.int(1, 2), "padding": d.int(0, 1), "stride": d.pick(1, 2)}
    blocks = 1
    for (
        o,
        ki,
    ) in zip(out, k):
        n = (o + 2 * kw["padding"] - kw["dilation"] * (ki - 1) - 1) // kw["stride"] + 1
        blocks *= max(n, 1)
    c = d.int(1, 2)
    shape = d.pick((), (1,), (2,)) + (c * k[0] * k[1], blocks)
    return f"Fold({out},{k},{kw}) {shape}", lambda L: nn(L).Fold(out, k, **kw), [(d.x(*shape), True)], {}


@case("padding layers", 60)
def _pad_layers(d):
    kind = d.pick("ConstantPad", "ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad")
    nd = d.int(1, 3)
    name = f"{kind}{nd}d"
    padding = d.int(0, 2) if d.bool() else tuple(d.int(-1, 2) for _ in range(2 * nd))
    args = (padding, d.pick(0.0, -1.5)) if kind == "ConstantPad" else (padding,)
    shape = d.pick((), (1,), (2,)) + (d.int(1, 2),) + tuple(d.int(2, 4) for _ in range(nd))
    mode = {"ConstantPad": "constant", "ZeroPad": "constant", "ReflectionPad": "reflect"}.get(
        kind, kind[:-3].lower()
    )
    mode = "replicate" if kind == "ReplicationPad" else mode
    pads = padding if isinstance(padding, tuple) else (padding,) * (2 * nd)
    opts = _pad_opts(shape, pads, mode)
    return f"{name}{args} {shape}", lambda L: getattr(nn(L), name)(*args), [(d.x(*shape), True)], opts


@case("GLU")
def _glu(d):
    shape = tuple(d.pick(2, 4, 3, 1) for _ in range(d.int(1, 3)))
    dim = d.int(-len(shape), len(shape) - 1)
    return f"GLU({dim}) {shape}", lambda L: nn(L).GLU(dim), [(d.x(*shape), True)], {}


@case("Softmax2d", 20)
def _softmax2d(d):
    shape = d.pick((2, 3, 2, 2), (3, 1, 2), (1, 2, 1, 1), (2, 3))
    return f"Softmax2d {shape}", lambda L: nn(L).Softmax2d(), [(d.x(*shape), True)], {}


@case("RMSNorm", 40)
def _rmsnorm(d):
    shape = tuple(d.int(1, 4) for _ in range(d.int(1, 3)))
    k = d.int(1, len(shape))
    ns = shape[-k:]
    kw = {"eps": d.pick(None, 1e-5, 0.5), "elementwise_affine": d.bool()}
    norm = ns[0] if len(ns) == 1 and d.bool() else ns
    return f"RMSNorm({norm},{kw}) {shape}", lambda L: nn(L).RMSNorm(norm, **kw), [(d.x(*shape), True)], {}


@case("CosineSimilarity")
def _cosine_module(d):
    shape = d.pick((2, 3), (3,), (2, 1, 3))
    dim, eps = d.int(-1, 0), d.pick(1e-8, 0.5)
    return (
        f"CosineSimilarity({dim},{eps}) {shape}",
        lambda L: nn(L).CosineSimilarity(dim, eps),
        [(d.x(*shape), True), (d.x(*shape), True)],
        {},
    )


@case("PairwiseDistance")
def _pairwise_module(d):
    shape = d.pick((2, 3), (3,), (1, 4))
    kw = {"p": d.pick(2.0, 1.0, 3.0), "eps": d.pick(1e-6, 0.5), "keepdim": d.bool()}
    return (
        f"PairwiseDistance({kw}) {shape}",
        lambda L: nn(L).PairwiseDistance(**kw),
        [(d.x(*shape), True), (d.x(*shape), True)],
        {},
    )


@case("PixelUnshuffle")
def _pixel_unshuffle(d):
    r = d.int(1, 3)
    shape = d.pick((), (1,), (2,)) + (d.int(1, 2), r * d.int(1, 2), r * d.int(1, 2) + d.pick(0, 0, 1))
    return f"PixelUnshuffle({r}) {shape}", lambda L: nn(L).PixelUnshuffle(r), [(d.x(*shape), True)], {}


@case("Upsampling2d", 30)
def _upsampling2d(d):
    name = d.pick("UpsamplingNearest2d", "UpsamplingBilinear2d")
    kw = {"size": d.int(1, 5)} if d.bool() else {"scale_factor": d.pick(2, 3, 0.5, 1.5)}
    shape = (d.int(1, 2), d.int(1, 2), d.int(1, 4), d.int(1, 4))
    return f"{name}({kw}) {shape}", lambda L: getattr(nn(L), name)(**kw), [(d.x(*shape), True)], {}


# --- losses ---

REDUCTIONS = ("none", "mean", "sum")


def _pair(d, **xkw):
    shape = d.pick((3,), (2, 3), (1,), (2, 1, 3), ())
    return shape, d.x(*shape, **xkw)


@case("MSELoss")
def _mse(d):
    r = d.pick(*REDUCTIONS)
    shape, x = _pair(d)
    y = d.x(*shape)
    return f"MSELoss({r})", lambda L: nn(L).MSELoss(reduction=r), [(x, True), (y, d.bool())], {}


@case("L1Loss")
def _l1(d):
    r = d.pick(*REDUCTIONS)
    shape, x = _pair(d)
    y = x.copy() if d.int(0, 3) == 0 else d.x(*shape)
    return f"L1Loss({r})", lambda L: nn(L).L1Loss(reduction=r), [(x, True), (y, d.bool())], {}


@case("HuberLoss")
def _huber(d):
    r, delta = d.pick(*REDUCTIONS), d.pick(1.0, 0.5, 2.0)
    shape, x = _pair(d)
    return (
        f"HuberLoss({r},{delta})",
        lambda L: nn(L).HuberLoss(reduction=r, delta=delta),
        [(x, True), (d.x(*shape), d.bool())],
        {},
    )


@case("SmoothL1Loss")
def _smoothl1(d):
    r, beta = d.pick(*REDUCTIONS), d.pick(1.0, 0.5, 0.0, 2.0)
    shape, x = _pair(d)
    return (
        f"SmoothL1Loss({r},{beta})",
        lambda L: nn(L).SmoothL1Loss(reduction=r, beta=beta),
        [(x, True), (d.x(*shape), d.bool())],
        {},
    )


@case("BCELoss")
def _bce(d):
    r = d.pick(*REDUCTIONS)
    shape, p = _pair(d, unit=True)
    y = d.x(*shape, unit=True) if d.bool() else np.round(d.x(*shape, unit=True))
    w = d.x(*shape[1:], positive=True) if d.bool() and shape else None
    return (
        f"BCELoss({r}, weight={w is not None}) {shape}",
        lambda L: nn(L).BCELoss(weight=None if w is None else L.tensor(w), reduction=r),
        [(p, True), (y, d.bool())],
        {},
    )


@case("BCEWithLogitsLoss", 40)
def _bcel(d):
    r = d.pick(*REDUCTIONS)
    shape, x = _pair(d, scale=4.0)
    y = d.x(*shape, unit=True)
    w = d.x(*shape[1:], positive=True) if d.bool() and shape else None
    pw = d.x(*shape[-1:], positive=True) if d.bool() and shape else None
    return (
        f"BCEWithLogitsLoss({r}, weight={w is not None}, pos_weight={pw is not None}) {shape}",
        lambda L: nn(L).BCEWithLogitsLoss(
            weight=None if w is None else L.tensor(w),
            pos_weight=None if pw is None else L.tensor(pw),
            reduction=r,
        ),
        [(x, True), (y, d.bool())],
        {},
    )


@case("CrossEntropyLoss", 80)
def _ce(d):
    r = d.pick(*REDUCTIONS)
    c = d.int(1, 4)
    shape = d.pick((d.int(1, 3), c), (c,), (d.int(1, 2), c, d.int(1, 3)))
    x = d.x(*shape)
    probs = d.int(0, 3) == 0
    tshape = shape if probs else (shape[:1] + shape[2:] if len(shape) > 1 else ())
    kw = {"reduction": r, "label_smoothing": d.pick(0.0, 0.0, 0.1, 0.5)}
    if not probs and d.bool():
        kw["ignore_index"] = d.pick(-100, 0, c - 1)
    if probs:
        y = d.x(*shape, unit=True)
    else:
        y = d.idx(c, *tshape)
    w = d.x(c, positive=True) if d.bool() else None
    return (
        f"CrossEntropyLoss({kw}, weight={w is not None}, probs={probs}) {shape}",
        lambda L: nn(L).CrossEntropyLoss(weight=None if w is None else L.tensor(w), **kw),
        [(x, True), (y, probs and d.bool())],
        {},
    )


@case("NLLLoss", 50)
def _nll(d):
    r = d.pick(*REDUCTIONS)
    c = d.int(1, 4)
    shape = d.pick((d.int(1, 3), c), (c,), (d.int(1, 2), c, d.int(1, 3)))
    x = d.x(*shape)
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    kw = {"reduction": r}
    if d.bool():
        kw["ignore_index"] = d.pick(-100, 0, c - 1)
    w = d.x(c, positive=True) if d.bool() else None
    return (
        f"NLLLoss({kw}, weight={w is not None}) {shape}",
        lambda L: nn(L).NLLLoss(weight=None if w is None else L.tensor(w), **kw),
        [(x, True), (d.idx(c, *tshape), False)],
        {},
    )


@case("KLDivLoss", 40)
def _kl(d):
    r = d.pick("none", "mean", "sum", "batchmean")
    log_target = d.bool()
    shape, x = _pair(d)
    y = d.x(*shape) if log_target else d.x(*shape, unit=True)
    y_grad = d.bool()
    if not log_target and y.size and not y_grad and d.bool():
        # a zero target's own gradient: torch 0/0 = NaN (xlogy's d/dy), descend the 0 log 0 = 0
        # convention's derivative (a recorded difference), so zeros only where it is not asked for
        y.reshape(-1)[0] = 0.0
    return (
        f"KLDivLoss({r}, log_target={log_target}) {shape}",
        lambda L: nn(L).KLDivLoss(reduction=r, log_target=log_target),
        [(x, True), (y, y_grad)],
        {},
    )


@case("PoissonNLLLoss", 40)
def _poisson(d):
    r, log_input, full = d.pick(*REDUCTIONS), d.bool(), d.bool()
    eps = d.pick(1e-8, 0.1)
    shape, x = _pair(d, positive=not log_input)
    y = np.floor(d.x(*shape, positive=True) * 3)
    y_grad = d.bool()
    if full and y_grad:
        # torch's Stirling term at a zero target: masked_fill after log(0) gives its gradient
        # 0 * inf = NaN; descend's is the masked function's derivative (a recorded difference)
        y = y + 1
    return (
        f"PoissonNLLLoss({r}, log_input={log_input}, full={full}, eps={eps}) {shape}",
        lambda L: nn(L).PoissonNLLLoss(log_input=log_input, full=full, eps=eps, reduction=r),
        [(x, True), (y, y_grad)],
        {},
    )


@case("GaussianNLLLoss", 40)
def _gauss(d):
    r, full, eps = d.pick(*REDUCTIONS), d.bool(), d.pick(1e-6, 0.5)
    shape = d.pick((3,), (2, 3), (2, 1))
    vshape = d.pick(shape, shape[:-1] + (1,), shape[:-1]) if len(shape) > 1 else d.pick(shape, (1,))
    var = d.x(*vshape, positive=True)
    return (
        f"GaussianNLLLoss({r}, full={full}, eps={eps}) {shape} var {vshape}",
        lambda L: nn(L).GaussianNLLLoss(full=full, eps=eps, reduction=r),
        [(d.x(*shape), True), (d.x(*shape), d.bool()), (var, True)],
        {},
    )


@case("MarginRankingLoss")
def _margin_ranking(d):
    r, m = d.pick(*REDUCTIONS), d.pick(0.0, 0.5)
    shape = d.pick((3,), (1,))
    y = np.sign(d.x(*shape)) + 0.0
    return (
        f"MarginRankingLoss({r},{m})",
        lambda L: nn(L).MarginRankingLoss(margin=m, reduction=r),
        [(d.x(*shape), True), (d.x(*shape), True), (y.astype(d.dtype), False)],
        {},
    )


@case("HingeEmbeddingLoss")
def _hinge(d):
    r, m = d.pick(*REDUCTIONS), d.pick(1.0, 0.5, 2.0)
    shape, x = _pair(d)
    y = np.where(d.x(*shape) > 0, 1.0, -1.0).astype(d.dtype)
    return (
        f"HingeEmbeddingLoss({r},{m}) {shape}",
        lambda L: nn(L).HingeEmbeddingLoss(margin=m, reduction=r),
        [(x, True), (y, False)],
        {},
    )


@case("SoftMarginLoss")
def _soft_margin(d):
    r = d.pick(*REDUCTIONS)
    shape, x = _pair(d)
    y = np.where(d.x(*shape) > 0, 1.0, -1.0).astype(d.dtype)
    return (
        f"SoftMarginLoss({r}) {shape}",
        lambda L: nn(L).SoftMarginLoss(reduction=r),
        [(x, True), (y, False)],
        {},
    )


@case("CosineEmbeddingLoss")
def _cos_emb(d):
    r, m = d.pick(*REDUCTIONS), d.pick(0.0, 0.3, -0.2)
    shape = d.pick((2, 3), (1, 4), (3,))
    y = np.where(d.x(*shape[:-1]) > 0, 1.0, -1.0).astype(d.dtype)
    return (
        f"CosineEmbeddingLoss({r},{m}) {shape}",
        lambda L: nn(L).CosineEmbeddingLoss(margin=m, reduction=r),
        [(d.x(*shape), True), (d.x(*shape), True), (y, False)],
        {},
    )


@case("TripletMarginLoss", 40)
def _triplet(d):
    kw = {
        "reduction": d.pick(*REDUCTIONS),
        "margin": d.pick(1.0, 0.5),
        "p": d.pick(2.0, 1.0, 3.0),
        "eps": d.pick(1e-6, 0.1),
        "swap": d.bool(),
    }
    shape = d.pick((2, 3), (1, 4), (3,))
    return (
        f"TripletMarginLoss({kw}) {shape}",
        lambda L: nn(L).TripletMarginLoss(**kw),
        [(d.x(*shape), True), (d.x(*shape), True), (d.x(*shape), True)],
        {},
    )


@case("MultiMarginLoss", 40)
def _multi_margin(d):
    c = d.int(1, 4)
    shape = d.pick((d.int(1, 3), c), (c,))
    kw = {"p": d.pick(1, 2), "margin": d.pick(1.0, 0.3, 2.0), "reduction": d.pick(*REDUCTIONS)}
    w = d.x(c, positive=True) if d.bool() else None
    t = d.idx(c, *shape[:-1])
    return (
        f"MultiMarginLoss({kw}, weight={w is not None}) {shape}",
        lambda L: nn(L).MultiMarginLoss(weight=None if w is None else L.tensor(w), **kw),
        [(d.x(*shape), True), (t, False)],
        {},
    )


@case("MultiLabelSoftMarginLoss", 40)
def _multilabel_soft_margin(d):
    shape = d.pick((d.int(1, 3), d.int(1, 4)), (3,))
    r = d.pick(*REDUCTIONS)
    w = d.x(shape[-1], positive=True) if d.bool() else None
    y = np.round(d.x(*shape, unit=True)) if d.bool() else d.x(*shape, unit=True)
    return (
        f"MultiLabelSoftMarginLoss({r}, weight={w is not None}) {shape}",
        lambda L: nn(L).MultiLabelSoftMarginLoss(weight=None if w is None else L.tensor(w), reduction=r),
        [(d.x(*shape, scale=3.0), True), (y, d.bool())],
        {},
    )


@case("TripletMarginWithDistanceLoss", 40)
def _triplet_distance(d):
    which = d.pick("default", "cosine", "l1")
    kw = {"margin": d.pick(1.0, 0.5), "swap": d.bool(), "reduction": d.pick(*REDUCTIONS)}
    shape = d.pick((2, 3), (1, 4), (3,))

    def make(L):
        fn = {
            "default": None,
            "cosine": lambda a, b: 1.0 - F(L).cosine_similarity(a, b, dim=-1),
            "l1": lambda a, b: (a - b).abs().sum(-1),
        }[which]
        return nn(L).TripletMarginWithDistanceLoss(distance_function=fn, **kw)

    return (
        f"TripletMarginWithDistanceLoss({which}, {kw}) {shape}",
        make,
        [(d.x(*shape), True), (d.x(*shape), True), (d.x(*shape), True)],
        {},
    )


# --- functional-only ---


def _pad_opts(shape, pads, mode):
    opts = {}
    dims = list(zip(shape[::-1], pads[0::2], pads[1::2]))
    if mode == "circular" and any(
        0 <= n + lo + hi and max(lo, hi) > n - max(-lo, 0) - max(-hi, 0)
        for n, lo, hi in dims
        if n + lo + hi > 0 and max(lo, hi) <= n
    ):
        # a wrap longer than what the crop leaves: torch raises (overlapping copy) or returns
        # uninitialised memory; descend raises
        opts["descend_raises"] = "wrap|too small"
    if any(n + lo + hi == 0 for n, lo, hi in dims):
        opts["backward"] = False  # torch's reflection backward leaves an empty output's grad uninitialised
    return opts


@case("F.pad", 80)
def _pad(d):
    mode = d.pick("constant", "reflect", "replicate", "circular")
    k = d.int(1, 3)
    shape = (d.pick((), (2,)) if mode == "constant" else d.pick((1,), (2, 1))) + tuple(
        d.int(1, 4) for _ in range(k)
    )
    pads = tuple(d.int(-2, 3) for _ in range(2 * k))
    kw = {"mode": mode}
    if mode == "constant":
        kw["value"] = d.pick(0.0, 1.5)
    opts = _pad_opts(shape, pads, mode)
    return (
        f"F.pad({pads},{kw}) {shape}",
        lambda L: lambda x: F(L).pad(x, pads, **kw),
        [(d.x(*shape), True)],
        opts,
    )


@case("F.interpolate", 60)
def _interp(d):
    kw, shape = _upsample_kw(d)
    if d.bool() and "scale_factor" in kw:
        kw["recompute_scale_factor"] = d.bool()
    return (
        f"F.interpolate({kw}) {shape}",
        lambda L: lambda x: F(L).interpolate(x, **kw),
        [(d.x(*shape), True)],
        _upsample_opts(kw, shape),
    )


@case("F.softmax", 40)
def _softmax(d):
    name = d.pick("softmax", "log_softmax", "softmin")
    shape = d.pick((3,), (2, 3), (2, 1, 3), (1,))
    dim = d.int(-len(shape), len(shape) - 1)
    x = d.x(*shape, scale=d.pick(1.0, 50.0))
    return (
        f"F.{name}(dim={dim}) {shape}",
        lambda L: lambda t: getattr(F(L), name)(t, dim=dim),
        [(x, True)],
        {},
    )


@case("F.one_hot")
def _one_hot(d):
    c = d.int(1, 4)
    n = d.pick(-1, c, c + 1)
    idx = d.idx(c, *d.pick((3,), (2, 2), (1,)))
    return f"F.one_hot({n})", lambda L: lambda t: F(L).one_hot(t, n), [(idx, False)], {}


@case("F.normalize", 40)
def _normalize(d):
    shape = d.pick((3,), (2, 3), (2, 1, 3), (1,))
    kw = {"p": d.pick(2.0, 1.0, 3.0), "dim": d.int(-len(shape), len(shape) - 1), "eps": d.pick(1e-12, 0.5)}
    x = d.x(*shape)
    if d.int(0, 3) == 0:
        x[...] = 0
    return f"F.normalize({kw}) {shape}", lambda L: lambda t: F(L).normalize(t, **kw), [(x, True)], {}


@case("F.cosine_similarity", 40)
def _cosine(d):
    shape = d.pick((3,), (2, 3), (2, 1, 3))
    other = d.pick(shape, (1,) + shape[1:], shape[-1:])
    dim = d.int(-1, 0) if len(shape) > 1 else 0
    eps = d.pick(1e-8, 0.5)
    a, b = d.x(*shape), d.x(*other)
    if d.int(0, 3) == 0:
        a[...] = 0
    return (
        f"F.cosine_similarity(dim={dim}, eps={eps}) {shape} {other}",
        lambda L: lambda x, y: F(L).cosine_similarity(x, y, dim=dim, eps=eps),
        [(a, True), (b, True)],
        {},
    )


@case("F.pairwise_distance", 40)
def _pairwise(d):
    shape = d.pick((3,), (2, 3), (1, 4))
    kw = {"p": d.pick(2.0, 1.0, 3.0), "eps": d.pick(1e-6, 0.5), "keepdim": d.bool()}
    return (
        f"F.pairwise_distance({kw}) {shape}",
        lambda L: lambda x, y: F(L).pairwise_distance(x, y, **kw),
        [(d.x(*shape), True), (d.x(*shape), True)],
        {},
    )


@case("F.batch_norm", 40)
def _f_batchnorm(d):
    c = d.int(1, 3)
    shape = (d.int(1, 3), c, d.int(1, 3))
    training = d.bool()
    stats = not training or d.bool()
    affine = d.bool()
    eps, mom = d.pick(1e-5, 1e-2), d.pick(0.1, 0.5)
    rm, rv = d.x(c), d.x(c, positive=True)

    def make(L):
        def f(x, w, b):
            m, v = (L.tensor(rm.copy()), L.tensor(rv.copy())) if stats else (None, None)
            out = F(L).batch_norm(
                x,
                m,
                v,
                w if affine else None,
                b if affine else None,
                training=training,
                momentum=mom,
                eps=eps,
            )
            return (out, m, v) if stats else out

        return f

    return (
        f"F.batch_norm(training={training}, stats={stats}, affine={affine})",
        make,
        [(d.x(*shape), True), (d.x(c), True), (d.x(c), True)],
        {},
    )


@case("F.dropout_eval", 10)
def _f_dropout(d):
    p = d.pick(0.0, 0.5, 1.0)
    return (
        "F.dropout(training=False)",
        lambda L: lambda x: F(L).dropout(x, p, training=False),
        [(d.x(2, 3), True)],
        {},
    )


@case("F.gelu_leaky_etc", 40)
def _f_act(d):
    name = d.pick(
        "relu",
        "relu6",
        "elu",
        "celu",
        "selu",
        "silu",
        "mish",
        "softplus",
        "hardtanh",
        "leaky_relu",
        "logsigmoid",
        "hardsigmoid",
        "hardswish",
        "softsign",
        "sigmoid",
        "tanh",
        "gelu",
        "threshold",
        "hardshrink",
        "softshrink",
        "tanhshrink",
        "glu",
    )
    kw = {
        "threshold": {"threshold": 0.5, "value": -1.0},
        "leaky_relu": {"negative_slope": 0.3},
        "softplus": {"beta": 2.0, "threshold": 1.0},
        "hardtanh": {"min_val": -0.5, "max_val": 2.0},
        "elu": {"alpha": 0.7},
        "celu": {"alpha": 0.7},
        "gelu": {"approximate": "tanh"},
        "hardshrink": {"lambd": 0.3},
        "softshrink": {"lambd": 0.3},
        "glu": {"dim": 0},
    }.get(name, {})
    if name == "threshold":
        fn = lambda L: lambda x: F(L).threshold(x, kw["threshold"], kw["value"])  # noqa: E731
    else:
        fn = lambda L: lambda x: getattr(F(L), name)(x, **kw)  # noqa: E731
    return f"F.{name}({kw})", fn, [(d.x(2, 3, scale=3.0), True)], {"rtol": LOOSE_FLOAT64_GRADS.get(name, 0.0)}


# --- edge configurations and documented errors: one drawn per example, on both dtypes ---


def with_call_kwargs(L, module, **kwargs):
    """`module` called with keyword arguments (ConvTranspose's output_size), as a Module of L."""

    class Call(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = module

        def forward(self, *xs):
            return self.inner(*xs, **kwargs)

    return Call()


def _ints(*values):
    return np.asarray(values, dtype=np.int64)


EDGES = {
    "convtranspose1d output_size": lambda d: (
        lambda L: with_call_kwargs(
            L, nn(L).ConvTranspose1d(2, 1, 3, stride=2, padding=1), output_size=[d.once(1, 5, 6, 7)]
        ),
        [(d.x(1, 2, 3), True)],
    ),
    "convtranspose2d output_size": lambda d: (
        lambda L: with_call_kwargs(
            L,
            nn(L).ConvTranspose2d(1, 2, (2, 3), stride=(2, 3)),
            output_size=(d.once(2, 4, 5), d.once(3, 6, 7, 8)),
        ),
        [(d.x(1, 1, 2, 2), True)],
    ),
    "convtranspose output_size out of range": lambda d: (
        lambda L: with_call_kwargs(L, nn(L).ConvTranspose1d(1, 1, 3, stride=2), output_size=[10]),
        [(d.x(1, 1, 3), True)],
    ),
    "bilinear unbatched": lambda d: (lambda L: nn(L).Bilinear(2, 3, 2), [(d.x(2), True), (d.x(3), True)]),
    "linear wrong features": lambda d: (lambda L: nn(L).Linear(3, 2), [(d.x(2, 4), True)]),
    "linear zero features": lambda d: (lambda L: nn(L).Linear(0, 2), [(d.x(3, 0), True)]),
    "softmax dim None 4d": lambda d: (lambda L: nn(L).Softmax(), [(d.x(2, 3, 2, 2), True)]),
    "log_softmax dim None 1d": lambda d: (lambda L: nn(L).LogSoftmax(), [(d.x(4), True)]),
    "softmin dim None 3d": lambda d: (lambda L: nn(L).Softmin(), [(d.x(2, 3, 2), True)]),
    "softmax dtype": lambda d: (
        lambda L: lambda x: F(L).softmax(x, -1, dtype=L.float64),
        [(d.x(2, 3), True)],
    ),
    "mse broadcast": lambda d: (lambda L: nn(L).MSELoss(), [(d.x(3), True), (d.x(2, 3), True)]),
    "l1 broadcast none": lambda d: (
        lambda L: nn(L).L1Loss(reduction="none"),
        [(d.x(2, 1), True), (d.x(3), True)],
    ),
    "mse empty": lambda d: (lambda L: nn(L).MSELoss(), [(d.x(0), True), (d.x(0), False)]),
    "ce all ignored": lambda d: (
        lambda L: nn(L).CrossEntropyLoss(ignore_index=1, label_smoothing=d.once(4, 0.0, 0.2)),
        [(d.x(2, 3), True), (_ints(1, 1), False)],
    ),
    "ce target out of range": lambda d: (
        lambda L: nn(L).CrossEntropyLoss(),
        [(d.x(2, 3), True), (_ints(0, 3), False)],
    ),
    "nll target negative": lambda d: (lambda L: nn(L).NLLLoss(), [(d.x(2, 3), True), (_ints(0, -1), False)]),
    "ce probs wrong shape": lambda d: (
        lambda L: nn(L).CrossEntropyLoss(),
        [(d.x(2, 3), True), (d.x(2, 4), False)],
    ),
    "ce weight wrong size": lambda d: (
        lambda L: nn(L).CrossEntropyLoss(weight=L.ones(4)),
        [(d.x(2, 3), True), (_ints(0, 1), False)],
    ),
    "bce input out of range": lambda d: (
        lambda L: nn(L).BCELoss(),
        [(d.x(2) + 2, True), (d.x(2, unit=True), False)],
    ),
    "bce target out of range": lambda d: (
        lambda L: nn(L).BCELoss(),
        [(d.x(2, unit=True), True), (d.x(2, positive=True) + 1, False)],
    ),
    "bce shape mismatch": lambda d: (
        lambda L: nn(L).BCELoss(),
        [(d.x(2, unit=True), True), (d.x(2, 1, unit=True), False)],
    ),
    "bce logits broadcast": lambda d: (
        lambda L: nn(L).BCEWithLogitsLoss(),
        [(d.x(2, 3), True), (d.x(3, unit=True), False)],
    ),
    "gaussian negative var": lambda d: (
        lambda L: nn(L).GaussianNLLLoss(),
        [(d.x(2), True), (d.x(2), False), (-d.x(2, positive=True), True)],
    ),
    "kl batchmean 0-d": lambda d: (
        lambda L: nn(L).KLDivLoss(reduction="batchmean"),
        [(d.x(), True), (d.x(unit=True), False)],
    ),
    "huber negative delta": lambda d: (
        lambda L: nn(L).HuberLoss(delta=-1.0),
        [(d.x(2), True), (d.x(2), False)],
    ),
    "smoothl1 negative beta": lambda d: (
        lambda L: nn(L).SmoothL1Loss(beta=-1.0),
        [(d.x(2), True), (d.x(2), False)],
    ),
    "embedding negative index": lambda d: (lambda L: nn(L).Embedding(3, 2), [(_ints(0, -1), False)]),
    "embedding index too large": lambda d: (lambda L: nn(L).Embedding(3, 2), [(_ints(3), False)]),
    "embedding padding_idx out of range": lambda d: (
        lambda L: nn(L).Embedding(3, 2, padding_idx=3),
        [(_ints(0), False)],
    ),
    "embedding from_pretrained": lambda d: (
        lambda L: nn(L).Embedding.from_pretrained(
            L.tensor(np.arange(6.0).reshape(3, 2)), freeze=False, padding_idx=1, max_norm=d.once(5, None, 2.0)
        ),
        [(_ints(0, 1, 2, 2), False)],
    ),
    "embedding max_norm repeated": lambda d: (
        lambda L: nn(L).Embedding(4, 3, max_norm=0.5),
        [(_ints(1, 1, 2, 1, 3), False)],
    ),
    "dropout p out of range": lambda d: (lambda L: nn(L).Dropout(d.once(6, 1.5, -0.1)), [(d.x(2), True)]),
    "hardtanh min above max": lambda d: (lambda L: nn(L).Hardtanh(1.0, -1.0), [(d.x(3), True)]),
    "gelu bad approximate": lambda d: (lambda L: nn(L).GELU(approximate="foo"), [(d.x(3), True)]),
    "one_hot too few classes": lambda d: (lambda L: lambda t: F(L).one_hot(t, 2), [(_ints(0, 3), False)]),
    "prelu unbatched": lambda d: (lambda L: nn(L).PReLU(3), [(d.x(3), True)]),
    "prelu 0-d": lambda d: (lambda L: nn(L).PReLU(), [(d.x(), True)]),
    "prelu channel mismatch": lambda d: (lambda L: nn(L).PReLU(3), [(d.x(2, 4), True)]),
    "flatten 0-d": lambda d: (lambda L: nn(L).Flatten(0), [(d.x(), True)]),
    "unflatten bad sizes": lambda d: (lambda L: nn(L).Unflatten(1, (4, 2)), [(d.x(2, 6), True)]),
    "maxpool padding too large": lambda d: (lambda L: nn(L).MaxPool1d(2, padding=2), [(d.x(1, 2, 5), True)]),
    "avgpool padding too large": lambda d: (
        lambda L: nn(L).AvgPool2d(2, padding=(0, 2)),
        [(d.x(1, 2, 5, 5), True)],
    ),
    "adaptive output 0": lambda d: (lambda L: nn(L).AdaptiveAvgPool1d(0), [(d.x(1, 3, 2), False)]),
    "upsample nearest align_corners": lambda d: (
        lambda L: nn(L).Upsample(scale_factor=2, align_corners=True),
        [(d.x(1, 1, 3), True)],
    ),
    "interpolate size and scale": lambda d: (
        lambda L: lambda x: F(L).interpolate(x, size=3, scale_factor=2),
        [(d.x(1, 1, 3), True)],
    ),
    "interpolate scale tuple": lambda d: (
        lambda L: lambda x: F(L).interpolate(x, scale_factor=(2, 1.5), mode=d.once(7, "nearest", "bilinear")),
        [(d.x(1, 2, 3, 2), True)],
    ),
    "layernorm wrong shape": lambda d: (lambda L: nn(L).LayerNorm(3), [(d.x(2, 4), True)]),
    "batchnorm wrong channels": lambda d: (lambda L: nn(L).BatchNorm1d(3), [(d.x(2, 4), True)]),
    "batchnorm2d 3-d input": lambda d: (lambda L: nn(L).BatchNorm2d(3), [(d.x(2, 3, 4), True)]),
    "batchnorm1d 4-d input": lambda d: (lambda L: nn(L).BatchNorm1d(3), [(d.x(2, 3, 4, 1), True)]),
    "batchnorm one value per channel": lambda d: (lambda L: nn(L).BatchNorm1d(3), [(d.x(1, 3), True)]),
    "groupnorm groups not dividing": lambda d: (lambda L: nn(L).GroupNorm(2, 3), [(d.x(2, 3, 2), True)]),
    "conv groups not dividing": lambda d: (lambda L: nn(L).Conv1d(3, 2, 1, groups=2), []),
    "conv wrong channels": lambda d: (lambda L: nn(L).Conv2d(3, 2, 1), [(d.x(1, 2, 3, 3), True)]),
    "conv kernel larger than input": lambda d: (lambda L: nn(L).Conv1d(1, 1, 4), [(d.x(1, 1, 3), True)]),
    "conv reflect padding too large": lambda d: (
        lambda L: nn(L).Conv1d(1, 1, 3, padding=3, padding_mode="reflect"),
        [(d.x(1, 1, 3), True)],
    ),
    "conv same even kernel dilated": lambda d: (
        lambda L: nn(L).Conv2d(2, 2, (2, 4), padding="same", dilation=(3, 1)),
        [(d.x(1, 2, 5, 6), True)],
    ),
    "pixel_shuffle channels not divisible": lambda d: (
        lambda L: nn(L).PixelShuffle(2),
        [(d.x(1, 3, 2, 2), True)],
    ),
    "fold wrong blocks": lambda d: (lambda L: nn(L).Fold((3, 3), 2), [(d.x(1, 4, 3), True)]),
    "cosine_similarity broadcast dim": lambda d: (
        lambda L: lambda a, b: F(L).cosine_similarity(a, b, dim=1),
        [(d.x(2, 3), True), (d.x(1, 3), True)],
    ),
    "pairwise_distance broadcast": lambda d: (
        lambda L: lambda a, b: F(L).pairwise_distance(a, b),
        [(d.x(2, 3), True), (d.x(3), True)],
    ),
    "triplet distance_function absent swap": lambda d: (
        lambda L: nn(L).TripletMarginLoss(swap=True, p=1.0),
        [(d.x(3, 2), True), (d.x(3, 2), True), (d.x(3, 2), True)],
    ),
    "margin ranking broadcast": lambda d: (
        lambda L: nn(L).MarginRankingLoss(margin=0.2),
        [(d.x(2, 3), True), (d.x(3), True), (np.ones(3, dtype=d.dtype), False)],
    ),
    "normalize 0-d": lambda d: (lambda L: lambda x: F(L).normalize(x, dim=0), [(d.x(), True)]),
    "glu 0-d": lambda d: (lambda L: nn(L).GLU(), [(d.x(), True)]),
    "glu dim out of range": lambda d: (lambda L: nn(L).GLU(2), [(d.x(2, 2), True)]),
    "rms_norm functional weight": lambda d: (
        lambda L: lambda x, w: F(L).rms_norm(x, (3,), w, eps=d.once(8, None, 1e-3)),
        [(d.x(2, 3), True), (d.x(3), True)],
    ),
    "rms_norm wrong shape": lambda d: (lambda L: nn(L).RMSNorm(4), [(d.x(2, 3), True)]),
    "circular pad 4-d input to CircularPad1d": lambda d: (
        lambda L: nn(L).CircularPad1d(1),
        [(d.x(1, 1, 2, 3), True)],
    ),
    "pixel_unshuffle functional": lambda d: (
        lambda L: lambda x: F(L).pixel_unshuffle(x, 2),
        [(d.x(1, 2, 4, 2), True)],
    ),
    "batchnorm float64 input float32 module": lambda d: (
        lambda L: nn(L).BatchNorm1d(3).float(),
        [(d.x(2, 3).astype(np.float64), True)],
    ),
    "instancenorm float64 input float32 module": lambda d: (
        lambda L: nn(L).InstanceNorm1d(3, affine=d.once(9, False, True), track_running_stats=True).float(),
        [(d.x(2, 3, 4).astype(np.float64), True)],
    ),
    "instancenorm num_features mismatch": lambda d: (
        lambda L: nn(L).InstanceNorm1d(4, affine=d.once(10, False, True)),
        [(d.x(2, 3, 4), True)],
    ),
    "layernorm float32 input float64 module": lambda d: (
        lambda L: nn(L).LayerNorm(3).double(),
        [(d.x(2, 3).astype(np.float32), True)],
    ),
    "groupnorm float64 input float32 module": lambda d: (
        lambda L: nn(L).GroupNorm(1, 3).float(),
        [(d.x(2, 3).astype(np.float64), True)],
    ),
    "bce target of another dtype": lambda d: (
        lambda L: lambda x, y: F(L).binary_cross_entropy(x, y),
        [(d.x(2, unit=True).astype(np.float32), True), (d.x(2, unit=True).astype(np.float64), False)],
    ),
    "ce weight of another dtype": lambda d: (
        lambda L: lambda x, y: F(L).cross_entropy(x, y, weight=L.ones(3, dtype=L.float32)),
        [(d.x(2, 3).astype(np.float64), True), (_ints(0, 2), False)],
    ),
    "ce int32 target": lambda d: (
        lambda L: nn(L).CrossEntropyLoss(),
        [(d.x(2, 3), True), (_ints(0, 2).astype(np.int32), False)],
    ),
    "nll uint8 target": lambda d: (
        lambda L: nn(L).NLLLoss(),
        [(d.x(2, 3), True), (_ints(0, 2).astype(np.uint8), False)],
    ),
    "one_hot int32": lambda d: (
        lambda L: lambda t: F(L).one_hot(t, 3),
        [(_ints(0, 2).astype(np.int32), False)],
    ),
    "batchnorm eval no running stats": lambda d: (
        lambda L: nn(L).BatchNorm1d(2, track_running_stats=False),
        [(d.x(3, 2), True)],
    ),
}


@case("edges", 4 * len(EDGES))
def _edges(d):
    name = d.pick(*sorted(EDGES))
    make, inputs = EDGES[name](d)
    train = name != "batchnorm eval no running stats"
    keep = "dtype" in name or "module" in name or "int32" in name or "uint8" in name
    return name, make, inputs, {"train": train, "keep_dtypes": keep}


SETTINGS = dict(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", sorted(CASES))
def test_module(name):
    fn, examples = CASES[name]

    # DESCEND_CONFORMANCE_SCALE=10 draws ten times as many configurations (a longer hunt)
    @settings(max_examples=examples * int(os.environ.get("DESCEND_CONFORMANCE_SCALE", "1")), **SETTINGS)
    @given(st.data())
    def run(data):
        d = Draw(data.draw)
        where, make, inputs, opts = fn(d)
        if os.environ.get("DESCEND_CONFORMANCE_DUMP"):  # the failing inputs, to replay by hand
            np.savez(os.environ["DESCEND_CONFORMANCE_DUMP"], *[a for a, _ in inputs])
        shapes = [a.shape for a, _ in inputs]
        check(f"{name} [{d.dtype}] {where} inputs {shapes}", make, inputs, d.dtype, d.rng, **opts)

    run()


def test_every_export_is_covered():
    """Each class in descend.nn that torch.nn also has (and each loss) gets a case here."""
    skip = {"Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}
    names = [
        n for n in descend.nn.__all__ if isinstance(getattr(descend.nn, n), type) and hasattr(torch.nn, n)
    ]
    grouped = {"Dropout1d", "Dropout2d", "Dropout3d", "UpsamplingNearest2d", "UpsamplingBilinear2d"}
    grouped |= {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}  # conformance/test_rnn.py
    grouped |= {"MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
                "TransformerEncoder", "TransformerEncoderLayer"}  # conformance/test_attention.py
    grouped |= {"Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
                "AdaptiveMaxPool3d"}  # conformance/test_conv3d.py
    grouped |= {"EmbeddingBag", "LocalResponseNorm", "LPPool1d", "LPPool2d", "MaxUnpool1d",
                "MaxUnpool2d", "MultiLabelMarginLoss"}  # conformance/test_layers_more.py
    grouped |= {
        f"{k}Pad{n}d"
        for k in ("Constant", "Zero", "Reflection", "Replication", "Circular")
        for n in (1, 2, 3)
    }
    missing = [n for n in names if n not in skip and n not in CASES and n not in grouped]
    assert not missing, missing
