"""Grading tests for the softmax cross-entropy exercise (30 points).

The expected values of the public tests and the numerical gradients come from a softmax
and a log-sum-exp written here, in the test module, never from the student's own
softmax_ce_loss: a constant loss would make zero gradients look right. softmax and
softmax_ce_loss are promised warning-free at huge logits, and their tests at the
extremes pass the call's warnings to the diagnosis, so that an overflow, a batch-wide
maximum and a log of 0 are told apart; softmax_ce_grad is held to its values there, not
to its warnings. Square batches (N == K) are in the visible tests, because a row
maximum or a row sum that lost its axis broadcasts silently only there.
"""

import math

import numpy as np
import pytest

from exercises.provided import sigmoid
from grader.contract import Exercise, Function, Mistake
from grader.grading.expect import (
    diagnosing,
    expect,
    expect_array,
    expect_gradient,
    expect_inputs_unchanged,
    expect_no_warnings,
)
from grader.grading.gradcheck import check_coordinates

EXERCISE = Exercise(
    "Softmax cross-entropy for K classes",
    assignment="networks", order=1,
    functions=(
        Function("softmax", ("z",), warning_free=True),
        Function("softmax_ce_loss", ("y", "logits"), warning_free=True),
        Function("softmax_ce_grad", ("y", "logits")),
    ))


# The mistakes' wrong answers: instructor-only, cut from the student bundle with the
# variants that use them.
def _softmax_along(z, axis):
    """Softmax normalised along ``axis`` (0: down the columns, None: the whole array)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_unkept(z, *, shift, kept_max, kept_sum):
    """Softmax with a row maximum or a row sum of shape (N,), broadcast along the
    columns (it only runs when N == K): row n is paired with row k's reduction."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        if shift:
            z = z - np.max(z, axis=1, keepdims=kept_max)
        e = np.exp(z)
        return e / np.sum(e, axis=1, keepdims=kept_sum)


def _onehot(y, k):
    return np.eye(k)[np.asarray(y, dtype=np.intp)]


def _grad_from(p, y):
    """(p - onehot(y)) / N for the probabilities p of some softmax, right or wrong."""
    return (p - _onehot(y, p.shape[1])) / p.shape[0]


def _unkept_softmaxes(z):
    return (_softmax_unkept(z, shift=True, kept_max=True, kept_sum=False),
            _softmax_unkept(z, shift=True, kept_max=False, kept_sum=True),
            _softmax_unkept(z, shift=True, kept_max=False, kept_sum=False),
            _softmax_unkept(z, shift=False, kept_max=True, kept_sum=False))


def _loss_along(z, y, axis):
    """The mean cross-entropy of a log-softmax taken along ``axis``."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        shifted = z - np.max(z, axis=axis, keepdims=True)
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return float(-np.mean(log_p[np.arange(z.shape[0]), np.asarray(y, dtype=np.intp)]))


def _loss_every_row_at_every_label(ref, i):
    """-log p[:, y] averaged over its (N, N) entries."""
    with np.errstate(all="ignore"):
        return float(-np.mean(np.log(ref.softmax(i["logits"])[:, np.asarray(i["y"])])))


def _grad_onehot_in_every_row(ref, i):
    """p[:, y] -= 1: every row loses 1 at every label of the batch (once per distinct one)."""
    grad = ref.softmax(i["logits"])
    grad[:, np.asarray(i["y"], dtype=np.intp)] -= 1.0
    return grad / grad.shape[0]


def _grad_diagonal_only(ref, i):
    """Softmax treated as elementwise: dl/dz_j = dl/dp_j * p_j (1 - p_j), zero off the label."""
    p = ref.softmax(i["logits"])
    rows, y = np.arange(p.shape[0]), np.asarray(i["y"], dtype=np.intp)
    grad = np.zeros_like(p)
    grad[rows, y] = -(1.0 - p[rows, y])
    return grad / p.shape[0]


def _grad_labels_as_values(ref, i):
    p = ref.softmax(i["logits"])
    return (p - np.asarray(i["y"], dtype=np.float64)[:, None]) / p.shape[0]


MISTAKES = (
    # -- softmax ---------------------------------------------------------------------
    Mistake(
        "softmax-wrong-axis", "softmax",
        "Your probabilities are normalised over the wrong axis: each row is one sample, "
        "and each row must sum to 1 on its own. The maximum and the sum of the formula "
        "run over the K classes of one row, axis 1 of the (N, K) array, not down the "
        "columns (axis 0) and not over the whole batch.",
        variants=(lambda ref, i: _softmax_along(i["z"], 0),
                  lambda ref, i: _softmax_along(i["z"], None))),
    Mistake(
        "softmax-broadcast-keepdims", "softmax",
        "A row's maximum or its sum, reduced over axis 1, has shape (N,). Subtracted "
        "from or divided into the (N, K) array, numpy broadcasts it along the last axis, "
        "so entry [n, k] meets the reduction of row k, not of row n. It only runs when "
        "N == K, which is why it seemed to work. Keep the reduced axis (keepdims=True) "
        "or make it a column, shape (N, 1).",
        variants=tuple(lambda ref, i, which=which: _unkept_softmaxes(i["z"])[which]
                       for which in range(4))),
    Mistake(
        "softmax-overflow", "softmax",
        "exp overflows to inf once its argument passes about 709, and inf / inf is nan. "
        "Subtract each row's own maximum from its logits before taking exp: the "
        "probabilities do not change (the module text shows why), and no exponent is "
        "then positive.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
    Mistake(
        "softmax-global-max", "softmax",
        "Some rows came out 0 / 0. Subtracting one maximum for the whole batch avoids "
        "overflow, but a row whose logits all lie far below that maximum (1e4 lower, "
        "say) has every exp underflow to 0. Each row needs its own maximum.",
        when=lambda i, out, warnings: (
            not any("overflow" in w for w in warnings)
            and any("invalid value" in w for w in warnings)
            and np.ptp(np.max(np.asarray(i["z"], dtype=np.float64), axis=1)) > 700.0
            and isinstance(out, np.ndarray) and out.ndim == 2
            and bool(np.isnan(out).all(axis=1).any()))),
    # -- softmax_ce_loss -------------------------------------------------------------
    Mistake(
        "softmax-ce-loss-sum", "softmax_ce_loss",
        "Your loss is N times too large: it is the sum of the samples' losses. The loss "
        "of the batch is their mean.",
        variants=(lambda ref, i: ref.softmax_ce_loss(i["y"], i["logits"]) * len(i["y"]),)),
    Mistake(
        "softmax-ce-loss-sign", "softmax_ce_loss",
        "Your loss is negative. A probability is at most 1, so its log is at most 0: the "
        "cross-entropy is the NEGATIVE log of the probability of the true class, which "
        "is never below 0.",
        variants=(lambda ref, i: -ref.softmax_ce_loss(i["y"], i["logits"]),)),
    Mistake(
        "softmax-ce-label-indexing", "softmax_ce_loss",
        "Your loss reads every row at every label: p[:, y] is an (N, N) array, row n of "
        "p at each of the N labels. Sample n's loss needs only the entry of row n at "
        "column y[n]: index with one array for the rows and one for the columns.",
        variants=(_loss_every_row_at_every_label,)),
    Mistake(
        "softmax-wrong-axis", "softmax_ce_loss",
        "Your probabilities are normalised over the wrong axis: each row is one sample, "
        "and its log-sum-exp runs over the K classes of that row, axis 1 of the (N, K) "
        "array, not down the columns and not over the whole batch.",
        variants=(lambda ref, i: _loss_along(i["logits"], i["y"], 0),
                  lambda ref, i: _loss_along(i["logits"], i["y"], None))),
    Mistake(
        "softmax-overflow", "softmax_ce_loss",
        "exp overflows to inf once its argument passes about 709, and the loss comes out "
        "inf or nan. Work with the log-softmax, log p_k = z_k - logsumexp(z), and take "
        "each row's maximum out of the log-sum-exp before the exp (the module text shows "
        "how): no exponent is then positive.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
    Mistake(
        "softmax-ce-log-of-zero", "softmax_ce_loss",
        "Your loss takes the log of a probability that has rounded to 0: a confident "
        "wrong answer has p_y below 1e-308, log(0) is -inf, and the loss comes out inf "
        "while its true value is finite. Clipping p only caps the loss. Never form p for "
        "the loss: log p_y = z_y - logsumexp(z), with the row maximum taken out first.",
        when=lambda i, out, warnings: (
            not any("overflow" in w for w in warnings)
            and any("divide by zero encountered in log" in w for w in warnings))),
    # -- softmax_ce_grad -------------------------------------------------------------
    Mistake(
        "softmax-grad-missing-mean", "softmax_ce_grad",
        "Your gradient is N times too large. The loss is the mean over the batch, so each "
        "sample's logits reach it with a weight 1/N, and so does their gradient.",
        variants=(lambda ref, i: ref.softmax_ce_grad(i["y"], i["logits"]) * len(i["y"]),)),
    Mistake(
        "softmax-grad-sign", "softmax_ce_grad",
        "Your gradient has the wrong sign. Raising the logit of the true class lowers the "
        "loss, so the gradient there must be negative; the other classes get a positive "
        "gradient, and gradient descent lowers their logits.",
        variants=(lambda ref, i: -ref.softmax_ce_grad(i["y"], i["logits"]),)),
    Mistake(
        "softmax-grad-no-onehot", "softmax_ce_grad",
        "Your gradient is the softmax alone: every entry is positive, so gradient descent "
        "would lower every logit, the true class's too. The derivative of -log p_y with "
        "respect to z_j is p_j minus 1 where j is the true class; don't drop that 1.",
        variants=(lambda ref, i: ref.softmax(i["logits"]) / len(i["y"]),
                  lambda ref, i: ref.softmax(i["logits"]))),
    Mistake(
        "softmax-grad-diagonal-only", "softmax_ce_grad",
        "Your gradient is 0 for every class but the true one: it treats softmax as "
        "elementwise, like the sigmoid, keeping only the diagonal p_k (1 - p_k) of its "
        "Jacobian. Each p_k depends on every logit through the sum S, so dp_k/dz_j = "
        "p_k ([k == j] - p_j) has off-diagonal terms too; chain -1/p_y through the whole "
        "row of the Jacobian.",
        variants=(_grad_diagonal_only,)),
    Mistake(
        "softmax-grad-labels-as-values", "softmax_ce_grad",
        "Your gradient subtracts the label itself from every probability of its row. y "
        "holds class indices, not probabilities: the 1 of the one-hot goes at column "
        "y[n] of row n, and every other column subtracts 0.",
        variants=(_grad_labels_as_values,)),
    Mistake(
        "softmax-ce-label-indexing", "softmax_ce_grad",
        "Your gradient subtracts 1 at every label of the batch in every row: p[:, y] "
        "selects whole columns, one for each label. Row n needs the 1 subtracted at "
        "column y[n] only: index with one array for the rows and one for the columns.",
        variants=(_grad_onehot_in_every_row,)),
    Mistake(
        "softmax-wrong-axis", "softmax_ce_grad",
        "Your gradient uses probabilities normalised over the wrong axis: each row of "
        "the softmax must sum to 1 on its own, over the K classes of one sample (axis 1), "
        "not down the columns and not over the whole batch. Check your softmax first.",
        variants=(lambda ref, i: _grad_from(_softmax_along(i["logits"], 0), i["y"]),
                  lambda ref, i: _grad_from(_softmax_along(i["logits"], None), i["y"]))),
    Mistake(
        "softmax-broadcast-keepdims", "softmax_ce_grad",
        "Your gradient uses a softmax whose row maximum or row sum lost its axis: of "
        "shape (N,), numpy broadcasts it along the last axis, so entry [n, k] meets the "
        "reduction of row k. It only runs when N == K. Keep the reduced axis "
        "(keepdims=True) or make it a column, shape (N, 1).",
        variants=tuple(lambda ref, i, which=which: _grad_from(
            _unkept_softmaxes(i["logits"])[which], i["y"]) for which in range(4))),
    Mistake(
        "softmax-global-max", "softmax_ce_grad",
        "Some rows of your gradient came out 0 / 0. One maximum for the whole batch "
        "avoids overflow, but a row whose logits all lie far below it (1e4 lower, say) "
        "has every exp underflow to 0. The softmax inside needs each row's own maximum.",
        when=lambda i, out, warnings: (
            not any("overflow" in w for w in warnings)
            and any("invalid value" in w for w in warnings)
            and np.ptp(np.max(np.asarray(i["logits"], dtype=np.float64), axis=1)) > 700.0
            and isinstance(out, np.ndarray) and out.ndim == 2
            and bool(np.isnan(out).all(axis=1).any()))),
    Mistake(
        "softmax-overflow", "softmax_ce_grad",
        "exp overflows to inf once its argument passes about 709, and inf / inf is nan. "
        "The gradient needs the softmax of each row: subtract the row's own maximum from "
        "its logits before taking exp.",
        when=lambda i, out, warnings: any("overflow" in w for w in warnings)),
)


# -- the worked numbers of the module text -------------------------------------------

WORKED_Z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0]])
WORKED_Y = np.array([2, 1])
WORKED_P = np.array([[0.09003057317038046, 0.24472847105479764, 0.6652409557748218],
                     [0.6652409557748218, 0.09003057317038046, 0.24472847105479764]])
WORKED_LOSS = 1.4076059644443806
WORKED_GRAD = np.array([[0.04501528658519023, 0.12236423552739882, -0.1673795221125891],
                        [0.3326204778874109, -0.4549847134148098, 0.12236423552739882]])

# Rows whose maxima lie far apart (a batch-wide maximum empties the second row), exps
# that overflow, and ties: every row is exact in float64 after its maximum is taken out.
EXTREME_Z = np.array([[1e4, 0.0, -1e4],
                      [-1e4, -9999.0, -9998.0],
                      [0.0, 1e4, 1e4],
                      [-1e4, 1e4, 0.0]])
# A confident right answer, confident wrong ones (1e4 and 2e4), a row far below 0, a tie.
EXTREME_LABELS = np.array([0, 2, 1, 0, 0])
EXTREME_LOGITS = np.array([[1e4, 0.0, -1e4],
                           [1e4, 0.0, -1e4],
                           [-1e4, -9999.0, -9998.0],
                           [0.0, 1e4, 1e4],
                           [3.0, -2.0, 0.5]])


def log_softmax(z):
    """log softmax of each row, z - logsumexp(z) with the row maximum taken out first."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def probabilities(z):
    return np.exp(log_softmax(z))


def mean_cross_entropy(y, z):
    """The loss of the contract, summed with fsum: right for any logits."""
    terms = -log_softmax(z)[np.arange(len(y)), y]
    return math.fsum(terms.tolist()) / len(y)


def labelled(rng, n, k, scale=1.5):
    return rng.integers(0, k, size=n), rng.normal(0.0, scale, size=(n, k))


def expect_right_with_warnings(reply, want, what, *, function, inputs, case):
    """The value, diagnosed with the call's warnings: an overflow, a batch-wide maximum
    and a log of 0 are only told apart by what numpy said."""
    with diagnosing(function, inputs, reply.value, reply.warnings):
        expect(reply.value, want, what, function=function, case=case)


# -- visible tests -------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.hint("p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j]): each row is one sample, "
                  "and its probabilities are normalised over its own K classes.")
def test_softmax_worked_example(student):
    """Does softmax reproduce the worked example, [0.0900305732, 0.2447284711, 0.6652409558]?"""
    got = expect_array(student.softmax(WORKED_Z), (2, 3), "softmax of the (2, 3) example")
    expect(got, WORKED_P, "softmax(z)", function="softmax", inputs={"z": WORKED_Z},
           case="the worked example")
    z = np.array([[0.5, -1.0, 2.0, 0.0]])
    got = expect_array(student.softmax(z), (1, 4), "softmax of one row of 4")
    expect(got, probabilities(z), "softmax(z)", function="softmax", inputs={"z": z},
           case="one sample, 4 classes")


@pytest.mark.points(2)
@pytest.mark.hint("Each row of p must sum to 1 on its own: the maximum and the sum of the "
                  "formula run over one row, axis 1. Reduced over axis 1 they have shape "
                  "(N,); to combine them with the (N, K) array row by row, keep them as a "
                  "column of shape (N, 1).")
def test_softmax_normalises_each_row(student, rng):
    """Is softmax right for square batches (N == K) and tall ones, row by row?"""
    for n, k in [(3, 3), (2, 2), (5, 2), (4, 6)]:
        z = rng.normal(0.0, 2.0, size=(n, k))
        got = expect_array(student.softmax(z), (n, k), f"softmax of a ({n}, {k}) batch")
        expect(got, probabilities(z), "softmax(z)", function="softmax", inputs={"z": z},
               case=f"a random ({n}, {k}) batch")


@pytest.mark.points(2)
@pytest.mark.hint("exp(1e4) is inf in float64, and inf / inf is nan. Subtract each row's own "
                  "maximum from its logits before exp: the probabilities do not change, and "
                  "no exponent is then positive. One maximum for the whole batch is not "
                  "enough: a row 1e4 below it would be all 0 / 0.")
def test_softmax_is_stable_for_huge_logits(student):
    """Is softmax right, finite and silent for logits from -1e4 to 1e4, rows far apart?"""
    reply = student.call("softmax", EXTREME_Z, return_inputs=True)
    inputs = {"z": EXTREME_Z}
    expect_array(reply.value, EXTREME_Z.shape, "softmax of logits from -1e4 to 1e4")
    want = np.array([[1.0, 0.0, 0.0], list(WORKED_P[0]), [0.0, 0.5, 0.5], [0.0, 1.0, 0.0]])
    expect_right_with_warnings(reply, want, "softmax(z)", function="softmax", inputs=inputs,
                               case="logits from -1e4 to 1e4")
    expect_no_warnings(reply, "softmax(z) for logits from -1e4 to 1e4", function="softmax",
                       inputs=inputs)
    expect_inputs_unchanged(reply, (EXTREME_Z,), "softmax")


@pytest.mark.points(2)
@pytest.mark.hint("The loss is the MEAN over the samples of -log p[n, y[n]], the negative "
                  "log of the probability that row n gives its own true class y[n].")
def test_softmax_ce_loss_worked_example(student):
    """Is the loss of the worked example 1.4076059644, and log 3 for equal logits?"""
    expect(student.softmax_ce_loss(WORKED_Y, WORKED_Z), WORKED_LOSS, "softmax_ce_loss(y, z)",
           function="softmax_ce_loss", inputs={"y": WORKED_Y, "logits": WORKED_Z},
           case="the worked example")
    y, z = np.array([1, 0]), np.array([[0.25, 0.25, 0.25], [-2.0, -2.0, -2.0]])
    expect(student.softmax_ce_loss(y, z), math.log(3.0), "softmax_ce_loss(y, z)",
           function="softmax_ce_loss", inputs={"y": y, "logits": z},
           case="equal logits, K = 3")
    y, z = np.array([3, 0, 1]), np.array([[0.5, -1.0, 2.0, 0.0], [1.5, 0.0, -0.5, 1.0],
                                          [-1.0, 2.5, 0.0, 0.5]])
    expect(student.softmax_ce_loss(y, z), mean_cross_entropy(y, z), "softmax_ce_loss(y, z)",
           function="softmax_ce_loss", inputs={"y": y, "logits": z},
           case="three samples, 4 classes")


@pytest.mark.points(2)
@pytest.mark.hint("At logits of size 1e4 a confident wrong answer costs 1e4 or 2e4, and the "
                  "loss must come out so, finite and silent. Do not take the log of p: a "
                  "probability below 1e-308 rounds to 0, and clipping it only caps the loss. "
                  "Write log p_y = z_y - logsumexp(z), with the row's maximum taken out of "
                  "the log-sum-exp before the exp (the module text shows how).")
def test_softmax_ce_loss_is_stable_for_huge_logits(student):
    """Is the loss right, finite and silent for logits from -1e4 to 1e4, wrong answers too?"""
    reply = student.call("softmax_ce_loss", EXTREME_LABELS, EXTREME_LOGITS, return_inputs=True)
    inputs = {"y": EXTREME_LABELS, "logits": EXTREME_LOGITS}
    expect_right_with_warnings(reply, mean_cross_entropy(EXTREME_LABELS, EXTREME_LOGITS),
                               "softmax_ce_loss(y, z)", function="softmax_ce_loss",
                               inputs=inputs, case="logits from -1e4 to 1e4")
    expect_no_warnings(reply, "softmax_ce_loss for logits from -1e4 to 1e4",
                       function="softmax_ce_loss", inputs=inputs)
    expect_inputs_unchanged(reply, (EXTREME_LABELS, EXTREME_LOGITS), "softmax_ce_loss")


@pytest.mark.points(2)
@pytest.mark.hint("dL/dz = (p - onehot(y)) / N: the probabilities, minus 1 at each row's "
                  "true class, divided by the number of samples. The module text derives it. "
                  "At logits of size 1e4 the softmax inside must be the stable one.")
def test_softmax_ce_grad_worked_example(student):
    """Does softmax_ce_grad reproduce the worked gradient, and stay right for logits up to 1e4?"""
    inputs = {"y": WORKED_Y, "logits": WORKED_Z}
    output = student.softmax_ce_grad(WORKED_Y, WORKED_Z)
    with diagnosing("softmax_ce_grad", inputs, output):
        got = expect_array(output, (2, 3), "softmax_ce_grad of the (2, 3) example")
    expect(got, WORKED_GRAD, "softmax_ce_grad(y, z)", function="softmax_ce_grad",
           inputs=inputs, case="the worked example")
    # Only its values are promised at the extremes; its warnings name an overflow.
    reply = student.call("softmax_ce_grad", EXTREME_LABELS, EXTREME_LOGITS)
    inputs = {"y": EXTREME_LABELS, "logits": EXTREME_LOGITS}
    with diagnosing("softmax_ce_grad", inputs, reply.value, reply.warnings):
        expect_array(reply.value, EXTREME_LOGITS.shape, "softmax_ce_grad at logits of size 1e4")
    onehot = np.eye(3)[EXTREME_LABELS]
    expect_right_with_warnings(reply, (probabilities(EXTREME_LOGITS) - onehot) / len(onehot),
                               "softmax_ce_grad(y, z)", function="softmax_ce_grad",
                               inputs=inputs, case="logits from -1e4 to 1e4")


@pytest.mark.points(3)
@pytest.mark.hint("For one sample, dl/dz_j = p_j - [j == y]: chain -1/p_y through the whole "
                  "row of the softmax Jacobian, dp_y/dz_j = p_y ([y == j] - p_j), off the "
                  "diagonal too. Then the mean: every sample's logits reach L with weight 1/N.",
                  "Check each row of your gradient: it must sum to 0, be negative only at "
                  "the true class, and, multiplied by N, be the softmax minus 1 at column "
                  "y[n]. Test with N > 1 and labels that differ: N = 1 hides a missing 1/N.")
def test_softmax_ce_grad_matches_numerical_gradient(student, rng):
    """Does softmax_ce_grad agree with central differences of the mean cross-entropy, K = 2, 3, 5?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    # A square batch early, so that a reduction that lost its axis is named, not a crash.
    for n, k in [(1, 2), (3, 3), (4, 2), (1, 3), (1, 5), (6, 5)]:
        y, z = labelled(rng, n, k)
        inputs = {"y": y, "logits": z}
        output = student.softmax_ce_grad(y, z)
        with diagnosing("softmax_ce_grad", inputs, output):
            got = expect_array(output, (n, k), f"softmax_ce_grad (N = {n}, K = {k})")
            result = check_coordinates(got, lambda v, y=y: mean_cross_entropy(y, v), z)
            expect_gradient(result, f"softmax_ce_grad (N = {n}, K = {k})",
                            "the mean cross-entropy with respect to the logits")


@pytest.mark.points(1)
@pytest.mark.hint("With two classes, p_1 = sigma(z_1 - z_0): softmax is the sigmoid of the "
                  "difference of the logits, the loss is the binary cross-entropy of that "
                  "difference, and column 1 of the gradient is (sigma(d) - y) / N.")
def test_two_classes_are_logistic_regression(student):
    """For K = 2, do softmax, the loss and the gradient agree with the sigmoid and the BCE?"""
    z = np.array([[0.5, -1.0], [2.0, 2.5], [-3.0, 1.0], [0.0, -0.75]])
    y = np.array([0, 1, 1, 0])
    d = z[:, 1] - z[:, 0]
    p1 = sigmoid(d)
    got = expect_array(student.softmax(z), (4, 2), "softmax of a (4, 2) batch")
    expect(got, np.stack([1.0 - p1, p1], axis=1), "softmax(z)", function="softmax",
           inputs={"z": z}, case="K = 2 against the sigmoid of z_1 - z_0")
    inputs = {"y": y, "logits": z}
    expect(student.softmax_ce_loss(y, z), float(np.mean(np.logaddexp(0.0, d) - y * d)),
           "softmax_ce_loss(y, z)", function="softmax_ce_loss", inputs=inputs,
           case="K = 2 against the binary cross-entropy of z_1 - z_0")
    column = (p1 - y) / len(y)
    output = student.softmax_ce_grad(y, z)
    with diagnosing("softmax_ce_grad", inputs, output):
        got = expect_array(output, (4, 2), "softmax_ce_grad of a (4, 2) batch")
    expect(got, np.stack([-column, column], axis=1), "softmax_ce_grad(y, z)",
           function="softmax_ce_grad", inputs=inputs,
           case="K = 2 against (sigma(z_1 - z_0) - y) / N")


# -- hidden tests --------------------------------------------------------------------

# (N, K, scale): one sample, a square batch, tall and wide ones, and saturated logits
# (rows thousands apart). The square batch comes early so that a broadcast row
# reduction is named rather than a crash on the next shape.
REFERENCE_CASES = [(1, 2, 1.0), (6, 6, 1.5), (5, 3, 1.5), (1, 7, 2.0), (64, 10, 2.0),
                   (20, 4, 1e3)]


@pytest.mark.hidden
@pytest.mark.points(3)
def test_softmax_matches_reference(student, reference, rng):
    """Does softmax match the reference for batches of 1 and many and saturated logits, z untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for n, k, scale in REFERENCE_CASES:
        z = rng.normal(0.0, scale, size=(n, k))
        reply = student.call("softmax", z, return_inputs=True)
        inputs = {"z": z}
        expect_array(reply.value, (n, k), f"softmax of a ({n}, {k}) batch")
        expect_right_with_warnings(reply, reference.softmax(z), "softmax(z)", function="softmax",
                                   inputs=inputs, case=f"N={n}, K={k}, logits of scale {scale:g}")
        expect_no_warnings(reply, f"softmax(z) for logits of scale {scale:g}", function="softmax",
                           inputs=inputs)
        expect_inputs_unchanged(reply, (z,), "softmax")


@pytest.mark.hidden
@pytest.mark.points(4)
def test_softmax_ce_loss_matches_reference(student, reference, rng):
    """Does the loss match the reference for batches of 1 and many and saturated logits, inputs untouched?"""  # noqa: E501 (one line: it is the question of the notebook cell)
    for n, k, scale in REFERENCE_CASES:
        y, z = labelled(rng, n, k, scale)
        reply = student.call("softmax_ce_loss", y, z, return_inputs=True)
        inputs = {"y": y, "logits": z}
        expect_right_with_warnings(reply, reference.softmax_ce_loss(y, z), "softmax_ce_loss(y, z)",
                                   function="softmax_ce_loss", inputs=inputs,
                                   case=f"N={n}, K={k}, logits of scale {scale:g}")
        expect_no_warnings(reply, f"softmax_ce_loss for logits of scale {scale:g}",
                           function="softmax_ce_loss", inputs=inputs)
        expect_inputs_unchanged(reply, (y, z), "softmax_ce_loss")


@pytest.mark.hidden
@pytest.mark.points(5)
def test_softmax_ce_grad_matches_reference(student, reference, rng):
    """Does softmax_ce_grad match the reference for batches of 1 and many, inputs untouched?"""
    for n, k, scale in REFERENCE_CASES[:-1]:
        y, z = labelled(rng, n, k, scale)
        reply = student.call("softmax_ce_grad", y, z, return_inputs=True)
        inputs = {"y": y, "logits": z}
        with diagnosing("softmax_ce_grad", inputs, reply.value, reply.warnings):
            expect_array(reply.value, (n, k), f"softmax_ce_grad (N = {n}, K = {k})")
        expect_right_with_warnings(reply, reference.softmax_ce_grad(y, z),
                                   "softmax_ce_grad(y, z)", function="softmax_ce_grad",
                                   inputs=inputs, case=f"N={n}, K={k}")
        expect_inputs_unchanged(reply, (y, z), "softmax_ce_grad")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_softmax_ce_grad_is_right_for_huge_logits(student, reference, rng):
    """Is softmax_ce_grad finite and right for logits up to 1e4 and rows thousands apart?"""
    n, k, scale = REFERENCE_CASES[-1]
    y, z = labelled(rng, n, k, scale)
    for labels, logits, case in [(y, z, f"N={n}, K={k}, logits of scale {scale:g}"),
                                 # Not the public test's extremes: a hidden test's inputs
                                 # are its own (the bundle's fingerprints leave shared ones out).
                                 (EXTREME_LABELS[::-1].copy(), EXTREME_LOGITS[::-1] * 0.75,
                                  "logits from -7.5e3 to 7.5e3")]:
        reply = student.call("softmax_ce_grad", labels, logits)
        inputs = {"y": labels, "logits": logits}
        with diagnosing("softmax_ce_grad", inputs, reply.value, reply.warnings):
            expect_array(reply.value, logits.shape, f"softmax_ce_grad ({case})")
        expect_right_with_warnings(reply, reference.softmax_ce_grad(labels, logits),
                                   "softmax_ce_grad(y, z)", function="softmax_ce_grad",
                                   inputs=inputs, case=case)
