"""A benchmark child process: imports one library, then runs the runner's commands, one JSON line each.

The runner (``run.py``) starts one worker per contender so that libraries never share a process (no
thread-pool or allocator interference between PyTorch's OpenMP/MKL and NumPy's OpenBLAS, and peak
memory is per contender), keeps the workers alive across repetitions (imports and data loading are
paid once), and alternates requests between them.

Protocol: the worker writes one JSON line when ready (``{"ready": true, "info": …}`` or
``{"ready": false, "error": …}``), then answers each JSON line it reads on stdin with one JSON line:

- ``{"cmd": "run", "fn": NAME, "spec": {…}}`` runs a workload, answers its timing and sanity results;
- ``{"cmd": "load", "spec": {…}}`` loads the MLP data, answers the resident memory afterwards;
- ``{"cmd": "quit"}`` exits.

Workloads: ``square``, ``square-tape``, ``quadfit``, ``mlp-manual``, ``mlp-fit``, ``mlp-floor`` run the
contender's library (``--lib``: numpy, torch, descend, or the anchors jax and micrograd) on the tiny loops
and the MLP epoch. A workload named ``module:function`` (a file ``benchmarks/module.py``) is called as
``function(runner, spec)`` with this process's :class:`Runner` (``runner.lib`` the imported module,
``runner.lib_name`` its name, ``runner.load()`` the MNIST arrays) and must return a dict with
``seconds``, ``steps`` and ``problem`` (None, or why the result is wrong and its time must not count).

Anything the libraries print goes to stderr, so stdout carries only the protocol.

Usage (normally only ``run.py`` starts it): ``python benchmarks/worker.py --lib descend --threads 2``
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402 (the benchmarks folder must be on the path first)
    EVAL_ROWS,
    blas_pools,
    check_decreased,
    current_rss_mb,
    mlp_init,
    mlp_loss,
    mnist_like,
    peak_rss_mb,
    pin_threads,
    thread_settings,
    usable_cores,
)

LIBS = ("numpy", "torch", "descend", "jax", "micrograd")


def import_library(name: str, threads: int):
    """Import the contender's library after the thread variables are set; return ``(module, info)``."""
    import importlib.metadata

    import numpy as np

    info = {"numpy": np.__version__, "env": thread_settings()}
    module = None
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # only possible before torch's first parallel work; none has run yet
            pass
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    torch_interop_threads=torch.get_num_interop_threads(), torch_blas=_torch_blas(torch))
        module = torch
    elif name == "jax":
        # XLA sizes its thread pool from the cores it may run on and has no thread-count setting beyond
        # "one" (XLA_FLAGS, common.thread_env): narrow the affinity to `threads` cores instead.
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if threads < len(cores):
            os.sched_setaffinity(0, cores[:threads])
        import jax

        info.update(jax=jax.__version__, jaxlib=importlib.metadata.version("jaxlib"),
                    jax_devices=[str(d) for d in jax.devices()], jax_cores=usable_cores())
        module = jax
    elif name == "micrograd":
        import micrograd.engine

        info["micrograd"] = importlib.metadata.version("micrograd")
        module = micrograd.engine
    elif name == "descend":
        import descend

        info["descend"] = getattr(descend, "__version__", "unknown")
        module = descend
    np.ones((64, 64)) @ np.ones((64, 64))  # make sure NumPy's BLAS is loaded before it is described
    info["blas"] = blas_pools()
    return module, info


def _torch_blas(torch) -> str:
    config = torch.__config__.show()
    for part in config.replace(",", "\n").splitlines():
        if "BLAS_INFO=" in part:
            return part.split("=", 1)[1].strip()
    return "unknown"


class Runner:
    """Holds the imported library and the lazily loaded MLP data; runs one workload per call."""

    def __init__(self, lib, data_dir: str | None, lib_name: str = ""):
        self.lib, self.data_dir, self.lib_name = lib, data_dir, lib_name
        self.data = None
        self.inits = {}
        self.cache = {}  # anything a workload keeps across repetitions (JAX's device copy of the data)

    def load(self) -> str:
        """Load the MLP data once; return where it came from."""
        if self.data is None:
            self.data = mnist_like(self.data_dir)
        return self.data[2]

    def run(self, fn: str, spec: dict) -> dict:
        """Run workload ``fn`` on ``spec``; returns its timing, sanity verdict and (MLP) referee losses."""
        if ":" in fn:
            module, function = fn.split(":", 1)
            return getattr(importlib.import_module(module), function)(self, spec)
        if fn in ("square", "square-tape", "quadfit"):
            return self._tiny(fn, spec)
        if fn in ("mlp-manual", "mlp-fit", "mlp-floor"):
            return self._mlp(fn, spec)
        raise ValueError(f"unknown workload {fn!r}")

    def _tiny(self, fn: str, spec: dict) -> dict:
        import tiny

        steps = spec["steps"]
        if fn == "square-tape":
            result = tiny.square_loop_numpy_tape(steps)
        elif self.lib_name == "micrograd":
            if fn != "square":
                raise ValueError(f"micrograd runs only the scalar (w-3)**2 loop, not {fn!r}")
            import anchors

            result = anchors.micrograd_square_loop(steps)
        elif self.lib_name == "jax":
            import anchors

            result = anchors.jax_square_loop(steps) if fn == "square" else anchors.jax_quadfit_loop(steps)
        elif fn == "square":
            result = tiny.square_loop(self.lib, steps)
        else:
            result = tiny.quadfit_loop(self.lib, steps)
        if fn == "quadfit":
            problem = check_decreased(result["loss_first"], result["loss_last"], "quadratic-fit loss")
        else:
            problem = tiny.check_square(result)
        result["problem"] = problem
        return result

    def _mlp(self, fn: str, spec: dict) -> dict:
        import mlp
        import numpy_floor

        self.load()
        X, y, _ = self.data
        rows = spec.get("rows") or len(X)
        X, y = X[:rows], y[:rows]
        hidden = spec["hidden"]
        if hidden not in self.inits:
            self.inits[hidden] = mlp_init(hidden, seed=0)
        init = self.inits[hidden]
        args = (X, y, init, spec["batch"], spec["optimizer"], spec["lr"])
        if fn == "mlp-floor":
            result = numpy_floor.floor_epoch(*args)
        elif self.lib_name == "jax":
            import anchors

            if fn != "mlp-manual":
                raise ValueError(f"JAX runs the manual MLP epoch only, not {fn!r}")
            if rows not in self.cache:
                import jax.numpy as jnp

                self.cache = {rows: (jnp.asarray(X), jnp.asarray(y))}  # one copy at a time
            result = anchors.jax_mlp_epoch(*args, device_data=self.cache[rows])
        elif fn == "mlp-manual":
            result = mlp.manual_epoch(self.lib, *args)
        else:
            result = mlp.fit_epoch(self.lib, *args)
        # Read the peak now: the referee below works in float64 and would add its own ~20 MB.
        result["peak_rss_mb"] = peak_rss_mb()
        return self._judge_mlp(result, X, y, init)

    @staticmethod
    def _judge_mlp(result: dict, X, y, init) -> dict:
        """Replace the weights by before/after referee losses and say whether training really happened."""
        weights = result.pop("weights")
        losses = result.pop("losses")
        eval_X, eval_y = X[:EVAL_ROWS], y[:EVAL_ROWS]
        result["eval_before"] = mlp_loss(init, eval_X, eval_y)
        result["eval_after"] = mlp_loss(weights, eval_X, eval_y)
        problem = check_decreased(result["eval_before"], result["eval_after"], "referee loss on the first "
                                  f"{len(eval_y)} rows")
        if losses:
            k = max(1, len(losses) // 10)
            first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
            result["loss_first"], result["loss_last"] = first, last
            problem = problem or check_decreased(first, last, "training loss (first vs last tenth of steps)")
        result["problem"] = problem
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=LIBS, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=None, help="MNIST folder (default ../shared/data/mnist)")
    args = parser.parse_args(argv)

    # The runner already dropped (or kept) OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: keep what it gave us.
    pin_threads(args.threads, keep_openblas_tuning=True)
    reply_stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library prints (progress bars, warnings) must not corrupt the protocol on stdout

    def reply(obj: dict) -> None:
        reply_stream.write(json.dumps(obj) + "\n")
        reply_stream.flush()

    rss_start = current_rss_mb()
    try:
        lib, info = import_library(args.lib, args.threads)
    except Exception as exc:
        reply({"ready": False, "error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(limit=4)})
        return 1
    reply({"ready": True, "info": info, "pid": os.getpid(), "rss_start_mb": rss_start,
           "rss_import_mb": current_rss_mb()})

    runner = Runner(lib, args.data, args.lib)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        cmd = request.get("cmd")
        try:
            if cmd == "quit":
                break
            if cmd == "load":
                source = runner.load()
                reply({"ok": True, "source": source, "rss_mb": current_rss_mb(),
                       "peak_rss_mb": peak_rss_mb()})
            elif cmd == "run":
                result = runner.run(request["fn"], request["spec"])
                reply({"ok": True, **result})
            else:
                reply({"ok": False, "error": f"unknown command {cmd!r}"})
        except Exception as exc:
            reply({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc(limit=6)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
