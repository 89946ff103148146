"""descend.data: datasets, the DataLoader's three ways of sampling, random_split, synthetic sets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descend
from descend.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    blobs,
    linear,
    moons,
    random_split,
    speed,
    spirals,
)


def make_dataset(n=10):
    """x[i] = (i, 10 i), y[i] = i: every batch tells which samples it holds."""
    idx = np.arange(n)
    x = descend.from_numpy(np.stack([idx, 10 * idx], axis=1).astype(np.float32))
    y = descend.from_numpy(idx.astype(np.int64))
    return TensorDataset(x, y)


def epoch_labels(loader):
    return [yb.numpy().tolist() for _, yb in loader]


class Squares(Dataset):
    """A plain Dataset (no vectorised path): samples are Python numbers."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return float(i), i * i


# --- TensorDataset ---


def test_tensor_dataset_items_and_tensors():
    ds = make_dataset(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert x.numpy().tolist() == [3.0, 30.0] and y.item() == 3
    assert x.dtype == descend.float32 and y.dtype == descend.int64
    assert len(ds.tensors) == 2 and ds.tensors[1].shape == (5,)


def test_tensor_dataset_item_is_a_copy():
    ds = make_dataset(3)
    x, _ = ds[0]
    x._data[:] = 99.0
    assert ds.tensors[0].numpy()[0].tolist() == [0.0, 0.0]


def test_tensor_dataset_length_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"Size mismatch.*\[4, 3\]"):
        TensorDataset(descend.zeros(4, 2), descend.zeros(3))


def test_tensor_dataset_bad_arguments():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="expects Tensors, got ndarray at position 1"):
        TensorDataset(descend.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(descend.tensor(1.0))


# --- DataLoader: batch, stochastic and mini-batch ---


@pytest.mark.parametrize("batch_size, expected", [(None, [10]), (1, [1] * 10), (3, [3, 3, 3, 1]), (10, [10])])
def test_each_sample_once_per_epoch_in_order(batch_size, expected):
    loader = DataLoader(make_dataset(10), batch_size=batch_size)
    batches = list(loader)
    assert [len(yb.numpy()) for _, yb in batches] == expected
    assert len(loader) == len(expected)
    xs = np.concatenate([xb.numpy() for xb, _ in batches])
    np.testing.assert_array_equal(xs[:, 1], 10 * np.arange(10))
    assert all(xb.dtype == descend.float32 and yb.dtype == descend.int64 for xb, yb in batches)
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)


@pytest.mark.parametrize("batch_size", [None, 1, 3, 4])
def test_shuffled_epoch_is_a_permutation(batch_size):
    loader = DataLoader(make_dataset(10), batch_size=batch_size, shuffle=True, seed=0)
    for _ in range(3):
        batches = list(loader)
        labels = np.concatenate([yb.numpy() for _, yb in batches])
        assert sorted(labels.tolist()) == list(range(10))
        for xb, yb in batches:  # x and y stay paired after shuffling
            np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    batch_size=st.one_of(st.none(), st.integers(1, 45)),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_every_sample_at_most_once_and_len_matches(n, batch_size, shuffle, drop_last, seed):
    ds = make_dataset(n)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = epoch_labels(loader)
    assert len(batches) == len(loader)
    seen = sum(batches, [])
    assert len(seen) == len(set(seen))
    size = n if batch_size is None else batch_size
    dropped = n % size if (drop_last and size) else 0
    assert len(seen) == n - dropped
    assert all(len(b) == size for b in batches[:-1] if size)
    if not shuffle:
        assert seen == list(range(n - dropped))


def test_batch_shapes():
    x = descend.randn(7, 3, 2)
    y = descend.randn(7, 1)
    shapes = [(tuple(xb.shape), tuple(yb.shape)) for xb, yb in DataLoader(TensorDataset(x, y), batch_size=5)]
    assert shapes == [((5, 3, 2), (5, 1)), ((2, 3, 2), (2, 1))]


def test_drop_last():
    loader = DataLoader(make_dataset(10), batch_size=3, drop_last=True)
    assert len(loader) == 3
    assert epoch_labels(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    shuffled = DataLoader(make_dataset(10), batch_size=3, drop_last=True, shuffle=True, seed=1)
    sizes = [len(b) for b in epoch_labels(shuffled)]
    assert sizes == [3, 3, 3]
    # Larger than the dataset: no batch at all, and that is fine.
    empty = DataLoader(make_dataset(10), batch_size=11, drop_last=True)
    assert len(empty) == 0 and list(empty) == []
    # Exactly divisible: nothing dropped.
    assert len(DataLoader(make_dataset(9), batch_size=3, drop_last=True)) == 3


def test_shuffle_reproducible_by_seed_and_different_across_epochs():
    a = DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=123)
    b = DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=123)
    run_a = [epoch_labels(a) for _ in range(3)]
    run_b = [epoch_labels(b) for _ in range(3)]
    assert run_a == run_b
    assert run_a[0] != run_a[1] and run_a[1] != run_a[2]
    assert run_a[0] != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19]]
    c = DataLoader(make_dataset(20), batch_size=4, shuffle=True, seed=124)
    assert epoch_labels(c) != run_a[0]


def test_set_epoch_replays_an_epoch():
    loader = DataLoader(make_dataset(20), batch_size=5, shuffle=True, seed=7)
    epochs = [epoch_labels(loader) for _ in range(3)]
    loader.set_epoch(1)
    assert epoch_labels(loader) == epochs[1]


def test_shuffle_without_seed_follows_manual_seed():
    ds = make_dataset(20)
    descend.manual_seed(5)
    first = epoch_labels(DataLoader(ds, batch_size=20, shuffle=True))
    descend.manual_seed(5)
    again = epoch_labels(DataLoader(ds, batch_size=20, shuffle=True))
    assert first == again


def test_shuffle_with_generator():
    ds = make_dataset(12)
    one = DataLoader(ds, batch_size=12, shuffle=True, generator=np.random.default_rng(3))
    two = DataLoader(ds, batch_size=12, shuffle=True, generator=np.random.default_rng(3))
    assert [epoch_labels(one) for _ in range(2)] == [epoch_labels(two) for _ in range(2)]


def test_batches_do_not_alias_the_dataset():
    ds = make_dataset(6)
    for xb, _ in DataLoader(ds, batch_size=3):
        xb._data[:] = -1.0
    for xb, _ in DataLoader(ds, batch_size=3, shuffle=True, seed=0):
        xb._data[:] = -1.0
    np.testing.assert_array_equal(ds.tensors[0].numpy()[:, 0], np.arange(6))


def test_tensor_dataset_never_calls_getitem(monkeypatch):
    ds = make_dataset(8)

    def forbidden(self, index):
        raise AssertionError("per-sample __getitem__ used by the DataLoader")

    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    assert sum(len(b) for b in epoch_labels(DataLoader(ds, batch_size=3, shuffle=True, seed=0))) == 8
    sub = Subset(ds, [1, 3, 5])
    assert epoch_labels(DataLoader(sub, batch_size=2)) == [[1, 3], [5]]


def test_plain_dataset_is_collated():
    batches = list(DataLoader(Squares(5), batch_size=2))
    assert len(batches) == 3
    x, y = batches[0]
    # PyTorch's default_collate: Python floats become float64, ints int64.
    assert x.dtype == descend.float64 and y.dtype == descend.int64
    assert x.numpy().tolist() == [0.0, 1.0] and y.numpy().tolist() == [0, 1]
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1], [4, 9], [16]]


def test_subclass_with_own_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    ds = Doubled(*make_dataset(4).tensors)
    (xb, yb), = list(DataLoader(ds, batch_size=None))
    np.testing.assert_array_equal(xb.numpy()[:, 0], [0, 2, 4, 6])


def test_collate_dicts_and_tensor_samples():
    class Pairs(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": descend.full((2,), float(i)), "y": i}

    (batch,) = list(DataLoader(Pairs(), batch_size=3))
    assert batch["x"].shape == (3, 2) and batch["y"].numpy().tolist() == [0, 1, 2]


def test_abstract_dataset_errors():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int or None, got 0"),
        ({"batch_size": -2}, ValueError, "got -2"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be a positive int or None, got float"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
        ({"drop_last": 2}, TypeError, "drop_last must be True or False, got 2"),
        ({"drop_last": None}, TypeError, "drop_last must be True or False, got None"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"seed": -1}, ValueError, "seed must be non-negative"),
        ({"generator": 3}, TypeError, "generator must be a descend.Generator or a numpy.random.Generator"),
        ({"seed": 1, "generator": np.random.default_rng(0)}, ValueError, "not both"),
    ],
)
def test_loader_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(make_dataset(4), **kwargs)


def test_loader_needs_a_dataset_or_sequence():
    with pytest.raises(TypeError, match=r"DataLoader expects a Dataset \(or a sequence.*got int"):
        DataLoader(5, batch_size=2)


def test_empty_dataset():
    ds = TensorDataset(descend.zeros(0, 2))
    for bs in (None, 1, 4):
        loader = DataLoader(ds, batch_size=bs, shuffle=True, seed=0)
        assert len(loader) == 0 and list(loader) == []


# --- random_split ---


def test_random_split_lengths_disjoint_and_complete():
    ds = make_dataset(10)
    parts = random_split(ds, [6, 3, 1], seed=0)
    assert [len(p) for p in parts] == [6, 3, 1]
    labels = [yb.numpy().tolist() for p in parts for _, yb in DataLoader(p, batch_size=None)]
    assert sorted(sum(labels, [])) == list(range(10))
    assert all(isinstance(p, Subset) and p.dataset is ds for p in parts)


def test_random_split_fractions_round_robin_remainder():
    # floor(11 * [0.5, 0.3, 0.2]) = [5, 3, 2]; the one left over goes to the first split.
    assert [len(p) for p in random_split(make_dataset(11), [0.5, 0.3, 0.2], seed=0)] == [6, 3, 2]
    # floor(10 * 1/3) = 3 each; the one left over goes round-robin from the first split.
    assert [len(p) for p in random_split(make_dataset(10), [1 / 3, 1 / 3, 1 / 3], seed=0)] == [4, 3, 3]
    # PyTorch's example: floor(5 * [0.3, 0.3, 0.4]) = [1, 1, 2] -> [2, 1, 2]
    assert [len(p) for p in random_split(make_dataset(5), [0.3, 0.3, 0.4], seed=0)] == [2, 1, 2]


def test_random_split_reproducible_by_seed():
    def indices(seed):
        return [p.indices.tolist() for p in random_split(make_dataset(20), [0.5, 0.5], seed=seed)]

    assert indices(3) == indices(3)
    assert indices(3) != indices(4)
    # PyTorch's idiom: random_split(ds, lengths, generator=torch.manual_seed(42))
    with_generator = random_split(make_dataset(20), [0.5, 0.5], generator=np.random.default_rng(3))
    assert [p.indices.tolist() for p in with_generator] == indices(3)
    with pytest.raises(ValueError, match="not both"):
        random_split(make_dataset(20), [10, 10], seed=1, generator=np.random.default_rng(1))


def test_random_split_empty_split_warns():
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(make_dataset(2), [0.9, 0.1], seed=0)


def test_random_split_errors():
    ds = make_dataset(10)
    with pytest.raises(ValueError, match="sum of lengths .* is 9, but the dataset has 10 samples"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        random_split(ds, [0.5, 0.2])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [12, -2])
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        random_split(ds, [5, 0.5])
    with pytest.raises(TypeError, match="all ints or all fractions"):
        random_split(ds, ["5", 5])
    with pytest.raises(TypeError, match="random_split expects a Dataset"):
        random_split(5, [2, 3])


def test_subset_of_subset_batches_vectorised():
    ds = make_dataset(10)
    inner = Subset(ds, [9, 8, 7, 6, 5])
    outer = Subset(inner, [4, 0])
    assert epoch_labels(DataLoader(outer, batch_size=None)) == [[5, 9]]
    assert outer[1][1].item() == 9
    with pytest.raises(IndexError, match="Subset indices"):
        Subset(ds, [10])


# --- synthetic data ---


def test_linear_is_y_equals_4x():
    x, y = linear(n=50)
    assert x.shape == (50, 1) and y.shape == (50, 1)
    assert x.dtype == descend.float32 and y.dtype == descend.float32
    np.testing.assert_allclose(y.numpy(), 4 * x.numpy(), rtol=1e-6)
    assert -1 <= x.numpy().min() and x.numpy().max() <= 1


def test_linear_with_noise_fits_the_slope():
    x, y = linear(n=2000, w=4.0, b=1.0, noise=0.1, seed=1)
    slope, intercept = np.polyfit(x.numpy()[:, 0], y.numpy()[:, 0], 1)
    assert abs(slope - 4.0) < 0.02 and abs(intercept - 1.0) < 0.02
    residual = y.numpy() - (4 * x.numpy() + 1)
    assert abs(residual.std() - 0.1) < 0.01


def test_speed_is_the_tutorial_quadratic():
    time, s = speed(seed=0)
    np.testing.assert_array_equal(time.numpy(), np.arange(20, dtype=np.float32))
    assert time.dtype == descend.float32 and s.dtype == descend.float32 and s.shape == (20,)
    # What is left after the quadratic is the standard normal noise.
    noise = s.numpy() - (0.5 * (time.numpy() - 9.5) ** 2 + 1)
    expected = np.random.default_rng(0).standard_normal(20)
    np.testing.assert_allclose(noise, expected, atol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: linear(30, noise=0.5, seed=seed),
        lambda seed: speed(seed=seed),
        lambda seed: spirals(20, seed=seed),
        lambda seed: blobs(30, seed=seed),
        lambda seed: moons(30, seed=seed),
    ],
)
def test_synthetic_deterministic_by_seed(make):
    a, b, c = make(1), make(1), make(2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert any(not np.array_equal(u.numpy(), v.numpy()) for u, v in zip(a, c))


def test_synthetic_seed_none_follows_manual_seed():
    descend.manual_seed(11)
    a = spirals(10, seed=None)[0].numpy()
    descend.manual_seed(11)
    b = spirals(10, seed=None)[0].numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make, n, k",
    [(lambda: spirals(40, classes=4), 160, 4), (lambda: blobs(31), 31, 3), (lambda: moons(31), 31, 2)],
)
def test_classification_sets_shapes_and_dtypes(make, n, k):
    x, y = make()
    assert x.shape == (n, 2) and y.shape == (n,)
    assert x.dtype == descend.float32 and y.dtype == descend.int64
    assert sorted(set(y.numpy().tolist())) == list(range(k))


def test_spirals_geometry():
    x, y = spirals(100, classes=3, noise=0.0)
    r = np.linalg.norm(x.numpy(), axis=1)
    # each arm's radius runs linearly from 0 to 1
    for j in range(3):
        np.testing.assert_allclose(r[y.numpy() == j], np.linspace(0, 1, 100), atol=1e-6)
    # arm j's last point sits at angle 4(j+1) (x = r sin t, y = r cos t)
    last = x.numpy()[99]
    np.testing.assert_allclose(last, [np.sin(4.0), np.cos(4.0)], atol=1e-6)


def test_blobs_centres_and_spread():
    x, y = blobs(3000, centers=3, std=0.5, seed=0)
    angles = 2 * np.pi * np.arange(3) / 3
    centres = 5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    for j in range(3):
        pts = x.numpy()[y.numpy() == j]
        assert len(pts) == 1000
        np.testing.assert_allclose(pts.mean(axis=0), centres[j], atol=0.05)
        np.testing.assert_allclose(pts.std(axis=0), [0.5, 0.5], atol=0.05)


def test_blobs_explicit_centres_and_uneven_counts():
    x, y = blobs(7, centers=[[0.0, 0.0], [10.0, 10.0]], std=0.0)
    assert y.numpy().tolist() == [0, 0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(x.numpy()[4:], 10.0)
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        blobs(10, centers=[1.0, 2.0])


def test_moons_geometry():
    x, y = moons(100, noise=0.0)
    upper, lower = x.numpy()[y.numpy() == 0], x.numpy()[y.numpy() == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 0.5 + 1e-6).all()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: linear(0), ValueError, "n must be at least 1"),
        (lambda: linear(2.5), TypeError, "n must be an int"),
        (lambda: spirals(10, noise=-1), ValueError, "noise must be a finite number >= 0"),
        (lambda: blobs(10, std=float("nan")), ValueError, "std must be"),
        (lambda: moons(1), ValueError, "n must be at least 2"),
        (lambda: speed(seed="x"), TypeError, "seed must be"),
    ],
)
def test_synthetic_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mini_batch_sgd_on_linear_learns_w_4():
    """The three sampling schemes on y = 4x, with plain NumPy updates: all reach w = 4."""
    x, y = linear(n=32, seed=0)
    for batch_size, lr, epochs in ((None, 0.5, 100), (1, 0.1, 10), (8, 0.3, 30)):
        w = 0.0
        for _ in range(epochs):
            for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=0):
                xv, yv = xb.numpy()[:, 0], yb.numpy()[:, 0]
                w -= lr * np.mean(2 * (w * xv - yv) * xv)
        assert abs(w - 4.0) < 1e-3, batch_size



# --- torch.utils.data: the module import, collation, samplers, workers ---

import collections  # noqa: E402

from descend.utils.data import (  # noqa: E402
    BatchSampler,
    ConcatDataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
)
from descend.utils.data import DataLoader as TorchStyleLoader  # noqa: E402

Point = collections.namedtuple("Point", "x y")


def test_utils_data_is_a_module_with_descend_data_names():
    import descend.utils.data as tud

    assert tud.DataLoader is DataLoader and tud.TensorDataset is TensorDataset
    assert TorchStyleLoader is DataLoader and tud.random_split is random_split


def test_default_collate_follows_pytorch():
    batch = default_collate([(1, 2.5, True, "a"), (2, 3.5, False, "b")])
    assert isinstance(batch, list) and len(batch) == 4  # a batch of tuples is a list of fields
    ints, floats, bools, strs = batch
    assert ints.dtype == descend.int64 and ints.tolist() == [1, 2]
    assert floats.dtype == descend.float64 and floats.tolist() == [2.5, 3.5]
    assert bools.dtype == descend.bool and bools.tolist() == [True, False]
    assert strs == ["a", "b"]
    arrays = default_collate([np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)])
    assert arrays.shape == (2, 2, 2) and arrays.dtype == descend.float32
    scalars = default_collate([np.int32(1), np.int32(2)])
    assert scalars.dtype == descend.int32 and scalars.tolist() == [1, 2]
    nested = default_collate([{"a": [1, (2.0, "x")]}, {"a": [3, (4.0, "y")]}])
    assert nested["a"][0].tolist() == [1, 3] and nested["a"][1][0].tolist() == [2.0, 4.0]
    assert nested["a"][1][1] == ["x", "y"]
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.tolist() == [2.0, 4.0]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([descend.zeros(2), descend.zeros(3)])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists"):
        default_collate([object(), object()])


def test_loader_over_plain_sequences():
    pairs = [(descend.full((2,), float(i)), i) for i in range(5)]
    (x, y), *_ = list(DataLoader(pairs, batch_size=4))
    assert x.shape == (4, 2) and y.tolist() == [0, 1, 2, 3]
    assert [b.tolist() for b in DataLoader(range(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert list(DataLoader(["ab", "cd", "ef"], batch_size=2)) == [["ab", "cd"], ["ef"]]
    records = [{"id": i, "name": f"n{i}"} for i in range(3)]
    (batch,) = list(DataLoader(records, batch_size=3))
    assert batch["id"].tolist() == [0, 1, 2] and batch["name"] == ["n0", "n1", "n2"]
    (pts,) = list(DataLoader([Point(i, 2 * i) for i in range(3)], batch_size=3))
    assert isinstance(pts, Point) and pts.y.tolist() == [0, 2, 4]
    assert len(DataLoader(range(10), batch_size=3, drop_last=True)) == 3


def test_collate_fn_sampler_and_batch_sampler():
    doubled = DataLoader(list(range(6)), batch_size=4, collate_fn=lambda s: [2 * v for v in s])
    assert list(doubled) == [[0, 2, 4, 6], [8, 10]]

    class Backwards(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    loader = DataLoader(make_dataset(5), batch_size=2, sampler=Backwards(5))
    assert epoch_labels(loader) == [[4, 3], [2, 1], [0]] and len(loader) == 3
    loader = DataLoader(make_dataset(6), batch_sampler=[[5, 0], [1, 2, 3]])
    assert epoch_labels(loader) == [[5, 0], [1, 2, 3]] and len(loader) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sampler": [0, 1], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
        ({"num_workers": -1}, "num_workers option should be non-negative"),
        ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
        ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
        ({"timeout": -1}, "timeout option should be non-negative"),
    ],
)
def test_loader_option_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(make_dataset(4), **kwargs)


def test_pin_memory_is_accepted_as_a_no_op():
    loader = DataLoader(make_dataset(4), batch_size=2, pin_memory=True)
    assert epoch_labels(loader) == [[0, 1], [2, 3]]


def test_samplers():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    g = descend.Generator().manual_seed(0)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    assert list(RandomSampler(range(10), generator=descend.Generator().manual_seed(0))) == perm
    many = list(RandomSampler(range(3), num_samples=7, generator=g))
    assert len(many) == 7 and sorted(many[:6]) == [0, 0, 1, 1, 2, 2]  # whole permutations first
    drawn = list(RandomSampler(range(4), replacement=True, num_samples=50, generator=g))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2, 3}
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, drop_last=False)) == 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got .*=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got .*=0"):
        BatchSampler(range(3), 0, False)


def test_weighted_random_sampler_follows_the_weights():
    g = descend.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([1.0, 3.0, 0.0, 4.0], 8000, generator=g))
    freq = np.bincount(draws, minlength=4) / 8000
    np.testing.assert_allclose(freq, [0.125, 0.375, 0.0, 0.5], atol=0.02)
    unique = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        list(WeightedRandomSampler([1.0, 1.0], 3, replacement=False))


def test_concat_dataset():
    ds = ConcatDataset([make_dataset(3), make_dataset(2)])
    assert len(ds) == 5 and ds.cumulative_sizes == [3, 5]
    assert ds[3][1].item() == 0 and ds[-1][1].item() == 1
    assert epoch_labels(DataLoader(ds, batch_size=4)) == [[0, 1, 2, 0], [1]]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])


class Stream(IterableDataset):
    """0..n-1, split between workers the way PyTorch's documentation shows."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_in_the_main_process():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)


def test_random_split_with_a_descend_generator():
    one = random_split(range(10), [0.7, 0.3], generator=descend.Generator().manual_seed(42))
    two = random_split(range(10), [0.7, 0.3], generator=descend.Generator().manual_seed(42))
    assert [len(p) for p in one] == [7, 3]
    assert [p.indices.tolist() for p in one] == [p.indices.tolist() for p in two]
    assert sorted(one[0].indices.tolist() + one[1].indices.tolist()) == list(range(10))


# --- worker processes ---


class Tagged(Dataset):
    """Sample i is (i, the id and seed of the worker that loaded it; -1 in the main process)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return i, -1 if info is None else info.id, -1 if info is None else info.seed


def test_workers_give_the_same_batches_as_the_main_process():
    ds = make_dataset(23)
    main = [(x.numpy(), y.numpy()) for x, y in
            DataLoader(ds, batch_size=4, shuffle=True, generator=descend.Generator().manual_seed(3))]
    workers = [(x.numpy(), y.numpy()) for x, y in
               DataLoader(ds, batch_size=4, shuffle=True, generator=descend.Generator().manual_seed(3),
                          num_workers=2, prefetch_factor=1)]
    assert len(main) == len(workers) == 6
    for (xa, ya), (xb, yb) in zip(main, workers):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    seeded = DataLoader(ds, batch_size=5, shuffle=True, seed=1, num_workers=3)
    assert epoch_labels(seeded) == epoch_labels(DataLoader(ds, batch_size=5, shuffle=True, seed=1))


def test_workers_are_seeded_base_seed_plus_id_and_batches_come_in_order():
    loader = DataLoader(Tagged(), batch_size=2, num_workers=3)
    batches = list(loader)
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    ids = [b[1].tolist()[0] for b in batches]
    assert ids == [0, 1, 2, 0, 1, 2]  # batches are handed out round-robin
    seeds = {wid: b[2].tolist()[0] for wid, b in zip(ids, batches)}
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2
    again = [b[2].tolist()[0] for b in DataLoader(Tagged(), batch_size=2, num_workers=3, seed=5)]
    assert again == [b[2].tolist()[0] for b in DataLoader(Tagged(), batch_size=2, num_workers=3, seed=5)]


def test_worker_init_fn_runs_in_each_worker():
    class Probe(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return descend.random.initial_seed()

    def init_fn(worker_id):
        descend.manual_seed(1000 + worker_id)

    seeds = [b.tolist() for b in DataLoader(Probe(), batch_size=2, num_workers=2, worker_init_fn=init_fn)]
    assert seeds == [[1000, 1000], [1001, 1001]]


def test_worker_exception_is_raised_in_the_main_process_with_the_worker_id():
    class Broken(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 3:
                raise KeyError(f"sample {i} is missing")
            return i

    loader = DataLoader(Broken(), batch_size=1, num_workers=2)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        list(loader)


def test_iterable_dataset_sharded_between_workers():
    batches = [b.tolist() for b in DataLoader(Stream(10), batch_size=3, num_workers=2)]
    assert batches == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]  # PyTorch's order for this sharding


def test_persistent_workers_serve_several_epochs():
    loader = DataLoader(Tagged(), batch_size=4, num_workers=2, persistent_workers=True)
    first = [b[0].tolist() for b in loader]
    seeds_first = [b[2].tolist()[0] for b in loader]
    seeds_second = [b[2].tolist()[0] for b in loader]
    assert first == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert seeds_first == seeds_second  # the same processes, seeded once
    loader._pool.shutdown()


def test_shuffling_and_splits_are_pytorchs_for_the_same_seed():
    # recorded from torch 2.13: torch.manual_seed(0), then DataLoader(shuffle=True) over 10 samples
    from descend.data import DataLoader, RandomSampler, TensorDataset, random_split

    descend.manual_seed(0)
    loader = DataLoader(TensorDataset(descend.arange(10)), batch_size=4, shuffle=True)
    assert [b[0].tolist() for b in loader] == [[6, 7, 1, 4], [2, 0, 9, 8], [3, 5]]
    g = descend.Generator().manual_seed(3)  # a shared generator also moves on by PyTorch's extra randperm
    shared = DataLoader(TensorDataset(descend.arange(12)), batch_size=4, shuffle=True, generator=g)
    epochs = [[b[0].tolist() for b in shared] for _ in range(2)]
    assert epochs == [[[1, 4, 2, 6], [0, 9, 7, 11], [10, 5, 3, 8]],
                      [[5, 3, 6, 11], [2, 4, 10, 0], [1, 8, 9, 7]]]
    descend.manual_seed(0)
    train, valid = random_split(range(10), [0.7, 0.3])
    assert list(train.indices) == [4, 1, 7, 5, 3, 9, 0] and list(valid.indices) == [8, 6, 2]
    descend.manual_seed(1)
    assert len(list(RandomSampler(range(10), replacement=True, num_samples=40))) == 40
