"""nbgrader from the single source: the notebooks, real nbgrader on them, the same scores.

The course is built once per session (``shared_course``) and used here and in
test_gradescope.py: ``grader nbgrader``, then nbgrader's own ``generate_assignment``,
three students' submissions made from the release, ``autograde`` and ``export``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader import contract
from grader.course import notebook_runtime, notebooks
from grader.course.stubs import clear_solutions
from grader.grading.module_source import notebook_source
from grader.sandbox.limits import Limits
from tests.conftest import ROOT, reference_sources

# The course's first assignment: what grading grades by default.
EXERCISES = contract.exercises("backprop")
EXERCISE_NAMES = contract.exercise_names("backprop")
MAX_SCORE = contract.max_score("backprop")

POINTS = {e.name: e.points for e in EXERCISES}
ASSIGNMENT = "backprop"
STUDENTS = ("alice", "bob", "carol")  # the reference; the release as it was; one mistake
MISSING_FACTOR_2 = ("return 2.0 * (y_pred - y_true) / y_pred.size",
                    "return (y_pred - y_true) / y_pred.size")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def expected_scores() -> dict[str, dict[str, float]]:
    """Per student and exercise: carol loses exactly the mse tests that check mse_grad."""
    lost = sum(t.points for t in notebook_runtime.collect("mse") if "mse_grad" in t.name)
    return {"alice": dict(POINTS), "bob": {name: 0 for name in POINTS},
            "carol": {**POINTS, "mse": POINTS["mse"] - lost}}


# -- the shared course ------------------------------------------------------------------


@dataclass(frozen=True)
class Course:
    root: Path
    grades: dict[str, float]                      # nbgrader export's grades.csv: score
    notebook_scores: dict[str, dict[str, float]]  # nbgrader's gradebook, per notebook

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"


def nbgrader_env() -> dict[str, str]:
    """nbgrader's subprocesses (alembic, the kernel) from this interpreter's environment."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def run_nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stderr[-4000:]}"
    return done


def answer_index(notebook: dict) -> int:
    return next(i for i, cell in enumerate(notebook["cells"])
                if cell["metadata"].get("nbgrader", {}).get("solution"))


def reference_answer(exercise: str) -> str:
    """What a student who wrote the reference puts in the answer cell."""
    _, code = notebooks.split_docstring(reference_sources()[exercise])
    return "".join(line for line in code.splitlines(keepends=True)
                   if line.strip() not in MARKERS)


def make_submissions(course: Path) -> None:
    """submitted/<student>/backprop/*.ipynb, each made from the released notebook."""
    for student in STUDENTS:
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for released in sorted((course / "release" / ASSIGNMENT).glob("*.ipynb")):
            notebook = json.loads(released.read_text(encoding="utf-8"))
            if student != "bob":
                code = reference_answer(released.stem)
                if student == "carol" and released.stem == "mse":
                    assert MISSING_FACTOR_2[0] in code
                    code = code.replace(*MISSING_FACTOR_2)
                notebook["cells"][answer_index(notebook)]["source"] = code
            (folder / released.name).write_text(json.dumps(notebook), encoding="utf-8")


def _read_course(root: Path) -> Course:
    from nbgrader.api import Gradebook

    with open(root / "grades.csv", newline="", encoding="utf-8") as stream:
        grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as book:
        scores = {student: {name: book.find_submission_notebook(name, ASSIGNMENT, student).score
                            for name in EXERCISE_NAMES} for student in STUDENTS}
    return Course(root, grades, scores)


def shared_course(tmp_path_factory) -> Course:
    """The course, built once per test session whichever module asks first."""
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install '.[test]')")
    root = tmp_path_factory.getbasetemp() / "nbgrader-course"
    built = root / ".built"
    if not built.exists():
        shutil.rmtree(root, ignore_errors=True)
        result = CliRunner().invoke(main, ["nbgrader", str(root)])
        assert result.exit_code == 0, result.output
        run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
        make_submissions(root)
        run_nbgrader(root, "autograde", ASSIGNMENT, "--force")
        run_nbgrader(root, "export")
        built.write_text("ok\n", encoding="utf-8")
    return _read_course(root)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    return shared_course(tmp_path_factory)


# -- the source notebooks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("source-course")
    notebooks.write_course(root)
    return {name: json.loads((root / "source" / ASSIGNMENT / f"{name}.ipynb").read_text("utf-8"))
            for name in EXERCISE_NAMES}


def nbgrader_meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def test_every_cell_has_valid_nbgrader_v3_metadata(source):
    """Does nbgrader's own validator accept every notebook, with schema_version 3 on every cell?"""
    pytest.importorskip("nbgrader")
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator

    for name, data in source.items():
        notebook = nbformat.from_dict(data)
        nbformat.validate(notebook)
        MetadataValidator().validate_nb(notebook)
        for cell in data["cells"]:
            meta = nbgrader_meta(cell)
            assert meta["schema_version"] == 3, (name, cell["id"])
            assert set(meta) >= {"grade", "grade_id", "locked", "solution"}


def test_one_test_cell_per_autotest_with_its_points(source):
    """Is there one grade cell per autotest, grade_id its name, points its marker, totals right?"""
    for name, data in source.items():
        tests = notebook_runtime.collect(name)
        cells = [c for c in data["cells"] if nbgrader_meta(c).get("grade")]
        assert [nbgrader_meta(c)["grade_id"] for c in cells] == [t.name for t in tests]
        assert [nbgrader_meta(c)["points"] for c in cells] == [t.points for t in tests]
        assert all(nbgrader_meta(c)["locked"] and not nbgrader_meta(c)["solution"] for c in cells)
        assert sum(nbgrader_meta(c)["points"] for c in cells) == POINTS[name]
        for cell, test in zip(cells, tests, strict=True):
            text = "".join(cell["source"])
            assert f"run({test.nodeid!r}, globals())" in text
            if test.hidden:
                # The whole of a hidden test, even its question, inside the markers.
                head, _, rest = text.partition("### BEGIN HIDDEN TESTS\n")
                inside, _, tail = rest.partition("### END HIDDEN TESTS\n")
                assert test.name not in head and test.question not in head and not tail.strip()
                assert "notebook_runtime" in inside
            else:
                assert "HIDDEN" not in text


def test_the_answer_cell_is_the_solutions_module_without_its_docstring(source):
    """Is the answer cell the reference module minus its docstring, and the docstring markdown?"""
    for name, data in source.items():
        docstring, code = notebooks.split_docstring(reference_sources()[name])
        answer = data["cells"][answer_index(data)]
        assert nbgrader_meta(answer) == {"grade": False, "grade_id": f"{name}_answer",
                                         "locked": False, "schema_version": 3, "solution": True}
        assert "".join(answer["source"]) == code
        assert code.lstrip().startswith(("import", "from")) and '"""' not in code.split("def")[0]
        explanation = "".join(data["cells"][0]["source"])
        assert data["cells"][0]["cell_type"] == "markdown"
        assert docstring.partition("\n")[2].strip() in explanation


def test_autotests_are_collected_as_the_grader_collects_them():
    """Do node ids, points and hidden markers match what pytest collects for the grader?"""
    import pytest as pytest_module

    from grader.grading import runner

    class Collect:
        items: list = []

        def pytest_collection_finish(self, session):
            Collect.items = [(item.nodeid, float(item.get_closest_marker("points").args[0]),
                              item.get_closest_marker("hidden") is not None)
                             for item in session.items]

    code = pytest_module.main([*runner.pytest_args(runner.Options()), "--collect-only"],
                              plugins=[Collect()])
    assert code == 0
    ours = [(t.nodeid, t.points, t.hidden) for name in contract.exercise_names()
            for t in notebook_runtime.collect(name)]
    assert sorted(ours) == sorted(Collect.items)


def test_an_existing_nbgrader_config_is_kept(tmp_path):
    """Is a course's own nbgrader_config.py left alone, and a minimal one written otherwise?"""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n# ours\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["nbgrader", str(tmp_path), "--assignment", "backprop",
                                       "--name", "week3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nbgrader_config.py").read_text(encoding="utf-8").endswith("# ours\n")
    assert len(list((tmp_path / "source" / "week3").glob("*.ipynb"))) == len(EXERCISES)
    fresh = tmp_path / "fresh"
    assert CliRunner().invoke(main, ["nbgrader", str(fresh)]).exit_code == 0
    assert "c.CourseDirectory.root" in (fresh / "nbgrader_config.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("assignment", ["", "../up", "a/b", ".hidden"])
def test_a_bad_assignment_name_is_one_line(assignment, tmp_path):
    """Is an assignment name nbgrader cannot use refused with one line and exit code 2?"""
    result = CliRunner().invoke(main, ["nbgrader", str(tmp_path), "--assignment", assignment])
    assert result.exit_code == 2
    assert result.stderr.startswith("grader: ") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "source").exists()


# -- the runtime: the same verdict as the grader ---------------------------------------

MISTAKES = {
    "sigmoid": "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(z))",
    "mse": ("def mse_grad(y_true, y_pred):\n    return (y_pred - y_true) / y_pred.size\n\n"
            "def mse_loss(y_true, y_pred):\n    print('loss of', len(y_true))\n"
            "    y_pred -= 0\n    return _right_mse_loss(y_true, y_pred)"),
    "dense": ("def dense_backward(dh, cache):\n    dx, dW, db = _right(dh, cache)\n"
              "    return dx, dW, db * 0 + dh.sum(axis=1)[:1]"),
    "cross_entropy": "def bce_grad(y_true, logits):\n    return sigmoid(logits) - y_true",
    "chain_rule": "def graph_forward(x):\n    raise ValueError('not today')",
    "training": ("def sgd_step(params, grads, lr):\n"
                 "    params['W1'] = params['W1'] + 0.0\n"
                 "    return {k: v + lr * grads[k] for k, v in params.items()}\n\n"
                 "def init_params(n_inputs, n_hidden, seed=0):\n    return object()"),
}


def mistaken_sources() -> dict[str, str]:
    sources = reference_sources()
    for module, definition in MISTAKES.items():
        first = definition.split("(")[0].removeprefix("def ")
        sources[module] += (f"\n\n_right = {first}\n"
                            + ("_right_mse_loss = mse_loss\n" if module == "mse" else "")
                            + definition + "\n")
    return sources


def namespace(source: str) -> dict:
    """What a notebook's kernel holds after running an answer cell with ``source``."""
    scope: dict = {"__name__": "__main__"}
    exec(compile(source, "<answer cell>", "exec"), scope)
    return scope


def test_the_runtime_gives_the_graders_verdict_test_by_test(grade, make_submission):
    """Are status, score, message, hint, mistake and printed output the grader's, per test?"""
    sources = mistaken_sources()
    report = grade([make_submission("mistakes", sources)])["mistakes"]
    graded = {t["name"]: t for e in report["exercises"] for t in e["tests"]}
    statuses = set()
    for name in EXERCISE_NAMES:
        scope = namespace(sources[name])
        for test in notebook_runtime.collect(name):
            ours = notebook_runtime.run_test(test.nodeid, scope)
            theirs = graded[test.name]
            statuses.add(ours.status)
            assert (ours.status, ours.score, ours.message, ours.hint, ours.misconception) == (
                theirs["status"], theirs["score"], theirs["message"], theirs["hint"],
                theirs["misconception"]), test.nodeid
            assert ours.details.get("output") == theirs["details"].get("output"), test.nodeid
            assert ours.details.get("warnings") == theirs["details"].get("warnings"), test.nodeid
    assert {"passed", "failed", "error"} <= statuses
    assert 0 < report["score"] < MAX_SCORE


def test_the_runtime_on_the_stubs_says_not_implemented():
    """Does every test of the released stubs say 'not implemented' and earn 0?"""
    for name in EXERCISE_NAMES:
        scope = namespace((ROOT / "exercises" / f"{name}.py").read_text(encoding="utf-8"))
        for test in notebook_runtime.collect(name):
            result = notebook_runtime.run_test(test.nodeid, scope)
            assert (result.status, result.score) == ("not_implemented", 0.0), test.nodeid


def test_a_missing_function_and_a_hang_are_reported_like_the_worker_does():
    """Is a function the notebook never defined 'missing', and a hang a 'timeout'?"""
    scope = namespace(reference_sources()["mse"])
    del scope["mse_grad"]
    missing = notebook_runtime.run_test("test_mse.py::test_mse_grad_matches_reference", scope)
    assert (missing.status, missing.message) == ("missing", "mse.py defines no function mse_grad")
    scope = namespace(reference_sources()["mse"] + "\ndef mse_loss(y_true, y_pred):\n"
                      "    while True:\n        pass\n")
    hung = notebook_runtime.run_test("test_mse.py::test_mse_loss_worked_example", scope,
                                     Limits(wall_seconds=0.3))
    assert hung.status == "timeout" and "0.3 s" in hung.message


def test_a_test_cell_prints_to_stdout_only_and_ends_with_its_points(capsys):
    """Does run() print the verdict, message and hint on stdout, none on
    stderr, and return points?"""
    scope = namespace(reference_sources()["mse"].replace(*MISSING_FACTOR_2))
    earned = notebook_runtime.run("test_mse.py::test_mse_grad_matches_reference", scope)
    out, err = capsys.readouterr()
    assert earned == 0.0 and type(earned) is float
    assert err == ""
    assert out.startswith("test_mse_grad_matches_reference (hidden test): failed, 0/3 points")
    assert "hint: " in out
    earned = notebook_runtime.run("test_mse.py::test_mse_loss_worked_example", scope)
    assert earned == 2.0 and "passed, 2/2 points" in capsys.readouterr().out


# -- reading submitted notebooks -------------------------------------------------------


def test_grading_a_notebook_leaves_its_test_cells_out(source):
    """Are nbgrader's test cells dropped from the student's code, and the rest kept?"""
    data = dict(source["mse"])
    data["cells"] = data["cells"] + [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "scratch = mse_loss\n%timeit mse_loss(1, 2)\n"},
        {"cell_type": "code", "metadata": {"nbgrader": "not a dict"}, "outputs": [],
         "execution_count": None, "source": "also_kept = 1\n"}]
    code = notebook_source(json.dumps(data).encode())
    assert "notebook_runtime" not in code and "run(" not in code
    assert "def mse_grad" in code and "scratch = mse_loss" in code and "also_kept = 1" in code
    assert "%timeit" not in code


# -- real nbgrader -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_release_has_no_solution_and_no_hidden_test(course):
    """After generate_assignment, are the answer cells the stubs, and no hidden test left?"""
    for name in EXERCISE_NAMES:
        released = course.root / "release" / ASSIGNMENT / f"{name}.ipynb"
        text = released.read_text(encoding="utf-8")
        data = json.loads(text)
        _, code = notebooks.split_docstring(reference_sources()[name])
        answer = "".join(data["cells"][answer_index(data)]["source"]).rstrip("\n")
        assert answer == clear_solutions(code).rstrip("\n")
        assert answer == notebooks.split_docstring(
            (ROOT / "exercises" / f"{name}.py").read_text(encoding="utf-8"))[1].rstrip("\n")
        # Every line of a solution region that the notebook does not also say elsewhere
        # (the explanation spells out d = b + c, for one) is gone from every cell.
        source = json.loads((course.root / "source" / ASSIGNMENT / f"{name}.ipynb")
                            .read_text(encoding="utf-8"))
        elsewhere = "\n".join("".join(cell["source"]) for i, cell in enumerate(source["cells"])
                              if i != answer_index(source))
        solution_lines = {line.strip() for line in code.splitlines()} - {
            line.strip() for line in clear_solutions(code).splitlines()}
        distinctive = {line for line in solution_lines
                       if line and "###" not in line and line not in elsewhere}
        released_cells = "\n".join("".join(cell["source"]) for cell in data["cells"])
        assert distinctive and not any(line in released_cells for line in distinctive), name
        for test in notebook_runtime.collect(name):
            if test.hidden:
                assert test.name in text  # the grade_id stays: nbgrader needs it
                assert test.nodeid not in text and test.question not in text
        assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


@pytest.mark.slow
def test_nbgrader_gives_100_0_and_the_partial_score(course):
    """Does nbgrader's export give the reference 100, the release 0, the mistake its share?"""
    expected = expected_scores()
    assert course.grades == {student: float(sum(expected[student].values()))
                             for student in STUDENTS}
    assert course.grades["carol"] == 94.0
    assert course.notebook_scores == {s: {k: float(v) for k, v in expected[s].items()}
                                      for s in STUDENTS}


@pytest.mark.slow
def test_grader_grade_agrees_with_nbgrader_exercise_by_exercise(course, tmp_path):
    """Does `grader grade submitted/` give each student nbgrader's points, exercise by exercise?"""
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["grade", str(course.submitted), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for student in STUDENTS:
        report = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        assert report["submission"]["id"] == student
        assert {e["name"]: e["score"] for e in report["exercises"]} == \
            course.notebook_scores[student], student
        assert report["score"] == course.grades[student]


@pytest.mark.slow
def test_feedback_is_generated_with_the_messages_and_hints(course):
    """Does nbgrader generate_feedback run, and show carol the hint for her missing factor 2?"""
    run_nbgrader(course.root, "generate_feedback", ASSIGNMENT, "--force")
    feedback = course.root / "feedback" / "carol" / ASSIGNMENT
    assert sorted(p.stem for p in feedback.glob("*.html")) == sorted(EXERCISE_NAMES)
    page = (feedback / "mse.html").read_text(encoding="utf-8")
    assert "test_mse_grad_matches_reference (hidden test): failed, 0/3 points" in page
    assert "factor 2" in page


@pytest.mark.slow
def test_the_second_assignment_builds_on_sibling_notebooks(tmp_path):
    """Does nbgrader grade the networks assignment, whose mlp notebook uses the student's
    own softmax and activations notebooks: full marks for the reference, 0 for the
    release, and the same scores from ``grader grade``?"""
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install '.[test]')")
    second = contract.assignments()[1]
    root = tmp_path / "course"
    result = CliRunner().invoke(main, ["nbgrader", str(root), "--assignment", second])
    assert result.exit_code == 0, result.output
    run_nbgrader(root, "generate_assignment", second, "--force")
    for student in ("alice", "bob"):
        folder = root / "submitted" / student / second
        folder.mkdir(parents=True)
        for released in sorted((root / "release" / second).glob("*.ipynb")):
            notebook = json.loads(released.read_text(encoding="utf-8"))
            if student == "alice":
                answer = notebooks.with_sibling_imports(reference_answer(released.stem))
                notebook["cells"][answer_index(notebook)]["source"] = answer
            (folder / released.name).write_text(json.dumps(notebook), encoding="utf-8")
    run_nbgrader(root, "autograde", second, "--force")
    from nbgrader.api import Gradebook

    names = contract.exercise_names(second)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as book:
        scores = {student: {name: book.find_submission_notebook(name, second, student).score
                            for name in names} for student in ("alice", "bob")}
    points = {e.name: float(e.points) for e in contract.exercises(second)}
    assert scores == {"alice": points, "bob": {name: 0.0 for name in names}}
    out = tmp_path / "reports"
    graded = CliRunner().invoke(main, ["grade", str(root / "submitted"), "--out", str(out),
                                       "--assignment", second])
    assert graded.exit_code == 0, graded.output
    for student in ("alice", "bob"):
        report = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        assert {e["name"]: e["score"] for e in report["exercises"]} == scores[student]
