"""End-to-end grading: scores, isolation of failures, and attempts to cheat."""

from __future__ import annotations

import pytest

from grader import contract
from tests.conftest import EXAMPLES, ROOT, exercise_scores, max_scores, reference_sources, statuses

# The course's first assignment: what grading grades by default.
EXERCISES = contract.exercises("backprop")
MAX_SCORE = contract.max_score("backprop")
POINTS = {e.name: e.points for e in EXERCISES}


def test_reference_scores_full_marks_and_stubs_score_zero(grade, make_submission):
    """Do the solutions get 100/100 and the released stubs 0, every test not implemented?"""
    reports = grade([make_submission("reference", reference_sources()), ROOT / "exercises"], jobs=2)
    reference = reports["reference"]
    assert reference["status"] == "graded"
    assert reference["score"] == reference["max_score"] == MAX_SCORE == 100
    assert max_scores(reference) == POINTS
    assert all(t["status"] == "passed" for e in reference["exercises"] for t in e["tests"])
    stubs = reports["exercises"]
    assert stubs["score"] == 0 and stubs["max_score"] == 100
    assert {t["status"] for e in stubs["exercises"] for t in e["tests"]} == {"not_implemented"}
    assert {e["status"] for e in stubs["exercises"]} == {"not_implemented"}


def test_every_exercise_has_public_and_hidden_tests(grade, make_submission):
    """Does each exercise carry both visible and hidden tests, summing to its points?"""
    report = grade([make_submission("reference", reference_sources())])["reference"]
    for exercise in report["exercises"]:
        kinds = {t["visibility"] for t in exercise["tests"]}
        assert kinds == {"visible", "hidden"}, exercise["name"]
        assert sum(t["max_score"] for t in exercise["tests"]) == POINTS[exercise["name"]]


def test_a_missing_module_loses_exactly_its_exercise(grade, make_submission):
    """Does leaving out dense.py cost the 25 dense points and nothing else?"""
    sources = reference_sources()
    del sources["dense"]
    report = grade([make_submission("no_dense", sources)])["no_dense"]
    assert report["score"] == 100 - POINTS["dense"]
    assert statuses(report, "dense") == {"missing"}
    assert exercise_scores(report)["dense"] == 0


MISTAKES = {
    "sigmoid": "def sigmoid_grad(z):\n    return sigmoid(z)",
    "mse": "def mse_grad(y_true, y_pred):\n    return (y_pred - y_true) / y_pred.size",
    "dense": ("def dense_backward(dh, cache):\n"
              "    dx, dW, db = _right(dh, cache)\n    return dx, dW, dh.sum(axis=1)\n"),
    "cross_entropy": "def bce_grad(y_true, logits):\n    return y_true - sigmoid(logits)",
    "chain_rule": ("def graph_backward(x):\n    g = _right(x)\n"
                   "    g['x'] = g['a'] * 2 * x\n    return g\n"),
    "training": ("def sgd_step(params, grads, lr):\n"
                 "    return {k: v + lr * grads[k] for k, v in params.items()}\n"),
}


def _mistake_source(module: str) -> str:
    definition = MISTAKES[module]
    if "_right(" in definition:
        name = definition.split("(")[0].removeprefix("def ")
        definition = f"_right = {name}\n" + definition
    if module == "cross_entropy":
        definition = "from exercises.provided import sigmoid\n" + definition
    return definition


@pytest.mark.parametrize("module", sorted(MISTAKES))
def test_one_wrong_function_costs_only_its_exercise(module, grade, make_submission, with_mistake):
    """Does one wrong function lose points in its own exercise and nowhere else?"""
    path = make_submission(f"wrong_{module}", with_mistake(module, _mistake_source(module)))
    report = grade([path])[f"wrong_{module}"]
    scores = exercise_scores(report)
    assert scores[module] < POINTS[module]
    assert {k: v for k, v in scores.items() if k != module} == {
        k: v for k, v in POINTS.items() if k != module}


BAD_IMPORTS = {
    "raises": ("dense", "raise RuntimeError('half-finished module')"),
    "hangs": ("mse", "while True:\n    pass"),
    "exits": ("chain_rule", "import sys\nsys.exit(0)"),
    "os_exit": ("training", "import os\nos._exit(0)"),
    "sleeps": ("sigmoid", "import time\ntime.sleep(3600)"),
}


def test_a_module_that_breaks_at_import_costs_only_its_own_tests(grade, make_submission):
    """Do raise, hang, sys.exit and os._exit at import cost only that module's
    tests, in one batch?"""
    paths = [make_submission("clean", reference_sources())]
    for name, (module, line) in BAD_IMPORTS.items():
        sources = reference_sources()
        sources[module] = line + "\n" + sources[module]
        paths.append(make_submission(name, sources))
    reports = grade(paths, jobs=2, timeout=1.0)
    assert reports["clean"]["score"] == 100
    for name, (module, _) in BAD_IMPORTS.items():
        report = reports[name]
        assert report["status"] == "graded"
        assert exercise_scores(report)[module] == 0, name
        assert report["score"] == 100 - POINTS[module], name
    assert statuses(reports["hangs"], "mse") == {"timeout"}
    assert statuses(reports["sleeps"], "sigmoid") == {"timeout"}
    assert statuses(reports["os_exit"], "training") == {"crashed"}
    assert statuses(reports["raises"], "dense") == {"error"}
    assert statuses(reports["exits"], "chain_rule") == {"error"}


def test_a_function_that_hangs_costs_only_the_tests_that_call_it(grade, make_submission,
                                                                 with_mistake):
    """Does an infinite loop in one function time out its tests and leave the rest intact?"""
    sources = with_mistake("mse", "def mse_loss(y_true, y_pred):\n    while True:\n        pass")
    report = grade([make_submission("loop", sources)], timeout=1.0)["loop"]
    mse_tests = {t["name"]: t["status"] for e in report["exercises"] if e["name"] == "mse"
                 for t in e["tests"]}
    assert mse_tests["test_mse_loss_worked_example"] == "timeout"
    assert mse_tests["test_mse_grad_matches_reference"] == "passed"
    assert report["score"] == 100 - sum(
        t["max_score"] for e in report["exercises"] for t in e["tests"]
        if e["name"] == "mse" and t["status"] != "passed")
    assert {k: v for k, v in exercise_scores(report).items() if k != "mse"} == {
        k: v for k, v in POINTS.items() if k != "mse"}


CHEATS = {
    # Wrong answers, and numpy's comparisons patched to say yes.
    "patches_numpy": ("sigmoid", """
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: numpy.ones(1, dtype=bool)
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
def sigmoid(z):
    return numpy.zeros_like(numpy.asarray(z, dtype=float))
def sigmoid_grad(z):
    return numpy.zeros_like(numpy.asarray(z, dtype=float))
"""),
    # An ndarray subclass that claims to equal anything.
    "lying_subclass": ("mse", """
import numpy

# The course's first assignment: what grading grades by default.
EXERCISES = contract.exercises("backprop")
MAX_SCORE = contract.max_score("backprop")
class Agreeable(numpy.ndarray):
    def __eq__(self, other):
        return True
    def __array_function__(self, func, types, args, kwargs):
        return True
def mse_loss(y_true, y_pred):
    return numpy.zeros(1).view(Agreeable)
def mse_grad(y_true, y_pred):
    return numpy.zeros_like(y_pred).view(Agreeable)
"""),
    # An object whose __eq__ is always true.
    "lying_object": ("chain_rule", """
class Anything:
    def __eq__(self, other):
        return True
    __float__ = lambda self: 0.0
def graph_forward(x):
    return {k: Anything() for k in ("a", "b", "c", "d", "J")}
def graph_backward(x):
    return Anything()
"""),
}


def test_cheats_gain_nothing(grade, make_submission):
    """Do patched numpy comparisons, a lying ndarray subclass or an always-equal object score 0?"""
    paths = []
    for name, (module, source) in CHEATS.items():
        sources = reference_sources()
        sources[module] = source
        paths.append(make_submission(name, sources))
    reports = grade(paths)
    for name, (module, _) in CHEATS.items():
        report = reports[name]
        assert exercise_scores(report)[module] == 0, name
        assert report["score"] == 100 - POINTS[module], name


def test_the_examples_grade_as_their_names_say(grade):
    """Is the differently written correct example 100, the unfinished one partial,
    the buggy one named?"""
    reports = grade(sorted(EXAMPLES.iterdir()), jobs=2)
    assert reports["alice_correct"]["score"] == 100
    assert 0 < reports["carol_unfinished"]["score"] < 100
    assert 0 < reports["bob_mistakes"]["score"] < 100


def test_a_grading_process_bounds_its_own_memory():
    """Does a grading process cap its address space at what it holds plus the stated bound,
    so that no reply, however forged, can grow it past that?"""
    import subprocess
    import sys

    program = ("import resource\n"
               "from grader.sandbox.limits import GRADING_MEMORY_BYTES, bound_grading_memory\n"
               "cap = bound_grading_memory()\n"
               "soft, _ = resource.getrlimit(resource.RLIMIT_AS)\n"
               "assert soft == cap, (soft, cap)\n"
               "assert GRADING_MEMORY_BYTES <= cap <= GRADING_MEMORY_BYTES + (2 << 30), cap\n"
               "try:\n"
               "    bytearray(cap)\n"
               "except MemoryError:\n"
               "    print('bounded')\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bounded"
