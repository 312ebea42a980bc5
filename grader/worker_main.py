"""The program that runs inside a worker: the untrusted side of the grader.

It is started as ``python -I -S worker_main.py CONFIG`` in a fresh interpreter and
imports nothing of the grader: this file is the whole of it. It sets its own limits,
makes numpy and the submission importable, and then answers one request at a time on
the protocol pipes: "call function F of module M with these arguments".

The wire format is shared with the grader, which imports this module for ``encode``,
``decode``, ``send`` and ``receive``. A message is an 8-byte big-endian length, a UTF-8
JSON header of that length, then the raw bytes of every array the header refers to. Only
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
# Requests come from the grader, which makes them: a generous cap, checked before reading.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Replies come from student code. The grader reads them under these caps, each checked
# before a byte of what it bounds is read or parsed. The course's own tests get replies of
# under 1 KB of header and 10 KB of arrays (measured over the reference and the example
# submissions); an honest worker's longest header, with its capped output (64K characters),
# traceback (8K), message (2K) and 20 warnings, is under 500 KB of UTF-8 JSON.
MAX_REPLY_HEADER_BYTES = 1024 * 1024
MAX_REPLY_ARRAY_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
# How deep a header's JSON may nest: each of MAX_DEPTH + 1 levels of a value takes at most
# three ({"__dict__": [[key, value]]}), an array two more ({"shape": [...]}), the frame one.
MAX_JSON_DEPTH = 3 * (MAX_DEPTH + 1) + 3
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
            raise WireError(f"nested more than {MAX_DEPTH} levels deep")
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
                    raise WireError(f"a dict key of type {type(key).__name__} (keys must be str)")
                items.append([key, walk(item, depth + 1)])
            return {"__dict__": items}
        if isinstance(x, Handle):
            return {"__handle__": x.id}
        if np is not None:
            if isinstance(x, np.ndarray):
                # Whatever the class, only its data crosses, rebuilt as a base ndarray.
                # np.require keeps a 0-d array 0-d (ascontiguousarray makes it 1-d).
                base = np.require(x.view(np.ndarray), requirements="C")
                if base.dtype.kind not in ARRAY_KINDS:
                    raise WireError(f"an array of dtype {base.dtype} (only numeric arrays are "
                                    "plain data)")
                native = base.astype(base.dtype.newbyteorder("<"), copy=False)
                buffers.append(native.tobytes())
                return {"__nd__": len(buffers) - 1, "dtype": native.dtype.str,
                        "shape": list(native.shape)}
            if isinstance(x, np.generic) and x.dtype.kind in ARRAY_KINDS:
                item = x.item()
                if isinstance(item, np.generic):  # a longdouble: no Python number holds it
                    raise WireError(f"a numpy scalar of dtype {x.dtype} (only float64 and smaller "
                                    "cross as numbers)")
                return walk(item, depth)
        raise WireError(f"an object of type {kind.__name__}, which is not plain data")

    return walk(value, 0), buffers


def decode(tree, buffers: list[bytes], np=None):
    """The value that ``encode`` made ``(tree, buffers)`` from; strict about everything.

    Each buffer makes at most one array (as ``encode`` writes them): a small header cannot
    ask for the same 16 MiB of bytes to be copied a hundred thousand times.
    """
    used: set[int] = set()

    def walk(x, depth):
        if depth > MAX_DEPTH:
            raise WireError(f"nested more than {MAX_DEPTH} levels deep")
        kind = type(x)
        if x is None or kind in (bool, str, int, float):
            return x
        if kind is list:
            return [walk(item, depth + 1) for item in x]
        if kind is not dict or len(x) == 0:
            raise WireError(f"unexpected {kind.__name__} in a message")
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
            return _array(x, buffers, np, used)
        raise WireError("unexpected object in a message")

    return walk(tree, 0)


def _list(x):
    if type(x) is not list:
        raise WireError("expected a list")
    return x


def _array(spec, buffers, np, used):
    index, dtype, shape = spec["__nd__"], spec["dtype"], spec["shape"]
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("array refers to a missing buffer")
    if index in used:
        raise WireError("two arrays refer to one buffer")
    used.add(index)
    if (type(dtype) is not str or len(dtype) > 4 or dtype[:1] not in "<|"
            or dtype[1:2] not in ARRAY_KINDS):
        raise WireError(f"array of unsupported dtype {dtype!r}")
    if type(shape) is not list or len(shape) > MAX_DEPTH or not all(
            type(n) is int and n >= 0 for n in shape):
        raise WireError("array of malformed shape")
    try:
        dt = np.dtype(dtype)
    except TypeError:  # a dtype string numpy does not know, such as '<f3'
        raise WireError(f"array of unsupported dtype {dtype!r}") from None
    count = 1
    for n in shape:
        count *= n
    data = buffers[index]
    if count * dt.itemsize != len(data):
        raise WireError(f"array shape {tuple(shape)} does not match its {len(data)} bytes")
    # A copy: the grader owns a plain, writable, base-class array.
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


class Absent(Exception):
    """A module, function or handle that the worker does not have."""


def _describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a student exception whose __str__ itself raises
        text = "(unprintable)"
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:2000]


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
        return f"Handle({self.id})"


# -- framing ------------------------------------------------------------------------


def send(fd: int, message: dict, np=None, write=None, max_header: int = MAX_MESSAGE_BYTES,
         max_arrays: int = MAX_MESSAGE_BYTES) -> None:
    """``message`` onto ``fd``; ``write(fd, data)`` may be given to add a deadline.

    A message over the caps its reader will apply is refused here, before a byte is
    written, so that an honest sender gets a WireError to report rather than a reader
    that gives up on it. The header is UTF-8 (surrogates passed through, as ``receive``
    reads it): at most 4 bytes a character where escaping would take 12.
    """
    tree, buffers = encode(message, np)
    header = json.dumps({"body": tree, "sizes": [len(b) for b in buffers]}, allow_nan=False,
                        ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if len(header) > max_header:
        raise WireError(f"too large to send: {len(header)} bytes of header "
                        f"(at most {max_header})")
    if sum(len(b) for b in buffers) > max_arrays:
        raise WireError(f"too large to send: {sum(len(b) for b in buffers)} bytes of arrays "
                        f"(at most {max_arrays})")
    (write or _write_all)(fd, b"".join([HEADER.pack(len(header)), header, *buffers]))


def receive(fd: int, np=None, read=None, max_header: int = MAX_MESSAGE_BYTES,
            max_arrays: int = MAX_MESSAGE_BYTES) -> dict:
    """One message from ``fd``; ``read(fd, n)`` may be given to add a deadline.

    Every size is checked before what it announces is read, and the header's nesting
    before it is parsed: a reader pays for at most ``max_header`` bytes of JSON nested at
    most MAX_JSON_DEPTH deep, and ``max_arrays`` bytes of arrays, whatever it is sent.
    """
    read = read or _read_exact
    (size,) = HEADER.unpack(read(fd, HEADER.size))
    if size > max_header:
        raise WireError(f"message header of {size} bytes (at most {max_header})")
    text = read(fd, size)
    if not _nests_within(text, MAX_JSON_DEPTH):
        raise WireError(f"message header nested more than {MAX_JSON_DEPTH} levels deep "
                        "(or unbalanced)")
    try:
        header = json.loads(text.decode("utf-8", "surrogatepass"))
    except RecursionError:  # nested deeper than the parser can go
        raise WireError("message header nested too deeply") from None
    if type(header) is not dict or set(header) != {"body", "sizes"}:
        raise WireError("malformed message header")
    sizes = header["sizes"]
    if type(sizes) is not list or not all(type(n) is int and n >= 0 for n in sizes):
        raise WireError("malformed buffer sizes")
    if sum(sizes) > max_arrays:
        raise WireError(f"message of more than {max_arrays} bytes of arrays")
    buffers = [read(fd, n) for n in sizes]
    message = decode(header["body"], buffers, np)
    if type(message) is not dict:
        raise WireError("a message must be a dict")
    return message


_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nests_within(text: bytes, limit: int) -> bool:
    """Whether the JSON ``text`` nests at most ``limit`` deep, found without parsing it.

    Escaped backslashes and quotes go first, then what is between quotes (the strings),
    then all but the brackets; each round then takes away the innermost pairs. Linear
    passes in C, at most ``limit`` of them; valid JSON is measured exactly, and text that
    is not JSON either fails here or in the parser.
    """
    text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(text.split(b'"')[::2]).translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False  # unbalanced: not JSON
        brackets = shorter
    return not brackets


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
            # A copy for whoever reads replies; the grader does not rely on it (student code
            # can clear this list): it reads the evidence socket, where the guard wrote
            # each refusal the moment it happened.
            if len(self.refusals) > self.refusals_sent:
                reply["refused"] = [dict(r) for r in self.refusals[self.refusals_sent:]]
                self.refusals_sent = len(self.refusals)
            try:
                # Under the caps the grader reads replies with: too big is said, not sent.
                send(wfd, reply, self.np, max_header=MAX_REPLY_HEADER_BYTES,
                     max_arrays=MAX_REPLY_ARRAY_BYTES)
            except WireError as error:
                send(wfd, self.failure("error", "WireError",
                                       f"the result is {error}"), self.np)
            except Exception as error:  # a hostile value that breaks while being read
                send(wfd, self.failure("error", "WireError", "the result could not be read: "
                                       + _describe(error)), self.np)

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call":
            return self.call(request)
        if op == "import":
            return self.import_module(request["module"])
        if op == "release":
            for handle in request.get("handles", []):
                if isinstance(handle, Handle):
                    self.handles.pop(handle.id, None)
            return {"ok": True}
        if op == "ping":
            return {"ok": True}
        return self.failure("error", "ProtocolError", f"unknown request {op!r}")

    def failure(self, status: str, kind: str, message: str, trace: str = "") -> dict:
        output, dropped = self.stdout.take()
        return {"ok": False, "status": status, "type": kind, "message": message,
                "traceback": trace, "output": output, "output_dropped": dropped}

    def load(self, module: str):
        """The student's module, imported once; a failed import is remembered."""
        if module in self.modules:
            return self.modules[module]
        if module not in self.config["modules"]:
            raise Absent(f"no module {module}.py in the submission")
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
            reply = self.crash_report(error, traceback, f"importing {module}.py failed: ")
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
                                    f"{module}.py defines no function {function}")
            try:
                args = [self.resolve(a) for a in request.get("args", [])]
                kwargs = {k: self.resolve(v) for k, v in request.get("kwargs", {}).items()}
            except Absent as error:
                return self.failure("error", "ProtocolError", str(error))
            try:
                value = target(*args, **kwargs)
            except NotImplementedError:
                return self.failure("not_implemented", "NotImplementedError",
                                    f"{function} is not implemented yet")
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
                                     for a, b in zip(request.get("args", []), args, strict=True)]
        return reply

    def crash_report(self, error: BaseException, traceback, prefix: str = "") -> dict:
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # The student's own frames are the useful part; the worker's are noise.
        lines = [line for line in trace.splitlines(keepends=True) if "worker_main.py" not in line]
        return self.failure("error", type(error).__name__, prefix + _describe(error),
                            "".join(lines)[-8000:])

    @staticmethod
    def describe_warning(w) -> str:
        return f"{getattr(w.category, '__name__', 'Warning')}: {str(w.message)[:500]}"

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
    if argv[1:] == ["--probe-seccomp"]:
        return probe_seccomp()
    if argv[1:] == ["--probe-landlock"]:
        return probe_landlock()
    if argv[1:] == ["--probe-quota"]:
        return probe_quota()
    with open(argv[1], encoding="utf-8") as stream:
        config = json.load(stream)
    if config.get("mode") == "zygote":
        return zygote(config)
    rfd, wfd = config["fds"]
    return run_worker(config, rfd, wfd)


def run_worker(config: dict, rfd: int, wfd: int) -> int:
    """Become one submission's worker: limits, walls, containment, guard, then answer calls
    until EOF."""
    _set_limits(config["limits"])
    for entry in reversed(config["path"]):
        sys.path.insert(0, entry)
    # numpy's native parts load system libraries (libstdc++) that Landlock will not let
    # this process open later: load them first (a forked worker has them already).
    _preload_numpy()
    build_walls(config.get("walls") or {})
    contain(seccomp=config.get("seccomp", False))
    os.chdir(config["cwd"])
    os.environ["TMPDIR"] = config["cwd"]  # tempfile's default: the one writable place
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE
    worker = Worker(config)
    install_guard(config.get("guard", {}), worker.refusals)
    send(wfd, {"ok": True, "ready": True, "pid": os.getpid()}, worker.np)
    worker.serve(rfd, wfd)
    return 0


# -- containment: what the kernel enforces, whatever the student's code does ---------

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP = 1, 4, 22
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
SECCOMP_MODE_FILTER = 2

# Per machine: the audit architecture and the numbers of the system calls the filter
# names. Creating a process, tracing or signalling another, and opening a socket.
SYSCALLS = {
    "x86_64": (0xC000003E, {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "clone": 56, "clone3": 435,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "socket": 41,
        "io_uring_setup": 425, "tkill": 200, "pidfd_send_signal": 424, "open_by_handle_at": 304,
        "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297}),
    "aarch64": (0xC00000B7, {
        "execve": 221, "execveat": 281, "clone": 220, "clone3": 435,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "socket": 198,
        "io_uring_setup": 425, "tkill": 130, "pidfd_send_signal": 424, "open_by_handle_at": 265,
        "kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240}),
}
# open_by_handle_at: with CAP_DAC_READ_SEARCH (kept by a root worker that drops its uid)
# it opens a file by inode number, past every path on the way.
DENIED_SYSCALLS = ("fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv",
                   "process_vm_writev", "socket", "io_uring_setup", "tkill", "pidfd_send_signal",
                   "open_by_handle_at")
SELF_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first argument: a pid


def seccomp_program(machine: str, pid: int) -> list[tuple[int, int, int, int]] | None:
    """A classic-BPF seccomp filter, as (code, jt, jf, k) rows; None for an unknown machine.

    Refused with EPERM: fork, vfork, exec, every clone (threads included), tracing,
    sockets, io_uring, and signals to any process but ``pid``. clone3 answers ENOSYS so
    that the C library falls back to clone. Every other system call is allowed: this
    bounds processes, it is not a general sandbox.
    """
    import errno

    if machine not in SYSCALLS:
        return None
    arch, numbers = SYSCALLS[machine]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, errno_ = 0x7FFF0000, 0x00050000
    low, high = (16, 20) if sys.byteorder == "little" else (20, 16)  # args[0], 32 bits each
    rows: list[tuple] = []  # (code, k, label_if_true, label_if_false) or ("label", name)

    def op(code, k, yes=None, no=None):
        rows.append((code, k, yes, no))

    op(ld, 4)                                    # seccomp_data.arch
    op(jeq, arch, None, "deny")
    op(ld, 0)                                    # seccomp_data.nr
    if machine == "x86_64":
        op(jge, 0x40000000, "deny", None)        # the x32 ABI
    for name in DENIED_SYSCALLS:
        if name in numbers:
            op(jeq, numbers[name], "deny", None)
    op(jeq, numbers["clone3"], "enosys", None)
    # Threads too: a thread started by one module would run on through the tests of the
    # others (spending their CPU time, changing their functions). The worker needs none.
    op(jeq, numbers["clone"], "deny", None)
    for name in SELF_SIGNALS:
        op(jeq, numbers[name], "self", None)
    op(ret, allow)
    rows.append(("label", "self"))
    op(ld, high)
    op(jeq, 0, None, "deny")
    op(ld, low)
    op(jeq, pid, "allow", "deny")
    rows.append(("label", "allow"))
    op(ret, allow)
    rows.append(("label", "deny"))
    op(ret, errno_ | errno.EPERM)
    rows.append(("label", "enosys"))
    op(ret, errno_ | errno.ENOSYS)

    labels, index = {}, 0
    for row in rows:
        if row[0] == "label":
            labels[row[1]] = index
        else:
            index += 1
    program, index = [], 0
    for row in rows:
        if row[0] == "label":
            continue
        code, k, yes, no = row
        jt = labels[yes] - index - 1 if yes else 0
        jf = labels[no] - index - 1 if no else 0
        program.append((code, jt, jf, k))
        index += 1
    return program


def _prctl(option: int, arg2: int, arg3: int = 0) -> None:
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    prctl.restype = ctypes.c_int
    if prctl(option, arg2, arg3, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}): {os.strerror(code)}")


def contain(seccomp: bool) -> None:
    """Die with the parent, adopt orphans, and with ``seccomp`` have the kernel refuse every
    new process, trace, socket and signal to another process for the rest of this life.

    Raises OSError when the filter cannot be installed: a worker that was promised one
    does not run without it.
    """
    import ctypes
    import signal

    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Orphaned descendants become ours, so they stay in the family that closing kills.
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if not seccomp:
        return
    machine = os.uname().machine
    program = seccomp_program(machine, os.getpid())
    if program is None:
        raise OSError(38, f"no seccomp filter for a {machine} machine")

    class Row(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Row))]

    rows = (Row * len(program))(*[Row(*row) for row in program])
    fprog = Program(len(program), rows)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


# -- walls: an unprivileged uid and Landlock, set before any student code runs --------

PR_SET_KEEPCAPS = 8
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self: one number on every
# architecture (the syscalls are newer than the split of the tables).
LANDLOCK_SYSCALLS = (444, 445, 446)
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# Filesystem rights by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_CHANGE_V1 = sum(1 << bit for bit in range(4, 13))  # remove, make dir/file/fifo/sock/symlink...
FS_MAKE_DEVICE = (1 << 6) | (1 << 11)                 # character and block devices
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where it has none (or it is switched off)."""
    import ctypes

    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[0]), None, ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(version))


def landlock(read: list, write: list) -> int:
    """Confine this process, for the rest of its life, to reading ``read`` and reading and
    writing ``write`` (folders or single files); every other path of every filesystem is
    refused by the kernel, whatever the process's uid or capabilities. Where the ABI allows,
    TCP is refused too, and signals and abstract sockets stop at this process's domain.
    Returns the ABI version used; raises OSError where Landlock is unavailable."""
    import ctypes

    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = landlock_abi()
    if abi < 1:
        raise OSError(38, "the kernel has no Landlock")
    handled = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_CHANGE_V1
    handled |= (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    handled |= FS_IOCTL_DEV if abi >= 5 else 0
    fields = [("fs", ctypes.c_uint64)]
    values = [handled]
    if abi >= 4:
        fields.append(("net", ctypes.c_uint64))
        values.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(("scoped", ctypes.c_uint64))
        values.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)

    class Ruleset(ctypes.Structure):
        _fields_ = fields

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = Ruleset(*values)
    ruleset = libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[0]), ctypes.byref(attr),
                           ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    file_rights = FS_READ_FILE | FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)
    reading = FS_READ_FILE | FS_READ_DIR
    writing = (handled & ~FS_EXECUTE & ~FS_MAKE_DEVICE & ~FS_REFER) | reading
    try:
        for paths, rights in ((read, reading), (write, writing)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a folder this machine does not have: nothing to allow
                try:
                    allowed = rights
                    if not os.path.isdir(path):
                        allowed &= file_rights | FS_READ_FILE
                    rule = PathBeneath(allowed, fd)
                    if libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[1]), ctypes.c_int(ruleset),
                                    ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                    ctypes.c_uint32(0)) < 0:
                        code = ctypes.get_errno()
                        raise OSError(code, f"landlock_add_rule({path}): {os.strerror(code)}")
                finally:
                    os.close(fd)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        if libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[2]), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(ruleset)
    return abi


def drop_to(uid: int) -> None:
    """As root, become ``uid`` (and its gid, no groups), keeping of root's powers only
    CAP_DAC_READ_SEARCH: the interpreter may live under a folder only root can enter, but
    nothing that belongs to root or to another user can be written or changed any more.
    What may be read is Landlock's to say."""
    import ctypes

    libc = _libc()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    _prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    keep = 1 << CAP_DAC_READ_SEARCH
    data = (Data * 2)(Data(keep, keep, 0), Data(0, 0, 0))
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"capset: {os.strerror(code)}")
    _prctl(PR_SET_KEEPCAPS, 0)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(1, f"still uid {os.geteuid()} after dropping to {uid}")


CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def private_home(home: str, size: int, owner: int) -> None:
    """Mount a tmpfs of ``size`` bytes over ``home``, seen by this process alone: the disk
    quota. A root process (basic) takes a mount namespace of its own; anyone else (inside
    bubblewrap) a user namespace with it. Must come before Landlock, which forbids mounts."""
    import ctypes

    libc = _libc()
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(CLONE_NEWNS) != 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"unshare: {os.strerror(code)}")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open("/proc/self/" + name, "w") as stream:
                stream.write(text)
        owner = uid
    # Nothing mounted here may reach the machine's mount table.
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount --make-rprivate /: {os.strerror(code)}")
    options = f"size={size},mode=0700,uid={owner},gid={owner if owner != uid else gid}"
    if libc.mount(b"tmpfs", home.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options.encode()) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount tmpfs on {home}: {os.strerror(code)}")
    os.chdir(home)  # the old cwd is the folder under the mount


def probe_quota() -> int:
    """Exit 0 when a worker here can have a private, size-limited home."""
    import errno
    import tempfile

    home = tempfile.mkdtemp(prefix="backprop-quota-probe-")
    try:
        private_home(home, 1 << 20, os.geteuid())
        with open(os.path.join(home, "fill"), "wb") as stream:
            stream.write(b"x" * (2 << 20))
    except OSError as error:
        if error.errno == errno.ENOSPC:
            return 0
        print(f"quota: {error}", file=sys.stderr)
        return 2
    finally:
        try:
            os.rmdir(home)
        except OSError:
            pass
    print("quota: 2 MiB fit in a 1 MiB home", file=sys.stderr)
    return 3


def _preload_numpy() -> None:
    import numpy
    import numpy.fft  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    numpy.zeros(1)


def build_walls(walls: dict) -> None:
    """The kernel walls the grader asked for, before any student code runs; fail closed."""
    uid = walls.get("uid")
    if walls.get("home_bytes"):
        private_home(walls["home"], walls["home_bytes"], uid if uid is not None else os.geteuid())
    if uid is not None and os.geteuid() == 0:
        drop_to(uid)
    if walls.get("landlock"):
        landlock(walls.get("read", []), walls.get("write", []))


def probe_landlock() -> int:
    """Exit 0 when a worker here can have the kernel refuse it every path but its own."""
    try:
        landlock([], [])
    except OSError as error:
        print(f"landlock: {error}", file=sys.stderr)
        return 2
    try:
        os.listdir("/")
    except PermissionError:
        return 0
    print("landlock: the ruleset let a read of / through", file=sys.stderr)
    return 3


def probe_seccomp() -> int:
    """Exit 0 when a worker here can have the kernel refuse it a new process."""
    try:
        contain(seccomp=True)
    except OSError as error:
        print(f"seccomp: {error}", file=sys.stderr)
        return 2
    try:
        pid = os.fork()
    except PermissionError:
        return 0
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    print("seccomp: the filter let a fork through", file=sys.stderr)
    return 3


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


# -- the guard: refusals raised into student code and recorded for the report --------

# Refused whatever their arguments: new processes, signals to other processes, sockets,
# a second audit hook, the collector's views of every object (the way to reach this
# guard's own hook), changes of directory and links (which would let a path mean one
# thing when checked and another when used), and the environment children inherit.
REFUSED_EVENTS = frozenset((
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "resource.prlimit", "socket.__new__", "socket.connect", "socket.bind", "socket.sendto",
    "socket.sendmsg", "sys.addaudithook", "sys._current_frames", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "os.chdir", "os.symlink", "os.link", "os.putenv",
    "os.unsetenv"))
# Modules student code may not import, besides the grader's own: raw memory and native
# calls, and the module that creates processes without an audit event of its own.
GUARDED_MODULES = frozenset(("ctypes", "_ctypes", "_posixsubprocess"))
# The standard library's native modules student code may load: none of them reads files,
# starts processes or runs another interpreter behind the audit hook's back.
NATIVE_MODULES = frozenset((
    "_asyncio", "_bisect", "_blake2", "_bz2", "_codecs_cn", "_codecs_hk", "_codecs_iso2022",
    "_codecs_jp", "_codecs_kr", "_codecs_tw", "_contextvars", "_csv", "_datetime", "_decimal",
    "_elementtree", "_hashlib", "_heapq", "_json", "_lsprof", "_lzma", "_md5",
    "_multibytecodec", "_multiprocessing", "_opcode", "_pickle", "_queue", "_random", "_sha1",
    "_sha2", "_sha256", "_sha3", "_sha512", "_socket", "_statistics", "_struct", "_typing",
    "_uuid", "_zoneinfo", "array", "binascii", "cmath", "fcntl", "math", "mmap", "pyexpat",
    "resource", "select", "unicodedata", "zlib"))
# Events that change the filesystem: (positions of paths, positions of dir_fd arguments).
CHANGE_EVENTS = {
    "os.remove": ((0,), (1,)), "os.rmdir": ((0,), (1,)), "os.mkdir": ((0,), (2,)),
    "os.rename": ((0, 1), (2, 3)), "os.truncate": ((0,), ()), "os.chmod": ((0,), (2,)),
    "os.chown": ((0,), (3,)), "os.utime": ((0,), (3,)), "os.setxattr": ((0,), ()),
    "os.removexattr": ((0,), ()),
}
DEVICES = frozenset(("/dev/null/", "/dev/zero/", "/dev/random/", "/dev/urandom/", "/dev/full/"))


def install_guard(guard: dict, refusals: list) -> None:
    """An audit hook, installed before any student code runs, that refuses and records:
    imports of the grader's packages and of modules that reach past the hook; native
    modules from anywhere but the standard library and numpy; new processes, signals to
    others and sockets; reads outside the interpreter, numpy, this worker's folder and its
    own /proc entry; writes outside the worker's home; and the collector's views of all
    objects, through which the hook itself could be reached and changed.

    The hook keeps everything it uses in default arguments bound here (frozensets and C
    functions), so student code that patches os, os.path or builtins does not change what
    it checks. Evidence, not proof: a sandbox and the seccomp filter are the defence.

    ``guard`` names folders as the worker sees them: ``read`` (may be read), ``write``
    (may be written), ``numpy`` (readable, and native modules may load from them),
    ``native`` (where the standard library's native modules are), ``packages``
    (site-packages: unreadable but for numpy), ``hidden`` (never readable) and
    ``modules`` (never importable).
    """
    import _posixsubprocess
    import stat

    forbidden = frozenset(guard.get("modules", ())) | GUARDED_MODULES
    for name in list(sys.modules):
        # A module imported before the guard could otherwise be reached from sys.modules.
        if name.partition(".")[0] in forbidden and name != "_posixsubprocess":
            del sys.modules[name]

    def folders(key):
        return tuple(os.path.realpath(p).rstrip("/") + "/" for p in guard.get(key, ()))

    program = os.path.dirname(os.path.realpath(__file__))
    numpy_dirs = folders("numpy")
    writable = folders("write")
    # The interpreter's own path (its zipped standard library too), as it is before any
    # student code can change it.
    search = tuple(os.path.realpath(p).rstrip("/") + "/" for p in sys.path if p)
    readable = folders("read") + writable + numpy_dirs + search + (
        program.rstrip("/") + "/", f"/proc/{os.getpid()}/", "/sys/")
    native = folders("native")

    def refuse(event, detail, _refusals=refusals, _len=len, _str=str, _exact=str.__str__,
               _error=PermissionError, _evidence=guard.get("evidence_fd"),
               _quote=json.encoder.encode_basestring_ascii, _write=os.write, _fail=Exception):
        try:
            detail = _exact(_str(detail))[:200]
        except _fail:  # a student object whose __str__ raises: the event is evidence enough
            detail = "(unprintable)"
        if _len(_refusals) < 50:
            _refusals.append({"event": event, "detail": detail})
        if _evidence is not None:
            # The record leaves the worker now, as one packet of at most 3.3 KB (ASCII
            # JSON), without waiting (the grader made the socket non-blocking): nothing
            # that runs later here can take it back. A full or closed socket loses only
            # the records not yet written.
            try:
                _write(_evidence, (f'{{"event":{_quote(event[:64])},'
                                   f'"detail":{_quote(detail)}}}\n').encode())
            except _fail:
                pass
        raise _error(f"refused by the grader's sandbox: {event} {detail}")

    def text(path, _str=str, _bytes=bytes, _type=type, _isinstance=isinstance):
        """A path argument as an exact str, whatever subclass it came as."""
        kind = _type(path)
        if kind is _str:
            return path
        if _isinstance(path, _str):
            return _str.__str__(path)
        if _isinstance(path, _bytes):
            return _bytes.decode(path, "utf-8", "surrogateescape")
        return None

    def resolve(path: str, _lstat=os.lstat, _readlink=os.readlink, _getcwd=os.getcwd,
                _islink=stat.S_ISLNK) -> str:
        """``path`` made absolute with every symlink followed, like os.path.realpath."""
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        done: list = []
        todo = path.split("/")[::-1]
        hops = 0
        while todo:
            part = todo.pop()
            if part == "" or part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/" + "/".join(done + [part])
            try:
                mode = _lstat(here).st_mode
            except OSError:
                done.append(part)
                continue
            if not _islink(mode):
                done.append(part)
                continue
            hops += 1
            if hops > 40:
                raise OSError(f"too many symbolic links in {path!r}")
            target = _readlink(here)
            if target.startswith("/"):
                done = []
            todo.extend(target.split("/")[::-1])
        return "/" + "/".join(done) + "/"

    def may_read(full, _hidden=folders("hidden"), _numpy=numpy_dirs,
                 _packages=folders("packages"), _readable=readable, _devices=DEVICES):
        if full.startswith(_hidden):
            return False
        if full.startswith(_numpy):
            return True
        if full.startswith(_packages):
            return False
        return full.startswith(_readable) or full in _devices

    def hook(event, args, _refused=REFUSED_EVENTS, _change=CHANGE_EVENTS, _forbidden=forbidden,
             _native_ok=NATIVE_MODULES, _native=native, _numpy=numpy_dirs, _writable=writable,
             _refuse=refuse, _text=text, _resolve=resolve, _may_read=may_read, _int=int,
             _type=type, _stat=os.stat, _isdir=stat.S_ISDIR, _devices=DEVICES,
             _write_flags=os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        if event == "open":
            path = args[0]
            if _type(path) is _int:
                return  # an open file descriptor: it was checked when it was opened
            name = _text(path)
            if name is None:
                _refuse(event, path)
            full = _resolve(name)
            flags = args[2] if _type(args[2]) is _int else _write_flags
            if flags & _write_flags:
                if not (full.startswith(_writable) or full in _devices):
                    _refuse(event, name)
            elif not _may_read(full):
                _refuse(event, name)
            try:
                directory = _isdir(_stat(full).st_mode)
            except OSError:
                directory = False
            if directory:  # a directory's descriptor would anchor paths the guard never sees
                _refuse(event, name)
        elif event == "os.listdir" or event == "os.scandir":
            path = args[0]
            if path is None:
                path = "."
            if _type(path) is _int:
                return
            name = _text(path)
            if name is None or not _may_read(_resolve(name)):
                _refuse(event, path)
        elif event == "import":
            module = _text(args[0]) or ""
            top = module.partition(".")[0]
            if top in _forbidden:
                _refuse(event, module)
            if args[1] is not None:  # a native module being loaded from a file
                name = _text(args[1])
                full = _resolve(name) if name is not None else ""
                if not (full.startswith(_numpy)
                        or (top in _native_ok and full.startswith(_native))):
                    _refuse(event, f"{module} from {name}")
        elif event in _refused or event.startswith("ctypes."):
            _refuse(event, args[0] if args else "")
        elif event in _change:
            paths, dir_fds = _change[event]
            for index in dir_fds:
                if args[index] != -1:
                    _refuse(event, args[0])
            for index in paths:
                path = args[index]
                if _type(path) is _int and event != "os.rename":
                    continue  # a descriptor: checked when opened
                name = _text(path)
                if name is None or not _resolve(name).startswith(_writable):
                    _refuse(event, path)

    def fork_exec(*args, _refuse=refuse):
        _refuse("_posixsubprocess.fork_exec", args[0] if args else "")

    # Imported (and so never imported again through the hook) with its one function that
    # starts processes without an audit event replaced by a refusal.
    _posixsubprocess.fork_exec = fork_exec
    sys.addaudithook(hook)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
