"""``grader new-exercise NAME``: a new exercise's files, from a template that already works.

It writes three files into the course (the folder holding ``solutions/``, ``autotests/``
and ``exercises/``), and touches nothing else:

- ``solutions/NAME.py``: the reference and its text, a worked example of the form
  (the softplus and its derivative), with its solution regions marked;
- ``autotests/test_NAME.py``: the exercise's declaration (``EXERCISE``), one named
  mistake (``MISTAKES``), a public worked-example test, a public gradient check and a
  hidden comparison with the reference;
- ``exercises/NAME.py``: the student's stub, generated from the reference.

The reference passes its tests as written, so the instructor starts from a course that
grades, and replaces the softplus with their own exercise step by step (CONTRIBUTING.md,
"Add an exercise", walks through it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import contract
from grader.course import stubs
from grader.errors import CourseError, OutputNotWritable


@dataclass(frozen=True)
class Scaffold:
    files: tuple[Path, ...]
    assignment: str
    functions: tuple[str, ...]


SOLUTION = '''"""{title}.

The forward pass
----------------
The softplus smooths the ReLU: {name}(x) = log(1 + exp(x)), elementwise. It is
positive everywhere, close to 0 for very negative x and close to x for large x.

What to derive
--------------
{name}_grad(x) is the derivative d {name}(x) / dx. Write it with a function you
already know.

Shapes and conventions
----------------------
x is a float64 array of any shape; each result has the shape of x, in float64, and x
is not modified. Both are finite and warning-free for abs(x) up to 1e4.

Worked numbers
--------------
{name}(0) = log 2 = 0.6931471806 and {name}_grad(0) = 0.5.

Checking your gradient
----------------------
exercises/provided.py has numerical_gradient(f, x) and rel_error(a, b): about 1e-7 or
less means your derivative and the estimate agree.
"""

import numpy as np


def {name}(x):
    """log(1 + exp(x)), elementwise.

    Inputs:
        x: a float64 array of any shape. It is not modified.
    Returns:
        out: an array of the shape of x.

    >>> print({name}(np.array([0.0, 1e4])))
    [6.93147181e-01 1.00000000e+04]
    """
    ### BEGIN SOLUTION
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))
    ### END SOLUTION


def {name}_grad(x):
    """The derivative of {name}, elementwise.

    Inputs:
        x: a float64 array of any shape. It is not modified.
    Returns:
        dx: an array of the shape of x.

    >>> print({name}_grad(np.array([0.0])))
    [0.5]
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))
    ### END SOLUTION
'''

AUTOTESTS = '''"""Grading tests for the {name} exercise."""

import numpy as np
import pytest

from grader.contract import Exercise, Function, Mistake
from grader.grading.expect import expect, expect_array, expect_gradient, expect_inputs_unchanged
from grader.grading.gradcheck import check_gradient, vjp_objective

# The contract, declared once: the grader, the stubs, the notebooks and both bundles read it.
EXERCISE = Exercise(
    "{title}",
    assignment="{assignment}", order={order},
    functions=(
        Function("{name}", ("x",), warning_free=True),
        Function("{name}_grad", ("x",)),
    ))

# Known mistakes: each variant recomputes a wrong answer from the reference (ref) and the
# inputs a test diagnosed (i). Variants never reach the student bundle; hints do.
MISTAKES = (
    Mistake(
        "{name}-grad-sign", "{name}_grad",
        "Your derivative is negative, but {name} only ever rises: check the sign the "
        "inner derivative of exp(x) brings.",
        variants=(lambda ref, i: -ref.{name}_grad(i["x"]),)),
)

X = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])


def {name}_of(x):
    """The function of the contract, here in the trusted process: gradient checks
    differentiate it, never the student's own."""
    return np.logaddexp(0.0, x)


@pytest.mark.points(2)
@pytest.mark.hint("{name}(0) = log 2: log(1 + exp(x)) at x = 0.")
def test_{name}_worked_example(student):
    """Does {name} give log 2 at 0, and the right values nearby?"""
    got = expect_array(student.{name}(X), X.shape, "{name}(x)")
    expect(got, {name}_of(X), "{name}(x)", function="{name}", inputs={{"x": X}})


@pytest.mark.points(3)
@pytest.mark.hint("Differentiate log(1 + exp(x)): the chain rule gives exp(x) / (1 + exp(x)).")
def test_{name}_grad_matches_numerical_gradient(student):
    """Does {name}_grad agree with central differences of {name}?"""
    reply = student.call("{name}_grad", X, return_inputs=True)
    got = expect_array(reply.value, X.shape, "{name}_grad(x)")
    expect(got, np.exp(-np.logaddexp(0.0, -X)), "{name}_grad(x)", function="{name}_grad",
           inputs={{"x": X}})
    upstream = np.ones_like(X)
    expect_gradient(check_gradient(got, vjp_objective({name}_of, upstream), X),
                    "{name}_grad(x)", "sum({name}(x))")
    expect_inputs_unchanged(reply, (X,), "{name}_grad")


@pytest.mark.hidden
@pytest.mark.points(5)
def test_{name}_matches_reference(student, reference, rng):
    """Do both functions match the reference on random inputs, large ones included?"""
    for shape in [(1,), (4, 3), (2, 3, 4)]:
        x = rng.normal(scale=10.0, size=shape)
        for function in ("{name}", "{name}_grad"):
            got = expect_array(student.call(function, x).value, shape, f"{{function}}(x)")
            expect(got, getattr(reference, function)(x), f"{{function}}(x)", function=function,
                   inputs={{"x": x}}, case=f"shape {{shape}}")
'''


def new_exercise(course: Path, name: str, assignment: str | None = None,
                 title: str | None = None) -> Scaffold:
    """Write the three files of exercise ``name`` into ``course``; refuses to overwrite."""
    course = Path(course)
    if not contract.NAME.fullmatch(name):
        raise CourseError(f"{name!r} is not an exercise name: lowercase letters, digits and "
                          "underscores, starting with a letter")
    folders = {part: course / part for part in ("solutions", "autotests", "exercises")}
    missing = [str(path) for path in folders.values() if not path.is_dir()]
    if missing:
        raise CourseError(f"{course} is not a course folder: no {', '.join(missing)}")
    targets = (folders["solutions"] / f"{name}.py", folders["autotests"] / f"test_{name}.py",
               folders["exercises"] / f"{name}.py")
    taken = [str(path) for path in targets if path.exists()]
    if taken:
        raise CourseError(f"{taken[0]} exists: choose another name, or edit it")
    functions = (name, f"{name}_grad")
    clash = [f for e in contract.exercises() for f in e.functions if f.name in functions]
    if clash:
        raise CourseError(f"the course already has a function {clash[0].name}: choose another "
                          "name")
    assignment = assignment or contract.DEFAULT_ASSIGNMENT
    if not contract.NAME.fullmatch(assignment) or assignment == "all":
        raise CourseError(f"assignment {assignment!r} is not a lowercase name other than 'all'")
    fields = {"name": name, "assignment": assignment, "order": 99,
              "title": (title or f"The {name} exercise").replace('"', "'")}
    solution = SOLUTION.format(**fields)
    texts = (solution, AUTOTESTS.format(**fields), stubs.clear_solutions(solution, targets[0]))
    written = []
    try:
        for path, text in zip(targets, texts, strict=True):
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
            written.append(path)
    except OSError as error:
        for path in written:
            path.unlink(missing_ok=True)
        raise OutputNotWritable(Path(error.filename or course), error.strerror or str(error)) \
            from None
    return Scaffold(tuple(written), assignment, functions)
