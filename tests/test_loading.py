"""Reading submissions: every shape a student hands in, and every way a file can be wrong."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader import contract
from grader.errors import DuplicateSubmissionId, GraderError, NotASubmission, StrayExerciseFiles
from grader.grading import module_source, zips
from grader.grading import submission as loader
from grader.reports import store
from tests.conftest import EXAMPLES, exercise_scores, reference_sources, statuses

# The course's first assignment: what grading grades by default.
EXERCISES = contract.exercises("backprop")
EXERCISE_NAMES = contract.exercise_names("backprop")

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
    """Does a folder of the course's modules load them all, with the folder's name as its id?"""
    folder = write_modules(tmp_path / "alice.v2", reference_sources())
    loaded = loader.load(folder)
    assert loaded.id == "alice.v2"
    assert sorted(loaded.sources) == sorted(contract.exercise_names())
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
    source = module_source.notebook_source(sigmoid_notebook().encode())
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
    """Are ``alice/`` and ``alice.zip`` refused together, rather than one
    report overwriting the other?"""
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
    cells = [{"cell_type": "code", "source": [1, 2]}]
    (path / "mse.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
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
        reference_sources()["training"]
        + padding * (module_source.MAX_SOURCE_BYTES // len(padding) + 1),
        encoding="utf-8")
    cases["huge"] = (path, "training", f"larger than the {module_source.MAX_SOURCE_BYTES}-byte cap")

    path = folder("blank", "cross_entropy")
    (path / "cross_entropy.py").write_text("", encoding="utf-8")
    cases["blank"] = (path, "cross_entropy", "is empty")

    path = folder("dangling", "mse")
    os.symlink("nowhere.py", path / "mse.py")
    cases["dangling"] = (path, "mse", "does not exist")

    # A notebook past its cap is refused after reading the cap and one byte (a sparse file).
    path = folder("huge_notebook", "mse")
    with open(path / "mse.ipynb", "wb") as stream:
        stream.truncate(module_source.MAX_NOTEBOOK_BYTES + 1)
    words = f"larger than the {module_source.MAX_NOTEBOOK_BYTES}-byte cap for a notebook"
    cases["huge_notebook"] = (path, "mse", words)

    path = folder("long_notebook", "dense")
    code = reference_sources()["dense"] + padding * (module_source.MAX_SOURCE_BYTES // len(padding))
    (path / "dense.ipynb").write_text(notebook(("code", code)), encoding="utf-8")
    cases["long_notebook"] = (path, "dense", "code cells are larger than")

    # 3 MB of "{}," would parse into 70 MB of empty dicts; 64 MiB of them into 1.5 GB.
    path = folder("json_bomb", "chain_rule")
    dicts = "{}," * module_source.MAX_NOTEBOOK_ITEMS
    (path / "chain_rule.ipynb").write_text('{"cells": [], "metadata": [' + dicts + "{}]}",
                                           encoding="utf-8")
    cases["json_bomb"] = (path, "chain_rule", "JSON values")
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
    """Is each broken file graded as far as it goes, its exercise 0 with a reason,
    the rest full marks?"""
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
    """Does a notebook with magics grade like the module, and a lone sigmoid.py
    leave the rest missing?"""
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
    assert (reports["bob_zipped"]["submission"]["sha256"]
            == reports["bob_mistakes"]["submission"]["sha256"])


# -- inputs that cannot be read: the submission fails alone, nothing waits ------------------


class Hung(Exception):
    """Raised by ``no_hang`` in the test's main thread: a read that blocks becomes a failure."""


@contextlib.contextmanager
def no_hang(seconds: float = 120.0):
    """Turn a hang into a failure (never a measure of speed: the bound is minutes)."""

    def expire(signum, frame):
        raise Hung(f"still waiting after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def patch_zip_member(path: Path, name: str, *, flag_bits: int | None = None,
                     file_size: int | None = None) -> None:
    """Rewrite fields of one member in both its local header and its central directory
    entry: what a hand-made or hostile zip can claim."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    central = data.find(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 1)
    for header, flags_at, size_at in ((local, 6, 22), (central, 8, 24)):
        if flag_bits is not None:
            struct.pack_into("<H", data, header + flags_at, flag_bits)
        if file_size is not None:
            struct.pack_into("<I", data, header + size_at, file_size)
    path.write_bytes(bytes(data))


def zip_of_modules(path: Path, extra=None, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip of the reference modules under ``<stem>/``, then whatever ``extra(zip)`` adds."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for module, source in reference_sources().items():
            z.writestr(f"{path.stem}/{module}.py", source)
        if extra:
            extra(z)
    return path


def unreadable_submissions(root: Path) -> dict[str, tuple[Path, str]]:
    """``{id: (path, words its failure must say)}``: submissions that cannot be graded at
    all, most of them otherwise the reference modules."""
    cases = {}
    root.mkdir(parents=True)

    def folder(name: str, without: str) -> Path:
        return write_modules(root / name, {k: v for k, v in reference_sources().items()
                                           if k != without})

    path = folder("loop.v1", "sigmoid")  # the dot: the failed report keeps the folder's name
    os.symlink("sigmoid.py", path / "sigmoid.py")
    cases["loop.v1"] = (path, "symbolic link loop")

    path = folder("fifo", "sigmoid")
    os.mkfifo(path / "sigmoid.py")
    cases["fifo"] = (path, "named pipe")

    path = folder("socket", "mse")
    os.mknod(path / "mse.py", stat.S_IFSOCK | 0o600)
    cases["socket"] = (path, "a socket")

    os.mkfifo(root / "fifo_zip.zip")
    cases["fifo_zip"] = (root / "fifo_zip.zip", "named pipe")

    # A single file named on the command line is followed to where it leads.
    (root / "device").mkdir()
    os.symlink("/dev/zero", root / "device" / "dense.py")
    cases["dense"] = (root / "device" / "dense.py", "character device")

    (root / "eio").mkdir()
    os.symlink("/proc/self/mem", root / "eio" / "sigmoid.py")  # reading at 0 is EIO
    cases["sigmoid"] = (root / "eio" / "sigmoid.py", "Input/output error")

    path = root / "bzip2.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as z:
        for module, source in reference_sources().items():
            z.writestr(f"{module}.py", source)
    cases["bzip2"] = (path, "compressed with bzip2")

    def zeros(z: zipfile.ZipFile) -> None:
        with z.open("declared/data.bin", "w") as member:
            for _ in range(zips.MAX_ZIP_UNCOMPRESSED_BYTES // (4 * 1024 * 1024) + 1):
                member.write(bytes(4 * 1024 * 1024))

    cases["declared"] = (zip_of_modules(root / "declared.zip", zeros), "uncompressed (declared)")

    def many(z: zipfile.ZipFile) -> None:
        for i in range(zips.MAX_ZIP_MEMBERS):
            z.writestr(f"many/notes/{i}.txt", "")

    cases["many"] = (zip_of_modules(root / "many.zip", many), "members")

    def comments(z: zipfile.ZipFile) -> None:
        for i in range(zips.MAX_ZIP_DIRECTORY_BYTES // 0xFFFF + 1):
            info = zipfile.ZipInfo(f"directory/{i}.txt")
            info.comment = b"c" * 0xFFFF
            z.writestr(info, "")

    cases["directory"] = (zip_of_modules(root / "directory.zip", comments), "central directory")

    path = root / "lying.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lying/sigmoid.py", SIGMOID + "#" * (8 * 1024 * 1024))
    patch_zip_member(path, "lying/sigmoid.py", file_size=100)  # claims 100 bytes, inflates 8 MiB
    cases["lying"] = (path, "corrupt")

    path = zip_of_modules(root / "encrypted.zip")
    patch_zip_member(path, "encrypted/mse.py", flag_bits=0x1)
    cases["encrypted"] = (path, "encrypted")

    # A zip inside a zip is never opened: this one holds no exercise of its own.
    path = root / "nested.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(zip_of_modules(root / "inner.zip"), "inner.zip")
    (root / "inner.zip").unlink()
    cases["nested"] = (path, "holds no exercise module")
    return cases


def test_unreadable_inputs_are_named_by_load_in_one_line(tmp_path):
    """Does ``load`` raise a one-line GraderError naming the cause for each unreadable input,
    without blocking on a pipe or following a loop?"""
    cases = unreadable_submissions(tmp_path / "bad")
    with no_hang():
        for name, (path, words) in cases.items():
            with pytest.raises(GraderError) as raised:
                loader.load(path)
            message = str(raised.value)
            assert words in message and "\n" not in message, (name, message)


def test_only_the_file_graded_is_opened(tmp_path):
    """Is a pipe or a loop beside the graded file left alone, the submission read as usual?"""
    folder = write_modules(tmp_path / "ida", reference_sources())
    (folder / "old").mkdir()
    os.mkfifo(folder / "old" / "sigmoid.py")
    os.symlink("mse.py", folder / "old" / "mse.py")
    os.symlink("mse.ipynb", folder / "old" / "mse.ipynb")
    with no_hang():
        loaded = loader.load(folder)
    assert loaded.sources == reference_sources() and loaded.broken == {}


def test_each_unreadable_submission_fails_alone_and_the_batch_goes_on(grade, tmp_path):
    """Does each unreadable submission get a failed report that says why, while a correct
    one in the same batch gets full marks?"""
    cases = unreadable_submissions(tmp_path / "bad")
    good = write_modules(tmp_path / "good" / "alice", reference_sources())
    with no_hang():
        reports = grade([good, *(path for path, _ in cases.values())], jobs=2)
    assert sorted(reports) == sorted([*cases, "alice"])
    assert reports["alice"]["status"] == "graded" and reports["alice"]["score"] == 100
    for name, (_, words) in cases.items():
        report = reports[name]
        assert report["status"] == "failed", (name, report["score"])
        assert words in report["error"] and "internal grader error" not in report["error"], (
            name, report["error"])


def test_a_fault_of_the_loader_is_that_submissions_failed_report(grade, tmp_path, monkeypatch):
    """Does an exception in the loader's own code fail that submission only, under its own id?"""
    good = write_modules(tmp_path / "good" / "alice", reference_sources())
    odd = write_modules(tmp_path / "odd" / "bug.v2", {"sigmoid": SIGMOID})
    real = loader._collect

    def collect(chosen, read, origin, submission_id, problems):
        if submission_id == "bug.v2":
            raise KeyError("a bug")
        return real(chosen, read, origin, submission_id, problems)

    monkeypatch.setattr(loader, "_collect", collect)
    reports = grade([good, odd])
    assert reports["alice"]["score"] == 100
    assert reports["bug.v2"]["status"] == "failed"
    assert "internal grader error while reading it: KeyError" in reports["bug.v2"]["error"]


def test_a_class_with_unreadable_submissions_is_graded_and_exits_1(tmp_path):
    """Does ``grader grade`` of a class holding a loop, pipes and a bomb write every report,
    name each failure in one line and exit 1?"""
    klass = tmp_path / "class"
    write_modules(klass / "alice", reference_sources())
    bad = unreadable_submissions(tmp_path / "bad")
    for name in ("loop.v1", "fifo", "fifo_zip", "bzip2", "many"):
        os.rename(bad[name][0], klass / bad[name][0].name)
    out = tmp_path / "out"
    with no_hang():
        result = CliRunner().invoke(main, ["grade", str(klass), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{name}.json" for name in ("alice", "loop.v1", "fifo", "fifo_zip", "bzip2", "many"))
    failures = [line for line in result.stderr.splitlines() if "not graded" in line]
    assert len(failures) == 5, result.stderr
    assert store.load(out / "alice.json")["score"] == 100


def test_a_correct_notebook_with_plots_gets_full_marks(grade, tmp_path):
    """Does a correct notebook with a few MB of plots in its outputs score what its code earns?"""
    document = json.loads(sigmoid_notebook())
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(os.urandom(3 * 1024 * 1024)).decode(),
                     "text/plain": ["<Figure size 640x480 with 1 Axes>"]}}
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [plot]
    folder = tmp_path / "plots" / "ada"
    folder.mkdir(parents=True)
    (folder / "sigmoid.ipynb").write_text(json.dumps(document), encoding="utf-8")
    assert (folder / "sigmoid.ipynb").stat().st_size > 4 * module_source.MAX_SOURCE_BYTES
    report = grade([folder])["ada"]
    assert exercise_scores(report)["sigmoid"] == POINTS["sigmoid"], said(report, "sigmoid")


def test_an_exercise_file_beside_student_folders_is_refused(tmp_path):
    """Is ``submissions/sigmoid.py`` next to ``alice/`` and ``bob/`` refused in one line that
    names it and says what to do, rather than merging the class into one submission?"""
    klass = tmp_path / "submissions"
    write_modules(klass / "alice", reference_sources())
    write_modules(klass / "bob", reference_sources())
    write_modules(klass, {"sigmoid": SIGMOID})
    with pytest.raises(StrayExerciseFiles, match="sigmoid.py.*move"):
        loader.discover([klass])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(klass), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: ") and "sigmoid.py" in lines[0], lines
    assert not out.exists() or not any(out.iterdir())
    # A student's own folder with one old copy inside is still one submission.
    (klass / "alice" / "old").mkdir()
    write_modules(klass / "alice" / "old", {"sigmoid": SIGMOID})
    assert loader.discover([klass / "alice"]) == [klass / "alice"]


def test_feedback_for_a_name_that_is_not_utf8_is_written(tmp_path):
    """Does ``--feedback`` write the page of a folder named in Latin-1, under the folder's own
    bytes, with the name shown escaped, instead of crashing?"""
    klass = tmp_path / "class"
    klass.mkdir()
    name = os.fsdecode(b"caf\xe9")  # a surrogate escape, as os.listdir gives it
    write_modules(klass / name, {"sigmoid": SIGMOID})
    out, feedback = tmp_path / "out", tmp_path / "feedback"
    result = CliRunner().invoke(main, ["grade", str(klass), "--out", str(out),
                                       "--feedback", str(feedback)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert os.listdir(os.fsencode(out)) == [b"caf\xe9.json"]
    assert os.listdir(os.fsencode(feedback)) == [b"caf\xe9.html"]
    page = (feedback / f"{name}.html").read_bytes().decode("utf-8")
    assert "caf\\xe9" in page and "10 / 100" in page
