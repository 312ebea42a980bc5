"""The gradient checker's rules, one at a time: where f is evaluated, how the step
shrinks, what error is estimated and allowed, which coordinate is reported and why.
Fast: small inputs, a few hundred evaluations of f at most."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from grader.grading.central_differences import (
    EPS,
    PAIRS,
    SAFETY,
    SHRINK,
    STEP,
    NotANumber,
    numerical_gradient,
    numerical_gradient_with_error,
)
from grader.grading.gradcheck import (
    ATOL,
    RTOL,
    GradCheck,
    check_coordinates,
    check_directions,
    check_gradient,
    vjp_objective,
)


@pytest.fixture(autouse=True)
def no_warning_escapes():
    """Every test here fails if the checker lets a warning out."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


class Recorded:
    """f, keeping a copy of every point it is evaluated at."""

    def __init__(self, f):
        self.f, self.points = f, []

    def __call__(self, x):
        self.points.append(np.array(x, copy=True))
        return self.f(x)


def cube(v):
    return float(np.sum(v ** 3))


def quad(v):
    """A quadratic: its central differences are exact, so it settles at the first pair."""
    return float(np.sum(v ** 2 + v))


def graph_j(x):
    """J(x) = cos(sin(x^2) + 3x^2), summed: the chain-rule exercise."""
    return float(np.sum(np.cos(np.sin(x ** 2) + 3 * x ** 2)))


def graph_j_grad(x):
    return -np.sin(np.sin(x ** 2) + 3 * x ** 2) * (np.cos(x ** 2) * 2 * x + 6 * x)


def jump(v):
    return float(np.sum(v >= 0))


def unit_directions(seed: int, shape: tuple[int, ...], count: int) -> list[np.ndarray]:
    """The directions check_directions draws from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        v = rng.standard_normal(shape)
        out.append(v / np.linalg.norm(v))
    return out


# -- where f is evaluated ---------------------------------------------------------------------


def test_each_coordinate_is_moved_by_h_and_h_over_2_alone():
    """For a smooth f, is each coordinate in turn moved to x_i + h, x_i - h, x_i + h/2 and
    x_i - h/2, with h = STEP max(1, |x_i|) and the other coordinates left where they are?"""
    x = np.array([[2.0, -0.5], [0.7, -30.0]])
    f = Recorded(cube)
    numerical_gradient(f, x)
    expected = []
    for index in np.ndindex(*x.shape):
        h = STEP * max(1.0, abs(x[index]))
        for t in (h, -h, h / 2, -h / 2):
            point = x.copy()
            point[index] = x[index] + t
            expected.append(point)
    assert len(f.points) == len(expected) == 4 * x.size
    for got, want in zip(f.points, expected, strict=True):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("at", [2e-4, -2e-4, 4.3e-3, -1.08e-2, 2e-2])
def test_near_a_zero_of_the_derivative_three_agreeing_extrapolations_settle_it(at):
    """Near the zero of J' at 0, where D(h) is all h^2 term while R is already exact, are the
    steps h / SHRINK^k and h / SHRINK^k / 2, and does the derivative settle at the third
    pair (three R agreeing), right to within SAFETY times its estimated error?"""
    x = np.array([at])
    f = Recorded(graph_j)
    estimate = numerical_gradient_with_error(f, x)
    assert estimate.settled.all()
    assert len(f.points) == 12
    offsets = [float(p[0] - x[0]) for p in f.points]
    for k in range(3):
        t = STEP / SHRINK ** k
        assert offsets[4 * k:4 * k + 4] == pytest.approx([t, -t, t / 2, -t / 2], rel=1e-9)
    assert abs(estimate.value[0] - graph_j_grad(x)[0]) <= SAFETY * estimate.error[0] < 1e-10


def test_at_x_300_the_derivative_settles_at_the_ninth_pair():
    """J at x = 300 has a period a hundred times shorter than the first step: does the step
    shrink until it settles, at the ninth pair, with the derivative right to 1e-7?"""
    x = np.array([300.0])
    f = Recorded(graph_j)
    estimate = numerical_gradient_with_error(f, x)
    assert estimate.settled.all()
    assert len(f.points) == 4 * 9
    assert estimate.value == pytest.approx(graph_j_grad(x), rel=1e-7)
    assert check_coordinates(graph_j_grad(x), graph_j, x).passed


@pytest.mark.parametrize("at, pairs", [(0.2, 1), (0.13, 2), (-0.13, 2)])
def test_a_derivative_settles_once_the_spread_is_within_settle_of_it(at, pairs):
    """For x^3, |D(h) - D(h/2)| = 3h^2/4: at x = 0.2 that is within SETTLE of D at the
    first pair; at x = 0.13 it is not, and is 16 times smaller at the second. Does each
    settle at that pair?"""
    f = Recorded(cube)
    estimate = numerical_gradient_with_error(f, np.array([at]))
    assert estimate.settled.all()
    assert len(f.points) == 4 * pairs
    assert estimate.value == pytest.approx([3 * at ** 2], rel=1e-9)


def test_differences_that_disagree_only_by_round_off_settle_at_once():
    """With a large constant in f (1e6 + 1e-4 sin x), whose two differences disagree by
    round-off far more than by SETTLE of the derivative, does the derivative settle at the
    first pair, within what round-off explains, and the right gradient pass?"""
    x = np.array([0.5])
    f = Recorded(lambda v: 1e6 + 1e-4 * float(np.sum(np.sin(v))))
    estimate = numerical_gradient_with_error(f, x)
    assert estimate.settled.all() and len(f.points) == 4
    assert check_coordinates(1e-4 * np.cos(x), f, x).passed


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_a_kink_between_h_over_2_and_h_is_stepped_past(side):
    """With a kink of |x - a| at 0.7 h from x, the first pair straddles it and the second
    is the first clear of it (its spread falls too steeply to count): does the third pair
    settle on the slope on x's side, the other side's slope failing?"""
    x = np.array([0.5])
    kink = 0.5 + side * 0.7 * STEP
    f = Recorded(lambda v: float(np.sum(np.abs(v - kink))))
    slope = np.array([-side])
    assert check_coordinates(slope, f, x).passed
    assert len(f.points) == 12
    assert not check_coordinates(-slope, f, x).passed


def test_the_first_pair_clear_of_a_domain_edge_counts_as_a_first_pair():
    """For a linear f undefined below 0, at x = 1.5e-4 the first two pairs reach past the
    edge: are they skipped and the derivative taken at the third, as at a first pair?"""
    x = np.array([1.5e-4])
    f = Recorded(lambda v: float(v[0]) if v[0] > 0 else np.nan)
    assert check_coordinates(np.ones(1), f, x).passed
    assert len(f.points) == 12
    assert not check_coordinates(np.full(1, 1.001), f, x).passed


def test_an_identically_zero_function_has_a_zero_gradient():
    """Is f = 0 everywhere (no round-off to allow for) differentiated at once to exactly 0,
    and a zero gradient passed, a nonzero one failed?"""
    x = np.array([0.5, -2.0])
    f = Recorded(lambda v: 0.0)
    estimate = numerical_gradient_with_error(f, x)
    assert np.array_equal(estimate.value, np.zeros(2)) and estimate.settled.all()
    assert len(f.points) == 8
    assert check_coordinates(np.zeros(2), lambda v: 0.0, x).passed
    assert not check_coordinates(np.array([0.0, 1e-9]), lambda v: 0.0, x).passed


def test_a_derivative_that_never_settles_stops_after_pairs_pairs():
    """At a jump of f, are exactly PAIRS pairs of steps tried (4 evaluations each) before
    the check fails saying the differences did not settle?"""
    f = Recorded(jump)
    result = check_coordinates(np.zeros(1), f, np.zeros(1))
    assert len(f.points) == 4 * PAIRS
    assert not result.passed
    assert result.reason == "the central differences did not settle"
    assert result.worst_index == (0,)
    assert result.numeric_error > 0 and np.isfinite(result.numeric_error)
    assert result.allowed == pytest.approx(RTOL * abs(result.numeric) + ATOL, rel=1e-12)
    assert result.difference == abs(result.numeric) and result.analytic == 0.0


def test_a_domain_edge_within_the_step_is_stepped_around():
    """With log at x = 1e-4, where x - h is negative for the first pairs, are those pairs
    skipped and the derivative 1/x checked on shorter steps, a 1e-3 error still caught?"""
    x = np.array([1e-4, 1.5e-4, 2.0])  # at 1.5e-4, x - h/4 < 0 < x - h/8
    f = lambda v: float(np.sum(np.log(v)))  # noqa: E731
    assert check_coordinates(1 / x, f, x).passed
    assert not check_coordinates(1 / x * (1 + 1e-3), f, x).passed
    estimate = numerical_gradient_with_error(f, x)
    assert estimate.value == pytest.approx(1 / x, rel=1e-8)


def test_the_directional_check_steps_along_unit_vectors():
    """Does check_directions move x along each random unit vector v to x + h v, x - h v,
    x + h v / 2 and x - h v / 2, with h = STEP max(1, max |x|)?"""
    x = np.array([[0.5, -3.0], [1.5, 0.25]])
    f = Recorded(cube)
    result = check_directions(3 * x ** 2, f, x, np.random.default_rng(7), directions=3)
    assert result.passed
    h = STEP * 3.0
    vs = unit_directions(7, x.shape, 3)
    assert len(f.points) == 4 * 3
    for k, v in enumerate(vs):
        for j, t in enumerate((h, -h, h / 2, -h / 2)):
            assert f.points[4 * k + j] == pytest.approx(x + t * v, rel=1e-15, abs=1e-15)


def test_the_directional_step_has_a_floor_of_step():
    """For an input of small values, is the directional step STEP, not STEP max |x|?"""
    x = np.array([0.01, -0.02])
    f = Recorded(cube)
    check_directions(3 * x ** 2, f, x, np.random.default_rng(0), directions=1)
    assert np.linalg.norm(f.points[0] - x) == pytest.approx(STEP, rel=1e-9)


# -- what is estimated ---------------------------------------------------------------------


@pytest.mark.parametrize("power", [2, 3, 4, 5])
def test_polynomials_are_differentiated_to_round_off(power):
    """Does the extrapolation (4 D(h/2) - D(h)) / 3 cancel the h^2 term, so that x^p for
    p <= 5 comes out right to 1e-9 of the gradient at the first pair of steps?"""
    x = np.array([1.7, -0.6, 2.5, 10.0])
    f = Recorded(lambda v: float(np.sum(v ** power)))
    estimate = numerical_gradient_with_error(f, x)
    exact = power * x ** (power - 1)
    assert estimate.value == pytest.approx(exact, rel=1e-9, abs=1e-9 * np.max(np.abs(exact)))
    assert estimate.settled.all()
    assert len(f.points) == 4 * x.size


def test_the_error_estimate_is_the_spread_of_the_two_differences():
    """For x^3, D(h) = 3x^2 + h^2: is the error estimate |D(h) - D(h/2)| = 3 h^2 / 4 (its
    round-off is far smaller)?"""
    x = np.array([2.0, 0.5])
    h = STEP * np.maximum(1.0, np.abs(x))
    estimate = numerical_gradient_with_error(cube, x)
    assert estimate.error == pytest.approx(0.75 * h ** 2, rel=1e-4)


def test_the_round_off_estimate_is_eps_f_over_the_step():
    """For a constant f = c (derivative exactly 0, no truncation), is the error estimate the
    round-off 1.5 eps (|f(x+h)| + |f(x-h)|) / h that R inherits from its two differences?"""
    x = np.array([0.5, -4.0])
    c = 1e6
    h = STEP * np.maximum(1.0, np.abs(x))
    estimate = numerical_gradient_with_error(lambda v: c, x)
    assert np.array_equal(estimate.value, np.zeros(2))
    assert estimate.error == pytest.approx(1.5 * EPS * 2 * c / h, rel=1e-9)
    assert estimate.settled.all()


def test_the_quotient_divides_by_the_step_actually_taken():
    """Is the derivative of f(x) = x exactly 1 at 1e15 + 8, because the quotient divides by
    (x + h) - (x - h) as rounded rather than by 2h?"""
    for at in (0.1, 300.7, 1e15 + 8.0):
        assert numerical_gradient(lambda v: float(v[0]), np.array([at]))[0] == 1.0


def test_integer_inputs_are_differentiated_as_floats():
    """Is the gradient at an integer input (a list of ints) taken in float64, not rounded
    to the integer grid?"""
    value = numerical_gradient(cube, [1, 2])
    assert value == pytest.approx([3.0, 12.0], rel=1e-9)
    assert check_coordinates([3.0, 12.0], cube, [1, 2]).passed
    assert not check_coordinates([3.0, 12.1], cube, [1, 2]).passed


def test_where_f_is_never_finite_the_gradient_is_nan_and_unsettled():
    """Where f is NaN on both sides of x at every step, is the numerical gradient NaN, its
    error infinite and the coordinate unsettled, the other coordinates unaffected?"""
    x = np.array([0.5, 0.25])

    def f(v):
        return np.nan if v[1] != 0.25 else cube(v)

    estimate = numerical_gradient_with_error(f, x)
    assert estimate.value[0] == pytest.approx(0.75, rel=1e-9) and np.isnan(estimate.value[1])
    assert estimate.error[1] == np.inf and np.isfinite(estimate.error[0])
    assert list(estimate.settled) == [True, False]
    assert np.isnan(estimate.value[~estimate.settled]).all()  # a mask, usable as one


# -- what is allowed ---------------------------------------------------------------------------


def test_the_allowed_difference_is_the_documented_rule():
    """Is ``allowed`` 1e-6 max(|a|, |n|) + 1e-12 + 4 (estimated error of n), as
    docs/grading.md says, and does a gradient just inside it pass and one just outside fail?"""
    assert (RTOL, ATOL, SAFETY) == (1e-6, 1e-12, 4.0)
    x = np.array([2.0])
    estimate = numerical_gradient_with_error(cube, x)
    numeric, error = float(estimate.value[0]), float(estimate.error[0])
    rule = RTOL * abs(numeric) + ATOL + SAFETY * error
    exact = check_coordinates(np.array([numeric]), cube, x)
    assert exact.passed and exact.difference == 0.0
    assert exact.allowed == pytest.approx(rule, rel=1e-12)
    assert exact.numeric == numeric and exact.numeric_error == error
    inside = check_coordinates(np.array([numeric + 0.9 * rule]), cube, x)
    assert inside.passed and inside.difference == pytest.approx(0.9 * rule, rel=1e-6)
    outside = check_coordinates(np.array([numeric - 1.1 * rule]), cube, x)
    assert not outside.passed and outside.reason == ""
    assert outside.allowed == pytest.approx(rule, rel=1e-12)  # max(|a|, |n|) is |n| here
    above = check_coordinates(np.array([numeric + 1.1 * rule]), cube, x)
    assert not above.passed
    assert above.allowed == pytest.approx(RTOL * (abs(numeric) + 1.1 * rule) + ATOL
                                          + SAFETY * error, rel=1e-12)


def test_a_zero_gradient_is_allowed_only_round_off():
    """Where f is constant, is a gradient of 1e-6 refused although the values are tiny (no
    floor beyond ATOL and the round-off estimate)?"""
    x = np.array([0.3, 0.6])
    assert check_coordinates(np.zeros(2), lambda v: 2.0, x).passed
    assert not check_coordinates(np.array([0.0, 1e-6]), lambda v: 2.0, x).passed


@pytest.mark.parametrize("offset, passes", [(1e6, True), (5e6, False), (1e7, False)])
def test_round_off_in_f_is_measured_against_the_gradient(offset, passes):
    """With f = offset + sin(x), whose round-off is about 3 eps offset / h, is the
    derivative (0.88) checked while SAFETY times that stays below SETTLE times the scale,
    which is at least 1 (offset 1e6: 2.7e-6), and refused, saying why, above it (5e6:
    1.3e-5)?"""
    x = np.array([0.5])
    result = check_coordinates(np.cos(x), lambda v: offset + float(np.sum(np.sin(v))), x)
    assert result.passed is passes
    assert result.reason == ("" if passes else "round-off in f hides this derivative")
    assert result.worst_index == (0,) and 0 < result.numeric_error < 1e-3
    if not passes:
        assert result.allowed == pytest.approx(RTOL * max(abs(result.analytic), abs(result.numeric))
                                               + ATOL, rel=1e-12)


def test_round_off_is_judged_against_the_whole_gradient():
    """Beside a derivative of 1e9, is a derivative of 1 checked to within f's round-off,
    while the same derivative alone, in an f as large, is refused?"""
    x = np.array([0.3, 0.7])
    beside = check_coordinates(np.array([1e9 * np.cos(0.3), 1.0]),
                            lambda v: float(1e9 * np.sin(v[0]) + v[1]), x)
    assert beside.passed
    alone = check_coordinates(np.array([0.0, 1.0]), lambda v: float(1e9 + v[1]), x)
    assert not alone.passed and alone.reason == "round-off in f hides this derivative"


# -- which coordinate is reported ----------------------------------------------------------


def test_a_passing_check_reports_its_closest_call():
    """When every coordinate passes, is the one reported the one nearest its limit?"""
    x = np.array([1.0, 2.0, 3.0])
    grad = 3 * x ** 2
    grad[1] *= 1 + 1e-7
    result = check_coordinates(grad, cube, x)
    assert result.passed and result.worst_index == (1,)
    assert result.analytic == grad[1]


def test_the_clearest_mismatch_is_reported():
    """Of two wrong coordinates, is the one furthest outside its limit reported, with both
    values and the difference there?"""
    x = np.array([1.0, 2.0, 3.0])
    grad = 3 * x ** 2
    grad[0] *= 1.01
    grad[2] *= 1.5
    result = check_coordinates(grad, cube, x)
    assert not result.passed and result.worst_index == (2,)
    assert result.analytic == grad[2]
    assert result.numeric == pytest.approx(27.0, rel=1e-9)
    assert result.difference == pytest.approx(13.5, rel=1e-9)


def test_a_mismatch_is_reported_before_a_derivative_that_did_not_settle():
    """With one coordinate wrong and another at a jump of f, is the wrong one reported (its
    numbers say something) and the check failed?"""
    x = np.array([0.5, 0.0])

    def f(v):
        return cube(v[:1]) + jump(v[1:])

    result = check_coordinates(np.array([1.0, 0.0]), f, x)
    assert not result.passed and result.worst_index == (0,) and result.reason == ""
    unsettled = check_coordinates(np.array([0.75, 0.0]), f, x)
    assert not unsettled.passed and unsettled.worst_index == (1,)
    assert "did not settle" in unsettled.reason


def test_f_not_finite_is_reported_before_a_mismatch():
    """With one coordinate wrong and f NaN when another moves, is the NaN reported?"""
    x = np.array([0.5, 0.25])

    def f(v):
        return np.nan if v[1] != 0.25 else cube(v)

    result = check_coordinates(np.array([5.0, 0.0]), f, x)
    assert not result.passed and result.worst_index == (1,)
    assert result.reason == "f is not finite near x"
    assert result.difference == np.inf and result.allowed == 0.0
    assert result.numeric_error == np.inf and np.isnan(result.numeric)
    assert result.analytic == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_entry_is_reported_with_the_numeric_value(bad):
    """Is the first non-finite entry of the gradient reported with the numeric derivative
    there and its error, the reason naming the value?"""
    x = np.array([0.5, 1.5, -1.0])
    grad = 3 * x ** 2
    grad[1] = bad
    grad[2] = np.nan
    for result in (check_coordinates(grad, cube, x),
                   check_directions(grad, cube, x, np.random.default_rng(0))):
        assert result.passed is False and result.worst_index == (1,)
        assert result.reason == f"the gradient is {bad} here"
        assert result.analytic is not None and not np.isfinite(result.analytic)
        assert result.numeric == pytest.approx(6.75, rel=1e-9)
        assert result.difference == np.inf and result.allowed == 0.0
        assert 0 < result.numeric_error < 1e-4


# -- what cannot be compared -------------------------------------------------------------------


@pytest.mark.parametrize("analytic, reason", [
    (np.ones(3), "the gradient has shape (3,), the input (2,)"),
    (np.ones((2, 1)), "the gradient has shape (2, 1), the input (2,)"),
    (1.0, "the gradient has shape (), the input (2,)"),
    ([[1, 2], [3]], "the gradient is not an array of numbers"),
    (["a", "b"], "the gradient is not an array of numbers"),
    ({"x": 1}, "the gradient is not an array of numbers"),
])
def test_a_gradient_that_cannot_be_compared_fails_with_the_reason(analytic, reason):
    """Is a gradient of another shape, or not of numbers, failed with the reason, no index, no
    values, an infinite difference and nothing allowed, without evaluating f?"""
    x = np.array([0.1, 0.2])
    for run in (lambda f: check_coordinates(analytic, f, x),
                lambda f: check_directions(analytic, f, x, np.random.default_rng(0))):
        f = Recorded(cube)
        assert run(f) == GradCheck(False, None, None, None, np.inf, 0.0, reason, np.inf)
        assert f.points == []


def test_a_gradient_as_nested_lists_is_accepted():
    """Is a gradient given as lists of numbers, shaped like x, compared like an array?"""
    x = np.array([[1.0, 2.0]])
    assert check_coordinates([[3.0, 12.0]], cube, x).passed
    assert not check_coordinates([[3.0, 13.0]], cube, x).passed


@pytest.mark.parametrize("returned, shape", [(np.array([1.0, 2.0]), (2,)), ("one", None),
                                            (object(), None)])
def test_an_objective_that_does_not_return_one_number_fails(returned, shape):
    """Does f returning an array of several values, or not a number at all, fail both checks
    with the reason (naming the shape where there is one), and make numerical_gradient raise
    NotANumber?"""
    x = np.array([0.1, 0.2])
    what = f"an array of shape {shape}" if shape else "something that is not a number"
    reason = f"f returned {what}, not one number"
    for result in (check_coordinates(np.ones(2), lambda v: returned, x),
                   check_directions(np.ones(2), lambda v: returned, x, np.random.default_rng(0))):
        assert result == GradCheck(False, None, None, None, np.inf, 0.0, reason, np.inf)
    with pytest.raises(NotANumber) as caught:
        numerical_gradient(lambda v: returned, x)
    assert caught.value.shape == shape
    assert str(caught.value) == reason


def test_a_non_finite_gradient_entry_with_an_objective_that_is_no_number_fails():
    """With a NaN in the gradient and an f that returns several numbers, is the f problem
    reported rather than an exception raised?"""
    x = np.array([0.1, 0.2])
    result = check_coordinates(np.array([np.nan, 1.0]), lambda v: v, x)
    assert not result.passed and "not one number" in result.reason


def test_an_objective_that_returns_one_number_in_an_array_is_accepted():
    """Is f returning a 1-element array, or a numpy scalar, taken as that number?"""
    x = np.array([0.4, -0.3])
    assert check_coordinates(3 * x ** 2, lambda v: np.array([[cube(v)]]), x).passed
    assert check_coordinates(3 * x ** 2, lambda v: np.float64(cube(v)), x).passed


# -- check_directions and check_gradient ------------------------------------------------------


def test_directions_compare_with_the_projected_gradient():
    """Along each direction, is the analytic value compared the gradient projected on v, and
    the numeric value the derivative of f along v?"""
    x = np.array([0.3, -1.2, 2.0, 0.9])
    grad = 3 * x ** 2
    grad[2] *= 1.5
    result = check_directions(grad, cube, x, np.random.default_rng(11), directions=2)
    assert not result.passed
    k = result.worst_index[0]
    assert k in (0, 1)
    v = unit_directions(11, x.shape, 2)[k]
    assert result.analytic == pytest.approx(float(grad @ v), rel=1e-12)
    assert result.numeric == pytest.approx(float(3 * x ** 2 @ v), rel=1e-9)
    assert result.difference == pytest.approx(abs(result.analytic - result.numeric))


def test_a_direction_where_f_is_not_finite_reports_the_projected_gradient():
    """Where f is not finite along a direction, is the check failed at direction 0 with the
    analytic gradient projected on it, so the report still says what was claimed?"""
    x = np.array([0.3, -1.2, 2.0])
    grad = 3 * x ** 2

    def f(v):
        return cube(v) if np.array_equal(v, x) else np.nan

    result = check_directions(grad, f, x, np.random.default_rng(4), directions=3)
    assert not result.passed and result.worst_index == (0,)
    assert result.reason == "f is not finite near x"
    assert result.analytic == pytest.approx(float(grad @ unit_directions(4, x.shape, 1)[0]),
                                            rel=1e-12)


def test_directions_catch_one_wrong_coordinate():
    """Do the default directions (four evaluations each) catch one wrong coordinate of 50, and
    pass the right gradient?"""
    x = np.random.default_rng(2).normal(size=50)
    right = 3 * x ** 2
    f = Recorded(cube)
    assert check_directions(right, f, x, np.random.default_rng(5)).passed
    assert len(f.points) == 16
    wrong = right.copy()
    wrong[17] += 0.5
    result = check_directions(wrong, cube, x, np.random.default_rng(5))
    assert not result.passed and result.reason == ""
    assert result.worst_index[0] in range(4)


def test_an_empty_input_passes_without_evaluating_f():
    """For a parameter with no entries, do both checks pass with nothing to report, and f is
    never called?"""
    x = np.zeros((0, 3))
    f = Recorded(cube)
    empty = GradCheck(True, None, None, None, 0.0, 0.0)
    assert check_coordinates(np.zeros((0, 3)), f, x) == empty
    assert check_directions(np.zeros((0, 3)), f, x, np.random.default_rng(0)) == empty
    assert check_gradient(np.zeros((0, 3)), f, x) == empty
    assert f.points == []


@pytest.mark.parametrize("size, calls", [(1, 4), (8, 32), (9, 16), (40, 16)])
def test_check_goes_per_coordinate_up_to_8_entries_then_along_4_directions(size, calls):
    """Does check_gradient differentiate each coordinate for up to 8 entries and go along 4
    directions (four evaluations each) beyond?"""
    x = np.linspace(-1.0, 1.0, size)
    f = Recorded(quad)
    assert check_gradient(2 * x + 1, f, x).passed
    assert len(f.points) == calls


def test_check_passes_its_limits_on():
    """Are check_gradient's coordinates_up_to and directions used as given?"""
    x = np.linspace(-1.0, 1.0, 5)
    f = Recorded(quad)
    assert check_gradient(2 * x + 1, f, x, coordinates_up_to=4, directions=2).passed
    assert len(f.points) == 8
    f = Recorded(quad)
    assert check_gradient(2 * x + 1, f, x, coordinates_up_to=5).passed
    assert len(f.points) == 20


def test_check_draws_its_directions_from_the_shape():
    """Does check_gradient on a large input use the directions of default_rng(shape), the same
    on every call, so every submission is checked along the same ones?"""
    x = np.random.default_rng(8).normal(size=(3, 4))
    wrong = 3 * x ** 2
    wrong[1, 1] *= 1.2
    result = check_gradient(wrong, cube, x)
    assert not result.passed
    assert result == check_directions(wrong, cube, x, np.random.default_rng([3, 4]))
    assert result == check_gradient(wrong, cube, x.tolist())


# -- inputs untouched, vjp_objective ---------------------------------------------------------


def scribbling(v):
    """A hostile f that writes into the array it is given."""
    value = cube(v)
    v[...] = 1e6
    return value


@pytest.mark.parametrize("run", [
    lambda g, f, x: numerical_gradient(f, x),
    lambda g, f, x: check_coordinates(g, f, x),
    lambda g, f, x: check_directions(g, f, x, np.random.default_rng(0)),
])
def test_an_objective_that_writes_into_its_argument_changes_nothing(run):
    """When f writes into the array it gets, are the caller's arrays unchanged and the result
    the same as with a well-behaved f?"""
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    g = 3 * x ** 2
    x_before, g_before = x.copy(), g.copy()
    polite = run(g, cube, x)
    hostile = run(g, scribbling, x)
    assert np.array_equal(x, x_before) and np.array_equal(g, g_before)
    if isinstance(polite, np.ndarray):
        assert np.array_equal(polite, hostile)
    else:
        assert polite == hostile and polite.passed


def test_vjp_objective_is_the_upstream_weighted_sum_of_the_layer():
    """Is vjp_objective(layer, upstream)(x) the float sum(upstream * layer(x)), with its own
    copy of upstream?"""
    upstream = np.array([[1.0, -2.0], [0.5, 3.0]])
    f = vjp_objective(np.tanh, upstream)
    x = np.array([[0.1, 0.2], [-0.3, 0.4]])
    value = f(x)
    assert type(value) is float
    assert value == pytest.approx(float(np.sum(upstream * np.tanh(x))), rel=1e-15)
    upstream[:] = 0.0
    assert f(x) == value
    assert vjp_objective(lambda v: [[1, 2], [3, 4]], [[1, 1], [1, 1]])(x) == 10.0


def test_the_checker_is_silent_where_f_overflows():
    """Does an f that overflows (numpy would warn) give a failed check and no warning?"""
    x = np.array([800.0, 1.0])
    result = check_coordinates(np.ones(2), lambda v: float(np.sum(np.exp(v))), x)
    assert not result.passed and result.worst_index == (0,)
    assert result.reason == "f is not finite near x"
    along = check_directions(np.ones(2), lambda v: float(np.sum(np.exp(v))), x,
                             np.random.default_rng(0))
    assert not along.passed and along.reason == "f is not finite near x"
    assert np.isnan(numerical_gradient(lambda v: float(np.sum(np.exp(v))), x)).all()
