"""nbgrader source notebooks, generated from the single source (``solutions/`` + ``autotests/``).

One notebook per exercise, ``<exercise>.ipynb``, so that ``grader grade`` recognises the
submitted copies by name:

- the exercise's explanation (the solutions module's docstring), as locked markdown;
- one autograded answer cell: the solutions module without its docstring, whose
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions nbgrader cuts for the release;
- one autograder test cell per autotest (``grade_id`` = the test's name, ``points`` = its
  ``points`` marker), which calls :func:`grader.course.notebook_runtime.run`: it prints the
  report's message and hint and ends with the points earned, nbgrader's partial credit.
  A hidden test's call sits between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``,
  which ``nbgrader generate_assignment`` removes from the release.

Cell metadata follows nbgrader's schema version 3 (``nbgrader/nbgraderformat/v3.json``).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from grader import contract
from grader.contract import Exercise
from grader.course.notebook_runtime import AutoTest, collect
from grader.errors import (
    BadAssignmentName,
    MarkerInExplanation,
    OutputNotWritable,
    UnknownAssignment,
)

SCHEMA_VERSION = 3
# The words nbgrader's preprocessors look for anywhere in a cell.
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
CONFIG = '''\
"""nbgrader's settings for this course, written once by `grader nbgrader`: edit freely."""
import os

c = get_config()  # noqa: F821 (nbgrader defines it)
# The course is the folder of this file, wherever nbgrader is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "backprop-lab"
# The released answer cells read like exercises/*.py: the same body in every stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError"}
'''


def split_docstring(source: str) -> tuple[str, str]:
    """``(module docstring, the source after it)``, the latter without leading blank lines."""
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree, clean=True) or ""
    if not docstring:
        return "", source
    end = tree.body[0].end_lineno
    rest = source.splitlines(keepends=True)[end:]
    return docstring, "".join(rest).lstrip("\n")


def _lines(text: str) -> list[str]:
    """nbformat's multi-line string: a list of lines, each but the last ending in newline."""
    return text.splitlines(keepends=True)


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False,
              locked: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:64]


def markdown_cell(grade_id: str, text: str) -> dict:
    """A read-only markdown cell (nbgrader restores locked cells when it autogrades)."""
    return {"cell_type": "markdown", "id": _cell_id(grade_id),
            "metadata": _nbgrader(grade_id, locked=True), "source": _lines(text)}


def code_cell(grade_id: str, source: str, metadata: dict) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": _cell_id(grade_id),
            "metadata": metadata, "outputs": [], "source": _lines(source)}


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def autotest_cell_source(test: AutoTest) -> str:
    """The test cell: a call of the notebook runtime; a hidden one wholly inside the markers."""
    call = (f"from grader.course.notebook_runtime import run\n"
            f"run({test.nodeid!r}, globals())\n")
    points = f"{_points(test.points)} point{'s' if test.points != 1 else ''}"
    if not test.hidden:
        return f"# {test.question} ({points})\n{call}"
    return (f"# A hidden test ({points}): it runs when your notebook is graded.\n"
            f"### BEGIN HIDDEN TESTS\n# {test.question}\n{call}### END HIDDEN TESTS\n")


def grading_note(exercise: Exercise, tests: tuple[AutoTest, ...]) -> str:
    visible = sum(t.points for t in tests if not t.hidden)
    hidden = sum(t.points for t in tests if t.hidden)
    return (
        "## Your answer, and how it is graded\n\n"
        "Fill in every function in the next cell where it says `# YOUR CODE HERE` "
        "(delete the `raise NotImplementedError`). Keep the names and the arguments: "
        "the tests call them.\n\n"
        f"Each test cell below prints what it checked and ends with the points it earned. "
        f"The visible tests are worth {_points(visible)} of the {_points(exercise.points)} points; "
        f"the hidden tests ({_points(hidden)} points) run only when your notebook is graded. "
        "When a test fails, its message says where and its hint says what to look at.\n"
    )


def with_sibling_imports(code: str) -> str:
    """``code`` with each import from a sibling exercise (``from .dense import ...``) made
    to work in a notebook too, where there is no package: there, the names come from the
    answers of the sibling's notebook beside it (:func:`notebook_runtime.sibling`). Graded
    as a module, in the worker, the import itself still runs."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    for node in reversed(tree.body):
        if not (isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
                and node.module in contract.exercise_names()):
            continue
        names = [alias.name for alias in node.names]
        bound = ", ".join(alias.asname or alias.name for alias in node.names)
        block = (f"try:\n    {ast.unparse(node)}\n"
                 f"except ImportError:  # in a notebook: the answers of {node.module}.ipynb\n"
                 f"    from grader.course.notebook_runtime import sibling\n"
                 f"    [{bound}] = sibling({', '.join(map(repr, [node.module, *names]))})\n")
        lines[node.lineno - 1:node.end_lineno] = [block]
    return "".join(lines)


def notebook(exercise: Exercise, solution_source: str, path: Path = Path("<source>")) -> dict:
    """The nbgrader source notebook of ``exercise`` (nbformat 4.5, as a JSON-ready dict)."""
    docstring, code = split_docstring(solution_source)
    title, _, body = docstring.partition("\n")
    explanation = f"# {exercise.title} ({_points(exercise.points)} points)\n\n{body.strip()}\n"
    for marker in MARKERS:
        if marker in explanation:
            raise MarkerInExplanation(path, marker)
    tests = collect(exercise.name)
    cells = [
        markdown_cell(f"{exercise.name}_explanation", explanation),
        markdown_cell(f"{exercise.name}_instructions", grading_note(exercise, tests)),
        code_cell(f"{exercise.name}_answer", with_sibling_imports(code),
                  _nbgrader(f"{exercise.name}_answer", solution=True)),
    ]
    for test in tests:
        cells.append(code_cell(test.name, autotest_cell_source(test),
                               _nbgrader(test.name, grade=True, locked=True,
                                         points=_points(test.points))))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def solutions_dir() -> Path:
    import solutions

    return Path(solutions.__file__).resolve().parent


def check_assignment_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", name or ""):
        raise BadAssignmentName(name)
    return name


def folders(assignment: str | None = None, name: str | None = None) -> dict[str, str]:
    """``{nbgrader assignment folder: course assignment}``: every course assignment under
    its own name, or one (``assignment``), under ``name`` if given."""
    known = contract.assignments()
    if assignment is not None and assignment not in known:
        raise UnknownAssignment(assignment, known)
    if name is not None and assignment is None and len(known) > 1:
        raise BadAssignmentName(name, "a folder name is for one assignment: give --assignment")
    chosen = [assignment] if assignment is not None else list(known)
    return {check_assignment_name(name or a): a for a in chosen}


def write_course(course_dir: Path, assignment: str | None = None, name: str | None = None,
                 solutions: Path | None = None) -> list[Path]:
    """Write ``COURSE_DIR/source/<assignment>/<exercise>.ipynb`` for every exercise of every
    assignment (or of one, in a folder ``name`` if given), and a minimal
    ``nbgrader_config.py`` when there is none; returns the files written."""
    course_dir, solutions = Path(course_dir), Path(solutions or solutions_dir())
    written = []
    for folder, course_assignment in folders(assignment, name).items():
        target = course_dir / "source" / folder
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputNotWritable(target, error.strerror or str(error)) from None
        for exercise in contract.exercises(course_assignment):
            source_path = solutions / f"{exercise.name}.py"
            data = notebook(exercise, source_path.read_text(encoding="utf-8"), source_path)
            path = target / f"{exercise.name}.ipynb"
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            written.append(path)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
        written.append(config)
    return written
