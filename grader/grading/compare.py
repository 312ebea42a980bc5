"""Comparing a student's result with the expected one, and saying how they differ.

Exact shape (no broadcasting), float64, finite values, then
``abs(got - want) <= atol + rtol * abs(want)`` elementwise. A mismatch raises
:class:`GradeFailure` whose message names the function, the input case, the shape,
the worst error, where it is, and the expected and received values there.
"""

from __future__ import annotations

import numpy as np

RTOL = 1e-6
ATOL = 1e-9


class GradeFailure(AssertionError):
    """A wrong result: the one-line message plus details for the report."""

    def __init__(self, message: str, details: dict | None = None,
                 misconception: str | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.misconception = misconception
        self.hint = hint


def _plain(value: float):
    """One value of a float64 array (the only thing passed here) for a report's details."""
    return float(value) if np.isfinite(value) else str(float(value))


def describe(value) -> str:
    """How a value looks, in a few words, for messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int) and value.bit_length() > 64:  # repr fails past 4300 digits
        return f"an int of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, (int, float)):
        return f"the {type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def as_number(value, what: str, details: dict) -> float:
    """A result the contract says is a float; ints and 0-d arrays are accepted."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GradeFailure(f"{what} should be a float, got {describe(value)}", details)
    try:
        return float(value)
    except OverflowError:  # an int past the largest float
        raise GradeFailure(f"{what} should be a float, got {describe(value)}", details) from None


def check_close(got, want, what: str, *, rtol: float = RTOL, atol: float = ATOL,
                details: dict | None = None) -> None:
    """Raise GradeFailure unless ``got`` matches ``want`` (an ndarray or a float)."""
    details = dict(details or {})
    details["function"] = details.get("function", what)
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            raise GradeFailure(f"{what} should be an array of shape {want.shape}, "
                               f"got {describe(got)}", details)
        if got.shape != want.shape:
            details.update(expected_shape=list(want.shape), received_shape=list(got.shape))
            raise GradeFailure(f"{what} has shape {got.shape}, expected {want.shape}", details)
        if got.dtype != np.float64:
            details.update(received_dtype=str(got.dtype))
            raise GradeFailure(f"{what} has dtype {got.dtype}, expected float64", details)
        got_values, want_values = got, want
    else:
        got_values = np.asarray(as_number(got, what, details))
        want_values = np.asarray(float(want))
    finite = np.isfinite(got_values)
    if not finite.all() and np.isfinite(want_values).all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        details.update(index=list(index), received=_plain(got_values[index]),
                       expected=_plain(want_values[index]))
        raise GradeFailure(f"{what} is not finite{_at(index)}: got "
                           f"{float(got_values[index])}, expected {want_values[index]:.10g}",
                           details)
    error = np.abs(got_values - want_values)
    allowed = atol + rtol * np.abs(want_values)
    bad = ~(error <= allowed)
    if bad.any():
        excess = np.where(bad, error - allowed, -np.inf)
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
        details.update(
            shape=list(want_values.shape), index=list(index),
            expected=_plain(want_values[index]), received=_plain(got_values[index]),
            max_abs_error=_plain(float(error[index])), mismatched=int(bad.sum()),
            size=int(bad.size),
        )
        shape = f" of shape {want_values.shape}" if want_values.ndim else ""
        raise GradeFailure(
            f"{what}{shape} is wrong in {int(bad.sum())} of {bad.size} values; "
            f"the worst{_at(index)}: expected {want_values[index]:.10g}, "
            f"got {got_values[index]:.10g} (error {error[index]:.3g})"
            f"{_precision(error, want_values)}",
            details)


# float32 keeps about 7 significant digits; results that agree to 4 or more but fail
# the comparison lost precision somewhere, which is no mistake in the maths.
SINGLE_PRECISION = 1e-4


def _precision(error: np.ndarray, want: np.ndarray) -> str:
    relative = error / np.maximum(np.abs(want), np.finfo(np.float64).tiny)
    if np.all(relative <= SINGLE_PRECISION):
        return ("; every value is right to about 4 significant digits, so the maths is "
                "probably right but was computed in low precision (float32?): the contract "
                "asks for float64 throughout")
    return ""


def _at(index: tuple) -> str:
    return f" at index {list(index)}" if index else ""
