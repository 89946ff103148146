"""`gradcheck`: compare backward's gradients with central finite differences in float64."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, _wrap

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by `gradcheck` when an analytic gradient disagrees with finite differences."""


def gradcheck(
    fn,
    inputs,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    seed=0,
    *,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_batched_forward_grad=False,
    check_forward_ad=False,
    check_backward_ad=True,
    fast_mode=False,
    masked=None,
):
    """Check the gradients of `fn` at `inputs` against central differences, in float64.

    The output is projected on a fixed random vector `v` so one backward gives `d(v . fn)/d(input)`
    for every element, compared with `(v . fn(x + eps) - v . fn(x - eps)) / (2 eps)`.

    Args:
        fn: function of the inputs returning a Tensor (or a tuple of Tensors).
        inputs: a Tensor or tuple of Tensors; those with `requires_grad=True` are checked.
        eps, atol, rtol: step and tolerances (|analytic - numeric| <= atol + rtol * |numeric|).
        raise_exception: raise `GradcheckError` naming the worst element (else return False).
        PyTorch's other keywords are accepted; the checks descend cannot do (forward-mode AD, batched
        gradients) raise NotImplementedError when asked for.

    Returns:
        True when every checked element agrees.

    Example:
        >>> x = descend.randn(3, dtype=descend.float64, requires_grad=True)
        >>> descend.gradcheck(lambda x: (x.sin() * x).sum(), (x,))
        True
    """
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: descend has no forward-mode AD (check_forward_ad=True)")
    if check_batched_grad:
        raise NotImplementedError("gradcheck: descend has no vmap (check_batched_grad=True)")
    if not check_backward_ad:
        return True
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    xs = [_as64(x) for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: none of the inputs requires grad, so there is nothing to check")

    def evaluate(args):
        out = fn(*args)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [o for o in outs if isinstance(o, Tensor)]

    outs = evaluate(xs)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(o.shape) for o in outs]
    total = None
    for o, v in zip(outs, vs):
        if o.requires_grad:
            term = (o * _wrap(v)).sum()
            total = term if total is None else total + term
    for i in checked:
        xs[i].grad = None
    if total is not None:
        total.backward()

    def projected(args):
        with_no_grad = evaluate(args)
        return float(sum(np.sum(o._data.astype(np.float64) * v) for o, v in zip(with_no_grad, vs)))

    worst = (0.0, None)
    for i in checked:
        x = xs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad._data
        flat = x._data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = projected(xs)
            flat[j] = orig - eps
            minus = projected(xs)
            flat[j] = orig
            numeric = (plus - minus) / (2 * eps)
            a = analytic.reshape(-1)[j]
            err = abs(a - numeric)
            excess = err - (atol + rtol * abs(numeric))
            if not np.isfinite(a) or excess > worst[0]:
                worst = (excess if np.isfinite(a) else np.inf, (i, np.unravel_index(j, x.shape), a, numeric))
    if worst[1] is None:
        return True
    i, where, a, numeric = worst[1]
    msg = (
        f"gradcheck failed for input {i} at element {tuple(int(k) for k in where)}: analytic {a:.6g} vs "
        f"numerical {numeric:.6g} (atol={atol}, rtol={rtol})"
    )
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(fn, inputs, grad_outputs=None, *args, **kwargs):
    """Second derivatives need a differentiable backward, which descend does not build."""
    raise NotImplementedError(
        "gradgradcheck needs higher-order gradients (a differentiable backward, create_graph=True), which "
        "descend does not support: its VJPs run in NumPy, outside the graph"
    )


def _as64(x):
    if not isinstance(x, Tensor):
        return x
    t = _wrap(x._data.astype(np.float64) if x.dtype.kind == "f" else x._data.copy())
    if x.requires_grad:
        t.requires_grad_()
    return t
