"""A one-weight network y = w * x learning w = 4, written exactly as the PyTorch tutorial writes it.

Run: python examples/02_one_weight_model.py
Step 1: prediction 2, MSE loss 4, gradient -4, weight 2 -> 2.4; then the weight approaches 4.
"""

import descend as torch


class SimpleNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor([2.0], requires_grad=True))  # start with weight = 2

    def forward(self, x):
        return self.weight * x  # y = weight * x


model = SimpleNN()
loss_fn = torch.nn.MSELoss()
x_train = torch.tensor([1.0])
y_train = torch.tensor([4.0])  # the goal: weight = 4
optimizer = torch.optim.GD(model.parameters(), lr=0.1)  # plain w <- w - lr * grad

for step in range(1, 21):
    y_pred = model(x_train)  # forward pass
    loss = loss_fn(y_pred, y_train)  # how wrong are we?
    optimizer.zero_grad()
    loss.backward()  # dloss/dweight = 2 (w x - y) x
    grad = model.weight.grad.item()
    optimizer.step()  # weight <- weight - 0.1 * grad
    if step <= 3 or step % 5 == 0:
        print(f"step {step:2d}: prediction {y_pred.item():.4f}  loss {loss.item():.4f}  "
              f"gradient {grad:+.4f}  weight -> {model.weight.item():.4f}")
