"""descend.random and the sampling ops: Generator, seeded draws, multinomial, normal, bernoulli,
in-place fills, factories with PyTorch's spellings, default dtype/device, device idioms."""

import math

import numpy as np
import pytest

import descend
from descend.autograd import no_grad

# --- Generator ---


def test_seeded_generator_repeats_and_ignores_the_global_state():
    a = descend.randn(5, generator=descend.Generator().manual_seed(7))
    descend.manual_seed(123)
    descend.rand(10)  # move the global generator
    b = descend.randn(5, generator=descend.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = descend.randn(5, generator=descend.Generator().manual_seed(8))
    assert not np.array_equal(a.numpy(), c.numpy())


def test_generator_draws_leave_the_global_generator_alone():
    descend.manual_seed(0)
    expected = descend.rand(3).numpy()
    descend.manual_seed(0)
    descend.rand(4, generator=descend.Generator().manual_seed(1))
    np.testing.assert_array_equal(descend.rand(3).numpy(), expected)


def test_manual_seed_returns_the_default_generator():
    g = descend.manual_seed(5)
    assert g is descend.default_generator and isinstance(g, descend.Generator)
    assert g.initial_seed() == 5 and descend.initial_seed() == 5
    assert descend.Generator().initial_seed() == 67280421310721  # PyTorch's default seed
    assert str(descend.Generator().device) == "cpu"


def test_state_round_trips_as_uint8_tensor():
    g = descend.Generator().manual_seed(3)
    descend.randn(7, generator=g)  # an odd count of normals leaves the pair's second one cached
    state = g.get_state()
    assert state.dtype == descend.uint8 and state.shape == (2517,)  # MT19937's words, the cache, the seed
    first = descend.randn(3, generator=g).numpy()  # starts with the cached value
    other = descend.Generator().set_state(state)
    np.testing.assert_array_equal(descend.randn(3, generator=other).numpy(), first)
    assert other.initial_seed() == 3
    assert other.initial_seed() == 3
    # the global state, through descend.get_rng_state / set_rng_state
    s = descend.get_rng_state()
    x = descend.randn(3).numpy()
    descend.set_rng_state(s)
    np.testing.assert_array_equal(descend.randn(3).numpy(), x)


def test_fork_rng_restores_the_global_state():
    descend.manual_seed(2)
    expected = descend.rand(2).numpy()
    descend.manual_seed(2)
    with descend.random.fork_rng():
        descend.rand(100)
    np.testing.assert_array_equal(descend.rand(2).numpy(), expected)


def test_seed_and_negative_seeds():
    g = descend.Generator()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**63
    assert descend.Generator().manual_seed(-1).initial_seed() == 2**64 - 2  # PyTorch's wrap rule


def test_generator_errors():
    with pytest.raises(TypeError, match="integer seed, got float"):
        descend.manual_seed(1.5)
    with pytest.raises(RuntimeError, match="outside"):
        descend.manual_seed(2**64)
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        descend.Generator(device="cuda")
    with pytest.raises(RuntimeError, match="uint8 tensor of 2517 bytes.*shape \\(3,\\)"):
        descend.Generator().set_state(descend.zeros(3, dtype=descend.uint8))
    with pytest.raises(TypeError, match="generator must be a descend.Generator, got int"):
        descend.rand(2, generator=3)


# --- factories ---


@pytest.mark.parametrize(
    "call",
    [
        lambda f, **k: f(2, 3, **k),
        lambda f, **k: f((2, 3), **k),
        lambda f, **k: f([2, 3], **k),
        lambda f, **k: f(size=(2, 3), **k),
    ],
)
@pytest.mark.parametrize("name", ["randn", "rand", "zeros", "ones", "empty"])
def test_factories_take_every_size_spelling(call, name):
    t = call(getattr(descend, name), dtype=descend.float64, requires_grad=True, device="cpu")
    assert t.shape == (2, 3) and t.dtype == descend.float64 and t.requires_grad


def test_randn_and_rand_moments():
    g = descend.Generator().manual_seed(0)
    x = descend.randn(20000, generator=g).numpy()
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1) < 0.03
    u = descend.rand(20000, generator=g).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01


def test_factory_errors():
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        descend.randn(2, device="cuda")
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        descend.zeros(2, -1)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        descend.randn(2, size=(2,))
    with pytest.raises(TypeError, match="tuple of ints.*float"):
        descend.ones(2.5)
    with pytest.raises(RuntimeError, match="floating-point dtype, got int64"):
        descend.randn(2, dtype=descend.int64)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point.*int64"):
        descend.zeros(2, dtype=descend.int64, requires_grad=True)


def test_randint_forms_and_range():
    g = descend.Generator().manual_seed(0)
    a = descend.randint(10, (1000,), generator=g)
    assert a.dtype == descend.int64 and 0 <= int(a.min()) and int(a.max()) == 9
    b = descend.randint(5, 8, (2, 500), generator=g)
    assert b.shape == (2, 500) and sorted(set(b.numpy().ravel().tolist())) == [5, 6, 7]
    c = descend.randint(low=-2, high=0, size=(10,), dtype=descend.float32)
    assert c.dtype == descend.float32 and set(c.numpy().tolist()) <= {-2.0, -1.0}
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        descend.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="size"):
        descend.randint(5)


def test_randperm_and_like_factories():
    p = descend.randperm(10, generator=descend.Generator().manual_seed(1))
    assert p.dtype == descend.int64 and sorted(p.tolist()) == list(range(10))
    x = descend.zeros(2, 3, dtype=descend.float64)
    assert descend.rand_like(x).dtype == descend.float64 and descend.randn_like(x).shape == (2, 3)
    r = descend.randint_like(x, 3, 6)
    assert r.dtype == descend.float64 and set(r.numpy().ravel().tolist()) <= {3.0, 4.0, 5.0}
    assert descend.zeros_like(x, dtype=descend.int64).dtype == descend.int64
    assert descend.full_like(x, 7).numpy().tolist() == [[7.0] * 3] * 2
    assert descend.empty_like(x).shape == (2, 3)
    with pytest.raises(RuntimeError, match="n must be non-negative, got -1"):
        descend.randperm(-1)


def test_arange_dtype_inference_and_length():
    assert descend.arange(5).dtype == descend.int64
    assert descend.arange(0, 5, 2).tolist() == [0, 2, 4]
    f = descend.arange(0, 1, 0.1)
    assert f.dtype == descend.float32 and f.shape == (10,)  # ceil((1 - 0) / 0.1) = 10
    np.testing.assert_allclose(descend.arange(1.0, 2.5, 0.5).numpy(), [1.0, 1.5, 2.0])
    assert descend.arange(5, 0, -2).tolist() == [5, 3, 1]
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        descend.arange(0, 1, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        descend.arange(0, 5, -1)


def test_linspace_logspace_eye_and_triangle_indices():
    np.testing.assert_allclose(descend.linspace(-1, 1, 5).numpy(), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(descend.logspace(0, 3, 4).numpy(), [1, 10, 100, 1000])
    np.testing.assert_allclose(descend.logspace(0, 2, 3, base=2).numpy(), [1, 2, 4])
    assert descend.eye(2, 3).numpy().tolist() == [[1, 0, 0], [0, 1, 0]]
    assert descend.tril_indices(3, 3, -1).tolist() == [[1, 2, 2], [0, 0, 1]]
    assert descend.triu_indices(2, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    assert descend.full((2,), True).dtype == descend.bool and descend.full((1,), 3).dtype == descend.int64
    with pytest.raises(RuntimeError, match="steps must be non-negative, got -1"):
        descend.linspace(0, 1, -1)


def test_out_writes_into_the_given_tensor():
    out = descend.zeros(3)
    version = out._version[0]
    r = descend.arange(3, out=out)
    assert r is out and out.dtype == descend.float32 and out.tolist() == [0.0, 1.0, 2.0]
    assert out._version[0] > version
    descend.randn(2, 2, out=out)
    assert out.shape == (2, 2)


def test_default_dtype_is_honoured_by_every_factory():
    try:
        descend.set_default_dtype(descend.float64)
        assert descend.get_default_dtype() == descend.float64
        for t in (descend.randn(2), descend.rand(2), descend.zeros(2), descend.ones(2), descend.eye(2),
                  descend.arange(0.5, 2), descend.linspace(0, 1, 3), descend.full((2,), 1.5),
                  descend.normal(0.0, 1.0, size=(2,)), descend.empty(1)):
            assert t.dtype == descend.float64
        assert descend.arange(3).dtype == descend.int64
    finally:
        descend.set_default_dtype(descend.float32)
    assert descend.randn(2).dtype == descend.float32
    with pytest.raises(TypeError, match="only floating-point types.*int64"):
        descend.set_default_dtype(descend.int64)
    with pytest.raises(TypeError, match="only floating-point types.*float16"):
        descend.set_default_dtype(descend.float16)


# --- multinomial ---


def _chi_square(counts, probs):
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def test_multinomial_with_replacement_matches_the_weights():
    w = descend.tensor([1.0, 2.0, 3.0, 4.0])  # unnormalised
    draws = descend.multinomial(w, 20000, replacement=True, generator=descend.Generator().manual_seed(0))
    assert draws.dtype == descend.int64 and draws.shape == (20000,)
    counts = np.bincount(draws.numpy(), minlength=4)
    # chi-square with 3 degrees of freedom: P(> 16.27) = 0.001
    assert _chi_square(counts, np.array([0.1, 0.2, 0.3, 0.4])) < 16.27


def test_multinomial_without_replacement_never_repeats_and_follows_weights():
    g = descend.Generator().manual_seed(1)
    w = descend.tensor([[5.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    firsts = []
    for _ in range(2000):
        d = descend.multinomial(w, 2, generator=g).numpy()
        assert d.shape == (2, 2) and d[0, 0] != d[0, 1] and set(d[1].tolist()) == {1, 2}
        firsts.append(d[0, 0])
    counts = np.bincount(firsts, minlength=4)
    assert _chi_square(counts, np.array([5, 1, 1, 1]) / 8) < 16.27
    # all categories, without replacement: a permutation
    assert sorted(descend.multinomial(descend.ones(6), 6).tolist()) == list(range(6))


def test_multinomial_zero_weights_are_never_drawn_with_replacement():
    d = descend.multinomial(descend.tensor([0.0, 0.0, 3.0, 0.0]), 500, True)
    assert set(d.tolist()) == {2}


@pytest.mark.parametrize(
    "weights, n, replacement, message",
    [
        ([1.0, -1.0], 1, False, "element < 0"),
        ([1.0, math.inf], 1, True, "`inf`, `nan`"),
        ([1.0, math.nan], 1, True, "`inf`, `nan`"),
        ([0.0, 0.0], 1, True, "sum of probabilities <= 0"),
        ([[1.0, 1.0], [0.0, 0.0]], 1, True, r"sum of probabilities <= 0\) in row 1"),
        ([1.0, 1.0], 3, False, "cannot sample n_sample > prob_dist.size"),
        ([1.0, 1.0], 0, True, "n_sample <= 0"),
        ([[[1.0]]], 1, True, "1 or 2 dim"),
    ],
)
def test_multinomial_errors(weights, n, replacement, message):
    with pytest.raises(RuntimeError, match=message):
        descend.multinomial(descend.tensor(weights), n, replacement)


def test_multinomial_refuses_integer_weights():
    with pytest.raises(RuntimeError, match="floating-point dtypes"):
        descend.multinomial(descend.tensor([1, 2]), 1)


# --- normal, bernoulli, poisson ---


def test_normal_overloads_shapes_and_moments():
    g = descend.Generator().manual_seed(0)
    big = descend.normal(descend.tensor([[-5.0], [5.0]]), descend.tensor([0.5, 1.0, 2.0]), generator=g)
    assert big.shape == (2, 3) and (big.numpy()[0] < 0).all() and (big.numpy()[1] > 0).all()
    x = descend.normal(descend.full((4000,), 3.0), 2.0, generator=g).numpy()
    assert abs(x.mean() - 3) < 0.15 and abs(x.std() - 2) < 0.1
    y = descend.normal(-1.0, descend.full((4000,), 0.5), generator=g).numpy()
    assert abs(y.mean() + 1) < 0.05 and abs(y.std() - 0.5) < 0.03
    z = descend.normal(10.0, 3.0, size=(50, 80), generator=g)
    assert z.shape == (50, 80) and z.dtype == descend.float32
    assert abs(z.numpy().mean() - 10) < 0.3 and abs(z.numpy().std() - 3) < 0.15
    both = descend.normal(descend.zeros(4000), descend.full((4000,), 4.0), generator=g).numpy()
    assert abs(both.std() - 4) < 0.2
    assert descend.normal(descend.zeros(2, 1), descend.ones(3)).shape == (2, 3)  # broadcast


def test_normal_zero_std_is_the_mean_and_gradient_is_zero():
    mean = descend.tensor([1.0, 2.0], requires_grad=True)
    out = descend.normal(mean, 0.0)
    assert out.tolist() == [1.0, 2.0] and out.grad_fn.name() == "NormalBackward1"
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0]  # PyTorch's normal is not reparameterised


def test_normal_errors():
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        descend.normal(descend.zeros(2), descend.tensor([1.0, -1.0]))
    with pytest.raises(RuntimeError, match="std >= 0.0, but found std -1"):
        descend.normal(0.0, -1.0, size=(2,))
    with pytest.raises(TypeError, match="needs a size"):
        descend.normal(0.0, 1.0)
    with pytest.raises(RuntimeError, match="not broadcastable"):
        descend.normal(descend.zeros(2), descend.ones(3))


def test_bernoulli_frequencies_and_p_form():
    g = descend.Generator().manual_seed(0)
    p = descend.tensor([0.0, 0.25, 1.0]).reshape(3, 1) * descend.ones(1, 4000)
    b = descend.bernoulli(p, generator=g).numpy()
    assert b.dtype == np.float32 and set(np.unique(b).tolist()) <= {0.0, 1.0}
    assert b[0].sum() == 0 and b[2].sum() == 4000 and abs(b[1].mean() - 0.25) < 0.03
    q = descend.bernoulli(descend.zeros(4000), 0.75, generator=g).numpy()
    assert abs(q.mean() - 0.75) < 0.03
    with pytest.raises(RuntimeError, match=r"in \[0, 1\]"):
        descend.bernoulli(descend.tensor([1.5]))


def test_poisson_mean_and_errors():
    x = descend.poisson(descend.full((5000,), 3.0), generator=descend.Generator().manual_seed(0)).numpy()
    assert abs(x.mean() - 3) < 0.1 and (x == np.round(x)).all()
    with pytest.raises(RuntimeError, match="expected rate to be non-negative"):
        descend.poisson(descend.tensor([-1.0]))


# --- in-place fills ---


def test_in_place_fills_bump_the_version_and_follow_the_generator():
    g = descend.Generator().manual_seed(4)
    t = descend.zeros(3000)
    v = t._version[0]
    assert t.uniform_(-2, 2, generator=g) is t and t._version[0] == v + 1
    assert -2 <= t.numpy().min() and t.numpy().max() < 2 and abs(t.numpy().mean()) < 0.1
    t.normal_(1.0, 0.5, generator=g)
    assert abs(t.numpy().mean() - 1) < 0.05 and abs(t.numpy().std() - 0.5) < 0.03
    t.exponential_(2.0, generator=g)
    assert t.numpy().min() >= 0 and abs(t.numpy().mean() - 0.5) < 0.05
    t.bernoulli_(0.2, generator=g)
    assert abs(t.numpy().mean() - 0.2) < 0.03
    t.geometric_(0.5, generator=g)
    assert t.numpy().min() >= 1 and abs(t.numpy().mean() - 2) < 0.1
    t.log_normal_(0.0, 0.25, generator=g)
    assert abs(np.log(t.numpy()).std() - 0.25) < 0.02
    t.cauchy_(generator=g)
    assert abs(np.median(t.numpy())) < 0.1
    same = descend.zeros(5).uniform_(generator=descend.Generator().manual_seed(9)).numpy()
    again = descend.zeros(5).uniform_(generator=descend.Generator().manual_seed(9)).numpy()
    np.testing.assert_array_equal(same, again)


def test_random_fill_ranges():
    t = descend.zeros(2000, dtype=descend.int64)
    assert set(t.random_(3).tolist()) == {0, 1, 2}
    assert set(t.random_(5, 7).tolist()) == {5, 6}
    f = descend.zeros(100).random_()
    assert f.numpy().min() >= 0 and f.numpy().max() <= 2**24 and (f.numpy() == np.round(f.numpy())).all()
    with pytest.raises(RuntimeError, match="from=5 >= to=2"):
        t.random_(5, 2)


def test_in_place_fill_refuses_a_leaf_requiring_grad_under_grad_mode():
    w = descend.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.uniform_()
    with no_grad():
        w.normal_()
    assert w.requires_grad and w.detach().numpy().std() > 0


def test_in_place_fill_of_a_non_leaf_passes_no_gradient_back():
    a = descend.ones(3, requires_grad=True)
    b = a * 2
    b.uniform_(generator=descend.Generator().manual_seed(0))
    assert b.grad_fn.name() == "UniformBackward0"
    b.sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0]  # the sample does not depend on a, as in PyTorch


def test_in_place_fill_errors():
    t = descend.zeros(2)
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        t.uniform_(2, 1)
    with pytest.raises(RuntimeError, match="lambda > 0.0, but found lambda=-1"):
        t.exponential_(-1)
    with pytest.raises(RuntimeError, match=r"p to be in \(0, 1\), but got p=0"):
        t.geometric_(0)
    with pytest.raises(RuntimeError, match=r"p to be in \[0, 1\], but got p=1.5"):
        t.bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="floating-point tensor, got dtype int64"):
        descend.zeros(2, dtype=descend.int64).normal_()


# --- device idioms ---


def test_device_and_backend_idioms():
    assert descend.get_default_device() == descend.device("cpu")
    descend.set_default_device("cpu")
    descend.set_default_device(None)
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        descend.set_default_device("cuda")
    assert descend.backends.mps.is_available() is False and descend.backends.cuda.is_built() is False
    assert descend.backends.cudnn.is_available() is False
    descend.backends.cudnn.deterministic = True  # tutorials set this; accepted
    assert descend.accelerator.is_available() is False and descend.accelerator.current_accelerator() is None
    assert descend.cuda.is_available() is False
    descend.cuda.manual_seed_all(0)
    assert descend.is_tensor(descend.zeros(1)) and not descend.is_tensor([1])
    assert descend.numel(descend.zeros(2, 3)) == 6
    assert (descend.pi, descend.e, descend.inf) == (math.pi, math.e, math.inf) and math.isnan(descend.nan)


def test_finfo_and_iinfo():
    f = descend.finfo(descend.float32)
    assert f.bits == 32 and f.eps == 2.0**-23 and f.max == float(np.finfo(np.float32).max)
    assert f.tiny == f.smallest_normal == 2.0**-126 and f.resolution == 1e-6 and f.dtype == "float32"
    assert descend.finfo().dtype == "float32" and descend.finfo(descend.float64).eps == 2.0**-52
    i = descend.iinfo(descend.int8)
    assert (i.bits, i.min, i.max, i.dtype) == (8, -128, 127, "int8")
    with pytest.raises(TypeError, match="floating point input type, got int64"):
        descend.finfo(descend.int64)
    with pytest.raises(TypeError, match="integer input type, got float32"):
        descend.iinfo(descend.float32)


# --- a bigram character model, as a tutorial writes it ---

BIGRAM = '''
import descend as torch

words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
N = torch.zeros((len(stoi), len(stoi)), dtype=torch.int32)
for w in words:
    cs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(cs, cs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdim=True)
g = torch.Generator().manual_seed(2147483647)
names = []
for _ in range(20):
    out, ix = [], 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(itos[ix])
    names.append("".join(out))
log_likelihood, n = 0.0, 0
for w in words:
    cs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(cs, cs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
nll = -log_likelihood / n
'''


def test_bigram_character_model_runs_as_torch_code():
    first, second = {}, {}
    exec(compile(BIGRAM, "bigram", "exec"), first)
    exec(compile(BIGRAM, "bigram", "exec"), second)
    names = first["names"]
    assert len(names) == 20 and names == second["names"]  # the seeded Generator repeats the samples
    letters = set("".join(first["words"]))
    assert all(set(name) <= letters for name in names)
    P = first["P"].numpy()
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-6)
    # the average negative log-likelihood of the training bigrams, computed by hand
    N = first["N"].numpy() + 1
    probs = N / N.sum(1, keepdims=True)
    stoi = first["stoi"]
    pairs = [(stoi[a], stoi[b]) for w in first["words"] for a, b in zip("." + w, w + ".")]
    expected = -np.mean([np.log(probs[i, j]) for i, j in pairs])
    assert abs(float(first["nll"].item()) - expected) < 1e-5


# --- PyTorch's numbers for the same seed (values recorded from torch 2.13 on the CPU) ---


def test_seeded_draws_are_pytorchs_numbers():
    descend.manual_seed(42)  # the values every PyTorch tutorial prints after torch.manual_seed(42)
    assert descend.rand(5).tolist() == [0.8822692632675171, 0.9150039553642273, 0.38286375999450684,
                                        0.9593056440353394, 0.3904482126235962]
    descend.manual_seed(0)
    assert descend.randn(3).tolist() == [1.5409960746765137, -0.293428897857666, -2.1787893772125244]
    descend.manual_seed(0)  # 16 or more float32 normals: PyTorch's vectorised Box-Muller (AVX2 kernel)
    assert descend.randn(20).tolist()[:4] == [-1.1258398294448853, -1.152360200881958, -0.2505785822868347,
                                              -0.4338788092136383]
    descend.manual_seed(0)  # 17 float64 normals: the last 16 are redrawn, as PyTorch does
    tail = descend.randn(17, dtype=descend.float64).tolist()[-3:]
    assert tail == [-0.4484158047114511, -0.8910030351707375, 0.6748575435940039]
    descend.manual_seed(0)
    assert descend.randint(0, 10, (8,)).tolist() == [4, 9, 3, 0, 3, 9, 7, 3]
    descend.manual_seed(0)
    assert descend.randperm(10).tolist() == [4, 1, 7, 5, 3, 9, 0, 8, 6, 2]
    descend.manual_seed(0)
    drawn = descend.empty(3).exponential_().tolist()
    assert drawn == [3.508326292037964, 1.2303847074508667, 0.615044116973877]
    descend.manual_seed(0)
    assert descend.empty(3, dtype=descend.float64).normal_(1.0, 2.0).tolist() == [
        4.081992216488087, 0.41314218847810724, -3.357578764149115]


def test_seeded_sampling_and_initialisation_are_pytorchs():
    g = descend.Generator().manual_seed(2147483647)  # makemore's generator
    p = descend.rand(27, generator=g)
    p = p / p.sum()
    assert descend.multinomial(p, 5, replacement=True, generator=g).tolist() == [22, 16, 10, 18, 19]
    assert descend.multinomial(p, 1, generator=g).tolist() == [11]
    descend.manual_seed(0)
    layer = descend.nn.Linear(3, 2)  # kaiming_uniform_ weight and uniform bias, as PyTorch draws them
    assert layer.weight.tolist() == [[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
                                     [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971]]
    assert layer.bias.tolist() == [-0.011439144611358643, 0.45777493715286255]
    descend.manual_seed(0)
    assert descend.empty(10).bernoulli_(0.5).tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
