"""The misconception catalogue: every known mistake is named for its own wrong submission."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from grader import contract
from grader.grading import misconceptions
from grader.grading.misconceptions import catalogue, diagnose
from tests.conftest import EXAMPLES, reference_sources

IMPORTS = "import numpy as np\nfrom exercises.provided import sigmoid as _provided_sigmoid\n"

DENSE = """
def dense_forward(x, W, b):
    h = _provided_sigmoid(x @ W + b)
    return h, (x, W, h)


def dense_backward(dh, cache):
    x, W, h = cache
    dz = {dz}
    return {dx}, {dW}, {db}
"""


def dense(dz="dh * h * (1 - h)", dx="dz @ W.T", dW="x.T @ dz", db="dz.sum(axis=0)"):
    return DENSE.format(dz=dz, dx=dx, dW=dW, db=db)


GRAPH = """
def graph_backward(x):
    a = x ** 2
    b = np.sin(a)
    c = 3 * x ** 2
    d = b + c
    J = np.cos(d)
    dd = {dd}
    db = dd
    dc = dd
    da = db * {cos}
    dx = {dx}
    return {{"d": dd, "b": db, "c": dc, "a": da, "x": dx}}
"""


def graph(dd="-np.sin(d)", cos="np.cos(a)", dx="da * 2 * x + dc * 6 * x"):
    return GRAPH.format(dd=dd, cos=cos, dx=dx)


WRAP_TRAINING = """
_reference_forward, _reference_backward = forward, backward
"""

# softmax.py's functions as a student writes them: {grad} is the body after p = softmax(z).
LOSS = """
def softmax_ce_loss(y, logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float({reduce}(log_p[np.arange(len(y)), y]))
"""

GRAD = """
def softmax_ce_grad(y, logits):
    p = softmax(logits)
    {body}
"""


def softmax_body(shift="np.max(z, axis=1, keepdims=True)", total="axis=1, keepdims=True"):
    return ("def softmax(z):\n"
            f"    e = np.exp(z - {shift})\n"
            f"    return e / np.sum(e, {total})")


def grad(body):
    return GRAD.format(body="\n    ".join(body))


ONEHOT = "p[np.arange(len(y)), y] -= 1.0"

# mlp.py's network as a student writes it, over the reference's layers: {hidden} is the
# activation of a hidden layer, {top} what the last one returns.
MLP_FORWARD = """
def mlp_forward(params, X):
    n_layers = len(params) // 2
    affine_caches, tanh_caches = [], []
    a = X
    for layer in range(1, n_layers + 1):
        z, affine_cache = affine_forward(a, params[f"W{{layer}}"], params[f"b{{layer}}"])
        affine_caches.append(affine_cache)
        if {hidden_too}:
            a, tanh_cache = {hidden}
            tanh_caches.append(tanh_cache)
    logits = {top}
    return logits, (logits, affine_caches, tanh_caches)
"""

MLP_BACKWARD = """
def mlp_backward(params, cache, y):
    logits, affine_caches, tanh_caches = cache
    n_layers = len(affine_caches)
    grads = {{}}
    dz = {top}
    for layer in range(n_layers, 0, -1):
        da, grads[f"W{{layer}}"], grads[f"b{{layer}}"] = affine_backward(
            dz, affine_caches[layer - 1])
        if layer > 1:
            dz = {below}
    return softmax_ce_loss(y, logits), grads
"""

INIT = """
def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {{}}
    for layer in range(1, len(layer_sizes)):
        fan_in, width = layer_sizes[layer - 1], layer_sizes[layer]
        {fresh}params[f"W{{layer}}"] = {draw} * {scale}
        params[f"b{{layer}}"] = np.zeros(width)
    return params
"""


def init(draw="rng.standard_normal((fan_in, width))", scale="np.sqrt(1.0 / fan_in)",
         fresh=""):
    return INIT.format(draw=draw, scale=scale, fresh=fresh)


TRAIN = """
def train_mlp(params, X, y, lr=0.8, epochs=200):
    losses = []
    for _ in range(epochs):
        _, cache = mlp_forward(params, X)
        loss, grads = mlp_backward(params, cache, y)
        params = {{name: params[name] {step} for name in params}}
        losses.append({loss})
    return params, np.array(losses)
"""


def train(step="- lr * grads[name]", loss="loss"):
    return TRAIN.format(step=step, loss=loss)

# One student-style wrong module per mistake: (module, code appended to the reference).
WRONG = {
    "sigmoid-exponent-sign": ("sigmoid", "def sigmoid(z):\n    return 1 / (1 + np.exp(z))"),
    "sigmoid-overflow": ("sigmoid", "def sigmoid(z):\n"
                         "    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))"),
    "sigmoid-grad-missing-factor": ("sigmoid", "def sigmoid_grad(z):\n    return sigmoid(z)"),
    "sigmoid-grad-of-z": ("sigmoid", "def sigmoid_grad(z):\n    return z * (1 - z)"),
    "sigmoid-grad-wrong-sign": ("sigmoid", "def sigmoid_grad(z):\n"
                                "    return sigmoid(z) * (sigmoid(z) - 1)"),
    "mse-grad-missing-2": ("mse", "def mse_grad(y_true, y_pred):\n"
                           "    return -(y_true - y_pred) / np.size(y_pred)"),
    "mse-grad-sum-not-mean": ("mse", "def mse_grad(y_true, y_pred):\n"
                              "    return -2 * (y_true - y_pred)"),
    "mse-grad-sign": ("mse", "def mse_grad(y_true, y_pred):\n"
                      "    return 2 * (y_true - y_pred) / np.size(y_pred)"),
    "dense-missing-activation-derivative": ("dense", dense(dz="dh")),
    "dense-bias-not-summed": ("dense", dense(db="dz")),
    "dense-dW-transposed": ("dense", dense(dW="dz.T @ x")),
    "dense-dx-from-dh": ("dense", dense(dx="dh @ W.T")),
    "bce-grad-sign": ("cross_entropy", "def bce_grad(y_true, logits):\n"
                      "    return (y_true - _provided_sigmoid(logits)) / len(logits)"),
    "bce-grad-missing-mean": ("cross_entropy", "def bce_grad(y_true, logits):\n"
                              "    return _provided_sigmoid(logits) - y_true"),
    "bce-grad-mse-style": ("cross_entropy", "def bce_grad(y_true, logits):\n"
                           "    s = _provided_sigmoid(logits)\n"
                           "    return (s - y_true) * s * (1 - s) / len(logits)"),
    "bce-loss-log-of-zero": ("cross_entropy", "def bce_loss(y_true, logits):\n"
                             "    s = _provided_sigmoid(logits)\n"
                             "    return float(-np.mean(y_true * np.log(s)"
                             " + (1 - y_true) * np.log(1 - s)))"),
    "chain-fanout-dropped": ("chain_rule", graph(dx="da * 2 * x")),
    "chain-cos-derivative-sign": ("chain_rule", graph(dd="np.sin(d)")),
    "chain-derivative-at-wrong-node": ("chain_rule", graph(cos="np.cos(x)")),
    "training-ascent": ("training", "def sgd_step(params, grads, lr):\n"
                        "    return {k: v + lr * grads[k] for k, v in params.items()}"),
    "training-lr-not-applied": ("training", "def sgd_step(params, grads, lr):\n"
                                "    return {k: v - grads[k] for k, v in params.items()}"),
    "training-loss-after-step": ("training", WRAP_TRAINING + """
def train(params, X, y, lr=0.5, epochs=500):
    losses = []
    for _ in range(epochs):
        y_pred, cache = forward(params, X)
        grads = backward(params, cache, y)
        params = {k: v - lr * grads[k] for k, v in params.items()}
        losses.append(float(np.mean((y - forward(params, X)[0]) ** 2)))
    return params, np.array(losses)
"""),
    "training-output-shape-n1": ("training", WRAP_TRAINING + """
def forward(params, X):
    y_pred, cache = _reference_forward(params, X)
    return y_pred[:, None], cache
"""),
    "training-grad-of-sum": ("training", WRAP_TRAINING + """
def backward(params, cache, y_true):
    grads = _reference_backward(params, cache, y_true)
    return {k: v * len(y_true) for k, v in grads.items()}
"""),
    # -- softmax.py ---------------------------------------------------------------------
    "softmax-wrong-axis": ("softmax", softmax_body("np.max(z, axis=0, keepdims=True)",
                                                   "axis=0, keepdims=True")),
    "softmax-broadcast-keepdims": ("softmax", softmax_body(total="axis=1")),
    "softmax-overflow": ("softmax", softmax_body(shift="0.0")),
    "softmax-global-max": ("softmax", softmax_body(shift="np.max(z)")),
    "softmax-ce-loss-sum": ("softmax", LOSS.format(reduce="-np.sum")),
    "softmax-ce-loss-sign": ("softmax", LOSS.format(reduce="np.mean")),
    "softmax-ce-label-indexing": ("softmax", LOSS.format(reduce="-np.mean").replace(
        "log_p[np.arange(len(y)), y]", "log_p[:, y]") + grad(["p[:, y] -= 1.0",
                                                              "return p / len(y)"])),
    "softmax-ce-log-of-zero": ("softmax", """
def softmax_ce_loss(y, logits):
    p = softmax(logits)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))
"""),
    "softmax-grad-missing-mean": ("softmax", grad([ONEHOT, "return p"])),
    "softmax-grad-sign": ("softmax", grad([ONEHOT, "return -p / len(y)"])),
    "softmax-grad-no-onehot": ("softmax", grad(["return p / len(y)"])),
    "softmax-grad-diagonal-only": ("softmax", grad([
        "rows = np.arange(len(y))", "dz = np.zeros_like(p)",
        "dz[rows, y] = p[rows, y] - 1.0", "return dz / len(y)"])),
    "softmax-grad-labels-as-values": ("softmax", grad(["return (p - y[:, None]) / len(y)"])),
    # -- activations.py -----------------------------------------------------------------
    "relu-kink-convention": ("activations", "def relu_backward(dout, cache):\n"
                             "    return np.where(cache >= 0, dout, 0.0)"),
    "relu-backward-ignores-upstream": ("activations", "def relu_backward(dout, cache):\n"
                                       "    return (cache > 0).astype(np.float64)"),
    "relu-backward-passes-upstream": ("activations", "def relu_backward(dout, cache):\n"
                                      "    return dout.copy()"),
    "tanh-derivative-at-input": ("activations", "def tanh_forward(x):\n"
                                 "    return np.tanh(x), x\n\n\n"
                                 "def tanh_backward(dout, cache):\n"
                                 "    return dout * (1.0 - cache ** 2)"),
    "tanh-backward-ignores-upstream": ("activations", "def tanh_backward(dout, cache):\n"
                                       "    return 1.0 - cache ** 2"),
    "tanh-derivative-sign": ("activations", "def tanh_backward(dout, cache):\n"
                             "    return dout * (1.0 + cache ** 2)"),
    "tanh-overflow": ("activations", "def tanh_forward(x):\n"
                      "    out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))\n"
                      "    return out, out"),
    # -- mlp.py -------------------------------------------------------------------------
    "affine-db-not-summed": ("mlp", "def affine_backward(dout, cache):\n"
                             "    x, W = cache\n"
                             "    return dout @ W.T, x.T @ dout, dout"),
    "affine-dW-transposed": ("mlp", "def affine_backward(dout, cache):\n"
                             "    x, W = cache\n"
                             "    return dout @ W.T, dout.T @ x, dout.sum(axis=0)"),
    "affine-grads-averaged": ("mlp", "def affine_backward(dout, cache):\n"
                              "    x, W = cache\n"
                              "    return dout @ W.T, x.T @ dout / len(x), "
                              "dout.sum(axis=0) / len(x)"),
    "mlp-init-unscaled": ("mlp", init(scale="1.0")),
    "mlp-init-wrong-scale": ("mlp", init(scale="(1.0 / fan_in)")),
    "mlp-init-transposed-draw": ("mlp", init(draw="rng.standard_normal((width, fan_in)).T")),
    "mlp-init-generator-per-layer": ("mlp", init(
        fresh="rng = np.random.default_rng(seed)\n        ")),
    "mlp-tanh-on-logits": ("mlp", MLP_FORWARD.format(hidden_too="True",
                                                     hidden="tanh_forward(z)", top="a")),
    "mlp-relu-hidden": ("mlp", MLP_FORWARD.format(hidden_too="layer < n_layers",
                                                  hidden="np.maximum(z, 0.0), None",
                                                  top="z")),
    "mlp-backward-skips-tanh": ("mlp", MLP_BACKWARD.format(top="softmax_ce_grad(y, logits)",
                                                           below="da")),
    "mlp-grads-of-sum": ("mlp", MLP_BACKWARD.format(
        top="softmax_ce_grad(y, logits) * len(y)",
        below="tanh_backward(da, tanh_caches[layer - 2])")),
    "mlp-train-ascent": ("mlp", train(step="+ lr * grads[name]")),
    "mlp-train-lr-not-applied": ("mlp", train(step="- grads[name]")),
    "mlp-train-loss-after-step": ("mlp", train(
        loss="softmax_ce_loss(y, mlp_forward(params, X)[0])")),
    "mlp-predict-scores": ("mlp", "def predict(params, X):\n"
                           "    return mlp_forward(params, X)[0]"),
    "mlp-predict-argmax-axis": ("mlp", "def predict(params, X):\n"
                                "    return np.argmax(mlp_forward(params, X)[0], axis=0)"),
}


def named(report: dict) -> set[str]:
    return {t["misconception"] for e in report["exercises"] for t in e["tests"]
            if t["misconception"]}


def importers(module: str) -> set[str]:
    """The exercises whose solution imports ``module`` relatively (mlp imports softmax)."""
    found = set()
    for name, source in reference_sources().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level and node.module == module:
                found.add(name)
    return found


def passed_on(mistake: str, module: str, report: dict) -> set[str]:
    """The mistakes named in ``report`` besides ``mistake`` that are fair to name: those of
    an exercise built on ``module`` (a student's mlp.py runs the student's softmax.py),
    each named only with hints that send the student to ``module``'s file, where the
    mistake is, since that exercise's own code is right."""
    passed = set()
    for exercise in report["exercises"]:
        if exercise["name"] not in importers(module):
            continue
        for test in exercise["tests"]:
            other = test["misconception"]
            if other and other != mistake and f"{module}.py" in test["hint"]:
                passed.add(other)
    return passed


def test_every_catalogue_entry_has_a_wrong_submission_here():
    """Is every mistake of the catalogue covered by one wrong submission in this test?"""
    assert {entry.id for entry in catalogue()} == set(WRONG)


def test_each_mistake_is_named_for_its_own_submission(grade, make_submission):
    """Is exactly its own mistake named in the report of each wrong submission, graded on
    the assignment of its module? An exercise that imports the wrong module (mlp imports
    softmax and activations) fails too, and may name a mistake of its own only with a hint
    that sends the student to the wrong module's file."""
    paths: dict[str, list] = {}
    for mistake, (module, code) in WRONG.items():
        sources = reference_sources()
        sources[module] = sources[module] + "\n" + IMPORTS + code + "\n"
        assignment = contract.exercise(module).assignment
        paths.setdefault(assignment, []).append(make_submission(mistake, sources))
    reports = {}
    for assignment, submissions in paths.items():
        reports.update(grade(submissions, jobs=2, assignment=assignment))
    assert set(reports) == set(WRONG)
    wrongly_named = {m: named(r) for m, r in reports.items()
                     if named(r) != {m} | passed_on(m, WRONG[m][0], r)}
    assert wrongly_named == {}
    for mistake, report in reports.items():
        hints = {t["hint"] for e in report["exercises"] for t in e["tests"]
                 if t["misconception"] == mistake}
        entry_hints = {e.hint for e in catalogue() if e.id == mistake}
        assert hints and hints <= entry_hints, mistake


def reference_cases(rng=None) -> dict:
    """For every function with catalogued mistakes: inputs, and the reference's output."""
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

    rng = rng or np.random.default_rng(7)
    params = training.init_params(3, 4, seed=1)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(float)
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    x, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    b, dh = rng.normal(size=2), rng.normal(size=(4, 2))
    z = rng.normal(0, 3, size=8)
    labels = rng.integers(0, 2, size=8).astype(float)
    # The networks assignment. x has exact zeros (ReLU's kink) and values past 1; the
    # logits are a square batch, where a row reduction that lost its axis still runs.
    act_x = rng.normal(scale=1.5, size=(4, 5))
    act_x[[0, 1, 3], [2, 0, 4]] = 0.0
    act_dout = rng.normal(size=(4, 5))
    classes, logits = np.array([2, 0, 3, 0]), rng.normal(scale=2.0, size=(4, 4))
    x_in, W_in, b_in = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    d_out = rng.normal(size=(5, 2))
    net = {k: v + rng.normal(scale=0.3, size=v.shape)
           for k, v in mlp.init_mlp([3, 4, 3], seed=1).items()}
    net_X, net_y = rng.normal(size=(6, 3)), np.array([0, 2, 1, 1, 0, 2])
    return {
        "sigmoid": ({"z": z}, sigmoid.sigmoid(z)),
        "sigmoid_grad": ({"z": z}, sigmoid.sigmoid_grad(z)),
        "mse_grad": ({"y_true": labels, "y_pred": sigmoid.sigmoid(z)},
                     mse.mse_grad(labels, sigmoid.sigmoid(z))),
        "dense_backward": ({"x": x, "W": W, "b": b, "dh": dh},
                           dense.dense_backward(dh, dense.dense_forward(x, W, b)[1])),
        "bce_grad": ({"y_true": labels, "logits": z}, cross_entropy.bce_grad(labels, z)),
        "bce_loss": ({"y_true": labels, "logits": z}, cross_entropy.bce_loss(labels, z)),
        "graph_backward": ({"x": z}, chain_rule.graph_backward(z)),
        "sgd_step": ({"params": params, "grads": grads, "lr": 0.1},
                     training.sgd_step(params, grads, 0.1)),
        "train": ({"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 5},
                  training.train(params, X, y, lr=0.3, epochs=5)),
        "forward": ({"params": params, "X": X}, (training.forward(params, X)[0], None)),
        "backward": ({"params": params, "X": X, "y_true": y},
                     training.backward(params, training.forward(params, X)[1], y)),
        "relu_backward": ({"x": act_x, "dout": act_dout}, activations.relu_backward(
            act_dout, activations.relu_forward(act_x)[1])),
        "tanh_forward": ({"x": act_x}, activations.tanh_forward(act_x)[0]),
        "tanh_backward": ({"x": act_x, "dout": act_dout}, activations.tanh_backward(
            act_dout, activations.tanh_forward(act_x)[1])),
        "softmax": ({"z": logits}, softmax.softmax(logits)),
        "softmax_ce_loss": ({"y": classes, "logits": logits},
                            softmax.softmax_ce_loss(classes, logits)),
        "softmax_ce_grad": ({"y": classes, "logits": logits},
                            softmax.softmax_ce_grad(classes, logits)),
        "affine_backward": ({"x": x_in, "W": W_in, "b": b_in, "dout": d_out},
                            mlp.affine_backward(d_out, mlp.affine_forward(x_in, W_in, b_in)[1])),
        "init_mlp": ({"layer_sizes": [3, 5, 4, 2], "seed": 7}, mlp.init_mlp([3, 5, 4, 2], 7)),
        "mlp_forward": ({"params": net, "X": net_X}, (mlp.mlp_forward(net, net_X)[0], None)),
        "mlp_backward": ({"params": net, "X": net_X, "y": net_y},
                         mlp.mlp_backward(net, mlp.mlp_forward(net, net_X)[1], net_y)),
        "train_mlp": ({"params": net, "X": net_X, "y": net_y, "lr": 0.3, "epochs": 5},
                      mlp.train_mlp(net, net_X, net_y, lr=0.3, epochs=5)),
        "predict": ({"params": net, "X": net_X}, mlp.predict(net, net_X)),
    }


def test_no_mistake_is_named_for_the_reference():
    """Does the reference's own output ever match a wrong variant? (It must not.)"""
    cases = reference_cases()
    assert {entry.function for entry in catalogue()} <= set(cases)
    for function, (inputs, output) in cases.items():
        assert diagnose(function, inputs, output) is None, function


def variant_outputs():
    """(entry, inputs, wrong output) for every variant of the catalogue, on inputs of
    ``reference_cases`` that tell it apart from the right answer."""
    cases = reference_cases()
    for entry in catalogue():
        inputs, _ = cases[entry.function]
        for variant in entry.variants:
            yield entry, inputs, variant(misconceptions.REF, inputs)


def test_each_variant_is_named_from_its_own_output():
    """Does each catalogued variant's exact output, on inputs that tell it apart, get its name?"""
    for entry, inputs, wrong in variant_outputs():
        found = diagnose(entry.function, inputs, wrong)
        assert found is not None and found.id == entry.id, entry.id


def _reformed(value, how):
    """The same numbers in another form: float32, a list or a string. A float's list is
    a list of one number (``tolist`` of a 0-d array would give the float back)."""
    if isinstance(value, dict):
        return {k: _reformed(v, how) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_reformed(v, how) for v in value)
    if isinstance(value, (np.ndarray, float)):
        array = np.asarray(value)
        return {"float32": array.astype(np.float32),
                "list": array.tolist() if array.ndim else [array.item()],
                "text": str(value)}[how]
    return value


@pytest.mark.parametrize("how", ["float32", "list", "text"])
def test_no_mistake_is_named_for_an_output_of_the_wrong_form(how):
    """Is a variant's output in float32, as a list or as text left unnamed, since the
    failure is about its form and not the mistake?"""
    for entry, inputs, wrong in variant_outputs():
        assert diagnose(entry.function, inputs, _reformed(wrong, how)) is None, (entry.id, how)


def test_n_times_too_large_is_not_named_when_n_is_one():
    """At N = 1 a gradient "N times too large" is the right one: is it never named there?"""
    from solutions import cross_entropy, mse

    y, z = np.array([1.0]), np.array([0.3])
    right = cross_entropy.bce_grad(y, z)
    assert diagnose("bce_grad", {"y_true": y, "logits": z}, right * 1) is None
    # float32 of the right values at N = 1: the historical "N times too large" for a dtype.
    inputs = {"y_true": np.array([0.2]), "y_pred": np.array([0.7])}
    output = mse.mse_grad(inputs["y_true"], inputs["y_pred"]).astype(np.float32)
    assert diagnose("mse_grad", inputs, output) is None
    # With N > 1 the same mistake is told apart, and named.
    y, z = np.array([1.0, 0.0]), np.array([0.3, -1.2])
    found = diagnose("bce_grad", {"y_true": y, "logits": z}, cross_entropy.bce_grad(y, z) * 2)
    assert found is not None and found.id == "bce-grad-missing-mean"


def test_three_mistakes_give_three_hints_on_their_own_tests(grade):
    """Does Bob's report show a different hint for each of his mistakes, on the
    test that caught it?"""
    report = grade([EXAMPLES / "bob_mistakes"])["bob_mistakes"]
    found = {}
    for exercise in report["exercises"]:
        for test in exercise["tests"]:
            if test["misconception"]:
                found.setdefault(test["misconception"], set()).add((exercise["name"], test["hint"]))
    assert {"sigmoid-exponent-sign", "mse-grad-missing-2", "dense-bias-not-summed",
            "chain-fanout-dropped"} <= set(found)
    exercises_of = {m: {e for e, _ in v} for m, v in found.items()}
    assert exercises_of["sigmoid-exponent-sign"] == {"sigmoid"}
    assert exercises_of["mse-grad-missing-2"] == {"mse"}
    assert exercises_of["dense-bias-not-summed"] == {"dense"}
    hints = {h for v in found.values() for _, h in v}
    assert len(hints) == len(found)


GARBAGE = (None, "text", {"x": 1}, (1, 2, 3), np.zeros((2, 2, 2)), [np.nan], float("nan"),
           np.array([np.inf, -np.inf]), {"d": None, "b": "x", "c": [], "a": (), "x": {}}, 10 ** 400)


def test_diagnosis_names_nothing_for_garbage():
    """Given real inputs, does diagnose return None, without raising, for outputs that are
    no mistake at all?"""
    cases = reference_cases()
    for entry in catalogue():
        inputs, _ = cases[entry.function]
        for output in GARBAGE:
            found = misconceptions.diagnose(entry.function, inputs, output)
            assert found is None or found.when is not None, (entry.id, output)
