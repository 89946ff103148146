"""Named objectives for pictures and the command line: bowls, valleys and saddles to descend.

Each problem is a small frozen dataclass. Its ``f`` is written with Python operators only, so the
same function evaluates a descend ``Tensor`` (and the engine differentiates it) or a NumPy grid
(for contour plots). ``Problem.path`` runs a real ``descend.optim`` optimizer on the problem and
returns the trajectory, which is what ``descend.plot`` and ``descend run``/``descend compare`` draw.

Example:
    >>> from descend import problems
    >>> bowl = problems.get("bowl")
    >>> points, losses = bowl.path("gd", steps=20)
    >>> points.shape, bool(losses[-1] < losses[0])
    ((21, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "Problem",
    "get",
    "names",
    "optimizer",
    "optimizer_label",
    "optimizer_names",
    "run_path",
]

# --- optimizers by name -------------------------------------------------------------------------
# Short names used by the plots and the CLI. "momentum" and "nesterov" are SGD with flags, as in
# PyTorch; the tuple is (class name in descend.optim, default keyword arguments, display label).
OPTIMIZERS: Mapping[str, tuple[str, Mapping[str, object], str]] = MappingProxyType({
    "gd": ("GD", {}, "GD"),
    "sgd": ("SGD", {}, "SGD"),
    "momentum": ("SGD", {"momentum": 0.9}, "Momentum"),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}, "Nesterov"),
    "adam": ("Adam", {}, "Adam"),
    "adamw": ("AdamW", {}, "AdamW"),
    "rmsprop": ("RMSprop", {}, "RMSprop"),
    "adagrad": ("Adagrad", {}, "Adagrad"),
})


def optimizer_names() -> list[str]:
    """The short optimizer names accepted wherever an optimizer may be given as a string.

    Example:
        >>> "adam" in optimizer_names()
        True
    """
    return list(OPTIMIZERS)


def optimizer(name: str) -> tuple[type, dict]:
    """Resolve a short optimizer name (case-insensitive) to ``(class, default kwargs)``.

    Args:
        name: one of ``optimizer_names()``, e.g. ``"momentum"`` -> ``(SGD, {"momentum": 0.9})``.

    Returns:
        The ``descend.optim`` class and a fresh dict of its default keyword arguments.

    Raises:
        ValueError: for an unknown name; the message lists the valid names.

    Example:
        >>> cls, kwargs = optimizer("momentum")
        >>> cls.__name__, kwargs
        ('SGD', {'momentum': 0.9})
    """
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    from descend import optim

    cls_name, defaults, _ = OPTIMIZERS[key]
    return getattr(optim, cls_name), dict(defaults)


def _optimizer_key(opt: str | type, kwargs: Mapping[str, object]) -> str:
    """The short name that best describes an optimizer given as a name or a class plus kwargs."""
    if isinstance(opt, str):
        return opt.lower()
    key = opt.__name__.lower()
    if key == "sgd" and kwargs.get("momentum"):
        return "nesterov" if kwargs.get("nesterov") else "momentum"
    return key


def optimizer_label(opt: str | type, kwargs: Mapping[str, object] | None = None) -> str:
    """A legend label such as ``"Momentum (lr=0.01, momentum=0.9)"`` for an optimizer and its kwargs.

    Example:
        >>> optimizer_label("adam", {"lr": 0.1})
        'Adam (lr=0.1)'
    """
    kwargs = dict(kwargs or {})
    if isinstance(opt, str):
        key = opt.lower()
        name = OPTIMIZERS[key][2] if key in OPTIMIZERS else opt
        kwargs = {**OPTIMIZERS.get(key, ("", {}, ""))[1], **kwargs}
    else:
        name = opt.__name__
    shown = []
    if "lr" in kwargs:
        shown.append(f"lr={kwargs.pop('lr'):g}")
    shown += [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in kwargs.items()]
    return f"{name} ({', '.join(shown)})" if shown else name


# --- running an optimizer on a function ----------------------------------------------------------
def _resolve(opt: str | type, kwargs: Mapping[str, object]) -> tuple[type, dict]:
    """``(class, kwargs)`` from a short name or a class, with the name's defaults under ``kwargs``."""
    if isinstance(opt, str):
        cls, defaults = optimizer(opt)
        return cls, {**defaults, **kwargs}
    return opt, dict(kwargs)


def run_path(
    f: Callable,
    start,
    optimizer: str | type = "gd",
    steps: int = 50,
    **kwargs,
) -> tuple[np.ndarray, np.ndarray]:
    """Descend ``f`` from ``start`` with a real ``descend.optim`` optimizer and record every step.

    The parameters live in one float64 tensor; ``f`` receives its coordinates unpacked
    (``f(x)`` in 1-D, ``f(x, y)`` in 2-D), each a 0-d Tensor, so the engine computes the gradient.
    Once a step overflows (a learning rate that diverges) the rest of the path is NaN, so the
    arrays always have ``steps + 1`` rows.

    Args:
        f: objective of ``len(start)`` scalar Tensors returning a scalar Tensor.
        start: starting point, a number (1-D) or a sequence of coordinates.
        optimizer: a class from ``descend.optim`` or a short name (see ``optimizer_names()``).
        steps: number of optimizer steps.
        **kwargs: optimizer keyword arguments, e.g. ``lr=0.1, momentum=0.9``.

    Returns:
        ``(points, losses)``: points of shape ``(steps + 1, len(start))`` (row 0 is the start) and
        the loss at each of those points, shape ``(steps + 1,)``.

    Example:
        >>> pts, losses = run_path(lambda w: (w - 3) ** 2, 0.0, "gd", steps=2, lr=0.1)
        >>> [round(float(w), 4) for w in pts[:, 0]]
        [0.0, 0.6, 1.08]
    """
    import descend

    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    cls, kwargs = _resolve(optimizer, kwargs)
    start = np.atleast_1d(np.asarray(start, dtype=np.float64)).reshape(-1)
    p = descend.tensor(start, dtype=descend.float64, requires_grad=True)
    opt = cls([p], **kwargs)
    points = np.full((steps + 1, start.size), np.nan)
    losses = np.full(steps + 1, np.nan)
    # A diverging learning rate is something we want to draw, not an error: silence NumPy's
    # overflow warnings here and stop at the first non-finite value instead.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(steps + 1):
            opt.zero_grad()
            loss = f(*(p[j] for j in range(start.size)))
            if loss.ndim:
                loss = loss.sum()
            points[i] = p._data
            losses[i] = float(loss._data)
            if i == steps or not (np.isfinite(losses[i]) and np.all(np.isfinite(points[i]))):
                break
            loss.backward()
            opt.step()
    return points, losses


# --- the problems --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """A named objective with everything needed to draw and explore its descent.

    Attributes:
        name: registry name, e.g. ``"rosenbrock"``.
        formula: the objective as readable text, used in plot titles.
        f: the objective; ``f(x)`` for 1-D problems, ``f(x, y)`` for 2-D. Works on descend Tensors
            (differentiable) and on NumPy arrays (contour grids).
        start: default starting point.
        x_range, y_range: suggested plot window (``y_range`` is None for 1-D problems).
        minima: known global minima (Himmelblau has four; the saddle has none).
        lrs: suggested learning rate per short optimizer name (see ``optimizer_names()``).
        steps: suggested number of steps.
        log_levels: contour levels should be log-spaced (steep walls around a flat valley).
        note: one sentence about what the problem shows.
        stationary: stationary points that are not minima (the saddle point).
    """

    name: str
    formula: str
    f: Callable
    start: tuple[float, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float] | None
    minima: tuple[tuple[float, ...], ...]
    lrs: Mapping[str, float]
    steps: int = 50
    log_levels: bool = False
    note: str = ""
    stationary: tuple[tuple[float, ...], ...] = field(default=())

    @property
    def dim(self) -> int:
        """Number of coordinates: 1 or 2."""
        return len(self.start)

    @property
    def min_value(self) -> float | None:
        """The objective at its minimum, or None when it has none (the saddle is unbounded below)."""
        return self.value(self.minima[0]) if self.minima else None

    def __call__(self, *coords):
        return self.f(*coords)

    def value(self, point) -> float:
        """The objective at ``point`` as a Python float (NumPy evaluation, no graph)."""
        coords = np.atleast_1d(np.asarray(point, dtype=np.float64))
        return float(self.f(*coords))

    def grad(self, point) -> np.ndarray:
        """The gradient at ``point``, computed by descend's autograd engine (float64).

        Example:
            >>> get("bowl").grad((1.0, 2.0)).tolist()
            [2.0, 4.0]
        """
        import descend

        p = descend.tensor(np.atleast_1d(np.asarray(point, dtype=np.float64)), dtype=descend.float64,
                           requires_grad=True)
        loss = self.f(*(p[j] for j in range(p.shape[0])))
        loss.backward()
        return np.array(p.grad._data, dtype=np.float64)

    def grid(self, n: int = 200) -> tuple[np.ndarray, ...]:
        """The objective on an ``n``-point grid over the plot window: ``(xs, values)`` in 1-D,
        ``(X, Y, Z)`` in 2-D."""
        xs = np.linspace(*self.x_range, n)
        if self.dim == 1:
            return xs, np.asarray(self.f(xs), dtype=np.float64)
        X, Y = np.meshgrid(xs, np.linspace(*self.y_range, n))
        return X, Y, np.asarray(self.f(X, Y), dtype=np.float64)

    def lr(self, optimizer: str | type = "gd", **kwargs) -> float:
        """The suggested learning rate for an optimizer given by short name or class (+ its kwargs).

        Raises:
            ValueError: for an unknown short name (the message lists the valid names).
            KeyError: when this problem has no suggestion for that optimizer; lists the known ones.
        """
        key = _optimizer_key(optimizer, kwargs)
        if isinstance(optimizer, str):
            _resolve(optimizer, kwargs)  # an unknown name is a ValueError that lists the valid ones
        if key not in self.lrs:
            raise KeyError(f"no suggested learning rate for {key!r} on {self.name}; "
                           f"known: {', '.join(self.lrs)}")
        return self.lrs[key]

    def path(
        self,
        optimizer: str | type = "gd",
        start=None,
        steps: int | None = None,
        **kwargs,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run a descend optimizer on this problem (see ``run_path``).

        Args:
            optimizer: a ``descend.optim`` class or a short name such as ``"momentum"``.
            start: starting point; defaults to ``self.start``.
            steps: number of steps; defaults to ``self.steps``.
            **kwargs: optimizer arguments; ``lr`` defaults to the suggestion in ``self.lrs``.

        Returns:
            ``(points, losses)`` with shapes ``(steps + 1, dim)`` and ``(steps + 1,)``.

        Example:
            >>> pts, losses = get("rosenbrock").path("adam", steps=10)
            >>> pts.shape
            (11, 2)
        """
        if "lr" not in kwargs:
            kwargs["lr"] = self.lr(optimizer, **kwargs)
        start = self.start if start is None else start
        steps = self.steps if steps is None else steps
        if np.atleast_1d(np.asarray(start)).size != self.dim:
            raise ValueError(f"{self.name} is {self.dim}-D, start {start!r} has the wrong length")
        return run_path(self.f, start, optimizer, steps, **kwargs)


def _bowl(x, y):
    return x**2 + y**2


def _elongated_bowl(x, y):
    return 0.05 * x**2 + 5 * y**2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _saddle(x, y):
    return x**2 - y**2


def _quadratic(w):
    return (w - 3) ** 2


def _parabola(x):
    return x**2


_PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem(
            name="bowl", formula="x² + y²", f=_bowl, start=(-1.5, 1.2),
            x_range=(-2.0, 2.0), y_range=(-2.0, 2.0), minima=((0.0, 0.0),), steps=30,
            lrs={"gd": 0.1, "sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 0.05,
                 "adamw": 0.05, "rmsprop": 0.03, "adagrad": 0.5},
            note="round bowl: every optimizer heads straight for the middle",
        ),
        Problem(
            name="elongated_bowl", formula="0.05x² + 5y²", f=_elongated_bowl, start=(-3.5, 1.0),
            x_range=(-4.0, 4.0), y_range=(-2.0, 2.0), minima=((0.0, 0.0),), steps=50,
            lrs={"gd": 0.19, "sgd": 0.19, "momentum": 0.05, "nesterov": 0.05, "adam": 0.1,
                 "adamw": 0.1, "rmsprop": 0.03, "adagrad": 0.5},
            note="a narrow valley: plain GD bounces across it and crawls along it; momentum helps",
        ),
        Problem(
            name="rosenbrock", formula="(1 − x)² + 100(y − x²)²", f=_rosenbrock, start=(-1.5, 2.0),
            x_range=(-2.0, 2.0), y_range=(-1.0, 3.0), minima=((1.0, 1.0),), steps=500,
            log_levels=True,
            lrs={"gd": 0.001, "sgd": 0.001, "momentum": 0.001, "nesterov": 0.001, "adam": 0.1,
                 "adamw": 0.1, "rmsprop": 0.01, "adagrad": 1.0},
            note="a curved, flat-bottomed valley: easy to find, slow to follow to (1, 1)",
        ),
        Problem(
            name="beale", formula="(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            f=_beale, start=(1.0, 1.5), x_range=(-4.5, 4.5), y_range=(-4.5, 4.5),
            minima=((3.0, 0.5),), steps=300, log_levels=True,
            lrs={"gd": 0.01, "sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, "adam": 0.1,
                 "adamw": 0.1, "rmsprop": 0.03, "adagrad": 1.0},
            note="steep walls around a flat valley: adaptive learning rates shine",
        ),
        Problem(
            name="himmelblau", formula="(x² + y − 11)² + (x + y² − 7)²", f=_himmelblau,
            start=(-0.27, -0.92), x_range=(-5.0, 5.0), y_range=(-5.0, 5.0), steps=100,
            minima=((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                    (-3.779310253377747, -3.283185991286169), (3.584428340330492, -1.848126526964403)),
            log_levels=True,
            lrs={"gd": 0.01, "sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, "adam": 0.1,
                 "adamw": 0.1, "rmsprop": 0.03, "adagrad": 0.5},
            note="four equally good minima: where you end up depends on where and how you start",
        ),
        Problem(
            name="saddle", formula="x² − y²", f=_saddle, start=(-1.5, 0.01),
            x_range=(-2.0, 2.0), y_range=(-2.0, 2.0), minima=(), stationary=((0.0, 0.0),), steps=30,
            lrs={"gd": 0.1, "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.05,
                 "adamw": 0.05, "rmsprop": 0.01, "adagrad": 0.3},
            note="no minimum: (0, 0) is a saddle point and the loss falls forever along y",
        ),
        Problem(
            name="quadratic", formula="(w − 3)²", f=_quadratic, start=(0.0,),
            x_range=(-1.0, 7.0), y_range=None, minima=((3.0,),), steps=10,
            lrs={"gd": 0.1, "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.5,
                 "adamw": 0.5, "rmsprop": 0.1, "adagrad": 1.0},
            note="the worked example: start at w = 0, learning rate 0.1, minimum at w = 3",
        ),
        Problem(
            name="parabola", formula="x²", f=_parabola, start=(-1.5,),
            x_range=(-2.0, 2.0), y_range=None, minima=((0.0,),), steps=10,
            lrs={"gd": 0.1, "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.2,
                 "adamw": 0.2, "rmsprop": 0.05, "adagrad": 0.5},
            note="the tutorial's loss x**2 with the weight starting at -1.5",
        ),
    )
}


def names() -> list[str]:
    """Names of the built-in problems, 2-D first.

    Example:
        >>> names()[:3]
        ['bowl', 'elongated_bowl', 'rosenbrock']
    """
    return list(_PROBLEMS)


def get(name: str | Problem) -> Problem:
    """The built-in problem called ``name`` (case-insensitive, ``-`` or ``_``); a Problem passes through.

    Raises:
        ValueError: for an unknown name; the message lists the valid names.

    Example:
        >>> get("himmelblau").minima[0]
        (3.0, 2.0)
    """
    if isinstance(name, Problem):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in _PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; valid names: {', '.join(_PROBLEMS)}")
    return _PROBLEMS[key]
