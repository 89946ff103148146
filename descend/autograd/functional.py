"""Jacobians and Jacobian products of small functions, by reverse mode (`torch.autograd.functional`).

`vjp`, `jacobian` and `jvp` (from the Jacobian) work as PyTorch's; what needs a differentiable
backward (`hessian`, `hvp`, `vhp`, `create_graph=True`) raises NotImplementedError: descend's VJPs
run in NumPy, outside the graph, so second derivatives are out of reach.
"""

from __future__ import annotations

import numpy as np

from . import grad

__all__ = ["jacobian", "jvp", "vjp", "hessian", "hvp", "vhp"]

_NO_SECOND_ORDER = (
    "{what} needs higher-order gradients (a differentiable backward, create_graph=True), which descend "
    "does not support: its VJPs run in NumPy, outside the graph"
)


def _no_create_graph(create_graph, fn_name):
    if create_graph:
        raise NotImplementedError(_NO_SECOND_ORDER.format(what=f"{fn_name}(create_graph=True)"))


def _as_tuple(x, arg_name, fn_name):
    """(was it a single tensor, the tensors as a tuple), with PyTorch's TypeError for anything else."""
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return True, (x,)
    if isinstance(x, tuple) and all(isinstance(t, Tensor) for t in x):
        return False, x
    raise TypeError(
        f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the given "
        f"{arg_name} has type {type(x)}."
    )


def _prepare(inputs, fn_name):
    """Fresh leaves (detached copies that require grad) of the inputs, as PyTorch's functional API."""
    from ..tensor import _wrap

    single, items = _as_tuple(inputs, "inputs", fn_name)
    leaves = tuple(_wrap(t._data.copy()).requires_grad_() if t._data.dtype.kind == "f" else t for t in items)
    return single, leaves


def _outputs(func, leaves, fn_name):
    out = func(*leaves)
    single, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return single, outs


def _check_v(v, like, fn_name, what):
    """PyTorch's checks of the vector `v` against `like` (the outputs for vjp, the inputs for jvp)."""
    from ..tensor import Tensor

    if v is None:
        if len(like) != 1 or like[0]._data.size != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {what} a single Tensor with a single element."
            )
        return None
    if isinstance(v, Tensor):
        vs = (v,)
    else:
        _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        if len(like) == 1:
            raise RuntimeError("The given v should contain a single Tensor.")
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}.")
    for vv, t in zip(vs, like):
        if vv._data.shape != t._data.shape:
            raise RuntimeError(f"v has invalid size: should be {t.shape} but got {vv.shape}.")
    return vs


def _strict_outputs(outs):
    for i, o in enumerate(outs):
        if not o._requires_grad:
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                "computed in a differentiable manner from the input when running in strict mode."
            )


def _detached(single, outs):
    return outs[0].detach() if single else tuple(o.detach() for o in outs)


def _grads(outs, leaves, vs):
    """d(sum_k v_k . out_k)/d(leaf) for each leaf, None where no output depends on it."""
    pairs = [(o, v) for o, v in zip(outs, vs) if o._requires_grad]
    want = [i for i, leaf in enumerate(leaves) if leaf._requires_grad]
    result = [None] * len(leaves)
    if pairs and want:
        gs = grad(
            [o for o, _ in pairs],
            [leaves[i] for i in want],
            grad_outputs=[v for _, v in pairs],
            retain_graph=True,
            allow_unused=True,
        )
        for i, g in zip(want, gs):
            result[i] = g
    return result


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the output and the vector-Jacobian product with `v`.

    Example:
        >>> out, g = descend.autograd.functional.vjp(lambda x: (x ** 2).sum(), descend.tensor([1., 2.]))
        >>> g
        tensor([2., 4.])
    """
    from ..tensor import _wrap

    _no_create_graph(create_graph, "vjp")
    single_in, leaves = _prepare(inputs, "vjp")
    single_out, outs = _outputs(func, leaves, "vjp")
    vs = _check_v(v, outs, "vjp", "user-provided function returns")
    if vs is None:
        vs = (None,)
    if strict:
        _strict_outputs(outs)
    gs = _grads(outs, leaves, vs)
    for i, (g, leaf) in enumerate(zip(gs, leaves)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of input {i}. This is not "
                    "allowed in strict mode."
                )
            gs[i] = _wrap(np.zeros_like(leaf._data))
    return _detached(single_out, outs), (gs[0] if single_in else tuple(gs))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: shape output.shape + input.shape (tuples for several).

    One backward per output element. `strategy="forward-mode"` (with `vectorize=True`, as PyTorch
    requires) gives the same Jacobian, computed the same way.

    Example:
        >>> descend.autograd.functional.jacobian(lambda x: x ** 2, descend.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    from ..tensor import _wrap

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has '
            'more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to '
            'use "reverse-mode".'
        )
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only implemented for "
            "`vectorize=True`."
        )
    if strict and vectorize:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
            "together. Please either set `strict=False` or `vectorize=False`."
        )
    _no_create_graph(create_graph, "jacobian")
    single_in, leaves = _prepare(inputs, "jacobian")
    single_out, outs = _outputs(func, leaves, "jacobian")
    if strict:
        _strict_outputs(outs)
    table = []
    for j, o in enumerate(outs):
        rows = [np.zeros((o._data.size,) + leaf._data.shape, leaf._data.dtype) for leaf in leaves]
        reached = [False] * len(leaves)
        for k in range(o._data.size if o._requires_grad else 0):
            seed = np.zeros(o._data.shape, o._data.dtype)
            seed.reshape(-1)[k] = 1
            gs = _grads((o,), leaves, (_wrap(seed),))
            for i, (r, g) in enumerate(zip(rows, gs)):
                if g is not None:
                    r[k] = g._data
                    reached[i] = True
        if strict:
            for i, hit in enumerate(reached):
                if not hit:
                    raise RuntimeError(
                        f"Output {j} of the user-provided function is independent of input {i}. This is not "
                        "allowed in strict mode."
                    )
        table.append(
            tuple(_wrap(r.reshape(o._data.shape + leaf._data.shape)) for r, leaf in zip(rows, leaves))
        )
    if single_out:
        return table[0][0] if single_in else table[0]
    return tuple(t[0] if single_in else t for t in table)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the output and the Jacobian-vector product, from the full Jacobian
    (fine for the small functions this is meant for). With `strict`, an output that does not depend
    on any input raises, as in `vjp`."""
    from ..tensor import _wrap

    _no_create_graph(create_graph, "jvp")
    single_in, leaves = _prepare(inputs, "jvp")
    vs = _check_v(v, leaves, "jvp", "input to the user-provided function is")
    if vs is None:
        vs = tuple(_wrap(np.ones_like(leaf._data)) for leaf in leaves)
    single_out, outs = _outputs(func, leaves, "jvp")
    if strict:
        _strict_outputs(outs)
    jac = jacobian(func, leaves, strict=strict)
    jac = (jac,) if single_out else jac
    results = []
    for o, row in zip(outs, jac):
        total = np.zeros(o._data.shape, o._data.dtype)
        for j, vv, leaf in zip(row, vs, leaves):
            nd = leaf._data.ndim
            total += np.tensordot(j._data, vv._data, axes=nd) if nd else j._data * vv._data
        results.append(_wrap(total))
    return _detached(single_out, outs), (results[0] if single_out else tuple(results))


def hessian(
    func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"
):
    """Second derivatives need a differentiable backward, which descend does not build."""
    raise NotImplementedError(_NO_SECOND_ORDER.format(what="hessian"))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Hessian-vector products need a differentiable backward, which descend does not build."""
    raise NotImplementedError(_NO_SECOND_ORDER.format(what="hvp"))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Hessian products need a differentiable backward, which descend does not build."""
    raise NotImplementedError(_NO_SECOND_ORDER.format(what="vhp"))
