"""descend.problems: the named objectives, their engine gradients, minima and optimizer paths."""

import numpy as np
import pytest

import descend
from descend import optim, problems

TWO_D = ["bowl", "elongated_bowl", "rosenbrock", "beale", "himmelblau", "saddle"]


# Hand-derived gradients, to check the engine's.
def _grad_bowl(x, y):
    return [2 * x, 2 * y]


def _grad_elongated_bowl(x, y):
    return [0.1 * x, 10 * y]


def _grad_rosenbrock(x, y):
    return [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]


def _grad_beale(x, y):
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return [2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
            2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y**2]


def _grad_himmelblau(x, y):
    u, v = x**2 + y - 11, x + y**2 - 7
    return [4 * x * u + 2 * v, 2 * u + 4 * y * v]


def _grad_saddle(x, y):
    return [2 * x, -2 * y]


ANALYTIC = {name: globals()[f"_grad_{name}"] for name in TWO_D}
POINTS = [(0.3, -0.7), (-1.2, 1.1), (1.5, 0.25)]


def test_names_lists_every_problem_2d_first():
    assert problems.names() == [*TWO_D, "quadratic", "parabola"]
    assert all(problems.get(n).dim == 2 for n in TWO_D)
    assert problems.get("quadratic").dim == problems.get("parabola").dim == 1


def test_get_accepts_case_dashes_and_problems():
    bowl = problems.get("bowl")
    assert problems.get("BOWL") is bowl
    assert problems.get("elongated-bowl") is problems.get("elongated_bowl")
    assert problems.get(bowl) is bowl


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        problems.get("banana")
    message = str(info.value)
    assert "unknown problem 'banana'" in message
    for name in problems.names():
        assert name in message


@pytest.mark.parametrize("name", TWO_D)
@pytest.mark.parametrize("point", POINTS)
def test_engine_gradient_matches_the_analytic_formula(name, point):
    np.testing.assert_allclose(problems.get(name).grad(point), ANALYTIC[name](*point), rtol=1e-12, atol=1e-12)


def test_engine_gradient_passes_gradcheck():
    for name in TWO_D:
        f = problems.get(name).f
        p = descend.tensor([0.4, -0.9], dtype=descend.float64, requires_grad=True)
        assert descend.gradcheck(lambda t, f=f: f(t[0], t[1]), (p,))


@pytest.mark.parametrize("name", problems.names())
def test_minima_are_stationary_points_with_value_zero(name):
    problem = problems.get(name)
    for minimum in problem.minima:
        np.testing.assert_allclose(problem.grad(minimum), 0.0, atol=1e-12)
        assert problem.value(minimum) == pytest.approx(0.0, abs=1e-20)


def test_known_minima():
    assert problems.get("rosenbrock").minima == ((1.0, 1.0),)
    assert problems.get("beale").minima == ((3.0, 0.5),)
    assert problems.get("quadratic").minima == ((3.0,),)
    assert len(problems.get("himmelblau").minima) == 4


def test_saddle_has_no_minimum_only_a_saddle_point():
    saddle = problems.get("saddle")
    assert saddle.minima == ()
    assert saddle.min_value is None
    assert saddle.stationary == ((0.0, 0.0),)
    np.testing.assert_array_equal(saddle.grad((0.0, 0.0)), [0.0, 0.0])
    assert "no minimum" in saddle.note
    # A stationary point that is no minimum: the loss keeps falling along y.
    assert saddle.value((0.0, 1.0)) < saddle.value((0.0, 0.0))


def test_f_evaluates_numpy_grids_like_scalars():
    for name in TWO_D:
        problem = problems.get(name)
        X, Y, Z = problem.grid(7)
        assert X.shape == Y.shape == Z.shape == (7, 7)
        assert X[0, 0] == problem.x_range[0] and Y[-1, -1] == problem.y_range[1]
        assert Z[3, 4] == pytest.approx(problem.value((X[3, 4], Y[3, 4])))
    xs, values = problems.get("quadratic").grid(5)
    np.testing.assert_allclose(values, (xs - 3) ** 2)


def test_quadratic_path_is_the_tutorials_worked_example():
    points, losses = problems.get("quadratic").path("gd", start=0.0, steps=5, lr=0.1)
    np.testing.assert_allclose(points[:, 0], [0.0, 0.6, 1.08, 1.464, 1.7712, 2.01696], rtol=1e-12)
    np.testing.assert_allclose(losses, (points[:, 0] - 3) ** 2, rtol=1e-12)


def test_path_shapes_start_and_losses():
    bowl = problems.get("bowl")
    points, losses = bowl.path("adam", steps=7)
    assert points.shape == (8, 2) and losses.shape == (8,)
    np.testing.assert_array_equal(points[0], bowl.start)
    np.testing.assert_allclose(losses, points[:, 0] ** 2 + points[:, 1] ** 2, rtol=1e-12)
    assert bowl.path("gd", steps=0)[0].shape == (1, 2)


def test_gd_path_follows_the_update_rule_on_rosenbrock():
    problem = problems.get("rosenbrock")
    points, _ = problem.path(optim.GD, start=(-1.5, 2.0), steps=3, lr=1e-3)
    for before, after in zip(points[:-1], points[1:]):
        np.testing.assert_allclose(after, before - 1e-3 * np.array(_grad_rosenbrock(*before)), rtol=1e-12)


@pytest.mark.parametrize("name", problems.optimizer_names())
def test_every_optimizer_path_on_bowl_decreases_the_loss(name):
    points, losses = problems.get("bowl").path(name, steps=25)
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.isfinite(points))


def test_suggested_learning_rates_reach_the_minimum():
    for name in ("bowl", "elongated_bowl", "beale", "himmelblau"):
        problem = problems.get(name)
        _, losses = problem.path("adam")
        assert losses[-1] < 0.05 * losses[0], name
    _, losses = problems.get("rosenbrock").path("momentum")
    assert losses[-1] < 0.01


def test_class_with_kwargs_equals_short_name():
    bowl = problems.get("bowl")
    by_class, _ = bowl.path(optim.SGD, steps=10, lr=0.01, momentum=0.9)
    by_name, _ = bowl.path("momentum", steps=10, lr=0.01)
    np.testing.assert_array_equal(by_class, by_name)


def test_diverging_path_keeps_its_shape_and_pads_with_nan():
    points, losses = problems.get("quadratic").path("gd", start=0.0, steps=200, lr=100.0)
    assert points.shape == (201, 1) and losses.shape == (201,)
    assert np.isfinite(losses[0]) and np.isnan(losses[-1]) and np.isnan(points[-1, 0])
    first_bad = int(np.argmax(~np.isfinite(losses)))
    assert 0 < first_bad < 200
    assert np.all(np.isnan(points[first_bad + 1:]))


def test_run_path_on_any_function():
    def f(x, y):
        return (x - 1) ** 2 + (y + 2) ** 2

    points, losses = problems.run_path(f, (0.0, 0.0), "gd", 40, lr=0.25)
    np.testing.assert_allclose(points[-1], [1.0, -2.0], atol=1e-9)
    assert losses[-1] < 1e-15
    with pytest.raises(ValueError, match="steps must be >= 0"):
        problems.run_path(lambda w: w**2, 1.0, "gd", -1, lr=0.1)


def test_path_rejects_a_start_of_the_wrong_length():
    with pytest.raises(ValueError, match="bowl is 2-D, start"):
        problems.get("bowl").path("gd", start=(1.0, 2.0, 3.0))


def test_optimizer_names_resolve_to_classes():
    assert problems.optimizer("GD") == (optim.GD, {})
    assert problems.optimizer("momentum") == (optim.SGD, {"momentum": 0.9})
    assert problems.optimizer("nesterov") == (optim.SGD, {"momentum": 0.9, "nesterov": True})
    assert problems.optimizer("adamw")[0] is optim.AdamW
    with pytest.raises(ValueError) as info:
        problems.optimizer("lbfgs")
    assert "unknown optimizer 'lbfgs'" in str(info.value)
    for name in problems.optimizer_names():
        assert name in str(info.value)


def test_optimizer_labels():
    assert problems.optimizer_label("adam", {"lr": 0.1}) == "Adam (lr=0.1)"
    assert problems.optimizer_label("momentum", {"lr": 0.01}) == "Momentum (lr=0.01, momentum=0.9)"
    assert problems.optimizer_label(optim.SGD) == "SGD"


def test_suggested_lr_lookup():
    bowl = problems.get("bowl")
    assert bowl.lr("gd") == bowl.lrs["gd"]
    assert bowl.lr(optim.SGD, momentum=0.9) == bowl.lrs["momentum"]
    assert bowl.lr(optim.SGD, momentum=0.9, nesterov=True) == bowl.lrs["nesterov"]
    class Lion(optim.GD):
        """An optimizer the problems know nothing about."""

    with pytest.raises(KeyError, match="no suggested learning rate for 'lion' on bowl; known: gd, sgd"):
        bowl.lr(Lion)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; valid names: gd, sgd"):
        bowl.lr("lbfgs")
