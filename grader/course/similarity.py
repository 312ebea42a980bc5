"""Similar submissions, found the way MOSS finds them: winnowed k-gram fingerprints.

Each exercise module is reduced to fingerprints that renaming, reformatting and
reordering do not change (:mod:`grader.course.winnowing`: Schleimer, Wilkerson and
Aiken, "Winnowing: local algorithms for document fingerprinting", SIGMOD 2003). A
submission's fingerprints are one set over all its modules, so a function moved to
another module still matches.

What does not count. Every k-gram of the handed-out code (the stubs and helpers of the
installed ``exercises`` package: signatures, docstrings, given lines) is removed, so a
student who filled in nothing has no fingerprint at all. A fingerprint found in more
than ``common`` of the class, and in more than ``COMMON_FLOOR`` submissions, is code
the course makes everybody write, and is ignored as well: MOSS's ``-m`` (10 by
default) for a small class, so that a class of 2 or 20 still compares everything, and a
share of it for a large one.

A pair's similarity is the share of the smaller submission's fingerprints that the
other has too (each side's share is given, as MOSS does). It is flagged at
``threshold`` when it also shares at least ``MIN_SHARED`` fingerprints, more than one
idiom leaves. Pairs are found through an index of who holds each fingerprint, never by
trying all of them. The matching regions map fingerprints back to the original lines.
Everything works on the submissions alone: nothing leaves this machine.
"""

from __future__ import annotations

import csv
import io
import itertools
import textwrap
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader import contract
from grader.course.winnowing import GAP, K, W, Where, fingerprints, handed_out, normalise
from grader.errors import GraderError, TooFewSubmissions
from grader.grading import submission

__all__ = ["CAVEAT", "COMMON_FLOOR", "DEFAULT_COMMON", "DEFAULT_THRESHOLD", "K", "MIN_SHARED",
           "W", "Pair", "Region", "Similarity", "compare", "normalise", "side_by_side",
           "to_csv"]

# Measured on the course's examples (tests/test_similarity.py): a disguised copy shares
# all of its fingerprints (1.0); independent correct solutions 0.40 at most (Alice's and
# the reference, whose sigmoid, init_params and training loop are line for line alike),
# mostly under 0.05; half of one's work copied gives about 0.5. Half is a reason to look.
DEFAULT_THRESHOLD = 0.5
DEFAULT_COMMON = 0.1
COMMON_FLOOR = 10
# Eight fingerprints are about 50 tokens, four lines: fewer are never flagged, whatever
# the share, or two students who wrote one function alike would be, at 100 %.
MIN_SHARED = 8
CAVEAT = ("A similarity is a reason to look, not a verdict: short exercises have few "
          "ways to be solved, so read both submissions side by side before concluding "
          "anything, and hear the students.")


@dataclass(frozen=True)
class Region:
    a_module: str
    a_lines: tuple[int, int]
    b_module: str
    b_lines: tuple[int, int]
    a_text: str
    b_text: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float
    a_share: float
    b_share: float
    shared: int
    flagged: bool
    regions: tuple[Region, ...]

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "similarity": self.similarity,
                "a_share": self.a_share, "b_share": self.b_share, "shared": self.shared,
                "flagged": self.flagged,
                "regions": [{"a_module": r.a_module, "a_lines": list(r.a_lines),
                             "b_module": r.b_module, "b_lines": list(r.b_lines),
                             "a_text": r.a_text, "b_text": r.b_text} for r in self.regions]}


@dataclass(frozen=True)
class Similarity:
    pairs: tuple[Pair, ...]
    threshold: float
    compared: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


# -- a class ----------------------------------------------------------------------------


@dataclass
class _Read:
    id: str
    sources: dict[str, str]
    prints: dict[int, list[Where]]
    offsets: dict[str, list[int]] = field(default_factory=dict)
    texts: dict[Where, str] = field(default_factory=dict)

    def text(self, module: str, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` of a module as they are in its file, numbered as
        the scanner numbers them (one line per "\\n"). One string for all the pairs
        that show these lines: in a large class they are many."""
        if (module, first, last) not in self.texts:
            if module not in self.offsets:
                self.offsets[module] = [0, *itertools.accumulate(
                    len(line) + 1 for line in self.sources[module].split("\n"))]
            offsets = self.offsets[module]
            self.texts[module, first, last] = \
                self.sources[module][offsets[first - 1]:offsets[last] - 1]
        return self.texts[module, first, last]


def _read_class(paths: Sequence[Path], modules: set[str], skip: set[int],
                skipped: list[tuple[str, str]]) -> list[_Read]:
    read: dict[str, _Read] = {}
    # A module handed in by many as it is (a stub, a shared file) is fingerprinted once.
    seen: dict[tuple[str, str], list[tuple[int, Where]]] = {}
    for path in submission.discover([Path(p) for p in paths]):
        if submission.submission_id(path) in read:  # named twice (discover allows that)
            continue
        try:
            sub = submission.load(path)
        except GraderError as error:  # one unreadable submission costs itself only
            skipped.append((submission.submission_id(path), str(error)))
            continue
        sources = {m: s for m, s in sub.sources.items() if m in modules}
        broken = [f"{m}: {why}" for m, why in sorted(sub.broken.items()) if m in modules]
        if not sources:
            skipped.append((sub.id, "; ".join(broken) or "holds no module to compare"))
            continue
        skipped.extend((sub.id, f"{why}; the rest is compared") for why in broken)
        prints: dict[int, list[Where]] = defaultdict(list)
        for module in sorted(sources):
            key = (module, sources[module])
            if key not in seen:
                seen[key] = fingerprints(module, sources[module], skip)
            for value, where in seen[key]:
                prints[value].append(where)
        read[sub.id] = _Read(sub.id, sources, prints)
    return [read[sub_id] for sub_id in sorted(read)]


def compare(paths: Sequence[Path], *, threshold: float = DEFAULT_THRESHOLD,
            stubs: Path | None = None, common: float = DEFAULT_COMMON,
            min_shared: int = MIN_SHARED, assignment: str | None = None) -> Similarity:
    """Rank the pairs of submissions in ``paths`` by similarity (see the module's text).

    ``paths`` are as on the command line: submissions, or class folders of them.
    ``stubs``: the folder of the handed-out modules, whose code does not count (the
    installed ``exercises`` package by default). ``common``: a fingerprint in more than
    this share of the submissions (and in more than COMMON_FLOOR of them) is ignored.
    ``min_shared``: a pair is flagged when its similarity is at least ``threshold`` and
    it shares at least this many fingerprints. ``assignment``: compare only its modules
    (every exercise module by default).

    A submission that cannot be read is left out and listed in ``skipped`` with the
    reason, and so is a module of one that cannot (the rest of it is compared); raises
    TooFewSubmissions when fewer than two submissions remain.
    """
    if not 0 <= threshold <= 1 or not 0 < common <= 1:
        raise ValueError(f"threshold must be in [0, 1] and common in (0, 1], not "
                         f"{threshold} and {common}")
    skipped: list[tuple[str, str]] = []
    modules = set(contract.exercise_names(assignment))
    read = _read_class(paths, modules, handed_out(stubs), skipped)
    if len(read) < 2:
        raise TooFewSubmissions(len(read), tuple(skipped))
    counts = Counter(value for r in read for value in r.prints)
    limit = max(COMMON_FLOOR, common * len(read))
    own = [{value for value in r.prints if counts[value] <= limit} for r in read]
    holders: dict[int, list[int]] = defaultdict(list)
    for index, values in enumerate(own):
        for value in values:
            if counts[value] > 1:
                holders[value].append(index)
    together: Counter[tuple[int, int]] = Counter()
    for indices in holders.values():  # the inverted index: only pairs that share something
        together.update(itertools.combinations(indices, 2))
    pairs = []
    for (i, j), shared in together.items():
        a_share, b_share = shared / len(own[i]), shared / len(own[j])
        similarity = max(a_share, b_share)
        pairs.append(Pair(read[i].id, read[j].id, round(similarity, 6), round(a_share, 6),
                          round(b_share, 6), shared,
                          similarity >= threshold and shared >= min_shared,
                          _regions(read[i], read[j], own[i] & own[j])))
    pairs.sort(key=lambda p: (-p.similarity, -p.shared, p.a, p.b))
    return Similarity(tuple(pairs), threshold, tuple(r.id for r in read), tuple(skipped))


# -- what matched -----------------------------------------------------------------------


def _regions(a: _Read, b: _Read, shared: set[int]) -> tuple[Region, ...]:
    """The shared fingerprints merged into runs of adjacent lines on both sides.

    A fingerprint found once on each side places a run; one found several times (an
    idiom repeated in many functions) only extends a run next to it, or, when nothing
    is, is shown once, where its modules agree if they can."""
    once = sorted((a.prints[v][0], b.prints[v][0]) for v in shared
                  if len(a.prints[v]) == 1 == len(b.prints[v]))
    runs: list[list] = []  # [a_module, a_first, a_last, b_module, b_first, b_last]
    for wa, wb in once:
        if not _extend(runs, wa, wb):
            runs.append([*wa, *wb])
    left = []
    for value in sorted(shared, key=lambda v: a.prints[v][0]):
        for wa in a.prints[value]:
            if not any(_extend(runs, wa, wb) for wb in b.prints[value]):
                left.append((wa, min(b.prints[value], key=lambda wb: wb[0] != wa[0])))
    for wa, wb in sorted(left):
        if not _extend(runs, wa, wb):
            runs.append([*wa, *wb])
    runs.sort()
    return tuple(Region(r[0], (r[1], r[2]), r[3], (r[4], r[5]),
                        a.text(r[0], r[1], r[2]), b.text(r[3], r[4], r[5]))
                 for r in runs)


def _extend(runs: list[list], wa: Where, wb: Where) -> bool:
    """Grow the run that ``wa``/``wb`` touch on both sides, if there is one."""
    for run in runs:
        if (run[0] == wa[0] and run[3] == wb[0]
                and run[1] - GAP - 1 <= wa[2] and wa[1] <= run[2] + GAP + 1
                and run[4] - GAP - 1 <= wb[2] and wb[1] <= run[5] + GAP + 1):
            run[1:3] = min(run[1], wa[1]), max(run[2], wa[2])
            run[4:6] = min(run[4], wb[1]), max(run[5], wb[2])
            return True
    return False


# -- outputs ----------------------------------------------------------------------------


def to_csv(similarity: Similarity) -> str:
    """One row per pair, most similar first; shares as fractions with 3 decimals."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["a", "b", "similarity", "a_share", "b_share", "shared", "flagged"])
    for p in similarity.pairs:
        writer.writerow([p.a, p.b, f"{p.similarity:.3f}", f"{p.a_share:.3f}",
                         f"{p.b_share:.3f}", p.shared, "yes" if p.flagged else "no"])
    return stream.getvalue()


def side_by_side(pair: Pair, width: int = 100) -> str:
    """The matching regions of a pair as text at most ``width`` wide (40 at the least):
    a's lines on the left, b's on the right, each with its line number in its file."""
    width = max(40, width)
    column = (width - 3) // 2
    out = textwrap.wrap(f"{pair.a} and {pair.b}: similarity {pair.similarity:.0%} "
                        f"({pair.a_share:.0%} of {pair.a}, {pair.b_share:.0%} of {pair.b}; "
                        f"{pair.shared} fingerprints shared).", width)
    out += textwrap.wrap(CAVEAT, width)
    for number, region in enumerate(pair.regions, start=1):
        left = f"{number}. {pair.a}/{region.a_module}.py, lines {_span(region.a_lines)}"
        right = f"{pair.b}/{region.b_module}.py, lines {_span(region.b_lines)}"
        out += ["", f"{_cell(left, column)} | {_cell(right, column)}".rstrip()]
        a_rows = _numbered(region.a_text, region.a_lines[0])
        b_rows = _numbered(region.b_text, region.b_lines[0])
        out += [f"{_cell(x, column)} | {_cell(y, column)}".rstrip()
                for x, y in itertools.zip_longest(a_rows, b_rows, fillvalue="")]
    return "\n".join(out) + "\n"


def _span(lines: tuple[int, int]) -> str:
    return f"{lines[0]}-{lines[1]}" if lines[1] > lines[0] else str(lines[0])


def _numbered(text: str, first: int) -> list[str]:
    # Split as the lines were numbered: on "\n" only (splitlines() also splits on \f).
    lines = [line.rstrip("\r").expandtabs(4) for line in text.split("\n")]
    return [f"{first + offset:4d}  {line}" for offset, line in enumerate(lines)]


def _cell(text: str, width: int) -> str:
    return text[:width - 1] + "~" if len(text) > width else text.ljust(width)
