"""Grading tests for the cross-entropy and logistic regression exercise (20 points).

The numerical gradients differentiate the loss of the contract, computed here with the
provided sigmoid at moderate logits, never the student's own bce_loss: a constant loss
would make zero gradients look right. Only bce_loss is promised warning-free at huge
logits; the gradients are held to their values there, not to their warnings.
"""

import math

import numpy as np
import pytest

from exercises.provided import sigmoid
from grader.grading.compare import as_number
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_gradient,
    expect_inputs_unchanged,
    expect_no_warnings,
    expect_tuple,
)
from grader.grading.gradcheck import check_coordinates

EXTREME_LOGITS = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
EXTREME_LABELS = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
# The mean of softplus(z) - y z over the extremes: the terms are 1e4, 0, 40, log 2, 40,
# 0 and 1e4, each exact in float64 up to a few units of 1e-18.
EXTREME_LOSS = (2e4 + 80.0 + math.log(2.0)) / 7.0


def labelled(rng, n):
    return rng.integers(0, 2, size=n).astype(np.float64), rng.normal(0.0, 2.0, size=n)


def cross_entropy(y, z):
    """The loss of the contract as written, fine at the moderate logits it is used at."""
    p = sigmoid(z)
    return float(np.mean(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))))


@pytest.mark.points(3)
@pytest.mark.hint("The loss is the mean over the batch of "
                  "-[y log sigma(z) + (1 - y) log(1 - sigma(z))].")
def test_bce_loss_known_values(student):
    """Is the loss log 2 at z = 0, and log(1 + e^-2) for a confident right answer?"""
    y, z = np.array([1.0, 0.0]), np.zeros(2)
    expect(student.bce_loss(y, z), math.log(2.0), "bce_loss(y, 0)", function="bce_loss",
           inputs={"y_true": y, "logits": z})
    y, z = np.array([1.0, 0.0]), np.array([2.0, -2.0])
    expect(student.bce_loss(y, z), math.log1p(math.exp(-2.0)), "bce_loss([1, 0], [2, -2])",
           function="bce_loss", inputs={"y_true": y, "logits": z})
    y, z = np.array([1.0, 0.0, 1.0]), np.array([0.5, 1.5, -1.0])
    expect(student.bce_loss(y, z), cross_entropy(y, z), "bce_loss([1, 0, 1], [0.5, 1.5, -1])",
           function="bce_loss", inputs={"y_true": y, "logits": z})


@pytest.mark.points(2)
@pytest.mark.hint("sigma(40) is exactly 1.0 in float64, so log(1 - sigma(z)) is log(0). Write "
                  "the loss in terms of z itself (the module text shows how) so that no "
                  "exponential or logarithm ever sees an extreme number.")
def test_bce_loss_is_finite_and_warning_free_for_huge_logits(student):
    """Is bce_loss right, finite and silent for logits from -1e4 to 1e4?"""
    reply = student.call("bce_loss", EXTREME_LABELS, EXTREME_LOGITS)
    inputs = {"y_true": EXTREME_LABELS, "logits": EXTREME_LOGITS}
    expect(reply.value, EXTREME_LOSS, "bce_loss(y, z)", function="bce_loss", inputs=inputs,
           case="logits from -1e4 to 1e4")
    expect_no_warnings(reply, "bce_loss for logits from -1e4 to 1e4", function="bce_loss",
                       inputs=inputs)


@pytest.mark.points(3)
@pytest.mark.hint("Chain the derivative of the log terms with sigma'(z): most of it cancels. "
                  "The loss is a mean over the batch.")
def test_bce_grad_matches_numerical_derivative(student, rng):
    """Does bce_grad agree with central differences of the cross-entropy, for N = 6 and N = 1?"""
    for n in (6, 1):
        y, z = labelled(rng, n)
        got = expect_array(student.bce_grad(y, z), (n,), "bce_grad(y_true, logits)")
        result = check_coordinates(got, lambda v, y=y: cross_entropy(y, v), z)
        with diagnosing("bce_grad", {"y_true": y, "logits": z}, got):
            expect_gradient(result, f"bce_grad (N = {n})",
                            "the mean cross-entropy with respect to the logits")


@pytest.mark.points(4)
@pytest.mark.hint("z = X w + b, so dL/dw = X^T dL/dz and dL/db is dL/dz summed over the batch.")
def test_logistic_regression_grad_matches_numerical_gradient(student, rng):
    """Do dw and db agree with central differences of the cross-entropy of X w + b?"""
    for n, d in [(5, 3), (1, 2)]:
        X, w, b = rng.normal(size=(n, d)), rng.normal(size=d), 0.3
        y, _ = labelled(rng, n)
        dw, db = expect_tuple(student.logistic_regression_grad(w, b, X, y), 2,
                              "logistic_regression_grad", "(dw, db)")
        expect_array(dw, (d,), "dw")
        loss = lambda w_, b_, X=X, y=y: cross_entropy(y, X @ w_ + b_)  # noqa: E731
        by_w = check_coordinates(dw, lambda v, loss=loss, b=b: loss(v, b), w)
        expect_gradient(by_w, f"dw (N = {n}, D = {d})", "the cross-entropy of X w + b")
        db = as_number(db, "db", {})
        by_b = check_coordinates(np.array([db]), lambda v, loss=loss, w=w: loss(w, v[0]),
                                 np.array([b]))
        expect_gradient(by_b, f"db (N = {n}, D = {d})", "the cross-entropy of X w + b")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_bce_loss_matches_reference(student, reference, rng):
    """Does bce_loss match the reference for batches of 1 and 50 and saturated logits, inputs untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for n, scale in [(1, 1.0), (50, 1.0), (20, 300.0)]:
        y, z = labelled(rng, n)
        z = z * scale
        reply = student.call("bce_loss", y, z, return_inputs=True)
        expect(reply.value, reference.bce_loss(y, z), "bce_loss(y, z)", function="bce_loss",
               inputs={"y_true": y, "logits": z}, case=f"random batch of {n}")
        expect_inputs_unchanged(reply, (y, z), "bce_loss")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_bce_grad_matches_reference_even_for_huge_logits(student, reference, rng):
    """Does bce_grad match the reference, and stay finite and right for |z| up to 1e4?"""
    for n in (1, 50):
        y, z = labelled(rng, n)
        reply = student.call("bce_grad", y, z, return_inputs=True)
        expect(reply.value, reference.bce_grad(y, z), "bce_grad(y, z)", function="bce_grad",
               inputs={"y_true": y, "logits": z}, case=f"random batch of {n}")
        expect_inputs_unchanged(reply, (y, z), "bce_grad")
    expect(student.bce_grad(EXTREME_LABELS, EXTREME_LOGITS),
           reference.bce_grad(EXTREME_LABELS, EXTREME_LOGITS), "bce_grad(y, z)",
           function="bce_grad", inputs={"y_true": EXTREME_LABELS, "logits": EXTREME_LOGITS},
           case="logits from -1e4 to 1e4")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_logistic_regression_grad_matches_reference(student, reference, rng):
    """Do dw and db match the reference for batches of 1 and many and for saturated logits?"""
    cases = [(1, 3, 1.0), (40, 6, 1.0), (10, 4, 5e3)]
    for n, d, scale in cases:
        X, w, b = rng.normal(size=(n, d)), rng.normal(scale=scale, size=d), float(rng.normal())
        y, _ = labelled(rng, n)
        reply = student.call("logistic_regression_grad", w, b, X, y, return_inputs=True)
        dw, db = expect_tuple(reply.value, 2, "logistic_regression_grad", "(dw, db)")
        want_dw, want_db = reference.logistic_regression_grad(w, b, X, y)
        inputs = {"w": w, "b": b, "X": X, "y": y}
        case = f"N={n}, D={d}" + (", saturated logits" if scale > 1 else "")
        expect(dw, want_dw, "dw", function="logistic_regression_grad", inputs=inputs, case=case)
        expect(db, want_db, "db", function="logistic_regression_grad", inputs=inputs, case=case)
        expect_inputs_unchanged(reply, (w, b, X, y), "logistic_regression_grad")
