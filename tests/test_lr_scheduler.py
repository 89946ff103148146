"""Learning-rate schedulers: each sequence against its documented formula (PyTorch's), and the contract."""

import math

import numpy as np
import pytest

import descend
from descend import optim
from descend.optim import lr_scheduler as S


def make_sgd(lr=0.1, momentum=0.9, groups=1):
    params = [descend.tensor([1.0], requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [p]} for p in params], lr=lr, momentum=momentum)


def lrs(opt, sched, steps, group=0):
    """The lr at construction (epoch 0) and after each of `steps` calls to step()."""
    out = [opt.param_groups[group]["lr"]]
    for _ in range(steps):
        opt.step()  # no gradients: parameters are skipped, but the call order matches real training
        sched.step()
        out.append(opt.param_groups[group]["lr"])
    return out


def test_steplr_hand_computed():
    opt = make_sgd()
    seq = lrs(opt, S.StepLR(opt, step_size=3, gamma=0.5), 8)
    np.testing.assert_allclose(seq, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025], rtol=1e-15)


def test_multisteplr_hand_computed():
    opt = make_sgd()
    seq = lrs(opt, S.MultiStepLR(opt, milestones=[2, 5], gamma=0.1), 6)
    np.testing.assert_allclose(seq, [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001], rtol=1e-14)


def test_multisteplr_repeated_milestone_applies_gamma_twice():
    opt = make_sgd()
    seq = lrs(opt, S.MultiStepLR(opt, milestones=[1, 1, 3], gamma=0.5), 3)
    np.testing.assert_allclose(seq, [0.1, 0.025, 0.025, 0.0125], rtol=1e-15)


def test_exponentiallr_formula():
    opt = make_sgd()
    seq = lrs(opt, S.ExponentialLR(opt, gamma=0.9), 10)
    np.testing.assert_allclose(seq, [0.1 * 0.9**t for t in range(11)], rtol=1e-13)


def test_cosine_annealing_formula_including_past_t_max():
    opt = make_sgd()
    seq = lrs(opt, S.CosineAnnealingLR(opt, T_max=10, eta_min=0.001), 25)
    expected = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(26)]
    np.testing.assert_allclose(seq, expected, rtol=1e-12, atol=1e-15)
    assert (seq[5], seq[10], seq[20]) == pytest.approx((0.0505, 0.001, 0.1))


def test_linearlr_default_warmup_hand_computed():
    opt = make_sgd()
    seq = lrs(opt, S.LinearLR(opt), 7)  # start_factor 1/3, end_factor 1, total_iters 5
    factors = [1 / 3, 7 / 15, 9 / 15, 11 / 15, 13 / 15, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(seq, [0.1 * f for f in factors], rtol=1e-14)


def test_linearlr_decay():
    opt = make_sgd()
    seq = lrs(opt, S.LinearLR(opt, start_factor=1.0, end_factor=0.5, total_iters=4), 5)
    np.testing.assert_allclose(seq, [0.1, 0.0875, 0.075, 0.0625, 0.05, 0.05], rtol=1e-14)


def test_lambdalr_per_group_functions():
    opt = make_sgd(groups=2)
    opt.param_groups[1]["lr"] = 1.0
    sched = S.LambdaLR(opt, [lambda e: 1 / (1 + e), lambda e: 0.5**e])
    seq0 = [opt.param_groups[0]["lr"]]
    seq1 = [opt.param_groups[1]["lr"]]
    for _ in range(3):
        sched.step()
        seq0.append(opt.param_groups[0]["lr"])
        seq1.append(opt.param_groups[1]["lr"])
    np.testing.assert_allclose(seq0, [0.1, 0.05, 0.1 / 3, 0.025], rtol=1e-15)
    np.testing.assert_allclose(seq1, [1.0, 0.5, 0.25, 0.125], rtol=1e-15)
    assert sched.get_last_lr() == [0.025, 0.125]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.LambdaLR(opt, [lambda e: 1.0])


def test_two_schedulers_on_one_optimizer_compose_as_in_pytorch():
    opt = make_sgd()
    exp, step = S.ExponentialLR(opt, gamma=0.9), S.StepLR(opt, step_size=2, gamma=0.5)
    seq = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        exp.step()
        step.step()
        seq.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(seq, [0.1 * 0.9**t * 0.5 ** (t // 2) for t in range(6)], rtol=1e-13)


# --- OneCycleLR ---


def cos_anneal(start, end, pct):
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


def test_onecycle_lr_and_momentum_follow_the_two_phase_formula():
    opt = make_sgd()
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10)  # pct_start 0.3: warm-up ends at step 3 - 1 = 2
    lr_seq, mom_seq = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(10):
        opt.step()
        sched.step()
        lr_seq.append(opt.param_groups[0]["lr"])
        mom_seq.append(opt.param_groups[0]["momentum"])
    initial, min_lr = 1.0 / 25, 1.0 / 25 / 1e4
    exp_lr, exp_mom = [], []
    for s in range(11):
        if s <= 2:
            pct = s / 2
            exp_lr.append(cos_anneal(initial, 1.0, pct))
            exp_mom.append(cos_anneal(0.95, 0.85, pct))
        else:
            pct = (s - 2) / (9 - 2)
            exp_lr.append(cos_anneal(1.0, min_lr, pct))
            exp_mom.append(cos_anneal(0.85, 0.95, pct))
    np.testing.assert_allclose(lr_seq, exp_lr, rtol=1e-12)
    np.testing.assert_allclose(mom_seq, exp_mom, rtol=1e-12)
    assert (lr_seq[0], lr_seq[2], lr_seq[9]) == pytest.approx((0.04, 1.0, 4e-6))  # start, peak, floor
    assert (mom_seq[0], mom_seq[2], mom_seq[9]) == pytest.approx((0.95, 0.85, 0.95))
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == pytest.approx((0.04, 1.0, 4e-6))


def test_onecycle_raises_when_stepped_past_total_steps():
    opt = make_sgd()
    sched = S.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5)
    assert sched.total_steps == 10
    for _ in range(10):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        sched.step()


def test_onecycle_cycles_adam_beta1_and_keeps_beta2():
    w = descend.tensor([1.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.01, betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=0.01, total_steps=20, anneal_strategy="linear", base_momentum=0.8,
                         max_momentum=0.9)
    betas = [opt.param_groups[0]["betas"]]
    for _ in range(20):
        sched.step()
        betas.append(opt.param_groups[0]["betas"])
    end = 0.3 * 20 - 1  # 5.0
    expected = [0.9 + (0.8 - 0.9) * s / end if s <= end else 0.8 + (0.9 - 0.8) * (s - end) / (19 - end)
                for s in range(21)]
    np.testing.assert_allclose([b[0] for b in betas], expected, rtol=1e-12)
    assert all(b[1] == 0.99 for b in betas)


def test_onecycle_three_phase_linear():
    opt = make_sgd()
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25, anneal_strategy="linear",
                         three_phase=True, div_factor=10.0, final_div_factor=100.0)
    seq = lrs(opt, sched, 19)
    # phases end at steps 4, 8 and 19: 0.1 -> 1.0 -> 0.1 -> 0.001, linearly
    expected = []
    for s in range(20):
        if s <= 4:
            expected.append(0.1 + 0.9 * s / 4)
        elif s <= 8:
            expected.append(1.0 - 0.9 * (s - 4) / 4)
        else:
            expected.append(0.1 + (0.001 - 0.1) * (s - 8) / 11)
    np.testing.assert_allclose(seq, expected, rtol=1e-12)


def test_onecycle_argument_errors():
    opt = make_sgd()
    with pytest.raises(ValueError, match=r"either total_steps OR \(epochs AND steps_per_epoch\)"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        S.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=5)
    gd = optim.GD([descend.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.OneCycleLR(gd, max_lr=0.1, total_steps=5)


# --- ReduceLROnPlateau ---


def plateau_lrs(metrics, **kwargs):
    opt = make_sgd(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    assert sched.get_last_lr() == [out[-1]]
    return out


def test_plateau_waits_for_patience_then_reduces():
    # best 1.0, then 0.9; the 3rd epoch without improvement (> patience=2) reduces, counting restarts
    seq = plateau_lrs([1.0, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9], patience=2)
    np.testing.assert_allclose(seq, [1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01])


def test_plateau_cooldown_ignores_bad_epochs():
    seq = plateau_lrs([1.0] * 9, patience=1, cooldown=2, factor=0.5)
    # reduce at epoch 3 (2 bad), cooldown epochs 4-5 count nothing, bad again at 6-7, reduce at epoch 7
    np.testing.assert_allclose(seq, [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])


def test_plateau_min_lr_is_a_floor():
    seq = plateau_lrs([1.0] * 6, patience=0, factor=0.1, min_lr=0.005)
    np.testing.assert_allclose(seq, [1.0, 0.1, 0.01, 0.005, 0.005, 0.005])


def test_plateau_threshold_modes_and_max_mode():
    # rel/min: 0.9999 is not below 1.0 * (1 - 1e-3), so it is a bad epoch
    assert plateau_lrs([1.0, 0.9999], patience=0, threshold=1e-3) == [1.0, pytest.approx(0.1)]
    # abs/max: an increase of 0.05 is not more than threshold 0.1
    assert plateau_lrs([1.0, 1.05], mode="max", threshold=0.1, threshold_mode="abs", patience=0) == [
        1.0, pytest.approx(0.1)
    ]
    assert plateau_lrs([1.0, 1.2], mode="max", threshold=0.1, threshold_mode="abs", patience=0) == [1.0, 1.0]


def test_plateau_accepts_tensor_metric_and_validates():
    assert plateau_lrs([descend.tensor(1.0), descend.tensor(2.0)], patience=0) == [1.0, pytest.approx(0.1)]
    opt = make_sgd()
    with pytest.raises(ValueError, match=r"Factor should be < 1.0."):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode median is unknown!"):
        S.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(ValueError, match="threshold mode relative is unknown!"):
        S.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


# --- the scheduler contract ---


def test_initial_lr_base_lrs_and_get_last_lr():
    opt = make_sgd(groups=2)
    opt.param_groups[1]["lr"] = 0.5
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5] and sched.base_lrs == [0.1, 0.5]
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.5]
    sched.step()
    assert sched.last_epoch == 1 and sched.get_last_lr() == [0.05, 0.25]


def test_state_dict_round_trip_resumes_the_schedule():
    opt = make_sgd()
    sched = S.CosineAnnealingLR(opt, T_max=8)
    for _ in range(3):
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state and sched_state["last_epoch"] == 3
    expected = lrs(opt, sched, 4)[1:]

    opt2 = make_sgd()
    opt2.load_state_dict(opt_state)
    sched2 = S.CosineAnnealingLR(opt2, T_max=8)
    sched2.load_state_dict(sched_state)
    np.testing.assert_allclose(lrs(opt2, sched2, 4)[1:], expected, rtol=1e-15)


def test_resuming_requires_initial_lr():
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        S.StepLR(make_sgd(), step_size=2, last_epoch=4)


def test_step_with_epoch_warns_and_jumps_by_closed_form():
    opt = make_sgd()
    sched = S.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(3)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], step_size=1)
