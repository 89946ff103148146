"""Gradient clipping: `clip_grad_norm_` and `clip_grad_value_`, in place on `.grad`, as in PyTorch;
`rnn`: packed sequences for the recurrent layers (`pack_padded_sequence`, `pad_packed_sequence`, ...).

Example:
    >>> import descend as torch
    >>> model = torch.nn.Linear(3, 1)
    >>> model(torch.ones(4, 3)).sum().backward()
    >>> total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
"""

from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor, from_numpy
from . import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p._grad._data for p in parameters if p._grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale gradients in place so that their joint norm is at most `max_norm`; return that norm.

    The total norm is the `norm_type`-norm of the vector of every gradient element (all parameters
    together). When it exceeds `max_norm`, every gradient is multiplied by
    max_norm / (total_norm + 1e-6), PyTorch's formula.

    Args:
        parameters: a tensor or an iterable of tensors (e.g. `model.parameters()`).
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm; float("inf") for the largest absolute element.
        error_if_nonfinite: raise a RuntimeError if the total norm is nan or inf.

    Returns:
        The total norm of the gradients before clipping, as a 0-d tensor.

    Example:
        >>> w = descend.tensor([3.0, 4.0], requires_grad=True)
        >>> (w * w).sum().backward()          # grad = [6, 8], norm 10
        >>> clip_grad_norm_([w], max_norm=5.0)
        tensor(10.)
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return from_numpy(np.zeros((), dtype=np.float32))
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 0:  # the number of non-zero elements
        total = float(sum(np.count_nonzero(g) for g in grads))
    else:
        norms = [np.linalg.norm(g.reshape(-1).astype(np.float64, copy=False), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.asarray(norms), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1.0 or not math.isfinite(total):
        for g in grads:
            np.multiply(g, clip_coef, out=g, casting="unsafe")
    return from_numpy(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to [-clip_value, clip_value], in place.

    Args:
        parameters: a tensor or an iterable of tensors.
        clip_value: the largest allowed absolute value.

    Example:
        >>> w = descend.tensor([3.0, 4.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> clip_grad_value_([w], 7.0)
        >>> w.grad
        tensor([6., 7.])
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
