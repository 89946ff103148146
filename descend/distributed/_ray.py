"""Ray, imported on demand: the install hint, tensor serialisation, and a Ray started for one call."""

from __future__ import annotations

import contextlib

INSTALL_HINT = 'descend.distributed needs Ray, an optional extra: pip install "descend[distributed]"'


def require_ray():
    """The `ray` module, or a one-line ImportError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return ray


# --- tensors through Ray's object store --------------------------------------------------------
# descend tensors refuse pickling (descend.save writes .npz instead), but a model, its loss and the
# data a trial closes over must reach Ray's workers. Ray lets a process choose how one class is
# serialised: a tensor travels as its array and its requires_grad flag (no graph, no .grad), and comes
# back as a leaf. Registration is per process, so every remote entry point calls `register_tensors`.


def _tensor_from(array, requires_grad):
    from descend.tensor import _wrap

    tensor = _wrap(array.copy())  # the store hands out read-only arrays; training writes in place
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _parameter_from(array, requires_grad):
    from descend.nn import Parameter

    return Parameter(_tensor_from(array, False), requires_grad=requires_grad)


def _tensor_state(tensor):
    return tensor._data, tensor.requires_grad


def register_tensors() -> None:
    """Teach this process's Ray to serialise descend Tensors and Parameters (idempotent)."""
    from ray.util import register_serializer

    from descend.nn import Parameter
    from descend.tensor import Tensor

    def serialise(tensor):
        return _tensor_state(tensor)

    register_serializer(Tensor, serializer=serialise, deserializer=lambda s: _tensor_from(*s))
    register_serializer(Parameter, serializer=serialise, deserializer=lambda s: _parameter_from(*s))


@contextlib.contextmanager
def connected(address=None, num_cpus=None):
    """Use the Ray this process already runs, or start one (local, or joining `address`) for the block.

    A Ray started here is shut down when the block ends, so no Ray processes outlive the call.
    """
    ray = require_ray()
    if num_cpus is not None and (isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1):
        raise ValueError(f"num_cpus must be a positive integer or None, got {num_cpus!r}")
    if ray.is_initialized():
        if address is not None or num_cpus is not None:
            raise ValueError(
                "Ray is already running in this process (ray.init was called), so address= and num_cpus= "
                "cannot apply; leave them out to use that Ray, or call ray.shutdown() first"
            )
        register_tensors()
        yield ray
        return
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus= caps a local Ray; with address= the cluster's own size applies")
    ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        register_tensors()
        yield ray
    finally:
        ray.shutdown()
