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
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.contract import EXERCISE_NAMES
from grader.errors import DuplicateSubmissionId, EmptyDirectory, NoSuchPath, NotASubmission

MAX_SOURCE_BYTES = 1024 * 1024
MAX_ZIP_BYTES = 16 * 1024 * 1024
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Submission:
    """One student's work, read into memory."""

    id: str
    path: Path
    sources: dict[str, str]          # exercise module -> Python source
    sha256: str
    broken: dict[str, str] = field(default_factory=dict)  # module -> what is wrong with it
    problems: tuple[str, ...] = ()   # notes about the input as a whole


def exercise_file(name: str) -> str | None:
    """The exercise a file name stands for, or None."""
    path = PurePosixPath(name)
    if path.suffix in SUFFIXES and path.stem in EXERCISE_NAMES:
        return path.stem
    return None


def is_test_cell(cell: dict) -> bool:
    """An nbgrader autograder test cell (``grade`` and not ``solution``): the course's
    tests, which call the grader, never the student's code."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return (isinstance(nbgrader, dict) and nbgrader.get("grade") is True
            and not nbgrader.get("solution", False))


def notebook_source(raw: bytes) -> str:
    """The code cells of a notebook joined in order, without nbgrader's test cells,
    magics and shell escapes."""
    notebook = json.loads(raw.decode("utf-8"))
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("a notebook has a list of cells")
    parts = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            text = "".join(source)
        elif isinstance(source, str):
            text = source
        else:
            raise ValueError("a code cell's source is text or a list of lines")
        lines = [line for line in text.splitlines()
                 if not line.lstrip().startswith(("%", "!"))]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _read_module(name: str, raw: bytes) -> tuple[str | None, str | None]:
    """``(source, None)`` or ``(None, what is wrong)`` for one module file's bytes."""
    label = PurePosixPath(name).name
    if len(raw) > MAX_SOURCE_BYTES:
        # raw was read with a cap of one byte more: its length is not the file's size.
        return None, f"{label} is larger than the {MAX_SOURCE_BYTES}-byte cap"
    if not raw.strip():
        return None, f"{label} is empty"
    try:
        if label.endswith(".ipynb"):
            return notebook_source(raw), None
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, f"{label} is not UTF-8 text (byte {error.start})"
    except (ValueError, RecursionError) as error:
        return None, f"{label} is not a valid notebook ({str(error)[:200] or 'nested too deeply'})"


def _collect(files: dict[str, bytes], origin: Path, submission_id: str,
             problems: list[str]) -> Submission:
    """A Submission from ``{relative posix path: bytes}`` of candidate module files."""
    chosen: dict[str, tuple[str, bytes]] = {}
    # Nearer the root wins, and a .py wins over a notebook of the same exercise.
    for rel in sorted(files, key=lambda r: (len(PurePosixPath(r).parts), r.endswith(".ipynb"), r)):
        module = exercise_file(rel)
        if module and module not in chosen:
            chosen[module] = (rel, files[rel])
    sources, broken = {}, {}
    digest = hashlib.sha256()
    for module in sorted(chosen):
        rel, raw = chosen[module]
        digest.update(f"{module}\0{len(raw)}\0".encode())
        digest.update(raw)
        source, problem = _read_module(rel, raw)
        if problem:
            broken[module] = problem
        else:
            sources[module] = source
    return Submission(id=submission_id, path=origin, sources=sources, sha256=digest.hexdigest(),
                      broken=broken, problems=tuple(problems))


def _module_files(root: Path, problems: list[str]) -> dict[str, bytes]:
    """Exercise files at the root, under ``exercises/``, or one folder down."""
    found: dict[str, bytes] = {}
    places = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    for place in places:
        for path in sorted(place.iterdir()):
            if not exercise_file(path.name):
                continue
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() and not _inside(path, root):
                problems.append(f"{rel} is a link to a file outside the submission: ignored")
                continue
            if not path.is_file():
                continue
            with open(path, "rb") as stream:
                found[rel] = stream.read(MAX_SOURCE_BYTES + 1)
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def _zip_files(path: Path, problems: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise NotASubmission(path, f"not a readable zip: {error}") from None
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or not exercise_file(name.name):
                continue
            if name.is_absolute() or ".." in name.parts:
                problems.append(f"{info.filename} would land outside the submission: ignored")
                continue
            if len(name.parts) > 3:
                continue
            if info.file_size > MAX_SOURCE_BYTES:
                problems.append(f"{info.filename} is {info.file_size} bytes, over the cap: ignored")
                continue
            with archive.open(info) as member:
                found[name.as_posix()] = member.read(MAX_SOURCE_BYTES + 1)
    return found


def load(path: Path) -> Submission:
    """Read one submission; raises NotASubmission when ``path`` is none."""
    path = Path(path)
    problems: list[str] = []
    if not path.exists() and not path.is_symlink():
        raise NoSuchPath(path)
    if path.is_dir():
        files = _module_files(path, problems)
        if not files and not problems:
            raise EmptyDirectory(path)
        return _collect(files, path, submission_id(path), problems)
    if path.suffix == ".zip":
        if path.stat().st_size > MAX_ZIP_BYTES:
            raise NotASubmission(path, f"larger than {MAX_ZIP_BYTES} bytes")
        files = _zip_files(path, problems)
        if not files and not problems:
            raise NotASubmission(path, "the zip holds no exercise module or notebook")
        return _collect(files, path, submission_id(path), problems)
    module = exercise_file(path.name)
    if module is None:
        raise NotASubmission(path, "expected a folder, a .zip, or a file named after an "
                             f"exercise ({', '.join(EXERCISE_NAMES)}) ending in .py or .ipynb")
    with open(path, "rb") as stream:
        raw = stream.read(MAX_SOURCE_BYTES + 1)
    return _collect({path.name: raw}, path, submission_id(path), problems)


def is_submission(path: Path) -> bool:
    """Whether ``path`` looks like one submission rather than a folder of them."""
    if path.is_file():
        return path.suffix == ".zip" or exercise_file(path.name) is not None
    if not path.is_dir():
        return False
    return any(exercise_file(p.name) for p in path.iterdir()) or (
        (path / "exercises").is_dir() and any(exercise_file(p.name) for p in (path / "exercises").iterdir()))


def discover(paths: list[Path]) -> list[Path]:
    """The submissions named by ``paths``: each one itself, or each child of a folder of them."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise NoSuchPath(path)
        if is_submission(path):
            found.append(path)
            continue
        if not path.is_dir():
            load(path)  # raises the reason it is not a submission
        children = [c for c in sorted(path.iterdir())
                    if not c.name.startswith(".") and (c.is_dir() or c.suffix == ".zip"
                                                       or exercise_file(c.name))]
        children = [c for c in children if not c.is_dir() or _has_modules(c)]
        if not children:
            raise EmptyDirectory(path)
        found.extend(children)
    seen: dict[str, Path] = {}
    for path in found:
        # Two submissions with one id would write one report: the second would overwrite the first.
        earlier = seen.setdefault(submission_id(path), path)
        if earlier != path:
            raise DuplicateSubmissionId(submission_id(path), (earlier, path))
    return found


def submission_id(path: Path) -> str:
    """The id ``load`` gives ``path``: a folder's name, a file's name without its extension.

    ``.`` and ``..`` are named by the folder they stand for, never by an empty id.
    """
    path = Path(path)
    if path.name in ("", ".."):
        path = path.resolve()
    return path.name if path.is_dir() else path.stem


def _has_modules(folder: Path) -> bool:
    try:
        return bool(_module_files(folder, []))
    except OSError:
        return False
