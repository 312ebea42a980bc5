"""One autotest run inside a notebook's kernel, against the functions the notebook defines.

nbgrader grades a notebook by running its cells in a Jupyter kernel: the student's
answer cell defines the functions, and each autograder test cell then calls

    from grader.course.notebook_runtime import run
    run("test_mse.py::test_mse_loss_worked_example", globals())

``run`` runs that one function of ``autotests/`` exactly as ``grader grade`` would: the
same fixtures (``student``, ``reference``, ``rng`` seeded by the same pytest node id,
``details``), the same conversion of every result to plain data, the same messages and
hints. It prints them, and the cell's value is the points earned, which nbgrader reads
as the cell's partial credit (``nbgrader.utils.determine_grade``: the first
``execute_result`` that parses as a float; any output on stderr scores 0, so nothing
here writes to stderr).

There is no worker here: nbgrader already runs the student's code in this kernel. A
call still goes through what the worker's wire does to values (copies in, plain data
out, opaque caches kept aside), captures the student's output and warnings, and has
the same wall-clock limit per call (SIGALRM, main thread only). CPU, memory and
file-size limits are not applied: for those, grade the submitted notebooks with
``grader grade``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import json
import signal
import sys
import threading
import time
import traceback
import types
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autotests
from grader.contract import exercise_names, exercise_of
from grader.grading.pytest_plugin import TestInfo, reference_functions, result_of
from grader.grading.student import SessionBase, Student
from grader.reports.results import TestResult
from grader.sandbox.client import Failure, Reply
from grader.sandbox.limits import Limits
from grader.sandbox.wire import CappedOutput, Handle, WireError, decode, describe_error, encode

AUTOTESTS = Path(autotests.__file__).resolve().parent
FIXTURES = ("student", "reference", "rng", "details")


@dataclass(frozen=True)
class AutoTest:
    """One grading test as the grader's pytest session collects it."""

    nodeid: str        # as pytest names it with the autotests folder as rootdir
    exercise: str
    name: str
    points: float
    hidden: bool
    hint: str
    question: str      # the first line of its docstring

    @property
    def info(self) -> TestInfo:
        return TestInfo(nodeid=self.nodeid, name=self.name, points=self.points, hint=self.hint,
                        hidden=self.hidden)


def _marks(function) -> list:
    marks = getattr(function, "pytestmark", [])
    return list(marks) if isinstance(marks, (list, tuple)) else [marks]


def _module(exercise: str) -> types.ModuleType:
    if exercise not in exercise_names():
        raise LookupError(f"no exercise {exercise!r}")
    return importlib.import_module(f"autotests.test_{exercise}")


@functools.cache
def collect(exercise: str) -> tuple[AutoTest, ...]:
    """The autotests of ``exercise`` in the order pytest runs them (definition order)."""
    module = _module(exercise)
    tests = []
    for name, function in vars(module).items():
        if not (name.startswith("test") and inspect.isfunction(function)):
            continue
        if function.__module__ != module.__name__:
            continue  # imported from elsewhere: pytest would not collect it here either
        marks = _marks(function)
        points = next((m.args[0] for m in marks if m.name == "points"), 0)
        hint = next((m.args[0] for m in marks if m.name == "hint"), "")
        doc = inspect.getdoc(function) or ""
        tests.append(AutoTest(
            nodeid=f"test_{exercise}.py::{name}", exercise=exercise, name=name,
            points=float(points), hidden=any(m.name == "hidden" for m in marks), hint=hint,
            question=doc.splitlines()[0] if doc else ""))
    return tuple(tests)


def find(nodeid: str) -> AutoTest:
    file_name, _, name = nodeid.partition("::")
    exercise = file_name.removeprefix("test_").removesuffix(".py")
    for test in collect(exercise):
        if test.nodeid == nodeid:
            return test
    raise LookupError(f"no autotest {nodeid!r} in {AUTOTESTS}")


# -- the student's side, in this kernel --------------------------------------------------


class _Deadline(BaseException):
    """Raised into student code that ran past the wall-clock limit."""


@contextlib.contextmanager
def _deadline(seconds: float):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _plain(value):
    """``value`` as the worker's wire delivers it: rebuilt from plain data, or WireError."""
    tree, buffers = encode(value, np)
    return decode(tree, buffers, np)


class NotebookSession(SessionBase):
    """A :class:`grader.grading.student.Session` over the notebook's functions: each call runs
    here, in the kernel, and gives the Reply a worker would. Its epoch stays 0: a kernel is
    never restarted under a test."""

    def __init__(self, namespace: dict, limits: Limits):
        super().__init__()
        self.namespace = namespace
        self.limits = limits
        # The caches the notebook's functions made, by handle: the worker's handle table.
        self.kept: dict[int, object] = {}
        self.next_handle = 1

    def call(self, function: str, args: tuple, kwargs: dict, return_inputs: bool = False) -> Reply:
        contract = exercise_of(function)
        target = self.namespace.get(function)
        if target is None or not callable(target):
            return self._settle(Reply(failure=Failure(
                "missing", f"{contract.name}.py defines no function {function}",
                "AttributeError")))
        sent_args, sent_kwargs = self._send(args, kwargs)
        keep = contract.function(function).opaque_results
        return self._settle(self._run(target, function, sent_args, sent_kwargs, keep,
                                      return_inputs))

    def _run(self, target, function: str, args: tuple, kwargs: dict, keep: tuple[int, ...],
             return_inputs: bool) -> Reply:
        """What the worker would reply to this call: handles in ``args`` and in the value."""
        # What the worker receives: fresh copies, caches looked up by their handle.
        sent, sent_kwargs = _plain([list(args), kwargs])
        try:
            call_args = [self._resolve(a) for a in sent]
            call_kwargs = {k: self._resolve(v) for k, v in sent_kwargs.items()}
        except LookupError as error:
            return Reply(failure=Failure("error", str(error), "ProtocolError"))
        capture = CappedOutput(self.limits.output_chars)
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):
            warnings.simplefilter("always")
            try:
                with _deadline(self.limits.wall_seconds):
                    value = target(*call_args, **call_kwargs)
            except NotImplementedError:
                return _failed(Failure("not_implemented", f"{function} is not implemented yet",
                                       "NotImplementedError"), *capture.take())
            except _Deadline:
                return _failed(Failure("timeout", f"{function} took longer than "
                                       f"{self.limits.wall_seconds:g} s of wall-clock time"),
                               *capture.take())
            except KeyboardInterrupt:
                raise  # the person at the keyboard, not the student's code
            except BaseException as error:  # SystemExit too, as in the worker
                return _failed(Failure("error", describe_error(error), type(error).__name__,
                                       _traceback(error)), *capture.take())
        seconds = time.monotonic() - started
        output, dropped = capture.take()
        if keep and type(value) in (tuple, list):
            value = type(value)(self._keep(item) if i in keep else item
                                for i, item in enumerate(value))
        after = [None if isinstance(a, Handle) else b for a, b in zip(sent, call_args, strict=True)]
        try:
            value, after = _plain([value, after])
        except WireError as error:
            return _failed(Failure("error", f"the result is {error}", "WireError"),
                           output, dropped)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a hostile value that breaks (or exits) while read
            return _failed(Failure("error", "the result could not be read: "
                                   + describe_error(error), "WireError"), output, dropped)
        return Reply(value=value, output=output, output_dropped=dropped,
                     warnings=[_describe_warning(w) for w in caught[:20]], seconds=seconds,
                     inputs_after=after if return_inputs else None)

    def _resolve(self, value):
        if isinstance(value, Handle):
            if value.id not in self.kept:
                raise LookupError("a handle that this worker does not hold")
            return self.kept[value.id]
        return value

    def _keep(self, value) -> Handle:
        handle = Handle(self.next_handle)
        self.next_handle += 1
        self.kept[handle.id] = value
        return handle


def _failed(failure: Failure, output: str, dropped: int) -> Reply:
    return Reply(failure=failure, output=output, output_dropped=dropped)


def _traceback(error: BaseException) -> str:
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    lines = [line for line in trace.splitlines(keepends=True) if "notebook_runtime.py" not in line]
    return "".join(lines)[-8000:]


def _describe_warning(w) -> str:
    return f"{getattr(w.category, '__name__', 'Warning')}: {str(w.message)[:500]}"


# -- running one autotest -----------------------------------------------------------------


def _fixtures(function, test: TestInfo, session: NotebookSession, details: dict) -> dict:
    values: dict[str, object] = {}
    for name in inspect.signature(function).parameters:
        if name == "student":
            session.transcript = []
            values[name] = Student(session)
        elif name == "reference":
            if not test.hidden:
                raise RuntimeError("a public test may not use the reference solutions")
            reference = reference_functions()
            if reference is None:
                raise RuntimeError("the reference solutions are not installed here")
            values[name] = reference
        elif name == "rng":
            values[name] = np.random.default_rng(zlib.crc32(test.nodeid.encode()))
        elif name == "details":
            values[name] = details
        else:
            raise RuntimeError(f"{test.nodeid} asks for a fixture the notebook runtime does not "
                               f"provide: {name} (known: {', '.join(FIXTURES)})")
    return values


def run_test(nodeid: str, namespace: dict, limits: Limits | None = None) -> TestResult:
    """The result ``grader grade`` would record for ``nodeid``, with the notebook's functions."""
    test = find(nodeid)
    function = getattr(_module(test.exercise), test.name)
    session = NotebookSession(namespace, limits or Limits())
    details: dict = {}
    error = None
    # Whatever the checks themselves print or warn stays out of the cell, as pytest's
    # capture keeps it out of a report; the student's own output is in the transcript.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            function(**_fixtures(function, test.info, session, details))
        except KeyboardInterrupt:
            raise
        except BaseException as raised:  # what pytest records for a test's call
            error = raised
    return result_of(test.info, error, session.transcript, details)


def describe(result: TestResult, hidden: bool) -> str:
    """What a test cell prints: the verdict, then the report's message and hint."""
    from grader.reports.render import STATUS_WORDS

    tag = " (hidden test)" if hidden else ""
    lines = [f"{result.name}{tag}: {STATUS_WORDS.get(result.status, result.status)}, "
             f"{result.score:g}/{result.max_score:g} points"]
    if result.message:
        lines.append(f"    {result.message}")
    if result.hint:
        lines.append(f"    hint: {result.hint}")
    for warning in result.details.get("warnings", [])[:3]:
        lines.append(f"    your code warned: {warning}")
    if result.details.get("output"):
        printed = result.details["output"].rstrip("\n").splitlines()
        lines.append("    your code printed:")
        lines += [f"      {line}" for line in printed[:20]]
        if len(printed) > 20:
            lines.append(f"      ... {len(printed) - 20} more lines")
    return "\n".join(lines)


def run(nodeid: str, namespace: dict) -> float:
    """Run one autotest on the notebook's functions, print its verdict, return its points.

    The return value is the cell's output, which nbgrader takes as the partial credit.
    """
    result = run_test(nodeid, namespace)
    print(describe(result, find(nodeid).hidden), file=sys.stdout)
    return float(result.score)


# -- an exercise that builds on another: its notebook reads the sibling notebook's answers

_loading: set[str] = set()


def sibling(exercise: str, *names: str) -> list:
    """The functions ``names`` that the answer cells of ``<exercise>.ipynb`` define: how a
    notebook uses the student's own code of an earlier exercise, as ``from .exercise
    import ...`` does in a module. The notebook is looked for in the working folder (the
    notebook's own, in Jupyter) and, when that is nbgrader's ``autograded/<student>/
    <assignment>/`` (where autograde runs a notebook before its siblings are copied),
    in ``submitted/<student>/<assignment>/`` first."""
    here = Path.cwd()
    places = [here]
    if len(here.parts) >= 3 and here.parts[-3] == "autograded":
        places.insert(0, here.parents[2] / "submitted" / here.parts[-2] / here.parts[-1])
    path = next((p / f"{exercise}.ipynb" for p in places if (p / f"{exercise}.ipynb").is_file()),
                here / f"{exercise}.ipynb")
    if exercise in _loading:
        raise ImportError(f"{exercise}.ipynb imports itself, through its siblings")
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ImportError(f"this exercise uses {', '.join(names)} from {exercise}.ipynb, "
                          f"which should be beside this notebook: {error}") from None
    namespace: dict = {"__name__": f"{exercise}_notebook"}
    _loading.add(exercise)
    try:
        for cell in notebook.get("cells", []):
            if (cell.get("cell_type") == "code"
                    and cell.get("metadata", {}).get("nbgrader", {}).get("solution")):
                source = cell.get("source", "")
                code = "".join(source) if isinstance(source, list) else str(source)
                exec(compile(code, path.name, "exec"), namespace)  # the student's own code
    finally:
        _loading.discard(exercise)
    missing = [name for name in names if name not in namespace]
    if missing:
        raise ImportError(f"{exercise}.ipynb defines no {', '.join(missing)}")
    return [namespace[name] for name in names]
