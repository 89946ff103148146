"""descend.metrics: accuracy, mae, rmse against hand-computed values."""

import math

import numpy as np
import pytest

import descend
from descend.metrics import accuracy, get_metric, mae, rmse

# --- accuracy ---


def test_accuracy_multiclass_logits_vs_indices():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 1.0]])
    target = np.array([0, 1, 1, 2])  # argmax is 0, 1, 2, 0: two right
    assert accuracy(logits, target) == 0.5


def test_accuracy_accepts_tensors_and_one_hot_targets():
    probs = descend.tensor([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    one_hot = descend.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert accuracy(probs, one_hot) == pytest.approx(2 / 3)
    assert accuracy(probs, descend.tensor([0, 1, 0])) == 1.0
    assert isinstance(accuracy(probs, descend.tensor([0, 1, 0])), float)


def test_accuracy_binary_probabilities_threshold_half():
    p = np.array([0.2, 0.5, 0.7, 0.49])
    # 0.5 counts as class 1 (p >= threshold)
    assert accuracy(p, np.array([0, 1, 1, 1])) == 0.75
    assert accuracy(p, np.array([0, 1, 1, 1]), threshold=0.6) == 0.5  # 0.5 now class 0


def test_accuracy_binary_logits_column_are_passed_through_sigmoid():
    logits = np.array([[-3.0], [0.5], [2.0], [-0.1]])  # outside [0, 1]: logits, classes 0 1 1 0
    target = np.array([0.0, 1.0, 0.0, 0.0])
    assert accuracy(logits, target) == 0.75
    assert accuracy(logits, target.reshape(-1, 1)) == 0.75


def test_accuracy_integer_predictions_are_labels():
    assert accuracy(np.array([1, 2, 3, 3]), np.array([1, 2, 0, 3])) == 0.75


def test_accuracy_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"4 predictions of 3 classes but targets of shape \(3,\)"):
        accuracy(np.zeros((4, 3)), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="differ in size"):
        accuracy(np.zeros(4), np.zeros(3))


# --- regression metrics ---


def test_mae_and_rmse_hand_computed():
    pred = np.array([1.0, 2.0, 4.0, -1.0])
    target = np.array([1.0, 0.0, 1.0, 1.0])  # errors 0, 2, 3, -2
    assert mae(pred, target) == pytest.approx(7 / 4)
    assert rmse(pred, target) == pytest.approx(math.sqrt((0 + 4 + 9 + 4) / 4))


def test_regression_metrics_flatten_n1_against_n_instead_of_broadcasting():
    pred = descend.tensor([[1.0], [2.0], [4.0]])
    target = descend.tensor([1.0, 2.0, 3.0])
    # broadcasting (3, 1) against (3,) would average a 3x3 table of differences (mae 11/9)
    assert mae(pred, target) == pytest.approx(1 / 3)
    assert rmse(pred, target) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match=r"rmse: predictions and targets differ in size: \(3, 1\) vs \(2,\)"):
        rmse(pred, descend.tensor([1.0, 2.0]))


def test_rmse_is_exact_in_float64_for_float32_inputs():
    pred = np.full(1000, 1.1, dtype=np.float32)
    target = np.zeros(1000, dtype=np.float32)
    assert rmse(pred, target) == pytest.approx(float(np.float32(1.1)), rel=1e-12)


# --- resolving names ---


def test_get_metric_by_name_and_function():
    assert get_metric("accuracy") == ("accuracy", accuracy)
    assert get_metric("acc") == ("accuracy", accuracy)
    assert get_metric("rmse") == ("rmse", rmse)

    def top_error(pred, target):
        return 0.0

    assert get_metric(top_error) == ("top_error", top_error)


def test_get_metric_errors():
    with pytest.raises(ValueError, match=r"unknown metric 'f1'; known: \['acc', 'accuracy', 'mae', 'rmse'\]"):
        get_metric("f1")
    with pytest.raises(TypeError, match="a metric is a name or a function f\\(pred, target\\), got int"):
        get_metric(3)
