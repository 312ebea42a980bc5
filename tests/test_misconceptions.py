"""The misconception catalogue: every known mistake is named for its own wrong submission."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading import misconceptions
from grader.grading.misconceptions import CATALOGUE, diagnose
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
}


def named(report: dict) -> set[str]:
    return {t["misconception"] for e in report["exercises"] for t in e["tests"]
            if t["misconception"]}


def test_every_catalogue_entry_has_a_wrong_submission_here():
    """Is every mistake of the catalogue covered by one wrong submission in this test?"""
    assert {entry.id for entry in CATALOGUE} == set(WRONG)


def test_each_mistake_is_named_for_its_own_submission(grade, make_submission):
    """Is exactly its own mistake named in the report of each wrong submission?"""
    paths = []
    for mistake, (module, code) in WRONG.items():
        sources = reference_sources()
        sources[module] = sources[module] + "\n" + IMPORTS + code + "\n"
        paths.append(make_submission(mistake, sources))
    reports = grade(paths, jobs=2)
    wrongly_named = {m: named(r) for m, r in reports.items() if named(r) != {m}}
    assert wrongly_named == {}
    for mistake, report in reports.items():
        hints = {t["hint"] for e in report["exercises"] for t in e["tests"]
                 if t["misconception"] == mistake}
        entry_hints = {e.hint for e in CATALOGUE if e.id == mistake}
        assert hints and hints <= entry_hints, mistake


def reference_cases(rng=None) -> dict:
    """For every function with catalogued mistakes: inputs, and the reference's output."""
    from solutions import chain_rule, cross_entropy, dense, mse, sigmoid, training

    rng = rng or np.random.default_rng(7)
    params = training.init_params(3, 4, seed=1)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(float)
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    x, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    b, dh = rng.normal(size=2), rng.normal(size=(4, 2))
    z = rng.normal(0, 3, size=8)
    labels = rng.integers(0, 2, size=8).astype(float)
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
    }


def test_no_mistake_is_named_for_the_reference():
    """Does the reference's own output ever match a wrong variant? (It must not.)"""
    cases = reference_cases()
    assert {entry.function for entry in CATALOGUE} <= set(cases)
    for function, (inputs, output) in cases.items():
        assert diagnose(function, inputs, output) is None, function


def variant_outputs():
    """(entry, inputs, wrong output) for every variant of the catalogue, on inputs of
    ``reference_cases`` that tell it apart from the right answer."""
    cases = reference_cases()
    for entry in CATALOGUE:
        inputs, _ = cases[entry.function]
        for variant in entry.variants:
            yield entry, inputs, variant(misconceptions.REF, inputs)


def test_each_variant_is_named_from_its_own_output():
    """Does each catalogued variant's exact output, on inputs that tell it apart, get its name?"""
    for entry, inputs, wrong in variant_outputs():
        found = diagnose(entry.function, inputs, wrong)
        assert found is not None and found.id == entry.id, entry.id


def _reformed(value, how):
    """The same numbers in another form: float32, a list, a 0-d array or a string."""
    if isinstance(value, dict):
        return {k: _reformed(v, how) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_reformed(v, how) for v in value)
    if isinstance(value, (np.ndarray, float)):
        array = np.asarray(value)
        return {"float32": array.astype(np.float32), "list": array.tolist(),
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
    for entry in CATALOGUE:
        inputs, _ = cases[entry.function]
        for output in GARBAGE:
            found = misconceptions.diagnose(entry.function, inputs, output)
            assert found is None or found.when is not None, (entry.id, output)
