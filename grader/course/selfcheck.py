"""A student's self-check: the public tests on their own ``exercises/``, read aloud."""

from __future__ import annotations

from pathlib import Path

import click

from grader import api
from grader.api import UnknownExercise
from grader.contract import EXERCISE_NAMES
from grader.grading.submission import load
from grader.reports.results import SubmissionReport

MARKS = {"passed": ("ok", "green"), "partial": ("..", "yellow"), "failed": ("xx", "red"),
         "not_implemented": ("--", "blue"), "missing": ("??", "magenta")}


def check(path: Path, exercise: str | None = None) -> SubmissionReport:
    """Grade ``path`` with the public tests only, in the same isolated worker as grading."""
    if exercise is not None and exercise not in EXERCISE_NAMES:
        raise UnknownExercise(exercise, EXERCISE_NAMES)
    # A wrong --path (or running it in the wrong folder) is a usage error, one line and
    # exit 2, not a report that says "could not check".
    load(path)
    # A student checks their own code on their own machine: nothing to protect from it.
    graded = api.grade([path], None, isolation="auto", accept_weak_isolation=True,
                       public_only=True, exercise=exercise, discover=False)
    assert graded.reports is not None  # graded in memory
    return graded.reports[0]


def render(report: SubmissionReport, color: bool) -> str:
    """The self-check's text: a line per exercise, then each failed test's message and hint."""
    def paint(text: str, fg: str, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

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
            lines.append(f"     {paint(test.status, 'red')} {test.name}: {test.message}")
            if test.hint:
                lines.append(f"       {paint('hint:', 'cyan')} {test.hint}")
    total = (f"public tests: {report.score:g}/{report.max_score:g} points "
             "(hidden tests are graded after the deadline)")
    lines.append(paint(total, "green" if report.score == report.max_score else "yellow", bold=True))
    return "\n".join(lines)
