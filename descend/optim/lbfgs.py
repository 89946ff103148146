"""L-BFGS: a quasi-Newton method from a short history of steps and gradient changes, with the closure API."""

from __future__ import annotations

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor, _wrap
from .optimizer import Optimizer

__all__ = ["LBFGS"]

# State entries that are flat vectors over all parameters (not shaped like one parameter).
_FLAT = ("d", "prev_flat_grad")
_FLAT_LISTS = ("old_dirs", "old_stps")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, f1') and (x2, f2, f2'), clipped to `bounds`.

    Nocedal & Wright, "Numerical Optimization", 2nd ed., eq. (3.59); the midpoint when the cubic has no
    minimum.
    """
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (xmin_bound + xmax_bound) / 2.0
    d2 = d2_square**0.5
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, xmin_bound), xmax_bound)


def _strong_wolfe(obj_func, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions (Nocedal & Wright, algorithms 3.5 and 3.6).

    Sufficient decrease f(t) ≤ f + c1 t gtd and curvature |f'(t)| ≤ −c2 gtd. `obj_func(t, d)` returns the
    loss and flat gradient at x + t d. The bracketing phase grows t by cubic extrapolation; the zoom
    phase shrinks the bracket by cubic interpolation, as PyTorch (after minFunc) does.

    Returns:
        (f_new, g_new, t, number of function evaluations).
    """
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)

    # bracketing: find an interval that contains a point satisfying the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)  # extrapolate
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:  # reached the evaluation budget
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                               bracket_gtd[1])
        # keep t away from the bracket's ends, unless the last step made too little progress
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new  # Armijo fails or no lower than the low end
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:  # Wolfe conditions hold
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:  # the old high end becomes the low
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    r"""L-BFGS (Liu & Nocedal, "On the limited memory BFGS method for large scale optimization", Math.
    Programming 1989, https://doi.org/10.1007/BF01589116), following PyTorch's `LBFGS` (after minFunc).

    `step(closure)` runs up to `max_iter` iterations; `closure()` must zero the gradients, compute the
    loss, call `backward()` and return the loss. Each iteration, with flat gradient g_k::

        s ← t d_{k−1};  y ← g_k − g_{k−1};  keep (s, y) if yᵀs > 1e-10 (at most history_size pairs)
        H_0 ← (yᵀs / yᵀy) I                        (for the newest kept pair)
        d_k ← −H_k g_k                             (two-loop recursion over the kept pairs)
        t   ← min(1, 1 / ‖g_1‖₁) γ on the very first iteration, γ afterwards
        t   ← a step satisfying the strong Wolfe conditions, if line_search_fn == "strong_wolfe"
        θ   ← θ + t d_k

    It stops early when max |g| ≤ tolerance_grad, when the directional derivative gᵀd > −tolerance_change,
    when max |t d| or the change of loss is ≤ tolerance_change, or after `max_eval` evaluations.
    History is kept across `step` calls. All parameters form one group (as in PyTorch), and the method
    keeps (history_size + 1) flat copies of them.

    Args:
        params: parameters to optimize (one group only).
        lr: learning rate γ (default 1).
        max_iter: iterations per `step` (default 20).
        max_eval: closure evaluations per `step` (default max_iter · 5 // 4).
        tolerance_grad: stop when max |gradient| is at most this (default 1e-7).
        tolerance_change: stop when the loss or the parameters change by at most this (default 1e-9).
        history_size: number of (s, y) pairs kept (default 100).
        line_search_fn: None (a fixed step t) or "strong_wolfe".

    Example:
        >>> opt = descend.optim.LBFGS([w], lr=1, line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad(); loss = ((w - 3) ** 2).sum(); loss.backward(); return loss
        >>> opt.step(closure)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"Invalid line_search_fn: {line_search_fn!r}; only None and 'strong_wolfe' "
                             "are supported")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # --- flat views of all parameters ---
    def _gather_flat_grad(self):
        return np.concatenate([
            np.zeros(p._data.size, p._data.dtype) if p.grad is None else p.grad._data.ravel()
            for p in self._params
        ])

    def _add_grad(self, step_size, update):
        """θ ← θ + step_size · update, with `update` flat over all parameters."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step_size * update[offset:offset + n].reshape(p._data.shape)
            p._version[0] += 1
            offset += n

    def _set_param(self, params_data):
        for p, data in zip(self._params, params_data):
            p._data[...] = data
            p._version[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        """Run up to `max_iter` L-BFGS iterations and return the loss from the first closure call.

        Args:
            closure: callable that zeroes the gradients, computes the loss, calls `backward()` and
                returns the loss (it runs with gradient recording on).
        """
        if closure is None:
            raise TypeError("LBFGS.step() needs a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        if isinstance(lr, Tensor):  # a Tensor lr (as PyTorch allows) acts as its value
            lr = lr.item()
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d = state["d"]._data if "d" in state else None
        t = state.get("t")
        old_dirs = [y._data for y in state.get("old_dirs", [])]
        old_stps = [s._data for s in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        al = state.get("al")  # the two-loop recursion's coefficients, kept in the state as PyTorch does
        H_diag = state.get("H_diag")
        prev_flat_grad = state["prev_flat_grad"]._data if "prev_flat_grad" in state else None
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # the first direction is steepest descent
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only when the curvature condition holds
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                # two-loop recursion: d = −H g
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)  # directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn == "strong_wolfe":
                x_init = [p._data.copy() for p in self._params]

                def obj_func(t_, d_, x_init=x_init):
                    return self._directional_evaluate(evaluate, x_init, t_, d_)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate, except after the last iteration
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:  # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _wrap(d)
        state["t"] = t
        state["old_dirs"] = [_wrap(y) for y in old_dirs]
        state["old_stps"] = [_wrap(s) for s in old_stps]
        state["ro"] = ro
        if al is not None:
            state["al"] = al
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = _wrap(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss

    # --- saving and resuming: the buffers are flat over all parameters ---
    def state_dict(self):
        """As `Optimizer.state_dict`, with the history lists copied too."""
        saved = super().state_dict()
        for s in saved["state"].values():
            for name in _FLAT_LISTS:
                if name in s:
                    s[name] = [_wrap(v._data.copy()) for v in s[name]]
            for name in ("ro", "al"):
                if name in s:
                    s[name] = list(s[name])
        return saved

    def load_state_dict(self, state_dict):
        """As `Optimizer.load_state_dict`; flat buffers are checked against the total parameter count."""
        numel = sum(p._data.size for p in self._params)
        flat = {}
        stripped = {}
        for k, s in state_dict["state"].items():
            stripped[k] = {name: v for name, v in s.items() if name not in _FLAT + _FLAT_LISTS}
            flat[k] = {name: v for name, v in s.items() if name in _FLAT + _FLAT_LISTS}
        super().load_state_dict(dict(state_dict, state=stripped))
        dtype = self._params[0]._data.dtype
        for k, buffers in flat.items():
            target = self.state[self._params[int(k)]]
            for name, value in buffers.items():
                values = value if name in _FLAT_LISTS else [value]
                arrays = [np.array(v._data if isinstance(v, Tensor) else v, dtype=dtype, copy=True)
                          for v in values]
                for arr in arrays:
                    if arr.shape != (numel,):
                        raise ValueError(f"loaded LBFGS state '{name}' has shape {tuple(arr.shape)}, but the "
                                         f"parameters have {numel} elements in all")
                wrapped = [_wrap(a) for a in arrays]
                target[name] = wrapped if name in _FLAT_LISTS else wrapped[0]
