"""The gradebook: one CSV row per student from a folder of JSON reports.

Columns: ``id``, one per exercise (its points), ``total``, ``max``, ``status``; rows
sorted by id. The exercises are those of the assignment the reports were graded for:
every exercise of each assignment that a graded report holds one of (the course's
first assignment when none was graded). Every report is validated first: a gradebook is
never built from a file that is not one. A submission that could not be graded has
empty exercise cells, a total of 0 out of the assignment's maximum, and the status
``failed``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader import contract
from grader.errors import DuplicateReport, NoReports, NoSuchPath
from grader.reports import store


@dataclass(frozen=True)
class Gradebook:
    exercises: tuple[str, ...]
    max_score: float
    rows: tuple[dict[str, str], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return ("id", *self.exercises, "total", "max", "status")


def number(value: float) -> str:
    """A score as a person writes it: 10, 2.5, never 10.0."""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def report_paths(reports_dir: Path) -> list[Path]:
    """The reports in ``reports_dir``: its ``*.json``, without the writers' temporary files."""
    reports_dir = Path(reports_dir)
    if not reports_dir.exists():
        raise NoSuchPath(reports_dir)
    if not reports_dir.is_dir():
        raise NoReports(reports_dir)
    paths = sorted(p for p in reports_dir.glob("*.json") if not p.name.startswith("."))
    if not paths:
        raise NoReports(reports_dir)
    return paths


def row(report: dict, exercises: tuple[str, ...], max_score: float) -> dict[str, str]:
    scores = {e["name"]: e["score"] for e in report["exercises"]}
    graded = report["status"] == "graded"
    return {
        "id": report["submission"]["id"],
        **{name: number(scores[name]) if name in scores else "" for name in exercises},
        "total": number(report["score"]),
        "max": number(report["max_score"] if graded else max_score),
        "status": report["status"],
    }


def graded_for(reports: list[dict]) -> tuple[str, ...]:
    """The assignments the reports' exercises belong to, in course order."""
    seen = {e["name"] for report in reports for e in report["exercises"]}
    found = tuple(a for a in contract.assignments()
                  if seen & set(contract.exercise_names(a)))
    return found or contract.assignments()[:1]


def read(reports_dir: Path) -> list[dict]:
    """Every report in ``reports_dir``, validated, in file-name order: InvalidReport on a
    bad one, DuplicateReport when two share an id."""
    seen: dict[str, Path] = {}
    reports = []
    for path in report_paths(reports_dir):
        data = store.load(path)
        submission_id = data["submission"]["id"]
        if submission_id in seen:
            raise DuplicateReport(submission_id, (seen[submission_id], path))
        seen[submission_id] = path
        reports.append(data)
    return reports


def build(reports_dir: Path) -> Gradebook:
    """One row per report in ``reports_dir``, sorted by id; InvalidReport on a bad one."""
    reports = read(reports_dir)
    assignments = graded_for(reports)
    exercises = tuple(name for a in assignments for name in contract.exercise_names(a))
    max_score = sum(contract.max_score(a) for a in assignments)
    table = sorted((row(r, exercises, max_score) for r in reports), key=lambda r: r["id"])
    return Gradebook(exercises, max_score, tuple(table))


def to_csv(book: Gradebook) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=book.columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(book.rows)
    return stream.getvalue()
