"""`descend sweep`: an optimizer x learning-rate x seed grid on a built-in data set, as Ray trials.

Importing this module does not import Ray: `descend.cli` adds the command from here, and Ray is
needed only when the command runs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DATASETS", "SweepTrial", "add_parser", "run"]

DATASETS = ("spirals", "blobs", "moons", "mnist", "fashion-mnist")

EPILOG = """examples:
  descend sweep spirals --optim sgd,momentum,adam --lr 1e-3,1e-2,1e-1,1 --seeds 3 --epochs 20
  descend sweep moons --optim sgd,adam --lr 0.01,0.1,1 --plot sweep.png --num-cpus 2
  descend sweep mnist --data ../shared/data/mnist --optim sgd,adam --lr 1e-3,1e-2,1e-1 --epochs 2
  descend sweep spirals --address auto          on the Ray cluster this machine belongs to

Every optimizer is tried with every learning rate and seed (seeds change the initial weights and
the shuffling, not the data); trials run in parallel on a local Ray (--num-cpus caps it) or on the
cluster at --address. A fifth of the data is held out: the table shows each configuration's final
losses and validation accuracy as mean ± std over seeds, and the best trial by validation loss.
"""


class SweepTrial:
    """One trial of `descend sweep`: an MLP trained on fixed data with config's optimizer, lr and seed.

    Holds NumPy arrays (not tensors) so it travels to Ray workers as plain data.

    Example:
        >>> trial = SweepTrial(x, y, xv, yv, hidden=64, layers=2, epochs=20, batch_size=64)  # doctest: +SKIP
        >>> trial({"optimizer": "adam", "lr": 0.01, "seed": 0}).valid_loss[-1]  # doctest: +SKIP
    """

    def __init__(self, x, y, x_valid, y_valid, hidden, layers, epochs, batch_size):
        self.x, self.y, self.x_valid, self.y_valid = x, y, x_valid, y_valid
        self.hidden, self.layers, self.epochs, self.batch_size = hidden, layers, epochs, batch_size

    def __call__(self, config):
        import descend
        from descend import data, nn
        from descend.recipes import make_optimizer, mlp

        x, y = descend.from_numpy(self.x), descend.from_numpy(self.y)
        valid = descend.from_numpy(self.x_valid), descend.from_numpy(self.y_valid)
        model = mlp(x.shape[1], self.hidden, int(self.y.max()) + 1, layers=self.layers)
        optimizer = make_optimizer(config["optimizer"], model.parameters(), config["lr"])
        loader = data.DataLoader(data.TensorDataset(x, y), batch_size=self.batch_size, shuffle=True,
                                 seed=config.get("seed", 0))
        return descend.fit(model, nn.CrossEntropyLoss(), optimizer, loader, valid=valid, epochs=self.epochs,
                           metrics=["accuracy"], progress=False)


def add_parser(sub, fmt, optims: str, types) -> None:
    """Add `sweep` to the `descend` sub-parsers (`types`: descend.cli's argument-type functions)."""
    p = sub.add_parser("sweep", help="an optimizer x learning-rate x seed grid as parallel Ray trials",
                       formatter_class=fmt, epilog=EPILOG,
                       description="Train an MLP for every optimizer, learning rate and seed, in parallel on "
                                   "Ray, and compare their final losses.")
    p.add_argument("dataset", choices=DATASETS, metavar="DATASET", help=", ".join(DATASETS))
    p.add_argument("--optim", default="sgd,momentum,adam", metavar="A,B,...",
                   help=f"comma-separated names from: {optims} (default: sgd,momentum,adam)")
    p.add_argument("--lr", type=types["float_list"], default=[1e-3, 1e-2, 1e-1, 1.0], metavar="X,Y,...",
                   help="learning rates to try with every optimizer (default: 1e-3,1e-2,1e-1,1)")
    p.add_argument("--seeds", type=types["count"], default=3, help="seeds per configuration (default: 3)")
    p.add_argument("--epochs", type=types["count"], default=20, help="epochs per trial (default: 20)")
    p.add_argument("--batch-size", type=types["count"], help="batch size (default: 64; 128 for MNIST)")
    p.add_argument("--data", metavar="DIR", help="mnist/fashion-mnist: the folder with the four .gz files")
    p.add_argument("--limit", type=types["count"], default=10000,
                   help="MNIST training images to use (default: 10000)")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster to run on (e.g. auto, ray://host:10001)")
    p.add_argument("--num-cpus", type=types["count"], metavar="N", help="local Ray CPUs (default: all)")
    p.add_argument("--plot", metavar="FILE", help="draw final valid loss against lr, and the loss curves")


def _data(args):
    """(x, y, x_valid, y_valid, hidden, layers, description) as NumPy arrays, the split fixed by seed 0."""
    from descend import cli, data, recipes

    if args.dataset in ("mnist", "fashion-mnist"):
        if args.data is None:
            raise cli.UsageError(f"{args.dataset} needs --data DIR: a folder holding "
                                 f"{', '.join(recipes.MNIST_FILES)}")
        try:
            folder = recipes.check_mnist_folder(args.data)
            x, y, _, _, _ = recipes.load_mnist(folder, args.dataset, limit=args.limit)
        except (OSError, ValueError) as exc:
            raise cli.UsageError(str(exc).splitlines()[0]) from None
        x = (x - x.mean()) / x.std()
        hidden, layers, what = 256, 1, f"{args.dataset} ({len(y)} images), MLP 784-256-10"
    else:
        if args.data is not None:
            raise cli.UsageError(f"--data is for mnist and fashion-mnist; {args.dataset} is generated")
        make = {"spirals": lambda: data.spirals(200, classes=3, noise=0.2, seed=0),
                "blobs": lambda: data.blobs(600, centers=3, seed=0),
                "moons": lambda: data.moons(600, noise=0.2, seed=0)}[args.dataset]
        x, y = make()
        hidden, layers = 64, 2
        what = f"{args.dataset} ({len(y)} points), MLP {x.shape[1]}-64-64-{int(y.max()) + 1}"
    x, y = np.asarray(x._data, dtype=np.float32), np.asarray(y._data)
    order = np.random.default_rng(0).permutation(len(y))
    n_valid = max(1, len(y) // 5)
    v, t = order[:n_valid], order[n_valid:]
    return x[t], y[t], x[v], y[v], hidden, layers, what


def _config_text(config, sep) -> str:
    return sep.join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items())


def run(args) -> int:
    """Run `descend sweep` from parsed arguments; returns the exit status."""
    from descend import cli

    optims = cli._optim_names(args.optim)
    target = cli._plot_target(args.plot, allow_gif=False)
    if args.address is not None and args.num_cpus is not None:
        raise cli.UsageError("--num-cpus caps a local Ray; with --address the cluster's own size applies")
    try:
        from descend.distributed import sweep
    except ImportError as exc:
        raise cli.UsageError(str(exc)) from None
    x, y, xv, yv, hidden, layers, what = _data(args)
    batch = args.batch_size or (128 if args.dataset in ("mnist", "fashion-mnist") else 64)
    train_fn = SweepTrial(x, y, xv, yv, hidden, layers, args.epochs, batch)
    grid = {"optimizer": optims, "lr": args.lr}
    total = len(optims) * len(args.lr) * args.seeds
    where = f"the Ray cluster at {args.address}" if args.address else "a local Ray"
    print(f"Sweep: {what}, {len(y)} training / {len(yv)} validation; {len(optims)} optimizers x "
          f"{len(args.lr)} learning rates x {args.seeds} seeds = {total} trials of {args.epochs} epochs "
          f"(batch {batch}) on {where}")
    print()
    finished = [0]

    def report(trial):
        finished[0] += 1
        config = _config_text(trial.config, "  ")
        if trial.error:
            outcome = f"error: {trial.error}"
        elif trial.diverged:
            outcome = f"diverged after {trial.history.epochs if trial.history else '?'} epochs"
        else:
            m = trial.metrics
            outcome = f"valid loss {m['valid_loss']:.4f}  valid acc {m['valid_accuracy']:6.1%}"
        print(f"[{finished[0]:>{len(str(total))}}/{total}] {config:<36} {outcome}  {trial.seconds:5.1f} s",
              flush=True)

    try:
        result = sweep(train_fn, grid, seeds=args.seeds, address=args.address, num_cpus=args.num_cpus,
                       on_trial=report)
    except ValueError as exc:  # Ray already running with other settings, a bad address
        raise cli.UsageError(str(exc)) from None
    print()
    print(result.table(metrics=["train_loss", "valid_loss", "valid_accuracy"]))
    print()
    if result.interrupted:
        print(f"interrupted: {len(result)} of {total} trials finished")
    try:
        best = result.best("valid_loss")
    except (KeyError, ValueError):
        print("no trial finished without error or divergence: no best configuration")
    else:
        config = _config_text(best.config, ", ")
        print(f"best: {config} (valid loss {best.metrics['valid_loss']:.4f}, "
              f"valid accuracy {best.metrics['valid_accuracy']:.1%})")
    if target is not None and any(t.ok for t in result):
        cli._save_figure(result.plot(x="lr", metric="valid_loss", hue="optimizer"), target)
    return 130 if result.interrupted else 0


