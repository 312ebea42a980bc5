"""The grader's errors: one base class, subclasses that carry their data.

Every error a user can meet is here, by the part of the grader that raises it. The CLI
turns any of them into one line on stderr and the exit code they name. Exceptions that
never leave the grader (a broken wire message, a failed student call, a failed check
inside an autotest) stay next to the code that raises and catches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The exit codes of the `grader` command (README, "The CLI", one row each).
EXIT_NOT_GRADED = 1   # a submission could not be graded, or a report that exists is invalid
EXIT_CHECK_FAILED = 1  # `grader check`: a public test failed; `grader stubs --check`: stale
EXIT_USAGE = 2        # bad usage: an option, a missing input, an output whose folder is
#                       missing or cannot be written, an isolation that cannot be had
EXIT_INTERRUPTED = 130  # SIGINT or SIGTERM (Ctrl-C) stopped the command


class GraderError(Exception):
    """Base class: ``str(error)`` is the one line a user reads."""

    exit_code = EXIT_USAGE


class NoSuchPath(GraderError):
    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: no such file or directory")


class NotASubmission(GraderError):
    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a submission ({reason})")


class EmptyDirectory(GraderError):
    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: holds no submission (no exercise module, notebook or zip)")


class UnreadableSubmission(GraderError):
    """A submission, or the file in it that would be graded, that the grader cannot read:
    a named pipe, a socket or a device where a file should be, a symlink loop, an I/O
    error. The grading run reports it as that submission's failure."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot be read: {reason}")


class ZipOverCap(GraderError):
    """A zip refused before it is inflated any further: a possible zip bomb."""

    def __init__(self, path: Path, what: str, value: int, cap: int):
        self.path = path
        self.what = what
        self.value = value
        self.cap = cap
        super().__init__(f"{path}: zip refused: {value:,} {what}, over the cap of {cap:,} "
                         "(zip only the exercise files)")


class StrayExerciseFiles(GraderError):
    """Exercise files at the top of a folder that also holds students' submissions: graded
    as it is, the folder would be one submission and the students' work would be lost."""

    def __init__(self, folder: Path, stray: list[str], submissions: list[str]):
        self.folder = folder
        self.stray = stray
        self.submissions = submissions
        shown = ", ".join(submissions[:3]) + (", ..." if len(submissions) > 3 else "")
        files = ", ".join(stray)
        what = "is an exercise file" if len(stray) == 1 else "are exercise files"
        super().__init__(
            f"{folder}: {files} {what} next to {len(submissions)} submissions ({shown}): "
            f"graded as one submission, the folder would merge them; move {files} into its "
            f"student's folder, or name the submissions to grade "
            f"(e.g. {Path(folder) / submissions[0]})")


class OutputNotWritable(GraderError):
    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot write there ({reason})")


class NoOutputFolder(GraderError):
    """The folder an output would go in does not exist (or is a file): no command makes a
    folder it was not asked for, so a typo in a path is said, not built."""

    def __init__(self, path: Path, reason: str = "does not exist"):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: its folder {Path(path).parent} {reason}; create it first "
                         "or choose another place")


class NotAFile(GraderError):
    """An input that should be a file is a folder (or a pipe, a device)."""

    def __init__(self, path: Path, expected: str):
        self.path = path
        self.expected = expected
        super().__init__(f"{path}: not a file ({expected} expected)")


class DuplicateSubmissionId(GraderError):
    def __init__(self, submission_id: str, paths: tuple[Path, Path]):
        self.submission_id = submission_id
        self.paths = paths
        super().__init__(
            f"two submissions share the id {submission_id!r}: {paths[0]} and {paths[1]}"
        )


class TooFewSubmissions(GraderError):
    """``grader similarity`` compares pairs: it needs two readable submissions."""

    def __init__(self, readable: int, skipped: Sequence[tuple[str, str]] = ()):
        self.readable = readable
        self.skipped = tuple(skipped)
        why = "".join(f"; {name}: {reason}" for name, reason in self.skipped[:3])
        more = f"; and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
        super().__init__(f"similarity compares pairs of submissions: {readable} readable "
                         f"submission(s) found, at least 2 needed{why}{more}")


class MalformedSolution(GraderError):
    def __init__(self, path: Path, line: int, reason: str):
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


class InvalidReport(GraderError):
    exit_code = EXIT_NOT_GRADED

    def __init__(self, path: Path | str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: invalid report: {reason}")


# -- the sandbox -------------------------------------------------------------------


class IsolationUnavailable(GraderError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"bubblewrap isolation is not available here: {reason}")


class WeakIsolation(GraderError):
    """Basic isolation without a kernel wall: grading for credit needs explicit consent."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(
            f"no kernel wall can be built around student code here ({reason}); a submission "
            "could read the reference solutions or rewrite reports. Install bubblewrap "
            "(scripts/install-system-deps) or run on a kernel with Landlock, or pass "
            "--accept-weak-isolation to grade anyway")


class WorkerUnavailable(GraderError):
    """The worker could not start: the machine's fault, never the student's."""

    exit_code = EXIT_NOT_GRADED

    def __init__(self, reason: str, stderr: str = ""):
        self.reason = reason
        self.stderr = stderr
        last = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        super().__init__("could not start a worker: " + "; ".join([reason, *last]))


# -- a batch -----------------------------------------------------------------------


class UnknownExercise(GraderError):
    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.known = tuple(known)
        super().__init__(f"no exercise {name!r}; the exercises are {', '.join(known)}")


class UnknownAssignment(GraderError):
    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.known = tuple(known)
        super().__init__(f"no assignment {name!r}; the assignments are {', '.join(known)}")


class CourseError(GraderError):
    """The course itself is malformed: an exercise declared wrongly in its autotests."""
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the course is malformed: {reason}")


class Interrupted(GraderError):
    """SIGINT or SIGTERM stopped a batch; what was graded is on disk, the rest can resume."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, graded: int, total: int, out_dir: Path | None):
        self.graded, self.total, self.out_dir = graded, total, out_dir
        where = (f", their reports are in {out_dir}; run the same command with --resume to "
                 "grade the rest") if out_dir is not None else ""
        super().__init__(f"interrupted: {graded} of {total} submission(s) graded{where}")


class GradingProcessDied(GraderError):
    """A grading process ended before its batch did; with an output folder, what it graded
    is there and the rest can resume (in memory, nothing was kept)."""

    exit_code = EXIT_NOT_GRADED

    def __init__(self, graded: int, total: int, resumable: bool = True):
        self.graded, self.total, self.resumable = graded, total, resumable
        rest = "; run the same command with --resume to grade the rest" if resumable else ""
        super().__init__(f"a grading process died after {graded} of {total} submission(s)"
                         + rest)


# -- grading on a Dask cluster ------------------------------------------------------


class DaskMissing(GraderError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"--scheduler grades on Dask, which is not installed here ({reason}): "
                         "pip install 'backprop-lab[dask]'")


class SchedulerUnreachable(GraderError):
    def __init__(self, address: str, reason: str):
        self.address, self.reason = address, reason
        super().__init__(f"cannot reach the Dask scheduler at {address}: {reason}")


class WorkerCannotGrade(GraderError):
    """A Dask worker would grade otherwise than this machine: another grader, another
    course, or an isolation it cannot have. Found before grading, nothing is graded; found
    on a worker that joined later, the run stops and the reports written so far stay."""

    def __init__(self, worker: str, reason: str):
        self.worker, self.reason = worker, reason
        super().__init__(f"the Dask worker {worker} cannot grade: {reason}")


class NoDaskWorkers(GraderError):
    """The cluster had no worker for too long; the reports written so far stay."""

    exit_code = EXIT_NOT_GRADED

    def __init__(self, address: str, seconds: float, progress: tuple[int, int] | None = None):
        self.address, self.seconds, self.progress = address, seconds, progress
        said = f"the Dask scheduler at {address} has had no worker for {seconds:g} s"
        if progress is None:
            super().__init__(f"{said}; start one: dask worker {address}")
        else:
            super().__init__(f"{said}, after {progress[0]} of {progress[1]} submission(s) "
                             "were graded; start workers and run the same command with "
                             "--resume to grade the rest")


# -- reports and the gradebook -----------------------------------------------------


class OutputAmongReports(GraderError):
    """A .json output written among the reports would be read as one by the next
    ``gradebook`` or ``class``."""

    def __init__(self, path: Path, reports_dir: Path):
        self.path, self.reports_dir = path, reports_dir
        super().__init__(f"{path}: a .json file in {reports_dir} would be read as a report; "
                         "write it elsewhere")


class NoReports(GraderError):
    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: holds no report (*.json)")


class DuplicateReport(GraderError):
    exit_code = 1

    def __init__(self, submission_id: str, paths: tuple[Path, Path]):
        self.submission_id = submission_id
        self.paths = paths
        super().__init__(f"two reports for {submission_id!r}: {paths[0]} and {paths[1]}")


class InvalidOverview(GraderError):
    """The class overview's data would not match its schema: a list of similar pairs in
    another shape, or a bug. Nothing is written."""

    exit_code = 1

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the class overview would not match its schema: {reason}")


# -- the course's outputs ----------------------------------------------------------


class ReleaseError(GraderError):
    """The bundle could not be made; nothing was left at the destination."""


class InvalidResults(GraderError):
    exit_code = 1

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"results.json would not match Gradescope's format: {reason}")


class NoProjectSource(GraderError):
    """``grader gradescope --project`` naming a folder that is not a checkout."""

    def __init__(self, project: Path):
        self.project = project
        super().__init__(f"{project}: not a backprop-lab checkout (pyproject.toml and the "
                         "packages grader/, exercises/, solutions/, autotests/); leave out "
                         "--project to bundle the grader installed here")


class WheelUnavailable(GraderError):
    """The installed grader cannot be made into the autograder's wheel."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"cannot bundle the grader for Gradescope: {reason}")


class BadAssignmentName(GraderError):
    def __init__(self, name: str, reason: str = ""):
        self.name = name
        super().__init__(f"{name!r} is not a usable nbgrader assignment name "
                         + (f"({reason})" if reason else
                            "(letters, digits, '_', '-' and '.', not starting with '.')"))


class MarkerInExplanation(GraderError):
    def __init__(self, path: Path, marker: str):
        self.path = path
        self.marker = marker
        super().__init__(f"{path}: the module docstring contains {marker!r}, which nbgrader "
                         "would treat as a region marker")


class NotInStudentBundle(GraderError):
    """An instructor tool used from the student bundle, where it is a placeholder."""
