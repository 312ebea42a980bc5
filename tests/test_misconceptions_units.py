"""diagnose, in this process: each catalogued mistake, written by hand the way a student
would make it, is named from its output; the right answer, an output of the wrong form or
an ambiguous one is not. Fast: no worker, no sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading import misconceptions
from grader.grading.misconceptions import CATALOGUE, diagnose
from solutions import chain_rule, cross_entropy, dense, mse, sigmoid, training


def named(function: str, inputs: dict, output, warnings=()) -> str | None:
    found = diagnose(function, inputs, output, list(warnings))
    return None if found is None else found.id


def sig(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


RNG = np.random.default_rng(2024)
Z = np.array([-6.0, -2.5, -0.5, 0.3, 1.7, 4.0])
LABELS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
N = len(Z)


# -- sigmoid, mse, cross-entropy: one-line mistakes -----------------------------------------


def test_sigmoid_mistakes_are_named():
    """Are a mirrored sigmoid, a derivative missing its (1 - s) factor and s (1 - s) taken of z
    itself each named?"""
    assert named("sigmoid", {"z": Z}, 1.0 / (1.0 + np.exp(Z))) == "sigmoid-exponent-sign"
    assert named("sigmoid_grad", {"z": Z}, sig(Z)) == "sigmoid-grad-missing-factor"
    assert named("sigmoid_grad", {"z": Z}, Z * (1 - Z)) == "sigmoid-grad-of-z"


def test_a_mirrored_sigmoid_is_named_for_one_number():
    """For a single z, is the mirrored sigmoid named when returned as a float, an np.float64 or
    a 0-d float64 array, and not when returned as float32, an int or text?"""
    inputs = {"z": 2.0}
    wrong = 1.0 / (1.0 + np.exp(2.0))
    for output in (float(wrong), np.float64(wrong), np.array(wrong)):
        assert named("sigmoid", inputs, output) == "sigmoid-exponent-sign", repr(output)
    for output in (np.float32(wrong), np.array(wrong, dtype=np.float32), 0, str(wrong)):
        assert named("sigmoid", inputs, output) is None, repr(output)


def test_an_overflow_warning_names_the_overflow():
    """Is an overflow warning while computing the right values named, and no other warning,
    nor no warning?"""
    right = sigmoid.sigmoid(Z)
    warning = "RuntimeWarning: overflow encountered in exp"
    assert named("sigmoid", {"z": Z}, right, [warning]) == "sigmoid-overflow"
    assert named("sigmoid", {"z": Z}, right, ["RuntimeWarning: divide by zero"]) is None
    assert named("sigmoid", {"z": Z}, right) is None


def test_mse_gradient_mistakes_are_named():
    """Are a missing factor 2, the gradient of the sum and a flipped sign each named?"""
    y_pred = sig(Z)
    inputs = {"y_true": LABELS, "y_pred": y_pred}
    assert named("mse_grad", inputs, (y_pred - LABELS) / N) == "mse-grad-missing-2"
    assert named("mse_grad", inputs, 2 * (y_pred - LABELS)) == "mse-grad-sum-not-mean"
    assert named("mse_grad", inputs, 2 * (LABELS - y_pred) / N) == "mse-grad-sign"
    assert named("mse_grad", inputs, mse.mse_grad(LABELS, y_pred)) is None


def test_cross_entropy_gradient_mistakes_are_named():
    """Are a flipped sign, a missing 1/N and the extra sigma (1 - sigma) of a squared error (with
    or without the 1/N) each named?"""
    inputs = {"y_true": LABELS, "logits": Z}
    s = sig(Z)
    assert named("bce_grad", inputs, (LABELS - s) / N) == "bce-grad-sign"
    assert named("bce_grad", inputs, s - LABELS) == "bce-grad-missing-mean"
    assert named("bce_grad", inputs, (s - LABELS) * s * (1 - s) / N) == "bce-grad-mse-style"
    assert named("bce_grad", inputs, (s - LABELS) * s * (1 - s)) == "bce-grad-mse-style"
    assert named("bce_grad", inputs, cross_entropy.bce_grad(LABELS, Z)) is None


@pytest.mark.parametrize("loss, expected", [
    (float("inf"), "bce-loss-log-of-zero"), (float("nan"), "bce-loss-log-of-zero"),
    (np.float64("inf"), "bce-loss-log-of-zero"), (0.7, None), ("inf", None), (None, None),
])
def test_a_non_finite_loss_at_large_logits_is_named_log_of_zero(loss, expected):
    """Where some logit is large enough for sigma to round to 0 or 1, is an infinite or NaN
    loss named log-of-zero, and a finite loss or no number at all not?"""
    assert named("bce_loss", {"y_true": LABELS, "logits": Z * 100}, loss) == expected


def test_the_textbook_loss_is_named_where_sigma_first_rounds_to_1():
    """At a logit of 37.5, 1 + e^(-z) rounds to 1, so the textbook -log(1 - sigma(z)) of a label
    0 is inf: is that loss named log-of-zero there, and is the same formula finite (and not
    named) at 36?"""
    labels = np.array([0.0, 1.0])

    def textbook(logits):
        with np.errstate(divide="ignore"):
            s = 1.0 / (1.0 + np.exp(-logits))
            return float(-np.mean(labels * np.log(s) + (1 - labels) * np.log(1 - s)))

    saturated, below = np.array([37.5, 1.0]), np.array([36.0, 1.0])
    assert textbook(saturated) == np.inf
    assert named("bce_loss", {"y_true": labels, "logits": saturated}, textbook(saturated)) == \
        "bce-loss-log-of-zero"
    assert np.isfinite(textbook(below))
    assert named("bce_loss", {"y_true": labels, "logits": below}, textbook(below)) is None


def test_a_non_finite_loss_at_moderate_logits_is_not_named_log_of_zero():
    """Where no logit is large enough for sigma to round to 0 or 1, is an infinite loss left
    unnamed, since log(0) cannot be its cause?"""
    assert named("bce_loss", {"y_true": LABELS, "logits": Z}, float("inf")) is None
    assert named("bce_loss", {"y_true": LABELS, "logits": Z * 5}, float("nan")) is None


# -- dense, chain rule: a step skipped or misplaced -----------------------------------------


def dense_inputs(n=4, d=3, m=2):
    return {"x": RNG.normal(size=(n, d)), "W": RNG.normal(size=(d, m)),
            "b": RNG.normal(size=m), "dh": RNG.normal(size=(n, m))}


def student_dense_backward(inputs, *, activation=True, db_summed=True, dw_transposed=False,
                           dx_from=None):
    x, W, b, dh = inputs["x"], inputs["W"], inputs["b"], inputs["dh"]
    h = sig(x @ W + b)
    dz = dh * h * (1 - h) if activation else dh
    dW = (dz.T @ x) if dw_transposed else (x.T @ dz)
    db = dz.sum(axis=0) if db_summed else dz
    dx = (dh if dx_from == "dh" else dz) @ W.T
    return dx, dW, db


@pytest.mark.parametrize("mistake, expected", [
    ({"activation": False}, "dense-missing-activation-derivative"),
    ({"db_summed": False}, "dense-bias-not-summed"),
    ({"dw_transposed": True}, "dense-dW-transposed"),
    ({"dx_from": "dh"}, "dense-dx-from-dh"),
    ({}, None),
])
def test_dense_backward_mistakes_are_named(mistake, expected):
    """Is each dense-layer mistake (no sigmoid derivative, db per sample, dW transposed, dx from
    dh) named, and the right gradients not, returned as a tuple or a list alike?"""
    inputs = dense_inputs(d=3, m=3)
    output = student_dense_backward(inputs, **mistake)
    assert named("dense_backward", inputs, output) == expected
    assert named("dense_backward", inputs, list(output)) == expected


def test_a_dense_mistake_of_the_wrong_form_is_not_named():
    """Is a dense mistake left unnamed when one of its arrays is float32, when an output is
    missing, or when it comes as a dict?"""
    inputs = dense_inputs()
    dx, dW, db = student_dense_backward(inputs, activation=False)
    assert named("dense_backward", inputs, (dx, dW.astype(np.float32), db)) is None
    assert named("dense_backward", inputs, (dx, dW)) is None
    assert named("dense_backward", inputs, {"dx": dx, "dW": dW, "db": db}) is None


def test_a_transposed_dw_that_is_its_own_transpose_is_not_named():
    """With one input and one neuron dW is 1 x 1, so "transposed" is the right answer: is the
    reference's output left unnamed there?"""
    inputs = dense_inputs(n=5, d=1, m=1)
    _, cache = dense.dense_forward(inputs["x"], inputs["W"], inputs["b"])
    right = dense.dense_backward(inputs["dh"], cache)
    assert named("dense_backward", inputs, right) is None


def student_graph_backward(x, *, dd_sign=-1.0, cos_of="a", sin_of="d", paths=("a", "c")):
    a = x ** 2
    b = np.sin(a)
    c = 3 * x ** 2
    d = b + c
    J = np.cos(d)
    values = {"x": x, "a": a, "b": b, "d": d, "J": J}
    dd = dd_sign * np.sin(values[sin_of])
    db = dc = dd
    da = db * np.cos(values[cos_of])
    dx = sum(({"a": da * 2 * x, "c": dc * 6 * x}[p] for p in paths), np.zeros_like(x))
    return {"d": dd, "b": db, "c": dc, "a": da, "x": dx}


@pytest.mark.parametrize("mistake, expected", [
    ({"paths": ("a",)}, "chain-fanout-dropped"),
    ({"paths": ("c",)}, "chain-fanout-dropped"),
    ({"dd_sign": 1.0}, "chain-cos-derivative-sign"),
    ({"cos_of": "x"}, "chain-derivative-at-wrong-node"),
    ({"cos_of": "b"}, "chain-derivative-at-wrong-node"),
    ({"sin_of": "J"}, "chain-derivative-at-wrong-node"),
    ({}, None),
])
def test_chain_rule_mistakes_are_named(mistake, expected):
    """Is each computational-graph mistake (one path of the fan-out dropped, the sign of cos',
    a derivative taken at the wrong node) named, and the right gradients not?"""
    x = np.array([-1.3, -0.4, 0.2, 0.9, 1.6])
    assert named("graph_backward", {"x": x}, student_graph_backward(x, **mistake)) == expected


def test_a_mistake_is_named_by_a_variant_these_inputs_tell_apart():
    """At x = 1 and x = -1, x^2 = 1 and cos(x) = cos(x^2): taking the cosine at x instead of at a
    is invisible there. Is taking it at b, another variant of the same mistake, still named?"""
    x = np.array([1.0, -1.0])
    assert named("graph_backward", {"x": x}, student_graph_backward(x, cos_of="x")) is None
    assert named("graph_backward", {"x": x}, student_graph_backward(x, cos_of="b")) == \
        "chain-derivative-at-wrong-node"


def test_graph_gradients_with_an_extra_node_are_still_judged():
    """Does a dict of gradients with one more key (J) still get its mistake named, while one
    missing a key, or with a key's value absent, does not?"""
    x = np.array([-0.8, 0.5, 1.1])
    grads = student_graph_backward(x, dd_sign=1.0)
    assert (named("graph_backward", {"x": x}, {**grads, "J": np.ones(3)})
            == "chain-cos-derivative-sign")
    assert named("graph_backward", {"x": x}, {k: v for k, v in grads.items() if k != "a"}) is None
    assert named("graph_backward", {"x": x}, {**grads, "a": None}) is None


# -- training: the loop and the update -----------------------------------------------------


def training_inputs(n=6):
    params = training.init_params(3, 4, seed=5)
    X = RNG.normal(size=(n, 3))
    y = (RNG.random(n) > 0.5).astype(float)
    return params, X, y


def student_train(params, X, y, lr, epochs, *, sign=-1.0, scale=True, after=False):
    losses = []
    for _ in range(epochs):
        y_pred, cache = training.forward(params, X)
        grads = training.backward(params, cache, y)
        if not after:
            losses.append(float(np.mean((y - y_pred) ** 2)))
        params = {k: v + sign * (lr if scale else 1.0) * grads[k] for k, v in params.items()}
        if after:
            losses.append(float(np.mean((y - training.forward(params, X)[0]) ** 2)))
    return params, np.array(losses)


@pytest.mark.parametrize("mistake, expected", [
    ({"sign": +1.0}, "training-ascent"),
    ({"scale": False}, "training-lr-not-applied"),
    ({"after": True}, "training-loss-after-step"),
    ({}, None),
])
def test_training_loop_mistakes_are_named(mistake, expected):
    """Is each mistake of a training loop (climbing the loss, ignoring lr, recording the loss
    after the step) named, and the right loop not?"""
    params, X, y = training_inputs()
    inputs = {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 4}
    output = student_train(params, X, y, 0.3, 4, **mistake)
    assert named("train", inputs, output) == expected


def test_a_training_loop_is_judged_with_the_default_lr_and_epochs():
    """Called without lr and epochs, is a loop that records the loss after the step named,
    the variant run with train's own defaults?"""
    params, X, y = training_inputs()
    output = student_train(params, X, y, 0.5, 500, after=True)
    assert named("train", {"params": params, "X": X, "y": y}, output) == "training-loss-after-step"


def test_a_training_loop_at_lr_1_is_not_said_to_ignore_lr():
    """At lr = 1, ignoring lr changes nothing: is the right loop (and the right step) left
    unnamed there?"""
    params, X, y = training_inputs()
    output = training.train(params, X, y, lr=1.0, epochs=3)
    inputs = {"params": params, "X": X, "y": y, "lr": 1.0, "epochs": 3}
    assert named("train", inputs, output) is None
    grads = training.backward(params, training.forward(params, X)[1], y)
    step = training.sgd_step(params, grads, 1.0)
    assert named("sgd_step", {"params": params, "grads": grads, "lr": 1.0}, step) is None


def test_sgd_step_mistakes_are_named():
    """Is an update that adds the gradient, or ignores lr, named, and the right one not?"""
    params, X, y = training_inputs()
    grads = training.backward(params, training.forward(params, X)[1], y)
    inputs = {"params": params, "grads": grads, "lr": 0.1}
    ascent = {k: v + 0.1 * grads[k] for k, v in params.items()}
    whole = {k: v - grads[k] for k, v in params.items()}
    assert named("sgd_step", inputs, ascent) == "training-ascent"
    assert named("sgd_step", inputs, whole) == "training-lr-not-applied"
    assert named("sgd_step", inputs, training.sgd_step(params, grads, 0.1)) is None


def test_two_mistakes_that_explain_the_same_output_name_neither():
    """At lr = -1, climbing the loss and ignoring lr give the same update: is that output left
    unnamed rather than given one of two hints at random?"""
    params, X, y = training_inputs()
    grads = training.backward(params, training.forward(params, X)[1], y)
    both = {k: v - grads[k] for k, v in params.items()}
    assert named("sgd_step", {"params": params, "grads": grads, "lr": -1.0}, both) is None


def test_forward_and_backward_mistakes_are_named():
    """Are an (N, 1) prediction and gradients of the summed loss named?"""
    params, X, y = training_inputs()
    y_pred, cache = training.forward(params, X)
    assert named("forward", {"params": params, "X": X}, (y_pred[:, None], cache)) == \
        "training-output-shape-n1"
    assert named("forward", {"params": params, "X": X}, (y_pred, cache)) is None
    grads = training.backward(params, cache, y)
    inputs = {"params": params, "X": X, "y_true": y}
    summed = {k: v * len(y) for k, v in grads.items()}
    assert named("backward", inputs, summed) == "training-grad-of-sum"
    assert named("backward", inputs, grads) is None


def test_n_times_too_large_is_not_named_at_n_1():
    """With a batch of one, the gradient of the sum is the right gradient: is it left unnamed?"""
    params, X, y = training_inputs(n=1)
    grads = training.backward(params, training.forward(params, X)[1], y)
    assert named("backward", {"params": params, "X": X, "y_true": y}, grads) is None


# -- tolerance, the reference absent, unknown functions -------------------------------------


def test_a_mistake_is_named_within_round_off_and_not_beyond():
    """Is a mistake's output named when it differs from the variant by round-off (1e-8
    relative), and not when it is 1e-4 away?"""
    y_pred = sig(Z)
    inputs = {"y_true": LABELS, "y_pred": y_pred}
    wrong = 2 * (LABELS - y_pred) / N
    assert named("mse_grad", inputs, wrong * (1 + 1e-8)) == "mse-grad-sign"
    assert named("mse_grad", inputs, wrong + 1e-10) == "mse-grad-sign"
    assert named("mse_grad", inputs, wrong * (1 + 1e-4)) is None
    assert named("mse_grad", inputs, wrong + 1e-7) is None


def test_a_mistake_with_a_non_finite_prediction_is_not_named():
    """Where a variant's prediction is not finite, is nothing named, even for the same
    non-finite output?"""
    z = np.array([np.inf, 0.5, -1.0])
    assert named("sigmoid_grad", {"z": z}, z * (1 - z)) is None


class _Absent:
    def __getattr__(self, name):
        raise ModuleNotFoundError("No module named 'solutions'")


def test_without_the_reference_only_self_contained_mistakes_are_named(monkeypatch):
    """In the student bundle, with no reference, is a mistake that needs nothing of it (the
    mirrored sigmoid, a non-finite loss) still named, and one built from it (a flipped mse
    gradient) left unnamed rather than raising?"""
    monkeypatch.setattr(misconceptions, "REF", _Absent())
    assert named("sigmoid", {"z": Z}, 1.0 / (1.0 + np.exp(Z))) == "sigmoid-exponent-sign"
    assert named("sigmoid", {"z": 2.0}, 1.0 / (1.0 + np.exp(2.0))) == "sigmoid-exponent-sign"
    assert named("bce_loss", {"y_true": LABELS, "logits": Z * 100}, float("inf")) == \
        "bce-loss-log-of-zero"
    y_pred = sig(Z)
    assert named("mse_grad", {"y_true": LABELS, "y_pred": y_pred},
                 2 * (LABELS - y_pred) / N) is None


def test_the_reference_functions_are_found_in_their_solution_modules():
    """Does the lazy reference find each function in its exercise's solution module?"""
    assert misconceptions.REF.mse_grad is mse.mse_grad
    assert misconceptions.REF.graph_forward is chain_rule.graph_forward
    assert misconceptions.REF.train is training.train


def test_inputs_that_do_not_fit_and_unknown_functions_name_nothing():
    """Does diagnose return None without raising for inputs the reference cannot take and for
    a function with no catalogued mistakes?"""
    assert named("mse_grad", {}, np.zeros(3)) is None
    assert named("mse_grad", {"y_true": "a", "y_pred": None}, np.zeros(3)) is None
    assert named("mse_loss", {"y_true": LABELS, "y_pred": LABELS}, 0.0) is None
    assert named("no_such_function", {"z": Z}, Z) is None


def test_a_when_test_that_raises_names_nothing():
    """Does a mistake detected by a test of the output shrug off an output that makes that test
    raise, naming nothing?"""
    assert named("sigmoid", {"z": Z}, sigmoid.sigmoid(Z), [None]) is None  # "overflow" in None


def test_every_catalogued_function_has_a_test_here():
    """Is every function with catalogued mistakes exercised by a hand-made mistake above?"""
    covered = {"sigmoid", "sigmoid_grad", "mse_grad", "bce_grad", "bce_loss", "dense_backward",
               "graph_backward", "train", "sgd_step", "forward", "backward"}
    assert {entry.function for entry in CATALOGUE} == covered
