"""The program that runs inside a worker: the untrusted side of the grader.

It is started as ``python -I -S worker_main.py CONFIG`` in a fresh interpreter and
imports nothing of the grader: this file is the whole of it. It sets its own limits,
makes numpy and the submission importable, and then answers one request at a time on
the protocol pipes: "call function F of module M with these arguments".

The wire format is shared with the grader, which imports this module for ``encode``,
``decode``, ``send`` and ``receive``. A message is an 8-byte big-endian length, a JSON
header of that length, then the raw bytes of every array the header refers to. Only
plain data crosses: numbers, strings, None, lists, tuples, string-keyed dicts and
numeric numpy arrays. Never a pickle. Values that must stay in the worker (a layer's
``cache``) are kept here and cross as handles.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys

HEADER = struct.Struct(">Q")
# No message the grader sends or accepts is larger than this.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
ARRAY_KINDS = "biuf"


class WireError(Exception):
    """A message that breaks the protocol: too big, too deep, not plain data."""


# -- encoding -----------------------------------------------------------------------


def encode(value, np=None) -> tuple[dict | list | str | int | float | None, list[bytes]]:
    """``(json_tree, buffers)`` for a plain-data ``value``.

    Arrays become ``{"__nd__": i, "dtype": ..., "shape": [...]}`` with their bytes in
    ``buffers[i]``; tuples ``{"__tuple__": [...]}``; dicts ``{"__dict__": [[k, v], ...]}``;
    non-finite floats ``{"__float__": "nan" | "inf" | "-inf"}`` so the JSON stays strict.
    """
    buffers: list[bytes] = []

    def walk(x, depth):
        if depth > MAX_DEPTH:
            raise WireError("nested more than %d levels deep" % MAX_DEPTH)
        kind = type(x)
        if x is None or kind is bool or kind is str:
            return x
        if kind is int:
            return x
        if kind is float:
            return x if math.isfinite(x) else {"__float__": repr(x)}
        if kind is list:
            return [walk(item, depth + 1) for item in x]
        if kind is tuple:
            return {"__tuple__": [walk(item, depth + 1) for item in x]}
        if kind is dict:
            items = []
            for key, item in x.items():
                if type(key) is not str:
                    raise WireError("a dict key of type %s (keys must be str)" % type(key).__name__)
                items.append([key, walk(item, depth + 1)])
            return {"__dict__": items}
        if isinstance(x, Handle):
            return {"__handle__": x.id}
        if np is not None:
            if isinstance(x, np.ndarray):
                # Whatever the class, only its data crosses, rebuilt as a base ndarray.
                base = np.ascontiguousarray(x.view(np.ndarray))
                if base.dtype.kind not in ARRAY_KINDS:
                    raise WireError("an array of dtype %s (only numeric arrays are plain data)"
                                    % base.dtype)
                native = base.astype(base.dtype.newbyteorder("<"), copy=False)
                buffers.append(native.tobytes())
                return {"__nd__": len(buffers) - 1, "dtype": native.dtype.str,
                        "shape": list(native.shape)}
            if isinstance(x, np.generic) and x.dtype.kind in ARRAY_KINDS:
                return walk(x.item(), depth)
        raise WireError("an object of type %s, which is not plain data" % kind.__name__)

    return walk(value, 0), buffers


def decode(tree, buffers: list[bytes], np=None):
    """The value that ``encode`` made ``(tree, buffers)`` from; strict about everything."""

    def walk(x, depth):
        if depth > MAX_DEPTH:
            raise WireError("nested more than %d levels deep" % MAX_DEPTH)
        kind = type(x)
        if x is None or kind in (bool, str, int, float):
            return x
        if kind is list:
            return [walk(item, depth + 1) for item in x]
        if kind is not dict or len(x) == 0:
            raise WireError("unexpected %s in a message" % kind.__name__)
        if "__tuple__" in x and len(x) == 1:
            return tuple(walk(item, depth + 1) for item in _list(x["__tuple__"]))
        if "__dict__" in x and len(x) == 1:
            out = {}
            for pair in _list(x["__dict__"]):
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise WireError("malformed dict entry")
                out[pair[0]] = walk(pair[1], depth + 1)
            return out
        if "__float__" in x and len(x) == 1:
            text = x["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise WireError("malformed float")
            return float(text)
        if "__handle__" in x and len(x) == 1:
            if type(x["__handle__"]) is not int:
                raise WireError("malformed handle")
            return Handle(x["__handle__"])
        if "__nd__" in x and set(x) == {"__nd__", "dtype", "shape"}:
            return _array(x, buffers, np)
        raise WireError("unexpected object in a message")

    return walk(tree, 0)


def _list(x):
    if type(x) is not list:
        raise WireError("expected a list")
    return x


def _array(spec, buffers, np):
    index, dtype, shape = spec["__nd__"], spec["dtype"], spec["shape"]
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("array refers to a missing buffer")
    if type(dtype) is not str or len(dtype) > 4 or dtype[:1] not in "<|" or dtype[1:2] not in ARRAY_KINDS:
        raise WireError("array of unsupported dtype %r" % (dtype,))
    if type(shape) is not list or len(shape) > MAX_DEPTH or not all(
            type(n) is int and n >= 0 for n in shape):
        raise WireError("array of malformed shape")
    dt = np.dtype(dtype)
    count = 1
    for n in shape:
        count *= n
    data = buffers[index]
    if count * dt.itemsize != len(data):
        raise WireError("array shape %s does not match its %d bytes" % (tuple(shape), len(data)))
    # A copy: the grader owns a plain, writable, base-class array.
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


class Absent(Exception):
    """A module, function or handle that the worker does not have."""


def _describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a student exception whose __str__ itself raises
        text = "(unprintable)"
    return ("%s: %s" % (type(error).__name__, text) if text else type(error).__name__)[:2000]


class Handle:
    """A reference to a value that stays inside the worker."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __eq__(self, other):
        return type(other) is Handle and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return "Handle(%d)" % self.id


# -- framing ------------------------------------------------------------------------


def send(fd: int, message: dict, np=None) -> None:
    tree, buffers = encode(message, np)
    header = json.dumps({"body": tree, "sizes": [len(b) for b in buffers]},
                        allow_nan=False, separators=(",", ":")).encode()
    _write_all(fd, b"".join([HEADER.pack(len(header)), header, *buffers]))


def receive(fd: int, np=None, read=None) -> dict:
    """One message from ``fd``; ``read(fd, n)`` may be given to add a deadline."""
    read = read or _read_exact
    (size,) = HEADER.unpack(read(fd, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise WireError("message header of %d bytes" % size)
    header = json.loads(read(fd, size))
    if type(header) is not dict or set(header) != {"body", "sizes"}:
        raise WireError("malformed message header")
    sizes = header["sizes"]
    if type(sizes) is not list or not all(type(n) is int and n >= 0 for n in sizes):
        raise WireError("malformed buffer sizes")
    if sum(sizes) > MAX_MESSAGE_BYTES:
        raise WireError("message of more than %d bytes" % MAX_MESSAGE_BYTES)
    buffers = [read(fd, n) for n in sizes]
    message = decode(header["body"], buffers, np)
    if type(message) is not dict:
        raise WireError("a message must be a dict")
    return message


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


# -- the worker itself --------------------------------------------------------------


class CappedOutput:
    """A stand-in for sys.stdout/sys.stderr that keeps the first ``cap`` characters."""

    def __init__(self, cap: int):
        self.cap = cap
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text):
        text = str(text)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def take(self) -> tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, dropped


def _set_limits(limits: dict) -> None:
    import resource

    def cap(which, value):
        if value is None:
            return
        soft, hard = resource.getrlimit(which)
        new_hard = value if hard == resource.RLIM_INFINITY else min(hard, value)
        resource.setrlimit(which, (min(value, new_hard), new_hard))

    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_AS, limits.get("memory_bytes"))
    cap(resource.RLIMIT_FSIZE, limits.get("file_bytes"))
    cap(resource.RLIMIT_NOFILE, limits.get("open_files"))
    cap(resource.RLIMIT_CPU, limits.get("cpu_total_seconds"))
    if limits.get("processes") is not None:
        cap(resource.RLIMIT_NPROC, limits["processes"])


def _cpu_budget(seconds) -> None:
    """Let the next call use ``seconds`` more CPU time before the kernel stops us."""
    import resource

    if seconds is None:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want = int(math.ceil(spent + seconds))
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (want, hard))


class Worker:
    def __init__(self, config: dict):
        import numpy

        self.np = numpy
        self.config = config
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.modules: dict[str, object] = {}
        self.import_failures: dict[str, dict] = {}
        self.refusals: list[dict] = []
        self.refusals_sent = 0
        cap = config["limits"].get("output_chars", 65536)
        self.stdout = CappedOutput(cap)
        sys.stdout = sys.stderr = self.stdout

    def serve(self, rfd: int, wfd: int) -> None:
        while True:
            try:
                request = receive(rfd, self.np)
            except EOFError:
                return
            reply = self.handle(request)
            if len(self.refusals) > self.refusals_sent:
                reply["refused"] = [dict(r) for r in self.refusals[self.refusals_sent:]]
                self.refusals_sent = len(self.refusals)
            try:
                send(wfd, reply, self.np)
            except WireError as error:
                send(wfd, self.failure("error", "WireError",
                                       "the result is %s" % error), self.np)
            except Exception as error:  # a hostile value that breaks while being read
                send(wfd, self.failure("error", "WireError",
                                       "the result could not be read: " + _describe(error)), self.np)

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call":
            return self.call(request)
        if op == "import":
            return self.import_module(request["module"])
        if op == "release":
            for handle in request.get("handles", []):
                self.handles.pop(getattr(handle, "id", None), None)
            return {"ok": True}
        if op == "ping":
            return {"ok": True}
        return self.failure("error", "ProtocolError", "unknown request %r" % (op,))

    def failure(self, status: str, kind: str, message: str, trace: str = "") -> dict:
        output, dropped = self.stdout.take()
        return {"ok": False, "status": status, "type": kind, "message": message,
                "traceback": trace, "output": output, "output_dropped": dropped}

    def load(self, module: str):
        """The student's module, imported once; a failed import is remembered."""
        if module in self.modules:
            return self.modules[module]
        if module not in self.config["modules"]:
            raise Absent("no module %s.py in the submission" % module)
        import importlib

        self.modules[module] = importlib.import_module("exercises." + module)
        return self.modules[module]

    def import_module(self, module: str) -> dict:
        """Import a student module on its own, so that a hang or a crash there is named."""
        import traceback

        if module in self.import_failures:
            return dict(self.import_failures[module], output="", output_dropped=0)
        _cpu_budget(self.config["limits"].get("cpu_seconds"))
        self.stdout.take()
        try:
            self.load(module)
        except Absent as error:
            return self.failure("missing", "ModuleNotFoundError", str(error))
        except BaseException as error:  # SystemExit and KeyboardInterrupt too
            reply = self.crash_report(error, traceback, "importing %s.py failed: " % module)
            self.import_failures[module] = reply
            return reply
        output, dropped = self.stdout.take()
        return {"ok": True, "output": output, "output_dropped": dropped}

    def call(self, request: dict) -> dict:
        import traceback
        import warnings

        module, function = request["module"], request["function"]
        imported = self.import_module(module)
        if not imported["ok"]:
            return imported
        _cpu_budget(self.config["limits"].get("cpu_seconds"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                target = getattr(self.modules[module], function, None)
            except BaseException as error:
                return self.crash_report(error, traceback)
            if target is None or not callable(target):
                return self.failure("missing", "AttributeError",
                                    "%s.py defines no function %s" % (module, function))
            try:
                args = [self.resolve(a) for a in request.get("args", [])]
                kwargs = {k: self.resolve(v) for k, v in request.get("kwargs", {}).items()}
            except Absent as error:
                return self.failure("error", "ProtocolError", str(error))
            try:
                value = target(*args, **kwargs)
            except NotImplementedError:
                return self.failure("not_implemented", "NotImplementedError",
                                    "%s is not implemented yet" % function)
            except BaseException as error:  # SystemExit and KeyboardInterrupt too
                return self.crash_report(error, traceback)
        keep = request.get("keep", [])
        if keep and type(value) in (tuple, list):
            value = type(value)(self.keep(item) if i in keep else item
                                for i, item in enumerate(value))
        output, dropped = self.stdout.take()
        reply = {"ok": True, "value": value, "output": output, "output_dropped": dropped,
                 "warnings": [self.describe_warning(w) for w in caught[:20]]}
        if request.get("return_inputs"):
            reply["inputs_after"] = [None if isinstance(a, Handle) else b
                                     for a, b in zip(request.get("args", []), args)]
        return reply

    def crash_report(self, error: BaseException, traceback, prefix: str = "") -> dict:
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # The student's own frames are the useful part; the worker's are noise.
        lines = [line for line in trace.splitlines(keepends=True) if "worker_main.py" not in line]
        return self.failure("error", type(error).__name__, prefix + _describe(error),
                            "".join(lines)[-8000:])

    @staticmethod
    def describe_warning(w) -> str:
        return "%s: %s" % (getattr(w.category, "__name__", "Warning"), str(w.message)[:500])

    def keep(self, value) -> Handle:
        handle = Handle(self.next_handle)
        self.next_handle += 1
        self.handles[handle.id] = value
        return handle

    def resolve(self, value):
        if isinstance(value, Handle):
            if value.id not in self.handles:
                raise Absent("a handle that this worker does not hold")
            return self.handles[value.id]
        return value


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as stream:
        config = json.load(stream)
    if config.get("mode") == "zygote":
        return zygote(config)
    rfd, wfd = config["fds"]
    return run_worker(config, rfd, wfd)


def run_worker(config: dict, rfd: int, wfd: int) -> int:
    """Become one submission's worker: limits, path, guard, then answer calls until EOF."""
    _set_limits(config["limits"])
    for entry in reversed(config["path"]):
        sys.path.insert(0, entry)
    os.chdir(config["cwd"])
    worker = Worker(config)
    for name in list(sys.modules):
        # A module imported before the guard could otherwise be reached from sys.modules.
        if name.partition(".")[0] in config.get("guard", {}).get("modules", ()):
            del sys.modules[name]
    install_guard(config.get("guard", {}), worker.refusals)
    send(wfd, {"ok": True, "ready": True, "pid": os.getpid()}, worker.np)
    worker.serve(rfd, wfd)
    return 0


def _die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux prctl)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def zygote(config: dict) -> int:
    """A clean interpreter that forks one worker per submission.

    It imports numpy and the modules a worker needs, then waits. It never imports
    student code, never sees the grader's expected values, and forks a child for each
    request; the child becomes a worker exactly as a freshly started one would. The
    control socket is a SOCK_SEQPACKET: one JSON request per packet, the worker's two
    pipe ends riding along with a "fork" request.
    """
    import importlib  # noqa: F401  (imported once here, inherited by every worker)
    import signal
    import socket
    import traceback  # noqa: F401
    import warnings  # noqa: F401

    for entry in reversed(config["path"]):
        sys.path.insert(0, entry)
    import numpy  # noqa: F401

    _die_with_parent()
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
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    control.close()
                    os.setpgid(0, 0)
                    _die_with_parent()
                    err = os.open(request["config"]["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    os.dup2(err, 2)
                    os.close(err)
                    code = run_worker(request["config"], fds[0], fds[1])
                finally:
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            reply = {"pid": pid}
        elif op == "kill":
            for target in (-request["pid"], request["pid"]):
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            reply = {"status": status_of(request["pid"], 5.0)}
        elif op == "wait":
            reply = {"status": status_of(request["pid"], float(request.get("timeout", 1.0)))}
        else:
            reply = {"error": "unknown request"}
        control.send(json.dumps(reply).encode())


# Events that start processes, open sockets or reach for raw memory.
REFUSED_EVENTS = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                  "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn", "socket.__new__",
                  "socket.connect", "socket.bind", "os.putenv", "sys.addaudithook")


class Refused(PermissionError):
    """What the guard raises into student code that tried something it may not."""


def install_guard(guard: dict, refusals: list) -> None:
    """An audit hook, installed before any student code runs, that refuses and records
    imports of the grader's own packages, process creation, sockets, ctypes, and file
    access under the project's folders. Evidence, not proof: the sandbox is the defence."""
    forbidden_modules = frozenset(guard.get("modules", ()))
    forbidden_paths = tuple(p.rstrip("/") + "/" for p in guard.get("paths", ()))
    realpath = os.path.realpath

    def refuse(event, detail):
        if len(refusals) < 50:
            refusals.append({"event": event, "detail": str(detail)[:200]})
        raise Refused("refused by the grader's sandbox: %s %s" % (event, str(detail)[:200]))

    def hook(event, args):
        if event == "import":
            if args[0].partition(".")[0] in forbidden_modules:
                refuse(event, args[0])
        elif event in REFUSED_EVENTS or event.startswith("ctypes."):
            refuse(event, args[0] if args else "")
        elif event in ("open", "os.listdir", "os.scandir", "os.chdir") and forbidden_paths:
            path = args[0] if args else None
            if isinstance(path, (str, bytes)) and not isinstance(path, int):
                if isinstance(path, bytes):
                    path = path.decode("utf-8", "replace")
                full = realpath(path) + "/"
                if full.startswith(forbidden_paths):
                    refuse(event, path)

    sys.addaudithook(hook)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
