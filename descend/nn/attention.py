"""Attention and Transformers: `MultiheadAttention`, the Transformer encoder and decoder, `Transformer`.

Composites of `F.linear`, `F.scaled_dot_product_attention`, softmax, dropout and `LayerNorm`, so
autograd gives their gradients. They follow PyTorch's `torch.nn.functional.multi_head_attention_forward`
and `torch.nn.Transformer*` step by step: the same parameters (names, shapes, registration order,
`state_dict` keys), the same initialisation drawn in the same order (so `manual_seed(0)` gives
PyTorch's weights), the same mask conventions and the same dropout draws in training mode. Masks
given to these modules mark with True what may NOT be attended (`key_padding_mask`, bool
`attn_mask`), as PyTorch's do; a float mask is added to the scores. PyTorch's inference fast path
(nested tensors, fused kernels) gives the same numbers up to rounding and is not reproduced.

Example:
    >>> import descend as torch
    >>> layer = torch.nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
    >>> encoder = torch.nn.TransformerEncoder(layer, num_layers=2)
    >>> src = torch.randn(3, 7, 16)
    >>> mask = torch.nn.Transformer.generate_square_subsequent_mask(7)
    >>> encoder(src, mask=mask, is_causal=True).shape
    descend.Size([3, 7, 16])
    >>> mha = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    >>> out, weights = mha(src, src, src)
    >>> weights.shape
    descend.Size([3, 7, 7])
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import functional as F
from .. import ops
from ..tensor import _wrap, from_numpy
from . import init
from .layers import Dropout, LayerNorm, Linear, ModuleList, _check_device, _param_dtype
from .module import Module, Parameter

__all__ = [
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for MultiheadAttention's out_proj: a plain `Linear` (descend does not quantize)."""


def _canonical_mask(mask, name, dtype):
    """A bool mask (True = masked out) as a float one (-inf where True, 0 elsewhere); a float mask as is."""
    if mask is None:
        return None
    m = ops._tensor(mask)
    if m._data.dtype == np.bool_:
        return _wrap(np.where(m._data, -np.inf, 0.0).astype(dtype))
    if m._data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return m


def _shape(x):
    return list(x.shape)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D query) or not (2-D), with PyTorch's checks and messages."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found "
                f"{key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found "
                f"{key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                    f"{attn_mask.ndim}-D tensor instead"
                )
            if attn_mask.ndim == 3:
                expected = [num_heads, query.shape[0], key.shape[0]]
                if _shape(attn_mask) != expected:
                    raise AssertionError(
                        f"Expected `attn_mask` shape to be {expected} but got {_shape(attn_mask)}"
                    )
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
    )


class MultiheadAttention(Module):
    """Attention from a query sequence to a key/value sequence, with `num_heads` heads in parallel.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V),
    as PyTorch's `nn.MultiheadAttention`: inputs are (L, N, E) (or (N, L, E) with batch_first, or an
    unbatched (L, E)); the output is (L, N, E) with the attention weights (N, L, S) averaged over heads
    (per head (N, num_heads, L, S) with average_attn_weights=False; None with need_weights=False).

    Parameters as PyTorch's: in_proj_weight (3E, E) (or q_proj_weight (E, E), k_proj_weight (E, kdim),
    v_proj_weight (E, vdim) when kdim or vdim differ from E), in_proj_bias (3E), out_proj (a Linear
    E -> E), bias_k and bias_v (1, 1, E) with add_bias_kv. Initialisation as PyTorch's, in its
    order: out_proj's default Linear draw, then xavier_uniform_ on the in-projection weights, zero
    biases, xavier_normal_ on bias_k and bias_v.

    Example:
        >>> mha = descend.nn.MultiheadAttention(8, 2)
        >>> x = descend.randn(5, 3, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (descend.Size([5, 3, 8]), descend.Size([3, 5, 5]))
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(
                f"embed_dim must be divisible by num_heads (got embed_dim={embed_dim}, num_heads={num_heads})"
            )

        def empty(*shape):
            return Parameter(from_numpy(np.empty(shape, dtype=dtype)))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        query, key, value = ops._tensor(query), ops._tensor(key), ops._tensor(value)
        is_batched = query.ndim == 3
        if self.batch_first and is_batched:
            query, key, value = (ops.transpose(x, 0, 1) for x in (query, key, value))
        out, weights = self._attend(
            query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal
        )
        if self.batch_first and is_batched:
            out = ops.transpose(out, 0, 1)
        return out, weights

    def _attend(
        self, query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal
    ):
        """PyTorch's F.multi_head_attention_forward on (L, N, E) or unbatched (L, E) inputs."""
        H, E = self.num_heads, self.embed_dim
        kpm = None if key_padding_mask is None else ops._tensor(key_padding_mask)
        mask = None if attn_mask is None else ops._tensor(attn_mask)
        is_batched = _mha_shape_check(query, key, value, kpm, mask, H)
        if not is_batched:
            query, key, value = (ops.unsqueeze(x, 1) for x in (query, key, value))
            if kpm is not None:
                kpm = ops.unsqueeze(kpm, 0)
        L, N, e = query.shape
        if e != E:
            raise AssertionError(f"was expecting embedding dimension of {E}, but got {e}")
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key shape {_shape(key)} does not match value shape {_shape(value)}")
        dtype = query._data.dtype
        kpm = _canonical_mask(kpm, "key_padding_mask", dtype)
        if is_causal and mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                "`generate_square_subsequent_mask` to create this mask."
            )
        if is_causal and kpm is None and not need_weights:
            mask = None  # the hint: scaled_dot_product_attention builds the causal mask itself
        else:
            mask = _canonical_mask(mask, "attn_mask", dtype)
            if kpm is not None:
                is_causal = False

        # in-projection
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            w_q, w_k, w_v = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q, k, v = F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
        S = k.shape[0]

        if mask is not None:
            if mask.ndim == 2:
                if _shape(mask) != [L, S]:
                    raise RuntimeError(
                        f"The shape of the 2D attn_mask is {_shape(mask)}, but should be {[L, S]}."
                    )
                mask = ops.unsqueeze(mask, 0)
            elif _shape(mask) != [N * H, L, S]:
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {_shape(mask)}, but should be {[N * H, L, S]}."
                )
        if self.bias_k is not None and self.bias_v is not None:
            k = ops.cat([k, self.bias_k.repeat(1, N, 1)])
            v = ops.cat([v, self.bias_v.repeat(1, N, 1)])
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        q = ops.transpose(q.reshape(L, N * H, self.head_dim), 0, 1)
        k = ops.transpose(k.reshape(k.shape[0], N * H, self.head_dim), 0, 1)
        v = ops.transpose(v.reshape(v.shape[0], N * H, self.head_dim), 0, 1)
        if self.add_zero_attn:
            zeros = _wrap(np.zeros((N * H, 1, self.head_dim), dtype))
            k = ops.cat([k, zeros], 1)
            v = ops.cat([v, zeros], 1)
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        S = k.shape[1]
        if kpm is not None:
            if _shape(kpm) != [N, S]:
                raise AssertionError(f"expecting key_padding_mask shape of {[N, S]}, but got {_shape(kpm)}")
            kpm = kpm.reshape(N, 1, 1, S).expand(-1, H, -1, -1).reshape(N * H, 1, S)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0

        if need_weights:
            q = q * math.sqrt(1.0 / float(self.head_dim))
            weights = ops.matmul(q, ops.transpose(k, -2, -1))
            if mask is not None:
                weights = mask + weights
            weights = ops.softmax(weights, -1)
            if p > 0.0:
                weights = F.dropout(weights, p=p)
            out = ops.matmul(weights, v)
            out = ops.transpose(out, 0, 1).reshape(L * N, E)
            out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(L, N, E)
            weights = weights.reshape(N, H, L, S)
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not is_batched:
                out, weights = ops.squeeze(out, 1), ops.squeeze(weights, 0)
            return out, weights
        if mask is not None:
            mask = ops.unsqueeze(mask, 0) if mask.shape[0] == 1 else mask.reshape(N, H, -1, S)
        q, k, v = (
            q.reshape(N, H, L, self.head_dim),
            k.reshape(N, H, S, self.head_dim),
            v.reshape(N, H, S, self.head_dim),
        )
        out = F.scaled_dot_product_attention(q, k, v, mask, p, is_causal)
        out = out.permute(2, 0, 1, 3).reshape(N * L, E)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(L, N, E)
        if not is_batched:
            out = ops.squeeze(out, 1)
        return out, None


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The (sz, sz) float mask of a causal model: -inf above the diagonal (the future), 0 elsewhere."""
    _check_device(device)
    dtype = _param_dtype(dtype, "generate_square_subsequent_mask")
    return _wrap(np.triu(np.full((sz, sz), -np.inf, dtype), 1) + dtype.type(0.0))


def _detect_is_causal_mask(mask, is_causal, size):
    """PyTorch's rule: True if asked; if not said (None), whether the mask is the causal one."""
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        causal = np.triu(np.full((sz, sz), -np.inf), 1)
        data = ops._tensor(mask)._data
        return data.shape == causal.shape and bool((data == causal).all())
    return bool(is_causal)


def _seq_len(src, batch_first):
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _build_layer(layer, attentions, n_norms, d_model, nhead, dim_feedforward, dropout, activation, eps,
                 batch_first, norm_first, bias, kw):
    """A Transformer layer's submodules in PyTorch's registration order (its state_dict keys and the
    order of its initial draws): the attentions, linear1, dropout, linear2, norm1.., dropout1.."""
    for name in attentions:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                batch_first=batch_first, **kw))
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
    layer.norm_first = norm_first
    for i in range(1, n_norms + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, **kw))
    for i in range(1, n_norms + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = _activation(activation)


def _attend(attention, x, memory, attn_mask, key_padding_mask, is_causal):
    """A layer's attention block before its dropout: `x` attends to `memory` (itself in self-attention)."""
    return attention(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                     need_weights=False, is_causal=is_causal)[0]


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm.

    As PyTorch's: x = norm1(x + dropout1(self_attn(x))); x = norm2(x + dropout2(linear2(dropout(
    activation(linear1(x)))))), or with norm_first the pre-norm form x = x + block(norm(x)).
    Submodules (and so state_dict keys) are PyTorch's: self_attn, linear1, dropout, linear2, norm1,
    norm2, dropout1, dropout2. `src_mask` and `src_key_padding_mask` follow MultiheadAttention's
    convention (True or -inf = masked out); `is_causal` is a hint that `src_mask` is causal.

    Example:
        >>> layer = descend.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> layer(descend.randn(5, 3, 8)).shape
        descend.Size([5, 3, 8])
    """

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _build_layer(self, ("self_attn",), 2, d_model, nhead, dim_feedforward, dropout, activation,
                     layer_norm_eps, batch_first, norm_first, bias, {"device": device, "dtype": dtype})

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = ops._tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        return self.dropout1(_attend(self.self_attn, x, x, attn_mask, key_padding_mask, is_causal))

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention to the encoder's output (memory) and a feed-forward block.

    As PyTorch's: x = norm1(x + sa(x)); x = norm2(x + mha(x, memory)); x = norm3(x + ff(x)) (or the
    pre-norm form with norm_first). Submodules: self_attn, multihead_attn, linear1, dropout, linear2,
    norm1, norm2, norm3, dropout1, dropout2, dropout3.

    Example:
        >>> layer = descend.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> layer(descend.randn(4, 3, 8), descend.randn(5, 3, 8)).shape
        descend.Size([4, 3, 8])
    """

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _build_layer(self, ("self_attn", "multihead_attn"), 3, d_model, nhead, dim_feedforward, dropout,
                     activation, layer_norm_eps, batch_first, norm_first, bias,
                     {"device": device, "dtype": dtype})

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        x = ops._tensor(tgt)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        return self.dropout1(_attend(self.self_attn, x, x, attn_mask, key_padding_mask, is_causal))

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        return self.dropout2(_attend(self.multihead_attn, x, mem, attn_mask, key_padding_mask, is_causal))

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer` applied in turn, then `norm` (if given).

    As PyTorch's, each copy starts from the layer's own weights (so all copies start equal).
    `is_causal=None` detects a causal `mask` (PyTorch's rule); the hint changes no number.
    `enable_nested_tensor` is accepted and kept: descend has no nested tensors, so padded positions are
    computed (PyTorch's inference fast path returns zeros there instead).

    Example:
        >>> layer = descend.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> descend.nn.TransformerEncoder(layer, num_layers=2)(descend.randn(5, 3, 8)).shape
        descend.Size([5, 3, 8])
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = ops._tensor(src)
        first = self.layers[0] if len(self.layers) else None
        batch_first = bool(first is not None and first.self_attn.batch_first)
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(output, batch_first))
        for mod in self.layers:
            output = mod(
                output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` applied in turn to (tgt, memory), then `norm`.

    Example:
        >>> layer = descend.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> dec = descend.nn.TransformerDecoder(layer, num_layers=2)
        >>> dec(descend.randn(4, 3, 8), descend.randn(5, 3, 8)).shape
        descend.Size([4, 3, 8])
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        output = ops._tensor(tgt)
        first = self.layers[0] if len(self.layers) else None
        batch_first = bool(first is not None and first.self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(output, batch_first))
        for mod in self.layers:
            output = mod(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer ("Attention Is All You Need"), as PyTorch's `nn.Transformer`.

    An encoder of `num_encoder_layers` layers and a decoder of `num_decoder_layers`, each followed by
    a LayerNorm; every parameter with more than one dim is then redrawn with xavier_uniform_ (in
    `parameters()` order, as PyTorch does).

    Example:
        >>> model = descend.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
        ...                                dim_feedforward=16)
        >>> tgt_mask = descend.nn.Transformer.generate_square_subsequent_mask(4)
        >>> model(descend.randn(5, 3, 8), descend.randn(4, 3, 8), tgt_mask=tgt_mask).shape
        descend.Size([4, 3, 8])
    """

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        custom_encoder=None,
        custom_decoder=None,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **kw,
            )
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **kw,
            )
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        src, tgt = ops._tensor(src), ops._tensor(tgt)
        is_batched = src.ndim == 3
        if not self.batch_first and src.shape[1] != tgt.shape[1] and is_batched:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if self.batch_first and src.shape[0] != tgt.shape[0] and is_batched:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    generate_square_subsequent_mask = staticmethod(_generate_square_subsequent_mask)
