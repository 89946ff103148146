"""The seven steps on the tutorials' noisy quadratic: fit a*t**2 + b*t + c to 20 speed readings.

Run: python examples/03_quadratic_fit.py
The data are random (seeded here), so the numbers differ from the tutorial's; the loss goes down the
same way. Step 7 (stop) is a fixed number of steps, as in the tutorial.
"""

import descend as torch

torch.manual_seed(42)
time = torch.arange(0, 20).float()
speed = torch.randn(20) + 0.50 * (time - 9.5) ** 2 + 1


def f(t, params):
    a, b, c = params
    return a * (t**2) + (b * t) + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


params = torch.randn(3).requires_grad_()  # 1. initialise
lr = 1e-5


def apply_step(params, prn=True):
    preds = f(time, params)  # 2. predict
    loss = mse(preds, speed)  # 3. loss
    loss.backward()  # 4. gradient
    params.data -= lr * params.grad.data  # 5. step
    params.grad = None
    if prn:
        print(loss.item())
    return preds


for _ in range(10):  # 6. repeat ... 7. stop
    apply_step(params)
print("params:", params)
