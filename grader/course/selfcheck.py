"""A student's self-check: the public tests on their own ``exercises/``, read aloud.

Besides the public tests, ``grader check`` runs the examples of the student's docstrings
(``python -m doctest`` would run the same ones) and, with ``--plot``, draws the loss curve
of their ``train``. Neither counts for points. Both run the student's code in a worker of
their own, exactly as grading does: never in this process.

A test whose hint is written in steps (``@pytest.mark.hint("idea", "next step", ...)``)
shows step k+1 once the student's code has failed it k times in earlier checks; the counts
are kept in ``.grader-check-history.json`` next to the exercises, written atomically and
ignored when unreadable.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np

from grader import api, contract
from grader.grading.pytest_plugin import student_place
from grader.grading.submission import Submission, load
from grader.reports import render as report_render
from grader.reports import store
from grader.reports.results import SubmissionReport
from grader.sandbox.client import Failure, WorkerClient, WorkerDied, cut
from grader.errors import WorkerUnavailable
from grader.sandbox.isolation import Isolation, choose
from grader.sandbox.limits import Limits

MARKS = {"passed": ("ok", "green"), "partial": ("..", "yellow"), "failed": ("xx", "red"),
         "not_implemented": ("--", "blue"), "missing": ("??", "magenta")}
HISTORY = ".grader-check-history.json"
# What of the worker's answer about examples is kept, whatever it sent.
MAX_EXAMPLE_FAILURES = 20
MAX_EXAMPLE_CHARS = 1000
EXAMPLE_STATUSES = ("failed", "error", "not_implemented")


@dataclass(frozen=True)
class ExampleFailure:
    """The first failing example of one docstring."""

    name: str            # the function whose docstring holds it ("" for the module's)
    line: int | None     # its line in the student's file
    source: str
    expected: str
    got: str
    status: str          # failed (wrong output), error (raised) or not_implemented
    then: int = 0        # how many later examples of the same docstring failed too


@dataclass(frozen=True)
class ModuleExamples:
    module: str
    run: int = 0                                # examples run
    failures: tuple[ExampleFailure, ...] = ()
    dropped: int = 0                            # failing docstrings not listed
    problem: str = ""                           # why the examples could not run

    @property
    def failed(self) -> int:
        return len(self.failures) + sum(f.then for f in self.failures) + self.dropped


@dataclass(frozen=True)
class SelfCheck:
    """What ``grader check`` found: the report of the public tests (the only thing scored),
    the hint step to show per failed test, the docstring examples and the loss curve."""

    report: SubmissionReport
    steps: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (k, of n)
    examples: tuple[ModuleExamples, ...] = ()
    losses: list[float] | None = None
    plot_problem: str = ""
    plotted: bool = False  # --plot was asked for
    plot_call: str = ""    # the call whose losses are drawn, as the exercise states it


def check(path: Path, exercise: str | None = None, *, assignment: str = api.ALL,
          examples: bool = True, plot: bool = False, isolation: str = "auto") -> SelfCheck:
    """Grade ``path`` with the public tests only, in the same isolated worker as grading;
    then run its docstring examples (and, with ``plot``, its ``train``) in a worker too.
    Every exercise of the course by default; one ``assignment`` or one ``exercise``."""
    names = api.exercises_to_grade(assignment, exercise)
    # A wrong --path (or running it in the wrong folder) is a usage error, one line and
    # exit 2, not a report that says "could not check".
    submission = load(path)
    # A student checks their own code on their own machine: nothing to protect from it.
    chosen = choose(isolation, accept_weak=True)[0]
    # The worker for the examples starts while the tests run (it costs a fresh interpreter).
    early = None
    if examples or plot:
        early = WorkerClient(submission.sources, Limits(), chosen)
        try:
            early.start(wait=False)
        except (OSError, WorkerUnavailable):
            early.close()
            early = None  # run_in_worker tries again, and says why when it cannot
    try:
        graded = api.grade([path], None, isolation=isolation, accept_weak_isolation=True,
                           public_only=True, assignment=assignment, exercise=exercise,
                           discover=False)
        assert graded.reports is not None  # graded in memory
        report = graded.reports[0]
        result = SelfCheck(report, steps=hint_steps(report, history_file(path)), plotted=plot)
        if report.error is not None or not (examples or plot):
            return result
        modules = [m for m in names if m in submission.sources or m in submission.broken]
        curve, problem = loss_curve(names, submission) if plot else (None, "")
        found, losses, failed = run_in_worker(submission, chosen,
                                              modules if examples else [], curve, early)
    finally:
        if early is not None:
            early.close()
    return SelfCheck(report, result.steps, found, losses, problem or failed, plot,
                     curve[1].call if curve else "")


def loss_curve(names: tuple[str, ...], submission: Submission
               ) -> tuple[tuple[str, contract.LossCurve] | None, str]:
    """The first of the checked exercises that declares a loss curve, or why none is drawn."""
    declared = [(name, contract.exercise(name).loss_curve) for name in names]
    curves = [(name, curve) for name, curve in declared if curve is not None]
    if not curves:
        return None, "none of the exercises checked draws a loss curve"
    for name, curve in curves:
        if name in submission.sources:
            return (name, curve), ""
    return None, f"there is no {curves[0][0]}.py to train with"


# -- hints in steps ----------------------------------------------------------------------


def history_file(path: Path) -> Path:
    """Where the failure counts live: in the exercises folder (beside a single file)."""
    return (path if path.is_dir() else path.parent) / HISTORY


def read_history(file: Path) -> dict[str, int]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    failures = data.get("failures") if isinstance(data, dict) else None
    if not isinstance(failures, dict):
        return {}
    return {key: count for key, count in failures.items() if type(count) is int and count >= 0}


def hint_steps(report: SubmissionReport, file: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """For each failed test whose hint has steps: (the step to show, counted from 1, and how
    many there are); the history file counts this failure too. A test that passes starts
    over: the next mistake it catches is a new one, and gets the first step again."""
    counts = read_history(file)
    before = dict(counts)
    steps = {}
    for exercise in report.exercises:
        for test in exercise.tests:
            key = f"{exercise.name}::{test.name}"
            if test.status == "passed":
                counts.pop(key, None)
            hints = test.details.get("hints")
            if test.status != "failed" or not isinstance(hints, list) or len(hints) < 2:
                continue
            steps[(exercise.name, test.name)] = (min(counts.get(key, 0), len(hints) - 1) + 1,
                                                 len(hints))
            counts[key] = counts.get(key, 0) + 1
    if counts != before:
        with contextlib.suppress(OSError):  # a read-only folder: the first step each time
            store.write_atomic(file, json.dumps({"failures": counts}, indent=1, sort_keys=True))
    return steps


# -- the student's code, in a worker -----------------------------------------------------


def run_in_worker(submission: Submission, isolation: Isolation, modules: list[str],
                  curve: tuple[str, contract.LossCurve] | None,
                  worker: WorkerClient | None = None
                  ) -> tuple[tuple[ModuleExamples, ...], list[float] | None, str]:
    """The examples of ``modules`` and, given a ``curve``, the losses of the student's
    training function (or why there are none), run in ``worker`` or, after it died, in a
    new one."""

    def ask(request):
        nonlocal worker
        if worker is None:
            worker = WorkerClient(submission.sources, Limits(), isolation)
        try:
            return request(worker)
        except WorkerDied as died:  # a hang or a crash: the next request gets a new worker
            worker.close()
            worker = None
            return died.failure
        except (OSError, WorkerUnavailable) as error:
            worker.close()
            worker = None
            return Failure("crashed", f"no worker could be started ({error})")

    found = []
    try:
        for module in modules:
            if module in submission.broken:
                found.append(ModuleExamples(module, problem="could not be read (see above)"))
                continue
            answer = ask(lambda w, m=module: w.doctest(m))
            found.append(examples_of(module, answer))
        losses, problem = None, ""
        if curve is not None:
            module, declared = curve
            losses, problem = losses_of(
                ask(lambda w: w.call(module, declared.function, declared.arguments())),
                declared)
    finally:
        if worker is not None:
            worker.close()
    return tuple(found), losses, problem


def examples_of(module: str, answer) -> ModuleExamples:
    """The worker's answer about a module's examples, checked field by field."""
    if isinstance(answer, Failure) or answer.failure is not None:
        failure = answer if isinstance(answer, Failure) else answer.failure
        if failure.message.startswith(f"importing {module}.py failed"):
            return ModuleExamples(module, problem="did not import (see above)")
        return ModuleExamples(module, problem="could not be run: " + failure.message)
    value = answer.value
    if (not isinstance(value, dict) or type(value.get("examples")) is not int
            or not isinstance(value.get("failures"), list)
            or type(value.get("dropped")) is not int):
        return ModuleExamples(module, problem="could not be run: the worker's answer was malformed")
    failures = []
    for record in value["failures"][:MAX_EXAMPLE_FAILURES]:
        if not isinstance(record, dict):
            continue

        def text(key: str, record=record) -> str:
            item = record.get(key)
            return cut(item, MAX_EXAMPLE_CHARS) if isinstance(item, str) else ""

        line, then, status = record.get("line"), record.get("then"), text("status")
        failures.append(ExampleFailure(
            name=text("name")[:200], source=text("source"), expected=text("expected"),
            got=text("got"), line=line if type(line) is int and 0 < line < 10**8 else None,
            status=status if status in EXAMPLE_STATUSES else "failed",
            then=min(max(then, 0), 10**6) if type(then) is int else 0))
    dropped = min(max(value["dropped"], 0), 10**6)
    dropped += max(0, len(value["failures"]) - MAX_EXAMPLE_FAILURES)
    return ModuleExamples(module, min(max(value["examples"], 0), 10**6), tuple(failures), dropped)


def losses_of(answer, curve: contract.LossCurve) -> tuple[list[float] | None, str]:
    """The losses a training call gave, or what went wrong, in words."""
    if isinstance(answer, Failure) or answer.failure is not None:
        failure = answer if isinstance(answer, Failure) else answer.failure
        if failure.status == "not_implemented":
            return None, f"{curve.function} is not implemented yet: nothing to plot"
        where = student_place(failure.traceback) if failure.traceback else None
        place = f" ({report_render.describe_place(where)})" if where else ""
        return None, f"{curve.call} failed: {failure.message}{place}"
    value = answer.value
    losses = value[1] if type(value) in (tuple, list) and len(value) == 2 else None
    if isinstance(losses, (list, tuple)) and all(type(v) in (float, int) for v in losses):
        losses = np.array(losses, dtype=np.float64)
    if type(losses) is not np.ndarray or losses.ndim != 1 or losses.dtype.kind not in "fiu":
        return None, f"{curve.call} should return (params, losses) with losses a 1-D array"
    if losses.size == 0:
        return None, f"{curve.call} returned no losses"
    return [float(v) for v in losses], ""


# -- what the student reads ----------------------------------------------------------------


def render(result: SelfCheck, color: bool) -> str:
    """The self-check's text: a line per exercise, then each failed test's message and hint;
    then the docstring examples and the loss curve, which are not graded."""
    def paint(text: str, fg: str, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    report = result.report
    if report.error:
        return f"could not check {report.submission.path}: {report.error}"
    lines = []
    for exercise in report.exercises:
        mark, fg = MARKS[exercise.status]
        lines.append(paint(f"[{mark}] {exercise.name:<14} {exercise.score:g}/{exercise.max_score:g}"
                           f"  {exercise.status.replace('_', ' ')}", fg, bold=True))
        if exercise.message:
            lines.append(f"     {exercise.message}")
        for test in exercise.tests:
            if test.status == "passed" or test.status == "not_implemented":
                continue
            message = report_render.message_of({"message": test.message, "details": test.details})
            lines.append(f"     {paint(test.status, 'red')} {test.name}: {message}")
            step = result.steps.get((exercise.name, test.name))
            hints = test.details.get("hints")
            if step is not None and isinstance(hints, list):
                lines.append(f"       {paint(f'hint {step[0]} of {step[1]}:', 'cyan')} "
                             f"{hints[step[0] - 1]}")
            elif test.hint:
                lines.append(f"       {paint('hint:', 'cyan')} {test.hint}")
    total = (f"public tests: {report.score:g}/{report.max_score:g} points "
             "(hidden tests are graded after the deadline)")
    lines.append(paint(total, "green" if report.score == report.max_score else "yellow", bold=True))
    if result.examples:
        lines += ["", paint("examples in your docstrings (not graded; python -m pytest "
                            "--doctest-modules exercises/<name>.py runs them too):", "cyan")]
        # An exercise not started at all is one name on one line, not a list of its stubs.
        stubs = {e.name for e in report.exercises if e.status == "not_implemented"}
        untouched = [found.module for found in result.examples if found.module in stubs
                     and found.failures and not found.dropped and not found.problem
                     and all(f.status == "not_implemented" for f in found.failures)]
        for found in result.examples:
            if found.module not in untouched:
                lines += render_examples(found, paint)
        if untouched:
            lines.append(f"  {paint('--', 'blue')}  not started: {', '.join(untouched)} "
                         "(their examples run once you write them)")
    if result.plotted:
        call = f" {result.plot_call}" if result.plot_call else ""
        lines += ["", paint(f"training loss of your{call}:", "cyan")]
        lines.append(report_render.loss_curve_text(result.losses) if result.losses is not None
                     else f"     {result.plot_problem}")
    return "\n".join(lines)


def render_examples(found: ModuleExamples, paint) -> list[str]:
    """A module's line in the examples section (indented: the ``[ok]`` lines are the tests'),
    then its first failing example per docstring."""
    head = f"{found.module:<14}"
    if found.problem:
        return [f"  {paint('??', 'magenta')}  {head} {found.problem}"]
    if found.run == 0:
        return [f"      {head} no examples"]
    if not found.failures and not found.dropped:
        return [f"  {paint('ok', 'green')}  {head} {found.run} examples pass"]
    absent = [f.got.removesuffix(" is not implemented yet") for f in found.failures
              if f.status == "not_implemented"]
    wrong = [f for f in found.failures if f.status != "not_implemented"]
    if not wrong and not found.dropped:
        passed = found.run - found.failed
        return [f"  {paint('--', 'blue')}  {head} not implemented yet: "
                + ", ".join(dict.fromkeys(absent))
                + (f" (the other {passed} examples pass)" if passed > 0 else "")]
    lines = [f"  {paint('xx', 'red')}  {head} {found.failed} of {found.run} examples failed"]
    if absent:
        lines.append("      not implemented yet: " + ", ".join(dict.fromkeys(absent)))
    for failure in wrong:
        where = f"exercises/{found.module}.py" + (f", line {failure.line}" if failure.line else "")
        lines.append(f"      {where}" + (f", in {failure.name}" if failure.name else "") + ":")
        lines += [f"        {'>>>' if i == 0 else '...'} {line}"
                  for i, line in enumerate(failure.source.rstrip("\n").splitlines()[:6])]
        lines += _block("expected:", failure.expected or "(nothing)")
        lines += _block("raised:" if failure.status == "error" else "got:",
                        failure.got or "(nothing)")
        if failure.then:
            lines.append(f"        ({failure.then} more example(s) of this docstring failed "
                         "after it)")
    if found.dropped:
        lines.append(f"      ({found.dropped} more failing docstring(s) not shown)")
    return lines


def _block(label: str, text: str, width: int = 10, most: int = 8) -> list[str]:
    rows = text.rstrip("\n").splitlines() or [""]
    shown = rows[:most] + ([f"... ({len(rows) - most} more lines)"] if len(rows) > most else [])
    return [f"        {label if i == 0 else '':<{width}}{row}" for i, row in enumerate(shown)]
