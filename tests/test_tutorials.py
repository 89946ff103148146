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
