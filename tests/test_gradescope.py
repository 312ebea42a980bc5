"""Gradescope: results.json in Gradescope's documented format, and the autograder
zip run for real."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.contract import EXERCISE_NAMES, MAX_SCORE
from grader.course import gradescope
from grader.grading import runner
from tests.conftest import reference_sources
from tests.test_nbgrader import ASSIGNMENT, STUDENTS, shared_course

SECRET = "PRINTED-BY-THE-STUDENT"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """Reports of a correct submission and of one that prints and makes two mistakes."""
    base = tmp_path_factory.mktemp("gradescope-reports")
    sources = reference_sources()
    sources["mse"] += (f"\n\n_right = mse_grad\n\ndef mse_grad(y_true, y_pred):\n"
                       f"    print({SECRET!r})\n    return _right(y_true, y_pred) / 2\n")
    del sources["chain_rule"]
    paths = []
    for name, modules in (("right", reference_sources()), ("wrong", sources)):
        folder = base / "submissions" / name
        folder.mkdir(parents=True)
        for module, text in modules.items():
            (folder / f"{module}.py").write_text(text, encoding="utf-8")
        paths.append(folder)
    out = base / "reports"
    out.mkdir()
    summaries = runner.grade(paths, out, runner.Options())
    return {s.id: json.loads(Path(s.report_path).read_text(encoding="utf-8")) for s in summaries}


def test_every_test_becomes_a_gradescope_test(reports):
    """Does each report test map to name, score, max_score, status, output and visibility?"""
    report = reports["wrong"]
    data = gradescope.validate(gradescope.to_gradescope(report))
    tests = [(e["name"], t) for e in report["exercises"] for t in e["tests"]]
    assert len(data["tests"]) == len(tests)
    for ours, (exercise, theirs) in zip(data["tests"], tests, strict=True):
        assert ours["name"] == f"{exercise}: {theirs['name']}"
        assert (ours["score"], ours["max_score"]) == (theirs["score"], theirs["max_score"])
        assert ours["status"] == ("passed" if theirs["status"] == "passed" else "failed")
        assert ours["visibility"] == ("visible" if theirs["visibility"] == "visible"
                                      else "after_published")
        assert theirs["message"] in ours["output"] and theirs["hint"] in ours["output"]
        assert ours["extra_data"]["status"] == theirs["status"]
    assert data["score"] == report["score"] == sum(t["score"] for t in data["tests"])
    assert {t["extra_data"]["status"] for t in data["tests"]} >= {"passed", "failed", "missing"}
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 0
    assert f"{report['score']:g}/{report['max_score']:g}" in data["output"]


def test_what_the_student_printed_stays_out_of_results_json(reports):
    """Is the student's printed output in the report but nowhere in results.json?"""
    report = reports["wrong"]
    assert any(SECRET in t["details"].get("output", "")
               for e in report["exercises"] for t in e["tests"])
    assert SECRET not in json.dumps(gradescope.to_gradescope(report))


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "visible"])
def test_the_hidden_tests_visibility_can_be_chosen(reports, visibility):
    """Can the course choose when students see the hidden tests, public ones staying visible?"""
    data = gradescope.validate(gradescope.to_gradescope(reports["right"], visibility))
    seen = {t["visibility"] for t in data["tests"]}
    assert seen == {"visible"} if visibility == "visible" else seen == {"visible", visibility}
    assert data["score"] == MAX_SCORE


def test_a_submission_that_could_not_be_graded_scores_zero_with_the_reason(tmp_path):
    """Is a failed report a valid results.json: score 0, no tests, the reason in the output?"""
    report = runner.failed_report(tmp_path, "holds no exercise module", runner.Options())
    from grader.reports import store
    from grader.reports.results import to_dict

    data = gradescope.validate(gradescope.to_gradescope(store.validate(to_dict(report))))
    assert data["score"] == 0 and data["tests"] == []
    assert "holds no exercise module" in data["output"]


@pytest.mark.parametrize("change", [
    {"score": -1}, {"execution_time": 1.5}, {"visibility": "sometimes"}, {"surprise": 1},
    {"tests": [{"name": "t", "score": 1, "max_score": 1, "status": "error", "output": "",
                "visibility": "visible"}]},
])
def test_the_schema_holds_gradescope_to_its_documented_fields(reports, change):
    """Does the shipped schema refuse values and fields Gradescope does not document?"""
    data = {**gradescope.to_gradescope(reports["right"]), **change}
    with pytest.raises(gradescope.InvalidResults):
        gradescope.validate(data)


# -- the bundle --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_zip_holds_the_two_scripts_and_the_project_source(bundle):
    """Are setup.sh and an executable run_autograder at the root, with the installable source?"""
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        names = set(infos)
        for script in ("setup.sh", "run_autograder"):
            mode = infos[script].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111, script
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        run_autograder = archive.read("run_autograder").decode()
    assert "AUTOGRADER_ROOT" in run_autograder and "after_published" in run_autograder
    project = gradescope.PROJECT_DIR
    assert {f"{project}/pyproject.toml", f"{project}/README.md",
            f"{project}/grader/cli.py", f"{project}/grader/reports/schemas/report.schema.json",
            f"{project}/exercises/provided.py", f"{project}/autotests/pytest.ini"} <= names
    assert {f"{project}/solutions/{name}.py" for name in EXERCISE_NAMES} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_the_scripts_are_valid_bash(bundle, tmp_path):
    """Does bash parse setup.sh and run_autograder?"""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr


def test_no_project_source_is_one_line(tmp_path):
    """Is --project pointing at a folder without the source refused in one line, exit 2?"""
    result = CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.zip"),
                                       "--project", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("grader: no backprop-lab source found")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "a.zip").exists()


@pytest.mark.slow
def test_the_bundle_grades_the_nbgrader_students_as_nbgrader_does(bundle, tmp_path_factory):
    """Unzipped into an /autograder root, installed by setup.sh, does run_autograder write a
    valid results.json with nbgrader's totals for each of the three students?"""
    course = shared_course(tmp_path_factory)
    root = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    # Gradescope copies run_autograder to /autograder and runs it from there.
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(AUTOGRADER_ROOT=str(root), PYTHON=sys.executable)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stderr[-4000:]
    for student in STUDENTS:
        shutil.rmtree(root / "submission", ignore_errors=True)
        shutil.rmtree(root / "results", ignore_errors=True)
        shutil.copytree(course.submitted / student / ASSIGNMENT, root / "submission")
        (root / "results").mkdir()
        done = subprocess.run([str(root / "run_autograder")], env=env, cwd=root,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-4000:]
        data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        gradescope.validate(data)
        assert data["score"] == course.grades[student], student
        per_exercise = {name: sum(t["score"] for t in data["tests"] if t["tags"] == [name])
                        for name in EXERCISE_NAMES}
        assert per_exercise == course.notebook_scores[student], student
        assert "graded" in done.stdout and str(root / "source") not in data["output"]
