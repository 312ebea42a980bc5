"""The JSON report on disk: its schema, its validation, and writing it atomically."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grader.errors import InvalidReport
from grader.reports.results import SubmissionReport, to_dict


@functools.cache
def schema() -> dict:
    text = resources.files("grader.reports").joinpath("schemas/report.schema.json")
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
def _validator():
    return jsonschema().Draft202012Validator(schema())


def validate(data: dict, origin: Path | str = "<report>") -> dict:
    """``data`` unchanged if it is a valid report; raises InvalidReport otherwise."""
    error = jsonschema().exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise InvalidReport(origin, f"{where}: {error.message}")
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


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new, never half."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def dumps(report: SubmissionReport) -> str:
    """The report as JSON text, validated first: nothing invalid is ever written."""
    data = validate(to_dict(report), report.submission.id)
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write(report: SubmissionReport, out_dir: Path) -> Path:
    path = Path(out_dir) / f"{report.submission.id}.json"
    write_atomic(path, dumps(report))
    return path
