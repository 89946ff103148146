"""Optimizers and LR schedulers against PyTorch 2.13: random hyper-parameters, same gradients, every step.

Each case draws its options from a seeded NumPy generator (the seed is the test id, so a failure
reproduces), builds several parameter groups over parameters of odd shapes (0-d, size-1, 2-D), gives
descend and torch the same initial values and the same gradient sequence (some parameters without a
gradient on some steps), and compares the parameters and every state entry after each step.

Tolerances. float64: 1e-10 relative to the array's scale, the largest size the value has had (a
once-larger value leaves its rounding behind when it shrinks). float32: both libraries round each
elementwise operation to float32 but not in the same order (torch fuses `addcdiv`/`lerp`/`addcmul`,
some with FMA; descend folds bias corrections differently), so each step may differ by a few ulps
per operation (~10 operations) and the differences compound through the state: 16 ulps · steps of
the scale; or, where a cancellation (g + λθ, v − g_ave²) amplifies rounding, descend passes if it is
no further from the float64 trajectory (torch in float64 from the same values) than 8x torch's own
float32 result, elementwise. LBFGS: 1e-8 (float64) on a strictly convex function, on which the
method contracts; 1e-3 in float32, stopped above float32's noise floor. Schedulers: 1e-12 relative
(Python floats on both sides).

Coverage: SGD, Adam, AdamW, Adagrad, Adadelta, Adamax, ASGD, NAdam, RAdam, RMSprop, Rprop with every
documented option drawn (foreach False/True, fused where torch has CPU kernels); gradients set
directly and through backward(); zero_grad(set_to_none); descend's and torch's state_dicts loaded
into descend mid-run; add_param_group; a Tensor lr; LBFGS with and without strong Wolfe. Every
scheduler both have (SequentialLR/ChainedScheduler over random inner ones), 1-3 groups, momentum and
betas cycled, state_dict resumption (descend's and torch's), last_epoch resumption, step(epoch).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import descend  # noqa: E402
import descend.optim as doptim  # noqa: E402
from descend.optim import lr_scheduler as dsched  # noqa: E402

# schedulers are stepped without optimizer steps here; torch warns about the order
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")

SHAPES = [(), (1,), (3, 4), (5,), (2, 1, 3)]
F32_ULP = float(np.finfo(np.float32).eps)


# ---------------------------------------------------------------- random options per optimizer
def _lr(r):
    return float(10 ** r.uniform(-3, -0.5))


def _betas(r):
    return (
        float(r.choice([0.0, 0.5, 0.9, r.uniform(0, 0.99)])),
        float(r.choice([0.9, 0.999, r.uniform(0.5, 0.999)])),
    )


def _wd(r):
    return float(r.choice([0.0, 0.0, 1e-2, r.uniform(0, 0.5)]))


def _common(r, fused=False):
    """maximize, and how torch batches its kernels: foreach False/True, or fused (CPU kernels) where
    torch has them. descend accepts the flags and runs its one path; the numbers must agree."""
    mode = int(r.integers(3 if fused else 2))
    flags = dict(foreach=mode == 1) if mode < 2 else dict(foreach=False, fused=True)
    return dict(maximize=bool(r.integers(2)), **flags)


def _sgd(r):
    momentum = float(r.choice([0.0, 0.9, r.uniform(0, 1)]))
    nesterov = bool(momentum > 0 and r.integers(2))
    dampening = 0.0 if nesterov else float(r.choice([0.0, r.uniform(0, 1)]))
    return dict(
        lr=_lr(r),
        momentum=momentum,
        dampening=dampening,
        nesterov=nesterov,
        weight_decay=_wd(r),
        **_common(r, fused=True),
    )


def _adam(r):
    return dict(
        lr=_lr(r),
        betas=_betas(r),
        eps=float(10 ** r.uniform(-10, -3)),
        weight_decay=_wd(r),
        amsgrad=bool(r.integers(2)),
        decoupled_weight_decay=bool(r.integers(2)),
        **_common(r, fused=True),
    )


def _adamw(r):
    d = _adam(r)
    del d["decoupled_weight_decay"]
    return d


def _adagrad(r):
    return dict(
        lr=_lr(r),
        lr_decay=float(r.choice([0.0, r.uniform(0, 0.5)])),
        weight_decay=_wd(r),
        initial_accumulator_value=float(r.choice([0.0, r.uniform(0, 1)])),
        eps=float(10 ** r.uniform(-10, -3)),
        **_common(r, fused=True),
    )


def _adadelta(r):
    return dict(
        lr=float(r.choice([1.0, r.uniform(0.01, 2)])),
        rho=float(r.choice([0.9, 0.0, 1.0, r.uniform(0, 1)])),
        eps=float(10 ** r.uniform(-8, -3)),
        weight_decay=_wd(r),
        **_common(r),
    )


def _adamax(r):
    return dict(
        lr=_lr(r), betas=_betas(r), eps=float(10 ** r.uniform(-10, -3)), weight_decay=_wd(r), **_common(r)
    )


def _asgd(r):
    return dict(
        lr=_lr(r),
        lambd=float(10 ** r.uniform(-5, -0.5)),
        alpha=float(r.uniform(0.3, 1.0)),
        t0=float(r.choice([1e6, r.integers(0, 15)])),
        weight_decay=_wd(r),
        **_common(r),
    )


def _nadam(r):
    return dict(
        lr=_lr(r),
        betas=_betas(r),
        eps=float(10 ** r.uniform(-10, -3)),
        weight_decay=_wd(r),
        momentum_decay=float(r.choice([4e-3, r.uniform(0, 0.5)])),
        decoupled_weight_decay=bool(r.integers(2)),
        **_common(r),
    )


def _radam(r):
    betas = _betas(r)
    if r.integers(2):  # a small beta2 makes rho_t > 5 from the first steps: both branches are taken
        betas = (betas[0], float(r.uniform(0.5, 0.9)))
    return dict(
        lr=_lr(r),
        betas=betas,
        eps=float(10 ** r.uniform(-10, -3)),
        weight_decay=_wd(r),
        decoupled_weight_decay=bool(r.integers(2)),
        **_common(r),
    )


def _rmsprop(r):
    return dict(
        lr=_lr(r),
        alpha=float(r.choice([0.99, r.uniform(0, 1)])),
        eps=float(10 ** r.uniform(-10, -3)),
        weight_decay=_wd(r),
        momentum=float(r.choice([0.0, r.uniform(0, 1)])),
        centered=bool(r.integers(2)),
        **_common(r),
    )


def _rprop(r):
    return dict(
        lr=_lr(r),
        etas=(float(r.uniform(0.1, 0.9)), float(r.uniform(1.05, 2.0))),
        step_sizes=(float(10 ** r.uniform(-7, -3)), float(r.choice([50.0, r.uniform(0.01, 1)]))),
        **_common(r),
    )


OPTIMIZERS = {
    "SGD": _sgd,
    "Adam": _adam,
    "AdamW": _adamw,
    "Adagrad": _adagrad,
    "Adadelta": _adadelta,
    "Adamax": _adamax,
    "ASGD": _asgd,
    "NAdam": _nadam,
    "RAdam": _radam,
    "RMSprop": _rmsprop,
    "Rprop": _rprop,
}
# options a group may override (everything but the implementation flags)
_NOT_PER_GROUP = {"foreach", "fused"}


# ---------------------------------------------------------------- the pair of optimizers
def _to_np(v):
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().numpy()
    if isinstance(v, descend.Tensor):
        return np.asarray(v._data)
    return np.asarray(v, dtype=np.float64)


def _tol(dtype, steps):
    return 1e-10 if dtype == np.float64 else 16 * F32_ULP * max(steps, 1)


def _close(a, b, rtol, what, scale=0.0, exact=None):
    """max |a − b| ≤ rtol · (the larger of max |b| and `scale`, the array's largest size seen so far);
    or, given `exact` (b's value in float64), |a − exact| ≤ 8 |b − exact| + rtol · scale elementwise."""
    a, b = _to_np(a).astype(np.float64), _to_np(b).astype(np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    finite = np.isfinite(b)
    assert np.array_equal(a[~finite], b[~finite], equal_nan=True), f"{what}: inf/nan {a} vs torch {b}"
    a, b = a[finite], b[finite]  # a diverged run: the finite entries still agree
    scale = max(float(np.max(np.abs(b), initial=0.0)), scale if np.isfinite(scale) else 0.0, 1e-30)
    err = float(np.max(np.abs(a - b), initial=0.0))
    if err <= rtol * scale:
        return
    msg = f"{what}: max |descend - torch| = {err:.3g} > {rtol:.3g} * {scale:.3g}\n descend {a.ravel()[:6]}\n"
    msg += f" torch   {b.ravel()[:6]}"
    if exact is not None:
        e = _to_np(exact).astype(np.float64)[finite]
        if np.all(np.abs(a - e) <= 8 * np.abs(b - e) + rtol * scale):
            return
        msg += f"\n exact   {e.ravel()[:6]} (torch in float64)"
    raise AssertionError(msg)


def _draw_groups(r, make, n_params):
    """Split the parameters into 1-3 groups; groups 2+ override some of the default options."""
    defaults = make(r)
    n_groups = int(r.integers(1, 4))
    cuts = sorted(r.choice(np.arange(1, n_params), size=min(n_groups - 1, n_params - 1), replace=False))
    bounds = [0, *cuts, n_params]
    groups = []
    for gi in range(len(bounds) - 1):
        g = {"params": list(range(bounds[gi], bounds[gi + 1]))}
        if gi > 0:
            other = make(r)
            for k in r.choice(sorted(other), size=int(r.integers(1, len(other) + 1)), replace=False):
                if k not in _NOT_PER_GROUP:
                    g[k] = other[k]
            eff = {**defaults, **g}  # descend checks each group as torch checks the constructor's options
            if eff.get("nesterov") and not (eff["momentum"] > 0 and eff["dampening"] == 0):
                g["nesterov"] = False
        groups.append(g)
    return defaults, groups


class Pair:
    """The same optimizer built in both libraries over copies of the same parameters."""

    def __init__(self, name, defaults, groups, inits, dtype):
        self.name, self.dtype = name, dtype
        self.d_params = [descend.tensor(a.copy(), requires_grad=True) for a in inits]
        self.t_params = [torch.tensor(a.copy(), requires_grad=True) for a in inits]
        self.d_opt = getattr(doptim, name)(self._groups(groups, self.d_params), **defaults)
        self.t_opt = getattr(torch.optim, name)(self._groups(groups, self.t_params), **defaults)
        self.e_opt = None
        if dtype == np.float32:  # torch in float64 from the same values: the (nearly) exact trajectory
            self.e_params = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in inits]
            self.e_opt = getattr(torch.optim, name)(self._groups(groups, self.e_params), **defaults)

    @staticmethod
    def _groups(groups, params):
        return [dict(g, params=[params[i] for i in g["params"]]) for g in groups]

    def set_grads(self, grads):
        for i, g in enumerate(grads):
            self.d_params[i].grad = None if g is None else descend.tensor(g.copy())
            self.t_params[i].grad = None if g is None else torch.tensor(g.copy())
            if self.e_opt is not None:
                self.e_params[i].grad = None if g is None else torch.tensor(g.astype(np.float64))

    def step(self):
        # a diverging case meets inf - inf: NumPy warns where torch is silent (as descend's own
        # arithmetic does; silencing each step would cost an np.errstate, 1.6 us): not compared here
        with np.errstate(all="ignore"):
            self.d_opt.step()
        self.t_opt.step()
        if self.e_opt is not None:
            self.e_opt.step()

    def compare(self, rtol, what):
        """Parameters and state after a step. A value's error is measured against the largest size it
        has had: rounding a once-larger value leaves an absolute error that cancellation (m shrinking
        towards a small g) does not shrink. In float32, a value may also pass by being no further from
        the float64 trajectory than 8x torch's own float32 value is (elementwise): cancellations
        (g + λθ, v − g_ave²) amplify rounding in both libraries alike, and FMA kernels round once
        where NumPy rounds twice."""
        if not hasattr(self, "scales"):
            self.scales, self.steps = {}, 0
        self.steps += 1
        if self.name == "ASGD" and self.d_opt.defaults["foreach"]:
            # torch's foreach ASGD computes eta = lr / (1 + λ lr step)^α with its float32 `step` tensor
            # (its default single-tensor path, which descend follows, in float64): float32 rounding
            rtol = max(rtol, _tol(np.float32, self.steps))
        for i, (dp, tp) in enumerate(zip(self.d_params, self.t_params)):
            exact = self.e_params[i] if self.e_opt is not None else None
            _close(dp, tp, rtol, f"{what}: param {i}", self._scale(("param", i), tp), exact)
        compare_states(self.d_opt, self.t_opt, rtol, what, self._scale, self.e_opt)

    def _scale(self, key, value):
        s = max(self.scales.get(key, 0.0), float(np.max(np.abs(_to_np(value)), initial=0.0)))
        self.scales[key] = s
        return s


def compare_states(d_opt, t_opt, rtol, what, scale_of=lambda key, value: 0.0, e_opt=None):
    ds, ts = d_opt.state_dict()["state"], t_opt.state_dict()["state"]
    es = e_opt.state_dict()["state"] if e_opt is not None else {}
    ts = {k: v for k, v in ts.items() if v}  # torch keeps empty dicts for some parameters
    assert sorted(ds) == sorted(ts), f"{what}: state for params {sorted(ds)} vs torch {sorted(ts)}"
    for k in ts:
        assert sorted(ds[k]) == sorted(ts[k]), f"{what}: state keys {sorted(ds[k])} vs torch {sorted(ts[k])}"
        for name, tv in ts[k].items():
            dv = ds[k][name]
            ev = es[k][name] if es else None
            if isinstance(tv, list):
                assert len(dv) == len(tv), f"{what}: state[{k}][{name}] length"
                for j, (a, b) in enumerate(zip(dv, tv)):
                    _close(a, b, rtol, f"{what}: state[{k}][{name}][{j}]", scale_of((k, name, j), b))
            elif tv is None:
                assert dv is None, f"{what}: state[{k}][{name}] is {dv!r}, torch None"
            else:
                _close(dv, tv, rtol, f"{what}: state[{k}][{name}]", scale_of((k, name), tv), ev)


def _case(name, seed, dtype, fused_sgd=False):
    r = np.random.default_rng(seed)
    n_params = len(SHAPES)
    inits = [r.standard_normal(s).astype(dtype) for s in SHAPES]
    defaults, groups = _draw_groups(r, OPTIMIZERS[name], n_params)
    if name == "SGD" and not fused_sgd:
        # torch 2.13's fused SGD raises TypeError for a parameter whose first gradient comes after its
        # group's first step (its momentum buffer is None); only the set-grads test arranges around it
        defaults.pop("fused", None)
    return r, inits, defaults, groups


def _grad_sequence(r, steps, dtype):
    """Gradients for each step; about one in six is None (the parameter is skipped that step)."""
    seq = []
    for _ in range(steps):
        grads = []
        for s in SHAPES:
            if r.random() < 1 / 6:
                grads.append(None)
            else:
                g = r.standard_normal(s) * 10 ** r.uniform(-2, 1)
                if r.random() < 0.1:
                    g = g * 0  # exact zeros (Rprop's sign, Adam's 0/eps)
                grads.append(g.astype(dtype))
        seq.append(grads)
    return seq


SEEDS = range(8)
DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectory_with_set_grads(name, seed, dtype):
    r, inits, defaults, groups = _case(name, seed, dtype, fused_sgd=True)
    steps = int(r.integers(10, 31))
    pair = Pair(name, defaults, groups, inits, dtype)
    seq = _grad_sequence(r, steps, dtype)
    if name == "SGD" and defaults.get("fused"):
        # torch 2.13's fused SGD raises TypeError for a parameter whose first gradient comes after
        # its group's first step (its momentum buffer is None): every parameter gets one on step 1
        seq[0] = [np.zeros(s, dtype) if g is None else g for g, s in zip(seq[0], SHAPES)]
    for t, grads in enumerate(seq):
        pair.set_grads(grads)
        pair.step()
        pair.compare(_tol(dtype, t + 1), f"{name} {defaults} groups={groups} step {t + 1}")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectory_with_backward(name, seed):
    """Gradients from loss.backward() on a small quadratic, zero_grad(set_to_none) in between."""
    r, inits, defaults, groups = _case(name, 1000 + seed, np.float64)
    for options in (defaults, *groups):  # ascending the quartic diverges (maximize is covered above)
        if "maximize" in options:
            options["maximize"] = False
        if options.get("rho") == 1.0:  # Adadelta with ρ = 1 steps by lr · g: it diverges on the quartic
            options["rho"] = 0.9
    pair = Pair(name, defaults, groups, inits, np.float64)
    scales = [r.uniform(0.1, 2, s) for s in SHAPES]
    centres = [r.standard_normal(s) for s in SHAPES]
    set_to_none = bool(r.integers(2))
    for t in range(int(r.integers(10, 31))):
        for lib, params in ((descend, pair.d_params), (torch, pair.t_params)):
            loss = 0
            for p, a, c in zip(params, scales, centres):
                loss = loss + (lib.tensor(a) * (p - lib.tensor(c)) ** 2).sum() + 0.1 * (p**4).sum()
            loss.backward()
        pair.step()
        pair.compare(1e-10, f"{name} {defaults} groups={groups} backward step {t + 1}")
        pair.d_opt.zero_grad(set_to_none=set_to_none)
        pair.t_opt.zero_grad(set_to_none=set_to_none)
        for dp, tp in zip(pair.d_params, pair.t_params):
            assert (dp.grad is None) == (tp.grad is None)
            if tp.grad is not None:
                _close(dp.grad, tp.grad, 0, "zero_grad(set_to_none=False)")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_and_add_param_group(name, seed):
    """descend's state_dict loaded into a fresh descend optimizer continues as torch's uninterrupted one;
    a group added mid-run starts its own state."""
    r, inits, defaults, groups = _case(name, 2000 + seed, np.float64)
    n_first = groups[-1]["params"][0] if len(groups) > 1 else len(SHAPES) - 1
    first_groups = [g for g in groups if g["params"][0] < n_first] or [{"params": list(range(n_first))}]
    for g in first_groups:
        g["params"] = [i for i in g["params"] if i < n_first]
    pair = Pair(name, defaults, first_groups, inits, np.float64)
    seq = _grad_sequence(r, 12, np.float64)
    for t in range(6):
        pair.set_grads(seq[t])
        pair.step()
    extra = {
        "params": list(range(n_first, len(SHAPES))),
        **{k: v for k, v in OPTIMIZERS[name](r).items() if k not in _NOT_PER_GROUP},
    }
    if extra.get("nesterov") and not (extra.get("momentum", 0) > 0 and extra.get("dampening", 0) == 0):
        extra["nesterov"] = False
    pair.d_opt.add_param_group(dict(extra, params=[pair.d_params[i] for i in extra["params"]]))
    pair.t_opt.add_param_group(dict(extra, params=[pair.t_params[i] for i in extra["params"]]))
    saved = pair.d_opt.state_dict()
    fresh = getattr(doptim, name)(Pair._groups(first_groups, pair.d_params), **defaults)
    fresh.add_param_group(dict(extra, params=[pair.d_params[i] for i in extra["params"]]))
    fresh.load_state_dict(saved)
    pair.d_opt = fresh
    for t in range(6, 12):
        pair.set_grads(seq[t])
        pair.step()
        pair.compare(
            1e-10, f"{name} {defaults} after load_state_dict + add_param_group({extra}) step {t + 1}"
        )
    for dg, tg in zip(pair.d_opt.param_groups, pair.t_opt.param_groups):
        for k, v in tg.items():
            if k != "params" and k in dg:
                assert dg[k] == (tuple(v) if isinstance(v, list) else v), f"group option {k}"


def _torch_state_as_numpy(sd):
    """torch's optimizer state_dict with its tensors as NumPy arrays (as a checkpoint converter gives)."""
    conv = {
        k: {n: v.detach().numpy() if isinstance(v, torch.Tensor) else v for n, v in st.items()}
        for k, st in sd["state"].items()
    }
    return {"state": conv, "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_torch_state_dict_loads_into_descend(name, seed):
    """torch's state_dict (tensors as NumPy arrays, step a 0-d array) loaded into descend goes on as torch."""
    r, inits, defaults, groups = _case(name, 2500 + seed, np.float64)
    pair = Pair(name, defaults, groups, inits, np.float64)
    seq = _grad_sequence(r, 10, np.float64)
    for t in range(5):
        pair.set_grads(seq[t])
        pair.step()
    fresh = getattr(doptim, name)(Pair._groups(groups, pair.d_params), **defaults)
    fresh.load_state_dict(_torch_state_as_numpy(pair.t_opt.state_dict()))
    pair.d_opt = fresh
    for t in range(5, 10):
        pair.set_grads(seq[t])
        pair.step()
        pair.compare(1e-10, f"{name} {defaults} groups={groups} after loading torch's state, step {t + 1}")


# ---------------------------------------------------------------- LBFGS
def _smooth_convex(lib, params, a):
    """A strictly convex smooth function of three parameters (a coupled quadratic plus a quartic): L-BFGS
    contracts on it, so rounding differences between the libraries are not amplified step after step
    as on a non-convex function (where, as a chaotic map, the trajectories part after a few steps)."""
    x, y, z = params
    return (
        (a * (x - 1) ** 2).sum()
        + ((y - x[:2].sum()) ** 2).sum()
        + 0.05 * (x**4).sum()
        + (y**4).sum()
        + (z - x[0]) ** 2
        + z**4
    )


@pytest.mark.parametrize("seed", range(12))
def test_lbfgs(seed):
    r = np.random.default_rng(3000 + seed)
    dtype = np.float32 if seed % 4 == 3 else np.float64
    opts = dict(
        lr=float(r.choice([1.0, r.uniform(0.1, 1)])),
        max_iter=int(r.integers(1, 25)),
        history_size=int(r.integers(1, 12)),
        line_search_fn=[None, "strong_wolfe"][seed % 2],
        tolerance_grad=float(r.choice([1e-7, 1e-5])),
        tolerance_change=float(r.choice([1e-9, 1e-6])),
    )
    if r.integers(2):
        opts["max_eval"] = int(r.integers(1, 40))
    if dtype == np.float32:
        # stop well above float32's noise floor: there, whether the loss changed by < tolerance_change
        # is decided by the last ulp, which the libraries' different summation orders set differently
        opts.update(tolerance_grad=1e-3, tolerance_change=1e-4)
    inits = [
        r.standard_normal(4).astype(dtype),
        r.standard_normal((2, 1)).astype(dtype),
        dtype(r.standard_normal()),
    ]
    a = float(r.uniform(0.5, 5))
    d_params = [descend.tensor(np.array(v), requires_grad=True) for v in inits]
    t_params = [torch.tensor(np.array(v), requires_grad=True) for v in inits]
    d_opt, t_opt = doptim.LBFGS(d_params, **opts), torch.optim.LBFGS(t_params, **opts)
    calls = {"d": 0, "t": 0}
    # float64: 1e-8 (dot products summed in another order, over up to 5 x 25 iterations); float32:
    # the same through float32 rounding, 1e-3 (a contraction, but the line search's branches amplify)
    tol = 1e-8 if dtype == np.float64 else 1e-3

    def closure(lib, opt, params, key):
        def run():
            calls[key] += 1
            opt.zero_grad()
            loss = _smooth_convex(lib, params, a)
            loss.backward()
            return loss

        return run

    scales = {}

    def seen(key, value):  # the largest size a state entry has had (gradients shrink to cancellations)
        scales[key] = max(scales.get(key, 0.0), float(np.max(np.abs(_to_np(value)), initial=0.0)))
        return scales[key]

    for step in range(5):
        if step == 2:  # descend's state_dict into a fresh descend LBFGS, which goes on as torch's
            fresh = doptim.LBFGS(d_params, **opts)
            fresh.load_state_dict(d_opt.state_dict())
            d_opt = fresh
        dl = d_opt.step(closure(descend, d_opt, d_params, "d"))
        tl = t_opt.step(closure(torch, t_opt, t_params, "t"))
        what = f"LBFGS {opts} {dtype.__name__} step {step + 1}"
        assert calls["d"] == calls["t"], f"{what}: closure calls {calls['d']} vs torch {calls['t']}"
        _close(dl, tl, tol, f"{what}: loss")
        for i, (dp, tp) in enumerate(zip(d_params, t_params)):
            assert dp._data.dtype == dtype
            _close(dp, tp, tol, f"{what}: param {i}")
        ds, ts = d_opt.state_dict()["state"][0], t_opt.state_dict()["state"][0]
        assert sorted(ds) == sorted(ts), f"{what}: state keys {sorted(ds)} vs torch {sorted(ts)}"
        for k in ("func_evals", "n_iter"):
            assert ds[k] == ts[k], f"{what}: state {k} {ds[k]} vs torch {ts[k]}"
        for k in ("prev_loss", "d", "prev_flat_grad"):
            _close(ds[k], ts[k], tol, f"{what}: state {k}", seen(k, ts[k]))
        # t, H_diag = yᵀs / yᵀy and the history are ratios of differences of nearly equal gradients
        # near the optimum: their relative error is the cancellation's, 100x the parameters'
        for k in ("t", "H_diag"):
            _close(ds[k], ts[k], 100 * tol, f"{what}: state {k}", seen(k, ts[k]))
        for k in ("old_dirs", "old_stps", "ro", "al"):
            if k == "al" and k not in ts:
                continue
            assert len(ds[k]) == len(ts[k]), f"{what}: state {k} length"
            for u, v in zip(ds[k], ts[k]):
                assert (u is None) == (v is None), f"{what}: state {k} entries {u} vs torch {v}"
                if v is not None:
                    _close(u, v, 100 * tol, f"{what}: state {k}", seen(k, v))


# ---------------------------------------------------------------- schedulers
def _sched_opt(lib, r, n_groups, kind):
    params = [lib.zeros(2, requires_grad=True) for _ in range(n_groups)]
    lrs = [float(10 ** r.uniform(-3, 0)) for _ in range(n_groups)]
    if kind == "adam":
        return lib.optim.Adam([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], betas=(0.9, 0.99))
    return lib.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], momentum=0.9)


def _per_group_or_one(r, n, draw):
    return [draw() for _ in range(n)] if r.integers(2) else draw()


def _make_sched(lib, name, args, opt):
    S = lib.optim.lr_scheduler
    args = dict(args)
    if name in ("SequentialLR", "ChainedScheduler"):
        inner = [_make_sched(lib, n, a, opt) for n, a in args.pop("schedulers")]
        if name == "ChainedScheduler":
            return S.ChainedScheduler(inner)
        return S.SequentialLR(opt, inner, **args)
    if name in ("LambdaLR", "MultiplicativeLR"):
        kind = args.pop("lr_lambda")
        fns = {
            "exp": lambda e: 0.97**e,
            "inv": lambda e: 1 / (1 + 0.1 * e),
            "cos": lambda e: 1 + 0.5 * math.cos(e),
        }
        args["lr_lambda"] = [fns[k] for k in kind] if isinstance(kind, list) else fns[kind]
    if name == "CyclicLR" and args.get("scale_fn") == "half":
        args["scale_fn"] = lambda x: 1 / (1 + 0.05 * x)
    return getattr(S, name)(opt, **args)


def _sched_args(name, r, n):
    u = r.uniform
    if name == "StepLR":
        return dict(step_size=int(r.integers(1, 20)), gamma=float(u(0.1, 1)))
    if name == "MultiStepLR":
        return dict(
            milestones=sorted(int(m) for m in r.integers(0, 100, size=int(r.integers(1, 6)))),
            gamma=float(u(0.1, 1)),
        )
    if name == "ExponentialLR":
        return dict(gamma=float(u(0.9, 1)))
    if name == "CosineAnnealingLR":
        return dict(T_max=int(r.integers(1, 60)), eta_min=float(r.choice([0.0, u(0, 1e-3)])))
    if name == "CosineAnnealingWarmRestarts":
        return dict(
            T_0=int(r.integers(1, 20)),
            T_mult=int(r.integers(1, 4)),
            eta_min=float(r.choice([0.0, u(0, 1e-3)])),
        )
    if name == "LinearLR":
        return dict(
            start_factor=float(u(0.01, 1)), end_factor=float(u(0, 1)), total_iters=int(r.integers(1, 40))
        )
    if name == "ConstantLR":
        return dict(factor=float(u(0.01, 1)), total_iters=int(r.integers(0, 40)))
    if name == "PolynomialLR":
        return dict(total_iters=int(r.integers(1, 60)), power=float(u(0.2, 3)))
    if name in ("LambdaLR", "MultiplicativeLR"):
        kinds = ["exp", "inv", "cos"]
        return dict(
            lr_lambda=[str(r.choice(kinds)) for _ in range(n)] if r.integers(2) else str(r.choice(kinds))
        )
    if name == "CyclicLR":
        d = dict(
            base_lr=_per_group_or_one(r, n, lambda: float(u(1e-4, 1e-2))),
            max_lr=_per_group_or_one(r, n, lambda: float(u(0.02, 1))),
            step_size_up=int(r.integers(1, 30)),
            mode=str(r.choice(["triangular", "triangular2", "exp_range"])),
            gamma=float(u(0.95, 1)),
            cycle_momentum=bool(r.integers(2)),
            base_momentum=_per_group_or_one(r, n, lambda: float(u(0.5, 0.8))),
            max_momentum=_per_group_or_one(r, n, lambda: float(u(0.85, 0.99))),
        )
        if r.integers(2):
            d["step_size_down"] = int(r.integers(1, 30))
        if r.integers(4) == 0:
            d["scale_fn"], d["scale_mode"] = "half", str(r.choice(["cycle", "iterations"]))
        return d
    if name == "OneCycleLR":
        d = dict(
            max_lr=_per_group_or_one(r, n, lambda: float(u(0.01, 1))),
            pct_start=float(u(0.05, 0.5)),
            anneal_strategy=str(r.choice(["cos", "linear"])),
            cycle_momentum=bool(r.integers(2)),
            base_momentum=float(u(0.5, 0.85)),
            max_momentum=float(u(0.86, 0.99)),
            div_factor=float(u(2, 50)),
            final_div_factor=float(10 ** u(1, 5)),
            three_phase=bool(r.integers(2)),
        )
        if r.integers(2):
            d["total_steps"] = int(r.integers(60, 250))
        else:
            d["epochs"], d["steps_per_epoch"] = int(r.integers(3, 10)), int(r.integers(10, 40))
        return d
    if name == "ReduceLROnPlateau":
        return dict(
            mode=str(r.choice(["min", "max"])),
            factor=float(u(0.1, 0.9)),
            patience=int(r.integers(0, 6)),
            threshold=float(r.choice([1e-4, u(0, 0.1)])),
            threshold_mode=str(r.choice(["rel", "abs"])),
            cooldown=int(r.integers(0, 5)),
            min_lr=_per_group_or_one(r, n, lambda: float(r.choice([0.0, u(0, 1e-3)]))),
            eps=float(r.choice([1e-8, u(0, 1e-3)])),
        )
    if name in ("SequentialLR", "ChainedScheduler"):
        simple = [
            "StepLR",
            "ExponentialLR",
            "LinearLR",
            "ConstantLR",
            "CosineAnnealingLR",
            "PolynomialLR",
            "MultiStepLR",
            "LambdaLR",
            "MultiplicativeLR",
        ]
        k = int(r.integers(1, 4))
        inner = [(s, _sched_args(s, r, n)) for s in r.choice(simple, size=k)]
        if name == "ChainedScheduler":
            return dict(schedulers=inner)
        return dict(
            schedulers=inner,
            milestones=sorted(int(m) for m in r.choice(np.arange(1, 80), size=k - 1, replace=False)),
        )
    raise AssertionError(name)


SCHEDULERS = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "LambdaLR",
    "MultiplicativeLR",
    "CyclicLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "ChainedScheduler",
]


def _sched_pair(name, seed):
    r = np.random.default_rng(4000 + seed)
    n = int(r.integers(1, 4))
    kind = "adam" if name in ("OneCycleLR", "CyclicLR") and r.integers(2) else "sgd"
    args = _sched_args(name, r, n)
    state = r.bit_generator.state
    d_opt = _sched_opt(descend, np.random.default_rng(seed), n, kind)
    t_opt = _sched_opt(torch, np.random.default_rng(seed), n, kind)
    d = _make_sched(descend, name, args, d_opt)
    t = _make_sched(torch, name, args, t_opt)
    r.bit_generator.state = state
    return r, args, d, t, d_opt, t_opt


def _compare_sched(d, t, d_opt, t_opt, what, rtol=1e-12):
    if hasattr(t, "last_epoch"):  # ChainedScheduler has none, in either library
        assert d.last_epoch == t.last_epoch, f"{what}: last_epoch {d.last_epoch} vs torch {t.last_epoch}"
    _close(d.get_last_lr(), t.get_last_lr(), rtol, f"{what}: get_last_lr")
    for i, (dg, tg) in enumerate(zip(d_opt.param_groups, t_opt.param_groups)):
        _close(dg["lr"], float(tg["lr"]), rtol, f"{what}: group {i} lr")
        for k in ("momentum", "betas"):
            if k in tg:
                _close(np.asarray(dg[k], float), np.asarray(tg[k], float), rtol, f"{what}: group {i} {k}")


def _metric_sequence(r, steps):
    base = np.cumsum(r.choice([-1.0, 0.0, 0.0, 0.1], size=steps) * r.uniform(0, 1, steps)) + 5
    return [float(v) for v in base]


def _sched_step(s, metric):
    if isinstance(s, (dsched.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau)):
        s.step(metric)
    else:
        s.step()


def _steps_for(d, r):
    total = getattr(d, "total_steps", None)
    return total - 1 if total is not None else int(r.integers(50, 201))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_trajectory(name, seed):
    r, args, d, t, d_opt, t_opt = _sched_pair(name, seed)
    what = f"{name} {args}"
    _compare_sched(d, t, d_opt, t_opt, f"{what} at construction")
    steps = _steps_for(d, r)
    metrics = _metric_sequence(r, steps)
    for i in range(steps):
        d_opt.step()
        t_opt.step()
        _sched_step(d, metrics[i])
        _sched_step(t, metrics[i])
        _compare_sched(d, t, d_opt, t_opt, f"{what} step {i + 1}")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_state_dict_resume(name, seed):
    """Half-way, descend's scheduler state_dict (and optimizer's) go into fresh descend objects that
    continue as torch's uninterrupted scheduler."""
    r, args, d, t, d_opt, t_opt = _sched_pair(name, 100 + seed)
    steps = _steps_for(d, r)
    metrics = _metric_sequence(r, steps)
    half = steps // 2
    for i in range(steps):
        if i == half:
            saved_sched, saved_opt = d.state_dict(), d_opt.state_dict()
            d_opt2 = _sched_opt(
                descend,
                np.random.default_rng(100 + seed),
                len(d_opt.param_groups),
                "adam" if "betas" in d_opt.defaults else "sgd",
            )
            d2 = _make_sched(descend, name, args, d_opt2)
            d_opt2.load_state_dict(saved_opt)
            d2.load_state_dict(saved_sched)
            d, d_opt = d2, d_opt2
            _compare_sched(d, t, d_opt, t_opt, f"{name} {args} after load at step {i}")
        _sched_step(d, metrics[i])
        _sched_step(t, metrics[i])
        _compare_sched(d, t, d_opt, t_opt, f"{name} {args} step {i + 1} (resumed at {half})")


RESUMABLE = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "LambdaLR",
    "CyclicLR",
    "OneCycleLR",
    "MultiplicativeLR",
    "CosineAnnealingWarmRestarts",
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", RESUMABLE)
def test_scheduler_last_epoch_resumption(name, seed):
    """A scheduler built with last_epoch=k on an optimizer that has `initial_lr` continues as torch's."""
    r, args, d, t, d_opt, t_opt = _sched_pair(name, 200 + seed)
    k = int(r.integers(1, 40))
    if hasattr(d, "total_steps"):
        k = min(k, d.total_steps - 3)
    for _ in range(k):
        d.step()
        t.step()
    d_new = _make_sched(descend, name, dict(args, last_epoch=k), d_opt)
    t_new = _make_sched(torch, name, dict(args, last_epoch=k), t_opt)
    what = f"{name} {args} rebuilt with last_epoch={k}"
    _compare_sched(d_new, t_new, d_opt, t_opt, what)
    for i in range(min(40, getattr(d, "total_steps", 10**9) - k - 2)):
        d_new.step()
        t_new.step()
        _compare_sched(d_new, t_new, d_opt, t_opt, f"{what} step {i + 1}")


CLOSED_FORM = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts",
]


@pytest.mark.filterwarnings("ignore:The epoch parameter")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", CLOSED_FORM)
def test_scheduler_step_with_an_epoch(name, seed):
    """The deprecated step(epoch): a random mix of step() and jumps (fractional for
    CosineAnnealingWarmRestarts, as its docs show inside a batch loop)."""
    r, args, d, t, d_opt, t_opt = _sched_pair(name, 300 + seed)
    epoch = 0
    for i in range(60):
        if r.random() < 0.4:
            epoch = int(r.integers(0, 80))
            if name == "CosineAnnealingWarmRestarts" and r.random() < 0.5:
                epoch = float(epoch + r.random())
            d.step(epoch)
            t.step(epoch)
        else:
            d.step()
            t.step()
        _compare_sched(d, t, d_opt, t_opt, f"{name} {args} step {i + 1} (last jump to {epoch})")


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_lr_past_total_steps_raises_in_both(three_phase):
    for lib in (descend, torch):
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        s = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, three_phase=three_phase)
        for _ in range(4):
            s.step()
        with pytest.raises(ValueError, match="Tried to step 6 times"):
            s.step()
            s.step()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", SCHEDULERS)
def test_torch_scheduler_state_dict_loads_into_descend(name, seed):
    """A torch checkpoint of a scheduler (and its optimizer) resumed in descend continues as torch."""
    r, args, d, t, d_opt, t_opt = _sched_pair(name, 500 + seed)
    steps = _steps_for(d, r)
    metrics = _metric_sequence(r, steps)
    half = steps // 2
    for i in range(steps):
        if i == half:
            d_opt.load_state_dict(_torch_state_as_numpy(t_opt.state_dict()))
            d.load_state_dict(t.state_dict())
            _compare_sched(d, t, d_opt, t_opt, f"{name} {args} after loading torch's state at step {i}")
        else:
            _sched_step(d, metrics[i])
        _sched_step(t, metrics[i])
        if i == half:
            _sched_step(d, metrics[i])
        _compare_sched(d, t, d_opt, t_opt, f"{name} {args} step {i + 1} (torch state loaded at {half})")


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_tensor_lr(name, seed):
    """lr given as a 0-d float64 Tensor (torch allows it; Adam/AdamW only without foreach)."""
    r, inits, defaults, groups = _case(name, 5000 + seed, np.float64)
    defaults.update(foreach=False, **({"fused": False} if "fused" in defaults else {}))
    pair = Pair(name, defaults, groups, inits, np.float64)
    for lib, opt in ((descend, pair.d_opt), (torch, pair.t_opt)):
        for group in opt.param_groups:  # each group's own lr, as a Tensor
            group["lr"] = lib.tensor(float(group["lr"]), dtype=lib.float64)
    for t, grads in enumerate(_grad_sequence(r, 10, np.float64)):
        pair.set_grads(grads)
        pair.step()
        pair.compare(1e-10, f"{name} {defaults} groups={groups} with a Tensor lr, step {t + 1}")


SIMPLE = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "LambdaLR",
    "MultiplicativeLR",
    "CosineAnnealingWarmRestarts",
]


@pytest.mark.parametrize("seed", range(10))
def test_two_schedulers_stepped_on_one_optimizer(seed):
    """Two schedulers built on one optimizer and both stepped each epoch compose (the chainable form)."""
    r = np.random.default_rng(6000 + seed)
    n = int(r.integers(1, 3))
    names = [str(x) for x in r.choice(SIMPLE, size=2)]
    args = [_sched_args(nm, r, n) for nm in names]
    d_opt, t_opt = (_sched_opt(lib, np.random.default_rng(seed), n, "sgd") for lib in (descend, torch))
    ds = [_make_sched(descend, nm, a, d_opt) for nm, a in zip(names, args)]
    ts = [_make_sched(torch, nm, a, t_opt) for nm, a in zip(names, args)]
    what = f"{names} {args}"
    for i in range(int(r.integers(30, 120))):
        for d, t in zip(ds, ts):
            d.step()
            t.step()
            _compare_sched(d, t, d_opt, t_opt, f"{what} step {i + 1}")


@pytest.mark.parametrize(
    "name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "ASGD", "Adadelta", "RMSprop", "Rprop"]
)
def test_capturable_on_the_cpu_fails_in_both(name):
    """capturable=True is for CUDA graphs: torch fails at the first CPU step (AssertionError), descend
    at construction (NotImplementedError, saying why): neither runs it."""
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(AssertionError, match="capturable=True"):
        opt = getattr(torch.optim, name)([p], capturable=True)
        p.grad = torch.ones(2)
        opt.step()
    with pytest.raises(NotImplementedError, match="capturable=True is not supported"):
        getattr(doptim, name)([descend.zeros(2, requires_grad=True)], capturable=True)
