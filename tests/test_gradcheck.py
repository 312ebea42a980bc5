"""The numerical gradient checks: right and wrong gradients told apart, inputs untouched, silent."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exercises.provided import sigmoid
from grader.grading.central_differences import (
    STEP,
    NotANumber,
    numerical_gradient,
    numerical_gradient_with_error,
)
from grader.grading.gradcheck import (
    GradCheck,
    check_coordinates,
    check_directions,
    check_gradient,
    vjp_objective,
)


def loss(x):
    """A smooth scalar function with a known gradient: sum(sin(x) * x^2)."""
    return float(np.sum(np.sin(x) * x ** 2))


def loss_grad(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def graph_j(x):
    """J(x) = cos(sin(x^2) + 3x^2), summed over x: the chain-rule exercise."""
    return float(np.sum(np.cos(np.sin(x ** 2) + 3 * x ** 2)))


def graph_j_grad(x):
    return -np.sin(np.sin(x ** 2) + 3 * x ** 2) * (np.cos(x ** 2) * 2 * x + 6 * x)


def graph_j_grad_one_branch(x):
    """The classic fan-out mistake: the path through c = 3x^2 forgotten."""
    return -np.sin(np.sin(x ** 2) + 3 * x ** 2) * (np.cos(x ** 2) * 2 * x)


def sigmoid_layer(x, W, b, dh):
    """The vjp objectives of h = sigmoid(x W + b) and the exact (dx, dW, db)."""
    s = sigmoid(x @ W + b)
    dz = dh * s * (1 - s)
    objectives = (vjp_objective(lambda v: sigmoid(v @ W + b), dh),
                  vjp_objective(lambda v: sigmoid(x @ v + b), dh),
                  vjp_objective(lambda v: sigmoid(x @ W + v), dh))
    return objectives, (dz @ W.T, x.T @ dz, dz.sum(axis=0))


class Counted:
    """f, counting its evaluations."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(3, 4))


@pytest.fixture(autouse=True)
def no_warning_escapes():
    """Every test here fails if the checker lets a warning out."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


SMOOTH = {
    "sin(x) x^2": (loss, loss_grad),
    "log-sum-exp": (lambda v: float(np.log(np.sum(np.exp(v)))),
                    lambda v: np.exp(v) / np.sum(np.exp(v))),
    "product": (lambda v: float(np.prod(v)), lambda v: np.prod(v) / v),
    "J": (graph_j, graph_j_grad),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_correct_gradients_of_smooth_functions_pass(name, x):
    """Does the exact gradient of each smooth function pass, per coordinate and along directions?"""
    f, grad = SMOOTH[name]
    result = check_coordinates(grad(x), f, x)
    assert isinstance(result, GradCheck)
    assert result.passed and result.reason == ""
    assert result.difference <= result.allowed
    assert check_directions(grad(x), f, x, np.random.default_rng(1)).passed


@pytest.mark.parametrize("at", [300.0, -300.0, 1e-8, 0.0, 0.5, 3.0])
def test_the_chain_rule_graph_passes_its_exact_derivative(at):
    """Does dJ/dx = -sin(d) (2x cos(x^2) + 6x) pass at x = 300 (period 2 pi / 1800, a
    hundredth of the first step), at 1e-8 (a derivative of 3e-23), at 0 and in between?"""
    x = np.array([at])
    result = check_coordinates(graph_j_grad(x), graph_j, x)
    assert result.passed, result


def test_at_x_300_the_step_shrinks_until_the_derivative_is_accurate():
    """Is J'(300) from central differences right to 1e-7, though the first step (0.3)
    spans a hundred periods of J?"""
    x = np.array([300.0])
    estimate = numerical_gradient_with_error(graph_j, x)
    assert estimate.settled.all()
    assert abs(estimate.value[0] - graph_j_grad(x)[0]) <= 1e-7 * abs(graph_j_grad(x)[0])
    assert abs(estimate.value[0] - graph_j_grad(x)[0]) <= 4 * estimate.error[0]


@pytest.mark.parametrize("at", [332.9843901135219, 366.2016849557903, 416.4106534660328])
def test_a_chance_agreement_while_the_step_spans_many_periods_is_not_taken_as_settled(at):
    """At these x, D(h) and D(h/2) agree to 1e-5 by chance while the step still spans
    periods of J; is the check not fooled (the spread fell too fast to be h^2)?"""
    x = np.array([at])
    assert check_coordinates(graph_j_grad(x), graph_j, x).passed


@pytest.mark.parametrize("at", [2e-4, -2e-4, 1e-3])
def test_near_a_zero_of_the_derivative_the_check_stays_sharp(at):
    """Where dJ/dx ~ -32x^3 is tiny and D(h) is mostly h^2 term, does the exact
    derivative pass in three pairs of steps and the dropped branch (off by 24|x|^3) fail?"""
    x = np.array([at])
    counted = Counted(graph_j)
    assert check_coordinates(graph_j_grad(x), counted, x).passed
    assert counted.calls <= 12
    assert not check_coordinates(graph_j_grad_one_branch(x), graph_j, x).passed


@pytest.mark.parametrize("at", [0.1, 300.7, -7e-9, 1e15 + 8.0])
def test_the_quotient_divides_by_the_step_actually_taken(at):
    """Is the derivative of f(x) = x exactly 1, because the quotient divides by
    (x + h) - (x - h) as rounded rather than by 2h?"""
    assert numerical_gradient(lambda v: float(v[0]), np.array([at]))[0] == 1.0


def test_the_step_grows_with_the_input():
    """At x = 1e15, where a step of 1e-3 would vanish in x + h, is the gradient checked?"""
    x = np.array([1e15, -3e14, 7e14])

    def f(v):
        return float(np.sum(v ** 2 / 1e15 + v))

    exact = 2 * x / 1e15 + 1
    assert check_coordinates(exact, f, x).passed
    assert not check_coordinates(exact * (1 + 1e-3), f, x).passed


@pytest.mark.parametrize("f, x, grad", [
    (lambda v: float(np.sum(v ** 2 / 1e15 + v)), np.array([1e15, -3e14, 2.0]),
     lambda v: 2 * v / 1e15 + 1),
    (lambda v: 1e10 + float(np.sum(np.sin(v))), np.array([2.0, -0.5]), np.cos),
], ids=["large coordinates beside a small one", "a large offset"])
def test_a_derivative_hidden_by_round_off_fails_with_the_reason(f, x, grad):
    """When f is so large that its round-off (eps |f| / h) is above 1e-5 of the gradient,
    does the check say so and fail, rather than pass anything within the noise?"""
    result = check_coordinates(grad(x), f, x)
    assert not result.passed
    assert result.reason == "round-off in f hides this derivative"


@pytest.mark.parametrize("f, slope, kinks", [
    (lambda v: float(np.sum(np.abs(v - np.array([0.0, 0.0, 5.0])))),
     lambda v: np.sign(v - np.array([0.0, 0.0, 5.0])), np.array([0.0, 0.0, 5.0])),
    (lambda v: float(np.sum(3 * np.maximum(v, 0.0) + v ** 2)),
     lambda v: 3 * (v > 0) + 2 * v, np.zeros(3)),
], ids=["abs", "maximum"])
def test_a_kink_within_the_step_does_not_fail_the_one_sided_slope(f, slope, kinks):
    """With x at 0.3 h from a kink (on either side), does the slope on x's side pass and
    the other side's fail?"""
    h = STEP * np.maximum(1.0, np.abs(kinks))
    x = kinks + np.array([0.3, -0.3, 0.3]) * h
    assert check_coordinates(slope(x), f, x).passed
    other_side = slope(kinks - (x - kinks))
    result = check_coordinates(other_side, f, x)
    assert not result.passed and result.reason == ""


@pytest.mark.parametrize("mistake", [
    lambda g: 2 * g,
    lambda g: -g,
    lambda g: 3 * g,
    lambda g: 4 * g,
    lambda g: 0.75 * g,
    lambda g: g * (1 + 1e-3),
    lambda g: g * (1 - 1e-3),
], ids=["times 2", "sign", "missing 1/N", "missing s(1 - s) <= 1/4", "a branch of 1/4 dropped",
        "1e-3 too big", "1e-3 too small"])
@pytest.mark.parametrize("name", SMOOTH)
def test_wrong_gradients_fail(name, mistake, x):
    """Does each catalogued kind of mistake (a factor 2, a sign, a missing 1/N or s(1 - s),
    a dropped branch worth 1/4) and a 1e-3 relative error fail, per coordinate and along
    directions?"""
    f, grad = SMOOTH[name]
    wrong = mistake(grad(x))
    result = check_coordinates(wrong, f, x)
    assert not result.passed and result.reason == ""
    assert result.difference > result.allowed
    assert not check_directions(wrong, f, x, np.random.default_rng(1)).passed


def test_a_dropped_branch_of_the_fan_out_fails():
    """Does dJ/dx with the path through c = 3x^2 forgotten (2x instead of 2x + 6x) fail?"""
    x = np.array([-1.3, -0.2, 0.7, 1.1])
    assert not check_coordinates(graph_j_grad_one_branch(x), graph_j, x).passed


def test_one_wrong_coordinate_fails_and_the_report_says_where(x):
    """Does one entry off by 1e-3 fail the check, naming its index and both values there?"""
    wrong = loss_grad(x)
    wrong[1, 2] *= 1 + 1e-3
    result = check_coordinates(wrong, loss, x)
    assert not result.passed
    assert result.worst_index == (1, 2)
    assert result.analytic == wrong[1, 2]
    assert result.numeric == pytest.approx(loss_grad(x)[1, 2], rel=1e-9)
    assert result.difference == pytest.approx(abs(wrong[1, 2] - result.numeric))
    assert result.allowed < result.difference / 10


@pytest.mark.parametrize("size, error", [(1e-7, 1e-3), (1e-11, 0.5)])
def test_small_gradients_are_not_swallowed_by_an_absolute_floor(size, error):
    """Does a 1e-3 relative error in a gradient of size 1e-7, or a 50% error in one of
    size 1e-11, fail (the old floor allowed any difference below 1e-11 there)?"""
    x = np.array([0.3, -1.2, 2.0])

    def f(v):
        return float(size * np.sum(np.sin(v)))

    assert check_coordinates(size * np.cos(x), f, x).passed
    assert not check_coordinates(size * np.cos(x) * (1 + error), f, x).passed


def test_a_smooth_objective_costs_four_evaluations_per_coordinate():
    """Does a sigmoid layer's vjp objective settle at the first pair of steps, four
    evaluations of f per coordinate, and four per direction?"""
    rng = np.random.default_rng(3)
    x, W, b, dh = (rng.normal(size=(3, 4)), rng.normal(scale=0.5, size=(4, 2)),
                   rng.normal(size=2), rng.normal(size=(3, 2)))
    (fx, fW, fb), (dx, dW, db) = sigmoid_layer(x, W, b, dh)
    for grad, f, at in [(dx, fx, x), (dW, fW, W), (db, fb, b)]:
        counted = Counted(f)
        assert check_coordinates(grad, counted, at).passed
        assert counted.calls == 4 * at.size
    counted = Counted(fx)
    assert check_directions(dx, counted, x, np.random.default_rng(0), directions=4).passed
    assert counted.calls == 16


def test_a_derivative_that_never_settles_fails_with_the_reason():
    """Does a jump at x (the difference quotient grows as the step shrinks) fail, saying
    why, whatever the analytic value, instead of passing on a wide tolerance?"""
    x = np.zeros(2)

    def step(v):
        return float(np.sum(v >= 0))

    for analytic in (np.zeros(2), np.full(2, 1e3), np.full(2, 1e7)):
        result = check_coordinates(analytic, step, x)
        assert not result.passed
        assert "did not settle" in result.reason


def test_an_objective_too_noisy_to_differentiate_fails_rather_than_passing_anything():
    """Does f with noise far above round-off (1e-6 of its value) fail a gradient that is
    wrong by 1e-3, saying why (and the exact one too: the check cannot tell them apart),
    rather than widening the tolerance to fit the noise?"""
    x = np.array([0.4, 1.1])

    def noisy(v):
        jitter = np.random.default_rng(list(np.frombuffer(v.tobytes(), np.uint32))).normal()
        return loss(v) * (1 + 1e-6 * jitter)

    for analytic in (loss_grad(x) * (1 + 1e-3), loss_grad(x)):
        result = check_coordinates(analytic, noisy, x)
        assert not result.passed and result.reason


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_entry_in_the_gradient_fails_at_its_index(bad, x):
    """Does a NaN or inf in the analytic gradient fail, silently, pointing at it?"""
    wrong = loss_grad(x)
    wrong[2, 0] = bad
    for result in (check_coordinates(wrong, loss, x),
                   check_directions(wrong, loss, x, np.random.default_rng(0))):
        assert not result.passed
        assert result.worst_index == (2, 0)
        assert result.difference == float("inf")
        assert "gradient is" in result.reason
        assert result.numeric == pytest.approx(loss_grad(x)[2, 0], rel=1e-9)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_an_objective_that_is_not_finite_fails_at_the_coordinate(bad):
    """Does f returning NaN or inf when x[1] moves up fail the check at index 1, silently?"""
    x = np.array([0.5, 0.25, -1.0])

    def f(v):
        return bad if v[1] > 0.25 else loss(v)

    result = check_coordinates(loss_grad(x), f, x)
    assert not result.passed
    assert result.worst_index == (1,)
    assert result.difference == float("inf")
    assert "not finite" in result.reason
    assert np.isnan(numerical_gradient(f, x)[1])
    assert not check_directions(loss_grad(x), f, x, np.random.default_rng(0)).passed


def test_an_objective_that_warns_and_returns_nan_everywhere_fails_silently():
    """Does f = sum(log(x - 2)) at x < 2 (numpy would warn) give a failed check and no warning?"""
    x = np.array([0.5, 1.0])
    result = check_coordinates(np.ones(2), lambda v: float(np.sum(np.log(v - 2))), x)
    assert not result.passed and "not finite" in result.reason


def test_a_domain_edge_within_the_step_is_stepped_around():
    """Does log at x = 1e-4 (x - h is negative) still check its derivative 1/x?"""
    x = np.array([1e-4, 2.0])

    def f(v):
        return float(np.sum(np.log(v)))

    assert check_coordinates(1 / x, f, x).passed
    assert not check_coordinates(1 / x * (1 + 1e-3), f, x).passed


@pytest.mark.parametrize("analytic", [np.ones((3, 1)), np.ones(4), np.ones(()), [[1, 2], [3]]],
                         ids=["column", "longer", "scalar", "ragged"])
def test_a_gradient_of_the_wrong_shape_fails_without_broadcasting(analytic):
    """Does a gradient that is not shaped like x fail, by either check, without an exception?"""
    x = np.array([0.1, 0.2, 0.3])
    for result in (check_coordinates(analytic, loss, x),
                   check_directions(analytic, loss, x, np.random.default_rng(0))):
        assert not result.passed
        assert result.worst_index is None and result.analytic is None
        assert result.difference == float("inf")
        assert result.reason


def test_an_objective_that_returns_an_array_fails_the_check():
    """Does f returning several numbers fail the check with the reason, and make
    numerical_gradient raise a named error?"""
    x = np.array([0.1, 0.2])
    result = check_coordinates(np.ones(2), lambda v: v * 2, x)
    assert not result.passed and "not one number" in result.reason
    with pytest.raises(NotANumber):
        numerical_gradient(lambda v: v * 2, x)


def test_numerical_gradient_returns_the_gradient_and_its_error():
    """Are the numerical gradient and its error estimate what they claim to be?"""
    x = np.random.default_rng(4).normal(size=(2, 3))
    value = numerical_gradient(loss, x)
    assert value.shape == x.shape
    assert np.allclose(value, loss_grad(x), rtol=1e-10, atol=1e-12)
    estimate = numerical_gradient_with_error(loss, x)
    assert np.array_equal(estimate.value, value)
    assert estimate.settled.all()
    assert (np.abs(value - loss_grad(x)) <= 4 * estimate.error + 1e-15).all()
    assert (estimate.error <= 1e-5 * np.abs(value) + 1e-12).all()


def test_check_goes_per_coordinate_for_small_inputs_and_along_directions_for_large():
    """Does check_gradient name a coordinate for 8 entries, a direction for 9, and the same
    one on each call?"""
    small, large = np.linspace(-1, 1, 8), np.linspace(-1, 1, 9)
    wrong_small, wrong_large = loss_grad(small), loss_grad(large)
    wrong_small[3] *= 2
    wrong_large[3] *= 2
    assert check_gradient(wrong_small, loss, small).worst_index == (3,)
    first = check_gradient(wrong_large, loss, large)
    second = check_gradient(wrong_large, loss, large)
    assert not first.passed and len(first.worst_index) == 1 and first.worst_index[0] < 4
    assert first == second
    assert check_gradient(loss_grad(large), loss, large).passed


def test_directions_catch_one_wrong_coordinate_in_200():
    """Do a few random directions catch a single wrong coordinate of a 200-element gradient?"""
    x = np.random.default_rng(2).normal(size=200)
    right = loss_grad(x)
    assert check_directions(right, loss, x, np.random.default_rng(5)).passed
    wrong = right.copy()
    wrong[137] += 0.5
    result = check_directions(wrong, loss, x, np.random.default_rng(5))
    assert not result.passed
    assert result.difference > result.allowed
    assert result.analytic is not None and result.numeric is not None


def test_the_result_is_frozen(x):
    """Is a GradCheck a frozen record that nobody downstream can alter?"""
    result = check_coordinates(loss_grad(x), loss, x)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False


def test_vjp_objective_folds_a_layer_into_a_number(x):
    """Is the gradient of sum(upstream * layer(x)) the vector-Jacobian product?"""
    upstream = np.random.default_rng(1).normal(size=x.shape)
    f = vjp_objective(np.tanh, upstream)
    assert f(x) == pytest.approx(np.sum(upstream * np.tanh(x)))
    assert check_coordinates(upstream * (1 - np.tanh(x) ** 2), f, x).passed
    assert not check_coordinates(upstream * (1 - np.tanh(x)), f, x).passed


def test_vjp_objective_keeps_its_own_copy_of_the_upstream_gradient(x):
    """Does changing the caller's upstream array afterwards leave the objective as it was?"""
    upstream = np.ones_like(x)
    f = vjp_objective(np.tanh, upstream)
    before = f(x)
    upstream[:] = 0.0
    assert f(x) == before


def mutating(x):
    """A hostile objective that writes into the array it is given."""
    value = loss(x)
    x[...] = 1e6
    return value


@pytest.mark.parametrize("run", [
    lambda g, f, x: numerical_gradient(f, x),
    lambda g, f, x: numerical_gradient_with_error(f, x),
    lambda g, f, x: check_coordinates(g, f, x),
    lambda g, f, x: check_directions(g, f, x, np.random.default_rng(0)),
    lambda g, f, x: check_gradient(g, f, x, coordinates_up_to=4),
    lambda g, f, x: vjp_objective(lambda v: v * 2, g)(x),
], ids=["numerical_gradient", "with_error", "check_coordinates", "check_directions",
        "check_gradient", "vjp_objective"])
def test_inputs_are_never_changed_and_nothing_is_printed(run, x, capsys):
    """Do the checks leave their arrays as they were, even when f writes into its
    argument, and print nothing?"""
    g = loss_grad(x)
    x_before, g_before = x.copy(), g.copy()
    run(g, loss, x)
    run(g, mutating, x)
    assert np.array_equal(x, x_before) and np.array_equal(g, g_before)
    assert capsys.readouterr() == ("", "")


def test_an_objective_that_writes_into_its_argument_does_not_skew_the_check(x):
    """Does a correct gradient still pass when f scribbles on the array it gets?"""
    assert check_coordinates(loss_grad(x), mutating, x).passed
    assert check_directions(loss_grad(x), mutating, x, np.random.default_rng(0)).passed


coefficients = st.floats(-3.0, 3.0, allow_nan=False)


@settings(deadline=None, max_examples=300, database=None)
@given(c=st.tuples(coefficients, coefficients, coefficients, coefficients),
       unit=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=5),
       magnitude=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
       pick=st.integers(0, 4),
       delta=st.floats(1e-3, 10.0), sign=st.sampled_from([-1.0, 1.0]))
def test_property_exact_gradients_pass_and_one_coordinate_off_by_1e_3_fails(
        c, unit, magnitude, pick, delta, sign):
    """For f = sum(c1 sin(c2 x) + c3 x^2 + c4 exp(-x^2)) with |x| up to 1e3, does the
    exact gradient always pass, and one coordinate times (1 + delta), |delta| >= 1e-3,
    always fail where that coordinate is not tiny next to the others and to f?"""
    c1, c2, c3, c4 = c
    x = np.array(unit) * magnitude

    def f(v):
        return float(np.sum(c1 * np.sin(c2 * v) + c3 * v ** 2 + c4 * np.exp(-v ** 2)))

    exact = c1 * c2 * np.cos(c2 * x) + 2 * c3 * x - 2 * c4 * x * np.exp(-x ** 2)
    assert check_coordinates(exact, f, x).passed
    i = pick % x.size
    if abs(exact[i]) < max(1e-3 * np.max(np.abs(exact)), 1e-6 * abs(f(x)), 1e-8):
        return
    wrong = exact.copy()
    wrong[i] *= 1 + sign * delta
    result = check_coordinates(wrong, f, x)
    assert not result.passed
    assert result.worst_index == (i,)


@pytest.mark.slow
def test_ten_thousand_reseeded_draws_pass_every_exact_gradient_and_fail_every_mistake():
    """Over 10,000 seeded draws, does the exact dJ/dx (x uniform in [-3, 3]) and the exact
    (dx, dW, db) of a sigmoid layer of random shape up to 4x4 always pass, and dJ/dx
    without the 6x branch, dx without the sigmoid derivative and a transposed square dW
    always fail?"""
    rng = np.random.default_rng(20240517)
    draws, unresolvable, failures = 10_000, 0, []
    for draw in range(draws):
        x = rng.uniform(-3.0, 3.0, size=1)
        if not check_coordinates(graph_j_grad(x), graph_j, x).passed:
            failures.append(("J right", draw, x))
        # Near 0 the two differ by 24|x|^3: below 1e-10 (|x| < 1.6e-4) no difference
        # quotient of J, which is 1 to within 1e-16, can see it.
        if abs(graph_j_grad(x) - graph_j_grad_one_branch(x))[0] < 1e-10:
            unresolvable += 1
        elif check_coordinates(graph_j_grad_one_branch(x), graph_j, x).passed:
            failures.append(("J one branch", draw, x))

        n, d, m = rng.integers(1, 5, size=3)
        x, W, b, dh = (rng.normal(size=(n, d)), rng.normal(scale=0.5, size=(d, m)),
                       rng.normal(size=m), rng.normal(size=(n, m)))
        (fx, fW, fb), (dx, dW, db) = sigmoid_layer(x, W, b, dh)
        for name, grad, f, at in [("dx", dx, fx, x), ("dW", dW, fW, W), ("db", db, fb, b)]:
            if not check_gradient(grad, f, at).passed:
                failures.append((f"{name} right", draw, (n, d, m)))
        if check_gradient(dh @ W.T, fx, x).passed:
            failures.append(("dx without sigmoid'", draw, (n, d, m)))
        if d == m > 1:
            if np.max(np.abs(dW - dW.T)) < 1e-3 * np.max(np.abs(dW)):
                unresolvable += 1   # nearly symmetric: transposing changes next to nothing
            elif check_gradient(dW.T, fW, W).passed:
                failures.append(("dW transposed", draw, (n, d, m)))
    assert failures == []
    assert unresolvable <= draws // 1000
