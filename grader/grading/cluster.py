"""Grading on a Dask cluster: ``grader grade --scheduler tcp://HOST:8786`` (or ``local``).

This machine reads the submissions, sends each to the cluster as a task, and writes every
report; Dask's workers grade. Dask (``pip install 'backprop-lab[dask]'``) is imported only
here, and only when a scheduler is asked for.

What travels to a worker is each submission as this machine read it (its sources, id,
sha256 and the notes on its files), never a path. Workers then need no view of the class's
files (a Kubernetes pod, a cluster node without the course's disk); a submission is tens of
KiB under the reader's caps; and its id and sha256 are the ones a single-machine run gives,
so ``--resume`` works across both. What comes back is the report as JSON text, validated
and written atomically here, as ``--jobs`` writes it. Only this process writes reports: a
task Dask runs again because the worker running it died is still one future, so one report.

On a worker each thread keeps a grading process between tasks (:mod:`.served`): the
autotests, the memoized reference and the fork server are paid once per thread. Before
anything is sent, every worker is asked what it would grade with: the same grader, the
same course, and the isolation asked for on its own machine, or nothing is graded.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import (
    DaskMissing,
    Interrupted,
    InvalidReport,
    NoDaskWorkers,
    SchedulerUnreachable,
    WorkerCannotGrade,
)
from grader.grading import runner, served
from grader.grading.runner import Summary
from grader.grading.submission import Submission
from grader.reports import store
from grader.reports.results import SubmissionReport, to_dict
from grader.sandbox.isolation import Isolation

LOCAL = "local"
CONNECT_SECONDS = 30.0  # to reach the scheduler, and the longest a cluster may have no worker
WAIT_SECONDS = 1.0  # how often a wait for results looks at the cluster's workers
IN_FLIGHT_PER_THREAD = 4  # tasks sent ahead per worker thread: workers never starve, and
#                           this process holds only that many submissions, whatever N is
# The longest one submission may keep a worker's grading process silent before it is
# killed and the submission fails: far past what its calls' deadlines add up to.
SUBMISSION_SECONDS = 3600.0


# -- on a Dask worker ---------------------------------------------------------------


_kept = threading.local()  # each worker thread's grading process, and the settings it has


class CannotGradeHere(Exception):
    """This Dask worker would grade otherwise than the machine that sent the task."""

    def __init__(self, worker: str, reason: str):
        super().__init__(worker, reason)  # as they are, so that it crosses back whole
        self.worker, self.reason = worker, reason


def grade_task(submission: dict, grading_settings: dict, expected: dict) -> str:
    """A Dask task: grade one submission (``served.plain``) in this thread's grading
    process, started the first time or when the settings change; the report as JSON.
    CannotGradeHere if this worker's grader or course is not ``expected`` (see
    :func:`identity`) or its machine cannot have the isolation asked for."""
    reason = why_not_here(expected)
    if reason is not None:
        raise CannotGradeHere(_this_worker(), reason)
    key = json.dumps(grading_settings, sort_keys=True)
    process: served.GradingProcess | None = getattr(_kept, "process", None)
    if process is None or not process.alive or _kept.key != key:
        if process is not None:
            process.close()
        _kept.process = None
        try:
            process = served.GradingProcess(grading_settings, SUBMISSION_SECONDS)
        except served.IsolationRefused as refused:
            raise CannotGradeHere(_this_worker(), str(refused)) from None
        _kept.process, _kept.key = process, key
    try:
        data = process.grade(submission)
    except served.GradingProcessLost as lost:
        _kept.process = None  # the next task starts a new one
        data = to_dict(runner.failed_report(
            Path(submission["path"]), f"internal grader error: the grading process died "
                                      f"while grading it ({lost})",
            process.isolation, submission["sha256"], submission["id"]))
    return json.dumps(data, allow_nan=False)


def describe_worker(grading_settings: dict, expected: dict) -> dict:
    """Run on every worker before grading: its isolation, or why it cannot grade."""
    reason = why_not_here(expected)
    if reason is not None:
        return {"refused": reason}
    try:
        options, note = served.options_from(grading_settings)
    except Exception as error:  # a GraderError: the isolation cannot be had there
        return {"refused": str(error)}
    return {"isolation": options.isolation_report(), "note": note,
            "fields": {name: getattr(options.isolation, name)
                       for name in ("mechanism", "reason", "seccomp", "landlock", "quota")}}


def identity() -> dict:
    """What must be the same on every machine for a grade to be the same: the grader and
    the course."""
    return {"version": __version__, "course": course_digest()}


def why_not_here(expected: dict) -> str | None:
    here = identity()
    if here["version"] != expected["version"]:
        return f"it has backprop-lab {here['version']}, the grading machine {expected['version']}"
    if here["course"] != expected["course"]:
        return "its course (autotests or reference solutions) differs from the grading machine's"
    return None


def _this_worker() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):  # not in a Dask worker (the tests call tasks directly)
        return "here"


@functools.cache
def course_digest() -> str:
    """The course's autotests and reference solutions, as one sha256: a worker with another
    course would grade other tests against another reference."""
    digest = hashlib.sha256()
    for package in ("autotests", "solutions"):  # a student's bundle has no solutions
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        folder = Path(spec.origin).resolve().parent
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".ini") and "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(folder.parent).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


# -- on this machine ----------------------------------------------------------------


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise DaskMissing(str(error)) from None
    return distributed


@contextlib.contextmanager
def connect(scheduler: str, jobs: int = 1) -> Iterator[Cluster]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster of ``jobs``
    single-threaded workers for ``local``; closed (with the LocalCluster) on leaving."""
    distributed = _distributed()
    quiet = logging.getLogger("distributed")
    level = quiet.level
    # Dask's own log lines (a worker lost, a task rescheduled) would break the progress
    # bar; what they mean reaches the user as a report or one line.
    quiet.setLevel(logging.CRITICAL)
    local = None
    try:
        if scheduler == LOCAL:
            try:
                local = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1,
                                                 processes=True, dashboard_address=":0",
                                                 silence_logs=logging.CRITICAL)
            except (OSError, RuntimeError, TimeoutError) as error:
                raise SchedulerUnreachable(LOCAL, f"its workers did not start ({error})"
                                           ) from None
            address = local.scheduler_address
        else:
            address = _checked(scheduler)
        try:
            client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise SchedulerUnreachable(address, str(error) or type(error).__name__) from None
        try:
            yield Cluster(client, address)
        finally:
            client.close()
    finally:
        if local is not None:
            local.close()
        quiet.setLevel(level)


def _checked(address: str) -> str:
    """``address`` if it names a scheduler; checked before any connection, since a client
    given a malformed one is left behind half made."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        parse_host_port(parse_address(address)[1])
    except ValueError as error:
        raise SchedulerUnreachable(address, f"{error} (give tcp://HOST:PORT, or local)") from None
    return address


class Cluster:
    def __init__(self, client, address: str):
        self.client = client
        self.address = address

    def check(self, grading_settings: dict) -> tuple[Isolation, dict, str | None]:
        """Ask every worker what it would grade with; WorkerCannotGrade unless it is this
        machine's grader and course under the isolation asked for. Returns the first
        worker's isolation, its report's account of it, and a note on a weaker one."""
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
            answers = self.client.run(describe_worker, grading_settings, identity(),
                                      on_error="return")
        except TimeoutError:
            answers = {}
        if not answers:
            raise NoDaskWorkers(self.address, CONNECT_SECONDS)
        for worker, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                raise WorkerCannotGrade(worker, f"{type(answer).__name__}: {answer}")
            if "refused" in answer:
                raise WorkerCannotGrade(worker, answer["refused"])
        first = answers[min(answers)]
        notes = sorted({answer["note"] for answer in answers.values() if answer["note"]})
        return (Isolation(**first["fields"]), first["isolation"],
                "; ".join(notes) if notes else None)

    def grade(self, paths: list[Path], out_dir: Path, grading_settings: dict,
              isolation: dict, on_summary: Callable[[Summary], None],
              on_data: Callable[[dict], None] | None = None) -> list[Summary]:
        """Grade ``paths`` on the cluster into ``out_dir``; summaries in input order.
        ``isolation`` is what a report of a submission that cannot be read says.
        SIGINT or SIGTERM cancels what is left; Interrupted says how far it got."""
        outcomes: dict[int, Summary] = {}
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, runner.interrupt) if main_thread else None
        batch = _Batch(self, paths, out_dir, grading_settings, isolation, outcomes,
                       on_summary, on_data)
        try:
            batch.run()
        except KeyboardInterrupt:
            raise Interrupted(len(outcomes), len(paths), out_dir) from None
        finally:
            self.client.cancel(list(batch.flying))  # what is left, if the run stopped
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
        return [outcomes[index] for index in sorted(outcomes)]


class _Batch:
    """One run's submissions: a bounded number in flight, each report written as it comes."""

    def __init__(self, cluster: Cluster, paths: list[Path], out_dir: Path,
                 grading_settings: dict, isolation: dict, outcomes: dict[int, Summary],
                 on_summary: Callable[[Summary], None], on_data: Callable[[dict], None] | None):
        self.cluster, self.out_dir, self.settings = cluster, out_dir, grading_settings
        self.isolation, self.outcomes = isolation, outcomes
        self.on_summary, self.on_data = on_summary, on_data
        self.total = len(paths)
        self.waiting = iter(enumerate(paths))
        self.flying: dict[Any, tuple[int, Submission]] = {}
        self.run_id = uuid.uuid4().hex[:12]
        self.identity = identity()

    def run(self) -> None:
        distributed = _distributed()
        client = self.cluster.client
        self.top_up()
        alone_since: float | None = None
        while self.flying:
            try:
                with client.as_current():
                    done, _ = distributed.wait(list(self.flying), timeout=WAIT_SECONDS,
                                               return_when="FIRST_COMPLETED")
            except (TimeoutError, distributed.TimeoutError):
                if client.nthreads():
                    alone_since = None
                    continue
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since > CONNECT_SECONDS:
                    raise NoDaskWorkers(self.cluster.address, CONNECT_SECONDS,
                                        (len(self.outcomes), self.total)) from None
                continue
            for future in done:
                index, submission = self.flying.pop(future)
                self.finish(index, self.outcome(future, submission))
            self.top_up()

    def top_up(self) -> None:
        threads = max(1, sum(self.cluster.client.nthreads().values()))
        while len(self.flying) < IN_FLIGHT_PER_THREAD * threads:
            item = next(self.waiting, None)
            if item is None:
                return
            index, path = item
            read = runner.read(path, self.isolation)
            if isinstance(read, SubmissionReport):
                self.finish(index, to_dict(read))
                continue
            future = self.cluster.client.submit(
                grade_task, served.plain(read), self.settings, self.identity, pure=False,
                key=f"backprop-lab-{self.run_id}-{index}")
            self.flying[future] = (index, read)

    def outcome(self, future, submission: Submission) -> dict:
        """The report a finished task gave, or the failed report that says why it gave none."""
        if future.status == "finished":
            try:
                data = store.validate(json.loads(future.result()), submission.id)
            except (ValueError, TypeError, InvalidReport) as error:
                reason = f"internal grader error: the Dask worker's report was invalid ({error})"
            else:
                said = data["submission"]
                if (said["id"], said["sha256"]) == (submission.id, submission.sha256):
                    return data
                reason = ("internal grader error: the Dask worker's report is of another "
                          f"submission ({said['id']!r})")
        elif future.status == "error":
            raised = future.exception()
            if isinstance(raised, CannotGradeHere):  # a worker that joined after the check
                raise WorkerCannotGrade(raised.worker, raised.reason)
            if type(raised).__name__ == "KilledWorker":
                reason = ("every Dask worker that took it died while grading it "
                          f"({str(raised)[:300]})")
            else:
                reason = (f"internal grader error on a Dask worker: {type(raised).__name__}: "
                          f"{str(raised)[:300]}")
        else:
            reason = f"its Dask task was {future.status}"
        return to_dict(runner.failed_report(submission.path, reason, self.isolation,
                                            submission.sha256, submission.id))

    def finish(self, index: int, data: dict) -> None:
        path = store.write_data(data, self.out_dir)
        if self.on_data is not None:
            self.on_data(data)
        summary = runner.summary_of(data, path)
        self.outcomes[index] = summary
        self.on_summary(summary)
