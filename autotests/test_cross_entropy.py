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

from grader.contract import Exercise, Function, Mistake

EXERCISE = Exercise(
    "Cross-entropy and logistic regression",
    assignment="backprop", order=4,
    functions=(
        Function("bce_loss", ("y_true", "logits"), warning_free=True),
        Function("bce_grad", ("y_true", "logits")),
        Function("logistic_regression_grad", ("w", "b", "X", "y")),
    ))


# Used by a mistake's `when` test, which ships with the student bundle.
def _saturates(logits) -> bool:
    """Whether sigma rounds some logit to exactly 0 or 1 in float64 (|z| > 37)."""
    return bool(np.max(np.abs(np.asarray(logits, dtype=np.float64)), initial=0.0) > 37.0)


MISTAKES = (
    Mistake(
        "bce-grad-sign", "bce_grad",
        "Your gradient has the wrong sign. A logit that is too large for a label 0 "
        "should get a positive gradient, so that gradient descent lowers it.",
        variants=(lambda ref, i: -ref.bce_grad(i["y_true"], i["logits"]),)),
    Mistake(
        "bce-grad-missing-mean", "bce_grad",
        "Your gradient is N times too large. The loss is the mean over the batch, so "
        "each sample's gradient is divided by N.",
        variants=(lambda ref, i: ref.bce_grad(i["y_true"], i["logits"]) * len(i["logits"]),)),
    Mistake(
        "bce-grad-mse-style", "bce_grad",
        "Your gradient carries an extra sigma (1 - sigma), as it would for a squared "
        "error. With cross-entropy that factor cancels against the 1/sigma and "
        "1/(1 - sigma) of the logs' derivatives: work through the algebra once.",
        variants=(lambda ref, i: ref.bce_grad(i["y_true"], i["logits"])
                  * sigmoid(i["logits"]) * (1 - sigmoid(i["logits"])),
                  lambda ref, i: ref.bce_grad(i["y_true"], i["logits"]) * len(i["logits"])
                  * sigmoid(i["logits"]) * (1 - sigmoid(i["logits"])))),
    Mistake(
        "bce-loss-log-of-zero", "bce_loss",
        "The loss is inf or nan for large logits: sigma(z) rounds to exactly 0 or 1 and "
        "log(0) is -inf. Write the loss in terms of z directly (log sigma(z) = "
        "-log(1 + e^(-z))) and evaluate log(1 + e^t) without overflow.",
        when=lambda i, out, warnings: (isinstance(out, float) and not np.isfinite(out)
                                       and _saturates(i["logits"]))),
)


EXTREME_LOGITS = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
EXTREME_LABELS = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
# The mean of softplus(z) - y z over the extremes: the terms are 1e4, 0, 40, log 2, 40,
# 0 and 1e4, each exact in float64 up to a few units of 1e-18.
EXTREME_LOSS = (2e4 + 80.0 + math.log(2.0)) / 7.0
# Where sigma(z), or 1 - sigma(z), rounds to exactly 1.0 (|z| > 37), yet exp(|z|) is far
# from overflowing: confident right and confident wrong answers, each label both ways.
ROUNDING_LOGITS = np.array([38.0, 38.0, -38.0, -38.0, 50.0, -50.0, 50.0, -50.0])
ROUNDING_LABELS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])


def labelled(rng, n):
    return rng.integers(0, 2, size=n).astype(np.float64), rng.normal(0.0, 2.0, size=n)


def mean_softplus_loss(y, z):
    """The loss of the contract, to the last digit for any z: the mean of softplus(z) - y z,
    with softplus(t) = max(t, 0) + log1p(exp(-|t|))."""
    terms = [max(t, 0.0) + math.log1p(math.exp(-abs(t))) - label * t
             for label, t in zip(y.tolist(), z.tolist(), strict=True)]
    return math.fsum(terms) / len(terms)


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


@pytest.mark.points(1)
@pytest.mark.hint("sigma(z) rounds to exactly 1.0 in float64 once z passes about 37, so "
                  "log(1 - sigma(z)) is log(0) = -inf; clipping sigma away from 0 and 1 keeps "
                  "the loss finite but caps it near 37, while the true loss of a confident "
                  "wrong answer at z = 50 is 50. Take no logarithm of sigma at all: write "
                  "log sigma(z) and log(1 - sigma(z)) in terms of z (the module text shows "
                  "how).")
def test_bce_loss_is_right_where_sigma_rounds_to_one(student):
    """Is bce_loss right and silent at logits of +-38 and +-50, where sigma(38) is exactly 1.0?"""
    reply = student.call("bce_loss", ROUNDING_LABELS, ROUNDING_LOGITS)
    inputs = {"y_true": ROUNDING_LABELS, "logits": ROUNDING_LOGITS}
    expect(reply.value, mean_softplus_loss(ROUNDING_LABELS, ROUNDING_LOGITS), "bce_loss(y, z)",
           function="bce_loss", inputs=inputs, case="logits of size 38 and 50")
    expect_no_warnings(reply, "bce_loss for logits of size 38 and 50", function="bce_loss",
                       inputs=inputs)


@pytest.mark.points(1)
@pytest.mark.hint("At |z| = 1e4 a confident wrong answer costs 1e4, and the loss must come "
                  "out so, finite and silent. exp(1e4) is inf in float64, so log(1 + exp(t)) "
                  "as written is inf, with a warning; for t > 0 it equals "
                  "t + log(1 + exp(-t)), whose exp sees only a negative number, and "
                  "np.logaddexp(0, t) computes it that way for any t. A loss that is finite "
                  "but far too small is capped somewhere, by a clipped probability say: "
                  "write the loss with z itself.")
def test_bce_loss_is_finite_and_warning_free_for_huge_logits(student):
    """Is bce_loss right, finite and silent for logits from -1e4 to 1e4?"""
    reply = student.call("bce_loss", EXTREME_LABELS, EXTREME_LOGITS)
    inputs = {"y_true": EXTREME_LABELS, "logits": EXTREME_LOGITS}
    # An overflow is this test's own mistake, and its hint says what to do; otherwise a
    # non-finite loss is the logarithm of a rounded sigma, which the catalogue names.
    overflowed = any("overflow" in warning for warning in reply.warnings)
    diagnosed = None if overflowed else inputs
    expect(reply.value, EXTREME_LOSS, "bce_loss(y, z)", function="bce_loss", inputs=diagnosed,
           case="logits from -1e4 to 1e4")
    expect_no_warnings(reply, "bce_loss for logits from -1e4 to 1e4", function="bce_loss",
                       inputs=diagnosed)


@pytest.mark.points(3)
@pytest.mark.hint("Chain the derivative of the log terms with sigma'(z): most of it cancels. "
                  "The loss is a mean over the batch.",
                  "Work on one sample, with p = sigma(z): differentiate "
                  "-[y log p + (1 - y) log(1 - p)] with respect to p, put the two terms over "
                  "their common denominator, multiply by dp/dz written with p, and cancel "
                  "until only p and y are left. Then divide by N, since every z_n reaches "
                  "the mean through a 1/N.")
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
@pytest.mark.hint("Start from dL/dz of bce_grad and go one step further back through "
                  "z = X w + b: every z_n depends on every w[d] and on b, so each sample "
                  "contributes to each gradient.",
                  "Differentiate one logit, z_n = sum_d X[n, d] w[d] + b: dz_n/dw[d] is "
                  "X[n, d] and dz_n/db is 1. So dL/dw[d] adds up X[n, d] dL/dz_n over the "
                  "samples n, and dL/db adds up every dL/dz_n; write the first as a product "
                  "of X (transposed) and the vector dL/dz, the second as a sum. dw has shape "
                  "(D,) and db is one number.")
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
