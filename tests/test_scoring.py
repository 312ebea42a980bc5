"""Every grade is right: trivial code earns nothing, subtle mistakes lose points where a
student can see them, and correct work written differently earns everything."""

from __future__ import annotations

import numpy as np
import pytest

from grader import contract
from tests.conftest import exercise_scores, reference_sources

EXERCISES = contract.exercises()
POINTS = {e.name: e.points for e in EXERCISES}

# Appended to every reference module: each contract function is rebound to one that
# runs the reference and then makes its result trivial in one way, keeping its shape.
TRIVIAL = '''

import numpy as _np



def _trivial(value, how, args):
    if how == "none":
        return None
    if how == "echo":
        return args[0] if args else None
    if isinstance(value, dict):
        return {key: _trivial(item, how, args) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_trivial(item, how, args) for item in value)
    if isinstance(value, list):
        return [_trivial(item, how, args) for item in value]
    if isinstance(value, (float, _np.ndarray)):
        array = _np.asarray(value, dtype=_np.float64)
        made = {"zeros": _np.zeros_like(array), "constant": _np.full_like(array, 0.5),
                "negated": -array}[how]
        return float(made) if isinstance(value, float) else made
    return value


_depth = [0]


def _make_trivial(function, how):
    # Only the call the grader makes turns trivial: the reference's calls to its own
    # functions (logistic regression through bce_grad) must not undo it.
    def trivial(*args, **kwargs):
        _depth[0] += 1
        try:
            value = function(*args, **kwargs)
        finally:
            _depth[0] -= 1
        return value if _depth[0] else _trivial(value, how, args)
    return trivial


for _name in NAMES:
    globals()[_name] = _make_trivial(globals()[_name], HOW)
'''

TRIVIAL_KINDS = ("none", "zeros", "constant", "echo", "negated")


def trivial_sources(how: str) -> dict[str, str]:
    sources = reference_sources()
    for exercise in EXERCISES:
        names = tuple(f.name for f in exercise.functions)
        sources[exercise.name] += TRIVIAL.replace("NAMES", repr(names)).replace("HOW", repr(how))
    return sources


def test_trivial_code_scores_zero_everywhere(grade, make_submission):
    """Do None, zeros of the right shape, a constant, the input echoed and the reference
    negated each score 0 on every exercise?"""
    paths = [make_submission(how, trivial_sources(how)) for how in TRIVIAL_KINDS]
    reports = grade(paths, jobs=2, assignment="all")
    earned = {how: {name: score for name, score in exercise_scores(report).items() if score}
              for how, report in reports.items()}
    assert earned == {how: {} for how in TRIVIAL_KINDS}
    for report in reports.values():
        assert report["status"] == "graded"


# Wrong but of the right shapes: each must lose points in a visible test.
SUBTLY_WRONG = {
    "dense_dW_transposed_when_square": ("dense", '''
_right_backward = dense_backward


def dense_backward(dh, cache):
    dx, dW, db = _right_backward(dh, cache)
    return dx, (dW.T if dW.shape[0] == dW.shape[1] else dW), db
'''),
    "dense_backward_uses_module_state": ("dense", '''
_last = {}


def dense_forward(x, W, b):
    h = 1.0 / (1.0 + np.exp(-(x @ W + b)))
    _last.update(x=x, W=W, h=h)
    return h, None


def dense_backward(dh, cache):
    x, W, h = _last["x"], _last["W"], _last["h"]
    dz = dh * h * (1.0 - h)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)
'''),
    "sigmoid_clipped_beyond_15": ("sigmoid", '''
_right_sigmoid = sigmoid


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    s = np.where(z < -15, 0.0, np.where(z > 15, 1.0, _right_sigmoid(z)))
    return float(s) if s.ndim == 0 else s
'''),
    "training_W1_transposed_when_square": ("training", '''
_right_forward = forward


def forward(params, X):
    W1 = params["W1"]
    if W1.shape[0] == W1.shape[1]:
        params = {**params, "W1": W1.T}
    return _right_forward(params, X)
'''),
    "training_half_learning_rate": ("training", '''
_right_train = train


def train(params, X, y, lr=0.5, epochs=500):
    return _right_train(params, X, y, lr=lr / 2, epochs=epochs)
'''),
    "training_frozen_biases": ("training", '''
def train(params, X, y, lr=0.5, epochs=500):
    losses = []
    for _ in range(epochs):
        y_pred, cache = forward(params, X)
        losses.append(mse_loss(y, y_pred))
        grads = backward(params, cache, y)
        params = {k: (v if k.startswith("b") else v - lr * grads[k]) for k, v in params.items()}
    return params, np.array(losses)
'''),
    "training_skips_the_last_step": ("training", '''
def train(params, X, y, lr=0.5, epochs=500):
    losses = []
    for k in range(epochs):
        y_pred, cache = forward(params, X)
        losses.append(mse_loss(y, y_pred))
        if k < epochs - 1:
            params = sgd_step(params, backward(params, cache, y), lr)
    return params, np.array(losses)
'''),
}


def visible_failures(report: dict, exercise: str) -> list[str]:
    for e in report["exercises"]:
        if e["name"] == exercise:
            return [t["name"] for t in e["tests"]
                    if t["visibility"] == "visible" and t["status"] != "passed"]
    raise KeyError(exercise)


def test_subtle_mistakes_lose_points_in_a_visible_test(grade, make_submission, with_mistake):
    """Does each wrong-but-shaped mistake fail a public test, costing only its exercise?"""
    paths = [make_submission(name, with_mistake(module, code))
             for name, (module, code) in SUBTLY_WRONG.items()]
    reports = grade(paths, jobs=2, assignment="all")
    for name, (module, _) in SUBTLY_WRONG.items():
        scores = exercise_scores(reports[name])
        assert scores[module] < POINTS[module], name
        assert visible_failures(reports[name], module), name
        assert {k: v for k, v in scores.items() if k != module} == {
            k: v for k, v in POINTS.items() if k != module}, name


# Right, but not written as the reference is: each must earn every point.
CORRECT_BUT_DIFFERENT = {
    "bce_grad_with_a_naive_sigmoid": ("cross_entropy", '''
def bce_grad(y_true, logits):
    # Overflows (and warns) at huge negative logits, but the values are exact.
    return (1.0 / (1.0 + np.exp(-logits)) - y_true) / len(logits)


def logistic_regression_grad(w, b, X, y):
    dz = (1.0 / (1.0 + np.exp(-(X @ w + b))) - y) / len(y)
    return dz @ X, float(dz.sum())
'''),
    "sigmoid_grad_with_a_naive_sigmoid": ("sigmoid", '''
def sigmoid_grad(z):
    s = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
    return float(s * (1 - s)) if np.ndim(s) == 0 else s * (1 - s)
'''),
    "sigmoid_through_logaddexp": ("sigmoid", '''
def sigmoid(z):
    s = np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))
    return float(s) if s.ndim == 0 else s


def sigmoid_grad(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    g = e / (1.0 + e) ** 2
    return float(g) if g.ndim == 0 else g
'''),
    "dense_with_einsum": ("dense", '''
def dense_backward(dh, cache):
    x, W, h = cache
    dz = dh * (h - h ** 2)
    return np.einsum("nm,dm->nd", dz, W), np.einsum("nd,nm->dm", x, dz), np.einsum("nm->m", dz)
'''),
    "training_with_a_list_of_losses": ("training", '''
def train(params, X, y, lr=0.5, epochs=500):
    losses = []
    for _ in range(epochs):
        y_pred, cache = forward(params, X)
        losses.append(float(((y - y_pred) ** 2).mean()))
        params = sgd_step(params, backward(params, cache, y), lr)
    return params, losses
'''),
}


def test_correct_work_written_differently_earns_every_point(grade, make_submission,
                                                           with_mistake):
    """Do exact results that warn where no warning-free promise was made, other stable
    formulas, einsum and a list of losses all earn full marks?"""
    paths = [make_submission(name, with_mistake(module, code))
             for name, (module, code) in CORRECT_BUT_DIFFERENT.items()]
    reports = grade(paths, jobs=2, assignment="all")
    lost = {name: {t["name"]: t["message"] for e in r["exercises"] for t in e["tests"]
                   if t["status"] != "passed"} for name, r in reports.items()}
    assert lost == {name: {} for name in CORRECT_BUT_DIFFERENT}


@pytest.mark.parametrize("function", [f for e in EXERCISES for f in e.functions
                                      if f.warning_free], ids=lambda f: f.name)
def test_warning_free_is_promised_where_it_is_graded(function):
    """Does the exercise text promise "warning-free" for exactly the functions whose
    warnings a test may take points for?"""
    import importlib

    from grader.contract import exercise_of

    module = importlib.import_module(f"solutions.{exercise_of(function.name).name}")
    assert "warning-free" in getattr(module, function.name).__doc__


def test_no_other_function_is_promised_warning_free():
    """Is "warning-free" absent from the docstring of every function not graded for it?"""
    import importlib

    for exercise in EXERCISES:
        module = importlib.import_module(f"solutions.{exercise.name}")
        for function in exercise.functions:
            if not function.warning_free:
                assert "warning-free" not in getattr(module, function.name).__doc__, function.name


def test_a_test_cannot_take_points_for_warnings_not_promised():
    """Does expect_no_warnings refuse to judge a function whose text promises nothing?"""
    from grader.grading.expect import expect_no_warnings
    from grader.sandbox.client import Reply

    with pytest.raises(RuntimeError, match="not promised warning-free"):
        expect_no_warnings(Reply(value=np.zeros(2), warnings=["RuntimeWarning: overflow"]),
                           "bce_grad", function="bce_grad")
