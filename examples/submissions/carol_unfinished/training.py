"""Training a 2-layer network end to end.

The network
-----------
D inputs, one hidden layer of H sigmoid neurons, one sigmoid output neuron. For a
batch X of N samples (one per row):

    Z1 = X W1 + b1      (N, H)        W1 (D, H), b1 (H,)
    A1 = sigma(Z1)      (N, H)        the hidden layer
    Z2 = A1 W2 + b2     (N, 1)        W2 (H, 1), b2 (1,)
    y_pred = sigma(Z2)  (N, 1), returned as (N,)

The loss of this exercise is the mean squared error, the MEAN over the N samples
with no factor 1/2:

    L = (1/N) sum_n (y_n - y_pred_n)^2

The backward pass
-----------------
The chain rule again, from the loss back to the first layer. Each line uses the one
before it, and each gradient has the shape of what it is the gradient of:

    dy_pred = -2 (y - y_pred) / N             (N,)    the MSE gradient
    dZ2     = dy_pred * y_pred (1 - y_pred)   (N, 1)  through the output sigmoid
    dW2     = A1^T dZ2                        (H, 1)
    db2     = sum over n of dZ2               (1,)
    dA1     = dZ2 W2^T                        (N, H)  back into the hidden layer
    dZ1     = dA1 * A1 (1 - A1)               (N, H)  through the hidden sigmoids
    dW1     = X^T dZ1                         (D, H)
    db1     = sum over n of dZ1               (H,)

These are the dense-layer gradients of the previous exercise, twice. The notes derive
the same thing for a single weight: for Alice alone, with every weight 1,

    dL/dw1 = dL/dy_pred * dy_pred/dh1 * dh1/dw1 = -0.9526 * 0.2494 * -0.0904 = 0.0215

where w1 joins input 1 (weight) to hidden neuron 1, so it is W1[0, 0] here.

Gradient descent
----------------
The gradient points uphill, so a small step against it lowers the loss:

    p <- p - lr * dL/dp        for p in W1, b1, W2, b2

Training repeats forward, backward, step. Over the whole batch every time
("full-batch"), with a small enough learning rate lr, the loss falls at every step.

Worked examples
---------------
Every neuron w = [0, 1], b = 0, input x = [2, 3]: the hidden neurons give
sigma(3) = 0.9525741268 and the output is sigma(0.9525741268) = 0.7216325610.
Alice, x = (-2, -1), y = 1, all weights 1 and biases 0: h1 = h2 = 0.0474258732,
y_pred = 0.5236951741 and dL/dw1 = 0.0214695353.
"""

import numpy as np

from exercises.provided import sigmoid


def init_params(n_inputs, n_hidden, seed=0):
    """Random weights and zero biases for a network with D inputs and H hidden neurons.

    Exactly this recipe, so that everyone starts from the same numbers: one generator
    np.random.default_rng(seed); draw W1 with rng.standard_normal((D, H)); then W2 with
    rng.standard_normal((H, 1)); both biases are zeros.

    Inputs:
        n_inputs: D, the number of inputs.
        n_hidden: H, the number of hidden neurons.
        seed: the seed of the random generator.
    Returns:
        params: a dict of float64 arrays, "W1" (D, H), "b1" (H,), "W2" (H, 1), "b2" (1,).

    >>> params = init_params(2, 3)
    >>> {name: value.shape for name, value in params.items()}
    {'W1': (2, 3), 'b1': (3,), 'W2': (3, 1), 'b2': (1,)}
    """
    rng = np.random.default_rng(seed)
    # YOUR CODE HERE
    raise NotImplementedError


def forward(params, X):
    """The forward pass: a sigmoid hidden layer, then one sigmoid output neuron.

    The output layer makes an (N, 1) array; return its column 0, of shape (N,). The
    difference matters: y of shape (N,) minus an (N, 1) array does not fail, numpy
    broadcasts the pair to an (N, N) matrix of every prediction against every label,
    and the loss computed from it is silently wrong.

    Inputs:
        params: a dict with "W1" (D, H), "b1" (H,), "W2" (H, 1), "b2" (1,).
        X: the samples, shape (N, D), one per row.
    Returns:
        (y_pred, cache):
        y_pred: the outputs of the network, float64 of shape (N,).
        cache: whatever backward needs later; nobody else looks inside.

    The feedforward example of the notes, every neuron w = [0, 1], b = 0:

    >>> params = {"W1": np.array([[0.0, 0.0], [1.0, 1.0]]), "b1": np.zeros(2),
    ...           "W2": np.array([[0.0], [1.0]]), "b2": np.zeros(1)}
    >>> y_pred, _ = forward(params, np.array([[2.0, 3.0]]))
    >>> print(f"{y_pred[0]:.10f}")
    0.7216325610

    Alice with every weight 1:

    >>> ones = {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.ones((2, 1)), "b2": np.zeros(1)}
    >>> y_pred, _ = forward(ones, np.array([[-2.0, -1.0]]))
    >>> print(f"{y_pred[0]:.10f}")
    0.5236951741
    """
    # YOUR CODE HERE
    raise NotImplementedError


def backward(params, cache, y_true):
    """The gradients of L = mean over N of (y_true - y_pred)^2 for every parameter.

    Inputs:
        params: the dict that forward was given, "W1" (D, H), "b1" (H,), "W2" (H, 1),
                "b2" (1,).
        cache: the cache that forward returned.
        y_true: the labels, shape (N,).
    Returns:
        grads: a dict with keys "W1", "b1", "W2", "b2": grads[p] = dL/dp, float64 of
               the shape of params[p].

    The backprop example of the notes, Alice with every weight 1:

    >>> ones = {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.ones((2, 1)), "b2": np.zeros(1)}
    >>> _, cache = forward(ones, np.array([[-2.0, -1.0]]))
    >>> grads = backward(ones, cache, np.array([1.0]))
    >>> print(f"dL/dw1 = {grads['W1'][0, 0]:.10f}")
    dL/dw1 = 0.0214695353
    """
    # YOUR CODE HERE
    raise NotImplementedError


def sgd_step(params, grads, lr):
    """One step of gradient descent: a new dict with p - lr * dL/dp for every p.

    Inputs:
        params: a dict of float64 arrays, e.g. "W1" (D, H), "b1" (H,), "W2" (H, 1),
                "b2" (1,).
        grads: a dict with the same keys and shapes, grads[p] = dL/dp.
        lr: the learning rate, a float.
    Returns:
        new_params: a new dict with the same keys and shapes. params and grads are
                    left as they were.

    >>> new = sgd_step({"b2": np.array([1.0])}, {"b2": np.array([4.0])}, 0.5)
    >>> print(new["b2"])
    [-1.]
    """
    # YOUR CODE HERE
    raise NotImplementedError


def train(params, X, y, lr=0.5, epochs=500):
    """Full-batch gradient descent: forward, backward and one sgd_step, epochs times.

    The defaults are the course's choice for the gender table of the notes: from
    init_params(2, 2, seed=0), 500 steps with lr = 0.5 bring the loss from about 0.18
    down to about 0.0025, falling at every step, and the trained network classifies
    all four people correctly (y_pred > 0.5 exactly for the two women).

    Inputs:
        params: the starting parameters, "W1" (D, H), "b1" (H,), "W2" (H, 1), "b2" (1,);
                they are not modified.
        X: the samples, shape (N, D).
        y: the labels, shape (N,).
        lr: the learning rate.
        epochs: the number of steps.
    Returns:
        (params, losses):
        params: the trained parameters, a dict of the same keys and shapes.
        losses: float64 of shape (epochs,); losses[k] is the loss (the mean over N of
                (y - y_pred)^2) just BEFORE step k, so losses[0] is the loss of the
                starting params.

    >>> from exercises.provided import GENDER_X, GENDER_Y
    >>> trained, losses = train(init_params(2, 2, seed=0), GENDER_X, GENDER_Y)
    >>> print(f"{losses[0]:.4f} -> {losses[-1]:.4f}")
    0.1777 -> 0.0025
    >>> y_pred, _ = forward(trained, GENDER_X)
    >>> print(y_pred > 0.5)
    [ True False False  True]
    """
    # YOUR CODE HERE
    raise NotImplementedError
