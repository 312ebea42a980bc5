"""Grading tests for the dense layer exercise (25 points).

The numerical gradients differentiate the layer of the contract, sigma(x W + b) with the
provided sigmoid, never the student's own dense_forward: a constant forward would make
zero gradients look right. Square weights (D == M) and two chained layers are in the
visible tests, because a transposed dW and a cache ignored in favour of module-level
state both go unseen without them.
"""

import numpy as np
import pytest

from exercises.provided import sigmoid
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_gradient,
    expect_inputs_unchanged,
    expect_tuple,
)
from grader.grading.gradcheck import check_gradient, vjp_objective

from grader.contract import Exercise, Function, Mistake

EXERCISE = Exercise(
    "Forward and backward pass of a dense layer",
    assignment="backprop", order=3,
    functions=(
        Function("dense_forward", ("x", "W", "b"), opaque_results=(1,)),
        Function("dense_backward", ("dh", "cache")),
    ))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _dense_variant(ref, inputs, *, activation=True, sum_bias=True, transpose_dw=False,
                   dx_from_dh=False):
    x, W, b, dh = inputs["x"], inputs["W"], inputs["b"], inputs["dh"]
    h, _ = ref.dense_forward(x, W, b)
    dz = dh * h * (1 - h) if activation else dh
    dW = x.T @ dz
    if transpose_dw:
        dW = dW.T
    db = dz.sum(axis=0) if sum_bias else dz
    dx = (dh if dx_from_dh else dz) @ W.T
    return dx, dW, db


MISTAKES = (
    Mistake(
        "dense-missing-activation-derivative", "dense_backward",
        "dx, dW and db all skip the sigmoid. h = sigma(Z) with Z = x W + b: on its way "
        "back to W, b and x, the upstream dh passes through the sigmoid first. Which "
        "derivative is that, evaluated where, and what does the cache already hold of it?",
        variants=(lambda ref, i: _dense_variant(ref, i, activation=False),)),
    Mistake(
        "dense-bias-not-summed", "dense_backward",
        "db has one row per sample. The bias is shared by the whole batch, so its "
        "gradient adds up the contributions of every row: db has shape (M,).",
        variants=(lambda ref, i: _dense_variant(ref, i, sum_bias=False),)),
    Mistake(
        "dense-dW-transposed", "dense_backward",
        "dW is transposed. It must have the shape of W, (D, M): pair the inputs x "
        "(N, D) with dZ (N, M) so that the batch dimension N is the one summed away.",
        variants=(lambda ref, i: _dense_variant(ref, i, transpose_dw=True),)),
    Mistake(
        "dense-dx-from-dh", "dense_backward",
        "dW and db are right but dx is not: it was computed from dh. The input x "
        "reaches h through the sigmoid too, so dx comes from dZ, the gradient after "
        "the activation's derivative.",
        variants=(lambda ref, i: _dense_variant(ref, i, dx_from_dh=True),)),
)

ANSWERS = {"dense_backward": lambda ref, i: _dense_variant(ref, i)}


# (N, D, M): a batch, a square asymmetric W, a batch of one.
GRADIENT_CASES = [(3, 4, 2), (4, 3, 3), (1, 2, 2)]
REFERENCE_CASES = [(1, 3, 2), (64, 10, 7), (8, 1, 1), (6, 5, 5)]


def layer(x, W, b):
    """The layer of the contract, h = sigma(x W + b)."""
    return sigmoid(x @ W + b)


def forward(student, x, W, b):
    h, cache = expect_tuple(student.dense_forward(x, W, b), 2, "dense_forward", "(h, cache)")
    return h, cache


def backward(student, dh, cache, shapes, inputs, output=None):
    output = student.dense_backward(dh, cache) if output is None else output
    with diagnosing("dense_backward", inputs, output):
        grads = expect_tuple(output, 3, "dense_backward", "(dx, dW, db)")
        for name, grad, shape in zip(("dx", "dW", "db"), grads, shapes, strict=True):
            expect_array(grad, shape, f"{name} from dense_backward")
    return grads


def layer_case(rng, n, d, m):
    return rng.normal(size=(n, d)), rng.normal(scale=0.5, size=(d, m)), rng.normal(size=m)


def check_layer_gradients(grads, x, W, b, dh, inputs, case):
    """dx, dW, db against central differences of sum(dh * sigma(x W + b))."""
    dx, dW, db = grads
    wrt = {
        "dx": (dx, lambda v: layer(v, W, b), x),
        "dW": (dW, lambda v: layer(x, v, b), W),
        "db": (db, lambda v: layer(x, W, v), b),
    }
    for name, (analytic, f, at) in wrt.items():
        result = check_gradient(analytic, vjp_objective(f, dh), at)
        with diagnosing("dense_backward", inputs, grads):
            expect_gradient(result, f"{name} from dense_backward ({case})",
                            "sum(dh * sigmoid(x W + b))")


@pytest.mark.points(4)
@pytest.mark.hint("h = sigmoid(x W + b): x is (N, D), W is (D, M), b is (M,), and h is (N, M).")
def test_dense_forward_worked_example(student, rng):
    """Does dense_forward reproduce the 2-2-1 network of the notes (hidden 0.9526, output 0.7216)?"""  # noqa: E501 (one line: it is the question of the notebook cell)
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
    x, W, b = layer_case(rng, 4, 3, 3)  # square and asymmetric: x W is not x W^T
    h, _ = forward(student, x, W, b)
    expect(expect_array(h, (4, 3), "h for x (4, 3), W (3, 3)"), layer(x, W, b), "h",
           function="dense_forward", inputs={"x": x, "W": W, "b": b}, case="N=4, D=M=3")


@pytest.mark.points(9)
@pytest.mark.hint("Go back one step at a time: through the sigmoid first (its derivative "
                  "can be written with h alone), then into W, b and x. Each gradient has the "
                  "shape of what it is the gradient of, and for a square W the shape alone "
                  "cannot tell dW from its transpose.",
                  "Through the sigmoid, the local derivative is sigma' at the layer's "
                  "pre-activation x W + b, written with the output h; it is not sigma' "
                  "evaluated at h. Then write one element, z[n, m] = sum_d x[n, d] W[d, m] + "
                  "b[m], and differentiate it: W[d, m] and b[m] are shared by all N rows, so "
                  "their gradients add up a term from every row, and x[n, d] feeds all M "
                  "neurons, so its gradient adds up a term from each of them.")
def test_dense_backward_matches_numerical_gradient(student, rng):
    """Do dx, dW and db agree with central differences of the layer, square W included?"""
    for n, d, m in GRADIENT_CASES:
        x, W, b = layer_case(rng, n, d, m)
        dh = rng.normal(size=(n, m))
        _, cache = forward(student, x, W, b)
        inputs = {"x": x, "W": W, "b": b, "dh": dh}
        grads = backward(student, dh, cache, [(n, d), (d, m), (m,)], inputs)
        check_layer_gradients(grads, x, W, b, dh, inputs, f"N={n}, D={d}, M={m}")


@pytest.mark.points(4)
@pytest.mark.hint("Each dense_backward must use only the cache it is given: with two layers, "
                  "the second forward pass must not overwrite what the first layer's "
                  "backward pass needs. Keep everything in the cache, nothing in globals. "
                  "(If the single-layer gradient test fails too, fix that one first.)",
                  "Return from dense_forward a cache that holds what its own backward pass "
                  "needs (the layer's input, its weights and its output, say), and in "
                  "dense_backward read them from the cache argument only. If the single-layer "
                  "gradient test passes and this one fails, the two layers are sharing "
                  "something.")
def test_dense_layers_chain_backwards(student, rng):
    """Through two layers (forward, forward, backward, backward): is dL/dw1 = 0.0214695353 for Alice?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    # The backprop example of the notes: all weights 1, biases 0, x = (-2, -1), y = 1.
    x = np.array([[-2.0, -1.0]])
    h, hidden = forward(student, x, np.ones((2, 2)), np.zeros(2))
    y_pred, output = forward(student, h, np.ones((2, 1)), np.zeros(1))
    y_pred = expect_array(y_pred, (1, 1), "y_pred of the second layer")
    dy = -2.0 * (1.0 - y_pred)
    # Each layer's own inputs, so that a known mistake in either is named for what it is.
    dh, _, _ = backward(student, dy, output, [(1, 2), (2, 1), (1,)],
                        {"x": h, "W": np.ones((2, 1)), "b": np.zeros(1), "dh": dy})
    _, dW1, _ = backward(student, dh, hidden, [(1, 2), (2, 2), (2,)],
                         {"x": x, "W": np.ones((2, 2)), "b": np.zeros(2), "dh": dh})
    expect(dW1[0, 0], 0.0214695353, "dL/dw1 through two layers", atol=1e-10,
           case="Alice, all weights 1")
    # Asymmetric weights, a batch, and the upstream gradient of a random objective.
    x, W1, b1 = layer_case(rng, 5, 3, 3)
    _, W2, b2 = layer_case(rng, 1, 3, 2)
    dout = rng.normal(size=(5, 2))
    h, hidden = forward(student, x, W1, b1)
    _, output = forward(student, h, W2, b2)
    dh, dW2, db2 = backward(student, dout, output, [(5, 3), (3, 2), (2,)],
                            {"x": h, "W": W2, "b": b2, "dh": dout})
    dx, dW1, db1 = backward(student, dh, hidden, [(5, 3), (3, 3), (3,)],
                            {"x": x, "W": W1, "b": b1, "dh": dh})
    network = {
        "dx": (dx, lambda v: layer(layer(v, W1, b1), W2, b2), x),
        "dW1": (dW1, lambda v: layer(layer(x, v, b1), W2, b2), W1),
        "db1": (db1, lambda v: layer(layer(x, W1, v), W2, b2), b1),
        "dW2": (dW2, lambda v: layer(layer(x, W1, b1), v, b2), W2),
        "db2": (db2, lambda v: layer(layer(x, W1, b1), W2, v), b2),
    }
    for name, (analytic, f, at) in network.items():
        expect_gradient(check_gradient(analytic, vjp_objective(f, dout), at),
                        f"{name} through two layers",
                        "sum(dout * layer2(layer1(x)))")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_dense_forward_matches_reference(student, reference, rng):
    """Does dense_forward match the reference for batches of 1 and 64 and square W, inputs untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for n, d, m in REFERENCE_CASES:
        x, W, b = layer_case(rng, n, d, m)
        reply = student.call("dense_forward", x, W, b, return_inputs=True)
        h, _ = expect_tuple(reply.value, 2, "dense_forward", "(h, cache)")
        want, _ = reference.dense_forward(x, W, b)
        expect(h, want, "h", function="dense_forward", inputs={"x": x, "W": W, "b": b},
               case=f"N={n}, D={d}, M={m}")
        expect_inputs_unchanged(reply, (x, W, b), "dense_forward")


@pytest.mark.hidden
@pytest.mark.points(5)
def test_dense_backward_matches_reference(student, reference, rng):
    """Do dx, dW, db match the reference for batches of 1 and 64 and square W, dh untouched?"""
    for n, d, m in REFERENCE_CASES:
        x, W, b = layer_case(rng, n, d, m)
        dh = rng.normal(size=(n, m))
        _, cache = forward(student, x, W, b)
        inputs = {"x": x, "W": W, "b": b, "dh": dh}
        reply = student.call("dense_backward", dh, cache, return_inputs=True)
        got = backward(student, dh, cache, [(n, d), (d, m), (m,)], inputs, output=reply.value)
        _, ref_cache = reference.dense_forward(x, W, b)
        want = reference.dense_backward(dh, ref_cache)
        for name, g, w in zip(("dx", "dW", "db"), got, want, strict=True):
            expect(g, w, name, function="dense_backward", inputs=inputs, output=got,
                   case=f"N={n}, D={d}, M={m}")
        expect_inputs_unchanged(reply, (dh,), "dense_backward")
