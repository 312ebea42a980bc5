"""Grading tests for the activation layers exercise, ReLU and tanh (30 points).

The numerical gradients differentiate the layers of the contract, np.maximum(x, 0) and
np.tanh written here, never the student's own forward: a constant forward would make
zero gradients look right. The ReLU gradient checks draw every input at least
KINK_MARGIN = 0.1 away from 0 and below 2 in size: fifty times the checker's first step
or more (1e-3 max(1, |x|), see grader.grading.central_differences), so that no central
difference straddles the kink. The convention at exactly 0 (dx = 0 there) is pinned on
its own, by value, beside values elsewhere, so that returning zeros earns nothing there
either.
"""

import numpy as np
import pytest

from grader.contract import Exercise, Function, Mistake
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_gradient,
    expect_inputs_unchanged,
    expect_no_warnings,
    expect_tuple,
)
from grader.grading.gradcheck import check_gradient, vjp_objective

EXERCISE = Exercise(
    "Activation layers with a cache: ReLU and tanh",
    assignment="networks", order=2,
    functions=(
        Function("relu_forward", ("x",), opaque_results=(1,)),
        Function("relu_backward", ("dout", "cache")),
        Function("tanh_forward", ("x",), opaque_results=(1,), warning_free=True),
        Function("tanh_backward", ("dout", "cache"), warning_free=True),
    ))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _x_dout(i):
    return np.asarray(i["x"], dtype=np.float64), np.asarray(i["dout"], dtype=np.float64)


def _local_tanh(i):
    """x, dout and tanh(x) of a diagnosed tanh_backward call."""
    x, dout = _x_dout(i)
    return x, dout, np.tanh(x)


MISTAKES = (
    Mistake(
        "relu-kink-convention", "relu_backward",
        "Your dx is right everywhere except where x is exactly 0. ReLU has a kink there "
        "and no derivative; the course takes the subgradient 0 at x = 0 (any slope in "
        "[0, 1] would be a valid subgradient, the course fixes one so that everyone's "
        "answers agree): dx is 0 where x <= 0, whatever dout says there. Look at the "
        "comparison that decides which elements pass dout through.",
        variants=(lambda ref, i: np.where(_x_dout(i)[0] >= 0, _x_dout(i)[1], 0.0),
                  lambda ref, i: np.where(_x_dout(i)[0] > 0, _x_dout(i)[1],
                                          np.where(_x_dout(i)[0] == 0,
                                                   0.5 * _x_dout(i)[1], 0.0)))),
    Mistake(
        "relu-backward-ignores-upstream", "relu_backward",
        "Your dx is the local derivative of ReLU alone, 1 or 0 per element. The backward "
        "pass returns dL/dx, and by the chain rule that is the upstream gradient dout "
        "times the local derivative, element by element: the upstream gradient carries "
        "everything the rest of the network says about the loss.",
        variants=(lambda ref, i: (_x_dout(i)[0] > 0).astype(np.float64),
                  lambda ref, i: (_x_dout(i)[0] >= 0).astype(np.float64))),
    Mistake(
        "relu-backward-passes-upstream", "relu_backward",
        "Your dx is dout unchanged, as if ReLU were the identity. For a negative input "
        "ReLU's output is flat (always 0), so a small change of x there does not change "
        "the loss at all: what is dL/dx for those elements?",
        variants=(lambda ref, i: np.array(_x_dout(i)[1], dtype=np.float64),)),
    Mistake(
        "tanh-derivative-at-input", "tanh_backward",
        "You evaluated 1 - t^2 with t = x, the layer's input. The derivative of tanh, "
        "written with the function's own value, needs t = tanh(x), the forward pass's "
        "output: keep it in the cache. (1 - x^2 is negative for abs(x) > 1, while tanh "
        "only ever rises.)",
        variants=(lambda ref, i: _x_dout(i)[1] * (1.0 - _x_dout(i)[0] ** 2),)),
    Mistake(
        "tanh-backward-ignores-upstream", "tanh_backward",
        "Your dx is the local derivative of tanh alone. The backward pass returns dL/dx, "
        "and by the chain rule that is the upstream gradient dout times the local "
        "derivative, element by element.",
        variants=(lambda ref, i: 1.0 - _local_tanh(i)[2] ** 2,)),
    Mistake(
        "tanh-derivative-sign", "tanh_backward",
        "Your local derivative has a wrong sign somewhere. tanh only rises, so its "
        "derivative is positive everywhere, at most 1 (at x = 0) and close to 0 where "
        "tanh flattens out. Redo the quotient rule on (e^x - e^-x) / (e^x + e^-x): "
        "which sign does the derivative of e^-x bring?",
        variants=(lambda ref, i: _local_tanh(i)[1] * (1.0 + _local_tanh(i)[2] ** 2),
                  lambda ref, i: _local_tanh(i)[1] * (_local_tanh(i)[2] ** 2 - 1.0))),
    Mistake(
        "tanh-overflow", "tanh_forward",
        "Your tanh overflows: e^x is inf past x = 709, and inf / inf is nan (numpy also "
        "warns). The contract asks for a tanh that is right, finite and silent up to "
        "abs(x) = 1e4: np.tanh is all of these. If you write it yourself, let the "
        "exponential see only numbers <= 0 (np.where computes both of its branches, so "
        "both must be safe).",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
    Mistake(
        "tanh-overflow", "tanh_backward",
        "Your tanh_backward overflows: it goes back to exponentials (or to cosh, which "
        "is inf past x = 710) where the forward pass's output, in the cache, already "
        "holds all it needs. tanh'(x) written with tanh(x) itself is exact and finite "
        "for any x: at x = 1e4 it is 0.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
)

ANSWERS = {
    "relu_backward": lambda ref, i: ref.relu_backward(i["dout"], ref.relu_forward(i["x"])[1]),
    "tanh_backward": lambda ref, i: ref.tanh_backward(i["dout"], ref.tanh_forward(i["x"])[1]),
}


# -- the worked numbers of the text -------------------------------------------------

WORKED_X = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
WORKED_DOUT = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
WORKED_RELU_OUT = np.array([[0.0, 0.0, 0.0, 0.5, 2.0]])
WORKED_RELU_DX = np.array([[0.0, 0.0, 0.0, 4.0, 5.0]])
TANH_2, TANH_HALF = 0.9640275800758169, 0.46211715726000974
WORKED_TANH_OUT = np.array([[-TANH_2, -TANH_HALF, 0.0, TANH_HALF, TANH_2]])
WORKED_TANH_DX = np.array([[0.07065082485316443, 1.5728954659318548, 3.0,
                            3.1457909318637096, 0.35325412426582214]])

# Exact zeros among positive and negative inputs, dout of both signs everywhere: the
# convention at the kink, and a dx that is neither dout, nor a 0/1 mask, nor zeros.
KINK_X = np.array([[0.0, 1.5, -1.0], [0.0, -0.25, 3.0], [2.0, 0.0, -4.0]])
KINK_DOUT = np.array([[2.0, -1.0, 3.0], [-4.0, 5.0, 0.5], [1.5, 6.0, -2.0]])
KINK_DX = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 0.5], [1.5, 0.0, 0.0]])

# Where e^x overflows (abs(x) > 709.8), with values that are not saturated beside them.
LARGE_X = np.array([[-1e4, -800.0, -0.5, 0.0, 0.5, 800.0, 1e4]])
LARGE_DOUT = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]])
LARGE_TANH_OUT = np.array([[-1.0, -1.0, -TANH_HALF, 0.0, TANH_HALF, 1.0, 1.0]])
TANH_PRIME_HALF = 0.7864477329659274  # 1 - tanh(0.5)^2
LARGE_TANH_DX = np.array([[0.0, 0.0, 3.0 * TANH_PRIME_HALF, 4.0, 5.0 * TANH_PRIME_HALF,
                           0.0, 0.0]])

# Inputs at least this far from ReLU's kink in the gradient checks.
KINK_MARGIN = 0.1
GRADIENT_SHAPES = [(2, 3), (1, 4), (3, 4, 2), (5, 6)]  # per coordinate up to 8 elements
REFERENCE_CASES = [((1, 1), "a batch of one"), ((64, 10), "a batch of 64"),
                   ((2, 3, 4), "a 3-D x"), ((7,), "a 1-D x")]


def relu(x):
    """The layer of the contract, max(0, x)."""
    return np.maximum(x, 0.0)


def away_from_kink(rng, shape):
    """Inputs of both signs (half each), every one at least KINK_MARGIN from 0."""
    size = int(np.prod(shape))
    signs = np.where(np.arange(size) % 2 == 0, -1.0, 1.0)
    rng.shuffle(signs)
    return (signs * rng.uniform(KINK_MARGIN, 2.0, size=size)).reshape(shape)


def with_zeros(rng, shape):
    """Normal inputs with a quarter of them set to exactly 0 (none for tiny shapes)."""
    x = rng.normal(scale=2.0, size=shape)
    if x.size >= 4:
        x.flat[rng.choice(x.size, size=x.size // 4, replace=False)] = 0.0
    return x


def forward(student, function, x):
    out, cache = expect_tuple(getattr(student, function)(x), 2, function, "(out, cache)")
    return out, cache


def check_forward(out, want, function, x, case):
    expect(expect_array(out, x.shape, f"out of {function} ({case})"), want, "out",
           function=function, inputs={"x": x}, case=case)


def backward(student, function, dout, cache, x, output=None):
    """dx from the student's backward, of the shape of x (a wrong shape is said as such)."""
    dx = getattr(student, function)(dout, cache) if output is None else output
    with diagnosing(function, {"x": x, "dout": dout}, dx):
        expect_array(dx, x.shape, f"dx from {function}")
    return dx


def check_backward(dx, want, function, x, dout, case):
    expect(dx, want, "dx", function=function, inputs={"x": x, "dout": dout}, case=case)


def check_numerically(dx, layer, x, dout, function, of, case):
    result = check_gradient(dx, vjp_objective(layer, dout), x)
    with diagnosing(function, {"x": x, "dout": dout}, dx):
        expect_gradient(result, f"dx from {function} ({case})", of)


# -- public tests --------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.hint("out = max(0, x) element by element, of the shape of x, and the function "
                  "returns the pair (out, cache).")
def test_relu_forward_worked_example(student, rng):
    """Does relu_forward give [[0, 0, 0, 0.5, 2]] for x = [[-2, -0.5, 0, 0.5, 2]], and max(0, x) for a 3-D x?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    out, _ = forward(student, "relu_forward", WORKED_X)
    check_forward(out, WORKED_RELU_OUT, "relu_forward", WORKED_X, "the worked example")
    x = rng.normal(size=(2, 3, 4))
    out, _ = forward(student, "relu_forward", x)
    check_forward(out, relu(x), "relu_forward", x, "x of shape (2, 3, 4)")


@pytest.mark.points(3)
@pytest.mark.hint("dx is dout times ReLU's local derivative, element by element: 1 where "
                  "x > 0 and 0 where x < 0. At exactly x = 0 the course takes 0 (a "
                  "subgradient; the module text explains the choice).",
                  "The backward pass needs to know where x was positive: keep x (or that "
                  "information) in the cache that relu_forward returns, and read it back "
                  "from the cache argument. Then keep dout where x > 0 and put 0 "
                  "everywhere else, x == 0 included.")
def test_relu_backward_worked_example_and_kink(student):
    """Is dx = [[0, 0, 0, 4, 5]] for the worked example, and exactly 0 wherever x == 0?"""
    _, cache = forward(student, "relu_forward", WORKED_X)
    dx = backward(student, "relu_backward", WORKED_DOUT, cache, WORKED_X)
    check_backward(dx, WORKED_RELU_DX, "relu_backward", WORKED_X, WORKED_DOUT,
                   "the worked example")
    _, cache = forward(student, "relu_forward", KINK_X)
    dx = backward(student, "relu_backward", KINK_DOUT, cache, KINK_X)
    check_backward(dx, KINK_DX, "relu_backward", KINK_X, KINK_DOUT,
                   "three exact zeros in x, dout of both signs")


@pytest.mark.points(3)
@pytest.mark.hint("Check your dx with central differences of np.sum(dout * relu(x)), at "
                  "inputs well away from 0 (the module text shows how): each element of dx "
                  "is dout times the slope of ReLU at that element.")
def test_relu_backward_matches_numerical_gradient(student, rng):
    """Does dx agree with central differences of sum(dout * max(0, x)), away from the kink?"""
    for shape in GRADIENT_SHAPES:
        x, dout = away_from_kink(rng, shape), rng.normal(size=shape)
        _, cache = forward(student, "relu_forward", x)
        dx = backward(student, "relu_backward", dout, cache, x)
        check_numerically(dx, relu, x, dout, "relu_backward", "sum(dout * max(0, x))",
                          f"x of shape {shape}")


@pytest.mark.points(2)
@pytest.mark.hint("out = tanh(x) element by element, of the shape of x (np.tanh does it), "
                  "and the function returns the pair (out, cache).")
def test_tanh_forward_worked_example(student, rng):
    """Does tanh_forward give tanh(0.5) = 0.4621171573 and tanh(2) = 0.9640275801 in the worked example?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    out, _ = forward(student, "tanh_forward", WORKED_X)
    check_forward(out, WORKED_TANH_OUT, "tanh_forward", WORKED_X, "the worked example")
    x = rng.normal(scale=1.5, size=(2, 3, 4))
    out, _ = forward(student, "tanh_forward", x)
    check_forward(out, np.tanh(x), "tanh_forward", x, "x of shape (2, 3, 4)")


@pytest.mark.points(2)
@pytest.mark.hint("dx is dout times tanh's local derivative, element by element. Derive "
                  "tanh' from tanh = (e^x - e^-x) / (e^x + e^-x) and write it with tanh(x) "
                  "itself, which the forward pass can leave in the cache.",
                  "The derivative written with the function's own value is 1 - t^2, where "
                  "t must be tanh(x), the forward pass's output, not x; it is positive "
                  "everywhere. Multiply it by dout, element by element.")
def test_tanh_backward_worked_example(student):
    """Is dx = [[0.0706508249, 1.5728954659, 3, 3.1457909319, 0.3532541243]] for the worked example?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    _, cache = forward(student, "tanh_forward", WORKED_X)
    dx = backward(student, "tanh_backward", WORKED_DOUT, cache, WORKED_X)
    check_backward(dx, WORKED_TANH_DX, "tanh_backward", WORKED_X, WORKED_DOUT,
                   "the worked example")


@pytest.mark.points(2)
@pytest.mark.hint("Check your dx with central differences of np.sum(dout * np.tanh(x)) "
                  "(the module text shows how): each element of dx is dout times tanh' at "
                  "that element.")
def test_tanh_backward_matches_numerical_gradient(student, rng):
    """Does dx agree with central differences of sum(dout * tanh(x)), for 2-D and 3-D x?"""
    for shape in [(2, 3), (1, 1), (3, 4, 2)]:
        x, dout = rng.normal(scale=1.5, size=shape), rng.normal(size=shape)
        _, cache = forward(student, "tanh_forward", x)
        dx = backward(student, "tanh_backward", dout, cache, x)
        check_numerically(dx, np.tanh, x, dout, "tanh_backward", "sum(dout * tanh(x))",
                          f"x of shape {shape}")


@pytest.mark.points(1)
@pytest.mark.hint("At abs(x) = 800, e^x is inf and inf / inf is nan: written with "
                  "exponentials, tanh breaks far below the contract's 1e4. np.tanh is "
                  "exact and silent for any x; and the backward pass needs only the "
                  "forward's output, which is exactly +-1 there.")
def test_tanh_is_finite_and_silent_at_large_inputs(student):
    """Are tanh_forward and tanh_backward right, finite and warning-free at x = +-800 and +-1e4?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    check_large_tanh(student, LARGE_X, LARGE_DOUT, LARGE_TANH_OUT, LARGE_TANH_DX,
                     "x up to +-1e4")


def check_large_tanh(student, x, dout, want_out, want_dx, case):
    """Values first (a nan named for the overflow behind it), then no warnings, both ways."""
    reply = student.call("tanh_forward", x)
    out, cache = expect_tuple(reply.value, 2, "tanh_forward", "(out, cache)")
    with diagnosing("tanh_forward", {"x": x}, out, reply.warnings):
        check_forward(out, want_out, "tanh_forward", x, case)
    expect_no_warnings(reply, f"tanh_forward ({case})", function="tanh_forward",
                       inputs={"x": x})
    reply = student.call("tanh_backward", dout, cache)
    inputs = {"x": x, "dout": dout}
    with diagnosing("tanh_backward", inputs, reply.value, reply.warnings):
        dx = backward(student, "tanh_backward", dout, cache, x, output=reply.value)
        check_backward(dx, want_dx, "tanh_backward", x, dout, case)
    expect_no_warnings(reply, f"tanh_backward ({case})", function="tanh_backward",
                       inputs=inputs)


# -- hidden tests --------------------------------------------------------------------


@pytest.mark.hidden
@pytest.mark.points(2)
def test_relu_forward_matches_reference(student, reference, rng):
    """Does relu_forward match the reference for shapes (1, 1), (64, 10), 3-D and 1-D, x untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for shape, case in REFERENCE_CASES:
        x = with_zeros(rng, shape)
        reply = student.call("relu_forward", x, return_inputs=True)
        out, _ = expect_tuple(reply.value, 2, "relu_forward", "(out, cache)")
        check_forward(out, reference.relu_forward(x)[0], "relu_forward", x, case)
        expect_inputs_unchanged(reply, (x,), "relu_forward")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_relu_backward_matches_reference(student, reference, rng):
    """Does relu_backward match the reference, exact zeros in x included, dout untouched?"""
    for shape, case in REFERENCE_CASES:
        x, dout = with_zeros(rng, shape), rng.normal(size=shape)
        _, cache = forward(student, "relu_forward", x)
        reply = student.call("relu_backward", dout, cache, return_inputs=True)
        dx = backward(student, "relu_backward", dout, cache, x, output=reply.value)
        want = reference.relu_backward(dout, reference.relu_forward(x)[1])
        check_backward(dx, want, "relu_backward", x, dout, case)
        expect_inputs_unchanged(reply, (dout,), "relu_backward")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_relu_backward_uses_its_own_cache(student, reference, rng):
    """Two forward passes, then backward with the first cache, the second, the first again: right each time?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    first = away_from_kink(rng, (4, 5))
    second = -first  # every mask flipped: the other layer's state is wrong everywhere
    _, first_cache = forward(student, "relu_forward", first)
    _, second_cache = forward(student, "relu_forward", second)
    calls = [(first, first_cache, "the first cache, after a second forward pass"),
             (second, second_cache, "the second cache"),
             (first, first_cache, "the first cache once more, with another dout")]
    for x, cache, case in calls:
        dout = rng.normal(size=x.shape)
        dx = backward(student, "relu_backward", dout, cache, x)
        want = reference.relu_backward(dout, reference.relu_forward(x)[1])
        check_backward(dx, want, "relu_backward", x, dout, case)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_tanh_forward_matches_reference(student, reference, rng):
    """Does tanh_forward match the reference for shapes (1, 1), (64, 10), 3-D and 1-D, x untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for shape, case in REFERENCE_CASES:
        x = rng.normal(scale=2.0, size=shape)
        reply = student.call("tanh_forward", x, return_inputs=True)
        out, _ = expect_tuple(reply.value, 2, "tanh_forward", "(out, cache)")
        check_forward(out, reference.tanh_forward(x)[0], "tanh_forward", x, case)
        expect_inputs_unchanged(reply, (x,), "tanh_forward")


@pytest.mark.hidden
@pytest.mark.points(3)
def test_tanh_backward_matches_reference(student, reference, rng):
    """Does tanh_backward match the reference for shapes (1, 1), (64, 10), 3-D and 1-D, dout untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for shape, case in REFERENCE_CASES:
        x, dout = rng.normal(scale=2.0, size=shape), rng.normal(size=shape)
        _, cache = forward(student, "tanh_forward", x)
        reply = student.call("tanh_backward", dout, cache, return_inputs=True)
        dx = backward(student, "tanh_backward", dout, cache, x, output=reply.value)
        want = reference.tanh_backward(dout, reference.tanh_forward(x)[1])
        check_backward(dx, want, "tanh_backward", x, dout, case)
        expect_inputs_unchanged(reply, (dout,), "tanh_backward")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_tanh_backward_uses_its_own_cache(student, reference, rng):
    """Two forward passes, then backward with the first cache, the second, the first again: right each time?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    first = rng.normal(scale=1.5, size=(4, 5))
    second = rng.normal(loc=1.0, scale=1.5, size=(4, 5))
    _, first_cache = forward(student, "tanh_forward", first)
    _, second_cache = forward(student, "tanh_forward", second)
    calls = [(first, first_cache, "the first cache, after a second forward pass"),
             (second, second_cache, "the second cache"),
             (first, first_cache, "the first cache once more, with another dout")]
    for x, cache, case in calls:
        dout = rng.normal(size=x.shape)
        dx = backward(student, "tanh_backward", dout, cache, x)
        want = reference.tanh_backward(dout, reference.tanh_forward(x)[1])
        check_backward(dx, want, "tanh_backward", x, dout, case)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_tanh_at_large_inputs_matches_reference(student, reference, rng):
    """Do tanh_forward and tanh_backward match the reference, finite and silent, for abs(x) from 1e-3 to 1e4?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    magnitudes = 10.0 ** rng.uniform(-3.0, 4.0, size=(6, 7))
    x = np.where(rng.random((6, 7)) < 0.5, -magnitudes, magnitudes)
    x[0, :4] = [-1e4, 1e4, -720.0, 720.0]  # just past where e^x overflows, and the limit
    dout = rng.normal(size=x.shape)
    want_out = reference.tanh_forward(x)[0]
    want_dx = reference.tanh_backward(dout, reference.tanh_forward(x)[1])
    check_large_tanh(student, x, dout, want_out, want_dx, "abs(x) from 1e-3 to 1e4")
