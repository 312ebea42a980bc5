"""Every file the grader writes gets the permissions a plain ``open(path, "w")`` would give
it under the umask in force (0644 under 022, 0600 under 077), while still being written
atomically: reports, feedback pages, the gradebook, the Gradescope zip and results.json."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.reports import store
from tests.conftest import EXAMPLES

UMASKS = [0o022, 0o077]


@contextlib.contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def plain_open_mode(folder: Path) -> int:
    """What ``open(..., "w")`` gives a new file in ``folder`` under the current umask."""
    probe = folder / "plain-open.txt"
    with open(probe, "w", encoding="utf-8") as stream:
        stream.write("x")
    found = mode(probe)
    probe.unlink()
    return found


@pytest.mark.parametrize("mask", UMASKS, ids=["umask022", "umask077"])
def test_write_atomic_gives_a_new_file_the_mode_of_a_plain_open(mask, tmp_path):
    """Is a new file 0666 less the umask, as open() makes it, and no temporary file left?"""
    with umask(mask):
        store.write_atomic(tmp_path / "text.txt", "é\n")
        store.write_atomic(tmp_path / "bytes.bin", b"\x00\x01")
        expected = plain_open_mode(tmp_path)
    assert expected == 0o666 & ~mask
    assert mode(tmp_path / "text.txt") == mode(tmp_path / "bytes.bin") == expected
    assert (tmp_path / "text.txt").read_text(encoding="utf-8") == "é\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bytes.bin", "text.txt"]


def test_write_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    """Does rewriting a file the instructor made private (or shared) keep its mode, as
    writing it with open() would?"""
    private, shared = tmp_path / "grades.csv", tmp_path / "shared.csv"
    for path, chosen in ((private, 0o600), (shared, 0o664)):
        path.write_text("old\n", encoding="utf-8")
        path.chmod(chosen)
    with umask(0o022):
        store.write_atomic(private, "new\n")
        store.write_atomic(shared, "new\n")
    assert (mode(private), mode(shared)) == (0o600, 0o664)
    assert private.read_text(encoding="utf-8") == "new\n"


@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed", "named"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(unnamed, tmp_path, monkeypatch):
    """Is a write that fails half-way invisible: the old file whole, no .tmp left, whether
    the file is written unnamed first (Linux's O_TMPFILE) or under a temporary name?"""
    target = tmp_path / "report.txt"  # not *.json: conftest parses those after each test
    target.write_text("old\n", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    if not unnamed:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


@pytest.mark.parametrize("mask", UMASKS, ids=["umask022", "umask077"])
def test_every_output_of_the_cli_follows_the_umask(mask, tmp_path):
    """Under the umask given, do the reports and feedback pages of ``grade``, the CSV of
    ``gradebook``, the zip of ``gradescope`` and the results.json of ``gradescope-run`` all
    get the mode a plain open() gives, and the folders ``grade`` makes that of mkdir?"""
    out, feedback = tmp_path / "reports", tmp_path / "feedback"
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    for path in (EXAMPLES / "alice_correct" / "exercises").glob("*.py"):
        (root / "submission" / path.name).write_bytes(path.read_bytes())
    runner = CliRunner()
    with umask(mask):
        steps = [
            ["grade", str(EXAMPLES / "alice_correct"), "--out", str(out),
             "--feedback", str(feedback)],
            ["gradebook", str(out), "-o", str(tmp_path / "grades.csv")],
            ["gradescope", str(tmp_path / "autograder.zip")],
            ["gradescope-run", "--root", str(root)],
        ]
        for args in steps:
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (args[0], result.output)
            assert "not graded" not in result.output
        expected = plain_open_mode(tmp_path)
    files = [out / "alice_correct.json", feedback / "alice_correct.html",
             tmp_path / "grades.csv", tmp_path / "autograder.zip",
             root / "results" / "results.json"]
    assert {path.name: mode(path) for path in files} == {path.name: expected for path in files}
    assert mode(out) == mode(feedback) == 0o777 & ~mask
    assert json.loads((root / "results" / "results.json").read_text("utf-8"))["score"] == 100
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


@pytest.mark.parametrize("mask", UMASKS, ids=lambda m: f"umask{m:03o}")
def test_the_student_bundle_is_a_folder_as_mkdir_makes_it(mask, tmp_path):
    """Is the folder ``grader release`` hands out readable as ``mkdir`` would make it under the
    umask (0755 under 022), not the 0700 of a private temporary folder?"""
    from grader.course import release

    with umask(mask):
        bundle = release.build(tmp_path / "bundle")
        made = tmp_path / "made-by-mkdir"
        made.mkdir()
    assert mode(bundle.path) == mode(made)


KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from grader.reports import store
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # dies with the data written
store.write_atomic(Path(sys.argv[1]), "new\\n")
"""


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="no O_TMPFILE on this system")
def test_a_writer_killed_midway_leaves_no_temporary_file(tmp_path):
    """Does a process killed by SIGKILL in the middle of a write (a grading process whose
    parent died) leave the old file whole and no temporary file behind?"""
    target = tmp_path / "report.txt"
    target.write_text("old\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING, str(target)],
                          capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
