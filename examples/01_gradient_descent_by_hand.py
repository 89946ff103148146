"""Gradient descent by hand on L(w) = (w - 3)**2, the tutorials' worked example.

Run: python examples/01_gradient_descent_by_hand.py
Prints 0.6, 1.08, 1.464, 1.7712, 2.017: each step moves w against the slope 2(w - 3).
"""

import descend as torch

w = torch.tensor(0.0, requires_grad=True)  # starting guess for the weight
eta = 0.1  # learning rate (step size)

for _ in range(5):
    loss = (w - 3) ** 2
    loss.backward()  # w.grad = dL/dw = 2(w - 3), by the chain rule
    with torch.no_grad():
        w -= eta * w.grad  # move against the slope
    w.grad = None  # gradients accumulate; reset them for the next step
    print(round(w.item(), 4))
