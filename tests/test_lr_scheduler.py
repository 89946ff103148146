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


# --- MultiplicativeLR, ConstantLR, PolynomialLR ---


def test_multiplicativelr_multiplies_the_current_rate_each_epoch():
    opt = make_sgd(groups=2)
    sched = S.MultiplicativeLR(opt, [lambda e: 0.9, lambda e: 1 / (e + 1)])
    opt2 = make_sgd(groups=2)
    sched2 = S.MultiplicativeLR(opt2, [lambda e: 0.9, lambda e: 1 / (e + 1)])
    np.testing.assert_allclose(lrs(opt, sched, 6), [0.1 * 0.9**t for t in range(7)], rtol=1e-14)
    # group 1: 0.1 · Π_{i=1..t} 1/(i+1) = 0.1 / (t+1)!
    np.testing.assert_allclose(lrs(opt2, sched2, 6, group=1), [0.1 / math.factorial(t + 1) for t in range(7)],
                               rtol=1e-14)


def test_multiplicativelr_checks_its_functions():
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        S.MultiplicativeLR(make_sgd(), 0.9)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.MultiplicativeLR(make_sgd(groups=2), [lambda e: 0.9])


def test_constantlr_hand_computed():
    opt = make_sgd()
    np.testing.assert_allclose(lrs(opt, S.ConstantLR(opt, factor=0.5, total_iters=3), 5),
                               [0.05, 0.05, 0.05, 0.1, 0.1, 0.1], rtol=1e-15)
    opt = make_sgd()
    np.testing.assert_allclose(lrs(opt, S.ConstantLR(opt), 6), [0.1 / 3] * 5 + [0.1, 0.1], rtol=1e-15)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1"):
        S.ConstantLR(make_sgd(), factor=1.5)


@pytest.mark.parametrize("total_iters, power", [(5, 1.0), (8, 2.5), (4, 0.5)])
def test_polynomiallr_formula(total_iters, power):
    opt = make_sgd()
    seq = lrs(opt, S.PolynomialLR(opt, total_iters=total_iters, power=power), 10)
    expected = [0.1 * (1 - min(t, total_iters) / total_iters) ** power for t in range(11)]
    np.testing.assert_allclose(seq, expected, rtol=1e-12, atol=1e-300)


# --- CyclicLR ---


def test_cycliclr_triangular_hand_computed_with_inverse_momentum():
    opt = make_sgd(momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2, step_size_down=3)
    momenta = [opt.param_groups[0]["momentum"]]
    seq = [opt.param_groups[0]["lr"]]
    for _ in range(10):
        opt.step()
        sched.step()
        seq.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
    # period 5: up in 2 steps (0.1, 0.3, 0.5), down in 3 (0.5 → 0.1 in thirds)
    up_down = [0.1, 0.3, 0.5, 0.5 - 0.4 / 3, 0.5 - 0.8 / 3]
    np.testing.assert_allclose(seq, up_down * 2 + [0.1], rtol=1e-12)
    # momentum runs from max (0.9) to base (0.8) as the lr rises
    np.testing.assert_allclose(momenta, [0.9 - (s - 0.1) / 0.4 * 0.1 for s in seq], rtol=1e-12)
    assert sched.get_last_lr() == [seq[-1]]


def test_cycliclr_triangular2_halves_the_height_each_cycle():
    opt = make_sgd()
    seq = lrs(opt, S.CyclicLR(opt, 0.0, 1.0, step_size_up=2, cycle_momentum=False, mode="triangular2"), 12)
    expected = [0, 0.5, 1, 0.5, 0, 0.25, 0.5, 0.25, 0, 0.125, 0.25, 0.125, 0]
    np.testing.assert_allclose(seq, expected, atol=1e-15)


def test_cycliclr_exp_range_scales_by_gamma_to_the_step():
    opt = make_sgd()
    seq = lrs(opt, S.CyclicLR(opt, 0.0, 1.0, step_size_up=2, mode="exp_range", gamma=0.9,
                              cycle_momentum=False), 8)
    triangle = [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0]
    np.testing.assert_allclose(seq, [h * 0.9**t for t, h in enumerate(triangle)], atol=1e-15)


def test_cycliclr_custom_scale_fn_and_adam_beta1():
    opt = optim.Adam([descend.tensor([1.0], requires_grad=True)], lr=0.1, betas=(0.9, 0.99))
    sched = S.CyclicLR(opt, 0.0, 1.0, step_size_up=1, scale_fn=lambda c: 1 / c, base_momentum=0.8,
                       max_momentum=0.9)
    seq = lrs(opt, sched, 6)
    np.testing.assert_allclose(seq, [0, 1, 0, 0.5, 0, 1 / 3, 0], atol=1e-15)  # height 1/cycle
    assert opt.param_groups[0]["betas"] == (pytest.approx(0.9), 0.99)  # β1 cycles, β2 stays
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        S.CyclicLR(make_sgd(), 0.1, 1.0, mode="sawtooth")
    plain = optim.Adagrad([descend.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.CyclicLR(plain, 0.1, 1.0)


# --- CosineAnnealingWarmRestarts ---


def sgdr(t_cur, t_i, base=0.1, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def test_cosine_warm_restarts_with_growing_periods():
    opt = make_sgd()
    seq = lrs(opt, S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01), 14)
    # restarts at epochs 2, 6 and 14 (periods 2, 4, 8)
    expected = [sgdr(t, 2, eta_min=0.01) for t in range(2)] + [sgdr(t, 4, eta_min=0.01) for t in range(4)]
    expected += [sgdr(t, 8, eta_min=0.01) for t in range(8)] + [sgdr(0, 16, eta_min=0.01)]
    np.testing.assert_allclose(seq, expected, rtol=1e-14)


def test_cosine_warm_restarts_fractional_epochs():
    opt = make_sgd()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for epoch, (t_cur, t_i) in [(0.5, (0.5, 3)), (2.75, (2.75, 3)), (3.5, (0.5, 6)), (9.25, (0.25, 12))]:
        sched.step(epoch)
        assert sched.last_epoch == math.floor(epoch)
        assert opt.param_groups[0]["lr"] == pytest.approx(sgdr(t_cur, t_i), rel=1e-12)
    sched = S.CosineAnnealingWarmRestarts(make_sgd(), T_0=4)
    sched.step(9.0)
    assert sched.get_last_lr()[0] == pytest.approx(sgdr(1.0, 4), rel=1e-12)


def test_cosine_warm_restarts_argument_errors():
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        S.CosineAnnealingWarmRestarts(make_sgd(), T_0=0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 1.5"):
        S.CosineAnnealingWarmRestarts(make_sgd(), T_0=2, T_mult=1.5)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        S.CosineAnnealingWarmRestarts(make_sgd(), T_0=2).step(-1)


# --- SequentialLR, ChainedScheduler ---


def test_sequentiallr_warmup_then_decay():
    opt = make_sgd()
    warmup = S.LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = S.ExponentialLR(opt, gamma=0.9)
    seq = lrs(opt, S.SequentialLR(opt, [warmup, decay], milestones=[5]), 10)
    expected = [0.1 * (0.1 + 0.9 * t / 5) for t in range(5)] + [0.1 * 0.9 ** (t - 5) for t in range(5, 11)]
    np.testing.assert_allclose(seq, expected, rtol=1e-14)


def test_sequentiallr_three_phases_each_start_from_their_epoch_zero():
    opt = make_sgd()
    scheds = [S.ConstantLR(opt, factor=0.5, total_iters=10), S.StepLR(opt, step_size=2, gamma=0.5),
              S.CosineAnnealingLR(opt, T_max=4)]
    seq = lrs(opt, S.SequentialLR(opt, scheds, milestones=[3, 7]), 10)
    expected = [0.05] * 3 + [0.1, 0.1, 0.05, 0.05] + [sgdr(t, 4) for t in range(4)]
    np.testing.assert_allclose(seq, expected, rtol=1e-14)


def test_chained_scheduler_multiplies_the_effects():
    opt = make_sgd()
    constant, exponential = S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)
    sched = S.ChainedScheduler([constant, exponential])
    seq = lrs(opt, sched, 6)
    np.testing.assert_allclose(seq, [0.1 * 0.9**t * (0.1 if t < 2 else 1) for t in range(7)], rtol=1e-14)
    assert sched.get_last_lr() == [seq[-1]]


def test_sequential_and_chained_argument_errors():
    opt, other = make_sgd(), make_sgd()
    a, b = S.StepLR(opt, 2), S.StepLR(opt, 3)
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones"):
        S.SequentialLR(opt, [a, b], milestones=[2, 4])
    with pytest.raises(ValueError, match="SequentialLR expects at least one scheduler"):
        S.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.SequentialLR(opt, [a, S.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.ChainedScheduler([a, S.StepLR(other, 2)])
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler to be chained"):
        S.ChainedScheduler([])
    with pytest.raises(TypeError, match="ChainedScheduler at index 0 should have `optimizer` as its attr"):
        S.ChainedScheduler([object()], optimizer=opt)


# --- saving and resuming every new scheduler ---

NEW_SCHEDULERS = {
    "MultiplicativeLR": lambda opt: S.MultiplicativeLR(opt, lambda e: 0.95),
    "ConstantLR": lambda opt: S.ConstantLR(opt, factor=0.25, total_iters=9),
    "PolynomialLR": lambda opt: S.PolynomialLR(opt, total_iters=12, power=2.0),
    "CyclicLR": lambda opt: S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.95),
    "CosineAnnealingWarmRestarts": lambda opt: S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2),
    "SequentialLR": lambda opt: S.SequentialLR(
        opt, [S.LinearLR(opt, start_factor=0.2, total_iters=4), S.ExponentialLR(opt, gamma=0.8)],
        milestones=[4]),
    "ChainedScheduler": lambda opt: S.ChainedScheduler(
        [S.MultiStepLR(opt, [5, 9], gamma=0.5), S.PolynomialLR(opt, total_iters=20)]),
}


@pytest.mark.parametrize("name", sorted(NEW_SCHEDULERS))
def test_new_schedulers_resume_from_state_dict(name):
    build = NEW_SCHEDULERS[name]
    opt = make_sgd()
    sched = build(opt)
    lrs(opt, sched, 7)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    expected = lrs(opt, sched, 10)[1:]

    # build both, then load both (as in PyTorch: building a chainable scheduler on an optimizer that
    # already holds a loaded lr would apply its step 0 to that lr a second time)
    opt2 = make_sgd()
    sched2 = build(opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    np.testing.assert_allclose(lrs(opt2, sched2, 10)[1:], expected, rtol=1e-14)
    assert sched2.get_last_lr() == sched.get_last_lr()
