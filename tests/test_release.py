"""The student bundle: everything a student needs for ``grader check``, nothing of the answers."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from click.testing import CliRunner

import grader
from grader import contract
from grader.cli import main
from grader.course import stubs
from tests.conftest import ROOT, SOLUTIONS

AUTOTESTS = ROOT / "autotests"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def is_hidden(node: ast.AST) -> bool:
    for decorator in getattr(node, "decorator_list", []):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "hidden":
            return True
    return False


def autotest_outline(path: Path) -> tuple[set[str], set[str], set[str]]:
    """(hidden test names, public test names, module-level names only hidden tests read)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden, public, read_by_hidden, read_elsewhere = set(), set(), set(), set()
    for node in tree.body:
        names = {n.id for n in ast.walk(node)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            (hidden if is_hidden(node) else public).add(node.name)
        (read_by_hidden if is_hidden(node) else read_elsewhere).update(names)
    top_level = {t.id for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
    return hidden, public, (read_by_hidden - read_elsewhere) & top_level


def real_autotests():
    hidden, public, inputs = set(), set(), set()
    for path in sorted(AUTOTESTS.glob("test_*.py")):
        h, p, i = autotest_outline(path)
        hidden, public, inputs = hidden | h, public | p, inputs | i
    return hidden, public, inputs


def public_points() -> float:
    """The points of the public tests, from their markers."""
    total = 0.0
    for path in AUTOTESTS.glob("test_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not is_hidden(node):
                for d in node.decorator_list:
                    if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "points":
                        total += d.args[0].value
    return total


def student_env() -> dict[str, str]:
    """The environment of a student's shell: nothing of this repository on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "backprop-lab"
    result = CliRunner().invoke(main, ["release", str(dest)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{dest}: ")
    return dest


def test_the_bundle_holds_no_solution_no_hidden_test_and_no_hidden_input(bundle):
    """Is there no solutions folder, solution marker, hidden test name
    or hidden-only input anywhere?"""
    hidden, _, inputs = real_autotests()
    assert len(hidden) >= 6 and {"REFERENCE_CASES"} <= inputs
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in bundle.rglob("*"):
        assert "solutions" not in path.relative_to(bundle).parts, path
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for secret in (*MARKERS, *hidden):
            assert secret not in text, (path, secret)
    for path in (bundle / "autotests").glob("test_*.py"):
        defined = {t.id for node in ast.parse(path.read_text(encoding="utf-8")).body
                   if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
        assert not defined & inputs, (path.name, defined & inputs)


def test_the_bundle_has_the_stubs_the_helpers_and_every_public_test(bundle):
    """Are the stubs exactly the generated ones, provided.py the package's, and
    every public test kept?"""
    for name, text in stubs.generate(SOLUTIONS).items():
        assert (bundle / "exercises" / name).read_text(encoding="utf-8") == text, name
    for name in ("provided.py", "__init__.py"):
        assert ((bundle / "exercises" / name).read_bytes()
                == (ROOT / "exercises" / name).read_bytes())
    for name in ("conftest.py", "__init__.py", "pytest.ini"):
        assert (bundle / "autotests" / name).read_bytes() == (AUTOTESTS / name).read_bytes()
    _, public, _ = real_autotests()
    kept = set()
    for path in sorted((bundle / "autotests").glob("test_*.py")):
        hidden_here, public_here, _ = autotest_outline(path)
        assert not hidden_here
        kept |= public_here
    assert kept == public
    assert (bundle / "grader" / "reports" / "schemas" / "report.schema.json").is_file()


def test_the_bundle_installs_the_student_distribution_with_the_projects_dependencies(bundle):
    """Does pyproject.toml name backprop-lab-student, the three packages
    only, the same dependencies?"""
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    theirs = tomllib.loads((bundle / "pyproject.toml").read_text(encoding="utf-8"))
    assert theirs["project"]["name"] == "backprop-lab-student"
    assert theirs["project"]["dependencies"] == ours["project"]["dependencies"]
    assert theirs["project"]["scripts"] == {"grader": "grader.cli:main"}
    packages = theirs["tool"]["setuptools"]["packages"]
    assert {p.split(".")[0] for p in packages} == {"grader", "exercises", "autotests"}
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert "pip install ." in readme and "grader check" in readme and "exercises/" in readme


def test_the_bundle_keeps_the_runtime_of_the_notebooks_visible_test_cells(bundle):
    """Does the bundle keep grader/course/notebook_runtime.py whole, which released test cells
    call?"""
    runtime = Path("course", "notebook_runtime.py")
    released = (Path(grader.__file__).parent / runtime).read_text(encoding="utf-8")
    kept = (bundle / "grader" / runtime).read_text(encoding="utf-8")
    assert kept == released


def test_release_refuses_a_folder_that_is_not_empty(tmp_path):
    """Does ``grader release`` into a non-empty folder refuse in one line and touch nothing?"""
    (tmp_path / "mine.txt").write_text("keep me\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["release", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("grader: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True,
                          cwd=cwd, env=student_env(), timeout=600)


def install_bundle(bundle: Path, tmp_path: Path) -> Path:
    """A fresh venv in ``tmp_path`` with the bundle installed as a student installs it."""
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                          text=True, env=student_env(), timeout=300)
    assert made.returncode == 0, made.stderr
    installed = run(venv, "python", "-m", "pip", "install", "--quiet", str(bundle), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


@pytest.mark.slow
def test_a_student_installs_the_bundle_and_checks_stubs_and_answers(bundle, tmp_path):
    """Does the bundle, installed in a fresh venv, lack solutions, fail the stubs
    and pass the answers?"""
    venv = install_bundle(bundle, tmp_path)

    absent = run(venv, "python", "-c", "import solutions", cwd=tmp_path)
    assert absent.returncode == 1 and "No module named 'solutions'" in absent.stderr

    # Without the reference, the diagnosis of mistakes and the reference fixture step aside.
    probe = run(venv, "python", "-c",
                "import numpy as np\n"
                "from grader.grading.misconceptions import diagnose\n"
                "print(diagnose('mse_grad', {'y_true': np.ones(3), 'y_pred': np.zeros(3)},"
                " np.zeros(3)))\n"
                "from grader.grading.pytest_plugin import reference_functions\n"
                "print(reference_functions())\n", cwd=tmp_path)
    assert probe.returncode == 0 and probe.stdout.split() == ["None", "None"], probe.stderr

    stubs_checked = run(venv, "grader", "check", "--path", str(bundle / "exercises"), cwd=tmp_path)
    assert stubs_checked.returncode == 1, stubs_checked.stdout + stubs_checked.stderr
    assert stubs_checked.stdout.count("not implemented") == len(contract.exercises())
    total = public_points()
    assert f"public tests: 0/{total:g} points" in stubs_checked.stdout

    answers = tmp_path / "answers"
    answers.mkdir()
    for path in SOLUTIONS.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, answers / path.name)
    answers_checked = run(venv, "grader", "check", "--path", str(answers), cwd=tmp_path)
    assert answers_checked.returncode == 0, answers_checked.stdout + answers_checked.stderr
    assert answers_checked.stdout.count("passed") == len(contract.exercises())
    assert f"public tests: {total:g}/{total:g} points" in answers_checked.stdout

    # The instructor's tools are not there to leak anything, and say so in one line.
    for verb in (["stubs"], ["release", str(tmp_path / "again")]):
        refused = run(venv, "grader", *verb, cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith("grader: ") and refused.stderr.count("\n") == 1
        assert "instructor tool" in refused.stderr


SYNTHETIC = '''"""Tests."""
import pytest
from pytest import mark

SHARED = [1.0, 2.0]
SECRET_INPUT = [123.456, 789.012]


def helper(x):
    return x


@pytest.fixture
def secret_fixture():
    return 31337.5


@pytest.mark.points(1)
def test_public(student):
    """Public."""
    assert helper(SHARED)


# What the hidden test checks, in a comment right above it.
@pytest.mark.hidden
@pytest.mark.points(2)
def test_secret(student, secret_fixture):
    assert helper(SECRET_INPUT) == secret_fixture


@mark.hidden()
class TestSecretGroup:
    def test_inside(self):
        assert SECRET_INPUT


class TestMixed:
    def test_open(self):
        assert SHARED

    @pytest.mark.hidden
    def test_closed(self):
        assert 424242


class TestAllHidden:
    """Every test in here is hidden."""

    @pytest.mark.hidden
    def test_only(self):
        assert 515151
'''


def test_public_source_cuts_hidden_tests_and_what_only_they_use():
    """Are hidden functions, classes and methods cut, with their comments, fixtures and inputs,
    and the rest kept?"""
    from grader.course.public_tests import public_source

    text, tests, names = public_source(SYNTHETIC)
    compile(text, "<public>", "exec")
    assert sorted(tests) == ["TestAllHidden", "TestMixed.test_closed", "TestSecretGroup",
                             "test_secret"]
    assert sorted(names) == ["SECRET_INPUT", "secret_fixture"]
    for gone in ("test_secret", "TestSecretGroup", "test_closed", "SECRET_INPUT", "123.456",
                 "31337.5", "424242", "515151", "TestAllHidden", "What the hidden test checks",
                 "hidden"):
        assert gone not in text, gone
    for kept in ("SHARED = [1.0, 2.0]", "def helper(x):", "def test_public(student):",
                 "class TestMixed:", "def test_open(self):", '"""Public."""'):
        assert kept in text, kept


def test_public_source_refuses_a_hidden_marker_it_cannot_cut():
    """Is a module-wide hidden pytestmark refused rather than shipped?"""
    from grader.course.public_tests import ReleaseError, public_source

    with pytest.raises(ReleaseError, match="pytestmark"):
        public_source("import pytest\npytestmark = pytest.mark.hidden\n\ndef test_x():\n    pass\n")


def test_the_bundle_holds_no_mistake_variant_and_no_answer(bundle):
    """Are the mistakes' variants, the ANSWERS tables and the helpers only they use (whose
    code is the backward pass itself) cut, while each mistake's id and hint stay?"""
    from grader.grading.misconceptions import catalogue

    texts = {p: p.read_text(encoding="utf-8") for p in bundle.rglob("*.py")}
    for path, text in texts.items():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword):
                assert node.arg != "variants", path
            if isinstance(node, (ast.FunctionDef, ast.Name)):
                name = node.name if isinstance(node, ast.FunctionDef) else node.id
                assert name not in ("ANSWERS", "_dense_variant", "_train_variant",
                                    "_graph_backward_variant"), (path, name)
    shipped = "".join(texts.values())
    for mistake in catalogue():
        assert f'"{mistake.id}"' in shipped, mistake.id
