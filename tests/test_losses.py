"""Losses: values against NumPy transcriptions of PyTorch's documented formulas, gradients by finite
differences for every reduction, stability at extreme inputs, and the bad-input errors."""

import math

import numpy as np
import pytest

import descend
import descend.nn as nn
import descend.nn.functional as F
from descend import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def t64(a, requires_grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), dtype=descend.float64, requires_grad=requires_grad)


def reduce(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def log_softmax(a, axis=1):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- regression losses ---

REGRESSION = [
    ("mse_loss", nn.MSELoss, lambda d: d**2, {}),
    ("l1_loss", nn.L1Loss, np.abs, {}),
    ("huber_loss", nn.HuberLoss, lambda d: np.where(np.abs(d) < 1.0, 0.5 * d**2, np.abs(d) - 0.5), {}),
    ("huber_loss", nn.HuberLoss,
     lambda d: np.where(np.abs(d) < 0.3, 0.5 * d**2, 0.3 * (np.abs(d) - 0.15)), {"delta": 0.3}),
]


@pytest.mark.parametrize("name,module,formula,kwargs", REGRESSION)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_loss_value_and_gradient(rng, name, module, formula, kwargs, reduction):
    a, b = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3)) * 2
    x, y = t64(a), t64(b)
    fn = getattr(F, name)
    expected = reduce(formula(a - b), reduction)
    np.testing.assert_allclose(fn(x, y, reduction=reduction, **kwargs)._data, expected, rtol=1e-12)
    np.testing.assert_allclose(module(reduction=reduction, **kwargs)(x, y)._data, expected, rtol=1e-12)
    assert gradcheck(lambda x, y: fn(x, y, reduction=reduction, **kwargs), (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_rmse_loss_value_and_gradient(rng, reduction):
    a, b = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    x, y = t64(a), t64(b)
    d2 = (a - b) ** 2
    expected = {"mean": np.sqrt(d2.mean()), "sum": np.sqrt(d2.sum()), "none": np.sqrt(d2)}[reduction]
    np.testing.assert_allclose(F.rmse_loss(x, y, reduction=reduction)._data, expected, rtol=1e-12)
    np.testing.assert_allclose(nn.RMSELoss(reduction)(x, y)._data, expected, rtol=1e-12)
    assert gradcheck(lambda x, y: F.rmse_loss(x, y, reduction=reduction), (x, y))


def test_rmse_tutorial_value_and_zero_error_gradient():
    # RMSE = sqrt(sum((yhat - y)^2) / N) from the tutorial: errors 0 and 2 give sqrt(2).
    value = F.rmse_loss(descend.tensor([1.0, 3.0]), descend.tensor([1.0, 1.0])).item()
    assert value == pytest.approx(math.sqrt(2))
    x = descend.tensor([1.0, 2.0], requires_grad=True)
    loss = F.rmse_loss(x, descend.tensor([1.0, 2.0]))
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])  # the minimum, not 0/0


def test_mse_tutorial_numbers():
    w = descend.tensor([2.0], requires_grad=True)
    loss = nn.MSELoss()(w * descend.tensor([1.0]), descend.tensor([4.0]))
    assert loss.grad_fn.name() == "MseLossBackward0"
    loss.backward()
    assert loss.item() == 4.0
    assert w.grad.item() == -4.0


def test_huber_loss_hand_value():
    # d = 0.5 -> 0.125 (quadratic); d = 3 -> 3 - 0.5 = 2.5 (linear); mean 1.3125
    value = F.huber_loss(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0])).item()
    assert value == pytest.approx(1.3125)


def test_huber_loss_rejects_non_positive_delta():
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        nn.HuberLoss(delta=0.0)


def test_loss_keeps_float32_and_integer_targets_follow_input():
    out = F.mse_loss(descend.tensor([1.0, 2.0]), descend.tensor([1, 4]))
    assert out.dtype == descend.float32
    assert out.item() == pytest.approx(2.0)


@pytest.mark.parametrize("factory", [nn.MSELoss, nn.L1Loss, nn.RMSELoss, nn.HuberLoss, nn.BCELoss,
                                     nn.BCEWithLogitsLoss, nn.CrossEntropyLoss, nn.NLLLoss])
def test_invalid_reduction_is_a_value_error(factory):
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        factory(reduction="avg")


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.rmse_loss, F.huber_loss])
def test_invalid_reduction_in_functions(fn):
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        fn(descend.ones(2), descend.ones(2), reduction="batchmean")


def test_broadcasting_target_warns_like_pytorch():
    pred, target = descend.ones(4, 1), descend.zeros(4)
    expected = r"Using a target size \(4,\) that is different to the input size \(4, 1\)"
    with pytest.warns(UserWarning, match=expected):
        loss = nn.MSELoss(reduction="none")(pred, target)
    assert loss.shape == (4, 4)  # the broadcast that the warning is about


def test_non_broadcastable_shapes_name_both():
    with pytest.raises(ValueError, match=r"input of shape \(3,\) and the target of shape \(4,\)"):
        F.l1_loss(descend.ones(3), descend.ones(4))


def test_empty_input_mean_is_nan_without_warnings():
    out = F.mse_loss(descend.zeros(0), descend.zeros(0))
    assert math.isnan(out.item())


# --- binary cross-entropy ---


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_bce_value_and_gradient(rng, reduction, use_weight):
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2.0, 3) if use_weight else None
    x, t = t64(p), t64(y)
    wt = None if w is None else t64(w, requires_grad=False)
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)) * (1 if w is None else w)
    np.testing.assert_allclose(F.binary_cross_entropy(x, t, wt, reduction=reduction)._data,
                               reduce(loss, reduction), rtol=1e-12)
    np.testing.assert_allclose(nn.BCELoss(wt, reduction=reduction)(x, t)._data, reduce(loss, reduction),
                               rtol=1e-12)
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, wt, reduction=reduction), (x, t))


def test_bce_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(descend.tensor([0.0, 1.0]), descend.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss._data, [100.0, 100.0])
    x = descend.tensor([0.0, 1.0, 0.0], requires_grad=True)
    F.binary_cross_entropy(x, descend.tensor([1.0, 0.0, 0.0])).backward()
    assert np.all(np.isfinite(x.grad._data))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.BCELoss()(descend.tensor([1.5, 0.2]), descend.tensor([1.0, 0.0]))


def test_bce_requires_equal_shapes():
    with pytest.raises(ValueError, match=r"target size \(3,\) that is different to the input size \(3, 1\)"):
        F.binary_cross_entropy(descend.full((3, 1), 0.5), descend.ones(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_pos_weight", [False, True])
@pytest.mark.parametrize("use_weight", [False, True])
def test_bce_with_logits_value_and_gradient(rng, reduction, use_pos_weight, use_weight):
    a, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    pw = rng.uniform(0.5, 3.0, 3) if use_pos_weight else np.ones(3)
    w = rng.uniform(0.5, 2.0, (4, 1)) if use_weight else np.ones((4, 1))
    x, t = t64(a), t64(y)
    pwt = t64(pw, False) if use_pos_weight else None
    wt = t64(w, False) if use_weight else None
    s = 1 / (1 + np.exp(-a))
    loss = -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    expected = reduce(loss, reduction)
    got = F.binary_cross_entropy_with_logits(x, t, wt, reduction=reduction, pos_weight=pwt)
    np.testing.assert_allclose(got._data, expected, rtol=1e-10)
    module = nn.BCEWithLogitsLoss(wt, reduction=reduction, pos_weight=pwt)
    np.testing.assert_allclose(module(x, t)._data, expected, rtol=1e-10)
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, wt, reduction=reduction,
                                                                     pos_weight=pwt), (x, t))


def test_bce_with_logits_is_stable_at_extreme_logits():
    x = descend.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = descend.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss._data, [0.0, 0.0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad._data, [0.0, 0.0, 1.0, -1.0])


# --- cross-entropy and NLL ---


def ce_reference(a, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's documented cross-entropy with class indices, transcribed to NumPy."""
    n, c = a.shape
    logp = log_softmax(a)
    w = np.ones(c) if w is None else w
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    nll = -w[ts] * logp[np.arange(n), ts] * valid
    smooth = -(logp * w).sum(axis=1) * valid
    per = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / (w[ts] * valid).sum()


CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=2),
    dict(eps=0.1),
    dict(weight=True, ignore_index=1, eps=0.2),
]


@pytest.mark.parametrize("case", CE_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_indices_match_formula_and_gradient(rng, case, reduction):
    a = rng.standard_normal((6, 4)) * 2
    t = np.array([0, 2, 1, 3, 2, 1])
    w = rng.uniform(0.2, 2.0, 4) if case.get("weight") else None
    ii, eps = case.get("ignore_index", -100), case.get("eps", 0.0)
    x = t64(a)
    target = descend.tensor(t)
    wt = None if w is None else t64(w, False)
    expected = ce_reference(a, t, w, ii, reduction, eps)
    got = F.cross_entropy(x, target, wt, ignore_index=ii, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(got._data, expected, rtol=1e-10)
    module = nn.CrossEntropyLoss(wt, ignore_index=ii, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(module(x, target)._data, expected, rtol=1e-10)
    assert gradcheck(lambda x: F.cross_entropy(x, target, wt, ignore_index=ii, reduction=reduction,
                                               label_smoothing=eps), (x,))


def test_cross_entropy_hand_values():
    # two equal logits: -log(1/2)
    value = F.cross_entropy(descend.tensor([[0.0, 0.0]]), descend.tensor([1])).item()
    assert value == pytest.approx(math.log(2))
    # logits (1, 2, 3), class 2, smoothing 0.1: 0.9 * nll + 0.1 / 3 * sum(-log p)
    logp = log_softmax(np.array([[1.0, 2.0, 3.0]]))[0]
    expected = 0.9 * -logp[2] + 0.1 / 3 * -logp.sum()
    got = F.cross_entropy(descend.tensor([[1.0, 2.0, 3.0]]), descend.tensor([2]), label_smoothing=0.1)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    x = t64(a)
    F.cross_entropy(x, descend.tensor([1, 2]), reduction="sum").backward()
    p = np.exp(log_softmax(a))
    np.testing.assert_allclose(x.grad._data, p - np.eye(3)[[1, 2]])
    assert F.cross_entropy(x, descend.tensor([1, 2])).grad_fn.name() == "NllLossBackward0"


def test_cross_entropy_weighted_mean_divides_by_target_weights():
    a = np.array([[0.3, -0.2], [1.0, 0.5], [0.0, 2.0]])
    w = np.array([1.0, 3.0])
    t = np.array([0, 1, 1])
    logp = log_softmax(a)
    per = -w[t] * logp[np.arange(3), t]
    got = F.cross_entropy(t64(a, False), descend.tensor(t), t64(w, False))
    assert got.item() == pytest.approx(per.sum() / (1 + 3 + 3))


def test_cross_entropy_all_targets_ignored_gives_nan_and_zero_gradient():
    x = descend.tensor([[1.0, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, descend.tensor([-100]))
    assert math.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad._data, [[0.0, 0.0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.25])
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_probability_targets(rng, reduction, eps, use_weight):
    a = rng.standard_normal((5, 3))
    probs = rng.dirichlet(np.ones(3), 5)
    w = rng.uniform(0.5, 2, 3) if use_weight else np.ones(3)
    x, p = t64(a), t64(probs)
    wt = t64(w, False) if use_weight else None
    smoothed = probs * (1 - eps) + eps / 3
    per = -(w * smoothed * log_softmax(a)).sum(axis=1)
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    got = F.cross_entropy(x, p, wt, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(got._data, expected, rtol=1e-10)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, wt, reduction=reduction, label_smoothing=eps), (x, p))


def test_cross_entropy_probability_onehot_equals_indices(rng):
    a = rng.standard_normal((4, 3))
    t = np.array([2, 0, 1, 1])
    soft = F.cross_entropy(t64(a, False), t64(np.eye(3)[t], False), label_smoothing=0.1)
    hard = F.cross_entropy(t64(a, False), descend.tensor(t), label_smoothing=0.1)
    assert soft.item() == pytest.approx(hard.item(), rel=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_dims(rng, reduction):
    a = rng.standard_normal((2, 3, 4))  # (N, C, d1)
    t = rng.integers(0, 3, (2, 4))
    x = t64(a)
    flat = np.moveaxis(a, 1, -1).reshape(-1, 3)
    expected = ce_reference(flat, t.reshape(-1), reduction=reduction, eps=0.1)
    if reduction == "none":
        expected = expected.reshape(2, 4)
    got = F.cross_entropy(x, descend.tensor(t), reduction=reduction, label_smoothing=0.1)
    np.testing.assert_allclose(got._data, expected, rtol=1e-10)
    target = descend.tensor(t)
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction, label_smoothing=0.1), (x,))


def test_cross_entropy_unbatched_input():
    a = np.array([0.5, 1.5, -1.0])
    got = F.cross_entropy(descend.tensor(a), descend.tensor(1), reduction="none")
    assert got.shape == ()
    assert got.item() == pytest.approx(-log_softmax(a[None])[0, 1], rel=1e-6)


@pytest.mark.parametrize("dtype", [descend.float32, descend.float64])
def test_cross_entropy_stable_at_extreme_logits(dtype):
    x = descend.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4]], dtype=dtype, requires_grad=True)
    t = descend.tensor([1, 1, 0])
    loss = F.cross_entropy(x, t, reduction="none", label_smoothing=0.1)
    assert np.all(np.isfinite(loss._data))
    # row 0: nll = 2e4; smooth = sum(-log p) = 0 + 2e4 + 1e4
    np.testing.assert_allclose(loss._data[0], 0.9 * 2e4 + 0.1 / 3 * 3e4, rtol=1e-6)
    np.testing.assert_allclose(loss._data[1], 0.1 / 3 * (2e4 + 1e4), rtol=1e-6)
    loss.sum().backward()
    g = x.grad._data
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[0], [1 - 0.1 / 3, -0.9 - 0.1 / 3, -0.1 / 3], atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_formula_and_gradient(rng, reduction):
    a = log_softmax(rng.standard_normal((5, 3)))
    t = np.array([0, 2, 1, 2, 1])
    w = np.array([0.5, 2.0, 1.0])
    x = t64(a)
    per = -w[t] * a[np.arange(5), t] * (t != 1)
    expected = {"mean": per.sum() / (w[t] * (t != 1)).sum(), "sum": per.sum(), "none": per}[reduction]
    got = F.nll_loss(x, descend.tensor(t), t64(w, False), ignore_index=1, reduction=reduction)
    np.testing.assert_allclose(got._data, expected, rtol=1e-12)
    module = nn.NLLLoss(t64(w, False), ignore_index=1, reduction=reduction)
    np.testing.assert_allclose(module(x, descend.tensor(t))._data, expected, rtol=1e-12)
    assert gradcheck(lambda x: F.nll_loss(x, descend.tensor(t), t64(w, False), ignore_index=1,
                                          reduction=reduction), (x,))


def test_nll_of_log_softmax_equals_cross_entropy(rng):
    x = descend.tensor(rng.standard_normal((6, 4)))
    t = descend.tensor([0, 1, 2, 3, 0, 1])
    a = F.nll_loss(F.log_softmax(x, dim=1), t)
    b = F.cross_entropy(x, t)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)


def test_class_index_out_of_range_names_the_index():
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds.*\[0, 2\] for 3 classes"):
        F.cross_entropy(descend.zeros(2, 3), descend.tensor([0, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        nn.NLLLoss()(descend.zeros(2, 3), descend.tensor([-1, 0]))


def test_ignore_index_may_be_outside_the_class_range():
    loss = F.cross_entropy(descend.zeros(2, 3), descend.tensor([-100, 1]))
    assert loss.item() == pytest.approx(math.log(3), rel=1e-6)


def test_float_class_targets_are_rejected_with_a_hint():
    with pytest.raises(RuntimeError, match=r"class-index targets must be integers \(use target.long\(\)\)"):
        F.cross_entropy(descend.zeros(2, 3), descend.tensor([0.0, 1.0]))


def test_wrong_dimension_targets_are_rejected():
    expected = r"expected class-index targets of shape \(4,\).*got target of shape \(4, 1\)"
    with pytest.raises(ValueError, match=expected):
        nn.CrossEntropyLoss()(descend.zeros(4, 3), descend.tensor([[0], [1], [2], [0]]))


def test_class_weight_must_have_one_entry_per_class():
    with pytest.raises(RuntimeError, match=r"one entry per class \(shape \(3,\)\), got shape \(2,\)"):
        F.cross_entropy(descend.zeros(2, 3), descend.tensor([0, 1]), descend.ones(2))


def test_label_smoothing_is_validated():
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_loss_modules_repr_and_weight_buffer():
    assert repr(nn.MSELoss()) == "MSELoss()"
    ce = nn.CrossEntropyLoss(weight=descend.tensor([1.0, 2.0]))
    assert list(ce.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
