"""The course: its exercises, read from the autotests, where each one is declared once.

An exercise is the files that share its name:

- ``solutions/NAME.py``: the reference, its text and its solution regions;
- ``autotests/test_NAME.py``: the tests (points, hints, hidden or not) and, at the top of
  the same module, the exercise's contract and its mistakes::

      EXERCISE = Exercise(
          title="Softmax cross-entropy", assignment="networks", order=1,
          functions=(Function("softmax", ("z",), warning_free=True), ...))
      MISTAKES = (Mistake("softmax-grad-sign", "softmax_ce_grad", "hint...",
                          variants=(lambda ref, i: -ref.softmax_ce_grad(i["y"], i["logits"]),)),)

  and, only when a function's right answer is not simply the reference called on the
  diagnosed inputs, ``ANSWERS = {"function": lambda ref, inputs: ...}``.

Nothing else names an exercise. The grader, the stubs, the notebooks, the bundles and
``grader check`` all ask this module, which imports the autotests package on first use
(it is trusted code: the instructor's, or the public part of it in a student bundle).
An exercise's points are the sum of its tests' ``points`` marks.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from grader.errors import CourseError

DEFAULT_ASSIGNMENT = "backprop"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    # Positions in the returned tuple that stay inside the worker (a layer's cache).
    opaque_results: tuple[int, ...] = ()
    # The exercise text promises no RuntimeWarning at the extreme inputs; only then
    # may a test take points for a warning (its docstring says "warning-free").
    warning_free: bool = False


@dataclass(frozen=True)
class Mistake:
    """A known mistake: how to recompute its wrong answer, and a hint that teaches."""
    id: str
    function: str
    hint: str
    # Each variant takes (ref, inputs) and returns the wrong output, shaped like the
    # function's real output; None stands for a part it does not predict (a cache).
    # Variants are instructor-only: the student bundle ships their digests, not their code.
    variants: tuple[Callable, ...] = ()
    # Or a test of the output itself: (inputs, output, warnings) -> bool.
    when: Callable | None = None
    exercise: str = ""  # filled in from the module that declares it


@dataclass(frozen=True)
class LossCurve:
    """What ``grader check --plot`` draws: the student's training ``function`` called with
    the ``arguments()`` the grader builds (trusted data), returning ``(params, losses)``."""
    function: str
    arguments: Callable[[], tuple]
    call: str  # the call as the student reads it, e.g. "train(init_params(2, 2), X, y)"


@dataclass(frozen=True)
class Exercise:
    title: str
    functions: tuple[Function, ...]
    assignment: str = DEFAULT_ASSIGNMENT
    order: int = 0  # its place in the assignment; ties go by name
    loss_curve: LossCurve | None = None
    name: str = ""  # filled in from the module that declares it: test_<name>.py
    points: float = 0  # filled in: the sum of its tests' points

    def function(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)


@dataclass(frozen=True)
class Course:
    exercises: tuple[Exercise, ...]
    mistakes: tuple[Mistake, ...]
    answers: Mapping[str, Callable] = field(default_factory=dict)


def _marked_points(module: ModuleType) -> float:
    """The sum of the ``points`` marks of the module's tests (functions and classes)."""
    total = 0.0

    def points(obj) -> float:
        for mark in getattr(obj, "pytestmark", ()):
            if mark.name == "points":
                return float(mark.args[0])
        return 0.0

    for name, obj in vars(module).items():
        if not name.startswith(("test", "Test")) or getattr(obj, "__module__", None) != \
                module.__name__:
            continue  # imported from elsewhere: pytest would not collect it here either
        if inspect.isclass(obj):
            own = points(obj)
            for member, method in vars(obj).items():
                if member.startswith("test") and callable(method):
                    total += points(method) or own
        elif callable(obj):
            total += points(obj)
    return total


def autotests_dir() -> Path:
    import autotests

    return Path(autotests.__file__).resolve().parent


def _declared(module: ModuleType, name: str) -> tuple[Exercise, tuple[Mistake, ...], dict]:
    where = f"autotests/test_{name}.py"
    declared = getattr(module, "EXERCISE", None)
    if not isinstance(declared, Exercise):
        raise CourseError(f"{where} declares no EXERCISE = Exercise(...)")
    if not NAME.fullmatch(declared.assignment) or declared.assignment == "all":
        raise CourseError(f"{where}: assignment {declared.assignment!r} is not a lowercase "
                          "name other than 'all'")
    exercise = dataclasses.replace(declared, name=name, points=_marked_points(module))
    mistakes = tuple(getattr(module, "MISTAKES", ()))
    functions = {f.name for f in exercise.functions}
    for mistake in mistakes:
        if not isinstance(mistake, Mistake) or mistake.function not in functions:
            raise CourseError(f"{where}: MISTAKES holds {mistake!r}, not a Mistake of one "
                              f"of {', '.join(sorted(functions))}")
    answers = dict(getattr(module, "ANSWERS", {}))
    if not set(answers) <= functions:
        raise CourseError(f"{where}: ANSWERS names {', '.join(sorted(set(answers) - functions))}"
                          ", not a function of this exercise")
    return (exercise, tuple(dataclasses.replace(m, exercise=name) for m in mistakes), answers)


@functools.cache
def course() -> Course:
    """Every exercise of the course, in order: by assignment, then by ``order``, then name."""
    found: list[Exercise] = []
    mistakes: list[Mistake] = []
    answers: dict[str, Callable] = {}
    for path in sorted(autotests_dir().glob("test_*.py")):
        name = path.stem.removeprefix("test_")
        if not NAME.fullmatch(name):
            raise CourseError(f"{path.name}: an exercise name is lowercase letters, digits "
                              "and underscores, starting with a letter")
        try:
            module = importlib.import_module(f"autotests.{path.stem}")
        except Exception as error:  # the instructor's module: say which, in one line
            raise CourseError(f"{path.name} does not import: {type(error).__name__}: "
                              f"{error}") from None
        exercise, its_mistakes, its_answers = _declared(module, name)
        found.append(exercise)
        mistakes += its_mistakes
        answers.update(its_answers)
    if not found:
        raise CourseError(f"{autotests_dir()} holds no exercise (no test_<name>.py)")
    # The default assignment first, then the others by name.
    found.sort(key=lambda e: (e.assignment != DEFAULT_ASSIGNMENT, e.assignment, e.order, e.name))
    seen: dict[str, str] = {}
    for exercise in found:
        for function in exercise.functions:
            if function.name in seen:
                raise CourseError(f"function {function.name} is in both {seen[function.name]} "
                                  f"and {exercise.name}: a function name is the course's own")
            seen[function.name] = exercise.name
    return Course(tuple(found), tuple(mistakes), answers)


def exercises(assignment: str | None = None) -> tuple[Exercise, ...]:
    """The exercises of one assignment, or of the whole course."""
    return tuple(e for e in course().exercises if assignment in (None, e.assignment))


def exercise_names(assignment: str | None = None) -> tuple[str, ...]:
    return tuple(e.name for e in exercises(assignment))


def assignments() -> tuple[str, ...]:
    """The assignments in course order; the first one is graded unless another is asked for."""
    return tuple(dict.fromkeys(e.assignment for e in course().exercises))


def max_score(assignment: str | None = None) -> float:
    return sum(e.points for e in exercises(assignment))


def exercise(name: str) -> Exercise:
    for candidate in course().exercises:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def exercise_of(function_name: str) -> Exercise:
    """The exercise whose module defines ``function_name``."""
    for candidate in course().exercises:
        if any(f.name == function_name for f in candidate.functions):
            return candidate
    raise KeyError(function_name)
