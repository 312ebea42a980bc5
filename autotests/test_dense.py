"""Grading tests for the dense layer exercise (25 points)."""

import numpy as np
import pytest

from grader.checks import (diagnosing, expect, expect_array, expect_gradient,
                           expect_inputs_unchanged, expect_tuple)
from grader.gradcheck import check, vjp_objective


def forward(student, x, W, b):
    h, cache = expect_tuple(student.dense_forward(x, W, b), 2, "dense_forward", "(h, cache)")
    return h, cache


def backward(student, dh, cache, shapes, inputs):
    output = student.dense_backward(dh, cache)
    with diagnosing("dense_backward", inputs, output):
        grads = expect_tuple(output, 3, "dense_backward", "(dx, dW, db)")
        for name, grad, shape in zip(("dx", "dW", "db"), grads, shapes):
            expect_array(grad, shape, f"{name} from dense_backward")
    return grads


def layer_case(rng, n, d, m):
    return rng.normal(size=(n, d)), rng.normal(scale=0.5, size=(d, m)), rng.normal(size=m)


@pytest.mark.points(4)
@pytest.mark.hint("h = sigmoid(x W + b): x is (N, D), W is (D, M), b is (M,), and h is (N, M).")
def test_dense_forward_worked_example(student):
    """Does dense_forward reproduce the 2-2-1 network of the notes (hidden 0.9526, output 0.7216)?"""
    x = np.array([[2.0, 3.0]])
    W = np.array([[0.0, 0.0], [1.0, 1.0]])  # each column is one neuron's w = [0, 1]
    b = np.zeros(2)
    h, _ = forward(student, x, W, b)
    expect(expect_array(h, (1, 2), "h of the hidden layer"), np.full((1, 2), 0.9525741268224334),
           "hidden layer h", function="dense_forward", inputs={"x": x, "W": W, "b": b})
    W2, b2 = np.array([[0.0], [1.0]]), np.zeros(1)
    out, _ = forward(student, h, W2, b2)
    expect(expect_array(out, (1, 1), "output of the network"), np.array([[0.7216325609518421]]),
           "output layer", function="dense_forward", inputs={"x": h, "W": W2, "b": b2})


@pytest.mark.points(3)
@pytest.mark.hint("dx has the shape of x (N, D), dW the shape of W (D, M), db the shape of b (M,).")
def test_dense_backward_shapes(student, rng):
    """Does dense_backward return (dx, dW, db) shaped like (x, W, b), in float64?"""
    x, W, b = layer_case(rng, 5, 3, 2)
    h, cache = forward(student, x, W, b)
    dh = np.ones((5, 2))
    backward(student, dh, cache, [(5, 3), (3, 2), (2,)], {"x": x, "W": W, "b": b, "dh": dh})


@pytest.mark.points(6)
@pytest.mark.hint("Go back one step at a time: through the sigmoid first (its derivative "
                  "can be written with h alone), then into W, b and x. Each gradient has the "
                  "shape of what it is the gradient of; the module docstring walks the steps.")
def test_dense_backward_matches_numerical_gradient(student, rng):
    """Do dx, dW and db agree with central differences of the student's own dense_forward?"""
    x, W, b = layer_case(rng, 3, 4, 2)
    dh = rng.normal(size=(3, 2))
    _, cache = forward(student, x, W, b)
    inputs = {"x": x, "W": W, "b": b, "dh": dh}
    dx, dW, db = backward(student, dh, cache, [(3, 4), (4, 2), (2,)], inputs)
    layer = {
        "dx": (dx, lambda v: forward(student, v, W, b)[0], x),
        "dW": (dW, lambda v: forward(student, x, v, b)[0], W),
        "db": (db, lambda v: forward(student, x, W, v)[0], b),
    }
    for name, (analytic, f, at) in layer.items():
        result = check(analytic, vjp_objective(f, dh), at)
        with diagnosing("dense_backward", inputs, (dx, dW, db)):
            expect_gradient(result, f"{name} from dense_backward",
                            "sum(dh * dense_forward(x, W, b))")


@pytest.mark.hidden
@pytest.mark.points(4)
def test_dense_forward_matches_reference(student, reference, rng):
    """Does dense_forward match the reference for batches of 1 and 64, inputs untouched?"""
    for n, d, m in [(1, 3, 2), (64, 10, 7), (8, 1, 1)]:
        x, W, b = layer_case(rng, n, d, m)
        reply = student.call("dense_forward", x, W, b, return_inputs=True)
        h, _ = expect_tuple(reply.value, 2, "dense_forward", "(h, cache)")
        want, _ = reference.dense_forward(x, W, b)
        expect(h, want, "h", function="dense_forward", inputs={"x": x, "W": W, "b": b},
               case=f"N={n}, D={d}, M={m}")
        expect_inputs_unchanged(reply, (x, W, b), "dense_forward")


@pytest.mark.hidden
@pytest.mark.points(6)
def test_dense_backward_matches_reference(student, reference, rng):
    """Do dx, dW, db match the reference for batches of 1 and 64?"""
    for n, d, m in [(1, 3, 2), (64, 10, 7), (8, 1, 1)]:
        x, W, b = layer_case(rng, n, d, m)
        dh = rng.normal(size=(n, m))
        _, cache = forward(student, x, W, b)
        inputs = {"x": x, "W": W, "b": b, "dh": dh}
        got = backward(student, dh, cache, [(n, d), (d, m), (m,)], inputs)
        _, ref_cache = reference.dense_forward(x, W, b)
        want = reference.dense_backward(dh, ref_cache)
        for name, g, w in zip(("dx", "dW", "db"), got, want):
            expect(g, w, name, function="dense_backward", inputs=inputs, output=got,
                   case=f"N={n}, D={d}, M={m}")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_dense_backward_leaves_upstream_gradient_unchanged(student, rng):
    """Does dense_backward leave dh as it found it?"""
    x, W, b = layer_case(rng, 6, 4, 3)
    dh = rng.normal(size=(6, 3))
    _, cache = forward(student, x, W, b)
    reply = student.call("dense_backward", dh, cache, return_inputs=True)
    expect_tuple(reply.value, 3, "dense_backward", "(dx, dW, db)")
    expect_inputs_unchanged(reply, (dh,), "dense_backward")
