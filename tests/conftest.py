"""Shared fixtures: submissions built on the fly, and a grader run that returns reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import solutions
from grader import api
from grader import contract
from grader.reports import store

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = Path(solutions.__file__).resolve().parent
EXAMPLES = ROOT / "examples" / "submissions"


def reference_sources() -> dict[str, str]:
    return {name: (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8")
            for name in contract.exercise_names()}


@pytest.fixture
def make_submission(tmp_path):
    """Write ``{module: source}`` as a submission folder named ``name``; returns its path."""

    def make(name: str, modules: dict[str, str]) -> Path:
        folder = tmp_path / "submissions" / name
        folder.mkdir(parents=True)
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(source, encoding="utf-8")
        return folder

    return make


@pytest.fixture
def with_mistake():
    """The reference with one function replaced by the given definition (appended last)."""

    def build(module: str, definition: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
        sources = {k: v for k, v in reference_sources().items() if k not in drop}
        sources[module] = sources[module] + "\n\n" + definition.strip() + "\n"
        return sources

    return build


@pytest.fixture
def grade(tmp_path):
    """Grade paths with the library and return ``{id: report dict}`` read back from disk."""

    def run(paths, *, jobs: int = 1, timeout: float = 5.0, public_only: bool = False,
            isolation: str = "auto", assignment: str | None = None) -> dict:
        out = tmp_path / "reports"
        # Each path is one submission as given: the tests grade unreadable ones on purpose.
        graded = api.grade([Path(p) for p in paths], out, isolation=isolation, jobs=jobs,
                           timeout=timeout, public_only=public_only, assignment=assignment,
                           discover=False)
        reports = {}
        for summary in graded.summaries:
            reports[summary.id] = store.load(Path(summary.report_path))
        return reports

    return run


def exercise_scores(report: dict) -> dict[str, float]:
    return {e["name"]: e["score"] for e in report["exercises"]}


def max_scores(report: dict) -> dict[str, float]:
    return {e["name"]: e["max_score"] for e in report["exercises"]}


def statuses(report: dict, exercise: str) -> set[str]:
    for e in report["exercises"]:
        if e["name"] == exercise:
            return {t["status"] for t in e["tests"]}
    raise KeyError(exercise)


@pytest.fixture(autouse=True)
def every_report_validates(tmp_path):
    """After each test, every JSON report left under its tmp_path must validate."""
    yield
    for path in tmp_path.rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "schema_version" in data:
            store.validate(data, path)
