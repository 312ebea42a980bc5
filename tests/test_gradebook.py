"""The gradebook: one CSV row per student from a folder of reports, or one clear line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import contract
from grader.cli import main
from grader.grading import runner
from grader.reports import gradebook, results, store

# The course's first assignment: what grading grades by default.
EXERCISES = contract.exercises("backprop")
EXERCISE_NAMES = contract.exercise_names("backprop")
MAX_SCORE = contract.max_score("backprop")


def graded(submission_id: str, lost: dict[str, float] | None = None) -> results.SubmissionReport:
    """A report where each exercise has a passed test and a failed one worth ``lost`` points."""
    lost = lost or {}
    exercises = []
    for exercise in EXERCISES:
        missed = lost.get(exercise.name, 0)
        tests = (results.TestResult("test_kept", "passed", exercise.points - missed, "visible"),
                 results.TestResult("test_lost", "passed" if not missed else "failed", missed,
                                    "hidden"))
        exercises.append(results.ExerciseResult(exercise.name, exercise.points, tests))
    return results.SubmissionReport(
        submission=results.SubmissionInfo(submission_id, f"/submissions/{submission_id}", "0" * 64),
        exercises=tuple(exercises), grader=runner.grader_info(),
        isolation=runner.Options().isolation_report(), duration_s=0.5)


def not_graded(submission_id: str) -> results.SubmissionReport:
    return runner.failed_report(Path(f"/submissions/{submission_id}"), "no exercise module",
                                runner.Options(), submission_id=submission_id)


@pytest.fixture
def reports(tmp_path_factory) -> Path:
    # Not under tmp_path: the suite checks that every report there is valid, and some of
    # these tests put broken ones next to the good.
    folder = tmp_path_factory.mktemp("reports")
    for report in (graded("zoe"), graded("carol", {"mse": 6, "dense": 2.5}), not_graded("bob"),
                   graded("alice")):
        store.write(report, folder)
    return folder


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_row_per_student_sorted_by_id(reports, tmp_path):
    """Does the CSV hold id, one column per exercise, total, max and status, sorted by id?"""
    out = tmp_path / "grades.csv"
    result = CliRunner().invoke(main, ["gradebook", str(reports), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(["id", *EXERCISE_NAMES, "total", "max", "status"])
    rows = read_csv(text)
    assert [r["id"] for r in rows] == ["alice", "bob", "carol", "zoe"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["alice"]["total"] == by_id["zoe"]["total"] == "100"
    assert by_id["carol"]["mse"] == "4" and by_id["carol"]["dense"] == "22.5"
    assert by_id["carol"]["total"] == "91.5" and by_id["carol"]["max"] == "100"
    assert by_id["carol"]["status"] == "graded"


def test_a_submission_that_was_not_graded_counts_zero_of_the_course_maximum(reports):
    """Is a failed report a row with empty exercise cells, 0 of 100, status failed?"""
    rows = {r["id"]: r for r in gradebook.build(reports).rows}
    assert rows["bob"] == {"id": "bob", **{name: "" for name in EXERCISE_NAMES}, "total": "0",
                           "max": f"{MAX_SCORE:g}", "status": "failed"}


def test_the_columns_are_the_exercises_of_the_assignment_graded(tmp_path):
    """Do reports of the second assignment give its exercises as columns and its maximum,
    and a folder of failed reports only the first assignment's?"""
    second = contract.assignments()[1]
    names = contract.exercise_names(second)
    tests = (results.TestResult("test_kept", "passed", 1, "visible"),)
    report = results.SubmissionReport(
        submission=results.SubmissionInfo("ann", "/submissions/ann", "0" * 64),
        exercises=tuple(results.ExerciseResult(name, 1, tests) for name in names),
        grader=runner.grader_info(), isolation=runner.Options().isolation_report(),
        duration_s=0.5)
    second_folder, failed_folder = tmp_path / "second", tmp_path / "failed"
    second_folder.mkdir()
    failed_folder.mkdir()
    store.write(report, second_folder)
    store.write(not_graded("bob"), failed_folder)
    book = gradebook.build(second_folder)
    assert book.exercises == names and book.max_score == contract.max_score(second)
    assert book.rows[0]["total"] == f"{len(names)}" and book.rows[0]["max"] == f"{len(names)}"
    failed = gradebook.build(failed_folder)
    assert failed.exercises == EXERCISE_NAMES and failed.rows[0]["max"] == f"{MAX_SCORE:g}"


def test_dash_writes_to_stdout(reports):
    """Does -o - print the same CSV on stdout, and nothing else?"""
    result = CliRunner().invoke(main, ["gradebook", str(reports), "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout == gradebook.to_csv(gradebook.build(reports))
    assert len(read_csv(result.stdout)) == 4


@pytest.mark.parametrize("case, exit_code, words", [
    ("missing", 2, "no such file or directory"),
    ("empty", 2, "holds no report"),
    ("invalid", 1, "invalid report"),
    ("not_json", 1, "not JSON"),
    ("duplicate", 1, "two reports for 'alice'"),
])
def test_bad_input_is_one_line_and_an_exit_code(case, exit_code, words, reports, tmp_path):
    """Do a missing folder, no reports, an invalid report and a duplicate id each give one line?"""
    folder = {"missing": tmp_path / "nowhere", "empty": tmp_path / "empty"}.get(case, reports)
    if case == "empty":
        folder.mkdir()
    if case == "invalid":
        (reports / "broken.json").write_text(json.dumps({"score": 3}), encoding="utf-8")
    if case == "not_json":
        (reports / "broken.json").write_text("{", encoding="utf-8")
    if case == "duplicate":
        (reports / "alice-again.json").write_text((reports / "alice.json").read_text("utf-8"),
                                                  encoding="utf-8")
    result = CliRunner().invoke(main, ["gradebook", str(folder), "-o", str(tmp_path / "g.csv")])
    assert result.exit_code == exit_code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: ") and words in lines[0], lines
    assert "Traceback" not in result.output
    assert not (tmp_path / "g.csv").exists()


def test_temporary_files_of_a_writer_are_not_reports(reports):
    """Is a report writer's leftover .tmp file, or a hidden file, left out of the gradebook?"""
    (reports / ".alice.json.x1.tmp").write_text("{", encoding="utf-8")
    (reports / ".hidden.json").write_text("{", encoding="utf-8")
    assert len(gradebook.build(reports).rows) == 4
