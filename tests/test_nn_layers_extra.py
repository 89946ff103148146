"""Layers, containers and Module features added for issue 10: values, state, reprs, hooks, errors."""

import copy

import numpy as np
import pytest

import descend
import descend.nn as nn
import descend.nn.functional as F
from descend import gradcheck

RNG = np.random.default_rng(3)


def t64(a, grad=False):
    return descend.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# --- Embedding ---


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    descend.manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4 and emb.weight[4].tolist() == [0.0, 0.0, 0.0]
    assert repr(emb) == "Embedding(5, 3, padding_idx=4)"
    out = emb(descend.tensor([[4, 1], [1, 0]]))
    assert out.shape == (2, 2, 3)
    out.sum().backward()
    assert emb.weight.grad.tolist() == [[1.0] * 3, [2.0] * 3, [0.0] * 3, [0.0] * 3, [0.0] * 3]
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)


def test_embedding_from_pretrained_shares_and_freezes():
    table = descend.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and repr(emb) == "Embedding(2, 2)"
    assert emb(descend.tensor([1, 0])).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(descend.ones(3))
    assert repr(nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)) == \
        "Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)"


# --- batch norm ---


def _batch_norm_ref(a, axes, eps=1e-5):
    return (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + eps)


def test_batchnorm1d_training_running_stats_and_eval():
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    a1, a2 = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 3)) * 2 + 1
    np.testing.assert_allclose(bn(t64(a1)).detach().numpy(), _batch_norm_ref(a1, 0), rtol=1e-10)
    bn(t64(a2))
    mean = 0.8 * (0.2 * a1.mean(0)) + 0.2 * a2.mean(0)
    var = 0.8 * (0.8 + 0.2 * a1.var(0, ddof=1)) + 0.2 * a2.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean)
    np.testing.assert_allclose(bn.running_var.numpy(), var)
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == descend.int64
    bn.eval()
    out = bn(t64(a1)).detach().numpy()
    np.testing.assert_allclose(out, (a1 - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
    assert bn.num_batches_tracked.item() == 2
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [RNG.standard_normal((4, 2, 3)) for _ in range(3)]
    for b in batches:
        bn(t64(b))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean((0, 2)) for b in batches], axis=0))
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([b.var((0, 2), ddof=1) for b in batches], axis=0))


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.weight is None and list(bn.state_dict()) == []
    a = RNG.standard_normal((3, 2, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(bn(descend.tensor(a)).numpy(), _batch_norm_ref(a, (0, 2, 3)), rtol=1e-4,
                               atol=1e-5)
    assert repr(bn) == ("BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                        "track_running_stats=False)")


def test_batchnorm_gradients_and_input_checks():
    bn = nn.BatchNorm1d(3).double()
    bn.weight.data.copy_(t64([0.5, 2.0, -1.0]))
    x = t64(RNG.standard_normal((5, 3, 2)), grad=True)
    assert gradcheck(lambda x, w, b: bn(x) * 1.0, (x, bn.weight, bn.bias))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        bn(descend.ones(3))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(descend.ones(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(descend.ones(1, 3))


def test_batchnorm_state_dict_round_trip():
    a, b = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    a(descend.randn(4, 2))
    missing, unexpected = b.load_state_dict(a.state_dict())
    assert missing == [] and unexpected == []
    assert b.running_mean.tolist() == a.running_mean.tolist() and b.num_batches_tracked.item() == 1


def test_layernorm_and_groupnorm_modules():
    ln = nn.LayerNorm((2, 3))
    assert repr(ln) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    assert ln.weight.shape == (2, 3) and ln.bias.tolist() == [[0.0] * 3] * 2
    a = RNG.standard_normal((4, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(ln(descend.tensor(a)).detach().numpy(), _batch_norm_ref(a, (1, 2)), rtol=1e-4,
                               atol=1e-5)
    assert nn.LayerNorm(3, bias=False).bias is None
    gn = nn.GroupNorm(2, 4)
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert gn(descend.randn(2, 4, 5)).shape == (2, 4, 5)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)


# --- containers and reshaping ---


def test_module_dict_and_parameter_containers_register_their_entries():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    md["dec"] = nn.Linear(3, 1)
    assert list(md.keys()) == ["enc", "act", "dec"] and "act" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    md.pop("act")
    assert list(md) == ["enc", "dec"]
    pl = nn.ParameterList([descend.ones(2), nn.Parameter(descend.zeros(3))])
    pl.append(descend.ones(1))
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert repr(nn.ParameterList([nn.Parameter(descend.ones(2, 3))])) == \
        "ParameterList(\n    (0): Parameter containing: [descend.float32 of size 2x3]\n)"
    pd = nn.ParameterDict({"w": descend.ones(2)})
    pd["b"] = nn.Parameter(descend.zeros(1))
    assert pd.keys() == ["w", "b"] and [n for n, _ in pd.named_parameters()] == ["w", "b"]
    holder = nn.Module()
    holder.params = pd
    assert list(holder.state_dict()) == ["params.w", "params.b"]


def test_unflatten():
    assert nn.Unflatten(1, (2, -1))(descend.zeros(4, 6)).shape == (4, 2, 3)
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        nn.Unflatten(1, (2, 4))(descend.zeros(2, 6))


# --- activations ---


def test_activation_modules_call_their_functions_and_print_like_pytorch():
    x = descend.tensor([-4.0, -1.5, -0.5, 0.5, 2.0, 7.0])
    cases = [
        (nn.ELU(), F.elu(x), "ELU(alpha=1.0)"),
        (nn.CELU(2.0), F.celu(x, 2.0), "CELU(alpha=2.0)"),
        (nn.SELU(), F.selu(x), "SELU()"),
        (nn.SiLU(), F.silu(x), "SiLU()"),
        (nn.Mish(), F.mish(x), "Mish()"),
        (nn.Softplus(beta=2.0), F.softplus(x, 2.0), "Softplus(beta=2.0, threshold=20.0)"),
        (nn.Hardtanh(-2.0, 2.0), F.hardtanh(x, -2.0, 2.0), "Hardtanh(min_val=-2.0, max_val=2.0)"),
        (nn.ReLU6(inplace=True), F.relu6(x), "ReLU6(inplace=True)"),
        (nn.Hardsigmoid(), F.hardsigmoid(x), "Hardsigmoid()"),
        (nn.Hardswish(), F.hardswish(x), "Hardswish()"),
        (nn.LogSigmoid(), F.logsigmoid(x), "LogSigmoid()"),
        (nn.Softsign(), F.softsign(x), "Softsign()"),
        (nn.Threshold(0.1, 20), F.threshold(x, 0.1, 20), "Threshold(threshold=0.1, value=20)"),
    ]
    for module, expected, text in cases:
        assert module(x.clone()).tolist() == expected.tolist()  # clone: ReLU6(inplace=True) writes into x
        assert repr(module) == text
    assert nn.Softmin(dim=0)(x).sum().item() == pytest.approx(1.0)
    with pytest.raises(AssertionError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)


def test_prelu_learns_its_slope():
    prelu = nn.PReLU()
    assert prelu.weight.tolist() == [0.25] and repr(prelu) == "PReLU(num_parameters=1)"
    x = descend.tensor([-2.0, 3.0])
    prelu(x).sum().backward()
    assert prelu.weight.grad.tolist() == [-2.0]
    np.testing.assert_allclose(nn.PReLU(3, init=0.1)(descend.full((2, 3), -1.0)).tolist(), [[-0.1] * 3] * 2)


def test_bilinear_layer():
    layer = nn.Bilinear(2, 3, 4)
    assert layer.weight.shape == (4, 2, 3) and np.abs(layer.weight.detach().numpy()).max() <= 2 ** -0.5
    assert layer(descend.ones(5, 2), descend.ones(5, 3)).shape == (5, 4)


# --- Module features ---


def test_forward_pre_hook_and_forward_hook_replace_args_and_output():
    lin = nn.Linear(2, 1)
    x = descend.ones(3, 2)
    plain = lin(x).tolist()
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
    np.testing.assert_allclose(lin(x).tolist(), [[lin.bias.item() + 1]] * 3, rtol=1e-6)
    h1.remove()
    h2.remove()
    assert lin(x).tolist() == plain

    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 5.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["scale"], with_kwargs=True)
    assert m(descend.ones(1)).tolist() == [10.0]
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        bad(descend.ones(1))


def test_full_backward_hook_sees_and_can_replace_gradients():
    lin = nn.Linear(3, 2).double()
    x = t64(np.ones((4, 3)), grad=True)
    seen = []
    h = lin.register_full_backward_hook(lambda m, gin, gout: seen.append((gin[0].numpy(), gout[0].numpy())))
    (lin(x) * 2).sum().backward()
    grad_in, grad_out = seen[0]
    np.testing.assert_allclose(grad_out, np.full((4, 2), 2.0))
    np.testing.assert_allclose(grad_in, grad_out @ lin.weight.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), grad_in)
    h.remove()
    x.grad = None
    lin.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 3,))
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0 + 1,))
    lin.zero_grad()
    lin(x).sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 4
    np.testing.assert_allclose(lin.bias.grad.numpy(), [12.0, 12.0])  # 4 rows x grad_output 3


def test_backward_hook_with_no_input_needing_grad_gets_none():
    lin = nn.Linear(3, 1)
    calls = []
    lin.register_full_backward_hook(lambda m, gin, gout: calls.append((gin, gout[0].shape)))
    lin(descend.ones(2, 3)).sum().backward()
    assert calls == [((None,), (2, 1))]


def test_buffers_state_dict_prefix_strict_and_conversion():
    m = nn.Module()
    m.register_buffer("kept", descend.ones(2))
    m.register_buffer("scratch", descend.zeros(2), persistent=False)
    m.lin = nn.Linear(2, 1)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict(prefix="net.")) == ["net.kept", "net.lin.weight", "net.lin.bias"]
    assert m.state_dict(keep_vars=True)["lin.weight"] is m.lin.weight
    result = m.load_state_dict({"kept": np.full(2, 3.0), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["lin.weight", "lin.bias"] and result.unexpected_keys == ["extra"]
    assert m.kept.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "lin.weight"'):
        m.load_state_dict({"kept": np.ones(2)})
    bn = nn.BatchNorm1d(2).double()
    assert bn.running_mean.dtype == descend.float64 and bn.num_batches_tracked.dtype == descend.int64
    assert bn.half().weight.dtype == descend.float16


def test_deepcopy_traversal_and_lookup():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    twin = copy.deepcopy(net)
    twin[0].weight.data.zero_()
    assert net[0].weight.abs().sum().item() > 0 and isinstance(twin[0].weight, nn.Parameter)
    assert twin[1].running_mean is not net[1].running_mean
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in net.named_children()] == ["0", "1"]
    assert net.get_parameter("1.weight") is net[1].weight
    assert net.get_buffer("1.running_var") is net[1].running_var
    with pytest.raises(AttributeError, match="no parameter `gamma`"):
        net.get_parameter("1.gamma")
    with pytest.raises(AttributeError, match="has no submodule `2`"):
        net.get_submodule("2")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    names = []
    net.apply(lambda m: names.append(type(m).__name__))
    assert names == ["Linear", "BatchNorm1d", "Sequential"]
