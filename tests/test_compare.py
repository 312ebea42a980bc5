"""check_close and as_number: exact shape, float64, finite values, the tolerance at its
edges, and failure messages that say where a result went wrong. Fast: no worker, no sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.compare import GradeFailure, as_number, check_close

# The documented defaults (docs/grading.md): abs(got - want) <= atol + rtol * abs(want).
RTOL, ATOL = 1e-6, 1e-9


def failure(got, want, what="f", **kwargs) -> GradeFailure:
    with pytest.raises(GradeFailure) as caught:
        check_close(got, want, what, **kwargs)
    return caught.value


# -- form: shape, dtype, arrays ------------------------------------------------------------


def test_the_same_array_passes():
    """Does a float64 array equal to the expected one pass, with nothing returned?"""
    want = np.array([[1.0, -2.0], [3.5, 0.0]])
    assert check_close(want.copy(), want, "f") is None


@pytest.mark.parametrize("got_shape", [(3, 1), (1, 3), (1,), (3, 3)])
def test_a_result_that_would_broadcast_fails_on_its_shape(got_shape):
    """Is a result of another shape refused, even one that numpy would broadcast against the
    expected shape, with both shapes in the details?"""
    want = np.ones(3)
    found = failure(np.ones(got_shape), want)
    assert "(3,)" in found.message and str(got_shape) in found.message
    assert found.details["expected_shape"] == [3]
    assert found.details["received_shape"] == list(got_shape)


def test_the_same_values_in_another_shape_fail():
    """Is a (2, 3) array refused where (3, 2) is expected, although it holds as many values?"""
    want = np.arange(6.0).reshape(3, 2)
    found = failure(want.reshape(2, 3), want)
    assert found.details["expected_shape"] == [3, 2]
    assert found.details["received_shape"] == [2, 3]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.complex128, np.bool_])
def test_only_float64_is_accepted(dtype):
    """Is an array of the right shape and values refused when its dtype is not float64, with
    the dtype named?"""
    want = np.array([1.0, 0.0])
    found = failure(want.astype(dtype), want)
    assert str(np.dtype(dtype)) in found.message
    assert found.details["received_dtype"] == str(np.dtype(dtype))


@pytest.mark.parametrize("got, returned", [
    ([1.0, 2.0], "list"), ((1.0, 2.0), "tuple"), (1.5, "float 1.5"), (7, "int 7"), (None, "None"),
])
def test_a_non_array_fails_where_an_array_is_expected(got, returned):
    """Is a list, a tuple or a number refused where an array is expected, with the expected
    shape and what was returned named?"""
    found = failure(got, np.array([1.0, 2.0]))
    assert "(2,)" in found.message
    assert found.message.endswith(returned)
    assert found.details["function"] == "f"


# -- finite values -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_fails_and_says_where(bad):
    """Is a NaN or infinity refused where a finite value is expected, with its index, the
    expected value there and the received one written as text (strict JSON has no NaN)?"""
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = want.copy()
    got[1, 0] = bad
    got[1, 1] = bad  # the first one is named
    found = failure(got, want)
    assert "not finite" in found.message and "[1, 0]" in found.message
    assert found.details["index"] == [1, 0]
    assert found.details["expected"] == 3.0
    assert isinstance(found.details["received"], str)
    assert str(bad).lower() in found.details["received"].lower()


def test_a_non_finite_scalar_fails():
    """Is a float NaN refused where a finite float is expected, without an index?"""
    found = failure(float("nan"), 2.0)
    assert "not finite" in found.message and "index" not in found.message
    assert found.details["index"] == []
    assert found.details["expected"] == 2.0


def test_non_finite_where_non_finite_is_expected_goes_to_the_comparison():
    """Where the expected value itself is not finite, is a NaN result still failed (NaN equals
    nothing), and an infinity compared by value?"""
    want = np.array([1.0, np.inf])
    found = failure(np.array([1.0, np.nan]), want)
    assert found.details["index"] == [1]
    assert found.details["mismatched"] == 1


# -- the tolerance: abs(got - want) <= atol + rtol * abs(want) ------------------------------


@pytest.mark.parametrize("want", [1e3, -1e3, 1.0, -7.5, 1e-3])
@pytest.mark.parametrize("side", [1.0, -1.0])
def test_the_relative_tolerance_at_its_edge(want, side):
    """Does a value just inside atol + rtol * |want| pass and one just outside fail, above and
    below, for positive and negative expected values?"""
    allowed = ATOL + RTOL * abs(want)
    check_close(want + side * 0.9 * allowed, want, "f")
    check_close(np.array([want + side * 0.9 * allowed]), np.array([want]), "f")
    failure(want + side * 1.1 * allowed, want)
    failure(np.array([want + side * 1.1 * allowed]), np.array([want]))


def test_the_absolute_tolerance_at_zero():
    """At an expected 0, does the absolute tolerance alone decide: 0.9 atol in, 1.1 atol out?"""
    check_close(0.9 * ATOL, 0.0, "f")
    check_close(-0.9 * ATOL, 0.0, "f")
    failure(1.1 * ATOL, 0.0)
    failure(-1.1 * ATOL, 0.0)


def test_a_value_exactly_at_the_tolerance_passes():
    """Is the bound inclusive: an error exactly equal to atol + rtol * |want| passes?"""
    check_close(1.5, 1.0, "f", rtol=0.0, atol=0.5)
    check_close(3.0, 2.0, "f", rtol=0.25, atol=0.5)
    failure(3.0, 2.0, rtol=0.25, atol=0.25)


def test_custom_tolerances_are_used():
    """Are the rtol and atol a test passes used instead of the defaults?"""
    check_close(1.05, 1.0, "f", rtol=0.1)
    check_close(0.05, 0.0, "f", atol=0.1)
    failure(1.0 + 1e-4, 1.0)


# -- as_number: what counts as a float -----------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (2.5, 2.5), (3, 3.0), (-4, -4.0), (np.float64(1.5), 1.5),
    (np.array(2.5), 2.5), (np.array(3, dtype=np.int32), 3.0), (np.array(7, dtype=np.uint8), 7.0),
    (np.array(0.25, dtype=np.float32), 0.25),
])
def test_numbers_and_0d_numeric_arrays_are_accepted(value, expected):
    """Are floats, ints, numpy scalars and 0-d arrays of ints or floats taken as the float
    they hold?"""
    number = as_number(value, "f", {})
    assert type(number) is float and number == expected


@pytest.mark.parametrize("value", [True, False, np.array(True), np.bool_(True), "1.0", None,
                                   [1.0], np.array([1.0]), np.array([[2.0]]),
                                   np.array(1 + 2j), 1 + 0j])
def test_bools_arrays_and_other_things_are_not_numbers(value):
    """Is a bool (an int to Python, but no float result), an array of one value, a string or
    a complex refused with GradeFailure carrying the details it was given?"""
    with pytest.raises(GradeFailure) as caught:
        as_number(value, "loss", {"case": "c1"})
    assert caught.value.message.startswith("loss should be a float, got")
    assert caught.value.details == {"case": "c1"}


def test_a_bool_is_named_as_a_bool():
    """Does the message say that a bool came back, not a number?"""
    with pytest.raises(GradeFailure, match="got True"):
        as_number(True, "loss", {})


def test_an_int_too_large_for_a_float_is_refused_with_its_size():
    """Is an int past the largest float refused with GradeFailure (not OverflowError), its
    size in digits named rather than all its digits printed?"""
    with pytest.raises(GradeFailure) as caught:
        as_number(10 ** 400, "loss", {"case": "c2"})
    assert "401 digits" in caught.value.message
    assert len(caught.value.message) < 100
    assert caught.value.details == {"case": "c2"}


def test_a_large_int_that_fits_a_float_is_accepted():
    """Is an int just past 64 bits, which a float still holds, accepted?"""
    assert as_number(2 ** 70, "loss", {}) == float(2 ** 70)


def test_a_float_where_a_float_is_expected_is_compared():
    """Does check_close with a float expected value take an int result equal to it, and a 0-d
    array?"""
    check_close(3, 3.0, "f")
    check_close(np.array(3.0), 3.0, "f")
    found = failure(True, 1.0, "bce_loss")
    assert found.message.startswith("bce_loss should be a float")
    assert found.details["function"] == "bce_loss"


# -- what a failure says -------------------------------------------------------------------


def test_the_failure_names_index_expected_received_and_worst_error():
    """Does a wrong array's failure name the worst index, the expected and received values
    there, the error, how many values are wrong and the shape?"""
    want = np.zeros((2, 3))
    got = want.copy()
    got[0, 1] = 0.5
    got[1, 2] = -2.0
    found = failure(got, want, "dense_backward: dW")
    assert found.details == {
        "function": "dense_backward: dW", "shape": [2, 3], "index": [1, 2],
        "expected": 0.0, "received": -2.0, "max_abs_error": 2.0, "mismatched": 2, "size": 6,
    }
    message = found.message
    assert message.startswith("dense_backward: dW of shape (2, 3) is wrong in 2 of 6 values")
    assert "at index [1, 2]" in message
    assert "expected 0" in message and "got -2" in message and "error 2" in message


def test_the_worst_value_is_the_one_furthest_outside_its_tolerance():
    """Is the value named the one that exceeds its own tolerance most, not the one with the
    largest raw error, nor a value that passed?"""
    want = np.array([5.0, 1e4, 0.0, 3.0])
    got = np.array([5.0, 1e4 + 0.02, 0.015, 3.0])
    # index 1: error 0.02, allowed 0.01 (+ 1e-9); index 2: error 0.015, allowed 1e-9.
    found = failure(got, want)
    assert found.details["index"] == [2]
    assert found.details["mismatched"] == 2
    assert found.details["received"] == 0.015


def test_details_passed_in_are_kept_and_not_changed():
    """Are the caller's details (the case, the function's name) kept in the failure, and the
    caller's dict left as it was?"""
    given = {"case": "case 3", "function": "mse_grad"}
    found = failure(np.array([1.0]), np.array([2.0]), "mse_grad(y_true, y_pred)", details=given)
    assert found.details["case"] == "case 3"
    assert found.details["function"] == "mse_grad"
    assert given == {"case": "case 3", "function": "mse_grad"}


def test_a_scalar_failure_has_no_index_and_no_shape():
    """Does a wrong float's message skip "of shape ()" and "at index []", with an empty index
    in the details?"""
    found = failure(2.0, 1.0, "bce_loss")
    assert found.message.startswith("bce_loss is wrong in 1 of 1 values")
    assert "index" not in found.message and "shape" not in found.message
    assert found.details["index"] == [] and found.details["shape"] == []
    assert found.details["expected"] == 1.0 and found.details["received"] == 2.0


def test_a_round_off_error_is_told_apart_from_a_mistake():
    """Where every value is right to about 4 significant digits, does the message say the maths
    is probably right but computed in low precision (float32)?"""
    want = np.array([1.0, -200.0, 3e-3])
    found = failure(want * (1 + 2e-5), want)
    assert "float32" in found.message and "float64" in found.message
    found = failure(1.0 + 5e-5, 1.0)
    assert "float32" in found.message


@pytest.mark.parametrize("got, want", [
    (np.array([1.0, -200.0 * 1.01, 3e-3]), np.array([1.0, -200.0, 3e-3])),  # one value 1 % off
    (np.array([1.0 + 2e-5, 2.0 * 1.01]), np.array([1.0, 2.0])),  # one off by round-off, one 1 %
    (np.array([1e-3, 0.0]), np.array([0.0, 0.0])),  # expected 0, got something
    (-1.0, 1.0),
])
def test_a_real_mistake_gets_no_round_off_remark(got, want):
    """When some value is off by more than round-off, is the float32 remark left out, the
    message ending with the worst error?"""
    found = failure(got, want)
    assert "float32" not in found.message and "precision" not in found.message
    assert found.message.endswith(")")


def test_a_grade_failure_is_an_assertion_with_its_parts():
    """Is GradeFailure an AssertionError whose text is its message, with details, misconception
    and hint where given and empty defaults otherwise?"""
    plain = GradeFailure("wrong")
    assert isinstance(plain, AssertionError) and str(plain) == "wrong"
    assert plain.message == "wrong"
    assert plain.details == {} and plain.misconception is None and plain.hint == ""
    full = GradeFailure("wrong", {"index": [0]}, misconception="mse-grad-sign", hint="flip it")
    assert full.details == {"index": [0]}
    assert full.misconception == "mse-grad-sign" and full.hint == "flip it"
