"""Jacobians and Jacobian products of small functions, by reverse mode (`torch.autograd.functional`)."""

from __future__ import annotations

import numpy as np

from . import grad

__all__ = ["jacobian", "jvp", "vjp", "hessian"]


def _prepare(inputs):
    from ..tensor import Tensor, _wrap

    single = isinstance(inputs, Tensor)
    items = (inputs,) if single else tuple(inputs)
    leaves = tuple(_wrap(t._data.copy()).requires_grad_() if t._data.dtype.kind == "f" else t for t in items)
    return single, leaves


def _outputs(func, leaves):
    from ..tensor import Tensor

    out = func(*leaves)
    single = isinstance(out, Tensor)
    return single, out, ((out,) if single else tuple(out))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the output and the vector-Jacobian product with `v`.

    Example:
        >>> out, g = descend.autograd.functional.vjp(lambda x: (x ** 2).sum(), descend.tensor([1., 2.]))
        >>> g
        tensor([2., 4.])
    """
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by descend")
    single_in, leaves = _prepare(inputs)
    single_out, out, outs = _outputs(func, leaves)
    vs = (v,) if (v is None or hasattr(v, "_data")) else tuple(v)
    if len(vs) == 1 and len(outs) > 1:
        raise RuntimeError("vjp: v must be a tuple with one tensor per output of func")
    gs = grad(outs, leaves, grad_outputs=vs, allow_unused=True, materialize_grads=True)
    out_d = out.detach() if single_out else tuple(o.detach() for o in outs)
    return out_d, (gs[0] if single_in else gs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: shape output.shape + input.shape (tuples for several).

    Example:
        >>> descend.autograd.functional.jacobian(lambda x: x ** 2, descend.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    from ..tensor import _wrap

    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by descend")
    if strategy != "reverse-mode":
        raise NotImplementedError("descend computes Jacobians by reverse mode only (strategy='reverse-mode')")
    single_in, leaves = _prepare(inputs)
    single_out, _, outs = _outputs(func, leaves)
    table = []
    for o in outs:
        rows = [np.zeros((o._data.size,) + leaf._data.shape, leaf._data.dtype) for leaf in leaves]
        for k in range(o._data.size):
            seed = np.zeros(o._data.shape, o._data.dtype)
            seed.reshape(-1)[k] = 1
            if not o._requires_grad:
                continue
            gs = grad(
                (o,),
                leaves,
                grad_outputs=(_wrap(seed),),
                retain_graph=True,
                allow_unused=True,
                materialize_grads=True,
            )
            for r, g in zip(rows, gs):
                r[k] = g._data
        table.append(
            tuple(_wrap(r.reshape(o._data.shape + leaf._data.shape)) for r, leaf in zip(rows, leaves))
        )
    if single_out:
        return table[0][0] if single_in else table[0]
    return tuple(t[0] if single_in else t for t in table)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the output and the Jacobian-vector product, from the full Jacobian
    (fine for the small functions this is meant for)."""
    from ..tensor import _wrap

    single_in, leaves = _prepare(inputs)
    single_out, out, outs = _outputs(func, leaves)
    vs = (v,) if (v is None or hasattr(v, "_data")) else tuple(v)
    if vs == (None,):
        if any(leaf._data.size != 1 for leaf in leaves):
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element."
            )
        vs = tuple(_wrap(np.ones_like(leaf._data)) for leaf in leaves)
    jac = jacobian(func, tuple(leaves))
    jac = (jac,) if single_out else jac
    results = []
    for o, row in zip(outs, jac):
        total = np.zeros(o._data.shape, o._data.dtype)
        for j, vv, leaf in zip(row, vs, leaves):
            total += (
                np.tensordot(j._data, vv._data, axes=leaf._data.ndim)
                if leaf._data.ndim
                else j._data * vv._data
            )
        results.append(_wrap(total))
    out_d = out.detach() if single_out else tuple(o.detach() for o in outs)
    return out_d, (results[0] if single_out else tuple(results))


def hessian(
    func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"
):
    """Second derivatives need a differentiable backward, which descend does not build."""
    raise NotImplementedError(
        "hessian needs higher-order gradients (create_graph=True), which descend does not support"
    )
