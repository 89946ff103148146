"""The losses added for issue 10, as functions and modules: formulas, reductions, gradients, errors."""

import math
import warnings

import numpy as np
import pytest

import descend
import descend.nn as nn
import descend.nn.functional as F
from descend import gradcheck

RNG = np.random.default_rng(11)
A = RNG.standard_normal((4, 5))
B = RNG.standard_normal((4, 5))
P = RNG.random((4, 5)) + 0.05
SIGN_ROWS = np.array([1.0, -1.0, -1.0, 1.0])
SIGN = np.where(RNG.random((4, 5)) > 0.5, 1.0, -1.0)


def t64(a, grad=True):
    return descend.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _cos(a, b):
    return (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))


def _dist(a, b):
    return np.linalg.norm(a - b + 1e-6, axis=-1)


# name: (function on tensors, elementwise reference, inputs, index of the inputs to gradcheck)
CASES = {
    "smooth_l1": (lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
                  lambda: np.where(np.abs(A - B) < 0.5, (A - B) ** 2, np.abs(A - B) - 0.25), (A, B), (0, 1)),
    "smooth_l1_beta0": (lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
                        lambda: np.abs(A - B), (A, B), (0, 1)),
    "kl": (lambda a, b, r: F.kl_div(a, b, reduction=r), lambda: P * (np.log(P) - np.log(P[::-1])),
           (np.log(P[::-1]), P), (0, 1)),
    "kl_log_target": (lambda a, b, r: F.kl_div(a, b, reduction=r, log_target=True),
                      lambda: P * (np.log(P) - B), (B, np.log(P)), (0, 1)),
    "poisson": (lambda a, b, r: F.poisson_nll_loss(a, b, reduction=r),
                lambda: np.exp(A) - np.floor(5 * P) * A,
                (A, np.floor(5 * P)), (0,)),
    "poisson_full": (lambda a, b, r: F.poisson_nll_loss(a, b, log_input=False, full=True, reduction=r),
                     lambda: P - np.floor(5 * P) * np.log(P + 1e-8) + _stirling(np.floor(5 * P)),
                     (P, np.floor(5 * P)), (0,)),
    "gaussian": (lambda a, b, r: F.gaussian_nll_loss(a, b, t64(P), reduction=r),
                 lambda: 0.5 * (np.log(P) + (A - B) ** 2 / P), (A, B), (0, 1)),
    "margin_ranking": (lambda a, b, r: F.margin_ranking_loss(a, b, t64(SIGN_ROWS, False), margin=0.3,
                                                             reduction=r),
                       lambda: np.maximum(0, -SIGN_ROWS * (A[:, 0] - B[:, 0]) + 0.3), (A[:, 0], B[:, 0]),
                       (0, 1)),
    "hinge_embedding": (lambda a, b, r: F.hinge_embedding_loss(a, b, margin=0.7, reduction=r),
                        lambda: np.where(SIGN == 1, A, np.maximum(0, 0.7 - A)), (A, SIGN), (0,)),
    "soft_margin": (lambda a, b, r: F.soft_margin_loss(a, b, reduction=r),
                    lambda: np.log1p(np.exp(-SIGN * A)),
                    (A, SIGN), (0,)),
    "cosine_embedding": (lambda a, b, r: F.cosine_embedding_loss(a, b, t64(SIGN_ROWS, False), margin=0.1,
                                                                 reduction=r),
                         lambda: np.where(SIGN_ROWS == 1, 1 - _cos(A, B), np.maximum(0, _cos(A, B) - 0.1)),
                         (A, B), (0, 1)),
    "triplet": (lambda a, b, r: F.triplet_margin_loss(a, b, t64(P), reduction=r),
                lambda: np.maximum(_dist(A, B) - _dist(A, P) + 1.0, 0), (A, B), (0, 1)),
}


def _stirling(y):
    safe = np.where(y > 1, y, 1)
    return np.where(y > 1, y * np.log(safe) - y + 0.5 * np.log(2 * math.pi * safe), 0)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_loss_matches_its_formula_and_gradchecks(name, reduction):
    fn, ref, inputs, checked = CASES[name]
    tensors = [t64(a, grad=i in checked) for i, a in enumerate(inputs)]
    elementwise = ref()
    expected = {"none": elementwise, "sum": elementwise.sum(), "mean": elementwise.mean()}[reduction]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's reduction="mean" warning
        out = fn(*tensors, reduction)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
        assert gradcheck(lambda *ts: fn(*ts, reduction), tensors)


def test_kl_div_batchmean_and_mean_warning():
    inp, tgt = t64(np.log(P[::-1])), t64(P, False)
    total = (P * (np.log(P) - np.log(P[::-1]))).sum()
    assert F.kl_div(inp, tgt, reduction="batchmean").item() == pytest.approx(total / 4)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(inp, tgt)
    # a zero target contributes 0 (0 log 0 = 0)
    assert F.kl_div(descend.tensor([-1.0]), descend.tensor([0.0]), reduction="sum").item() == 0.0
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(inp, tgt, reduction="avg")


def test_gaussian_nll_var_shapes_full_and_errors():
    x, y = t64(A, False), t64(B, False)
    var_rows = t64(P[:, 0])
    ref = 0.5 * (np.log(P[:, :1]) + (A - B) ** 2 / P[:, :1]) + 0.5 * math.log(2 * math.pi)
    out = F.gaussian_nll_loss(x, y, var_rows, full=True, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), ref)
    assert F.gaussian_nll_loss(x, y, 1.0).item() == pytest.approx(0.5 * ((A - B) ** 2).mean())
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, y, descend.ones(3))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, y, -descend.ones(4, 5))


def test_smooth_l1_hand_values_and_errors():
    assert F.smooth_l1_loss(descend.tensor([0.5, 3.0]), descend.tensor([0.0, 0.0])).item() == 1.3125
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(descend.tensor([1.0]), descend.tensor([0.0]), beta=-1.0)


def test_legacy_size_average_and_reduce_map_to_reduction():
    a, b = descend.tensor([0.5, 3.0]), descend.zeros(2)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.smooth_l1_loss(a, b, size_average=False).item() == 2.625
    with pytest.warns(UserWarning):
        assert nn.SmoothL1Loss(reduce=False)(a, b).tolist() == [0.125, 2.5]


def test_loss_modules_call_their_functions():
    a, b = t64(A, False), t64(B, False)
    y_rows = t64(SIGN_ROWS, False)
    pairs = [
        (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss(a, b, beta=0.5), (a, b)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True),
         F.kl_div(a, b, reduction="batchmean", log_target=True), (a, b)),
        (nn.PoissonNLLLoss(log_input=False, full=True), F.poisson_nll_loss(t64(P, False), b, False, True),
         (t64(P, False), b)),
        (nn.GaussianNLLLoss(full=True), F.gaussian_nll_loss(a, b, t64(P, False), full=True),
         (a, b, t64(P, False))),
        (nn.MarginRankingLoss(margin=0.2), F.margin_ranking_loss(a[:, 0], b[:, 0], y_rows, 0.2),
         (a[:, 0], b[:, 0], y_rows)),
        (nn.HingeEmbeddingLoss(margin=2.0), F.hinge_embedding_loss(a, t64(SIGN, False), 2.0),
         (a, t64(SIGN, False))),
        (nn.SoftMarginLoss(reduction="sum"), F.soft_margin_loss(a, t64(SIGN, False), reduction="sum"),
         (a, t64(SIGN, False))),
        (nn.CosineEmbeddingLoss(margin=0.1), F.cosine_embedding_loss(a, b, y_rows, 0.1), (a, b, y_rows)),
        (nn.TripletMarginLoss(margin=0.5, p=1, swap=True),
         F.triplet_margin_loss(a, b, t64(P, False), margin=0.5, p=1, swap=True), (a, b, t64(P, False))),
    ]
    for module, expected, args in pairs:
        assert module(*args).item() == pytest.approx(expected.item()), module
    assert repr(nn.KLDivLoss()) == "KLDivLoss()"
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.SmoothL1Loss(reduction="avg")
