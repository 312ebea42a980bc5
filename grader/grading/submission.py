"""Finding and reading submissions.

A submission is one of:

- a directory holding some or all of the six exercise modules, flat, inside an
  ``exercises/`` folder, or one folder further down (nbgrader's
  ``submitted/<student>/<assignment>/``);
- a single ``<exercise>.py`` or ``<exercise>.ipynb``;
- a ``.zip`` of any of those.

A notebook's code cells are joined in order, with IPython magics and shell escapes
dropped, and without nbgrader's autograder test cells (they call the grader, which the
worker refuses to import). The submission's id is its file or folder name without the extension.
Everything is read here, in the grader; the worker gets a copy of the sources only.

Submissions are untrusted input, read by the process that grades the whole class, so
reading one never blocks, never follows a student's link out of the submission, and
never holds more than one module's bytes at a time. Of several files for one exercise
only the one graded is opened. What is wrong with one file (not UTF-8, empty, over a cap)
costs that exercise; what makes the submission unreadable (a named pipe, socket or device
where a file should be, a symlink loop, an I/O error, a zip bomb) is a
:class:`~grader.errors.GraderError` naming it, which the batch turns into that
submission's failed report. ``load`` raises nothing else for anything in the input.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader import contract
from grader.errors import (
    DuplicateSubmissionId,
    EmptyDirectory,
    NoSuchPath,
    NotASubmission,
    StrayExerciseFiles,
    UnreadableSubmission,
)
from grader.grading.discovery import (
    child_submissions,
    choose_files,
    exercise_file,
    is_dir,
    is_submission,
    module_names,
)
from grader.grading.module_source import read_cap, read_module
from grader.grading.safe_read import list_folder, read_file, subfolders, why_unreadable
from grader.grading.zips import opened_zip


@dataclass(frozen=True)
class Submission:
    """One student's work, read into memory."""

    id: str
    path: Path
    sources: dict[str, str]          # exercise module -> Python source
    sha256: str
    broken: dict[str, str] = field(default_factory=dict)  # module -> what is wrong with it
    problems: tuple[str, ...] = ()   # notes about the input as a whole


def _collect(chosen: dict[str, str], read: Callable[[str], bytes], origin: Path,
             submission_id: str, problems: list[str]) -> Submission:
    """A Submission from the chosen file of each exercise, read one at a time by ``read``
    (which raises a GraderError when the file cannot be read at all)."""
    sources, broken = {}, {}
    digest = hashlib.sha256()
    for module in sorted(chosen):
        rel = chosen[module]
        raw = read(rel)
        digest.update(f"{module}\0{len(raw)}\0".encode())
        digest.update(raw)
        source, problem = read_module(rel, raw)
        del raw
        if problem:
            broken[module] = problem
        elif source is not None:  # always, without a problem
            sources[module] = source
    return Submission(id=submission_id, path=origin, sources=sources, sha256=digest.hexdigest(),
                      broken=broken, problems=tuple(problems))


# -- folders ----------------------------------------------------------------------------


def _folder_candidates(root: Path, problems: list[str]) -> dict[str, tuple[Path, str | None]]:
    """``{relative posix path: (file to open, None or why it cannot be)}`` for the exercise
    files at the root, under ``exercises/``, or one folder down. Nothing is opened here.

    A link is followed only to a file inside the submission; a link out of it, or to
    nothing, is a note in ``problems`` and is not graded.
    """
    root_entries = list_folder(root)
    places = [("", root_entries)] + [(f"{entry.name}/", list_folder(Path(entry.path)))
                                     for entry in subfolders(root_entries)]
    real_root = os.path.realpath(root)
    found: dict[str, tuple[Path, str | None]] = {}
    for prefix, entries in places:
        for entry in entries:
            if not exercise_file(entry.name) or entry.is_dir(follow_symlinks=False):
                continue
            rel = prefix + entry.name
            if not entry.is_symlink():
                found[rel] = (Path(entry.path), None)
                continue
            try:
                target = os.path.realpath(entry.path, strict=True)
            except FileNotFoundError:
                problems.append(f"{rel} is a link to a file that does not exist: ignored")
                continue
            except OSError as error:  # a loop: the submission fails if this file is graded
                found[rel] = (Path(entry.path), why_unreadable(error))
                continue
            if os.path.commonpath([target, real_root]) != real_root:
                problems.append(f"{rel} is a link to a file outside the submission: ignored")
                continue
            found[rel] = (Path(target), None)
    return found


def _load_folder(path: Path) -> Submission:
    problems: list[str] = []
    candidates = _folder_candidates(path, problems)
    if not candidates and not problems:
        raise EmptyDirectory(path)

    def read(rel: str) -> bytes:
        file, reason = candidates[rel]
        if reason is not None:
            raise UnreadableSubmission(path / rel, reason)
        return read_file(file, read_cap(rel), follow=False)

    return _collect(choose_files(candidates), read, path, submission_id(path), problems)


# -- zips -------------------------------------------------------------------------------


def _load_zip(path: Path) -> Submission:
    problems: list[str] = []
    with opened_zip(path, problems) as (chosen, read):
        return _collect(chosen, read, path, submission_id(path), problems)


# -- one submission, and a class of them --------------------------------------------------


def load(path: Path) -> Submission:
    """Read one submission.

    Raises a GraderError, and nothing else, for anything wrong with the input: NoSuchPath,
    NotASubmission, EmptyDirectory, UnreadableSubmission, ZipOverCap.
    """
    path = Path(path)
    try:
        return _load(path)
    except OSError as error:  # an I/O error not named nearer its cause (a listing's lstat)
        raise UnreadableSubmission(Path(error.filename or path), why_unreadable(error)) from None


def _load(path: Path) -> Submission:
    try:
        mode = os.stat(path).st_mode  # the path itself is the instructor's: links followed
    except FileNotFoundError:
        if not os.path.lexists(path):
            raise NoSuchPath(path) from None
        raise UnreadableSubmission(path, "a link to a file that does not exist") from None
    except OSError as error:
        raise UnreadableSubmission(path, why_unreadable(error)) from None
    if stat.S_ISDIR(mode):
        return _load_folder(path)
    if path.suffix == ".zip":
        return _load_zip(path)
    exercise = exercise_file(path.name)
    if exercise is None:
        names = ", ".join(contract.exercise_names())
        raise NotASubmission(path, "expected a folder, a .zip, or a file named after an "
                             f"exercise ({names}) ending in .py or .ipynb")
    return _collect({exercise: path.name},
                    lambda rel: read_file(path, read_cap(rel), follow=True),
                    path, submission_id(path), [])


def discover(paths: list[Path]) -> list[Path]:
    """The submissions named by ``paths``: each one itself, or each child of a folder of them.

    Nothing is read but folder listings: a file that turns out unreadable is that
    submission's failure when it is graded. A folder with exercise files at its top next
    to two or more submissions is refused (StrayExerciseFiles): graded as one submission
    it would merge the class.
    """
    try:
        found = _discover([Path(path) for path in paths])
    except OSError as error:  # a folder of the class that cannot be listed
        raise UnreadableSubmission(Path(error.filename or "."), why_unreadable(error)) from None
    seen: dict[str, Path] = {}
    for path in found:
        # Two submissions with one id would write one report: the second would overwrite the first.
        earlier = seen.setdefault(submission_id(path), path)
        if earlier != path:
            raise DuplicateSubmissionId(submission_id(path), (earlier, path))
    return found


def _discover(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if not os.path.lexists(path):
            raise NoSuchPath(path)
        if not is_dir(path):
            if not is_submission(path):
                load(path)  # raises the reason it is not a submission
            found.append(path)
            continue
        stray = module_names(path)
        children = child_submissions(path)
        if stray and len(children) >= 2:
            raise StrayExerciseFiles(path, stray, [child.name for child in children])
        if stray:
            found.append(path)
            continue
        if not children:
            raise EmptyDirectory(path)
        found.extend(children)
    return found


def submission_id(path: Path) -> str:
    """The id ``load`` gives ``path``: a folder's name, a file's name without its extension.

    ``.`` and ``..`` are named by the folder they stand for, never by an empty id.
    """
    path = Path(path)
    if path.name in ("", ".."):
        path = Path(os.path.realpath(path))
    return path.name if is_dir(path) else path.stem
