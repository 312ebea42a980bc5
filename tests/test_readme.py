"""Every command the README shows, run as a reader would run it.

The convention, which ``test_every_command_block_is_run_or_marked_not_run`` holds the
README to:

- a command block is fenced as ``sh`` (``bash``, ``shell`` and ``console`` count too): one
  command a line, as bash runs it, no prompt and no output; a ``python`` block is code a
  reader runs. Output and diagrams go in unlabelled (or ``text``) blocks, and a line of one
  of those may not start like a command.
- every command block is run by the test named for it in ``CLAIMS`` (which finds it by a
  piece of its text), or is marked, on the line right before its fence, with
  ``<!-- not run: REASON -->``; ``test_a_block_marked_not_run`` lists each of those, with
  its reason, as a skipped test.

A block runs in bash, a line at a time: any command that exits non-zero stops it and fails
the test (the README says so where a command should fail, and the test runs that command
alone). Each runs in a temporary folder with a temporary HOME: with the grader of this
venv, or, for the blocks that install, in a copy of this checkout and a fresh venv of their
own (``slow``). Commands that grade grade the example submissions, and what they print is
checked against what the README shows.
"""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import contract
from tests.conftest import EXAMPLES, ROOT, SOLUTIONS

FIRST = contract.exercises("backprop")  # the first assignment: what nbgrader's block releases

README = ROOT / "README.md"
COMMAND_LANGUAGES = ("sh", "bash", "shell", "console")
RUNNABLE = (*COMMAND_LANGUAGES, "python")
# The first word of a line that makes an unlabelled block look like commands.
COMMAND_WORDS = ("grader ", "pip ", "python ", "python3 ", "nbgrader ", "pytest ", "cd ",
                 "mkdir ", "cp ", "unzip ", "bash ", "scripts/", "ruff ", "mypy", "$ ")
# A piece of the README's summary table of the examples, found in that output block only.
TABLE = "alice_correct "
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->\s*$", re.DOTALL)

# Which test runs which block: a piece of text found in that block and in no other.
CLAIMS = {
    "cd backprop-lab": "test_a_student_installs_the_bundle_and_checks_their_work",
    "grader check sigmoid": "test_a_student_installs_the_bundle_and_checks_their_work",
    "numerical_gradient(": "test_a_student_installs_the_bundle_and_checks_their_work",
    "grader grade examples/submissions": "test_the_two_commands_grade_the_examples",
    "grader release backprop-lab": "test_an_instructor_hands_out_grades_and_reports",
    "bench/speed.py --check": "test_the_benchmark_of_grader_check_runs",
    "grader nbgrader course": "test_nbgrader_and_the_grader_give_the_examples_the_same_scores",
    "nbgrader autograde": "test_nbgrader_and_the_grader_give_the_examples_the_same_scores",
    "grader grade submitted": "test_nbgrader_and_the_grader_give_the_examples_the_same_scores",
    "grader gradescope autograder.zip": "test_the_gradescope_autograder_grades_bob_on_this_machine",
    "run_autograder": "test_the_gradescope_autograder_grades_bob_on_this_machine",
    "ruff check .": "test_a_developer_sets_up_and_lints_a_clean_checkout",
    "grader class reports": "test_an_instructor_looks_at_the_class_as_a_whole",
}


# -- the README's blocks ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    line: int              # of the opening fence, from 1
    language: str          # the fence's info string, "" when there is none
    text: str
    section: str           # the heading above it
    not_run: str | None    # the reason given in <!-- not run: ... --> right before it

    @property
    def runnable(self) -> bool:
        return self.language in RUNNABLE

    @property
    def where(self) -> str:
        return f"README.md line {self.line} ({self.section})"

    def commands(self) -> list[str]:
        """Its commands, a line each (backslash continuations joined), comments dropped."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        return [line.strip() for line in joined.splitlines()
                if line.strip() and not line.strip().startswith("#")]


def read_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks, section, i = [], "", 0
    while i < len(lines):
        opening = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if not opening:
            if re.match(r"^#{1,6} ", lines[i]):
                section = lines[i].lstrip("#").strip()
            i += 1
            continue
        fence, start = opening.group(1), i
        i += 1
        while i < len(lines) and not (lines[i].startswith(fence[0] * len(fence))
                                      and not lines[i].strip(fence[0]).strip()):
            i += 1
        before = "\n".join(lines[:start]).rstrip()
        comment = before[before.rfind("<!--"):] if before.endswith("-->") else ""
        marked = NOT_RUN.match(comment)
        blocks.append(Block(start + 1, opening.group(2).lower(),
                            "\n".join(lines[start + 1:i]) + "\n", section,
                            " ".join(marked.group(1).split()) if marked else None))
        i += 1
    return blocks


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))


def block(claim: str) -> Block:
    """The one runnable block that holds ``claim``."""
    found = [b for b in BLOCKS if b.runnable and claim in b.text]
    assert len(found) == 1, f"{len(found)} runnable README blocks hold {claim!r}"
    assert found[0].not_run is None, f"{found[0].where} is marked not run"
    return found[0]


def shown(piece: str) -> list[str]:
    """The lines of the one output block (unlabelled) that holds ``piece``."""
    found = [b for b in BLOCKS if b.language in ("", "text") and piece in b.text]
    assert len(found) == 1, f"{len(found)} README output blocks hold {piece!r}"
    return [line.rstrip() for line in found[0].text.splitlines()]


def assert_shows(output: str, expected: list[str]) -> None:
    """The README's output lines appear in ``output``, one after the other, as shown."""
    lines = [line.rstrip() for line in output.splitlines()]
    starts = [i for i, line in enumerate(lines) if line == expected[0]]
    assert any(lines[i:i + len(expected)] == expected for i in starts), \
        "\n".join(["the README shows:", *expected, "the command printed:", *lines])


def shown_totals() -> dict[str, float]:
    """{submission: total points} from the README's summary table of the examples."""
    rows = [line.split() for line in shown(TABLE)[1:] if "/" in line]
    return {row[0]: float(row[-1].split("/")[0]) for row in rows}


# -- running a block --------------------------------------------------------------------


@dataclass(frozen=True)
class Shell:
    """A reader's shell: a HOME of its own and, when ``venv`` is given, that venv active;
    otherwise ``python3`` is the interpreter this venv was made from and no venv is on
    the PATH."""

    home: Path
    venv: Path | None = None

    def env(self) -> dict[str, str]:
        drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "IPYTHONDIR")
        env = {k: v for k, v in os.environ.items()
               if k not in drop and not k.startswith(("XDG_", "JUPYTER"))}
        ours = {str(Path(sys.executable).parent), str(Path(sys.prefix) / "bin")}
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in ours]
        if self.venv is None:
            shim = self.home / ".python3"
            if not shim.exists():
                shim.mkdir(parents=True)
                base = getattr(sys, "_base_executable", sys.executable)
                (shim / "python3").symlink_to(os.path.realpath(base))
            path.insert(0, str(shim))
        else:
            path.insert(0, str(self.venv / "bin"))
            if (self.venv / "pyvenv.cfg").is_file():
                env["VIRTUAL_ENV"] = str(self.venv)
        self.home.mkdir(parents=True, exist_ok=True)
        env.update(HOME=str(self.home), PATH=os.pathsep.join(path))
        return env

    def run(self, commands: list[str], cwd: Path, *, timeout: float = 900,
            ) -> subprocess.CompletedProcess[str]:
        """Run ``commands`` in one bash, a line at a time; the first that fails ends it."""
        script = ["set -o pipefail"]
        for command in commands:
            said = f"README command failed: {command}".replace("'", "'\\''")
            script += [command, f"rc=$?; if [ $rc -ne 0 ]; then echo '{said}' \"(exit $rc)\" >&2;"
                                " exit $rc; fi"]
        return subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)


def this_venv(home: Path) -> Shell:
    """A shell with the grader of this venv (or of this interpreter, outside a venv)."""
    return Shell(home, Path(sys.prefix))


def ok(done: subprocess.CompletedProcess[str], what: Block | str) -> str:
    where = what.where if isinstance(what, Block) else what
    assert done.returncode == 0, \
        f"{where}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    return done.stdout


IGNORED = shutil.ignore_patterns(".git", "__pycache__", ".venv", "venv", ".hypothesis",
                                 ".mypy_cache", ".ruff_cache", ".pytest_cache", "mutants",
                                 "build", "dist", "*.egg-info")
# What following the README in a checkout leaves there; a fresh checkout has none of it.
LEFT_BY_THE_README = {"reports", "feedback", "course", "autograder.zip", "backprop-lab",
                      "submissions", "grades.csv", "grader-grades.csv"}


def copy_checkout(dest: Path) -> Path:
    """This checkout as a fresh clone of it would be, with its files as they are now."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        left = LEFT_BY_THE_README & set(names) if Path(folder) == ROOT else set()
        return set(IGNORED(folder, names)) | left

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def slow_base(tmp_path_factory, name: str) -> Path:
    """A folder outside tmp_path: conftest reads every .json under tmp_path, a venv's too."""
    return tmp_path_factory.mktemp(name)


# -- the convention ---------------------------------------------------------------------


def test_every_command_block_is_run_or_marked_not_run():
    """Is every command block run by the test CLAIMS names, or marked not run with a reason,
    and does no output block hold a command?"""
    assert len([b for b in BLOCKS if b.runnable]) >= 10
    for claim, test in CLAIMS.items():
        assert callable(globals().get(test)), f"CLAIMS names {test}, which is not a test here"
        block(claim)  # exactly one runnable block, not marked not run
    for b in BLOCKS:
        if b.runnable:
            claimed = [claim for claim in CLAIMS if claim in b.text]
            if b.not_run is not None:
                assert b.not_run, f"{b.where}: say why it is not run"
                assert not claimed, f"{b.where} is marked not run, yet {claimed} claims it"
            else:
                assert claimed, (f"{b.where}: no test runs this block; run it in "
                                 "tests/test_readme.py (CLAIMS) or mark it <!-- not run: why -->")
        else:
            assert b.not_run is None, f"{b.where}: only a command block can be marked not run"
            for line in b.text.splitlines():
                assert not line.startswith(COMMAND_WORDS), \
                    f"{b.where}: {line!r} looks like a command; fence its block as sh"


@pytest.mark.parametrize("marked", [b for b in BLOCKS if b.not_run is not None],
                         ids=lambda b: f"line{b.line}")
def test_a_block_marked_not_run(marked):
    """Which README blocks are not run, and why (listed as skipped tests)."""
    assert marked.runnable and marked.not_run
    commands = [re.sub(r"\s+#.*$", "", line) for line in marked.commands()]
    pytest.skip(f"{marked.where}, not run: {marked.not_run}: " + "; ".join(commands))


def test_a_block_left_to_ci_is_what_ci_runs():
    """Is each command of a block left to CI a line of .ci/run, which CI runs?"""
    ci = {line.strip() for line in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()}
    left = [b for b in BLOCKS if b.not_run and ".ci/run" in b.not_run]
    assert left
    for b in left:
        for line in b.commands():
            for command in line.split("#")[0].split("&&"):
                assert command.strip() in ci, f"{b.where}: .ci/run does not run {command!r}"


# -- instructors (fast: the grader of this venv) ---------------------------------------


def test_an_instructor_hands_out_grades_and_reports(tmp_path):
    """With the examples as the class's submissions, does the instructors' block release a
    bundle without solutions, print the README's summary table, write a report and a
    feedback page per student and the gradebook with the README's totals, and name Bob's
    four mistakes?"""
    commands = block("grader release backprop-lab").commands()
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES, work / "submissions")
    out = ok(this_venv(tmp_path / "home").run(commands, work), "the instructors' block")

    assert_shows(out, shown(TABLE))
    assert (work / "backprop-lab" / "exercises" / "sigmoid.py").is_file()
    assert not (work / "backprop-lab" / "solutions").exists()
    ids = sorted(p.name for p in EXAMPLES.iterdir())
    assert sorted(p.stem for p in (work / "reports").glob("*.json")) == ids
    assert sorted(p.stem for p in (work / "feedback").glob("*.html")) == ids
    with open(work / "grades.csv", newline="", encoding="utf-8") as stream:
        totals = {row["id"]: float(row["total"]) for row in csv.DictReader(stream)}
    assert totals == shown_totals() == {"alice_correct": 100, "bob_mistakes": 63,
                                        "carol_unfinished": 27}
    bob = json.loads((work / "reports" / "bob_mistakes.json").read_text(encoding="utf-8"))
    named = {t["misconception"]: t["hint"] for e in bob["exercises"] for t in e["tests"]
             if t["misconception"]}
    assert sorted(named) == ["chain-fanout-dropped", "dense-bias-not-summed",
                             "mse-grad-missing-2", "sigmoid-exponent-sign"]
    for hint in named.values():
        assert hint.split(". ")[0] in out
    # Neither Bob's page nor his report says what a hidden test checks.
    page = (work / "feedback" / "bob_mistakes.html").read_text(encoding="utf-8")
    hidden = [t["message"] for e in bob["exercises"] for t in e["tests"]
              if t["visibility"] == "hidden" and t["message"]]
    assert len(hidden) == 4
    for message in hidden:
        assert html.escape(message) not in page and message not in page and message not in out


def test_an_instructor_looks_at_the_class_as_a_whole(tmp_path):
    """After grading the examples, does the class block write the overview page with the
    similar pairs, the ranked CSV, and print the shared code of the pair it names?"""
    commands = block("grader class reports").commands()
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES, work / "submissions")
    shell = this_venv(tmp_path / "home")
    ok(shell.run(["grader grade submissions --out reports"], work), "grading the class")
    out = ok(shell.run(commands, work), "the class block")

    page = (work / "class.html").read_text(encoding="utf-8")
    for section in ("Named mistakes", "Similar submissions", "a reason to look, not a verdict",
                    "sigmoid-exponent-sign"):
        assert section in page, section
    with open(work / "similarity.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert {(row["a"], row["b"]) for row in rows} == {
        ("alice_correct", "bob_mistakes"), ("alice_correct", "carol_unfinished"),
        ("bob_mistakes", "carol_unfinished")}
    assert "a reason to look, not a verdict" in out
    assert "alice_correct/training.py" in out and "bob_mistakes/training.py" in out


# -- the slow ones: fresh venvs, nbgrader, the Gradescope autograder --------------------


@dataclass(frozen=True)
class Checkout:
    root: Path                                 # a copy of this checkout
    venv: Path                                 # made and filled by the two commands
    home: Path
    installed: subprocess.CompletedProcess[str]

    def shell(self) -> Shell:
        return Shell(self.home, self.venv)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Checkout:
    """A copy of the checkout where the two commands (a fresh venv, pip install .,
    grader grade) have been run, as "The two commands" says, on a fresh machine."""
    base = slow_base(tmp_path_factory, "readme-checkout")
    root = copy_checkout(base / "checkout")
    home = base / "home"
    done = Shell(home).run(block("grader grade examples/submissions").commands(), root)
    return Checkout(root, root / ".venv", home, done)


@pytest.mark.slow
def test_the_two_commands_grade_the_examples(checkout):
    """On a fresh venv, do the two commands install the grader and print the README's
    table, with a report per example?"""
    out = ok(checkout.installed, block("grader grade examples/submissions"))
    assert_shows(out, shown(TABLE))
    assert out.rstrip().splitlines()[-1] == shown(TABLE)[-1]
    ids = sorted(p.name for p in EXAMPLES.iterdir())
    assert sorted(p.stem for p in (checkout.root / "reports").glob("*.json")) == ids


@pytest.mark.slow
def test_a_student_installs_the_bundle_and_checks_their_work(tmp_path_factory):
    """From the bundle grader release makes: does the editable install work from any
    folder, grader check fail (exit 1) on the stubs, and every check command exit 0 once
    the work is done, with the plot; and does the gradient-checker snippet agree?"""
    base = slow_base(tmp_path_factory, "readme-student")
    home = base / "home"
    ok(this_venv(home).run(["grader release backprop-lab"], base), "grader release")
    bundle = base / "backprop-lab"
    install = block("cd backprop-lab")
    ok(Shell(home).run(install.commands(), base), install)
    student = Shell(home, bundle / ".venv")

    # Editable: from any folder, exercises.sigmoid is the file in the bundle.
    where = ok(student.run(["python -c 'import exercises.sigmoid as m; print(m.__file__)'"],
                           home), "import exercises.sigmoid")
    assert Path(where.strip()) == bundle / "exercises" / "sigmoid.py"

    check = block("grader check sigmoid")
    first = check.commands()[0]
    assert first.split("#")[0].split() == ["grader", "check"]
    stubs = student.run([first], bundle)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr  # "1 when one does not"
    assert stubs.stdout.count("not implemented") == len(contract.exercises())

    for path in SOLUTIONS.glob("*.py"):  # the student's finished work
        if path.name != "__init__.py":
            shutil.copyfile(path, bundle / "exercises" / path.name)
    out = ok(student.run(check.commands(), bundle), check)
    assert out.count("[ok] ") == len(contract.exercises()) + 1 + 1, out
    assert "training loss of your train(" in out and "step" in out
    assert "Failed example" not in out

    snippet = block("numerical_gradient(")
    script = base / "snippet.py"
    script.write_text(snippet.text, encoding="utf-8")
    printed = ok(student.run([f"python {script}"], bundle), snippet)
    assert float(printed) <= 1e-7


@pytest.mark.slow
def test_the_benchmark_of_grader_check_runs(checkout):
    """Does the benchmark block install the test extra and time grader check?"""
    bench = block("bench/speed.py --check")
    out = ok(checkout.shell().run(bench.commands(), checkout.root), bench)
    assert re.search(r"grader check, whole course \(\d+ exercises\): median", out), out


def filled(notebook: dict, code: str) -> dict:
    """A released notebook with its answer cell replaced by ``code``."""
    answers = [c for c in notebook["cells"] if c["cell_type"] == "code"
               and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert len(answers) == 1
    answers[0]["source"] = code
    return notebook


def submit_examples_as_notebooks(course: Path) -> None:
    """course/submitted/<example>/backprop/*.ipynb: each released notebook with the example
    submission's module as its answer."""
    for example in sorted(EXAMPLES.iterdir()):
        folder = course / "submitted" / example.name / "backprop"
        folder.mkdir(parents=True)
        for released in sorted((course / "release" / "backprop").glob("*.ipynb")):
            found = list(example.glob(f"{released.stem}.py")) \
                + list(example.glob(f"exercises/{released.stem}.py"))
            notebook = json.loads(released.read_text(encoding="utf-8"))
            code = found[0].read_text(encoding="utf-8")
            (folder / released.name).write_text(json.dumps(filled(notebook, code)),
                                                 encoding="utf-8")


@pytest.mark.slow
def test_nbgrader_and_the_grader_give_the_examples_the_same_scores(checkout):
    """Do the nbgrader blocks make, release, autograde, give feedback on and export the
    examples (as notebooks), and do nbgrader and the grader both give the README's
    totals?"""
    if importlib.util.find_spec("nbgrader") is None:
        pytest.skip("nbgrader is not installed (pip install '.[test]')")
    shell, course = checkout.shell(), checkout.root / "course"
    setup = block("grader nbgrader course")
    ok(shell.run(setup.commands(), checkout.root), setup)
    assert len(list((course / "release" / "backprop").glob("*.ipynb"))) == len(FIRST)
    submit_examples_as_notebooks(course)

    graded = block("nbgrader autograde")
    ok(shell.run(graded.commands(), course), graded)
    ids = sorted(p.name for p in EXAMPLES.iterdir())
    for student in ids:
        assert len(list((course / "feedback" / student / "backprop").glob("*.html"))) == len(FIRST)
    with open(course / "grades.csv", newline="", encoding="utf-8") as stream:
        by_nbgrader = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}

    ours = block("grader grade submitted")
    out = ok(shell.run(ours.commands(), course), ours)
    assert sorted(p.stem for p in (course / "reports").glob("*.json")) == ids
    outputs = [c.split("-o ")[1].split()[0] for c in ours.commands() if "gradebook" in c]
    with open(course / outputs[0], newline="", encoding="utf-8") as stream:
        by_grader = {row["id"]: float(row["total"]) for row in csv.DictReader(stream)}
    assert by_nbgrader == by_grader == shown_totals()
    assert_shows(out, shown(TABLE))
    # nbgrader's export is still there beside the grader's gradebook.
    assert (course / "grades.csv").read_text(encoding="utf-8").startswith("assignment,")


@pytest.mark.slow
def test_the_gradescope_autograder_grades_bob_on_this_machine(checkout):
    """Does grader gradescope write the zip, and, tried as the README says (its /tmp/ag
    in a temporary folder), does setup.sh say the isolation and run_autograder give Bob
    the README's score in a results.json?"""
    shell = checkout.shell()
    made = block("grader gradescope autograder.zip")
    ok(shell.run(made.commands(), checkout.root), made)
    assert (checkout.root / "autograder.zip").is_file()

    tried = block("run_autograder")
    assert "/tmp/ag" in tried.text
    ag = checkout.home.parent / "ag"
    commands = [c.replace("/tmp/ag", str(ag)) for c in tried.commands()]
    out = ok(shell.run(commands, checkout.root), tried)
    assert "grader: isolation: " in out
    results = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == shown_totals()["bob_mistakes"]
    assert json.loads(out[out.rindex("\n{") + 1:]) == results  # json.tool printed it last


@pytest.mark.slow
def test_a_developer_sets_up_and_lints_a_clean_checkout(tmp_path_factory):
    """In a fresh copy of the checkout, does the developers' setup install it editable with
    the test and dev extras, and do ruff and mypy find nothing?"""
    base = slow_base(tmp_path_factory, "readme-developer")
    root = copy_checkout(base / "checkout")
    setup = block("ruff check .")
    out = ok(Shell(base / "home").run(setup.commands(), root), setup)
    assert "All checks passed!" in out and "Success: no issues found" in out
    where = ok(Shell(base / "home", root / ".venv").run(
        ["python -c 'import grader, nbgrader, hypothesis; print(grader.__file__)'"], base),
        "import grader")
    assert Path(where.strip()) == root / "grader" / "__init__.py"
