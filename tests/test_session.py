"""Both sessions a :class:`grader.grading.student.Student` can call into are one ``Session``.

``StudentSession`` runs the submission in a worker (``grader grade``); ``NotebookSession``
runs the notebook's functions in nbgrader's kernel. The autotests cannot tell them apart:
they have the protocol's members, mypy accepts either as a ``Session``, and the same
student functions give the same values, statuses, messages, output and warnings
through either.

The notebooks are those ``grader nbgrader`` writes, each answer cell run in a kernel of
its own, in the folder that holds them all: an exercise built on a sibling (mlp.py's
``from .activations import ...``) gets, in a notebook, the answers of the sibling's
notebook beside it (``notebook_runtime.sibling``), as the worker gets the submission's
sibling module.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest

import solutions
from grader import contract
from grader.contract import exercise_of
from grader.course import notebooks
from grader.course.notebook_runtime import NotebookSession
from grader.grading import submission as loader
from grader.grading.student import Opaque, Session, Student, StudentFailure, StudentSession
from grader.grading.submission import Submission
from grader.sandbox.client import Reply
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from solutions import mlp

EXERCISES = contract.exercises()
EXERCISE_NAMES = contract.exercise_names()

SOLUTIONS = Path(solutions.__file__).resolve().parent
LIMITS = Limits(wall_seconds=10.0, cpu_seconds=10.0)


def both_sessions(submission: Submission, namespace: dict) -> tuple[Session, Session]:
    """Either session, as a ``Session``: mypy checks these two assignments (see
    test_mypy_takes_both_sessions_for_a_session)."""
    worker: Session = StudentSession(submission, LIMITS, Isolation("basic"))
    notebook: Session = NotebookSession(namespace, LIMITS)
    return worker, notebook


def reference_sources() -> dict[str, str]:
    return {name: (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8") for name in EXERCISE_NAMES}


def in_kernel(source: str) -> dict:
    """What a notebook's kernel holds after running an answer cell with ``source``."""
    scope: dict = {"__name__": "__main__"}
    exec(compile(source, "<answer cell>", "exec"), scope)
    return scope


def write_notebooks(sources: dict[str, str], folder: Path) -> dict[str, str]:
    """The notebook of each exercise, made from ``sources`` as ``grader nbgrader`` makes it
    and written to ``folder``, as a student's notebooks sit together; its answer cell's code
    by exercise."""
    folder.mkdir(parents=True, exist_ok=True)
    answers = {}
    for name, source in sources.items():
        data = notebooks.notebook(contract.exercise(name), source)
        (folder / f"{name}.ipynb").write_text(json.dumps(data), encoding="utf-8")
        [answer] = [cell for cell in data["cells"]
                    if cell["metadata"]["nbgrader"]["grade_id"] == f"{name}_answer"]
        answers[name] = "".join(answer["source"])
    return answers


# -- the shape of the protocol ------------------------------------------------------------


def protocol_members() -> dict[str, object]:
    """Session's members: its methods and properties by value, its attributes by annotation."""
    members: dict[str, object] = {name: value for name, value in vars(Session).items()
                                  if not name.startswith("_")}
    members.update({name: None for name in Session.__annotations__})
    return members


def test_both_sessions_have_the_members_of_the_protocol_with_its_signatures(make_submission):
    """Does each session have every member of Session, its methods with Session's parameters
    (names, kinds, defaults)?"""
    members = protocol_members()
    assert {"call", "epoch", "transcript"} <= set(members)
    sources = reference_sources()
    for session in both_sessions(loader.load(make_submission("ref", sources)),
                                 in_kernel(sources["mse"])):
        for name, declared in members.items():
            assert hasattr(session, name), (type(session).__name__, name)
            if inspect.isfunction(declared):
                ours = inspect.signature(declared)
                theirs = inspect.signature(getattr(type(session), name))
                assert [(p.name, p.kind, p.default) for p in theirs.parameters.values()] == [
                    (p.name, p.kind, p.default) for p in ours.parameters.values()], name
        assert session.epoch == 0 and session.transcript == []


class CallOnly:
    """Session's call and nothing else: not a Session."""

    def call(self, function: str, args: tuple, kwargs: dict,
             return_inputs: bool = False) -> Reply:
        return Reply()


def not_a_session() -> Session:
    # mypy must need this ignore (it runs with --warn-unused-ignores below): a class with
    # Session's call but without its epoch and transcript is refused.
    return CallOnly()  # type: ignore[return-value]


def test_mypy_takes_both_sessions_for_a_session():
    """Does mypy accept ``session: Session = StudentSession(...)`` and ``= NotebookSession(...)``
    (both_sessions above), and refuse a class that has Session's call but not the rest
    (not_a_session)?"""
    api = pytest.importorskip("mypy.api")
    root = Path(__file__).resolve().parent.parent
    # Only this file's errors: the modules it imports are followed for their types, but
    # their own checks are the project's mypy run (whose config does not warn of unused
    # ignores: here it would flag the ones in grader/sandbox/inside/serve.py's unannotated
    # ExampleRunner.run, which mypy does not check).
    out, err, status = api.run(["--config-file", str(root / "pyproject.toml"),
                                "--warn-unused-ignores", "--follow-imports=silent",
                                str(Path(__file__).resolve())])
    assert (status, err) == (0, ""), out


# -- the same functions through either session ---------------------------------------------

# One function of each kind that a student's code fails in, written over the reference.
BROKEN = {
    "mse": '''
def mse_loss(y_true, y_pred):
    print("about to fail")
    raise ValueError("shapes do not match")


def mse_grad(y_true, y_pred):
    print("computing")
    return np.log(np.float64(-1.0))  # NaN, with a RuntimeWarning
''',
    "chain_rule": '''
def graph_forward(x):
    raise NotImplementedError


del graph_backward
''',
    "activations": '''
def tanh_backward(dout, cache):
    print("local derivative only")
    return 1.0 - cache ** 2
''',
}


def script_data() -> tuple:
    """The arrays the script calls with: x, W, b, y, X."""
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    return x, W, b, np.array([1.0, 0.0, 1.0, 1.0]), rng.normal(size=(4, 2))


CLASSES = np.array([0, 1, 1, 0])  # mlp's labels, for the script's X


def script(call) -> dict[str, tuple]:
    """Each function of the contract called once, caches passed back: its outcome by name.
    ``call(function, *args)`` is an outcome: ("value", value, ...) or (status, ...)."""
    x, W, b, y, X = script_data()
    calls: list[tuple] = [
        ("sigmoid", np.array([-800.0, -1.0, 0.0, 2.5, 800.0])),
        ("sigmoid_grad", np.array([-3.0, 0.0, 3.0])),
        ("mse_loss", y, np.array([0.9, 0.2, 0.4, 0.7])),
        ("mse_grad", y, np.array([0.9, 0.2, 0.4, 0.7])),
        ("bce_loss", y, np.array([1e4, -3.0, 0.5, -1e4])),
        ("bce_grad", y, np.array([2.0, -3.0, 0.5, -1.0])),
        ("logistic_regression_grad", np.array([0.5, -0.25]), 0.1, X, y),
        ("graph_forward", 0.5),
        ("graph_backward", 0.5),
        ("dense_forward", x, W, b),
        ("init_params", 2, 3, 0),
    ]
    # The networks assignment: huge logits, ReLU's kink, tanh past exp's overflow.
    z = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])
    labels = np.array([0, 2])
    act_x = np.array([[-800.0, -0.5, 0.0, 0.5, 1e4]])
    calls += [
        ("softmax", z),
        ("softmax_ce_loss", labels, z),
        ("softmax_ce_grad", labels, z),
        ("relu_forward", act_x),
        ("tanh_forward", act_x),
        ("affine_forward", x, W, b),
        ("init_mlp", [2, 3, 2], 0),
    ]
    outcomes = {function: call(function, *args) for function, *args in calls}
    _, (_, dense_cache), *_ = outcomes["dense_forward"]
    outcomes["dense_backward"] = call("dense_backward", np.ones((4, 2)), dense_cache)
    _, params, *_ = outcomes["init_params"]
    outcomes["forward"] = call("forward", params, X)
    _, (_, cache), *_ = outcomes["forward"]
    outcomes["backward"] = call("backward", params, cache, y)
    _, grads, *_ = outcomes["backward"]
    outcomes["sgd_step"] = call("sgd_step", params, grads, 0.1)
    outcomes["train"] = call("train", params, X, y, 0.5, 5)
    dout = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    for layer in ("relu", "tanh"):
        _, (_, cache), *_ = outcomes[f"{layer}_forward"]
        outcomes[f"{layer}_backward"] = call(f"{layer}_backward", dout, cache)
    _, (_, affine_cache), *_ = outcomes["affine_forward"]
    outcomes["affine_backward"] = call("affine_backward", np.ones((4, 2)), affine_cache)
    # mlp runs on its siblings' tanh and softmax: the worker's modules, the notebooks' answers.
    _, net, *_ = outcomes["init_mlp"]
    outcomes["mlp_forward"] = call("mlp_forward", net, X)
    _, (_, net_cache), *_ = outcomes["mlp_forward"]
    outcomes["mlp_backward"] = call("mlp_backward", net, net_cache, CLASSES)
    outcomes["train_mlp"] = call("train_mlp", net, X, CLASSES, 0.5, 5)
    outcomes["predict"] = call("predict", net, X)
    return outcomes


def run_script(student_of) -> dict[str, tuple]:
    """Every call's outcome: ("value", value) or (status, message, kind), then what it printed
    and warned. ``student_of(function)`` is the Student and the session that serve it."""

    def call(function: str, *args) -> tuple:
        student, session = student_of(function)
        session.transcript = []
        try:
            value = getattr(student, function)(*args)
        except StudentFailure as failure:
            outcome: tuple = (failure.status, failure.failure.message, failure.failure.kind)
        else:
            outcome = ("value", value)
        [reply] = session.transcript
        return (*outcome, reply.output, reply.warnings)

    return script(call)


def through_worker(sources: dict[str, str], make_submission) -> dict[str, tuple]:
    session = StudentSession(loader.load(make_submission("worker", sources)), LIMITS,
                             Isolation("basic"))
    student = Student(session)
    try:
        return run_script(lambda function: (student, session))
    finally:
        session.close()


def through_notebooks(sources: dict[str, str], folder: Path, monkeypatch) -> dict[str, tuple]:
    """One notebook per exercise, as nbgrader runs them: each answer cell in its own kernel,
    whose working folder is the notebooks' (where a sibling's notebook is looked for)."""
    answers = write_notebooks(sources, folder)
    monkeypatch.chdir(folder)
    sessions = {name: NotebookSession(in_kernel(answer), LIMITS)
                for name, answer in answers.items()}

    def student_of(function: str):
        session = sessions[exercise_of(function).name]
        return Student(session), session

    return run_script(student_of)


def assert_same(ours, theirs, where: str = "") -> None:
    """Equal values of the same types; Opaques equal whatever their handle (each side numbers
    its own); floats equal to 1e-12 relative, NaN equal to NaN."""
    assert type(ours) is type(theirs), where
    if isinstance(ours, Opaque):
        assert ours.epoch == theirs.epoch, where
    elif isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs), where
        for key in ours:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(ours, np.ndarray):
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), where
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=where)
    elif isinstance(ours, float):
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)) or math.isclose(
            ours, theirs, rel_tol=1e-12), where
    else:
        assert ours == theirs, where


def test_the_reference_gives_the_same_values_through_either_session(make_submission, tmp_path,
                                                                   monkeypatch):
    """Do the reference solutions give the same values, caches as Opaques, through a worker
    and in a notebook's kernel, mlp's on its siblings' layers too, silent at huge inputs?"""
    sources = reference_sources()
    worker = through_worker(sources, make_submission)
    in_notebooks = through_notebooks(sources, tmp_path / "notebooks", monkeypatch)
    assert_same(worker, in_notebooks)
    assert {name: outcome[0] for name, outcome in worker.items()} == {
        function.name: "value" for exercise in EXERCISES for function in exercise.functions}
    _, (_, cache), *_ = worker["dense_forward"]
    assert isinstance(cache, Opaque) and cache.epoch == 0
    _, loss, *_ = worker["mse_loss"]
    assert loss == pytest.approx(np.mean((np.array([1.0, 0.0, 1.0, 1.0])
                                          - np.array([0.9, 0.2, 0.4, 0.7])) ** 2))
    for name, outcome in worker.items():  # huge logits and tanh past exp's overflow: silent
        assert outcome[-2:] == ("", []), name
    _, labels, *_ = worker["predict"]
    assert labels.dtype == np.int64 and labels.shape == (4,)


def test_failing_functions_fail_the_same_through_either_session(make_submission, tmp_path,
                                                               monkeypatch):
    """Does a function that raises, one that returns NaN, one that is not implemented and one
    that is missing give the same status, message, output and warnings either way, and a
    sibling's mistake (tanh_backward's) reach mlp the same way?"""
    sources = reference_sources()
    for name, definitions in BROKEN.items():
        sources[name] += "\n\n" + definitions
    worker = through_worker(sources, make_submission)
    in_notebooks = through_notebooks(sources, tmp_path / "notebooks", monkeypatch)
    assert_same(worker, in_notebooks)
    assert worker["mse_loss"] == ("error", "ValueError: shapes do not match", "ValueError",
                                  "about to fail\n", [])
    status, value, output, warned = worker["mse_grad"]
    assert status == "value" and math.isnan(value) and output == "computing\n"
    assert warned == ["RuntimeWarning: invalid value encountered in log"]
    assert worker["graph_forward"][:2] == ("not_implemented",
                                           "graph_forward is not implemented yet")
    assert worker["graph_backward"][:2] == ("missing",
                                            "chain_rule.py defines no function graph_backward")
    assert worker["sigmoid"][0] == worker["dense_backward"][0] == "value"
    # tanh_backward prints and forgets the upstream gradient: mlp_backward, which is right
    # itself, prints it too and returns other gradients than the reference's.
    assert worker["tanh_backward"][-2] == "local derivative only\n"
    assert worker["mlp_backward"][-2] == "local derivative only\n"
    _, (_, grads), *_ = worker["mlp_backward"]
    X, params = script_data()[-1], mlp.init_mlp([2, 3, 2], 0)
    _, right = mlp.mlp_backward(params, mlp.mlp_forward(params, X)[1], CLASSES)
    assert not np.allclose(grads["W1"], right["W1"]) and np.allclose(grads["W2"], right["W2"])


def test_a_notebook_without_its_siblings_says_which_it_needs(tmp_path, monkeypatch):
    """Does mlp's answer cell, in a kernel whose folder lacks activations.ipynb, fail with
    an ImportError that names the notebook it needs?"""
    sources = reference_sources()
    answers = write_notebooks({"mlp": sources["mlp"]}, tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImportError, match=r"activations\.ipynb"):
        in_kernel(answers["mlp"])


def test_a_cache_from_a_replaced_worker_is_refused(make_submission):
    """Is a cache made before the worker was replaced refused as an error, and one made after
    used?"""
    session = StudentSession(loader.load(make_submission("ref", reference_sources())), LIMITS,
                             Isolation("basic"))
    student = Student(session)
    x, W, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)
    try:
        _, stale = student.dense_forward(x, W, b)
        session.fresh_worker()
        with pytest.raises(StudentFailure) as refused:
            student.dense_backward(np.ones((2, 2)), stale)
        assert refused.value.status == "error" and "cache" in str(refused.value)
        _, cache = student.dense_forward(x, W, b)
        assert cache.epoch == stale.epoch + 1
        dx, dW, db = student.dense_backward(np.ones((2, 2)), cache)
        assert dx.shape == (2, 3) and dW.shape == (3, 2) and db.shape == (2,)
    finally:
        session.close()

