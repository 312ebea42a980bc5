"""Mean squared error and its gradient.

The loss
--------
A loss turns "how wrong is the network" into one number, lower being better; training
is the search for weights that make it small. The mean squared error of n predictions
against their targets is

    L = (1/n) * sum_i (y_true_i - y_pred_i)^2

Conventions
-----------
- The MEAN over all n elements, with no factor 1/2 in front. The notes use two other
  scalings of the same idea: note 002 takes J = sum_i 1/2 (y_i - y_hat_i)^2, note 000
  divides by 2N. Each moves the minimum nowhere, but each changes every gradient by a
  constant factor, so this course keeps one: the plain mean, as note 003 does.
- y_true and y_pred have the same shape, usually (N,) for a batch of N samples, but
  any shape works: n is the number of elements (6 for a (3, 2) array, not 3).
- mse_loss returns one number, a Python float (the grader also accepts np.float64 or a
  0-d array). mse_grad returns a float64 array of the shape of y_pred.

What to derive
--------------
mse_grad(y_true, y_pred) is dL/dy_pred: one partial derivative dL/dy_pred_i per
element, in an array of the shape of y_pred. Derive it. A way in: each prediction
appears in exactly one term of the sum, so write the derivative of one term with
respect to its own y_pred_i (mind the inner derivative of y_true_i - y_pred_i), then
bring in what the mean does. A sanity check on the sign: raising a prediction that is
too low lowers the loss, so dL/dy_pred is negative there.

Worked numbers
--------------
The notes score a network that calls everyone male, y_pred = [0, 0, 0, 0], on the four
people of the table, y_true = [1, 0, 0, 1]: the squared errors are 1, 0, 0, 1 and
L = 2/4 = 0.5.

A network that is unsure about everyone, y_pred = [0.5, 0.5, 0.5, 0.5], on the same
people has L = 0.25 and dL/dy_pred = [-0.25, 0.25, 0.25, -0.25].

The backprop example of the notes has Alice alone (n = 1, y_true = 1) and a network
that predicts 0.5236951741; there dL/dy_pred = -0.9526096518, the first factor of
dL/dw1 = 0.0214695353.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

Here f is the loss as a function of the predictions:

    from exercises.provided import numerical_gradient, rel_error
    y_true, y_pred = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.full((3, 2), 0.3)
    numeric = numerical_gradient(lambda p: mse_loss(y_true, p), y_pred)
    print(rel_error(mse_grad(y_true, y_pred), numeric))

This checks mse_grad against your own mse_loss, so get the loss right first (the
worked numbers above).
"""

import numpy as np


def mse_loss(y_true, y_pred):
    """The mean over all n elements of (y_true - y_pred)^2.

    Inputs:
        y_true: the targets, a float64 array, usually of shape (N,) (any shape will do).
        y_pred: the predictions, an array of the shape of y_true.
    Returns:
        L: the loss, a Python float.

    The always-male network of the notes:

    >>> print(mse_loss(np.array([1.0, 0.0, 0.0, 1.0]), np.zeros(4)))
    0.5
    """
    ### BEGIN SOLUTION
    error = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(error ** 2))
    ### END SOLUTION


def mse_grad(y_true, y_pred):
    """The gradient dL/dy_pred of L = mse_loss(y_true, y_pred).

    Inputs:
        y_true: the targets, a float64 array, usually of shape (N,) (any shape will do).
        y_pred: the predictions, an array of the shape of y_true.
    Returns:
        dy_pred: dL/dy_pred, a float64 array of the shape of y_pred: element i is the
                 partial derivative of L with respect to y_pred[i].

    A network that is unsure about everyone:

    >>> print(mse_grad(np.array([1.0, 0.0, 0.0, 1.0]), np.full(4, 0.5)))
    [-0.25  0.25  0.25 -0.25]

    The first factor of the backprop example of the notes: Alice alone (n = 1,
    y_true = 1), and the network with every weight 1 predicts 0.5236951741:

    >>> print(f"{mse_grad(np.array([1.0]), np.array([0.5236951741]))[0]:.10f}")
    -0.9526096518
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return 2.0 * (y_pred - y_true) / y_pred.size
    ### END SOLUTION
