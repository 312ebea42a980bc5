"""Grading tests for the mean squared error exercise (10 points)."""

import numpy as np
import pytest

from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_gradient,
    expect_inputs_unchanged,
)
from grader.grading.gradcheck import check_coordinates

from grader.contract import Exercise, Function, Mistake

EXERCISE = Exercise(
    "Mean squared error and its gradient",
    assignment="backprop", order=2,
    functions=(
        Function("mse_loss", ("y_true", "y_pred")),
        Function("mse_grad", ("y_true", "y_pred")),
    ))

MISTAKES = (
    Mistake(
        "mse-grad-missing-2", "mse_grad",
        "Your gradient is half of what it should be. The derivative of a square u^2 "
        "is 2u: keep the factor 2 that the power rule brings down.",
        variants=(lambda ref, i: ref.mse_grad(i["y_true"], i["y_pred"]) / 2,)),
    Mistake(
        "mse-grad-sum-not-mean", "mse_grad",
        "Your gradient is n times too large: it is the gradient of the sum of squared "
        "errors. The loss is a mean, so every element's gradient carries a 1/n, with n "
        "the number of elements.",
        variants=(lambda ref, i: ref.mse_grad(i["y_true"], i["y_pred"]) * np.size(i["y_pred"]),)),
    Mistake(
        "mse-grad-sign", "mse_grad",
        "Your gradient points the wrong way. Differentiate (y_true - y_pred)^2 with "
        "respect to y_pred: the inner derivative of (y_true - y_pred) is -1.",
        variants=(lambda ref, i: -ref.mse_grad(i["y_true"], i["y_pred"]),)),
)



def mean_squared_error(y_true, y_pred):
    """The loss of the contract, differentiated numerically: the student's own mse_loss
    is not, so that a wrong or constant loss cannot vouch for a wrong gradient."""
    return float(np.mean((y_true - y_pred) ** 2))


@pytest.mark.points(2)
@pytest.mark.hint("MSE is the mean over all n elements of (y_true - y_pred)^2, "
                  "returned as a float.")
def test_mse_loss_worked_example(student):
    """Is the loss of the always-male network of the notes 0.5?"""
    y_true, y_pred = np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4)
    expect(student.mse_loss(y_true, y_pred), 0.5, "mse_loss([1, 0, 0, 1], [0, 0, 0, 0])",
           function="mse_loss", inputs={"y_true": y_true, "y_pred": y_pred})
    y_true2, y_pred2 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 6.0]])
    expect(student.mse_loss(y_true2, y_pred2), 1.25, "mse_loss of (2, 2) arrays",
           function="mse_loss", inputs={"y_true": y_true2, "y_pred": y_pred2})


@pytest.mark.points(3)
@pytest.mark.hint("Differentiate (y_true - y_pred)^2 with respect to y_pred, minding the "
                  "inner derivative, and keep the 1/n of the mean.",
                  "Check the three parts on one element: the factor the power rule brings "
                  "down, the sign that the inner function y_true - y_pred contributes (its "
                  "derivative with respect to y_pred is -1), and the 1/n of the mean, with n "
                  "counting every element of y_pred, not only its rows.")
def test_mse_grad_matches_numerical_derivative(student, rng):
    """Does mse_grad agree with central differences of the mean squared error?"""
    for shape in [(4,), (3, 2), (1,)]:
        y_true = rng.uniform(0.0, 1.0, size=shape)
        y_pred = rng.uniform(0.0, 1.0, size=shape)
        got = expect_array(student.mse_grad(y_true, y_pred), shape, "mse_grad(y_true, y_pred)")
        check = check_coordinates(got, lambda p, y_true=y_true: mean_squared_error(y_true, p),
                                  y_pred)
        with diagnosing("mse_grad", {"y_true": y_true, "y_pred": y_pred}, got):
            expect_gradient(check, f"mse_grad for shape {shape}",
                            "mean((y_true - y_pred)^2) with respect to y_pred")
    y_true, y_pred = np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4)
    expect(student.mse_grad(y_true, y_pred), np.array([-0.5, 0.0, 0.0, -0.5]),
           "mse_grad([1, 0, 0, 1], [0, 0, 0, 0])", function="mse_grad",
           inputs={"y_true": y_true, "y_pred": y_pred})


@pytest.mark.hidden
@pytest.mark.points(2)
def test_mse_loss_matches_reference(student, reference, rng):
    """Does mse_loss match the reference on batches of 1 and many, inputs untouched?"""
    for shape in [(1,), (1, 1), (100,), (20, 3)]:
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
        reply = student.call("mse_loss", y_true, y_pred, return_inputs=True)
        expect(reply.value, reference.mse_loss(y_true, y_pred), "mse_loss(y_true, y_pred)",
               function="mse_loss", inputs={"y_true": y_true, "y_pred": y_pred},
               case=f"random arrays of shape {shape}")
        expect_inputs_unchanged(reply, (y_true, y_pred), "mse_loss")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_mse_grad_matches_reference(student, reference, rng):
    """Does mse_grad match the reference on batches of 1 and many, inputs untouched?"""
    for shape in [(1,), (100,), (20, 3)]:
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
        reply = student.call("mse_grad", y_true, y_pred, return_inputs=True)
        expect(reply.value, reference.mse_grad(y_true, y_pred), "mse_grad(y_true, y_pred)",
               function="mse_grad", inputs={"y_true": y_true, "y_pred": y_pred},
               case=f"random arrays of shape {shape}")
        expect_inputs_unchanged(reply, (y_true, y_pred), "mse_grad")
