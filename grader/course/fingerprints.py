"""The bundle's fingerprints: what each known mistake returns on the public tests' inputs.

The student bundle has no reference, so :func:`grader.grading.misconceptions.diagnose`
cannot recompute a mistake's output there. At release time this module grades the
reference with every autotest, exactly as grading does, and listens to each
``expect.diagnosing``, failing or not: every (function, inputs) a public test may ask a
diagnosis for. For each it computes what ``diagnose`` would compare with (every
catalogued variant that these inputs tell apart from the right answer) and writes one
digest per variant (:mod:`grader.grading.digests`) to ``grader/grading/fingerprints.json``
in the bundle, under the key of the inputs. Nothing is written per test by hand: the
public tests that exist at release time are the ones fingerprinted, and an input a test
derives from the student's own earlier output (the layer output h of the dense chain
test, the trained params) is fingerprinted at the reference's value, which a student
whose earlier step is right reproduces to round-off.

What the file holds, and why it gives nothing away
--------------------------------------------------
Keys and digests are 128-bit BLAKE2b hashes; beside them, only each mistake's id (the
bundle's catalogue has them all) and the form of its output: dict keys and array shapes,
which the contract states. No number, no input, no test name.

- Reference code: none. The digests are made here, in the instructor's process.
- Hidden tests and their inputs: each call is attributed to its test (pytest's
  ``PYTEST_CURRENT_TEST``; a call from no known test counts as hidden). A hidden test's
  inputs are only held in memory, to leave out a public input that a hidden test also
  grades; nothing of them is written. The release's own leak check (no hidden test's
  name, no solution marker) reads this file like every other.
- Right answers. Every key is a public test's input, and a public test never sees the
  reference (its fixture refuses), so whatever a visible test holds a student to is in
  the bundle already: a pinned value, or one the test computes (central differences of
  the contract's function). A variant's output is the right answer with one thing
  changed, and most give it back: a sign, a factor 2 or N, a transposed dW, an unsummed
  db, the parts a dropped chain-rule branch leaves untouched, a loss curve shifted by
  one step. Where the visible test holds the whole answer that is nothing new; at
  some public inputs it holds only part of it, and values would give the rest away:
  the trained params and loss curve of the default training on the gender table (its
  test asks for a loss below 0.02 and four right classifications), dJ/dd, dJ/db, dJ/dc
  and dJ/da at the chain rule test's random x (it checks dJ/dx), forward's output on the
  gender table (only its shape is checked there). So no output is shipped as values:
  every one is a digest. Sorting the inputs into "answer held by a visible test" or not
  would be a rule per test that a new visible test could silently break.
- What a digest still allows: confirming a guess. Where a variant's output holds a
  single unknown number, about 10^7 guesses would find it. At today's inputs that
  happens where the visible test pins the answer or computes it by central differences
  (sigma(7), sigma'(-3), the batches of one in the gradient checks), and at Alice's
  output layer in the dense chain test (dx, dW and db there all follow from dL/dz of
  the output neuron), whose answer the exercise text's worked example gives
  (dX = [[-0.2376175595, -0.2376175595]]). Elsewhere the unknown numbers are several:
  a guess that a digest could confirm would already be the answer.

The comparison
--------------
In the bundle, ``diagnose`` checks the output's structure as ``_close`` does, then
compares the digest of its numbers rounded to 21 significant bits. Equal digests put
every number within ``_close``'s tolerance of the prediction, so the bundle never names
a mistake that the instructor's grader would not name for the same output; an output
that ``_close`` accepts misses only when a number sits within its own round-off of a
rounding step (about 1e-9 per number for the same mistake computed another way). A key
is the inputs rounded to 24 bits, so an input carrying the student's round-off is found.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import autotests
from grader import api
from grader.course.public_tests import hidden_test_names
from grader.errors import ReleaseError
from grader.grading import digests, misconceptions

FILE = misconceptions.FINGERPRINTS.name


def _diagnosed() -> set[str]:
    return {entry.function for entry in misconceptions.catalogue() if entry.variants}


@dataclass(frozen=True)
class Fingerprints:
    inputs: int        # public inputs fingerprinted: the keys of the file
    fingerprints: int  # digests, over all of them
    left_out: int      # public inputs that a hidden test also grades, or that share a key


class _Recorder:
    """Hears every (function, inputs) the tests ask a diagnosis for. It runs in the
    grading process, which is forked, so it writes what it found to ``log``, one JSON
    line per new input: the key and the fingerprints, or for a hidden test the key only."""

    def __init__(self, hidden_names: dict[str, set[str]], log: Path):
        self.hidden_names = hidden_names  # by autotest file name
        self.log = log
        self.seen: set[str] = set()
        self.diagnosed = _diagnosed()

    def _in_hidden_test(self) -> bool:
        # pytest sets it for each test: "test_dense.py::TestX::test_y[case] (call)"
        node_id = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        file_name, _, names = node_id.partition("::")
        if not names:
            return True  # a call from no known test is treated as a hidden one's
        hidden = self.hidden_names.get(Path(file_name).name, set())
        return any(name.split("[")[0] in hidden for name in names.split("::"))

    def __call__(self, function: str, inputs: dict) -> None:
        key = digests.key(function, inputs) if function in self.diagnosed else None
        if key is None:
            return
        try:
            if self._in_hidden_test():
                seen, line = "hidden " + key, {"key": key, "hidden": True}
            else:
                # The unrounded key tells apart inputs that share a rounded one.
                seen = digests.key(function, inputs, bits=53) or key
                line = {"key": key, "fingerprints": _fingerprints(key, function, inputs)}
        except Exception as error:  # it must reach the release, not fail the test it is in
            seen, line = "error", {"error": f"{function}: {type(error).__name__}: {error}"}
        if seen not in self.seen:
            self.seen.add(seen)
            with self.log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")


def _fingerprints(key: str, function: str, inputs: dict) -> list[dict]:
    """What ``diagnose`` would compare an output with for these inputs, as digests."""
    found = []
    for entry, wrong in misconceptions.candidates(function, inputs):
        try:
            shape = digests.form(wrong)
            values = digests.numbers(wrong, shape, strict=False)
        except ValueError:  # not an output any student's could match
            continue
        digest = None if values is None else digests.digest(key, entry.id, shape, values)
        if digest is not None:  # None: a prediction that is not finite never matches
            found.append({"id": entry.id, "form": shape, "digest": digest})
    return found


def _table(log: Path) -> tuple[dict[str, list[dict]], int]:
    """The fingerprints by key from the recorder's log, and how many keys were left out:
    those a hidden test also met, and those two different inputs share."""
    found: dict[str, list[dict]] = {}
    left_out: set[str] = set()
    hidden: set[str] = set()
    lines = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
    for line in map(json.loads, lines):
        if "error" in line:
            raise ReleaseError(f"the mistakes' fingerprints could not be made: {line['error']}")
        if line.get("hidden"):
            hidden.add(line["key"])
        elif found.setdefault(line["key"], line["fingerprints"]) != line["fingerprints"]:
            left_out.add(line["key"])
    left_out |= hidden & found.keys()
    return {key: value for key, value in found.items() if key not in left_out}, len(left_out)


def _hidden_names() -> dict[str, set[str]]:
    folder = Path(autotests.__file__).resolve().parent
    return {path.name: set(hidden_test_names(path.read_text(encoding="utf-8")))
            for path in sorted(folder.glob("test_*.py"))}


def write(path: Path, solutions_dir: Path) -> Fingerprints:
    """Grade the reference in ``solutions_dir`` with every autotest and write the
    fingerprints of the public tests' inputs to ``path`` (JSON).

    Raises ReleaseError when the reference fails a test (its outputs would not be the
    right ones) or when no public test asks for a diagnosis (the listening broke).
    """
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "calls.jsonl"
        with misconceptions.listening(_Recorder(_hidden_names(), log)):
            # The reference is the instructor's own code: no kernel wall is needed against it.
            graded = api.grade([solutions_dir], None, isolation="basic", assignment=api.ALL,
                               accept_weak_isolation=True, discover=False)
        report = graded.reports[0] if graded.reports else None
        failures = ([report.error] if report.error else [
            f"{t.name} ({t.status})" for e in report.exercises for t in e.tests
            if t.status != "passed"]) if report is not None else ["it was not graded"]
        if failures:
            raise ReleaseError("the mistakes' fingerprints need the reference to pass every "
                               f"test: {', '.join(failures[:3])}")
        table, left_out = _table(log)
    if not table:
        raise ReleaseError("no public test asks for a diagnosis, so the bundle could name "
                           "no mistake: does expect.diagnosing still tell misconceptions?")
    path.write_text(json.dumps({"format": digests.FORMAT, "consults": table}, sort_keys=True),
                    encoding="utf-8")
    return Fingerprints(len(table), sum(len(found) for found in table.values()), left_out)
