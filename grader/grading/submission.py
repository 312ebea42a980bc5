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

import errno
import hashlib
import json
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.contract import EXERCISE_NAMES
from grader.errors import (
    DuplicateSubmissionId,
    EmptyDirectory,
    NoSuchPath,
    NotASubmission,
    StrayExerciseFiles,
    UnreadableSubmission,
    ZipOverCap,
)

MiB = 1024 * 1024
# A module's source, and the code cells of a notebook once joined: the reference
# solutions are a few KiB each, so 1 MiB is hundreds of times any honest answer.
MAX_SOURCE_BYTES = 1 * MiB
# A notebook file as saved, outputs included: plots are base64 PNGs of 50 KiB to a few
# MiB each, so 64 MiB holds any course notebook with its figures, while a file past it is
# refused after reading 64 MiB + 1 bytes, never whole. Parsing one at the cap peaks at
# about three times its size (bytes, text, parsed strings): ~200 MB, one file at a time.
MAX_NOTEBOOK_BYTES = 64 * MiB
# Bytes of a notebook that can open or separate a JSON value ({ [ , :): a bound on the
# objects json.loads builds. 64 MiB of "{}," would parse into 1.5 GB of empty dicts; a
# million values is at most ~75 MB, and a notebook's plots (base64) hold none of them.
MAX_NOTEBOOK_ITEMS = 1_000_000
# A zip as a file: six notebooks with plots compress to a few MiB.
MAX_ZIP_BYTES = 16 * MiB
# Members of a zip, and the size of its central directory, checked before zipfile parses
# it (each member costs ~600 bytes of Python objects): a student's zipped project folder,
# caches and .git included, has hundreds; 2 MiB is 5,000 members with 400-byte names
# and extras, and at worst ~45,000 empty ones, ~30 MB parsed.
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_DIRECTORY_BYTES = 2 * MiB
# The members' total size as the central directory declares it, and the bytes actually
# inflated from the members read: 8 times the zip cap. Code and notebooks compress 2 to 5
# times (base64 plots barely); a bomb declares or inflates gigabytes.
MAX_ZIP_UNCOMPRESSED_BYTES = 128 * MiB
# The compressions read. zipfile inflates bzip2 and lzma without an output bound (a
# 400 KB zip of bzip2 became 2.6 GB), deflate with one; every zip tool writes deflate.
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ZIP_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
# What zipfile raises on a malformed archive or member (it documents only BadZipFile).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
              NotImplementedError, RuntimeError, struct.error, zlib.error, OSError)
READ_CHUNK = 64 * 1024
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


def read_cap(name: str) -> int:
    """The most bytes read from an exercise file: a notebook's outputs make it larger."""
    return MAX_NOTEBOOK_BYTES if name.endswith(".ipynb") else MAX_SOURCE_BYTES


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
    notebook = label.endswith(".ipynb")
    cap = read_cap(label)
    if len(raw) > cap:
        # raw was read with a cap of one byte more: its length is not the file's size.
        return None, f"{label} is larger than the {cap}-byte cap" + (
            " for a notebook" if notebook else "")
    if not raw or raw.isspace():
        return None, f"{label} is empty"
    try:
        if not notebook:
            return raw.decode("utf-8-sig"), None
        items = sum(raw.count(mark) for mark in (b"{", b"[", b",", b":"))
        if items > MAX_NOTEBOOK_ITEMS:
            return None, (f"{label} is not a valid notebook (over {MAX_NOTEBOOK_ITEMS:,} "
                          "JSON values)")
        source = notebook_source(raw)
        if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
            return None, f"{label}'s code cells are larger than the {MAX_SOURCE_BYTES}-byte cap"
        return source, None
    except UnicodeDecodeError as error:
        return None, f"{label} is not UTF-8 text (byte {error.start})"
    except (ValueError, RecursionError) as error:
        return None, f"{label} is not a valid notebook ({str(error)[:200] or 'nested too deeply'})"


def _choose(rels: Iterable[str]) -> dict[str, str]:
    """``{exercise: relative path}``: of several files for one exercise, nearer the root
    wins, and a .py wins over a notebook of the same exercise."""
    chosen: dict[str, str] = {}
    for rel in sorted(rels, key=lambda r: (len(PurePosixPath(r).parts), r.endswith(".ipynb"), r)):
        module = exercise_file(rel)
        if module and module not in chosen:
            chosen[module] = rel
    return chosen


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
        source, problem = _read_module(rel, raw)
        del raw
        if problem:
            broken[module] = problem
        elif source is not None:  # always, without a problem
            sources[module] = source
    return Submission(id=submission_id, path=origin, sources=sources, sha256=digest.hexdigest(),
                      broken=broken, problems=tuple(problems))


# -- reading files without blocking -----------------------------------------------------

FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
              (stat.S_ISDIR, "a folder"))


def _not_a_file(mode: int) -> str:
    kind = next((name for test, name in FILE_KINDS if test(mode)), "not a regular file")
    return f"{kind} where a file should be"


def _why(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    return error.strerror or type(error).__name__


def _read_capped(read: Callable[[int], bytes], cap: int) -> bytes:
    """At most ``cap + 1`` bytes from ``read``, in chunks: a size declared anywhere is
    never trusted, and one byte past the cap says the cap was passed."""
    chunks, total = [], 0
    while total <= cap:
        chunk = read(min(READ_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _open_file(path: Path, follow: bool) -> int:
    """A descriptor of the regular file at ``path``, opened without blocking.

    The type is checked before opening (a device is never opened, a named pipe never
    waited on) and again on the descriptor, in case the file was swapped in between.
    ``follow=False`` refuses a link in the last component.
    """
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableSubmission(path, _not_a_file(mode))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                     | (0 if follow else getattr(os, "O_NOFOLLOW", 0)))
    except OSError as error:
        raise UnreadableSubmission(path, _why(error)) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as error:
        os.close(fd)
        raise UnreadableSubmission(path, _why(error)) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableSubmission(path, _not_a_file(mode))
    return fd


def _read_file(path: Path, cap: int, follow: bool) -> bytes:
    fd = _open_file(path, follow)
    try:
        return _read_capped(lambda n: os.read(fd, n), cap)
    except OSError as error:
        raise UnreadableSubmission(path, _why(error)) from None
    finally:
        os.close(fd)


# -- folders ----------------------------------------------------------------------------


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        raise UnreadableSubmission(folder, _why(error)) from None


def _subfolders(entries: list[os.DirEntry]) -> list[os.DirEntry]:
    """The real folders among ``entries``: a link to a folder is not followed."""
    return [entry for entry in entries if entry.is_dir(follow_symlinks=False)]


def _folder_candidates(root: Path, problems: list[str]) -> dict[str, tuple[Path, str | None]]:
    """``{relative posix path: (file to open, None or why it cannot be)}`` for the exercise
    files at the root, under ``exercises/``, or one folder down. Nothing is opened here.

    A link is followed only to a file inside the submission; a link out of it, or to
    nothing, is a note in ``problems`` and is not graded.
    """
    root_entries = _entries(root)
    places = [("", root_entries)] + [(f"{entry.name}/", _entries(Path(entry.path)))
                                     for entry in _subfolders(root_entries)]
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
                found[rel] = (Path(entry.path), _why(error))
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
        return _read_file(file, read_cap(rel), follow=False)

    return _collect(_choose(candidates), read, path, submission_id(path), problems)


# -- zips -------------------------------------------------------------------------------


def _zip_directory_size(stream) -> int | None:
    """The size of a zip's central directory, found as zipfile finds it (the last end
    record in the final 64 KiB, then a zip64 record right before it), or None."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    searched = max(size - (1 << 16) - 22, 0)
    start = max(searched - 76, 0)  # room for the zip64 locator and record before it
    stream.seek(start)
    tail = stream.read()
    at = tail.rfind(b"PK\x05\x06", searched - start)
    if at < 0 or at + 22 > len(tail):
        return None
    directory = struct.unpack_from("<I", tail, at + 12)[0]
    if (at >= 76 and tail[at - 20:at - 16] == b"PK\x06\x07"
            and tail[at - 76:at - 72] == b"PK\x06\x06"):
        directory = struct.unpack_from("<Q", tail, at - 76 + 40)[0]
    return directory


def _zip_candidates(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, zipfile.ZipInfo]:
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if info.is_dir() or not exercise_file(name.name):
            continue
        if name.is_absolute() or ".." in name.parts:
            problems.append(f"{info.filename} would land outside the submission: ignored")
            continue
        if len(name.parts) > 3:
            continue
        found[name.as_posix()] = info  # of two members with one name, unzip leaves the last
    return found


def _load_zip(path: Path) -> Submission:
    problems: list[str] = []
    fd = _open_file(path, follow=True)
    with os.fdopen(fd, "rb") as stream:
        try:
            size = os.fstat(fd).st_size
            if size > MAX_ZIP_BYTES:
                raise NotASubmission(path, f"larger than {MAX_ZIP_BYTES} bytes")
            directory = _zip_directory_size(stream)
            if directory is not None and directory > MAX_ZIP_DIRECTORY_BYTES:
                raise ZipOverCap(path, "bytes of central directory", directory,
                                 MAX_ZIP_DIRECTORY_BYTES)
            stream.seek(0)
            archive = zipfile.ZipFile(stream)
        except ZIP_ERRORS as error:
            raise NotASubmission(path, f"not a readable zip: {error}") from None
        with archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ZipOverCap(path, "members", len(members), MAX_ZIP_MEMBERS)
            declared = sum(info.file_size for info in members)
            if declared > MAX_ZIP_UNCOMPRESSED_BYTES:
                raise ZipOverCap(path, "bytes uncompressed (declared)", declared,
                                 MAX_ZIP_UNCOMPRESSED_BYTES)
            candidates = _zip_candidates(archive, problems)
            chosen = _choose(candidates)
            if not chosen and not problems:
                raise NotASubmission(path, "the zip holds no exercise module or notebook")
            for rel in chosen.values():
                info = candidates[rel]
                if info.compress_type not in ZIP_METHODS:
                    method = ZIP_METHOD_NAMES.get(info.compress_type,
                                                  f"method {info.compress_type}")
                    raise NotASubmission(path, f"{rel} is compressed with {method}; only "
                                               "stored and deflate members are read: "
                                               "zip it again with a standard zip tool")
                if info.flag_bits & 0x1:
                    raise NotASubmission(path, f"{rel} is encrypted")
            inflated = 0

            def read(rel: str) -> bytes:
                nonlocal inflated
                try:
                    with archive.open(candidates[rel]) as member:
                        raw = _read_capped(member.read, read_cap(rel))
                except ZIP_ERRORS as error:
                    raise NotASubmission(path, f"{rel} in the zip is corrupt ({error})") from None
                inflated += len(raw)
                if inflated > MAX_ZIP_UNCOMPRESSED_BYTES:
                    raise ZipOverCap(path, "bytes inflated", inflated, MAX_ZIP_UNCOMPRESSED_BYTES)
                return raw

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
        raise UnreadableSubmission(Path(error.filename or path), _why(error)) from None


def _load(path: Path) -> Submission:
    try:
        mode = os.stat(path).st_mode  # the path itself is the instructor's: links followed
    except FileNotFoundError:
        if not os.path.lexists(path):
            raise NoSuchPath(path) from None
        raise UnreadableSubmission(path, "a link to a file that does not exist") from None
    except OSError as error:
        raise UnreadableSubmission(path, _why(error)) from None
    if stat.S_ISDIR(mode):
        return _load_folder(path)
    if path.suffix == ".zip":
        return _load_zip(path)
    exercise = exercise_file(path.name)
    if exercise is None:
        raise NotASubmission(path, "expected a folder, a .zip, or a file named after an "
                             f"exercise ({', '.join(EXERCISE_NAMES)}) ending in .py or .ipynb")
    return _collect({exercise: path.name},
                    lambda rel: _read_file(path, read_cap(rel), follow=True),
                    path, submission_id(path), [])


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (a link to one counts); False when it cannot be told."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _module_names(folder: Path) -> list[str]:
    """The exercise files a folder holds at its top or in its ``exercises/``, by name only."""
    def files(entries: list[os.DirEntry]) -> list[str]:
        return [e.name for e in entries
                if exercise_file(e.name) and not e.is_dir(follow_symlinks=False)]

    entries = _entries(folder)
    names = files(entries)
    for entry in _subfolders(entries):
        if entry.name == "exercises":
            names += [f"exercises/{name}" for name in files(_entries(Path(entry.path)))]
    return names


def _has_modules(folder: Path) -> bool:
    """Whether a folder would be a submission: exercise files at its top, in its
    ``exercises/`` or one folder down. By name only: nothing is opened. A folder that
    cannot be listed counts, so that its failure is reported, not skipped."""
    try:
        entries = _entries(folder)
        return any(exercise_file(e.name) for e in entries) or any(
            exercise_file(e.name) for sub in _subfolders(entries) for e in _entries(Path(sub.path)))
    except (UnreadableSubmission, OSError):
        return True


def _child_submissions(folder: Path) -> list[Path]:
    """The children of a class folder that are submissions: folders holding exercise
    files and zips; hidden ones left out."""
    children = []
    for entry in _entries(folder):
        child = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if _is_dir(child):
            if entry.name != "exercises" and _has_modules(child):
                children.append(child)
        elif child.suffix == ".zip":
            children.append(child)
    return children


def is_submission(path: Path) -> bool:
    """Whether ``path`` looks like one submission rather than a folder of them: a file
    named like one, or a folder with exercise files at its top or in ``exercises/``."""
    path = Path(path)
    if not _is_dir(path):
        named = path.suffix == ".zip" or exercise_file(path.name) is not None
        return named and os.path.lexists(path)
    return bool(_module_names(path))


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
        raise UnreadableSubmission(Path(error.filename or "."), _why(error)) from None
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
        if not _is_dir(path):
            if not is_submission(path):
                load(path)  # raises the reason it is not a submission
            found.append(path)
            continue
        stray = _module_names(path)
        children = _child_submissions(path)
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
    return path.name if _is_dir(path) else path.stem
