"""The student bundle: what a student installs to do the exercises and check them.

``grader release DIR`` writes a new folder DIR holding:

- ``exercises/``: the stubs, generated from the solutions exactly as ``grader stubs``
  makes them, with ``provided.py`` and ``__init__.py`` copied from the package;
- ``autotests/``: the public tests only. Every test marked ``@pytest.mark.hidden`` is cut
  from the source with :mod:`ast` (:mod:`grader.course.public_tests`), and so is every
  module-level name (an input array, a helper, a fixture) that only hidden tests used:
  students never see a hidden test's inputs, in a report or here. ``conftest.py``,
  ``__init__.py`` and ``pytest.ini`` stay;
- ``grader/``: the grader runtime, for ``grader check``. The instructor tools of
  ``grader/course/`` (the stubs, this release and its cutting of hidden tests, and the
  nbgrader generators, which read the solutions) are each replaced by a module that says
  so when used;
- ``pyproject.toml`` (distribution ``backprop-lab-student``: the packages grader,
  exercises and autotests, never solutions) and a student's ``README.md``.

The bundle is made in a temporary folder beside DIR and checked before it is moved
into place: a solution marker, the name of a hidden test or a ``solutions`` folder in
it is an error, and nothing is left behind.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import autotests
import exercises
import grader
from grader import __version__
from grader import contract
from grader.course import fingerprints
from grader.course import stubs as stubs_lib
from grader.course.notebook_runtime import collect
from grader.course.public_tests import ReleaseError, hidden_test_names, public_source

DISTRIBUTION = "backprop-lab-student"
DEPENDENCIES = ("numpy>=1.23", "pytest>=8.0", "click>=8.1", "jsonschema>=4.17")
AUTOTEST_SUPPORT = ("__init__.py", "conftest.py", "pytest.ini")
MARKERS = (stubs_lib.BEGIN, stubs_lib.END)
# Instructor tools: in the bundle each becomes a module that refuses politely. Whatever
# else the bundle holds is checked for solution markers and hidden test names (_leaks):
# a grader module that named one would stop the release, never be cut silently.
INSTRUCTOR_ONLY = ("course.fingerprints", "course.notebooks", "course.public_tests",
                   "course.release", "course.scaffold", "course.stubs")


@dataclass(frozen=True)
class Bundle:
    path: Path
    files: int
    public_tests: tuple[str, ...]
    hidden_tests_removed: tuple[str, ...]
    hidden_inputs_removed: tuple[str, ...]  # module-level names only hidden tests used
    instructor_modules_replaced: tuple[str, ...]


def _package_dir(module) -> Path:
    return Path(module.__file__).resolve().parent


def _solutions_dir() -> Path:
    try:
        solutions = importlib.import_module("solutions")
    except ImportError:
        raise ReleaseError("the reference solutions are not installed here: a release is "
                           "made from the instructor's copy (the stubs come from them)") from None
    return _package_dir(solutions)


def _placeholder(module: str) -> str:
    return f'''\
"""``grader.{module}`` is an instructor tool; it is not part of the student bundle."""

from grader.errors import NotInStudentBundle


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    def unavailable(*args, **kwargs):
        raise NotInStudentBundle("grader.{module}." + name + " is an instructor tool; "
                                 "it is not part of the student bundle")

    return unavailable
'''


def _copy_grader(target: Path) -> list[str]:
    """The grader package without caches; instructor tools replaced. Returns those."""
    source = _package_dir(grader)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for module in INSTRUCTOR_ONLY:
        path = target.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(_placeholder(module), encoding="utf-8")
    return list(INSTRUCTOR_ONLY)


def _copy_exercises(target: Path, solutions_dir: Path) -> None:
    target.mkdir()
    package = _package_dir(exercises)
    for name in ("__init__.py", "provided.py"):
        shutil.copyfile(package / name, target / name)
    for file_name, text in stubs_lib.generate(solutions_dir).items():
        (target / file_name).write_text(text, encoding="utf-8")


def _copy_autotests(target: Path) -> tuple[list[str], list[str], list[str]]:
    target.mkdir()
    package = _package_dir(autotests)
    public, removed, orphaned = [], [], []
    for name in AUTOTEST_SUPPORT:
        shutil.copyfile(package / name, target / name)
    for path in sorted(package.glob("test_*.py")):
        text, tests, names = public_source(path.read_text(encoding="utf-8"), str(path))
        (target / path.name).write_text(text, encoding="utf-8")
        removed += tests
        orphaned += names
        tree = ast.parse(text)
        public += [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                   and n.name.startswith("test")]
    return public, removed, orphaned


def _packages(root: Path) -> list[str]:
    found = []
    for top in ("grader", "exercises", "autotests"):
        for init in sorted((root / top).rglob("__init__.py")):
            found.append(init.parent.relative_to(root).as_posix().replace("/", "."))
    return found


def _pyproject(root: Path) -> str:
    packages = ", ".join(f'"{p}"' for p in _packages(root))
    dependencies = "".join(f'    "{d}",\n' for d in DEPENDENCIES)
    return f'''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{__version__}"
description = "Backprop Lab for students: the exercises, their public tests, and grader check"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
{dependencies}]

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools]
# Named one by one: a folder a student adds here is never installed by accident.
packages = [{packages}]

[tool.setuptools.package-data]
"grader.reports" = ["schemas/*.json"]
"grader.grading" = ["{fingerprints.FILE}"]
autotests = ["pytest.ini"]
'''


def _readme(public_points: dict[str, float]) -> str:
    rows = "".join(f"| {e.assignment} | `{e.name}` | {e.title} | {e.points:g} |\n"
                   for e in contract.exercises())
    worth = "; ".join(
        f"{sum(public_points.get(n, 0) for n in contract.exercise_names(a)):g} of the "
        f"{contract.max_score(a):g} points of {a}" for a in contract.assignments())
    count = len(contract.exercises())
    curves = " or ".join(f"`{e.loss_curve.call}`" for e in contract.exercises() if e.loss_curve)
    return f"""# Backprop Lab

Derive backpropagation by hand: {count} short exercises, from the sigmoid to trained
networks, and a self-check that tells you which mistake you made.

## Install, once

With Python 3.10 or newer, in this folder:

```sh
python3 -m venv .venv && . .venv/bin/activate
pip install -e .
```

`-e` (editable) installs a link to this folder, not a copy: `import exercises.sigmoid`,
from a notebook, a scratch script or any folder, is the file you are editing. A plain
`pip install .` would copy the stubs into the environment as they are today, and
anywhere but this folder `import exercises.sigmoid` would be that stub, whatever you
wrote since. (`grader check` reads the files of `./exercises` either way.)

## Work

Open `exercises/`. Each module's docstring states the maths, the shapes and a worked
example; replace each `raise NotImplementedError` with your code. Every function takes
and returns float64, batch-first (`X` has shape `(N, D)`), and leaves its inputs
unchanged. `exercises/provided.py` holds helpers you may use; it is never graded.

| assignment | module | what you derive | points |
| --- | --- | --- | ---: |
{rows}
## Check

From this folder, after each change:

```sh
grader check                   # every exercise
grader check --assignment {contract.assignments()[0]}   # the exercises of one assignment
grader check sigmoid           # one exercise
grader check training --plot   # and the loss curve of your train(), drawn in the terminal
python -m doctest exercises/sigmoid.py   # the examples of one module, doctest's own report
python -m pytest --doctest-modules exercises/mlp.py   # the same, for one importing others
```

You get a verdict per exercise and, for each failed test, what was wrong and a hint.
When your code raises, the message says where, in your own file (`exercises/mse.py,
line 12, in mse_loss`); a module that does not import is explained once, on its first
test. Some hints come in steps: each time the same test fails again, the check shows
the next step (`hint 2 of 3`); the counts live in `exercises/.grader-check-history.json`
(delete it to start over).

After the tests, `grader check` runs the examples of your docstrings against your own
functions (`--no-examples` leaves them out): a failing one shows its line, what it
expected and what it got; a function still raising `NotImplementedError` is "not
implemented yet". `--plot` draws the training loss of your {curves} with your default
lr and epochs (of the first exercise checked that has one).
Neither counts for points, and neither changes the exit code: 0 when every public test
passes, 1 when one does not.

These public tests are worth {worth}. Hidden tests
with other inputs are graded after the deadline: a passing check is a good sign, not
the final score. `grader check --path DIR` checks another folder.

## Check your gradients yourself

`exercises/provided.py` has a gradient checker: `numerical_gradient(f, x)` differentiates
a function that returns one number by central differences, and `rel_error(a, b)` says how
far apart two gradients are:

```python
import numpy as np
from exercises.provided import numerical_gradient, rel_error, sigmoid
from exercises.sigmoid import sigmoid_grad          # yours

z = np.array([-3.0, 0.0, 2.0])
numeric = numerical_gradient(lambda v: np.sum(sigmoid(v)), z)   # elementwise: sum it
print(rel_error(numeric, sigmoid_grad(z)))   # 1e-7 or less: they agree; 1e-3 or more: a mistake
```

## Hand in

Your `exercises/` folder, as your course says (a folder or a .zip of it).
"""


def _leaks(root: Path, hidden_names: list[str]) -> list[str]:
    """What must never be in a bundle, found in it: ``path: what``."""
    found = []
    patterns = [(name, re.compile(rf"\b{re.escape(name)}\b")) for name in hidden_names]
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "solutions" in path.relative_to(root).parts:
            found.append(f"{rel}: a solutions folder")
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found += [f"{rel}: the marker {m!r}" for m in MARKERS if m in text]
        found += [f"{rel}: the hidden test {name}" for name, p in patterns if p.search(text)]
    return found


def build(dest: Path) -> Bundle:
    """Write the student bundle to the new folder ``dest``."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ReleaseError(f"{dest}: already exists and is not an empty folder; "
                           "choose a new one")
    solutions_dir = _solutions_dir()
    parent = dest.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=parent))
    except OSError as error:
        raise ReleaseError(f"{dest}: cannot write there ({error.strerror or error})") from None
    try:
        _copy_exercises(staging / "exercises", solutions_dir)
        public, removed, orphaned = _copy_autotests(staging / "autotests")
        hidden = [name for path in sorted(_package_dir(autotests).glob("test_*.py"))
                  for name in hidden_test_names(path.read_text(encoding="utf-8"))]
        replaced = _copy_grader(staging / "grader")
        fingerprints.write(staging / "grader" / "grading" / fingerprints.FILE, solutions_dir)
        (staging / "README.md").write_text(_readme(_public_points()), encoding="utf-8")
        (staging / "pyproject.toml").write_text(_pyproject(staging), encoding="utf-8")
        leaks = _leaks(staging, hidden)
        if leaks:
            raise ReleaseError(f"the bundle would leak {leaks[0]}"
                               + (f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""))
        if dest.exists():
            dest.rmdir()
        # mkdtemp made it 0700; the bundle is a folder to hand out, as mkdir would make it.
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sum(1 for p in dest.rglob("*") if p.is_file())
    return Bundle(dest, files, tuple(public), tuple(removed), tuple(orphaned), tuple(replaced))


def _public_points() -> dict[str, float]:
    """Points of the public tests per exercise, from their ``points`` marks."""
    return {e.name: sum(t.points for t in collect(e.name) if not t.hidden)
            for e in contract.exercises()}
