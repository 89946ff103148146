"""EmbeddingBag, LocalResponseNorm, LPPool, MaxUnpool, MultiLabelMarginLoss: hand-computed cases."""

import numpy as np
import pytest

import descend
import descend.nn.functional as F

W = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]


def _w():
    return descend.tensor(W, requires_grad=True)


def test_embedding_bag_sum_of_bags_by_hand():
    w = _w()
    out = F.embedding_bag(descend.tensor([0, 1, 2, 3, 3]), w, descend.tensor([0, 2, 2]), mode="sum")
    # bag 0 = rows 0 + 1, bag 1 is empty (zeros), bag 2 = rows 2 + 3 + 3
    np.testing.assert_allclose(out.detach().numpy(), [[4.0, 6.0], [0.0, 0.0], [19.0, 22.0]])
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1, 1], [1, 1], [1, 1], [2, 2]])


def test_embedding_bag_mean_leaves_padding_out_of_the_count():
    w = _w()
    out = F.embedding_bag(descend.tensor([[0, 1, 1], [1, 1, 1]]), w, mode="mean", padding_idx=1)
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 2.0], [0.0, 0.0]])  # bag 0 is row 0 alone
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1, 1], [0, 0], [0, 0], [0, 0]])


def test_embedding_bag_max_grad_goes_to_the_first_maximum():
    w = descend.tensor([[1.0, 5.0], [1.0, 5.0], [2.0, 0.0]], requires_grad=True)
    out = F.embedding_bag(descend.tensor([[1, 0, 2]]), w, mode="max")
    np.testing.assert_allclose(out.detach().numpy(), [[2.0, 5.0]])
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[0, 0], [0, 1], [1, 0]])  # the tie goes to row 1 (first)


def test_embedding_bag_per_sample_weights_and_their_gradient():
    w = _w()
    psw = descend.tensor([2.0, -1.0, 0.5], requires_grad=True)
    out = F.embedding_bag(descend.tensor([0, 1, 3]), w, descend.tensor([0, 2]), mode="sum",
                          per_sample_weights=psw)
    np.testing.assert_allclose(out.detach().numpy(), [[2 - 3, 4 - 4], [3.5, 4.0]])
    (out * descend.tensor([[1.0, 10.0], [1.0, 0.0]])).sum().backward()
    np.testing.assert_allclose(psw.grad.numpy(), [1 + 20, 3 + 40, 7])  # g . row
    np.testing.assert_allclose(w.grad.numpy(), [[2, 20], [-1, -10], [0, 0], [0.5, 0]])


def test_embedding_bag_include_last_offset_ends_the_last_bag():
    out = F.embedding_bag(descend.tensor([0, 1, 2, 3]), _w(), descend.tensor([0, 1, 3]), mode="sum",
                          include_last_offset=True)
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 2.0], [8.0, 10.0]])  # row 3 is past the end


def test_embedding_bag_module_from_pretrained_and_repr():
    bag = descend.nn.EmbeddingBag.from_pretrained(descend.tensor(W), mode="sum", padding_idx=-1)
    assert repr(bag) == "EmbeddingBag(4, 2, mode='sum', padding_idx=3)"
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(bag(descend.tensor([[0, 3]])).detach().numpy(), [[1.0, 2.0]])
    fresh = descend.nn.EmbeddingBag(5, 3, padding_idx=2)
    assert fresh.weight.shape == (5, 3) and fresh.weight.requires_grad
    np.testing.assert_allclose(fresh.weight.detach().numpy()[2], 0.0)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(input=[[0, 1]], offsets=[0]), ValueError, "offsets has to be None"),
        (dict(input=[0, 1]), ValueError, "offsets has to be a 1D Tensor"),
        (dict(input=[[[0]]]), ValueError, "dimension 3"),
        (dict(input=[0, 1], offsets=[1]), RuntimeError, "offsets\\[0\\] has to be 0"),
        (dict(input=[0, 1], offsets=[0, 3]), RuntimeError, "input's length 2"),
        (dict(input=[0, 1], offsets=[0, 2, 1]), RuntimeError, "non-decreasing"),
        (dict(input=[[0, 4]]), RuntimeError, "found idx to be 4"),
        (dict(input=[[0, 1]], mode="min"), ValueError, "sum, mean or max"),
        (dict(input=[[0, 1]], mode="max", scale_grad_by_freq=True), ValueError, "frequency"),
        (dict(input=[[0, 1]], per_sample_weights=[[1.0, 1.0]]), NotImplementedError, "mode='mean'"),
        (dict(input=[[0, 1]], mode="sum", per_sample_weights=[1.0]), ValueError, r"\(\(1,\)\).*\(\(1, 2\)\)"),
        (dict(input=[[0, 1]], sparse=True), NotImplementedError, "sparse"),
        (dict(input=[[0, 1]], padding_idx=4), RuntimeError, "-4 through 3"),
    ],
)
def test_embedding_bag_errors_name_the_problem(kwargs, exc, match):
    kwargs = dict(kwargs)
    args = [descend.tensor(kwargs.pop("input")), descend.tensor(W)]
    if "offsets" in kwargs:
        kwargs["offsets"] = descend.tensor(kwargs["offsets"])
    if "per_sample_weights" in kwargs:
        kwargs["per_sample_weights"] = descend.tensor(kwargs["per_sample_weights"])
    with pytest.raises(exc, match=match):
        F.embedding_bag(*args, **kwargs)


def test_embedding_bag_module_checks_padding_idx():
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        descend.nn.EmbeddingBag(3, 2, padding_idx=3)
