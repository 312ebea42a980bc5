"""The grader's errors: one base class, subclasses that carry their data.

The CLI turns any of them into one line on stderr and the exit code they name.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_NOT_GRADED = 1
EXIT_USAGE = 2


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
        super().__init__(f"{path}: cannot write reports there ({reason})")


class DuplicateSubmissionId(GraderError):
    def __init__(self, submission_id: str, paths: tuple[Path, Path]):
        self.submission_id = submission_id
        self.paths = paths
        super().__init__(
            f"two submissions share the id {submission_id!r}: {paths[0]} and {paths[1]}"
        )


class MalformedSolution(GraderError):
    def __init__(self, path: Path, line: int, reason: str):
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


class StubsOutOfDate(GraderError):
    exit_code = EXIT_NOT_GRADED

    def __init__(self, paths: list[Path]):
        self.paths = paths
        names = ", ".join(str(p) for p in paths)
        super().__init__(f"stubs out of date, run `grader stubs`: {names}")


class InvalidReport(GraderError):
    exit_code = EXIT_NOT_GRADED

    def __init__(self, path: Path | str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: invalid report: {reason}")
