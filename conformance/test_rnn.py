"""RNN, LSTM, GRU and their cells against PyTorch 2.13: random configurations, both sides.

Each example draws a class, sizes and the options PyTorch documents (num_layers, nonlinearity, bias,
batch_first, bidirectional, dropout between layers in training mode, batched or unbatched input,
given or default initial state) and a dtype. torch's state_dict goes into descend's module; both
run forward on the same input and initial state (the global generators seeded alike, so dropout
draws the same masks), then backward with the same random upstream gradients on every output.
Outputs, final states and the gradients of every parameter, the input and the initial state are
compared: float64 within 1e-10, float32 within 1e-5 (both relative to the largest magnitude of
torch's value, at least 1). LSTMs also draw a proj_size. Packed inputs (`test_packed`) draw random
lengths, enforce_sorted and batch_first both ways, go through pack_padded_sequence, the layer and
pad_packed_sequence on both sides, and compare the packed data and indices, the padded output, the
final states and every gradient down to the padded input. The `nn.utils.rnn` helpers
(pad_sequence, pack_sequence, unpack_sequence, unpad_sequence) and their errors are compared too.
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

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None)
TOL = {np.float64: 1e-10, np.float32: 1e-5}


def _close(name, mine, theirs, dtype):
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.shape == theirs.shape, (name, mine.shape, theirs.shape)
    scale = max(1.0, float(np.abs(theirs).max()) if theirs.size else 1.0)
    err = float(np.abs(mine - theirs).max()) if theirs.size else 0.0
    assert err <= TOL[dtype] * scale, f"{name}: max error {err:.3g} (scale {scale:.3g})"


def _states(out):
    """The flat list of tensors a module returns: output and h_n, or output, h_n and c_n."""
    flat = []
    for o in out if isinstance(out, tuple) else (out,):
        flat.extend(o if isinstance(o, tuple) else (o,))
    return flat


def _run_both(torch_module, d_module, x, hx, dtype, seed):
    tx = torch.tensor(x, requires_grad=True)
    dx = descend.tensor(x, requires_grad=True)
    if hx is None:
        thx = dhx = None
        leaves = []
    else:
        thx = tuple(torch.tensor(h, requires_grad=True) for h in hx)
        dhx = tuple(descend.tensor(h, requires_grad=True) for h in hx)
        leaves = list(zip(thx, dhx))
        if len(hx) == 1:
            thx, dhx = thx[0], dhx[0]
    torch.manual_seed(seed)
    t_out = _states(torch_module(tx, thx))
    descend.manual_seed(seed)
    d_out = _states(d_module(dx, dhx))
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_out]
    sum((o * torch.tensor(g)).sum() for o, g in zip(t_out, grads)).backward()
    sum((o * descend.tensor(g)).sum() for o, g in zip(d_out, grads)).backward()
    for k, (t, d) in enumerate(zip(t_out, d_out)):
        _close(f"output {k}", d.detach().numpy(), t.detach().numpy(), dtype)
    _close("input grad", dx.grad.numpy(), tx.grad.numpy(), dtype)
    for k, (t, d) in enumerate(leaves):
        _close(f"hx[{k}] grad", d.grad.numpy(), t.grad.numpy(), dtype)
    d_params = dict(d_module.named_parameters())
    t_params = dict(torch_module.named_parameters())
    assert list(d_params) == list(t_params)
    for name, p in t_params.items():
        _close(f"{name} grad", d_params[name].grad.numpy(), p.grad.numpy(), dtype)


def _mirror(torch_module, d_module, dtype):
    state = {k: descend.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    d_module.load_state_dict(state)
    if dtype == np.float64:
        torch_module.double()
        d_module.double()
    return torch_module, d_module


@SETTINGS
@given(
    kind=st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]),
    sizes=st.tuples(  # input_size, hidden_size, num_layers, sequence length, batch
        st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.integers(1, 3)),
    bias=st.booleans(),
    batch_first=st.booleans(),
    bidirectional=st.booleans(),
    batched=st.booleans(),
    with_hx=st.booleans(),
    dropout=st.sampled_from([0.0, 0.0, 0.4]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
    proj=st.integers(0, 3),
)
def test_layer(kind, sizes, bias, batch_first, bidirectional, batched, with_hx, dropout, dtype, seed, proj):
    H_in, H, num_layers, L, N = sizes
    name = "RNN" if kind.startswith("RNN") else kind
    kwargs = _layer_kwargs(kind, num_layers, bias, batch_first, dropout, bidirectional, proj, H)
    with pytest.warns(UserWarning) if dropout and num_layers == 1 else _nothing():
        torch_module = getattr(torch.nn, name)(H_in, H, **kwargs)
    with pytest.warns(UserWarning) if dropout and num_layers == 1 else _nothing():
        d_module = getattr(descend.nn, name)(H_in, H, **kwargs)
    torch_module, d_module = _mirror(torch_module, d_module, dtype)
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    if batched:
        x = rng.standard_normal((N, L, H_in) if batch_first else (L, N, H_in)).astype(dtype)
        state_shape = (D * num_layers, N, H)
    else:
        x = rng.standard_normal((L, H_in)).astype(dtype)
        state_shape = (D * num_layers, H)
    hx = None
    if with_hx:
        hx = tuple(rng.standard_normal(state_shape[:-1] + (size,)).astype(dtype)
                   for size in _state_sizes(name, H, kwargs))
    _run_both(torch_module, d_module, x, hx, dtype, seed)


def _layer_kwargs(kind, num_layers, bias, batch_first, dropout, bidirectional, proj, H):
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, dropout=dropout,
                  bidirectional=bidirectional)
    if kind.startswith("RNN"):
        kwargs["nonlinearity"] = "relu" if kind == "RNN_RELU" else "tanh"
    if kind == "LSTM" and 0 < proj < H:
        kwargs["proj_size"] = proj
    return kwargs


def _state_sizes(name, H, kwargs):
    if name == "LSTM":
        return (kwargs.get("proj_size", 0) or H, H)
    return (H,)


@SETTINGS
@given(
    kind=st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]),
    sizes=st.tuples(  # input_size, hidden_size, num_layers, padded length
        st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 6)),
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    bias=st.booleans(),
    batch_first=st.booleans(),
    bidirectional=st.booleans(),
    enforce_sorted=st.booleans(),
    with_hx=st.booleans(),
    dropout=st.sampled_from([0.0, 0.0, 0.4]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
    proj=st.integers(0, 3),
)
def test_packed(kind, sizes, lengths, bias, batch_first, bidirectional, enforce_sorted, with_hx, dropout,
                dtype, seed, proj):
    H_in, H, num_layers, L = sizes
    lengths = [min(n, L) for n in lengths]
    if enforce_sorted:
        lengths.sort(reverse=True)
    N = len(lengths)
    name = "RNN" if kind.startswith("RNN") else kind
    kwargs = _layer_kwargs(kind, num_layers, bias, batch_first, dropout, bidirectional, proj, H)
    with pytest.warns(UserWarning) if dropout and num_layers == 1 else _nothing():
        torch_module = getattr(torch.nn, name)(H_in, H, **kwargs)
    with pytest.warns(UserWarning) if dropout and num_layers == 1 else _nothing():
        d_module = getattr(descend.nn, name)(H_in, H, **kwargs)
    torch_module, d_module = _mirror(torch_module, d_module, dtype)
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((N, L, H_in) if batch_first else (L, N, H_in)).astype(dtype)
    hx = None
    if with_hx:
        hx = tuple(rng.standard_normal((D * num_layers, N, size)).astype(dtype)
                   for size in _state_sizes(name, H, kwargs))
    # lengths as a list or as a CPU int64 tensor, both documented
    as_tensor = seed % 2
    t_lengths, d_lengths = (torch.tensor(lengths), descend.tensor(lengths)) if as_tensor else (lengths,) * 2
    sides = {}
    for lib, lengths_arg in ((torch, t_lengths), (descend, d_lengths)):
        module = torch_module if lib is torch else d_module
        rnn_utils = lib.nn.utils.rnn
        leaf = lib.tensor(x, requires_grad=True)
        h_leaves = None if hx is None else tuple(lib.tensor(h, requires_grad=True) for h in hx)
        packed = rnn_utils.pack_padded_sequence(leaf, lengths_arg, batch_first=batch_first,
                                                enforce_sorted=enforce_sorted)
        lib.manual_seed(seed)
        out, finals = module(packed, None if h_leaves is None else
                             (h_leaves if name == "LSTM" else h_leaves[0]))
        assert isinstance(out, rnn_utils.PackedSequence)
        padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=batch_first, padding_value=-2.5,
                                                            total_length=L)
        finals = finals if isinstance(finals, tuple) else (finals,)
        grads = np.random.default_rng(seed + 1)
        loss = (padded * lib.tensor(grads.standard_normal(tuple(padded.shape)).astype(dtype))).sum()
        for f in finals:
            loss = loss + (f * lib.tensor(grads.standard_normal(tuple(f.shape)).astype(dtype))).sum()
        loss.backward()
        sides[lib] = dict(
            packed=packed, out=out, padded=padded, out_lengths=out_lengths, finals=finals, leaf=leaf,
            h_leaves=h_leaves or (), params=dict(module.named_parameters()),
        )
    t, d = sides[torch], sides[descend]
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        for which in ("packed", "out"):
            a, b = getattr(t[which], field), getattr(d[which], field)
            assert (a is None) == (b is None), (which, field)
            if a is not None:
                assert b.dtype == descend.int64
                np.testing.assert_array_equal(b.numpy(), a.numpy(), err_msg=f"{which}.{field}")
    np.testing.assert_array_equal(d["out_lengths"].numpy(), t["out_lengths"].numpy())
    _close("packed input", d["packed"].data.detach().numpy(), t["packed"].data.detach().numpy(), dtype)
    _close("packed output", d["out"].data.detach().numpy(), t["out"].data.detach().numpy(), dtype)
    _close("padded output", d["padded"].detach().numpy(), t["padded"].detach().numpy(), dtype)
    for k, (a, b) in enumerate(zip(t["finals"], d["finals"])):
        _close(f"final state {k}", b.detach().numpy(), a.detach().numpy(), dtype)
    _close("input grad", d["leaf"].grad.numpy(), t["leaf"].grad.numpy(), dtype)
    for k, (a, b) in enumerate(zip(t["h_leaves"], d["h_leaves"])):
        _close(f"hx[{k}] grad", b.grad.numpy(), a.grad.numpy(), dtype)
    assert list(d["params"]) == list(t["params"])
    for pname, p in t["params"].items():
        _close(f"{pname} grad", d["params"][pname].grad.numpy(), p.grad.numpy(), dtype)


@SETTINGS
@given(
    lengths=st.lists(st.integers(0, 5), min_size=1, max_size=5),
    trailing=st.sampled_from([(), (2,), (1, 3)]),
    batch_first=st.booleans(),
    padding_side=st.sampled_from(["right", "left"]),
    padding_value=st.sampled_from([0.0, -1.5, 3]),
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_sequence_helpers(lengths, trailing, batch_first, padding_side, padding_value, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal((n, *trailing)) * 4).astype(dtype) for n in lengths]
    floating = dtype != np.int64
    res = {}
    for lib in (torch, descend):
        rnn_utils = lib.nn.utils.rnn
        seqs = [lib.tensor(a, requires_grad=floating) for a in arrays]
        padded = rnn_utils.pad_sequence(seqs, batch_first=batch_first, padding_value=padding_value,
                                        padding_side=padding_side)
        r = {"padded": padded}
        if floating:
            g = np.random.default_rng(seed + 1).standard_normal(tuple(padded.shape)).astype(dtype)
            (padded * lib.tensor(g)).sum().backward()
            r["grads"] = [s.grad for s in seqs]
        plain = [lib.tensor(a) for a in arrays]
        lengths_t = lib.tensor(lengths)
        if padding_side == "right":
            r["unpadded"] = rnn_utils.unpad_sequence(
                rnn_utils.pad_sequence(plain, batch_first=batch_first), lengths_t, batch_first=batch_first)
        if min(lengths) > 0:
            packed = rnn_utils.pack_sequence(plain, enforce_sorted=False)
            r["packed"] = (packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
            r["unpacked"] = rnn_utils.unpack_sequence(packed)
            r["repadded"] = rnn_utils.pad_packed_sequence(packed, batch_first, padding_value)
        res[lib] = r
    t, d = res[torch], res[descend]
    assert list(t) == list(d)
    for key in t:
        a_list = t[key] if isinstance(t[key], (list, tuple)) else [t[key]]
        b_list = d[key] if isinstance(d[key], (list, tuple)) else [d[key]]
        assert len(a_list) == len(b_list), key
        for a, b in zip(a_list, b_list):
            assert tuple(b.shape) == tuple(a.shape), key
            assert str(b.dtype) == str(a.dtype).replace("torch.", ""), (key, b.dtype, a.dtype)
            np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy(), err_msg=key)


def _call(lib, how):
    rnn_utils = lib.nn.utils.rnn
    x = lib.zeros(4, 3, 2)
    calls = {
        "unsorted": lambda: rnn_utils.pack_padded_sequence(x, [4, 2, 3]),
        "zero length": lambda: rnn_utils.pack_padded_sequence(x, [4, 3, 0]),
        "zero length unsorted": lambda: rnn_utils.pack_padded_sequence(x, [0, 3, 2], enforce_sorted=False),
        "negative length": lambda: rnn_utils.pack_padded_sequence(x, [4, 3, -1]),
        "too few lengths": lambda: rnn_utils.pack_padded_sequence(x, [4, 3]),
        "2-D lengths": lambda: rnn_utils.pack_padded_sequence(x, lib.tensor([[4, 3, 2]])),
        "empty": lambda: rnn_utils.pack_padded_sequence(lib.zeros(0, 3, 2), [1, 1, 1]),
        "short total_length": lambda: rnn_utils.pad_packed_sequence(
            rnn_utils.pack_padded_sequence(x, [3, 2, 2]), total_length=2),
        "padding_side": lambda: rnn_utils.pad_sequence([x[0], x[1]], padding_side="up"),
        "empty list": lambda: rnn_utils.pad_sequence([]),
        "pack_sequence unsorted": lambda: rnn_utils.pack_sequence([lib.zeros(2, 3), lib.zeros(3, 3)]),
        "packed 3-D data": lambda: lib.nn.GRU(2, 3)(rnn_utils.PackedSequence(x, lib.tensor([3, 1]))),
        "packed hidden size": lambda: lib.nn.LSTM(2, 3)(rnn_utils.pack_padded_sequence(x, [4, 2, 1]),
                                                         (lib.zeros(1, 3, 3), lib.zeros(1, 2, 3))),
        "proj hidden size": lambda: lib.nn.LSTM(2, 3, proj_size=2)(x, (lib.zeros(1, 3, 3),) * 2),
        "proj cell size": lambda: lib.nn.LSTM(2, 3, proj_size=2)(x, (lib.zeros(1, 3, 2),) * 2),
    }
    return calls[how]()


@pytest.mark.parametrize("how", [
    "unsorted", "zero length", "zero length unsorted", "negative length", "too few lengths", "2-D lengths",
    "empty", "short total_length", "padding_side", "empty list", "pack_sequence unsorted", "packed 3-D data",
    "packed hidden size", "proj hidden size", "proj cell size",
])
def test_errors_as_torch(how):
    with pytest.raises(Exception) as theirs:
        _call(torch, how)
    with pytest.raises(Exception) as mine:
        _call(descend, how)
    assert type(mine.value) is type(theirs.value), (mine.value, theirs.value)
    # PyTorch's messages there come from its kernels (matmul, an elementwise op); descend names the shapes
    if how not in ("packed 3-D data", "packed hidden size"):
        assert str(mine.value) == str(theirs.value)


@SETTINGS
@given(
    kind=st.sampled_from(["RNNCell_tanh", "RNNCell_relu", "LSTMCell", "GRUCell"]),
    sizes=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4)),  # input, hidden, batch
    bias=st.booleans(),
    batched=st.booleans(),
    with_hx=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_cell(kind, sizes, bias, batched, with_hx, dtype, seed):
    H_in, H, N = sizes
    name, _, nonlinearity = kind.partition("_")
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    torch_module, d_module = _mirror(getattr(torch.nn, name)(H_in, H, bias=bias, **kwargs),
                                     getattr(descend.nn, name)(H_in, H, bias=bias, **kwargs), dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H_in) if batched else (H_in,)).astype(dtype)
    hx = None
    if with_hx:
        shape = (N, H) if batched else (H,)
        hx = tuple(rng.standard_normal(shape).astype(dtype) for _ in range(2 if name == "LSTMCell" else 1))
    _run_both(torch_module, d_module, x, hx, dtype, seed)


@pytest.mark.parametrize("make", [
    lambda nn: nn.LSTM(3, 4),
    lambda nn: nn.GRU(5, 3, num_layers=2, bidirectional=True, bias=False),
    lambda nn: nn.RNN(2, 6, 3, "relu"),
    lambda nn: nn.LSTMCell(3, 4),
    lambda nn: nn.GRUCell(2, 2),
    lambda nn: nn.RNNCell(4, 1, bias=False),
    lambda nn: nn.LSTM(3, 5, proj_size=2),
    lambda nn: nn.LSTM(3, 5, num_layers=3, proj_size=4, bidirectional=True, bias=False),
])
def test_same_seed_same_weights_and_repr(make):
    torch.manual_seed(0)
    theirs = make(torch.nn)
    descend.manual_seed(0)
    mine = make(descend.nn)
    assert repr(mine) == repr(theirs)
    t_params = dict(theirs.named_parameters())
    d_params = dict(mine.named_parameters())
    assert list(d_params) == list(t_params)
    for name, p in t_params.items():
        np.testing.assert_array_equal(d_params[name].detach().numpy(), p.detach().numpy(), err_msg=name)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
