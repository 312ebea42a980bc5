"""The exit codes of ``grader``, one test per row of the README's table ("The CLI"):

0 done; 1 a submission could not be graded, or a check failed (a public test, stale
stubs, a report that exists but is invalid); 2 bad usage, a missing input among them,
and an output whose folder is missing (no command makes a folder it was not asked for);
130 interrupted. Every failure is one ``grader:`` line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import errors
from grader.cli import main
from grader.reports import store
from tests.conftest import EXAMPLES, ROOT, SOLUTIONS

ALICE = EXAMPLES / "alice_correct"


def grader(*args) -> subprocess.CompletedProcess:
    """``grader ARGS`` as a real program, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(stderr: str, *words: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_the_codes_are_the_readmes():
    """Do the named exit codes and the README's table agree?"""
    assert (errors.EXIT_NOT_GRADED, errors.EXIT_CHECK_FAILED, errors.EXIT_USAGE,
            errors.EXIT_INTERRUPTED) == (1, 1, 2, 130)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert code in readme, code


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """alice graded into a folder ``grade`` made (its parent exists): a valid report."""
    out = tmp_path_factory.mktemp("exit-codes") / "reports"
    result = invoke("grade", ALICE, "--out", out)
    assert result.exit_code == 0, result.output
    return out


# -- 0: done -------------------------------------------------------------------------


def test_0_done(graded, tmp_path):
    """Does a command that did its job exit 0, as a real program too, and does ``grade``
    make the --out folder it was given (its parent existing)?"""
    assert (graded / "alice_correct.json").is_file()
    done = grader("validate", graded / "alice_correct.json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": valid") and done.stderr == ""
    assert invoke("gradebook", graded, "-o", tmp_path / "grades.csv").exit_code == 0
    assert invoke("report", graded / "alice_correct.json").exit_code == 0


# -- 1: a submission could not be graded, or a check failed ---------------------------


def test_1_a_submission_could_not_be_graded(tmp_path):
    """Does ``grade`` exit 1 when one submission cannot be graded, writing its failed
    report and saying why in one line per submission?"""
    broken = tmp_path / "class" / "mallory.zip"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a zip")
    out = tmp_path / "out"
    result = invoke("grade", broken, "--out", out)
    assert result.exit_code == 1, result.output
    assert store.load(out / "mallory.json")["status"] == "failed"
    assert [line for line in result.stderr.splitlines() if line.startswith("grader: ")] == [
        line for line in result.stderr.splitlines() if "mallory: not graded" in line]


def test_1_an_existing_report_that_is_invalid(graded, tmp_path):
    """Is a report file that exists but is not a valid report a failed check (1), for
    ``validate`` and ``report`` alike, in one line?"""
    data = json.loads((graded / "alice_correct.json").read_text(encoding="utf-8"))
    data["score"] = -1
    tampered = tmp_path / "tampered.report"  # not *.json: conftest validates those
    tampered.write_text(json.dumps(data), encoding="utf-8")
    garbage = tmp_path / "garbage.report"
    garbage.write_text("{", encoding="utf-8")
    for args in (("validate", tampered), ("report", tampered), ("report", garbage)):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        one_line(result.stderr, "invalid report")


def test_1_a_check_failed(tmp_path):
    """Does ``stubs --check`` exit 1 when the stubs are stale (here: missing)?"""
    result = invoke("stubs", "--check", "--solutions", SOLUTIONS, "--out", tmp_path)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("out of date: ")


# -- 2: bad usage ------------------------------------------------------------------------


def test_2_a_missing_input_file_as_a_real_program():
    """Is ``grader report /nonexistent.json`` bad usage: one line, exit 2?"""
    done = grader("report", "/nonexistent/report.json")
    assert done.returncode == 2, done.stderr
    one_line(done.stderr, "/nonexistent/report.json: no such file or directory")
    assert done.stdout == ""


@pytest.mark.parametrize("args", [
    ("report", "{tmp}/nope.json"),
    ("report", "{tmp}"),  # a folder where a report file should be
    ("validate", "{tmp}/nope.json"),
    ("gradebook", "{tmp}/nope"),
    ("grade", "{tmp}/nope", "--out", "{tmp}/out"),
    ("grade", str(ALICE), "--out", "{tmp}/out", "--jobs", "0"),
    ("report", "{tmp}/nope.json", "--surprise"),
])
def test_2_bad_usage(args, tmp_path):
    """Are a missing input, a folder for a file and a bad option each one line, exit 2?"""
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args))
    assert result.exit_code == 2, result.output
    one_line(result.stderr)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ("gradescope", "{missing}/autograder.zip"),
    ("gradebook", "{reports}", "-o", "{missing}/grades.csv"),
    ("grade", str(ALICE), "--out", "{missing}/reports"),
    ("grade", str(ALICE), "--out", "{tmp}/reports", "--feedback", "{missing}/feedback"),
    ("release", "{missing}/bundle"),
    ("nbgrader", "{missing}/course"),
])
def test_2_an_output_whose_folder_is_missing_is_refused_and_nothing_made(args, graded,
                                                                         tmp_path):
    """Is an output file, or an output folder, whose parent folder does not exist refused
    in one line naming that folder, exit 2, with no folder made anywhere?"""
    missing = tmp_path / "no" / "such"
    result = invoke(*(arg.format(missing=missing, reports=graded, tmp=tmp_path)
                      for arg in args))
    assert result.exit_code == 2, result.output
    one_line(result.stderr, f"its folder {missing} does not exist")
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "reports").exists()


def test_2_an_output_folder_under_a_file_is_refused(tmp_path):
    """Is a path under a file (its 'folder' is a file) refused the same way?"""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    result = invoke("gradescope", a_file / "autograder.zip")
    assert result.exit_code == 2, result.output
    one_line(result.stderr, f"its folder {a_file} is not a folder")
    assert a_file.read_text(encoding="utf-8") == "mine\n"


# -- 130: interrupted ------------------------------------------------------------------


def test_130_interrupted_outside_a_batch(graded, monkeypatch):
    """Is Ctrl-C in a command other than a batch one line and exit 130 (not click's 1)?"""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "load", interrupted)
    result = invoke("report", graded / "alice_correct.json")
    assert result.exit_code == 130, result.output
    one_line(result.stderr, "interrupted")


def test_130_a_batch_interrupted_as_a_real_program(tmp_path):
    """Does SIGINT during ``grader grade`` stop it with exit 130 and one line saying how to
    resume?"""
    student = tmp_path / "class" / "slow"
    student.mkdir(parents=True)
    for path in (ALICE / "exercises").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        (student / path.name).write_text("import time\ntime.sleep(3)\n" + text, encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(student.parent),
                                "--out", str(out)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not out.is_dir() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # grading has begun
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    last = stderr.replace("\r", "\n").strip().splitlines()[-1]  # after the progress bar
    one_line(last, "interrupted")
