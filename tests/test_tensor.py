"""Tensor construction, dtypes, conversion and repr with PyTorch's defaults."""

import numpy as np
import pytest

import descend


def test_default_dtypes_follow_pytorch():
    assert descend.tensor(1.0).dtype == descend.float32
    assert descend.tensor([1, 2]).dtype == descend.int64
    assert descend.tensor([True]).dtype == descend.bool
    assert descend.tensor(np.zeros(2)).dtype == descend.float64  # arrays keep their dtype
    assert descend.tensor([1.0], dtype=descend.float64).dtype == descend.float64
    assert descend.zeros(2).dtype == descend.float32 and descend.arange(3).dtype == descend.int64
    assert descend.arange(0, 1, 0.5).dtype == descend.float32


def test_python_scalars_do_not_upcast_float32():
    x = descend.tensor([1.0, 2.0])
    for y in (x * 0.1, 0.1 * x, x + 1, x / 3, x**2.5, 2.0**x, x - np.float64(0.5)):
        assert y.dtype == descend.float32
    assert (descend.arange(3) * 0.5).dtype == descend.float32
    assert (descend.arange(3) / descend.arange(1, 4)).dtype == descend.float32
    assert (descend.tensor([1.0], dtype=descend.float64) * 2).dtype == descend.float64


def test_repr_matches_pytorch_format():
    assert repr(descend.tensor(6.0)) == "tensor(6.)"
    assert (
        repr(descend.tensor([0.0121, -0.6397, 0.6416], requires_grad=True))
        == "tensor([ 0.0121, -0.6397,  0.6416], requires_grad=True)"
    )
    assert (
        repr(descend.tensor([-6668.8774, -434.5187, -42.9623]))
        == "tensor([-6668.8774,  -434.5187,   -42.9623])"
    )
    x = descend.tensor(3.0).requires_grad_()
    assert repr(x**2) == "tensor(9., grad_fn=<PowBackward0>)"
    assert repr(descend.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(descend.tensor([1.0], dtype=descend.float64)) == "tensor([1.], dtype=descend.float64)"
    assert "..." in repr(descend.zeros(5000))


def test_bad_input_errors():
    with pytest.raises(ValueError, match="ragged"):
        descend.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="unsupported dtype"):
        descend.tensor([1.0], dtype=np.complex64)
    with pytest.raises(TypeError, match="strings"):
        descend.tensor(["a"])
    with pytest.raises(ValueError, match="cannot be converted to Scalar"):
        descend.ones(3).item()
    with pytest.raises(RuntimeError, match="requires grad"):
        descend.ones(2, requires_grad=True).numpy()


def test_interop_with_numpy():
    x = descend.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(x).shape == (2, 2)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert len(x) == 2 and [r.tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]
    a = np.arange(3.0)
    t = descend.from_numpy(a)
    a[0] = 9
    assert t[0].item() == 9
    assert float(descend.tensor(2.5)) == 2.5 and f"{descend.tensor(2.0):.2f}" == "2.00"
    y = np.ones(2) + descend.tensor([1.0, 2.0], requires_grad=True)  # reflected op keeps the graph
    assert isinstance(y, descend.Tensor) and y.requires_grad


def test_conversions():
    x = descend.tensor([1.5, 2.5], requires_grad=True)
    d = x.double()
    assert d.dtype == descend.float64 and d.grad_fn.name() == "ToCopyBackward0"
    d.sum().backward()
    assert x.grad.dtype == descend.float32
    assert (
        x.long().dtype == descend.int64
        and x.to("cpu") is x
        and x.to(descend.float64).dtype == descend.float64
    )
    assert x.size() == (2,) and x.size(0) == 2 and x.ndim == 1 and x.numel() == 2


def test_factories_and_manual_seed_repeat():
    descend.manual_seed(0)
    a = descend.randn(3, 2)
    descend.manual_seed(0)
    b = descend.randn(3, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert descend.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert descend.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    r = descend.randint(0, 10, (100,))
    assert r.dtype == descend.int64 and 0 <= r.min().item() and r.max().item() < 10
    assert descend.zeros_like(a).shape == (3, 2) and descend.ones(2, 3).shape == (2, 3)
    with pytest.raises(RuntimeError, match="negative dimension"):
        descend.zeros(-1)


def test_in_place_setitem_and_fill():
    x = descend.zeros(3)
    x[1] = 5.0
    x[descend.tensor([0, 2])] = descend.tensor([1.0, 2.0])
    assert x.tolist() == [1.0, 5.0, 2.0]
    x.fill_(3)
    assert x.tolist() == [3.0, 3.0, 3.0]
    x.copy_(descend.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_deepcopy_copies_storage_and_grad():
    import copy

    x = descend.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    y.data += 1
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0]
    assert y.requires_grad and y.grad.tolist() == [3.0, 3.0] and y.grad is not x.grad
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_device_idioms_of_pytorch_tutorials_pick_the_cpu():
    import descend as torch

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert dev == torch.device("cpu") and repr(dev) == "device(type='cpu')"
    x = torch.ones(2).to(dev)
    assert x.device == dev and x.to(dev, torch.float64).dtype == torch.float64
    model = torch.nn.Linear(2, 1).to(dev)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)), batch_size=2)
    assert len(loader) == 2 and model(x).shape == (1,)
    with pytest.raises(RuntimeError, match="device 'cuda:0' is not available"):
        x.to("cuda:0")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        model.to(torch.device("cuda"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(memory_format=None)


def test_legacy_tensor_constructor_is_float32_like_pytorch():
    assert descend.Tensor([1, 2]).dtype == descend.float32 and descend.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert descend.Tensor(2, 3).shape == (2, 3) and descend.Tensor(2, 3).dtype == descend.float32
    assert descend.Tensor(np.arange(3)).dtype == descend.float32
    assert descend.tensor([1, 2]).dtype == descend.int64  # the factory infers, as torch.tensor does
    with pytest.raises(TypeError, match="data or sizes"):
        descend.Tensor(2, "a")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        descend.tensor([1.0], device="cuda")
