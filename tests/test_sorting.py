"""Sorting, selection, scans and counting: values as PyTorch documents them, gradients by gradcheck."""

import math

import numpy as np
import pytest

import descend

NAN = float("nan")


def t64(a, grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def rand(*shape, seed=0):
    return t64(np.random.default_rng(seed).normal(size=shape))


# --- scans ---


def test_cumsum_values_dtype_and_gradient():
    assert descend.tensor([1, 2, 3]).cumsum(0).tolist() == [1, 3, 6]
    assert descend.tensor([1, 2], dtype=descend.int32).cumsum(0).dtype == descend.int64
    assert descend.cumsum(descend.tensor([[1., 2.], [3., 4.]]), dim=1).tolist() == [[1., 3.], [3., 7.]]
    x = t64([1., 2., 3.])
    descend.cumsum(x, 0).backward(descend.tensor([1., 10., 100.], dtype=descend.float64))
    assert x.grad.tolist() == [111., 110., 100.]  # the reversed cumulative sum
    assert descend.gradcheck(lambda a: a.cumsum(1), (rand(3, 4),))


def test_cumsum_in_place():
    x = descend.tensor([1., 2., 3.])
    x.cumsum_(0)
    assert x.tolist() == [1., 3., 6.]


def test_cumprod_gradient_with_zeros():
    assert descend.tensor([1., 2., 3.]).cumprod(0).tolist() == [1., 2., 6.]
    x = t64([2., 0., 3., 0.5])
    descend.cumprod(x, 0).sum().backward()
    # d/dx_i sum_j prod_{k<=j} x_k, by hand: x0 -> 1 + 0 ..., x1 -> 2 + 2*3 + 2*3*0.5
    assert x.grad.tolist() == [1., 2 + 6 + 3, 0., 0.]
    assert descend.gradcheck(lambda a: a.cumprod(0), (t64([[2., 0.], [0., 3.], [4., 0.], [1.5, 2.]]),))
    assert descend.gradcheck(lambda a: a.cumprod(1), (rand(2, 5),))


def test_cummax_cummin_ties_take_latest_index_and_nan_sticks():
    r = descend.cummax(descend.tensor([1., 3., 3., NAN, 2., NAN]), 0)
    assert r.indices.tolist() == [0, 1, 2, 3, 3, 5]
    assert np.isnan(r.values.numpy()[3:]).all() and r.values.tolist()[:3] == [1., 3., 3.]
    r = descend.tensor([1., 3., 0., 0.]).cummin(0)
    assert r.values.tolist() == [1., 1., 0., 0.] and r.indices.tolist() == [0, 0, 2, 3]
    x = t64([1., 3., 2., 5.])
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1., 2., 0., 1.]  # each selected element gets every step it is selected
    assert descend.gradcheck(lambda a: a.cummin(1).values, (rand(3, 4),))


def test_logcumsumexp_stable_and_gradient():
    x = descend.tensor([1000., 1000., -math.inf])
    assert np.allclose(x.logcumsumexp(0).numpy(), [1000., 1000. + math.log(2), 1000. + math.log(2)])
    assert descend.gradcheck(lambda a: descend.logcumsumexp(a, dim=0), (rand(4, 3),))


def test_diff_orders_prepend_append_and_bool():
    assert descend.diff(descend.tensor([1, 3, 6, 10]), n=2).tolist() == [1, 1]
    d = descend.diff(descend.tensor([1., 3.]), prepend=descend.tensor([0.]), append=descend.tensor([5.]))
    assert d.tolist() == [1., 2., 2.]
    assert descend.diff(descend.tensor([True, False, False])).tolist() == [True, False]
    assert descend.gradcheck(lambda a: a.diff(dim=0), (rand(4, 2),))
    with pytest.raises(RuntimeError, match="order must be non-negative"):
        descend.diff(descend.tensor([1., 2.]), n=-1)


# --- sorting and selection ---


def test_sort_descending_stable_nan_and_namedtuple():
    x = descend.tensor([2., NAN, 1., 2., 0.])
    r = x.sort()
    assert r.indices.tolist() == [4, 2, 0, 3, 1] and np.isnan(r.values.numpy()[-1])
    r = descend.sort(x, descending=True, stable=True)
    assert r.indices.tolist() == [1, 0, 3, 2, 4]  # NaN first, equal 2s keep their order
    values, indices = descend.tensor([[3, 1], [0, 5]]).sort(dim=0)
    assert values.tolist() == [[0, 1], [3, 5]] and indices.tolist() == [[1, 0], [0, 1]]
    assert descend.tensor([3., 1., 2.]).argsort(descending=True).tolist() == [0, 2, 1]
    assert descend.msort(descend.tensor([[2., 1.], [1., 3.]])).tolist() == [[1., 1.], [2., 3.]]
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sort(dim=1)


def test_sort_gradient_scatters_to_indices():
    x = t64([3., 1., 2.])
    (x.sort().values * descend.tensor([1., 10., 100.], dtype=descend.float64)).sum().backward()
    assert x.grad.tolist() == [100., 1., 10.]
    assert x.sort().values.grad_fn.name() == "SortBackward0"
    assert descend.gradcheck(lambda a: a.sort(dim=0, descending=True).values, (rand(4, 3),))


def test_topk_largest_smallest_gradient_and_k_range():
    r = descend.tensor([1., 5., 3., 4.]).topk(2)
    assert r.values.tolist() == [5., 4.] and r.indices.tolist() == [1, 3]
    r = descend.topk(descend.tensor([1., 5., 3., 4.]), 3, largest=False)
    assert r.values.tolist() == [1., 3., 4.] and r.indices.tolist() == [0, 2, 3]
    assert descend.gradcheck(lambda a: a.topk(2, dim=0).values, (rand(5, 3),))
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        descend.tensor([1., 2.]).topk(3)


def test_kthvalue_values_keepdim_and_errors():
    r = descend.tensor([[3., 1., 2.], [0., 9., 4.]]).kthvalue(2, dim=1, keepdim=True)
    assert r.values.tolist() == [[2.], [4.]] and r.indices.tolist() == [[2], [2]]
    assert descend.gradcheck(lambda a: a.kthvalue(3, 0).values, (rand(5, 2),))
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        descend.tensor([1., 2.]).kthvalue(0)
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        descend.tensor([1., 2.]).kthvalue(3)


def test_median_lower_nan_and_gradients():
    assert descend.tensor([4., 1., 3., 2.]).median().item() == 2.  # the lower of the two middle ones
    assert np.isnan(descend.tensor([1., NAN, 2.]).median().item())
    r = descend.median(descend.tensor([[1., NAN, 2.], [5., 4., 3.]]), dim=1)
    assert np.isnan(r.values.tolist()[0]) and r.values.tolist()[1] == 4.
    assert r.indices.tolist() == [1, 1]  # a NaN slice reports its first NaN
    assert np.isnan(descend.median(descend.tensor([])).item())
    x = t64([2., 1., 2.])
    x.median().backward()
    assert x.grad.tolist() == [0.5, 0., 0.5]  # shared among the elements equal to the median
    assert descend.gradcheck(lambda a: a.median(dim=1).values, (rand(3, 5),))


def test_nanmedian_ignores_nan():
    assert descend.tensor([1., NAN, 3., 2.]).nanmedian().item() == 2.
    r = descend.nanmedian(descend.tensor([[NAN, NAN], [1., NAN]]), dim=1)
    assert np.isnan(r.values.tolist()[0]) and r.values.tolist()[1] == 1. and r.indices.tolist() == [0, 0]


def test_mode_smallest_most_frequent_last_index():
    r = descend.tensor([2, 1, 1, 2, 3]).mode()
    assert r.values.item() == 1 and r.indices.item() == 2
    r = descend.mode(descend.tensor([[3, 1, 2], [1, 1, 0]]), 0)
    assert r.values.tolist() == [1, 1, 0] and r.indices.tolist() == [1, 1, 1]


# --- uniqueness and counting ---


def test_unique_inverse_counts_dim_and_nan():
    u, inv, cnt = descend.unique(descend.tensor([3, 1, 2, 3, 1]), return_inverse=True, return_counts=True)
    assert u.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 1, 2, 0] and cnt.tolist() == [2, 1, 2]
    assert len(descend.unique(descend.tensor([NAN, 1., NAN])).tolist()) == 3  # NaNs are not merged
    rows = descend.tensor([[1, 2], [1, 2], [0, 5]])
    u, inv, cnt = rows.unique(dim=0, return_inverse=True, return_counts=True)
    assert u.tolist() == [[0, 5], [1, 2]] and inv.tolist() == [1, 1, 0] and cnt.tolist() == [1, 2]
    u, inv, cnt = descend.unique_consecutive(descend.tensor([1, 1, 2, 2, 3, 1, 1]),
                                             return_inverse=True, return_counts=True)
    assert u.tolist() == [1, 2, 3, 1] and inv.tolist() == [0, 0, 1, 1, 2, 3, 3]
    assert cnt.tolist() == [2, 2, 1, 2]


def test_bincount_weights_minlength_and_errors():
    assert descend.bincount(descend.tensor([1, 1, 3]), minlength=6).tolist() == [0, 2, 0, 1, 0, 0]
    w = descend.bincount(descend.tensor([1, 1, 3]), weights=descend.tensor([1., 2., .5]))
    assert w.tolist() == [0., 3., 0., .5] and w.dtype == descend.float32
    assert descend.bincount(descend.tensor([0]), descend.tensor([2])).dtype == descend.float64
    with pytest.raises(RuntimeError, match="1-d non-negative integral"):
        descend.bincount(descend.tensor([-1]))
    with pytest.raises(RuntimeError, match="same length as input"):
        descend.bincount(descend.tensor([1, 2]), weights=descend.tensor([1.]))
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        descend.bincount(descend.tensor([1]), minlength=-1)


def test_histc_range_from_data_or_given():
    assert descend.histc(descend.tensor([1., 2., 1.]), bins=4, min=0, max=3).tolist() == [0., 2., 1., 0.]
    assert descend.tensor([1., 2., 1., 5.]).histc(bins=4).tolist() == [2., 1., 0., 1.]


def test_searchsorted_and_bucketize():
    s = descend.tensor([1, 3, 5, 7])
    assert descend.searchsorted(s, descend.tensor([3, 6, 9])).tolist() == [1, 3, 4]
    assert descend.searchsorted(s, descend.tensor([3, 6, 9]), right=True).tolist() == [2, 3, 4]
    assert descend.searchsorted(s, 5).item() == 2
    seqs = descend.tensor([[1, 3, 5, 7], [2, 4, 6, 8]])
    rows = descend.searchsorted(seqs, descend.tensor([[3, 6], [1, 9]]))
    assert rows.tolist() == [[1, 3], [0, 4]]
    assert descend.searchsorted(descend.tensor([5, 1, 3]), descend.tensor([3, 6, 0]),
                                sorter=descend.tensor([1, 2, 0])).tolist() == [1, 3, 0]
    assert descend.bucketize(descend.tensor([3, 6, 9]), s, right=True).tolist() == [2, 3, 4]
    assert descend.bucketize(descend.tensor([3]), s, out_int32=True).dtype == descend.int32
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        descend.searchsorted(s, descend.tensor([3]), side="left", right=True)


# --- grids ---


def test_meshgrid_ij_xy_cartesian_prod_and_gradient():
    a, b = descend.tensor([1, 2]), descend.tensor([3, 4, 5])
    xs, ys = descend.meshgrid(a, b, indexing="ij")
    assert xs.tolist() == [[1, 1, 1], [2, 2, 2]] and ys.tolist() == [[3, 4, 5], [3, 4, 5]]
    xs, ys = descend.meshgrid(a, b, indexing="xy")
    assert xs.shape == (3, 2) and xs.tolist() == [[1, 2], [1, 2], [1, 2]]
    assert descend.cartesian_prod(a, b).tolist() == [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]]
    p = t64([1., 2.])
    descend.meshgrid(p, t64([0., 0., 0.], grad=False), indexing="ij")[0].sum().backward()
    assert p.grad.tolist() == [3., 3.]
    with pytest.raises(ValueError, match="indexing must be one of"):
        descend.meshgrid(a, b, indexing="yx")
