"""Reading submissions: every shape a student hands in, and every way a file can be wrong."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from grader import submission as loader
from grader.contract import EXERCISE_NAMES, EXERCISES
from grader.errors import DuplicateSubmissionId, NotASubmission
from tests.conftest import EXAMPLES, exercise_scores, reference_sources, statuses

POINTS = {e.name: e.points for e in EXERCISES}
SIGMOID = reference_sources()["sigmoid"]


def write_modules(folder: Path, modules: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder


def notebook(*cells: tuple[str, str]) -> str:
    """A minimal nbformat-4 notebook of ``(cell_type, source)`` cells, sources as line lists."""
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells]})


def sigmoid_notebook() -> str:
    """The reference sigmoid split over cells, with the magics a student's notebook has."""
    imports, _, body = SIGMOID.partition("\ndef ")
    return notebook(("markdown", "# The sigmoid\nDerive it first."),
                    ("code", "%matplotlib inline\n" + imports),
                    ("code", "!pip install numpy\n  %time 1 + 1\ndef " + body))


# -- the shapes of a submission ---------------------------------------------------------


def test_a_flat_folder_is_one_submission_named_after_it(tmp_path):
    """Does a folder of the six modules load all six, with the folder's name as its id?"""
    folder = write_modules(tmp_path / "alice.v2", reference_sources())
    loaded = loader.load(folder)
    assert loaded.id == "alice.v2"
    assert sorted(loaded.sources) == sorted(EXERCISE_NAMES)
    assert loaded.sources == reference_sources()
    assert loaded.broken == {} and loaded.problems == ()


def test_a_folder_with_an_exercises_folder_is_read_inside_it(tmp_path):
    """Does a folder holding ``exercises/`` load the modules from there?"""
    write_modules(tmp_path / "bob" / "exercises", reference_sources())
    (tmp_path / "bob" / "README.md").write_text("my notes\n", encoding="utf-8")
    loaded = loader.load(tmp_path / "bob")
    assert loaded.id == "bob"
    assert loaded.sources == reference_sources()


def test_a_single_module_file_is_a_submission_of_that_exercise(tmp_path):
    """Is a lone ``sigmoid.py`` a submission ``sigmoid`` holding only the sigmoid?"""
    path = write_modules(tmp_path, {"sigmoid": SIGMOID}) / "sigmoid.py"
    loaded = loader.load(path)
    assert loaded.id == "sigmoid"
    assert loaded.sources == {"sigmoid": SIGMOID}


def test_a_zip_of_a_folder_is_read_without_unpacking(tmp_path):
    """Does ``carol.zip`` holding ``carol/exercises/*.py`` load as the submission carol?"""
    archive = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for module, source in reference_sources().items():
            z.writestr(f"carol/exercises/{module}.py", source)
        z.writestr("carol/notes.txt", "not code\n")
    loaded = loader.load(archive)
    assert loaded.id == "carol"
    assert loaded.sources == reference_sources()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["carol.zip"]


def test_a_notebook_is_its_code_cells_in_order_without_magics():
    """Are a notebook's code cells joined in order, with % magics and ! escapes dropped?"""
    source = loader.notebook_source(sigmoid_notebook().encode())
    assert "%" not in source and "!pip" not in source and "Derive it first" not in source
    assert source.index("import numpy") < source.index("def sigmoid(") < source.index(
        "def sigmoid_grad(")
    compile(source, "sigmoid.ipynb", "exec")


def test_nbgraders_tree_gives_one_submission_per_student(tmp_path):
    """Does ``submitted/<student>/<assignment>/*.ipynb`` give one submission per student?"""
    submitted = tmp_path / "submitted"
    for student in ("ada", "ben"):
        folder = submitted / student / "backprop"
        folder.mkdir(parents=True)
        (folder / "sigmoid.ipynb").write_text(sigmoid_notebook(), encoding="utf-8")
        (folder / "timestamp.txt").write_text("2024-01-01 00:00:00\n", encoding="utf-8")
    found = loader.discover([submitted])
    assert found == [submitted / "ada", submitted / "ben"]
    loaded = loader.load(found[0])
    assert loaded.id == "ada"
    assert list(loaded.sources) == ["sigmoid"] and "def sigmoid_grad(" in loaded.sources["sigmoid"]


def test_a_folder_of_submissions_is_each_child_and_ignores_other_files(tmp_path):
    """Is each child of a class folder a submission, and are notes and stray folders ignored?"""
    klass = tmp_path / "class"
    write_modules(klass / "alice", reference_sources())
    write_modules(klass / "bob" / "exercises", {"mse": "x = 1\n"})
    (klass / "dense.zip").write_bytes(b"")
    (klass / "notes.txt").write_text("grading notes\n", encoding="utf-8")
    (klass / "__MACOSX").mkdir()
    (klass / ".hidden").mkdir()
    write_modules(klass / ".hidden", reference_sources())
    assert loader.discover([klass]) == [klass / "alice", klass / "bob", klass / "dense.zip"]


def test_two_submissions_with_one_id_are_refused(tmp_path):
    """Are ``alice/`` and ``alice.zip`` refused together, rather than one report overwriting the other?"""
    klass = tmp_path / "class"
    write_modules(klass / "alice", reference_sources())
    with zipfile.ZipFile(klass / "alice.zip", "w") as z:
        z.writestr("sigmoid.py", SIGMOID)
    with pytest.raises(DuplicateSubmissionId, match="alice"):
        loader.discover([klass])


def test_dot_is_named_after_the_folder_it_stands_for(tmp_path, monkeypatch):
    """Does ``grader grade .`` inside a submission give it the folder's name, not an empty id?"""
    folder = write_modules(tmp_path / "dora", reference_sources())
    monkeypatch.chdir(folder)
    assert loader.load(Path(".")).id == "dora"
    assert loader.discover([Path(".")]) == [Path(".")]


def test_the_hash_follows_the_sources(tmp_path):
    """Does the sha256 stay put when nothing changes and move when one source does?"""
    folder = write_modules(tmp_path / "eve", reference_sources())
    first = loader.load(folder).sha256
    assert loader.load(folder).sha256 == first
    (folder / "mse.py").write_text(reference_sources()["mse"] + "\n# one more line\n",
                                   encoding="utf-8")
    changed = loader.load(folder).sha256
    assert changed != first and len(changed) == 64
    (folder / "notes.txt").write_text("not part of it\n", encoding="utf-8")
    assert loader.load(folder).sha256 == changed


def test_a_zip_that_is_not_a_zip_is_named(tmp_path):
    """Is a broken .zip refused with the reason, not a traceback?"""
    path = tmp_path / "frank.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(NotASubmission, match="not a readable zip"):
        loader.load(path)


# -- broken inputs, graded as far as they go -----------------------------------------------


def broken_submissions(root: Path) -> dict[str, tuple[Path, str, str]]:
    """``{id: (path, exercise it costs, words the report must say)}``, the rest all correct."""
    cases = {}

    def folder(name: str, without: str) -> Path:
        return write_modules(root / name, {k: v for k, v in reference_sources().items()
                                           if k != without})

    path = folder("latin1", "sigmoid")
    (path / "sigmoid.py").write_bytes(SIGMOID.replace("sigmoid", "sigmoïd", 1).encode("latin-1"))
    cases["latin1"] = (path, "sigmoid", "not UTF-8")

    path = folder("bad_notebook", "mse")
    (path / "mse.ipynb").write_text('{"cells": [ oops', encoding="utf-8")
    cases["bad_notebook"] = (path, "mse", "not a valid notebook")

    path = folder("odd_notebook", "mse")
    (path / "mse.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": [1, 2]}]}),
                                    encoding="utf-8")
    cases["odd_notebook"] = (path, "mse", "not a valid notebook")

    path = root / "slip.zip"
    with zipfile.ZipFile(path, "w") as z:
        for module, source in reference_sources().items():
            if module != "dense":
                z.writestr(f"slip/{module}.py", source)
        z.writestr("../dense.py", reference_sources()["dense"])
    cases["slip"] = (path, "dense", "outside the submission")

    outside = root / "elsewhere.py"
    outside.write_text(reference_sources()["chain_rule"], encoding="utf-8")
    path = folder("linked", "chain_rule")
    os.symlink(outside, path / "chain_rule.py")
    cases["linked"] = (path, "chain_rule", "outside the submission")

    path = folder("huge", "training")
    padding = "# " + "x" * 78 + "\n"
    (path / "training.py").write_text(
        reference_sources()["training"] + padding * (loader.MAX_SOURCE_BYTES // len(padding) + 1),
        encoding="utf-8")
    cases["huge"] = (path, "training", f"larger than the {loader.MAX_SOURCE_BYTES}-byte cap")

    path = folder("blank", "cross_entropy")
    (path / "cross_entropy.py").write_text("", encoding="utf-8")
    cases["blank"] = (path, "cross_entropy", "is empty")
    return cases


def said(report: dict, exercise: str) -> str:
    """Everything the report says about one exercise and about the files."""
    parts = list(report["problems"])
    for e in report["exercises"]:
        if e["name"] == exercise:
            parts.append(e["message"])
            parts += [t["message"] for t in e["tests"]]
    return "\n".join(parts)


def test_broken_files_cost_their_exercise_and_the_report_says_why(grade, tmp_path):
    """Is each broken file graded as far as it goes, its exercise 0 with a reason, the rest full marks?"""
    cases = broken_submissions(tmp_path / "broken")
    reports = grade([path for path, _, _ in cases.values()], jobs=2)
    assert sorted(reports) == sorted(cases)
    for name, (_, exercise, words) in cases.items():
        report = reports[name]
        assert report["status"] == "graded", (name, report["error"])
        scores = exercise_scores(report)
        assert scores[exercise] == 0, name
        assert report["score"] == 100 - POINTS[exercise], (name, scores)
        assert words in said(report, exercise), (name, said(report, exercise))
        assert statuses(report, exercise) <= {"error", "missing"}, name


def test_notebooks_and_single_files_grade_what_they_hold(grade, tmp_path):
    """Does a notebook with magics grade like the module, and a lone sigmoid.py leave the rest missing?"""
    nb = tmp_path / "nb" / "ada"
    nb.mkdir(parents=True)
    (nb / "sigmoid.ipynb").write_text(sigmoid_notebook(), encoding="utf-8")
    single = write_modules(tmp_path / "single", {"sigmoid": SIGMOID}) / "sigmoid.py"
    reports = grade([nb, single])
    for name in ("ada", "sigmoid"):
        report = reports[name]
        assert exercise_scores(report)["sigmoid"] == POINTS["sigmoid"], name
        assert report["score"] == POINTS["sigmoid"], name
        for exercise in EXERCISE_NAMES:
            if exercise != "sigmoid":
                assert statuses(report, exercise) == {"missing"}, (name, exercise)


def test_a_zip_grades_like_the_folder_it_was_made_from(grade, tmp_path):
    """Does zipping Bob's folder change nothing in his scores?"""
    archive = tmp_path / "bob_zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((EXAMPLES / "bob_mistakes").glob("*.py")):
            z.write(path, f"bob_mistakes/{path.name}")
    reports = grade([EXAMPLES / "bob_mistakes", archive], jobs=2)
    assert exercise_scores(reports["bob_zipped"]) == exercise_scores(reports["bob_mistakes"])
    assert reports["bob_zipped"]["submission"]["sha256"] == reports["bob_mistakes"]["submission"]["sha256"]
