"""descend.distributions against torch.distributions: seeded samples, values and every parameter gradient.

Each configuration draws random batch shapes (with parameters broadcast against each other), a sample
shape and a dtype, builds the same distribution in both libraries from the same leaves, and compares
sample (seeded, bit for bit up to float rounding), rsample, log_prob, entropy, mean, variance, cdf/icdf
and kl_divergence, then the gradient of a random weighting of all of them w.r.t. every parameter.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.distributions as TD  # noqa: E402

import descend  # noqa: E402
import descend.distributions as D  # noqa: E402

SEEDS = range(6)
DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _batch(rng):
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    # a broadcast partner: some dims set to 1, maybe fewer leading dims
    other = tuple(1 if rng.random() < 0.4 else n for n in shape)[int(rng.integers(0, len(shape) + 1)):]
    return shape, other


def _sample_shape(rng):
    return tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))


def _leaves(arrays, dtype):
    t = {k: torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=g) for k, (v, g) in arrays.items()}
    d = {k: descend.tensor(v, dtype=getattr(descend, dtype), requires_grad=g) for k, (v, g) in arrays.items()}
    return t, d


def _pos(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def _spd(rng, batch, n):
    A = rng.normal(size=batch + (n, n))
    return A @ np.swapaxes(A, -1, -2) + n * np.eye(n)


def _tril(rng, batch, n):
    L = np.tril(rng.normal(size=batch + (n, n)) * 0.5, -1)
    return L + np.eye(n) * rng.uniform(0.5, 1.5, size=batch + (n,))[..., None, :]


# family -> (params(rng, batch, partner batch) -> {name: (array, requires_grad)}, build(lib, params))
def _normal(rng, b, o):
    return {"loc": (rng.normal(size=b), True), "scale": (_pos(rng, o), True)}


def _bern_p(rng, b, o):
    return {"probs": (rng.uniform(0.1, 0.9, size=b), True)}


def _bern_l(rng, b, o):
    return {"logits": (rng.normal(size=b), True)}


def _cat(rng, b, o):
    k = int(rng.integers(2, 5))
    return {"probs": (rng.uniform(0.1, 1.0, size=b + (k,)), True)}


def _cat_l(rng, b, o):
    k = int(rng.integers(2, 5))
    return {"logits": (rng.normal(size=b + (k,)), True)}


def _uniform(rng, b, o):
    low = rng.normal(size=b)
    return {"low": (low, True), "high": (np.broadcast_to(low, b).max() + 0.5 + _pos(rng, o), True)}


def _rate(rng, b, o):
    return {"rate": (_pos(rng, b), True)}


def _mvn(kind):
    def params(rng, b, o):
        n = int(rng.integers(1, 4))
        mat = {"covariance_matrix": _spd, "precision_matrix": _spd, "scale_tril": _tril}[kind](rng, o, n)
        return {"loc": (rng.normal(size=b + (n,)), True), kind: (mat, True)}

    return params


def _binomial(rng, b, o):
    return {"total_count": (rng.integers(0, 6, size=o).astype(float), False),
            "probs": (rng.uniform(0.1, 0.9, size=b), True)}


FAMILIES = {
    "Normal": (_normal, lambda L, p: L.Normal(p["loc"], p["scale"])),
    "Laplace": (_normal, lambda L, p: L.Laplace(p["loc"], p["scale"])),
    "BernoulliProbs": (_bern_p, lambda L, p: L.Bernoulli(probs=p["probs"])),
    "BernoulliLogits": (_bern_l, lambda L, p: L.Bernoulli(logits=p["logits"])),
    "Categorical": (_cat, lambda L, p: L.Categorical(probs=p["probs"])),
    "CategoricalLogits": (_cat_l, lambda L, p: L.Categorical(logits=p["logits"])),
    "OneHotCategorical": (_cat_l, lambda L, p: L.OneHotCategorical(logits=p["logits"])),
    "Uniform": (_uniform, lambda L, p: L.Uniform(p["low"], p["high"])),
    "Exponential": (_rate, lambda L, p: L.Exponential(p["rate"])),
    "IndependentNormal": (_normal, lambda L, p: L.Independent(L.Normal(p["loc"], p["scale"]),
                                                              min(1, p["loc"].dim()))),
    "MVNCov": (_mvn("covariance_matrix"),
               lambda L, p: L.MultivariateNormal(p["loc"], p["covariance_matrix"])),
    "MVNPrec": (_mvn("precision_matrix"),
                lambda L, p: L.MultivariateNormal(p["loc"], precision_matrix=p["precision_matrix"])),
    "MVNTril": (_mvn("scale_tril"), lambda L, p: L.MultivariateNormal(p["loc"], scale_tril=p["scale_tril"])),
    "Binomial": (_binomial, lambda L, p: L.Binomial(p["total_count"], probs=p["probs"])),
}
SAMPLES_MATCH = set(FAMILIES) - {"Binomial"}  # torch.binomial's sampler is not reproduced


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x._data)


def _close(where, t, d, dtype):
    a, b = _np(t), _np(d)
    assert a.shape == b.shape, f"{where}: shape {b.shape} vs torch {a.shape}"
    assert str(b.dtype) == str(a.dtype), f"{where}: dtype {b.dtype} vs torch {a.dtype}"
    np.testing.assert_allclose(b, a, err_msg=where, equal_nan=True, **TOL[dtype])


def _quantities(L, dist, value, seed, sample_shape, family):
    out = {}
    lib = torch if L is TD else descend
    lib.manual_seed(seed)
    out["sample"] = dist.sample(sample_shape)
    if dist.has_rsample:
        lib.manual_seed(seed + 1)
        out["rsample"] = dist.rsample(sample_shape)
    out["log_prob"] = dist.log_prob(value)
    if family != "Binomial" or dist.total_count.min() == dist.total_count.max():
        out["entropy"] = dist.entropy()
    if not family.startswith("Categorical"):
        out["mean"] = dist.mean
        out["variance"] = dist.variance
    if family in ("Normal", "Laplace", "Uniform", "Exponential"):
        out["cdf"] = dist.cdf(value)
        if family != "Normal":  # Normal.icdf needs erfinv, which descend lacks
            u = value.sigmoid()
            out["icdf"] = dist.icdf(u)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_distribution_matches_torch(family, seed, dtype):
    rng = np.random.default_rng(seed * 1000 + sorted(FAMILIES).index(family))
    b, o = _batch(rng)
    params, build = FAMILIES[family]
    arrays = params(rng, b, o)
    pt, pd = _leaves(arrays, dtype)
    dt, dd = build(TD, pt), build(D, pd)
    assert tuple(dd.batch_shape) == tuple(dt.batch_shape) and tuple(dd.event_shape) == tuple(dt.event_shape)
    # a value in the support, broadcast against the batch from a sample of torch's
    torch.manual_seed(seed + 7)
    v = dt.sample(_sample_shape(rng)).numpy()
    value_t = torch.tensor(v)
    value_d = descend.tensor(v)
    sample_shape = _sample_shape(rng)
    qt = _quantities(TD, dt, value_t, seed, sample_shape, family)
    qd = _quantities(D, dd, value_d, seed, sample_shape, family)
    assert sorted(qt) == sorted(qd)
    for name in qt:
        if name == "sample" and family not in SAMPLES_MATCH:
            assert tuple(qd[name].shape) == tuple(qt[name].shape)
            continue
        _close(f"{family}.{name}", qt[name], qd[name], dtype)
    # gradients of a random weighting of every differentiable output
    loss_t, loss_d = 0, 0
    for name in qt:
        if not qt[name].requires_grad:
            continue
        w = rng.normal(size=tuple(qt[name].shape))
        loss_t = loss_t + (qt[name] * torch.tensor(w, dtype=qt[name].dtype)).sum()
        loss_d = loss_d + (qd[name] * descend.tensor(w, dtype=qd[name].dtype)).sum()
    loss_t.backward()
    loss_d.backward()
    for k in pt:
        if pt[k].requires_grad:
            _close(f"{family} d/d{k}", pt[k].grad, pd[k].grad, dtype)


KL_PAIRS = ["Normal", "Laplace", "BernoulliProbs", "BernoulliLogits", "Categorical", "CategoricalLogits",
            "OneHotCategorical", "Exponential", "IndependentNormal", "MVNCov", "MVNTril", "MVNPrec",
            "Uniform"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("family", KL_PAIRS)
def test_kl_matches_torch(family, seed, dtype):
    rng = np.random.default_rng(seed * 77 + KL_PAIRS.index(family))
    b, o = _batch(rng)
    params, build = FAMILIES[family]
    ap = params(rng, b, o)
    rng2 = np.random.default_rng(seed * 77 + KL_PAIRS.index(family))  # the same shapes for q
    _batch(rng2)
    aq = {k: (v + (rng.uniform(-0.2, 0.2, size=np.shape(v)) if k not in ("covariance_matrix",
              "precision_matrix", "scale_tril") else 0), g) for k, (v, g) in params(rng2, b, o).items()}
    if family == "Uniform":  # q covers p sometimes, not always (an infinite KL elsewhere)
        aq = {"low": (ap["low"][0] - rng.uniform(-0.1, 0.5, size=np.shape(ap["low"][0])), True),
              "high": (ap["high"][0] + rng.uniform(-0.1, 0.5, size=np.shape(ap["high"][0])), True)}
    ptp, pdp = _leaves(ap, dtype)
    ptq, pdq = _leaves(aq, dtype)
    kt = TD.kl_divergence(build(TD, ptp), build(TD, ptq))
    kd = D.kl_divergence(build(D, pdp), build(D, pdq))
    _close(f"KL {family}", kt, kd, dtype)
    finite = torch.isfinite(kt).numpy()
    w = rng.normal(size=tuple(kt.shape)) * finite
    (kt.where(torch.tensor(finite), 0) * torch.tensor(w, dtype=kt.dtype)).sum().backward()
    kd_f = descend.where(descend.tensor(finite), kd, 0.0)
    (kd_f * descend.tensor(w, dtype=kd.dtype)).sum().backward()
    for leaves_t, leaves_d in ((ptp, pdp), (ptq, pdq)):
        for k in leaves_t:
            if leaves_t[k].requires_grad:
                _close(f"KL {family} d/d{k}", leaves_t[k].grad, leaves_d[k].grad, dtype)


BAD = [
    ("Normal scale", lambda L, T: L.Normal(T([0.0, 1.0]), T([1.0, -1.0]))),
    ("Bernoulli probs", lambda L, T: L.Bernoulli(probs=T([1.5]))),
    ("Categorical probs", lambda L, T: L.Categorical(probs=T([-1.0, 2.0]))),
    ("Uniform bounds", lambda L, T: L.Uniform(T([1.0]), T([0.0]))),
    ("Exponential rate", lambda L, T: L.Exponential(T([0.0]))),
    ("MVN tril", lambda L, T: L.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 1.0], [0.0, 1.0]]))),
    ("MVN cov", lambda L, T: L.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 2.0], [2.0, 1.0]]))),
    ("Normal log_prob nan", lambda L, T: L.Normal(0.0, 1.0).log_prob(T([float("nan")]))),
    ("Bernoulli log_prob 0.5", lambda L, T: L.Bernoulli(probs=T([0.3])).log_prob(T([0.5]))),
    ("Categorical log_prob 3", lambda L, T: L.Categorical(logits=T([0.0, 1.0])).log_prob(T(3))),
    ("Exponential log_prob -1", lambda L, T: L.Exponential(T([1.0])).log_prob(T([-1.0]))),
    ("Uniform log_prob outside", lambda L, T: L.Uniform(0.0, 1.0).log_prob(T(2.0))),
    ("OneHot log_prob", lambda L, T: L.OneHotCategorical(probs=T([0.5, 0.5])).log_prob(T([1.0, 1.0]))),
    ("event shape", lambda L, T: L.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 0.0], [0.0, 1.0]])).log_prob(
        T([0.0, 0.0, 0.0]))),
    ("both probs and logits", lambda L, T: L.Bernoulli(probs=T([0.5]), logits=T([0.0]))),
    ("kl unregistered", lambda L, T: L.kl_divergence(L.Categorical(T([0.5, 0.5])), L.Normal(0.0, 1.0))),
]


@pytest.mark.parametrize("name,make", BAD, ids=[b[0] for b in BAD])
def test_errors_match_torch(name, make):
    with pytest.raises(Exception) as et:
        make(TD, torch.tensor)
    with pytest.raises(Exception) as ed:
        make(D, descend.tensor)
    assert type(ed.value) is type(et.value), f"{name}: {ed.value!r} vs torch {et.value!r}"
    want = str(et.value).replace("torch.", "descend.").split("\n")[0]
    assert str(ed.value).split("\n")[0] == want


def test_repr_matches_torch():
    for L, T in ((TD, torch.tensor), (D, descend.tensor)):
        r = repr(L.Normal(T([0.0, 1.0]), T(1.0)))
        assert r.replace("torch.", "descend.") == "Normal(loc: descend.Size([2]), scale: descend.Size([2]))"


def test_validate_args_off_and_default():
    try:
        D.Distribution.set_default_validate_args(False)
        TD.Distribution.set_default_validate_args(False)
        dt = TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]))
        dd = D.Normal(descend.tensor([0.0]), descend.tensor([-1.0]))
        _close("unvalidated log_prob", dt.log_prob(torch.tensor([0.5])), dd.log_prob(descend.tensor([0.5])),
               "float32")
    finally:
        D.Distribution.set_default_validate_args(True)
        TD.Distribution.set_default_validate_args(True)
