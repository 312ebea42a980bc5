"""Training a 2-layer network end to end.

The network
-----------
D inputs, one hidden layer of H sigmoid neurons, one sigmoid output neuron. For a
batch X of N samples, one per row (the batch is axis 0):

    Z1 = X W1 + b1       (N, H)        W1 (D, H), b1 (H,)
    A1 = sigma(Z1)       (N, H)        the hidden layer
    Z2 = A1 W2 + b2      (N, 1)        W2 (H, 1), b2 (1,)
    y_pred = sigma(Z2)   (N, 1), returned as its column 0, of shape (N,)

The loss of this exercise is the mean squared error of mse.py, the MEAN over the N
samples with no factor 1/2:

    L = (1/N) sum_n (y_n - y_pred_n)^2

Training is gradient descent: the gradient points uphill, so a small step against it
lowers the loss,

    p <- p - lr * dL/dp        for each of W1, b1, W2, b2,

repeated over the whole batch every time ("full-batch"). With a small enough learning
rate lr the loss falls at every step.

What to derive
--------------
backward(params, cache, y_true) returns dL/dW1, dL/db1, dL/dW2 and dL/db2, each of the
shape of its parameter. Derive them. Nothing new is needed: the network is two dense
layers (dense.py) under the MSE (mse.py), so chain what you derived there. Start from
dL/dy_pred; it is the upstream gradient of the output layer, and the output layer's
gradient with respect to its input A1 is the upstream gradient of the hidden layer.

Mind one shape on the way. dL/dy_pred has the shape of y_pred, (N,), but the output
layer works in (N, 1) arrays (Z2, and so dL/dZ2). Make the (N,) gradient an (N, 1)
column before it meets an (N, 1) array (v[:, None] or v.reshape(-1, 1) does it):
numpy multiplies an (N,) array by an (N, 1) one without complaint, broadcasting both to
(N, N): the product is wrong at once, and the first matrix product after it usually fails
with a shape error far from the line that made it. With N = 1 you will not notice
anything, so test with N > 1. The forward pass has the same trap the other way round:
y of shape (N,) minus an (N, 1) y_pred is an (N, N) matrix, and the loss computed from
it is wrong; that is why forward returns y_pred as (N,).

May this module use dense.py and mse.py? Yes, with a price. The grader (grader check
and grader grade alike) loads your modules together as the package exercises, so

    from exercises.dense import dense_forward, dense_backward
    from exercises.mse import mse_loss, mse_grad

work here. But a mistake in dense.py or mse.py then costs points in this exercise too,
and a missing dense.py or mse.py makes this module fail to import, which costs all of
them. In the notebook version of the course each notebook runs in its own kernel:
there, define what you need in the notebook itself. Writing the two layers out here
takes a dozen lines and keeps this grade your own.

Worked numbers
--------------
Every neuron w = [0, 1], b = 0, input x = [2, 3]: the hidden neurons give
sigma(3) = 0.9525741268 and the output is sigma(0.9525741268) = 0.7216325610.

Alice alone, x = (-2, -1), y = 1, every weight 1 and every bias 0: h1 = h2 =
0.0474258732 and y_pred = 0.5236951741. The notes take the derivative for one weight,
w1, which joins input 1 (weight) to hidden neuron 1, so it is W1[0, 0] here:

    dL/dw1 = dL/dy_pred * dy_pred/dh1 * dh1/dw1
           = -0.9526096518 * 0.2494385387 * -0.0903533195 = 0.0214695353

From init_params(2, 2, seed=0) on the gender table (exercises.provided.GENDER_X and
GENDER_Y), five steps with lr = 0.3 record the losses 0.1777008804, 0.1709488571,
0.1659258790, 0.1614936900 and 0.1573753439. The default run, 500 steps with
lr = 0.5, brings the loss from 0.1777 down to about 0.0025.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

Here f is the loss as a function of one parameter, the others held fixed; for W1:

    from exercises.provided import numerical_gradient, rel_error
    loss = lambda v: np.mean((y - forward({**params, "W1": v}, X)[0]) ** 2)
    print(rel_error(grads["W1"], numerical_gradient(loss, params["W1"])))

and the same for b1, W2 and b2. Use a batch of several samples, and a W1 that is
square (D = H) but not symmetric, so that W1 and its transpose differ.
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
    ### BEGIN SOLUTION
    W1 = rng.standard_normal((n_inputs, n_hidden))
    W2 = rng.standard_normal((n_hidden, 1))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(1)}
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    a1 = sigmoid(X @ params["W1"] + params["b1"])
    y_pred = sigmoid(a1 @ params["W2"] + params["b2"])[:, 0]  # (N, 1) -> (N,)
    return y_pred, (X, a1, y_pred)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    X, a1, y_pred = cache
    dy_pred = -2.0 * (y_true - y_pred) / y_pred.shape[0]
    dz2 = (dy_pred * y_pred * (1.0 - y_pred))[:, None]  # back to the (N, 1) of the layer
    da1 = dz2 @ params["W2"].T
    dz1 = da1 * a1 * (1.0 - a1)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0),
            "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return {name: params[name] - lr * grads[name] for name in params}
    ### END SOLUTION


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
        losses: float64 of shape (epochs,) (a list of floats will do); losses[k] is the
                loss (the mean over N of (y - y_pred)^2) just BEFORE step k, so
                losses[0] is the loss of the starting params.

    Five steps at lr = 0.3, then the default run:

    >>> from exercises.provided import GENDER_X, GENDER_Y
    >>> _, losses = train(init_params(2, 2, seed=0), GENDER_X, GENDER_Y, lr=0.3, epochs=5)
    >>> print(" ".join(f"{loss:.6f}" for loss in losses))
    0.177701 0.170949 0.165926 0.161494 0.157375
    >>> trained, losses = train(init_params(2, 2, seed=0), GENDER_X, GENDER_Y)
    >>> print(f"{losses[0]:.4f} -> {losses[-1]:.4f}")
    0.1777 -> 0.0025
    >>> y_pred, _ = forward(trained, GENDER_X)
    >>> print(y_pred > 0.5)
    [ True False False  True]
    """
    ### BEGIN SOLUTION
    losses = np.empty(epochs)
    for k in range(epochs):
        y_pred, cache = forward(params, X)
        losses[k] = np.mean((y - y_pred) ** 2)  # recorded before the step
        params = sgd_step(params, backward(params, cache, y), lr)
    return params, losses
    ### END SOLUTION
