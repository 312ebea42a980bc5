"""What grading found, as frozen dataclasses with computed scores.

``to_dict`` is the one serializer: it turns a SubmissionReport into the JSON report
that ``grader/reports/schemas/report.schema.json`` describes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

SCHEMA_VERSION = "1.0"

TEST_STATUSES = ("passed", "failed", "error", "timeout", "crashed", "not_implemented", "missing")
EXERCISE_STATUSES = ("passed", "partial", "failed", "not_implemented", "missing")


@dataclass(frozen=True)
class TestResult:
    name: str
    status: str
    max_score: float
    visibility: str  # visible | hidden
    message: str = ""
    hint: str = ""
    misconception: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.max_score if self.status == "passed" else 0.0


@dataclass(frozen=True)
class ExerciseResult:
    name: str
    max_score: float
    tests: tuple[TestResult, ...]
    message: str = ""

    @property
    def score(self) -> float:
        # Points can be fractions of a test's share; keep the sum tidy.
        return round(sum(test.score for test in self.tests), 6)

    @property
    def status(self) -> str:
        statuses = {test.status for test in self.tests}
        if statuses == {"missing"}:
            return "missing"
        if statuses == {"not_implemented"}:
            return "not_implemented"
        if self.tests and statuses == {"passed"}:
            return "passed"
        return "partial" if self.score > 0 else "failed"


@dataclass(frozen=True)
class SubmissionInfo:
    id: str
    path: str
    sha256: str


@dataclass(frozen=True)
class GraderInfo:
    version: str
    python: str
    numpy: str


@dataclass(frozen=True)
class SubmissionReport:
    submission: SubmissionInfo
    exercises: tuple[ExerciseResult, ...]
    grader: GraderInfo
    isolation: dict
    duration_s: float
    error: str | None = None          # why the submission could not be graded at all
    problems: tuple[str, ...] = ()    # what was wrong with the input, graded as far as it could be
    integrity: tuple[dict, ...] = ()  # what the worker tried and was refused
    schema_version: str = SCHEMA_VERSION

    @property
    def status(self) -> str:
        return "failed" if self.error is not None else "graded"

    @property
    def score(self) -> float:
        return round(sum(exercise.score for exercise in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(exercise.max_score for exercise in self.exercises), 6)


# Properties that are part of the serialized form, per class.
_COMPUTED = {
    TestResult: ("score",),
    ExerciseResult: ("score", "status"),
    SubmissionReport: ("status", "score", "max_score"),
}


# How a report writes the numbers strict JSON has no literal for.
NON_FINITE = {"nan": "nan", "inf": "inf", "-inf": "-inf"}
# Arrays in a test's details beyond this many values are described, not listed.
MAX_ARRAY_VALUES = 64


def to_dict(value):
    """The JSON form of a result: dataclass fields plus their computed properties.

    A student's numbers reach a report through a test's details, so every value a
    student can return has a strict-JSON form here: NaN and infinities become the
    strings ``"nan"``, ``"inf"`` and ``"-inf"``, numpy scalars become Python numbers,
    small arrays become nested lists.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in _COMPUTED.get(type(value), ()):
            out[name] = to_dict(getattr(value, name))
        return out
    if isinstance(value, (list, tuple)):
        return [to_dict(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_dict(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[repr(value)]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, np.ndarray):
        if value.size > MAX_ARRAY_VALUES or value.dtype.kind not in "biuf":
            return f"an array of shape {value.shape} and dtype {value.dtype}"
        return to_dict(value.tolist())
    raise TypeError(f"{type(value).__name__} is not part of a report")
