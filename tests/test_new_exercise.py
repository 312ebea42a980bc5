"""An instructor adds an exercise by writing its files, and every path of the course takes it.

In a temporary copy of the course, ``grader new-exercise`` writes a throwaway exercise
(in an assignment of its own) and nothing else is edited. With that copy first on the
path, the real CLI grades it, checks its stubs, writes its nbgrader notebook, puts it in
the Gradescope zip and runs it as Gradescope would, cuts it into the student bundle, and
the bundle's own ``grader check`` names its mistake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

NAME = "softplus"
ASSIGNMENT = "extras"
WRONG_GRAD = f'''

def {NAME}_grad(x):
    x = np.asarray(x, dtype=np.float64)
    return -np.exp(-np.logaddexp(0.0, -x))
'''


def run(*args: str, cwd: Path, path: Path) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` with ``path`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course with the throwaway exercise added by ``grader new-exercise``."""
    root = tmp_path_factory.mktemp("course")
    for part in ("solutions", "autotests", "exercises"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    made = run("new-exercise", NAME, "--course", str(root), "--assignment", ASSIGNMENT,
               "--title", "The softplus and its derivative", cwd=root, path=root)
    assert made.returncode == 0, made.stderr
    written = {Path(line.removeprefix("wrote ")) for line in made.stdout.splitlines()
               if line.startswith("wrote ")}
    assert written == {root / "solutions" / f"{NAME}.py", root / "autotests" / f"test_{NAME}.py",
                       root / "exercises" / f"{NAME}.py"}
    return root


def reports_of(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")}


def test_the_grader_grades_it_and_names_its_mistake(course, tmp_path):
    """Does ``grader grade --assignment extras`` give the reference full marks, the stub 0
    and a wrong gradient a named mistake, with the first assignment unchanged?"""
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    source = (course / "solutions" / f"{NAME}.py").read_text(encoding="utf-8")
    (wrong / f"{NAME}.py").write_text(source + WRONG_GRAD, encoding="utf-8")
    out = tmp_path / "reports"
    done = run("grade", str(course / "solutions"), str(course / "exercises"), str(wrong),
               "--out", str(out), "--assignment", ASSIGNMENT, cwd=course, path=course)
    assert done.returncode == 0, done.stderr
    reports = reports_of(out)
    assert [e["name"] for e in reports["solutions"]["exercises"]] == [NAME]
    assert reports["solutions"]["score"] == reports["solutions"]["max_score"] == 10
    assert reports["exercises"]["score"] == 0
    named = {t["misconception"] for e in reports["wrong"]["exercises"] for t in e["tests"]}
    assert f"{NAME}-grad-sign" in named and reports["wrong"]["score"] == 2
    first = run("grade", str(course / "solutions"), "--out", str(tmp_path / "first"),
                cwd=course, path=course)
    assert first.returncode == 0, first.stderr
    assert reports_of(tmp_path / "first")["solutions"]["max_score"] == 100


def test_its_stub_is_generated_like_every_other(course):
    """Is its stub up to date with its reference, as ``grader stubs`` makes it?"""
    done = run("stubs", "--check", cwd=course, path=course)
    assert done.returncode == 0, done.stdout + done.stderr
    stub = (course / "exercises" / f"{NAME}.py").read_text(encoding="utf-8")
    assert "raise NotImplementedError" in stub and "logaddexp" not in stub


def test_it_has_an_nbgrader_notebook_in_its_assignment(course, tmp_path):
    """Does ``grader nbgrader`` write source/extras/softplus.ipynb with a cell per autotest?"""
    done = run("nbgrader", str(tmp_path / "nb"), cwd=course, path=course)
    assert done.returncode == 0, done.stderr
    notebook = json.loads((tmp_path / "nb" / "source" / ASSIGNMENT / f"{NAME}.ipynb")
                          .read_text(encoding="utf-8"))
    graded = [c["metadata"]["nbgrader"] for c in notebook["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")]
    assert {g["grade_id"] for g in graded} >= {f"test_{NAME}_worked_example",
                                               f"test_{NAME}_matches_reference"}
    assert sum(g["points"] for g in graded) == 10
    assert (tmp_path / "nb" / "source" / "backprop" / "sigmoid.ipynb").is_file()


def test_the_gradescope_zip_carries_it_and_grades_it(course, tmp_path):
    """Does the Gradescope zip's wheel hold its autotests, and its run_autograder grade it?"""
    zip_path = tmp_path / "autograder.zip"
    done = run("gradescope", str(zip_path), "--assignment", ASSIGNMENT, cwd=course, path=course)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(zip_path) as archive:
        assert f"--assignment {ASSIGNMENT}" in archive.read("run_autograder").decode()
        wheel_name = next(n for n in archive.namelist() if n.endswith(".whl"))
        (tmp_path / wheel_name).write_bytes(archive.read(wheel_name))
    with zipfile.ZipFile(tmp_path / wheel_name) as wheel:
        assert {f"autotests/test_{NAME}.py", f"solutions/{NAME}.py"} <= set(wheel.namelist())
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copyfile(course / "solutions" / f"{NAME}.py", root / "submission" / f"{NAME}.py")
    graded = run("gradescope-run", "--root", str(root), "--assignment", ASSIGNMENT,
                 "--isolation", "basic", "--accept-weak-isolation", cwd=course, path=course)
    assert graded.returncode == 0, graded.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 10 and len(results["tests"]) == 3


@pytest.mark.slow
def test_the_student_bundle_checks_it_and_names_its_mistake(course, tmp_path):
    """Does the release hold its stub and public tests only, and does the bundle's own
    ``grader check`` pass the reference and name the wrong gradient without the reference?"""
    bundle = tmp_path / "bundle"
    done = run("release", str(bundle), cwd=course, path=course)
    assert done.returncode == 0, done.stderr
    public = (bundle / "autotests" / f"test_{NAME}.py").read_text(encoding="utf-8")
    assert f"test_{NAME}_worked_example" in public
    assert f"test_{NAME}_matches_reference" not in public and "variants=" not in public
    assert not (bundle / "solutions").exists()
    answers, wrong = tmp_path / "answers", tmp_path / "wrong"
    for folder, tail in ((answers, ""), (wrong, WRONG_GRAD)):
        folder.mkdir()
        source = (course / "solutions" / f"{NAME}.py").read_text(encoding="utf-8")
        (folder / f"{NAME}.py").write_text(source + tail, encoding="utf-8")
    from tests.test_release import install_bundle, run as in_venv

    venv = install_bundle(bundle, tmp_path)
    passed = in_venv(venv, "grader", "check", NAME, "--path", str(answers), cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"[ok] {NAME}" in passed.stdout
    failed = in_venv(venv, "grader", "check", NAME, "--path", str(wrong), cwd=tmp_path)
    assert failed.returncode == 1
    assert "only ever rises" in failed.stdout, failed.stdout


@pytest.mark.parametrize("change, words", [
    (("EXERCISE = Exercise(", "OTHER = Exercise("), "declares no EXERCISE"),
    (('assignment="extras"', 'assignment="Extras!"'), "is not a lowercase name"),
    (('Function("softplus", ("x",)', 'Function("sigmoid", ("x",)'),
     "function sigmoid is in both"),
    (("import numpy as np", "import numpy as np\nimport no_such_module"),
     "test_softplus.py does not import: ModuleNotFoundError"),
    (('"softplus-grad-sign", "softplus_grad"', '"softplus-grad-sign", "softplus_gradient"'),
     "not a Mistake of one of"),
])
def test_a_malformed_exercise_is_one_line_naming_it(course, tmp_path, change, words):
    """Does a declaration the grader cannot read stop every command with one line that
    says what is wrong, and where?"""
    broken = tmp_path / "broken"
    for part in ("solutions", "autotests", "exercises"):
        shutil.copytree(course / part, broken / part, ignore=shutil.ignore_patterns("__pycache__"))
    path = broken / "autotests" / f"test_{NAME}.py"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(*change), encoding="utf-8")
    done = run("grade", str(broken / "solutions"), "--out", str(tmp_path / "reports"),
               cwd=broken, path=broken)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("grader: the course is malformed: ") and words in lines[0]
