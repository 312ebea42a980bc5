"""Grading tests for the sigmoid exercise (10 points)."""

import numpy as np
import pytest

from exercises.provided import sigmoid as provided_sigmoid
from grader.checks import expect, expect_array, expect_inputs_unchanged, expect_no_warnings
from grader.compare import GradeFailure

EXTREMES = np.array([-1e4, -1000.0, -710.0, -50.0, -1.0, 0.0, 1.0, 50.0, 710.0, 1000.0, 1e4])


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


@pytest.mark.points(2)
@pytest.mark.hint("Differentiate 1 / (1 + e^(-z)) and rewrite the result in terms of "
                  "sigma itself.")
def test_sigmoid_grad_matches_numerical_derivative(student):
    """Does sigmoid_grad agree with central differences of the sigmoid?"""
    # The provided sigmoid, not the student's: a wrong sigmoid must not cost this test too.
    z = np.linspace(-6.0, 6.0, 13)
    h = 1e-5
    numeric = (provided_sigmoid(z + h) - provided_sigmoid(z - h)) / (2 * h)
    got = expect_array(student.sigmoid_grad(z), z.shape, "sigmoid_grad of a (13,) array")
    expect(got, numeric, "sigmoid_grad(z) against (sigmoid(z+h) - sigmoid(z-h)) / 2h",
           function="sigmoid_grad", inputs={"z": z}, rtol=1e-6, atol=1e-9)
    expect(student.sigmoid_grad(-3.0), 0.0451766597309, "sigmoid_grad(-3)",
           function="sigmoid_grad", inputs={"z": -3.0}, atol=1e-10)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_sigmoid_matches_reference(student, reference, rng):
    """Does sigmoid match the reference on random inputs of many shapes, inputs untouched?"""
    for shape in [(1, 1), (1, 7), (64, 5), (3, 4, 2)]:
        z = rng.normal(0.0, 4.0, size=shape)
        reply = student.call("sigmoid", z, return_inputs=True)
        expect(reply.value, reference.sigmoid(z), "sigmoid(z)", function="sigmoid",
               inputs={"z": z}, case=f"random z of shape {shape}")
        expect_inputs_unchanged(reply, (z,), "sigmoid")


@pytest.mark.hidden
@pytest.mark.points(2)
@pytest.mark.hint("exp(-z) overflows for large negative z. Use a form that only ever "
                  "exponentiates a non-positive number, e.g. split on the sign of z.")
def test_sigmoid_extremes_are_finite_and_warning_free(student, reference):
    """Is sigmoid finite and silent at |z| up to 1e4, as the contract asks?"""
    reply = student.call("sigmoid", EXTREMES)
    expect(reply.value, reference.sigmoid(EXTREMES), "sigmoid(z)", function="sigmoid",
           inputs={"z": EXTREMES}, case="z from -1e4 to 1e4")
    expect_no_warnings(reply, "sigmoid(z) for z from -1e4 to 1e4", function="sigmoid",
                       inputs={"z": EXTREMES})


@pytest.mark.hidden
@pytest.mark.points(1)
def test_sigmoid_grad_matches_reference(student, reference, rng):
    """Does sigmoid_grad match the reference on random inputs, inputs untouched?"""
    for shape in [(1,), (32, 3), (2, 3, 4)]:
        z = rng.normal(0.0, 3.0, size=shape)
        reply = student.call("sigmoid_grad", z, return_inputs=True)
        expect(reply.value, reference.sigmoid_grad(z), "sigmoid_grad(z)",
               function="sigmoid_grad", inputs={"z": z}, case=f"random z of shape {shape}")
        expect_inputs_unchanged(reply, (z,), "sigmoid_grad")


@pytest.mark.hidden
@pytest.mark.points(1)
def test_sigmoid_grad_extremes_are_finite_and_warning_free(student, reference):
    """Is sigmoid_grad finite and silent at |z| up to 1e4?"""
    reply = student.call("sigmoid_grad", EXTREMES)
    expect(reply.value, reference.sigmoid_grad(EXTREMES), "sigmoid_grad(z)",
           function="sigmoid_grad", inputs={"z": EXTREMES}, case="z from -1e4 to 1e4")
    expect_no_warnings(reply, "sigmoid_grad(z) for z from -1e4 to 1e4", function="sigmoid_grad",
                       inputs={"z": EXTREMES})
