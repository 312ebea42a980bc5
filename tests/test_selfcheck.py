"""``grader check`` beyond the public tests: the gradient helpers a student may call, the
examples of their docstrings (run in a worker, never here), errors with their place in the
student's file, a broken module explained once, hints in steps, and ``--plot``.

Every student function runs in a real worker (isolation basic where the test picks it).
"""

from __future__ import annotations

import dataclasses
import doctest
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from exercises import provided
from exercises.provided import GENDER_X, numerical_gradient, rel_error
from grader.cli import main
from grader.course import selfcheck
from grader.grading.pytest_plugin import STATE
from grader.grading.submission import load
from grader.reports import render, results
from grader.reports.results import (
    ExerciseResult,
    GraderInfo,
    SubmissionInfo,
    SubmissionReport,
    to_dict,
)
from grader.sandbox.client import WorkerClient, WorkerDied
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from tests.conftest import ROOT, reference_sources

BASIC = Isolation("basic")


def exercises_folder(tmp_path: Path, sources: dict[str, str]) -> Path:
    folder = tmp_path / "exercises"
    folder.mkdir()
    for module, source in sources.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder


def line_of(source: str, text: str) -> int:
    """The line number (from 1) of the last line of ``source`` that holds ``text``."""
    return max(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def results_in(report: SubmissionReport, exercise: str) -> list[results.TestResult]:
    return list(next(e for e in report.exercises if e.name == exercise).tests)


# -- the helpers of exercises/provided.py -------------------------------------------------


def test_numerical_gradient_of_known_functions_leaves_x_as_it_was():
    """Does numerical_gradient give 2x for sum(x^2), 2 X^T X W for a loss of W read from
    outside and cos for sin, in the shape of x, with x unchanged after (even when f raises)?"""
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v ** 2), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert np.allclose(grad, 2 * x, rtol=0, atol=1e-8)
    assert np.array_equal(x, before)

    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))
    grad = numerical_gradient(lambda _: np.sum((X @ W) ** 2), W)  # f reads W itself
    assert rel_error(grad, 2 * X.T @ X @ W) < 1e-7

    z = np.linspace(-3.0, 3.0, 7)
    assert rel_error(numerical_gradient(lambda v: np.sum(np.sin(v)), z), np.cos(z)) < 1e-8

    def fails(v):
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        numerical_gradient(fails, x)
    assert np.array_equal(x, before)


def test_numerical_gradient_says_what_it_needs():
    """Are a list, a read-only array and an f that returns an array each refused clearly?"""
    with pytest.raises(TypeError, match="float64 numpy array"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(np.sum, GENDER_X)
    with pytest.raises(ValueError, match="single number"):
        numerical_gradient(lambda v: v * 2, np.ones(3))


def test_rel_error_values():
    """Is rel_error the largest |a - b| / max(1e-8, |a| + |b|), a float, shapes checked?"""
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.000002])) == pytest.approx(
        2e-6 / 4.000002)
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)  # the floor 1e-8
    assert rel_error(np.array([0.0, 1.0]), np.array([0.0, -1.0])) == 1.0
    assert type(rel_error(np.zeros(2), np.ones(2))) is float
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.ones(2), np.ones(3))


def test_the_helpers_examples_pass_and_are_exported():
    """Do provided.py's own docstring examples pass, and does __all__ name the helpers?"""
    failed, tried = doctest.testmod(provided)
    assert failed == 0 and tried >= 8
    assert {"numerical_gradient", "rel_error"} <= set(provided.__all__)


# -- the examples, in a worker ------------------------------------------------------------

EXAMPLES = '''"""Examples of every kind.

>>> 1 + 1
2
"""

import numpy as np


def mse_loss(y_true, y_pred):
    """Wrong on purpose.

    >>> print(mse_loss(np.zeros(2), np.ones(2)))
    1.0
    >>> print("after")
    before
    """
    return 2.0


def helper(x):
    return 1 / x


def mse_grad(y_true, y_pred):
    """Raises in a helper.

    >>> mse_grad(0, 0)
    1
    """
    return helper(y_pred)


def stub():
    """Not written yet.

    >>> stub()
    3
    """
    raise NotImplementedError
'''


def test_the_worker_runs_the_examples_and_reports_each_kind_of_failure():
    """Does the doctest operation report a wrong output (line, expected, got), an exception
    (with the student's file and line) and a stub (not implemented, not a failure), with the
    later failures of a docstring counted, and nothing refused by the guard?"""
    worker = WorkerClient({"mse": EXAMPLES}, Limits(), BASIC)
    try:
        found = selfcheck.examples_of("mse", worker.doctest("mse"))
        refused = worker.refusals
    finally:
        worker.close()
    assert found.problem == "" and found.run == 5
    by_name = {f.name: f for f in found.failures}
    assert set(by_name) == {"mse_loss", "mse_grad", "stub"}
    wrong = by_name["mse_loss"]
    assert (wrong.status, wrong.expected, wrong.got, wrong.then) == ("failed", "1.0\n", "2.0\n", 1)
    assert wrong.line == line_of(EXAMPLES, ">>> print(mse_loss(")
    assert wrong.source == "print(mse_loss(np.zeros(2), np.ones(2)))\n"
    raised = by_name["mse_grad"]
    assert raised.status == "error" and raised.got.startswith("ZeroDivisionError")
    assert f"exercises/mse.py, line {line_of(EXAMPLES, 'return 1 / x')}, in helper" in raised.got
    assert (by_name["stub"].status, by_name["stub"].got) == ("not_implemented",
                                                             "stub is not implemented yet")
    assert found.failed == 4
    assert refused == []  # doctest's pdb and readline are not the student's doing

    text = "\n".join(selfcheck.render_examples(found, lambda text, *a, **k: text))
    assert "4 of 5 examples failed" in text and "not implemented yet: stub" in text
    assert f"exercises/mse.py, line {wrong.line}, in mse_loss:" in text
    assert "expected: 1.0" in text and "got:      2.0" in text and "raised:   ZeroDivision" in text


def test_an_example_that_hangs_costs_its_module_only():
    """Does an example that never ends time out, and the worker's answer say so, in words?"""
    hangs = 'def mse_loss(y_true, y_pred):\n    """\n    >>> mse_loss(1, 2)\n    """\n' \
            '    while True:\n        pass\n'
    worker = WorkerClient({"mse": hangs}, Limits(wall_seconds=0.5, cpu_seconds=0.5), BASIC)
    try:
        with pytest.raises(WorkerDied) as died:
            worker.doctest("mse")
    finally:
        worker.close()
    found = selfcheck.examples_of("mse", died.value.failure)
    assert died.value.failure.status == "timeout"
    assert found.problem.startswith("could not be run: ") and "0.5 s" in found.problem


def test_a_malformed_answer_about_examples_is_checked_field_by_field():
    """Is whatever the worker sends back about examples capped and typed before use?"""
    from grader.sandbox.client import Reply

    bad = selfcheck.examples_of("mse", Reply(value={"examples": "5", "failures": []}))
    assert bad.problem.endswith("malformed") and not bad.failures
    record = {"name": 3, "line": -2, "status": "evil", "source": "x" * 10**5, "got": "g",
              "then": -7}
    value = {"examples": 2, "failures": [record, "junk"] * 20, "dropped": 10**9}
    found = selfcheck.examples_of("mse", Reply(value=value))
    assert len(found.failures) == 10  # the first 20 records, of which 10 are dicts
    first = found.failures[0]
    assert (first.name, first.line, first.status, first.then) == ("", None, "failed", 0)
    assert len(first.source) <= selfcheck.MAX_EXAMPLE_CHARS and first.expected == ""
    assert found.dropped == 10**6 + 20


WRONG_EXAMPLE = '''

def sigmoid_grad(z):
    """Right, but its example is not.

    >>> print(sigmoid_grad(0.0))
    0.3
    """
    s = sigmoid(z)
    return s * (1 - s)
'''


def test_check_reports_a_failing_example_which_changes_neither_score_nor_exit_code(tmp_path):
    """Does ``grader check`` show a wrong example with its line, expected and got, after the
    tests, while every public test passes and the exit code stays 0?"""
    sources = reference_sources()
    sources["sigmoid"] += WRONG_EXAMPLE
    path = exercises_folder(tmp_path, {"sigmoid": sources["sigmoid"]})
    result = selfcheck.check(path, "sigmoid", isolation="basic")
    assert result.report.score == result.report.max_score > 0
    found = {m.module: m for m in result.examples}
    assert list(found) == ["sigmoid"]
    failure = next(f for f in found["sigmoid"].failures if f.name == "sigmoid_grad")
    line = line_of(sources["sigmoid"], ">>> print(sigmoid_grad(0.0))")
    assert (failure.line, failure.expected, failure.got) == (line, "0.3\n", "0.25\n")
    text = selfcheck.render(result, color=False)
    tests_end = text.index("public tests:")
    assert text.index("examples in your docstrings (not graded") > tests_end
    assert f"exercises/sigmoid.py, line {line}, in sigmoid_grad:" in text
    assert ">>> print(sigmoid_grad(0.0))" in text and "expected: 0.3" in text
    assert "got:      0.25" in text

    run = CliRunner().invoke(main, ["check", "sigmoid", "--path", str(path)])
    assert run.exit_code == 0, run.output
    assert f"exercises/sigmoid.py, line {line}, in sigmoid_grad:" in run.stdout


def test_the_stubs_examples_are_not_started_rather_than_failed(tmp_path):
    """Does a folder of untouched stubs list its exercises as not started, once, without a
    single failed example?"""
    path = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", path)
    result = selfcheck.check(path, "sigmoid", isolation="basic")
    text = selfcheck.render(result, color=False)
    assert "not started: sigmoid (their examples run once you write them)" in text
    assert "examples failed" not in text


# -- errors with their place, once per module ---------------------------------------------

RAISES = '''

def _helper(z):
    return z[5]


def sigmoid(z):
    return _helper(z)
'''


def test_an_error_shows_the_students_file_and_line_and_no_unrelated_hint(tmp_path):
    """Does an exception in the student's code say where (their file, line, function and
    source; nothing of the grader) and come without the test's hint?"""
    source = reference_sources()["sigmoid"] + RAISES
    path = exercises_folder(tmp_path, {"sigmoid": source})
    result = selfcheck.check(path, "sigmoid", examples=False, isolation="basic")
    errors = [t for t in results_in(result.report, "sigmoid") if t.status == "error"]
    assert errors
    line = line_of(source, "return z[5]")
    for test in errors:
        assert test.details["where"] == {"file": "exercises/sigmoid.py", "line": line,
                                         "function": "_helper", "source": "return z[5]"}
        assert test.hint == "" and "hints" not in test.details
        assert "sandbox" not in test.details["traceback"]
    place = f"(exercises/sigmoid.py, line {line}, in _helper: `return z[5]`)"
    lines = selfcheck.render(result, color=False).splitlines()
    said = [i for i, text in enumerate(lines) if text.lstrip().startswith("error ")]
    assert said and all(lines[i].endswith(place) for i in said)
    assert not any("hint" in lines[i + 1] for i in said if i + 1 < len(lines))
    for fmt in render.FORMATS:  # the report, as the student reads it
        assert render.describe_place(errors[0].details["where"]) in render.render(
            to_dict(result.report), fmt, "student")


def test_a_syntax_error_is_explained_once_per_module(tmp_path, grade):
    """Does a module that does not import say so on its first test (file, line, source line)
    and 'not run' on the others, in ``grader check`` and in the graded report alike?"""
    broken = "import numpy as np\n\n\ndef mse_loss(y_true, y_pred)\n    return 0.0\n"
    sources = reference_sources()
    sources["mse"] = broken
    path = exercises_folder(tmp_path, sources)
    unrun = "not run: exercises/mse.py did not import (see above)"

    result = selfcheck.check(path, "mse", isolation="basic")
    first, *others = results_in(result.report, "mse")
    assert others and all(t.message == unrun and "traceback" not in t.details for t in others)
    assert first.message.startswith("importing mse.py failed: SyntaxError")
    assert first.details["where"] == {"file": "exercises/mse.py", "line": 4, "function": "",
                                      "source": "def mse_loss(y_true, y_pred)"}
    text = selfcheck.render(result, color=False)
    assert text.count("SyntaxError") == 1
    assert "(exercises/mse.py, line 4: `def mse_loss(y_true, y_pred)`)" in text
    assert "mse            did not import (see above)" in text  # the examples' line

    report = grade([path], isolation="basic")["exercises"]
    graded = next(e for e in report["exercises"] if e["name"] == "mse")["tests"]
    assert any(t["visibility"] == "hidden" for t in graded)
    assert [t["message"] == unrun for t in graded] == [False] + [True] * (len(graded) - 1)
    assert "SyntaxError" in graded[0]["message"] and graded[0]["details"]["where"]["line"] == 4
    assert {t["status"] for t in graded} == {"error"}
    assert report["score"] == report["max_score"] - 10  # the other exercises keep theirs


# -- hints in steps -------------------------------------------------------------------------

STEPPED_AUTOTEST = '''
import pytest


@pytest.mark.points(1)
@pytest.mark.hint("the idea", "the next step", "the last step")
def test_sigmoid_in_steps(student):
    assert student.sigmoid(0.0) == 0.25, "sigmoid(0) should be 0.25"


@pytest.mark.points(1)
@pytest.mark.hint("only one")
def test_sigmoid_in_one_step(student):
    assert student.sigmoid(0.0) == 0.25, "sigmoid(0) should be 0.25"


@pytest.mark.points(1)
@pytest.mark.hint("about a wrong value", "not about an error")
def test_sigmoid_raising(student):
    student.sigmoid_grad(0.0)
'''


class Results:
    """A pytest plugin that keeps the plugin's results of the submission graded by hand."""

    def __init__(self) -> None:
        self.results: list = []

    def pytest_sessionfinish(self, session) -> None:
        self.results = list(session.config.stash[STATE].results)


def report_of(results: list) -> SubmissionReport:
    tests = tuple(result for _, result in results)
    return SubmissionReport(SubmissionInfo("me", "exercises", "0" * 64),
                            (ExerciseResult("sigmoid", float(len(tests)), tests),),
                            GraderInfo("0", "3", "1"), {}, 0.0)


def test_hint_steps_advance_with_each_failure_and_stop_at_the_last(tmp_path):
    """With a hint mark of three steps, is the report's hint the first, and does the check
    show step 1, 2, 3, 3 on repeated failures, with a history file it can lose?"""
    sigmoid = ("def sigmoid(z):\n    return 0.5\n\n\n"
               "def sigmoid_grad(z):\n    raise ValueError('no')\n")
    path = exercises_folder(tmp_path, {"sigmoid": sigmoid})
    tests = tmp_path / "autotests"
    tests.mkdir()
    (tests / "test_sigmoid.py").write_text(STEPPED_AUTOTEST, encoding="utf-8")
    (tests / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    capture = Results()
    pytest.main([str(tests), "-c", str(tests / "pytest.ini"), "--rootdir", str(tests), "-q",
                 "-p", "no:cacheprovider", "-p", "grader.grading.pytest_plugin",
                 "--submission", str(path)], plugins=[capture])
    by_name = {result.name: result for _, result in capture.results}
    stepped, single, raising = (by_name["test_sigmoid_in_steps"],
                                by_name["test_sigmoid_in_one_step"],
                                by_name["test_sigmoid_raising"])
    assert (stepped.status, stepped.hint) == ("failed", "the idea")  # instructor's view
    assert stepped.details["hints"] == ["the idea", "the next step", "the last step"]
    assert (single.hint, "hints" in single.details) == ("only one", False)
    assert (raising.status, raising.hint, "hints" in raising.details) == ("error", "", False)

    report = report_of(capture.results)
    history = path / selfcheck.HISTORY
    assert selfcheck.history_file(path) == history
    shown = [selfcheck.hint_steps(report, history)[("sigmoid", "test_sigmoid_in_steps")]
             for _ in range(4)]
    assert shown == [(1, 3), (2, 3), (3, 3), (3, 3)]
    assert selfcheck.read_history(history) == {"sigmoid::test_sigmoid_in_steps": 4}
    steps = selfcheck.hint_steps(report, history)
    assert list(steps) == [("sigmoid", "test_sigmoid_in_steps")]
    text = selfcheck.render(selfcheck.SelfCheck(report, steps), color=False)
    assert "hint 3 of 3: the last step" in text and "the idea" not in text
    assert "hint: only one" in text

    # Once the test passes, its count is gone: the next mistake it catches starts at step 1.
    passed = dataclasses.replace(stepped, status="passed")
    selfcheck.hint_steps(report_of([("sigmoid", passed)]), history)
    assert selfcheck.read_history(history) == {}
    assert selfcheck.hint_steps(report, history)[("sigmoid", "test_sigmoid_in_steps")] == (1, 3)

    history.write_text("{not json", encoding="utf-8")  # unreadable: a fresh start
    assert selfcheck.hint_steps(report, history)[("sigmoid", "test_sigmoid_in_steps")] == (1, 3)
    history.write_text('{"failures": {"sigmoid::test_sigmoid_in_steps": "many"}}')
    assert selfcheck.hint_steps(report, history)[("sigmoid", "test_sigmoid_in_steps")] == (1, 3)
    assert selfcheck.read_history(history) == {"sigmoid::test_sigmoid_in_steps": 1}
    assert sorted(p.name for p in path.iterdir()) == [selfcheck.HISTORY, "sigmoid.py"]


# -- --plot --------------------------------------------------------------------------------


def test_plot_draws_the_reference_training_curve(tmp_path):
    """Does ``grader check --plot`` draw the falling loss of the reference's train?"""
    path = exercises_folder(tmp_path, {"training": reference_sources()["training"]})
    result = selfcheck.check(path, "training", examples=False, plot=True, isolation="basic")
    assert result.plot_problem == "" and result.losses is not None
    assert len(result.losses) > 100 and result.losses[-1] < result.losses[0] / 10
    text = selfcheck.render(result, color=False)
    plot = text[text.index("training loss of your train("):]
    assert "(log scale)" in plot and plot.count("*") >= 60
    assert len(plot.splitlines()) == 2 + 15 + 2  # heading, title, 15 rows, the x axis

    run = CliRunner().invoke(main, ["check", "training", "--path", str(path), "--plot"])
    assert run.exit_code == 0 and "(log scale)" in run.stdout, run.output


def test_plot_draws_the_curve_of_the_first_exercise_checked_that_declares_one(tmp_path):
    """Does ``--plot`` draw mlp's declared curve when mlp is checked, and say so plainly
    when no exercise checked declares one?"""
    sources = reference_sources()
    path = exercises_folder(tmp_path, {name: sources[name]
                                       for name in ("softmax", "activations", "mlp")})
    result = selfcheck.check(path, "mlp", examples=False, plot=True, isolation="basic")
    assert result.plot_problem == "" and result.plot_call.startswith("train_mlp(init_mlp(")
    assert result.losses is not None and result.losses[-1] < result.losses[0] / 10
    assert "training loss of your train_mlp(" in selfcheck.render(result, color=False)
    none = selfcheck.check(path, "softmax", examples=False, plot=True, isolation="basic")
    assert none.losses is None
    assert none.plot_problem == "none of the exercises checked draws a loss curve"


def test_plot_says_when_train_is_not_implemented(tmp_path):
    """Does ``--plot`` on the stub say plainly that train is not implemented yet?"""
    path = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", path)
    result = selfcheck.check(path, "training", examples=False, plot=True, isolation="basic")
    assert result.losses is None
    assert result.plot_problem == "train is not implemented yet: nothing to plot"
    assert "train is not implemented yet" in selfcheck.render(result, color=False)
    assert load(path).sources  # the stubs were read, nothing of them ran here


def test_the_text_plot_scales_and_skips_what_it_cannot_draw():
    """Is the plot logarithmic only for positive losses over a decade, and are non-finite
    losses left out and counted?"""
    falling = list(0.2 * np.exp(-np.arange(200) / 30) + 1e-3)
    assert "(log scale)" in render.loss_curve_text(falling)
    assert "(linear scale)" in render.loss_curve_text([0.3, 0.25, 0.2])
    assert "(linear scale)" in render.loss_curve_text([0.25] * 5)
    text = render.loss_curve_text([0.3, float("nan"), 0.1, float("inf")], width=20, height=5)
    assert "2 of the losses are not finite" in text and len(text.splitlines()) == 1 + 5 + 2
    assert render.loss_curve_text([float("nan")]).startswith("no finite loss to plot")
