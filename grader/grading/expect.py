"""The assertions autotests make about a student's results.

Each raises :class:`grader.grading.compare.GradeFailure` with a message a student can act on.
``expect`` also asks the misconception catalogue whether a wrong value is a known
mistake, computed in this (trusted) process from the same inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from grader.contract import exercise_of
from grader.grading.compare import SINGLE_PRECISION, GradeFailure, check_close, describe
from grader.grading.gradcheck import GradCheck
from grader.sandbox.client import Reply


def expect(got, want, what: str, *, function: str | None = None, inputs: dict | None = None,
           output=None, case: str = "", rtol: float = 1e-6, atol: float = 1e-9,
           warnings: Sequence[str] = ()) -> None:
    """``got`` must match ``want``; if not, a known mistake that explains ``output``
    (the call's whole result, by default ``got``) and the call's ``warnings`` is named."""
    label = f"{what} ({case})" if case else what
    details = {"function": function or what.split("(")[0]}
    if case:
        details["case"] = case
    with diagnosing(function, inputs, got if output is None else output, warnings):
        check_close(got, want, label, rtol=rtol, atol=atol, details=details)


@contextlib.contextmanager
def diagnosing(function: str | None, inputs: dict | None, output, warnings=()):
    """Any GradeFailure raised inside gets the known mistake that explains ``output``."""
    from grader.grading import misconceptions

    if function is not None and inputs is not None:
        misconceptions.consulted(function, inputs)  # failing or not: the release listens
    try:
        yield
    except GradeFailure as failure:
        if failure.misconception is None and function is not None and inputs is not None:
            found = misconceptions.diagnose(function, inputs, output, warnings)
            if found is not None:
                failure.misconception, failure.hint = found.id, found.hint
        raise


def expect_no_warnings(reply: Reply, what: str, *, function: str,
                       inputs: dict | None = None) -> None:
    """No RuntimeWarning from ``function``: only where its exercise text promises it."""
    if not exercise_of(function).function(function).warning_free:
        raise RuntimeError(f"{function} is not promised warning-free; a test may not "
                           "take points for its warnings")
    if reply.warnings:
        with diagnosing(function, inputs, reply.value, reply.warnings):
            raise GradeFailure(f"{what} raised {reply.warnings[0]}; the contract asks for "
                               "no warning", {"warnings": reply.warnings[:5]})


def expect_inputs_unchanged(reply: Reply, inputs: tuple, what: str) -> None:
    """The student's function must not have written into its arguments."""
    after = reply.inputs_after
    if type(after) is not list or len(after) < len(inputs):
        raise GradeFailure(f"{what}: the worker did not report its arguments after the call, "
                           "so they cannot be shown to be unchanged")
    # Not strict: only fewer reported arguments are refused above.
    for position, (before, now) in enumerate(zip(inputs, after, strict=False)):
        if not _same(before, now):
            raise GradeFailure(f"{what} changed its argument number {position + 1} in place; "
                               "inputs must be left unchanged (work on a copy)",
                               {"argument": position + 1})


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    return a == b or (a != a and b != b)


def expect_tuple(value, length: int, what: str, names: str) -> tuple:
    if type(value) not in (tuple, list) or len(value) != length:
        raise GradeFailure(f"{what} should return a tuple {names}, got {describe(value)}")
    return tuple(value)


def expect_dict(value, keys: tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict):
        raise GradeFailure(f"{what} should return a dict with keys {', '.join(keys)}, "
                           f"got {describe(value)}")
    missing = [key for key in keys if key not in value]
    if missing:
        raise GradeFailure(f"{what} returned a dict without the key(s) {', '.join(missing)}")
    return value


def expect_array(value, shape: tuple, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise GradeFailure(f"{what} should be an array of shape {shape}, got {describe(value)}")
    if value.shape != tuple(shape):
        raise GradeFailure(f"{what} has shape {value.shape}, expected {tuple(shape)}",
                           {"expected_shape": list(shape), "received_shape": list(value.shape)})
    if value.dtype != np.float64:
        raise GradeFailure(f"{what} has dtype {value.dtype}, expected float64")
    return value


def expect_gradient(check: GradCheck, what: str, of: str) -> None:
    """A failed numerical gradient check, said in a student's terms."""
    if check.passed:
        return
    where = f" at index {list(check.worst_index)}" if check.worst_index else ""
    details = {"worst_index": list(check.worst_index or ()), "analytic": check.analytic,
               "numeric": check.numeric, "difference": check.difference,
               "allowed": check.allowed}
    if check.analytic is None or check.numeric is None or not np.isfinite(check.difference):
        # The shapes differ, a value is not finite, or the derivative could not be seen.
        raise GradeFailure(f"{what}{where}: {check.reason or 'the check could not compare'} "
                           f"(against the numerical derivative of {of})", details)
    yours, theirs = check.analytic, check.numeric
    precision = ""
    if abs(yours - theirs) <= SINGLE_PRECISION * max(abs(theirs), 1e-300):
        precision = ("; that is right to about 4 significant digits, so the maths is probably "
                     "right but was computed in low precision (float32?): the contract asks "
                     "for float64 throughout")
    raise GradeFailure(f"{what} disagrees with the numerical derivative of {of}{where}: "
                       f"yours {yours:.10g}, central differences {theirs:.10g} "
                       f"(difference {check.difference:.2g}, allowed {check.allowed:.2g})"
                       f"{precision}", details)
