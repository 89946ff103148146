"""descend.nn: Module bookkeeping, state dicts, layers, initialisers, clipping and small training runs."""

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import descend
import descend as torch
import descend.nn as nn
from descend.nn import init
from descend.nn.utils import clip_grad_norm_, clip_grad_value_


class SimpleNN(torch.nn.Module):
    """The first tutorial's model, verbatim apart from the import."""

    def __init__(self):
        super(SimpleNN, self).__init__()  # noqa: UP008 - as the tutorial writes it
        self.weight = torch.nn.Parameter(torch.tensor([2.0], requires_grad=True))  # Start with weight = 2

    def forward(self, x):
        return self.weight * x


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 4)
        self.scale = nn.Parameter(descend.ones(1))
        self.register_buffer("steps", descend.zeros(1))
        self.cache = descend.zeros(2)  # a plain tensor attribute: not a parameter, not a buffer

    def forward(self, x):
        return self.layer(x) * self.scale


# --- the tutorial ---


def test_tutorial_simple_nn_first_step():
    model = SimpleNN()
    loss_fn = torch.nn.MSELoss()
    x_train, y_train = torch.tensor([1.0]), torch.tensor([4.0])
    loss = loss_fn(model(x_train), y_train)
    assert loss.item() == 4.0
    loss.backward()
    assert model.weight.grad.item() == -4.0
    with torch.no_grad():
        model.weight -= 0.1 * model.weight.grad
    assert model.weight.item() == pytest.approx(2.4)


def test_tutorial_simple_nn_converges_to_four():
    model = SimpleNN()
    loss_fn = torch.nn.MSELoss()
    x_train, y_train = torch.tensor([1.0]), torch.tensor([4.0])
    for _ in range(100):
        loss = loss_fn(model(x_train), y_train)
        model.zero_grad()
        loss.backward()
        model.weight._data -= 0.1 * model.weight.grad._data
    assert model.weight.item() == pytest.approx(4.0, abs=1e-5)


def test_parameter_wraps_the_tensor_and_prints_like_pytorch():
    t = torch.tensor([2.0], requires_grad=True)
    p = nn.Parameter(t)
    assert isinstance(p, descend.Tensor)
    assert p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([2.], requires_grad=True)"
    assert np.shares_memory(p._data, t._data)
    assert not nn.Parameter(descend.zeros(2), requires_grad=False).requires_grad


def test_parameter_rejects_integer_data():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(descend.tensor([1, 2]))


# --- registration and traversal ---


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["layer"]
    assert list(b._buffers) == ["steps"]
    assert [n for n, _ in b.named_parameters()] == ["scale", "layer.weight", "layer.bias"]
    assert [n for n, _ in b.named_buffers()] == ["steps"]
    assert [n for n, _ in b.named_children()] == ["layer"]
    assert [type(m).__name__ for m in b.modules()] == ["Block", "Linear"]


def test_dotted_names_in_sequential():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(net.children())) == 3


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    net = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]


def test_reassignment_moves_and_unregisters():
    m = Block()
    m.scale = None
    assert m.scale is None and len(list(m.parameters())) == 2
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        m.scale = descend.ones(1)
    m.layer = nn.Identity()
    assert [n for n, _ in m.named_parameters()] == []
    del m.layer
    assert "layer" not in m._modules


def test_register_helpers_validate_names_and_types():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(descend.ones(2)))
    m.register_buffer("b", descend.zeros(1), persistent=False)
    m.add_module("child", nn.ReLU())
    assert m.w is m._parameters["w"] and isinstance(m.child, nn.ReLU)
    assert list(m.state_dict()) == ["w"]  # non-persistent buffer left out
    with pytest.raises(KeyError, match=r'buffer name can.*t contain "\.", got: a\.b'):
        m.register_buffer("a.b", descend.zeros(1))
    with pytest.raises(TypeError, match="did you mean ReLU\\(\\)"):
        nn.Sequential(nn.ReLU)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing  # noqa: B018


def test_parameter_before_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(descend.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__\\(\\) call"):
        Broken()


def test_forward_missing_is_explained():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(descend.ones(1))


def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert net.training and net[1].training
    assert net.eval() is net
    assert not net.training and not net[1].training
    net.train()
    assert net[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("no")


def test_zero_grad_to_none_or_zeros():
    net = nn.Linear(3, 2)
    net(descend.ones(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Linear", "Sequential"]

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            init.zeros_(m.weight)

    net.apply(zero_linear)
    assert np.all(net[0].weight._data == 0) and np.all(net[1].weight._data == 0)


# --- state dicts ---


def test_state_dict_round_trip_copies_in_place():
    descend.manual_seed(0)
    a, b = Block(), Block()
    sd = a.state_dict()
    assert list(sd) == ["scale", "steps", "layer.weight", "layer.bias"]
    assert all(isinstance(v, descend.Tensor) and not v.requires_grad for v in sd.values())
    before = b.layer.weight._data
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.layer.weight._data is before  # same array: optimizers holding it keep working
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v._data, v2._data)


def test_load_state_dict_accepts_arrays_and_casts():
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([3.0])})
    assert net.weight.dtype == descend.float32
    np.testing.assert_array_equal(net(descend.ones(1, 2))._data, [[6.0]])


def test_load_state_dict_strict_errors_name_every_key():
    net = nn.Linear(2, 1)
    bad = {"weight": np.zeros((1, 3)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(bad)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Linear" in msg
    assert 'Missing key(s) in state_dict: "bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for weight: copying a param with shape (1, 3) from checkpoint, " \
           "the shape in current model is (1, 2)" in msg
    assert np.all(net.weight._data != 0)  # nothing was copied


def test_load_state_dict_non_strict_reports_but_still_checks_shapes():
    net = nn.Linear(2, 1)
    result = net.load_state_dict({"weight": np.ones((1, 2)), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.weight._data, [[1.0, 1.0]])
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        net.load_state_dict({"bias": np.ones(3)}, strict=False)


def test_dtype_conversion_keeps_parameter_objects():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    params = list(net.parameters())
    net(descend.ones(1, 2)).sum().backward()
    assert net.double() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == descend.float64 and p.grad.dtype == descend.float64 for p in params)
    assert net(descend.ones(1, 2, dtype=descend.float64)).dtype == descend.float64
    net.to(descend.float32)
    assert all(p.dtype == descend.float32 for p in params)
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(descend.int64)


def test_deepcopy_gives_independent_parameters():
    net = nn.Linear(2, 2)
    clone = copy.deepcopy(nn.Sequential(net))[0]
    assert isinstance(clone.weight, nn.Parameter) and clone.weight is not net.weight
    np.testing.assert_array_equal(clone.weight._data, net.weight._data)
    clone.weight._data += 1
    assert not np.array_equal(clone.weight._data, net.weight._data)


# --- repr ---


def test_repr_matches_pytorch():
    net = nn.Sequential(nn.Linear(2, 16), nn.ReLU())
    assert repr(net) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=16, bias=True)\n  (1): ReLU()\n)"
    )
    nested = nn.Sequential(nn.Sequential(nn.Linear(1, 1, bias=False)), nn.Dropout(0.2))
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=1, out_features=1, bias=False)\n"
        "  )\n"
        "  (1): Dropout(p=0.2, inplace=False)\n"
        ")"
    )
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(SimpleNN()) == "SimpleNN()"


def test_module_list_repr_collapses_repeats():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(layers) == (
        "ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n  (3): ReLU()\n)"
    )


# --- containers ---


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    net = nn.Sequential(a, b, c)
    assert len(net) == 3 and net[0] is a and net[-1] is c
    assert list(net) == [a, b, c]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert head(descend.ones(4, 2)).shape == (4, 3)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        net[3]  # noqa: B018
    net.append(nn.Sigmoid())
    assert len(net) == 4 and isinstance(net[3], nn.Sigmoid)
    del net[1]
    assert [n for n, _ in net.named_children()] == ["0", "1", "2"]
    net[1] = nn.Tanh()
    assert isinstance(net[1], nn.Tanh)


def test_sequential_from_ordered_dict():
    net = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 4)), ("act", nn.ReLU())]))
    assert [n for n, _ in net.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert net.hidden is net[0]


def test_module_list_registers_parameters():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 2 and len(list(layers.parameters())) == 4
    assert isinstance(layers[-1], nn.Linear)
    assert len(layers[:1]) == 1


# --- layers ---


def test_linear_shapes_and_default_init_bounds():
    descend.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight._data, layer.bias._data
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == descend.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound) has std bound / sqrt(3) and fills its range
    assert np.std(w) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(w).max() > 0.99 * bound
    assert nn.Linear(2, 3, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=descend.float64).weight.dtype == descend.float64


def test_linear_argument_errors():
    with pytest.raises(TypeError, match="pass it by keyword: dtype=float64"):
        nn.Linear(2, 3, True, descend.float64)
    with pytest.raises(ValueError, match="in_features must be a non-negative integer, got -1"):
        nn.Linear(-1, 3)
    with pytest.raises(RuntimeError, match="descend runs on the CPU"):
        nn.Linear(2, 3).to("cuda")


def test_linear_init_follows_manual_seed():
    descend.manual_seed(5)
    a = nn.Linear(3, 3).weight._data.copy()
    descend.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight._data, a)


def test_linear_forward_matches_numpy():
    layer = nn.Linear(3, 2)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = layer(descend.from_numpy(x))
    np.testing.assert_allclose(out._data, x @ layer.weight._data.T + layer.bias._data, rtol=1e-6)


def test_activation_modules_call_their_functions():
    x = descend.tensor([[-1.0, 0.5, 2.0]])
    np.testing.assert_allclose(nn.ReLU()(x)._data, [[0.0, 0.5, 2.0]])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x)._data, [[-0.1, 0.5, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x)._data, 1 / (1 + np.exp(-x._data)), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x)._data, np.tanh(x._data), rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax(dim=1)(x)._data.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(nn.LogSoftmax(dim=1)(x)._data).sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(nn.GELU()(x)._data, [[-0.158655, 0.345731, 1.954500]], atol=1e-5)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(descend.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(descend.zeros(2, 3, 4)).shape == (6, 4)


def test_dropout_module_train_and_eval():
    descend.manual_seed(0)
    drop = nn.Dropout(0.25)
    out = drop(descend.ones(10_000))._data
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02
    x = descend.ones(10)
    assert drop.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# --- init ---


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize(
    "fn,kwargs,std",
    [
        (init.xavier_uniform_, {}, math.sqrt(2 / (200 + 300))),
        (init.xavier_normal_, {"gain": 2.0}, 2.0 * math.sqrt(2 / (200 + 300))),
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(300)),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(300)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(300) / math.sqrt(3)),
    ],
)
def test_scaled_initialisers_have_their_documented_std(fn, kwargs, std):
    descend.manual_seed(0)
    w = descend.empty(200, 300)  # fan_in 300, fan_out 200
    assert fn(w, **kwargs) is w
    assert np.mean(w._data) == pytest.approx(0.0, abs=0.01 * std * 10)
    assert np.std(w._data) == pytest.approx(std, rel=0.02)
    if fn in (init.xavier_uniform_, init.kaiming_uniform_):
        assert np.abs(w._data).max() <= math.sqrt(3) * std * (1 + 1e-6)


def test_simple_initialisers():
    descend.manual_seed(0)
    w = nn.Parameter(descend.empty(1000))  # requires grad: init must not record a graph
    init.uniform_(w, -2.0, 3.0)
    assert w._data.min() >= -2.0 and w._data.max() < 3.0 and w.grad_fn is None
    init.normal_(w, 1.0, 0.5)
    assert np.mean(w._data) == pytest.approx(1.0, abs=0.05) and np.std(w._data) == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(init.constant_(w, 0.3)._data, np.full(1000, 0.3, np.float32))
    np.testing.assert_array_equal(init.ones_(w)._data, np.ones(1000))
    np.testing.assert_array_equal(init.zeros_(w)._data, np.zeros(1000))


def test_init_with_explicit_generator_is_reproducible():
    a = init.normal_(descend.empty(5), generator=np.random.default_rng(3))._data
    b = init.normal_(descend.empty(5), generator=np.random.default_rng(3))._data
    np.testing.assert_array_equal(a, b)


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(descend.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(descend.empty(2, 2), mode="fan_avg")


# --- gradient clipping ---


def _with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(descend.zeros(len(g)))
        p.grad = descend.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_scales_by_pytorch_formula():
    params = _with_grads([3.0, 0.0], [0.0, 4.0])  # total 2-norm 5
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, descend.Tensor) and total.item() == pytest.approx(5.0)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad._data, [3 * coef, 0.0], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad._data, [0.0, 4 * coef], rtol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _with_grads([0.3, 0.4])
    assert clip_grad_norm_(params, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_allclose(params[0].grad._data, [0.3, 0.4])


def test_clip_grad_norm_other_norms():
    params = _with_grads([3.0, -7.0], [5.0])
    assert clip_grad_norm_(params, 100.0, norm_type=float("inf")).item() == pytest.approx(7.0)
    assert clip_grad_norm_(params, 100.0, norm_type=1).item() == pytest.approx(15.0)
    total = clip_grad_norm_(params, 3.5, norm_type="inf")
    assert total.item() == pytest.approx(7.0)
    np.testing.assert_allclose(params[0].grad._data, [1.5, -3.5], rtol=1e-5)


def test_clip_grad_norm_nonfinite_and_empty():
    params = _with_grads([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([nn.Parameter(descend.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value():
    params = _with_grads([3.0, -0.5, -9.0])
    assert clip_grad_value_(params, 1.0) is None
    np.testing.assert_array_equal(params[0].grad._data, [1.0, -0.5, -1.0])


def test_utils_importable_as_pytorch_path():
    import descend.nn.utils

    assert descend.nn.utils.clip_grad_norm_ is clip_grad_norm_


# --- small training runs ---


def _train(model, loss_fn, x, y, steps, lr, momentum=0.9):
    """Full-batch gradient descent with momentum, written out by hand."""
    params = list(model.parameters())
    velocity = [np.zeros_like(p._data) for p in params]
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        for p, v in zip(params, velocity):
            v *= momentum
            v += p.grad._data
            p._data -= lr * v
    return loss.item()


def test_two_layer_mlp_fits_noisy_sine():
    descend.manual_seed(0)
    rng = np.random.default_rng(0)
    x = np.linspace(-3, 3, 128, dtype=np.float32).reshape(-1, 1)
    y = (np.sin(x) + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    loss = _train(model, nn.MSELoss(), descend.from_numpy(x), descend.from_numpy(y), steps=1500, lr=0.05)
    assert loss < 0.1 * np.var(y)  # variance ~0.52; noise floor 0.01
    with descend.no_grad():
        pred = model(descend.tensor([[0.0], [1.5]]))._data
    np.testing.assert_allclose(pred[:, 0], np.sin([0.0, 1.5]), atol=0.15)


def test_classifier_separates_blobs():
    descend.manual_seed(1)
    rng = np.random.default_rng(1)
    centers = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]])
    labels = rng.integers(0, 3, 300)
    points = (centers[labels] + 0.6 * rng.standard_normal((300, 2))).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    _train(model, nn.CrossEntropyLoss(), descend.from_numpy(points), descend.from_numpy(labels), 200, 0.1)
    model.eval()
    with descend.no_grad():
        predicted = model(descend.from_numpy(points))._data.argmax(axis=1)
    assert (predicted == labels).mean() > 0.95
