"""Numerical gradient checks: an analytic gradient against Richardson-extrapolated
central differences in float64, coordinate by coordinate or along random directions.

Pure functions: they never print and never change their inputs. ``f`` is any
function from an array to a float (for a layer, the vector-Jacobian form
``sum(upstream * layer(x))`` turns its output into one number).
How each derivative is estimated, with its truncation and round-off error, and the
numbers STEP, SETTLE and SAFETY, are in :mod:`grader.grading.central_differences`.

A coordinate passes when

    |a - n| <= RTOL * max(|a|, |n|) + ATOL + SAFETY * (truncation + round-off of n)

and fails, with the reason said, when n did not settle, when f was not finite there, or
when SAFETY * round-off is above SETTLE * max(1, the largest settled |n| of the check):
f is then too large next to this derivative for any difference quotient to see it. The
directional check (for large inputs) does the same along random unit vectors v, with
the step scaled by max(1, max |x|), comparing with the analytic gradient projected on
the displacement actually taken (v, up to the rounding of x + h v).

The numbers
-----------
RTOL = 1e-6 covers what the estimates do not see, chiefly round-off in the analytic
gradient itself (1e-16 per operation, amplified by cancellation in sums): ten orders of
magnitude of room for that, three below the smallest mistake. ATOL = 1e-12 covers
gradients that are zero up to their own round-off (a few ulps of O(1) terms, ~1e-15) and
objectives whose |f| understates their round-off through cancellation; it is five times
the resolution of central differences of an O(1) function (eps / STEP ~ 2e-13), so it
hides nothing the check could otherwise resolve, and it is 1e9 times below the course's
gradients.

Limits. A derivative far below the gradient's scale is seen only to within its noise,
up to ATOL + 60 eps |f| / h: J at x = 1e-8 (derivative 3e-23, noise ~1e-12) passes,
and ``allowed`` shows how little the check could see there. An f that loses far more
than a few ulps inside (J at |x| ~ 1e3 takes the cosine of 3e6, correct to ~1e-9) can,
near a zero of its derivative, fail a correct gradient; so can, about once in 1e4 draws
of such an x, an oscillation whose period divides the first step so nearly that f looks
smooth at h and h/2, which no pair of steps can tell.

f is evaluated with numpy's floating-point warnings off: a NaN or inf it returns is
reported in the result, which says more than a RuntimeWarning would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.grading.central_differences import (
    SAFETY,
    SETTLE,
    STEP,
    Estimate,
    NotANumber,
    Objective,
    along_axis,
    along_direction,
    axis_step,
    differentiate,
    estimate_gradient,
)

RTOL = 1e-6
ATOL = 1e-12


@dataclass(frozen=True)
class GradCheck:
    """The outcome of a check, told at its worst coordinate (or direction ``(k,)``).

    ``difference`` is |analytic - numeric| there (inf when something is not finite or
    the shapes differ), ``allowed`` the difference the rule allowed there, ``reason``
    a short phrase when the check failed for something other than a plain mismatch,
    and ``numeric_error`` the estimated numerical error of ``numeric``.
    """

    passed: bool
    worst_index: tuple[int, ...] | None
    analytic: float | None
    numeric: float | None
    difference: float
    allowed: float
    reason: str = ""
    numeric_error: float = 0.0


def vjp_objective(layer: Callable[[np.ndarray], np.ndarray], upstream: np.ndarray):
    """``x -> sum(upstream * layer(x))``: a layer's output folded into one number."""
    upstream = np.array(upstream, dtype=np.float64)
    return lambda x: float(np.sum(upstream * np.asarray(layer(x), dtype=np.float64)))


@dataclass(frozen=True)
class _Verdict:
    """One coordinate's (or direction's) comparison."""

    index: tuple[int, ...]
    analytic: float
    numeric: float
    difference: float
    allowed: float
    reason: str
    numeric_error: float
    passed: bool

    @property
    def rank(self) -> tuple[int, float]:
        # What the report shows: f not finite, then the clearest mismatch, then a
        # derivative that did not settle or that round-off hides (its numeric value says
        # little), then a pass.
        if self.passed:
            order = 0
        elif not self.reason:
            order = 2
        else:
            order = 3 if self.difference == float("inf") else 1
        ratio = self.difference / self.allowed if self.allowed > 0 else float("inf")
        return order, ratio

    def result(self, passed: bool) -> GradCheck:
        return GradCheck(passed, self.index, self.analytic, self.numeric, self.difference,
                         self.allowed, self.reason, self.numeric_error)


def _judge(index: tuple[int, ...], analytic: float, estimate: Estimate,
           scale: float) -> _Verdict:
    numeric = estimate.value
    if not estimate.finite:
        return _Verdict(index, analytic, numeric, float("inf"), 0.0,
                        "f is not finite near x", float("inf"), False)
    difference = abs(analytic - numeric)
    plain = RTOL * max(abs(analytic), abs(numeric)) + ATOL
    if not estimate.settled:
        return _Verdict(index, analytic, numeric, difference, plain,
                        "the central differences did not settle", estimate.error, False)
    if SAFETY * estimate.roundoff > SETTLE * scale:
        return _Verdict(index, analytic, numeric, difference, plain,
                        "round-off in f hides this derivative", estimate.error, False)
    allowed = plain + SAFETY * estimate.error
    return _Verdict(index, analytic, numeric, difference, allowed, "", estimate.error,
                    bool(difference <= allowed))


def _verdict(compared: list[tuple[tuple[int, ...], float, Estimate]]) -> GradCheck:
    """Judge every (index, analytic, estimate) and report the worst."""
    if not compared:
        return GradCheck(True, None, None, None, 0.0, 0.0)
    # Round-off is measured against the whole gradient, not one coordinate, so that a
    # derivative that is zero but for round-off (J at x = 1e-8) can pass; the floor of 1
    # is the course's unit, as in the step.
    scale = max([1.0] + [abs(e.value) for _, _, e in compared if e.settled])
    verdicts = [_judge(index, analytic, estimate, scale) for index, analytic, estimate in compared]
    worst = max(verdicts, key=lambda verdict: verdict.rank)
    return worst.result(all(verdict.passed for verdict in verdicts))


def _failure(reason: str) -> GradCheck:
    return GradCheck(False, None, None, None, float("inf"), 0.0, reason, float("inf"))


def _prepare(analytic, x) -> tuple[np.ndarray, np.ndarray, GradCheck | None]:
    """Own float64 copies of both arrays, or the failed check if they cannot be compared."""
    x = np.array(x, dtype=np.float64)
    try:
        analytic = np.array(analytic, dtype=np.float64)
    except (TypeError, ValueError):
        return analytic, x, _failure("the gradient is not an array of numbers")
    if analytic.shape != x.shape:
        return analytic, x, _failure(f"the gradient has shape {analytic.shape}, "
                                     f"the input {x.shape}")
    return analytic, x, None


def _not_finite(analytic: np.ndarray, f: Objective, x: np.ndarray) -> GradCheck | None:
    """The first non-finite entry of the analytic gradient, with the numeric value there."""
    bad = np.argwhere(~np.isfinite(analytic))
    if len(bad) == 0:
        return None
    index = tuple(int(i) for i in bad[0])
    estimate = differentiate(along_axis(f, x, index), axis_step(x, index))
    return GradCheck(False, index, float(analytic[index]), estimate.value, float("inf"),
                     0.0, f"the gradient is {analytic[index]} here", estimate.error)


def check_coordinates(analytic, f: Objective, x) -> GradCheck:
    """Compare an analytic gradient with central differences of ``f`` at ``x``, per coordinate."""
    analytic, x, refused = _prepare(analytic, x)
    if refused is not None:
        return refused
    with np.errstate(all="ignore"):
        try:
            failed = _not_finite(analytic, f, x)
            if failed is not None:
                return failed
            compared = [(index, float(analytic[index]), estimate)
                        for index, estimate in estimate_gradient(f, x).items()]
        except NotANumber as error:
            return _failure(str(error))
    return _verdict(compared)


def check_directions(analytic, f: Objective, x, rng: np.random.Generator,
                     directions: int = 4) -> GradCheck:
    """For large inputs: compare ``<analytic, v>`` with the derivative of ``f`` along
    ``directions`` random unit vectors ``v``.

    About four evaluations per direction instead of four per coordinate, and any wrong
    coordinate shows up in almost every direction.
    """
    analytic, x, refused = _prepare(analytic, x)
    if refused is not None:
        return refused
    step = STEP * max(1.0, float(np.max(np.abs(x)))) if x.size else STEP
    compared: list[tuple[tuple[int, ...], float, Estimate]] = []
    with np.errstate(all="ignore"):
        try:
            failed = _not_finite(analytic, f, x)
            if failed is not None:
                return failed
            for k in range(directions if x.size else 0):
                v = rng.standard_normal(x.shape)
                v /= np.linalg.norm(v) or 1.0
                estimate = differentiate(along_direction(f, x, v, analytic), step)
                projected = (estimate.projected if estimate.finite
                             else float(np.sum(analytic * v)))
                compared.append(((k,), projected, estimate))
        except NotANumber as error:
            return _failure(str(error))
    return _verdict(compared)


def check_gradient(analytic, f: Objective, x, coordinates_up_to: int = 8,
                   directions: int = 4) -> GradCheck:
    """Per coordinate for small inputs (the report can say which one is wrong), along a
    few fixed random directions for larger ones (four evaluations per direction instead
    of four per coordinate). The directions are seeded by the input's shape, so every
    submission is checked along the same ones."""
    x = np.asarray(x, dtype=np.float64)
    if x.size <= coordinates_up_to:
        return check_coordinates(analytic, f, x)
    rng = np.random.default_rng(list(x.shape))
    return check_directions(analytic, f, x, rng, directions=directions)
