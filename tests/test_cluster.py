"""Grading on Dask: the same reports as on one machine, from a real cluster.

The cluster tests start what an operator would: ``dask scheduler`` and ``dask worker``
processes on 127.0.0.1 (tests/dask_cluster.py). The fast tests drive the pieces a worker
runs (its grading process, the task) without a cluster, and the CLI's answers to a
scheduler it cannot use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import api, errors
from grader.cli import main
from grader.grading import cluster, served
from grader.grading import submission as loader
from grader.reports import store
from grader.sandbox import isolation as sandbox
from grader.sandbox.limits import Limits
from tests.conftest import EXAMPLES, ROOT, reference_sources
from tests.dask_cluster import DaskProcesses, missing
from tests.test_hostile import HOSTILE, hostile_sources

needs_dask = pytest.mark.skipif(missing() is not None, reason=str(missing()))
# Long enough that eats_memory meets its memory limit before its deadline even on a loaded
# machine: a report that says "timeout" in one run and "MemoryError" in the other differs.
TIMEOUT = 3.0
EXPECTED = {"alice_correct": 100, "bob_mistakes": 63, "carol_unfinished": 27}
# Hostile cases that kill, hang, flood or fork in their sandbox (none names a path).
HOSTILE_CASES = ("exits_in_a_call", "exits_at_import", "fork_bombs", "segfaults_without_ctypes",
                 "signals_the_grader", "floods_output", "eats_memory", "loops_forever",
                 "sleeps_an_hour", "reads_the_callers_frames_and_gc", "returns_nan_and_inf",
                 "floods_the_wire")


def grading_settings(isolation: str = "auto", timeout: float = TIMEOUT) -> dict:
    return served.settings(isolation, True, Limits(wall_seconds=timeout, cpu_seconds=timeout),
                           False, api.exercises_to_grade(None))


def copies(root: Path, count: int) -> list[Path]:
    """``count`` submissions, the three examples in turn, each in a folder of its own."""
    kinds = sorted(EXAMPLES.iterdir())
    made = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        made.append(Path(shutil.copytree(kind, root / f"{kind.name}_{index:03d}")))
    return made


def a_class(root: Path, size: int) -> list[Path]:
    """Hostile cases, two submissions that cannot be read, and copies of the examples."""
    root.mkdir(parents=True)
    made = []
    for case in HOSTILE_CASES:
        folder = root / f"hostile_{case}"
        folder.mkdir()
        for module, source in hostile_sources(HOSTILE / case, root / "unused").items():
            (folder / f"{module}.py").write_text(source, encoding="utf-8")
        made.append(folder)
    (root / "not_a_zip.zip").write_bytes(b"this is not a zip archive")
    not_utf8 = root / "not_utf8"
    not_utf8.mkdir()
    for module, source in reference_sources().items():
        (not_utf8 / f"{module}.py").write_text(source, encoding="utf-8")
    (not_utf8 / "sigmoid.py").write_bytes(b"def sigmoid(z):\n    return '\xff'\n")
    made += [root / "not_a_zip.zip", not_utf8]
    return made + copies(root, size - len(made))


def comparable(report: dict) -> dict:
    """A report without what differs between two runs of the same work, wherever they run:
    its duration, and the random name of each sandboxed worker's folder in tracebacks."""
    text = re.sub(r"worker-[A-Za-z0-9_]{8}/", "worker-*/", json.dumps(report))
    return {key: value for key, value in json.loads(text).items() if key != "duration_s"}


def reports_in(folder: Path) -> dict[str, dict]:
    return {path.stem: store.load(path) for path in sorted(folder.glob("*.json"))}


def served_children(pid: int) -> list:
    """The grading processes a Dask worker keeps (grader.grading.served)."""
    import psutil  # installed with Dask

    found = []
    for child in psutil.Process(pid).children():
        try:
            if "grader.grading.served" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture
def dask_processes(tmp_path):
    processes = DaskProcesses(tmp_path / "dask")
    yield processes
    processes.close()


# -- on a real cluster -----------------------------------------------------------------


@pytest.mark.slow
@needs_dask
def test_a_cluster_grades_a_class_exactly_as_one_machine_does(dask_processes, tmp_path):
    """With a scheduler and two workers, does a class of 200 (12 hostile, 2 unreadable) get
    the very reports a single-machine run writes, one each, with each worker keeping one
    grading process from task to task, and no worker killed by a hostile submission?"""
    paths = a_class(tmp_path / "class", 200)
    address = dask_processes.start_scheduler()
    for _ in range(2):
        dask_processes.start_worker()
    workers = dask_processes.wait_for_workers(2)

    on_cluster = api.grade(paths, tmp_path / "cluster", scheduler=address, timeout=TIMEOUT,
                           discover=False)
    alone = api.grade(paths, tmp_path / "alone", jobs=2, timeout=TIMEOUT, discover=False)

    assert on_cluster.table() == alone.table()
    written, expected = reports_in(tmp_path / "cluster"), reports_in(tmp_path / "alone")
    assert sorted(os.listdir(tmp_path / "cluster")) == sorted(os.listdir(tmp_path / "alone"))
    assert len(written) == 200
    for name, report in expected.items():
        assert comparable(written[name]) == comparable(report), name
    assert written["hostile_loops_forever"]["score"] == 96  # as tests/test_hostile.py says
    assert written["not_a_zip"]["status"] == "failed"
    for index, path in enumerate(paths[14:]):
        assert written[path.name]["score"] == EXPECTED[path.name[:-4]], index
    # The hostile submissions cost their own tests: the same two workers are still there.
    assert dask_processes.wait_for_workers(2) == workers
    # Each worker's one thread kept one grading process, started before most reports.
    middle = sorted(path.stat().st_mtime for path in (tmp_path / "cluster").iterdir())[100]
    for pid in workers.values():
        kept = served_children(pid)
        assert len(kept) == 1, kept
        assert kept[0].create_time() < middle


class KillAfter:
    """A progress that kills a Dask worker with SIGKILL once ``after`` reports are in, and
    records the grading processes it had."""

    def __init__(self, victim: int, after: int):
        self.victim, self.after, self.seen = victim, after, 0
        self.orphans: list = []

    def start(self, total: int, skipped: int, note: str | None) -> None:
        pass

    def advance(self, summary) -> None:
        self.seen += 1
        if self.seen == self.after:
            self.orphans = served_children(self.victim)
            os.kill(self.victim, signal.SIGKILL)


@pytest.mark.slow
@needs_dask
def test_a_worker_killed_mid_run_costs_no_report(dask_processes, tmp_path):
    """When a Dask worker is killed with SIGKILL mid-run, does the run still finish with
    one right report per submission, nothing else in the folder, and the dead worker's
    grading process gone with it?"""
    import psutil  # installed with Dask

    paths = copies(tmp_path / "class", 60)
    address = dask_processes.start_scheduler()
    for _ in range(2):
        dask_processes.start_worker()
    victim = min(dask_processes.wait_for_workers(2).values())
    progress = KillAfter(victim, after=8)

    graded = api.grade(paths, tmp_path / "reports", scheduler=address, progress=progress)

    assert progress.seen == 60 and progress.orphans, "the worker was killed mid-run"
    gone = not psutil.pid_exists(victim) or psutil.Process(victim).status() == "zombie"
    assert gone, "the worker was not killed"
    assert [s.id for s in graded.summaries] == sorted(path.name for path in paths)
    assert sorted(os.listdir(tmp_path / "reports")) == sorted(f"{p.name}.json" for p in paths)
    for summary in graded.summaries:
        assert summary.status == "graded", summary
        assert summary.score == EXPECTED[summary.id[:-4]], summary
    deadline = time.monotonic() + 15
    while any(p.is_running() and p.status() != "zombie" for p in progress.orphans):
        assert time.monotonic() < deadline, "a grading process outlived its Dask worker"
        time.sleep(0.1)


@pytest.mark.slow
@needs_dask
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_cluster_run_resumes(signum, dask_processes, tmp_path):
    """Does Ctrl-C (or SIGTERM) stop a run on a cluster with one line and exit 130,
    leaving only whole reports, and does --resume then grade exactly the rest?"""
    paths = copies(tmp_path / "class", 40)
    address = dask_processes.start_scheduler()
    dask_processes.start_worker()
    dask_processes.wait_for_workers(1)
    out = tmp_path / "reports"
    command = [sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out",
               str(out), "--scheduler", address]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 300
    while len(list(out.glob("*.json"))) < 3 and running.poll() is None:
        assert time.monotonic() < deadline, "no report came"
        time.sleep(0.05)
    running.send_signal(signum)
    stdout, stderr = running.communicate(timeout=120)

    assert running.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("grader:")]
    assert len(lines) == 1 and "interrupted:" in lines[0] and "--resume" in lines[0], stderr
    assert "Traceback" not in stderr, stderr
    kept = sorted(out.iterdir())
    assert 3 <= len(kept) < 40 and all(path.suffix == ".json" for path in kept)
    for path in kept:
        store.load(path)

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} submission(s) already graded and unchanged: skipped" in resumed.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.name}.json" for p in paths)


class StopAfter:
    """A progress that kills every Dask worker (none has a nanny) once ``after`` reports
    are in."""

    def __init__(self, workers: list[int], after: int):
        self.workers, self.after, self.seen = workers, after, 0

    def start(self, total: int, skipped: int, note: str | None) -> None:
        pass

    def advance(self, summary) -> None:
        self.seen += 1
        if self.seen == self.after:
            for pid in self.workers:
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@needs_dask
def test_a_cluster_left_without_workers_stops_and_resumes(dask_processes, tmp_path,
                                                           monkeypatch):
    """When every worker is gone for good, does the run stop after its wait with one error
    that says how far it got, keep the reports written, and --resume grade the rest on a
    new worker?"""
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 3.0)
    paths = copies(tmp_path / "class", 30)
    address = dask_processes.start_scheduler()
    dask_processes.start_worker(nanny=False)
    workers = list(dask_processes.wait_for_workers(1).values())
    out = tmp_path / "reports"

    with pytest.raises(errors.NoDaskWorkers, match=r"after \d+ of 30 submission") as stopped:
        api.grade(paths, out, scheduler=address, progress=StopAfter(workers, after=3))
    assert "--resume" in str(stopped.value) and stopped.value.exit_code == 1
    kept = sorted(out.iterdir())
    assert 3 <= len(kept) < 30
    for path in kept:
        store.load(path)

    dask_processes.start_worker()
    dask_processes.wait_for_workers(1)
    graded = api.grade(paths, out, scheduler=address, resume=True)
    assert graded.skipped == len(kept) and not graded.failed
    assert sorted(os.listdir(out)) == sorted(f"{p.name}.json" for p in paths)


def project_copy(root: Path) -> Path:
    """The project's packages, copied: a worker's PYTHONPATH points here."""
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("grader", "autotests", "solutions", "exercises"):
        shutil.copytree(ROOT / package, root / package, ignore=ignore)
    return root


@pytest.mark.slow
@needs_dask
def test_a_worker_with_another_course_grades_nothing(dask_processes, tmp_path):
    """Does a worker whose autotests differ from this machine's stop the run before any
    grading, in one line, with no report written?"""
    other = project_copy(tmp_path / "other")
    test = other / "autotests" / "test_sigmoid.py"
    test.write_text(test.read_text(encoding="utf-8") + "\n# last term's version\n",
                    encoding="utf-8")
    address = dask_processes.start_scheduler()
    dask_processes.start_worker(env={**os.environ, "PYTHONPATH": str(other)})
    dask_processes.wait_for_workers(1)

    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(EXAMPLES), "--out",
                           str(tmp_path / "reports"), "--scheduler", address],
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("grader:")]
    assert len(lines) == 1 and "cannot grade: its course" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "reports").iterdir()) == []


@pytest.mark.slow
@needs_dask
def test_the_cli_grades_on_a_local_cluster(tmp_path):
    """Does ``grader grade --scheduler local`` print the table a plain run prints, write
    the feedback pages, and skip everything on --resume?"""
    def grader(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grader", "grade", str(EXAMPLES), *args],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)

    plain = grader("--out", "plain")
    local = grader("--out", "local", "--scheduler", "local", "--jobs", "2",
                   "--feedback", "pages")
    again = grader("--out", "local", "--scheduler", "local", "--resume")

    assert plain.returncode == local.returncode == again.returncode == 0, local.stderr
    assert local.stdout.replace("local", "plain") == plain.stdout
    assert "Traceback" not in local.stderr and "Warning" not in local.stderr, local.stderr
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == [
        f"{name}.html" for name in sorted(EXPECTED)]
    assert "3 submission(s) already graded and unchanged: skipped" in again.stderr


# -- the pieces a worker runs, without a cluster ---------------------------------------


texts = st.text(st.characters(codec="utf-8") | st.sampled_from(["\udcff", "\x00", "\u2028"]))


@settings(max_examples=50, deadline=None)
@given(st.fixed_dictionaries({
    "id": texts, "path": texts, "sha256": st.text("0123456789abcdef", min_size=64, max_size=64),
    "sources": st.dictionaries(texts, texts, max_size=4),
    "broken": st.dictionaries(texts, texts, max_size=2), "problems": st.lists(texts, max_size=3)}))
def test_a_submission_crosses_the_socket_unchanged(data):
    """Does any submission (ids from file names that are not UTF-8 included) reach the
    grading process exactly as read, as JSON, never a pickle?"""
    submission = served.from_plain(data)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sender = threading.Thread(target=served.send, args=(ours, served.plain(submission)))
        sender.start()
        received = served.receive(theirs)
        sender.join()
    assert received is not None and served.from_plain(received) == submission


def test_a_broken_frame_is_the_end_of_the_conversation():
    """Does a frame that is cut short, too long or not a JSON object read as 'closed'?"""
    for frame in (served.LENGTH.pack(10) + b"{}", served.LENGTH.pack(served.FRAME_CAP + 1),
                  served.LENGTH.pack(2) + b"[]", served.LENGTH.pack(3) + b"\xff{}"):
        ours, theirs = socket.socketpair()
        with ours, theirs:
            ours.sendall(frame)
            ours.shutdown(socket.SHUT_WR)
            assert served.receive(theirs) is None, frame


def example(name: str) -> dict:
    return served.plain(loader.load(EXAMPLES / name))


def test_a_grading_process_grades_what_it_is_sent_as_grade_would(tmp_path):
    """Does a served grading process give a submission sent as data the report a plain run
    gives its folder?"""
    process = served.GradingProcess(grading_settings(timeout=5.0), 600)
    try:
        sent = {name: process.grade(example(name)) for name in EXPECTED}
    finally:
        process.close()
    api.grade(EXAMPLES, tmp_path / "plain")
    for name, report in sent.items():
        assert comparable(report) == comparable(store.load(tmp_path / "plain" / f"{name}.json"))


def test_a_worker_thread_keeps_its_grading_process_and_survives_its_death():
    """Does the Dask task reuse its thread's grading process from one submission to the
    next, start another when the settings change, and turn the death of one mid-grading
    into that submission's failed report, with the next submission graded again?"""
    alice = example("alice_correct")
    first = json.loads(cluster.grade_task(alice, grading_settings(), cluster.identity()))
    kept = cluster._kept.process
    second = json.loads(cluster.grade_task(example("bob_mistakes"), grading_settings(),
                                             cluster.identity()))
    assert (first["score"], second["score"]) == (100, 63)
    assert cluster._kept.process is kept

    json.loads(cluster.grade_task(alice, grading_settings(timeout=2.0), cluster.identity()))
    assert cluster._kept.process is not kept and not kept.alive

    sleeper = served.plain(served.from_plain({
        **alice, "id": "sleeper",
        "sources": hostile_sources(HOSTILE / "sleeps_an_hour", Path("unused"))}))
    victim = cluster._kept.process.process.pid
    threading.Timer(1.0, os.kill, (victim, signal.SIGKILL)).start()
    lost = json.loads(cluster.grade_task(sleeper, grading_settings(timeout=2.0),
                                         cluster.identity()))
    assert lost["status"] == "failed" and "the grading process died" in lost["error"], lost
    assert lost["submission"]["id"] == "sleeper"
    again = json.loads(cluster.grade_task(alice, grading_settings(timeout=2.0), cluster.identity()))
    assert again["score"] == 100
    cluster._kept.process.close()
    cluster._kept.process = None


@pytest.mark.skipif(sandbox.bwrap_works() is not None, reason="needs bubblewrap to hide it")
def test_a_machine_without_the_isolation_asked_for_says_why(monkeypatch, tmp_path):
    """Does a worker asked for bubblewrap, on a machine where it cannot be found, refuse
    with the reason, in its grading process and in its answer before grading?"""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(cluster.CannotGradeHere, match="bwrap is not installed"):
        cluster.grade_task(example("alice_correct"), grading_settings("bubblewrap"),
                           cluster.identity())
    sandbox.bwrap_works.cache_clear()
    try:
        answer = cluster.describe_worker(grading_settings("bubblewrap"), cluster.identity())
    finally:
        monkeypatch.undo()
        sandbox.bwrap_works.cache_clear()
    assert "bwrap is not installed" in answer["refused"]


def test_a_worker_with_another_grader_or_course_grades_nothing():
    """Does a task sent by a machine with another grader or course fail before grading,
    saying which differs (and the check before a run say the same)?"""
    for differs, said in (("version", "it has backprop-lab"), ("course", "its course")):
        expected = {**cluster.identity(), differs: "another"}
        with pytest.raises(cluster.CannotGradeHere, match=said):
            cluster.grade_task(example("alice_correct"), grading_settings(), expected)
        assert said in cluster.describe_worker(grading_settings(), expected)["refused"]


# -- the CLI's answers when no cluster can be used --------------------------------------


def grade_on(scheduler: str, *extra: str, tmp_path: Path):
    return CliRunner().invoke(main, ["grade", str(EXAMPLES), "--out", str(tmp_path / "out"),
                                     "--scheduler", scheduler, *extra])


def test_a_scheduler_without_dask_installed_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = grade_on("local", tmp_path=tmp_path)
    assert result.exit_code == 2
    assert result.output.startswith("grader: --scheduler grades on Dask, which is not installed")
    assert "pip install 'backprop-lab[dask]'" in result.output
    assert result.output.count("\n") == 1


@needs_dask
@pytest.mark.parametrize("address, said", [
    ("tcp://127.0.0.1", "missing port number"),
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1")])
def test_a_scheduler_that_cannot_be_reached_is_one_line(address, said, monkeypatch, tmp_path):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    result = grade_on(address, tmp_path=tmp_path)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("grader: cannot reach the Dask scheduler")
    assert said in result.output and result.output.count("\n") == 1


def test_jobs_is_refused_with_a_cluster_address(tmp_path):
    result = grade_on("tcp://127.0.0.1:8786", "--jobs", "2", tmp_path=tmp_path)
    assert result.exit_code == 2
    assert "every worker thread grades" in result.output
