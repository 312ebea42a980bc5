"""A fork server for workers: one clean interpreter per grading process, forked per submission.

Starting a worker from scratch costs an interpreter and an import of numpy, most of
a submission's CPU time. The zygote pays that once: it starts in the same sandbox a
worker would (bubblewrap or basic), imports numpy, never runs student code, and
forks a child for each submission that becomes a worker exactly as a freshly started
one would (its own limits, guard and folder). It runs one worker at a time, so no
student's code ever shares a machine view with another's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from grader.sandbox import program
from grader.sandbox.client import WorkerUnavailable
from grader.sandbox.isolation import Isolation
from grader.sandbox.staging import CLEAN_ENV, numpy_locations

START_SECONDS = 20.0
REQUEST_SECONDS = 10.0


class ForkedProcess:
    """A worker forked by the zygote: the little of Popen's interface WorkerClient uses."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            status = self.zygote.request({"op": "wait", "pid": self.pid, "timeout": 0})
            if status != "running":
                self.returncode = status
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            seconds = 3600 if timeout is None else timeout
            status = self.zygote.request({"op": "wait", "pid": self.pid, "timeout": seconds})
            if status == "running":
                raise subprocess.TimeoutExpired("worker", seconds)
            self.returncode = status
        return self.returncode

    def kill_all(self) -> None:
        """Kill the worker and its process group; reap it."""
        if self.returncode is None:
            status = self.zygote.request({"op": "kill", "pid": self.pid})
            self.returncode = status if status != "running" else -signal.SIGKILL


class Zygote:
    def __init__(self, isolation: Isolation):
        self.isolation = isolation
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        # The zygote's stderr: a file of the grader's while it runs.
        self.stderr: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _root(self) -> Path:
        if self.root is None:
            raise WorkerUnavailable("the fork server is not running")
        return self.root

    def inside(self, path: Path) -> Path:
        """``path`` (under the zygote's folder) as the sandboxed processes see it."""
        root = self._root()
        return self.isolation.layout(root).root / Path(path).relative_to(root)

    def lib_inside(self) -> Path:
        return self.isolation.layout(self._root()).lib

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="backprop-zygote-"))
        program.install(self.root)
        (self.root / "home").mkdir()
        if self.isolation.mechanism == "basic":
            lib = self.root / "lib"
            lib.mkdir()
            for location in numpy_locations():
                (lib / location.name).symlink_to(location, target_is_directory=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        layout = self.isolation.layout(self.root)
        config = {"mode": "zygote", "control_fd": theirs.fileno(), "path": [str(layout.lib)]}
        (self.root / "config.json").write_text(json.dumps(config), encoding="utf-8")
        stderr = self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        try:
            self.process = subprocess.Popen(
                self.isolation.argv(self.root, numpy_locations()), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=(theirs.fileno(),),
                env=CLEAN_ENV, cwd=self.root / "home", start_new_session=True, close_fds=True)
        finally:
            theirs.close()
        self.control = ours
        ready = self._receive(START_SECONDS)
        if not isinstance(ready, dict) or not ready.get("ready"):
            stderr.seek(0)
            tail = stderr.read(2000).decode("utf-8", "replace")
            self.close()
            raise WorkerUnavailable("the fork server did not start", tail)

    def _receive(self, seconds: float):
        if self.control is None:
            return None
        self.control.settimeout(seconds)
        try:
            packet = self.control.recv(1 << 16)
        except (TimeoutError, OSError):
            packet = b""
        if not packet:
            return None
        return json.loads(packet)

    def request(self, message: dict, fds: tuple[int, ...] = ()):
        """Send one request and return the zygote's answer (its "pid" or "status")."""
        if not self.running or self.control is None:
            raise WorkerUnavailable("the fork server is not running")
        data = json.dumps(message).encode()
        try:
            if fds:
                socket.send_fds(self.control, [data], list(fds))
            else:
                self.control.send(data)
        except OSError as error:
            raise WorkerUnavailable(f"the fork server stopped answering ({error})") from None
        reply = self._receive(REQUEST_SECONDS)
        if not isinstance(reply, dict) or ("pid" not in reply and "status" not in reply):
            self.close()
            raise WorkerUnavailable("the fork server stopped answering")
        return reply.get("pid", reply.get("status"))

    def fork(self, config: dict, fds: tuple[int, ...]) -> ForkedProcess:
        if not self.running:
            self.close()
            self.start()
        return ForkedProcess(self, self.request({"op": "fork", "config": config}, fds))

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def sweep(self, keep: Path | None = None) -> None:
        """Remove whatever a finished worker left in the zygote's folder."""
        for entry in self._root().iterdir():
            if entry.name in (program.FOLDER, "config.json", "home", "lib") or entry == keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
