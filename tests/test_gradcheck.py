"""The numerical gradient checks: right and wrong gradients told apart, inputs untouched, silent."""

from __future__ import annotations

import numpy as np
import pytest

from grader.gradcheck import (GradCheck, check_directions, check_gradient, numerical_gradient,
                              rel_error, vjp_objective)


def loss(x):
    """A smooth scalar function with a known gradient: sum(sin(x) * x^2)."""
    return float(np.sum(np.sin(x) * x ** 2))


def loss_grad(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(3, 4))


def test_a_correct_gradient_passes(x):
    """Does the exact gradient of a smooth function pass, with a tiny error?"""
    result = check_gradient(loss_grad(x), loss, x)
    assert isinstance(result, GradCheck)
    assert result.passed
    assert result.max_rel_error < 1e-7
    assert result.tolerance == pytest.approx(1e-5)


def test_a_wrong_gradient_fails_and_says_where(x):
    """Does one wrong entry fail the check, naming its index and both values there?"""
    wrong = loss_grad(x)
    wrong[1, 2] *= 2.0
    result = check_gradient(wrong, loss, x)
    assert not result.passed
    assert result.worst_index == (1, 2)
    assert result.analytic == pytest.approx(wrong[1, 2])
    assert result.numeric == pytest.approx(loss_grad(x)[1, 2], rel=1e-6)
    assert result.max_rel_error == pytest.approx(1 / 3, rel=1e-4)  # |2g - g| / (|2g| + |g|)


def test_a_gradient_of_the_wrong_shape_fails(x):
    """Does a gradient with the wrong shape fail rather than broadcast?"""
    result = check_gradient(loss_grad(x)[0], loss, x)
    assert not result.passed and result.max_rel_error == float("inf")


def test_a_nan_in_the_gradient_fails_at_its_index(x):
    """Does a NaN in the analytic gradient fail, pointing at the NaN?"""
    wrong = loss_grad(x)
    wrong[2, 0] = np.nan
    result = check_gradient(wrong, loss, x)
    assert not result.passed and result.worst_index == (2, 0)


def test_relative_error_has_a_floor():
    """Are two tiny numbers close, rather than 100% apart, thanks to the floor?"""
    assert rel_error(1e-12, 3e-12) < 1e-5
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)


def test_vjp_objective_folds_a_layer_into_a_number(x):
    """Is the gradient of sum(upstream * layer(x)) the vector-Jacobian product?"""
    upstream = np.random.default_rng(1).normal(size=x.shape)
    f = vjp_objective(np.tanh, upstream)
    assert f(x) == pytest.approx(np.sum(upstream * np.tanh(x)))
    assert check_gradient(upstream * (1 - np.tanh(x) ** 2), f, x).passed
    assert not check_gradient(upstream * (1 - np.tanh(x)), f, x).passed


def test_vjp_objective_keeps_its_own_copy_of_the_upstream_gradient(x):
    """Does changing the caller's upstream array afterwards leave the objective as it was?"""
    upstream = np.ones_like(x)
    f = vjp_objective(np.tanh, upstream)
    before = f(x)
    upstream[:] = 0.0
    assert f(x) == before


def test_directions_catch_one_wrong_coordinate_in_200():
    """Do a few random directions catch a single wrong coordinate of a 200-element gradient?"""
    x = np.random.default_rng(2).normal(size=200)
    right = loss_grad(x)
    assert check_directions(right, loss, x, np.random.default_rng(5)).passed
    wrong = right.copy()
    wrong[137] += 0.5
    result = check_directions(wrong, loss, x, np.random.default_rng(5))
    assert not result.passed
    assert result.max_rel_error > 1e-3
    assert result.analytic is not None and result.numeric is not None


def test_directions_refuse_the_wrong_shape():
    """Does the directional check fail a gradient whose shape is not the input's?"""
    x = np.zeros(200)
    assert not check_directions(np.zeros(199), loss, x, np.random.default_rng(0)).passed


def mutating(x):
    """A hostile objective that writes into the array it is given."""
    value = loss(x)
    x[...] = 1e6
    return value


@pytest.mark.parametrize("run", [
    lambda g, f, x: numerical_gradient(f, x),
    lambda g, f, x: check_gradient(g, f, x),
    lambda g, f, x: check_directions(g, f, x, np.random.default_rng(0)),
    lambda g, f, x: vjp_objective(lambda v: v * 2, g)(x),
], ids=["numerical_gradient", "check_gradient", "check_directions", "vjp_objective"])
def test_inputs_are_never_changed_and_nothing_is_printed(run, x, capsys):
    """Do the checks leave their arrays as they were, even when f writes into its argument, and print nothing?"""
    g = loss_grad(x)
    x_before, g_before = x.copy(), g.copy()
    run(g, loss, x)
    run(g, mutating, x)
    assert np.array_equal(x, x_before) and np.array_equal(g, g_before)
    assert capsys.readouterr() == ("", "")


def test_an_objective_that_writes_into_its_argument_does_not_skew_the_check(x):
    """Does a correct gradient still pass when f scribbles on the array it gets?"""
    assert check_gradient(loss_grad(x), mutating, x).passed
