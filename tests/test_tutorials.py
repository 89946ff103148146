"""The worked examples of the tutorials in shared/seeds, written as the tutorials write them."""

import numpy as np

import descend as torch


def test_w_minus_3_squared_worked_example():
    w = torch.tensor(0.0, requires_grad=True)
    seen = []
    for _ in range(5):
        loss = (w - 3) ** 2
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        seen.append(round(w.item(), 4))
    assert seen == [0.6, 1.08, 1.464, 1.7712, 2.017]


def test_x_squared_gradient_at_3():
    def f(x):
        return x**2

    xt = torch.tensor(3.0).requires_grad_()
    yt = f(xt)
    assert repr(yt) == "tensor(9., grad_fn=<PowBackward0>)"
    yt.backward()
    assert repr(xt.grad) == "tensor(6.)"


def test_noisy_quadratic_fit_lowers_the_loss():
    torch.manual_seed(42)
    time = torch.arange(0, 20).float()
    speed = torch.randn(20) + 0.50 * (time - 9.5) ** 2 + 1

    def f(t, params):
        a, b, c = params
        return a * (t**2) + (b * t) + c

    def mse(preds, targets):
        return ((preds - targets) ** 2).mean()

    params = torch.randn(3).requires_grad_()
    lr = 1e-5
    losses = []
    for _ in range(10):
        preds = f(time, params)
        loss = mse(preds, speed)
        loss.backward()
        params.data -= lr * params.grad.data
        params.grad = None
        losses.append(loss.item())
    assert loss.grad_fn.name() == "MeanBackward0"
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 0.5 * losses[0]


def test_noisy_quadratic_gradient_formula():
    time = torch.arange(0, 20).float()
    speed = 0.5 * (time - 9.5) ** 2 + 1
    params = torch.tensor([0.0121, -0.6397, 0.6416]).requires_grad_()
    a, b, c = params
    preds = a * time**2 + b * time + c
    ((preds - speed) ** 2).mean().backward()
    t, y = np.arange(20.0), 0.5 * (np.arange(20.0) - 9.5) ** 2 + 1
    r = 0.0121 * t**2 - 0.6397 * t + 0.6416 - y
    expected = [np.mean(2 * r * t**2), np.mean(2 * r * t), np.mean(2 * r)]
    np.testing.assert_allclose(params.grad.numpy(), expected, rtol=1e-4)


def test_pytorch_quickstart_loop_runs_unchanged(tmp_path):
    """PyTorch's quickstart (train/test loops, device, .type(torch.float), save/load) on small data."""
    from descend import nn

    torch.manual_seed(0)
    y_all = torch.randint(0, 2, (128,))
    left_half = (torch.arange(28) < 14).float()
    sign = (2 * y_all - 1).float().reshape(-1, 1, 1, 1)  # class 1 brighter on the left, class 0 darker
    x_all = torch.randn(128, 1, 28, 28) + 0.5 * sign * left_half
    dataset = torch.utils.data.TensorDataset(x_all, y_all)
    train_dataloader = torch.utils.data.DataLoader(dataset, batch_size=32)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def test(dataloader):
        model.eval()
        correct = 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                correct += (model(X).argmax(1) == y).type(torch.float).sum().item()
        return correct / len(dataloader.dataset)

    before = test(train_dataloader)
    for _ in range(5):
        model.train()
        for X, y in train_dataloader:
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    assert test(train_dataloader) > max(before, 0.8)
    torch.save(model.state_dict(), tmp_path / "model.pth")
    fresh = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10))
    fresh.load_state_dict(torch.load(tmp_path / "model.pth", weights_only=True))
    assert torch.equal(fresh(x_all), model(x_all))
    assert x_all.type() == "descend.FloatTensor" and y_all.type(torch.float).dtype == torch.float32
