"""The grading library's one entry point: :func:`grade`.

``grader grade``, ``grader check``, ``grader gradescope-run`` and the project's tests all
grade through it, so that they choose the isolation, the limits and the tests the same
way: it is the only place that builds the runner's Options.

With ``out``, each submission's JSON report is written there as soon as it is graded
(and its HTML feedback page, with ``feedback``), exactly as ``grader grade`` does. Without
``out`` nothing is written: the reports come back in memory, for a caller that has a
single submission to read aloud (the self-check) or to convert (Gradescope).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader import contract
from grader.errors import OutputNotWritable, UnknownAssignment, UnknownExercise
from grader.grading import cluster, runner, served, submission
from grader.grading.runner import Summary
from grader.reports import render, store
from grader.reports.results import SubmissionReport, to_dict
from grader.sandbox.isolation import Isolation, choose
from grader.sandbox.limits import Limits

ISOLATIONS = ("auto", "bubblewrap", "basic")
PathLike = str | os.PathLike[str]


class Progress(Protocol):
    """What a caller shows while a batch is graded (the CLI: its notes and progress bar)."""

    def start(self, total: int, skipped: int, note: str | None) -> None:
        """Called once, before grading: ``total`` submissions are about to be graded,
        ``skipped`` more were already graded (``resume``), and ``note`` says why the
        isolation is weaker than asked for (None when it is not)."""

    def advance(self, summary: Summary) -> None:
        """Called once per submission graded, as soon as it is done."""


@dataclass(frozen=True)
class Graded:
    """What :func:`grade` did."""

    summaries: tuple[Summary, ...]  # graded and skipped alike, sorted by id as the CLI shows
    skipped: int  # how many ``resume`` found already graded and unchanged
    note: str | None  # why the isolation is weaker than asked for, or None
    isolation: Isolation  # the isolation every worker ran under
    # In memory (``out`` None): every report, in input order; None when they were written.
    reports: tuple[SubmissionReport, ...] | None = None

    @property
    def failed(self) -> tuple[Summary, ...]:
        """The submissions that could not be graded at all."""
        return tuple(s for s in self.summaries if s.status != "graded")

    def table(self) -> str:
        """One row per submission: its id, the points of each exercise, the total."""
        graded = {name for s in self.summaries for name, _, _ in s.exercises}
        names = [name for name in contract.exercise_names() if name in graded]
        headers = ["submission", *names, "total"]
        rows = []
        for s in self.summaries:
            scores = {name: f"{score:g}/{top:g}" for name, score, top in s.exercises}
            total = f"{s.score:g}/{s.max_score:g}" if s.status == "graded" else "not graded"
            rows.append([s.id, *(scores.get(name, "-") for name in names), total])
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        lines = ["  ".join(str(cell).ljust(w) if i == 0 else str(cell).rjust(w)
                           for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                 for row in [headers, *rows]]
        return "\n".join(lines)


ALL = "all"


def exercises_to_grade(assignment: str | None, exercise: str | None = None) -> tuple[str, ...]:
    """The exercises an ``assignment`` (None: the course's first; ``all``: every one) and
    an optional single ``exercise`` of the course select; a GraderError for unknown names."""
    if exercise is not None:
        if exercise not in contract.exercise_names():
            raise UnknownExercise(exercise, contract.exercise_names())
        return (exercise,)
    if assignment == ALL:
        return contract.exercise_names()
    known = contract.assignments()
    if assignment is None:
        assignment = known[0]
    if assignment not in known:
        raise UnknownAssignment(assignment, (*known, ALL))
    return contract.exercise_names(assignment)


def grade(paths: PathLike | Iterable[PathLike], out: PathLike | None = None, *,
          isolation: str = "auto", accept_weak_isolation: bool = False, jobs: int = 1,
          timeout: float = Limits.wall_seconds, public_only: bool = False,
          assignment: str | None = None, exercise: str | None = None, resume: bool = False,
          feedback: PathLike | None = None, scheduler: str | None = None,
          progress: Progress | None = None, discover: bool = True) -> Graded:
    """Grade the submissions ``paths`` name, in grading processes of their own.

    ``paths``: submissions (folders, ``.py`` files, zips, notebooks) or folders of them,
    found as ``grader grade`` finds them; with ``discover=False`` each path is one
    submission as given, and one that cannot be read is its own failed report (the
    Gradescope submission folder, a student's ``exercises/``, the tests' inputs).
    ``out``: the folder for one ``<id>.json`` each (made if missing); None grades in
    memory, writing nothing, and returns the reports in ``Graded.reports``.
    ``isolation``: ``auto`` (bubblewrap where it works, else basic), ``bubblewrap`` or
    ``basic``; where no kernel wall can be built, WeakIsolation is raised unless
    ``accept_weak_isolation``. ``timeout``: wall-clock and CPU seconds per call.
    ``assignment``: the course assignment whose exercises are graded (None: the first,
    ``all``: every exercise); ``exercise`` narrows it to one. ``public_only`` runs the
    visible tests only (the self-check).
    ``resume`` (needs ``out``) skips the submissions whose report in ``out`` still
    matches their sha256.
    ``feedback``: a folder for each student's HTML feedback page (student view),
    ``<id>.html``. Each is rendered in the grading process from the report in hand, as
    its JSON is written (in memory: once it is validated), never read back from disk;
    only a submission skipped by ``resume`` has its page rendered from its report on
    disk, since this run did not grade it.
    ``scheduler`` (needs ``out``): grade on the Dask cluster whose scheduler is at this
    address (``tcp://HOST:8786``), or on a LocalCluster of ``jobs`` workers (``local``);
    see :mod:`grader.grading.cluster`. Each worker chooses its isolation as ``isolation``
    and ``accept_weak_isolation`` ask, on its own machine.

    Raises a GraderError for a bad path, an output folder that cannot be written, an
    unknown exercise or an isolation that cannot be had, before any grading; and
    ``runner.Interrupted`` when SIGINT or SIGTERM stops the batch.
    """
    named = [paths] if isinstance(paths, (str, os.PathLike)) else paths
    given = [Path(path) for path in named]
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
    if jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    if resume and out is None:
        raise ValueError("resume reads the reports already in out: give out")
    if scheduler is not None and out is None:
        raise ValueError("a scheduler's reports are written as they come: give out")
    chosen_exercises = exercises_to_grade(assignment, exercise)
    found = submission.discover(given) if discover else given
    out_dir = None if out is None else _writable_dir(Path(out))
    feedback_dir = None if feedback is None else _writable_dir(Path(feedback))
    limits = Limits(wall_seconds=timeout, cpu_seconds=timeout)
    todo, skipped = (runner.already_graded(found, out_dir) if resume and out_dir is not None
                     else (found, []))
    if scheduler is not None and out_dir is not None:
        settings = served.settings(isolation, accept_weak_isolation, limits, public_only,
                                   chosen_exercises)
        return _grade_on_cluster(scheduler, jobs, todo, skipped, out_dir, settings,
                                 feedback_dir, progress)
    chosen, note = choose(isolation, accept_weak=accept_weak_isolation)
    options = runner.Options(limits=limits, isolation=chosen, public_only=public_only,
                             exercises=chosen_exercises, jobs=jobs)
    if progress is not None:
        progress.start(len(todo), len(skipped), note)
    advance: Callable[[Summary], None] = (progress.advance if progress is not None
                                          else lambda summary: None)
    in_child = None if feedback_dir is None else _feedback_writer(feedback_dir)
    reports: tuple[SubmissionReport, ...] | None = None
    if out_dir is None:
        reports = tuple(runner.grade_in_memory(todo, options, advance, in_child=in_child))
        graded = [runner.summarize(report, None) for report in reports]
    else:
        graded = runner.grade(todo, out_dir, options, advance, in_child=in_child)
    _feedback_for_skipped(feedback_dir, skipped)
    summaries = tuple(sorted([*skipped, *graded], key=lambda s: s.id))
    return Graded(summaries, len(skipped), note, chosen, reports)


def _grade_on_cluster(scheduler: str, jobs: int, todo: list[Path], skipped: list[Summary],
                      out_dir: Path, settings: dict, feedback_dir: Path | None,
                      progress: Progress | None) -> Graded:
    with cluster.connect(scheduler, jobs) as on:
        chosen, isolation_report, note = on.check(settings)
        if progress is not None:
            progress.start(len(todo), len(skipped), note)
        on_data = None if feedback_dir is None else functools.partial(_write_feedback,
                                                                      feedback_dir)
        graded = on.grade(todo, out_dir, settings, isolation_report,
                          progress.advance if progress is not None else lambda summary: None,
                          on_data)
    _feedback_for_skipped(feedback_dir, skipped)
    summaries = tuple(sorted([*skipped, *graded], key=lambda s: s.id))
    return Graded(summaries, len(skipped), note, chosen)


def _feedback_for_skipped(feedback_dir: Path | None, skipped: list[Summary]) -> None:
    if feedback_dir is not None:
        for summary in skipped:
            if summary.report_path:
                _write_feedback(feedback_dir, store.load(Path(summary.report_path)))


def feedback_path(feedback_dir: Path, submission_id: str) -> Path:
    """``<id>.html``, named with the same bytes as the student's folder and ``<id>.json``
    (an id read from a name that is not UTF-8 holds surrogate escapes, which the file
    system takes back as those bytes); an id no file name can hold is written out."""
    try:
        os.fsencode(submission_id)
    except UnicodeEncodeError:
        submission_id = render.printable(submission_id)
    return feedback_dir / f"{submission_id}.html"


def _write_feedback(feedback_dir: Path, data: dict) -> None:
    store.write_atomic(feedback_path(feedback_dir, data["submission"]["id"]),
                       render.render(data, "html", "student"))


def _feedback_writer(feedback_dir: Path) -> Callable[[SubmissionReport], None]:
    def write(report: SubmissionReport) -> None:
        # to_dict is what the JSON report holds: the page is the one its JSON would render.
        _write_feedback(feedback_dir, to_dict(report))

    return write


def _writable_dir(path: Path) -> Path:
    try:
        # The folder asked for, never its missing parents: a typo is said, not built.
        path.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputNotWritable(path, error.strerror or str(error)) from None
    if not path.is_dir():
        raise OutputNotWritable(path, "not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputNotWritable(path, "permission denied")
    return path
