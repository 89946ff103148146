"""Run the same program on descend and on PyTorch and compare everything a user sees.

A program is a list of steps over a pool of values. Each op is one `Op` entry in `OPS`:
`fn(L, *tensors, **params)` is written once against the shared API, so `L` is either the
`torch` or the `descend` module; `params(draw, metas)` draws its keyword parameters from
the operands' shapes and dtypes. Adding an op is adding one entry.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

import descend

STATS = {
    "programs": 0,
    "ops": 0,
    "op_names": set(),
    "torch_raised": 0,
    "error_type_differences": set(),
    "torch_kernel_gaps": set(),
}

FLOATS = ("float32", "float64")


def dtype_name(dt):
    """'float64' for torch.float64 and for NumPy's float64 (descend's dtypes are NumPy's)."""
    return str(dt).replace("torch.", "")


@dataclass
class Meta:
    shape: tuple
    dtype: str


@dataclass
class Op:
    name: str
    arity: int
    fn: Callable
    params: Callable = field(default=lambda draw, metas: {})
    accepts: Callable = field(default=lambda metas: True)


class Mismatch(AssertionError):
    pass


# --- comparing ---


def to_numpy(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, descend.Tensor):
        return np.asarray(v._data)
    return np.asarray(v)


def compare_tensor(where, t, d, rtol=1e-7, atol=1e-10, loose=False):
    if tuple(t.shape) != tuple(d.shape):
        raise Mismatch(f"{where}: shape torch {tuple(t.shape)} vs descend {tuple(d.shape)}")
    # descend's dtypes are NumPy dtypes (a documented difference in spelling only): compare names
    if dtype_name(t.dtype) != dtype_name(d.dtype):
        raise Mismatch(f"{where}: dtype torch {dtype_name(t.dtype)} vs descend {dtype_name(d.dtype)}")
    a, b = to_numpy(t), to_numpy(d)
    compare_arrays(where, a, b, rtol, atol, loose)


def compare_arrays(where, a, b, rtol=1e-7, atol=1e-10, loose=False):
    """`loose`: the value was computed from float32 ones (a float64 result of a float32 exp keeps
    the exp's float32 rounding), so float32's tolerance applies whatever its own dtype."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise Mismatch(f"{where}: shape torch {a.shape} vs descend {b.shape}")
    if a.dtype.kind in "fc":
        if a.dtype == np.float32 or loose:
            rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)
        if a.dtype == np.float16:  # PyTorch's half kernels accumulate in float32 or in half: a few ulps
            rtol, atol = max(rtol, 4e-3), max(atol, 1e-3)
        an, bn = np.isnan(a), np.isnan(b.astype(a.dtype))
        if not np.array_equal(an, bn):
            raise Mismatch(f"{where}: NaN positions differ\ntorch   {a}\ndescend {b}")
        if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            raise Mismatch(f"{where}: values differ\ntorch   {a}\ndescend {b}")
    elif not np.array_equal(a, b):
        raise Mismatch(f"{where}: values differ\ntorch   {a}\ndescend {b}")


def compare_values(where, t, d, loose=False):
    if isinstance(t, torch.Tensor):
        if not isinstance(d, descend.Tensor):
            raise Mismatch(f"{where}: torch gave a tensor, descend {type(d).__name__}")
        compare_tensor(where, t, d, loose=loose)
    elif isinstance(t, (tuple, list)):
        if len(t) != len(d):
            raise Mismatch(f"{where}: torch gave {len(t)} results, descend {len(d)}")
        for i, (a, b) in enumerate(zip(t, d)):
            compare_values(f"{where}[{i}]", a, b, loose)
    else:
        compare_arrays(where, t, d, loose=loose)


def _low(t):
    """Whether a value (a tensor, or the tensors in a tuple) is below float64 precision."""
    if isinstance(t, (tuple, list)):
        return any(_low(v) for v in t)
    return isinstance(t, torch.Tensor) and t.dtype in (torch.float32, torch.float16, torch.bfloat16)


def outcomes(f_torch, f_descend):
    """Run both sides: (torch result, torch's error, descend result, descend's error), Nones where absent."""
    t = d = t_err = d_err = None
    with warnings.catch_warnings():
        # torch prints no NumPy RuntimeWarnings for NaN/inf inputs; silence descend's
        # (pyproject turns them into errors for tests/) so that only results are compared
        warnings.simplefilter("ignore")
        try:
            t = f_torch()
        except Exception as e:  # noqa: BLE001 - any torch error is an expected outcome
            t_err = e
        with np.errstate(all="ignore"):
            try:
                d = f_descend()
            except Exception as e:  # noqa: BLE001
                d_err = e
    return t, t_err, d, d_err


def run_both(where, f_torch, f_descend):
    """Run both sides; (torch_result, descend_result) or (None, None) when both raised."""
    t, t_err, d, d_err = outcomes(f_torch, f_descend)
    if t_err is not None:
        if d_err is None and isinstance(t_err, NotImplementedError) and "not implemented for" in str(t_err):
            # deliberate difference: torch lacks some kernels for some dtypes (abs of bool,
            # float16 reductions...); descend computes them with NumPy. Recorded, not failed.
            STATS["torch_kernel_gaps"].add(where.split(":")[0])
            return None, None
        if d_err is None:
            raise Mismatch(f"{where}: torch raised {type(t_err).__name__}: {t_err}; descend did not")
        STATS["torch_raised"] += 1
        if type(t_err).__name__ != type(d_err).__name__:
            STATS["error_type_differences"].add(
                (type(t_err).__name__, type(d_err).__name__, where.split(":")[0])
            )
        return None, None
    if d_err is not None:
        raise Mismatch(f"{where}: descend raised {type(d_err).__name__}: {d_err}; torch did not") from d_err
    return t, d


# --- generating ---

SMALL_SHAPES = [(), (1,), (3,), (2, 3), (3, 1), (1, 4), (2, 1, 3), (2, 2, 2), (0,), (2, 0), (1, 1)]
TIES = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])


def make_array(rng, shape, dtype, mode):
    n = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype == "uint8":
        return rng.integers(0, 6, size=shape).astype(np.uint8)
    if dtype in ("int32", "int64"):
        return rng.integers(-3, 4, size=shape).astype(dtype)
    if mode == "ties":
        a = rng.choice(TIES, size=shape)
    else:
        a = rng.standard_normal(shape) * 1.5
        if mode == "special" and n:
            k = rng.integers(1, n + 1)
            idx = rng.choice(n, size=k, replace=False)
            flat = a.reshape(-1)
            flat[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0]), size=k)
    return np.asarray(a, dtype=dtype)


def broadcast_variant(rng, shape):
    """A shape that broadcasts with `shape`: leading dims dropped, some dims set to 1."""
    drop = rng.integers(0, len(shape) + 1)
    s = list(shape[drop:])
    for i in range(len(s)):
        if rng.random() < 0.3:
            s[i] = 1
    return tuple(s)


def leaf_specs(draw, st, first_dtypes=("float64",)):
    """Draw the program's leaves: (array, requires_grad) pairs; the first leaf's dtype from `first_dtypes`."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    base = SMALL_SHAPES[draw(st.integers(0, len(SMALL_SHAPES) - 1))]
    n = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["normal", "normal", "ties", "special"]))
    leaves = []
    for i in range(n):
        shape = base if i == 0 else broadcast_variant(rng, base)
        dtype = (
            draw(st.sampled_from(first_dtypes))
            if i == 0
            else draw(
                st.sampled_from(
                    ["float64", "float64", "float64", "float32", "int64", "int32", "uint8", "bool"]
                )
            )
        )
        leaves.append((make_array(rng, shape, dtype, mode), dtype == "float64"))
    return leaves


def run_program(draw, st, ops, max_steps=4, first_dtypes=("float64",)):
    """Draw a program over `ops`, run it on both libraries, compare values and gradients."""
    STATS["programs"] += 1
    leaves = leaf_specs(draw, st, first_dtypes)
    pool_t = [torch.tensor(a, requires_grad=g) for a, g in leaves]
    pool_d = [descend.tensor(a, requires_grad=g) for a, g in leaves]
    leaves_t, leaves_d = list(pool_t), list(pool_d)
    low = [_low(t) for t in pool_t]  # computed from below-float64 values: compared at float32's tolerance
    log = [f"leaf{i}: {a.dtype} {a.shape} grad={g}" for i, (a, g) in enumerate(leaves)]
    steps = draw(st.integers(1, max_steps))
    for _ in range(steps):
        op = draw(st.sampled_from(ops))
        picks = [draw(st.integers(0, len(pool_t) - 1)) for _ in range(op.arity)]
        metas = [Meta(tuple(pool_t[i].shape), dtype_name(pool_t[i].dtype)) for i in picks]
        if not op.accepts(metas):
            continue
        params = op.params(draw, metas)
        STATS["ops"] += 1
        STATS["op_names"].add(op.name)
        log.append(f"v{len(pool_t)} = {op.name}({', '.join(f'v{i}' for i in picks)}, {params})")
        where = f"{op.name}: program\n  " + "\n  ".join(log)
        args_t, args_d = [pool_t[i] for i in picks], [pool_d[i] for i in picks]
        t, d = run_both(
            where,
            lambda op=op, a=args_t, p=params: op.fn(torch, *a, **p),
            lambda op=op, a=args_d, p=params: op.fn(descend, *a, **p),
        )
        if t is None:
            break
        loose = _low(t) or any(low[i] for i in picks)
        compare_values(where, t, d, loose)
        for i in picks:  # an in-place op gives its target the history of its operands
            if pool_t[i] is t:
                low[i] = low[i] or loose
        if isinstance(t, torch.Tensor):
            pool_t.append(t)
            pool_d.append(d)
            low.append(loose)
    where = "final values: program\n  " + "\n  ".join(log)
    for i, (t, d) in enumerate(zip(pool_t, pool_d)):
        compare_tensor(f"{where}\nvalue v{i}", t, d, loose=low[i])
    check_gradients(where, pool_t, pool_d, leaves_t, leaves_d, loose=any(low))


def weights(L, shape):
    n = int(np.prod(shape))
    w = np.cos(np.arange(n) * 1.3 + 0.2).reshape(shape)
    return L.tensor(w)


def check_gradients(where, pool_t, pool_d, leaves_t, leaves_d, loose=False):
    """Backward of sum_i (v_i * w_i).sum() over every differentiable value; compare leaf grads."""
    idx = [i for i, t in enumerate(pool_t) if t.requires_grad and dtype_name(t.dtype) in FLOATS]
    if not idx:
        return

    def loss_backward(L, pool):
        total = None
        for i in idx:
            v = pool[i]
            term = (
                v * weights(L, tuple(v.shape)).to(v.dtype)
                if L is torch
                else v * weights(L, tuple(v.shape)).type(v.dtype)
            ).sum()
            term = term.double() if L is torch else term.type(descend.float64)
            total = term if total is None else total + term
        total.backward()
        return True

    t, d = run_both(
        f"backward: {where}", lambda: loss_backward(torch, pool_t), lambda: loss_backward(descend, pool_d)
    )
    if t is None:
        return
    for k, (lt, ld) in enumerate(zip(leaves_t, leaves_d)):
        if (lt.grad is None) != (ld.grad is None):
            raise Mismatch(f"{where}\nleaf{k}.grad: torch {lt.grad} vs descend {ld.grad}")
        if lt.grad is not None:
            compare_tensor(f"{where}\nleaf{k}.grad", lt.grad, ld.grad, loose=loose)
