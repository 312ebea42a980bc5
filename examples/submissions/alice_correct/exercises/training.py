import numpy as np

from exercises.provided import sigmoid


def init_params(n_inputs, n_hidden, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_inputs, n_hidden))
    W2 = rng.standard_normal((n_hidden, 1))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(1)}


def forward(params, X):
    hidden = sigmoid(X @ params["W1"] + params["b1"])
    out = sigmoid(hidden @ params["W2"] + params["b2"])
    return out.ravel(), (X, hidden, out.ravel())


def backward(params, cache, y_true):
    X, hidden, y_pred = cache
    n = len(y_true)
    d_out = (-2.0 / n) * (y_true - y_pred) * y_pred * (1 - y_pred)
    d_hidden = np.outer(d_out, params["W2"][:, 0]) * hidden * (1 - hidden)
    return {
        "W2": hidden.T @ d_out[:, None],
        "b2": np.array([d_out.sum()]),
        "W1": X.T @ d_hidden,
        "b1": d_hidden.sum(axis=0),
    }


def sgd_step(params, grads, lr):
    return {name: value - lr * grads[name] for name, value in params.items()}


def train(params, X, y, lr=0.5, epochs=500):
    losses = []
    for _ in range(epochs):
        y_pred, cache = forward(params, X)
        losses.append(float(np.mean((y - y_pred) ** 2)))
        params = sgd_step(params, backward(params, cache, y), lr)
    return params, np.array(losses)
