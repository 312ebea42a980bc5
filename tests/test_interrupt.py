"""Nothing lost: SIGINT, SIGTERM and kill -9 of a batch, and --resume afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.reports import store
from tests.conftest import reference_sources

# Every test here grades a class that takes seconds, then interrupts or resumes it.
pytestmark = pytest.mark.slow

SLOW_IMPORT = "import time\ntime.sleep(0.15)\n"
COUNT = 8


@pytest.fixture
def slow_class(tmp_path) -> Path:
    """A class whose every module takes a moment to import, so a batch takes seconds."""
    folder = tmp_path / "class"
    for i in range(COUNT):
        student = folder / f"student{i}"
        student.mkdir(parents=True)
        for module, source in reference_sources().items():
            (student / f"{module}.py").write_text(SLOW_IMPORT + source, encoding="utf-8")
    return folder


def start(folder: Path, out: Path, tmp_path: Path, *extra: str) -> subprocess.Popen:
    temp = tmp_path / "worker-temp"
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(temp)}
    return subprocess.Popen([sys.executable, "-m", "grader", "grade", str(folder),
                             "--out", str(out), "--jobs", "2", *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_reports(out: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.is_dir() and len(list(out.glob("*.json"))) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} reports after {timeout} s")


def leftover_processes(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (our temp or output folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(cmdline)
    return found


def assert_clean(out: Path, tmp_path: Path, grace: float = 1.5) -> None:
    # Processes that die with their parent are gone within milliseconds; the grace is
    # far shorter than the rest of the batch, so an orphan still grading is caught.
    deadline = time.monotonic() + grace
    while leftover_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftover_processes(str(tmp_path)) == []
    assert list(out.glob(".*.tmp")) == []
    for path in out.glob("*.json"):
        store.load(path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_batch_cleanly_and_resume_finishes_it(signum, slow_class, tmp_path):
    """Does SIGINT or SIGTERM kill every worker, keep the finished reports and say how to resume?"""
    out = tmp_path / "reports"
    grading = start(slow_class, out, tmp_path)
    wait_for_reports(out, 1)
    grading.send_signal(signum)
    _, stderr = grading.communicate(timeout=30)
    assert grading.returncode != 0
    assert "--resume" in stderr and "Traceback" not in stderr
    assert_clean(out, tmp_path)
    finished = len(list(out.glob("*.json")))
    assert 1 <= finished < COUNT

    resumed = start(slow_class, out, tmp_path, "--resume")
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert f"{finished} submission(s) already graded and unchanged: skipped" in stderr
    reports = [json.loads(p.read_text()) for p in out.glob("*.json")]
    assert len(reports) == COUNT and all(r["score"] == 100 for r in reports)


def test_kill_9_leaves_no_worker_and_no_half_written_report(slow_class, tmp_path):
    """After kill -9 of the grader, do its grading processes and workers all die with it?"""
    out = tmp_path / "reports"
    grading = start(slow_class, out, tmp_path)
    wait_for_reports(out, 1)
    grading.kill()
    grading.communicate(timeout=10)  # waits, and closes its pipes
    assert_clean(out, tmp_path)


def test_resume_regrades_a_submission_whose_source_changed(slow_class, tmp_path):
    """Does --resume grade again exactly the submissions whose sha256 no longer matches?"""
    out = tmp_path / "reports"
    first = start(slow_class, out, tmp_path)
    first.communicate(timeout=120)
    before = json.loads((out / "student3.json").read_text())
    mse = slow_class / "student3" / "mse.py"
    mse.write_text(mse.read_text() + "\n\ndef mse_grad(y_true, y_pred):\n"
                   "    return (y_pred - y_true) / y_pred.size\n", encoding="utf-8")
    again = start(slow_class, out, tmp_path, "--resume")
    _, stderr = again.communicate(timeout=120)
    assert f"{COUNT - 1} submission(s) already graded and unchanged: skipped" in stderr
    after = json.loads((out / "student3.json").read_text())
    assert after["submission"]["sha256"] != before["submission"]["sha256"]
    assert after["score"] < 100
