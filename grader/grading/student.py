"""The trusted side's view of one submission: calls into its worker, as plain functions.

Tests get a :class:`Student` and call ``student.sigmoid(z)`` as if the student's
function were here. The call goes to a :class:`Session`: here the submission's worker
(:class:`StudentSession`); in an nbgrader notebook, the notebook's own functions
(``grader.course.notebook_runtime``). What comes back is plain data.
Anything that went wrong on the other side arrives as a :class:`StudentFailure`
carrying the status for the report (error, timeout, crashed, not_implemented,
missing). A worker that dies is replaced for the next call; a module whose import
hung or killed the worker is not imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from grader.contract import exercise_of
from grader.grading.submission import Submission
from grader.sandbox.client import Failure, Reply, WorkerClient, WorkerDied
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from grader.sandbox.wire import Handle


class StudentFailure(Exception):
    """The student's side failed to give a result; ``failure.status`` says how.

    ``module`` names the exercise module when the failure is the module's own (it could not
    be read, or its import failed), not this call's: every test of that module fails the same
    way, and ``unrun`` is what the tests after the first one say.
    """

    def __init__(self, failure: Failure, module: str | None = None, unrun: str = ""):
        self.failure = failure
        self.module = module
        self.unrun = unrun
        super().__init__(failure.message)

    @property
    def status(self) -> str:
        return self.failure.status


@dataclass(frozen=True)
class Opaque:
    """A value the student's code made and keeps (a cache): only a reference crosses."""

    handle: Handle
    epoch: int


class Session(Protocol):
    """Where a :class:`Student`'s calls run: a :class:`StudentSession` (the submission in its
    worker) or the notebook runtime's ``NotebookSession`` (the notebook's own functions, in
    nbgrader's kernel). Tests must not be able to tell which.

    Values cross as plain data, both ways. A result the contract marks opaque (a cache the
    student's code keeps for a later call) stays on the student's side: the reply holds an
    :class:`Opaque` in its place, which a test passes back as an argument as it is. An
    Opaque carries the ``epoch`` of the student's side that holds its value; a session
    refuses one of another epoch, whose value went away with the side that held it.
    """

    @property
    def epoch(self) -> int: ...

    # Every reply since the current test began, failed calls included: whoever gives a test
    # its Student empties it, and reports what the student's code printed and warned from it.
    transcript: list[Reply]

    def call(self, function: str, args: tuple, kwargs: dict,
             return_inputs: bool = False) -> Reply:
        """Run the student's ``function`` of the contract: its Reply, with the value (and, if
        asked for, the arguments as the call left them), or a StudentFailure."""


class SessionBase:
    """What every :class:`Session` does on the trusted side, wherever the student's code runs:
    Opaque values out as handles, replies recorded and turned into values or failures."""

    def __init__(self) -> None:
        self.epoch = 0
        self.transcript: list[Reply] = []

    def _send(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments as the student's side takes them: each Opaque as its handle."""
        return (tuple(self._outgoing(a) for a in args),
                {k: self._outgoing(v) for k, v in kwargs.items()})

    def _settle(self, reply: Reply) -> Reply:
        """``reply`` recorded, then raised as a StudentFailure or given back with Opaques for
        its handles."""
        self.transcript.append(reply)
        if reply.failure is not None:
            raise StudentFailure(reply.failure)
        reply.value = self._incoming(reply.value)
        return reply

    def _outgoing(self, value):
        if isinstance(value, Opaque):
            if value.epoch != self.epoch:
                raise StudentFailure(Failure(
                    "error", "a cache from before the worker was restarted cannot be used"))
            return value.handle
        return value

    def _incoming(self, value):
        if isinstance(value, Handle):
            return Opaque(value, self.epoch)
        if type(value) in (tuple, list):
            return type(value)(self._incoming(v) for v in value)
        return value


class StudentSession(SessionBase):
    """One submission's calls, over as many workers as its crashes make necessary."""

    def __init__(self, submission: Submission, limits: Limits, isolation: Isolation,
                 zygote=None):
        super().__init__()
        self.submission = submission
        self.limits = limits
        self.isolation = isolation
        self.zygote = zygote
        self.worker: WorkerClient | None = None
        self.imported: set[str] = set()
        self.dead_modules: dict[str, Failure] = {}
        self.restarts = 0
        self.integrity: list[dict] = []     # what the worker's guard refused, in order

    def close(self) -> None:
        if self.worker is not None:
            self._collect_refusals()
            self.worker.close()
            self.worker = None

    def _collect_refusals(self) -> None:
        """The worker's refusals into ``integrity``: each different one once, at most 100."""
        if self.worker is not None and self.worker.refusals:
            for refusal in self.worker.refusals:
                if len(self.integrity) < 100 and refusal not in self.integrity:
                    self.integrity.append(refusal)
            self.worker.refusals.clear()

    def fresh_worker(self) -> None:
        """From now on, calls go to a new worker: nothing the old one kept (a global, a file
        in its home) reaches them. A module whose import failed stays failed."""
        self.close()
        self.epoch += 1
        self.imported.clear()

    def _discard_worker(self) -> None:
        self.close()
        self.epoch += 1
        self.imported.clear()
        self.restarts += 1

    def _worker(self) -> WorkerClient:
        if self.worker is None:
            worker = WorkerClient(self.submission.sources, self.limits, self.isolation, self.zygote)
            worker.start()  # WorkerUnavailable is the machine's problem: let it rise
            self.worker = worker
        return self.worker

    def _module_ready(self, module: str) -> None:
        unread = f"not run: exercises/{module}.py could not be read (see above)"
        unimported = f"not run: exercises/{module}.py did not import (see above)"
        if module in self.submission.broken:
            raise StudentFailure(Failure("error", self.submission.broken[module]), module, unread)
        if module not in self.submission.sources:
            raise StudentFailure(Failure("missing", f"{module}.py is not in the submission"))
        if module in self.dead_modules:
            raise StudentFailure(self.dead_modules[module], module, unimported)
        if module in self.imported:
            return
        worker = self._worker()
        try:
            reply = worker.import_module(module)
        except WorkerDied as died:
            failure = died.failure
            self.dead_modules[module] = Failure(failure.status, failure.message, failure.kind,
                                                failure.traceback, failure.output)
            self._discard_worker()
            raise StudentFailure(self.dead_modules[module], module, unimported) from None
        if reply.failure is not None:
            self.dead_modules[module] = reply.failure
            raise StudentFailure(reply.failure, module, unimported)
        self.imported.add(module)

    def call(self, function: str, args: tuple, kwargs: dict, return_inputs: bool = False) -> Reply:
        contract = exercise_of(function)
        self._module_ready(contract.name)
        sent_args, sent_kwargs = self._send(args, kwargs)
        keep = contract.function(function).opaque_results
        try:
            reply = self._worker().call(contract.name, function, sent_args, sent_kwargs,
                                        keep=keep, return_inputs=return_inputs)
        except WorkerDied as died:
            self._discard_worker()
            reply = Reply(failure=died.failure)
        return self._settle(reply)


class Student:
    """What a test calls: ``student.sigmoid(z)`` runs the student's sigmoid in the worker."""

    def __init__(self, session: Session):
        self._session = session

    def call(self, function: str, *args, return_inputs: bool = False, **kwargs) -> Reply:
        """The whole reply of a call: value, warnings, output, and the inputs afterwards."""
        return self._session.call(function, args, kwargs, return_inputs=return_inputs)

    def __getattr__(self, function: str):
        try:
            exercise_of(function)
        except KeyError:
            raise AttributeError(f"no contract function {function!r}") from None

        def call(*args, **kwargs):
            return self._session.call(function, args, kwargs).value

        call.__name__ = function
        return call
