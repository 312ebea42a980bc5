"""The student API contract: which modules, which functions, how many points.

This table is the one place that names the exercises. The stub generator, the
worker proxy, the autotests and the notebook generator all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    # Positions in the returned tuple that stay inside the worker (a layer's cache).
    opaque_results: tuple[int, ...] = ()
    # The exercise text promises no RuntimeWarning at the extreme inputs; only then
    # may a test take points for a warning (its docstring says "warning-free").
    warning_free: bool = False


@dataclass(frozen=True)
class Exercise:
    name: str
    points: int
    title: str
    functions: tuple[Function, ...]

    def function(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("sigmoid", 10, "The sigmoid and its derivative", (
        Function("sigmoid", ("z",), warning_free=True),
        Function("sigmoid_grad", ("z",)),
    )),
    Exercise("mse", 10, "Mean squared error and its gradient", (
        Function("mse_loss", ("y_true", "y_pred")),
        Function("mse_grad", ("y_true", "y_pred")),
    )),
    Exercise("dense", 25, "Forward and backward pass of a dense layer", (
        Function("dense_forward", ("x", "W", "b"), opaque_results=(1,)),
        Function("dense_backward", ("dh", "cache")),
    )),
    Exercise("cross_entropy", 20, "Cross-entropy and logistic regression", (
        Function("bce_loss", ("y_true", "logits"), warning_free=True),
        Function("bce_grad", ("y_true", "logits")),
        Function("logistic_regression_grad", ("w", "b", "X", "y")),
    )),
    Exercise("chain_rule", 10, "The chain rule through a computational graph", (
        Function("graph_forward", ("x",)),
        Function("graph_backward", ("x",)),
    )),
    Exercise("training", 25, "Training a 2-layer network end to end", (
        Function("init_params", ("n_inputs", "n_hidden", "seed")),
        Function("forward", ("params", "X"), opaque_results=(1,)),
        Function("backward", ("params", "cache", "y_true")),
        Function("sgd_step", ("params", "grads", "lr")),
        Function("train", ("params", "X", "y", "lr", "epochs")),
    )),
)

EXERCISE_NAMES: tuple[str, ...] = tuple(exercise.name for exercise in EXERCISES)
MAX_SCORE: int = sum(exercise.points for exercise in EXERCISES)


def exercise(name: str) -> Exercise:
    for candidate in EXERCISES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def exercise_of(function_name: str) -> Exercise:
    """The exercise whose module defines ``function_name``."""
    for candidate in EXERCISES:
        if any(f.name == function_name for f in candidate.functions):
            return candidate
    raise KeyError(function_name)
