"""Grading tests for the training exercise (25 points).

The numerical gradients differentiate the network of the contract (a sigmoid hidden
layer and a sigmoid output, computed here with the provided sigmoid) under the MSE,
never the student's own forward. The visible tests use asymmetric square weights
(so that W1 and its transpose differ) and pin a few steps of training, so that a
halved learning rate, frozen biases or a missing last step show up before the deadline.
"""

import inspect

import numpy as np
import pytest

from exercises.provided import GENDER_X, GENDER_Y, sigmoid
from grader.grading.compare import GradeFailure, describe
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_dict,
    expect_gradient,
    expect_inputs_unchanged,
    expect_tuple,
)
from grader.grading.gradcheck import check_gradient
from grader.grading.pytest_plugin import reference_functions

from grader.contract import Exercise, Function, LossCurve, Mistake

EXERCISE = Exercise(
    "Training a 2-layer network end to end",
    assignment="backprop", order=6,
    functions=(
        Function("init_params", ("n_inputs", "n_hidden", "seed")),
        Function("forward", ("params", "X"), opaque_results=(1,)),
        Function("backward", ("params", "cache", "y_true")),
        Function("sgd_step", ("params", "grads", "lr")),
        Function("train", ("params", "X", "y", "lr", "epochs")),
    ),
    # grader check --plot: the student's train, with their own defaults.
    loss_curve=LossCurve("train", lambda: (recipe(2, 2, seed=0), GENDER_X, GENDER_Y),
                         "train(init_params(2, 2, seed=0), GENDER_X, GENDER_Y)"))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _default(ref, name: str, parameter: str):
    return inspect.signature(getattr(ref, name)).parameters[parameter].default


def _train_variant(ref, inputs, *, lr_sign=-1.0, lr_applied=True, record_after=False):
    params = {k: np.array(v, dtype=np.float64) for k, v in inputs["params"].items()}
    X, y = inputs["X"], inputs["y"]
    lr = inputs.get("lr", _default(ref, "train", "lr"))
    epochs = inputs.get("epochs", _default(ref, "train", "epochs"))
    step = lr if lr_applied else 1.0
    losses = []
    for _ in range(epochs):
        y_pred, cache = ref.forward(params, X)
        if not record_after:
            losses.append(float(np.mean((y - y_pred) ** 2)))
        grads = ref.backward(params, cache, y)
        params = {k: params[k] + lr_sign * step * grads[k] for k in params}
        if record_after:
            losses.append(float(np.mean((y - ref.forward(params, X)[0]) ** 2)))
    return params, np.array(losses)


MISTAKES = (
    Mistake(
        "training-ascent", "sgd_step",
        "Your update climbs the loss: it adds the gradient. The gradient points uphill; "
        "gradient descent steps against it.",
        variants=(lambda ref, i: ref.sgd_step(i["params"], i["grads"], -i["lr"]),)),
    Mistake(
        "training-ascent", "train",
        "Your training loop climbs the loss: the update adds the gradient. The gradient "
        "points uphill; gradient descent steps against it.",
        variants=(lambda ref, i: _train_variant(ref, i, lr_sign=+1.0),)),
    Mistake(
        "training-lr-not-applied", "sgd_step",
        "Your update ignores the learning rate: each parameter moves by the whole "
        "gradient. Scale the step by lr.",
        variants=(lambda ref, i: ref.sgd_step(i["params"], i["grads"], 1.0),)),
    Mistake(
        "training-lr-not-applied", "train",
        "Your training loop ignores the learning rate: each step moves by the whole "
        "gradient. Scale the step by lr.",
        variants=(lambda ref, i: _train_variant(ref, i, lr_applied=False),)),
    Mistake(
        "training-loss-after-step", "train",
        "Your losses are shifted by one step: losses[k] must be the loss before step k, "
        "computed from the same forward pass that the gradients come from.",
        variants=(lambda ref, i: _train_variant(ref, i, record_after=True),)),
    Mistake(
        "training-output-shape-n1", "forward",
        "y_pred has shape (N, 1). Against y of shape (N,), y - y_pred broadcasts to an "
        "(N, N) matrix and the loss and gradients quietly go wrong. Return shape (N,).",
        variants=(lambda ref, i: (ref.forward(i["params"], i["X"])[0][:, None], None),)),
    Mistake(
        "training-grad-of-sum", "backward",
        "Every gradient is N times too large: it is the gradient of the sum of squared "
        "errors. The loss is the mean over the batch: dL/dy_pred carries a 1/N.",
        variants=(lambda ref, i: {k: v * len(i["y_true"]) for k, v in ref.backward(
            i["params"], ref.forward(i["params"], i["X"])[1], i["y_true"]).items()},)),
)

ANSWERS = {
    "train": lambda ref, i: _train_variant(ref, i),
    "forward": lambda ref, i: (ref.forward(i["params"], i["X"])[0], None),
    "backward": lambda ref, i: ref.backward(i["params"], ref.forward(i["params"], i["X"])[1],
                                            i["y_true"]),
}


KEYS = ("W1", "b1", "W2", "b2")


def recipe(n_inputs, n_hidden, seed=0):
    """The initialisation the contract spells out, step by step."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_inputs, n_hidden))
    W2 = rng.standard_normal((n_hidden, 1))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(1)}


def constant_params(w, n_inputs=2, n_hidden=2):
    return {"W1": np.full((n_inputs, n_hidden), w), "b1": np.zeros(n_hidden),
            "W2": np.full((n_hidden, 1), w), "b2": np.zeros(1)}


# Five steps of train(recipe(2, 2, seed=0), GENDER_X, GENDER_Y, lr=0.3, epochs=5).
FIVE_STEPS_LOSSES = np.array([0.17770088038699575, 0.17094885706074228, 0.16592587896112143,
                              0.16149369002579672, 0.15737534389306157])
FIVE_STEPS_PARAMS = {
    "W1": np.array([[0.153760038520783, -0.2325131331419079],
                    [0.6528728558055968, 0.06971227986433015]]),
    "b1": np.array([-0.01034037116290088, 0.00945496497384419]),
    "W2": np.array([[-0.6376396255225809], [0.4721862824891855]]),
    "b2": np.array([0.03528104784070024]),
}


def network(params, X):
    """The network of the contract: y_pred = sigma(sigma(X W1 + b1) W2 + b2), shape (N,)."""
    hidden = sigmoid(X @ params["W1"] + params["b1"])
    return sigmoid(hidden @ params["W2"] + params["b2"])[:, 0]


def forward(student, params, X):
    y_pred, cache = expect_tuple(student.forward(params, X), 2, "forward", "(y_pred, cache)")
    with diagnosing("forward", {"params": params, "X": X}, (y_pred, None)):
        expect_array(y_pred, (X.shape[0],), "y_pred from forward")
    return y_pred, cache


def backward(student, params, cache, y):
    grads = expect_dict(student.backward(params, cache, y), KEYS, "backward")
    for key in KEYS:
        expect_array(grads[key], params[key].shape, f"the gradient {key} from backward")
    return grads


def loss_curves(losses, params, X, y, points: int = 100) -> dict:
    """The student's losses, and the reference's where it is installed, for the report's plot."""
    def thin(values):
        values = np.asarray(values, dtype=np.float64)
        keep = np.unique(np.linspace(0, len(values) - 1, min(points, len(values))).astype(int))
        return [[int(k), float(values[k])] for k in keep if np.isfinite(values[k])]

    curves = {"student": thin(losses)}
    reference = reference_functions()
    if reference is not None:  # absent in the student bundle: the student's curve only
        curves["reference"] = thin(reference.train(params, X, y)[1])
    return curves


def mse(y, y_pred):
    return float(np.mean((y - y_pred) ** 2))


def train(student, params, X, y, **kwargs):
    new_params, losses = expect_tuple(student.train(params, X, y, **kwargs), 2, "train",
                                      "(params, losses)")
    return check_trained(params, new_params, losses)


def check_trained(params, new_params, losses):
    """The trained params as float64 arrays of the params' shapes, and the losses as a
    1-D float64 array (a list of floats is fine)."""
    expect_dict(new_params, KEYS, "the params from train")
    for key in KEYS:
        expect_array(new_params[key], params[key].shape, f"{key} from train")
    if type(losses) in (list, tuple) and all(type(v) is float for v in losses):
        losses = np.array(losses, dtype=np.float64)
    if type(losses) is not np.ndarray or losses.ndim != 1 or losses.dtype != np.float64:
        raise GradeFailure("train should return losses as a 1-D float64 array (or a list of "
                           f"floats), got {describe(losses)}")
    return new_params, losses


@pytest.mark.points(3)
@pytest.mark.hint("Follow the recipe exactly: one generator from the seed, W1 first, then W2; "
                  "biases are zeros of shapes (H,) and (1,).")
def test_init_params_follows_the_recipe(student):
    """Does init_params draw W1 then W2 from default_rng(seed), with zero biases?"""
    for n_inputs, n_hidden, seed in [(2, 2, 0), (3, 5, 7)]:
        got = expect_dict(student.init_params(n_inputs, n_hidden, seed), KEYS, "init_params")
        want = recipe(n_inputs, n_hidden, seed)
        for key in KEYS:
            expect(expect_array(got[key], want[key].shape, f"{key} from init_params"), want[key],
                   key, function="init_params",
                   inputs={"n_inputs": n_inputs, "n_hidden": n_hidden, "seed": seed},
                   case=f"init_params({n_inputs}, {n_hidden}, seed={seed})")


@pytest.mark.points(3)
@pytest.mark.hint("Hidden layer h = sigmoid(X W1 + b1), output sigmoid(h W2 + b2) of shape (N, 1); "
                  "return it as shape (N,).")
def test_forward_worked_examples(student, rng):
    """Does forward give 0.7216 and 0.5237 as in the notes, and the right output for a square W1?"""
    params = {"W1": np.array([[0.0, 0.0], [1.0, 1.0]]), "b1": np.zeros(2),
              "W2": np.array([[0.0], [1.0]]), "b2": np.zeros(1)}
    X = np.array([[2.0, 3.0]])
    y_pred, _ = forward(student, params, X)
    expect(y_pred, np.array([0.7216325609518421]), "y_pred", function="forward",
           inputs={"params": params, "X": X}, output=(y_pred, None),
           case="every neuron w = [0, 1], b = 0, x = [2, 3]")
    params, X = constant_params(1.0), np.array([[-2.0, -1.0]])
    y_pred, _ = forward(student, params, X)
    expect(y_pred, np.array([0.5236951741]), "y_pred", function="forward",
           inputs={"params": params, "X": X}, output=(y_pred, None), case="Alice, all weights 1",
           atol=1e-10)
    params = {**recipe(3, 3, seed=4), "b1": rng.normal(size=3), "b2": rng.normal(size=1)}
    X = rng.normal(size=(5, 3))
    y_pred, _ = forward(student, params, X)
    expect(y_pred, network(params, X), "y_pred", function="forward",
           inputs={"params": params, "X": X}, output=(y_pred, None),
           case="N = 5, asymmetric square W1 (3, 3)")


@pytest.mark.points(4)
@pytest.mark.hint("Go backwards one layer at a time: from the loss to y_pred, through the "
                  "output sigmoid into W2 and b2, then through W2 into the hidden layer.",
                  "It is the MSE gradient, then the dense layer's backward pass twice. Make "
                  "dL/dy_pred, of shape (N,), an (N, 1) column before it meets the output "
                  "layer's (N, 1) arrays: an (N,) array times an (N, 1) one broadcasts to "
                  "(N, N) without an error. Each sigmoid's derivative is taken at its own "
                  "pre-activation, from its own output; the bias gradients add up the rows "
                  "of the batch; the 1/N of the mean appears once, in dL/dy_pred.")
def test_backward_worked_example_and_numerical_gradient(student, rng):
    """Is dL/dw1 = 0.0214695353 for Alice, and does every gradient match central differences?"""
    params, X, y = constant_params(1.0), np.array([[-2.0, -1.0]]), np.array([1.0])
    _, cache = forward(student, params, X)
    grads = backward(student, params, cache, y)
    expect(grads["W1"][0, 0], 0.0214695353, "dL/dW1[0, 0] (w1 of the notes)", function="backward",
           inputs={"params": params, "X": X, "y_true": y}, output=grads,
           case="Alice, all weights 1", atol=1e-10)
    for n_inputs, n_hidden, n in [(3, 3, 6), (3, 4, 5)]:  # square W1 first: W1^T must not pass
        params = {**recipe(n_inputs, n_hidden, seed=11), "b1": rng.normal(size=n_hidden),
                  "b2": rng.normal(size=1)}
        X, y = rng.normal(size=(n, n_inputs)), rng.integers(0, 2, size=n).astype(np.float64)
        _, cache = forward(student, params, X)
        grads = backward(student, params, cache, y)
        for key in KEYS:
            def loss(value, key=key, params=params, X=X, y=y):
                return mse(y, network({**params, key: value}, X))

            with diagnosing("backward", {"params": params, "X": X, "y_true": y}, grads):
                expect_gradient(check_gradient(grads[key], loss, params[key]),
                                f"the gradient {key} (N = {n}, W1 of shape {params['W1'].shape})",
                                "the MSE of the network")


@pytest.mark.points(2)
@pytest.mark.hint("The gradient points uphill: step every parameter against it, by lr times "
                  "its gradient, into a new dict; leave params and grads as they were.",
                  "Each new value is the old value minus lr times its gradient (minus, not "
                  "plus; times lr, not the bare gradient), for every key of params. Build new "
                  "arrays rather than updating in place, which would change the caller's "
                  "params.")
def test_sgd_step_moves_against_the_gradient(student, rng):
    """Does sgd_step return p - lr * g for every parameter, leaving its inputs alone?"""
    params = recipe(3, 2, seed=1)
    grads = {key: rng.normal(size=value.shape) for key, value in params.items()}
    reply = student.call("sgd_step", params, grads, 0.1, return_inputs=True)
    got = expect_dict(reply.value, KEYS, "sgd_step")
    for key in KEYS:
        expect(got[key], params[key] - 0.1 * grads[key], key, function="sgd_step",
               inputs={"params": params, "grads": grads, "lr": 0.1}, output=got, case="lr = 0.1")
    expect_inputs_unchanged(reply, (params, grads), "sgd_step")


@pytest.mark.points(3)
@pytest.mark.hint("losses[k] is the loss before step k; with the default lr and epochs the "
                  "loss must fall at every step and end below 0.02.",
                  "Each epoch: forward with the current params, record the loss of that "
                  "forward pass, backward, then one sgd_step whose result is the params of "
                  "the next epoch. A loss that rises points at the sign of the update or at "
                  "backward; one that falls too slowly, at the defaults (lr = 0.5, "
                  "epochs = 500).")
def test_train_learns_the_gender_table(student, details):
    """Do the default lr and epochs train the gender table to a loss below 0.02, all four right?"""
    X, y = np.array(GENDER_X), np.array(GENDER_Y)
    params = recipe(2, 2, seed=0)
    trained, losses = train(student, params, X, y)
    details["loss_curve"] = loss_curves(losses, params, X, y)
    with diagnosing("train", {"params": params, "X": X, "y": y}, (trained, losses)):
        check_gender_training(student, params, X, y, trained, losses)


@pytest.mark.points(4)
@pytest.mark.hint("Each of the epochs steps once: record the loss of the current params, "
                  "then move every parameter, biases included, by lr times its gradient.",
                  "Compare your five losses with the module text's. If losses[0] is off, "
                  "the first forward pass or the loss is wrong; if losses[0] is right and "
                  "the rest drift, check that every parameter moves by exactly lr times its "
                  "gradient at every step, biases included, that the loss is recorded before "
                  "the step, and that the last step is taken too.")
def test_train_steps_follow_gradient_descent(student):
    """Do five steps at lr = 0.3 give the losses and params of gradient descent, inputs untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    X, y = np.array(GENDER_X), np.array(GENDER_Y)
    params = recipe(2, 2, seed=0)
    reply = student.call("train", params, X, y, lr=0.3, epochs=5, return_inputs=True)
    trained, losses = expect_tuple(reply.value, 2, "train", "(params, losses)")
    trained, losses = check_trained(params, trained, losses)
    inputs = {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 5}
    expect(expect_array(losses, (5,), "losses of 5 epochs"), FIVE_STEPS_LOSSES, "losses",
           function="train", inputs=inputs, output=(trained, losses), case="lr = 0.3, 5 epochs")
    for key in KEYS:
        got = expect_array(trained[key], params[key].shape, f"{key} after 5 steps")
        expect(got, FIVE_STEPS_PARAMS[key], f"{key} after 5 steps", function="train",
               inputs=inputs, output=(trained, losses), case="lr = 0.3, 5 epochs")
    expect_inputs_unchanged(reply, (params, X, y), "train")


def check_gender_training(student, params, X, y, trained, losses):
    if len(losses) == 0:
        raise GradeFailure("train returned no losses")
    expect(losses[0], mse(y, forward(student, params, X)[0]), "losses[0]",
           case="the loss before the first step")
    rises = np.diff(losses)
    if (rises > 1e-12).any():
        k = int(np.argmax(rises))
        raise GradeFailure(f"the loss rose from step {k} to step {k + 1} "
                           f"({losses[k]:.6g} to {losses[k + 1]:.6g})")
    y_pred, _ = forward(student, trained, X)
    final = mse(y, y_pred)
    if not final < 0.02:
        raise GradeFailure(f"after training the loss is {final:.4g}, not below 0.02")
    names = ("Alice", "Bob", "Charlie", "Diana")
    wrong = [name for name, p, t in zip(names, y_pred, y, strict=True) if (p > 0.5) != (t == 1.0)]
    if wrong:
        raise GradeFailure(f"after training the network misclassifies {', '.join(wrong)}")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_forward_matches_reference(student, reference, rng):
    """Does forward match the reference for batches of 1 and 50, params and X untouched?"""
    params = reference.init_params(4, 3, seed=2)
    for n in (1, 50):
        X = rng.normal(size=(n, 4))
        reply = student.call("forward", params, X, return_inputs=True)
        y_pred, _ = expect_tuple(reply.value, 2, "forward", "(y_pred, cache)")
        want, _ = reference.forward(params, X)
        expect(y_pred, want, "y_pred", function="forward", inputs={"params": params, "X": X},
               output=(y_pred, None), case=f"N = {n}")
        expect_inputs_unchanged(reply, (params, X), "forward")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_backward_matches_reference(student, reference, rng):
    """Does every gradient match the reference for batches of 1 and 50, params and y untouched?"""
    params = reference.init_params(4, 3, seed=3)
    for n in (1, 50):
        X, y = rng.normal(size=(n, 4)), rng.integers(0, 2, size=n).astype(np.float64)
        _, cache = forward(student, params, X)
        reply = student.call("backward", params, cache, y, return_inputs=True)
        grads = expect_dict(reply.value, KEYS, "backward")
        for key in KEYS:
            expect_array(grads[key], params[key].shape, f"the gradient {key} from backward")
        _, ref_cache = reference.forward(params, X)
        want = reference.backward(params, ref_cache, y)
        for key in KEYS:
            expect(grads[key], want[key], f"the gradient {key}", function="backward",
                   inputs={"params": params, "X": X, "y_true": y}, output=grads, case=f"N = {n}")
        expect_inputs_unchanged(reply, (params, None, y), "backward")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_train_matches_reference(student, reference, rng):
    """Do the losses and the trained params match the reference step for step, inputs untouched?"""
    params = reference.init_params(3, 4, seed=5)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=20).astype(np.float64)
    reply = student.call("train", params, X, y, lr=0.3, epochs=40, return_inputs=True)
    trained, losses = expect_tuple(reply.value, 2, "train", "(params, losses)")
    trained, losses = check_trained(params, trained, losses)
    want_params, want_losses = reference.train(params, X, y, lr=0.3, epochs=40)
    inputs = {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 40}
    expect(losses, np.asarray(want_losses), "losses", function="train", inputs=inputs,
           output=(trained, losses), case="lr = 0.3, 40 epochs")
    for key in KEYS:
        expect(trained[key], want_params[key], f"trained {key}", function="train",
               inputs=inputs, output=(trained, losses), case="lr = 0.3, 40 epochs")
    expect_inputs_unchanged(reply, (params, X, y), "train")
