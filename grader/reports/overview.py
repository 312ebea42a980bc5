"""The instructor's class overview: what a folder of reports says about the class.

``build`` reads the folder as the gradebook does (every report validated, one per id)
and counts: the score distributions per exercise and overall, the named mistakes by how
many students made them, the tests most often failed, the submissions that could not be
graded and what the sandbox refused. ``render`` writes it as one self-contained HTML
page, Markdown, or JSON that ``schemas/overview.schema.json`` describes.

It is the instructor's view: hidden tests, their hints and the refusals are all in it.
The distributions count graded submissions only: a submission that was never graded has
no score to place, and the page lists it on its own.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import contract
from grader.errors import InvalidOverview
from grader.reports import gradebook, overview_page, results, store

OVERVIEW_VERSION = "1.0"
FORMATS = ("html", "md", "json")
BINS = 10
EXAMPLES = 5  # refused details kept per event: enough to see what was tried


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Distribution:
    max_score: float
    count: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    bins: tuple[Bin, ...]


@dataclass(frozen=True)
class ExerciseScores:
    name: str
    distribution: Distribution


@dataclass(frozen=True)
class NamedMistake:
    id: str
    exercise: str
    hint: str
    count: int
    students: tuple[str, ...]


@dataclass(frozen=True)
class FailedTest:
    name: str
    exercise: str
    visibility: str
    count: int
    out_of: int
    students: tuple[str, ...]


@dataclass(frozen=True)
class NotGraded:
    id: str
    error: str


@dataclass(frozen=True)
class Refusals:
    event: str
    count: int
    submissions: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    assignments: tuple[str, ...]
    max_score: float
    reports: int
    graded: int
    failed: int
    overall: Distribution
    exercises: tuple[ExerciseScores, ...]
    mistakes: tuple[NamedMistake, ...]
    failed_tests: tuple[FailedTest, ...]
    not_graded: tuple[NotGraded, ...]
    integrity: tuple[Refusals, ...]
    # Not ``schema_version``: that key marks a JSON file as a report to whatever scans a
    # folder of them, and an overview is not one.
    overview_version: str = OVERVIEW_VERSION


def build(reports_dir: Path) -> Overview:
    """The overview of the reports in ``reports_dir``; NoReports, InvalidReport or
    DuplicateReport as ``gradebook.build`` raises them."""
    reports = sorted(gradebook.read(reports_dir), key=lambda r: r["submission"]["id"])
    assignments = gradebook.graded_for(reports)
    course = tuple(e for a in assignments for e in contract.exercises(a))
    max_score = sum(contract.max_score(a) for a in assignments)
    graded = [r for r in reports if r["status"] == "graded"]
    place = _exercise_order(tuple(e.name for e in course), graded)
    per_exercise = tuple(
        ExerciseScores(e.name, distribution(
            [x["score"] for r in graded for x in r["exercises"] if x["name"] == e.name],
            e.points))
        for e in course)
    return Overview(
        assignments=assignments, max_score=max_score, reports=len(reports),
        graded=len(graded), failed=len(reports) - len(graded),
        overall=distribution([r["score"] for r in graded], max_score),
        exercises=per_exercise, mistakes=mistakes(graded, place),
        failed_tests=failed_tests(graded, place),
        not_graded=tuple(NotGraded(r["submission"]["id"], r["error"] or "")
                         for r in reports if r["status"] != "graded"),
        integrity=refusals(reports))


def _exercise_order(names: tuple[str, ...], graded: list[dict]) -> dict[str, int]:
    """Each exercise's place: the course's first, then any other a report holds (a report
    of a course since changed) by name, so that ties always break the same way."""
    others = sorted({e["name"] for r in graded for e in r["exercises"]} - set(names))
    return {name: k for k, name in enumerate((*names, *others))}


def distribution(scores: Sequence[float], max_score: float) -> Distribution:
    """``scores`` in BINS equal bins from 0 to ``max_score``, with their statistics."""
    counts = [0] * BINS
    for score in scores:
        # The small allowance puts 7.5 of 25 in the bin that starts at 7.5, not below it.
        k = math.floor(score * BINS / max_score + 1e-9) if max_score > 0 else BINS - 1
        counts[min(max(k, 0), BINS - 1)] += 1
    width = max_score / BINS
    bins = tuple(Bin(round(k * width, 6), round((k + 1) * width, 6), count)
                 for k, count in enumerate(counts))
    if not scores:
        return Distribution(max_score, 0, None, None, None, None, bins)
    return Distribution(max_score, len(scores), round(statistics.fmean(scores), 6),
                        round(statistics.median(scores), 6), min(scores), max(scores), bins)


def _tests(graded: list[dict]) -> Iterable[tuple[str, dict, dict]]:
    for report in graded:
        for exercise in report["exercises"]:
            for test in exercise["tests"]:
                yield report["submission"]["id"], exercise, test


def mistakes(graded: list[dict], place: dict[str, int]) -> tuple[NamedMistake, ...]:
    """The named mistakes, most students first: a student counts once per mistake, however
    many of their tests named it. The hint is the one its tests gave most often."""
    students: dict[tuple[str, str], dict[str, None]] = {}
    hints: dict[tuple[str, str], Counter[str]] = {}
    for student, exercise, test in _tests(graded):
        if test["misconception"] is None:
            continue
        key = (exercise["name"], test["misconception"])
        students.setdefault(key, {})[student] = None
        hints.setdefault(key, Counter())
        if test["hint"]:
            hints[key][test["hint"]] += 1
    found = [NamedMistake(mistake, exercise, _most_common(hints[exercise, mistake]), len(ids),
                          tuple(ids)) for (exercise, mistake), ids in students.items()]
    found.sort(key=lambda m: (-m.count, place.get(m.exercise, len(place)), m.id))
    return tuple(found)


def _most_common(counts: Counter[str]) -> str:
    return counts.most_common(1)[0][0] if counts else ""


def failed_tests(graded: list[dict], place: dict[str, int]) -> tuple[FailedTest, ...]:
    """The tests at least one graded submission did not pass, most often failed first;
    ties in exercise order, then in the order of the tests in the reports."""
    held: Counter[tuple[str, str]] = Counter()
    failed: dict[tuple[str, str], list[str]] = {}
    visibility: dict[tuple[str, str], str] = {}
    for student, exercise, test in _tests(graded):
        key = (exercise["name"], test["name"])
        held[key] += 1
        visibility.setdefault(key, test["visibility"])
        failed.setdefault(key, [])
        if test["status"] != "passed" and student not in failed[key]:
            failed[key].append(student)
    order = {key: k for k, key in enumerate(failed)}
    found = [FailedTest(name, exercise, visibility[exercise, name], len(ids),
                        held[exercise, name], tuple(ids))
             for (exercise, name), ids in failed.items() if ids]
    found.sort(key=lambda t: (-t.count, place.get(t.exercise, len(place)),
                              order[(t.exercise, t.name)]))
    return tuple(found)


def refusals(reports: list[dict]) -> tuple[Refusals, ...]:
    """What the sandbox refused, per event: which submissions tried it, and a few of the
    details (what was opened, imported, signalled)."""
    who: dict[str, dict[str, None]] = {}
    examples: dict[str, dict[str, None]] = {}
    for report in reports:
        for record in report["integrity"]:
            # A report's integrity records are objects of any shape: read what is there.
            event = str(record.get("event", "unknown"))
            who.setdefault(event, {})[report["submission"]["id"]] = None
            shown = examples.setdefault(event, {})
            if "detail" in record and len(shown) < EXAMPLES:
                shown[str(record["detail"])] = None
    found = [Refusals(event, len(ids), tuple(ids), tuple(examples[event]))
             for event, ids in who.items()]
    found.sort(key=lambda r: (-r.count, r.event))
    return tuple(found)


# -- JSON -----------------------------------------------------------------------------


def schema() -> dict:
    return store.schema("overview")


def validate(data: dict) -> dict:
    """``data`` unchanged if it matches the overview's schema; InvalidOverview otherwise."""
    error = store.first_error(data, "overview")
    if error is not None:
        raise InvalidOverview(error)
    return data


def to_dict(overview: Overview, similar: Sequence[dict] | None = None) -> dict:
    """The overview's JSON form; with ``similar``, the pairs under ``"similar"``."""
    data = results.to_dict(overview)
    if similar is not None:
        data["similar"] = results.to_dict(list(similar))
    return data


def dumps(overview: Overview, similar: Sequence[dict] | None = None) -> str:
    """The overview as JSON text, validated first."""
    data = validate(to_dict(overview, similar))
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def render(overview: Overview, fmt: str = "html",
           similar: Sequence[dict] | None = None) -> str:
    """The overview as ``html`` (one page), ``md`` or ``json``; ``similar``, the pairs of
    submissions found similar, ranked (see the schema's ``pair``), adds their section.
    InvalidOverview if the pairs are not in that shape."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    text = dumps(overview, similar)  # the page and the JSON are checked alike
    if fmt == "json":
        return text
    pairs = list(similar) if similar is not None else None
    if fmt == "md":
        return overview_page.markdown(overview, pairs)
    return overview_page.html_page(overview, pairs)
