"""The reference solutions and the stubs made from them.

The solutions are the single source of the course: the stubs, the notebooks and the
grader's expectations all come from them. These tests check that they reproduce the
worked numbers of the notes, that every gradient agrees with central differences, that
they keep the contract (names, shapes, float64, inputs left alone, no warnings at the
extremes), that the default training runs learn the gender table and the two moons,
and that the stubs in exercises/ are exactly what the generator makes from them.
"""

from __future__ import annotations

import ast
import copy
import doctest
import importlib
import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from exercises.provided import GENDER_X, GENDER_Y, NAMES, two_moons
from grader import contract
from grader.course import stubs
from solutions import (
    activations,
    chain_rule,
    cross_entropy,
    dense,
    mlp,
    mse,
    sigmoid,
    softmax,
    training,
)

EXERCISES = contract.exercises()
EXERCISE_NAMES = contract.exercise_names()

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"
SOLUTION_MODULES = {name: importlib.import_module(f"solutions.{name}") for name in EXERCISE_NAMES}
FUNCTIONS = [(exercise.name, function.name) for exercise in EXERCISES
             for function in exercise.functions]
KEYS = ("W1", "b1", "W2", "b2")


def ones_network():
    """The 2-2-1 network of the backprop example: every weight 1, every bias 0."""
    return {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.ones((2, 1)), "b2": np.zeros(1)}


def numerical_gradient(f, at, h=1e-5):
    """Central differences of the scalar function f at the array ``at``, element by element."""
    at = np.array(at, dtype=np.float64)
    grad = np.zeros_like(at)
    for index in np.ndindex(at.shape):
        old = at[index]
        at[index] = old + h
        up = f(at.copy())
        at[index] = old - h
        down = f(at.copy())
        at[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad


def assert_gradient(analytic, numeric, tolerance=1e-7):
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape
    error = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
    assert error.max() < tolerance, f"relative error {error.max():.3g} at {np.argmax(error)}"


# -- the worked numbers of the notes ---------------------------------------------------


def test_sigmoid_reproduces_the_neuron_of_the_notes():
    """Does the sigmoid give 0.9990889488 for the neuron w = [0, 1], b = 4, x = [2, 3]?"""
    w, b, x = np.array([0.0, 1.0]), 4.0, np.array([2.0, 3.0])
    assert sigmoid.sigmoid(w @ x + b) == pytest.approx(0.9990889488, abs=1e-9)
    assert sigmoid.sigmoid(7.0) == pytest.approx(0.9990889488, abs=1e-9)


def test_sigmoid_grad_at_minus_three_is_exact():
    """Is sigma'(-3) the exact 0.0451766597, not the 0.044791 of rounding sigma(-3) first?"""
    assert sigmoid.sigmoid_grad(-3.0) == pytest.approx(0.0451766597, abs=1e-9)


def test_the_feedforward_example_of_the_notes():
    """With every neuron w = [0, 1], b = 0 and x = [2, 3], is h 0.9525741268 and y 0.7216325610?"""
    x = np.array([[2.0, 3.0]])
    W1, W2 = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[0.0], [1.0]])
    h, _ = dense.dense_forward(x, W1, np.zeros(2))
    out, _ = dense.dense_forward(h, W2, np.zeros(1))
    assert h == pytest.approx(np.full((1, 2), 0.9525741268), abs=1e-9)
    assert out == pytest.approx(np.array([[0.7216325610]]), abs=1e-9)
    params = {"W1": W1, "b1": np.zeros(2), "W2": W2, "b2": np.zeros(1)}
    y_pred, _ = training.forward(params, x)
    assert y_pred == pytest.approx(np.array([0.7216325610]), abs=1e-9)


def test_mse_of_the_always_male_network():
    """Is the MSE of predictions [0, 0, 0, 0] against [1, 0, 0, 1] equal to 0.5?"""
    loss = mse.mse_loss(np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4))
    assert loss == pytest.approx(0.5, abs=1e-9)


def test_the_alice_backprop_example():
    """Does Alice's example give every factor of dL/dw1 and dL/dw1 = 0.0214695353 itself?"""
    x, y = np.array([[-2.0, -1.0]]), np.array([1.0])
    h, hidden = dense.dense_forward(x, np.ones((2, 2)), np.zeros(2))
    out, output = dense.dense_forward(h, np.ones((2, 1)), np.zeros(1))
    assert h == pytest.approx(np.full((1, 2), 0.0474258732), abs=1e-9)
    assert out == pytest.approx(np.array([[0.5236951741]]), abs=1e-9)
    dy_pred = mse.mse_grad(y, out[:, 0])
    assert dy_pred == pytest.approx(np.array([-0.9526096518]), abs=1e-9)
    # w5 = 1 times sigma' at the output's input h1 + h2; x1 = -2 times sigma'(-3).
    assert sigmoid.sigmoid_grad(h[0, 0] + h[0, 1]) == pytest.approx(0.2494385387, abs=1e-9)
    assert -2.0 * sigmoid.sigmoid_grad(-3.0) == pytest.approx(-0.0903533195, abs=1e-9)
    dh, _, _ = dense.dense_backward(dy_pred[:, None], output)
    _, dW1, _ = dense.dense_backward(dh, hidden)
    assert dW1[0, 0] == pytest.approx(0.0214695353, abs=1e-9)
    y_pred, cache = training.forward(ones_network(), x)
    assert y_pred == pytest.approx(np.array([0.5236951741]), abs=1e-9)
    grads = training.backward(ones_network(), cache, y)
    assert grads["W1"][0, 0] == pytest.approx(0.0214695353, abs=1e-9)


def test_the_chain_rule_graph_at_one_half():
    """Is J = 0.5424849757 and dJ/dx = -3.3341464141 at x = 0.5?"""
    assert chain_rule.graph_forward(0.5)["J"] == pytest.approx(0.5424849757, abs=1e-9)
    assert chain_rule.graph_backward(0.5)["x"] == pytest.approx(-3.3341464141, abs=1e-9)


# -- gradients against central differences ----------------------------------------------


def test_sigmoid_grad_matches_central_differences():
    """Does sigmoid_grad agree with central differences of sigmoid?"""
    z, h = np.linspace(-8.0, 8.0, 33).reshape(3, 11), 1e-5
    # Elementwise, so one difference per element: no roundoff from summing them all.
    numeric = (sigmoid.sigmoid(z + h) - sigmoid.sigmoid(z - h)) / (2 * h)
    assert_gradient(sigmoid.sigmoid_grad(z), numeric)


def test_mse_grad_matches_central_differences():
    """Does mse_grad agree with central differences of mse_loss, for 1-D and 2-D arrays?"""
    rng = np.random.default_rng(1)
    for shape in [(6,), (3, 4)]:
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
        numeric = numerical_gradient(lambda p, y_true=y_true: mse.mse_loss(y_true, p), y_pred)
        assert_gradient(mse.mse_grad(y_true, y_pred), numeric)


def test_dense_backward_matches_central_differences():
    """Do dx, dW and db agree with central differences of sum(dh * dense_forward(x, W, b))?"""
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    dh = rng.normal(size=(4, 5))
    _, cache = dense.dense_forward(x, W, b)
    dx, dW, db = dense.dense_backward(dh, cache)

    def objective(x, W, b):
        return float(np.sum(dh * dense.dense_forward(x, W, b)[0]))

    assert_gradient(dx, numerical_gradient(lambda v: objective(v, W, b), x))
    assert_gradient(dW, numerical_gradient(lambda v: objective(x, v, b), W))
    assert_gradient(db, numerical_gradient(lambda v: objective(x, W, v), b))


def test_bce_grad_matches_central_differences():
    """Does bce_grad agree with central differences of bce_loss?"""
    rng = np.random.default_rng(3)
    y, z = rng.integers(0, 2, size=7).astype(np.float64), rng.normal(0.0, 2.0, size=7)
    numeric = numerical_gradient(lambda v: cross_entropy.bce_loss(y, v), z)
    assert_gradient(cross_entropy.bce_grad(y, z), numeric)


def test_logistic_regression_grad_matches_central_differences():
    """Do dw and db agree with central differences of bce_loss(y, X w + b)?"""
    rng = np.random.default_rng(4)
    X, w, b = rng.normal(size=(8, 3)), rng.normal(size=3), 0.4
    y = rng.integers(0, 2, size=8).astype(np.float64)
    dw, db = cross_entropy.logistic_regression_grad(w, b, X, y)
    assert_gradient(dw, numerical_gradient(lambda v: cross_entropy.bce_loss(y, X @ v + b), w))
    numeric_db = numerical_gradient(lambda v: cross_entropy.bce_loss(y, X @ w + v[0]), [b])
    assert_gradient(np.array([db]), numeric_db)


def test_graph_backward_matches_central_differences_at_every_node():
    """Is dJ/dv right for every node v, each checked by nudging v alone with the rest held?"""
    x = np.array([-1.3, -0.4, 0.5, 0.9, 1.6])
    nodes, grads = chain_rule.graph_forward(x), chain_rule.graph_backward(x)
    a, b, c, d = nodes["a"], nodes["b"], nodes["c"], nodes["d"]
    # Every node is elementwise, so the derivative of the sum is the derivative of each.
    j_of = {
        "d": (lambda v: float(np.sum(np.cos(v))), d),
        "b": (lambda v: float(np.sum(np.cos(v + c))), b),
        "c": (lambda v: float(np.sum(np.cos(b + v))), c),
        "a": (lambda v: float(np.sum(np.cos(np.sin(v) + c))), a),
        "x": (lambda v: float(np.sum(chain_rule.graph_forward(v)["J"])), x),
    }
    assert set(grads) == set(j_of)
    for name, (j, at) in j_of.items():
        assert_gradient(grads[name], numerical_gradient(j, at))


def test_training_backward_matches_central_differences():
    """Does backward agree with central differences of the MSE of forward, for all four params?"""
    rng = np.random.default_rng(5)
    params = training.init_params(3, 4, seed=6)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(np.float64)
    _, cache = training.forward(params, X)
    grads = training.backward(params, cache, y)
    assert set(grads) == set(KEYS)
    for key in KEYS:
        def loss(value, key=key):
            return float(np.mean((y - training.forward({**params, key: value}, X)[0]) ** 2))

        assert_gradient(grads[key], numerical_gradient(loss, params[key]))


def test_relu_backward_matches_central_differences_away_from_the_kink():
    """Does relu_backward agree with central differences of sum(dout * relu(x)) at inputs
    at least 0.1 from 0, and give 0 wherever x is exactly 0, whatever dout is there?"""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 4, 2))
    x[np.abs(x) < 0.1] = 0.5
    dout = rng.normal(size=x.shape)
    _, cache = activations.relu_forward(x)

    def objective(v):
        return float(np.sum(dout * activations.relu_forward(v)[0]))

    assert_gradient(activations.relu_backward(dout, cache), numerical_gradient(objective, x))
    x = np.array([[0.0, 1.0, -1.0, 0.0]])
    _, cache = activations.relu_forward(x)
    dx = activations.relu_backward(np.array([[5.0, 2.0, 3.0, -4.0]]), cache)
    assert np.array_equal(dx, [[0.0, 2.0, 0.0, 0.0]])


def test_tanh_backward_matches_central_differences():
    """Does tanh_backward agree with central differences of sum(dout * tanh(x))?"""
    rng = np.random.default_rng(9)
    x, dout = rng.normal(scale=1.5, size=(4, 3)), rng.normal(size=(4, 3))
    _, cache = activations.tanh_forward(x)

    def objective(v):
        return float(np.sum(dout * activations.tanh_forward(v)[0]))

    assert_gradient(activations.tanh_backward(dout, cache), numerical_gradient(objective, x))


def test_softmax_ce_grad_matches_central_differences():
    """Does softmax_ce_grad agree with central differences of softmax_ce_loss, for a square
    batch and a tall one?"""
    rng = np.random.default_rng(10)
    for n, k in [(4, 4), (6, 3)]:
        y, z = rng.integers(0, k, size=n), rng.normal(scale=2.0, size=(n, k))
        numeric = numerical_gradient(lambda v, y=y: softmax.softmax_ce_loss(y, v), z)
        assert_gradient(softmax.softmax_ce_grad(y, z), numeric)


def test_affine_backward_matches_central_differences():
    """Do dx, dW and db agree with central differences of sum(dout * affine_forward(x, W, b))?"""
    rng = np.random.default_rng(11)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = mlp.affine_forward(x, W, b)
    dx, dW, db = mlp.affine_backward(dout, cache)

    def objective(x, W, b):
        return float(np.sum(dout * mlp.affine_forward(x, W, b)[0]))

    assert_gradient(dx, numerical_gradient(lambda v: objective(v, W, b), x))
    assert_gradient(dW, numerical_gradient(lambda v: objective(x, v, b), W))
    assert_gradient(db, numerical_gradient(lambda v: objective(x, W, v), b))


def test_mlp_backward_matches_central_differences():
    """Does mlp_backward give the loss of mlp_forward and, for a 3-layer network of unequal
    widths, every gradient that central differences of that loss give?"""
    rng = np.random.default_rng(12)
    params = {key: value + rng.normal(scale=0.3, size=value.shape)  # biases that matter
              for key, value in mlp.init_mlp([3, 5, 4, 3], seed=3).items()}
    X, y = rng.normal(size=(6, 3)), np.array([0, 2, 1, 1, 0, 2])
    logits, cache = mlp.mlp_forward(params, X)
    loss, grads = mlp.mlp_backward(params, cache, y)
    assert loss == softmax.softmax_ce_loss(y, logits)
    assert set(grads) == set(params)
    for key in params:
        def objective(value, key=key):
            return softmax.softmax_ce_loss(y, mlp.mlp_forward({**params, key: value}, X)[0])

        assert_gradient(grads[key], numerical_gradient(objective, params[key]))


# -- the contract: types, shapes, inputs left alone, no warnings -------------------------


def call_cases():
    """Arguments for one call of every contract function, fresh on every use."""
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    _, dense_cache = dense.dense_forward(x, W, b)
    labels = rng.integers(0, 2, size=5).astype(np.float64)
    params = training.init_params(3, 2, seed=1)
    X = rng.normal(size=(5, 3))
    _, cache = training.forward(params, X)
    grads = training.backward(params, cache, labels)
    # The networks assignment, drawn after the rest so that the draws above stay as they were.
    z = rng.normal(scale=2.0, size=(3, 4))
    z[0, 1] = 0.0  # ReLU's kink
    _, relu_cache = activations.relu_forward(z)
    _, tanh_cache = activations.tanh_forward(z)
    classes, logits = rng.integers(0, 3, size=5), rng.normal(size=(5, 3))
    x_in, W_in, b_in = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    _, affine_cache = mlp.affine_forward(x_in, W_in, b_in)
    net = mlp.init_mlp([3, 4, 3], seed=2)
    _, net_cache = mlp.mlp_forward(net, X)
    return {
        "sigmoid": (rng.normal(size=(3, 4)),),
        "sigmoid_grad": (rng.normal(size=(2, 3, 2)),),
        "mse_loss": (rng.normal(size=(3, 2)), rng.normal(size=(3, 2))),
        "mse_grad": (rng.normal(size=(3, 2)), rng.normal(size=(3, 2))),
        "dense_forward": (x, W, b),
        "dense_backward": (rng.normal(size=(4, 2)), dense_cache),
        "bce_loss": (labels, rng.normal(size=5)),
        "bce_grad": (labels, rng.normal(size=5)),
        "logistic_regression_grad": (rng.normal(size=3), 0.2, X, labels),
        "graph_forward": (rng.normal(size=(2, 3)),),
        "graph_backward": (rng.normal(size=(2, 3)),),
        "init_params": (3, 2, 4),
        "forward": (params, X),
        "backward": (params, cache, labels),
        "sgd_step": (params, grads, 0.1),
        "train": (params, X, labels, 0.3, 4),
        "softmax": (logits,),
        "softmax_ce_loss": (classes, logits),
        "softmax_ce_grad": (classes, logits),
        "relu_forward": (z,),
        "relu_backward": (rng.normal(size=(3, 4)), relu_cache),
        "tanh_forward": (z,),
        "tanh_backward": (rng.normal(size=(3, 4)), tanh_cache),
        "affine_forward": (x_in, W_in, b_in),
        "affine_backward": (rng.normal(size=(4, 2)), affine_cache),
        "init_mlp": ([3, 4, 3], 2),
        "mlp_forward": (net, X),
        "mlp_backward": (net, net_cache, classes),
        "train_mlp": (net, X, classes, 0.3, 4),
        "predict": (net, X),
    }


ANY = object()  # a result the contract leaves opaque (a cache)


@dataclass(frozen=True)
class Labels:
    """An int64 array of class labels of this shape (predict's result), not float64."""
    shape: tuple[int, ...]


def expected_results(name):
    """What ``call_cases()[name]`` must give: float64 array shapes, "float", Labels, dicts
    or tuples of them."""
    params_shapes = {"W1": (3, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    net_shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    graph = (2, 3)
    return {
        "sigmoid": (3, 4),
        "sigmoid_grad": (2, 3, 2),
        "mse_loss": "float",
        "mse_grad": (3, 2),
        "dense_forward": ((4, 2), ANY),
        "dense_backward": ((4, 3), (3, 2), (2,)),
        "bce_loss": "float",
        "bce_grad": (5,),
        "logistic_regression_grad": ((3,), "float"),
        "graph_forward": {key: graph for key in ("a", "b", "c", "d", "J")},
        "graph_backward": {key: graph for key in ("d", "b", "c", "a", "x")},
        "init_params": params_shapes,
        "forward": ((5,), ANY),
        "backward": params_shapes,
        "sgd_step": params_shapes,
        "train": (params_shapes, (4,)),
        "softmax": (5, 3),
        "softmax_ce_loss": "float",
        "softmax_ce_grad": (5, 3),
        "relu_forward": ((3, 4), ANY),
        "relu_backward": (3, 4),
        "tanh_forward": ((3, 4), ANY),
        "tanh_backward": (3, 4),
        "affine_forward": ((4, 2), ANY),
        "affine_backward": ((4, 3), (3, 2), (2,)),
        "init_mlp": net_shapes,
        "mlp_forward": ((5, 3), ANY),
        "mlp_backward": ("float", net_shapes),
        "train_mlp": (net_shapes, (4,)),
        "predict": Labels((5,)),
    }[name]


def assert_result(value, expected, where):
    if expected is ANY:
        return
    if expected == "float":
        assert type(value) is float, f"{where}: {type(value).__name__}, not a Python float"
    elif isinstance(expected, Labels):
        assert type(value) is np.ndarray, f"{where}: {type(value).__name__}, not an ndarray"
        assert value.dtype == np.int64, f"{where}: dtype {value.dtype}"
        assert value.shape == expected.shape, f"{where}: shape {value.shape}"
    elif isinstance(expected, dict):
        assert isinstance(value, dict) and set(value) == set(expected), where
        for key, item in expected.items():
            assert_result(value[key], item, f"{where}[{key!r}]")
    elif isinstance(expected, tuple) and all(isinstance(n, int) for n in expected):
        assert type(value) is np.ndarray, f"{where}: {type(value).__name__}, not an ndarray"
        assert value.dtype == np.float64, f"{where}: dtype {value.dtype}"
        assert value.shape == expected, f"{where}: shape {value.shape}, not {expected}"
    else:
        assert isinstance(value, tuple) and len(value) == len(expected), where
        for i, (item, want) in enumerate(zip(value, expected, strict=True)):
            assert_result(item, want, f"{where}[{i}]")


@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_results_are_float64_of_the_contract_shapes(module, name):
    """Does every function return float64 arrays of the contract's shapes, or Python floats
    (or, for predict, int64 labels)?"""
    function = getattr(SOLUTION_MODULES[module], name)
    assert_result(function(*call_cases()[name]), expected_results(name), name)


def test_scalar_inputs_give_scalars():
    """Do the elementwise functions take a Python float and give back a float64 scalar?"""
    for value in (sigmoid.sigmoid(0.3), sigmoid.sigmoid_grad(0.3)):
        assert type(value) is float
    for nodes in (chain_rule.graph_forward(0.3), chain_rule.graph_backward(0.3)):
        for value in nodes.values():
            assert isinstance(value, float) and np.asarray(value).dtype == np.float64


def same(a, b):
    """Equal contents, recursively: arrays by np.array_equal, containers item by item."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return a == b


def read_only(value):
    """A copy of ``value`` whose arrays refuse writes, so an in-place change raises."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.setflags(write=False)
        return value
    if isinstance(value, dict):
        return {key: read_only(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(read_only(item) for item in value)
    return value


@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_inputs_are_left_unchanged(module, name):
    """Does every function leave its arguments exactly as it found them, read-only ones too?"""
    function = getattr(SOLUTION_MODULES[module], name)
    args = call_cases()[name]
    before = copy.deepcopy(args)
    function(*args)
    assert same(args, before)
    function(*read_only(before))


def test_sgd_step_returns_a_new_dict():
    """Does sgd_step return a new dict of p - lr * g rather than updating params in place?"""
    params = training.init_params(2, 3, seed=2)
    grads = {key: np.full_like(value, 2.0) for key, value in params.items()}
    new = training.sgd_step(params, grads, 0.25)
    assert new is not params
    for key in KEYS:
        assert new[key] is not params[key]
        assert np.array_equal(new[key], params[key] - 0.5)


EXTREME = 1e4


def test_extreme_logits_are_finite_and_silent():
    """Are the sigmoid and cross-entropy functions finite, right and silent at |z| = 1e4?"""
    z = np.array([-EXTREME, -EXTREME, EXTREME, EXTREME])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    X, w = np.array([[-1.0], [-1.0], [1.0], [1.0]]), np.array([EXTREME])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid.sigmoid(z)
        ds = sigmoid.sigmoid_grad(z)
        scalars = [sigmoid.sigmoid(EXTREME), sigmoid.sigmoid(-EXTREME),
                   sigmoid.sigmoid_grad(EXTREME), sigmoid.sigmoid_grad(-EXTREME)]
        loss = cross_entropy.bce_loss(y, z)
        dz = cross_entropy.bce_grad(y, z)
        dw, db = cross_entropy.logistic_regression_grad(w, 0.0, X, y)
    assert np.array_equal(s, [0.0, 0.0, 1.0, 1.0])
    assert np.array_equal(ds, np.zeros(4))
    assert scalars == [1.0, 0.0, 0.0, 0.0]
    # Two confident right answers (loss 0) and two confident wrong ones (loss 1e4 each).
    assert loss == pytest.approx(EXTREME / 2)
    assert np.array_equal(dz, np.array([0.0, -1.0, 1.0, 0.0]) / 4)
    assert np.all(np.isfinite(dw)) and np.isfinite(db)
    assert dw == pytest.approx(np.array([0.5])) and db == pytest.approx(0.0)


def test_softmax_and_tanh_are_finite_right_and_silent_at_1e4():
    """Are softmax, softmax_ce_loss, softmax_ce_grad, tanh_forward and tanh_backward finite,
    right and silent for inputs of size 1e4, rows far apart (one row 2e4 below another)?"""
    z = np.array([[EXTREME, 0.0, -EXTREME], [-EXTREME, -EXTREME + 1.0, -EXTREME + 2.0]])
    y = np.array([2, 2])
    x = np.array([[-EXTREME, -800.0, 0.0, 800.0, EXTREME]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax.softmax(z)
        loss = softmax.softmax_ce_loss(y, z)
        dz = softmax.softmax_ce_grad(y, z)
        out, cache = activations.tanh_forward(x)
        dx = activations.tanh_backward(np.ones_like(x), cache)
    tail = softmax.softmax(np.array([[0.0, 1.0, 2.0]]))[0]
    assert np.array_equal(p[0], [1.0, 0.0, 0.0]) and p[1] == pytest.approx(tail, rel=1e-12)
    # A confident wrong answer (2e4) and the row whose labels are most likely.
    assert loss == pytest.approx((2 * EXTREME - np.log(tail[2])) / 2, rel=1e-12)
    assert np.all(np.isfinite(dz)) and dz.sum(axis=1) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert np.array_equal(out, [[-1.0, -1.0, 0.0, 1.0, 1.0]])
    assert np.array_equal(dx, [[0.0, 0.0, 1.0, 0.0, 0.0]])


# -- training ---------------------------------------------------------------------------


def test_init_params_follows_the_recipe():
    """Does init_params draw W1 then W2 from default_rng(seed), with zero biases, in float64?"""
    for n_inputs, n_hidden, seed in [(2, 2, 0), (3, 5, 7), (1, 1, 123)]:
        rng = np.random.default_rng(seed)
        W1 = rng.standard_normal((n_inputs, n_hidden))
        W2 = rng.standard_normal((n_hidden, 1))
        want = {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(1)}
        assert same(training.init_params(n_inputs, n_hidden, seed), want)
    assert same(training.init_params(2, 2), training.init_params(2, 2, seed=0))


def test_default_training_learns_the_gender_table():
    """Does the default run from init_params(2, 2) fall every step to below 0.02, all right?"""
    signature = inspect.signature(training.train)
    assert signature.parameters["lr"].default == 0.5
    assert signature.parameters["epochs"].default == 500
    params = training.init_params(2, 2, seed=0)
    before = copy.deepcopy(params)
    trained, losses = training.train(params, GENDER_X, GENDER_Y)
    assert same(params, before)
    assert type(losses) is np.ndarray and losses.dtype == np.float64 and losses.shape == (500,)
    assert np.all(np.diff(losses) <= 1e-12)
    y_pred, _ = training.forward(trained, GENDER_X)
    final = float(np.mean((GENDER_Y - y_pred) ** 2))
    assert final < 0.02
    assert final == pytest.approx(0.0025, abs=1e-4)
    for name, prediction, label in zip(NAMES, y_pred, GENDER_Y, strict=True):
        assert (prediction > 0.5) == (label == 1.0), name


def test_losses_are_recorded_before_each_step():
    """Is losses[k] the loss of the params before step k, and one step one sgd_step?"""
    params = training.init_params(2, 2, seed=0)
    y_pred, cache = training.forward(params, GENDER_X)
    stepped = training.sgd_step(params, training.backward(params, cache, GENDER_Y), 0.5)
    one, losses = training.train(params, GENDER_X, GENDER_Y, lr=0.5, epochs=1)
    assert losses[0] == np.mean((GENDER_Y - y_pred) ** 2)
    assert same(one, stepped)
    _, losses = training.train(params, GENDER_X, GENDER_Y, lr=0.5, epochs=2)
    assert losses[1] == np.mean((GENDER_Y - training.forward(stepped, GENDER_X)[0]) ** 2)


def test_init_mlp_follows_the_recipe():
    """Does init_mlp draw W1, W2, ... in order from one default_rng(seed), each scaled by
    sqrt(1 / fan-in), with zero biases, in float64?"""
    for layer_sizes, seed in [([2, 3, 2], 0), ([4, 6, 5, 3], 7), ([1, 1], 123)]:
        rng = np.random.default_rng(seed)
        want = {}
        for layer in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
            want[f"W{layer}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(1.0 / n_in)
            want[f"b{layer}"] = np.zeros(n_out)
        assert same(mlp.init_mlp(layer_sizes, seed), want)
    assert same(mlp.init_mlp([2, 2]), mlp.init_mlp([2, 2], seed=0))


def test_train_mlp_records_the_loss_before_each_step():
    """Is train_mlp's losses[k] the loss of the params before step k, one step the params
    minus lr times mlp_backward's gradients, and the given params left alone?"""
    params = mlp.init_mlp([2, 3, 2], seed=0)
    X, y = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]]), np.array([0, 1, 1, 0])
    before = copy.deepcopy(params)
    loss, grads = mlp.mlp_backward(params, mlp.mlp_forward(params, X)[1], y)
    stepped = {key: params[key] - 0.5 * grads[key] for key in params}
    one, losses = mlp.train_mlp(params, X, y, lr=0.5, epochs=1)
    assert same(params, before)
    assert losses.tolist() == [loss] and same(one, stepped)
    _, losses = mlp.train_mlp(params, X, y, lr=0.5, epochs=2)
    assert losses[1] == mlp.mlp_backward(stepped, mlp.mlp_forward(stepped, X)[1], y)[0]


def test_default_mlp_training_learns_the_two_moons():
    """Does the default run (lr 0.8, 200 epochs) from init_mlp([2, 16, 16, 2]) classify all
    of two_moons(200) right, the loss falling from 0.7421546532 to about 0.0068?"""
    signature = inspect.signature(mlp.train_mlp)
    assert signature.parameters["lr"].default == 0.8
    assert signature.parameters["epochs"].default == 200
    X, y = two_moons(200, noise=0.1, seed=0)
    trained, losses = mlp.train_mlp(mlp.init_mlp([2, 16, 16, 2], seed=0), X, y)
    assert losses.shape == (200,) and losses[0] == pytest.approx(0.7421546532, abs=1e-9)
    assert losses[-1] == pytest.approx(0.0068, abs=1e-4)
    labels = mlp.predict(trained, X)
    assert np.array_equal(labels, y) and labels.dtype == np.int64


# -- the single source: doctests, signatures, stubs, imports ----------------------------


@pytest.mark.parametrize("name", [*EXERCISE_NAMES, "provided"])
def test_doctests_pass(name):
    """Do the worked examples in the docstrings run and print what they say?"""
    package = "exercises" if name == "provided" else "solutions"
    result = doctest.testmod(importlib.import_module(f"{package}.{name}"))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("package", ["solutions", "exercises"])
@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_functions_have_the_contract_signatures(package, module, name):
    """Is every contract function in solutions/ and exercises/, with the contract's names?"""
    function = getattr(importlib.import_module(f"{package}.{module}"), name)
    want = next(f.params for e in EXERCISES if e.name == module for f in e.functions
                if f.name == name)
    assert tuple(inspect.signature(function).parameters) == want


@pytest.mark.parametrize("module, name", FUNCTIONS)
def test_every_stub_raises_not_implemented(module, name):
    """Does every stub raise NotImplementedError when called, rather than return None?"""
    function = getattr(importlib.import_module(f"exercises.{module}"), name)
    with pytest.raises(NotImplementedError):
        function(*call_cases()[name])


@pytest.mark.parametrize("path", [*(SOLUTIONS_DIR / f"{n}.py" for n in EXERCISE_NAMES),
                                  *(EXERCISES_DIR / f"{n}.py" for n in EXERCISE_NAMES)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_modules_import_only_numpy_and_the_provided_helpers(path):
    """Does each exercise and solution import nothing but numpy, exercises.provided and,
    relatively, contract functions of another exercise of its own assignment?

    The relative import is by design: mlp.py builds on the student's own layers
    (``from .activations import tanh_forward, ...``), and the grader imports each module as
    ``exercises.<name>``, so the sibling is the student's module of the same submission. It
    must name a sibling module (not the package, not the module itself) of the same
    assignment, which a submission of that assignment holds, and only functions of that
    sibling's contract, which every submission defines."""
    own = contract.exercise(path.stem)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            assert [alias.name for alias in node.names] == ["numpy"], ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            assert node.module in ("exercises.provided", "__future__"), ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 1 and node.module in EXERCISE_NAMES, ast.unparse(node)
            sibling = contract.exercise(node.module)
            assert sibling.name != own.name, ast.unparse(node)
            assert sibling.assignment == own.assignment, ast.unparse(node)
            provided = {function.name for function in sibling.functions}
            assert {alias.name for alias in node.names} <= provided, ast.unparse(node)


def test_stubs_are_generated_from_the_solutions():
    """Are the stubs in exercises/ exactly what the generator makes from solutions/?"""
    assert stubs.out_of_date(SOLUTIONS_DIR, EXERCISES_DIR) == []


def test_provided_data_is_the_table_of_the_notes_and_read_only():
    """Is the gender table shifted as in the notes, float64, and impossible to overwrite?"""
    assert NAMES == ("Alice", "Bob", "Charlie", "Diana")
    assert GENDER_X.dtype == GENDER_Y.dtype == np.float64
    assert np.array_equal(GENDER_X, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    assert np.array_equal(GENDER_Y, [1, 0, 0, 1])
    for array in (GENDER_X, GENDER_Y):
        with pytest.raises(ValueError):
            array[0] = 0.0
