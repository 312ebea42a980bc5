"""Results: scores and statuses computed from the tests, and to_dict, the one serializer,
with a strict-JSON form for every value a student can return. Fast: no worker, no sandbox."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.reports import results
from grader.reports.results import (
    EXERCISE_STATUSES,
    SCHEMA_VERSION,
    ExerciseResult,
    GraderInfo,
    SubmissionInfo,
    SubmissionReport,
    to_dict,
)


def a_test(status: str, max_score: float = 1.0, name: str = "test_x",
           **kwargs) -> results.TestResult:
    return results.TestResult(name=name, status=status, max_score=max_score,
                              visibility="visible", **kwargs)


def an_exercise(*statuses: str, max_score: float | None = None, **kwargs) -> ExerciseResult:
    tests = tuple(a_test(status, name=f"test_{i}") for i, status in enumerate(statuses))
    return ExerciseResult(name="mse", max_score=len(tests) if max_score is None else max_score,
                          tests=tests, **kwargs)


def a_report(*exercises: ExerciseResult, **kwargs) -> SubmissionReport:
    return SubmissionReport(
        submission=SubmissionInfo(id="alice", path="/subs/alice", sha256="0" * 64),
        exercises=exercises, grader=GraderInfo(version="0.1.0", python="3.11.0", numpy="2.0.0"),
        isolation={"mechanism": "basic", "limits": {}}, duration_s=1.25, **kwargs)


# -- scores ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in results.TEST_STATUSES if s != "passed"])
def test_only_a_passed_test_scores(status):
    """Does a test earn its points when it passed, and nothing for any other status?"""
    assert a_test("passed", 2.5).score == 2.5
    assert a_test(status, 2.5).score == 0.0


def test_an_exercise_scores_the_sum_of_its_tests_rounded():
    """Is an exercise's score the sum of its passed tests' points, rounded so that thirds add
    up to a tidy number?"""
    third = 1 / 3
    tests = tuple(a_test("passed", third, name=f"t{i}") for i in range(3))
    exercise = ExerciseResult(name="dense", max_score=1.0, tests=tests)
    assert exercise.score == 1.0
    mixed = ExerciseResult(name="dense", max_score=1.3, tests=(
        a_test("passed", 0.1, name="a"), a_test("failed", 1.0, name="b"),
        a_test("passed", 0.2, name="c")))
    assert mixed.score == 0.3  # not 0.30000000000000004


def test_a_submission_scores_the_sum_of_its_exercises():
    """Are a submission's score and max_score the sums over its exercises, rounded?"""
    tenth = ExerciseResult(name="sigmoid", max_score=0.1, tests=(a_test("passed", 0.1),))
    fifth = ExerciseResult(name="dense", max_score=0.2, tests=(a_test("passed", 0.2),))
    report = a_report(tenth, fifth, an_exercise("failed", "failed"))
    assert report.score == 0.3  # not 0.30000000000000004
    assert report.max_score == 2.3
    assert a_report().score == 0.0 and a_report().max_score == 0.0


# -- statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize("statuses, expected", [
    (("passed", "passed"), "passed"),
    (("passed", "failed"), "partial"),
    (("failed", "passed", "timeout"), "partial"),
    (("passed", "not_implemented"), "partial"),
    (("failed", "failed"), "failed"),
    (("failed", "error", "crashed", "timeout"), "failed"),
    (("not_implemented", "failed"), "failed"),
    (("missing", "failed"), "failed"),
    (("missing", "not_implemented"), "failed"),
    (("missing", "missing"), "missing"),
    (("not_implemented", "not_implemented"), "not_implemented"),
    (("passed",), "passed"),
    ((), "failed"),
])
def test_an_exercise_status_follows_its_tests(statuses, expected):
    """Is an exercise passed when all its tests passed, partial when some points were earned,
    missing or not implemented when every test says so, and failed otherwise?"""
    exercise = an_exercise(*statuses)
    assert exercise.status == expected
    assert exercise.status in EXERCISE_STATUSES


def test_partial_needs_points_not_just_a_passed_test():
    """Is an exercise whose only passed test is worth 0 points failed, not partial?"""
    exercise = ExerciseResult(name="mse", max_score=1.0, tests=(
        a_test("passed", 0.0, name="free"), a_test("failed", 1.0, name="real")))
    assert exercise.status == "failed"


@pytest.mark.parametrize("error, status", [(None, "graded"), ("no module found", "failed")])
def test_a_submission_is_failed_only_when_it_could_not_be_graded(error, status):
    """Is a submission "graded" however low its score, and "failed" only when it carries an
    error?"""
    assert a_report(an_exercise("failed"), error=error).status == status


# -- to_dict --------------------------------------------------------------------------------


def test_a_report_serializes_with_its_computed_fields():
    """Does to_dict give every field plus score, max_score and status at each level, with
    tuples as lists?"""
    exercise = an_exercise("passed", "failed", message="see the hint")
    data = to_dict(a_report(exercise, problems=("extra file",)))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["submission"] == {"id": "alice", "path": "/subs/alice", "sha256": "0" * 64}
    assert data["grader"] == {"version": "0.1.0", "python": "3.11.0", "numpy": "2.0.0"}
    assert (data["status"], data["score"], data["max_score"]) == ("graded", 1.0, 2.0)
    assert data["problems"] == ["extra file"] and data["integrity"] == [] and data["error"] is None
    assert data["duration_s"] == 1.25
    [ex] = data["exercises"]
    assert {k: ex[k] for k in ("name", "score", "max_score", "status", "message")} == {
        "name": "mse", "score": 1.0, "max_score": 2, "status": "partial", "message": "see the hint"}
    assert ex["tests"][0] == {
        "name": "test_0", "status": "passed", "max_score": 1.0, "visibility": "visible",
        "message": "", "hint": "", "misconception": None, "details": {}, "score": 1.0}
    assert ex["tests"][1]["score"] == 0.0
    json.dumps(data, allow_nan=False)


def test_a_dataclass_without_computed_fields_serializes_its_fields():
    """Does a plain record (the submission info) serialize to exactly its fields?"""
    assert to_dict(SubmissionInfo(id="a", path="p", sha256="f" * 64)) == {
        "id": "a", "path": "p", "sha256": "f" * 64}


@pytest.mark.parametrize("value, expected", [
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (np.float64("nan"), "nan"), (np.float32("-inf"), "-inf"), (np.float64("inf"), "inf"),
    (1.5, 1.5), (-0.0, -0.0), (np.float32(0.5), 0.5), (np.int64(3), 3), (np.uint8(7), 7),
    (np.bool_(True), True), (True, True), (None, None), ("text", "text"), (12, 12),
])
def test_every_number_has_a_strict_json_form(value, expected):
    """Do NaN and infinities (Python or numpy) become "nan", "inf" and "-inf", numpy scalars
    plain Python numbers, and plain values stay as they are?"""
    out = to_dict(value)
    assert out == expected and type(out) is type(expected)
    json.dumps(out, allow_nan=False)


def test_details_nest_and_keys_become_strings():
    """Does a test's details dict serialize recursively, keys as strings, tuples as lists,
    non-finite numbers inside as strings?"""
    details = {"index": (1, 2), 3: [np.float64(0.5), float("nan")], "inner": {"x": np.inf}}
    assert to_dict(details) == {"index": [1, 2], "3": [0.5, "nan"], "inner": {"x": "inf"}}
    data = to_dict(a_test("failed", details=details))
    assert data["details"]["3"] == [0.5, "nan"]


@pytest.mark.parametrize("array, expected", [
    (np.array([1.0, np.nan, -np.inf]), [1.0, "nan", "-inf"]),
    (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
    (np.array([True, False]), [True, False]),
    (np.array(2.5), 2.5),
    (np.arange(results.MAX_ARRAY_VALUES, dtype=np.uint16), list(range(results.MAX_ARRAY_VALUES))),
])
def test_small_numeric_arrays_become_lists(array, expected):
    """Does a numeric array of up to MAX_ARRAY_VALUES values become nested lists of plain
    numbers, non-finite values as strings?"""
    out = to_dict(array)
    assert out == expected
    json.dumps(out, allow_nan=False)


@pytest.mark.parametrize("array", [
    np.zeros(results.MAX_ARRAY_VALUES + 1), np.zeros((100, 100)),
    np.array([1 + 2j]), np.array(["a", "b"]), np.array([object(), None]),
])
def test_big_or_non_numeric_arrays_are_described(array):
    """Is an array too big to list, or not of numbers, described by shape and dtype instead?"""
    out = to_dict(array)
    assert isinstance(out, str)
    assert str(array.shape) in out and str(array.dtype) in out


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", 1 + 2j, SubmissionInfo])
def test_anything_else_is_a_type_error(value):
    """Is a value with no report form refused with TypeError instead of being turned into a
    string that hides the bug?"""
    with pytest.raises(TypeError, match="not part of a report") as caught:
        to_dict(value)
    assert str(caught.value).startswith(type(value).__name__)
