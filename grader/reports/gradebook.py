"""The gradebook: one CSV row per student from a folder of JSON reports.

Columns: ``id``, one per exercise (its points), ``total``, ``max``, ``status``; rows
sorted by id. Every report is validated first: a gradebook is never built from a
file that is not one. A submission that could not be graded has empty exercise
cells, a total of 0 out of the course's maximum, and the status ``failed``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.contract import EXERCISE_NAMES, MAX_SCORE
from grader.errors import DuplicateReport, NoReports, NoSuchPath
from grader.reports import store

COLUMNS = ("id", *EXERCISE_NAMES, "total", "max", "status")


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


def row(report: dict) -> dict[str, str]:
    scores = {e["name"]: e["score"] for e in report["exercises"]}
    graded = report["status"] == "graded"
    return {
        "id": report["submission"]["id"],
        **{name: number(scores[name]) if name in scores else "" for name in EXERCISE_NAMES},
        "total": number(report["score"]),
        "max": number(report["max_score"] if graded else MAX_SCORE),
        "status": report["status"],
    }


def rows(reports_dir: Path) -> list[dict[str, str]]:
    """One row per report in ``reports_dir``, sorted by id; InvalidReport on a bad one."""
    seen: dict[str, Path] = {}
    out = []
    for path in report_paths(reports_dir):
        data = store.load(path)
        submission_id = data["submission"]["id"]
        if submission_id in seen:
            raise DuplicateReport(submission_id, (seen[submission_id], path))
        seen[submission_id] = path
        out.append(row(data))
    return sorted(out, key=lambda r: r["id"])


def to_csv(table: list[dict[str, str]]) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return stream.getvalue()
