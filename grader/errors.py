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
