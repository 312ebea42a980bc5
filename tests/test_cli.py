"""The ``grader`` command as people type it: help, schema, validate, grade and check."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader import contract
from grader.cli import main
from grader.reports import store
from tests.conftest import EXAMPLES, ROOT, SOLUTIONS

ANSI = re.compile(r"\x1b\[")
VERBS = ("grade", "check", "report", "schema", "validate", "stubs", "release")


def grader(*args: str):
    """``grader ARGS`` in this process, stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_one_line_usage_error(result) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("grader: "), lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The three example submissions graded once with --jobs 1 and once with --jobs 2."""
    base = tmp_path_factory.mktemp("cli")
    runs = {}
    for jobs in (1, 2):
        out = base / f"jobs{jobs}"
        runs[jobs] = (grader("grade", EXAMPLES, "--out", out, "--jobs", jobs), out)
    return runs


@pytest.fixture
def solutions_copy(tmp_path) -> Path:
    """A student's exercises folder holding the reference solutions' modules."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    for path in SOLUTIONS.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, folder / path.name)
    return folder


def test_help_lists_every_verb():
    """Does ``python -m grader --help`` run as a real program and list every verb?"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "grader", "--help"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  (\w+)\s", done.stdout.split("Commands:")[1], flags=re.M)
    assert set(VERBS) <= set(listed), listed


def test_schema_prints_a_valid_json_schema():
    """Does ``grader schema`` print a JSON Schema that a validator accepts?"""
    result = grader("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == store.schema()


def test_validate_accepts_a_report_and_rejects_a_tampered_one(graded, tmp_path):
    """Does ``grader validate`` pass a real report and fail an edited one in one line?"""
    _, out = graded[1]
    good = out / "alice_correct.json"
    result = grader("validate", good)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{good}: valid"

    data = json.loads(good.read_text(encoding="utf-8"))
    data["exercises"][0]["tests"][0]["status"] = "aced"
    tampered = tmp_path / "tampered.report"
    tampered.write_text(json.dumps(data), encoding="utf-8")
    result = grader("validate", tampered)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: ") and "status" in lines[0], lines


def bad_grade_arguments(tmp_path: Path) -> dict[str, list]:
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "some_file"
    a_file.write_text("not a folder\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    out = tmp_path / "out"
    alice = EXAMPLES / "alice_correct"
    return {
        "no such path": [tmp_path / "nope", "--out", out],
        "an empty directory": [empty, "--out", out],
        # Tests run as root, whom chmod does not stop: a path under a file cannot be made.
        "an unwritable output directory": [alice, "--out", a_file / "sub"],
        "a file that is not a submission": [notes, "--out", out],
        "--jobs 0": [alice, "--out", out, "--jobs", "0"],
    }


@pytest.mark.parametrize("case", ["no such path", "an empty directory",
                                  "an unwritable output directory",
                                  "a file that is not a submission", "--jobs 0"])
def test_bad_grade_arguments_get_one_line_and_exit_2(case, tmp_path):
    """Does each bad argument to ``grader grade`` give one ``grader:`` line and exit 2?"""
    result = grader("grade", *bad_grade_arguments(tmp_path)[case])
    assert_one_line_usage_error(result)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_check_of_an_unknown_exercise_is_a_usage_error():
    """Does ``grader check nope`` say which exercises exist, in one line, exit 2?"""
    result = grader("check", "nope")
    assert_one_line_usage_error(result)
    assert "sigmoid" in result.stderr


def test_check_of_a_folder_that_does_not_exist_is_a_usage_error(tmp_path):
    """Does ``grader check`` in the wrong folder say so in one line, exit 2?"""
    result = grader("check", "--path", tmp_path / "exercises")
    assert_one_line_usage_error(result)
    assert "no such file or directory" in result.stderr


def test_grade_prints_the_summary_and_one_valid_report_each(graded):
    """Does grading the examples print the table of scores and write a valid report each?"""
    result, out = graded[1]
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["submission", "sigmoid", "mse", "dense", "cross_entropy",
                                "chain_rule", "training", "total"]
    rows = {line.split()[0]: line.split()[-1] for line in lines[1:4]}
    assert rows == {"alice_correct": "100/100", "bob_mistakes": "63/100",
                    "carol_unfinished": "27/100"}
    assert lines[-1] == f"3 report(s) in {out}"
    reports = sorted(p.name for p in out.iterdir())
    assert reports == ["alice_correct.json", "bob_mistakes.json", "carol_unfinished.json"]
    for path in out.iterdir():
        assert store.load(path)["submission"]["id"] == path.stem


def test_two_jobs_give_the_same_scores_as_one(graded):
    """Does ``--jobs 2`` give every test the same status and score as ``--jobs 1``?"""
    def outcomes(out: Path) -> dict:
        found = {}
        for path in out.glob("*.json"):
            data = store.load(path)
            found[data["submission"]["id"]] = (data["score"], [
                (e["name"], e["score"], [(t["name"], t["status"], t["score"]) for t in e["tests"]])
                for e in data["exercises"]])
        return found

    (one, out_one), (two, out_two) = graded[1], graded[2]
    assert one.exit_code == two.exit_code == 0
    assert one.stdout.splitlines()[:-1] == two.stdout.splitlines()[:-1]  # the table
    assert outcomes(out_one) == outcomes(out_two)
    assert len(outcomes(out_one)) == 3


def test_check_passes_the_reference_in_plain_text(solutions_copy):
    """Does ``grader check`` on the solutions exit 0 and print no ANSI colour into a pipe?"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "grader", "check", "--path", str(solutions_copy)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not ANSI.search(done.stdout + done.stderr)
    verdicts = re.findall(r"^\[(..)\] (\w+)", done.stdout, flags=re.M)
    assert verdicts == [("ok", name) for name in contract.exercise_names()]
    assert re.search(r"^public tests: (\d+)/\1 points", done.stdout, flags=re.M)


def test_check_of_the_stubs_fails_with_not_implemented():
    """Does ``grader check`` on the released stubs exit 1, every exercise not implemented?"""
    result = grader("check", "--path", ROOT / "exercises")
    assert result.exit_code == 1, result.output
    verdicts = re.findall(r"^\[(..)\] (\w+) .*  (.+)$", result.stdout, flags=re.M)
    assert [name for _, name, _ in verdicts] == list(contract.exercise_names())
    assert {(mark, status) for mark, _, status in verdicts} == {("--", "not implemented")}


def test_check_of_one_exercise_lists_only_that_one(solutions_copy):
    """Does ``grader check sigmoid`` check the sigmoid and nothing else?"""
    result = grader("check", "sigmoid", "--path", solutions_copy)
    assert result.exit_code == 0, result.output
    assert re.findall(r"^\[(..)\] (\w+)", result.stdout, flags=re.M) == [("ok", "sigmoid")]
    assert re.search(r"^public tests: (\d+)/\1 points", result.stdout, flags=re.M)
