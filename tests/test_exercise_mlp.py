"""The mlp exercise, graded by the real grader: the reference earns everything, trivial code
nothing, a different correct implementation everything, and each known mistake is named
where a student can see it (a visible test) and again in the hidden tests.

mlp.py imports the student's own softmax.py and activations.py, so every submission here
carries the reference versions of those two, except the one that shows a mistake in
softmax.py costing points in mlp too. Also here: the two_moons data set that the
exercise adds to exercises/provided.py, and the visible gradient checks reseeded.
"""

from __future__ import annotations

import os
import types

import numpy as np
import pytest

from exercises.provided import two_moons
from grader import contract
from grader.grading import misconceptions
from grader.grading.compare import GradeFailure
from grader.sandbox.client import Reply
from tests.conftest import ROOT, SOLUTIONS

EXERCISE = "mlp"
REFERENCE = (SOLUTIONS / f"{EXERCISE}.py").read_text(encoding="utf-8")
STUB = (ROOT / "exercises" / f"{EXERCISE}.py").read_text(encoding="utf-8")
SIBLINGS = {name: (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8")
            for name in ("softmax", "activations")}
POINTS = 40.0
FUNCTIONS = ["affine_forward", "affine_backward", "init_mlp", "mlp_forward", "mlp_backward",
             "train_mlp", "predict"]


def mlp_tests(report: dict) -> list[dict]:
    (exercise,) = [e for e in report["exercises"] if e["name"] == EXERCISE]
    return exercise["tests"]


def graded(grade, paths) -> dict:
    return grade(paths, jobs=2, assignment="networks")


def named(report: dict, visibility: str) -> set:
    return {t["misconception"] for t in mlp_tests(report)
            if t["visibility"] == visibility and t["misconception"]}


def submission(make_submission, name: str, mlp: str, **siblings: str):
    """A folder with this mlp.py and the reference softmax.py and activations.py (or the
    given ones)."""
    return make_submission(name, {**SIBLINGS, **siblings, EXERCISE: mlp})


def test_the_exercise_is_declared_as_the_brief_says():
    exercise = contract.exercise(EXERCISE)
    assert (exercise.assignment, exercise.order, exercise.points) == ("networks", 3, POINTS)
    assert [f.name for f in exercise.functions] == FUNCTIONS


# -- the data set ----------------------------------------------------------------------


def test_two_moons_is_two_balanced_half_circles_the_same_on_every_run():
    X, y = two_moons()
    assert (X.shape, X.dtype, y.shape, y.dtype) == ((200, 2), np.float64, (200,), np.int64)
    assert np.bincount(y).tolist() == [100, 100]
    again_X, again_y = two_moons(200, noise=0.1, seed=0)
    assert np.array_equal(X, again_X) and np.array_equal(y, again_y)
    other_X, _ = two_moons(seed=1)
    assert not np.array_equal(X, other_X)
    # Without noise the points lie on their circles: radius 1 about (0, 0) and (1, 0.5).
    X, y = two_moons(51, noise=0.0, seed=3)
    assert np.bincount(y).tolist() == [25, 26]
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(*upper.T), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    # No straight line separates the moons: the best logistic fit stays well short of 1.
    X, y = two_moons()
    features = np.column_stack([X, np.ones(len(X))])
    w = np.linalg.lstsq(features, 2.0 * y - 1.0, rcond=None)[0]
    assert np.mean((features @ w > 0) == (y == 1)) < 0.95


# -- full marks ----------------------------------------------------------------------

# Correct, written otherwise: einsum for the products, a dict for a cache, rng.normal for
# the draws, the tanh and the cross-entropy written out instead of calling the student's
# own modules, the loss an np.float64, the losses a list of floats, labels as int32 (what
# np.argmax gives on some platforms) and the parameters updated in place on a copy.
DIFFERENT = '''
import numpy as np


def affine_forward(x, W, b):
    out = np.einsum("nd,dm->nm", x, W) + b[None, :]
    return out, {"input": x.copy(), "weights": W.copy()}


def affine_backward(dout, cache):
    W, x = cache["weights"], cache["input"]
    db = np.ones(dout.shape[0]) @ dout
    return np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout), db


def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params["W%d" % l] = rng.normal(0.0, (1.0 / n_in) ** 0.5, size=(n_in, n_out))
        params["b%d" % l] = np.zeros((n_out,))
    return params


def mlp_forward(params, X):
    L = sum(1 for k in params if k.startswith("W"))
    acts = [X]
    for l in range(1, L + 1):
        z = acts[-1] @ params[f"W{l}"] + params[f"b{l}"]
        acts.append(z if l == L else np.tanh(z))
    return acts[-1], {"acts": acts, "L": L}


def mlp_backward(params, cache, y):
    acts, L = cache["acts"], cache["L"]
    logits = acts[-1]
    n = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    loss = np.mean(lse - logits[np.arange(n), y])
    onehot = np.zeros_like(logits)
    onehot[np.arange(n), y] = 1.0
    dz = (np.exp(logits - lse[:, None]) - onehot) / n
    grads = {}
    for l in range(L, 0, -1):
        grads[f"b{l}"] = dz.sum(axis=0)
        grads[f"W{l}"] = acts[l - 1].T @ dz
        dz = (dz @ params[f"W{l}"].T) * (1.0 - acts[l - 1] ** 2)
    return np.float64(loss), dict(reversed(list(grads.items())))


def train_mlp(params, X, y, lr=0.8, epochs=200):
    params = {k: v.copy() for k, v in params.items()}
    losses = []
    for _ in range(epochs):
        _, cache = mlp_forward(params, X)
        loss, grads = mlp_backward(params, cache, y)
        losses.append(float(loss))
        for k in params:
            params[k] -= lr * grads[k]
    return params, losses


def predict(params, X):
    return mlp_forward(params, X)[0].argmax(axis=1).astype(np.int32)
'''

# Appended to the reference: each function runs the reference, then makes its result
# trivial in one way, keeping its form (the reference's own inner calls stay right).
TRIVIAL = '''

import numpy as _np

_depth = [0]


def _made(value):
    if isinstance(value, _np.ndarray):
        if HOW == "zeros":
            return _np.zeros_like(value)
        if HOW == "constant":
            return _np.full_like(value, 0.5 if value.dtype.kind == "f" else 1)
        return -value
    if isinstance(value, float):
        return float(_made(_np.asarray(value)))
    if isinstance(value, (tuple, list)):
        return type(value)(_made(v) for v in value)
    if isinstance(value, dict):
        return {k: _made(v) for k, v in value.items()}
    return value


def _trivial(value, args):
    if HOW == "none":
        return None
    if HOW == "echo":
        return args[0]
    return _made(value)


def _make_trivial(function):
    def trivial(*args, **kwargs):
        _depth[0] += 1
        try:
            value = function(*args, **kwargs)
        finally:
            _depth[0] -= 1
        return value if _depth[0] else _trivial(value, args)
    return trivial


for _name in FUNCTIONS:
    globals()[_name] = _make_trivial(globals()[_name])
'''.replace("FUNCTIONS", repr(tuple(FUNCTIONS)))
TRIVIAL_KINDS = ("none", "zeros", "constant", "echo", "negated")


def test_reference_and_a_different_correct_version_score_full_marks(grade, make_submission):
    """Every test, public and hidden, passes for the reference and for a correct variant;
    about half the points are public."""
    paths = [submission(make_submission, "reference", REFERENCE),
             submission(make_submission, "different", DIFFERENT)]
    for name, report in graded(grade, paths).items():
        tests = mlp_tests(report)
        assert {t["visibility"] for t in tests} == {"visible", "hidden"}
        failed = [(t["name"], t["message"]) for t in tests if t["status"] != "passed"]
        assert failed == [], name
        assert sum(t["score"] for t in tests) == POINTS, name
        public = sum(t["max_score"] for t in tests if t["visibility"] == "visible")
        assert 0.4 * POINTS <= public <= 0.6 * POINTS


def test_trivial_code_and_the_stub_score_zero_on_every_test(grade, make_submission):
    """None, zeros, 0.5, the first argument echoed, the answer negated and the stub earn
    nothing."""
    paths = [submission(make_submission, how, REFERENCE + TRIVIAL.replace("HOW", repr(how)))
             for how in TRIVIAL_KINDS]
    paths.append(submission(make_submission, "stub", STUB))
    reports = graded(grade, paths)
    assert set(reports) == {*TRIVIAL_KINDS, "stub"}
    for name, report in reports.items():
        earned = [(t["name"], t["score"]) for t in mlp_tests(report) if t["score"]]
        assert earned == [], name
    assert {t["status"] for t in mlp_tests(reports["stub"])} == {"not_implemented"}


# -- the named mistakes --------------------------------------------------------------

# id -> the definitions appended to the reference mlp.py. Every one is named on a visible
# test and on a hidden one.
MISTAKES = {
    "affine-db-not-summed": '''
def affine_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout
''',
    "affine-dW-transposed": '''
def affine_backward(dout, cache):
    x, W = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)
''',
    "affine-grads-averaged": '''
def affine_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout / len(x), dout.mean(axis=0)
''',
    "mlp-init-unscaled": '''
def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params[f"W{l}"] = rng.standard_normal((layer_sizes[l - 1], layer_sizes[l]))
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    return params
''',
    "mlp-init-wrong-scale": '''
def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params[f"W{l}"] = (rng.standard_normal((layer_sizes[l - 1], layer_sizes[l]))
                           * np.sqrt(1.0 / layer_sizes[l]))
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    return params
''',
    "mlp-init-transposed-draw": '''
def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        draw = rng.standard_normal((layer_sizes[l], layer_sizes[l - 1])).T
        params[f"W{l}"] = draw / np.sqrt(layer_sizes[l - 1])
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    return params
''',
    "mlp-init-generator-per-layer": '''
def init_mlp(layer_sizes, seed=0):
    params = {}
    for l in range(1, len(layer_sizes)):
        rng = np.random.default_rng(seed)
        params[f"W{l}"] = (rng.standard_normal((layer_sizes[l - 1], layer_sizes[l]))
                           * np.sqrt(1.0 / layer_sizes[l - 1]))
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    return params
''',
    "mlp-tanh-on-logits": '''
_reference_forward = mlp_forward


def mlp_forward(params, X):
    logits, cache = _reference_forward(params, X)
    return np.tanh(logits), cache
''',
    "mlp-relu-hidden": '''
from .activations import relu_backward as tanh_backward, relu_forward as tanh_forward
''',
    "mlp-backward-skips-tanh": '''
def tanh_backward(dout, cache):
    return dout
''',
    "mlp-grads-of-sum": '''
_mean_grad = softmax_ce_grad


def softmax_ce_grad(y, logits):
    return _mean_grad(y, logits) * len(y)
''',
    "mlp-train-ascent": '''
def train_mlp(params, X, y, lr=0.8, epochs=200):
    losses = []
    for _ in range(epochs):
        _, cache = mlp_forward(params, X)
        loss, grads = mlp_backward(params, cache, y)
        losses.append(loss)
        params = {k: params[k] + lr * grads[k] for k in params}
    return params, np.array(losses)
''',
    "mlp-train-lr-not-applied": '''
def train_mlp(params, X, y, lr=0.8, epochs=200):
    losses = []
    for _ in range(epochs):
        _, cache = mlp_forward(params, X)
        loss, grads = mlp_backward(params, cache, y)
        losses.append(loss)
        params = {k: params[k] - grads[k] for k in params}
    return params, np.array(losses)
''',
    "mlp-train-loss-after-step": '''
def train_mlp(params, X, y, lr=0.8, epochs=200):
    losses = []
    for _ in range(epochs):
        _, cache = mlp_forward(params, X)
        _, grads = mlp_backward(params, cache, y)
        params = {k: params[k] - lr * grads[k] for k in params}
        losses.append(mlp_backward(params, mlp_forward(params, X)[1], y)[0])
    return params, np.array(losses)
''',
    "mlp-predict-scores": '''
def predict(params, X):
    return mlp_forward(params, X)[0]
''',
    "mlp-predict-argmax-axis": '''
def predict(params, X):
    return np.argmax(mlp_forward(params, X)[0], axis=0)
''',
}
# The same mistakes written another way: (mistake, appended to mlp.py, appended to softmax.py).
OTHER_WAYS = {
    "variance-scale": ("mlp-init-wrong-scale", '''
def init_mlp(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params[f"W{l}"] = (rng.standard_normal((layer_sizes[l - 1], layer_sizes[l]))
                           / layer_sizes[l - 1])
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    return params
''', ""),
    # The student's own softmax_ce_grad forgets the 1/N: mlp loses points for it too.
    "softmax-missing-mean": ("mlp-grads-of-sum", "", '''
def softmax_ce_grad(y, logits):
    grad = softmax(logits)
    grad[np.arange(len(y)), y] -= 1
    return grad
'''),
}
CASES = ({mistake: (mistake, code, "") for mistake, code in MISTAKES.items()}
         | {f"{way}_{mistake}": (mistake, code, softmax)
            for way, (mistake, code, softmax) in OTHER_WAYS.items()})


def test_every_declared_mistake_has_a_submission():
    declared = {m.id for m in contract.course().mistakes if m.exercise == EXERCISE}
    assert declared == set(MISTAKES)


@pytest.mark.slow
def test_each_mistake_loses_points_and_is_named_publicly_and_in_hidden_tests(
        grade, make_submission):
    """Each mistake fails, is named on a visible test and on a hidden one, and nothing else
    is named for it."""
    paths = []
    for case, (_, code, softmax) in CASES.items():
        paths.append(submission(make_submission, case, REFERENCE + "\n\n" + code,
                                softmax=SIBLINGS["softmax"] + "\n\n" + softmax))
    reports = graded(grade, paths)
    wrong = {}
    for case, (mistake, _, _) in CASES.items():
        report = reports[case]
        score = sum(t["score"] for t in mlp_tests(report))
        seen = (score < POINTS, named(report, "visible"), named(report, "hidden"))
        if seen != (True, {mistake}, {mistake}):
            wrong[case] = seen
    assert wrong == {}


# -- the catalogue, without a grader run -----------------------------------------------


def cases_of_inputs(seed: int) -> dict:
    """Inputs for every function, with N, D, M and the layer widths all different."""
    from autotests.test_mlp import random_params

    rng = np.random.default_rng(seed)
    params = random_params(rng, [3, 5, 4, 3])
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    return {
        "affine_backward": {"x": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 5)),
                            "b": rng.normal(size=5), "dout": rng.normal(size=(4, 5))},
        "init_mlp": {"layer_sizes": [3, 5, 4, 2], "seed": seed},
        "mlp_forward": {"params": params, "X": X},
        "mlp_backward": {"params": params, "X": X, "y": y},
        "train_mlp": {"params": params, "X": X, "y": y, "lr": 0.3, "epochs": 4},
        "predict": {"params": params, "X": X},
    }


def right_answer(function: str, inputs: dict):
    from solutions import mlp as ref

    if function == "affine_backward":
        return ref.affine_backward(inputs["dout"], ref.affine_forward(
            inputs["x"], inputs["W"], inputs["b"])[1])
    if function == "mlp_forward":
        return ref.mlp_forward(inputs["params"], inputs["X"])[0], None
    if function == "mlp_backward":
        return ref.mlp_backward(inputs["params"], ref.mlp_forward(inputs["params"],
                                                                  inputs["X"])[1], inputs["y"])
    return getattr(ref, function)(**inputs)


def mlp_mistakes():
    return [m for m in contract.course().mistakes if m.exercise == EXERCISE]


def test_no_mistake_is_named_for_the_reference():
    for seed in range(5):
        for function, inputs in cases_of_inputs(seed).items():
            right = right_answer(function, inputs)
            assert misconceptions.diagnose(function, inputs, right) is None, function


def test_each_variant_is_named_from_its_own_output_and_not_in_another_form():
    inputs = cases_of_inputs(11)
    checked = 0
    for mistake in mlp_mistakes():
        for variant in mistake.variants:
            wrong = variant(misconceptions.REF, inputs[mistake.function])
            found = misconceptions.diagnose(mistake.function, inputs[mistake.function], wrong)
            assert found is not None and found.id == mistake.id, (mistake.id, mistake.function)
            assert misconceptions.diagnose(mistake.function, inputs[mistake.function],
                                           str(wrong)) is None
            checked += 1
    assert checked >= 18


def test_the_predict_mistakes_are_told_by_the_form_of_the_output():
    inputs = cases_of_inputs(3)["predict"]
    from solutions import mlp as ref

    logits = ref.mlp_forward(inputs["params"], inputs["X"])[0]

    def name(output):
        found = misconceptions.diagnose("predict", inputs, output)
        return found and found.id

    assert name(logits) == "mlp-predict-scores"
    assert name(np.argmax(logits, axis=0)) == "mlp-predict-argmax-axis"
    assert name(-logits) is None  # scores, but not these
    assert name(np.argmax(logits, axis=1)) is None
    square = {"params": inputs["params"], "X": inputs["X"][:3]}  # N = K: an axis cannot tell
    found = misconceptions.diagnose("predict", square, np.argmax(logits[:3], axis=0))
    assert found is None


# -- the visible gradient checks, reseeded ---------------------------------------------

# Enough draws to see a fragile check; CI's BACKPROP_RESEEDS (10,000) gives 1,000 here.
RESEEDS = max(50, int(os.environ.get("BACKPROP_RESEEDS", "400")) // 10)


class InProcessStudent:
    """What an autotest calls, served from a module built in this process."""

    def __init__(self, module: types.ModuleType):
        self._module = module

    def call(self, function, *args, return_inputs=False, **kwargs):
        value = getattr(self._module, function)(*args, **kwargs)
        return Reply(value=value, inputs_after=list(args) if return_inputs else None)

    def __getattr__(self, function):
        return lambda *args, **kwargs: self.call(function, *args, **kwargs).value


def reference_with(code: str = "") -> InProcessStudent:
    """The reference mlp.py with ``code`` appended, built as a module of the solutions
    package (so that its relative imports find the reference softmax and activations)."""
    module = types.ModuleType("solutions._mlp_reseeded")
    module.__package__ = "solutions"
    exec(compile(REFERENCE + "\n\n" + code, "<mlp>", "exec"), module.__dict__)
    return InProcessStudent(module)


@pytest.mark.parametrize("test_name, mistakes", [
    ("test_affine_backward_matches_numerical_gradient",
     ["affine-db-not-summed", "affine-dW-transposed", "affine-grads-averaged"]),
    ("test_mlp_backward_worked_example_and_numerical_gradient",
     ["affine-db-not-summed", "affine-dW-transposed", "mlp-backward-skips-tanh",
      "mlp-grads-of-sum"]),
])
def test_the_reference_never_fails_a_visible_gradient_check_and_each_mistake_always_does(
        test_name, mistakes):
    from autotests import test_mlp

    test = getattr(test_mlp, test_name)
    right = reference_with()
    wrong = {m: reference_with(MISTAKES[m]) for m in mistakes}
    reference_failed, mistakes_passed = {}, {}
    for seed in range(RESEEDS):
        try:
            test(student=right, rng=np.random.default_rng(seed))
        except GradeFailure as failure:
            reference_failed[seed] = failure.message
        for mistake, student in wrong.items():
            try:
                test(student=student, rng=np.random.default_rng(seed))
            except (GradeFailure, ValueError):  # a transposed dW fails on shapes
                continue
            mistakes_passed.setdefault(mistake, []).append(seed)
    assert reference_failed == {}
    assert mistakes_passed == {}


# -- the student bundle names the same mistakes ----------------------------------------

@pytest.mark.slow
def test_the_bundle_names_each_mistake_as_the_instructors_grader_does(tmp_path, make_submission):
    """Without the reference, from the fingerprints alone, does the bundle's grader name
    the same mistake on every public test as the instructor's?"""
    from grader import api
    from grader.course import release
    from grader.reports.results import to_dict
    from tests.test_bundle_diagnosis import graded_in_bundle
    from tests.test_release import install_bundle

    bundle = tmp_path / "backprop-lab"
    release.build(bundle)
    venv = install_bundle(bundle, tmp_path)
    paths = {case: submission(make_submission, case, REFERENCE + "\n\n" + code,
                              softmax=SIBLINGS["softmax"] + "\n\n" + softmax)
             for case, (_, code, softmax) in CASES.items()}
    ids = {path.name: case for case, path in paths.items()}

    def named_per_test(report: dict) -> dict:
        return {t["name"]: t["misconception"] for t in mlp_tests(report)}

    graded_here = api.grade(list(paths.values()), None, public_only=True, assignment="networks",
                            isolation="basic", accept_weak_isolation=True, discover=False)
    instructor = {ids[r.submission.id]: named_per_test(to_dict(r)) for r in graded_here.reports}
    in_bundle = {ids[r["submission"]["id"]]: named_per_test(r)
                 for r in graded_in_bundle(venv, tmp_path, paths.values(), "networks")}
    assert in_bundle == instructor
    for case, (mistake, _, _) in CASES.items():
        assert mistake in instructor[case].values(), case
