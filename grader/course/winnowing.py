"""Fingerprints of Python code: winnowed k-grams of normalised tokens, as MOSS takes them.

Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003. A module is reduced to tokens that renaming and
reformatting cannot change (:func:`normalise`); every run of ``K`` tokens is hashed, and
in every window of ``W`` consecutive hashes the smallest is kept, the rightmost on a tie
(the paper's robust winnowing). Two guarantees follow, and fix K and W:

- a run of code two modules share that is at least ``W + K - 1`` tokens long (26: two
  or three lines of numpy) leaves the same fingerprint in both, so it is found;
- a run shorter than ``K`` tokens (15: about one line) never matches on its own, so one
  idiomatic line everybody writes (``x = np.asarray(x, dtype=np.float64)``) is no
  evidence. The course's answers are short, hence K no larger: a function of two lines
  still leaves a fingerprint.

No k-gram or window spans two top-level functions (each ``def``, ``class`` or decorator
at the margin starts a new part), so the order of a module's functions changes no
fingerprint. Every k-gram of the handed-out code is removed (:func:`handed_out`).
"""

from __future__ import annotations

import keyword
import re
import zlib
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import exercises
from grader.errors import NoSuchPath

# K: the noise threshold (see above). W: the guarantee threshold is W + K - 1 = 26 tokens,
# the shortest answer worth matching; winnowing keeps about 2 / (W + 1) of the k-grams,
# 15 % here, so a smaller window would cost more memory and time for no shorter answer.
K = 15
W = 12
# Lines without a token (blank, comment, docstring) inside one fingerprint, or between
# two that make one region; a longer run (a stub's docstring between a signature and its
# body) is left out of the lines shown.
GAP = 3

NAME, STRING = "N", "S"  # placeholders: neither is a Python keyword, operator or number
Token = tuple[str, int, int]  # (normalised text, line in the original source, part)
Where = tuple[str, int, int]  # (module, first line, last line) of one fingerprint

_KEYWORDS = frozenset(keyword.kwlist)
_NEW_PART = frozenset({"def", "class", "async", "@"})
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
# Python's own tokenize is pure Python and 2.4 times slower on a class (bench/similarity.py)
# and raises on what does not compile; this scanner never raises, and gives the same
# tokens as tokenize on every module of the course (tests/test_similarity.py).
_TOKEN = re.compile(r"""[ \t\f\r]*(?:
    (?P<newline>\n)
  | (?P<skip>\\\r?\n|\#[^\r\n]*)
  | (?P<string>(?i:[rbuf]{0,2})
      (?:'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)|\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)
        |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
  | (?P<number>0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@=!<>]=|\S))""",
                    re.VERBOSE | re.DOTALL)


def normalise(source: str) -> list[Token]:
    """The tokens of ``source`` that say what it does, each with its line and part.

    Dropped: comments, layout, and statements of strings only (docstrings, and strings
    used as comments: they do nothing). Every identifier becomes one placeholder, save an
    attribute's name (``.T``, ``np.einsum``: the library's, not the student's to choose),
    and every string another; keywords, operators and numbers stay as written. Source
    that does not compile is scanned all the same.
    """
    out: list[Token] = []
    statement: list[tuple[bool, str, int]] = []  # (a string?, text, line)
    line, line_start, depth, part = 1, 0, 0, 0
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "newline":
            line, line_start = line + 1, match.end()
            if not depth:
                if not all(is_string for is_string, _, _ in statement):
                    out.extend((text, at, part) for _, text, at in statement)
                statement = []
            continue
        if kind is None:  # blanks at the very end
            continue
        text = match.group(kind)
        if kind == "skip":
            line += text.count("\n")
            continue
        if not statement and match.start(kind) == line_start and text in _NEW_PART:
            part += 1
        if kind == "name":
            if text not in _KEYWORDS and not (statement and statement[-1][1] == "."):
                text = NAME
        elif kind == "string":
            statement.append((True, STRING, line))
            line += text.count("\n")
            continue
        elif text in _OPEN:
            depth += 1
        elif text in _CLOSE and depth:
            depth -= 1
        statement.append((False, text, line))
    if not all(is_string for is_string, _, _ in statement):
        out.extend((text, at, part) for _, text, at in statement)
    return out


_BASE = np.uint64(0x100000001B3)


def kgrams(tokens: list[Token]) -> tuple[np.ndarray, np.ndarray]:
    """A stable 64-bit hash (not Python's salted hash()) of every run of K tokens within
    one part, and where each run starts."""
    n = len(tokens) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    ids = np.fromiter((zlib.crc32(text.encode()) for text, _, _ in tokens), np.uint64,
                      len(tokens))
    parts = np.fromiter((part for _, _, part in tokens), np.int64, len(tokens))
    hashes = np.zeros(n, dtype=np.uint64)
    for j in range(K):  # arrays wrap on overflow: arithmetic modulo 2**64
        hashes = hashes * _BASE + ids[j:j + n]
    # splitmix64's finaliser: a polynomial hash's low bits are poor, and winnowing keeps
    # minima, which must be spread evenly.
    hashes ^= hashes >> np.uint64(30)
    hashes *= np.uint64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> np.uint64(27)
    hashes *= np.uint64(0x94D049BB133111EB)
    hashes ^= hashes >> np.uint64(31)
    starts = np.flatnonzero(parts[:n] == parts[K - 1:])
    return hashes[starts], starts


def winnow(hashes: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """The indices robust winnowing keeps, each part on its own: every window's
    rightmost minimum, and of a part shorter than a window its rightmost minimum."""
    chosen = [np.zeros(0, dtype=np.int64)]
    if len(hashes) >= W:
        windows = sliding_window_view(hashes, W)
        picked = W - 1 - np.argmin(windows[:, ::-1], axis=1) + np.arange(len(windows))
        chosen.append(picked[parts[:len(windows)] == parts[W - 1:]])
    _, firsts, counts = np.unique(parts, return_index=True, return_counts=True)
    for first, count in zip(firsts[counts < W].tolist(), counts[counts < W].tolist(),
                            strict=True):
        run = hashes[first:first + count]
        chosen.append(np.array([first + count - 1 - int(np.argmin(run[::-1]))]))
    return np.unique(np.concatenate(chosen))


def fingerprints(module: str, source: str, skip: set[int]) -> list[tuple[int, Where]]:
    """The fingerprints of one module but those in ``skip``, with where each is."""
    tokens = normalise(source)
    hashes, starts = kgrams(tokens)
    if not len(hashes):
        return []
    lines = np.fromiter((line for _, line, _ in tokens), np.int64, len(tokens))
    parts = np.fromiter((part for _, _, part in tokens), np.int64, len(tokens))
    # A fingerprint's lines start after the last long run of token-free lines inside it:
    # the code after a docstring, not the signature before it.
    long_gap = np.concatenate([(np.diff(lines) > GAP + 1), [False]])
    last_gap = np.maximum.accumulate(np.where(long_gap, np.arange(len(lines)), -1))
    found = []
    for index in winnow(hashes, parts[starts]).tolist():
        value, start = int(hashes[index]), int(starts[index])
        if value not in skip:
            gap = int(last_gap[start + K - 2])
            first = int(lines[gap + 1 if gap >= start else start])
            found.append((value, (module, first, int(lines[start + K - 1]))))
    return found


def handed_out(stubs: Path | None = None) -> set[int]:
    """Every k-gram hash of the handed-out code, the ``*.py`` of ``stubs`` (the installed
    ``exercises`` package: the stubs and their helpers). All of them, not the winnowed
    ones only: winnowing a student's file keeps other k-grams of the same text."""
    folder = Path(exercises.__file__).resolve().parent if stubs is None else Path(stubs)
    if not folder.is_dir():
        raise NoSuchPath(folder)
    found: set[int] = set()
    for path in sorted(folder.glob("*.py")):
        found.update(kgrams(normalise(path.read_text(encoding="utf-8")))[0].tolist())
    return found
