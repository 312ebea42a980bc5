"""The JSON report on disk: its schema, its validation, and writing it atomically."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import secrets
import stat
import sys
from importlib import resources
from pathlib import Path

from grader.errors import InvalidReport
from grader.reports.results import SubmissionReport, to_dict


@functools.cache
def schema(name: str = "report") -> dict:
    """The shipped JSON Schema ``schemas/<name>.schema.json``: the report's by default."""
    text = resources.files("grader.reports").joinpath(f"schemas/{name}.schema.json")
    return json.loads(text.read_text("utf-8"))


@functools.cache
def jsonschema():
    """jsonschema, imported on first use and without its optional IRI format checker.

    With Jupyter installed, jsonschema finds rfc3987_syntax and builds its grammar at
    import: 1.4 s added to every ``grader check``. Our schemas use no ``format``."""
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # makes that one import fail, as if absent
    try:
        import jsonschema as module
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return module


@functools.cache
def _validator(name: str):
    return jsonschema().Draft202012Validator(schema(name))


def first_error(data: dict, name: str = "report") -> str | None:
    """Where and why ``data`` breaks the schema ``name`` (``path: message``), or None."""
    error = jsonschema().exceptions.best_match(_validator(name).iter_errors(data))
    if error is None:
        return None
    return f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"


def validate(data: dict, origin: Path | str = "<report>") -> dict:
    """``data`` unchanged if it is a valid report; raises InvalidReport otherwise."""
    error = first_error(data)
    if error is not None:
        raise InvalidReport(origin, error)
    return data


def load(path: Path) -> dict:
    """A report read from disk and validated."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidReport(path, "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidReport(path, f"not JSON ({error})") from None
    return validate(data, path)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so that readers see the old file or the
    new, never half: a temporary file in the same folder, then ``os.replace``. On Linux
    the file has no name until it is written in full, so that a writer killed midway
    (SIGKILL, or its parent's death) leaves no temporary file behind.

    The file gets the permissions ``open(path, "w")`` would give it: an existing file keeps
    its mode, a new one gets 0666 less the umask (0644 under the usual 022), not the 0600 of
    ``tempfile.mkstemp``. The folder must exist: nothing here makes one.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if _write_unnamed(path, payload):
        return
    fd, temporary = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as stream:
            _write_all(stream, path, payload)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write_all(stream, path: Path, payload: bytes) -> None:
    _keep_mode(stream.fileno(), path)
    stream.write(payload)
    stream.flush()
    os.fsync(stream.fileno())


def _write_unnamed(path: Path, payload: bytes) -> bool:
    """Write through an unnamed file (O_TMPFILE), linked to a temporary name once complete;
    False, having written nothing, where the system or the file system has no such files."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False  # the named path below says why, in its own words
    try:
        try:
            fd = os.open(path.parent, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as error:
            if error.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                return False
            raise
        with os.fdopen(fd, "wb") as stream:
            _write_all(stream, path, payload)
            name = _link_unnamed(stream.fileno(), folder, path.name)
        if name is None:
            return False
        temporary = os.path.join(path.parent, name)
        try:
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return True
    finally:
        os.close(folder)


def _link_unnamed(fd: int, folder: int, name: str) -> str | None:
    """A temporary name in ``folder`` for the unnamed file ``fd`` (linkat through /proc,
    following the link); None where the kernel refuses it."""
    for _ in range(100):
        temporary = f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            os.link(f"/proc/self/fd/{fd}", temporary, src_dir_fd=folder, dst_dir_fd=folder,
                    follow_symlinks=True)
            return temporary
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno in (errno.EXDEV, errno.EPERM, errno.ENOENT, errno.EACCES):
                return None
            raise
    raise FileExistsError(errno.EEXIST, "no unused temporary name")


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` next to ``path``, open for writing, created with
    mode 0666 so that the kernel applies the umask (and a default ACL) as for ``open``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(path.parent))


def _keep_mode(fd: int, path: Path) -> None:
    """Give the temporary file ``fd`` the permissions of the file it replaces, if any."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode):
        os.fchmod(fd, stat.S_IMODE(mode) & 0o777)


def dumps(report: SubmissionReport) -> str:
    """The report as JSON text, validated first: nothing invalid is ever written."""
    return dumps_data(to_dict(report), report.submission.id)


def dumps_data(data: dict, origin: str = "<report>") -> str:
    """A report's data as JSON text, validated first."""
    validate(data, origin)
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write(report: SubmissionReport, out_dir: Path) -> Path:
    return write_data(to_dict(report), out_dir)


def write_data(data: dict, out_dir: Path) -> Path:
    """Validate a report's data and write it atomically as ``<id>.json`` in ``out_dir``."""
    text = dumps_data(data)
    path = Path(out_dir) / f"{data['submission']['id']}.json"
    write_atomic(path, text)
    return path
