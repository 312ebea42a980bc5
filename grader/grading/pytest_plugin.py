"""pytest as the grading language: markers, fixtures, and one result per test.

The autotests load this plugin from their conftest. It registers the markers
``points(n)``, ``hidden`` and ``hint(text, ...)``, provides the fixtures ``student`` (the
submission, called through its worker), ``reference`` (the solutions, for hidden
tests only) and ``rng`` (seeded per test), and turns every test's outcome into a
:class:`grader.reports.results.TestResult` for the current submission.

Run by hand: ``pytest --pyargs autotests --submission PATH`` grades one submission
with pytest's own output. The grader's runner drives the same tests for a batch.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
import types
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import contract
from grader.grading.compare import GradeFailure
from grader.grading.memo import memoized
from grader.grading.student import Student, StudentFailure, StudentSession
from grader.reports.results import TestResult
from grader.sandbox.client import Reply
from grader.sandbox.isolation import Isolation, choose
from grader.sandbox.limits import Limits


@dataclass
class GradingState:
    """What the plugin knows while grading: the current submission and its results."""

    limits: Limits = field(default_factory=Limits)
    isolation: Isolation = field(default_factory=lambda: Isolation("basic"))
    # In a batch nobody reads pytest's tracebacks: failures get a one-line report.
    brief_reports: bool = False
    session: StudentSession | None = None
    results: list[tuple[str, TestResult]] = field(default_factory=list)  # (exercise, result)
    # The results that failed for their module's sake (it could not be read or imported):
    # (index in results, module, the test's place among the collected tests, what the
    # others say).
    module_failures: list[tuple[int, str, int, str]] = field(default_factory=list)

    def begin(self, session: StudentSession) -> None:
        self.session = session
        self.results = []
        self.module_failures = []

    def finish(self) -> tuple[list[tuple[str, TestResult]], list[dict]]:
        """The results of the submission just graded, and what its worker was refused."""
        integrity = []
        if self.session is not None:
            self.session.close()
            integrity = self.session.integrity
        self.session = None
        results, self.results = self.results, []
        once_per_module(results, self.module_failures)
        self.module_failures = []
        return results, integrity


def once_per_module(results: list[tuple[str, TestResult]],
                    failures: list[tuple[int, str, int, str]]) -> None:
    """A module that could not be read or imported is explained once, on its first test in
    the autotests' order; its other tests say briefly that they did not run (in place)."""
    first: dict[str, int] = {}
    for index, module, _at, _said in sorted(failures, key=lambda f: f[2]):
        first.setdefault(module, index)
    for index, module, _, unrun in failures:
        if first[module] != index:
            exercise, result = results[index]
            details = {k: v for k, v in result.details.items() if k not in ("traceback", "where")}
            results[index] = (exercise, dataclasses.replace(result, message=unrun,
                                                            details=details))


STATE = pytest.StashKey[GradingState]()


def state(config: pytest.Config) -> GradingState:
    if STATE not in config.stash:
        config.stash[STATE] = _state_from_options(config)
    return config.stash[STATE]


def _state_from_options(config: pytest.Config) -> GradingState:
    """For ``pytest --submission PATH`` run by hand: grade that one submission."""
    from grader.grading import submission as loader

    # By hand, for writing autotests, not for credit: whatever isolation the machine has.
    graded = GradingState(isolation=choose("auto", accept_weak=True)[0])
    path = config.getoption("submission") or "exercises"
    graded.begin(StudentSession(loader.load(Path(path)), graded.limits, graded.isolation))

    def finish() -> None:  # closes the worker; by hand, pytest's own output is the report
        graded.finish()

    config.add_cleanup(finish)
    return graded


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-lab")
    group.addoption("--submission", default=None,
                    help="The submission to grade (default: ./exercises).")
    group.addoption("--public-only", action="store_true", default=False,
                    help="Run only the public tests, as a student's self-check does.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): the points this test is worth")
    config.addinivalue_line(
        "markers",
        "hidden: an instructor-only test; students never see its inputs or expected values")
    config.addinivalue_line(
        "markers", "hint(text, ...): what to tell a student whose code fails this test; "
                   "further texts are later steps, which grader check shows one by one to a "
                   "student whose code keeps failing it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("public_only"):
        hidden = [item for item in items if item.get_closest_marker("hidden")]
        if hidden:
            config.hook.pytest_deselected(items=hidden)
            items[:] = [item for item in items if not item.get_closest_marker("hidden")]


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Student:
    session = state(request.config).session
    if session is None:
        raise RuntimeError("no submission is being graded")
    session.transcript = []
    return Student(session)


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    """The reference solutions' functions by name, memoized per process; hidden tests only."""
    if request.node.get_closest_marker("hidden") is None:
        raise RuntimeError("a public test may not use the reference solutions")
    functions = reference_functions()
    if functions is None:
        pytest.skip("the reference solutions are not installed here")
    return functions


@functools.cache
def reference_functions() -> types.SimpleNamespace | None:
    functions = {}
    for exercise in contract.exercises():
        try:
            module = importlib.import_module(f"solutions.{exercise.name}")
        except ImportError:
            return None
        for function in exercise.functions:
            functions[function.name] = memoized(getattr(module, function.name))
    return types.SimpleNamespace(**functions)


DETAILS = pytest.StashKey[dict]()


@pytest.fixture
def details(request: pytest.FixtureRequest) -> dict:
    """A dict a test fills with data for the report (a loss curve), kept even when it passes."""
    request.node.stash[DETAILS] = {}
    return request.node.stash[DETAILS]


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the test's name: the same inputs every run, per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


# -- outcomes -----------------------------------------------------------------------


def exercise_of_item(item: pytest.Item) -> str:
    return item.path.stem.removeprefix("test_")  # the test module's name: test_<exercise>


@dataclass(frozen=True)
class TestInfo:
    """What a test's result says of the test itself: its name and its marks."""

    __test__ = False  # a class named Test*, imported into test modules: not a test class

    nodeid: str
    name: str
    points: float  # its points(n) mark; 0 without one
    hint: str      # the first text of its hint(text, ...) mark; "" without one
    hidden: bool
    hints: tuple[str, ...] = ()  # every text of its hint mark: the hint in steps

    @classmethod
    def of(cls, item: pytest.Item) -> TestInfo:
        points = item.get_closest_marker("points")
        hint = item.get_closest_marker("hint")
        hints = tuple(str(text) for text in hint.args) if hint else ()
        return cls(nodeid=item.nodeid, name=item.name,
                   points=float(points.args[0]) if points else 0.0,
                   hint=hints[0] if hints else "", hints=hints,
                   hidden=item.get_closest_marker("hidden") is not None)


def result_of(test: TestInfo, error: BaseException | None, transcript: Sequence[Reply],
              filled_in: dict) -> TestResult:
    """The result of one test, from the exception its call ended with (None: it passed), the
    replies of its calls and what it put in its ``details`` fixture.

    Only a failed test gets the test's hint (with every step of it in ``details["hints"]``
    when it has several): an error, a timeout or a crash is not the mistake the hint is
    about. An error in the student's code keeps its place in ``details["where"]``.
    """
    common: dict[str, Any] = {
        "name": test.name,
        "max_score": test.points,
        "visibility": "hidden" if test.hidden else "visible",
    }
    details = _transcript_details(transcript)
    details.update(filled_in)
    if error is None:
        return TestResult(status="passed", details=details, **common)
    if isinstance(error, StudentFailure):
        failure = error.failure
        message = failure.message
        if failure.traceback:
            details["traceback"] = failure.traceback
            where = student_place(failure.traceback)
            if where is not None and failure.status == "error":
                details["where"] = where
                # A SyntaxError's own "(mse.py, line 2)": the place says it, and more.
                message = re.sub(r" \([\w.]+\.py, line \d+\)$", "", message)
        return TestResult(status=failure.status, message=message, details=details, **common)
    if len(test.hints) > 1 and not (isinstance(error, GradeFailure) and error.hint):
        details["hints"] = list(test.hints)
    if isinstance(error, GradeFailure):
        details.update(error.details)
        return TestResult(status="failed", message=error.message,
                          hint=error.hint or test.hint, misconception=error.misconception,
                          details=details, **common)
    if isinstance(error, (AssertionError, pytest.fail.Exception)):
        message = str(error).strip().splitlines()[0] if str(error).strip() else "wrong result"
        return TestResult(status="failed", message=message, hint=test.hint,
                          details=details, **common)
    details.pop("hints", None)
    details["grader_exception"] = f"{type(error).__name__}: {error}"
    return TestResult(status="error",
                      message=f"the result could not be checked ({type(error).__name__}: {error})",
                      details=details, **common)


# A frame of a traceback as Python prints it, with the line of source that follows it.
FRAME = re.compile(r'^  File "(?P<path>[^"\n]{0,4000})", line (?P<line>\d{1,9})'
                   r'(?:, in (?P<function>[^\n]{0,200}))?\n(?:    (?P<source>[^\n]*)\n)?', re.M)
EXERCISE_FILE = re.compile(r"(?:^|/)exercises/(\w+)\.py$")


def student_place(traceback: str) -> dict | None:
    """The last frame of a traceback (as the worker keeps it) that is in one of the student's
    exercise modules: ``{"file", "line", "function", "source"}``, or None."""
    place = None
    for frame in FRAME.finditer(traceback):
        module = EXERCISE_FILE.search(frame["path"])
        if module is None or module[1] not in contract.exercise_names():
            continue
        place = {"file": f"exercises/{module[1]}.py", "line": int(frame["line"]),
                 "function": frame["function"] or "",
                 "source": (frame["source"] or "").strip()[:200]}
    return place


def _transcript_details(transcript: Sequence[Reply]) -> dict:
    details: dict = {}
    warnings = [w for reply in transcript for w in reply.warnings]
    if warnings:
        details["warnings"] = warnings[:10]
    output = "".join(reply.output for reply in transcript)
    dropped = sum(reply.output_dropped for reply in transcript)
    if output:
        details["output"] = output[:4000]
    if dropped:
        details["output_note"] = f"{dropped} more characters of output were cut"
    return details


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In a batch, a failure's report without the traceback pytest would format (~30 ms)."""
    graded = item.config.stash.get(STATE, None)
    if (graded is None or not graded.brief_reports or call.excinfo is None
            or call.when == "collect"  # never, in a test's phases (TestReport has no such when)
            or isinstance(call.excinfo.value, pytest.skip.Exception)):
        return None
    error = call.excinfo.value
    return pytest.TestReport(
        nodeid=item.nodeid, location=item.location, keywords={k: 1 for k in item.keywords},
        outcome="failed", longrepr=f"{type(error).__name__}: {error}"[:2000], when=call.when,
        duration=call.duration, start=call.start, stop=call.stop,
        user_properties=item.user_properties)


@pytest.hookimpl(wrapper=True, specname="pytest_runtest_makereport")
def pytest_runtest_makereport_record(item: pytest.Item, call: pytest.CallInfo):
    """Every test's outcome, as a TestResult of the current submission."""
    report = yield
    graded = item.config.stash.get(STATE, None)
    if graded is None or graded.session is None:
        return report
    transcript = graded.session.transcript
    if call.when == "call" or (call.when == "setup" and report.failed):
        error = call.excinfo.value if call.excinfo is not None else None
        result = result_of(TestInfo.of(item), error, transcript, item.stash.get(DETAILS, {}))
        graded.results.append((exercise_of_item(item), result))
        if isinstance(error, StudentFailure) and error.module is not None:
            items = item.session.items
            position = items.index(item) if item in items else len(items)
            graded.module_failures.append((len(graded.results) - 1, error.module, position,
                                           error.unrun))
    return report
