"""Convolutions, pooling, im2col (`unfold`/`fold`) and channel dropout, on NumPy.

Every convolution is im2col plus one BLAS matrix product: the input's windows are a strided view
(no copy), the one copy is the GEMM operand, the weight gradient is one GEMM and the input gradient
one GEMM plus col2im (a loop over the kh*kw kernel positions adding strided slices; no np.add.at).
One-dimensional ops run as two-dimensional ones over a height of 1 (reshapes, no copies).

Example:
    >>> x = descend.randn(8, 1, 28, 28)
    >>> w = descend.randn(6, 1, 5, 5, requires_grad=True)
    >>> descend.conv2d(x, w, padding=2).shape
    (8, 6, 28, 28)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import record
from ..random import generator
from ._core import _tensor, op

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "dropout1d",
    "dropout3d",
    "dropout2d",
    "fold",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
]

# --- argument plumbing ---


def _pair(value, name, n=2):
    """An int or an n-sequence of ints as an n-tuple, as PyTorch's `_pair`/`_single` accept them."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    items = tuple(value)
    if len(items) == 1 and n > 1:
        items = items * n
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items)
    if len(items) != n or not ints:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in items)


def _size_list(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _batched(X, spatial, name):
    """(array with a batch dim, whether the input had one), or PyTorch's error for a wrong rank."""
    if X.ndim == spatial + 2:
        return X, True
    if X.ndim == spatial + 1:
        return X[None], False
    raise RuntimeError(
        f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {name}, "
        f"but got input of size: {_size_list(X.shape)}"
    )


def _out_size(size, k, s, p, d, ceil_mode=False):
    """PyTorch's output length of a window op (with its ceil_mode rule: the last window starts inside)."""
    span = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return span // s + 1


def _pad_hw(X, ph, pw, value=0.0, extra_h=0, extra_w=0):
    """X padded by (ph, pw) on both sides (plus extra at the end), or X itself when there is none."""
    if not (ph or pw or extra_h or extra_w):
        return X
    N, C, H, W = X.shape
    out = np.full((N, C, H + 2 * ph + extra_h, W + 2 * pw + extra_w), value, dtype=X.dtype)
    out[:, :, ph : ph + H, pw : pw + W] = X
    return out


def _windows(Xp, kernel, stride, dilation, out_hw):
    """The (N, C, OH, OW, KH, KW) window view of a padded (N, C, H, W) array: strides only, no copy."""
    N, C = Xp.shape[:2]
    sN, sC, sH, sW = Xp.strides
    return as_strided(
        Xp,
        (N, C, out_hw[0], out_hw[1], kernel[0], kernel[1]),
        (sN, sC, sH * stride[0], sW * stride[1], sH * dilation[0], sW * dilation[1]),
        writeable=False,
    )


def _im2col(Xp, groups, kernel, stride, dilation, out_hw):
    """The GEMM operand (G, C/G*KH*KW, N*OH*OW): the one copy a convolution makes of its input."""
    N, C = Xp.shape[:2]
    win = _windows(Xp, kernel, stride, dilation, out_hw)
    win = win.reshape(N, groups, C // groups, *win.shape[2:])
    # NOTE: (G, Cg, KH, KW, N, OH, OW) order: the copy's inner runs are whole output rows (OW long)
    # instead of KW-long window rows, and the product W @ cols is one GEMM per group whose result
    # (O, N*OH*OW) is the output in (C, N, H, W) memory, the layout col2im and pooling read along rows.
    # Measured at batch 256 (2 threads): LeNet's conv1 copy 7.6 -> 2.0 ms, conv2 5.5 -> 3.0 ms, than the
    # (N*OH*OW, C*KH*KW) rows this replaced; the GEMMs cost the same either way.
    return win.transpose(1, 2, 5, 6, 0, 3, 4).reshape(groups, -1, N * out_hw[0] * out_hw[1])


def _col2im(cols, padded_shape, kernel, stride, dilation, out_hw):
    """The adjoint of `_im2col`: sum columns (C, KH, KW, N, OH, OW) back into a padded (N, C, H, W) image.

    Returns a (N, C, H, W) view of a (C, N, H, W) array, the layout in which every kernel position's
    block and its destination are both read and written along rows.
    """
    N, C, Hp, Wp = padded_shape
    KH, KW = kernel
    OH, OW = out_hw
    out = np.zeros((C, N, Hp, Wp), dtype=cols.dtype)
    for kh in range(KH):
        h0 = kh * dilation[0]
        hs = slice(h0, h0 + stride[0] * (OH - 1) + 1, stride[0])
        for kw in range(KW):
            w0 = kw * dilation[1]
            ws = slice(w0, w0 + stride[1] * (OW - 1) + 1, stride[1])
            # NOTE: one strided slice per kernel position (kh*kw adds of the output's size) instead of
            # np.add.at over every element, which is about 20x slower on LeNet's layers. Columns laid out
            # (C, KH, KW, N, OH, OW) (the GEMM computes the transposed product) made this loop 2x faster
            # than slicing (N, OH, OW, C, KH, KW) columns: measured 22 -> 11 ms on LeNet's conv2 at batch
            # 64, 103 -> 54 ms on the recipe CNN's conv2 at batch 128 (one thread).
            out[:, :, hs, ws] += cols[:, kh, kw]
    return out.transpose(1, 0, 2, 3)


def _col2im_rows(cols, padded_shape, kernel, dilation):
    """`_col2im` for stride 1, from columns (C, KH, KW, N, OH, Wp) whose last Wp - OW entries are zeros.

    With rows as wide as the padded image, kernel position (kh, kw)'s block lands on one flat run per
    image, shifted by kh*dh*Wp + kw*dw; each row's zero tail falls on the next row's start (or on a
    spare tail at the end) and adds nothing.
    """
    N, C, Hp, Wp = padded_shape
    KH, KW = kernel
    OH = cols.shape[4]
    plane = Hp * Wp
    flat = np.zeros((C, N * plane + (KH - 1) * dilation[0] * Wp + (KW - 1) * dilation[1]), dtype=cols.dtype)
    for kh in range(KH):
        for kw in range(KW):
            at = kh * dilation[0] * Wp + kw * dilation[1]
            flat[:, at : at + N * plane].reshape(C, N, plane)[:, :, : OH * Wp] += cols[:, kh, kw].reshape(
                C, N, OH * Wp
            )
    return flat[:, : N * plane].reshape(C, N, Hp, Wp).transpose(1, 0, 2, 3)


def _grad_cols(g, groups):
    """An (N, O, OH, OW) array as the (G, O/G, N*OH*OW) GEMM operand (a view when in (C, N, H, W) memory)."""
    N, O, OH, OW = g.shape
    return g.transpose(1, 0, 2, 3).reshape(groups, O // groups, N * OH * OW)


def _from_cols(rows, N, hw):
    """A (G, O/G, N*H*W) GEMM result as an (N, O, H, W) view of its (O, N, H, W) memory."""
    return rows.reshape(-1, N, *hw).transpose(1, 0, 2, 3)


def _same_layout(A, like):
    """A copy of A in the memory layout of `like` (same shape), so that work on both runs along rows."""
    out = np.empty_like(like, dtype=A.dtype)
    out[...] = A
    return out


def _check_float(name, *arrays):
    for A in arrays:
        if A is not None and A.dtype.kind != "f":
            raise RuntimeError(f"{name}: expected a floating-point tensor, got dtype {A.dtype}")


def _check_same_dtype(name, X, Wt, B):
    if Wt.dtype != X.dtype or (B is not None and B.dtype != X.dtype):
        found = Wt.dtype if Wt.dtype != X.dtype else B.dtype
        raise RuntimeError(
            f"{name}: Input type ({X.dtype}) and weight type ({found}) should be the same"
        )


# --- convolution ---


def _conv_padding(padding, spatial, kernel, dilation, stride, name):
    """Padding as (before, after) per spatial dim; "same" may be uneven (the extra goes after)."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * spatial
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return [(t // 2, t - t // 2) for t in total]
        raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    p = _pair(padding, "padding", spatial)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{name}: negative padding is not supported, got padding={list(p)}")
    return [(v, v) for v in p]


def _conv_operands(name, input, weight, bias, groups, spatial):
    """The checks every convolution makes of its operands; their arrays, batched (N, C, ...)."""
    input, weight = _tensor(input), _tensor(weight)
    bias = None if bias is None else _tensor(bias)
    X, Wt = input._data, weight._data
    B = None if bias is None else bias._data
    _check_float(name, X, Wt, B)
    _check_same_dtype(name, X, Wt, B)
    X, batched = _batched(X, spatial, name)
    if Wt.ndim != spatial + 2:
        raise RuntimeError(
            f"{name}: expected weight to be {spatial + 2}-dimensional, but got weight of size "
            f"{_size_list(Wt.shape)}"
        )
    groups = int(groups)
    if groups < 1:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    return input, weight, bias, X, Wt, B, batched, groups


def _conv_setup(name, input, weight, bias, stride, padding, dilation, groups, spatial):
    """The operands of a convolution of any spatial rank, checked as PyTorch checks them.

    Returns (input, weight, bias, X, Wt, B, batched, groups, stride, dilation, kernel, pads): the
    tensors, their arrays (X batched), whether the input was batched, and the per-dim options.
    """
    operands = _conv_operands(name, input, weight, bias, groups, spatial)
    input, weight, bias, X, Wt, B, batched, groups = operands
    O, Cg = Wt.shape[:2]
    C = X.shape[1]
    if O % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {_size_list(Wt.shape)} instead"
        )
    if C != Cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {_size_list(Wt.shape)}, expected input"
            f"{_size_list(X.shape)} to have {Cg * groups} channels, but got {C} channels instead"
        )
    if B is not None and B.shape != (O,):
        raise RuntimeError(f"{name}: expected bias of shape [{O}], got {_size_list(B.shape)}")
    stride = _pair(stride, "stride", spatial)
    dilation = _pair(dilation, "dilation", spatial)
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{name}: non-positive stride is not supported, got stride={list(stride)}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"{name}: dilation should be greater than zero, got dilation={list(dilation)}")
    kernel = Wt.shape[2:]
    pads = _conv_padding(padding, spatial, kernel, dilation, stride, name)
    return input, weight, bias, X, Wt, B, batched, groups, stride, dilation, kernel, pads


def _transpose_setup(name, input, weight, bias, stride, padding, output_padding, dilation, groups, spatial):
    """The operands of a transposed convolution of any spatial rank, checked as PyTorch checks them.

    Returns (input, weight, bias, X, Wt, B, batched, groups, O, stride, padding, output_padding,
    dilation), O the output channels.
    """
    operands = _conv_operands(name, input, weight, bias, groups, spatial)
    input, weight, bias, X, Wt, B, batched, groups = operands
    Cin, Og = Wt.shape[:2]
    if X.shape[1] != Cin:
        raise RuntimeError(
            f"Given transposed=1, weight of size {_size_list(Wt.shape)}, expected input{_size_list(X.shape)} "
            f"to have {Cin} channels, but got {X.shape[1]} channels instead"
        )
    if Cin % groups:
        raise RuntimeError(f"{name}: weight's dim 0 ({Cin}) must be divisible by groups={groups}")
    O = Og * groups
    if B is not None and B.shape != (O,):
        raise RuntimeError(f"{name}: expected bias of shape [{O}], got {_size_list(B.shape)}")
    stride = _pair(stride, "stride", spatial)
    padding = _pair(padding, "padding", spatial)
    output_padding = _pair(output_padding, "output_padding", spatial)
    dilation = _pair(dilation, "dilation", spatial)
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{name}: non-positive stride is not supported, got stride={list(stride)}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{name}: negative padding is not supported, got padding={list(padding)}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if not 0 <= op_ < max(s, d):
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding={list(output_padding)}, stride={list(stride)}, dilation={list(dilation)}"
            )
    return input, weight, bias, X, Wt, B, batched, groups, O, stride, padding, output_padding, dilation


def _convolve(name, input, weight, bias, stride, padding, dilation, groups, spatial):
    """The shared conv1d/conv2d primitive: checks, im2col, one GEMM per group, VJPs for all three inputs."""
    input, weight, bias, X, Wt, B, batched, groups, stride, dilation, kernel, pads = _conv_setup(
        name, input, weight, bias, stride, padding, dilation, groups, spatial)
    O, Cg = Wt.shape[:2]
    C = X.shape[1]
    if spatial == 1:  # run as 2-D over a height of 1
        X, Wk = X[:, :, None, :], Wt[:, :, None, :]
        kernel, stride, dilation, pads = (1, *kernel), (1, *stride), (1, *dilation), [(0, 0), *pads]
    else:
        Wk = Wt
    N, _, H, W_ = X.shape
    (pt, pb), (pl, pr) = pads
    Hp, Wp = H + pt + pb, W_ + pl + pr
    out_hw = tuple(_out_size(n, k, s, 0, d) for n, k, s, d in zip((Hp, Wp), kernel, stride, dilation))
    if out_hw[0] < 1 or out_hw[1] < 1:
        shown = (Hp, Wp) if spatial == 2 else (Wp,)
        kshown = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))[2 - spatial :]
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, shown))}). Kernel size: "
            f"({' x '.join(map(str, kshown))}). Kernel size can't be greater than actual input size"
        )
    if pt or pb or pl or pr:
        Xp = np.zeros((N, C, Hp, Wp), dtype=X.dtype)
        Xp[:, :, pt : pt + H, pl : pl + W_] = X
    else:
        Xp = X
    cols = _im2col(Xp, groups, kernel, stride, dilation, out_hw)
    padded_shape, was_padded = Xp.shape, Xp is not X
    del Xp  # the backward needs only the columns: let the padded copy go
    Wm = Wk.reshape(groups, O // groups, -1)
    out = _from_cols(np.matmul(Wm, cols), N, out_hw)  # (O, N, OH, OW) memory, (N, O, OH, OW) shape
    if B is not None:
        out += B[:, None, None]
    if spatial == 1:
        out = out[:, :, 0, :]
    if not batched:
        out = out[0]
    out_shape = out.shape

    def to_4d(g):
        g = g.reshape(out_shape)
        if not batched:
            g = g[None]
        return g[:, :, None, :] if spatial == 1 else g

    last = [None, None]  # (g, its GEMM layout): the input, weight and bias VJPs share one reshape of g

    def grad_cols(g):
        if last[0] is not g:
            last[0], last[1] = g, _grad_cols(to_4d(g), groups)
        return last[1]

    def vjp_input(g):
        if stride == (1, 1):
            # NOTE: the gradient's rows widened with zeros to the padded width, so that col2im adds along
            # OH*Wp-long rows instead of OW-long ones (`_col2im_rows`); the GEMM grows by Wp/OW. LeNet's
            # conv2 input gradient (batch 256, 6x14x14) measured 0.88x [0.79-1.06] at one thread, 0.73x
            # [0.52-1.21] at two (30 pairs, busy machine). Per-kernel-row GEMMs fused with the adds won
            # more at one thread (0.78x) but lost 3x at two: five 2-thread BLAS calls instead of one.
            width = padded_shape[3]
            gp = np.zeros((O, N, out_hw[0], width), dtype=g.dtype)
            gp[:, :, :, : out_hw[1]] = to_4d(g).transpose(1, 0, 2, 3)
            dcols = np.matmul(Wm.transpose(0, 2, 1), gp.reshape(groups, O // groups, -1))
            dcols = dcols.reshape(C, *kernel, N, out_hw[0], width)
            dXp = _col2im_rows(dcols, padded_shape, kernel, dilation)
        else:
            dcols = np.matmul(Wm.transpose(0, 2, 1), grad_cols(g))  # (G, Cg*KH*KW, N*OH*OW)
            dcols = dcols.reshape(C, *kernel, N, *out_hw)
            dXp = _col2im(dcols, padded_shape, kernel, stride, dilation, out_hw)
        dX = dXp[:, :, pt : pt + H, pl : pl + W_] if was_padded else dXp
        if spatial == 1:
            dX = dX[:, :, 0, :]
        return dX if batched else dX[0]

    def vjp_weight(g):
        # NOTE: the weight gradient is one GEMM over the saved columns (kept from the forward: no second
        # im2col copy in backward).
        dW = np.matmul(grad_cols(g), cols.transpose(0, 2, 1))  # (G, O/G, Cg*KH*KW)
        return dW.reshape(Wt.shape)

    def vjp_bias(g):
        return grad_cols(g).sum(axis=2).reshape(O)  # along rows of the weight gradient's operand

    parents = (input, weight) if bias is None else (input, weight, bias)
    vjps = (vjp_input, vjp_weight) if bias is None else (vjp_input, vjp_weight, vjp_bias)
    backward = "ConvolutionBackward0"
    return record(backward, out, parents, vjps, saved=(weight,))


@op("conv2d", method=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) over an (N, C, H, W) or (C, H, W) input.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (h, w).
        padding: int, (h, w), "valid" (no padding) or "same" (output as large as the input; stride 1).
        groups: split the channels into this many independent convolutions.

    Returns:
        (N, C_out, H_out, W_out), H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1.

    Example:
        >>> descend.conv2d(descend.ones(1, 1, 3, 3), descend.ones(1, 1, 2, 2)).tolist()
        [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    return _convolve("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


@op("conv1d", method=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an (N, C, L) or (C, L) input; weight (C_out, C_in / groups, k).

    Arguments as `conv2d`, with ints (or 1-tuples) for stride, padding and dilation.

    Example:
        >>> descend.conv1d(descend.ones(1, 1, 4), descend.ones(1, 1, 2)).tolist()
        [[[2.0, 2.0, 2.0]]]
    """
    return _convolve("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def _conv_transpose(name, input, weight, bias, stride, padding, output_padding, groups, dilation, spatial):
    """The shared transposed convolution: conv2d's input gradient as a forward (GEMM + col2im)."""
    (input, weight, bias, X, Wt, B, batched, groups, O, stride, padding, output_padding,
     dilation) = _transpose_setup(name, input, weight, bias, stride, padding, output_padding, dilation,
                                  groups, spatial)
    Cin = Wt.shape[0]
    kernel = Wt.shape[2:]
    if spatial == 1:
        X, Wk = X[:, :, None, :], Wt[:, :, None, :]
        kernel, stride, padding = (1, *kernel), (1, *stride), (0, *padding)
        output_padding, dilation = (0, *output_padding), (1, *dilation)
    else:
        Wk = Wt
    N, _, H, W_ = X.shape
    out_hw = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for n, s, p, d, k, op_ in zip((H, W_), stride, padding, dilation, kernel, output_padding)
    )
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise RuntimeError(f"{name}: the output size {list(out_hw)} is too small (padding too large)")
    ph, pw = padding
    full_shape = (N, O, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw)
    Wm = Wk.reshape(groups, Cin // groups, -1)  # (G, Cin/G, O/G*KH*KW)
    rows = _grad_cols(X, groups)  # (G, Cin/G, N*H*W)
    cols = np.matmul(Wm.transpose(0, 2, 1), rows).reshape(O, *kernel, N, H, W_)
    full = _col2im(cols, full_shape, kernel, stride, dilation, (H, W_))
    out = full[:, :, ph : ph + out_hw[0], pw : pw + out_hw[1]]
    if B is not None:
        out = out + B[:, None, None]
    if spatial == 1:
        out = out[:, :, 0, :]
    if not batched:
        out = out[0]
    out_shape = out.shape

    def cols_of(g):
        g = g.reshape(out_shape)
        if not batched:
            g = g[None]
        if spatial == 1:
            g = g[:, :, None, :]
        gp = _pad_hw(g, ph, pw)
        # the adjoint of col2im is im2col; the extra output_padding rows/cols at the end are never read
        return _im2col(gp, groups, kernel, stride, dilation, (H, W_))  # (G, O/G*KH*KW, N*H*W)

    def vjp_input(g):
        dX = _from_cols(np.matmul(Wm, cols_of(g)), N, (H, W_))  # (Cin, N, H, W) memory
        if spatial == 1:
            dX = dX[:, :, 0, :]
        return dX if batched else dX[0]

    def vjp_weight(g):
        dW = np.matmul(rows, cols_of(g).transpose(0, 2, 1))  # (G, Cin/G, O/G*KH*KW)
        return dW.reshape(Wt.shape)

    def vjp_bias(g):
        g = g.reshape(out_shape)
        axes = (0,) + tuple(range(2, g.ndim)) if batched else tuple(range(1, g.ndim))
        return g.sum(axis=axes)

    parents = (input, weight) if bias is None else (input, weight, bias)
    vjps = (vjp_input, vjp_weight) if bias is None else (vjp_input, vjp_weight, vjp_bias)
    return record("ConvolutionBackward0", out, parents, vjps, saved=(input, weight))


@op("conv_transpose2d", method=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its input.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (PyTorch's transposed layout).
        bias: optional (C_out,).
        stride, padding, output_padding, dilation: int or (h, w); output_padding < max(stride, dilation)
            adds rows/columns at the end so that the output can invert a strided conv2d's size.
        groups: independent channel groups.

    Returns:
        (N, C_out, H_out, W_out), H_out = (H - 1) s - 2 p + d (k - 1) + output_padding + 1.

    Example:
        >>> descend.conv_transpose2d(descend.ones(1, 1, 2, 2), descend.ones(1, 1, 2, 2), stride=2).shape
        (1, 1, 4, 4)
    """
    return _conv_transpose("conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


@op("conv_transpose1d", method=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L); weight (C_in, C_out / groups, k).

    Example:
        >>> descend.conv_transpose1d(descend.ones(1, 1, 3), descend.ones(1, 1, 2)).tolist()
        [[[1.0, 2.0, 2.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


# --- pooling ---


def _pool_args(name, kernel_size, stride, padding, dilation, spatial):
    kernel = _pair(kernel_size, "kernel_size", spatial)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(tuple(stride)) == 0) else \
        _pair(stride, "stride", spatial)
    padding = _pair(padding, "padding", spatial)
    dilation = _pair(dilation, "dilation", spatial)
    if any(k < 1 for k in kernel):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {list(kernel)}")
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{name}: stride must be greater than zero, but got {list(stride)}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got {list(dilation)}")
    for p, k in zip(padding, kernel):
        if p < 0 or p > k // 2:
            raise RuntimeError(
                f"{name}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={dilation[0]}"
            )
    if spatial == 1:
        kernel, stride, padding, dilation = (1, *kernel), (1, *stride), (0, *padding), (1, *dilation)
    return kernel, stride, padding, dilation


def _pool_input(input, spatial, name):
    """(tensor, its data as (N, C, H, W), a function restoring the input's own layout)."""
    input = _tensor(input)
    X = input._data
    _check_float(name, X)
    X, batched = _batched(X, spatial, name)
    if spatial == 1:
        X = X[:, :, None, :]

    def restore(A):
        if spatial == 1:
            A = A[:, :, 0, :]
        return A if batched else A[0]

    def to_4d(g):
        if not batched:
            g = g[None]
        return g[:, :, None, :] if spatial == 1 else g

    return input, X, restore, to_4d


def _pool_geometry(X, name, kernel, stride, padding, dilation, ceil_mode):
    N, C, H, W = X.shape
    out_hw = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                   zip((H, W), kernel, stride, padding, dilation))
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise RuntimeError(
            f"{name}: Given input size: ({C}x{H}x{W}). Calculated output size: "
            f"({C}x{out_hw[0]}x{out_hw[1]}). Output size is too small"
        )
    # ceil_mode's last window may run past the padding: pad at the end just enough to hold it
    extra = tuple(
        max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
        for o, s, d, k, n, p in zip(out_hw, stride, dilation, kernel, (H, W), padding)
    )
    return out_hw, extra


def _tiles(X, kernel, stride, padding, dilation, out_hw):
    """Whether windows tile the input exactly (kernel == stride, no padding or dilation): the reshape path."""
    return (
        kernel == stride
        and padding == (0, 0)
        and dilation == (1, 1)
        and out_hw[0] * kernel[0] <= X.shape[2]
        and out_hw[1] * kernel[1] <= X.shape[3]
    )


def _max_pool(name, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, spatial):
    input, X, restore, to_4d = _pool_input(input, spatial, name)
    kernel, stride, padding, dilation = _pool_args(name, kernel_size, stride, padding, dilation, spatial)
    out_hw, extra = _pool_geometry(X, name, kernel, stride, padding, dilation, ceil_mode)
    N, C, H, W = X.shape
    OH, OW = out_hw
    KH, KW = kernel
    src = _pad_hw(X, padding[0], padding[1], -np.inf, extra[0], extra[1])

    def window(k):
        """The elements at kernel position k of every window: a strided view of `src`."""
        kh, kw = divmod(k, KW)
        h0, w0 = kh * dilation[0], kw * dilation[1]
        return src[:, :, h0 : h0 + stride[0] * (OH - 1) + 1 : stride[0],
                   w0 : w0 + stride[1] * (OW - 1) + 1 : stride[1]]

    # NOTE: the maximum over kernel positions as kh*kw strided views folded by np.maximum: no window
    # copy, no argmax over a gathered array. On LeNet's 2x2 pools (batch 64) this measured about 3x faster
    # than argmax + take_along_axis over a (N, C, OH, OW, 4) copy, forward and backward together; when
    # kernel == stride the views are the reshape of the input, with no padding copy either.
    K = KH * KW
    out = window(0).copy() if K == 1 else np.maximum(window(0), window(1))
    # Small windows (2x2 and below) keep the running maxima max(w_0..w_j), j < K - 1: the backward then
    # finds first maxima without comparing the strided windows again (two output-sized arrays for 2x2).
    prefix = [window(0), out] if 2 < K <= 4 else None
    for k in range(2, K):
        if prefix is None:
            np.maximum(out, window(k), out=out)
        else:
            out = np.maximum(out, window(k))
            if k < K - 1:
                prefix.append(out)

    def first_hits():
        """For each kernel position, where it holds its window's maximum as PyTorch picks it: the first
        maximum in row-major order, or, in a window holding NaN, the last NaN (its kernel takes NaN as
        the maximum)."""
        if not np.isnan(out.min()):  # one pass, no copy: NaN propagates through min
            yield from finite_hits()
            return
        nan = np.isnan(out)
        last_nan = np.full(out.shape, -1, dtype=np.int8 if K < 128 else np.int64)
        for k in range(K):
            last_nan[np.isnan(window(k))] = k
        for k, hit in finite_hits():
            yield k, (hit & ~nan) | (last_nan == k)

    def finite_hits():
        """`first_hits` for windows without NaN (a NaN window's positions all come out False or True)."""
        if prefix is not None:
            # NOTE: position j holds the first maximum iff the running maximum reaches `out` at j:
            # hit_j = (prefix_j == out) xor (prefix_{j-1} == out), the last one the complement of the one
            # before. K - 1 comparisons (all but the first along rows) and K - 1 xors/nots, against K
            # strided comparisons and 2K - 3 and/xor passes: LeNet's 2x2 pools at batch 256, forward and
            # backward, measured 0.79x [0.65-0.87] (6x28x28) and 0.80x [0.63-1.62] (16x10x10), 40 pairs.
            seen = None
            for k in range(K - 1):
                reached = prefix[k] == out
                yield k, reached if seen is None else np.bitwise_xor(reached, seen)
                seen = reached
            yield K - 1, ~seen
            return
        free = None  # the windows whose maximum no earlier kernel position took
        last = K - 1
        for k in range(K):
            hit = window(k) == out
            if free is not None:
                hit &= free
            # NOTE: one in-place xor per position (hit is a subset of free) instead of a negation, an
            # and and an or: LeNet's 2x2 pool backwards (batch 256, (C, N, H, W) layout), when they took
            # this path, measured 5.2 -> 3.5 ms (6x28x28) and 3.4 -> 1.0 ms (16x10x10).
            if k < last:
                free = ~hit if free is None else np.bitwise_xor(free, hit, out=free)
            yield k, hit

    # Windows that never overlap let the backward write each kernel position's share directly; windows
    # that tile the input exactly leave no element unwritten, so the gradient needs no zeroing either.
    disjoint = all(s_ >= d * (k - 1) + 1 for s_, d, k in zip(stride, dilation, kernel))
    exact = disjoint and stride == kernel and src.shape[2:] == (OH * KH, OW * KW)

    def vjp(g):
        g = to_4d(g.reshape(out_shape))
        if g.strides != out.strides and g.dtype == out.dtype:
            # NOTE: g in the windows' memory layout (one small copy) so that every product below reads
            # and writes along rows: LeNet's second pool backward (batch 256, g from the flatten in
            # (N, C, H, W) order, input in (C, N, H, W)) measured 2.7 -> 1.0 ms.
            g = _same_layout(g, out)
        # the input's memory layout (empty_like/zeros_like keep it), so the next VJP reads views
        dsrc = np.empty_like(src, dtype=g.dtype) if exact else np.zeros_like(src, dtype=g.dtype)
        for k, hit in first_hits():
            kh, kw = divmod(k, KW)
            h0, w0 = kh * dilation[0], kw * dilation[1]
            part = dsrc[:, :, h0 : h0 + stride[0] * (OH - 1) + 1 : stride[0],
                        w0 : w0 + stride[1] * (OW - 1) + 1 : stride[1]]
            if disjoint:
                np.multiply(g, hit, out=part)
            else:
                part += g * hit
        if src is X:
            return restore(dsrc)
        return restore(dsrc[:, :, padding[0] : padding[0] + H, padding[1] : padding[1] + W])

    result = restore(out)
    out_shape = result.shape
    result = record("MaxPool2DWithIndicesBackward0", result, (input,), (vjp,), saved=(input,))
    if not return_indices:
        return result
    arg = np.zeros(out.shape, dtype=np.int64)
    for k, hit in first_hits():
        arg[hit] = k
    kh, kw = np.divmod(arg, KW)
    rows = np.arange(OH)[:, None] * stride[0] - padding[0] + kh * dilation[0]
    cols = np.arange(OW)[None, :] * stride[1] - padding[1] + kw * dilation[1]
    from ..tensor import _wrap

    return result, _wrap(restore(rows * W + cols))


@op("max_pool2d", method=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); padding counts as -inf.

    Args:
        kernel_size: int or (h, w).
        stride: defaults to kernel_size.
        padding: implicit -inf padding, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last, partial window that starts inside the input).
        return_indices: also return each maximum's flat index into its input plane (H * W).

    Example:
        >>> descend.max_pool2d(descend.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2)


@op("max_pool1d", method=False)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); arguments as `max_pool2d` with ints.

    Example:
        >>> descend.max_pool1d(descend.tensor([[1., 3., 2., 0.]]), 2).tolist()
        [[3.0, 2.0]]
    """
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1)


def _avg_divisor(n, k, s, p, out, count_include_pad):
    """Per-output window sizes along one axis, as PyTorch counts them (ceil_mode windows are clipped)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if not count_include_pad:
        size = np.minimum(end, n) - np.maximum(start, 0)
    return size


def _avg_pool(name, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              spatial):
    input, X, restore, to_4d = _pool_input(input, spatial, name)
    kernel, stride, padding, dilation = _pool_args(name, kernel_size, stride, padding, 1, spatial)
    out_hw, extra = _pool_geometry(X, name, kernel, stride, padding, dilation, ceil_mode)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    N, C, H, W = X.shape
    OH, OW = out_hw
    KH, KW = kernel
    if divisor_override is not None:
        div = np.full((OH, OW), float(divisor_override))
    else:
        dh = _avg_divisor(H, KH, stride[0], padding[0], OH, count_include_pad)
        dw = _avg_divisor(W, KW, stride[1], padding[1], OW, count_include_pad)
        div = np.outer(dh, dw).astype(np.float64)
    uniform = bool((div == div.flat[0]).all())
    scale = (1.0 / div).astype(X.dtype)
    if _tiles(X, kernel, stride, padding, dilation, out_hw):
        # NOTE: kernel == stride: a reshape and one sum over the two window axes. The forward measured
        # the same as summing the window view (9 ms, batch 64, 6x28x28); the gain is the backward, one
        # broadcast assignment into the reshaped gradient instead of kh*kw strided adds.
        X6 = X[:, :, : OH * KH, : OW * KW].reshape(N, C, OH, KH, OW, KW)
        out = X6.sum(axis=(3, 5))
        Xp = None
    else:
        Xp = _pad_hw(X, padding[0], padding[1], 0.0, extra[0], extra[1])
        out = _windows(Xp, kernel, stride, (1, 1), out_hw).sum(axis=(4, 5))
    out = out * scale.flat[0] if uniform else out * scale

    def vjp(g):
        g = to_4d(g.reshape(out_shape))
        gs = g * scale.flat[0] if uniform else g * scale
        if Xp is None:
            dX = np.zeros(X.shape, dtype=g.dtype)
            dX[:, :, : OH * KH, : OW * KW].reshape(N, C, OH, KH, OW, KW)[...] = gs[:, :, :, None, :, None]
            return restore(dX)
        dXp = np.zeros(Xp.shape, dtype=g.dtype)
        for kh in range(KH):
            hs = slice(kh, kh + stride[0] * (OH - 1) + 1, stride[0])
            for kw in range(KW):
                dXp[:, :, hs, slice(kw, kw + stride[1] * (OW - 1) + 1, stride[1])] += gs
        return restore(dXp[:, :, padding[0] : padding[0] + H, padding[1] : padding[1] + W])

    out = restore(out.astype(X.dtype, copy=False))
    out_shape = out.shape
    return record("AvgPool2DBackward0", out, (input,), (vjp,))


@op("avg_pool2d", method=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    Args:
        kernel_size: int or (h, w); stride defaults to it.
        padding: implicit zero padding, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padded zeros in each window's divisor.
        divisor_override: divide every window's sum by this instead.

    Example:
        >>> descend.avg_pool2d(descend.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


@op("avg_pool1d", method=False)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L); arguments as `avg_pool2d` with ints.

    Example:
        >>> descend.avg_pool1d(descend.tensor([[1., 3., 2., 0.]]), 2).tolist()
        [[2.0, 1.0]]
    """
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def _adaptive_bounds(n, out):
    """PyTorch's adaptive windows along one axis: [floor(i n / out), ceil((i + 1) n / out))."""
    i = np.arange(out)
    return (i * n) // out, -(-((i + 1) * n) // out)


def _adaptive_size(output_size, spatial, in_hw):
    sizes = (output_size,) * spatial if isinstance(output_size, (int, np.integer)) or output_size is None \
        else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"output_size must be an int or a tuple of {spatial}, got {output_size!r}")
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, in_hw[2 - spatial :]))
    if any(s < 0 for s in sizes):  # 0 is allowed: an empty output, as in PyTorch
        raise RuntimeError(
            f"adaptive pooling: elements of output_size must be greater than or equal to 0, got {list(sizes)}"
        )
    return (1, *sizes) if spatial == 1 else sizes


def _adaptive_avg(name, input, output_size, spatial):
    input, X, restore, to_4d = _pool_input(input, spatial, name)
    N, C, H, W = X.shape
    OH, OW = _adaptive_size(output_size, spatial, (H, W))
    mats = []
    for n, o in ((H, OH), (W, OW)):
        start, end = _adaptive_bounds(n, o)
        idx = np.arange(n)
        inside = (idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])
        mats.append((inside / (end - start)[:, None]).astype(X.dtype))
    Ah, Aw = mats  # (OH, H), (OW, W)
    # NOTE: an adaptive window's mean is separable: rows averaged, then columns, as two small matrix
    # products (any output size, overlapping windows included) instead of a loop over output cells.
    out = restore(np.matmul(np.matmul(Ah, X), Aw.T))
    out_shape = out.shape

    def vjp(g):
        g = to_4d(g.reshape(out_shape))
        return restore(np.matmul(np.matmul(Ah.T, g), Aw))

    return record("AdaptiveAvgPool2DBackward0", out, (input,), (vjp,))


@op("adaptive_avg_pool2d", method=False)
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (int or (h, w); None keeps that input size).

    Example:
        >>> descend.adaptive_avg_pool2d(descend.ones(1, 2, 5, 7), 1).shape
        (1, 2, 1, 1)
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


@op("adaptive_avg_pool1d", method=False)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed length.

    Example:
        >>> descend.adaptive_avg_pool1d(descend.tensor([[1., 2., 3., 4.]]), 2).tolist()
        [[1.5, 3.5]]
    """
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def _adaptive_max(name, input, output_size, return_indices, spatial):
    input, X, restore, to_4d = _pool_input(input, spatial, name)
    N, C, H, W = X.shape
    OH, OW = _adaptive_size(output_size, spatial, (H, W))
    hs, he = _adaptive_bounds(H, OH)
    ws, we = _adaptive_bounds(W, OW)
    out = np.empty((N, C, OH, OW), dtype=X.dtype)
    index = np.empty((N, C, OH, OW), dtype=np.int64)
    for i in range(OH):  # one small region per output cell (the output is small by design)
        for j in range(OW):
            region = X[:, :, hs[i] : he[i], ws[j] : we[j]]
            rw = we[j] - ws[j]
            flat = region.reshape(N, C, -1)
            a = flat.argmax(axis=-1)
            out[:, :, i, j] = np.take_along_axis(flat, a[..., None], axis=-1)[..., 0]
            index[:, :, i, j] = (hs[i] + a // rw) * W + ws[j] + a % rw

    def vjp(g):
        g = to_4d(g.reshape(out_shape))
        dX = np.zeros((N, C, H * W), dtype=g.dtype)
        for i in range(OH):  # overlapping windows may pick the same element: accumulate per cell
            for j in range(OW):
                np.put_along_axis(
                    dX, index[:, :, i, j, None],
                    np.take_along_axis(dX, index[:, :, i, j, None], axis=-1) + g[:, :, i, j, None], axis=-1,
                )
        return restore(dX.reshape(N, C, H, W))

    out = restore(out)
    out_shape = out.shape
    result = record("AdaptiveMaxPool2DBackward0", out, (input,), (vjp,))
    if not return_indices:
        return result
    from ..tensor import _wrap

    return result, _wrap(restore(index))


@op("adaptive_max_pool2d", method=False)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (int or (h, w)); indices are flat into each H * W plane.

    Example:
        >>> descend.adaptive_max_pool2d(descend.arange(16.).reshape(1, 1, 4, 4), 1).tolist()
        [[[[15.0]]]]
    """
    return _adaptive_max("adaptive_max_pool2d", input, output_size, return_indices, 2)


@op("adaptive_max_pool1d", method=False)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length.

    Example:
        >>> descend.adaptive_max_pool1d(descend.tensor([[1., 5., 3., 4.]]), 2).tolist()
        [[5.0, 4.0]]
    """
    return _adaptive_max("adaptive_max_pool1d", input, output_size, return_indices, 1)


# --- im2col as PyTorch exposes it ---


@op("unfold", method=False, function=False)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of an (N, C, H, W) or (C, H, W) input as columns: (N, C*kH*kW, L).

    L = OH * OW blocks in row-major order; each column lists C, then kH, then kW (PyTorch's order).

    Example:
        >>> descend.nn.functional.unfold(descend.ones(1, 2, 3, 3), 2).shape
        (1, 8, 4)
    """
    input = _tensor(input)
    X = input._data
    _check_float("unfold", X)
    if X.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {X.ndim}D)"
        )
    batched = X.ndim == 4
    X = X if batched else X[None]
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    N, C, H, W = X.shape
    out_hw = tuple(
        _out_size(n, k, s, p, d) for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation)
    )
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size ({H}, {W}), kernel_size={list(kernel)}, "
            f"dilation={list(dilation)}, "
            f"padding={list(padding)}, calculated shape of the array of sliding blocks as "
            f"({out_hw[0]}, {out_hw[1]}), but its components must be at least one."
        )
    Xp = _pad_hw(X, *padding)
    cols = _im2col(Xp, 1, kernel, stride, dilation, out_hw)[0]  # (C*K, N*L)
    L = out_hw[0] * out_hw[1]
    out = cols.reshape(-1, N, L).transpose(1, 0, 2)
    out = out if batched else out[0]
    out_shape = out.shape

    def vjp(g):
        g = g.reshape(out_shape)
        g = g if batched else g[None]
        cols = g.reshape(N, C, *kernel, *out_hw).transpose(1, 2, 3, 0, 4, 5)
        dXp = _col2im(cols, Xp.shape, kernel, stride, dilation, out_hw)
        dX = dXp[:, :, padding[0] : padding[0] + H, padding[1] : padding[1] + W]
        return dX if batched else dX[0]

    return record("Im2ColBackward0", out, (input,), (vjp,))


@op("fold", method=False, function=False)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C*kH*kW, L) back into an (N, C, H, W) image: the adjoint of `unfold` (col2im).

    Example:
        >>> F = descend.nn.functional
        >>> F.fold(F.unfold(descend.ones(1, 1, 3, 3), 2), (3, 3), 2)[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    input = _tensor(input)
    X = input._data
    _check_float("fold", X)
    if X.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {X.ndim}D)")
    batched = X.ndim == 3
    X = X if batched else X[None]
    size = _pair(output_size, "output_size")
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    N, CK, L = X.shape
    K = kernel[0] * kernel[1]
    if CK % K:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={CK} and kernel_size={tuple(kernel)}"
        )
    out_hw = tuple(_out_size(n, k, s, p, d) for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))
    if out_hw[0] * out_hw[1] != L:
        raise RuntimeError(
            f"Given output_size={tuple(size)}, kernel_size={tuple(kernel)}, dilation={tuple(dilation)}, "
            f"padding={tuple(padding)}, stride={tuple(stride)}, expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {out_hw[0]} * {out_hw[1]} = "
            f"{out_hw[0] * out_hw[1]}, but got input.size(2)={L}."
        )
    C = CK // K
    padded = (N, C, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    cols = X.reshape(N, C, *kernel, *out_hw).transpose(1, 2, 3, 0, 4, 5)
    full = _col2im(cols, padded, kernel, stride, dilation, out_hw)
    out = full[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
    out = out if batched else out[0]
    out_shape = out.shape

    def vjp(g):
        g = g.reshape(out_shape)
        g = g if batched else g[None]
        cols = _im2col(_pad_hw(g, *padding), 1, kernel, stride, dilation, out_hw)[0]
        dX = cols.reshape(CK, N, L).transpose(1, 0, 2)
        return dX if batched else dX[0]

    return record("Col2ImBackward0", out, (input,), (vjp,))


# --- channel dropout and rearrangement ---


def _feature_dropout(name, input, p, training, inplace, spatial):
    input = _tensor(input)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but received a {input.ndim}D input"
        )
    if inplace:
        raise NotImplementedError(f"{name}(inplace=True) is not supported; use the out-of-place form")
    if not training or p == 0.0:
        return input
    X = input._data
    lead = X.shape[: X.ndim - spatial]  # (N, C) or (C,)
    if spatial == 2 and X.ndim == 3:
        # PyTorch reads a 3-D input to dropout2d as batched 1-D (N, C, L), and says so
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
            "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. Use dropout1d "
            "for that, or give a 4-D (N, C, H, W) input.",
            UserWarning,
            stacklevel=3,
        )
        lead = X.shape[:2]
    if p == 1.0:
        mask = np.zeros(lead, dtype=X.dtype)
    else:
        mask = ((generator().random(lead) >= p) / (1.0 - p)).astype(X.dtype)
    mask = mask.reshape(lead + (1,) * (X.ndim - len(lead)))
    out = X * mask
    return record("MulBackward0", out, (input,), (lambda g: g * mask,))


@op("dropout2d", method=False)
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) with probability p, scaling the rest by 1/(1-p).

    The mask comes from `descend.random.generator()` (so `descend.manual_seed` repeats it).

    Example:
        >>> descend.dropout2d(descend.ones(1, 4, 2, 2), 0.5, training=False).sum().item()
        16.0
    """
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


@op("dropout1d", method=False)
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by 1/(1-p).

    Example:
        >>> descend.dropout1d(descend.ones(2, 3, 4), 0.0).sum().item()
        24.0
    """
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


@op("dropout3d", method=False)
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scaling the rest by 1/(1-p).

    Example:
        >>> descend.dropout3d(descend.ones(1, 2, 1, 2, 2), 0.5, training=False).sum().item()
        8.0
    """
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)


def _interp_matrix(n_in, n_out, mode, align_corners, scale, dtype):
    """The (n_out, n_in) matrix taking one axis from n_in to n_out samples, PyTorch's way."""
    dst = np.arange(n_out, dtype=np.float64)
    # PyTorch maps coordinates by 1/scale_factor when one was given, else by the size ratio
    ratio = (1.0 / scale) if scale is not None else n_in / n_out
    A = np.zeros((n_out, n_in), dtype=np.float64)
    if mode == "nearest":
        # in float32, as PyTorch computes nearest indices (floorf(dst * (float)ratio)) for every dtype
        src = np.floor(dst.astype(np.float32) * np.float32(ratio)).astype(np.int64)
        A[np.arange(n_out), np.minimum(src, n_in - 1)] = 1.0
        return A.astype(dtype)
    if mode == "nearest-exact":
        # the sample whose centre is nearest: floorf((dst + 0.5) * ratio), in float32 as PyTorch
        src = np.floor((dst.astype(np.float32) + np.float32(0.5)) * np.float32(ratio)).astype(np.int64)
        A[np.arange(n_out), np.minimum(src, n_in - 1)] = 1.0
        return A.astype(dtype)
    if mode == "area":
        # PyTorch's "area" is adaptive average pooling to the output size
        start, end = _adaptive_bounds(n_in, n_out)
        idx = np.arange(n_in)
        inside = (idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])
        return (inside / (end - start)[:, None]).astype(dtype)
    if mode == "bicubic":
        # Keys' cubic convolution (A = -0.75) on 4 neighbours, indices clamped at the edges; the
        # source coordinate is not clamped at 0 (PyTorch's area_pixel_compute_source_index, cubic)
        if align_corners:
            src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
        else:
            src = (dst + 0.5) * ratio - 0.5
        i = np.floor(src).astype(np.int64)
        t = src - i
        a = -0.75

        def near(x):  # |x| <= 1
            return ((a + 2) * x - (a + 3)) * x * x + 1

        def far(x):  # 1 < |x| < 2
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

        weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
        rows = np.arange(n_out)
        for k, w in enumerate(weights):
            np.add.at(A, (rows, np.clip(i - 1 + k, 0, n_in - 1)), w)
        return A.astype(dtype)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    rows = np.arange(n_out)
    A[rows, i0] += 1.0 - lam  # one entry per row in each statement (i1 == i0 only at the last sample)
    A[rows, i1] += lam
    return A.astype(dtype)


@op("interpolate", method=False, function=False)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs, PyTorch's modes.

    Args:
        size: the output's spatial size (int or tuple), or
        scale_factor: a multiplier per spatial dim (the output size is floor(size * factor)).
        mode: "nearest" | "nearest-exact" | "area" (any input), "linear" (3-D), "bilinear" |
            "bicubic" (4-D), "trilinear" (5-D).
        align_corners: for the interpolating modes: map the corner pixels' centres onto each other
            (default False).
        recompute_scale_factor: True maps coordinates by the output/input size ratio, not scale_factor.
        antialias: only False (no antialiasing filter).

    Example:
        >>> F = descend.nn.functional
        >>> F.interpolate(descend.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="linear").tolist()
        [[[1.0, 1.25, 1.75, 2.0]]]
    """
    input = _tensor(input)
    X = input._data
    _check_float("interpolate", X)
    spatial = X.ndim - 2
    common = ("nearest", "nearest-exact", "area")
    modes = {1: common + ("linear",), 2: common + ("bilinear", "bicubic"), 3: common + ("trilinear",)}
    needs = {"linear": "3D", "bilinear": "4D", "bicubic": "4D", "trilinear": "5D"}
    if spatial not in modes:
        raise NotImplementedError(
            f"interpolate: input of {X.ndim} dims is not supported: expected 3-D (N, C, L), 4-D "
            f"(N, C, H, W) or 5-D (N, C, D, H, W)"
        )
    if mode not in modes[spatial]:
        raise NotImplementedError(
            f"Got {X.ndim}D input, but {mode} mode needs {needs[mode]} input"
            if mode in needs else
            f"interpolate: mode {mode!r} is not supported (descend has {', '.join(modes[spatial])} for "
            f"{X.ndim}-D inputs)"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in common and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | "
            "bicubic | trilinear"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = X.shape[2:]
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, (int, np.integer)) else tuple(int(v) for v in size)
        if len(sizes) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(in_sizes)} and output size of {sizes}.")
        scales = (None,) * spatial
    else:
        scales = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        if len(scales) != spatial:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(in_sizes)} and scale_factor of "
                             f"shape {scales}.")
        sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if any(v < 1 for v in sizes) and not (mode == "area" and min(sizes) == 0):  # area: adaptive pooling to 0
        raise RuntimeError(f"interpolate: the output size {list(sizes)} must be positive")
    corners = bool(align_corners)
    if mode == "nearest" and spatial == 2:
        # NOTE: PyTorch 2.13's CPU kernel for 2-D nearest ignores scale_factor along an axis whose output
        # is exactly the input's size or twice it (index = dst or dst >> 1); its 1-D kernel does not.
        # Measured against it, and matched here.
        scales = tuple(None if o in (n, 2 * n) else f for n, o, f in zip(in_sizes, sizes, scales))
    mats = [_interp_matrix(n, o, mode, corners, None if f is None else float(f), X.dtype)
            for n, o, f in zip(in_sizes, sizes, scales)]
    # NOTE: resizing is separable: one small interpolation matrix per axis, so forward and backward are
    # two matrix products each (nearest and bilinear alike) instead of gathers and scatter-adds.
    if spatial == 1:
        (Aw,) = mats
        out = np.matmul(X, Aw.T)

        def vjp(g):
            return np.matmul(g, Aw)
    elif spatial == 2:
        Ah, Aw = mats
        out = np.matmul(np.matmul(Ah, X), Aw.T)

        def vjp(g):
            return np.matmul(np.matmul(Ah.T, g), Aw)
    else:
        out = _along_axes(X, mats, transpose=False)

        def vjp(g):
            return _along_axes(g, mats, transpose=True)

    names = {"nearest": f"UpsampleNearest{spatial}DBackward0", "linear": "UpsampleLinear1DBackward0",
             "bilinear": "UpsampleBilinear2DBackward0", "bicubic": "UpsampleBicubic2DBackward0",
             "nearest-exact": f"UpsampleNearestExact{spatial}DBackward0",
             "area": f"AdaptiveAvgPool{spatial}DBackward0", "trilinear": "UpsampleTrilinear3DBackward0"}
    return record(names[mode], out, (input,), (vjp,))


def _along_axes(X, mats, transpose):
    """Apply one (out, in) matrix per spatial axis (axis 2 onwards); A.T of each when `transpose`."""
    for i, A in enumerate(mats):
        X = np.moveaxis(np.tensordot(A.T if transpose else A, X, axes=([1], [2 + i])), 0, 2 + i)
    return X


@op("pixel_shuffle", method=False)
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r), as in sub-pixel convolution.

    Example:
        >>> descend.pixel_shuffle(descend.ones(1, 4, 2, 2), 2).shape
        (1, 1, 4, 4)
    """
    input = _tensor(input)
    X = input._data
    r = int(upscale_factor)
    if X.ndim < 3 or X.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's channel dimension to be divisible by the square of "
            f"upscale_factor ({r * r}), but input of size {_size_list(X.shape)} does not"
        )
    *lead, C, H, W = X.shape
    c = C // (r * r)
    out = X.reshape(*lead, c, r, r, H, W)
    n = len(lead)
    out = out.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2).reshape(*lead, c, H * r, W * r)

    def vjp(g):
        g = g.reshape(*lead, c, H, r, W, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
        return g.reshape(X.shape)

    return record("PixelShuffleBackward0", out, (input,), (vjp,))


@op("pixel_unshuffle", method=False)
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle.

    Example:
        >>> descend.pixel_unshuffle(descend.ones(1, 1, 4, 4), 2).shape
        (1, 4, 2, 2)
    """
    input = _tensor(input)
    X = input._data
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    if X.ndim < 3 or X.shape[-2] % r or X.shape[-1] % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor ({r}), but "
            f"input of size {_size_list(X.shape)} does not"
        )
    *lead, C, H, W = X.shape
    h, w = H // r, W // r
    n = len(lead)
    out = X.reshape(*lead, C, h, r, w, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    out = out.reshape(*lead, C * r * r, h, w)

    def vjp(g):
        g = g.reshape(*lead, C, r, r, h, w).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
        return g.reshape(X.shape)

    return record("PixelUnshuffleBackward0", out, (input,), (vjp,))


# --- three-dimensional convolution and pooling ---
# Their own helpers over (N, C, D, H, W) arrays, the same im2col + one GEMM scheme as the 2-D ops above
# (whose code and layouts the LeNet benchmark measures, and which these leave untouched).


def _batched3d(X, name):
    """(array as (N, C, D, H, W), whether the input had a batch dim), or PyTorch's error for a wrong rank."""
    if X.ndim == 5:
        return X, True
    if X.ndim == 4:
        return X[None], False
    raise RuntimeError(
        f"{name}: expected a 4D (unbatched, (C, D, H, W)) or 5D (batched, (N, C, D, H, W)) input, "
        f"but got input of size: {_size_list(X.shape)}"
    )


def _pad3d(X, pads, value=0.0):
    """X (N, C, D, H, W) padded by ((before, after), ...) per spatial dim, or X itself when there is none."""
    if not any(a or b for a, b in pads):
        return X
    shape = X.shape[:2] + tuple(n + a + b for n, (a, b) in zip(X.shape[2:], pads))
    out = np.full(shape, value, dtype=X.dtype)
    out[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in zip(X.shape[2:], pads))] = X
    return out


def _unpad3d(A, pads, sizes):
    if not any(a or b for a, b in pads):
        return A
    return A[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in zip(sizes, pads))]


def _windows3d(Xp, kernel, stride, dilation, out_size):
    """The (N, C, OD, OH, OW, KD, KH, KW) window view of a padded (N, C, D, H, W) array (no copy)."""
    sN, sC, *sp = Xp.strides
    return as_strided(
        Xp,
        Xp.shape[:2] + tuple(out_size) + tuple(kernel),
        (sN, sC) + tuple(s * t for s, t in zip(sp, stride)) + tuple(s * d for s, d in zip(sp, dilation)),
        writeable=False,
    )


def _im2col3d(Xp, groups, kernel, stride, dilation, out_size):
    """The GEMM operand (G, C/G*KD*KH*KW, N*OD*OH*OW), in (G, Cg, KD, KH, KW, N, OD, OH, OW) order."""
    N, C = Xp.shape[:2]
    win = _windows3d(Xp, kernel, stride, dilation, out_size)
    win = win.reshape(N, groups, C // groups, *win.shape[2:])
    return win.transpose(1, 2, 6, 7, 8, 0, 3, 4, 5).reshape(groups, -1, N * math.prod(out_size))


def _kernel_slices(k, stride, dilation, out_size):
    """The strided slices (one per spatial dim) that kernel position k = (kd, kh, kw) reads."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                 for i, s, d, o in zip(k, stride, dilation, out_size))


def _col2im3d(cols, padded_shape, kernel, stride, dilation, out_size):
    """The adjoint of `_im2col3d`: columns (C, KD, KH, KW, N, OD, OH, OW) summed into a padded
    (N, C, D, H, W) image (returned as a view of (C, N, D, H, W) memory): one strided add per position."""
    N, C = padded_shape[:2]
    out = np.zeros((C, N, *padded_shape[2:]), dtype=cols.dtype)
    for k in np.ndindex(*kernel):
        at = (slice(None), slice(None)) + _kernel_slices(k, stride, dilation, out_size)
        out[at] += cols[(slice(None),) + k]
    return out.transpose(1, 0, 2, 3, 4)


def _grad_cols3d(g, groups):
    """An (N, O, OD, OH, OW) array as the (G, O/G, N*OD*OH*OW) GEMM operand."""
    N, O = g.shape[:2]
    return g.transpose(1, 0, 2, 3, 4).reshape(groups, O // groups, -1)


def _from_cols3d(rows, N, size):
    """A (G, O/G, N*D*H*W) GEMM result as an (N, O, D, H, W) view of its (O, N, D, H, W) memory."""
    return rows.reshape(-1, N, *size).transpose(1, 0, 2, 3, 4)


@op("conv3d", method=False)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation, as PyTorch) over an (N, C, D, H, W) or (C, D, H, W) input.

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (d, h, w).
        padding: int, (d, h, w), "valid" or "same" (stride 1; an odd total puts the extra one after).
        groups: split the channels into this many independent convolutions.

    Returns:
        (N, C_out, D_out, H_out, W_out), D_out = floor((D + 2 p - d (k - 1) - 1) / s) + 1.

    Example:
        >>> descend.conv3d(descend.ones(1, 1, 3, 3, 3), descend.ones(1, 1, 2, 2, 2)).shape
        (1, 1, 2, 2, 2)
    """
    name = "conv3d"
    input, weight, bias, X, Wt, B, batched, groups, stride, dilation, kernel, pads = _conv_setup(
        name, input, weight, bias, stride, padding, dilation, groups, 3)
    O, Cg = Wt.shape[:2]
    N, C = X.shape[:2]
    sizes = X.shape[2:]
    padded = tuple(n + a + b for n, (a, b) in zip(sizes, pads))
    out_size = tuple(_out_size(n, k, s, 0, d) for n, k, s, d in zip(padded, kernel, stride, dilation))
    if min(out_size) < 1:
        kshown = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, kshown))}). Kernel size can't be greater than actual input size"
        )
    Xp = _pad3d(X, pads)
    cols = _im2col3d(Xp, groups, kernel, stride, dilation, out_size)
    padded_shape = Xp.shape
    del Xp
    Wm = Wt.reshape(groups, O // groups, -1)
    out = _from_cols3d(np.matmul(Wm, cols), N, out_size)
    if B is not None:
        out += B[:, None, None, None]
    if not batched:
        out = out[0]
    out_shape = out.shape

    last = [None, None]  # (g, its GEMM layout), shared by the three VJPs

    def grad_cols(g):
        if last[0] is not g:
            g5 = g.reshape(out_shape)
            last[0], last[1] = g, _grad_cols3d(g5 if batched else g5[None], groups)
        return last[1]

    def vjp_input(g):
        dcols = np.matmul(Wm.transpose(0, 2, 1), grad_cols(g)).reshape(C, *kernel, N, *out_size)
        dX = _unpad3d(_col2im3d(dcols, padded_shape, kernel, stride, dilation, out_size), pads, sizes)
        return dX if batched else dX[0]

    def vjp_weight(g):
        return np.matmul(grad_cols(g), cols.transpose(0, 2, 1)).reshape(Wt.shape)

    def vjp_bias(g):
        return grad_cols(g).sum(axis=2).reshape(O)

    parents = (input, weight) if bias is None else (input, weight, bias)
    vjps = (vjp_input, vjp_weight) if bias is None else (vjp_input, vjp_weight, vjp_bias)
    return record("ConvolutionBackward0", out, parents, vjps, saved=(weight,))


@op("conv_transpose3d", method=False)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: the gradient of conv3d with respect to its input, as a forward.

    Args:
        input: (N, C_in, D, H, W) or (C_in, D, H, W).
        weight: (C_in, C_out / groups, kD, kH, kW) (PyTorch's transposed layout).
        bias: optional (C_out,).
        stride, padding, output_padding, dilation: int or (d, h, w); output_padding < max(stride, dilation).
        groups: independent channel groups.

    Returns:
        (N, C_out, D_out, H_out, W_out), D_out = (D - 1) s - 2 p + d (k - 1) + output_padding + 1.

    Example:
        >>> descend.conv_transpose3d(descend.ones(1, 1, 2, 2, 2), descend.ones(1, 1, 2, 2, 2), stride=2).shape
        (1, 1, 4, 4, 4)
    """
    name = "conv_transpose3d"
    (input, weight, bias, X, Wt, B, batched, groups, O, stride, padding, output_padding,
     dilation) = _transpose_setup(name, input, weight, bias, stride, padding, output_padding, dilation,
                                  groups, 3)
    Cin = Wt.shape[0]
    kernel = Wt.shape[2:]
    N = X.shape[0]
    in_size = X.shape[2:]
    out_size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for n, s, p, d, k, op_ in zip(in_size, stride, padding, dilation, kernel, output_padding)
    )
    if min(out_size) < 1:
        raise RuntimeError(f"{name}: the output size {list(out_size)} is too small (padding too large)")
    pads = [(p, p) for p in padding]
    full_shape = (N, O) + tuple(o + 2 * p for o, p in zip(out_size, padding))
    Wm = Wt.reshape(groups, Cin // groups, -1)  # (G, Cin/G, O/G*K)
    rows = _grad_cols3d(X, groups)  # (G, Cin/G, N*D*H*W)
    cols = np.matmul(Wm.transpose(0, 2, 1), rows).reshape(O, *kernel, N, *in_size)
    out = _unpad3d(_col2im3d(cols, full_shape, kernel, stride, dilation, in_size), pads, out_size)
    if B is not None:
        out = out + B[:, None, None, None]
    if not batched:
        out = out[0]
    out_shape = out.shape

    def cols_of(g):
        g = g.reshape(out_shape)
        g = _pad3d(g if batched else g[None], pads)
        # the adjoint of col2im is im2col; the output_padding entries at the end are never read
        return _im2col3d(g, groups, kernel, stride, dilation, in_size)  # (G, O/G*K, N*D*H*W)

    def vjp_input(g):
        dX = _from_cols3d(np.matmul(Wm, cols_of(g)), N, in_size)
        return dX if batched else dX[0]

    def vjp_weight(g):
        return np.matmul(rows, cols_of(g).transpose(0, 2, 1)).reshape(Wt.shape)

    def vjp_bias(g):
        g = g.reshape(out_shape)
        return g.sum(axis=(0, 2, 3, 4) if batched else (1, 2, 3))

    parents = (input, weight) if bias is None else (input, weight, bias)
    vjps = (vjp_input, vjp_weight) if bias is None else (vjp_input, vjp_weight, vjp_bias)
    return record("ConvolutionBackward0", out, parents, vjps, saved=(input, weight))


def _pool3d_setup(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """The checks and geometry every 3-D window pool shares: (tensor, X (N, C, D, H, W), batched,
    kernel, stride, padding, dilation, output size, extra end padding for ceil_mode's last window)."""
    input = _tensor(input)
    X = input._data
    _check_float(name, X)
    if X.ndim not in (4, 5) or X.size == 0:
        raise RuntimeError(f"{name}: non-empty 4D or 5D (batch mode) tensor expected for input, "
                           f"got input of size: {_size_list(X.shape)}")
    X, batched = _batched3d(X, name)
    kernel = _pair(kernel_size, "kernel_size", 3)
    empty = stride is None or (not isinstance(stride, (int, np.integer)) and len(tuple(stride)) == 0)
    stride = kernel if empty else _pair(stride, "stride", 3)
    padding = _pair(padding, "padding", 3)
    dilation = _pair(dilation, "dilation", 3)
    if any(k < 1 for k in kernel):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {list(kernel)}")
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{name}: stride must be greater than zero, but got {list(stride)}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got {list(dilation)}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > k // 2:
            raise RuntimeError(
                f"{name}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    sizes = X.shape[2:]
    out_size = tuple(_out_size(n, k, s, p, d, ceil_mode)
                     for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    if min(out_size) < 1:
        C = X.shape[1]
        raise RuntimeError(
            f"{name}: Given input size: ({C}x{'x'.join(map(str, sizes))}). Calculated output size: "
            f"({C}x{'x'.join(map(str, out_size))}). Output size is too small"
        )
    extra = tuple(
        max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
        for o, s, d, k, n, p in zip(out_size, stride, dilation, kernel, sizes, padding)
    )
    pads = [(p, p + e) for p, e in zip(padding, extra)]
    return input, X, batched, kernel, stride, padding, dilation, out_size, pads


@op("max_pool3d", method=False)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); padding counts as -inf.

    Ties go to the first maximum in (kd, kh, kw) order, a window holding NaN gives NaN (its last one),
    as PyTorch's kernel picks them; gradients flow to the picked element.

    Args:
        kernel_size: int or (d, h, w); stride defaults to it.
        padding: implicit -inf padding, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last, partial window that starts inside the input).
        return_indices: also return each maximum's flat index into its input volume (D * H * W).

    Example:
        >>> descend.max_pool3d(descend.arange(8.).reshape(1, 1, 2, 2, 2), 2).flatten().tolist()
        [7.0]
    """
    name = "max_pool3d"
    input, X, batched, kernel, stride, padding, dilation, out_size, pads = _pool3d_setup(
        name, input, kernel_size, stride, padding, dilation, ceil_mode)
    sizes = X.shape[2:]
    src = _pad3d(X, pads, -np.inf)
    # the padding never wins, even over an input of -inf: windows start from their first real element
    valid = _pad3d(np.ones((1, 1, *sizes), dtype=bool), pads, False)
    lead = (slice(None), slice(None))
    out = np.full(X.shape[:2] + out_size, -np.inf, dtype=X.dtype)
    arg = np.full(out.shape, -1, dtype=np.int64)
    for i, k in enumerate(np.ndindex(*kernel)):
        where = lead + _kernel_slices(k, stride, dilation, out_size)
        v = src[where]
        upd = (v > out) | np.isnan(v) | ((arg < 0) & valid[where])
        np.copyto(out, v, where=upd)
        arg[upd] = i
    out_shape = out.shape if batched else out.shape[1:]

    def vjp(g):
        g = g.reshape(out_shape)
        g = g if batched else g[None]
        dsrc = np.zeros(src.shape, dtype=g.dtype)
        for i, k in enumerate(np.ndindex(*kernel)):
            dsrc[lead + _kernel_slices(k, stride, dilation, out_size)] += np.where(arg == i, g, 0)
        dX = _unpad3d(dsrc, pads, sizes)
        return dX if batched else dX[0]

    result = record("MaxPool3DWithIndicesBackward0", out if batched else out[0], (input,), (vjp,),
                    saved=(input,))
    if not return_indices:
        return result
    offs = np.unravel_index(arg, kernel)
    flat = 0
    for ax, (o, s, p, d, n) in enumerate(zip(out_size, stride, padding, dilation, sizes)):
        shape = [1, 1, 1, 1, 1]
        shape[2 + ax] = o
        pos = (np.arange(o) * s - p).reshape(shape) + offs[ax] * d
        flat = flat * n + pos
    from ..tensor import _wrap

    return result, _wrap(flat if batched else flat[0])


@op("avg_pool3d", method=False)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W).

    Args:
        kernel_size: int or (d, h, w); stride defaults to it.
        padding: implicit zero padding, at most half the kernel.
        ceil_mode: round the output size up (the last window's divisor is clipped, as PyTorch).
        count_include_pad: count padded zeros in each window's divisor.
        divisor_override: divide every window's sum by this instead.

    Example:
        >>> descend.avg_pool3d(descend.arange(8.).reshape(1, 1, 2, 2, 2), 2).flatten().tolist()
        [3.5]
    """
    name = "avg_pool3d"
    input, X, batched, kernel, stride, padding, dilation, out_size, pads = _pool3d_setup(
        name, input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    sizes = X.shape[2:]
    if divisor_override is not None:
        div = np.full(out_size, float(divisor_override))
    else:
        per_axis = [_avg_divisor(n, k, s, p, o, count_include_pad)
                    for n, k, s, p, o in zip(sizes, kernel, stride, padding, out_size)]
        div = np.einsum("i,j,k->ijk", *[d.astype(np.float64) for d in per_axis])
    scale = (1.0 / div).astype(X.dtype)
    Xp = _pad3d(X, pads, 0.0)
    out = (_windows3d(Xp, kernel, stride, dilation, out_size).sum(axis=(5, 6, 7)) * scale).astype(
        X.dtype, copy=False)
    out_shape = out.shape if batched else out.shape[1:]
    lead = (slice(None), slice(None))

    def vjp(g):
        g = g.reshape(out_shape)
        gs = (g if batched else g[None]) * scale
        dXp = np.zeros(Xp.shape, dtype=g.dtype)
        for k in np.ndindex(*kernel):
            dXp[lead + _kernel_slices(k, stride, dilation, out_size)] += gs
        dX = _unpad3d(dXp, pads, sizes)
        return dX if batched else dX[0]

    return record("AvgPool3DBackward0", out if batched else out[0], (input,), (vjp,))


def _adaptive3d_input(name, input, output_size):
    input = _tensor(input)
    X = input._data
    _check_float(name, X)
    if X.ndim not in (4, 5):
        raise RuntimeError(f"{name}(): Expected 4D or 5D tensor, but got {_size_list(X.shape)}")
    X, batched = _batched3d(X, name)
    if any(n == 0 for n in X.shape[2:]):
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {_size_list(X.shape)}")
    sizes = (output_size,) * 3 if isinstance(output_size, (int, np.integer)) or output_size is None \
        else tuple(output_size)
    if len(sizes) == 1:
        sizes = sizes * 3
    if len(sizes) != 3:
        raise ValueError(f"{name}: output_size must be an int or a tuple of 3, got {output_size!r}")
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, X.shape[2:]))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0, "
                           f"got {list(sizes)}")
    return input, X, batched, sizes


@op("adaptive_avg_pool3d", method=False)
def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed (d, h, w) (None keeps that size).

    Example:
        >>> descend.adaptive_avg_pool3d(descend.ones(1, 2, 3, 5, 7), 1).shape
        (1, 2, 1, 1, 1)
    """
    input, X, batched, sizes = _adaptive3d_input("adaptive_avg_pool3d", input, output_size)
    mats = []
    for n, o in zip(X.shape[2:], sizes):
        start, end = _adaptive_bounds(n, o)
        idx = np.arange(n)
        inside = (idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])
        mats.append((inside / np.maximum(end - start, 1)[:, None]).astype(X.dtype))
    # NOTE: separable, as the 2-D op: one small averaging matrix per axis (forward and backward)
    out = _along_axes(X, mats, transpose=False)
    out_shape = out.shape if batched else out.shape[1:]

    def vjp(g):
        g = g.reshape(out_shape)
        dX = _along_axes(g if batched else g[None], mats, transpose=True)
        return dX if batched else dX[0]

    return record("AdaptiveAvgPool3DBackward0", out if batched else out[0], (input,), (vjp,))


@op("adaptive_max_pool3d", method=False)
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed (d, h, w); indices flat into D * H * W.

    Ties go to the first maximum, a region holding NaN to its last NaN (PyTorch's kernel).

    Example:
        >>> descend.adaptive_max_pool3d(descend.arange(8.).reshape(1, 1, 2, 2, 2), 1).flatten().tolist()
        [7.0]
    """
    input, X, batched, sizes = _adaptive3d_input("adaptive_max_pool3d", input, output_size)
    N, C, D, H, W = X.shape
    bounds = [_adaptive_bounds(n, o) for n, o in zip((D, H, W), sizes)]
    out = np.empty((N, C, *sizes), dtype=X.dtype)
    index = np.empty((N, C, *sizes), dtype=np.int64)
    for cell in np.ndindex(*sizes):  # one small region per output cell (the output is small by design)
        lo = [b[0][i] for b, i in zip(bounds, cell)]
        hi = [b[1][i] for b, i in zip(bounds, cell)]
        region = X[:, :, lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        flat = region.reshape(N, C, -1)
        a = flat.argmax(axis=-1)
        nan = np.isnan(flat)
        if nan.any():
            last_nan = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            a = np.where(nan.any(axis=-1), last_nan, a)
        at = (slice(None), slice(None)) + cell
        out[at] = np.take_along_axis(flat, a[..., None], axis=-1)[..., 0]
        d, h, w = np.unravel_index(a, region.shape[2:])
        index[at] = ((lo[0] + d) * H + lo[1] + h) * W + lo[2] + w
    out_shape = out.shape if batched else out.shape[1:]
    flat_index = index.reshape(N, C, -1)

    def vjp(g):
        g = g.reshape(out_shape)
        g = (g if batched else g[None]).reshape(N, C, -1)
        dX = np.zeros((N * C, D * H * W), dtype=g.dtype)
        rows = np.arange(N * C)[:, None]
        np.add.at(dX, (rows, flat_index.reshape(N * C, -1)), g.reshape(N * C, -1))  # regions may overlap
        dX = dX.reshape(N, C, D, H, W)
        return dX if batched else dX[0]

    result = record("AdaptiveMaxPool3DBackward0", out if batched else out[0], (input,), (vjp,))
    if not return_indices:
        return result
    from ..tensor import _wrap

    return result, _wrap(index if batched else index[0])
