"""Property-based tests: whatever a student's function returns, grading gives a verdict.

A student's function can return anything: NaN, a 5000-digit int, a float32 array, an
np.matrix, a set, an object that claims to equal everything. Whatever it is, the wire
(``grader.sandbox.wire.encode``/``decode``) lets only plain data through, every autotest
ends in one of the report's statuses, the report that holds those results is valid
strict JSON, and a value the test did not compute from its inputs earns nothing.

The autotests run through ``grader.course.notebook_runtime.run_test``: in this process, against
a namespace of functions, with every value passing through the same ``encode``/``decode``
as the worker's wire and turned into a TestResult by the same code as a batch.
"""

from __future__ import annotations

import collections
import copy
import fractions
import functools
import importlib
import inspect
import json
import math
import os
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader import contract
from grader.course.notebook_runtime import collect, run_test
from grader.grading.memo import memoized
from grader.grading.runner import grader_info
from grader.reports import results, store
from grader.reports.results import (
    TEST_STATUSES,
    ExerciseResult,
    SubmissionInfo,
    SubmissionReport,
)
from grader.sandbox.wire import MAX_DEPTH, WireError, decode, encode

EXERCISES = contract.exercises()

FUNCTIONS = [(exercise.name, function) for exercise in EXERCISES for function in exercise.functions]
FUNCTION_IDS = [function.name for _, function in FUNCTIONS]

# Python refuses to print or parse an int of more digits than this (sys.int_info).
INT_DIGITS = getattr(sys.int_info, "default_max_str_digits", 4300) or 4300

# The fast default run draws 30% of the examples; CI (.ci/run) sets BACKPROP_PROPERTY_SCALE=1
# for all of them, as it sets BACKPROP_RESEEDS for the reseeding tests.
PROPERTY_SCALE = float(os.environ.get("BACKPROP_PROPERTY_SCALE", "0.3"))


def scaled(examples: int) -> int:
    return max(10, round(examples * PROPERTY_SCALE))


# -- odd things a student can return ------------------------------------------------------


class Liar:
    """Claims to equal everything, to be a float, a sequence and an array of zeros."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __float__(self):
        return 0.5

    def __index__(self):
        return 1

    def __len__(self):
        return 3

    def __iter__(self):
        return iter([0.5, 0.5, 0.5])

    def __getitem__(self, key):
        return 0.5

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3) if dtype is None else np.zeros(3, dtype=dtype)

    def __repr__(self):
        return "Liar()"


class LyingFloat(float):
    """A float subclass that equals everything."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class LyingArray(np.ndarray):
    """An ndarray subclass that equals everything and says it is all close."""

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    __hash__ = None


class ShapeShifter(np.ndarray):
    """An ndarray subclass whose ``view`` hands back other data than it holds."""

    def view(self, *args, **kwargs):
        return np.full((2, 2), 0.25)


class Hostile:
    """Marks a class whose methods raise: a value holding one may fail to encode with any
    Exception, which the worker and the notebook runtime both report as an error."""


class Exploding(np.ndarray, Hostile):
    """An ndarray subclass whose ``view`` raises."""

    def view(self, *args, **kwargs):
        raise RuntimeError("view refused")


class Impostor(Hostile):
    """Claims to be an ndarray (``isinstance`` believes it) and is not one."""

    __class__ = property(lambda self: np.ndarray)  # type: ignore[assignment]

    def __repr__(self):
        return "Impostor()"


class RaisingArray(Hostile):
    """``__array__``, ``__float__``, ``__eq__`` and ``__len__`` all raise."""

    def _raise(self, *args, **kwargs):
        raise ValueError("no")

    __array__ = __float__ = __eq__ = __len__ = __iter__ = _raise
    __hash__ = object.__hash__

    def __repr__(self):
        return "RaisingArray()"


class ListSub(list):
    pass


class DictSub(dict):
    pass


Point = collections.namedtuple("Point", "x y")


def _contains(value, predicate, seen=None) -> bool:
    """Whether ``predicate`` holds for ``value`` or anything inside it."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return False
    seen.add(id(value))
    if predicate(value):
        return True
    kind = type(value)  # not isinstance: an Impostor lies about its __class__
    if issubclass(kind, dict):
        return any(_contains(k, predicate, seen) or _contains(v, predicate, seen)
                   for k, v in value.items())
    if issubclass(kind, (list, tuple, set, frozenset)):
        return any(_contains(v, predicate, seen) for v in value)
    if issubclass(kind, np.ndarray) and value.dtype == object:
        return any(_contains(v, predicate, seen) for v in value.ravel().tolist())
    return False


def is_hostile(value) -> bool:
    return _contains(value, lambda v: issubclass(type(v), Hostile))


def has_unprintable_int(value) -> bool:
    """An int too long for ``json.dumps``: the worker's ``send`` raises ValueError on it."""
    return _contains(value, lambda v: type(v) is int and abs(v).bit_length() > INT_DIGITS * 3.32)


def is_longdouble_scalar(value) -> bool:
    return _contains(value, lambda v: type(v) is np.longdouble)


# -- the strategy ---------------------------------------------------------------------------

SPECIAL_FLOATS = [math.nan, -math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, -5e-324,
                  2.2250738585072014e-308, 1e-310, 1.7976931348623157e308,
                  -1.7976931348623157e308, 0.5, 1e16 + 1]
HUGE_INTS = [2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**400, -(10**400),
             10**(INT_DIGITS + 10)]


def huge_int(index: int) -> int:
    return HUGE_INTS[index]


# Also by index, to keep hypothesis from printing 100 kB reprs of its own strategy.
LONG_TEXTS = ["x" * 100_000, "\udcff" * 10_000, "\x00" * 1000, "\u00e9" * 5000]


def long_text(index: int) -> str:
    return LONG_TEXTS[index]


NUMERIC_DTYPES = [np.float16, np.float32, np.float64, np.longdouble, np.complex64,
                  np.complex128, np.clongdouble, np.int8, np.int16, np.int32, np.int64,
                  np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, ">f8", ">i4", "<u2"]
OTHER_DTYPES = ["M8[ns]", "m8[s]", "U4", "S4", [("a", "<f8"), ("b", "<i4")],
                [("x", "<f8", (2,))]]


def _big_arrays() -> list:
    """Arrays of about 1e5 values, built whole rather than element by element."""
    rng = np.random.default_rng(0)
    return [
        lambda: np.zeros(100_000),
        lambda: np.full((316, 316), np.nan),
        lambda: np.arange(100_000, dtype=np.float32).reshape(100, 1000),
        lambda: rng.normal(size=(50_000, 2)),
        lambda: np.ones((10, 10, 10, 100), dtype=np.int64),
        lambda: np.ones(100_000, dtype=np.uint8) > 0,
        lambda: np.zeros((100_000, 0)),
        lambda: np.broadcast_to(np.inf, (1000, 100)),          # read-only, zero strides
        lambda: np.linspace(-1e307, 1e307, 100_000)[::-1],    # negative strides
        lambda: np.asfortranarray(rng.normal(size=(300, 300))),
        lambda: np.arange(100_000, dtype=">f8"),               # big-endian
        lambda: np.zeros((1,) * 33),                           # more dims than the wire allows
        lambda: np.zeros((1,) * 64),
        lambda: np.full(100_000, "x", dtype="U1"),
        lambda: np.empty(100_000, dtype=object),
    ]


def _float_arrays():
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))


def _subclassed(array: np.ndarray, kind: str):
    if kind == "matrix":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(array.reshape(array.shape[0], -1))
    if kind == "masked":
        return np.ma.masked_array(array, mask=~np.isfinite(array) | (array > 0))
    if kind == "recarray":
        flat = array.ravel()
        return np.rec.fromarrays([flat, flat], names="a,b")
    if kind == "plain-recarray":
        return array.view(np.recarray)
    return array.view({"lying": LyingArray, "shapeshifter": ShapeShifter,
                       "exploding": Exploding}[kind])


def _objects():
    return st.sampled_from([
        Liar, lambda: LyingFloat(0.5), Impostor, RaisingArray, lambda: ListSub([1.0]),
        lambda: DictSub(a=1.0), lambda: Point(1.0, 2.0), lambda: complex(1, 2),
        lambda: b"\x00\xff", lambda: bytearray(b"ab"), lambda: range(3), lambda: slice(1, 2),
        lambda: Ellipsis, lambda: NotImplemented, lambda: fractions.Fraction(1, 3),
        lambda: __import__("decimal").Decimal("0.5"), lambda: (lambda x: x), lambda: np.ndarray,
        lambda: np.float64, lambda: memoryview(b"abc"), lambda: iter([1.0]),
        lambda: (x for x in [1.0]), lambda: np, lambda: np.dtype("f8"), lambda: object(),
        lambda: np.array([None, 1.0, "a"], dtype=object),
        lambda: np.array([np.zeros(2), np.ones(3)], dtype=object),
        lambda: np.random.default_rng(0), lambda: type("Empty", (), {})(),
        lambda: {1.0, 2.0}, lambda: frozenset({"a"}),
    ]).map(lambda make: make())


def _self_referential(kind: str):
    if kind == "list":
        value: list = []
        value.append(value)
        return value
    value_dict: dict = {}
    value_dict["self"] = value_dict
    return value_dict


def _nested(depth: int, container: str):
    value = 1.0
    for _ in range(depth):
        value = {"list": lambda v: [v], "tuple": lambda v: (v,), "dict": lambda v: {"k": v}}[
            container](value)
    return value


# Keys of the dicts the contract's functions return: a dict with some of them reaches
# deeper into the checks than a dict with random keys.
CONTRACT_KEYS = ("W1", "b1", "W2", "b2", "a", "b", "c", "d", "J", "x")


def _plain_leaves():
    """Values the wire carries: what a student's function returns most of the time."""
    small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
    numeric = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.uint8, ">f8"])
    return st.one_of(
        st.floats(),
        st.sampled_from(SPECIAL_FLOATS),
        st.integers(),
        st.booleans(),
        st.none(),
        st.text(max_size=10),
        hnp.arrays(np.float64, small_shapes),                       # nan and inf included
        hnp.arrays(np.float64, small_shapes, elements=st.sampled_from(SPECIAL_FLOATS)),
        numeric.flatmap(lambda dt: hnp.arrays(dt, small_shapes)),
        numeric.flatmap(lambda dt: hnp.arrays(dt, ())).map(lambda a: a[()]),  # numpy scalars
    )


def _odd_leaves():
    """Values that test the edges: of the wire, of the checks, of the report."""
    dtypes = st.sampled_from(NUMERIC_DTYPES + OTHER_DTYPES).map(np.dtype)
    shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
    return st.one_of(
        # By index: hypothesis cannot repr an int of more than INT_DIGITS digits.
        st.sampled_from(range(len(HUGE_INTS))).map(huge_int),
        st.text(),
        st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=4),
        st.sampled_from(range(len(LONG_TEXTS))).map(long_text),
        st.binary(max_size=8),
        st.complex_numbers(),
        dtypes.flatmap(lambda dt: hnp.arrays(dt, shapes)),
        hnp.arrays(object, hnp.array_shapes(max_dims=2, max_side=3),
                   elements=st.one_of(st.none(), st.floats(), st.text(max_size=3))),
        dtypes.flatmap(lambda dt: hnp.arrays(dt, ())).map(lambda a: a[()]),  # numpy scalars
        st.sampled_from(_big_arrays()).map(lambda make: make()),
        st.tuples(_float_arrays(), st.sampled_from(
            ["matrix", "masked", "recarray", "plain-recarray", "lying", "shapeshifter",
             "exploding"])).map(lambda pair: _subclassed(*pair)),
        _objects(),
        st.sampled_from(["list", "dict"]).map(_self_referential),
        st.tuples(st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 200]),
                  st.sampled_from(["list", "tuple", "dict"])).map(lambda pair: _nested(*pair)),
    )


HASHABLE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4),
                     st.binary(max_size=4), st.tuples(st.integers(), st.text(max_size=2)))


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, min_size=2, max_size=3).map(tuple),  # (h, cache), (dx, dW, db)
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(st.sampled_from(CONTRACT_KEYS), children, max_size=6),
        st.dictionaries(st.text(max_size=4), children, max_size=4),
        st.dictionaries(HASHABLE, children, min_size=1, max_size=3),  # keys that are not str
        st.sets(HASHABLE, max_size=4),
        st.frozensets(HASHABLE, max_size=4),
    )


def student_values():
    """Anything a student's function could return, nested in lists, tuples and dicts.

    Half the leaves are plain data, so that containers often cross the wire and reach
    the checks; the other half are the edge cases (see ``_odd_leaves``).
    """
    leaves = st.one_of(_plain_leaves(), _odd_leaves())
    return st.one_of(leaves, _containers(st.recursive(leaves, _containers, max_leaves=6)))


def fresh(value):
    """A copy of ``value``, so that no test sees what an earlier one did to it."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001  (a generator, a module: returned as is)
        return value


# -- what the wire may deliver -----------------------------------------------------------------


def assert_plain(value, depth=0) -> None:
    """Plain data only: None, bool, int, float, str, base-class numeric arrays, and lists,
    tuples and str-keyed dicts of those."""
    assert depth <= MAX_DEPTH + 1, "nested deeper than the wire allows"
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return
    if kind is np.ndarray:
        assert value.dtype.kind in "biuf", value.dtype
        assert value.dtype.isnative, value.dtype
        assert value.flags.owndata and value.flags.writeable
        return
    if kind in (list, tuple):
        for item in value:
            assert_plain(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():
            assert type(key) is str, f"a dict key of type {type(key).__name__}"
            assert_plain(item, depth + 1)
        return
    raise AssertionError(f"{kind.__name__} came through the wire")


def through_the_wire(value):
    """What the grader receives for ``value`` inside a worker's reply, decoded in-process
    (as the notebook runtime does) and from the JSON text that ``send`` writes; WireError
    when the wire refuses it."""
    tree, buffers = encode({"ok": True, "value": value}, np)
    direct = decode(tree, buffers, np)["value"]
    try:
        text = json.dumps({"body": tree, "sizes": [len(b) for b in buffers]},
                          allow_nan=False, separators=(",", ":"))
    except ValueError:
        # json.dumps refuses an int of more than INT_DIGITS digits. The worker's send()
        # catches it as a generic Exception and reports the result could not be read.
        assert has_unprintable_int(value), "json.dumps refused an encoded tree"
        return direct, None
    parsed = decode(json.loads(text)["body"], buffers, np)["value"]
    return direct, parsed


def is_plain_input(value, depth=1) -> bool:
    """Whether the contract calls ``value`` plain data that must cross unchanged (at
    ``depth`` 1: a result sits one level down in the worker's reply)."""
    kind = type(value)
    if depth > MAX_DEPTH:
        return False
    if value is None or kind in (bool, float, str):
        return True
    if kind is int:
        return abs(value).bit_length() <= INT_DIGITS * 3
    if kind is np.ndarray:
        return value.dtype.kind in "biuf" and value.ndim <= MAX_DEPTH
    if isinstance(value, np.generic):
        return value.dtype.kind in "biuf" and value.dtype != np.longdouble
    if kind in (list, tuple):
        return all(is_plain_input(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and is_plain_input(v, depth + 1) for k, v in value.items())
    return False


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def same_data(sent, got) -> bool:
    """``got`` is what plain ``sent`` should arrive as (numpy scalars become Python numbers)."""
    if isinstance(sent, np.generic):
        sent = sent.item()
    if isinstance(sent, np.ndarray):
        return (type(got) is np.ndarray and got.shape == sent.shape
                and got.dtype == sent.dtype.newbyteorder("=")
                and np.array_equal(got, sent, equal_nan=sent.dtype.kind == "f"))
    if type(sent) is not type(got):
        return False
    if isinstance(sent, dict):
        return list(sent) == list(got) and all(same_data(sent[k], got[k]) for k in sent)
    if isinstance(sent, (list, tuple)):
        return len(sent) == len(got) and all(map(same_data, sent, got))
    if isinstance(sent, str):
        # JSON joins a pair of lone surrogates into one character: '\ud800\udc00' arrives
        # as '\U00010000'. Harmless to grading (no test reads a student's string).
        return _utf16(sent) == _utf16(got)
    if isinstance(sent, float) and math.isnan(sent):
        return math.isnan(got)
    return sent == got and (not isinstance(sent, float)
                            or math.copysign(1, sent) == math.copysign(1, got))


@settings(max_examples=scaled(800), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(student_values())
@example(float("nan"))
@example(np.longdouble(1.5))
@example(np.float64(np.inf))
@example(_subclassed(np.array([[1.0, 2.0]]), "matrix"))
@example(np.ma.masked_array([1.0, np.nan], mask=[False, True]))
@example({1: np.zeros(2)})
@example(np.array([1 + 2j]))
@example(10**(INT_DIGITS + 10))
@example(_nested(MAX_DEPTH - 1, "list"))  # the deepest a result may be
@example(_nested(MAX_DEPTH, "tuple"))     # one level too deep
def test_the_wire_delivers_plain_data_or_refuses_with_wire_error(value):
    """Does every return value either cross the wire as plain data (base ndarrays of kind
    b/i/u/f, lists, tuples, str-keyed dicts, numbers, str, None) or raise WireError, and
    does plain data cross unchanged?"""
    try:
        received = through_the_wire(value)
    except WireError:
        assert not is_plain_input(value), "the wire refused plain data"
        return
    except Exception as error:  # noqa: BLE001  (the contract under test)
        # The worker's serve() and the notebook runtime's _plain() catch WireError and then
        # any Exception ("the result could not be read"): a value whose own methods raise
        # may fail with its own error. An honest value must get WireError, a clear refusal.
        if is_longdouble_scalar(value) and isinstance(error, RecursionError):
            return  # known bug, see test_a_longdouble_scalar_is_refused_with_wire_error
        assert is_hostile(value), f"encode raised {type(error).__name__}: {error}"[:300]
        return
    for delivered in received:
        if delivered is not None:
            assert_plain(delivered)
            if is_plain_input(value):
                assert same_data(value, delivered)


# -- grading ----------------------------------------------------------------------------------


@functools.cache
def _reference_module_functions(exercise: str) -> dict:
    module = importlib.import_module(f"solutions.{exercise}")
    return {name: function for name, function in vars(module).items()
            if inspect.isfunction(function) and not name.startswith("_")}


@functools.cache
def _memoized_reference(exercise: str) -> dict:
    # Memoized as the grader memoizes its reference (copies of the same answers): the
    # training tests would otherwise train the network anew for every example. Not the
    # functions that take a cache: theirs may be whatever the student's function made.
    takes_cache = {f.name for _, f in FUNCTIONS if "cache" in f.params}
    return {name: function if name in takes_cache else memoized(function)
            for name, function in _reference_module_functions(exercise).items()}


def reference_namespace(exercise: str) -> dict:
    """A notebook's namespace whose functions are the reference solution of ``exercise``."""
    return dict(_memoized_reference(exercise))


class Returning:
    """A student function that returns what ``make`` makes (a fresh copy of a value) and
    counts its calls."""

    def __init__(self, make):
        self.make = make
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.make(*args, **kwargs)


def grade_with(exercise: str, function: str, make) -> list[tuple[str, results.TestResult, int]]:
    """Every autotest of ``exercise`` (hidden ones too) with ``function`` replaced by
    ``make``: ``(test name, result, how often the function was called)``."""
    namespace = reference_namespace(exercise)
    student = Returning(make)
    namespace[function] = student
    graded = []
    for test in collect(exercise):
        student.calls = 0
        graded.append((test.name, run_test(test.nodeid, namespace), student.calls))
    return graded


def report_of(results_by_exercise: dict[str, list[results.TestResult]]) -> SubmissionReport:
    exercises = tuple(ExerciseResult(name, sum(t.max_score for t in tests), tuple(tests))
                      for name, tests in results_by_exercise.items())
    return SubmissionReport(
        submission=SubmissionInfo("property", "<hypothesis>", "0" * 64), exercises=exercises,
        grader=grader_info(), isolation={"mechanism": "basic", "limits": {}}, duration_s=0.0)


def dumped(report: SubmissionReport) -> dict:
    """The report as a batch writes it (validated, strict JSON), read back."""
    text = store.dumps(report)
    data = json.loads(text)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    return data


def check_verdicts(exercise: str, graded) -> dict:
    """Every result a TestResult with a known status, and the report of them all valid."""
    for name, result, _ in graded:
        assert isinstance(result, results.TestResult), name
        assert result.status in TEST_STATUSES, (name, result.status)
    return dumped(report_of({exercise: [result for _, result, _ in graded]}))


# Examples per function, for about 45 s for the whole file on 2 busy cores. An example
# runs every autotest of the exercise: 3-6 ms, 10-15 ms for the training exercise, about
# 65 ms for forward, whose wrong y_pred makes the training test diagnose train against
# four training runs of the reference, and 20-25 ms for the mlp exercise's 13 tests.
DEFAULT_EXAMPLES = 200
EXAMPLES_PER_FUNCTION = {"forward": 40, "init_params": 150, "backward": 150, "sgd_step": 150,
                         "train": 150, "affine_forward": 100, "affine_backward": 100,
                         "init_mlp": 100, "mlp_forward": 100, "mlp_backward": 100,
                         "train_mlp": 100, "predict": 100}

SETTINGS = {"deadline": None, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.large_base_example]}


@pytest.mark.parametrize("exercise, function", FUNCTIONS, ids=FUNCTION_IDS)
def test_no_return_value_breaks_grading_or_earns_points(exercise, function):
    """Whatever one function returns, does every autotest of its exercise give a verdict,
    is the report of them all valid strict JSON, does an error come only from the wire
    (never from the grader's own checks), and does no test that called the function pass?"""

    @settings(max_examples=scaled(EXAMPLES_PER_FUNCTION.get(function.name, DEFAULT_EXAMPLES)),
              **SETTINGS)
    @given(student_values())
    @example(None)
    @example(float("nan"))
    @example(float("inf"))
    @example((np.zeros(2),) * 4)        # a tuple of the wrong length
    @example({"W1": np.zeros((2, 2))})  # a dict without most of its keys
    @example([0.5, 0.5])                # a list where an array belongs
    @example(np.full((3, 3), np.nan, dtype=np.float32))
    @example(10**400)                   # an int past the largest float
    def returns(value):
        graded = grade_with(exercise, function.name, lambda *args, **kwargs: fresh(value))
        check_verdicts(exercise, graded)
        for name, result, calls in graded:
            note(f"{name}: {result.status}: {result.message[:300]}")
            # "the result could not be checked": the grader's own code raised on the value.
            assert "grader_exception" not in result.details, (name, result.message[:300])
            if calls:
                # No value is right for every input a test tries: none may pass.
                assert result.status != "passed", f"{name} passed"

    returns()


# -- the reference's answer in the wrong form ------------------------------------------------

CONTRACT_FUNCTIONS = {function.name: function for _, function in FUNCTIONS}


def _is_float64_array(value) -> bool:
    return type(value) is np.ndarray and value.dtype == np.float64 and value.ndim > 0


def _is_labels(value) -> bool:
    """An integer array: predict's class labels."""
    return type(value) is np.ndarray and value.dtype.kind in "iu" and value.ndim > 0


def _numbers(value, leaf):
    """``value`` with ``leaf`` applied to every array and float inside lists, tuples, dicts."""
    if type(value) in (list, tuple):
        return type(value)(_numbers(item, leaf) for item in value)
    if type(value) is dict:
        return {key: _numbers(item, leaf) for key, item in value.items()}
    return leaf(value)


def _non_finite(fill):
    def leaf(value):
        if type(value) is np.ndarray and value.dtype.kind == "f":
            return np.resize(np.array(fill, dtype=value.dtype), value.shape)
        if isinstance(value, float):  # np.float64 too
            return fill[0]
        return value
    return leaf


def _short_tuple(value):
    return value[:-1] if type(value) is tuple else value


def _long_tuple(value):
    return value + (np.zeros(1),) if type(value) is tuple else value


def _missing_key(value):
    """Without the first key: the dict itself, or the dicts a tuple holds (train's params)."""
    if type(value) is dict:
        return dict(list(value.items())[1:])
    if type(value) is tuple:
        return tuple(_missing_key(item) if type(item) is dict else item for item in value)
    return value


FORMS = {
    # Right values, wrong form: these must fail, and no known mistake may be named, since
    # the diagnosis applies only to outputs whose type, dtype and shape are right. Integer
    # labels in float32 or float64, or as a list, are the right classes in the wrong form.
    "float32": lambda v: _numbers(v, lambda a: a.astype(np.float32)
                                  if _is_float64_array(a) or _is_labels(a) else a),
    "float64": lambda v: _numbers(v, lambda a: a.astype(np.float64) if _is_labels(a) else a),
    "list": lambda v: _numbers(v, lambda a: a.tolist()
                               if _is_float64_array(a) or _is_labels(a) else a),
    "short-tuple": _short_tuple,
    "long-tuple": _long_tuple,
    "missing-key": _missing_key,
    # Right form, non-finite values: data for the report, never a crash.
    "nan": lambda v: _numbers(v, _non_finite([math.nan])),
    "inf": lambda v: _numbers(v, _non_finite([math.inf, -math.inf])),
}
WRONG_FORMS = ("float32", "float64", "list", "short-tuple", "long-tuple", "missing-key")

# What each function returns, by the contract: where each form applies.
RETURNS_TUPLE = ("dense_forward", "dense_backward", "logistic_regression_grad", "forward", "train",
                 "relu_forward", "tanh_forward", "affine_forward", "affine_backward",
                 "mlp_forward", "mlp_backward", "train_mlp")
RETURNS_DICT = ("graph_forward", "graph_backward", "init_params", "backward", "sgd_step", "train",
                "init_mlp", "mlp_backward", "train_mlp")
RETURNS_FLOAT = ("mse_loss", "bce_loss", "softmax_ce_loss")
# Integer class labels: no float array to make float32 or non-finite, but the labels
# themselves in float32 or float64, or as a list, are a wrong form.
RETURNS_LABELS = ("predict",)
# Positions where a list is as good as an array: the losses of train and train_mlp
# "(a list of floats is fine)".
LIST_IS_FINE = {"train": (1,), "train_mlp": (1,)}


def _applies(function: str, form: str) -> bool:
    if form in ("short-tuple", "long-tuple"):
        return function in RETURNS_TUPLE
    if form == "missing-key":
        return function in RETURNS_DICT
    if form == "float64":
        return function in RETURNS_LABELS
    if form in ("float32", "list"):
        # A float result has no float32 form to test: np.float32(x) crosses the wire as a
        # Python float, and its 7 digits pass rtol 1e-6, as the contract allows.
        return function not in RETURNS_FLOAT
    if form in ("nan", "inf"):
        # An integer array holds no NaN or inf: labels have no non-finite right form.
        return function not in RETURNS_LABELS
    return True


FORM_CASES = [
    pytest.param(exercise, function, form, id=f"{function.name}-{form}")
    for exercise, function in FUNCTIONS for form in FORMS if _applies(function.name, form)]


def _transformed(function, transform, *, whole: bool = False, keep=()):
    """The reference's ``function`` with ``transform`` applied to its result: to the whole
    of it, or (by default) to each item of a tuple but those the grader keeps opaque (a
    cache) and those in ``keep``. ``changed`` counts the calls whose result it altered."""
    reference = _memoized_reference(exercise_name(function.name))[function.name]
    keep = set(function.opaque_results) | set(keep)

    def student(*args, **kwargs):
        right = reference(*args, **kwargs)
        if type(right) is tuple and keep and not whole:
            wrong = tuple(item if i in keep else transform(item) for i, item in enumerate(right))
        else:
            wrong = transform(right)
        student.changed += not _identical(right, wrong)
        return wrong

    student.changed = 0
    return student


def _in_form(function, form: str):
    return _transformed(function, FORMS[form], whole=form in ("short-tuple", "long-tuple"),
                        keep=LIST_IS_FINE.get(function.name, ()) if form == "list" else ())


def _identical(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if type(a) is dict:
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a is b or a == b


def exercise_name(function: str) -> str:
    return next(exercise for exercise, f in FUNCTIONS if f.name == function)


def names_function(test_name: str, function: str) -> bool:
    """Whether the test's name names ``function`` (``test_sigmoid_grad_...`` names
    sigmoid_grad, not sigmoid; ``test_training_...`` does not name train)."""
    words = test_name.split("_")
    named = set()
    for start in range(len(words)):
        matches = [f for f in CONTRACT_FUNCTIONS
                   if words[start:start + len(f.split("_"))] == f.split("_")]
        if matches:
            named.add(max(matches, key=len))
    return function in named


def grade_changed(exercise: str, function: str, student):
    """Every autotest of the exercise with ``function`` replaced by ``student`` (made by
    ``_transformed``): ``(test name, result, how many calls returned an altered answer)``."""
    namespace = reference_namespace(exercise)
    namespace[function] = student
    graded = []
    for test in collect(exercise):
        student.changed = 0
        graded.append((test.name, run_test(test.nodeid, namespace), student.changed))
    return graded


@pytest.mark.parametrize("exercise, function, form", FORM_CASES)
def test_the_right_answer_in_the_wrong_form_fails_plainly(exercise, function, form):
    """Does the reference's answer in a wrong form (float32, list, a tuple of the wrong
    length, a dict without a key) or with non-finite values fail every test that names
    the function, with a verdict about the form and no named mistake, in a valid report?"""
    graded = grade_changed(exercise, function.name, _in_form(function, form))
    data = check_verdicts(exercise, graded)
    touched = [(name, result) for name, result, changed in graded if changed]
    assert touched, f"no test saw {function.name} return a {form} answer"
    named = [(name, result) for name, result in touched if names_function(name, function.name)]
    assert named, f"no test named after {function.name} called it"
    for name, result in named:
        assert result.status == "failed", (name, result.status, result.message)
    for name, result in touched:
        # A test may grade another function and use this one's cache only: it may pass.
        assert result.status in ("failed", "passed"), (name, result.status, result.message)
        assert "grader_exception" not in result.details, (name, result.message)
        if result.status != "failed":
            continue
        if form in WRONG_FORMS:
            assert result.misconception is None, (name, result.misconception, result.message)
        if form in ("float32", "float64"):
            assert "dtype" in result.message and form in result.message, (name, result.message)
        if form == "list":
            assert "list" in result.message, (name, result.message)
    if form in ("nan", "inf"):
        text = json.dumps([t for e in data["exercises"] for t in e["tests"]
                           if any(t["name"] == name for name, _ in named)])
        assert form in text, f"the report of {function.name} says nothing of {form}"


NUMBERS = st.one_of(st.floats(), st.sampled_from(SPECIAL_FLOATS),
                    st.sampled_from([-1.0, 2.0, 0.5, 1.0 + 1e-7, 1e-300, 1e300, 4.0, 0.25]))


def _label(number: float) -> int:
    """A pool number as a label of any int64 value: NaN as 0, the rest cut to +-2**62."""
    return 0 if math.isnan(number) else int(max(-(2.0 ** 62), min(2.0 ** 62, number)))


def _filled(mode: str, pool: list[float]):
    """An array or float of the reference's answer, its numbers replaced by ``pool`` (cycled),
    or multiplied by it, or shifted by it; integer labels (predict's) stay int64, with the
    pool's numbers as integers (``_label``)."""
    def leaf(value):
        if _is_labels(value):
            numbers = np.resize(np.array([_label(x) for x in pool], dtype=np.int64), value.shape)
            labels = value.astype(np.int64)
            return {"replace": numbers, "scale": labels * numbers, "shift": labels + numbers}[mode]
        if type(value) is np.ndarray and value.dtype == np.float64:
            numbers = np.resize(np.array(pool), value.shape)
        elif type(value) in (float, np.float64):
            numbers = np.float64(pool[0])
        else:
            return value
        with np.errstate(all="ignore"):
            out = {"replace": numbers, "scale": value * numbers, "shift": value + numbers}[mode]
        return float(out) if type(value) is float else np.asarray(out, dtype=np.float64) \
            if type(value) is np.ndarray else np.float64(out)
    return lambda v: _numbers(v, leaf)


@pytest.mark.parametrize("exercise, function", FUNCTIONS, ids=FUNCTION_IDS)
def test_any_numbers_in_the_right_form_never_break_grading(exercise, function):
    """With the reference's answer in the right form (types, dtypes, shapes, keys) but any
    numbers in it (NaN, inf, 1e308, subnormals, -0.0, or the right numbers scaled or
    shifted), does every autotest give a verdict without an exception from the grader's
    own checks, in a valid report, and does no test named after the function pass on
    numbers that replaced the right ones?"""

    @settings(max_examples=scaled(NUMBER_EXAMPLES_PER_FUNCTION.get(function.name,
                                                           DEFAULT_NUMBER_EXAMPLES)),
              **SETTINGS)
    @given(st.sampled_from(["replace", "scale", "shift"]),
           st.lists(NUMBERS, min_size=1, max_size=12))
    @example("replace", [math.nan])
    @example("scale", [math.inf, -math.inf])
    @example("scale", [-1.0])
    @example("shift", [1e308])
    @example("replace", [5e-324, -0.0])
    def numbers(mode, pool):
        graded = grade_changed(exercise, function.name, _transformed(function, _filled(mode, pool)))
        check_verdicts(exercise, graded)
        for name, result, changed in graded:
            note(f"{name}: {result.status}: {result.message[:300]}")
            assert "grader_exception" not in result.details, (name, result.message[:300])
            if changed:
                assert result.status in ("passed", "failed"), (name, result.status, result.message)
            if changed and mode == "replace" and names_function(name, function.name):
                assert result.status == "failed", (name, result.status)

    numbers()


DEFAULT_NUMBER_EXAMPLES = 80
NUMBER_EXAMPLES_PER_FUNCTION = {"forward": 15, "train": 20}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("gradient", [[math.nan], [math.inf, -math.inf, math.nan]],
                         ids=["nan", "inf-and-nan"])
def test_a_nan_loss_and_non_finite_gradients_make_a_valid_report(gradient):
    """Does bce_loss returning NaN with bce_grad returning NaN or inf (the values that once
    crashed a whole batch) give a report that validates, dumps as strict JSON with the
    non-finite numbers as the strings "nan", "inf", "-inf", and reads back unchanged?"""
    namespace = reference_namespace("cross_entropy")
    reference_grad = namespace["bce_grad"]
    namespace["bce_loss"] = lambda y_true, logits: math.nan
    namespace["bce_grad"] = lambda y_true, logits: np.resize(
        np.array(gradient), np.shape(reference_grad(y_true, logits)))
    graded = [run_test(test.nodeid, namespace) for test in collect("cross_entropy")]
    report = report_of({"cross_entropy": graded})
    text = store.dumps(report)
    data = json.loads(text)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    store.validate(data)
    for test in data["exercises"][0]["tests"]:
        if names_function(test["name"], "bce_loss") or names_function(test["name"], "bce_grad"):
            assert test["status"] == "failed", (test["name"], test["status"])
    written = set(_strings([t["details"] for t in data["exercises"][0]["tests"]]))
    # The gradient check's numbers go through the serializer: "nan", "inf", "-inf".
    assert written & ({"inf", "-inf"} if math.inf in gradient else {"nan"}), written
    # The NaN loss is reported too, as "nan".
    assert any("nan" in text for text in written), written


# -- bugs these properties found, kept as regression tests ---------------------------------


def test_a_longdouble_scalar_is_refused_with_wire_error():
    """Is a numpy longdouble scalar (kind 'f', but no Python float holds it) refused with a
    WireError that says what it is, rather than a RecursionError?"""
    with pytest.raises(WireError):
        encode(np.longdouble(1.5), np)


def test_a_non_finite_result_is_written_as_nan_in_details_and_message():
    """Does a NaN the student returned reach the report's details as "nan" and the message
    as "got nan", not as numpy's repr "np.float64(nan)"?"""
    namespace = reference_namespace("sigmoid")
    namespace["sigmoid"] = lambda z: np.full(np.shape(z), math.nan) if np.ndim(z) else math.nan
    result = run_test("test_sigmoid.py::test_sigmoid_worked_example", namespace)
    assert result.status == "failed"
    assert result.details["received"] == "nan"
    assert "np.float64" not in result.message


def test_a_nan_loss_at_logits_zero_is_not_called_log_of_zero():
    """Is a NaN loss at z = 0, where no log(0) can happen, left without the "log of zero"
    diagnosis (the inputs do not tell that mistake apart)?"""
    namespace = reference_namespace("cross_entropy")
    namespace["bce_loss"] = lambda y_true, logits: math.nan
    result = run_test("test_cross_entropy.py::test_bce_loss_known_values", namespace)
    assert result.status == "failed"
    assert result.misconception is None


class Quitter(np.ndarray):
    """An ndarray subclass whose ``view`` raises SystemExit while the result is read."""

    def view(self, *args, **kwargs):
        raise SystemExit(3)


def test_a_result_that_exits_while_read_is_the_students_failure():
    """Is a result that raises SystemExit while the wire reads it charged to the student
    (error or crashed, as the worker would), not reported as an exception of the grader's?"""
    namespace = reference_namespace("sigmoid")
    namespace["sigmoid"] = lambda z: np.zeros(3).view(Quitter)
    result = run_test("test_sigmoid.py::test_sigmoid_worked_example", namespace)
    assert result.status in ("error", "crashed")
    assert "grader_exception" not in result.details, result.message
