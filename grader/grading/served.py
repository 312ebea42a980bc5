"""A grading process fed over a socket: what each thread of a Dask worker keeps.

``grader grade --jobs N`` forks grading processes that read submissions from disk. A
Dask worker (see :mod:`grader.grading.cluster`) has no disk of the class: it receives
each submission already read, as plain data. So each of its threads starts one
:class:`GradingProcess` and keeps it from task to task; what a grading process pays once
(collecting the autotests, the reference's memoized results, the fork server's
interpreter) is paid once per Dask thread, not once per submission. Inside, it is the
grading process ``--jobs`` runs: ``runner.grade_in_process`` under the same memory bound,
each submission in its own sandboxed worker, with the same isolation and limits.

The socket carries frames of JSON, each after its length in 8 bytes. The first frame is
the settings (:func:`settings`); the process answers with the isolation it has, or why
it cannot have it; then one submission in, one report out, until the socket closes.
Nothing on it is a pickle, though both ends are the grader's own.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from grader.errors import GraderError
from grader.grading import runner
from grader.grading.submission import Submission
from grader.reports import store
from grader.reports.results import SubmissionReport, to_dict
from grader.sandbox.isolation import choose
from grader.sandbox.limits import Limits, bound_grading_memory

LENGTH = struct.Struct(">Q")
FRAME_CAP = 256 * 1024 * 1024  # a report is tens of KiB; this only stops a broken peer
START_SECONDS = 120.0  # start Python, import numpy and pytest, collect the autotests


class GradingProcessLost(Exception):
    """The grading process died, or stopped answering, while it had a submission."""


class IsolationRefused(Exception):
    """This machine cannot have the isolation asked for; the message says why."""


def settings(isolation: str, accept_weak: bool, limits: Limits, public_only: bool,
             exercises: tuple[str, ...]) -> dict:
    """What a grading process needs to grade as ``grader grade`` would, as plain data.
    The isolation is the one asked for: each machine chooses its own, as ``--jobs`` does."""
    return {"isolation": isolation, "accept_weak": accept_weak, "limits": asdict(limits),
            "public_only": public_only, "exercises": list(exercises)}


def options_from(settings: dict) -> tuple[runner.Options, str | None]:
    """The runner's Options on this machine, and the note on a weaker isolation (None when
    it is what was asked); a GraderError when the isolation asked for cannot be had here."""
    chosen, note = choose(settings["isolation"], accept_weak=settings["accept_weak"])
    return runner.Options(limits=Limits(**settings["limits"]), isolation=chosen,
                          public_only=settings["public_only"],
                          exercises=tuple(settings["exercises"])), note


def plain(submission: Submission) -> dict:
    """A submission as read, as plain data to send."""
    return {"id": submission.id, "path": str(submission.path), "sources": submission.sources,
            "sha256": submission.sha256, "broken": submission.broken,
            "problems": list(submission.problems)}


def from_plain(data: dict) -> Submission:
    return Submission(id=data["id"], path=Path(data["path"]), sources=dict(data["sources"]),
                      sha256=data["sha256"], broken=dict(data["broken"]),
                      problems=tuple(data["problems"]))


def send(channel: socket.socket, message: dict) -> None:
    data = json.dumps(message, allow_nan=False).encode("utf-8")
    channel.sendall(LENGTH.pack(len(data)) + data)


def receive(channel: socket.socket) -> dict | None:
    """The next frame, or None when the other end has closed (or sent something broken)."""
    head = _exactly(channel, LENGTH.size)
    if head is None:
        return None
    (size,) = LENGTH.unpack(head)
    body = _exactly(channel, size) if size <= FRAME_CAP else None
    if body is None:
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _exactly(channel: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        try:
            chunk = channel.recv(min(left, 1 << 20))
        except (OSError, TimeoutError):
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class GradingProcess:
    """The grader's end of one grading process."""

    def __init__(self, grading_settings: dict, submission_seconds: float):
        ours, theirs = socket.socketpair()
        self.seconds = submission_seconds
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.grading.served", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), close_fds=True)
        theirs.close()
        self.channel = ours
        self.channel.settimeout(START_SECONDS)
        with contextlib.suppress(OSError):  # said below: no answer
            send(ours, grading_settings)
        hello = receive(ours)
        if hello is None or "refused" in hello or "isolation" not in hello:
            self.close()
            if hello is not None and "refused" in hello:
                raise IsolationRefused(str(hello["refused"]))
            raise GradingProcessLost("the grading process did not start")
        self.isolation: dict = hello["isolation"]
        self.note: str | None = hello.get("note")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def grade(self, submission: dict) -> dict:
        """The report (as data) of one submission; GradingProcessLost if the process died
        or stayed silent past its deadline (then it is killed)."""
        self.channel.settimeout(self.seconds)
        with contextlib.suppress(OSError):  # said below: no answer
            send(self.channel, submission)
        reply = receive(self.channel)
        if reply is None or not isinstance(reply.get("report"), dict):
            code = self.process.poll()
            self.close()
            raise GradingProcessLost("it stopped answering" if code is None
                                     else f"it ended with exit status {code}")
        return reply["report"]

    def close(self) -> None:
        self.channel.close()  # the process reads the end of its input and stops
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(channel: socket.socket) -> None:
    """The grading process: settings, then submissions, until the channel closes."""
    runner.die_with_parent()
    signal.signal(signal.SIGTERM, runner.interrupt)
    bound_grading_memory()
    asked = receive(channel)
    if asked is None:
        return
    try:
        options, note = options_from(asked)
    except GraderError as error:
        send(channel, {"refused": str(error)})
        return
    send(channel, {"isolation": options.isolation_report(), "note": note})

    def submissions() -> Iterator[Submission]:
        while (message := receive(channel)) is not None:
            yield from_plain(message)

    def on_report(report: SubmissionReport) -> None:
        # Validated here: an invalid report becomes a failed one (BatchPlugin.deliver).
        send(channel, {"report": store.validate(to_dict(report), report.submission.id)})

    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        runner.grade_in_process(submissions(), options, on_report)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
