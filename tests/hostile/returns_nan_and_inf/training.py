"""NaN and inf everywhere, in the right shapes: parameters, predictions, gradients, losses."""
import numpy as np


def init_params(n_inputs, n_hidden, seed):
    return {"W1": np.full((n_inputs, n_hidden), np.nan), "b1": np.full(n_hidden, np.inf),
            "W2": np.full((n_hidden, 1), -np.inf), "b2": np.full(1, np.nan)}


def forward(params, X):
    X = np.asarray(X, dtype=float)
    return np.full(len(X), np.nan), {"X": X}


def backward(params, cache, y_true):
    return {k: np.full_like(np.asarray(v, dtype=float), np.inf) for k, v in params.items()}


def sgd_step(params, grads, lr):
    return {k: np.full_like(np.asarray(v, dtype=float), np.nan) for k, v in params.items()}


def train(params, X, y, lr=0.5, epochs=1000):
    losses = [float("nan"), float("inf"), float("-inf")] * (epochs // 3 + 1)
    return sgd_step(params, params, lr), losses[:epochs]
