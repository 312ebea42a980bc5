"""Mean squared error and its gradient.

The maths
---------
A loss turns "how wrong is the network" into one number, lower being better. Training
is the search for weights that make it small. The mean squared error of n predictions
is

    L = (1/n) * sum_i (y_true_i - y_pred_i)^2

The course uses this convention everywhere it uses the MSE: the MEAN over all n
elements, with no factor 1/2 in front. (Some texts write sum_i 1/2 (y - y_hat)^2 so
that the 2 of the derivative cancels. That is the same idea scaled differently; it
moves the minimum nowhere, but it changes every gradient by a constant factor, so
pick one and keep it.)

Each prediction appears in exactly one term of the sum, so the gradient is taken term
by term. By the chain rule, d/dp (t - p)^2 = 2 (t - p) * (-1), so

    dL/dy_pred_i = -2 (y_true_i - y_pred_i) / n

Two things to keep: the minus sign (raising a prediction that is too low lowers the
loss, so the derivative there is negative), and the 1/n that the mean brings along.

Shapes
------
y_true and y_pred have the same shape, usually (N,) for a batch of N samples, but any
shape works: n is the number of elements. mse_loss returns a Python float, mse_grad
an array of the shape of y_pred.

Worked example
--------------
The notes score a network that calls everyone male, y_pred = [0, 0, 0, 0], on the
four people of the table, y_true = [1, 0, 0, 1]: the squared errors are 1, 0, 0, 1,
and L = 2/4 = 0.5.
"""

import numpy as np


def mse_loss(y_true, y_pred):
    """The mean over all n elements of (y_true - y_pred)^2.

    Inputs:
        y_true: the targets, an array of shape (N,) (any shape will do).
        y_pred: the predictions, an array of the shape of y_true.
    Returns:
        L: the loss, a Python float.

    The always-male network of the notes:

    >>> mse_loss(np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4))
    0.5
    """
    ### BEGIN SOLUTION
    error = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(error ** 2))
    ### END SOLUTION


def mse_grad(y_true, y_pred):
    """dL/dy_pred = -2 (y_true - y_pred) / n = 2 (y_pred - y_true) / n for the MSE L.

    Inputs:
        y_true: the targets, an array of shape (N,) (any shape will do).
        y_pred: the predictions, an array of the shape of y_true.
    Returns:
        dy_pred: dL/dy_pred, a float64 array of the shape of y_pred; n is its number of
                 elements.

    >>> print(mse_grad(np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4)))
    [-0.5  0.   0.  -0.5]

    The first factor of the backprop example of the notes: Alice alone (n = 1,
    y_true = 1) and the network with every weight 1 predicts 0.5236951741:

    >>> print(f"{mse_grad(np.array([1.0]), np.array([0.5236951741]))[0]:.10f}")
    -0.9526096518
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return 2.0 * (y_pred - y_true) / y_pred.size
    ### END SOLUTION
