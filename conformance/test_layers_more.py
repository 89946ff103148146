"""EmbeddingBag (and the other layers of tests/test_layers_more.py) against torch 2.13: values, every
gradient, seeded weights and error types, over random shapes and options (derandomized)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

import descend  # noqa: E402

SETTINGS = dict(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
TOL = {"float64": 1e-10, "float32": 1e-5}


def _close(got, want, dtype, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype], err_msg=what)


def _outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return None, type(e)


def _run_both(fn, arrays, dtype, grads):
    """fn(lib, tensors) -> output; arrays: name -> (array, requires_grad). Returns per-lib results."""
    results = []
    for lib in (torch, descend):
        ts = {}
        for k, (a, rg) in arrays.items():
            t = lib.tensor(a.copy())
            if a.dtype.kind == "f":
                t = t.to(getattr(lib, dtype))
            if rg:
                t.requires_grad_(True)
            ts[k] = t
        out, err = _outcome(lambda: fn(lib, ts))  # noqa: B023
        res = {"err": err}
        if err is None:
            res["out"] = out.detach().numpy()
            if grads:
                g = lib.tensor(np.asarray(grads(out.shape)), dtype=getattr(lib, dtype))
                (out * g).sum().backward()
                for k, (_a, rg) in arrays.items():
                    if rg:
                        res["grad " + k] = ts[k].grad.numpy()
            res["tensors"] = {k: ts[k].detach().numpy() for k in ts}
        results.append(res)
    return results


def _compare(results, dtype, where):
    want, got = results
    assert got["err"] == want["err"], (where, got["err"], want["err"])
    if want["err"] is not None:
        return
    for k in want:
        if k == "tensors":
            for name in want[k]:  # in-place renormalisation (max_norm) too
                _close(got[k][name], want[k][name], dtype, f"{where}: {name} after")
        elif k != "err":
            _close(got[k], want[k], dtype, f"{where}: {k}")


@st.composite
def _bag_case(draw):
    dtype = draw(st.sampled_from(["float32", "float64"]))
    num = draw(st.integers(1, 7))
    dim = draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    two_d = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(num, dim))
    if draw(st.booleans()):  # ties in max mode
        W = np.round(W)
    idx_dtype = draw(st.sampled_from([np.int64, np.int32]))
    if two_d:
        B, N = draw(st.integers(1, 4)), draw(st.integers(1, 5))
        idx = rng.integers(0, num, size=(B, N)).astype(idx_dtype)
        offsets, last = None, False
    else:
        n = draw(st.integers(0, 10))
        idx = rng.integers(0, num, size=n).astype(idx_dtype)
        last = draw(st.booleans())
        cuts = sorted(rng.integers(0, n + 1, size=draw(st.integers(0, 4))).tolist())
        offsets = np.array([0] + cuts + ([n] if last else []), dtype=np.int64)
    padding_idx = draw(st.sampled_from([None, 0, num - 1, -1]))
    psw = draw(st.booleans()) and mode == "sum"
    # torch reads past its buffers for elements after the last offset with scale_grad_by_freq
    trailing = offsets is not None and last and offsets[-1] < idx.size
    sgf = draw(st.booleans()) and mode != "max" and not trailing
    max_norm = draw(st.sampled_from([None, None, 0.7]))
    norm_type = draw(st.sampled_from([2.0, 1.0]))
    return dtype, W, idx, offsets, last, mode, padding_idx, psw, sgf, max_norm, norm_type, rng


@settings(max_examples=300, **SETTINGS)
@given(_bag_case())
def test_embedding_bag_functional(case):
    dtype, W, idx, offsets, last, mode, padding_idx, psw, sgf, max_norm, norm_type, rng = case
    arrays = {"weight": (W, True), "input": (idx, False)}
    if offsets is not None:
        arrays["offsets"] = (offsets, False)
    if psw:
        arrays["psw"] = (rng.uniform(-1, 2, size=idx.shape), True)
    weights = rng.normal(size=(64, W.shape[1]))

    def fn(lib, ts):
        return lib.nn.functional.embedding_bag(
            ts["input"], ts["weight"], ts.get("offsets"), max_norm=max_norm, norm_type=norm_type,
            scale_grad_by_freq=sgf, mode=mode, per_sample_weights=ts.get("psw"),
            include_last_offset=last, padding_idx=padding_idx)

    where = (f"[{dtype}] mode={mode} W{W.shape} input{idx.shape} offsets={offsets} last={last} "
             f"pad={padding_idx} psw={psw} sgf={sgf} max_norm={max_norm} p={norm_type}")
    _compare(_run_both(fn, arrays, dtype, lambda shape: weights[: shape[0]]), dtype, where)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_seeded(mode, dtype):
    outs = []
    for lib in (torch, descend):
        lib.manual_seed(5)
        bag = lib.nn.EmbeddingBag(9, 4, mode=mode, padding_idx=2, dtype=getattr(lib, dtype))
        x = lib.tensor([1, 2, 2, 8, 0, 3, 4])
        y = bag(x, lib.tensor([0, 3, 3]))
        y.sum().backward()
        outs.append((repr(bag), bag.weight.detach().numpy(), y.detach().numpy(), bag.weight.grad.numpy()))
        pre = lib.nn.EmbeddingBag.from_pretrained(bag.weight.detach(), mode=mode, include_last_offset=True)
        outs.append((repr(pre), pre.weight.requires_grad,
                     pre(x, lib.tensor([0, 2, 7])).detach().numpy()))
    t, d = outs[:2], outs[2:]
    assert t[0][0] == d[0][0] and t[1][0] == d[1][0] and t[1][1] == d[1][1]
    for a, b in zip(d[0][1:], t[0][1:]):
        _close(a, b, dtype, f"module {mode}")
    _close(d[1][2], t[1][2], dtype, f"from_pretrained {mode}")


ERRORS = {
    "3-D input": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(1, 2, 1, dtype=lib.long), lib.ones(3, 2)),
    "2-D with offsets": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), lib.tensor([0])),
    "1-D no offsets": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, dtype=lib.long), lib.ones(3, 2)),
    "offsets 2-D": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, dtype=lib.long), lib.ones(3, 2), lib.tensor([[0]])),
    "offsets start": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, dtype=lib.long), lib.ones(3, 2), lib.tensor([1])),
    "offsets past end": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, dtype=lib.long), lib.ones(3, 2), lib.tensor([0, 3])),
    "bad mode": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), mode="min"),
    "max sgf": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), mode="max", scale_grad_by_freq=True),
    "max sparse": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), mode="max", sparse=True),
    "psw mean": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), per_sample_weights=lib.ones(2, 2)),
    "psw shape": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), mode="sum", per_sample_weights=lib.ones(4)),
    "psw dtype": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), mode="sum",
        per_sample_weights=lib.ones(2, 2, dtype=lib.float64)),
    "float input": lambda lib: lib.nn.functional.embedding_bag(lib.zeros(2, 2), lib.ones(3, 2)),
    "index too big": lambda lib: lib.nn.functional.embedding_bag(lib.full((2, 2), 3), lib.ones(3, 2)),
    "index negative": lambda lib: lib.nn.functional.embedding_bag(lib.full((2, 2), -1), lib.ones(3, 2)),
    "padding_idx F": lambda lib: lib.nn.functional.embedding_bag(
        lib.zeros(2, 2, dtype=lib.long), lib.ones(3, 2), padding_idx=3),
    "padding_idx module": lambda lib: lib.nn.EmbeddingBag(3, 2, padding_idx=-4),
    "weight shape": lambda lib: lib.nn.EmbeddingBag(3, 2, _weight=lib.ones(2, 2)),
    "pretrained 1-D": lambda lib: lib.nn.EmbeddingBag.from_pretrained(lib.ones(3)),
    "weight 1-D": lambda lib: lib.nn.functional.embedding_bag(lib.zeros(2, 2, dtype=lib.long), lib.ones(3)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_embedding_bag_errors(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, want = _outcome(lambda: ERRORS[name](torch))
        _, got = _outcome(lambda: ERRORS[name](descend))
    assert want is not None and got is want, (name, got, want)


def test_embedding_bag_no_offsets_forward():
    # torch's backward of an offsets-free call reads garbage or crashes (its max forward too): sum's forward
    for mode in ("sum",):
        outs = [lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2),
                                                lib.tensor([], dtype=lib.long), mode=mode).shape
                for lib in (torch, descend)]
        assert tuple(outs[0]) == tuple(outs[1]) == (0, 2)


def test_embedding_bag_sparse_refused():
    with pytest.raises(NotImplementedError, match="sparse"):
        descend.nn.EmbeddingBag(3, 2, sparse=True)(descend.tensor([[0, 1]]))


@settings(max_examples=120, **SETTINGS)
@given(st.data())
def test_local_response_norm(data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    ndim = data.draw(st.integers(3, 5))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    size = data.draw(st.integers(1, 6))
    alpha = data.draw(st.sampled_from([1e-4, 0.5, 2.0]))
    beta = data.draw(st.sampled_from([0.75, 1.0, 0.3]))
    k = data.draw(st.sampled_from([1.0, 2.0, 0.5]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=shape)
    weights = rng.normal(size=shape)
    module = data.draw(st.booleans())

    def fn(lib, ts):
        if module:
            return lib.nn.LocalResponseNorm(size, alpha, beta, k)(ts["x"])
        return lib.nn.functional.local_response_norm(ts["x"], size, alpha, beta, k)

    where = f"[{dtype}] LRN x{shape} size={size} alpha={alpha} beta={beta} k={k}"
    _compare(_run_both(fn, {"x": (x, True)}, dtype, lambda s: weights), dtype, where)


@settings(max_examples=200, **SETTINGS)
@given(st.data())
def test_lp_pool(data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    two = data.draw(st.booleans())
    batched = data.draw(st.booleans())
    nd = 2 if two else 1
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    stride = data.draw(st.sampled_from([None, 1, 2, 3]))
    spatial = tuple(data.draw(st.integers(k, k + 4)) for k in kernel)
    shape = ((2,) if batched else ()) + (data.draw(st.integers(1, 3)),) + spatial
    p = data.draw(st.sampled_from([1.0, 2.0, 3.0, 1.5, float("inf")]))
    ceil = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=shape)
    if p not in (1.0, 2.0, 3.0, float("inf")):
        x = np.abs(x) + 0.1  # a fractional power of a negative is nan in both
    if data.draw(st.booleans()):
        x[..., 0] = 0.0  # windows summing to zero: torch's gradient is zero there
    k_arg = kernel[0] if nd == 1 or data.draw(st.booleans()) and kernel[0] == kernel[1] else kernel
    module = data.draw(st.booleans())
    ndim_used = len(shape)

    def fn(lib, ts):
        if module:
            cls = lib.nn.LPPool2d if two else lib.nn.LPPool1d
            return cls(p, k_arg, stride, ceil)(ts["x"])
        f = lib.nn.functional.lp_pool2d if two else lib.nn.functional.lp_pool1d
        return f(ts["x"], p, k_arg, stride, ceil)

    where = f"[{dtype}] lp_pool{nd}d x{shape} ({ndim_used}-D) p={p} k={k_arg} stride={stride} ceil={ceil}"
    grads = lambda s: np.random.default_rng(1).normal(size=s)  # noqa: E731 - the same for both
    _compare(_run_both(fn, {"x": (x, True)}, dtype, grads), dtype, where)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_local_response_norm_low_dims_refused(shape):
    for lib in (torch, descend):
        with pytest.raises(ValueError, match="3D or higher"):
            lib.nn.functional.local_response_norm(lib.ones(*shape), 2)


def test_lp_pool_reprs():
    for lib_args in [(2, 3), (1.5, (2, 3), 2, True)]:
        assert repr(descend.nn.LPPool2d(*lib_args)) == repr(torch.nn.LPPool2d(*lib_args))
    assert repr(descend.nn.LPPool1d(3, 2, 1)) == repr(torch.nn.LPPool1d(3, 2, 1))
    args = (5, 1e-3, 0.5, 2)
    assert repr(descend.nn.LocalResponseNorm(*args)) == repr(torch.nn.LocalResponseNorm(*args))


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_max_unpool(data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    two = data.draw(st.booleans())
    nd = 2 if two else 1
    batched = data.draw(st.booleans())
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    spatial = tuple(data.draw(st.integers(k, k + 5)) for k in kernel)
    shape = ((2,) if batched else ()) + (data.draw(st.integers(1, 3)),) + spatial
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=shape)
    pool = torch.nn.functional.max_pool2d if two else torch.nn.functional.max_pool1d
    pooled, indices = pool(torch.tensor(x), kernel, stride, padding, return_indices=True)
    give_size = data.draw(st.booleans())
    module = data.draw(st.booleans())
    size = list(spatial) if give_size else None
    if give_size and data.draw(st.booleans()):
        size = list(shape[:-nd]) + size if len(shape) == nd + 2 else size

    def fn(lib, ts):
        if module:
            cls = lib.nn.MaxUnpool2d if two else lib.nn.MaxUnpool1d
            return cls(kernel, stride, padding)(ts["y"], ts["i"], output_size=size)
        f = lib.nn.functional.max_unpool2d if two else lib.nn.functional.max_unpool1d
        return f(ts["y"], ts["i"], kernel, stride, padding, output_size=size)

    arrays = {"y": (pooled.numpy(), True), "i": (indices.numpy(), False)}
    grads = lambda s: np.random.default_rng(2).normal(size=s)  # noqa: E731 - the same for both
    where = f"[{dtype}] max_unpool{nd}d x{shape} k={kernel} s={stride} p={padding} output_size={size}"
    _compare(_run_both(fn, arrays, dtype, grads), dtype, where)
    # descend's own max_pool indices unpool to the same tensor
    dpool = descend.nn.functional.max_pool2d if two else descend.nn.functional.max_pool1d
    dy, di = dpool(descend.tensor(x), kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(di.numpy(), indices.numpy())


UNPOOL_ERRORS = {
    "int32 indices": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int32), 2),
    "index too big": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(1, 1, 2, 2), lib.full((1, 1, 2, 2), 16), 2),
    "index negative": lambda lib: lib.nn.functional.max_unpool1d(lib.ones(1, 2), lib.full((1, 2), -1), 2),
    "shape mismatch": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 1, dtype=lib.long), 2),
    "2-D input": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(2, 2), lib.zeros(2, 2, dtype=lib.long), 2),
    "1-D input": lambda lib: lib.nn.functional.max_unpool1d(lib.ones(2), lib.zeros(2, dtype=lib.long), 2),
    "output_size range": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.long), 2, output_size=(6, 4)),
    "output_size length": lambda lib: lib.nn.functional.max_unpool2d(
        lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.long), 2, output_size=(4,)),
}


@pytest.mark.parametrize("name", sorted(UNPOOL_ERRORS))
def test_max_unpool_errors(name):
    _, want = _outcome(lambda: UNPOOL_ERRORS[name](torch))
    _, got = _outcome(lambda: UNPOOL_ERRORS[name](descend))
    assert want is not None and got is want, (name, got, want)


def test_max_unpool_reprs():
    for args in [(2,), (3, 2, 1), ((2, 3), (1, 2), 1)]:
        assert repr(descend.nn.MaxUnpool2d(*args)) == repr(torch.nn.MaxUnpool2d(*args))
    assert repr(descend.nn.MaxUnpool1d(3, 2, 1)) == repr(torch.nn.MaxUnpool1d(3, 2, 1))


@settings(max_examples=200, **SETTINGS)
@given(st.data())
def test_multilabel_margin_loss(data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    c = data.draw(st.integers(1, 6))
    batched = data.draw(st.booleans())
    n = data.draw(st.integers(1, 4))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=(n, c))
    if data.draw(st.booleans()):
        x = np.round(x * 2) / 2  # hinge kinks (z == 0) and ties
    t = rng.integers(-1, c, size=(n, c)).astype(np.int64)  # repeats and -1 terminators
    if not batched:
        x, t = x[0], t[0]
    module = data.draw(st.booleans())

    def fn(lib, ts):
        if module:
            return lib.nn.MultiLabelMarginLoss(reduction=reduction)(ts["x"], ts["t"])
        return lib.nn.functional.multilabel_margin_loss(ts["x"], ts["t"], reduction=reduction)

    grads = lambda s: np.random.default_rng(3).normal(size=s)  # noqa: E731 - the same for both
    where = f"[{dtype}] multilabel_margin_loss x{x.shape} t={t.tolist()} reduction={reduction}"
    _compare(_run_both(fn, {"x": (x, True), "t": (t, False)}, dtype, grads), dtype, where)


MLM_ERRORS = {
    "target too big": lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.zeros(1, 3), lib.tensor([[3, -1, 0]])),
    "target below -1": lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.zeros(1, 3), lib.tensor([[-2, 0, 0]])),
    "int32 target": lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.zeros(1, 3), lib.tensor([[0, -1, 0]], dtype=lib.int32)),
    "shape": lambda lib: lib.nn.functional.multilabel_margin_loss(lib.zeros(1, 3), lib.tensor([[0, -1]])),
    "3-D": lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.zeros(1, 1, 3), lib.zeros(1, 1, 3, dtype=lib.long)),
    "no classes": lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.zeros(2, 0), lib.zeros(2, 0, dtype=lib.long)),
}


@pytest.mark.parametrize("name", sorted(MLM_ERRORS))
def test_multilabel_margin_loss_errors(name):
    _, want = _outcome(lambda: MLM_ERRORS[name](torch))
    _, got = _outcome(lambda: MLM_ERRORS[name](descend))
    assert want is not None and got is want, (name, got, want)
