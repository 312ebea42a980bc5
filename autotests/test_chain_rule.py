"""Grading tests for the chain rule exercise (10 points).

The numerical derivative differentiates J of the contract, computed here, never the
student's own graph_forward: a wrong forward must not vouch for a wrong backward.
"""

import numpy as np
import pytest

from grader.grading.compare import as_number
from grader.grading.expect import diagnosing, expect, expect_array, expect_dict, expect_gradient
from grader.grading.gradcheck import check_coordinates

from grader.contract import Exercise, Function, Mistake

EXERCISE = Exercise(
    "The chain rule through a computational graph",
    assignment="backprop", order=5,
    functions=(
        Function("graph_forward", ("x",)),
        Function("graph_backward", ("x",)),
    ))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _graph_backward_variant(ref, inputs, *, drop=None, cos_sign=-1.0, cos_at="a", sin_at="d"):
    x = inputs["x"]
    nodes = ref.graph_forward(x)
    nodes["x"] = x
    dd = cos_sign * np.sin(nodes[sin_at])
    db = dc = dd
    da = db * np.cos(nodes[cos_at])
    via_a, via_c = da * 2 * x, dc * 6 * x
    dx = via_c if drop == "a" else via_a if drop == "c" else via_a + via_c
    return {"d": dd, "b": db, "c": dc, "a": da, "x": dx}


MISTAKES = (
    Mistake(
        "chain-fanout-dropped", "graph_backward",
        "dJ/dx follows only one path. x feeds both a = x^2 and c = 3x^2; when a "
        "variable fans out, the gradients flowing back along every path are added.",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, drop="a"),
                  lambda ref, i: _graph_backward_variant(ref, i, drop="c"))),
    Mistake(
        "chain-cos-derivative-sign", "graph_backward",
        "Every gradient has the wrong sign, starting at d. The derivative of cos is "
        "-sin: dJ/dd = -sin(d).",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, cos_sign=1.0),)),
    Mistake(
        "chain-derivative-at-wrong-node", "graph_backward",
        "A local derivative is evaluated at the wrong node. Each local derivative "
        "takes the input of its own operation: db/da = cos(a), not cos of x or of b; "
        "dJ/dd = -sin(d), not -sin(J).",
        variants=(lambda ref, i: _graph_backward_variant(ref, i, cos_at="x"),
                  lambda ref, i: _graph_backward_variant(ref, i, cos_at="b"),
                  lambda ref, i: _graph_backward_variant(ref, i, sin_at="J"))),
)


FORWARD_KEYS = ("a", "b", "c", "d", "J")
BACKWARD_KEYS = ("d", "b", "c", "a", "x")
# J = cos(sin(x^2) + 3x^2) at x = 0.5, node by node, and dJ/d(node) there.
AT_HALF = {"a": 0.25, "b": 0.24740395925452294, "c": 0.75, "d": 0.9974039592545229,
           "J": 0.5424849757}
GRADIENTS_AT_HALF = {"d": -0.840065504067716, "b": -0.840065504067716,
                     "c": -0.840065504067716, "a": -0.8139499019418241,
                     "x": -3.334146414144972}


def total_j(x):
    """J of the contract, summed over an array of x."""
    return float(np.sum(np.cos(np.sin(x ** 2) + 3 * x ** 2)))


@pytest.mark.points(2)
@pytest.mark.hint("Compute the nodes in order: a = x^2, b = sin a, c = 3x^2, d = b + c, J = cos d.")
def test_graph_forward_worked_example(student):
    """Does graph_forward give J = 0.5424849757 at x = 0.5, node by node?"""
    nodes = expect_dict(student.graph_forward(0.5), FORWARD_KEYS, "graph_forward(0.5)")
    for key in FORWARD_KEYS:
        expect(nodes[key], AT_HALF[key], f"node {key} at x = 0.5", function="graph_forward",
               inputs={"x": 0.5}, atol=1e-10)


@pytest.mark.points(3)
@pytest.mark.hint("Go backwards from dJ/dJ = 1: each node's gradient is the gradient at its "
                  "output times its own local derivative, evaluated at the values of the "
                  "forward pass. x feeds two nodes, a and c: think about what that does to "
                  "dJ/dx.",
                  "When a variable fans out, the gradients coming back along every path are "
                  "added: dJ/dx has one term through a (local derivative 2x) and one through "
                  "c (local derivative 6x). Each local derivative is evaluated at its own "
                  "node's input: the one of cos at d, the one of sin at a.")
def test_graph_backward_worked_example(student, rng):
    """Is dJ/dx = -3.3341464141 at x = 0.5, every node's gradient right, and dJ/dx right elsewhere?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    grads = expect_dict(student.graph_backward(0.5), BACKWARD_KEYS, "graph_backward(0.5)")
    for key in BACKWARD_KEYS:
        expect(grads[key], GRADIENTS_AT_HALF[key], f"dJ/d{key} at x = 0.5",
               function="graph_backward", inputs={"x": 0.5}, output=grads, atol=1e-9)
    x = rng.uniform(-2.0, 2.0, size=4)
    grads = expect_dict(student.graph_backward(x), BACKWARD_KEYS, "graph_backward(x)")
    check = check_coordinates(expect_array(grads["x"], x.shape, "dJ/dx for x of shape (4,)"),
                              total_j, x)
    with diagnosing("graph_backward", {"x": x}, grads):
        expect_gradient(check, "dJ/dx", "J = cos(sin(x^2) + 3x^2)")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_graph_forward_matches_reference(student, reference, rng):
    """Does graph_forward match the reference on arrays, elementwise?"""
    x = rng.uniform(-2.0, 2.0, size=(3, 4))
    got = expect_dict(student.graph_forward(x), FORWARD_KEYS, "graph_forward(x)")
    want = reference.graph_forward(x)
    for key in FORWARD_KEYS:
        expect(got[key], want[key], f"node {key}", function="graph_forward", inputs={"x": x},
               case="x of shape (3, 4)")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_graph_backward_matches_reference(student, reference, rng):
    """Is every dJ/d(node) right on arrays, and for a float x?"""
    x = rng.uniform(-2.0, 2.0, size=(5,))
    got = expect_dict(student.graph_backward(x), BACKWARD_KEYS, "graph_backward(x)")
    want = reference.graph_backward(x)
    for key in BACKWARD_KEYS:
        expect(got[key], want[key], f"dJ/d{key}", function="graph_backward", inputs={"x": x},
               output=got, case="x of shape (5,)")
    got = expect_dict(student.graph_backward(-1.7), BACKWARD_KEYS, "graph_backward(-1.7)")
    want = reference.graph_backward(-1.7)
    for key in BACKWARD_KEYS:
        expect(as_number(got[key], f"dJ/d{key}", {}), want[key], f"dJ/d{key}",
               function="graph_backward", inputs={"x": -1.7}, output=got, case="x = -1.7")
