"""The grader's handle on one untrusted worker process.

A worker is a fresh interpreter (``python -I -S``, clean environment, single-threaded
BLAS) in a private temporary directory that holds a copy of one submission and the
grader's own ``exercises/provided.py``. Nothing of the grader, the reference
solutions or the autotests is on its path. Each call has a wall-clock deadline; a
worker that misses it, or dies, is killed with its whole process group and the call
reports ``timeout`` or ``crashed``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import exercises
from grader import worker_main
from grader.errors import EXIT_NOT_GRADED, GraderError
from grader.limits import Limits
from grader.sandbox import Isolation, native_dirs, site_package_dirs, stdlib_dirs
from grader.worker_main import Handle, WireError

WORKER_MAIN = Path(worker_main.__file__).resolve()
PROVIDED = Path(exercises.__file__).resolve().parent / "provided.py"
# Threads of BLAS libraries: one, so that limits and timings mean what they say.
CLEAN_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/nonexistent",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}


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


class WorkerUnavailable(GraderError):
    """The worker could not start: the machine's fault, never the student's."""

    exit_code = EXIT_NOT_GRADED

    def __init__(self, reason: str, stderr: str = ""):
        self.reason = reason
        self.stderr = stderr
        last = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        super().__init__("could not start a worker: " + "; ".join([reason, *last]))


class WorkerDied(Exception):
    def __init__(self, failure: Failure):
        self.failure = failure
        super().__init__(failure.message)


def forbidden_paths() -> list[Path]:
    """The folders of the reference, the autotests and the grader, wherever installed."""
    import autotests
    import grader

    folders = [Path(autotests.__file__).resolve().parent, Path(grader.__file__).resolve().parent]
    try:
        import solutions

        folders.append(Path(solutions.__file__).resolve().parent)
    except ImportError:
        pass
    return folders


def guard_config(inside_root: Path, lib: Path) -> dict:
    """What the worker's guard lets student code read, write and load, as the worker sees
    it: the standard library, numpy and the worker's own folder; writes in its home only."""
    return {
        "modules": ["solutions", "autotests", "grader"],
        "hidden": [str(p) for p in forbidden_paths()],
        "packages": [str(p) for p in site_package_dirs()],
        "numpy": [str(lib / location.name) for location in numpy_locations()],
        "native": [str(p) for p in native_dirs()],
        "read": [str(p) for p in stdlib_dirs()] + [str(inside_root)],
        "write": [str(inside_root / "home")],
    }


def numpy_locations() -> list[Path]:
    """numpy's package folder and, for wheels, the folder of its bundled libraries."""
    package = Path(np.__file__).resolve().parent
    return [p for p in (package, package.parent / "numpy.libs") if p.exists()]


def stage_submission(sources: dict[str, str], root: Path) -> None:
    """The submission's copy with the grader's own provided.py, and a home to run in."""
    package = root / "pkg" / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(PROVIDED, package / "provided.py")
    for module, source in sources.items():
        (package / f"{module}.py").write_text(source, encoding="utf-8")
    (root / "home").mkdir()


def stage(sources: dict[str, str], root: Path, isolation: Isolation) -> None:
    """Lay out a worker's private folder: the submission's copy, provided.py, the program."""
    stage_submission(sources, root)
    shutil.copyfile(WORKER_MAIN, root / "worker_main.py")
    if isolation.mechanism == "basic":
        lib = root / "lib"
        lib.mkdir()
        for location in numpy_locations():
            (lib / location.name).symlink_to(location, target_is_directory=True)


class Worker:
    """One worker process for one submission; ``call`` answers or raises WorkerDied."""

    def __init__(self, sources: dict[str, str], limits: Limits, isolation: Isolation,
                 zygote=None):
        self.sources = sources
        self.limits = limits
        self.isolation = isolation
        self.zygote = zygote  # a grader.forkserver.Zygote to fork from, or None: a fresh start
        self.process: subprocess.Popen | None = None
        self.root: Path | None = None
        self.stderr_file = None
        self.refusals: list[dict] = []  # what the guard refused, as the worker reported it

    # -- life -----------------------------------------------------------------------

    def _config(self, inside_root: Path, lib: Path) -> dict:
        return {
            "limits": self.limits.to_worker(),
            "path": [str(inside_root / "pkg"), str(lib)],
            "cwd": str(inside_root / "home"),
            "modules": sorted(self.sources),
            "guard": guard_config(inside_root, lib),
            "seccomp": self.isolation.seccomp,
            "stderr": str(inside_root / "stderr.log"),
        }

    def _start_forked(self) -> None:
        zygote = self.zygote
        if not zygote.running:
            zygote.close()
            zygote.start()
        zygote.sweep()
        self.root = Path(tempfile.mkdtemp(prefix="worker-", dir=zygote.root))
        stage_submission(self.sources, self.root)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        try:
            self.process = zygote.fork(self._config(zygote.inside(self.root), zygote.lib_inside()),
                                       (to_worker_r, from_worker_w))
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
        self.wfd, self.rfd = to_worker_w, from_worker_r
        self._await_ready()

    def _await_ready(self) -> None:
        try:
            ready = self._receive(time.monotonic() + self.limits.start_seconds, "starting")
        except WorkerDied as died:
            raise WorkerUnavailable(died.failure.message, died.failure.output) from None
        if not ready.get("ready"):
            raise WorkerUnavailable("the worker did not say it was ready", self._stderr_tail())

    def start(self) -> None:
        if self.zygote is not None:
            return self._start_forked()
        self.root = Path(tempfile.mkdtemp(prefix="backprop-worker-"))
        stage(self.sources, self.root, self.isolation)
        inside = self.isolation.layout(self.root)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        config = {**self._config(inside.root, inside.lib), "fds": [to_worker_r, from_worker_w]}
        (self.root / "config.json").write_text(json.dumps(config), encoding="utf-8")
        self.stderr_file = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                self.isolation.argv(self.root, numpy_locations()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.stderr_file,
                pass_fds=(to_worker_r, from_worker_w),
                env=CLEAN_ENV,
                cwd=self.root / "home",
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
        self.wfd, self.rfd = to_worker_w, from_worker_r
        self._await_ready()

    def close(self) -> None:
        if self.process is not None:
            self._kill()
            for fd in (self.wfd, self.rfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.process = None
        if self.stderr_file is not None:
            self.stderr_file.close()
            self.stderr_file = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _kill(self) -> None:
        process = self.process
        if hasattr(process, "kill_all"):  # forked by the zygote, which knows its pid
            process.kill_all()
            return
        # The worker, everything it started, and whatever of that escaped into a new
        # session but is still its descendant (the worker adopts orphans).
        worker_main.kill_family(process.pid)
        try:
            process.kill()
        except ProcessLookupError:
            pass
        process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- calls ----------------------------------------------------------------------

    def import_module(self, module: str) -> Reply:
        """Import a student module ahead of its first call, so that a hang there is named."""
        return self._request({"op": "import", "module": module}, f"importing {module}.py")

    def call(self, module: str, function: str, args: tuple = (), kwargs: dict | None = None,
             keep: tuple[int, ...] = (), return_inputs: bool = False) -> Reply:
        request = {"op": "call", "module": module, "function": function,
                   "args": list(args), "kwargs": dict(kwargs or {}), "keep": list(keep),
                   "return_inputs": return_inputs}
        return self._request(request, function)

    def _request(self, request: dict, function: str) -> Reply:
        if self.process is None:
            self.start()
        started = time.monotonic()
        try:
            worker_main.send(self.wfd, request, np)
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._death(f"calling {function}", timed_out=False)) from None
        reply = self._receive(started + self.limits.wall_seconds, f"{function}")
        seconds = time.monotonic() - started
        refused = reply.get("refused", [])
        if isinstance(refused, list):
            self.refusals.extend(r for r in refused[:50] if isinstance(r, dict)
                                 and all(isinstance(v, str) for v in r.values()))
        output = reply.get("output", "")
        dropped = reply.get("output_dropped", 0)
        if not isinstance(output, str) or not isinstance(dropped, int):
            raise WorkerDied(self._protocol_failure("malformed output"))
        if reply.get("ok") is True:
            warnings = reply.get("warnings", [])
            if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
                raise WorkerDied(self._protocol_failure("malformed warnings"))
            return Reply(value=reply.get("value"), warnings=warnings, output=output,
                         output_dropped=dropped, seconds=seconds,
                         inputs_after=reply.get("inputs_after"))
        status = reply.get("status")
        if status not in ("error", "not_implemented", "missing"):
            raise WorkerDied(self._protocol_failure("unknown status"))
        message = str(reply.get("message", ""))
        if dropped > 0:
            message += f" ({dropped} more characters of output were cut)"
        failure = Failure(status=status, message=message,
                          kind=str(reply.get("type", "")),
                          traceback=str(reply.get("traceback", "")), output=output)
        return Reply(failure=failure, output=output, output_dropped=dropped, seconds=seconds)

    def _receive(self, deadline: float, doing: str) -> dict:
        def read(fd: int, n: int) -> bytes:
            chunks = []
            while n:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise TimeoutError
                chunk = os.read(fd, min(n, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)

        try:
            return worker_main.receive(self.rfd, np, read)
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
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        self._kill()
        return Failure(*describe_exit(code, self.limits, doing), output=self._stderr_tail())

    def _stderr_tail(self) -> str:
        if self.zygote is not None and self.root is not None:
            try:
                with open(self.root / "stderr.log", "rb") as stream:
                    return stream.read(4096).decode("utf-8", "replace")
            except OSError:
                return ""
        if self.stderr_file is None:
            return ""
        self.stderr_file.seek(0)
        return self.stderr_file.read(4096).decode("utf-8", "replace")


def describe_exit(code: int | None, limits: Limits, doing: str) -> tuple[str, str]:
    """``(status, message)`` for a worker that stopped with exit code ``code``."""
    if code == -signal.SIGXCPU:
        return "timeout", f"{doing} used more than {limits.cpu_seconds:g} s of CPU time"
    if code == -signal.SIGXFSZ:
        return "crashed", f"{doing} wrote a file larger than {limits.file_bytes} bytes"
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
        return "crashed", f"the worker was killed by signal {name} while {doing} ran"
    if code is None:
        return "crashed", f"the worker stopped answering while {doing} ran"
    return "crashed", f"the worker exited with code {code} while {doing} ran (os._exit?)"


