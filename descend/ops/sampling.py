"""Random sampling: `multinomial`, `normal`, `bernoulli`, `poisson` and the in-place fills.

Every function takes `generator=` (a `descend.Generator`); without one it draws from the global
generator (`descend.manual_seed`). `multinomial`, `normal`, `bernoulli`, `uniform_`, `normal_`,
`bernoulli_`, `random_` and `exponential_` draw PyTorch's numbers for the same seed (see
`descend.random`); the others draw from the same stream through NumPy's samplers. Samples are not
differentiable: as in PyTorch, `normal`,
`bernoulli` and `poisson` record a node whose gradient for their inputs is zero, and the in-place
fills (`uniform_`, `normal_`, `bernoulli_`, `random_`, `exponential_`, `geometric_`, `cauchy_`,
`log_normal_`) write new values into a tensor's storage and bump its version counter.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import _GradMode, record
from ..random import _generator, _rng
from ..tensor import Tensor, _parse_to, _wrap
from ._core import op

__all__ = ["bernoulli", "multinomial", "normal", "poisson"]


def _zero_vjp(shape, dtype):
    return lambda g: np.zeros(shape, dtype=dtype)


def _is_number(x):
    return isinstance(x, (numbers.Real, np.number)) and not isinstance(x, (bool, np.bool_))


def _float_input(x, fn, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{fn} only supports floating-point dtypes for {what}, got {x._data.dtype}")
    return x._data


# --- sampling from distributions ---


@op("multinomial")
def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Draw category indices from the rows of `input`, non-negative (unnormalised) weights.

    Without replacement each row's draws are distinct (so `num_samples` can't exceed the number of
    categories); with replacement every draw uses the full weights. Rows of a 2-D `input` are
    sampled independently.

    Args:
        input: 1-D (categories) or 2-D (rows x categories) floating-point weights.
        num_samples: how many indices to draw per row.
        replacement: draw with replacement.
        generator: a `descend.Generator`.

    Returns:
        int64 indices of shape (num_samples,) or (rows, num_samples).

    Example:
        >>> g = descend.Generator().manual_seed(0)
        >>> descend.multinomial(descend.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g)
        tensor([1, 1])
    """
    P = _float_input(input, "multinomial")
    if P.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a tensor of shape {tuple(P.shape)}")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(
            f"multinomial(): argument 'num_samples' must be int, not {type(num_samples).__name__}"
        )
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got num_samples={num_samples}")
    rows = P.reshape(1, -1) if P.ndim == 1 else P
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement (n_sample="
            f"{num_samples}, {n_cat} categories)"
        )
    w = rows.astype(np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = w.sum(axis=1)
    if n_cat == 0 or (totals <= 0).any():
        bad = int(np.argmax(totals <= 0)) if n_cat else 0
        raise RuntimeError(f"invalid multinomial distribution (sum of probabilities <= 0) in row {bad}")
    g = _generator(generator)
    if g is not None:
        out = g.multinomial(rows, num_samples, replacement)
        return _wrap(out.reshape(-1) if P.ndim == 1 else out)
    rng = _rng(generator)
    if replacement:
        cdf = np.cumsum(w, axis=1) / totals[:, None]
        last = n_cat - 1 - np.argmax(w[:, ::-1] > 0, axis=1)  # never land past the last non-zero weight
        u = rng.random((rows.shape[0], num_samples))
        idx = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(idx, last[:, None])
    else:
        # NOTE: PyTorch's algorithm: the top-k of w / q with q ~ Exponential(1) is a draw without
        # replacement proportional to w (zero weights come last, once the others are exhausted).
        keys = w / rng.exponential(size=w.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return _wrap(out.reshape(-1) if P.ndim == 1 else out)


def _normal_checks(std, where):
    if np.any(np.asarray(std) < 0) or np.any(np.isnan(std)):
        raise RuntimeError(f"normal expects all elements of std >= 0.0, got {where}")


@op("normal", method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Samples from N(mean, std^2) in all of PyTorch's forms.

    `normal(mean_tensor, std_tensor)` broadcasts the two (the result has their broadcast shape);
    `normal(mean_tensor, std=1.0)` and `normal(mean=0.0, std=std_tensor)` share the float;
    `normal(mean, std, size)` with two floats draws a tensor of `size` in the default dtype.

    Args:
        mean: a float, or a floating-point tensor of per-element means.
        std: a float, or a tensor of per-element standard deviations (all >= 0).
        size: the shape, for the form with two floats only.
        generator: a `descend.Generator`.
        out: a tensor to write the result into.
        dtype, device, requires_grad: for the form with two floats only.

    Example:
        >>> descend.normal(descend.zeros(2, 1), descend.ones(3)).shape
        descend.Size([2, 3])
        >>> descend.normal(2.0, 3.0, size=(1, 4)).shape
        descend.Size([1, 4])
    """
    from ..creation import _result

    g = _generator(generator)
    rng = _rng(generator)

    def standard(shape, dt):  # PyTorch: normal_(0, 1) on the output, then * std + mean
        return g.normal(shape, 0.0, 1.0, dt) if g is not None else rng.standard_normal(shape).astype(dt)

    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not m_t and not s_t:
        if not (_is_number(mean) and _is_number(std)):
            raise TypeError(f"normal(): mean and std must be floats or Tensors, got {mean!r} and {std!r}")
        if size is None:
            raise TypeError("normal() with a float mean and std needs a size: normal(mean, std, size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        from ..creation import _float_dtype, _shape

        shape = _shape((size,), None, "normal")
        dt = _float_dtype(dtype, out, "normal")
        if g is not None:
            arr = g.normal(shape, mean, std, dt)
        else:
            arr = (mean + std * rng.standard_normal(shape)).astype(dt)
        return _result(arr, requires_grad, out, device)
    if size is not None or dtype is not None or requires_grad:
        raise TypeError("normal(): size, dtype and requires_grad go with a float mean and std, not tensors")
    if device is not None:
        _parse_to((device,), {})
    M = _float_input(mean, "normal", "mean") if m_t else mean
    S = _float_input(std, "normal", "std") if s_t else std
    if not s_t and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if s_t:
        _normal_checks(S, "a negative or nan std")
    try:
        shape = np.broadcast_shapes(np.shape(M), np.shape(S))
    except ValueError:
        raise RuntimeError(
            f"normal(): the shapes of mean {tuple(np.shape(M))} and std {tuple(np.shape(S))} are not "
            "broadcastable"
        ) from None
    dt = np.result_type(*[a.dtype for a in (M, S) if isinstance(a, np.ndarray)])
    if m_t and not s_t and g is not None:  # PyTorch: normal_(0, std) on the output, then + mean
        arr = (g.normal(shape, 0.0, std, dt) + M).astype(dt, copy=False)
    else:  # PyTorch: normal_(0, 1), then * std + mean
        arr = (standard(shape, dt) * np.asarray(S, dt) + np.asarray(M, dt)).astype(dt, copy=False)
    parents = tuple(t for t in (mean, std) if isinstance(t, Tensor))
    vjps = tuple(_zero_vjp(t.shape, t._data.dtype) for t in parents)
    name = "NormalBackward3" if m_t and s_t else "NormalBackward1" if m_t else "NormalBackward2"
    result = record(name, arr, parents, vjps)
    return result if out is None else _result(result._data, False, out)


@op("bernoulli")
def bernoulli(input, p=None, *, generator=None, out=None):  # noqa: A002
    """0/1 draws: 1 with probability `input[i]` (or with probability `p` everywhere, when given).

    Args:
        input: probabilities in [0, 1] (or, with `p`, only the shape and dtype of the result).
        p: a float probability used for every element instead of `input`'s values.
        generator: a `descend.Generator`.
        out: a tensor to write the result into.

    Returns:
        A tensor of `input`'s shape and dtype.

    Example:
        >>> descend.bernoulli(descend.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    from ..creation import _result

    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    X = input._data
    if p is None:
        if X.dtype.kind != "f":
            raise RuntimeError(f"bernoulli only supports floating-point probabilities, got {X.dtype}")
        if ((X < 0) | (X > 1) | np.isnan(X)).any():
            raise RuntimeError("bernoulli expects all probabilities in input to be in [0, 1]")
        prob = X
    else:
        if not _is_number(p) or not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli expects p to be in [0, 1], but got p={p}")
        prob = p
    g = _generator(generator)
    draws = g.bernoulli(X.shape, prob) if g is not None else _rng(generator).random(X.shape) < prob
    arr = draws.astype(X.dtype)
    result = record("BernoulliBackward0", arr, (input,), (_zero_vjp(X.shape, X.dtype),))
    return result if out is None else _result(result._data, False, out)


@op("poisson", method=False)
def poisson(input, generator=None):  # noqa: A002
    """Counts drawn from Poisson(rate) with the rate of each element of `input` (same shape and dtype).

    Example:
        >>> descend.poisson(descend.zeros(3))
        tensor([0., 0., 0.])
    """
    X = _float_input(input, "poisson")
    if (X < 0).any() or np.isnan(X).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    arr = _rng(generator).poisson(X).astype(X.dtype)
    return record("PoissonBackward0", arr, (input,), (_zero_vjp(X.shape, X.dtype),))


# --- in-place fills ---


def _fill(t, values, name):
    """Write `values` into `t` in place: a leaf requiring grad is refused under grad mode; a non-leaf
    in a graph becomes a sample whose gradient is zero, as in PyTorch."""
    if _GradMode.enabled and t._requires_grad:
        refuse = getattr(t, "_refuse_leaf_inplace", None)
        if refuse is not None:
            refuse()
        arr = np.asarray(values).astype(t._data.dtype)

        def sample(before):
            return record(name, arr, (before,), (_zero_vjp(arr.shape, arr.dtype),))

        from .inplace import apply  # the engine's one path for in-place ops in a graph

        return apply(t, sample)
    t._data[...] = values
    t._version[0] += 1
    return t


def _float_self(t, fn):
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{fn} expects a floating-point tensor, got dtype {t._data.dtype}")
    return t._data.shape


@op("uniform_", function=False)
def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    """Fill with draws from U(from_, to) in place (PyTorch's `from` is a Python keyword).

    Example:
        >>> descend.zeros(3).uniform_(-1, 1).shape
        descend.Size([3])
    """
    shape = _float_self(self, "uniform_")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    g = _generator(generator)
    values = g.uniform(shape, from_, to, self._data.dtype) if g is not None else _rng(generator).uniform(
        from_, to, shape)
    return _fill(self, values, "UniformBackward0")


@op("normal_", function=False)
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with draws from N(mean, std^2) in place.

    Example:
        >>> descend.zeros(3).normal_(0.0, 0.02).shape
        descend.Size([3])
    """
    shape = _float_self(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    g = _generator(generator)
    if g is not None:
        values = g.normal(shape, mean, std, self._data.dtype, self._data.flags.c_contiguous)
    else:
        values = mean + std * _rng(generator).standard_normal(shape)
    return _fill(self, values, "NormalBackward0")


@op("bernoulli_", function=False)
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability `p` (a float, or a tensor broadcast to this shape), else 0.

    Example:
        >>> descend.zeros(2).bernoulli_(descend.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    if isinstance(p, Tensor):
        prob = p._data
        if ((prob < 0) | (prob > 1) | np.isnan(prob)).any():
            raise RuntimeError("bernoulli_ expects all elements of p to be in [0, 1]")
    elif _is_number(p) and 0 <= p <= 1:
        prob = p
    else:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    g = _generator(generator)
    shape = self._data.shape
    if g is None:
        values = _rng(generator).random(shape) < prob
    else:  # a tensor p draws as bernoulli(input) does; a float p as bernoulli_'s own kernel
        values = g.bernoulli(shape, prob)
    return _fill(self, values, "BernoulliBackward1")


def _random_bound(dt):
    """The upper limit (inclusive) of `random_()` without bounds: the largest exactly-representable int."""
    if dt.kind == "f":
        return 2 ** (np.finfo(dt).nmant + 1)
    if dt.kind == "b":
        return 1
    return int(np.iinfo(dt).max)


@op("random_", function=False)
def random_(self, from_=0, to=None, *, generator=None):
    """Fill with integers drawn uniformly from [from_, to): `random_(to)` or `random_(from_, to)`.

    Without bounds the values span [0, the largest integer the dtype represents exactly].

    Example:
        >>> int(descend.zeros(5, dtype=descend.int64).random_(3).max()) < 3
        True
    """
    if to is None and from_ != 0:
        from_, to = 0, from_
    dt = self._data.dtype
    low = int(from_)
    high = _random_bound(dt) + 1 if to is None else int(to)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    g = _generator(generator)
    if g is None:
        values = _rng(generator).integers(low, high, self._data.shape, dtype=np.int64)
    elif to is None and from_ == 0:  # no bounds: PyTorch's own rule per dtype
        values = g.random_full(self._data.shape, dt)
    else:
        values = g.randint(self._data.shape, low, high)
    return _fill(self, values, "RandomBackward2")


@op("exponential_", function=False)
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with draws from the exponential distribution of rate `lambd` (density lambd * exp(-lambd x)).

    Example:
        >>> bool((descend.zeros(3).exponential_(2.0) >= 0).all())
        True
    """
    shape = _float_self(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    g = _generator(generator)
    values = g.exponential(shape, lambd, self._data.dtype) if g is not None else _rng(generator).exponential(
        1.0 / lambd, shape)
    return _fill(self, values, "ExponentialBackward0")


@op("geometric_", function=False)
def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to and including the first success (1, 2, ...).

    Example:
        >>> int(descend.zeros(3).geometric_(1 - 1e-12).max())
        1
    """
    if not (_is_number(p) and 0 < p < 1):
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, _rng(generator).geometric(p, self._data.shape), "GeometricBackward0")


@op("cauchy_", function=False)
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with draws from the Cauchy distribution median + sigma * tan(pi * (U - 1/2)).

    Example:
        >>> descend.zeros(3).cauchy_().shape
        descend.Size([3])
    """
    shape = _float_self(self, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, median + sigma * _rng(generator).standard_cauchy(shape), "CauchyBackward0")


@op("log_normal_", function=False)
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std^2)) draws: mean and std are those of the underlying normal.

    Example:
        >>> bool((descend.zeros(3).log_normal_() > 0).all())
        True
    """
    shape = _float_self(self, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(self, _rng(generator).lognormal(mean, std, shape), "LogNormalBackward0")

