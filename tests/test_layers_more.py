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


def test_embedding_bag_without_offsets_has_no_bags():
    w = _w()
    out = F.embedding_bag(descend.tensor([1, 2]), w, descend.tensor([], dtype=descend.long), mode="sum")
    assert out.shape == (0, 2)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.0)


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


def test_local_response_norm_of_a_constant_input_by_formula():
    c, size, alpha, beta, k = 2.0, 3, 0.5, 0.75, 1.0
    out = descend.nn.LocalResponseNorm(size, alpha, beta, k)(descend.full((1, 4, 2, 2), c))
    # size 3 pads one channel each side: the edge channels see 2 squares, the middle ones 3
    edge = c / (k + alpha * 2 * c * c / size) ** beta
    mid = c / (k + alpha * 3 * c * c / size) ** beta
    want = np.array([edge, mid, mid, edge])[None, :, None, None] * np.ones((1, 4, 2, 2))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)


def test_local_response_norm_gradient_of_one_channel():
    x = descend.tensor([[[2.0]]], requires_grad=True)  # y = x / (k + a x^2) ** b, size 1
    F.local_response_norm(x, 1, alpha=1.0, beta=1.0, k=1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[(1 - 4.0) / 25.0]]])  # (k - a x^2) / (k + a x^2)^2


def test_local_response_norm_refuses_2d_naming_the_dims():
    with pytest.raises(ValueError, match=r"got 2 dimensions.*\(2, 3\)"):
        F.local_response_norm(descend.ones(2, 3), 2)


def test_lp_pool_is_the_p_norm_of_each_window():
    x = descend.tensor([[[3.0, -4.0, 1.0, 0.0]]], requires_grad=True)
    out = F.lp_pool1d(x, 2, 2)
    np.testing.assert_allclose(out.detach().numpy(), [[[5.0, 1.0]]])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[0.6, -0.8, 1.0, 0.0]]])  # x / ||window||
    out = descend.nn.LPPool2d(1, (1, 2))(descend.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_allclose(out.numpy(), [[[[3.0], [7.0]]]])
    inf = F.lp_pool1d(descend.tensor([[[1.0, -5.0, 2.0]]]), float("inf"), 3)
    np.testing.assert_allclose(inf.numpy(), [[[5.0]]])


def test_lp_pool_zero_window_has_zero_gradient():
    x = descend.zeros(1, 1, 2, requires_grad=True)
    F.lp_pool1d(x, 2, 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0)


def test_max_unpool_puts_values_back_at_their_indices():
    x = descend.tensor([[[[1.0, 2.0, 0.0, 5.0], [4.0, 3.0, 6.0, 1.0]]]])
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[[4, 6]]]])  # flat positions in the 2 x 4 plane
    back = descend.nn.MaxUnpool2d(2)(y, idx)
    np.testing.assert_allclose(back.numpy(), [[[[0, 0, 0, 0], [4, 0, 6, 0]]]])
    y = descend.tensor([[[4.0, 5.0]]], requires_grad=True)
    out = F.max_unpool1d(y, descend.tensor([[[0, 3]]]), 2, output_size=[5])  # restores an odd length
    np.testing.assert_allclose(out.detach().numpy(), [[[4, 0, 0, 5, 0]]])
    (out * descend.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[[1.0, 4.0]]])  # the gradient read at each index


@pytest.mark.parametrize(
    "args,kwargs,exc,match",
    [
        (([[[1.0]]], [[[1]]], 1), {}, RuntimeError, r"invalid max index: 1 \(output volumes are of size 1x1"),
        (([[[1.0, 2.0]]], [[[0]]], 1), {}, RuntimeError, r"\(\[1, 1, 2, 1\]\).*\[1, 1, 1, 1\]"),
        (([[[1.0]]], [[[0]]], 2), {"output_size": [9]}, ValueError, "dim 0 must be between 0 and 4"),
    ],
)
def test_max_unpool_errors_name_shapes(args, kwargs, exc, match):
    x, i, k = args
    with pytest.raises(exc, match=match):
        F.max_unpool1d(descend.tensor(x), descend.tensor(i), k, **kwargs)


def test_multilabel_margin_loss_by_hand():
    x = descend.tensor([[0.1, 0.2, 0.4, 0.8]], requires_grad=True)
    # targets {3, 0} (read up to -1), non-targets {1, 2}: hinges 0.4, 0.6, 1.1, 1.3 summed, / 4 classes
    loss = descend.nn.MultiLabelMarginLoss()(x, descend.tensor([[3, 0, -1, 1]]))
    np.testing.assert_allclose(loss.item(), 3.4 / 4, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.5, 0.5, 0.5, -0.5]])  # each pair: -1/4 to j, +1/4 to i
    repeated = F.multilabel_margin_loss(descend.tensor([0.1, 0.2, 0.4, 0.8]), descend.tensor([3, 3, -1, 1]),
                                        reduction="none")
    assert repeated.shape == ()
    np.testing.assert_allclose(repeated.item(), 2 * (0.3 + 0.4 + 0.6) / 4, rtol=1e-6)  # 3 counted twice


def test_multilabel_margin_loss_errors_name_the_problem():
    with pytest.raises(RuntimeError, match=r"out of range.*\[-1, 3\)"):
        F.multilabel_margin_loss(descend.zeros(1, 3), descend.tensor([[3, -1, 0]]))
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[1, 2\] for input of size: \[1, 3\]"):
        F.multilabel_margin_loss(descend.zeros(1, 3), descend.tensor([[0, -1]]))
    with pytest.raises(RuntimeError, match="expected scalar type Long"):
        F.multilabel_margin_loss(descend.zeros(1, 3), descend.tensor([[0, -1, 0]], dtype=descend.int32))
