"""Numerical gradient checks: central differences in float64.

Pure functions: they never print and never change their inputs. ``f`` is any
function from an array to a float (for a layer, the vector-Jacobian form
``sum(upstream * layer(x))`` turns its output into one number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

H = 1e-5
TOLERANCE = 1e-5
FLOOR = 1e-6


@dataclass(frozen=True)
class GradCheck:
    passed: bool
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    tolerance: float
    analytic: float | None = None   # at the worst index (or along the worst direction)
    numeric: float | None = None


def rel_error(a, b, floor: float = FLOOR) -> np.ndarray:
    """``abs(a - b) / max(floor, abs(a) + abs(b))``, elementwise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H) -> np.ndarray:
    """The central-difference gradient of scalar ``f`` at ``x``, one coordinate at a time."""
    x = np.array(x, dtype=np.float64)  # our own copy: the caller's array is never touched
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        original = x[index]
        x[index] = original + h
        plus = float(f(x.copy()))
        x[index] = original - h
        minus = float(f(x.copy()))
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def vjp_objective(layer: Callable[[np.ndarray], np.ndarray], upstream: np.ndarray):
    """``x -> sum(upstream * layer(x))``: a layer's output folded into one number."""
    upstream = np.array(upstream, dtype=np.float64)
    return lambda x: float(np.sum(upstream * np.asarray(layer(x), dtype=np.float64)))


def check_gradient(analytic, f: Callable[[np.ndarray], float], x: np.ndarray, *,
                   h: float = H, tolerance: float = TOLERANCE, floor: float = FLOOR) -> GradCheck:
    """Compare an analytic gradient with central differences of ``f`` at ``x``."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = numerical_gradient(f, x, h)
    if analytic.shape != numeric.shape:
        return GradCheck(False, float("inf"), None, tolerance)
    errors = rel_error(analytic, numeric, floor)
    if errors.size == 0:
        return GradCheck(True, 0.0, None, tolerance)
    if not np.isfinite(errors).all():
        worst = tuple(int(i) for i in np.argwhere(~np.isfinite(errors))[0])
        return GradCheck(False, float("inf"), worst, tolerance,
                         float(analytic[worst]), float(numeric[worst]))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape))
    return GradCheck(bool(errors[worst] <= tolerance), float(errors[worst]), worst, tolerance,
                     float(analytic[worst]), float(numeric[worst]))


def check_directions(analytic, f: Callable[[np.ndarray], float], x: np.ndarray,
                     rng: np.random.Generator, *, directions: int = 3, h: float = H,
                     tolerance: float = TOLERANCE, floor: float = FLOOR) -> GradCheck:
    """For large inputs: compare ``<analytic, v>`` with ``(f(x + hv) - f(x - hv)) / 2h``.

    A few random unit directions ``v`` cost two evaluations each instead of two per
    coordinate, and any wrong coordinate shows up in almost every direction.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    x = np.array(x, dtype=np.float64)
    if analytic.shape != x.shape:
        return GradCheck(False, float("inf"), None, tolerance)
    worst = GradCheck(True, 0.0, None, tolerance)
    for k in range(directions):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v) or 1.0
        numeric = (float(f(x + h * v)) - float(f(x - h * v))) / (2 * h)
        projected = float(np.sum(analytic * v))
        error = float(rel_error(projected, numeric, floor))
        if not np.isfinite(error):
            error = float("inf")
        if error >= worst.max_rel_error:
            worst = GradCheck(error <= tolerance, error, (k,), tolerance, projected, numeric)
    return worst


def check(analytic, f: Callable[[np.ndarray], float], x: np.ndarray, *,
          coordinates_up_to: int = 8, directions: int = 4, h: float = H,
          tolerance: float = TOLERANCE, floor: float = FLOOR) -> GradCheck:
    """Per coordinate for small inputs (the report can say which one is wrong), along a
    few fixed random directions for larger ones (two evaluations per direction instead
    of two per coordinate). The directions are seeded by the input's shape, so every
    submission is checked along the same ones."""
    x = np.asarray(x, dtype=np.float64)
    if x.size <= coordinates_up_to:
        return check_gradient(analytic, f, x, h=h, tolerance=tolerance, floor=floor)
    rng = np.random.default_rng(list(x.shape))
    return check_directions(analytic, f, x, rng, directions=directions, h=h,
                            tolerance=tolerance, floor=floor)
