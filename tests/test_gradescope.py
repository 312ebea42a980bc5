"""Gradescope: results.json in Gradescope's documented format, and the autograder
zip run for real."""

from __future__ import annotations

import io
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

import grader
from grader.cli import main
from grader import contract
from grader.course import gradescope
from grader.grading import runner
from grader.sandbox import isolation as sandbox
from tests.conftest import EXAMPLES, ROOT, reference_sources
from tests.test_loading import notebook
from tests.test_nbgrader import ASSIGNMENT, STUDENTS, shared_course

# The course's first assignment: what grading grades by default.
EXERCISE_NAMES = contract.exercise_names("backprop")
MAX_SCORE = contract.max_score("backprop")

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
    summaries = runner.grade(paths, out, runner.Options(exercises=EXERCISE_NAMES))
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


def test_the_zip_holds_the_two_scripts_and_the_graders_wheel(bundle):
    """Are setup.sh and an executable run_autograder at the root, with the wheel setup.sh
    installs, and nothing of a checkout?"""
    wheel_name = f"backprop_lab-{grader.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert list(infos) == ["setup.sh", "run_autograder", wheel_name]
        for script in ("setup.sh", "run_autograder"):
            mode = infos[script].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111, script
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        run_autograder = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
        with zipfile.ZipFile(io.BytesIO(archive.read(wheel_name))) as packed:
            names = set(packed.namelist())
    assert "AUTOGRADER_ROOT" in run_autograder and "after_published" in run_autograder
    assert f'pip install --no-cache-dir "$SOURCE/{wheel_name}"' in setup
    assert {"grader/cli/__init__.py", "grader/reports/schemas/report.schema.json",
            "exercises/provided.py", "autotests/pytest.ini"} <= names
    assert {f"solutions/{name}.py" for name in EXERCISE_NAMES} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") or n.startswith("tests/")
                   or n in ("pyproject.toml", "README.md") for n in names)


def test_the_scripts_are_valid_bash(bundle, tmp_path):
    """Does bash parse setup.sh and run_autograder?"""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr


def test_a_project_that_is_no_checkout_is_one_line(tmp_path):
    """Is --project (the override of the installed grader) pointing at a folder without the
    packages refused in one line, exit 2?"""
    result = CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.zip"),
                                       "--project", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"grader: {tmp_path}: not a backprop-lab checkout")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "a.zip").exists()


def test_the_project_override_bundles_that_checkouts_packages(tmp_path):
    """Does --project bundle the checkout it names, with that checkout's version?"""
    project = tmp_path / "checkout"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
        "tests", "mutants", "examples", ".*", "__pycache__", "*.egg-info", "build"))
    init = project / "grader" / "__init__.py"
    init.write_text(init.read_text("utf-8").replace(grader.__version__, "9.9.9"), "utf-8")
    (project / "solutions" / "extra_module.py").write_text("X = 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.zip"),
                                       "--project", str(project)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert "backprop_lab-9.9.9-py3-none-any.whl" in archive.namelist()
        packed = zipfile.ZipFile(io.BytesIO(archive.read("backprop_lab-9.9.9-py3-none-any.whl")))
    assert "solutions/extra_module.py" in packed.namelist()
    assert "Version: 9.9.9\n" in packed.read("backprop_lab-9.9.9.dist-info/METADATA").decode()


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
    # Never apt-get on the machine running the tests: setup.sh finds bwrap, or says it lacks it.
    env.update(AUTOGRADER_ROOT=str(root), PYTHON=sys.executable, AUTOGRADER_NO_APT="1")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stderr[-4000:]
    # The build log says whether bubblewrap is there and which isolation submissions get.
    assert "setup.sh: bubblewrap" in setup.stdout, setup.stdout[-4000:]
    assert "grader: isolation: " in setup.stdout, setup.stdout[-4000:]
    if sandbox.bwrap_works() is None:
        assert "isolation: bubblewrap;" in setup.stdout and "checked:" in setup.stdout
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


def test_setup_installs_bubblewrap_and_says_which_isolation_submissions_get(bundle, tmp_path):
    """Does setup.sh install bubblewrap with apt-get where it can (tolerating a failure),
    then run the isolation check with the flags run_autograder uses?"""
    with zipfile.ZipFile(bundle) as archive:
        setup = archive.read("setup.sh").decode()
        run_autograder = archive.read("run_autograder").decode()
    assert "apt_install bubblewrap" in setup and "command -v bwrap" in setup
    assert "AUTOGRADER_NO_APT" in setup
    check = next(line for line in setup.splitlines() if "--check-isolation" in line)
    assert check.startswith("if ! ")  # a failed check warns in the build log, never fails it
    assert "--isolation auto" in check and "--isolation auto" in run_autograder
    assert "--accept-weak-isolation" not in setup + run_autograder
    consenting = tmp_path / "weak.zip"
    result = CliRunner().invoke(main, ["gradescope", str(consenting), "--isolation", "basic",
                                       "--accept-weak-isolation"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(consenting) as archive:
        for script in ("setup.sh", "run_autograder"):
            text = archive.read(script).decode()
            assert "--isolation basic --accept-weak-isolation" in text, script


def test_the_isolation_check_proves_itself_on_the_reference():
    """Does ``gradescope-run --check-isolation`` say which isolation it found, having graded
    the reference's public sigmoid tests in a worker with those walls, and exit 0?"""
    result = CliRunner().invoke(main, ["gradescope-run", "--check-isolation"])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.startswith("grader: isolation: ") and "kernel walls: " in line, line
    assert "checked: the reference passed" in line, line
    expected = "bubblewrap;" if sandbox.bwrap_works() is None else "basic (no namespaces);"
    assert expected in line


# -- run_autograder on Gradescope's layout -----------------------------------------------

BOB = EXAMPLES / "bob_mistakes"


def gradescope_layout(root: Path, kind: str) -> Path:
    """``root/submission`` as Gradescope fills it, with bob's work in one of its shapes."""
    submission = root / "submission"
    submission.mkdir(parents=True)
    files = sorted(BOB.glob("*.py"))
    if kind == "folder":  # the student uploaded a folder
        (submission / "backprop").mkdir()
        for path in files:
            shutil.copy(path, submission / "backprop" / path.name)
    elif kind == "py files":
        for path in files:
            shutil.copy(path, submission / path.name)
    elif kind == "notebooks":
        for path in files:
            (submission / f"{path.stem}.ipynb").write_text(
                notebook(("markdown", f"# {path.stem}"), ("code", path.read_text("utf-8"))),
                encoding="utf-8")
    elif kind == "zip":
        with zipfile.ZipFile(submission / "my work.zip", "w") as archive:
            for path in files:
                archive.write(path, f"exercises/{path.name}")
        (submission / "README.txt").write_text("not graded\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def bob_graded(tmp_path_factory) -> dict:
    """Bob's report as ``grader grade`` gives it."""
    out = tmp_path_factory.mktemp("bob-graded") / "reports"
    result = CliRunner().invoke(main, ["grade", str(BOB), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "bob_mistakes.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", ["folder", "py files", "notebooks", "zip"])
def test_run_autograder_grades_each_shape_of_submission_as_grade_does(kind, bob_graded,
                                                                      tmp_path):
    """In an /autograder layout under AUTOGRADER_ROOT, does run_autograder's command grade a
    folder, loose .py files, notebooks and a zip exactly as ``grader grade`` grades bob, and
    write a valid results.json that says the isolation in force only in extra_data?"""
    root = gradescope_layout(tmp_path / "autograder", kind)
    result = CliRunner().invoke(main, ["gradescope-run"], env={"AUTOGRADER_ROOT": str(root)})
    assert result.exit_code == 0, result.output
    data = gradescope.validate(json.loads((root / "results" / "results.json").read_text("utf-8")))
    assert data["score"] == bob_graded["score"] < MAX_SCORE
    expected = [(f"{e['name']}: {t['name']}", t["score"])
                for e in bob_graded["exercises"] for t in e["tests"]]
    assert [(t["name"], t["score"]) for t in data["tests"]] == expected
    facts = data["extra_data"]["isolation"]
    assert facts["mechanism"] == bob_graded["isolation"]["mechanism"]
    assert isinstance(facts["kernel_walls"], list) and facts["kernel_walls"]
    assert isinstance(facts["seccomp"], bool) and isinstance(facts["landlock"], bool)
    assert "kernel walls" not in data["output"] and "isolation" not in data["output"]
    assert result.stdout.startswith(f"graded: {bob_graded['score']:g}/100 points, isolation ")


def test_a_submission_folder_with_two_zips_and_nothing_else_is_not_graded(tmp_path):
    """Two zips and no exercise file: which one? Score 0 with the reason, as for an empty one."""
    root = tmp_path / "autograder"
    submission = root / "submission"
    submission.mkdir(parents=True)
    for name in ("a.zip", "b.zip"):
        with zipfile.ZipFile(submission / name, "w") as archive:
            archive.write(BOB / "mse.py", "mse.py")
    assert gradescope.submission_path(submission) == submission
    result = CliRunner().invoke(main, ["gradescope-run", "--root", str(root)])
    assert result.exit_code == 0, result.output
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["score"] == 0 and "holds no submission" in data["output"]


def test_without_a_kernel_wall_run_autograder_refuses_unless_the_bundle_consented(
        tmp_path, monkeypatch):
    """With neither bubblewrap nor Landlock (a locked-down Docker), is the submission refused
    in one line (exit 2, no results.json: Gradescope counts it the autograder's failure), and
    with --accept-weak-isolation graded with extra_data saying so and why?"""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: "bwrap cannot create namespaces (test)")
    monkeypatch.setattr(sandbox, "landlock_works", lambda: "no Landlock (test)")
    monkeypatch.setattr(sandbox, "_landlock_default", lambda: False)
    monkeypatch.setattr(sandbox, "_root", lambda: False)
    root = gradescope_layout(tmp_path / "autograder", "py files")
    refused = CliRunner().invoke(main, ["gradescope-run", "--root", str(root)])
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "--accept-weak-isolation" in refused.stderr
    assert not (root / "results" / "results.json").exists()
    check = CliRunner().invoke(main, ["gradescope-run", "--check-isolation"])
    assert check.exit_code == 1 and "would not be graded" in check.stdout
    consented = CliRunner().invoke(main, ["gradescope-run", "--root", str(root),
                                          "--accept-weak-isolation"], catch_exceptions=False)
    assert consented.exit_code == 0, consented.output
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    facts = data["extra_data"]["isolation"]
    assert isinstance(facts.pop("seccomp"), bool)
    assert facts == {"mechanism": "basic", "kernel_walls": [], "landlock": False,
                     "weaker_than_asked": "bwrap cannot create namespaces (test)",
                     "weak_isolation_accepted": True}
    assert "kernel walls: none" in consented.stdout and "accept-weak" in consented.stdout


def test_a_missing_root_is_one_line_and_exit_2(tmp_path):
    """Is --root naming no folder refused in one line, nothing created?"""
    result = CliRunner().invoke(main, ["gradescope-run", "--root", str(tmp_path / "nope")])
    assert result.exit_code == 2 and result.stderr.startswith("grader: ")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "nope").exists()


def test_the_zip_is_not_written_where_its_folder_is_missing(tmp_path):
    """Is ``grader gradescope missing/dir/out.zip`` one line, exit 2, no folder made?"""
    out = tmp_path / "missing" / "dir" / "out.zip"
    result = CliRunner().invoke(main, ["gradescope", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"grader: {out}: its folder {out.parent} does not exist; create it first or choose "
        "another place"]
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(sandbox.bwrap_works() is not None, reason="bubblewrap does not work here")
def test_the_isolation_check_catches_a_bubblewrap_that_only_half_works(monkeypatch):
    """Where bwrap starts but the grader's full command fails (Docker's masked /proc refuses
    ``--proc``), does the check, which runs the real worker, say so and exit 1?"""
    full = sandbox.bwrap_prefix

    def refused(root, numpy_dirs):
        bwrap, *rest = full(root, numpy_dirs)
        return [bwrap, "--no-such-bwrap-option", *rest]

    monkeypatch.setattr(sandbox, "bwrap_prefix", refused)
    result = CliRunner().invoke(main, ["gradescope-run", "--check-isolation"])
    assert result.exit_code == 1, result.output
    assert "isolation: bubblewrap;" in result.stdout
    assert "could not grade the reference" in result.stdout
