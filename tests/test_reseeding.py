"""Every visible gradient check, reseeded many times: the reference never fails it, and
each catalogued wrong gradient always does.

The checks run in this process against plain Python namespaces (the reference modules,
or the reference with one mistake written in), calling the autotest functions
themselves with a fresh generator per draw. A module built on its siblings (mlp.py's
``from .activations import ...``) runs in the ``solutions`` package, on the reference's
siblings: its mistakes are its own. ``BACKPROP_RESEEDS`` sets the number of
draws: 400 by default (about 10 s), 10,000 in CI (``.ci/run`` sets it; about 5 min).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from autotests import (
    test_activations,
    test_chain_rule,
    test_cross_entropy,
    test_dense,
    test_mlp,
    test_mse,
    test_softmax,
    test_training,
)
from grader.grading.compare import GradeFailure
from grader.sandbox.client import Reply
from tests.conftest import reference_sources
from tests.test_misconceptions import IMPORTS, WRONG

RESEEDS = int(os.environ.get("BACKPROP_RESEEDS", "400"))

# Every visible test that checks a gradient on inputs drawn from its generator, and the
# mistakes of the catalogue that it is there to catch.
CHECKS = {
    "mse_grad": (test_mse.test_mse_grad_matches_numerical_derivative, "mse",
                 ["mse-grad-missing-2", "mse-grad-sum-not-mean", "mse-grad-sign"]),
    "dense_backward": (test_dense.test_dense_backward_matches_numerical_gradient, "dense",
                       ["dense-missing-activation-derivative", "dense-bias-not-summed",
                        "dense-dW-transposed", "dense-dx-from-dh"]),
    "dense_chain": (test_dense.test_dense_layers_chain_backwards, "dense",
                    ["dense-missing-activation-derivative", "dense-bias-not-summed",
                     "dense-dW-transposed", "dense-dx-from-dh"]),
    "bce_grad": (test_cross_entropy.test_bce_grad_matches_numerical_derivative, "cross_entropy",
                 ["bce-grad-sign", "bce-grad-missing-mean", "bce-grad-mse-style"]),
    "logistic_regression_grad": (
        test_cross_entropy.test_logistic_regression_grad_matches_numerical_gradient,
        "cross_entropy", ["bce-grad-sign", "bce-grad-missing-mean", "bce-grad-mse-style"]),
    "graph_backward": (test_chain_rule.test_graph_backward_worked_example, "chain_rule",
                       ["chain-fanout-dropped", "chain-cos-derivative-sign",
                        "chain-derivative-at-wrong-node"]),
    "backward": (test_training.test_backward_worked_example_and_numerical_gradient, "training",
                 ["training-grad-of-sum"]),
    # Away from the kink by design: relu-kink-convention is the worked test's to catch.
    "relu_backward": (test_activations.test_relu_backward_matches_numerical_gradient,
                      "activations", ["relu-backward-ignores-upstream",
                                      "relu-backward-passes-upstream"]),
    "tanh_backward": (test_activations.test_tanh_backward_matches_numerical_gradient,
                      "activations", ["tanh-derivative-at-input", "tanh-backward-ignores-upstream",
                                      "tanh-derivative-sign"]),
    "softmax_ce_grad": (test_softmax.test_softmax_ce_grad_matches_numerical_gradient, "softmax",
                        ["softmax-grad-missing-mean", "softmax-grad-sign",
                         "softmax-grad-no-onehot", "softmax-grad-diagonal-only",
                         "softmax-grad-labels-as-values", "softmax-ce-label-indexing",
                         "softmax-wrong-axis", "softmax-broadcast-keepdims"]),
    "affine_backward": (test_mlp.test_affine_backward_matches_numerical_gradient, "mlp",
                        ["affine-db-not-summed", "affine-dW-transposed",
                         "affine-grads-averaged"]),
    "mlp_backward": (test_mlp.test_mlp_backward_worked_example_and_numerical_gradient, "mlp",
                     ["mlp-backward-skips-tanh", "mlp-grads-of-sum", "affine-db-not-summed",
                      "affine-dW-transposed"]),
}


class InProcessStudent:
    """What an autotest calls, served from a namespace in this process."""

    def __init__(self, namespace: dict):
        self._namespace = namespace

    def call(self, function, *args, return_inputs=False, **kwargs):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        try:
            value = self._namespace[function](*copies, **kwargs)
        except Exception as error:  # the worker reports it as the test's failure
            raise GradeFailure(f"{function} raised {type(error).__name__}: {error}") from None
        return Reply(value=value, inputs_after=copies if return_inputs else None)

    def __getattr__(self, function):
        return lambda *args, **kwargs: self.call(function, *args, **kwargs).value


def namespace(module: str, extra: str = "") -> dict:
    # In the solutions package, so that a relative import finds the reference's siblings.
    space: dict = {"__name__": f"solutions.reseeded_{module}", "__package__": "solutions"}
    exec(compile(reference_sources()[module] + "\n" + extra, f"<{module}>", "exec"), space)
    return space


def outcome(test, student, seed: int) -> str | None:
    """None if the test passed with this seed, else its failure message."""
    try:
        test(student=student, rng=np.random.default_rng(seed))
    except GradeFailure as failure:
        return failure.message
    return None


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_reference_never_fails_and_each_mistake_always_does(check):
    """Over every seed, does the reference pass this visible check, and does each
    catalogued wrong gradient fail it?"""
    test, module, mistakes = CHECKS[check]
    right = InProcessStudent(namespace(module))
    wrong = {m: InProcessStudent(namespace(module, IMPORTS + WRONG[m][1])) for m in mistakes}
    assert all(WRONG[m][0] == module for m in mistakes)
    reference_failed, mistakes_passed = {}, {}
    for seed in range(RESEEDS):
        message = outcome(test, right, seed)
        if message is not None:
            reference_failed[seed] = message
        for mistake, student in wrong.items():
            if outcome(test, student, seed) is None:
                mistakes_passed.setdefault(mistake, []).append(seed)
    assert reference_failed == {}
    assert mistakes_passed == {}
