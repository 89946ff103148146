"""nn.utils.rnn (packing, padding) and the recurrent layers on packed input, LSTM's proj_size: values by hand
and by formula, gradients through pack and unpack, PyTorch's error messages."""

import math

import numpy as np
import pytest

import descend
from descend import nn
from descend.autograd import no_grad
from descend.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


def _np(t):
    return t.detach().numpy()


def _f64(values):
    return descend.tensor(values, dtype=descend.float64)


def _set(module, **values):
    with no_grad():
        for name, value in values.items():
            p = getattr(module, name)
            p._data[...] = np.asarray(value, dtype=p._data.dtype).reshape(p.shape)


# a padded batch (L=3, N=3) whose column b is sequence b: [1, 2, 3], [4, 5], [6]
PADDED = [[1, 4, 6], [2, 5, 0], [3, 0, 0]]


# --- packing and padding, by hand ---


def test_pack_padded_sequence_data_and_batch_sizes():
    p = pack_padded_sequence(descend.tensor(PADDED), [3, 2, 1])
    assert isinstance(p, PackedSequence) and isinstance(p, tuple)
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert p.data.tolist() == [1, 4, 6, 2, 5, 3]  # step 0 of all three, step 1 of two, step 2 of one
    assert p.batch_sizes.tolist() == [3, 2, 1] and p.batch_sizes.dtype == descend.int64
    assert p.sorted_indices is None and p.unsorted_indices is None


def test_pack_batch_first_and_lengths_as_tensor_give_the_same_packing():
    batch_first = descend.tensor(PADDED).transpose(0, 1)
    p = pack_padded_sequence(batch_first, descend.tensor([3, 2, 1]), batch_first=True)
    assert p.data.tolist() == [1, 4, 6, 2, 5, 3] and p.batch_sizes.tolist() == [3, 2, 1]


def test_pad_packed_sequence_round_trip_with_padding_value_and_total_length():
    p = pack_padded_sequence(descend.tensor(PADDED), [3, 2, 1])
    padded, lengths = pad_packed_sequence(p, padding_value=-1)
    assert padded.tolist() == [[1, 4, 6], [2, 5, -1], [3, -1, -1]]
    assert lengths.tolist() == [3, 2, 1] and lengths.dtype == descend.int64
    padded, _ = pad_packed_sequence(p, batch_first=True, total_length=4)
    assert padded.tolist() == [[1, 2, 3, 0], [4, 5, 0, 0], [6, 0, 0, 0]]


def test_unsorted_lengths_are_sorted_longest_first_and_restored():
    # sequences [1], [2, 3, 4], [5, 6] as columns of (L=3, N=3)
    x = descend.tensor([[1, 2, 5], [0, 3, 6], [0, 4, 0]])
    p = pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False)
    assert p.sorted_indices.tolist() == [1, 2, 0]
    assert p.unsorted_indices.tolist() == [2, 0, 1]
    assert p.data.tolist() == [2, 5, 1, 3, 6, 4]
    assert p.batch_sizes.tolist() == [3, 2, 1]
    padded, lengths = pad_packed_sequence(p)
    assert padded.tolist() == x.tolist() and lengths.tolist() == [1, 3, 2]


def test_unsorted_ties_keep_their_order():
    p = pack_padded_sequence(descend.tensor([[1, 2, 3], [4, 5, 0]]), [1, 2, 2], enforce_sorted=False)
    assert p.sorted_indices.tolist() == [1, 2, 0]
    assert p.data.tolist() == [2, 3, 1, 5, 0]  # step 0: columns 1, 2, 0; step 1: columns 1, 2


def test_pad_sequence_right_left_and_batch_first():
    seqs = [descend.tensor([1, 2, 3]), descend.tensor([4])]
    assert pad_sequence(seqs).tolist() == [[1, 4], [2, 0], [3, 0]]
    assert pad_sequence(seqs, batch_first=True, padding_value=9).tolist() == [[1, 2, 3], [4, 9, 9]]
    assert pad_sequence(seqs, batch_first=True, padding_side="left").tolist() == [[1, 2, 3], [0, 0, 4]]
    two_d = pad_sequence([descend.ones(2, 2), descend.ones(1, 2)])
    assert two_d.shape == (2, 2, 2) and two_d[1, 1].tolist() == [0.0, 0.0]


def test_pack_sequence_unpack_sequence_and_unpad_sequence():
    seqs = [descend.tensor([1, 2]), descend.tensor([3, 4, 5]), descend.tensor([6])]
    p = pack_sequence(seqs, enforce_sorted=False)
    assert p.data.tolist() == [3, 1, 6, 4, 2, 5] and p.batch_sizes.tolist() == [3, 2, 1]
    assert [s.tolist() for s in unpack_sequence(p)] == [[1, 2], [3, 4, 5], [6]]
    padded = pad_sequence(seqs)
    before = padded.tolist()
    assert [s.tolist() for s in unpad_sequence(padded, descend.tensor([2, 3, 1]))] == [[1, 2], [3, 4, 5], [6]]
    assert padded.tolist() == before  # left as it was (PyTorch transposes it in place)
    assert [s.tolist() for s in unpad_sequence(padded.transpose(0, 1), [2, 3, 1], batch_first=True)] == [
        [1, 2], [3, 4, 5], [6]]


def test_packed_sequence_conversions_and_constructor():
    p = pack_padded_sequence(_f64(PADDED), [3, 2, 1])
    assert p.float().data.dtype == descend.float32
    assert p.double() is p and p.to(descend.float64) is p
    assert p.long().data.tolist() == [1, 4, 6, 2, 5, 3]
    assert p.to(descend.float32).batch_sizes is p.batch_sizes
    q = PackedSequence(p.data, p.batch_sizes, descend.tensor([2, 0, 1]))
    assert q.unsorted_indices.tolist() == [1, 2, 0]
    data, batch_sizes, sorted_indices, unsorted_indices = q
    assert batch_sizes is p.batch_sizes and sorted_indices.tolist() == [2, 0, 1]


# --- gradients through pack and unpack ---


def test_pack_gradient_lands_on_the_packed_positions_only():
    x = _f64([[1.0, 4.0], [2.0, 0.0]]).requires_grad_()
    p = pack_padded_sequence(x, [2, 1])  # data = x[0,0], x[0,1], x[1,0]
    (p.data * _f64([10.0, 20.0, 30.0])).sum().backward()
    assert x.grad.tolist() == [[10.0, 20.0], [30.0, 0.0]]


def test_pad_packed_gradient_skips_the_padding_and_follows_the_unsorting():
    data = _f64([5.0, 6.0, 7.0]).requires_grad_()  # sorted order: sequence 1 (length 2) then 0 (length 1)
    p = PackedSequence(data, descend.tensor([2, 1]), descend.tensor([1, 0]))
    padded, lengths = pad_packed_sequence(p, padding_value=-3.0)
    assert padded.tolist() == [[6.0, 5.0], [-3.0, 7.0]] and lengths.tolist() == [1, 2]
    (padded * _f64([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert data.grad.tolist() == [2.0, 1.0, 4.0]


# --- recurrent layers over packed sequences, by formula ---


def _rnn_1unit(a, b, xs, h0=0.0, reverse=False):
    """tanh(a x_t + b h_(t-1)) over xs (backwards in time with reverse): the list of h_t in time order."""
    hs, h = [], h0
    for x in (xs[::-1] if reverse else xs):
        h = math.tanh(a * x + b * h)
        hs.append(h)
    return hs[::-1] if reverse else hs


def test_one_unit_rnn_over_packed_lengths_by_formula():
    rnn = nn.RNN(1, 1, bias=False).double()
    a, b = 0.7, -0.4
    _set(rnn, weight_ih_l0=a, weight_hh_l0=b)
    seqs = [[0.5, -1.0], [1.0, 2.0, -0.5], [0.3]]  # lengths 2, 3, 1: not sorted
    lengths = [len(s) for s in seqs]
    x = _f64([[s[t] if t < len(s) else 99.0 for s in seqs] for t in range(3)])[..., None]
    h0 = [0.2, -0.1, 0.6]
    out, h_n = rnn(pack_padded_sequence(x, lengths, enforce_sorted=False), _f64(h0).reshape(1, 3, 1))
    assert isinstance(out, PackedSequence)
    padded, out_lengths = pad_packed_sequence(out)
    assert out_lengths.tolist() == lengths
    for k, s in enumerate(seqs):
        expected = _rnn_1unit(a, b, s, h0[k])
        np.testing.assert_allclose(_np(padded)[: len(s), k, 0], expected, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(_np(padded)[len(s):, k, 0], 0.0)  # the padding, not the 99s
        assert h_n[0, k, 0].item() == pytest.approx(expected[-1], abs=1e-15)  # each at its own length


def test_bidirectional_packed_reverse_direction_starts_at_each_sequence_end():
    rnn = nn.RNN(1, 1, bias=False, bidirectional=True, batch_first=True).double()
    a, b, ar, br = 0.7, -0.4, -0.3, 0.9
    _set(rnn, weight_ih_l0=a, weight_hh_l0=b, weight_ih_l0_reverse=ar, weight_hh_l0_reverse=br)
    seqs = [[1.0, 2.0, -0.5], [0.5, -1.0]]
    x = _f64([[1.0, 2.0, -0.5], [0.5, -1.0, 50.0]])[..., None]
    out, h_n = rnn(pack_padded_sequence(x, [3, 2], batch_first=True))
    padded, _ = pad_packed_sequence(out, batch_first=True)
    assert padded.shape == (2, 3, 2)
    for k, s in enumerate(seqs):
        fwd, bwd = _rnn_1unit(a, b, s), _rnn_1unit(ar, br, s, reverse=True)
        np.testing.assert_allclose(_np(padded)[k, : len(s), 0], fwd, rtol=0, atol=1e-15)
        np.testing.assert_allclose(_np(padded)[k, : len(s), 1], bwd, rtol=0, atol=1e-15)
        assert h_n[0, k, 0].item() == pytest.approx(fwd[-1], abs=1e-15)
        assert h_n[1, k, 0].item() == pytest.approx(bwd[0], abs=1e-15)  # the reverse pass ends at t = 0


def test_packed_gradient_reaches_the_padded_input_but_not_its_padding():
    for module in (nn.RNN(2, 3), nn.LSTM(2, 3, num_layers=2), nn.GRU(2, 3, bidirectional=True)):
        x = descend.randn(4, 3, 2, requires_grad=True)
        out, _ = module(pack_padded_sequence(x, [1, 4, 2], enforce_sorted=False))
        pad_packed_sequence(out)[0].sum().backward()
        g = _np(x.grad)
        for k, n in enumerate([1, 4, 2]):
            assert np.all(g[n:, k] == 0.0)
            assert np.any(g[:n, k] != 0.0)


def test_packed_layer_matches_each_sequence_run_alone():
    gru = nn.GRU(2, 3, num_layers=2, bidirectional=True).double()
    seqs = [descend.randn(n, 2, dtype=descend.float64) for n in (2, 5, 3)]
    out, h_n = gru(pack_sequence(seqs, enforce_sorted=False))
    for k, (s, o) in enumerate(zip(seqs, unpack_sequence(out))):
        alone, h_alone = gru(s)  # unbatched: (L, H_in)
        np.testing.assert_allclose(_np(o), _np(alone), rtol=0, atol=1e-14)
        np.testing.assert_allclose(_np(h_n[:, k]), _np(h_alone), rtol=0, atol=1e-14)


# --- LSTM proj_size ---


def test_lstm_proj_size_parameters_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True)
    shapes = {name: tuple(p.shape) for name, p in lstm.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert shapes["weight_hh_l0"] == (20, 2) and shapes["weight_hr_l0"] == (2, 5)
    assert shapes["weight_ih_l1"] == (20, 4)  # layer 1 reads both directions' projected h
    out, (h_n, c_n) = lstm(descend.randn(6, 4, 3))
    assert out.shape == (6, 4, 4) and h_n.shape == (4, 4, 2) and c_n.shape == (4, 4, 5)
    out, (h_n, c_n) = lstm(descend.randn(6, 3))  # unbatched
    assert out.shape == (6, 4) and h_n.shape == (4, 2) and c_n.shape == (4, 5)
    assert repr(lstm) == "LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True)"


def test_lstm_proj_size_one_step_by_hand():
    lstm = nn.LSTM(1, 2, proj_size=1, bias=False).double()
    wi = [0.5, -0.3, 0.8, 0.1, 0.2, 0.4, -0.6, 0.7]  # gates i, f, g, o for units 0 and 1
    wh = [0.3, -0.2, 0.1, 0.6, -0.5, 0.2, 0.4, -0.1]
    wr = [0.9, -1.2]
    _set(lstm, weight_ih_l0=wi, weight_hh_l0=wh, weight_hr_l0=wr)
    x, h, c = 1.5, -0.4, [0.25, -0.5]
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    pre = [wi[k] * x + wh[k] * h for k in range(8)]
    i, f, g, o = (pre[2 * q: 2 * q + 2] for q in range(4))
    c1 = [sig(f[u]) * c[u] + sig(i[u]) * math.tanh(g[u]) for u in range(2)]
    h_unproj = [sig(o[u]) * math.tanh(c1[u]) for u in range(2)]
    h1 = wr[0] * h_unproj[0] + wr[1] * h_unproj[1]
    out, (h_n, c_n) = lstm(_f64([[[x]]]), (_f64([[[h]]]), _f64([[c]])))
    assert out.item() == pytest.approx(h1, abs=1e-15) and h_n.item() == pytest.approx(h1, abs=1e-15)
    np.testing.assert_allclose(_np(c_n).ravel(), c1, rtol=0, atol=1e-15)


def test_lstm_proj_size_seed_gives_weights_in_registration_order():
    descend.manual_seed(3)
    lstm = nn.LSTM(2, 3, proj_size=1)
    descend.manual_seed(3)
    stdv = 1 / math.sqrt(3)
    for p in lstm.parameters():  # every weight, weight_hr included, from U(-1/sqrt(hidden), 1/sqrt(hidden))
        expected = descend.empty(*p.shape).uniform_(-stdv, stdv)
        np.testing.assert_array_equal(_np(p), _np(expected))


# --- errors, with PyTorch's messages ---


@pytest.mark.parametrize("call, exc, match", [
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), [4, 2, 3]), RuntimeError,
     "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), [4, 3, 0]), RuntimeError,
     "Length of all samples has to be greater than 0"),
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), [0, 3, 2], enforce_sorted=False), RuntimeError,
     "Length of all samples has to be greater than 0"),
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), [4, 3]), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), [5, 3, 2]), RuntimeError,
     r"longest length in 'lengths' \(5\) exceeds the input's sequence length \(4\)"),
    (lambda: pack_padded_sequence(descend.zeros(4, 3, 2), descend.tensor([[4, 3, 2]])), RuntimeError,
     "'lengths' argument should be a 1D CPU int64 tensor, but got 2D"),
    (lambda: pack_padded_sequence(descend.zeros(0, 3, 2), [1, 1, 1]), RuntimeError,
     "Cannot pack empty tensors"),
    (lambda: pad_packed_sequence(pack_padded_sequence(descend.zeros(3, 2), [3, 2]), total_length=2),
     ValueError, "but got total_length=2 and max sequence length being 3"),
    (lambda: pad_sequence([descend.zeros(2)], padding_side="up"), RuntimeError,
     "Expected padding_side to be one of left or right, but got up."),
    (lambda: pad_sequence([]), RuntimeError, "received an empty list of sequences"),
    (lambda: pad_sequence([descend.zeros(2, 3), descend.zeros(1, 2)]), RuntimeError,
     r"sequence 1 has trailing dimensions \(2,\), expected \(3,\)"),
    (lambda: unpad_sequence(descend.zeros(3, 2), [3, 1, 1]), ValueError, "3 lengths for a batch of 2"),
    (lambda: nn.GRU(2, 3)(PackedSequence(descend.zeros(5, 2, 1), descend.tensor([3, 2]))), RuntimeError,
     "input must have 2 dimensions, got 3"),
    (lambda: nn.LSTM(2, 3)(pack_padded_sequence(descend.zeros(4, 3, 2), [4, 2, 1]),
                           (descend.zeros(1, 3, 3), descend.zeros(1, 2, 3))), RuntimeError,
     r"Expected hidden\[1\] size \(1, 3, 3\), got \[1, 2, 3\]"),
    (lambda: nn.LSTM(2, 3, proj_size=2)(descend.zeros(4, 3, 2), (descend.zeros(1, 3, 3),) * 2), RuntimeError,
     r"Expected hidden\[0\] size \(1, 3, 2\), got \[1, 3, 3\]"),
    (lambda: nn.LSTM(2, 3, proj_size=2)(descend.zeros(4, 3, 2), (descend.zeros(1, 3, 2),) * 2), RuntimeError,
     r"Expected hidden\[1\] size \(1, 3, 3\), got \[1, 3, 2\]"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_nn_utils_is_a_package_with_the_old_names():
    import descend.nn.utils
    import descend.nn.utils.rnn

    assert callable(descend.nn.utils.clip_grad_norm_) and callable(descend.nn.utils.clip_grad_value_)
    assert descend.nn.utils.rnn.pad_sequence is pad_sequence
