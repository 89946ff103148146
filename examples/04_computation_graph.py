"""The computation graph of a tiny loss, drawn before and after backward(), as micrograd's draw_dot does.

Run: python examples/04_computation_graph.py
Writes graph_before.png and graph_after.png: one box per operation (its grad_fn name) and for the
weight; after backward() each box shows its gradient (weight.grad = -4) and red arrows the flow back.
"""

import descend as torch
from descend import plot

w = torch.tensor([2.0], requires_grad=True)  # the one weight, starting at 2
x, y = torch.tensor([1.0]), torch.tensor([4.0])
pred = w * x
pred.retain_grad()  # keep this intermediate gradient so the picture can show it
loss = ((pred - y) ** 2).mean()
print(loss.grad_fn.name(), [n.name() for n, _ in loss.grad_fn.next_functions if n is not None])

names = {"w": w, "pred = w * x": pred}
plot.graph(loss, params=names, save="graph_before.png")
loss.backward(retain_graph=True)  # retain_graph: the graph stays, to be drawn again
print("w.grad =", w.grad.item(), " pred.grad =", pred.grad.item())  # 2 (pred - y) * x = -4
plot.graph(loss, params=names, save="graph_after.png")
print("wrote graph_before.png and graph_after.png")
