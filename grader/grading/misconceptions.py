"""Naming a known mistake: which of an exercise's ``MISTAKES`` explains a wrong output.

Each exercise declares its mistakes in its autotests (:mod:`grader.contract`): each
computes its wrong answer and carries a hint that teaches. When a test's comparison
fails, ``diagnose`` recomputes every known-wrong variant of that function from the same
inputs, here in the trusted process, and names the one the student's output matches.

The student bundle has no reference. For the inputs of its public tests, the release
wrote a digest of every variant's output there (``fingerprints.json`` beside this module,
made by :mod:`grader.course.fingerprints`; keys and digests: :mod:`grader.grading.digests`),
and ``diagnose`` looks them up instead of recomputing. For inputs the release never saw,
only the variants that need nothing of the reference are tried.

A hint explains the mistake and where to look; it never hands over the code.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from grader import contract
from grader.grading import digests

FINGERPRINTS = Path(__file__).with_name("fingerprints.json")


Misconception = contract.Mistake


def catalogue() -> tuple[contract.Mistake, ...]:
    """Every exercise's known mistakes, as its autotests declare them (``MISTAKES``)."""
    return contract.course().mistakes


class _Reference:
    """The reference functions, imported on first use; absent in the student bundle."""

    def __getattr__(self, name: str):
        module = importlib.import_module(f"solutions.{contract.exercise_of(name).name}")
        return getattr(module, name)


REF = _Reference()

# The release fingerprints every input a test may diagnose, failing or not: it listens here.
_listeners: list[Callable[[str, dict], None]] = []


def consulted(function: str, inputs: dict) -> None:
    """A test is about to check ``function``'s output for these inputs (expect.diagnosing)."""
    for listener in _listeners:
        listener(function, inputs)


@contextlib.contextmanager
def listening(listener: Callable[[str, dict], None]) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _close(got, wrong, rtol=1e-6, atol=1e-9) -> bool:
    """Whether ``got`` is ``wrong`` in structure, type, dtype, shape and value.

    Strict on form: a float32 array, a list or a 0-d array where the variant predicts
    a float64 array of some shape is not that variant, whatever its values, since its
    failure is about the form and a named mistake would send the student the wrong way.
    None in ``wrong`` stands for a part the variant does not predict (a cache).
    """
    if wrong is None:
        return True
    if isinstance(wrong, dict):
        return (type(got) is dict and got.keys() >= wrong.keys()
                and all(_close(got[k], v) for k, v in wrong.items()))
    if isinstance(wrong, (tuple, list)):
        return (type(got) in (tuple, list) and len(got) == len(wrong)
                and all(_close(g, w) for g, w in zip(got, wrong, strict=True)))
    if isinstance(wrong, np.ndarray) and wrong.ndim > 0:
        if type(got) is not np.ndarray or got.dtype != np.float64 or got.shape != wrong.shape:
            return False
    elif not (type(got) in (float, np.float64)
              or (type(got) is np.ndarray and got.shape == () and got.dtype == np.float64)):
        return False  # the variant predicts one number: a float (or a 0-d float64 array)
    wrong_array = np.asarray(wrong, dtype=np.float64)
    if not np.isfinite(wrong_array).all():
        return False
    return bool(np.all(np.abs(got - wrong_array) <= atol + rtol * np.abs(wrong_array)))


def _right(function: str, inputs: dict):
    """The reference's answer for these inputs, shaped as the variants are."""
    answer = contract.course().answers.get(function)
    if answer is not None:
        return answer(REF, inputs)
    params = contract.exercise_of(function).function(function).params
    return getattr(REF, function)(**{name: inputs[name] for name in params if name in inputs})


def candidates(function: str, inputs: dict) -> list[tuple[Misconception, object]]:
    """(entry, wrong output) of each variant these inputs tell apart from the right answer
    (at N = 1, "N times too large" is the right answer)."""
    try:
        right = _right(function, inputs)
    except Exception:  # the reference is absent (the student bundle), or the inputs do not fit
        right = None
    found = []
    for entry in catalogue():
        if entry.function != function:
            continue
        for variant in entry.variants:
            try:
                wrong = variant(REF, inputs)
                if right is None or not _close(wrong, right):
                    found.append((entry, wrong))
            except Exception:  # the reference is absent, or the inputs do not fit
                continue
    return found


@functools.cache
def _fingerprints() -> dict:
    """The release's digests by key of their inputs: only a student bundle has them."""
    return digests.read_table(FINGERPRINTS)


def diagnose(function: str, inputs: dict, output,
             warnings: Sequence[str] = ()) -> Misconception | None:
    """The known mistake of ``function`` that explains ``output``, if exactly one does.

    A variant names a mistake only where these inputs tell it apart from the right
    answer, and only when no other mistake explains the same output equally well.
    """
    found: dict[str, Misconception] = {}
    for entry in catalogue():
        if entry.function == function and entry.when is not None:
            try:
                if entry.when(inputs, output, list(warnings)):
                    found.setdefault(entry.id, entry)
            except Exception:
                pass
    consult = digests.key(function, inputs) if _fingerprints() else None
    fingerprints = _fingerprints().get(consult or "")
    if consult is not None and isinstance(fingerprints, list):
        entries = {e.id: e for e in catalogue() if e.function == function}
        for fingerprint in fingerprints:
            if digests.matches(output, consult, fingerprint) and fingerprint["id"] in entries:
                found.setdefault(fingerprint["id"], entries[fingerprint["id"]])
    else:
        for entry, wrong in candidates(function, inputs):
            try:
                if _close(output, wrong):
                    found.setdefault(entry.id, entry)
            except Exception:  # an output that cannot be compared at all
                continue
    return next(iter(found.values())) if len(found) == 1 else None
