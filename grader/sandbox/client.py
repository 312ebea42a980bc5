"""The grader's handle on one untrusted worker process.

A worker is a fresh interpreter (``python -I -S``, clean environment, single-threaded
BLAS) in a private temporary directory that holds a copy of one submission and the
grader's own ``exercises/provided.py``. Nothing of the grader, the reference
solutions or the autotests is on its path. Each call has a wall-clock deadline; a
worker that misses it, or dies, is killed with its whole process group and the call
reports ``timeout`` or ``crashed``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from grader.errors import WorkerUnavailable
from grader.sandbox import wire
from grader.sandbox.deadlines import wait_for, write_before
from grader.sandbox.evidence import drain_refusals
from grader.sandbox.exits import describe_exit
from grader.sandbox.inside.zygote import kill_family
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from grader.sandbox.staging import (
    CLEAN_ENV,
    give_home_to_worker,
    guard_config,
    numpy_locations,
    stage,
    stage_submission,
    walls_config,
)
from grader.sandbox.wire import WireError

if TYPE_CHECKING:  # forkserver imports this module
    from grader.sandbox.forkserver import ForkedProcess

# What the grader keeps of a reply's strings, whatever the worker sent: the worker's own
# caps with a little room (it keeps 2,000 characters of an exception and a short prefix,
# the last 8,000 of a traceback, 20 warnings of at most 500 characters and a class name).
# The output is kept to ``Limits.output_chars``, the worker's own cap.
MAX_MESSAGE_CHARS = 2500
MAX_TYPE_CHARS = 200
MAX_TRACEBACK_CHARS = 8000
MAX_WARNINGS = 20
MAX_WARNING_CHARS = 600
CUT = " [cut]"
# What of the worker's stderr a crash report quotes.
STDERR_BYTES = 4096


@dataclass(frozen=True)
class Failure:
    """How a call went wrong: a status of the report and a message for people."""

    status: str  # error, timeout, crashed, not_implemented, missing
    message: str
    kind: str = ""
    traceback: str = ""
    output: str = ""


@dataclass
class Reply:
    """What a call gave back: a value or a failure, and what the student code printed."""

    value: object = None
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)
    output: str = ""
    output_dropped: int = 0
    seconds: float = 0.0
    inputs_after: object = None  # the arguments as the call left them, when asked for


class WorkerDied(Exception):
    def __init__(self, failure: Failure):
        self.failure = failure
        super().__init__(failure.message)


class WorkerClient:
    """One worker process for one submission; ``call`` answers or raises WorkerDied."""

    def __init__(self, sources: dict[str, str], limits: Limits, isolation: Isolation,
                 zygote=None):
        self.sources = sources
        self.limits = limits
        self.isolation = isolation
        self.zygote = zygote  # a Zygote to fork from (forkserver), or None: a fresh start
        self.process: subprocess.Popen | ForkedProcess | None = None
        self.root: Path | None = None
        self.stderr_file: IO[bytes] | None = None  # the grader's own file: the worker's stderr
        self.wfd = -1  # requests, written by the grader without blocking (-1: none yet)
        self.rfd = -1  # replies
        self.evidence: socket.socket | None = None  # the guard's refusals, as they happen
        self._refusals: list[dict] = []
        self.unready = False  # started without waiting for its "ready"

    # -- life -----------------------------------------------------------------------

    def _config(self, inside_root: Path, lib: Path) -> dict:
        return {
            "limits": self.limits.to_worker(),
            "path": [str(inside_root / "pkg"), str(lib)],
            "cwd": str(inside_root / "home"),
            "modules": sorted(self.sources),
            "guard": guard_config(inside_root, lib),
            "walls": walls_config(self.isolation, self.limits, inside_root, lib),
            "seccomp": self.isolation.seccomp,
        }

    def _open_channels(self) -> tuple[int, int, socket.socket, int]:
        """The grader's ends of a new worker's channels, and the worker's four (request
        pipe, reply pipe, evidence socket, stderr file): the caller hands them over and
        closes the first three.

        Requests go down a pipe the grader writes without blocking, against each call's
        deadline. Refusals come up a socket, not a pipe: a pipe's write end can be reopened
        for reading through /proc/self/fd and emptied by the worker; a socket's cannot. Both
        of its ends are non-blocking: a full socket loses a record, it never stops the
        worker. Stderr is a file of the grader's own, outside the worker's folder, read back
        through the grader's descriptor.
        """
        self._close_channels()  # those of a worker that died before this one
        to_worker_r, self.wfd = os.pipe()
        self.rfd, from_worker_w = os.pipe()
        os.set_blocking(self.wfd, False)
        self.evidence, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.evidence.setblocking(False)
        theirs.setblocking(False)
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the channels)
        return to_worker_r, from_worker_w, theirs, self.stderr_file.fileno()

    def _start_forked(self) -> None:
        zygote = self.zygote
        if not zygote.running:
            zygote.close()
            zygote.start()
        zygote.sweep()
        self.root = Path(tempfile.mkdtemp(prefix="worker-", dir=zygote.root))
        stage_submission(self.sources, self.root)
        give_home_to_worker(self.root, self.isolation)
        to_worker_r, from_worker_w, evidence, stderr = self._open_channels()
        try:
            self.process = zygote.fork(self._config(zygote.inside(self.root), zygote.lib_inside()),
                                       (to_worker_r, from_worker_w, evidence.fileno(), stderr))
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
            evidence.close()
        self._await_ready()

    def _await_ready(self) -> None:
        try:
            ready = self._receive(time.monotonic() + self.limits.start_seconds, "starting")
        except WorkerDied as died:
            raise WorkerUnavailable(died.failure.message, died.failure.output) from None
        if not ready.get("ready"):
            raise WorkerUnavailable("the worker did not say it was ready", self._stderr_tail())

    def start(self, wait: bool = True) -> None:
        """Start the worker; with ``wait`` False (fresh starts only), return as soon as its
        process runs: the first request waits for it to be ready."""
        if self.zygote is not None:
            return self._start_forked()
        self.root = Path(tempfile.mkdtemp(prefix="backprop-worker-"))
        stage(self.sources, self.root, self.isolation)
        give_home_to_worker(self.root, self.isolation)
        inside = self.isolation.layout(self.root)
        to_worker_r, from_worker_w, evidence, _ = self._open_channels()
        config = {**self._config(inside.root, inside.lib), "fds": [to_worker_r, from_worker_w]}
        config["guard"]["evidence_fd"] = evidence.fileno()
        (self.root / "config.json").write_text(json.dumps(config), encoding="utf-8")
        try:
            self.process = subprocess.Popen(
                self.isolation.argv(self.root, numpy_locations()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.stderr_file,
                pass_fds=(to_worker_r, from_worker_w, evidence.fileno()),
                env=CLEAN_ENV,
                cwd=self.root / "home",
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
            evidence.close()
        self.unready = not wait
        if wait:
            self._await_ready()

    def close(self) -> None:
        if self.process is not None:
            self._kill()
            self.process = None
        self._close_channels()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _close_channels(self) -> None:
        for fd in (self.wfd, self.rfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.wfd = self.rfd = -1
        if self.evidence is not None:
            self.evidence.close()
            self.evidence = None
        if self.stderr_file is not None:
            self.stderr_file.close()
            self.stderr_file = None

    def _kill(self) -> None:
        process = self.process
        if process is None:
            return
        if hasattr(process, "kill_all"):  # forked by the zygote, which knows its pid
            process.kill_all()
            return
        # The worker, everything it started, and whatever of that escaped into a new
        # session but is still its descendant (the worker adopts orphans).
        kill_family(process.pid)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- calls ----------------------------------------------------------------------

    def import_module(self, module: str) -> Reply:
        """Import a student module ahead of its first call, so that a hang there is named."""
        return self._request({"op": "import", "module": module}, f"importing {module}.py")

    def doctest(self, module: str) -> Reply:
        """Run the docstring examples of a student module: the value lists the failures, as
        the worker sent them (unchecked: see ``grader.course.selfcheck``)."""
        return self._request({"op": "doctest", "module": module}, f"the examples of {module}.py")

    def call(self, module: str, function: str, args: tuple = (), kwargs: dict | None = None,
             keep: tuple[int, ...] = (), return_inputs: bool = False) -> Reply:
        request = {"op": "call", "module": module, "function": function,
                   "args": list(args), "kwargs": dict(kwargs or {}), "keep": list(keep),
                   "return_inputs": return_inputs}
        return self._request(request, function)

    def _request(self, request: dict, function: str) -> Reply:
        if self.process is None:
            self.start()
        elif self.unready:
            self.unready = False
            self._await_ready()
        started = time.monotonic()
        deadline = started + self.limits.wall_seconds
        try:
            try:
                wire.send(self.wfd, request, np,
                                 write=lambda fd, data: write_before(fd, data, deadline))
            except TimeoutError:  # a worker that stopped reading its requests
                raise WorkerDied(self._death(function, timed_out=True)) from None
            except OSError:
                raise WorkerDied(self._death(f"calling {function}", timed_out=False)) from None
            reply = self._receive(deadline, function)
        finally:
            self._drain_evidence()
        seconds = time.monotonic() - started
        # The reply's own "refused" is ignored: the evidence socket is the record.
        output = reply.get("output", "")
        dropped = reply.get("output_dropped", 0)
        if not isinstance(output, str) or type(dropped) is not int:
            raise WorkerDied(self._protocol_failure("malformed output"))
        dropped = min(max(dropped, 0), 1 << 53) + max(0, len(output) - self.limits.output_chars)
        output = output[:self.limits.output_chars]
        if reply.get("ok") is True:
            warnings = reply.get("warnings", [])
            if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
                raise WorkerDied(self._protocol_failure("malformed warnings"))
            warnings = [cut(w, MAX_WARNING_CHARS) for w in warnings[:MAX_WARNINGS]]
            return Reply(value=reply.get("value"), warnings=warnings, output=output,
                         output_dropped=dropped, seconds=seconds,
                         inputs_after=reply.get("inputs_after"))
        status = reply.get("status")
        if status not in ("error", "not_implemented", "missing"):
            raise WorkerDied(self._protocol_failure("unknown status"))
        message = cut(str(reply.get("message", "")), MAX_MESSAGE_CHARS)
        if dropped > 0:
            message += f" ({dropped} more characters of output were cut)"
        trace = str(reply.get("traceback", ""))
        failure = Failure(status=status, message=message,
                          kind=cut(str(reply.get("type", "")), MAX_TYPE_CHARS),
                          traceback=trace[-MAX_TRACEBACK_CHARS:], output=output)
        return Reply(failure=failure, output=output, output_dropped=dropped, seconds=seconds)

    @property
    def refusals(self) -> list[dict]:
        """What the guard refused, as read from the evidence socket (read now, too)."""
        self._drain_evidence()
        return self._refusals

    def _drain_evidence(self) -> None:
        """Record what the guard wrote on the evidence socket since the last drain."""
        if self.evidence is not None:
            drain_refusals(self.evidence, self._refusals)

    def _receive(self, deadline: float, doing: str) -> dict:
        def read(fd: int, n: int) -> bytes:
            chunks = []
            while n:
                wait_for(fd, select.POLLIN, deadline)
                chunk = os.read(fd, min(n, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)

        try:
            return wire.receive(self.rfd, np, read,
                              max_header=wire.MAX_REPLY_HEADER_BYTES,
                              max_arrays=wire.MAX_REPLY_ARRAY_BYTES)
        except TimeoutError:
            raise WorkerDied(self._death(doing, timed_out=True)) from None
        except EOFError:
            raise WorkerDied(self._death(doing, timed_out=False)) from None
        except (WireError, ValueError, UnicodeDecodeError) as error:
            raise WorkerDied(self._protocol_failure(str(error))) from None

    def _protocol_failure(self, reason: str) -> Failure:
        self._kill()
        return Failure("crashed", f"the worker broke the protocol ({reason})")

    def _death(self, doing: str, timed_out: bool) -> Failure:
        """Kill what is left of the worker and say why it stopped."""
        if timed_out:
            self._kill()
            return Failure("timeout", f"{doing} took longer than "
                           f"{self.limits.wall_seconds:g} s of wall-clock time")
        try:
            code = self.process.wait(timeout=1.0) if self.process is not None else None
        except subprocess.TimeoutExpired:
            code = None
        self._kill()
        return Failure(*describe_exit(code, self.limits, doing), output=self._stderr_tail())

    def _stderr_tail(self) -> str:
        """The start of what the worker wrote to stderr, read through the grader's own
        descriptor of its own file: never a path the worker could have replaced."""
        if self.stderr_file is None:
            return ""
        try:
            data = os.pread(self.stderr_file.fileno(), STDERR_BYTES, 0)
        except OSError:
            return ""
        return data.decode("utf-8", "replace")


def cut(text: str, cap: int) -> str:
    """``text`` in at most ``cap`` characters, saying so when it was longer."""
    return text if len(text) <= cap else text[:cap - len(CUT)] + CUT
