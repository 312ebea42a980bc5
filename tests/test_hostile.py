"""Hostile submissions: each costs exactly what it tried to fake, and nothing else.

The corpus in ``tests/hostile/`` holds one case per folder, named by what it does. A file
``<module>.py`` replaces that module of the reference solutions; ``<module>.append.py`` is
appended to it, so the honest parts of every case are known. ``@SOLUTIONS@`` and
``@REPORTS@`` stand for the solutions folder and the batch's report folder, written in as
an attacker who knows the course's layout would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.reports import store
from grader.sandbox import isolation as sandbox
from grader.sandbox import program
from grader.sandbox.client import WorkerClient
from grader.sandbox.forkserver import Zygote
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from tests.conftest import SOLUTIONS, reference_sources

HOSTILE = Path(__file__).resolve().parent / "hostile"
TIMEOUT = 1.0
MODES = ["bubblewrap", "basic"]

# What each case earns: the points of its honest parts, nothing for what it faked.
EXPECTED = {
    "clean": 100,
    # mse_loss loops: its worked example and its reference test (the gradient check
    # differentiates the grader's own loss, not the student's).
    "loops_forever": 96,
    # graph_forward sleeps, and the reference's graph_backward calls graph_forward: all 10.
    "sleeps_an_hour": 90,
    "eats_memory": 90,
    "fork_bombs": 80,
    "escapes_into_a_new_session": 100,
    # sigmoid floods but answers; sigmoid_grad's two tests (3 points) fail.
    "floods_output": 97,
    "exits_at_import": 75,
    "exits_in_a_call": 90,
    "segfaults_through_ctypes": 90,
    "segfaults_without_ctypes": 90,
    "patches_numpy_comparisons": 90,
    "lying_arrays": 90,
    "lying_eq_objects": 90,
    "imports_solutions": 90,
    "walks_the_filesystem_for_solutions": 90,
    "reads_solutions_through_sys_path": 90,
    "reads_the_callers_frames_and_gc": 90,
    # Both mse tests that check the inputs afterwards (2 + 3 points) fail, nothing else.
    "modifies_inputs_in_place": 95,
    # Leaving the inputs alone earns nothing without right values: all 25 training points.
    "returns_nan_and_inf": 75,
    "forks_through_posixsubprocess": 100,
    "signals_the_grader": 100,
    "reads_the_graders_memory": 100,
    "loads_a_native_module": 100,
    "overwrites_reports": 100,  # graded last, when the other reports are on disk
    # Switches the guard off, then fails to read the reference: all of sigmoid's 10 points.
    "switches_off_the_guard": 90,
    # Hidden tests run in a fresh worker after every visible one: the only test that can
    # see what the hidden chain_rule test asked is bce_loss's hidden one (2 points).
    "leaks_hidden_inputs": 98,
    # Gives up graph_backward's two tests (6 points) to say how much of the disk it filled.
    "fills_the_disk": 94,
    # Its thread would sabotage sigmoid.py for the rest of the worker's life; refused.
    "starts_a_thread": 100,
    # From the first call of each hidden dense reference test on, the worker reads no
    # more requests: dense_forward's (3 points, a 6 KB write that must time out) and
    # dense_backward's (5 points, a read that must time out).
    "shrinks_the_request_pipe": 92,
    # Every sigmoid and sigmoid_grad call answers with a forged reply: all 10 points.
    "floods_the_wire": 90,
    # Refused, then clears the worker's refusals and closes the evidence socket; honest
    # answers: no points lost, and the evidence stays.
    "erases_its_evidence": 100,
    # Both chain_rule functions swap stderr.log for a FIFO and exit: all 10 points.
    "swaps_its_stderr_for_a_fifo": 90,
}
# Refusals (audit events) each case's integrity section must show, in either mode.
REFUSED = {
    "fork_bombs": {"os.fork", "subprocess.Popen"},
    "escapes_into_a_new_session": {"os.fork", "subprocess.Popen"},
    "forks_through_posixsubprocess": {"_posixsubprocess.fork_exec"},
    "imports_solutions": {"import"},
    "walks_the_filesystem_for_solutions": {"os.scandir", "open"},
    "reads_solutions_through_sys_path": {"open"},
    "reads_the_callers_frames_and_gc": {"gc.get_objects"},
    "segfaults_through_ctypes": {"import"},
    "signals_the_grader": {"os.kill", "os.killpg", "signal.pthread_kill"},
    "reads_the_graders_memory": {"open"},
    "loads_a_native_module": {"import"},
    "overwrites_reports": {"open", "os.rename", "os.scandir"},
    "switches_off_the_guard": {"open"},  # the refusal it used to find the guard
    "erases_its_evidence": {"import", "open"},
    "swaps_its_stderr_for_a_fifo": {"os.remove"},
}
# What a case's processes or escaped children would show in their command line.
ESCAPED = ("sleep 3133", "sleep 3134")


def hostile_sources(case: Path, reports: Path) -> dict[str, str]:
    sources = reference_sources()
    for path in sorted(case.glob("*.py")):
        text = (path.read_text(encoding="utf-8").replace("@SOLUTIONS@", str(SOLUTIONS))
                .replace("@REPORTS@", str(reports)))
        if path.name.endswith(".append.py"):
            module = path.name.removesuffix(".append.py")
            sources[module] += "\n\n" + text
        else:
            sources[path.stem] = text
    return sources


def require(mode: str) -> None:
    if mode == "bubblewrap" and sandbox.bwrap_works() is not None:
        pytest.skip(f"bubblewrap is not usable here: {sandbox.bwrap_works()}")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Every worker and zygote folder of this test under one prefix, to find them by."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def leftovers(prefix: Path) -> list[str]:
    """Processes still alive that a worker of this test started, or started themselves."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as stream:
                cmdline = stream.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{entry}/mountinfo", "rb") as stream:
                mounts = stream.read().decode("utf-8", "replace")
        except OSError:
            continue
        # Inside bubblewrap a command line shows /sandbox; its mounts still name the folder.
        if (str(prefix) in cmdline or str(prefix) in mounts
                or any(mark in cmdline for mark in ESCAPED)):
            found.append(f"{entry}: {cmdline.strip()}")
    return found


def assert_nothing_left(prefix: Path) -> None:
    deadline = time.monotonic() + 3.0
    while (left := leftovers(prefix)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, "processes outlived their workers:\n" + "\n".join(left)


@pytest.mark.parametrize("mode", MODES)
def test_kernel_walls_hold_with_the_guard_switched_off(mode, grade, make_submission, tmp_path):
    """With the guard switched off from pure Python, do the kernel's walls alone keep the
    reference unread, another student's report unwritten and the grader's environment
    free of a planted .pth?"""
    require(mode)
    reports = tmp_path / "reports"
    clean = make_submission("clean", reference_sources())
    attack = make_submission("switches_off_the_guard",
                             hostile_sources(HOSTILE / "switches_off_the_guard", reports))
    graded = grade([clean, attack], timeout=TIMEOUT, isolation=mode)
    said = [t["message"] for e in graded["switches_off_the_guard"]["exercises"]
            for t in e["tests"] if t["name"].startswith("test_sigmoid_grad")]
    assert said and all("guard off: True" in m for m in said), said  # the attack ran
    assert all("reference read: False" in m and "report rewritten: False" in m
               and "pth planted: False" in m for m in said), said
    assert graded["switches_off_the_guard"]["score"] == 90
    assert store.load(reports / "clean.json")["score"] == 100
    planted = Path(np.__file__).resolve().parent.parent / "zz_backprop_planted.pth"
    assert not planted.exists()


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_the_hostile_corpus_costs_only_what_it_fakes(mode, grade, make_submission, tmp_path,
                                                     private_tmp):
    """In one batch per isolation, does each hostile case score exactly its honest parts,
    the clean reference 100, every report stay intact, and no process outlive the batch?"""
    require(mode)
    reports = tmp_path / "reports"
    cases = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir())
    assert set(cases) | {"clean"} == set(EXPECTED), "a case without an expected score"
    cases.remove("overwrites_reports")
    paths = [make_submission("clean", reference_sources())]
    paths += [make_submission(name, hostile_sources(HOSTILE / name, reports))
              for name in [*cases, "overwrites_reports"]]

    graded = grade(paths, jobs=2, timeout=TIMEOUT, isolation=mode)

    scores = {name: graded[name]["score"] for name in EXPECTED}
    assert scores == EXPECTED
    for name, report in graded.items():
        assert report["status"] == "graded", name
        assert report["isolation"]["mechanism"] == mode
        refused = {r["event"] for r in report["integrity"]}
        assert refused >= REFUSED.get(name, set()), name
    assert graded["clean"]["integrity"] == []

    # The disk-filler wrote no more than its private home holds (it tried 1.6 GiB).
    wrote = {int(t["message"].split("wrote ")[1].split()[0])
             for e in graded["fills_the_disk"]["exercises"] for t in e["tests"]
             if "wrote " in t["message"]}
    assert wrote and max(wrote) <= Limits().disk_bytes, wrote
    # No visible test of the leaking case shows what a hidden test asked.
    leaked = [t["name"] for e in graded["leaks_hidden_inputs"]["exercises"] for t in e["tests"]
              if t["visibility"] == "visible" and "(3, 4)" in t["message"]]
    assert leaked == []
    # The cut output is said in the message of a test that failed while flooding.
    flooded = [t for e in graded["floods_output"]["exercises"] for t in e["tests"]
               if t["name"].startswith("test_sigmoid_grad")]
    assert all("output were cut" in t["message"] for t in flooded)
    # Timeouts and crashes are named as such.
    statuses = {t["status"] for e in graded["sleeps_an_hour"]["exercises"] for t in e["tests"]}
    assert "timeout" in statuses
    statuses = {t["status"] for e in graded["segfaults_without_ctypes"]["exercises"]
                for t in e["tests"]}
    assert "crashed" in statuses
    # A worker that stops reading its requests costs each of those calls a timeout.
    shrunk = {t["name"]: t["status"] for e in graded["shrinks_the_request_pipe"]["exercises"]
              for t in e["tests"] if t["status"] != "passed"}
    assert shrunk == {"test_dense_forward_matches_reference": "timeout",
                      "test_dense_backward_matches_reference": "timeout"}
    # Forged replies: refused unread, or cut to the caps; their refusal records ignored.
    forged = [t for e in graded["floods_the_wire"]["exercises"] for t in e["tests"]
              if t["status"] != "passed"]
    assert {t["status"] for t in forged} == {"crashed", "error"}
    assert all(len(t["message"]) < 3000 for t in forged)
    assert graded["floods_the_wire"]["integrity"] == []

    # Nothing was written over or beside the reports.
    assert sorted(p.name for p in reports.iterdir()) == sorted(f"{n}.json" for n in EXPECTED)
    assert_nothing_left(private_tmp)


# -- a worker whose guard is gone: what the kernel and the zygote still enforce ---------

# Appended to copies of the worker's program: no audit hook at all, and seccomp only if asked.
NO_GUARD = '''


def install_guard(guard, refusals):  # the test's bypass
    pass
'''
SECCOMP_IF_ASKED = '''


_contain = contain


def contain(seccomp):
    _contain(seccomp and SECCOMP)
'''

ESCAPE = '''

import os as _os
import time as _time


def mse_loss(y_true, y_pred):
    """Starts `sleep 31340` in a new session, detached by a double fork, then does as told."""
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            _os.execvp("sleep", ["sleep", "31340"])
        _os._exit(0)
    _time.sleep(0.3)
    with open("started", "w") as stream:  # proof that the bypass let the child start
        stream.write("sleep 31340")
    if float(y_true.sum()) < 0:
        _os._exit(0)
    return 0.5
'''


def unguarded_program(tmp_path: Path, seccomp: bool) -> Path:
    """A copy of the worker's program (grader/sandbox) without its guard (and, unless asked,
    without seccomp), to point ``program.SOURCE`` at."""
    copy = tmp_path / "unguarded-sandbox"
    shutil.copytree(program.SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "inside" / "guard.py", "a", encoding="utf-8") as stream:
        stream.write(NO_GUARD)
    with open(copy / "inside" / "contain.py", "a", encoding="utf-8") as stream:
        stream.write(f"\n\nSECCOMP = {seccomp}\n" + SECCOMP_IF_ASKED)
    return copy


def escaped() -> list[str]:
    return [line for line in leftovers(Path("/nonexistent-prefix")) if "31340" in line]


@pytest.mark.parametrize("mode", MODES)
# The worker_exits case waits out the 5 s wall clock of the call that kills the worker.
@pytest.mark.parametrize("how", ["closed", pytest.param("worker_exits", marks=pytest.mark.slow)])
def test_a_detached_child_dies_with_its_worker_even_without_the_guard(mode, how, tmp_path,
                                                                      monkeypatch):
    """With the guard, seccomp and Landlock gone, does a double-forked child in a new session die
    when its worker is closed, or when the worker itself exits first?"""
    require(mode)
    monkeypatch.setattr(program, "SOURCE", unguarded_program(tmp_path, seccomp=False))
    isolation = Isolation(mode, seccomp=False, landlock=False)  # no wall but the kill
    # No private home either: the test reads the child's proof of life from the host.
    limits = Limits(wall_seconds=5.0, cpu_seconds=5.0, disk_bytes=0)
    sources = reference_sources()
    sources["mse"] += ESCAPE
    zygote = Zygote(isolation)
    worker = WorkerClient(sources, limits, isolation, zygote)
    import numpy as np

    try:
        worker.start()
        sign = -1.0 if how == "worker_exits" else 1.0
        # The worker's own exit is reported as its death.
        with contextlib.suppress(Exception):
            worker.call("mse", "mse_loss", (np.full(2, sign), np.zeros(2)))
        home = worker.root / "home"
        assert (home / "started").exists(), "the bypass did not start the child"
        if how == "closed":
            assert escaped(), "the child is not running: the test proves nothing"
        worker.close()
        deadline = time.monotonic() + 3.0
        while escaped() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not escaped()
    finally:
        worker.close()
        zygote.close()


@pytest.mark.parametrize("mode", MODES)
def test_seccomp_alone_refuses_new_processes(mode, tmp_path, monkeypatch):
    """With the audit hook gone, does the kernel's filter still refuse fork, exec, threads
    and signals to other processes, and let signals to itself through?"""
    require(mode)
    if sandbox.seccomp_works() is not None:
        pytest.skip(f"seccomp is not usable here: {sandbox.seccomp_works()}")
    import numpy as np

    monkeypatch.setattr(program, "SOURCE", unguarded_program(tmp_path, seccomp=True))
    sources = reference_sources()
    sources["mse"] += '''

import os as _os
import signal as _signal
import subprocess as _subprocess
import threading as _threading


def mse_loss(y_true, y_pred):
    outcomes = []
    for attempt in (_os.fork, lambda: _subprocess.Popen(["true"]),
                    lambda: _os.kill(_os.getppid(), 0), lambda: _os.kill(1, 0),
                    lambda: _threading.Thread(target=lambda: None).start()):
        try:
            attempt()
            outcomes.append("allowed")
        except PermissionError:
            outcomes.append("refused")
        except RuntimeError:  # "can't start new thread": the clone was refused
            outcomes.append("refused")
    _os.kill(_os.getpid(), 0)
    return outcomes
'''
    isolation = Isolation(mode, seccomp=True)
    worker = WorkerClient(sources, Limits(), isolation)
    try:
        reply = worker.call("mse", "mse_loss", (np.zeros(2), np.zeros(2)))
    finally:
        worker.close()
    assert reply.failure is None, reply.failure
    assert reply.value == ["refused"] * 5
    assert worker.refusals == []  # no guard: the kernel did it


# -- what the report and the command line say about the isolation ----------------------

def test_the_report_names_the_isolation_and_every_limit(grade, make_submission):
    """Does the report's isolation section give the mechanism, seccomp, and every limit?"""
    path = make_submission("clean", reference_sources())
    report = grade([path], isolation="basic")["clean"]
    isolation = report["isolation"]
    assert isolation["mechanism"] == "basic"
    assert isolation["seccomp"] is (sandbox.seccomp_works() is None)
    assert "no namespaces" in isolation["note"]
    assert set(isolation["limits"]) == set(Limits().to_report())


def test_basic_fallback_is_said_once_on_stderr_and_in_the_report(make_submission, tmp_path,
                                                                  monkeypatch):
    """Without bubblewrap, does `grader grade` fall back to basic, say why once on stderr,
    and record the reason in each report?"""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: "bwrap is not installed (test)")
    paths = [make_submission(name, reference_sources()) for name in ("one", "two")]
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", *map(str, paths), "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("isolation: basic") == 1
    assert "bwrap is not installed (test)" in result.stderr
    import json

    for name in ("one", "two"):
        isolation = json.loads((out / f"{name}.json").read_text())["isolation"]
        assert isolation["mechanism"] == "basic"
        assert "bwrap is not installed (test)" in isolation["note"]


def test_grading_without_any_kernel_wall_needs_explicit_consent(make_submission, tmp_path,
                                                                monkeypatch):
    """With neither bubblewrap nor Landlock, does `grader grade` refuse in one line (exit 2)
    unless --accept-weak-isolation is given, and then say in each report that no wall held?"""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: "bwrap is not installed (test)")
    monkeypatch.setattr(sandbox, "landlock_works", lambda: "no Landlock (test)")
    monkeypatch.setattr(sandbox, "_landlock_default", lambda: False)
    monkeypatch.setattr(sandbox, "_root", lambda: False)
    path = make_submission("one", reference_sources())
    out = tmp_path / "out"
    refused = CliRunner().invoke(main, ["grade", str(path), "--out", str(out)])
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "--accept-weak-isolation" in refused.stderr
    assert not (out / "one.json").exists()
    consented = CliRunner().invoke(main, ["grade", str(path), "--out", str(out),
                                          "--accept-weak-isolation"], catch_exceptions=False)
    assert consented.exit_code == 0, consented.output
    isolation = store.load(out / "one.json")["isolation"]
    assert "kernel walls: none" in isolation["note"]
    assert isolation["landlock"].startswith("none")
