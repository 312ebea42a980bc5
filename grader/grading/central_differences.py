"""Numerical derivatives: Richardson-extrapolated central differences in float64, each
with its estimated error and whether it settled.

Pure functions: they never print and never change their inputs. ``f`` is any
function from an array to a float (for a layer, the vector-Jacobian form
``sum(upstream * layer(x))`` turns its output into one number).

How a derivative is estimated
-----------------------------
Along coordinate i the first step is ``h = STEP * max(1, |x_i|)``, and the quotient
divides by the step actually taken, ``(x_i + h) - (x_i - h)`` in floating point. From
the central differences D(h) and D(h/2), ``R = (4 D(h/2) - D(h)) / 3`` cancels the h^2
term of the error and leaves O(h^4). Its truncation error is estimated by
``|D(h) - D(h/2)|``, about three times the error of D(h/2) and far more than R's; its
round-off by eps |f| / step per value, combined as R combines them (about
``1.5 eps (|f(x+h)| + |f(x-h)|) / h``).

The derivative has *settled* when that estimate is within SETTLE of the differences it
compares, or within what round-off explains; or, from the third pair of steps on, when
three successive R agree that closely (near a zero of f', as for J(x) = cos(sin(x^2) +
3x^2) near 0, D is all h^2 term while R is already exact). If not, the step shrinks by
SHRINK = 4 (four more evaluations), at most PAIRS = 13 times in all, down to 6e-8 h. A
kink of f within h of x stops mattering once the step is below the distance to it; J at
x = 300, whose period 2 pi / (6x) ~ 3.5e-3 is a hundred times shorter than the first
step 0.3, settles at the ninth pair. While the step is too long for f the differences
jump about, and two of them can agree by chance; so a spread that fell more than
10 SHRINK^2 times since the previous pair (once the step is short enough it falls
SHRINK^2 times a pair) does not count. A smooth function settles at the first pair:
4 evaluations of f.

The numbers
-----------
STEP = 1e-3: R's truncation error grows like h^4 and round-off like eps / h; they
balance near eps^(1/5) ~ 7e-4, where both are ~1e-13 of the derivative of a function
that varies on the scale max(1, |x|); scaling by |x| keeps the step far above the
spacing of floats near x. SETTLE = 1e-5: a derivative is compared only once its
truncation estimate is below 1e-5 of the values involved (or at round-off level), and
its round-off below 1e-5 of the gradient's scale, so the estimated-error term adds at
most 4e-5 of the derivative plus 5e-5 of the largest one: 25 times below the smallest
mistake the checker must catch, a 1e-3 relative error (the catalogue's factors 2 and N,
sign flips, a missing s(1 - s) <= 1/4 and dropped branches of 1/4 or more are far
larger). Past the caps a coordinate fails; it never passes on a wide tolerance.
SAFETY = 4: the round-off estimate counts one ulp per value of f, and a numpy
expression is off by a few; the truncation side needs no margin of its own (it is
already about three times the error of D(h/2)).

How an analytic gradient is judged against these estimates (the rule, RTOL and ATOL,
and the limits of the check) is in :mod:`grader.grading.gradcheck`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STEP = 1e-3
SAFETY = 4.0
SETTLE = 1e-5
SHRINK = 4.0
PAIRS = 13

EPS = float(np.finfo(np.float64).eps)

Objective = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class NumericalGradient:
    """Central-difference gradient with, per coordinate, its estimated error
    (truncation + round-off) and whether it settled; ``value`` is NaN where f was never
    finite."""

    value: np.ndarray
    error: np.ndarray
    settled: np.ndarray


class NotANumber(ValueError):
    """f returned something that is not one number (an array of several, a string)."""

    def __init__(self, shape: tuple[int, ...] | None):
        self.shape = shape
        super().__init__("f returned " + (f"an array of shape {shape}" if shape is not None
                                          else "something that is not a number")
                         + ", not one number")


@dataclass(frozen=True)
class Estimate:
    """One derivative as estimated: its value, its error and whether it settled."""

    value: float        # the extrapolated derivative; NaN if f was never finite
    projected: float    # the analytic gradient combined the same way (directions)
    truncation: float
    roundoff: float
    settled: bool
    finite: bool        # f was finite at some pair of steps

    @property
    def error(self) -> float:
        return self.truncation + self.roundoff


@dataclass(frozen=True)
class _Level:
    difference: float   # the central difference quotient D
    noise: float        # its round-off estimate
    projected: float
    span: float         # the step between the two points, as taken


def _number(value) -> float:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise NotANumber(None) from error
    if array.size != 1:
        raise NotANumber(array.shape)
    return float(array.reshape(()))


def _extrapolate(coarse: _Level, fine: _Level) -> tuple[float, float, float]:
    """R, its round-off and the projection, for the steps as actually taken (their
    ratio is 2 only up to rounding of x + h)."""
    rho = (coarse.span / fine.span) ** 2
    return ((rho * fine.difference - coarse.difference) / (rho - 1),
            (rho * fine.noise + coarse.noise) / (rho - 1),
            (rho * fine.projected - coarse.projected) / (rho - 1))


def _ratio(estimate: float, allowance: float) -> float:
    if estimate == 0:
        return 0.0
    return estimate / allowance if allowance > 0 else float("inf")


def differentiate(sample: Callable[[float], tuple[float, float, float, float]],
                  step: float) -> Estimate:
    """Shrink the step until the extrapolated central difference settles.

    ``sample(t)`` returns f at the two points t apart on either side, the distance
    between them as taken, and the analytic gradient projected on that displacement.
    """
    best: tuple[float, Estimate] | None = None
    previous: list[float] = []   # R of the last usable pairs of steps, newest last
    previous_spread = float("inf")
    for k in range(PAIRS):
        coarse, fine = (_level(sample, step / SHRINK ** k / halves) for halves in (1, 2))
        if coarse is None or fine is None:
            previous.clear()
            previous_spread = float("inf")
            continue
        value, roundoff, projected = _extrapolate(coarse, fine)
        spread = abs(fine.difference - coarse.difference)
        candidates = []
        # Once the step is short enough the spread falls SHRINK^2 times a pair; a far
        # steeper fall is two differences crossing by chance while the step is still too
        # long for f (J at large x). The first pair has no history to judge by.
        if previous_spread == float("inf") or spread * 10 * SHRINK ** 2 >= previous_spread:
            candidates.append((spread, SETTLE * max(abs(fine.difference), abs(coarse.difference))
                               + SAFETY * roundoff))
        previous_spread = spread
        if len(previous) >= 2:
            # Two successive extrapolations can agree by chance while the step is still
            # too long for f (J at large x): three in a row cannot.
            values = [*previous[-2:], value]
            candidates.append((max(values) - min(values),
                               SETTLE * max(map(abs, values)) + SAFETY * roundoff))
        ratio, truncation = min(((_ratio(e, a), e) for e, a in candidates),
                                default=(float("inf"), spread))
        estimate = Estimate(value, projected, truncation, roundoff, ratio <= 1.0, True)
        if estimate.settled:
            return estimate
        if best is None or ratio < best[0]:
            best = (ratio, estimate)
        previous.append(value)
    if best is None:
        return Estimate(float("nan"), float("nan"), float("inf"), float("inf"), False, False)
    return best[1]


def _level(sample: Callable[[float], tuple[float, float, float, float]], t: float) -> _Level | None:
    plus, minus, span, projected = sample(t)
    if not (np.isfinite(plus) and np.isfinite(minus) and span > 0):
        return None
    return _Level((plus - minus) / span, EPS * (abs(plus) + abs(minus)) / span, projected, span)


def along_axis(f: Objective, x: np.ndarray, index: tuple[int, ...]):
    def sample(t: float) -> tuple[float, float, float, float]:
        up, down = x[index] + t, x[index] - t
        point = x.copy()   # a fresh copy each time: f may write into what it gets
        point[index] = up
        plus = _number(f(point))
        point = x.copy()
        point[index] = down
        minus = _number(f(point))
        return plus, minus, float(up - down), 0.0
    return sample


def along_direction(f: Objective, x: np.ndarray, v: np.ndarray, analytic: np.ndarray):
    def sample(t: float) -> tuple[float, float, float, float]:
        up, down = x + t * v, x - t * v
        # D estimates the derivative along the displacement actually taken, which is
        # t v only up to the rounding of each x_j + t v_j.
        projected = float(np.sum(analytic * ((up - down) / (2 * t))))
        return _number(f(up)), _number(f(down)), 2 * t, projected
    return sample


def axis_step(x: np.ndarray, index: tuple[int, ...]) -> float:
    return STEP * max(1.0, abs(float(x[index])))


def estimate_gradient(f: Objective, x: np.ndarray) -> dict[tuple[int, ...], Estimate]:
    return {index: differentiate(along_axis(f, x, index), axis_step(x, index))
            for index in np.ndindex(*x.shape)}


def numerical_gradient_with_error(f: Objective, x) -> NumericalGradient:
    """The gradient of scalar ``f`` at ``x`` with its estimated error, coordinate by coordinate."""
    x = np.array(x, dtype=np.float64)  # our own copy: the caller's array is never touched
    with np.errstate(all="ignore"):
        estimates = estimate_gradient(f, x)
    value, error = np.empty(x.shape), np.empty(x.shape)
    settled = np.zeros(x.shape, dtype=bool)
    for index, estimate in estimates.items():
        value[index], error[index] = estimate.value, estimate.error
        settled[index] = estimate.settled
    return NumericalGradient(value, error, settled)


def numerical_gradient(f: Objective, x) -> np.ndarray:
    """The central-difference gradient of scalar ``f`` at ``x`` (NaN where f is not finite)."""
    return numerical_gradient_with_error(f, x).value
