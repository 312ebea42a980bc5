"""Gradescope: the autograder bundle, and results.json from a grading report.

``grader gradescope OUT.zip`` writes a zip with Gradescope's two entry points at its
root (https://gradescope-autograders.readthedocs.io/en/latest/specs/):

- ``setup.sh``, run once when Gradescope builds the image: bubblewrap from apt (where the
  image allows it), a virtual environment in ``/autograder/venv`` and ``pip install`` of
  the wheel beside it, ``backprop_lab-<version>-py3-none-any.whl`` (its dependencies come
  from PyPI); then :func:`check_isolation` says in the build log which isolation
  submissions will be graded under;
- ``run_autograder``, run for every submission: ``python -m grader gradescope-run``
  (:func:`run`), which grades ``/autograder/submission`` with the isolated worker, exactly
  as ``grader grade`` does, and writes ``/autograder/results/results.json``, with the
  isolation in force in its ``extra_data`` (which Gradescope stores and shows no student).

The wheel is the grader that builds the zip, wherever it is installed (a checkout, an
editable install, site-packages; :mod:`grader.course.wheel`), or the checkout
``--project`` names; the zip holds no checkout, so the same packages make the same bytes.
``AUTOGRADER_ROOT`` moves ``/autograder`` (to try the bundle on your own machine).
:func:`to_gradescope` is the one conversion from our report to Gradescope's format;
the result is validated against ``schemas/gradescope-results.schema.json`` before it
is written. Nothing the student's code printed goes into it.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from grader.course import wheel
from grader.errors import (
    GraderError,
    InvalidResults,
    NoOutputFolder,
    NoSuchPath,
    OutputNotWritable,
)
from grader.grading.discovery import exercise_file
from grader.grading.safe_read import list_folder, subfolders
from grader.reports import render, store
from grader.sandbox.isolation import Isolation

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_HIDDEN_VISIBILITY = "after_published"


# -- results.json --------------------------------------------------------------------


def schema() -> dict:
    return store.schema("gradescope-results")


def validate(data: dict) -> dict:
    """``data`` unchanged if it is valid Gradescope results; raises InvalidResults otherwise."""
    error = store.first_error(data, "gradescope-results")
    if error is not None:
        raise InvalidResults(error)
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
                  execution_time: float | None = None, isolation: dict | None = None) -> dict:
    """Gradescope's results.json for ``report`` (a dict valid against the report schema).

    Every test becomes one Gradescope test, named ``<exercise>: <test>``, with its score,
    ``status`` passed/failed, the report's message and hint as output, and the visibility
    ``visible`` (public tests) or ``hidden_visibility`` (hidden tests). What the student's
    code printed, tracebacks and the sandbox's evidence stay out: they are in the report.
    ``isolation`` (:func:`isolation_facts`) goes into the top-level ``extra_data``, which
    Gradescope stores without showing it (staff find it in "Export Submissions"); by
    default, the report's mechanism alone.
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
            "isolation": isolation or {"mechanism": report["isolation"]["mechanism"]},
            "max_score": report["max_score"],
        },
    }


# -- run_autograder ------------------------------------------------------------------


def isolation_facts(isolation: Isolation, accepted_weak: bool = False) -> dict:
    """The isolation in force, for the course staff: results.json's ``extra_data`` and
    the autograder's output. ``weaker_than_asked`` says why bubblewrap could not be had;
    ``weak_isolation_accepted`` appears where no kernel wall confines reads (basic without
    Landlock), which is graded only with ``--accept-weak-isolation``."""
    facts: dict = {"mechanism": isolation.mechanism, "kernel_walls": isolation.walls(),
                   "seccomp": isolation.seccomp, "landlock": isolation.landlock}
    if isolation.reason:
        facts["weaker_than_asked"] = isolation.reason
    if isolation.mechanism == "basic" and not isolation.landlock:
        facts["weak_isolation_accepted"] = accepted_weak
    return facts


def describe_facts(facts: dict) -> str:
    """:func:`isolation_facts` in one line."""
    line = (f"{facts['mechanism']}"
            + (" (no namespaces)" if facts["mechanism"] == "basic" else "")
            + f"; kernel walls: {', '.join(facts['kernel_walls']) or 'none'}"
            + f"; seccomp: {'on' if facts['seccomp'] else 'off'}")
    if facts.get("weaker_than_asked"):
        line += f"; weaker than asked: {facts['weaker_than_asked']}"
    if facts.get("weak_isolation_accepted"):
        line += "; graded with --accept-weak-isolation"
    return line


def submission_path(folder: Path) -> Path:
    """What to grade in Gradescope's submission folder: the folder itself, or the one zip
    at its top when it holds no exercise file (at its top or one folder down), as
    ``grader grade`` grades a folder that holds one zip."""
    try:
        entries = list_folder(folder)
        nested = [e for sub in subfolders(entries) for e in list_folder(Path(sub.path))]
    except (GraderError, OSError):
        return folder  # why it cannot be read is its failed report's message
    if any(exercise_file(entry.name) for entry in [*entries, *nested]):
        return folder
    zips = [entry for entry in entries if entry.name.endswith(".zip")
            and not entry.name.startswith(".") and not entry.is_dir()]
    return Path(zips[0].path) if len(zips) == 1 else folder


def run(root: Path, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
        timeout: float = 5.0, isolation: str = "auto", accept_weak: bool = False,
        assignment: str | None = None) -> dict:
    """Grade ``root/submission`` for ``assignment`` (None: the course's first) and write
    ``root/results/results.json``; returns its data.

    The submission folder is one submission, whatever it holds (a zip alone in it is
    graded, see :func:`submission_path`): one that cannot be graded gets a results.json
    with score 0 and the reason, as in a batch. An isolation that cannot be had raises
    before anything is written: Gradescope then marks the run as the autograder's failure,
    not the student's, and shows the staff the line saying why."""
    from grader import api
    from grader.reports.results import to_dict

    started = time.monotonic()
    root = Path(root)
    if not root.is_dir():
        raise NoSuchPath(root)
    graded = api.grade([submission_path(root / "submission")], None, isolation=isolation,
                       accept_weak_isolation=accept_weak, timeout=timeout,
                       assignment=assignment, discover=False)
    assert graded.reports is not None  # graded in memory
    report = store.validate(to_dict(graded.reports[0]), "submission")
    facts = isolation_facts(graded.isolation, accept_weak)
    data = validate(to_gradescope(report, hidden_visibility, time.monotonic() - started,
                                  facts))
    results = root / "results" / "results.json"
    try:
        results.parent.mkdir(exist_ok=True)  # Gradescope makes it; a local try may not
        store.write_atomic(results, json.dumps(data, indent=2, allow_nan=False) + "\n")
    except OSError as error:
        raise OutputNotWritable(results, error.strerror or str(error)) from None
    # Gradescope shows this stdout to the course staff only (stdout_visibility unset).
    print(f"{report['status']}: {_points(report['score'])}/{_points(report['max_score'])} "
          f"points, isolation {describe_facts(facts)}"
          + (f"; error: {report['error']}" if report["error"] else ""))
    return data


def check_isolation(isolation: str = "auto", accept_weak: bool = False) -> tuple[bool, str]:
    """What setup.sh says in the build log: the isolation run_autograder will grade under
    here, proved by grading the reference's first exercise's public tests in a worker with every
    wall up (the full bubblewrap command, seccomp, Landlock). ``(True, line)`` when
    submissions will be graded; ``(False, line)`` when they would be refused, or when a
    worker cannot run here."""
    from grader import api, contract
    from grader.course.notebooks import solutions_dir

    with tempfile.TemporaryDirectory(prefix="backprop-lab-probe-") as folder:
        probe = Path(folder) / "probe"
        probe.mkdir()
        first = contract.exercise_names()[0]
        shutil.copyfile(solutions_dir() / f"{first}.py", probe / f"{first}.py")
        try:
            graded = api.grade([probe], None, isolation=isolation, public_only=True,
                               accept_weak_isolation=accept_weak, exercise=first,
                               discover=False)
        except GraderError as error:
            return False, f"isolation: submissions would not be graded: {error}"
    assert graded.reports is not None  # graded in memory
    report = graded.reports[0]
    line = f"isolation: {describe_facts(isolation_facts(graded.isolation, accept_weak))}"
    tests = [test for exercise in report.exercises for test in exercise.tests]
    failed = [test for test in tests if test.status != "passed"]
    if report.error is not None or not tests or failed:
        why = report.error or (f"{failed[0].name}: {failed[0].status}: {failed[0].message}"
                               if failed else "no test ran")
        return False, f"{line}; but a worker could not grade the reference with it: {why}"
    return True, f"{line}; checked: the reference passed {len(tests)} public tests in it"


# -- the bundle ----------------------------------------------------------------------

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu): it
# installs bubblewrap (the sandbox around student code) where apt-get can, then the
# grader from the wheel in this zip (dependencies from PyPI) into a virtual environment,
# and says in the build log which isolation submissions will be graded under.
# AUTOGRADER_ROOT moves /autograder; PYTHON picks the interpreter (3.10 or newer);
# AUTOGRADER_NO_APT=1 installs nothing with apt-get (to try the zip on your machine).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
APT_UPDATED=""
apt_install() {  # where this image has apt-get and we are root
    if [ -n "${AUTOGRADER_NO_APT:-}" ] || ! command -v apt-get >/dev/null 2>&1 \\
            || [ "$(id -u)" != 0 ]; then
        return 1
    fi
    if [ -z "$APT_UPDATED" ]; then apt-get update -q || return 1; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -m venv "$ROOT/venv"; then
    # A bare Ubuntu image: Python, or its venv module, comes from apt.
    apt_install python3 python3-venv python3-pip
    PYTHON=python3
    "$PYTHON" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --no-cache-dir "$SOURCE/%(wheel)s"
if command -v bwrap >/dev/null 2>&1; then
    echo "setup.sh: bubblewrap is installed ($(command -v bwrap))"
elif apt_install bubblewrap; then
    echo "setup.sh: bubblewrap installed with apt-get"
else
    echo "setup.sh: bubblewrap could not be installed (AUTOGRADER_NO_APT, no apt-get, not" \\
         "root, or apt-get failed): submissions get basic isolation where its walls can be built"
fi
if ! "$ROOT/venv/bin/python" -I -m grader gradescope-run --check-isolation %(isolation)s; then
    echo "setup.sh: WARNING: submissions would not be graded on this image (see the line" \\
         "above): the README's Gradescope section says what to do"
fi
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission in the
# grader's isolated worker and write /autograder/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "$ROOT/venv/bin/python" -I -m grader gradescope-run --root "$ROOT" \\
    --hidden-visibility %(visibility)s --timeout %(timeout)s
"""  # build_bundle ends the exec line with the isolation flags


def build_bundle(out: Path, project: Path | None = None,
                 hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                 timeout: float = 5.0, isolation: str = "auto",
                 accept_weak: bool = False, assignment: str | None = None) -> list[str]:
    """Write the autograder zip to ``out``, whose folder must exist; returns the names it
    holds: setup.sh, run_autograder and the wheel of the grader installed here (of the
    checkout ``project``, if given). ``isolation``, ``accept_weak`` and ``assignment``
    (None: the course's first) are what run_autograder passes to ``gradescope-run`` (and
    setup.sh the first two to its check)."""
    from grader.api import ISOLATIONS, exercises_to_grade

    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise NoOutputFolder(out, "is not a folder" if out.parent.exists() else "does not exist")
    exercises_to_grade(assignment)  # an unknown assignment stops here, not on Gradescope
    wheel_name, wheel_bytes = wheel.build(project)
    flags = f"--isolation {isolation}" + (" --accept-weak-isolation" if accept_weak else "")
    graded_for = f" --assignment {assignment}" if assignment else ""
    scripts = {
        "setup.sh": SETUP_SH % {"wheel": wheel_name, "isolation": flags},
        "run_autograder": (RUN_AUTOGRADER % {"visibility": hidden_visibility,
                                             "timeout": f"{timeout:g}"}).rstrip()
                          + f" {flags}{graded_for}\n",
    }
    entries = [(name, text.encode("utf-8"), 0o100755, zipfile.ZIP_DEFLATED)  # executable
               for name, text in scripts.items()]
    entries.append((wheel_name, wheel_bytes, 0o100644, zipfile.ZIP_STORED))  # a zip already
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode, compression in entries:
            info = zipfile.ZipInfo(name, date_time=wheel.DATE)
            info.external_attr = mode << 16
            info.compress_type = compression
            archive.writestr(info, data)
    try:
        store.write_atomic(out, buffer.getvalue())
    except OSError as error:
        raise OutputNotWritable(out, error.strerror or str(error)) from None
    return [name for name, *_ in entries]

