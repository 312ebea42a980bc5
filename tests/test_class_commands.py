"""``grader class`` and ``grader similarity`` as an instructor runs them: files written,
one line for what goes wrong, and the caveat that a similarity is not a verdict."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course import similarity
from grader.reports import overview
from tests.conftest import EXAMPLES


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("class") / "reports"
    assert run("grade", EXAMPLES, "--out", out).exit_code == 0
    return out


@pytest.mark.parametrize("fmt", overview.FORMATS)
def test_class_writes_the_overview_in_each_format(reports, tmp_path, fmt):
    out = tmp_path / f"class.{fmt}"
    result = run("class", reports, "--out", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: 3 report(s), 3 graded, 4 named mistake(s)\n"
    text = out.read_text(encoding="utf-8")
    assert "sigmoid-exponent-sign" in text  # Bob's mistake, named
    if fmt == "json":
        overview.validate(json.loads(text))


def test_class_with_the_submissions_shows_the_pairs_and_the_caveat(reports, tmp_path):
    out = tmp_path / "class.html"
    result = run("class", reports, "--out", out, "--submissions", EXAMPLES)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Similar submissions" in page and "a reason to look, not a verdict" in page
    assert "alice_correct" in page and "bob_mistakes" in page


def test_class_refuses_to_write_json_among_the_reports(reports):
    result = run("class", reports, "--out", reports / "class.json", "--format", "json")
    assert result.exit_code == 2
    assert result.output.startswith("grader: ") and "would be read as a report" in result.output
    assert not (reports / "class.json").exists()


def test_similarity_ranks_the_pairs_and_shows_one(tmp_path):
    out = tmp_path / "similarity.csv"
    result = run("similarity", EXAMPLES, "--out", out, "--show", "bob_mistakes", "alice_correct")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3
    assert [float(r["similarity"]) for r in rows] == sorted(
        (float(r["similarity"]) for r in rows), reverse=True)
    assert similarity.CAVEAT in result.output
    assert "alice_correct/training.py" in result.output  # the side-by-side regions


def test_similarity_of_independent_work_flags_nothing(tmp_path):
    """The reference and Alice's correct solution, written apart, are not flagged."""
    reference = tmp_path / "class" / "reference"
    shutil.copytree(Path(similarity.__file__).resolve().parents[2] / "solutions", reference,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    shutil.copytree(EXAMPLES / "alice_correct", tmp_path / "class" / "alice_correct")
    out = tmp_path / "similarity.csv"
    result = run("similarity", tmp_path / "class", "--out", out)
    assert result.exit_code == 0, result.output
    assert all(row["flagged"] == "no"
               for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))


def test_similarity_needs_two_readable_submissions(tmp_path):
    result = run("similarity", EXAMPLES / "alice_correct", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("grader: ") and result.output.count("\n") == 1
    assert not (tmp_path / "s.csv").exists()
    result = run("similarity", tmp_path / "nowhere", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "nowhere" in result.output
