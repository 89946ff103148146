"""RNN, LSTM, GRU and their cells against PyTorch 2.13: random configurations, both sides.

Each example draws a class, sizes and the options PyTorch documents (num_layers, nonlinearity, bias,
batch_first, bidirectional, dropout between layers in training mode, batched or unbatched input,
given or default initial state) and a dtype. torch's state_dict goes into descend's module; both
run forward on the same input and initial state (the global generators seeded alike, so dropout
draws the same masks), then backward with the same random upstream gradients on every output.
Outputs, final states and the gradients of every parameter, the input and the initial state are
compared: float64 within 1e-10, float32 within 1e-5 (both relative to the largest magnitude of
torch's value, at least 1). Derandomized; a few seconds here.
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
)
def test_layer(kind, sizes, bias, batch_first, bidirectional, batched, with_hx, dropout, dtype, seed):
    H_in, H, num_layers, L, N = sizes
    name = "RNN" if kind.startswith("RNN") else kind
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, dropout=dropout,
                  bidirectional=bidirectional)
    if name == "RNN":
        kwargs["nonlinearity"] = "relu" if kind == "RNN_RELU" else "tanh"
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
        hx = tuple(rng.standard_normal(state_shape).astype(dtype) for _ in range(2 if name == "LSTM" else 1))
    _run_both(torch_module, d_module, x, hx, dtype, seed)


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
