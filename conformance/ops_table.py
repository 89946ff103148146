"""The op table the random programs draw from: one `Op` entry per op (see harness.py)."""

import numpy as np

from conformance.harness import Op

FLOAT = ("float32", "float64")


def nd(metas):
    return len(metas[0].shape)


def is_float(metas):
    return metas[0].dtype in FLOAT


def dim_param(draw, st, metas, allow_none=False):
    n = max(nd(metas), 1)
    choices = list(range(-n, n))
    if allow_none:
        choices.append(None)
    return draw(st.sampled_from(choices))


def build(st):
    """All ops, given hypothesis.strategies as `st` (drawn inside a test with st.data())."""
    ops = []

    def unary(name, fn=None):
        ops.append(Op(name, 1, fn or (lambda L, x, _n=name: getattr(L, _n)(x))))

    for name in [
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "sin",
        "cos",
        "abs",
        "relu",
        "neg",
        "reciprocal",
        "square",
        "log1p",
        "expm1",
        "erf",
        "sinh",
        "rsqrt",
        "sign",
        "floor",
    ]:
        unary(name)

    scalars = [0, 1, 2, -1, 0.5, 2.5, -0.5, True, float("inf")]

    def binary(name):
        ops.append(Op(name, 2, lambda L, x, y, _n=name: getattr(L, _n)(x, y)))
        ops.append(
            Op(
                name + "_scalar",
                1,
                lambda L, x, s, _n=name: getattr(L, _n)(x, s),
                params=lambda draw, m: {"s": draw(st.sampled_from(scalars))},
            )
        )

    for name in ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]:
        binary(name)
    # NOTE: integer or bool first arguments excluded: torch 2.13's atan2 backward negates the input in
    # its own dtype (uint8 -3 wraps to 253; bool refuses), so its gradient there is not the derivative.
    ops.append(Op("atan2", 2, lambda L, x, y: L.atan2(x, y), accepts=lambda metas: metas[0].dtype in FLOAT))
    ops.append(
        Op(
            "rpow_scalar",
            1,
            lambda L, x, s: L.pow(s, x),
            params=lambda draw, m: {"s": draw(st.sampled_from([0.0, 2.0, 0.5, -1.0]))},
        )
    )
    ops.append(
        Op(
            "clamp",
            1,
            lambda L, x, lo, hi: L.clamp(x, min=lo, max=hi),
            params=lambda draw, m: {
                "lo": draw(st.sampled_from([None, -1.0, 0.0, 0])),
                "hi": draw(st.sampled_from([None, 1.0, 0.5])),
            },
        )
    )
    # NOTE: torch 2.13's backward fails ("output with shape [] doesn't match the broadcast shape [1]")
    # when a bound is larger than x; descend reduces the gradient to x's shape. Bounds are drawn no
    # larger than x so the comparison measures the rule, not that torch bug.
    ops.append(
        Op(
            "clamp_tensor",
            3,
            lambda L, x, lo, hi: (
                L.clamp(x, min=lo, max=hi)
                if np.broadcast_shapes(tuple(x.shape), tuple(lo.shape), tuple(hi.shape)) == tuple(x.shape)
                else L.clamp(x, min=0.0)
            ),
        )
    )
    ops.append(Op("where", 2, lambda L, x, y: L.where(x > 0, x, y)))
    ops.append(
        Op(
            "masked_fill",
            1,
            lambda L, x, v: x.masked_fill(x > 0.5, v),
            params=lambda draw, m: {"v": draw(st.sampled_from([0.5, 0, -np.inf, True]))},
        )
    )

    # --- reductions ---
    def reduction(name, keyword_dim=True):
        ops.append(
            Op(
                name,
                1,
                lambda L, x, dim, keepdim, _n=name: getattr(L, _n)(x, dim=dim, keepdim=keepdim),
                params=lambda draw, m: {"dim": dim_param(draw, st, m), "keepdim": draw(st.booleans())},
            )
        )

    for name in ["sum", "mean", "amax", "amin", "logsumexp", "prod"]:
        reduction(name)
    ops.append(Op("sum_all", 1, lambda L, x: x.sum()))
    ops.append(
        Op(
            "sum_dims",
            1,
            lambda L, x, dim: x.sum(dim=dim),
            params=lambda draw, m: {"dim": draw(st.sampled_from([(), [], (0, -1), (0,)]))},
        )
    )
    ops.append(
        Op(
            "amax_tuple",
            1,
            lambda L, x, dim: x.amax(dim=dim),
            params=lambda draw, m: {"dim": draw(st.sampled_from([(0, -1), (0,), ()]))},
        )
    )
    ops.append(Op("max_all", 1, lambda L, x: x.max()))
    ops.append(Op("min_all", 1, lambda L, x: x.min()))
    ops.append(
        Op(
            "max_dim",
            1,
            lambda L, x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim)),
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "keepdim": draw(st.booleans())},
        )
    )
    ops.append(
        Op(
            "min_dim_values",
            1,
            lambda L, x, dim: x.min(dim=dim)[0],
            params=lambda draw, m: {"dim": dim_param(draw, st, m)},
        )
    )
    ops.append(
        Op(
            "argmax",
            1,
            lambda L, x, dim: x.argmax(dim=dim),
            params=lambda draw, m: {"dim": dim_param(draw, st, m, allow_none=True)},
        )
    )
    for name in ["softmax", "log_softmax"]:
        ops.append(
            Op(
                name,
                1,
                lambda L, x, dim, _n=name: getattr(L, _n)(x, dim=dim),
                params=lambda draw, m: {"dim": dim_param(draw, st, m)},
                accepts=is_float,
            )
        )
    ops.append(
        Op(
            "norm",
            1,
            lambda L, x, p, dim: L.norm(x, p=p, dim=dim),
            params=lambda draw, m: {
                "p": draw(st.sampled_from([2, 1, 3, 0.5, 0, float("inf")])),
                "dim": dim_param(draw, st, m, allow_none=True),
            },
            accepts=is_float,
        )
    )
    ops.append(
        Op(
            "var",
            1,
            # NOTE: a correction that leaves no degrees of freedom (N - correction <= 0) is left out:
            # torch 2.13's gradient there (+inf for every element, or inf at a NaN input) is not the
            # derivative of its own forward; descend's is 2 / (N - c) * g * (x - mean).
            lambda L, x, dim, correction: x.var(
                dim=dim,
                correction=correction if (x.numel() if dim is None else x.shape[dim]) > correction else 0,
            ),
            params=lambda draw, m: {
                "dim": dim_param(draw, st, m, allow_none=True),
                "correction": draw(st.sampled_from([0, 1])),
            },
            accepts=is_float,
        )
    )
    ops.append(Op("std_all", 1, lambda L, x: x.std(), accepts=is_float))

    # --- shape and views ---
    ops.append(Op("reshape_flat", 1, lambda L, x: x.reshape(-1)))
    ops.append(Op("view_flat", 1, lambda L, x: x.view(-1)))
    ops.append(Op("reshape_1", 1, lambda L, x: x.reshape((1,) + tuple(x.shape))))
    ops.append(
        Op(
            "transpose",
            1,
            lambda L, x, a, b: x.transpose(a, b),
            params=lambda draw, m: {"a": dim_param(draw, st, m), "b": dim_param(draw, st, m)},
        )
    )
    ops.append(
        Op(
            "permute",
            1,
            lambda L, x, perm: x.permute(*perm),
            params=lambda draw, m: {"perm": draw(st.permutations(list(range(nd(m)))))},
        )
    )
    ops.append(
        Op(
            "expand",
            1,
            lambda L, x, lead: x.expand(*([lead] + [-1] * x.dim())),
            params=lambda draw, m: {"lead": draw(st.sampled_from([2, 1, -1]))},
        )
    )
    ops.append(Op("squeeze", 1, lambda L, x: x.squeeze()))
    ops.append(
        Op(
            "unsqueeze",
            1,
            lambda L, x, dim: x.unsqueeze(dim),
            params=lambda draw, m: {"dim": draw(st.integers(-nd(m) - 1, nd(m)))},
        )
    )
    ops.append(Op("flatten", 1, lambda L, x: x.flatten()))
    ops.append(Op("t", 1, lambda L, x: x.t(), accepts=lambda m: nd(m) <= 2))

    def slice_params(draw, m):
        out = []
        for size in m[0].shape:
            start = draw(st.integers(-size - 1, size)) if size else 0
            out.append(slice(start, None, draw(st.sampled_from([1, 1, 2]))))
        return {"idx": tuple(out[: draw(st.integers(0, len(out)))])}

    ops.append(Op("getitem", 1, lambda L, x, idx: x[idx], params=slice_params))
    ops.append(
        Op(
            "getitem_int",
            1,
            lambda L, x, i: x[i],
            accepts=lambda m: nd(m) >= 1,
            params=lambda draw, m: {"i": draw(st.integers(-m[0].shape[0] - 1, m[0].shape[0]))},
        )
    )
    ops.append(
        Op(
            "narrow",
            1,
            lambda L, x, dim, start, length: x.narrow(dim, start, length),
            accepts=lambda m: nd(m) >= 1,
            params=lambda draw, m: {
                "dim": dim_param(draw, st, m),
                "start": draw(st.integers(0, 2)),
                "length": draw(st.integers(0, 2)),
            },
        )
    )
    ops.append(
        Op(
            "unbind",
            1,
            lambda L, x, dim, k: x.unbind(dim)[k] if len(x.unbind(dim)) > k else x.unbind(dim),
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "k": draw(st.integers(0, 1))},
        )
    )
    ops.append(
        Op(
            "cat",
            2,
            lambda L, x, y, dim: L.cat([x, y], dim=dim),
            params=lambda draw, m: {"dim": dim_param(draw, st, m)},
        )
    )
    ops.append(
        Op(
            "cat_self",
            1,
            lambda L, x, dim: L.cat([x, x * 2], dim=dim),
            params=lambda draw, m: {"dim": dim_param(draw, st, m)},
        )
    )
    ops.append(
        Op(
            "stack",
            2,
            lambda L, x, y, dim: L.stack([x, y], dim=dim),
            params=lambda draw, m: {"dim": draw(st.integers(-nd(m) - 2, nd(m) + 1))},
        )
    )
    ops.append(Op("matmul", 2, lambda L, x, y: L.matmul(x, y)))
    ops.append(
        Op(
            "matmul_self_t",
            1,
            lambda L, x: L.matmul(x, x.transpose(-1, -2)) if x.dim() >= 2 else L.dot(x, x),
            accepts=lambda m: nd(m) >= 1 and is_float(m),
        )
    )
    ops.append(
        Op(
            "gather",
            1,
            lambda L, x, dim, seed: x.gather(
                dim,
                L.tensor(np.random.default_rng(seed).integers(0, max(x.shape[dim], 1), size=tuple(x.shape))),
            ),
            accepts=lambda m: nd(m) >= 1,
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "seed": draw(st.integers(0, 9))},
        )
    )

    # --- in-place, on non-leaves and on views of them ---
    def inplace(name, fn, params=lambda draw, m: {}, arity=1):
        ops.append(Op(name, arity, fn, params=params))

    inplace("add_", lambda L, x, y: x.add_(y), arity=2)
    inplace(
        "add_scalar_",
        lambda L, x, s: x.add_(s),
        params=lambda draw, m: {"s": draw(st.sampled_from([1, 0.5]))},
    )
    inplace(
        "mul_", lambda L, x, s: x.mul_(s), params=lambda draw, m: {"s": draw(st.sampled_from([3, 0.5, 0]))}
    )
    inplace("mul_tensor_", lambda L, x, y: x.mul_(y), arity=2)
    inplace("clamp_", lambda L, x: x.clamp_(-0.5, 1.0))
    inplace("zero_", lambda L, x: x.zero_())
    inplace("fill_", lambda L, x: x.fill_(2.0))
    inplace("copy_", lambda L, x, y: x.copy_(y), arity=2)
    inplace("view_mul_", lambda L, x: x[0:1].mul_(3) and x if x.dim() else x.mul_(3))
    inplace(
        "view_clamp_", lambda L, x: (x.transpose(0, -1)[0].clamp_(0, 1), x)[1] if x.dim() else x.clamp_(0, 1)
    )
    inplace("setitem_scalar", lambda L, x: (x.__setitem__((slice(0, 1),), 5.0), x)[1] if x.dim() else x)

    def setitem(L, x, y):
        x[0:1] = y
        return x

    inplace("setitem_tensor", setitem, arity=2)
    inplace("nonleaf_then_mul_", lambda L, x: (x * 2).mul_(x))
    inplace("nonleaf_view_add_", lambda L, x, y: _view_add(x, y), arity=2)
    return ops


def _view_add(x, y):
    z = x * 1.5
    v = z.reshape(-1)[0:2] if z.dim() else z
    v.add_(y.reshape(-1)[0:1] if y.dim() else y)
    return z


# --- dtypes, promotion and edge cases (the typed programs) ---

ALL_DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")
# Python numbers mixed with tensors: weak scalars, negative ints (floor semantics, uint8 wrapping),
# bools, an int beyond uint8 and non-finite floats
TYPED_SCALARS = [0, 1, 2, -1, -3, 7, 300, 0.5, 2.5, -0.5, -0.0, True, False, float("inf"), float("nan")]
INTS = ("int64", "int32", "uint8")


def is_int(metas):
    return all(m.dtype in INTS or m.dtype == "bool" for m in metas)


def _finite_ints(L, x, dtype):
    """x as small integers of `dtype` (no NaN/inf/negative cast, which PyTorch leaves undefined)."""
    if dtype == "bool":
        return x != 0
    y = L.where(L.isnan(x), L.zeros_like(x), x).clamp(-4, 4).round() if x.is_floating_point() else x
    if dtype == "uint8":
        y = y.abs() if y.dtype != L.bool else y
    return y.to(getattr(L, dtype))


def build_typed(st):
    """Ops over every dtype and Python scalars: promotion, integer division, bits, reductions with
    dim tuples and dtype=, NaN propagation, ties, bounds and zeros (given hypothesis.strategies)."""
    ops = []

    def scalars(draw, m):
        return {"s": draw(st.sampled_from(TYPED_SCALARS))}

    ops.append(
        Op(
            "to_dtype",
            1,
            lambda L, x, dtype: (
                _finite_ints(L, x, dtype) if dtype in INTS + ("bool",) else x.to(getattr(L, dtype))
            ),
            params=lambda draw, m: {"dtype": draw(st.sampled_from(ALL_DTYPES))},
        )
    )
    ops.append(Op("zero_dim", 1, lambda L, x: x.sum() if x.dtype != L.bool else x.any()))
    for name in [
        "add",
        "sub",
        "mul",
        "div",
        "floor_divide",
        "remainder",
        "fmod",
        "pow",
        "maximum",
        "minimum",
        "eq",
        "lt",
        "ge",
        "ne",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "logical_and",
        "logical_xor",
    ]:
        ops.append(Op(name, 2, lambda L, x, y, _n=name: getattr(L, _n)(x, y)))
    for name in [
        "add",
        "sub",
        "mul",
        "div",
        "floor_divide",
        "remainder",
        "fmod",
        "pow",
        "eq",
        "lt",
        "ge",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_left_shift",
        "bitwise_right_shift",
    ]:
        ops.append(Op(name + "_num", 1, lambda L, x, s, _n=name: getattr(L, _n)(x, s), params=scalars))
    for sym, fn in [
        ("rtruediv", lambda x, s: s / x),
        ("rfloordiv", lambda x, s: s // x),
        ("rmod", lambda x, s: s % x),
        ("rpow", lambda x, s: s**x),
        ("rsub", lambda x, s: s - x),
        ("rmul", lambda x, s: s * x),
        ("floordiv_op", lambda x, s: x // s),
        ("mod_op", lambda x, s: x % s),
        ("truediv_op", lambda x, s: x / s),
        ("pow_op", lambda x, s: x**s),
        ("lt_op", lambda x, s: x < s),
        ("and_op", lambda x, s: x & s),
        ("or_op", lambda x, s: x | s),
    ]:
        ops.append(Op(sym, 1, lambda L, x, s, _f=fn: _f(x, s), params=scalars))
    for rm in ["trunc", "floor"]:
        ops.append(Op("div_" + rm, 2, lambda L, x, y, _r=rm: L.div(x, y, rounding_mode=_r)))
    ops.append(Op("bitwise_not", 1, lambda L, x: L.bitwise_not(x)))
    for name in [
        "abs",
        "sign",
        "relu",
        "sqrt",
        "round",
        "floor",
        "trunc",
        "ceil",
        "neg",
        "reciprocal",
        "exp",
    ]:
        ops.append(Op(name + "_typed", 1, lambda L, x, _n=name: getattr(L, _n)(x)))
    ops.append(
        Op(
            "clamp_bounds",
            1,
            lambda L, x, lo, hi: L.clamp(x, min=lo, max=hi),
            params=lambda draw, m: {
                "lo": draw(st.sampled_from([None, -1.0, 0.0, 1, 2.0, float("nan")])),
                "hi": draw(st.sampled_from([None, 1.0, 0.0, -1, 0.5])),
            },
            accepts=lambda m: m[0].dtype != "bool",
        )
    )
    ops.append(Op("where_bcast", 3, lambda L, c, x, y: L.where(c > 0, x, y)))
    ops.append(
        Op(
            "where_num",
            2,
            lambda L, c, x, s: L.where(c > 0, x, s),
            params=scalars,
        )
    )

    # reductions: dim tuples, negative dims, keepdim, dtype=, empty dims
    def dims(draw, m):
        n = nd(m)
        choice = draw(st.sampled_from(["none", "int", "tuple", "neg_tuple"]))
        if choice == "none" or n == 0:
            return None
        if choice == "int":
            return draw(st.integers(-n, n - 1))
        picked = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        return tuple(d - n if choice == "neg_tuple" else d for d in picked)

    def red_params(draw, m):
        return {"dim": dims(draw, m), "keepdim": draw(st.booleans())}

    def reduce(L, x, name, dim, keepdim, **kw):
        if dim is None:
            return getattr(L, name)(x, **kw)
        return getattr(L, name)(x, dim=dim, keepdim=keepdim, **kw)

    for name in ["sum", "mean", "amax", "amin", "logsumexp", "nansum", "count_nonzero"]:
        fn = (
            (lambda L, x, dim, keepdim, _n=name: reduce(L, x, _n, dim, keepdim))
            if name != "count_nonzero"
            else (lambda L, x, dim, keepdim: L.count_nonzero(x, dim=dim))
        )
        ops.append(Op(name + "_dims", 1, fn, params=red_params))
    for name in ["sum", "prod", "mean", "cumsum", "cumprod"]:
        ops.append(
            Op(
                name + "_dtype",
                1,
                lambda L, x, dim, dtype, _n=name: getattr(L, _n)(x, dim=dim, dtype=getattr(L, dtype)),
                params=lambda draw, m: {
                    "dim": dim_param(draw, st, m),
                    "dtype": draw(st.sampled_from(["float64", "float32", "int64"])),
                },
            )
        )
    ops.append(
        Op(
            "prod_dim",
            1,
            lambda L, x, dim, keepdim: L.prod(x, dim=dim, keepdim=keepdim),
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "keepdim": draw(st.booleans())},
        )
    )
    for name in ["std", "var"]:
        ops.append(
            Op(
                name + "_correction",
                1,
                lambda L, x, dim, keepdim, kw, _n=name: reduce(L, x, _n, dim, keepdim, **kw),
                params=lambda draw, m: {
                    "dim": dims(draw, m),
                    "keepdim": draw(st.booleans()),
                    "kw": draw(
                        st.sampled_from([{}, {"correction": 0}, {"correction": 2}, {"unbiased": False}])
                    ),
                },
            )
        )
    ops.append(
        Op(
            "norm_dims",
            1,
            lambda L, x, p, dim, keepdim: L.norm(x, p=p, dim=dim, keepdim=keepdim),
            params=lambda draw, m: {
                "p": draw(st.sampled_from([2, 1, float("inf"), 3])),
                "dim": dims(draw, m),
                "keepdim": draw(st.booleans()),
            },
        )
    )
    for name in ["max", "min"]:
        ops.append(Op(name + "_typed", 1, lambda L, x, _n=name: getattr(x, _n)()))
        ops.append(
            Op(
                name + "_dim_typed",
                1,
                lambda L, x, dim, keepdim, _n=name: tuple(getattr(x, _n)(dim=dim, keepdim=keepdim)),
                params=lambda draw, m: {"dim": dim_param(draw, st, m), "keepdim": draw(st.booleans())},
            )
        )
    for name in ["argmax", "argmin"]:
        ops.append(
            Op(
                name + "_typed",
                1,
                lambda L, x, dim, keepdim, _n=name: getattr(L, _n)(x, dim=dim, keepdim=keepdim),
                params=lambda draw, m: {
                    "dim": dim_param(draw, st, m, allow_none=True),
                    "keepdim": draw(st.booleans()),
                },
            )
        )
    # sorting and scans: NaN placement, ties, gradients of the chosen elements
    ops.append(
        Op(
            "sort_typed",
            1,
            lambda L, x, dim, desc: tuple(L.sort(x, dim=dim, descending=desc, stable=True)),
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "desc": draw(st.booleans())},
        )
    )
    ops.append(
        Op(
            "topk_values",
            1,
            lambda L, x, dim, k: L.topk(x, min(k, x.shape[dim] if x.dim() else 1), dim=dim)[0],
            params=lambda draw, m: {"dim": dim_param(draw, st, m), "k": draw(st.integers(0, 2))},
        )
    )
    ops.append(
        Op(
            "median_all",
            1,
            lambda L, x: x.median(),
            accepts=lambda m: all(m[0].shape),
        )
    )
    ops.append(
        Op(
            "median_dim_values",
            1,
            lambda L, x, dim: x.median(dim=dim)[0],
            params=lambda draw, m: {"dim": dim_param(draw, st, m)},
        )
    )
    for name in ["cummax", "cummin"]:
        ops.append(
            Op(
                name,
                1,
                lambda L, x, dim, _n=name: tuple(getattr(L, _n)(x, dim=dim)),
                params=lambda draw, m: {"dim": dim_param(draw, st, m)},
            )
        )
    for name in ["cumsum", "cumprod"]:
        ops.append(
            Op(
                name + "_zeros",
                1,
                lambda L, x, dim, _n=name: getattr(L, _n)(x * (x > 0), dim=dim),
                params=lambda draw, m: {"dim": dim_param(draw, st, m)},
            )
        )
    return ops
