"""Grading submissions: one pytest session per grading process, collected once.

A grading process runs ``pytest.main`` over the autotests a single time. Its
``pytest_runtestloop`` takes submissions one after another and runs every collected
test against each, so collection and the reference's seeded results are paid once per
process, not once per submission. ``grade`` runs ``jobs`` grading processes (one at
least, never the caller itself), each under its own memory bound, sharing a queue of
submissions. Each submission's report is validated and written to disk as soon as it is
done; only a one-line summary travels back. In memory (``grade_in_memory``) nothing is
written: the report object itself travels back on that queue, which links our own
processes only (the no-pickle rule is about the student's wire, untouched). A grading
process on a Dask worker (``served``) is fed submissions already read, not paths.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import platform
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import autotests
from grader import __version__
from grader import contract
from grader.errors import GraderError, GradingProcessDied, Interrupted, InvalidReport
from grader.grading import submission as loader
from grader.grading.pytest_plugin import STATE, GradingState, exercise_of_item
from grader.grading.student import StudentSession
from grader.reports import store
from grader.reports.results import (
    ExerciseResult,
    GraderInfo,
    SubmissionInfo,
    SubmissionReport,
    TestResult,
    to_dict,
)
from grader.sandbox.client import WorkerUnavailable
from grader.sandbox.forkserver import Zygote
from grader.sandbox.isolation import Isolation, choose
from grader.sandbox.limits import Limits, bound_grading_memory

AUTOTESTS = Path(autotests.__file__).resolve().parent


def _default_isolation() -> Isolation:
    # The CLI's default. A default cannot ask for consent to weak isolation: api.grade does.
    return choose("auto", accept_weak=True)[0]


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    isolation: Isolation = field(default_factory=_default_isolation)
    public_only: bool = False
    exercises: tuple[str, ...] = ()  # the exercises whose tests run; () for all
    jobs: int = 1

    def isolation_report(self) -> dict:
        return {**self.isolation.describe(), "limits": self.limits.to_report()}


@dataclass(frozen=True)
class Summary:
    """The line a batch prints for one submission; its report is on disk or in memory."""

    id: str
    status: str
    score: float
    max_score: float
    exercises: tuple[tuple[str, float, float], ...]  # (name, score, max)
    error: str | None
    report_path: str | None


def grader_info() -> GraderInfo:
    return GraderInfo(version=__version__, python=platform.python_version(), numpy=np.__version__)


def build_report(submission: loader.Submission, results: list[tuple[str, TestResult]],
                 options: Options, seconds: float,
                 integrity: Sequence[dict] = ()) -> SubmissionReport:
    exercises = []
    for exercise in contract.exercises():
        tests = tuple(result for name, result in results if name == exercise.name)
        if tests:
            exercises.append(ExerciseResult(exercise.name, sum(t.max_score for t in tests), tests,
                                            message=submission.broken.get(exercise.name, "")))
    return SubmissionReport(
        submission=SubmissionInfo(submission.id, str(submission.path), submission.sha256),
        exercises=tuple(exercises), grader=grader_info(), isolation=options.isolation_report(),
        duration_s=round(seconds, 4), problems=submission.problems, integrity=tuple(integrity))


def failed_report(path: Path, reason: str, options: Options | dict, sha256: str = "0" * 64,
                  submission_id: str | None = None) -> SubmissionReport:
    """A valid report for a submission that could not be graded at all. ``options``: the
    run's, or the isolation report (a dict) of the machine that would have graded it."""
    isolation = options if isinstance(options, dict) else options.isolation_report()
    return SubmissionReport(
        submission=SubmissionInfo(submission_id or path.stem or path.name, str(path), sha256),
        exercises=(), grader=grader_info(), isolation=isolation, duration_s=0.0, error=reason)


def read(path: Path, options: Options | dict) -> loader.Submission | SubmissionReport:
    """The submission at ``path``, or the failed report that says why it cannot be read."""
    try:
        return loader.load(path)
    except GraderError as error:
        return failed_report(path, str(error), options, submission_id=loader.submission_id(path))
    except Exception as error:  # a fault of the loader's: this submission only
        return failed_report(path, f"internal grader error while reading it: "
                                   f"{type(error).__name__}: {error}", options,
                             submission_id=loader.submission_id(path))


def summarize(report: SubmissionReport, path: Path | None) -> Summary:
    return Summary(report.submission.id, report.status, report.score, report.max_score,
                   tuple((e.name, e.score, e.max_score) for e in report.exercises),
                   report.error, str(path) if path else None)


def interrupt(signum, frame):
    raise KeyboardInterrupt


class BatchPlugin:
    """Takes over pytest's test loop: every collected test, for each submission in turn."""

    def __init__(self, paths: Iterable[Path | loader.Submission], options: Options,
                 on_report: Callable[[SubmissionReport], None]):
        self.paths = paths
        self.options = options
        self.on_report = on_report
        self.graded = GradingState(limits=options.limits, isolation=options.isolation,
                                   brief_reports=True)
        self.interrupted = False
        # One clean interpreter per grading process, forked for each submission's worker.
        self.zygote = Zygote(options.isolation)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[STATE] = self.graded

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = session.items
        try:
            for given in self.paths:
                path = given.path if isinstance(given, loader.Submission) else Path(given)
                self.deliver(path, self.grade_one(given, items))
        except KeyboardInterrupt:
            # The report in hand is discarded: nothing was written for it yet.
            self.interrupted = True
            self.graded.finish()
            raise
        finally:
            self.zygote.close()
        return True

    def deliver(self, path: Path, report: SubmissionReport) -> None:
        """Hand a report on; one that cannot be serialized becomes a failed report, so a
        fault of the grader's costs that submission its grade, never the batch."""
        try:
            self.on_report(report)
        except (ValueError, TypeError, InvalidReport) as error:
            self.on_report(failed_report(
                path, f"internal grader error: the report could not be written "
                      f"({type(error).__name__}: {str(error)[:300]})",
                self.options, report.submission.sha256, report.submission.id))

    def grade_one(self, given: Path | loader.Submission,
                  items: list[pytest.Item]) -> SubmissionReport:
        """Grade one submission: a path, read here, or a Submission read elsewhere."""
        started = time.monotonic()
        submission = (given if isinstance(given, loader.Submission)
                      else read(Path(given), self.options))
        if isinstance(submission, SubmissionReport):
            return submission
        return self.run_tests(submission, items, started)

    def run_tests(self, submission: loader.Submission, items: list[pytest.Item],
                  started: float) -> SubmissionReport:
        path = submission.path
        session = StudentSession(submission, self.options.limits, self.options.isolation,
                                 self.zygote)
        self.graded.begin(session)
        # Hidden tests come last and get a fresh worker that never served a visible test:
        # nothing a hidden input taught the student's code can reach the student's view.
        ordered = in_visibility_order(items)
        try:
            for index, item in enumerate(ordered):
                if is_hidden(item) and (index == 0 or not is_hidden(ordered[index - 1])):
                    session.fresh_worker()
                following = ordered[index + 1] if index + 1 < len(ordered) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
        except WorkerUnavailable as error:
            self.graded.finish()
            return failed_report(path, str(error), self.options, submission.sha256, submission.id)
        except Exception as error:  # a fault of the grader's: this submission only
            self.graded.finish()
            return failed_report(path, f"internal grader error: {type(error).__name__}: {error}",
                                 self.options, submission.sha256, submission.id)
        results, integrity = self.graded.finish()
        # The report lists tests in the autotests' own order, whatever order they ran in.
        position = {(exercise_of_item(item), item.name): i for i, item in enumerate(items)}
        results.sort(key=lambda result: position.get((result[0], result[1].name), len(position)))
        return build_report(submission, results, self.options, time.monotonic() - started,
                            integrity)


def is_hidden(item: pytest.Item) -> bool:
    return item.get_closest_marker("hidden") is not None


def in_visibility_order(items: list[pytest.Item]) -> list[pytest.Item]:
    """Every visible test first, then every hidden one, each group in its own order."""
    return ([item for item in items if not is_hidden(item)]
            + [item for item in items if is_hidden(item)])


def pytest_args(options: Options) -> list[str]:
    # In file-name order, as pytest collects the folder: the order tests run in stays
    # what it was (the report lists them in the course's order either way).
    targets = ([str(AUTOTESTS / f"test_{name}.py") for name in sorted(options.exercises)]
               or [str(AUTOTESTS)])
    args = [
        *targets,
        "-c", str(AUTOTESTS / "pytest.ini"), "--rootdir", str(AUTOTESTS),
        "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise",
        "--capture=sys", "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if options.public_only:
        args.append("--public-only")
    return args


def grade_in_process(paths: Iterable[Path | loader.Submission], options: Options,
                     on_report: Callable[[SubmissionReport], None]) -> None:
    """Grade ``paths`` (or submissions already read) one after another in this process;
    KeyboardInterrupt when stopped."""
    plugin = BatchPlugin(paths, options, on_report)
    code = pytest.main(pytest_args(options), plugins=[plugin])
    if plugin.interrupted or code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                    pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RuntimeError(f"the autotests could not be collected (pytest exit code {code})")


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the grader that started it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


OnReport = Callable[[SubmissionReport], None]


def _child(tasks, done, options: Options, out_dir: Path | None, in_child: OnReport | None) -> None:
    die_with_parent()
    signal.signal(signal.SIGTERM, interrupt)
    bound_grading_memory()  # whatever a submission sends, this process stays bounded
    current = -1  # the index of the path being graded: reports come back in input order

    def paths() -> Iterator[Path]:
        nonlocal current
        for index, path in iter(tasks.get, None):
            current = index
            yield path

    def on_report(report: SubmissionReport) -> None:
        # Validated in memory too: an invalid report becomes a failed one (deliver), and
        # to_dict refuses all but plain values, so what goes on the queue pickles.
        if out_dir is None:
            store.validate(to_dict(report), report.submission.id)
        path = None if out_dir is None else store.write(report, out_dir)
        if in_child is not None:
            in_child(report)
        done.put((current, summarize(report, path), report if out_dir is None else None))

    with contextlib.suppress(KeyboardInterrupt):
        grade_in_process(paths(), options, on_report)


def clear_stale_temporaries(out_dir: Path) -> None:
    """Temporary files of reports whose writer was killed mid-write: never reports."""
    for path in Path(out_dir).glob(".*.json.*.tmp"):
        path.unlink(missing_ok=True)


def already_graded(paths: list[Path], out_dir: Path) -> tuple[list[Path], list[Summary]]:
    """For --resume: ``(to grade, summaries of the ones whose report matches their sha256)``."""
    todo, done = [], []
    for path in paths:
        try:
            submission = loader.load(path)
            data = store.load(Path(out_dir) / f"{submission.id}.json")
        except GraderError:
            data = None
        if data is None or (data["submission"]["sha256"], data["status"]) != (
                submission.sha256, "graded"):
            todo.append(path)
        else:
            done.append(summary_of(data, Path(out_dir) / f"{submission.id}.json"))
    return todo, done


def summary_of(data: dict, path: Path | None) -> Summary:  # a report read as data
    return Summary(data["submission"]["id"], data["status"], data["score"], data["max_score"],
                   tuple((e["name"], e["score"], e["max_score"]) for e in data["exercises"]),
                   data["error"], str(path) if path else None)


def grade(paths: list[Path], out_dir: Path, options: Options,
          on_summary: Callable[[Summary], None] = lambda s: None, *,
          in_child: OnReport | None = None) -> list[Summary]:
    """Grade ``paths`` into ``out_dir``, ``options.jobs`` at a time; summaries in input order.

    ``in_child``, if given, is called in the grading process with each report right after
    its JSON is written (or validated, in memory); forked, it may be any closure.
    SIGINT or SIGTERM stops the batch cleanly: every worker is killed, the reports
    already written stay, and Interrupted says how far it got.
    """
    clear_stale_temporaries(out_dir)
    return [summary for summary, _ in _grade(paths, out_dir, options, on_summary, in_child)]


def grade_in_memory(paths: list[Path], options: Options, on_summary=lambda s: None, *,
                    in_child: OnReport | None = None) -> list[SubmissionReport]:
    """Grade ``paths`` as ``grade`` does, writing nothing: the reports in input order."""
    return [report for _, report in _grade(paths, None, options, on_summary, in_child)
            if report is not None]  # never None: nothing was written


def _grade(paths: list[Path], out_dir: Path | None, options: Options, on_summary,
           in_child: OnReport | None) -> list[tuple[Summary, SubmissionReport | None]]:
    outcomes: dict[int, tuple[Summary, SubmissionReport | None]] = {}
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if main_thread else None
    try:
        if paths:
            # Always in grading processes of their own, even one: each runs under its own
            # memory bound, and whatever happens to it, this process is untouched.
            _grade_in_children(paths, out_dir, options, in_child, outcomes, on_summary)
    except KeyboardInterrupt:
        raise Interrupted(len(outcomes), len(paths), out_dir) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    return [outcomes[index] for index in sorted(outcomes)]


def _grade_in_children(paths: list[Path], out_dir: Path | None, options: Options,
                       in_child: OnReport | None, outcomes: dict, on_summary) -> None:
    context = multiprocessing.get_context("fork")
    tasks, done = context.Queue(), context.Queue()
    jobs = min(options.jobs, len(paths))
    for index, path in enumerate(paths):
        tasks.put((index, path))
    for _ in range(jobs):
        tasks.put(None)
    children = [context.Process(target=_child, args=(tasks, done, options, out_dir, in_child),
                                daemon=True) for _ in range(jobs)]
    for child in children:
        child.start()
    received = 0
    try:
        while received < len(paths):
            try:
                index, summary, report = done.get(timeout=0.5)
            except queue.Empty:
                if not any(child.is_alive() for child in children) and done.empty():
                    raise GradingProcessDied(received, len(paths),
                                             resumable=out_dir is not None) from None
                continue
            outcomes[index] = (summary, report)
            on_summary(summary)
            received += 1
    finally:
        for child in children:
            if child.is_alive() and received < len(paths):
                child.terminate()  # SIGTERM: the child closes its worker and stops
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
