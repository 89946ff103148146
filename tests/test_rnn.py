"""RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU: one-step values by hand, gradients by finite differences,
shapes for every option, parameter layout and initialisation, PyTorch's error messages."""

import itertools
import math
import warnings

import numpy as np
import pytest

import descend
from descend import nn
from descend.autograd import no_grad


def _np(t):
    return t.detach().numpy()


def _sig(v):
    return 1 / (1 + math.exp(-v))


def _f64(values):
    return descend.tensor(values, dtype=descend.float64)


def _set(module, **values):
    """Fill the named parameters with the given numbers (reshaped to each parameter's shape)."""
    with no_grad():
        for name, value in values.items():
            p = getattr(module, name)
            p._data[...] = np.asarray(value, dtype=p._data.dtype).reshape(p.shape)


# --- one step, by hand ---


def test_rnn_cell_one_step_tanh_and_relu():
    for nonlinearity, act in (("tanh", math.tanh), ("relu", lambda v: max(v, 0.0))):
        cell = nn.RNNCell(1, 1, nonlinearity=nonlinearity).double()
        _set(cell, weight_ih=0.5, weight_hh=-1.0, bias_ih=0.1, bias_hh=0.2)
        for x, h in ((2.0, 0.3), (-1.0, 0.9)):
            out = cell(_f64([[x]]), _f64([[h]]))
            assert out.shape == (1, 1)
            assert out.item() == pytest.approx(act(0.5 * x + 0.1 - h + 0.2), abs=1e-15)


def test_lstm_cell_one_step_gates_in_order_i_f_g_o():
    cell = nn.LSTMCell(1, 1).double()
    wi, wh = [0.5, -0.3, 0.8, 0.1], [0.2, 0.4, -0.6, 0.7]
    bi, bh = [0.01, 0.02, 0.03, 0.04], [0.1, 0.0, -0.1, 0.2]
    _set(cell, weight_ih=wi, weight_hh=wh, bias_ih=bi, bias_hh=bh)
    x, h, c = 1.5, -0.4, 0.25
    pre = [wi[k] * x + bi[k] + wh[k] * h + bh[k] for k in range(4)]
    i, f, g, o = _sig(pre[0]), _sig(pre[1]), math.tanh(pre[2]), _sig(pre[3])
    c1 = f * c + i * g
    h1 = o * math.tanh(c1)
    hy, cy = cell(_f64([[x]]), (_f64([[h]]), _f64([[c]])))
    assert hy.item() == pytest.approx(h1, abs=1e-15)
    assert cy.item() == pytest.approx(c1, abs=1e-15)


def test_gru_cell_one_step_reset_gate_inside_the_hidden_product():
    cell = nn.GRUCell(1, 1).double()
    wi, wh, bi, bh = [0.5, -0.3, 0.8], [0.2, 0.4, -0.6], [0.01, 0.02, 0.03], [0.1, 0.0, -0.1]
    _set(cell, weight_ih=wi, weight_hh=wh, bias_ih=bi, bias_hh=bh)
    x, h = 1.5, -0.4
    r = _sig(wi[0] * x + bi[0] + wh[0] * h + bh[0])
    z = _sig(wi[1] * x + bi[1] + wh[1] * h + bh[1])
    n = math.tanh(wi[2] * x + bi[2] + r * (wh[2] * h + bh[2]))
    expected = (1 - z) * n + z * h
    out = cell(_f64([x]), _f64([h]))
    assert out.shape == (1,)
    assert out.item() == pytest.approx(expected, abs=1e-15)


def test_cells_default_state_is_zeros_and_bias_false_has_no_bias():
    cell = nn.GRUCell(2, 3, bias=False).double()
    assert cell.bias_ih is None and cell.bias_hh is None
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    x = descend.randn(4, 2, dtype=descend.float64)
    np.testing.assert_array_equal(_np(cell(x)), _np(cell(x, descend.zeros(4, 3, dtype=descend.float64))))
    lstm = nn.LSTMCell(2, 3)
    h, c = lstm(descend.randn(2))
    assert h.shape == (3,) and c.shape == (3,)


def test_rnn_layer_is_the_cell_unrolled():
    """A one-layer RNN/LSTM/GRU gives what its cell gives step by step, with the same weights."""
    x = descend.randn(4, 2, 3, dtype=descend.float64)
    for layer_cls, cell_cls in ((nn.RNN, nn.RNNCell), (nn.LSTM, nn.LSTMCell), (nn.GRU, nn.GRUCell)):
        layer = layer_cls(3, 5).double()
        cell = cell_cls(3, 5).double()
        cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # weight_ih_l0 -> weight_ih
        out, hn = layer(x)
        state = None
        for t in range(4):
            state = cell(x[t], state)
            h = state[0] if isinstance(state, tuple) else state
            np.testing.assert_allclose(_np(out[t]), _np(h), rtol=0, atol=1e-14)
        final = hn[0] if isinstance(hn, tuple) else hn
        np.testing.assert_allclose(_np(final[0]), _np(h), rtol=0, atol=1e-14)
        if isinstance(hn, tuple):
            np.testing.assert_allclose(_np(hn[1][0]), _np(state[1]), rtol=0, atol=1e-14)


def test_bidirectional_reverse_half_reads_the_sequence_backwards():
    gru = nn.GRU(2, 3, bidirectional=True).double()
    fwd = nn.GRU(2, 3).double()
    bwd = nn.GRU(2, 3).double()
    sd = gru.state_dict()
    fwd.load_state_dict({k: v for k, v in sd.items() if not k.endswith("_reverse")})
    bwd.load_state_dict({k[: -len("_reverse")]: v for k, v in sd.items() if k.endswith("_reverse")})
    x = descend.randn(5, 2, 2, dtype=descend.float64)
    out, hn = gru(x)
    out_f, hn_f = fwd(x)
    out_b, hn_b = bwd(x.flip(0))
    np.testing.assert_allclose(_np(out[..., :3]), _np(out_f), atol=1e-14)
    np.testing.assert_allclose(_np(out[..., 3:]), _np(out_b.flip(0)), atol=1e-14)
    np.testing.assert_allclose(_np(hn), np.concatenate([_np(hn_f), _np(hn_b)]), atol=1e-14)


def test_batch_first_and_unbatched_agree_with_the_time_major_batch():
    lstm = nn.LSTM(3, 4, num_layers=2).double()
    lstm_bf = nn.LSTM(3, 4, num_layers=2, batch_first=True).double()
    lstm_bf.load_state_dict(lstm.state_dict())
    x = descend.randn(6, 2, 3, dtype=descend.float64)
    out, (h, c) = lstm(x)
    out_bf, (h_bf, c_bf) = lstm_bf(x.transpose(0, 1))
    np.testing.assert_array_equal(_np(out_bf.transpose(0, 1)), _np(out))
    np.testing.assert_array_equal(_np(h_bf), _np(h))
    out1, (h1, c1) = lstm(x[:, 0])
    assert out1.shape == (6, 4) and h1.shape == (2, 4) and c1.shape == (2, 4)
    np.testing.assert_allclose(_np(out1), _np(out[:, 0]), atol=1e-14)
    np.testing.assert_allclose(_np(c1), _np(c[:, 0]), atol=1e-14)
    out1_bf, _ = lstm_bf(x[:, 0])  # unbatched with batch_first: still (L, H_in)
    np.testing.assert_allclose(_np(out1_bf), _np(out1), atol=1e-14)


# --- gradients by finite differences ---


def _fd_check(fn, tensors, eps=1e-6, tol=1e-7):
    """Compare the gradient of the scalar fn() with central differences in every element of `tensors`."""
    for t in tensors:
        t.grad = None
    fn().backward()
    for t in tensors:
        flat = t._data.reshape(-1)
        analytic = _np(t.grad).reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            with no_grad():
                flat[j] = orig + eps
                plus = fn().item()
                flat[j] = orig - eps
                minus = fn().item()
                flat[j] = orig
            assert analytic[j] == pytest.approx((plus - minus) / (2 * eps), abs=tol), (t.shape, j)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_layer_gradients_match_finite_differences(cls):
    descend.manual_seed(1)
    kwargs = dict(num_layers=2, bidirectional=True)
    if cls is nn.RNN:
        kwargs["nonlinearity"] = "tanh"
    module = cls(2, 2, **kwargs).double()
    x = descend.randn(3, 2, 2, dtype=descend.float64, requires_grad=True)
    h0 = descend.randn(4, 2, 2, dtype=descend.float64, requires_grad=True)
    c0 = descend.randn(4, 2, 2, dtype=descend.float64, requires_grad=True)
    v = descend.randn(3, 2, 4, dtype=descend.float64)
    w = descend.randn(4, 2, 2, dtype=descend.float64)

    def loss():
        if cls is nn.LSTM:
            out, (h, c) = module(x, (h0, c0))
            return (out * v).sum() + (h * w).sum() + (c * c).sum()
        out, h = module(x, h0)
        return (out * v).sum() + (h * w).sum()

    _fd_check(loss, [x, h0, *module.parameters()] + ([c0] if cls is nn.LSTM else []))


@pytest.mark.parametrize("cell", [nn.RNNCell(3, 2, nonlinearity="relu"), nn.LSTMCell(3, 2), nn.GRUCell(3, 2)])
def test_cell_gradients_match_finite_differences(cell):
    cell = cell.double()
    x = descend.randn(2, 3, dtype=descend.float64, requires_grad=True)
    h = descend.randn(2, 2, dtype=descend.float64, requires_grad=True)
    c = descend.randn(2, 2, dtype=descend.float64, requires_grad=True)
    if isinstance(cell, nn.LSTMCell):
        assert descend.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))
        _fd_check(lambda: sum((s * s).sum() for s in cell(x, (h, c))), list(cell.parameters()))
    else:
        assert descend.gradcheck(lambda x, h: cell(x, h), (x, h))
        _fd_check(lambda: (cell(x, h) ** 2).sum(), list(cell.parameters()))


# --- parameters and initialisation ---


def test_parameter_names_shapes_and_order_are_pytorchs():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    expected = []
    for layer, in_size in ((0, 3), (1, 10)):
        for suffix in ("", "_reverse"):
            expected += [
                (f"weight_ih_l{layer}{suffix}", (20, in_size)),
                (f"weight_hh_l{layer}{suffix}", (20, 5)),
                (f"bias_ih_l{layer}{suffix}", (20,)),
                (f"bias_hh_l{layer}{suffix}", (20,)),
            ]
    assert [(n, tuple(p.shape)) for n, p in lstm.named_parameters()] == expected
    assert list(lstm.state_dict()) == [n for n, _ in expected]
    gru = nn.GRU(4, 2, bias=False)
    assert [(n, tuple(p.shape)) for n, p in gru.named_parameters()] == [
        ("weight_ih_l0", (6, 4)), ("weight_hh_l0", (6, 2))]
    assert [len(w) for w in lstm.all_weights] == [4, 4, 4, 4]
    assert nn.RNNCell(3, 7).weight_ih.shape == (7, 3)
    assert nn.LSTMCell(3, 7).weight_hh.shape == (28, 7)
    assert nn.GRUCell(3, 7).bias_ih.shape == (21,)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 4, 2), lambda: nn.GRUCell(3, 4), lambda: nn.RNN(2, 9)])
def test_initialisation_is_uniform_in_registration_order(make):
    """Every parameter is one uniform_(-1/sqrt(H), 1/sqrt(H)) draw, in order: the same seed repeats it."""
    descend.manual_seed(7)
    module = make()
    bound = 1 / math.sqrt(module.hidden_size)
    descend.manual_seed(7)
    for p in module.parameters():
        expected = descend.empty(*p.shape)
        nn.init.uniform_(expected, -bound, bound)
        np.testing.assert_array_equal(_np(p), _np(expected))
        assert np.abs(_np(p)).max() <= bound


def test_dtype_and_repr():
    assert nn.GRU(2, 3, dtype=descend.float64).weight_hh_l0.dtype == descend.float64
    assert repr(nn.LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(nn.RNN(3, 4, 2, "relu", False, True, 0.5, True)) == (
        "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)")
    assert nn.RNN(3, 4, 2, "relu").nonlinearity == "relu"
    cell = nn.RNNCell(3, 4, bias=False, nonlinearity="relu")
    assert repr(cell) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"


# --- shapes for every option ---

_OPTIONS = list(itertools.product(
    (nn.RNN, nn.LSTM, nn.GRU), (1, 2), (True, False), (False, True), (False, True), (True, False),
    (False, True)))


@pytest.mark.parametrize("cls,num_layers,bias,batch_first,bidirectional,batched,with_hx", _OPTIONS)
def test_output_shapes(cls, num_layers, bias, batch_first, bidirectional, batched, with_hx):
    L, N, H_in, H = 4, 3, 2, 5
    D = 2 if bidirectional else 1
    module = cls(H_in, H, num_layers=num_layers, bias=bias, batch_first=batch_first,
                 bidirectional=bidirectional)
    if batched:
        x = descend.randn(*((N, L, H_in) if batch_first else (L, N, H_in)))
        state_shape = (D * num_layers, N, H)
        out_shape = (N, L, D * H) if batch_first else (L, N, D * H)
    else:
        x = descend.randn(L, H_in)
        state_shape = (D * num_layers, H)
        out_shape = (L, D * H)
    hx = None
    if with_hx:
        hx = descend.randn(*state_shape)
        if cls is nn.LSTM:
            hx = (hx, descend.randn(*state_shape))
    out, hn = module(x, hx)
    assert out.shape == out_shape and out.dtype == descend.float32
    for state in hn if cls is nn.LSTM else (hn,):
        assert state.shape == state_shape


# --- dropout between layers ---


def test_dropout_applies_between_layers_in_training_only():
    descend.manual_seed(0)
    rnn = nn.RNN(2, 3, num_layers=2, dropout=1.0).double()
    x = descend.randn(4, 1, 2, dtype=descend.float64)
    out, _ = rnn(x)
    # layer 2 reads zeros: h_t = tanh(b_ih + W_hh h_(t-1) + b_hh)
    h = np.zeros(3)
    for t in range(4):
        h = np.tanh(_np(rnn.bias_ih_l1) + _np(rnn.weight_hh_l1) @ h
                    + _np(rnn.bias_hh_l1))
        np.testing.assert_allclose(_np(out[t, 0]), h, atol=1e-14)
    rnn.eval()
    out_eval, _ = rnn(x)
    assert not np.allclose(_np(out_eval), _np(out))
    rnn.dropout = 0.0
    rnn.train()
    np.testing.assert_array_equal(_np(rnn(x)[0]), _np(out_eval))


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GRU(2, 3, num_layers=2, dropout=0.2)


# --- errors ---


@pytest.mark.parametrize("make,exc,match", [
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.RNN(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.GRU(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size should be a positive integer or zero"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), ValueError, r"dropout should be a number in range \[0, 1\]"),
    (lambda: nn.LSTM(3, 4, dropout=True), ValueError, r"dropout should be a number in range \[0, 1\]"),
    (lambda: nn.GRU(3.0, 4), TypeError, "input_size should be of type int, got: float"),
    (lambda: nn.GRU(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.GRU(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.GRU(3, 4, bias=1), TypeError, "bias should be of type bool, got: int"),
    (lambda: nn.GRU(3, 4, batch_first="yes"), TypeError, "batch_first should be of type bool, got: str"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def _call(module, *args):
    return lambda: module(*args)


r, lstm, gru = nn.RNN(3, 4, num_layers=2), nn.LSTM(3, 4), nn.GRU(3, 4, batch_first=True)
rc, lc, gc = nn.RNNCell(3, 4, nonlinearity="gelu"), nn.LSTMCell(3, 4), nn.GRUCell(3, 4)
z = descend.zeros


@pytest.mark.parametrize("call,exc,match", [
    (_call(r, z(2, 2, 2, 3)), ValueError, "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
    (_call(lstm, z(3)), ValueError, "LSTM: Expected input to be 2D or 3D, got 1D instead"),
    (_call(r, z(5, 2, 2)), RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"),
    (_call(r, z(5, 2, 3), z(2, 3, 4)), RuntimeError, r"Expected hidden size \(2, 2, 4\), got \[2, 3, 4\]"),
    (_call(gru, z(2, 5, 3), z(1, 5, 4)), RuntimeError, r"Expected hidden size \(1, 2, 4\), got \[1, 5, 4\]"),
    (_call(r, z(5, 2, 3), z(2, 4)), RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D"),
    (_call(gru, z(5, 3), z(1, 1, 4)), RuntimeError,
     "For unbatched 2-D input, hx should also be 2-D but got 3-D"),
    (_call(lstm, z(5, 3), (z(1, 4), z(1, 1, 4))), RuntimeError,
     r"For unbatched 2-D input, hx and cx should also be 2-D but got \(2-D, 3-D\) tensors"),
    (_call(lstm, z(5, 2, 3), (z(1, 2, 4), z(1, 3, 4))), RuntimeError,
     r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 3, 4\]"),
    (_call(lstm, z(5, 2, 3), z(1, 2, 4)), TypeError, r"hx must be a tuple \(h_0, c_0\)"),
    (_call(lstm, z(0, 2, 3)), RuntimeError, "Expected sequence length to be larger than 0 in LSTM"),
    (_call(r, z(5, 2, 3, dtype=descend.float64)), ValueError,
     r"RNN input dtype \(float64\) does not match weight dtype \(float32\)"),
    (_call(lc, z(2, 2, 3)), ValueError, "LSTMCell: Expected input to be 1D or 2D, got 3D instead"),
    (_call(lc, z(2, 3), (z(2, 4), z(1, 2, 4))), ValueError,
     r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D"),
    (_call(gc, z(2, 3), z(1, 2, 4)), ValueError, "GRUCell: Expected hidden to be 1D or 2D, got 3D instead"),
    (_call(gc, z(2, 5)), RuntimeError, "input has inconsistent input_size: got 5 expected 3"),
    (_call(gc, z(2, 3), z(3, 4)), RuntimeError, "Input batch size 2 doesn't match hidden0 batch size 3"),
    (_call(lc, z(2, 3), (z(2, 4), z(2, 5))), RuntimeError,
     "hidden1 has inconsistent hidden_size: got 5, expected 4"),
    (_call(rc, z(2, 3)), RuntimeError, "Unknown nonlinearity: gelu"),
])
def test_forward_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
