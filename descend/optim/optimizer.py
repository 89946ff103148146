"""`Optimizer`: the base class every optimizer shares, with PyTorch's public contract.

An optimizer holds `param_groups` (lists of parameters, each with its own options such as `lr`),
`defaults` (the options a group gets when it does not set them) and `state` (per-parameter buffers,
created lazily on the first step that sees a gradient). A subclass writes one method,
`_update(param, grad, group)`, which changes `param._data` in place following its paper.

State layout: `state[param]` maps names to descend Tensors (buffers such as `exp_avg`) and Python
numbers (`step`, ASGD's `eta`, ...), so `state_dict()` needs no conversion; PyTorch keeps those numbers
in 0-d tensors (float32 unless the default dtype is float64), and descend rounds them as those do and
loads them back as numbers. Scratch arrays used during an update live apart from `state`, so
`state_dict()` holds exactly PyTorch's keys.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np

from .._defaults import default_float_dtype
from ..autograd import enable_grad
from ..tensor import Tensor, _wrap

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a default that every parameter group must set itself (as `torch.optim.optimizer.required`)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def check_nonnegative(value, what):
    """Raise `ValueError(f"Invalid {what}: {value}")` unless `value >= 0` (NaN is rejected too)."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {what}: {value}")


def check_betas(betas):
    """Raise `ValueError(f"Invalid beta parameter at index {i}: {beta}")` unless each beta is in [0, 1).

    `betas` must be a pair (PyTorch fails with an IndexError on a shorter one; descend says what is wrong).
    """
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {tuple(betas)}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


# NOTE: `foreach` stays a no-op on purpose. A flat buffer per group (parameters as views into it, one
# whole-buffer NumPy op per Adam line) was measured on the 784-256-10 MLP's parameters (float32, 2-core
# machine, medians of 30 interleaved runs of 50 steps): descend's Adam.step 544 us, the same NumPy ops
# per parameter 548 us, the flat-buffer step 550 us (gathering the gradients into the buffer costs
# what the fewer calls save). The step is bound by passes over the 200k-element weight, not by calls.
# Splitting a large parameter's update across threads (NumPy releases the GIL in its loops; chunks
# claimed by a helper thread and the caller, bit-identical results) was measured too, on the 784-256-10
# MLP epoch with OpenBLAS at 2 threads, pairs in which other programs used < 0.1 core: Adam 1.06x
# [0.84-1.41] (batch 128) and 1.07x [0.74-1.67] (batch 64) of the unsplit step, 20 pairs each; it lost
# 1.2x under load. Each of the dozen ufunc calls per chunk hands the GIL back and forth, and a futex
# wake-up on this VM costs about what a chunk's pass saves.
def check_device_flags(options):
    """Reject PyTorch's implementation flags that descend cannot honour, rather than ignore them.

    `foreach` and `fused` choose how PyTorch batches its kernels; descend accepts them and runs its one
    NumPy path, whose results are the same. `capturable=True` (CUDA-graph capture) and
    `differentiable=True` (autograd through the step) change what the step means, so they raise.
    """
    if options.get("fused") and options.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if options.get("capturable"):
        raise NotImplementedError(
            "capturable=True is not supported: it is for CUDA-graph capture and descend runs on the CPU "
            "with NumPy; leave capturable=False"
        )
    if options.get("differentiable"):
        raise NotImplementedError(
            "differentiable=True is not supported: descend's optimizer steps update NumPy arrays in place "
            "and are not recorded by autograd; leave differentiable=False"
        )


def scalar_dtype():
    """The NumPy type PyTorch keeps scalar optimizer state in (ASGD's `eta`/`mu`, NAdam's `mu_product`).

    PyTorch stores these in 0-d tensors of `_get_scalar_dtype()`: float64 when the default dtype is
    float64, else float32. Rounding the same way keeps descend on PyTorch's trajectories (a float32
    `eta` changes a float64 parameter's update in its 8th digit).
    """
    return np.float64 if default_float_dtype() == np.float64 else np.float32


def lerp_(start, end, weight, tmp):
    """start ← start + weight (end − start), in place, rounded as PyTorch's CPU `lerp_` does.

    PyTorch computes `start + w (end − start)` for |w| < 0.5 and `end − (end − start)(1 − w)` otherwise,
    so that w = 1 gives `end` exactly (Adam with β1 = 0 keeps m = g), with w and 1 − w in the arrays'
    dtype as PyTorch's kernel has them. `tmp` is a scratch array.
    """
    weight = start.dtype.type(weight)
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        np.multiply(tmp, weight, out=tmp)
        np.add(start, tmp, out=start)
    else:
        np.multiply(tmp, 1 - weight, out=tmp)
        np.subtract(end, tmp, out=start)
    return start


class Optimizer:
    """Base class of all optimizers: parameter groups, lazy per-parameter state, `step`, `zero_grad`.

    Args:
        params: an iterable of Tensors (one group), or of dicts, each with a `"params"` entry and
            any per-group options that override `defaults`.
        defaults: the options (e.g. `lr`) of a group that does not set them.

    Example:
        >>> opt = descend.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    # state entries that are numbers, not buffers shaped like the parameter (PyTorch saves 0-d tensors)
    _scalar_state = ("step",)

    def __init__(self, params, defaults):
        self._validate(defaults)
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_buffers = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                "a Tensor: wrap it in a list, e.g. [w]"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _validate(self, options):
        """Check hyper-parameters; subclasses raise `ValueError("Invalid ...: value")` for bad ones."""
        if "lr" in options and options["lr"] is not required:
            check_nonnegative(options["lr"], "learning rate")
        # Options several optimizers share, checked once here with PyTorch's messages.
        for name, what in (("eps", "epsilon value"), ("weight_decay", "weight_decay value")):
            if name in options:
                check_nonnegative(options[name], what)
        check_device_flags(options)

    # --- parameter groups ---
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a new layer to fine-tune).

        Args:
            param_group: a dict with `"params"` (a Tensor or an iterable of Tensors) and optional
                options; missing options are taken from `defaults`.

        Example:
            >>> opt.add_param_group({"params": head.parameters(), "lr": 1e-3})
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
            if p._data.dtype.kind != "f":
                raise TypeError(
                    f"can't optimize a tensor of dtype {p._data.dtype}: parameters must be floating point "
                    "(make it with a float dtype, or call .float())"
                )
        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; each will be updated "
                "once per occurrence",
                stacklevel=2,
            )
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        self._validate(group)
        seen = set()
        for g in self.param_groups:
            seen.update(g["params"])
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # --- the training-loop calls ---
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (they accumulate across `backward` calls).

        Args:
            set_to_none: drop the gradients (`p.grad = None`, the default, as PyTorch) instead of
                filling them with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif grad.grad_fn is None and grad._data.flags.writeable:
                    grad._data.fill(0)
                    grad._version[0] += 1
                else:
                    p.grad = _wrap(np.zeros_like(p._data))

    def step(self, closure=None):
        """Update every parameter that has a gradient (parameters whose `grad` is None are skipped).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss; it runs with
                gradient recording on, before the update.

        Returns:
            The closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            options = group
            if isinstance(group.get("lr"), Tensor):  # a Tensor lr (as PyTorch allows) acts as its value
                options = dict(group, lr=group["lr"].item())
            for p in group["params"]:
                grad = p.grad
                if grad is not None:
                    self._update(p, grad._data, options)
                    p._version[0] += 1  # the update is in place: graphs that saved p must notice
        return loss

    def _update(self, param, grad, group):
        """Change `param._data` in place from the gradient array `grad` and the group's options."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update(param, grad, group)")

    # --- helpers for subclasses ---
    def _scratch(self, param, count):
        """`count` preallocated work arrays shaped like `param`, reused every step (not part of state)."""
        bufs = self._scratch_buffers.get(param)
        data = param._data
        if bufs is None or len(bufs) < count or bufs[0].shape != data.shape or bufs[0].dtype != data.dtype:
            bufs = self._scratch_buffers[param] = [np.empty_like(data) for _ in range(count)]
        return bufs

    @staticmethod
    def _grad_with_decay(theta, grad, weight_decay, maximize, out):
        """g_t = ±grad + λθ (maximize ascends; λ > 0 adds L2 weight decay), leaving `grad` untouched.

        Returns `grad` itself when there is nothing to change, otherwise `out` holding g_t.
        """
        if weight_decay != 0:
            np.multiply(theta, weight_decay, out=out)
            (np.subtract if maximize else np.add)(out, grad, out=out)
            return out
        if maximize:
            return np.negative(grad, out=out)
        return grad

    # --- saving and resuming ---
    def state_dict(self):
        """A snapshot of the optimizer in PyTorch's layout.

        Returns:
            `{"state": {index: {name: Tensor or number}}, "param_groups": [{options..., "params":
            [indices]}]}`, where a parameter's index counts through the groups in order. Buffers are
            copies, so the snapshot does not change as training goes on.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = []
            for p in group["params"]:
                index.setdefault(p, len(index))
                saved["params"].append(index[p])
            groups.append(saved)
        state = {}
        for p, s in self.state.items():
            if p in index and s:
                state[index[p]] = {k: _wrap(v._data.copy()) if isinstance(v, Tensor) else v
                                   for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Resume from `state_dict()`'s output: options per group and a copy of every buffer.

        Args:
            state_dict: a dict with `"state"` and `"param_groups"` as `state_dict()` returns it (buffers
                may be Tensors or NumPy arrays; indices may be ints or digit strings).

        Raises:
            ValueError: the number of groups, a group's size or a buffer's shape does not match.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) than "
                f"the optimizer ({len(self.param_groups)})"
            )
        index = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(saved['params'])} parameters in the state "
                    f"dict and {len(group['params'])} in the optimizer"
                )
            for k, p in zip(saved["params"], group["params"]):
                index[int(k)] = p
        new_state = defaultdict(dict)
        for k, saved_state in state_dict["state"].items():
            if int(k) not in index:
                raise ValueError(
                    f"loaded state dict has state for parameter index {k}, which no group contains"
                )
            p = index[int(k)]
            new_state[p] = {name: _load_value(name, value, p, self._scalar_state)
                            for name, value in saved_state.items()}
        self.state = new_state
        self.param_groups = [
            dict({k: _plain(v) for k, v in saved.items() if k != "params"}, params=group["params"])
            for group, saved in zip(self.param_groups, saved_groups)
        ]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


def _plain(value):
    """Turn NumPy scalars and small arrays (as a file load may return them) back into Python values."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    return value


def _load_value(name, value, param, scalars=("step",)):
    """One saved state entry made ready for `param`: the scalars (`step`, ...) as numbers, buffers as
    fresh Tensors. PyTorch saves its scalars as 0-d tensors, so those load too."""
    if name in scalars:
        return _plain(value)
    if isinstance(value, (Tensor, np.ndarray)):
        arr = value._data if isinstance(value, Tensor) else value
        if arr.shape != param._data.shape:
            raise ValueError(
                f"loaded state '{name}' has shape {tuple(arr.shape)}, but its parameter has shape "
                f"{tuple(param._data.shape)}"
            )
        return _wrap(np.array(arr, dtype=param._data.dtype, copy=True))
    return value
