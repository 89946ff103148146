"""einsum with '...', scaled_dot_product_attention, MultiheadAttention and the Transformer family against
PyTorch 2.13: random configurations, both sides.

Each example draws shapes and the options PyTorch documents and a dtype; torch's module state goes
into descend's (and, once per module kind, descend's seeded construction is checked to equal torch's
bit for bit); both run forward on the same inputs with the global generators seeded alike (so
dropout draws the same masks in training mode), then backward with the same random upstream
gradients. Outputs, attention weights and the gradients of every input and parameter are compared:
float64 within 1e-10, float32 within 1e-5 (relative to the largest magnitude of torch's value, at
least 1). Derandomized; about 20 seconds here.
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


def _leaves(arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays], [
        descend.tensor(a, requires_grad=True) for a in arrays
    ]


def _backward_both(t_outs, d_outs, rng, dtype):
    grads = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_outs]
    sum((o * torch.tensor(g)).sum() for o, g in zip(t_outs, grads)).backward()
    sum((o * descend.tensor(g)).sum() for o, g in zip(d_outs, grads)).backward()
    for k, (t, d) in enumerate(zip(t_outs, d_outs)):
        _close(f"output {k}", d.detach().numpy(), t.detach().numpy(), dtype)


def _mirror(t_module, d_module, dtype):
    """torch's state into descend's (a state_dict load from torch's keys); both in `dtype`."""
    if dtype == np.float64:
        t_module.double()
        d_module.double()
    state = {k: descend.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()}
    d_module.load_state_dict(state)
    assert list(d_module.state_dict()) == list(t_module.state_dict())


def _compare_params(t_module, d_module, dtype):
    t_params = dict(t_module.named_parameters())
    d_params = dict(d_module.named_parameters())
    assert list(d_params) == list(t_params)
    for name, p in t_params.items():
        if p.grad is None:
            assert d_params[name].grad is None or not np.any(d_params[name].grad.numpy()), name
        else:
            _close(f"{name} grad", d_params[name].grad.numpy(), p.grad.numpy(), dtype)


# --- einsum ---

EINSUM_CASES = [
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 4)]),
    ("...ij,...jk", [(3, 2, 3), (3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("...ij", [(2, 3, 4)]),
    ("...ii", [(4, 2, 2)]),
    ("ii...->i...", [(2, 2, 3)]),
    ("...ij->", [(2, 3, 4)]),
    ("...ij->i", [(2, 3, 4)]),
    ("...ij->...j", [(2, 3, 4)]),
    ("ij->i", [(2, 3)]),
    ("i,i->i", [(1,), (3,)]),
    ("ij...,jk...->ik...", [(2, 3, 1), (3, 4, 5)]),
    ("...,...", [(2, 3), (3,)]),
    ("ba,...", [(2, 3), (5,)]),
    ("Ba,aB", [(2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("...i,...i,...->...", [(2, 3, 4), (3, 4), (2, 1)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("...i,i...->...", [(2, 3), (3, 2)]),
    ("b...d,b...d->b...", [(2, 3, 4, 5), (2, 1, 4, 5)]),
    ("ij,kj->ik", [(3, 1), (2, 4)]),
    ("...", [(2, 3)]),
    ("...->", [()]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[f"{e}-{s}" for e, s in EINSUM_CASES])
def test_einsum_matches_torch(equation, shapes, dtype):
    rng = np.random.default_rng(len(equation) + len(shapes))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tt, dd = _leaves(arrays)
    _backward_both([torch.einsum(equation, *tt)], [descend.einsum(equation, *dd)], rng, dtype)
    for k, (t, d) in enumerate(zip(tt, dd)):
        _close(f"operand {k} grad", d.grad.numpy(), t.grad.numpy(), dtype)


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij,jk", [(2, 3), (4, 5)]),
        ("ij", [(2, 3, 4)]),
        ("...ijk", [(2, 3)]),
        ("i.j", [(2, 3)]),
        ("ij->k", [(2, 3)]),
        ("ij->ii", [(2, 3)]),
        ("...i,...i", [(2, 3), (4, 3)]),
        ("ii", [(2, 3)]),
        ("i,j", [(2,)]),
    ],
)
def test_einsum_errors_match_torch(equation, shapes):
    with pytest.raises(RuntimeError) as theirs:
        torch.einsum(equation, *[torch.ones(s) for s in shapes])
    with pytest.raises(RuntimeError) as mine:
        descend.einsum(equation, *[descend.ones(s) for s in shapes])
    assert str(mine.value).replace(" ", "") == str(theirs.value).replace(" ", "")


# --- scaled_dot_product_attention ---


@st.composite
def sdpa_configs(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    L, S, E, Ev = (draw(st.integers(1, 5)) for _ in range(4))
    mask = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask_shape = draw(st.sampled_from(["LS", "full", "bcast"])) if mask in ("bool", "float") else None
    gqa = bool(batch) and draw(st.booleans())
    return {
        "batch": batch,
        "L": L,
        "S": S,
        "E": E,
        "Ev": Ev,
        "mask": mask,
        "mask_shape": mask_shape,
        "scale": draw(st.sampled_from([None, 0.5, -0.3])),
        "dropout_p": draw(st.sampled_from([0.0, 0.0, 0.4])),
        "gqa": gqa,
        "dtype": draw(DTYPES),
        "seed": draw(st.integers(0, 2**16)),
    }


@SETTINGS
@given(sdpa_configs())
def test_scaled_dot_product_attention_matches_torch(cfg):
    rng = np.random.default_rng(cfg["seed"])
    dtype, batch, L, S = cfg["dtype"], cfg["batch"], cfg["L"], cfg["S"]
    kv_batch = batch
    if cfg["gqa"]:
        batch = batch[:-1] + (batch[-1] * 2,)
    q = rng.standard_normal(batch + (L, cfg["E"])).astype(dtype)
    k = rng.standard_normal(kv_batch + (S, cfg["E"])).astype(dtype)
    v = rng.standard_normal(kv_batch + (S, cfg["Ev"])).astype(dtype)
    shape = {"LS": (L, S), "full": batch + (L, S), "bcast": (1,) * len(batch) + (1, S)}.get(cfg["mask_shape"])
    t_mask = d_mask = None
    if cfg["mask"] == "bool":
        m = rng.random(shape) > 0.4  # rows with no True give 0 (PyTorch's safe softmax)
        t_mask, d_mask = torch.tensor(m), descend.tensor(m)
    elif cfg["mask"] == "float":
        m = rng.standard_normal(shape).astype(dtype)
        t_mask, d_mask = torch.tensor(m, requires_grad=True), descend.tensor(m, requires_grad=True)
    kw = {
        "dropout_p": cfg["dropout_p"],
        "is_causal": cfg["mask"] == "causal",
        "scale": cfg["scale"],
        "enable_gqa": cfg["gqa"],
    }
    tt, dd = _leaves([q, k, v])
    torch.manual_seed(cfg["seed"])
    t_out = torch.nn.functional.scaled_dot_product_attention(*tt, attn_mask=t_mask, **kw)
    descend.manual_seed(cfg["seed"])
    d_out = DF.scaled_dot_product_attention(*dd, attn_mask=d_mask, **kw)
    _backward_both([t_out], [d_out], rng, dtype)
    for name, t, d in zip("qkv", tt, dd):
        _close(f"{name} grad", d.grad.numpy(), t.grad.numpy(), dtype)
    if cfg["mask"] == "float":
        _close("mask grad", d_mask.grad.numpy(), t_mask.grad.numpy(), dtype)


def test_sdpa_errors_match_torch():
    q, k, v = (np.ones((2, 3, 4), np.float32) for _ in range(3))
    cases = [
        ({"attn_mask": np.ones((3, 3), bool), "is_causal": True}, "Explicit attn_mask should not be set"),
        ({"attn_mask": np.ones((4, 3), bool)}, None),
    ]
    for kw, text in cases:
        t_kw = {a: torch.tensor(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
        d_kw = {a: descend.tensor(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
        with pytest.raises(RuntimeError):
            torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), **t_kw)
        with pytest.raises(RuntimeError, match=text or "attn_mask of shape \\[4, 3\\]"):
            DF.scaled_dot_product_attention(*map(descend.tensor, (q, k, v)), **d_kw)


# --- MultiheadAttention ---


def _both(cls_name, seed, *args, **kwargs):
    """torch's and descend's module built after the same seed; their states must be equal bit for bit."""
    torch.manual_seed(seed)
    t = getattr(torch.nn, cls_name)(*args, **kwargs)
    descend.manual_seed(seed)
    d = getattr(descend.nn, cls_name)(*args, **kwargs)
    t_state, d_state = t.state_dict(), d.state_dict()
    assert list(d_state) == list(t_state)
    for key, value in t_state.items():
        assert d_state[key].shape == tuple(value.shape), key
        assert np.array_equal(d_state[key].numpy(), value.numpy()), f"{cls_name} seeded weights differ: {key}"
    return t, d


@st.composite
def mha_configs(draw):
    heads = draw(st.integers(1, 3))
    embed = heads * draw(st.integers(1, 3))
    batched = draw(st.booleans())
    return {
        "embed": embed,
        "heads": heads,
        "bias": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "kdim": draw(st.sampled_from([None, None, 3])),
        "vdim": draw(st.sampled_from([None, None, 2])),
        "batch_first": draw(st.booleans()),
        "batched": batched,
        "N": draw(st.integers(1, 3)) if batched else None,
        "L": draw(st.integers(1, 4)),
        "S": draw(st.integers(1, 4)),
        "self": draw(st.booleans()),
        "kpm": draw(st.sampled_from(["none", "bool", "float"])),
        "attn_mask": draw(st.sampled_from(["none", "bool2d", "float2d", "float3d", "causal"])),
        "need_weights": draw(st.booleans()),
        "average": draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.3])),
        "training": draw(st.booleans()),
        "dtype": draw(DTYPES),
        "seed": draw(st.integers(0, 2**16)),
    }


@SETTINGS
@given(mha_configs())
def test_multihead_attention_matches_torch(cfg):
    dtype, E, H = cfg["dtype"], cfg["embed"], cfg["heads"]
    opts = {k: cfg[k] for k in ("bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim", "batch_first")}
    opts["dropout"] = cfg["dropout"]
    if cfg["self"]:
        opts["kdim"] = opts["vdim"] = None
    t_mod, d_mod = _both("MultiheadAttention", cfg["seed"], E, H, **opts)
    _mirror(t_mod, d_mod, dtype)
    t_mod.train(cfg["training"])
    d_mod.train(cfg["training"])
    rng = np.random.default_rng(cfg["seed"])
    L, S, N = cfg["L"], cfg["S"], cfg["N"]
    if cfg["self"]:
        S = L

    def seq(n, dim):
        if not cfg["batched"]:
            return rng.standard_normal((n, dim)).astype(dtype)
        shape = (N, n, dim) if cfg["batch_first"] else (n, N, dim)
        return rng.standard_normal(shape).astype(dtype)

    q = seq(L, E)
    if cfg["self"]:
        arrays = [q]
    else:
        arrays = [q, seq(S, opts["kdim"] or E), seq(S, opts["vdim"] or E)]
    tt, dd = _leaves(arrays)
    t_in, d_in = (tt * 3, dd * 3) if cfg["self"] else (tt, dd)
    kw_t, kw_d = {}, {}
    kpm_shape = (N, S) if cfg["batched"] else (S,)
    if cfg["kpm"] != "none":
        m = rng.random(kpm_shape) < 0.3
        m[..., 0] = False  # every row keeps a key: no NaN rows (PyTorch gives NaN there)
        if cfg["kpm"] == "float":
            m = np.where(m, -np.inf, 0.0).astype(dtype)
        kw_t["key_padding_mask"], kw_d["key_padding_mask"] = torch.tensor(m), descend.tensor(m)
    am = cfg["attn_mask"]
    if am == "causal":
        kw_t["attn_mask"] = torch.triu(torch.full((L, S), float("-inf")), 1).to(
            getattr(torch, np.dtype(dtype).name)
        )
        kw_d["attn_mask"] = descend.tensor(kw_t["attn_mask"].numpy())
        kw_t["is_causal"] = kw_d["is_causal"] = L == S and cfg["kpm"] == "none"
    elif am != "none":
        shape = (L, S) if am.endswith("2d") or not cfg["batched"] else ((N or 1) * H, L, S)
        if not cfg["batched"] and am == "float3d":
            shape = (H, L, S)
        if am.startswith("bool"):
            m = rng.random(shape) < 0.3
            m[..., 0] = False
        else:
            m = rng.standard_normal(shape).astype(dtype)
        kw_t["attn_mask"], kw_d["attn_mask"] = torch.tensor(m), descend.tensor(m)
    for kw in (kw_t, kw_d):
        kw["need_weights"] = cfg["need_weights"]
        kw["average_attn_weights"] = cfg["average"]
    torch.manual_seed(cfg["seed"])
    t_out = t_mod(*t_in, **kw_t)
    descend.manual_seed(cfg["seed"])
    d_out = d_mod(*d_in, **kw_d)
    assert (t_out[1] is None) == (d_out[1] is None)
    t_outs = [o for o in t_out if o is not None]
    d_outs = [o for o in d_out if o is not None]
    _backward_both(t_outs, d_outs, rng, dtype)
    for k, (t, d) in enumerate(zip(tt, dd)):
        _close(f"input {k} grad", d.grad.numpy(), t.grad.numpy(), dtype)
    _compare_params(t_mod, d_mod, dtype)


# --- the Transformer family ---


@st.composite
def encoder_configs(draw):
    heads = draw(st.integers(1, 2))
    return {
        "d_model": heads * draw(st.integers(1, 3)),
        "nhead": heads,
        "ff": draw(st.integers(1, 6)),
        "dropout": draw(st.sampled_from([0.0, 0.2])),
        "activation": draw(st.sampled_from(["relu", "gelu"])),
        "batch_first": draw(st.booleans()),
        "norm_first": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "layers": draw(st.integers(1, 2)),
        "final_norm": draw(st.booleans()),
        "mask": draw(st.sampled_from(["none", "causal", "causal_hint", "bool"])),
        "kpm": draw(st.booleans()),
        "training": draw(st.booleans()),
        "N": draw(st.integers(1, 3)),
        "L": draw(st.integers(1, 4)),
        "T": draw(st.integers(1, 4)),
        "kind": draw(st.sampled_from(["encoder", "decoder", "transformer"])),
        "dtype": draw(DTYPES),
        "seed": draw(st.integers(0, 2**16)),
    }


def _layer_kwargs(cfg):
    return {
        "dim_feedforward": cfg["ff"],
        "dropout": cfg["dropout"],
        "activation": cfg["activation"],
        "batch_first": cfg["batch_first"],
        "norm_first": cfg["norm_first"],
        "bias": cfg["bias"],
    }


def _build(lib, cfg):
    nn = lib.nn
    lib.manual_seed(cfg["seed"])
    kw = _layer_kwargs(cfg)
    if cfg["kind"] == "transformer":
        return nn.Transformer(cfg["d_model"], cfg["nhead"], cfg["layers"], cfg["layers"], **kw)
    if cfg["kind"] == "encoder":
        layer = nn.TransformerEncoderLayer(cfg["d_model"], cfg["nhead"], **kw)
        norm = nn.LayerNorm(cfg["d_model"]) if cfg["final_norm"] else None
        if cfg["layers"] == 1 and not cfg["final_norm"]:
            return layer
        return nn.TransformerEncoder(layer, cfg["layers"], norm, enable_nested_tensor=False)
    layer = nn.TransformerDecoderLayer(cfg["d_model"], cfg["nhead"], **kw)
    norm = nn.LayerNorm(cfg["d_model"]) if cfg["final_norm"] else None
    if cfg["layers"] == 1 and not cfg["final_norm"]:
        return layer
    return nn.TransformerDecoder(layer, cfg["layers"], norm)


@SETTINGS
@given(encoder_configs())
def test_transformer_family_matches_torch(cfg):
    dtype = cfg["dtype"]
    t_mod, d_mod = _build(torch, cfg), _build(descend, cfg)
    t_state, d_state = t_mod.state_dict(), d_mod.state_dict()
    assert list(d_state) == list(t_state)
    for key, value in t_state.items():
        assert np.array_equal(d_state[key].numpy(), value.numpy()), f"seeded weights differ: {key}"
    _mirror(t_mod, d_mod, dtype)
    t_mod.train(cfg["training"])
    d_mod.train(cfg["training"])
    rng = np.random.default_rng(cfg["seed"])
    N, L, T, D = cfg["N"], cfg["L"], cfg["T"], cfg["d_model"]

    def seq(n):
        return rng.standard_normal((N, n, D) if cfg["batch_first"] else (n, N, D)).astype(dtype)

    src = seq(L)
    arrays = [src] if cfg["kind"] == "encoder" else [src, seq(T)]
    tt, dd = _leaves(arrays)
    n_tgt = L if cfg["kind"] == "encoder" else T
    masks_t, masks_d = {}, {}
    is_layer = "Layer" in type(t_mod).__name__
    if cfg["mask"] in ("causal", "causal_hint"):
        m = torch.nn.Transformer.generate_square_subsequent_mask(n_tgt).numpy().astype(dtype)
        masks_t["mask"], masks_d["mask"] = torch.tensor(m), descend.tensor(m)
        if cfg["mask"] == "causal_hint":
            masks_t["causal"] = masks_d["causal"] = True
    elif cfg["mask"] == "bool":
        m = rng.random((n_tgt, n_tgt)) < 0.3
        m[:, 0] = False
        masks_t["mask"], masks_d["mask"] = torch.tensor(m), descend.tensor(m)
    if cfg["kpm"]:
        m = rng.random((N, n_tgt)) < 0.3
        m[:, 0] = False
        masks_t["kpm"], masks_d["kpm"] = torch.tensor(m), descend.tensor(m)

    def call(mod, inputs, masks):
        if cfg["kind"] == "encoder":
            names = (
                ("src_mask", "src_key_padding_mask", "is_causal")
                if is_layer
                else ("mask", "src_key_padding_mask", "is_causal")
            )
            kw = {names[0]: masks.get("mask"), names[1]: masks.get("kpm")}
            if "causal" in masks:
                kw[names[2]] = True
            return mod(inputs[0], **kw)
        kw = {"tgt_mask": masks.get("mask"), "tgt_key_padding_mask": masks.get("kpm")}
        if "causal" in masks:
            kw["tgt_is_causal"] = True
        if cfg["kind"] == "transformer":
            return mod(inputs[0], inputs[1], **kw)
        return mod(inputs[1], inputs[0], **kw)

    torch.manual_seed(cfg["seed"])
    t_out = call(t_mod, tt, masks_t)
    descend.manual_seed(cfg["seed"])
    d_out = call(d_mod, dd, masks_d)
    _backward_both([t_out], [d_out], rng, dtype)
    for k, (t, d) in enumerate(zip(tt, dd)):
        _close(f"input {k} grad", d.grad.numpy(), t.grad.numpy(), dtype)
    _compare_params(t_mod, d_mod, dtype)


def test_state_dict_round_trips_both_ways():
    for cls, args, kwargs in [
        ("MultiheadAttention", (6, 3), {"add_bias_kv": True, "kdim": 4, "vdim": 5}),
        ("TransformerEncoderLayer", (4, 2), {"dim_feedforward": 8}),
        ("Transformer", (4, 2, 1, 1, 8), {}),
    ]:
        torch.manual_seed(1)
        t = getattr(torch.nn, cls)(*args, **kwargs)
        descend.manual_seed(2)
        d = getattr(descend.nn, cls)(*args, **kwargs)
        d.load_state_dict({k: descend.tensor(v.numpy()) for k, v in t.state_dict().items()})
        for k, v in t.state_dict().items():
            assert np.array_equal(d.state_dict()[k].numpy(), v.numpy()), (cls, k)
        descend.manual_seed(3)
        d2 = getattr(descend.nn, cls)(*args, **kwargs)
        t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in d2.state_dict().items()})
        for k, v in d2.state_dict().items():
            assert np.array_equal(t.state_dict()[k].numpy(), v.numpy()), (cls, k)


def test_generate_square_subsequent_mask_matches_torch():
    for sz in (1, 2, 5):
        theirs = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        mine = descend.nn.Transformer.generate_square_subsequent_mask(sz)
        assert mine.dtype == descend.float32
        assert np.array_equal(mine.numpy(), theirs.numpy())
