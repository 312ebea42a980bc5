"""The zygote, and the killing of a worker's whole family.

The zygote is a clean interpreter that has imported numpy and this program and forks one
worker per submission; ``kill_family`` (used by the zygote and by the grader) stops and
kills a worker with everything it started, wherever that went.
"""

from __future__ import annotations

import json
import os
import sys

from grader.sandbox.inside.contain import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    _prctl,
)
from grader.sandbox.inside.serve import run_worker


def kill_family(pid: int) -> None:
    """SIGKILL ``pid`` with every descendant, and everything in its process group or session.

    The family is stopped first, round after round until no new member appears, so that
    nothing forks while it is being counted; then all of it is killed. Cheap (a scan of
    /proc) and called only when a worker is closed or has failed.
    """
    import signal

    spared = {os.getpid(), os.getppid(), 0, 1}
    stopped: set[int] = set()
    for _ in range(32):
        family = _family(pid) - stopped - spared
        if not family:
            break
        for member in family:
            try:
                os.kill(member, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= family
    for member in stopped | {pid}:
        if member not in spared:
            try:
                os.kill(member, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _kill_orphans() -> None:
    """In the zygote, between workers: kill and collect every process it has adopted."""
    for orphan in _family(os.getpid()) - {os.getpid()}:
        kill_family(orphan)
    _reap()


def _reap() -> None:
    """Collect the exit status of every child that has ended (adopted orphans included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _family(pid: int) -> set[int]:
    """``pid``, its descendants, and the members of the group and session it leads."""
    children: dict[int, list[int]] = {}
    family = {pid}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return family
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                data = stream.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()
        try:
            member = int(entry)
            parent, group, session = int(fields[1]), int(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(member)
        if group == pid or session == pid:
            family.add(member)
    todo = list(family)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in family:
                family.add(child)
                todo.append(child)
    return family


def _die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux prctl)."""
    import signal

    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def zygote(config: dict) -> int:
    """A clean interpreter that forks one worker per submission.

    It imports numpy and the modules a worker needs, then waits. It never imports
    student code, never sees the grader's expected values, and forks a child for each
    request; the child becomes a worker exactly as a freshly started one would. The
    control socket is a SOCK_SEQPACKET: one JSON request per packet, the worker's four
    descriptors riding along with a "fork" request (its request pipe, its reply pipe, its
    evidence socket and its stderr file).
    """
    import importlib  # noqa: F401  (imported once here, inherited by every worker)
    import socket
    import traceback  # noqa: F401
    import warnings  # noqa: F401

    for entry in reversed(config["path"]):
        sys.path.insert(0, entry)
    import numpy  # noqa: F401

    _die_with_parent()
    try:
        # Not dumpable: a worker it forks cannot read or write its memory through /proc.
        _prctl(PR_SET_DUMPABLE, 0)
        # Whatever a worker leaves behind when it dies is adopted here, and killed with
        # the next "kill": nothing a student starts outlives the worker it came from.
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError:
        pass
    control = socket.socket(fileno=config["control_fd"])
    control.send(json.dumps({"ready": True}).encode())

    def status_of(pid: int, timeout: float):
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= deadline:
                return "running"
            time.sleep(0.005)

    while True:
        try:
            packet, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
        except OSError:
            return 0
        if not packet:
            return 0
        request = json.loads(packet)
        op = request.get("op")
        if op == "fork":
            _kill_orphans()  # one worker at a time: nothing of the last one may remain
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    control.close()
                    os.setpgid(0, 0)
                    _die_with_parent()
                    # The grader's own stderr file and evidence socket: the worker gets
                    # descriptors, never a path the grader would open again later.
                    config = request["config"]
                    os.dup2(fds[3], 2)
                    os.close(fds[3])
                    config["guard"]["evidence_fd"] = fds[2]
                    code = run_worker(config, fds[0], fds[1])
                finally:
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            reply: dict[str, object] = {"pid": pid}
        elif op == "kill":
            kill_family(request["pid"])
            reply = {"status": status_of(request["pid"], 5.0)}
            _kill_orphans()
        elif op == "wait":
            reply = {"status": status_of(request["pid"], float(request.get("timeout", 1.0)))}
            if reply["status"] != "running":
                _kill_orphans()  # what the dead worker started dies with it
        else:
            reply = {"error": "unknown request"}
        control.send(json.dumps(reply).encode())
