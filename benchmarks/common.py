"""Shared pieces of the benchmark suite: threads, data, initial weights, machine facts, sanity checks.

Importing this module does not import NumPy at module level for the thread helpers: the runner and the
workers must set the BLAS/OpenMP thread variables *before* the first NumPy import, because OpenBLAS,
MKL and OpenMP read them once, when their libraries load.
"""

from __future__ import annotations

import gzip
import math
import os
import platform
import resource
import struct
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")
# Some machines of this workplace set these for old OpenBLAS builds that crash or compute wrong results
# on their CPUs; they force a generic kernel that slows a current NumPy's GEMMs. The benchmark processes
# (and only they: never tests or CI) drop them unless --keep-openblas-tuning, report what they dropped
# and which kernel OpenBLAS then chose, and the referee checks catch a kernel that computes nonsense.
OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

N_TRAIN = 60_000
N_PIXELS = 784
N_CLASSES = 10
EVAL_ROWS = 2048  # rows of the training set on which every contender's before/after loss is checked


# --- threads -------------------------------------------------------------------------------------------

def thread_env(threads: int, env: dict | None = None, keep_openblas_tuning: bool = False) -> dict:
    """Return a copy of ``env`` (default ``os.environ``) that pins every BLAS/OpenMP pool to ``threads``.

    Args:
        threads: number of threads each library may use.
        env: environment to start from.
        keep_openblas_tuning: keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (default: drop both together).

    Returns:
        A new dict suitable for ``subprocess.Popen(env=...)``.

    Example:
        >>> thread_env(2)["OMP_NUM_THREADS"]
        '2'
    """
    out = dict(os.environ if env is None else env)
    for name in THREAD_VARS:
        out[name] = str(threads)
    if not keep_openblas_tuning:
        for name in OPENBLAS_TUNING_VARS:
            out.pop(name, None)
    # XLA (JAX) has no thread-count variable; one thread is the one setting it offers. For more threads
    # than one, the JAX worker narrows its CPU affinity to `threads` cores instead (worker.py).
    one = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if threads == 1 and one not in out.get("XLA_FLAGS", ""):
        out["XLA_FLAGS"] = f"{out.get('XLA_FLAGS', '')} {one}".strip()
    out.setdefault("JAX_PLATFORMS", "cpu")
    return out


def pin_threads(threads: int, keep_openblas_tuning: bool = False) -> None:
    """Set the thread variables in this process; call it before NumPy (or torch) is first imported.

    Args:
        threads: number of threads each library may use.
        keep_openblas_tuning: keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (default: drop both together).

    Returns:
        None. Raises RuntimeError if NumPy was already imported (the setting would be silently ignored).
    """
    if "numpy" in sys.modules:
        raise RuntimeError("pin_threads() must run before numpy is imported")
    env = thread_env(threads, keep_openblas_tuning=keep_openblas_tuning)
    for name in OPENBLAS_TUNING_VARS:
        if name not in env:
            os.environ.pop(name, None)
    os.environ.update(env)


def thread_settings() -> dict:
    """The thread and BLAS-tuning variables as this process sees them (None: not set)."""
    return {name: os.environ.get(name) for name in (*THREAD_VARS[:3], *OPENBLAS_TUNING_VARS, "XLA_FLAGS")}


def blas_pools() -> list:
    """The BLAS/OpenMP pools loaded in this process: threadpoolctl's view, else OpenBLAS asked directly.

    Returns:
        A list of dicts with ``api`` (e.g. "openblas"), ``library``, ``version``, ``threads`` and
        ``kernel`` (OpenBLAS's core type, e.g. "Zen" or "Haswell"; what OPENBLAS_CORETYPE overrides).

    Example:
        >>> import numpy; isinstance(blas_pools(), list)
        True
    """
    try:
        import threadpoolctl
    except ImportError:
        return _openblas_pools()
    return [{"api": i.get("internal_api"), "library": Path(i.get("filepath", "")).name,
             "version": i.get("version"), "threads": i.get("num_threads"),
             "kernel": i.get("architecture")} for i in threadpoolctl.threadpool_info()]


def _openblas_pools() -> list:
    """What threadpoolctl says about OpenBLAS, asked through ctypes (the libraries in /proc/self/maps)."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        return []
    pools = []
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "64_"),
                               ("openblas_", "")):
            try:
                config, core, threads = (getattr(lib, f"{prefix}{name}{suffix}")
                                         for name in ("get_config", "get_corename", "get_num_threads"))
            except AttributeError:
                continue
            config.restype = core.restype = ctypes.c_char_p
            pools.append({"api": "openblas", "library": Path(path).name,
                          "version": config().decode().split()[1] if config() else None,
                          "threads": threads(), "kernel": core().decode()})
            break
    return pools


# --- data ----------------------------------------------------------------------------------------------

def _read_idx_header(f, magic_expected: int, ndim: int) -> tuple[int, ...]:
    header = f.read(4 + 4 * ndim)
    magic, *dims = struct.unpack(f">{1 + ndim}I", header)
    if magic != magic_expected:
        raise ValueError(f"{f.name}: IDX magic {magic}, expected {magic_expected}")
    return tuple(dims)


def load_mnist_train(folder: Path) -> tuple:
    """Read MNIST's training set from its original IDX ``.gz`` files with gzip and NumPy only.

    The images are decoded in chunks straight into one preallocated float32 array, so the peak memory
    of loading is the 188 MB result plus a few MB, the same for every contender measured for memory.

    Args:
        folder: directory holding ``train-images-idx3-ubyte.gz`` and ``train-labels-idx1-ubyte.gz``.

    Returns:
        ``(X, y)``: X float32 of shape (60000, 784) scaled to [0, 1], y int64 of shape (60000,).

    Example:
        >>> X, y = load_mnist_train(DEFAULT_MNIST_DIR)  # doctest: +SKIP
    """
    import numpy as np

    folder = Path(folder)
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "rb") as f:
        (n,) = _read_idx_header(f, 2049, 1)
        y = np.frombuffer(f.read(n), dtype=np.uint8).astype(np.int64)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "rb") as f:
        count, rows, cols = _read_idx_header(f, 2051, 3)
        if count != n or rows * cols != N_PIXELS:
            raise ValueError(f"{folder}: images {count}x{rows}x{cols} do not match {n} labels of 28x28")
        X = np.empty((count, N_PIXELS), dtype=np.float32)
        chunk = 5000
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            raw = np.frombuffer(f.read((stop - start) * N_PIXELS), dtype=np.uint8)
            np.multiply(raw.reshape(stop - start, N_PIXELS), np.float32(1 / 255), out=X[start:stop])
    return X, y


def synthetic_mnist(n: int = N_TRAIN, seed: int = 0) -> tuple:
    """MNIST-shaped stand-in: 10 random prototype images plus noise, clipped to [0, 1], learnable.

    Args:
        n: number of rows.
        seed: NumPy seed.

    Returns:
        ``(X, y)`` with the same shapes and dtypes as :func:`load_mnist_train`.

    Example:
        >>> X, y = synthetic_mnist(100); X.shape, y.dtype.name
        ((100, 784), 'int64')
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    prototypes = (rng.random((N_CLASSES, N_PIXELS), dtype=np.float32) < 0.2).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=n, dtype=np.int64)
    X = np.empty((n, N_PIXELS), dtype=np.float32)
    chunk = 5000
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        noise = rng.standard_normal((stop - start, N_PIXELS), dtype=np.float32)
        np.multiply(noise, np.float32(0.3), out=noise)
        np.add(noise, prototypes[y[start:stop]], out=noise)
        np.clip(noise, 0.0, 1.0, out=X[start:stop])
    return X, y


def _has_mnist(folder: Path) -> bool:
    return all((folder / f"train-{part}-idx{dims}-ubyte.gz").is_file() for part, dims in (("images", 3),
                                                                                          ("labels", 1)))


def mnist_like(folder: Path | None = None) -> tuple:
    """Real MNIST train set when its files are present in ``folder``, else the synthetic stand-in.

    Args:
        folder: MNIST directory; default ``../shared/data/mnist`` relative to the repository root.

    Returns:
        ``(X, y, source)`` where source is ``"MNIST train (…)"`` or ``"synthetic MNIST-shaped (…)"``.
    """
    folder = Path(folder) if folder is not None else DEFAULT_MNIST_DIR
    if _has_mnist(folder):
        X, y = load_mnist_train(folder)
        return X, y, f"MNIST train set ({len(y)} images, {folder})"
    X, y = synthetic_mnist()
    return X, y, f"synthetic MNIST-shaped data ({len(y)} rows; no IDX files in {folder})"


def mnist_source(folder: Path | None = None) -> str:
    """Describe which data the MLP workloads will use, without loading it."""
    folder = Path(folder) if folder is not None else DEFAULT_MNIST_DIR
    if _has_mnist(folder):
        return f"real MNIST train set (60000 images) from {folder}"
    return f"synthetic MNIST-shaped data (60000 x 784): no IDX files in {folder}"


def mlp_init(hidden: int, seed: int = 0) -> dict:
    """Initial weights for a 784-hidden-10 MLP, drawn as PyTorch's ``nn.Linear`` default does.

    Every contender copies these arrays, so all of them start from the same point and (for the manual
    loops, which see the batches in the same order) should end at nearly the same loss.

    Args:
        hidden: width of the hidden layer.
        seed: NumPy seed.

    Returns:
        dict of float32 arrays ``W1 (hidden, 784), b1 (hidden,), W2 (10, hidden), b2 (10,)`` in
        PyTorch's ``(out_features, in_features)`` layout.

    Example:
        >>> mlp_init(8)["W1"].shape
        (8, 784)
    """
    import numpy as np

    rng = np.random.default_rng(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    return {"W1": uniform((hidden, N_PIXELS), N_PIXELS), "b1": uniform((hidden,), N_PIXELS),
            "W2": uniform((N_CLASSES, hidden), hidden), "b2": uniform((N_CLASSES,), hidden)}


def mlp_loss(weights: dict, X, y) -> float:
    """Mean softmax cross-entropy of the MLP ``weights`` on ``(X, y)``, computed in float64 NumPy.

    It is the referee: each contender hands back its final weights as arrays and this function, not the
    contender, says whether training made the loss go down.

    Args:
        weights: dict with W1, b1, W2, b2 as in :func:`mlp_init`.
        X: inputs (n, 784).
        y: integer labels (n,).

    Returns:
        The loss as a Python float.
    """
    import numpy as np

    W1, b1, W2, b2 = (np.asarray(weights[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    h = np.maximum(X.astype(np.float64) @ W1.T + b1, 0.0)
    logits = h @ W2.T + b2
    logits -= logits.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(logsumexp - logits[np.arange(len(y)), y]))


# --- sanity --------------------------------------------------------------------------------------------

def check_decreased(first: float, last: float, what: str) -> str | None:
    """Return None when ``last`` is finite and below ``first``, else a sentence saying what is wrong.

    A contender that skips work (a broken backward, a no-op optimizer) would otherwise look fast.

    Args:
        first: loss before (or at the start of) training.
        last: loss after (or at the end of) training.
        what: name used in the message.

    Returns:
        None or an error message.

    Example:
        >>> check_decreased(2.3, 0.4, "loss") is None
        True
    """
    if not (math.isfinite(first) and math.isfinite(last)):
        return f"{what} is not finite (first {first}, last {last})"
    if not last < first:
        return f"{what} did not decrease (first {first:.6g}, last {last:.6g})"
    return None


# --- memory --------------------------------------------------------------------------------------------

def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (``ru_maxrss``), in MiB."""
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def current_rss_mb() -> float | None:
    """Current resident set size (``VmRSS`` from /proc), in MiB; None where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- machine -------------------------------------------------------------------------------------------

def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def numpy_info() -> dict:
    """NumPy's version and the BLAS it was built against."""
    import numpy as np

    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        dep = config["Build Dependencies"]["blas"]
        blas = f"{dep.get('name', '?')} {dep.get('version', '')}".strip()
    except Exception:  # older NumPy has no mode="dicts"; the version still identifies the build
        pass
    return {"numpy": np.__version__, "numpy_blas": blas}


def machine_info() -> dict:
    """Facts printed above the table: CPU, cores, OS, Python, NumPy and its BLAS."""
    info = {"cpu": cpu_model(), "cores": usable_cores(), "logical_cpus": os.cpu_count(),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    info.update(numpy_info())
    return info
