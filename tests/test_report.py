"""The JSON report on disk: validated before it is written, strict JSON, written atomically,
and refused on load when it is missing, not JSON or not a report. Fast: no worker, no sandbox."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from grader.errors import InvalidReport
from grader.grading.runner import clear_stale_temporaries
from grader.reports import results, store
from grader.reports.results import ExerciseResult, GraderInfo, SubmissionInfo, SubmissionReport


def a_report(submission_id: str = "alice", test_status: str = "failed",
             details: dict | None = None) -> SubmissionReport:
    test = results.TestResult(name="test_mse_grad", status=test_status, max_score=2.0,
                              visibility="visible", message="wrong sign",
                              details=details or {"index": [0], "received": float("nan")})
    return SubmissionReport(
        submission=SubmissionInfo(id=submission_id, path="/subs/alice", sha256="a" * 64),
        exercises=(ExerciseResult(name="mse", max_score=2.0, tests=(test,)),),
        grader=GraderInfo(version="0.1.0", python="3.11.0", numpy="2.0.0"),
        isolation={"mechanism": "basic", "limits": {}}, duration_s=0.5)


# -- dumps and write: validated, strict JSON ---------------------------------------------------


def test_a_report_round_trips_through_disk(tmp_path):
    """Is a written report the file <id>.json under the output folder, strict JSON that
    loads back to the report's dict form?"""
    report = a_report()
    path = store.write(report, tmp_path)
    assert path == tmp_path / "alice.json"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert store.load(path) == results.to_dict(report)
    assert json.loads(text)["exercises"][0]["tests"][0]["details"]["received"] == "nan"
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"]


def test_dumps_writes_no_nan_literal():
    """Is a NaN a student returned written as the string "nan", the text strict JSON that a
    parser refusing NaN accepts?"""
    text = store.dumps(a_report(details={"received": float("nan"), "worst": float("-inf")}))
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in a report"))
    assert data["exercises"][0]["tests"][0]["details"] == {"received": "nan", "worst": "-inf"}
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_dumps_refuses_a_nan_even_if_the_serializer_let_one_through(monkeypatch):
    """Should a NaN ever get past to_dict (the schema cannot forbid one in details), does
    dumps refuse it rather than write a NaN literal?"""
    leaky = results.to_dict(a_report())
    leaky["exercises"][0]["tests"][0]["details"]["received"] = float("nan")
    monkeypatch.setattr(store, "to_dict", lambda report: leaky)
    with pytest.raises(ValueError):
        store.dumps(a_report())


def test_an_invalid_report_is_refused_and_nothing_is_written(tmp_path):
    """Is a report that breaks the schema (a test status the schema does not know) refused with
    InvalidReport naming the submission and the field, and no file, not even a temporary one,
    left behind?"""
    report = a_report("bob", test_status="sort of passed")
    with pytest.raises(InvalidReport) as caught:
        store.dumps(report)
    assert caught.value.path == "bob"
    assert caught.value.reason.startswith("exercises/0/tests/0/status: ")
    with pytest.raises(InvalidReport):
        store.write(report, tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- validate and load -----------------------------------------------------------------------


def valid_data() -> dict:
    return results.to_dict(a_report())


def test_validate_returns_a_valid_report_unchanged():
    """Does validate hand back the very dict it was given when it is a valid report?"""
    data = valid_data()
    assert store.validate(data, "x") is data
    assert store.validate(data) is data


@pytest.mark.parametrize("change, where", [
    (lambda d: d.pop("score"), "(top)"),
    (lambda d: d.update(score=-1), "score"),
    (lambda d: d["submission"].update(sha256="not hex"), "submission/sha256"),
    (lambda d: d["exercises"][0].update(status="half"), "exercises/0/status"),
    (lambda d: d.update(schema_version="0.9"), "schema_version"),
])
def test_validate_names_where_a_report_is_wrong(change, where):
    """Is an invalid report refused with InvalidReport whose reason starts with where in the
    report the problem is, and whose path is the origin given?"""
    data = valid_data()
    change(data)
    with pytest.raises(InvalidReport) as caught:
        store.validate(data, "origin.json")
    assert caught.value.path == "origin.json"
    assert caught.value.reason.startswith(f"{where}: ")
    with pytest.raises(InvalidReport):
        store.validate(data)


def test_load_refuses_a_missing_file(tmp_path):
    """Is a report that is not there refused with InvalidReport (not FileNotFoundError),
    naming the path?"""
    path = tmp_path / "nobody.json"
    with pytest.raises(InvalidReport) as caught:
        store.load(path)
    assert caught.value.path == path
    assert isinstance(caught.value.reason, str) and caught.value.reason


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe\x00garbage", b"[1, 2"])
def test_load_refuses_what_is_not_json(tmp_path, content):
    """Is a file that is not JSON (or not UTF-8) refused with InvalidReport saying so?"""
    path = tmp_path / "broken.report"  # not *.json: conftest parses those after each test
    path.write_bytes(content)
    with pytest.raises(InvalidReport) as caught:
        store.load(path)
    assert caught.value.path == path
    assert "not JSON" in caught.value.reason


def test_load_refuses_a_directory(tmp_path):
    """Is a directory where a report should be refused with InvalidReport, not an OSError?"""
    with pytest.raises(InvalidReport) as caught:
        store.load(tmp_path)
    assert caught.value.path == tmp_path


def test_load_refuses_json_that_is_no_report(tmp_path):
    """Is JSON that breaks the schema refused with InvalidReport naming the file?"""
    path = tmp_path / "other.report"  # not *.json: conftest validates those after each test
    data = valid_data()
    data["status"] = "excellent"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidReport) as caught:
        store.load(path)
    assert caught.value.path == path
    assert caught.value.reason.startswith("status: ")


def test_load_reads_utf8(tmp_path):
    """Is a report with non-ASCII text (a student's name, a hint) read back as written?"""
    report = a_report("zoë")
    path = store.write(report, tmp_path)
    assert store.load(path)["submission"]["id"] == "zoë"
    assert path.name == "zoë.json"


# -- write_atomic ----------------------------------------------------------------------------


def test_write_atomic_replaces_the_old_file(tmp_path):
    """Does writing over an existing file replace its contents, leaving only that file?"""
    path = tmp_path / "r.txt"
    path.write_text("old", encoding="utf-8")
    store.write_atomic(path, "new ✓\n")
    assert path.read_text(encoding="utf-8") == "new ✓\n"
    assert list(tmp_path.iterdir()) == [path]
    store.write_atomic(str(path), "again")
    assert path.read_text(encoding="utf-8") == "again"


def test_write_atomic_renames_a_temporary_from_the_same_folder(tmp_path, monkeypatch):
    """Is the new text written in full to a temporary file beside the target (so the rename
    stays on one filesystem and is atomic), named so that the runner's cleanup of a killed
    writer's leftovers finds it?"""
    renames = []
    real_replace = store.os.replace

    def replace(source, target):
        renames.append((Path(source), Path(target), Path(source).read_text(encoding="utf-8")))
        real_replace(source, target)

    monkeypatch.setattr(store.os, "replace", replace)
    path = tmp_path / "carol.json"
    store.write_atomic(path, "{}\n")
    [(source, target, text)] = renames
    assert target == path and text == "{}\n"
    assert source.parent == tmp_path and source != path
    assert source.match(".*.json.*.tmp")


def test_a_killed_writers_temporary_is_cleaned_up(tmp_path, monkeypatch):
    """If the writer dies between writing and renaming, is its temporary file one that the
    runner's stale-temporary cleanup removes, the old report untouched?"""
    path = tmp_path / "dave.json"
    path.write_text('{"old": 1}', encoding="utf-8")
    monkeypatch.setattr(store.os, "replace", lambda source, target: None)  # never renamed
    store.write_atomic(path, '{"new": 1}')
    assert len(list(tmp_path.iterdir())) == 2
    clear_stale_temporaries(tmp_path)
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_text(encoding="utf-8") == '{"old": 1}'


@pytest.mark.parametrize("fails_in", ["fsync", "replace"])
def test_write_atomic_leaves_nothing_behind_on_failure(tmp_path, monkeypatch, fails_in):
    """When writing fails midway, is the error raised as it was, the old file untouched, and
    no temporary file left behind?"""
    path = tmp_path / "r.txt"
    path.write_text("old", encoding="utf-8")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, fails_in, fail)
    with pytest.raises(OSError, match="No space left"):
        store.write_atomic(path, "new")
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_text(encoding="utf-8") == "old"


def test_write_atomic_cleans_up_after_an_interrupt(tmp_path, monkeypatch):
    """Is a Ctrl-C during the write passed on as KeyboardInterrupt, with no temporary left?"""
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.write_atomic(tmp_path / "r.json", "new")
    assert list(tmp_path.iterdir()) == []


# -- the schema --------------------------------------------------------------------------------


def test_schema_is_the_shipped_schema_file():
    """Is schema() the report.schema.json shipped in the grader package, for the version that
    results writes?"""
    shipped = (resources.files("grader.reports").joinpath("schemas/report.schema.json")
               .read_text("utf-8"))
    assert store.schema() == json.loads(shipped)
    assert store.schema()["properties"]["schema_version"]["const"] == results.SCHEMA_VERSION
