"""``grader.api.grade``: the one entry point, on disk and in memory, with feedback pages."""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api, cli
from grader.course import gradescope
from grader.errors import OutputNotWritable
from grader.grading import runner
from grader.reports import render, store
from grader.reports.results import to_dict
from grader.sandbox.isolation import choose
from tests.conftest import EXAMPLES, ROOT

IDS = ["alice_correct", "bob_mistakes", "carol_unfinished"]
# Fast, and possible where Landlock is missing; bubblewrap runs are the CLI's tests.
FAST = {"isolation": "basic", "accept_weak_isolation": True}


def without_duration(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "duration_s"}


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """The three examples graded twice: to disk with feedback pages, and in memory."""
    base = tmp_path_factory.mktemp("api")
    on_disk = api.grade(EXAMPLES, base / "reports", feedback=base / "feedback", jobs=2, **FAST)
    in_memory = api.grade(EXAMPLES, None, jobs=2, **FAST)
    return base, on_disk, in_memory


def test_in_memory_reports_are_the_reports_written_on_disk(examples):
    """Does grading in memory give, submission by submission, the report written to disk?"""
    base, on_disk, in_memory = examples
    assert on_disk.reports is None and in_memory.reports is not None
    assert [report.submission.id for report in in_memory.reports] == IDS  # input order
    assert [s.id for s in in_memory.summaries] == [s.id for s in on_disk.summaries] == IDS
    assert all(s.report_path is None for s in in_memory.summaries)
    for report in in_memory.reports:
        written = store.load(base / "reports" / f"{report.submission.id}.json")
        assert without_duration(to_dict(report)) == without_duration(written)
    assert [(s.score, s.exercises) for s in in_memory.summaries] == [
        (s.score, s.exercises) for s in on_disk.summaries]


def test_feedback_pages_are_what_the_written_reports_render(examples):
    """Is each HTML page, rendered in the grading process, byte for byte the page its JSON
    report renders?"""
    base, on_disk, _ = examples
    assert sorted(path.name for path in (base / "feedback").iterdir()) == [
        f"{name}.html" for name in IDS]
    for name in IDS:
        data = store.load(base / "reports" / f"{name}.json")
        expected = render.render(data, "html", "student").encode("utf-8")
        assert (base / "feedback" / f"{name}.html").read_bytes() == expected, name


def test_resume_skips_and_renders_the_skipped_pages_from_their_reports(tmp_path):
    """Does --resume skip an unchanged submission and still write its page from its report?"""
    out, pages = tmp_path / "reports", tmp_path / "feedback"
    alice = EXAMPLES / "alice_correct"
    first = api.grade([alice], out, feedback=pages, **FAST)
    assert first.skipped == 0 and first.failed == ()
    (pages / "alice_correct.html").unlink()
    started = []

    class Recorder:
        def start(self, total, skipped, note):
            started.append((total, skipped, note))

        def advance(self, summary):
            raise AssertionError("nothing should be graded")

    again = api.grade([alice], out, feedback=pages, resume=True, progress=Recorder(), **FAST)
    assert again.skipped == 1 and started == [(0, 1, None)]
    assert [s.id for s in again.summaries] == ["alice_correct"]
    expected = render.render(store.load(out / "alice_correct.json"), "html", "student")
    assert (pages / "alice_correct.html").read_text(encoding="utf-8") == expected


def test_the_library_default_isolation_is_the_cli_default():
    """Does ``grade`` without isolation= use what ``grader grade`` uses: choose("auto")?"""
    assert inspect.signature(api.grade).parameters["isolation"].default == "auto"
    option = next(param for param in cli.grade.params if param.name == "isolation")
    assert option.default == "auto"
    auto = choose("auto", accept_weak=True)[0]
    graded = api.grade(EXAMPLES / "alice_correct", public_only=True, exercise="sigmoid",
                       accept_weak_isolation=True)
    assert graded.reports is not None
    assert graded.isolation.mechanism == auto.mechanism
    assert graded.reports[0].isolation["mechanism"] == auto.mechanism
    assert runner.Options().isolation.mechanism == auto.mechanism
    assert graded.reports[0].score == graded.reports[0].max_score > 0
    assert [e.name for e in graded.reports[0].exercises] == ["sigmoid"]


def test_options_are_built_only_by_the_api():
    """Is ``runner.Options(...)`` constructed nowhere in grader/ but grader/api.py, and,
    on a Dask worker, by grader/grading/served.py from the settings only the api makes?"""
    grader = ROOT / "grader"

    def callers(pattern: str) -> list[str]:
        return sorted(str(path.relative_to(grader)) for path in grader.rglob("*.py")
                      if re.search(pattern, path.read_text(encoding="utf-8")))

    assert callers(r"\bOptions\(") == ["api.py", "grading/served.py"]
    assert (grader / "api.py").read_text(encoding="utf-8").count("runner.Options(") == 1
    assert (grader / "grading/served.py").read_text(encoding="utf-8").count("Options(") == 1
    assert callers(r"served\.settings\(") == ["api.py"]


def test_bad_arguments_are_refused_before_grading(tmp_path):
    """Are an unknown exercise, resume without a folder, a bad isolation and an output
    folder that cannot be made refused at once?"""
    alice = EXAMPLES / "alice_correct"
    with pytest.raises(api.UnknownExercise, match="the exercises are sigmoid"):
        api.grade(alice, exercise="nope")
    with pytest.raises(ValueError, match="resume"):
        api.grade(alice, resume=True)
    with pytest.raises(ValueError, match="isolation"):
        api.grade(alice, isolation="none")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    with pytest.raises(OutputNotWritable):
        api.grade(alice, blocker / "reports", **FAST)


def autograder_root(tmp_path: Path, submission: Path | None) -> Path:
    root = tmp_path / "autograder"
    if submission is None:
        (root / "submission").mkdir(parents=True)
    else:
        shutil.copytree(submission, root / "submission")
    return root


def test_gradescope_run_is_a_grader_command(tmp_path):
    """Does ``grader gradescope-run`` (root from $AUTOGRADER_ROOT) write results.json?"""
    root = autograder_root(tmp_path, EXAMPLES / "alice_correct")
    result = CliRunner().invoke(cli.main, ["gradescope-run", "--isolation", "basic",
                                           "--accept-weak-isolation"],
                                env={"AUTOGRADER_ROOT": str(root)})
    assert result.exit_code == 0, result.output
    data = gradescope.validate(json.loads((root / "results" / "results.json").read_text()))
    assert data["score"] == 100
    assert result.stdout.startswith("graded: 100/100 points, isolation basic")
    script = gradescope.RUN_AUTOGRADER % {"visibility": "hidden", "timeout": "5"}
    assert '-m grader gradescope-run --root "$ROOT"' in script


def test_gradescope_scores_an_empty_submission_zero_with_the_reason(tmp_path):
    """Is an empty submission folder a results.json with score 0 and why, not a crash?"""
    root = autograder_root(tmp_path, None)
    data = gradescope.run(root, isolation="basic", accept_weak=True)
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"]
    assert json.loads((root / "results" / "results.json").read_text()) == data


def test_a_dead_grading_process_suggests_resume_only_where_reports_were_written():
    """Does the one line for a grading process that died offer --resume only when the
    batch wrote reports that a resumed run could skip?"""
    from grader.errors import EXIT_NOT_GRADED, GradingProcessDied

    written = GradingProcessDied(2, 5)
    in_memory = GradingProcessDied(0, 1, resumable=False)
    assert "--resume" in str(written) and "--resume" not in str(in_memory)
    assert str(in_memory) == "a grading process died after 0 of 1 submission(s)"
    assert written.exit_code == in_memory.exit_code == EXIT_NOT_GRADED
