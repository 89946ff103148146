"""Convolutional workloads: LeNet-5 and PyTorch's MNIST-example network, descend against PyTorch.

The same model code runs on both libraries (``runner.lib`` is ``torch`` or ``descend``, which spells it
the same way), from the same kind of start, on the same contiguous batches of MNIST (or the synthetic
MNIST-shaped stand-in), at the runner's thread count. Each workload is a ``cnn:<function>`` for
``worker.py`` and returns its seconds, steps, the loss before and after, and the process's peak memory.

Rows (``rows(args, available)``, registered in run.py as the ``cnn`` section):
    LeNet-5 (conv 6 and 16, 5x5; max pools; 120-84-10), Adam(1e-3), batch 64 and 256, one epoch
    (a fifth with ``--quick``);
    PyTorch's examples/mnist ``Net`` (conv 32 and 64, 3x3; dropout; 9216-128-10), Adam(1e-3), batch 64,
    a slice of 6400 images (the network is ~60x LeNet's work per image).

Example:
    >>> python benchmarks/run.py --only cnn  # doctest: +SKIP
"""

from __future__ import annotations

import time

from common import check_decreased, peak_rss_mb
from harness import Contender, Row, Target

# The target: a LeNet-5 epoch in at most 2x PyTorch's time (the goal is to match it).
LENET_VS_TORCH = 2.0
MNIST_ROWS = 60_000
QUICK_ROWS = 12_000
NET_ROWS = 6_400


def _lenet(torch):
    nn, F = torch.nn, torch.nn.functional

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return LeNet5()


def _mnist_example_net(torch):
    """The ``Net`` of pytorch/examples mnist/main.py (same layers, same order)."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def _train(runner, spec, build, loss_of):
    """One timed pass over ``spec["rows"]`` images in contiguous batches; loss checked before and after."""
    import numpy as np  # here, not at import: run.py imports this file before it pins the thread count

    torch = runner.lib
    runner.load()
    X, y = runner.data[0], runner.data[1]
    rows, batch = min(spec["rows"], len(y)), spec["batch"]
    images = np.ascontiguousarray(X[:rows], dtype=np.float32).reshape(-1, 1, 28, 28)
    labels = np.asarray(y[:rows], dtype=np.int64)
    torch.manual_seed(0)
    model = build(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.get("lr", 1e-3))
    batches = [(torch.from_numpy(images[i:i + batch]), torch.from_numpy(labels[i:i + batch]))
               for i in range(0, rows - batch + 1, batch)]
    probe_x, probe_y = torch.from_numpy(images[:512]), torch.from_numpy(labels[:512])

    def probe():
        model.eval()
        with torch.no_grad():
            value = float(loss_of(model(probe_x), probe_y).item())
        model.train()
        return value

    before = probe()
    started = time.perf_counter()
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_of(model(xb), yb)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    after = probe()
    return {"seconds": seconds, "steps": len(batches), "loss_before": before, "loss_after": after,
            "peak_rss_mb": peak_rss_mb(), "problem": check_decreased(before, after, "probe loss")}


def lenet(runner, spec):
    """LeNet-5 with Adam over ``spec["rows"]`` images at ``spec["batch"]``."""
    return _train(runner, spec, _lenet, lambda out, y: runner.lib.nn.functional.cross_entropy(out, y))


def mnist_net(runner, spec):
    """PyTorch's MNIST-example network with Adam (log_softmax + nll_loss, dropout in training)."""
    return _train(runner, spec, _mnist_example_net, lambda out, y: runner.lib.nn.functional.nll_loss(out, y))


def _contenders(fn):
    return [Contender("torch", "PyTorch", "torch", f"cnn:{fn}"),
            Contender("descend", "descend", "descend", f"cnn:{fn}")]


def rows(args, available: set) -> list:
    """The CNN rows: LeNet-5 at batch 64 and 256 (judged against 2x PyTorch), the example net (info)."""
    epoch = QUICK_ROWS if args.quick else MNIST_ROWS
    out = []
    for batch in ((256,) if args.quick else (64, 256)):
        spec = {"batch": batch, "rows": epoch, "lr": 1e-3}
        out.append(Row(f"lenet-{batch}", f"LeNet-5, batch {batch}, Adam(1e-3)", spec,
                       [c for c in _contenders("lenet") if c.lib in available],
                       warmup={**spec, "rows": 10 * batch},
                       targets=[Target("descend", "torch", LENET_VS_TORCH)]))
    spec = {"batch": 64, "rows": 1_280 if args.quick else NET_ROWS, "lr": 1e-3}
    out.append(Row("mnist-net-64", f"examples/mnist Net (32/64 ch), batch 64, {spec['rows']} images", spec,
                   [c for c in _contenders("mnist_net") if c.lib in available],
                   warmup={**spec, "rows": 2 * 64}, targets=[Target("descend", "torch")]))
    return out


def intro(args) -> str:
    """The sentence under the CNN table."""
    epoch = "a fifth of an epoch" if args.quick else "one epoch (60000 images)"
    return (f"LeNet-5 rows: {epoch}, contiguous batches, Adam(1e-3); the example Net: a slice. The same "
            "model code on both libraries; the target applies to LeNet-5.")
