"""Exercise files and submissions told apart by their names and folder listings alone.

Nothing here opens a file: which file of an exercise is graded, and whether a path is one
submission or a folder of them, is decided from names, and a file that turns out
unreadable is that submission's failure when it is loaded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from grader import contract
from grader.errors import UnreadableSubmission
from grader.grading.safe_read import list_folder, subfolders

SUFFIXES = (".py", ".ipynb")


def exercise_file(name: str) -> str | None:
    """The exercise a file name stands for, or None."""
    path = PurePosixPath(name)
    if path.suffix in SUFFIXES and path.stem in contract.exercise_names():
        return path.stem
    return None


def choose_files(rels: Iterable[str]) -> dict[str, str]:
    """``{exercise: relative path}``: of several files for one exercise, nearer the root
    wins, and a .py wins over a notebook of the same exercise."""
    chosen: dict[str, str] = {}
    for rel in sorted(rels, key=lambda r: (len(PurePosixPath(r).parts), r.endswith(".ipynb"), r)):
        module = exercise_file(rel)
        if module and module not in chosen:
            chosen[module] = rel
    return chosen


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (a link to one counts); False when it cannot be told."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def module_names(folder: Path) -> list[str]:
    """The exercise files a folder holds at its top or in its ``exercises/``, by name only."""
    def files(entries: list[os.DirEntry]) -> list[str]:
        return [e.name for e in entries
                if exercise_file(e.name) and not e.is_dir(follow_symlinks=False)]

    entries = list_folder(folder)
    names = files(entries)
    for entry in subfolders(entries):
        if entry.name == "exercises":
            names += [f"exercises/{name}" for name in files(list_folder(Path(entry.path)))]
    return names


def _has_modules(folder: Path) -> bool:
    """Whether a folder would be a submission: exercise files at its top, in its
    ``exercises/`` or one folder down. By name only: nothing is opened. A folder that
    cannot be listed counts, so that its failure is reported, not skipped."""
    try:
        entries = list_folder(folder)
        return any(exercise_file(e.name) for e in entries) or any(
            exercise_file(e.name)
            for sub in subfolders(entries) for e in list_folder(Path(sub.path)))
    except (UnreadableSubmission, OSError):
        return True


def child_submissions(folder: Path) -> list[Path]:
    """The children of a class folder that are submissions: folders holding exercise
    files and zips; hidden ones left out."""
    children = []
    for entry in list_folder(folder):
        child = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if is_dir(child):
            if entry.name != "exercises" and _has_modules(child):
                children.append(child)
        elif child.suffix == ".zip":
            children.append(child)
    return children


def is_submission(path: Path) -> bool:
    """Whether ``path`` looks like one submission rather than a folder of them: a file
    named like one, or a folder with exercise files at its top or in ``exercises/``."""
    path = Path(path)
    if not is_dir(path):
        named = path.suffix == ".zip" or exercise_file(path.name) is not None
        return named and os.path.lexists(path)
    return bool(module_names(path))
