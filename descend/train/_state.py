"""Shared by the loop, the callbacks and the finder: copying weights back and forth, checking data."""

from __future__ import annotations

import numpy as np

from descend.tensor import Tensor, from_numpy


def optimizer_params(optimizer) -> list[Tensor]:
    """The tensors the optimizer updates, each once, in param-group order."""
    seen, params = set(), []
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


def set_training(model, mode: bool) -> None:
    """model.train(mode) for Modules; a plain function as model has no mode to set."""
    set_mode = getattr(model, "train", None)
    if callable(set_mode):
        set_mode(mode)


def snapshot(model, params) -> dict | list:
    """A copy of the model's state (its state_dict, or the parameter arrays of a plain-function model)."""
    if hasattr(model, "state_dict"):
        return {k: np.array(getattr(v, "_data", v), copy=True) for k, v in model.state_dict().items()}
    return [p._data.copy() for p in params]


def restore(model, params, state) -> None:
    """Put back a `snapshot`; the arrays are copied again so the snapshot stays unshared."""
    if isinstance(state, dict):
        model.load_state_dict({k: from_numpy(v.copy()) for k, v in state.items()})
    else:
        for p, saved in zip(params, state):
            np.copyto(p._data, saved)


def clone_state(obj):
    """A deep copy of a state dict's tensors and arrays (dicts, lists and scalars rebuilt alongside)."""
    if isinstance(obj, Tensor):
        return from_numpy(obj._data.copy())
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: clone_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(clone_state(v) for v in obj)
    return obj


def is_pair(data) -> bool:
    return isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data)


def check_data(data, name: str):
    if is_pair(data):
        return
    if isinstance(data, (tuple, list)) and len(data) == 2 and not all(isinstance(t, Tensor) for t in data):
        types = ", ".join(type(t).__name__ for t in data)
        raise TypeError(f"{name}: an (x, y) pair must hold two descend Tensors, got ({types})")
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"{name} must be a DataLoader (an iterable of (x, y) batches) or an (x, y) pair of tensors, "
            f"got {type(data).__name__}"
        )
