"""The worker: one submission's modules, and a loop that answers the grader's calls.

``run_worker`` turns a fresh (or freshly forked) interpreter into a worker: limits,
kernel walls, containment and the guard, in that order and before any student code runs;
then it answers one request at a time on the protocol pipes: "call function F of module
M with these arguments", "import module M", "run the docstring examples of module M".
What student code prints is kept, capped, and sent back with the reply.
"""

from __future__ import annotations

# Imported here, before the guard is installed: the examples op needs it, and the guard
# would record its imports (pdb, unittest...) as the student's.
import doctest
import math
import os
import sys

from grader.sandbox.inside import contain, guard, walls
from grader.sandbox.wire import (
    MAX_REPLY_ARRAY_BYTES,
    MAX_REPLY_HEADER_BYTES,
    CappedOutput,
    Handle,
    WireError,
    describe_error,
    receive,
    send,
)

# The folder of the worker's program: its frames are left out of a student's traceback.
PROGRAM = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# What the examples op sends back at most: docstrings with a failure, characters of a text.
MAX_EXAMPLE_FAILURES = 20
MAX_EXAMPLE_CHARS = 1000


class Absent(Exception):
    """A module, function or handle that the worker does not have."""


class _NoDebugger:
    """In place of doctest's pdb, which would import readline and read ~/.pdbrc: what
    doctest asks of it (reset, set_continue...) does nothing, but set_trace refuses."""

    def __init__(self, out) -> None:
        pass

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None

    def set_trace(self, frame=None) -> None:
        raise RuntimeError("pdb.set_trace() does not work in the grader's examples")


class ExampleRunner(doctest.DocTestRunner):
    """A module's docstring examples, run quietly: the first failure of each docstring is
    kept as plain data (``found``), the later ones of that docstring only counted."""

    def __init__(self, exercises_dir: str) -> None:
        super().__init__(verbose=False)
        self.exercises_dir = exercises_dir
        self.found: list[dict] = []
        self.by_test: dict[str, dict] = {}
        self.dropped = 0  # failures of docstrings beyond MAX_EXAMPLE_FAILURES

    def run(self, test, compileflags=None, out=None, clear_globs=True):
        saved = doctest._OutputRedirectingPdb  # type: ignore[attr-defined]
        doctest._OutputRedirectingPdb = _NoDebugger  # type: ignore[attr-defined]
        try:
            return super().run(test, compileflags, lambda text: None, clear_globs)
        finally:
            doctest._OutputRedirectingPdb = saved  # type: ignore[attr-defined]

    def report_failure(self, out, test, example, got) -> None:
        self.record(test, example, "failed", got)

    def report_unexpected_exception(self, out, test, example, exc_info) -> None:
        import linecache
        import traceback

        kind, error, tb = exc_info
        frames = list(traceback.walk_tb(tb))
        if isinstance(error, NotImplementedError):
            function = frames[-1][0].f_code.co_name if frames else "a function"
            return self.record(test, example, "not_implemented",
                               f"{function} is not implemented yet")
        ours = [(frame.f_code, line) for frame, line in frames
                if os.path.dirname(frame.f_code.co_filename) == self.exercises_dir
                and os.path.basename(frame.f_code.co_filename) != "provided.py"]
        got = describe_error(error)
        if ours:
            code, line = ours[-1]
            source = linecache.getline(code.co_filename, line).strip()
            got += (f" (exercises/{os.path.basename(code.co_filename)}, line {line}, "
                    f"in {code.co_name}: {source})")
        self.record(test, example, "error", got)

    def record(self, test, example, status: str, got: str) -> None:
        if test.name in self.by_test:
            self.by_test[test.name]["then"] += 1
            return
        if len(self.found) >= MAX_EXAMPLE_FAILURES:
            self.dropped += 1
            return
        name = test.name.partition(".")[2].partition(".")[2]  # exercises.<module>.<name>
        cut = MAX_EXAMPLE_CHARS
        self.by_test[test.name] = {
            "name": name[:200], "status": status, "source": example.source[:cut],
            "line": None if test.lineno is None else test.lineno + example.lineno + 1,
            "expected": example.want[:cut], "got": str(got)[:cut], "then": 0}
        self.found.append(self.by_test[test.name])


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


class WorkerServer:
    """The worker's side of the wire: one submission's modules, answering one call at a time."""

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
                                       + describe_error(error)), self.np)

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call":
            return self.call(request)
        if op == "import":
            return self.import_module(request["module"])
        if op == "doctest":
            return self.examples(request["module"])
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

    def examples(self, module: str) -> dict:
        """Run the docstring examples of a student module with :mod:`doctest`, as
        ``python -m doctest`` would: the failures, plain data, as the reply's value."""
        import traceback

        imported = self.import_module(module)
        if not imported["ok"]:
            return imported
        _cpu_budget(self.config["limits"].get("cpu_seconds"))
        self.stdout.take()
        try:
            target = self.modules[module]
            tests = doctest.DocTestFinder().find(target, "exercises." + module)
            where = str(getattr(target, "__file__", "") or "")
            runner = ExampleRunner(os.path.dirname(os.path.abspath(where)))
            for test in sorted(tests, key=lambda t: t.lineno or 0):
                runner.run(test)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too
            return self.crash_report(error, traceback)
        output, dropped = self.stdout.take()
        value = {"examples": runner.tries, "failures": runner.found, "dropped": runner.dropped}
        return {"ok": True, "value": value, "output": output, "output_dropped": dropped,
                "warnings": []}

    def crash_report(self, error: BaseException, traceback, prefix: str = "") -> dict:
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # The student's own frames are the useful part; the worker's are noise.
        lines = [line for line in trace.splitlines(keepends=True) if PROGRAM not in line]
        return self.failure("error", type(error).__name__, prefix + describe_error(error),
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


def run_worker(config: dict, rfd: int, wfd: int) -> int:
    """Become one submission's worker: limits, walls, containment, guard, then answer calls
    until EOF."""
    _set_limits(config["limits"])
    for entry in reversed(config["path"]):
        sys.path.insert(0, entry)
    # numpy's native parts load system libraries (libstdc++) that Landlock will not let
    # this process open later: load them first (a forked worker has them already).
    walls.preload_numpy()
    walls.build_walls(config.get("walls") or {})
    contain.contain(seccomp=config.get("seccomp", False))
    os.chdir(config["cwd"])
    os.environ["TMPDIR"] = config["cwd"]  # tempfile's default: the one writable place
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE
    worker = WorkerServer(config)
    guard.install_guard(config.get("guard", {}), worker.refusals)
    send(wfd, {"ok": True, "ready": True, "pid": os.getpid()}, worker.np)
    worker.serve(rfd, wfd)
    return 0
