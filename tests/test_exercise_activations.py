"""The activations exercise (ReLU and tanh layers with a cache), through the real grader.

Every submission below is graded once, in one batch, by a module-scoped fixture; each
test then reads its reports. A submission is an ``activations.py`` on its own: the
reference, the stub, trivial code, a correct but differently written one, one with
module-level state, one that writes into its argument, and one per known mistake (each
variant of a mistake on its own).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import exercises
import solutions
from grader import api, contract
from grader.reports import store

EXERCISE = "activations"
SOLUTION = (Path(solutions.__file__).resolve().parent / "activations.py").read_text("utf-8")
STUB = (Path(exercises.__file__).resolve().parent / "activations.py").read_text("utf-8")

PUBLIC_TESTS = {
    "test_relu_forward_worked_example": 2,
    "test_relu_backward_worked_example_and_kink": 3,
    "test_relu_backward_matches_numerical_gradient": 3,
    "test_tanh_forward_worked_example": 2,
    "test_tanh_backward_worked_example": 2,
    "test_tanh_backward_matches_numerical_gradient": 2,
    "test_tanh_is_finite_and_silent_at_large_inputs": 1,
}
HIDDEN_TESTS = {
    "test_relu_forward_matches_reference": 2,
    "test_relu_backward_matches_reference": 3,
    "test_relu_backward_uses_its_own_cache": 2,
    "test_tanh_forward_matches_reference": 2,
    "test_tanh_backward_matches_reference": 3,
    "test_tanh_backward_uses_its_own_cache": 2,
    "test_tanh_at_large_inputs_matches_reference": 1,
}
# The tests that call a backward function (all of them call a forward one too).
BACKWARD_TESTS = {name for name in {**PUBLIC_TESTS, **HIDDEN_TESTS}
                  if "backward" in name or "large" in name}


def module(source: str) -> str:
    return "import numpy as np\n\n\n" + textwrap.dedent(source).strip() + "\n"


def reference_with(definitions: str) -> str:
    """The reference with some functions redefined (the later definition wins)."""
    return SOLUTION + "\n\n" + textwrap.dedent(definitions).strip() + "\n"


TRIVIAL = {
    "returns-none": module("""
        def relu_forward(x):
            return None
        def relu_backward(dout, cache):
            return None
        def tanh_forward(x):
            return None
        def tanh_backward(dout, cache):
            return None
        """),
    "returns-zeros": module("""
        def relu_forward(x):
            return np.zeros_like(x), x
        def relu_backward(dout, cache):
            return np.zeros_like(dout)
        def tanh_forward(x):
            return np.zeros_like(x), x
        def tanh_backward(dout, cache):
            return np.zeros_like(dout)
        """),
    "returns-constant": module("""
        def relu_forward(x):
            return np.full(np.shape(x), 0.5), None
        def relu_backward(dout, cache):
            return np.full(np.shape(dout), 0.5)
        def tanh_forward(x):
            return np.full(np.shape(x), 0.5), None
        def tanh_backward(dout, cache):
            return np.full(np.shape(dout), 0.5)
        """),
    "returns-input": module("""
        def relu_forward(x):
            return x, x
        def relu_backward(dout, cache):
            return dout
        def tanh_forward(x):
            return x, x
        def tanh_backward(dout, cache):
            return dout
        """),
    "stub": STUB,
}

# The right forward passes with a trivial backward: every test that calls a backward
# function earns 0 (only the forward tests are earned).
TRIVIAL_BACKWARD = {
    "backward-zeros": reference_with("""
        def relu_backward(dout, cache):
            return np.zeros_like(dout)
        def tanh_backward(dout, cache):
            return np.zeros_like(dout)
        """),
    "backward-ones": reference_with("""
        def relu_backward(dout, cache):
            return np.ones_like(dout)
        def tanh_backward(dout, cache):
            return np.ones_like(dout)
        """),
    "backward-input": reference_with("""
        def relu_backward(dout, cache):
            return dout
        def tanh_backward(dout, cache):
            return dout
        """),
    "backward-cache": reference_with("""
        def relu_backward(dout, cache):
            return np.array(cache, dtype=np.float64)
        def tanh_backward(dout, cache):
            return np.array(cache, dtype=np.float64)
        """),
}

# Right, but written otherwise: a mask in the cache, and a tanh of its own (stable, the
# input in the cache, the derivative recomputed and factored).
DIFFERENT = module("""
    def relu_forward(x):
        mask = x > 0
        return x * mask, mask

    def relu_backward(dout, cache):
        return dout * cache

    def _tanh(x):
        a = np.abs(x)
        return np.sign(x) * -np.expm1(-2.0 * a) / (1.0 + np.exp(-2.0 * a))

    def tanh_forward(x):
        return _tanh(x), x

    def tanh_backward(dout, cache):
        t = _tanh(cache)
        return dout * ((1.0 - t) * (1.0 + t))
    """)

# Right values, but the backward passes read a module-level variable, not their cache.
STATEFUL = module("""
    LAST = {}

    def relu_forward(x):
        LAST["relu"] = x.copy()
        return np.maximum(x, 0.0), None

    def relu_backward(dout, cache):
        return np.where(LAST["relu"] > 0, dout, 0.0)

    def tanh_forward(x):
        LAST["tanh"] = np.tanh(x)
        return LAST["tanh"], None

    def tanh_backward(dout, cache):
        return dout * (1.0 - LAST["tanh"] ** 2)
    """)

# Right values, but relu_backward writes into dout (and returns it).
IN_PLACE = reference_with("""
    def relu_backward(dout, cache):
        dout[cache <= 0] = 0.0
        return dout
    """)

# (mistake id, the submission, the public test and the hidden test that must name it)
RELU_TESTS = ("test_relu_backward_worked_example_and_kink", "test_relu_backward_matches_reference")
TANH_TESTS = ("test_tanh_backward_worked_example", "test_tanh_backward_matches_reference")
LARGE_TESTS = ("test_tanh_is_finite_and_silent_at_large_inputs",
               "test_tanh_at_large_inputs_matches_reference")
MISTAKES = {
    "relu-kink-convention": ("relu-kink-convention", reference_with("""
        def relu_backward(dout, cache):
            return np.where(cache >= 0, dout, 0.0)
        """), *RELU_TESTS),
    "relu-kink-half": ("relu-kink-convention", reference_with("""
        def relu_backward(dout, cache):
            return np.where(cache > 0, dout, np.where(cache == 0, 0.5 * dout, 0.0))
        """), *RELU_TESTS),
    "relu-backward-ignores-upstream": ("relu-backward-ignores-upstream", reference_with("""
        def relu_backward(dout, cache):
            return (cache > 0).astype(np.float64)
        """), *RELU_TESTS),
    "relu-backward-ignores-upstream-geq": ("relu-backward-ignores-upstream", reference_with("""
        def relu_backward(dout, cache):
            return np.where(cache >= 0, 1.0, 0.0)
        """), *RELU_TESTS),
    "relu-backward-passes-upstream": ("relu-backward-passes-upstream", reference_with("""
        def relu_backward(dout, cache):
            return dout.copy()
        """), *RELU_TESTS),
    "tanh-derivative-at-input": ("tanh-derivative-at-input", reference_with("""
        def tanh_forward(x):
            return np.tanh(x), x
        def tanh_backward(dout, cache):
            return dout * (1.0 - cache ** 2)
        """), *TANH_TESTS),
    "tanh-backward-ignores-upstream": ("tanh-backward-ignores-upstream", reference_with("""
        def tanh_backward(dout, cache):
            return 1.0 - cache ** 2
        """), *TANH_TESTS),
    "tanh-derivative-sign": ("tanh-derivative-sign", reference_with("""
        def tanh_backward(dout, cache):
            return dout * (1.0 + cache ** 2)
        """), *TANH_TESTS),
    "tanh-derivative-sign-negated": ("tanh-derivative-sign", reference_with("""
        def tanh_backward(dout, cache):
            return dout * (cache ** 2 - 1.0)
        """), *TANH_TESTS),
    "tanh-overflow-forward": ("tanh-overflow", reference_with("""
        def tanh_forward(x):
            out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
            return out, out
        """), *LARGE_TESTS),
    "tanh-overflow-backward": ("tanh-overflow", reference_with("""
        def tanh_forward(x):
            return np.tanh(x), x
        def tanh_backward(dout, cache):
            return dout / np.cosh(cache) ** 2
        """), *LARGE_TESTS),
}

SUBMISSIONS = {
    "reference": SOLUTION,
    "different": DIFFERENT,
    "stateful": STATEFUL,
    "in-place": IN_PLACE,
    **TRIVIAL,
    **TRIVIAL_BACKWARD,
    **{f"mistake-{name}": case[1] for name, case in MISTAKES.items()},
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """Every submission above graded in one batch: ``{name: the activations exercise}``."""
    root = tmp_path_factory.mktemp("activations")
    paths = []
    for name, source in SUBMISSIONS.items():
        folder = root / "submissions" / name
        folder.mkdir(parents=True)
        (folder / "activations.py").write_text(source, encoding="utf-8")
        paths.append(folder)
    out = root / "reports"
    graded = api.grade(paths, out, jobs=2, assignment="networks", exercise=EXERCISE,
                       discover=False)
    found = {}
    for summary in graded.summaries:
        report = store.load(Path(summary.report_path))  # validated against the schema
        (exercise,) = [e for e in report["exercises"] if e["name"] == EXERCISE]
        found[Path(report["submission"]["path"]).name] = exercise
    assert set(found) == set(SUBMISSIONS)
    return found


def by_name(exercise: dict) -> dict[str, dict]:
    return {test["name"]: test for test in exercise["tests"]}


def test_the_exercise_is_declared_as_briefed():
    declared = contract.exercise(EXERCISE)
    assert (declared.assignment, declared.order, declared.points) == ("networks", 2, 30)
    assert sum(PUBLIC_TESTS.values()) == 15 and sum(HIDDEN_TESTS.values()) == 15
    opaque = {f.name: f.opaque_results for f in declared.functions}
    assert opaque == {"relu_forward": (1,), "relu_backward": (), "tanh_forward": (1,),
                      "tanh_backward": ()}


def test_the_reference_earns_full_marks_on_every_test(reports):
    exercise = reports["reference"]
    assert (exercise["score"], exercise["max_score"]) == (30, 30)
    tests = by_name(exercise)
    assert set(tests) == set(PUBLIC_TESTS) | set(HIDDEN_TESTS)
    for name, test in tests.items():
        points = PUBLIC_TESTS.get(name, HIDDEN_TESTS.get(name))
        assert (test["status"], test["score"], test["max_score"]) == ("passed", points, points)
        assert test["visibility"] == ("visible" if name in PUBLIC_TESTS else "hidden")


def test_a_correct_but_different_implementation_earns_full_marks(reports):
    exercise = reports["different"]
    failed = {n: t["message"] for n, t in by_name(exercise).items() if t["status"] != "passed"}
    assert failed == {}
    assert exercise["score"] == 30


@pytest.mark.parametrize("name", sorted(TRIVIAL))
def test_trivial_code_earns_nothing_anywhere(reports, name):
    exercise = reports[name]
    assert exercise["score"] == 0
    for test in exercise["tests"]:
        assert test["score"] == 0 and test["status"] != "passed", test["name"]
    if name == "stub":
        assert {t["status"] for t in exercise["tests"]} == {"not_implemented"}


@pytest.mark.parametrize("name", sorted(TRIVIAL_BACKWARD))
def test_a_trivial_backward_earns_nothing_on_the_backward_tests(reports, name):
    tests = by_name(reports[name])
    for test_name in BACKWARD_TESTS:
        assert tests[test_name]["score"] == 0, test_name
    for test_name in set(tests) - BACKWARD_TESTS:  # the forward passes are the reference's
        assert tests[test_name]["status"] == "passed", test_name


def test_module_level_state_fails_only_the_cache_tests(reports):
    tests = by_name(reports["stateful"])
    failed = {n for n, t in tests.items() if t["status"] != "passed"}
    assert failed == {"test_relu_backward_uses_its_own_cache",
                      "test_tanh_backward_uses_its_own_cache"}
    assert reports["stateful"]["score"] == 26


def test_writing_into_dout_fails_the_inputs_check(reports):
    tests = by_name(reports["in-place"])
    failed = {n for n, t in tests.items() if t["status"] != "passed"}
    assert failed == {"test_relu_backward_matches_reference"}
    assert "changed its argument" in tests["test_relu_backward_matches_reference"]["message"]


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_is_named_on_a_public_and_a_hidden_test(reports, name):
    mistake, _, public, hidden = MISTAKES[name]
    tests = by_name(reports[f"mistake-{name}"])
    assert public in PUBLIC_TESTS and hidden in HIDDEN_TESTS
    for test_name in (public, hidden):
        test = tests[test_name]
        assert test["status"] == "failed" and test["score"] == 0, test_name
        assert test["misconception"] == mistake, (test_name, test["message"])
        assert test["hint"], test_name
    # No failing test names another mistake.
    named = {t["misconception"] for t in tests.values() if t["misconception"]}
    assert named == {mistake}
