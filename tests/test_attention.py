"""einsum with '...', scaled_dot_product_attention, MultiheadAttention and the Transformer encoder:
values from NumPy formulas, masking behaviour, finite-difference gradients and the error messages."""

import copy
import math

import numpy as np
import pytest

import descend
import descend.nn.functional as F
from descend import gradcheck


def t64(a, requires_grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), dtype=descend.float64, requires_grad=requires_grad)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- einsum with ellipsis ---


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]),
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 4)]),
        ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
        ("...ij", [(2, 3, 4)]),
        ("...ii", [(4, 2, 2)]),
        ("...ij->...j", [(2, 3, 4)]),
        ("ij...,jk...->ik...", [(2, 3, 1), (3, 4, 5)]),
        ("...,...", [(2, 3), (3,)]),
        ("ba,...", [(2, 3), (5,)]),
    ],
)
def test_einsum_ellipsis_matches_numpy_and_gradchecks(rng, equation, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    out = descend.einsum(equation, *[t64(a) for a in arrays])
    np.testing.assert_allclose(out._data, np.einsum(equation, *arrays), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *xs: descend.einsum(equation, *xs), tuple(t64(a) for a in arrays))


def test_einsum_implicit_output_puts_ellipsis_dims_first_then_letters_sorted():
    # PyTorch: "...ij" is (..., i, j) and "ba,..." is (..., a, b): letters alphabetical, upper case first
    assert descend.einsum("ba,...", descend.ones(2, 3), descend.ones(5)).shape == (5, 3, 2)
    assert descend.einsum("Ba,aB", descend.ones(2, 3), descend.ones(3, 2)).shape == ()
    assert descend.einsum("...ii", descend.ones(4, 2, 2)).shape == (4,)
    # an ellipsis missing from an explicit output is summed over (NumPy refuses this one)
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(descend.einsum("...ij->i", descend.tensor(x))._data, x.sum((0, 2)))


def test_einsum_sums_a_letter_found_in_one_operand_only_and_its_gradient_is_ones():
    # was: ValueError from NumPy in backward ("output subscript 'j' which never appeared in an input")
    x = t64(np.arange(6.0).reshape(2, 3))
    y = descend.einsum("ij->i", x)
    np.testing.assert_array_equal(y._data, [3.0, 12.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.ones((2, 3)))


def test_einsum_broadcasts_a_size_one_letter_and_sums_its_gradient():
    a, b = t64([2.0]), t64([1.0, 2.0, 3.0])
    out = descend.einsum("i,i->i", a, b)
    np.testing.assert_array_equal(out._data, [2.0, 4.0, 6.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad._data, [6.0])
    np.testing.assert_array_equal(b.grad._data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "equation,shapes,message",
    [
        (
            "...ijk",
            [(2, 3)],
            r"number of subscripts in the equation \(3\) is more than the number of dimensions \(2\)",
        ),
        ("ij", [(2, 3, 4)], "no ellipsis was given"),
        ("i.j", [(2, 3)], "not part of any ellipsis"),
        ("...i,...i", [(2, 3), (4, 3)], "covered by ellipsis in operand 1 has size 4"),
        ("ij,jk", [(2, 3), (4, 5)], "subscript j has size 4 for operand 1"),
        ("ij->k", [(2, 3)], "output subscript k does not appear"),
    ],
)
def test_einsum_errors_name_the_problem(equation, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        descend.einsum(equation, *[descend.ones(s) for s in shapes])


# --- scaled_dot_product_attention ---


def test_sdpa_is_softmax_of_scaled_scores_times_values(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v))
    expected = _softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(4)) @ v
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), scale=0.25)
    np.testing.assert_allclose(out._data, _softmax(q @ np.swapaxes(k, -1, -2) * 0.25) @ v, rtol=1e-12)


def test_sdpa_one_query_two_keys_by_hand():
    # q = [1, 0]; keys [1, 0] and [0, 1]: scores 1/sqrt(2) and 0, weights sigmoid(+-1/sqrt(2))
    out = F.scaled_dot_product_attention(
        t64([[1.0, 0.0]]), t64([[1.0, 0.0], [0.0, 1.0]]), t64([[10.0], [20.0]])
    )
    w0 = 1 / (1 + math.exp(-1 / math.sqrt(2)))
    np.testing.assert_allclose(out._data, [[10 * w0 + 20 * (1 - w0)]], rtol=1e-12)


def test_sdpa_masks_bool_keeps_true_and_float_adds(rng):
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    keep = rng.random((3, 5)) > 0.4
    keep[:, 0] = True
    scores = q @ k.T / 2.0
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=descend.tensor(keep))
    np.testing.assert_allclose(out._data, _softmax(np.where(keep, scores, -np.inf)) @ v, rtol=1e-12)
    bias = rng.standard_normal((3, 5))
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=t64(bias, False))
    np.testing.assert_allclose(out._data, _softmax(scores + bias) @ v, rtol=1e-12)


def test_sdpa_causal_ignores_the_future_upper_left_aligned(rng):
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 2))
    out = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:], v2[:, 4:] = 100.0, -100.0  # query i sees keys 0..i only: keys 4 and 5 are never seen
    out2 = F.scaled_dot_product_attention(t64(q), t64(k2), t64(v2), is_causal=True)
    np.testing.assert_allclose(out._data, out2._data, rtol=1e-12)
    # the first query sees only the first key: its output is the first value
    np.testing.assert_allclose(out._data[:, 0], v[:, 0], rtol=1e-12)


def test_sdpa_row_without_keys_gives_zero_and_zero_gradient(rng):
    q, k, v = (
        t64(rng.standard_normal((2, 3))),
        t64(rng.standard_normal((4, 3))),
        t64(rng.standard_normal((4, 2))),
    )
    keep = np.ones((2, 4), bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=descend.tensor(keep))
    np.testing.assert_array_equal(out._data[1], [0.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(q.grad._data[1], [0.0, 0.0, 0.0])
    assert np.isfinite(k.grad._data).all()


def test_sdpa_gradcheck_with_masks_and_gqa(rng):
    q, k, v = (
        t64(rng.standard_normal((2, 4, 3, 2))),
        t64(rng.standard_normal((2, 2, 3, 2))),
        t64(rng.standard_normal((2, 2, 3, 3))),
    )
    bias = t64(rng.standard_normal((3, 3)))
    assert gradcheck(
        lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b, enable_gqa=True),
        (q, k, v, bias),
    )
    assert gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), (q, k, v)
    )


def test_sdpa_dropout_zeroes_weights_and_rescales(rng):
    q, k, v = t64(rng.standard_normal((3, 2))), t64(rng.standard_normal((4, 2))), t64(np.eye(4))
    descend.manual_seed(0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)._data  # v = I: the output is the weights
    w = _softmax(q._data @ k._data.T / math.sqrt(2))
    kept = out != 0
    assert 0 < kept.sum() < out.size
    np.testing.assert_allclose(out[kept], 2 * w[kept], rtol=1e-12)


def test_sdpa_errors_name_the_shapes():
    q = k = v = descend.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \[4, 3\] does not broadcast .* \[2, 3, 3\]"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=descend.ones(4, 3))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=descend.ones(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match=r"\[2, 3, 4\], \[2, 3, 5\] and \[2, 3, 4\]"):
        F.scaled_dot_product_attention(q, descend.ones(2, 3, 5), v)


# --- MultiheadAttention ---


def _set_identity(mha):
    """W_q = W_k = W_v = W_o = I, zero biases: the module is then plain attention on its inputs."""
    E = mha.embed_dim
    with descend.no_grad():
        mha.in_proj_weight.copy_(descend.tensor(np.tile(np.eye(E), (3, 1)), dtype=mha.in_proj_weight.dtype))
        mha.out_proj.weight.copy_(descend.tensor(np.eye(E), dtype=mha.out_proj.weight.dtype))


def test_one_head_attention_with_identity_weights_is_the_formula(rng):
    mha = descend.nn.MultiheadAttention(3, 1, dtype=descend.float64)
    _set_identity(mha)
    x = rng.standard_normal((4, 2, 3))  # (L, N, E)
    out, w = mha(t64(x), t64(x), t64(x))
    xb = np.swapaxes(x, 0, 1)  # (N, L, E)
    weights = _softmax(xb @ np.swapaxes(xb, -1, -2) / math.sqrt(3))
    np.testing.assert_allclose(w._data, weights, rtol=1e-12)
    np.testing.assert_allclose(out._data, np.swapaxes(weights @ xb, 0, 1), rtol=1e-12)


def test_mha_parameters_are_pytorchs():
    mha = descend.nn.MultiheadAttention(8, 2)
    shapes = {k: tuple(v.shape) for k, v in mha.state_dict().items()}
    assert shapes == {
        "in_proj_weight": (24, 8),
        "in_proj_bias": (24,),
        "out_proj.weight": (8, 8),
        "out_proj.bias": (8,),
    }
    assert not mha.in_proj_bias._data.any() and not mha.out_proj.bias._data.any()
    bound = math.sqrt(6 / (8 + 24))  # xavier_uniform_ on (24, 8)
    assert np.abs(mha.in_proj_weight._data).max() <= bound
    mha = descend.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True, bias=False)
    shapes = {k: tuple(v.shape) for k, v in mha.state_dict().items()}
    assert shapes == {
        "q_proj_weight": (6, 6),
        "k_proj_weight": (6, 4),
        "v_proj_weight": (6, 5),
        "bias_k": (1, 1, 6),
        "bias_v": (1, 1, 6),
        "out_proj.weight": (6, 6),
    }
    assert mha.in_proj_weight is None and mha.in_proj_bias is None


def test_mha_key_padding_mask_gives_padded_keys_no_weight(rng):
    mha = descend.nn.MultiheadAttention(4, 2, batch_first=True, dtype=descend.float64)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    pad = np.zeros((2, 5), bool)
    pad[0, 3:] = True
    out, w = mha(t64(q), t64(kv), t64(kv), key_padding_mask=descend.tensor(pad), average_attn_weights=False)
    assert w.shape == (2, 2, 3, 5)
    np.testing.assert_array_equal(w._data[0, :, :, 3:], 0.0)
    np.testing.assert_allclose(w._data.sum(-1), 1.0, rtol=1e-12)
    kv2 = kv.copy()
    kv2[0, 3:] = 50.0
    out2, _ = mha(t64(q), t64(kv2), t64(kv2), key_padding_mask=descend.tensor(pad))
    np.testing.assert_allclose(out2._data, out._data, rtol=1e-12)


def test_mha_averaged_weights_are_the_mean_over_heads(rng):
    mha = descend.nn.MultiheadAttention(4, 2, dtype=descend.float64)
    x = t64(rng.standard_normal((3, 2, 4)))
    _, per_head = mha(x, x, x, average_attn_weights=False)
    _, mean = mha(x, x, x)
    np.testing.assert_allclose(mean._data, per_head._data.mean(1), rtol=1e-12)
    out, none = mha(x, x, x, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out._data, mha(x, x, x)[0]._data, rtol=1e-12)


def test_mha_causal_mask_ignores_the_future(rng):
    mha = descend.nn.MultiheadAttention(4, 2, dtype=descend.float64)
    mask = descend.nn.Transformer.generate_square_subsequent_mask(4, dtype=descend.float64)
    x = rng.standard_normal((4, 1, 4))
    out, w = mha(t64(x), t64(x), t64(x), attn_mask=mask)
    np.testing.assert_array_equal(np.triu(w._data[0], 1), 0.0)
    x2 = x.copy()
    x2[3] = 9.0
    out2, _ = mha(t64(x2), t64(x2), t64(x2), attn_mask=mask, need_weights=False, is_causal=True)
    np.testing.assert_allclose(out2._data[:3], out._data[:3], rtol=1e-12)


def test_mha_gradcheck_in_float64(rng):
    mha = descend.nn.MultiheadAttention(4, 2, add_bias_kv=True, kdim=3, vdim=2, dtype=descend.float64)
    q, k, v = (
        t64(rng.standard_normal((3, 2, 4))),
        t64(rng.standard_normal((2, 2, 3))),
        t64(rng.standard_normal((2, 2, 2))),
    )
    assert gradcheck(lambda q, k, v: mha(q, k, v)[0], (q, k, v))
    params = list(mha.parameters())
    assert gradcheck(lambda *ps: _with_params(mha, ps, q, k, v), tuple(params))


def _with_params(mha, ps, q, k, v):
    # the module's own parameters are the inputs gradcheck perturbs in place
    return mha(q, k, v, need_weights=False)[0]


def test_mha_errors_name_the_problem():
    with pytest.raises(
        AssertionError,
        match=r"embed_dim must be divisible by num_heads \(got embed_dim=5, "
        r"num_heads=2\)",
    ):
        descend.nn.MultiheadAttention(5, 2)
    mha = descend.nn.MultiheadAttention(4, 2)
    x = descend.ones(3, 2, 4)
    with pytest.raises(
        RuntimeError, match=r"The shape of the 2D attn_mask is \[3, 4\], but should be \[3, 3\]"
    ):
        mha(x, x, x, attn_mask=descend.zeros(3, 4))
    with pytest.raises(
        RuntimeError, match=r"The shape of the 3D attn_mask is \[2, 3, 3\], but should be \[4, 3, 3\]"
    ):
        mha(x, x, x, attn_mask=descend.zeros(2, 3, 3))
    with pytest.raises(
        AssertionError, match=r"expecting key_padding_mask shape of \[2, 3\], but got \[3, 2\]"
    ):
        mha(x, x, x, key_padding_mask=descend.zeros(3, 2))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)


# --- Transformer encoder ---


def test_generate_square_subsequent_mask_is_minus_inf_above_the_diagonal():
    m = descend.nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == descend.float32
    np.testing.assert_array_equal(m._data, [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])


def test_encoder_layer_post_norm_by_formula(rng):
    layer = descend.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, dtype=descend.float64)
    x = t64(rng.standard_normal((3, 2, 4)))
    sa = layer.self_attn(x, x, x, need_weights=False)[0]
    h = layer.norm1(x + sa)
    expected = layer.norm2(h + layer.linear2(F.relu(layer.linear1(h))))
    np.testing.assert_allclose(layer(x)._data, expected._data, rtol=1e-12)
    r = x._data + sa._data
    ln = (r - r.mean(-1, keepdims=True)) / np.sqrt(r.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(h._data, ln, rtol=1e-10)


def test_encoder_deep_copies_the_layer_and_is_causal_hides_the_future(rng):
    layer = descend.nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=6, dropout=0.0, batch_first=True, norm_first=True, dtype=descend.float64
    )
    enc = descend.nn.TransformerEncoder(
        layer, num_layers=2, norm=descend.nn.LayerNorm(4, dtype=descend.float64)
    )
    assert enc.layers[0] is not enc.layers[1] and enc.layers[0] is not layer
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[0].linear1.weight._data, layer.linear1.weight._data)
    assert list(enc.state_dict())[0] == "layers.0.self_attn.in_proj_weight"
    mask = descend.nn.Transformer.generate_square_subsequent_mask(5, dtype=descend.float64)
    x = rng.standard_normal((2, 5, 4))
    out = enc(t64(x), mask=mask, is_causal=True)
    x2 = x.copy()
    x2[:, 4] = 7.0
    out2 = enc(t64(x2), mask=mask)
    np.testing.assert_allclose(out2._data[:, :4], out._data[:, :4], rtol=1e-12)
    assert not np.allclose(out2._data[:, 4], out._data[:, 4])


def test_encoder_key_padding_mask_makes_padded_positions_irrelevant(rng):
    layer = descend.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, dtype=descend.float64)
    enc = descend.nn.TransformerEncoder(layer, num_layers=2)
    x = rng.standard_normal((4, 2, 4))
    pad = np.zeros((2, 4), bool)
    pad[1, 2:] = True
    out = enc(t64(x), src_key_padding_mask=descend.tensor(pad))
    x2 = x.copy()
    x2[2:, 1] = -3.0
    out2 = enc(t64(x2), src_key_padding_mask=descend.tensor(pad))
    np.testing.assert_allclose(out2._data[:2, 1], out._data[:2, 1], rtol=1e-12)
    np.testing.assert_allclose(out2._data[:, 0], out._data[:, 0], rtol=1e-12)


def test_encoder_layer_gradcheck_in_float64(rng):
    layer = descend.nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=5, dropout=0.0, activation="gelu", dtype=descend.float64
    )
    x = t64(rng.standard_normal((3, 2, 4)))
    mask = descend.nn.Transformer.generate_square_subsequent_mask(3, dtype=descend.float64)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (x,))


def test_encoder_layer_rejects_unknown_activation_and_copies_cleanly():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        descend.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    layer = descend.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6)
    clone = copy.deepcopy(layer)
    assert clone.self_attn.in_proj_weight is not layer.self_attn.in_proj_weight


def test_transformer_decoder_shapes_and_final_norm(rng):
    model = descend.nn.Transformer(
        d_model=4,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=2,
        dim_feedforward=6,
        dropout=0.0,
        batch_first=True,
    )
    src, tgt = descend.randn(2, 5, 4), descend.randn(2, 3, 4)
    out = model(src, tgt, tgt_mask=descend.nn.Transformer.generate_square_subsequent_mask(3))
    assert out.shape == (2, 3, 4)
    np.testing.assert_allclose(out._data.mean(-1), 0.0, atol=1e-6)  # the decoder's final LayerNorm
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(src, descend.randn(3, 3, 4))
