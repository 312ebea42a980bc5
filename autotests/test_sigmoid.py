"""Grading tests for the sigmoid exercise (10 points)."""

import numpy as np
import pytest

from exercises.provided import sigmoid as provided_sigmoid
from grader.grading.expect import expect, expect_array, expect_inputs_unchanged, expect_no_warnings

from grader.contract import Exercise, Function, Mistake

EXERCISE = Exercise(
    "The sigmoid and its derivative",
    assignment="backprop", order=1,
    functions=(
        Function("sigmoid", ("z",), warning_free=True),
        Function("sigmoid_grad", ("z",)),
    ))

MISTAKES = (
    Mistake(
        "sigmoid-exponent-sign", "sigmoid",
        "Your sigmoid is mirrored: it returns sigma(-z). The exponent needs a minus sign, "
        "sigma(z) = 1 / (1 + e^(-z)), so that large positive z gives values near 1. "
        "Two of the course's source notes print this formula with the sign wrong.",
        variants=(lambda ref, i: provided_sigmoid(-np.asarray(i["z"], dtype=float)),)),
    Mistake(
        "sigmoid-overflow", "sigmoid",
        "For large negative z, e^(-z) overflows to inf. The value still comes out right, "
        "but numpy warns, and the contract asks for no warning up to |z| = 1e4. Rewrite "
        "sigma so that exp only ever sees a number <= 0. np.where(cond, a, b) computes "
        "both a and b for every element before choosing, so the exponent must already "
        "be safe in both branches.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
    Mistake(
        "sigmoid-grad-missing-factor", "sigmoid_grad",
        "Your derivative is sigma(z) alone. Differentiate 1 / (1 + e^(-z)) once more: "
        "the result is sigma(z) times another factor that goes to 0 as z grows.",
        variants=(lambda ref, i: provided_sigmoid(i["z"]),)),
    Mistake(
        "sigmoid-grad-wrong-sign", "sigmoid_grad",
        "Your derivative is negative, but the sigmoid only ever rises. Check the sign "
        "that the inner derivative of e^(-z) brings, and the one from 1 / u.",
        variants=(lambda ref, i: -ref.sigmoid_grad(i["z"]),)),
    Mistake(
        "sigmoid-grad-of-z", "sigmoid_grad",
        "You applied s (1 - s) to z itself. The formula is in terms of the sigmoid's "
        "output: compute s = sigma(z) first, then s (1 - s).",
        variants=(lambda ref, i: np.asarray(i["z"], dtype=float)
                  * (1 - np.asarray(i["z"], dtype=float)),)),
)


# The sigmoid's tail is compared to 6 significant digits: an absolute tolerance would
# let a sigmoid that rounds sigma(-30) = 9.4e-14 to 0 through. Below float64's smallest
# normal number (2.2e-308) only an absolute comparison makes sense.
TAIL_ATOL = np.finfo(np.float64).tiny
# sigma'(z) = s (1 - s) is only absolutely accurate for large positive z, where 1 - s
# cancels: its round-off is a few units of float64's spacing near 1 (2.2e-16).
GRAD_ATOL = 1e-15

TAILS = np.array([-1e4, -710.0, -700.0, -100.0, -30.0, -16.0, 0.0, 16.0, 30.0, 100.0, 710.0, 1e4])
# sigma(z) there, each accurate to float64's last digit (exp(-|z|) / (1 + exp(-|z|)) and
# 1 / (1 + exp(-z)) for z >= 0).
SIGMA_TAILS = np.array([0.0, 4.47628622567513e-309, 9.85967654375977e-305,
                        3.720075976020836e-44, 9.3576229688393e-14, 1.12535162055095e-07,
                        0.5, 0.9999998874648379, 0.9999999999999065, 1.0, 1.0, 1.0])
# Where exp of the wrong sign overflows (past about 709): the naive 1 / (1 + exp(-z)) warns
# for the negative ones only, np.where over two formulas for both. -5 and 5 keep zeros and
# constants from passing without testing the tail, which test_sigmoid_tails_are_accurate does.
NEGATIVE_EXTREMES = np.array([-1e4, -1000.0, -745.0, -710.0, -5.0])
POSITIVE_EXTREMES = -NEGATIVE_EXTREMES[::-1]
# sigma'(z) at +-16 and +-30, exactly: exp(-|z|) / (1 + exp(-|z|))^2.
GRAD_TAILS = {-30.0: 9.357622968838425e-14, -16.0: 1.1253514939093229e-07,
              16.0: 1.1253514939093229e-07, 30.0: 9.357622968838425e-14}


@pytest.mark.points(2)
@pytest.mark.hint("sigma(z) = 1 / (1 + e^(-z)); the neuron of the notes has z = w.x + b = 7.")
def test_sigmoid_worked_example(student):
    """Does sigmoid reproduce the neuron of the notes, sigma(7) = 0.9990889488?"""
    expect(student.sigmoid(7.0), 0.9990889488, "sigmoid(7)", function="sigmoid",
           inputs={"z": 7.0}, atol=1e-10)
    z = np.array([[-3.0, 0.0], [3.0, 7.0]])
    got = expect_array(student.sigmoid(z), z.shape, "sigmoid of a (2, 2) array")
    expect(got, np.array([[0.0474258731776, 0.5], [0.9525741268224, 0.9990889488056]]),
           "sigmoid of a (2, 2) array", function="sigmoid", inputs={"z": z}, atol=1e-10)


@pytest.mark.points(1)
@pytest.mark.hint("Far from 0, sigma is tiny or within a hair of 1, and both must stay right to "
                  "6 significant digits: sigma(-30) = 9.36e-14 and sigma(-700) = 9.86e-305 are "
                  "ordinary float64 numbers, not 0. Do not clip z or round the result, and "
                  "avoid forms that lose the small values, such as one built on tanh: the "
                  "fraction with exp of a number <= 0 keeps them.")
def test_sigmoid_tails_are_accurate(student):
    """Is sigmoid right to 6 significant digits in its tails, with z left unchanged?"""
    reply = student.call("sigmoid", TAILS, return_inputs=True)
    got = expect_array(reply.value, TAILS.shape, "sigmoid of z from -1e4 to 1e4")
    expect(got, SIGMA_TAILS, "sigmoid(z)", function="sigmoid", inputs={"z": TAILS},
           case="z from -1e4 to 1e4, compared to 6 significant digits", atol=TAIL_ATOL)
    expect_inputs_unchanged(reply, (TAILS,), "sigmoid")


@pytest.mark.points(2)
@pytest.mark.hint("For z = -1e4, exp(-z) is exp(1e4), which overflows to inf: 1 / (1 + inf) "
                  "still gives the right 0, but numpy warns, and the contract asks for no "
                  "warning up to |z| = 1e4. Arrange the computation so that exp only ever "
                  "sees a number <= 0: for negative z, multiply the top and the bottom of the "
                  "fraction by exp(z).")
def test_sigmoid_is_silent_for_large_negative_z(student):
    """Is sigmoid right and free of warnings for z = -5 and from -710 down to -1e4?"""
    reply = student.call("sigmoid", NEGATIVE_EXTREMES)
    got = expect_array(reply.value, NEGATIVE_EXTREMES.shape, "sigmoid of z from -1e4 to -5")
    inputs = {"z": NEGATIVE_EXTREMES}
    expect(got, provided_sigmoid(NEGATIVE_EXTREMES), "sigmoid(z)", function="sigmoid",
           inputs=inputs, case="z from -1e4 to -5", atol=TAIL_ATOL)
    expect_no_warnings(reply, "sigmoid(z) for z from -1e4 to -5", function="sigmoid",
                       inputs=inputs)


@pytest.mark.points(1)
@pytest.mark.hint("For z past about 709, exp(z) overflows to inf. If you choose a formula per "
                  "element with np.where, know that numpy evaluates both branches for every "
                  "element before it chooses: the values it keeps are right, but the branch "
                  "meant for negative z still computes exp(z) for the large positive z, and "
                  "that warns. Make every exponent <= 0 before choosing (exp(-|z|) serves "
                  "both signs), or compute each sign on its own part of the array.")
def test_sigmoid_is_silent_for_large_positive_z(student):
    """Is sigmoid right and free of warnings for z = 5 and from 710 up to 1e4?"""
    reply = student.call("sigmoid", POSITIVE_EXTREMES)
    got = expect_array(reply.value, POSITIVE_EXTREMES.shape, "sigmoid of z from 5 to 1e4")
    expect(got, provided_sigmoid(POSITIVE_EXTREMES), "sigmoid(z)", function="sigmoid",
           inputs={"z": POSITIVE_EXTREMES}, case="z from 5 to 1e4", atol=TAIL_ATOL)
    # Not diagnosed: the catalogue's overflow mistake is about large negative z, and this
    # test's hint is the one that explains a warning here (np.where's other branch).
    expect_no_warnings(reply, "sigmoid(z) for z from 5 to 1e4", function="sigmoid")


@pytest.mark.points(2)
@pytest.mark.hint("Differentiate 1 / (1 + e^(-z)) with the chain rule, then rewrite the result "
                  "in terms of sigma itself.",
                  "The derivative is sigma(z) times a second factor that also depends on "
                  "sigma(z) alone and goes to 0 as z grows; it is largest, 1/4, at z = 0. "
                  "Compute s = sigma(z) first and build both factors from s, not from z.")
def test_sigmoid_grad_matches_numerical_derivative(student):
    """Does sigmoid_grad agree with central differences, in its tails too, with z unchanged?"""
    # The provided sigmoid, not the student's: a wrong sigmoid must not cost this test too.
    z = np.linspace(-6.0, 6.0, 13)
    h = 1e-5
    numeric = (provided_sigmoid(z + h) - provided_sigmoid(z - h)) / (2 * h)
    reply = student.call("sigmoid_grad", z, return_inputs=True)
    got = expect_array(reply.value, z.shape, "sigmoid_grad of a (13,) array")
    # Central differences with h = 1e-5 are good to about 1e-10 here.
    expect(got, numeric, "sigmoid_grad(z) against (sigmoid(z+h) - sigmoid(z-h)) / 2h",
           function="sigmoid_grad", inputs={"z": z}, rtol=1e-6, atol=1e-9)
    expect_inputs_unchanged(reply, (z,), "sigmoid_grad")
    expect(student.sigmoid_grad(-3.0), 0.0451766597309, "sigmoid_grad(-3)",
           function="sigmoid_grad", inputs={"z": -3.0}, atol=1e-10)
    tails = np.array(list(GRAD_TAILS))
    got = expect_array(student.sigmoid_grad(tails), tails.shape, "sigmoid_grad of z = +-16, +-30")
    expect(got, np.array(list(GRAD_TAILS.values())), "sigmoid_grad(z)", function="sigmoid_grad",
           inputs={"z": tails}, case="z = +-16, +-30", atol=GRAD_ATOL)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_sigmoid_matches_reference(student, reference, rng):
    """Does sigmoid match the reference on inputs of many shapes and sizes, inputs untouched?"""
    for shape, scale in [((1, 1), 4.0), ((1, 7), 4.0), ((64, 5), 4.0), ((3, 4, 2), 4.0),
                         ((40,), 300.0)]:
        z = rng.normal(0.0, scale, size=shape)
        reply = student.call("sigmoid", z, return_inputs=True)
        expect(reply.value, reference.sigmoid(z), "sigmoid(z)", function="sigmoid",
               inputs={"z": z}, case=f"random z of shape {shape}", atol=TAIL_ATOL)
        expect_inputs_unchanged(reply, (z,), "sigmoid")


@pytest.mark.hidden
@pytest.mark.points(1)
def test_sigmoid_grad_matches_reference(student, reference, rng):
    """Does sigmoid_grad match the reference on random and extreme inputs, inputs untouched?"""
    for shape, scale in [((1,), 3.0), ((32, 3), 3.0), ((2, 3, 4), 3.0), ((40,), 300.0)]:
        z = rng.normal(0.0, scale, size=shape)
        reply = student.call("sigmoid_grad", z, return_inputs=True)
        expect(reply.value, reference.sigmoid_grad(z), "sigmoid_grad(z)",
               function="sigmoid_grad", inputs={"z": z}, case=f"random z of shape {shape}",
               atol=GRAD_ATOL)
        expect_inputs_unchanged(reply, (z,), "sigmoid_grad")
