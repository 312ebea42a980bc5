"""Gradescope: the autograder bundle, and results.json from a grading report.

``grader gradescope OUT.zip`` writes a zip with Gradescope's two entry points at its
root (https://gradescope-autograders.readthedocs.io/en/latest/specs/):

- ``setup.sh``, run once when Gradescope builds the image: a virtual environment in
  ``/autograder/venv`` and ``pip install`` of the project source, which the zip carries
  in ``backprop-lab/`` (pyproject.toml, README.md, grader/, exercises/, solutions/,
  autotests/);
- ``run_autograder``, run for every submission: ``python -m grader gradescope-run``
  (:func:`run`), which grades ``/autograder/submission`` with the isolated worker, exactly
  as ``grader grade`` does, and writes ``/autograder/results/results.json``.

``AUTOGRADER_ROOT`` moves ``/autograder`` (to try the bundle on your own machine).
:func:`to_gradescope` is the one conversion from our report to Gradescope's format;
the result is validated against ``schemas/gradescope-results.schema.json`` before it
is written. Nothing the student's code printed goes into it.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import tempfile
import time
import zipfile
from importlib import resources
from pathlib import Path

from grader.errors import InvalidResults, NoProjectSource, OutputNotWritable
from grader.reports import render, store

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_HIDDEN_VISIBILITY = "after_published"
PROJECT_DIR = "backprop-lab"  # the project source inside the bundle
PACKAGES = ("grader", "exercises", "solutions", "autotests")
PROJECT_FILES = ("pyproject.toml", "README.md")


# -- results.json --------------------------------------------------------------------


@functools.cache
def schema() -> dict:
    text = resources.files("grader.reports").joinpath("schemas/gradescope-results.schema.json")
    return json.loads(text.read_text("utf-8"))


def validate(data: dict) -> dict:
    """``data`` unchanged if it is valid Gradescope results; raises InvalidResults otherwise."""
    jsonschema = store.jsonschema()
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise InvalidResults(f"{where}: {error.message}")
    return data


def _points(value: float) -> str:
    return f"{value:g}"


def _test_output(test: dict) -> str:
    lines = [f"{render.STATUS_WORDS.get(test['status'], test['status'])}: "
             f"{_points(test['score'])}/{_points(test['max_score'])} points"]
    if test["message"]:
        lines.append(test["message"])
    if test["hint"]:
        lines.append(f"Hint: {test['hint']}")
    return "\n".join(lines)


def _summary(report: dict, hidden_visibility: str) -> str:
    if report["status"] != "graded":
        return f"Your submission could not be graded: {report['error']}"
    lines = [f"Backprop Lab: {_points(report['score'])}/{_points(report['max_score'])} points"]
    for exercise in report["exercises"]:
        failed = sum(test["status"] != "passed" for test in exercise["tests"])
        note = f"  ({failed} of {len(exercise['tests'])} tests not passed)" if failed else ""
        lines.append(f"  {exercise['name']:<14} {_points(exercise['score']):>3}/"
                     f"{_points(exercise['max_score'])}{note}")
    if hidden_visibility != "visible" and any(
            test["visibility"] == "hidden" for e in report["exercises"] for test in e["tests"]):
        shown = {"hidden": "are for the course staff only",
                 "after_due_date": "appear after the due date",
                 "after_published": "appear once the grades are published"}[hidden_visibility]
        lines.append(f"The hidden tests' results {shown}.")
    if report["problems"]:
        lines += ["About your files:"] + [f"  - {problem}" for problem in report["problems"]]
    return "\n".join(lines)


def to_gradescope(report: dict, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                  execution_time: float | None = None) -> dict:
    """Gradescope's results.json for ``report`` (a dict valid against the report schema).

    Every test becomes one Gradescope test, named ``<exercise>: <test>``, with its score,
    ``status`` passed/failed, the report's message and hint as output, and the visibility
    ``visible`` (public tests) or ``hidden_visibility`` (hidden tests). What the student's
    code printed, tracebacks and the sandbox's evidence stay out: they are in the report.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests = []
    for number, exercise in enumerate(report["exercises"], start=1):
        for index, test in enumerate(exercise["tests"], start=1):
            extra = {"status": test["status"]}
            if test["misconception"]:
                extra["misconception"] = test["misconception"]
            tests.append({
                "name": f"{exercise['name']}: {test['name']}",
                "number": f"{number}.{index}",
                "score": test["score"],
                "max_score": test["max_score"],
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": _test_output(test),
                "tags": [exercise["name"]],
                "visibility": "visible" if test["visibility"] == "visible" else hidden_visibility,
                "extra_data": extra,
            })
    seconds = report["duration_s"] if execution_time is None else execution_time
    return {
        "score": report["score"],
        "execution_time": max(0, math.ceil(seconds)),
        "output": _summary(report, hidden_visibility),
        "tests": tests,
        "extra_data": {
            "submission_sha256": report["submission"]["sha256"],
            "grader_version": report["grader"]["version"],
            "isolation": report["isolation"].get("mechanism", ""),
            "max_score": report["max_score"],
        },
    }


# -- run_autograder ------------------------------------------------------------------


def run(root: Path, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
        timeout: float = 5.0, isolation: str = "auto", accept_weak: bool = False) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; returns its data.

    The submission folder is one submission, whatever it holds: one that cannot be graded
    gets a results.json with score 0 and the reason, as in a batch."""
    from grader import api
    from grader.reports.results import to_dict

    started = time.monotonic()
    results_dir = Path(root) / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    graded = api.grade([Path(root) / "submission"], None, isolation=isolation,
                       accept_weak_isolation=accept_weak, timeout=timeout, discover=False)
    if graded.note:
        print(f"grader: {graded.note}")
    assert graded.reports is not None  # graded in memory
    report = store.validate(to_dict(graded.reports[0]), "submission")
    data = validate(to_gradescope(report, hidden_visibility, time.monotonic() - started))
    store.write_atomic(results_dir / "results.json",
                           json.dumps(data, indent=2, allow_nan=False) + "\n")
    # Gradescope shows this stdout to the course staff only.
    print(f"{report['status']}: {_points(report['score'])}/{_points(report['max_score'])} "
          f"points, isolation {report['isolation'].get('mechanism')}"
          + (f", error: {report['error']}" if report["error"] else ""))
    return data


# -- the bundle ----------------------------------------------------------------------

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: it installs the
# grader from the project source in this zip into a virtual environment.
# AUTOGRADER_ROOT moves /autograder; PYTHON picks the interpreter (3.10 or newer).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -m venv "$ROOT/venv"; then
    # A bare Ubuntu image: Python, or its venv module, comes from apt.
    apt-get update && apt-get install -y python3 python3-venv python3-pip
    PYTHON=python3
    "$PYTHON" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --no-cache-dir "$SOURCE/%(project)s"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission in the
# grader's isolated worker and write /autograder/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "$ROOT/venv/bin/python" -I -m grader gradescope-run --root "$ROOT" \\
    --hidden-visibility %(visibility)s --timeout %(timeout)s
"""


def find_project(project: Path | None = None) -> Path:
    """The project source: ``project``, else the current folder, else the grader's checkout."""
    import grader

    tried = [Path(project)] if project else [Path.cwd(), Path(grader.__file__).resolve().parents[1]]
    for candidate in tried:
        if (candidate / "pyproject.toml").is_file() and (candidate / "grader" / "cli.py").is_file():
            return candidate.resolve()
    raise NoProjectSource(tried)


def _project_files(project: Path) -> list[tuple[Path, str]]:
    """``(file, name in the zip)`` for the project source, without caches and bytecode."""
    files = [(project / name, f"{PROJECT_DIR}/{name}") for name in PROJECT_FILES
             if (project / name).is_file()]
    for package in PACKAGES:
        for path in sorted((project / package).rglob("*")):
            rel = path.relative_to(project)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc" \
                    and not any(part.startswith(".") for part in rel.parts):
                files.append((path, f"{PROJECT_DIR}/{rel.as_posix()}"))
    return files


def build_bundle(out: Path, project: Path | None = None,
                 hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                 timeout: float = 5.0) -> list[str]:
    """Write the autograder zip to ``out``; returns the names it holds."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    source = find_project(project)
    scripts = {
        "setup.sh": SETUP_SH % {"project": PROJECT_DIR},
        "run_autograder": RUN_AUTOGRADER % {"visibility": hidden_visibility,
                                            "timeout": f"{timeout:g}"},
    }
    out = Path(out)
    buffer = io.BytesIO()
    names = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 << 16)  # a regular, executable file
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
            names.append(name)
        for path, name in _project_files(source):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100644 << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
            names.append(name)
    temporary = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as stream:
            stream.write(buffer.getvalue())
        os.replace(temporary, out)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise OutputNotWritable(out, error.strerror or str(error)) from None
    return names

