"""diagnose, in this process: each catalogued mistake, written by hand the way a student
would make it, is named from its output; the right answer, an output of the wrong form or
an ambiguous one is not. Fast: no worker, no sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading import misconceptions
from grader.grading.misconceptions import catalogue, diagnose
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


# -- activations: ReLU and tanh, the upstream gradient and the kink -------------------------

ACT_X = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0], [0.0, 1.5, -1.2, 0.0, 3.0]])
ACT_DOUT = np.array([[1.0, -2.0, 3.0, 4.0, -5.0], [-1.5, 2.5, 0.5, 6.0, -0.25]])
OVERFLOW = "RuntimeWarning: overflow encountered in exp"


@pytest.mark.parametrize("dx, expected", [
    (np.where(ACT_X >= 0, ACT_DOUT, 0.0), "relu-kink-convention"),
    (np.where(ACT_X > 0, ACT_DOUT, np.where(ACT_X == 0, 0.5 * ACT_DOUT, 0.0)),
     "relu-kink-convention"),
    ((ACT_X > 0).astype(np.float64), "relu-backward-ignores-upstream"),
    (np.heaviside(ACT_X, 1.0), "relu-backward-ignores-upstream"),
    (ACT_DOUT.copy(), "relu-backward-passes-upstream"),
    (ACT_DOUT * (ACT_X > 0), None),
])
def test_relu_backward_mistakes_are_named(dx, expected):
    """Are a subgradient other than 0 at the kink, the mask alone and dout passed through each
    named, and the right dx (0 at x == 0) not?"""
    assert named("relu_backward", {"x": ACT_X, "dout": ACT_DOUT}, dx) == expected


def test_the_kink_convention_is_not_named_without_a_zero():
    """Where no x is exactly 0, every subgradient gives the same dx: is the right answer
    (which a >= 0 mask also gives) left unnamed?"""
    x = np.where(ACT_X == 0, 0.25, ACT_X)
    assert named("relu_backward", {"x": x, "dout": ACT_DOUT},
                 np.where(x >= 0, ACT_DOUT, 0.0)) is None


@pytest.mark.parametrize("dx, expected", [
    (ACT_DOUT * (1.0 - ACT_X ** 2), "tanh-derivative-at-input"),
    (1.0 - np.tanh(ACT_X) ** 2, "tanh-backward-ignores-upstream"),
    (ACT_DOUT * (1.0 + np.tanh(ACT_X) ** 2), "tanh-derivative-sign"),
    (ACT_DOUT * (np.tanh(ACT_X) ** 2 - 1.0), "tanh-derivative-sign"),
    (ACT_DOUT / np.cosh(ACT_X) ** 2, None),
])
def test_tanh_backward_mistakes_are_named(dx, expected):
    """Are 1 - x^2 taken at the input, the local derivative alone and a sign slip each named,
    and the right dx, written as dout / cosh(x)^2, not?"""
    assert named("tanh_backward", {"x": ACT_X, "dout": ACT_DOUT}, dx) == expected


def test_a_tanh_that_overflows_is_named_from_its_warning():
    """Is an overflow warning named tanh-overflow for both passes, and a nan without one not?"""
    x = np.array([[-1e4, 0.5, 1e4]])
    nan_out = np.array([[np.nan, np.tanh(0.5), np.nan]])
    assert named("tanh_forward", {"x": x}, nan_out, [OVERFLOW]) == "tanh-overflow"
    assert named("tanh_forward", {"x": x}, nan_out) is None
    dx = np.array([[np.nan, 0.0, np.nan]])
    inputs = {"x": x, "dout": np.ones((1, 3))}
    assert named("tanh_backward", inputs, dx, [OVERFLOW]) == "tanh-overflow"
    assert named("tanh_backward", inputs, activations.tanh_backward(
        np.ones((1, 3)), activations.tanh_forward(x)[1])) is None


# -- softmax: the axis, the stable trick, the labels ----------------------------------------

SQUARE_Z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0], [0.5, 2.5, -2.0]])
SQUARE_Y = np.array([2, 1, 1])
TALL_Z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0], [0.5, 2.5, -2.0], [-3.0, 0.0, 1.0]])
TALL_Y = np.array([2, 1, 1, 0])


def student_softmax(z, *, axis=1, keepdims=True, shift="row"):
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        top = {"row": np.max(z, axis=axis, keepdims=keepdims), "batch": np.max(z),
               "none": 0.0}[shift]
        e = np.exp(z - top)
        return e / np.sum(e, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("kind, expected", [
    ({"axis": 0}, "softmax-wrong-axis"),
    ({"axis": None}, "softmax-wrong-axis"),
    ({"keepdims": False}, "softmax-broadcast-keepdims"),
    ({}, None),
])
def test_softmax_mistakes_are_named(kind, expected):
    """On a square batch, are a softmax normalised down the columns or over the whole batch,
    and one whose row reductions lost their axis, each named, and the right one not?"""
    assert named("softmax", {"z": SQUARE_Z}, student_softmax(SQUARE_Z, **kind)) == expected


def test_softmax_overflow_and_a_batch_wide_maximum_are_named_from_their_warnings():
    """At logits of 1e4 in rows far apart, is exp without a shift named an overflow, and one
    maximum for the whole batch (rows 0 / 0, an invalid-value warning) named global-max?"""
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -9999.0, -9998.0]])
    overflowed = student_softmax(z, shift="none")
    assert named("softmax", {"z": z}, overflowed, [OVERFLOW]) == "softmax-overflow"
    emptied = student_softmax(z, shift="batch")
    assert np.isnan(emptied[1]).all()
    invalid = ["RuntimeWarning: invalid value encountered in divide"]
    assert named("softmax", {"z": z}, emptied, invalid) == "softmax-global-max"
    # Rows that lie close together: a batch-wide maximum empties none, and a NaN there
    # comes from elsewhere.
    assert named("softmax", {"z": SQUARE_Z}, np.full((3, 3), np.nan), invalid) is None


def student_loss(y, z, *, reduce=np.mean, sign=-1.0, rows="own", axis=1, log_of_p=False):
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        if log_of_p:
            log_p = np.log(student_softmax(z, axis=axis))
        else:
            shifted = z - np.max(z, axis=axis, keepdims=True)
            log_p = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    picked = log_p[np.arange(len(y)), y] if rows == "own" else log_p[:, y]
    return float(sign * reduce(picked))


@pytest.mark.parametrize("kind, expected", [
    ({"reduce": np.sum}, "softmax-ce-loss-sum"),
    ({"sign": 1.0}, "softmax-ce-loss-sign"),
    ({"rows": "every"}, "softmax-ce-label-indexing"),
    ({"axis": 0}, "softmax-wrong-axis"),
    ({"log_of_p": True}, None),
    ({}, None),
])
def test_softmax_ce_loss_mistakes_are_named(kind, expected):
    """Are the summed loss, a lost minus sign, every row read at every label and a softmax
    down the columns each named, and the right loss, through log p or log-sum-exp, not?"""
    inputs = {"y": TALL_Y, "logits": TALL_Z}
    assert named("softmax_ce_loss", inputs, student_loss(TALL_Y, TALL_Z, **kind)) == expected


def test_a_log_of_zero_in_the_loss_is_named_from_its_warning():
    """Is an infinite loss that warned of log(0) named log-of-zero, and one that overflowed
    named an overflow instead?"""
    y, z = np.array([2, 0]), np.array([[1e4, 0.0, -1e4], [3.0, -2.0, 0.5]])
    loss = student_loss(y, z, log_of_p=True)
    assert loss == np.inf
    log_zero = ["RuntimeWarning: divide by zero encountered in log"]
    assert named("softmax_ce_loss", {"y": y, "logits": z}, loss, log_zero) == \
        "softmax-ce-log-of-zero"
    assert named("softmax_ce_loss", {"y": y, "logits": z}, loss,
                 log_zero + [OVERFLOW]) == "softmax-overflow"


def student_ce_grad(y, z, *, mean=True, sign=1.0, onehot="own", diagonal=False,
                    softmax_of=student_softmax):
    p = softmax_of(z)
    n = len(y)
    if diagonal:
        dz = np.zeros_like(p)
        dz[np.arange(n), y] = p[np.arange(n), y] - 1.0
    elif onehot == "own":
        dz = p.copy()
        dz[np.arange(n), y] -= 1.0
    elif onehot == "every":
        dz = p.copy()
        dz[:, y] -= 1.0
    elif onehot == "values":
        dz = p - y[:, None]
    else:
        dz = p
    return sign * dz / (n if mean else 1)


@pytest.mark.parametrize("kind, expected", [
    ({"mean": False}, "softmax-grad-missing-mean"),
    ({"sign": -1.0}, "softmax-grad-sign"),
    ({"onehot": None}, "softmax-grad-no-onehot"),
    ({"onehot": None, "mean": False}, "softmax-grad-no-onehot"),
    ({"diagonal": True}, "softmax-grad-diagonal-only"),
    ({"onehot": "values"}, "softmax-grad-labels-as-values"),
    ({"onehot": "every"}, "softmax-ce-label-indexing"),
    ({"softmax_of": lambda z: student_softmax(z, axis=0)}, "softmax-wrong-axis"),
    ({"softmax_of": lambda z: student_softmax(z, keepdims=False)},
     "softmax-broadcast-keepdims"),
    ({}, None),
])
def test_softmax_ce_grad_mistakes_are_named(kind, expected):
    """On a square batch, is each mistake of dL/dz (no 1/N, the sign, the one-hot dropped,
    the diagonal only, labels as values, every row's labels, a softmax down the columns or
    with unkept row reductions) named, and the right gradient not?"""
    inputs = {"y": SQUARE_Y, "logits": SQUARE_Z}
    assert named("softmax_ce_grad", inputs, student_ce_grad(SQUARE_Y, SQUARE_Z, **kind)) == \
        expected


def test_a_softmax_grad_n_times_too_large_is_not_named_at_n_1():
    """With one sample, the gradient of the sum is the gradient of the mean: is it unnamed?"""
    y, z = np.array([1]), np.array([[0.3, -1.0, 2.0]])
    assert named("softmax_ce_grad", {"y": y, "logits": z},
                 student_ce_grad(y, z, mean=False)) is None


# -- mlp: the affine layer, the initialisation, the network, training, predict ----------------


def affine_inputs(n=5, d=3, m=2):
    return {"x": RNG.normal(size=(n, d)), "W": RNG.normal(size=(d, m)),
            "b": RNG.normal(size=m), "dout": RNG.normal(size=(n, m))}


def student_affine_backward(inputs, *, summed=True, transposed=False, averaged=False):
    x, W, dout = inputs["x"], inputs["W"], inputs["dout"]
    scale = len(x) if averaged else 1
    dW = (dout.T @ x) if transposed else (x.T @ dout)
    db = dout.sum(axis=0) if summed else dout
    return dout @ W.T, dW / scale, db / scale


@pytest.mark.parametrize("kind, expected", [
    ({"summed": False}, "affine-db-not-summed"),
    ({"transposed": True}, "affine-dW-transposed"),
    ({"averaged": True}, "affine-grads-averaged"),
    ({}, None),
])
def test_affine_backward_mistakes_are_named(kind, expected):
    """Are db per sample, dW transposed and gradients averaged over the batch each named,
    and the right ones not, as a tuple or a list?"""
    inputs = affine_inputs()
    output = student_affine_backward(inputs, **kind)
    assert named("affine_backward", inputs, output) == expected
    assert named("affine_backward", inputs, list(output)) == expected


def student_init(layer_sizes, seed, *, scale=lambda n_in, n_out: np.sqrt(1.0 / n_in),
                 transposed=False, fresh=False):
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
        if fresh:
            rng = np.random.default_rng(seed)
        draw = rng.standard_normal((n_out, n_in)).T if transposed else \
            rng.standard_normal((n_in, n_out))
        params[f"W{layer}"] = draw * scale(n_in, n_out)
        params[f"b{layer}"] = np.zeros(n_out)
    return params


@pytest.mark.parametrize("kind, expected", [
    ({"scale": lambda n_in, n_out: 1.0}, "mlp-init-unscaled"),
    ({"scale": lambda n_in, n_out: 1.0 / n_in}, "mlp-init-wrong-scale"),
    ({"scale": lambda n_in, n_out: np.sqrt(1.0 / n_out)}, "mlp-init-wrong-scale"),
    ({"scale": lambda n_in, n_out: np.sqrt(2.0 / n_in)}, "mlp-init-wrong-scale"),
    ({"transposed": True}, "mlp-init-transposed-draw"),
    ({"fresh": True}, "mlp-init-generator-per-layer"),
    ({}, None),
])
def test_init_mlp_mistakes_are_named(kind, expected):
    """Are unscaled weights, a wrong scale (a variance, fan-out, He's factor 2), a transposed
    draw and one generator per layer each named, and the recipe not?"""
    inputs = {"layer_sizes": [3, 5, 4, 2], "seed": 7}
    assert named("init_mlp", inputs, student_init([3, 5, 4, 2], 7, **kind)) == expected


def test_a_generator_per_layer_is_not_named_for_one_layer():
    """With a single layer, one generator per layer is the recipe: is it left unnamed?"""
    inputs = {"layer_sizes": [3, 2], "seed": 4}
    assert named("init_mlp", inputs, student_init([3, 2], 4, fresh=True)) is None


def network_inputs(n=6, sizes=(3, 4, 4, 3)):
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = RNG.normal(scale=1 / np.sqrt(sizes[layer - 1]),
                                         size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = RNG.normal(scale=0.5, size=sizes[layer])
    X = RNG.normal(size=(n, sizes[0]))
    y = RNG.integers(0, sizes[-1], size=n)
    return params, X, y


def student_network(params, X, *, hidden=np.tanh, top=lambda z: z):
    n_layers = len(params) // 2
    activations_ = [X]
    for layer in range(1, n_layers):
        activations_.append(hidden(activations_[-1] @ params[f"W{layer}"] + params[f"b{layer}"]))
    return top(activations_[-1] @ params[f"W{n_layers}"] + params[f"b{n_layers}"]), activations_


@pytest.mark.parametrize("kind, expected", [
    ({"top": np.tanh}, "mlp-tanh-on-logits"),
    ({"hidden": lambda z: np.maximum(z, 0.0)}, "mlp-relu-hidden"),
    ({}, None),
])
def test_mlp_forward_mistakes_are_named(kind, expected):
    """Are a tanh on the logits and ReLU hidden layers each named, whatever the cache, and the
    right logits not?"""
    params, X, _ = network_inputs()
    logits, _ = student_network(params, X, **kind)
    assert named("mlp_forward", {"params": params, "X": X}, (logits, "a cache")) == expected


def student_mlp_backward(params, X, y, *, through_tanh=True, summed=True, transposed=False,
                         scale=1.0):
    logits, acts = student_network(params, X)
    dz = softmax.softmax_ce_grad(y, logits) * scale
    grads = {}
    for layer in range(len(params) // 2, 0, -1):
        below = acts[layer - 1]
        grads[f"W{layer}"] = dz.T @ below if transposed else below.T @ dz
        grads[f"b{layer}"] = dz.sum(axis=0) if summed else dz
        da = dz @ params[f"W{layer}"].T
        dz = da * (1.0 - below ** 2) if through_tanh else da
    return softmax.softmax_ce_loss(y, logits), grads


@pytest.mark.parametrize("kind, expected", [
    ({"through_tanh": False}, "mlp-backward-skips-tanh"),
    ({"summed": False}, "affine-db-not-summed"),
    ({"transposed": True}, "affine-dW-transposed"),
    ({"scale": 6.0}, "mlp-grads-of-sum"),
    ({}, None),
])
def test_mlp_backward_mistakes_are_named(kind, expected):
    """Are a gradient that skips the tanh, unsummed bias gradients, transposed weight
    gradients and the gradients of the summed loss each named, and the right ones not?"""
    params, X, y = network_inputs(n=6)
    inputs = {"params": params, "X": X, "y": y}
    assert named("mlp_backward", inputs, student_mlp_backward(params, X, y, **kind)) == expected


def test_a_network_of_one_layer_has_no_tanh_to_skip():
    """With L = 1 there is no hidden layer: is the right backward pass left unnamed?"""
    params, X, y = network_inputs(sizes=(3, 4))
    inputs = {"params": params, "X": X, "y": y}
    output = student_mlp_backward(params, X, y, through_tanh=False)
    assert named("mlp_backward", inputs, output) is None


def student_train_mlp(params, X, y, lr, epochs, *, sign=-1.0, scale=True, after=False):
    losses = []
    for _ in range(epochs):
        loss, grads = student_mlp_backward(params, X, y)
        if not after:
            losses.append(loss)
        params = {k: v + sign * (lr if scale else 1.0) * grads[k] for k, v in params.items()}
        if after:
            losses.append(softmax.softmax_ce_loss(y, student_network(params, X)[0]))
    return params, losses


@pytest.mark.parametrize("kind, expected", [
    ({"sign": +1.0}, "mlp-train-ascent"),
    ({"scale": False}, "mlp-train-lr-not-applied"),
    ({"after": True}, "mlp-train-loss-after-step"),
    ({}, None),
])
def test_train_mlp_mistakes_are_named(kind, expected):
    """Are a climbing update, an update that ignores lr and losses recorded after the step
    each named, and the right loop not, its losses an array or a list alike?"""
    params, X, y = network_inputs()
    inputs = {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 4}
    trained, losses = student_train_mlp(params, X, y, 0.3, 4, **kind)
    assert named("train_mlp", inputs, (trained, np.array(losses))) == expected


def test_train_mlp_is_judged_with_its_own_defaults():
    """Called without lr and epochs, is a loop that ignores lr named, run with train_mlp's
    defaults (0.8, 200)?"""
    params, X, y = network_inputs(n=4, sizes=(2, 3, 2))
    trained, losses = student_train_mlp(params, X, y, 0.8, 200, scale=False)
    assert named("train_mlp", {"params": params, "X": X, "y": y},
                 (trained, np.array(losses))) == "mlp-train-lr-not-applied"


def test_predict_mistakes_are_named_from_the_output():
    """Are the scores returned as they are and an argmax down the columns each named, the
    right labels (int64 or int32) not, and an argmax down the columns of a square batch,
    whose shape gives nothing away, not either?"""
    params, X, _ = network_inputs(n=6)  # 3 classes
    logits, _ = student_network(params, X)
    inputs = {"params": params, "X": X}
    assert named("predict", inputs, logits) == "mlp-predict-scores"
    assert named("predict", inputs, np.argmax(logits, axis=0)) == "mlp-predict-argmax-axis"
    assert named("predict", inputs, mlp.predict(params, X)) is None
    assert named("predict", inputs, np.argmax(logits, axis=1).astype(np.int32)) is None
    square = X[:3]
    assert named("predict", {"params": params, "X": square},
                 np.argmax(student_network(params, square)[0], axis=0)) is None


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
    assert misconceptions.REF.tanh_forward is activations.tanh_forward
    assert misconceptions.REF.softmax_ce_grad is softmax.softmax_ce_grad
    assert misconceptions.REF.mlp_backward is mlp.mlp_backward


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
               "graph_backward", "train", "sgd_step", "forward", "backward",
               "relu_backward", "tanh_forward", "tanh_backward",
               "softmax", "softmax_ce_loss", "softmax_ce_grad",
               "affine_backward", "init_mlp", "mlp_forward", "mlp_backward", "train_mlp",
               "predict"}
    assert {entry.function for entry in catalogue()} == covered
