"""Cross-entropy and logistic regression.

The maths
---------
Logistic regression is the single sigmoid neuron used as a classifier. For a sample
x it computes a score, the logit z = w . x + b, and reads p = sigma(z) as the
probability that the label y is 1. The loss that goes with a probability is the
binary cross-entropy, the negative log of the probability given to the true label:

    l(y, z) = -[ y log p + (1 - y) log(1 - p) ],        p = sigma(z)

It is 0 for a confident right answer and grows without bound for a confident wrong
one. Over a batch the course takes the MEAN: L = (1/N) sum_n l(y_n, z_n).

Why the gradient is just sigma(z) - y
-------------------------------------
Go backwards through the two steps, z -> p -> l:

    dl/dp = -y / p + (1 - y) / (1 - p) = (p - y) / (p (1 - p))
    dp/dz = p (1 - p)                              (the sigmoid's derivative)
    dl/dz = dl/dp * dp/dz = p - y = sigma(z) - y

The derivative of the sigmoid cancels exactly the denominator that the logarithm
created. What is left is the plainest error signal there is, prediction minus
label: never larger than 1 in size, and never stuck at zero while the answer is
wrong. (Compare the MSE behind a sigmoid, whose gradient keeps the factor p (1 - p)
and fades away when a neuron saturates on the wrong answer.) This is the result of
note 004: a sigmoid output followed by cross-entropy has gradient sigma(o) - y.
With the mean over the batch, dL/dz_n = (sigma(z_n) - y_n) / N.

Computing the loss safely
-------------------------
Do not compute log(sigma(z)) as written: in float64 sigma(40) is exactly 1.0, so
log(1 - p) is log(0) = -inf, with a warning. Use the softplus function
softplus(z) = log(1 + exp(z)) instead. Then

    log sigma(z)       = -log(1 + exp(-z)) = -softplus(-z)
    log(1 - sigma(z))  = log sigma(-z)     = -softplus(z)
    softplus(-z)       = softplus(z) - z

and the loss of one sample simplifies to

    l(y, z) = y softplus(-z) + (1 - y) softplus(z) = softplus(z) - y z

numpy computes softplus(z) = log(exp(0) + exp(z)) as np.logaddexp(0, z), finite and
without a warning for any float64 z. (Its derivative is sigma(z), which gives
sigma(z) - y a second way.)

For logistic regression z = X w + b, and z_n = sum_d X[n, d] w[d] + b, so with
dz = dL/dz from above:

    dL/dw = X^T dz        (D,)        every sample pulls on every weight
    dL/db = sum_n dz_n    a float     b is added to every sample

which is the per-sample x (h(x) - y) and h(x) - y of the notes, averaged over the
batch.

Shapes
------
y_true (or y) holds N labels in {0, 1}, shape (N,); logits z has shape (N,); X is
(N, D), w is (D,), b is a float. The losses and db are Python floats.

Worked example
--------------
A model that knows nothing has z = 0, so p = 1/2 for everyone, and the loss is
log 2 = 0.6931471806 whatever the labels. On the gender table of the notes (y = 1
for female) with w = 0 and b = 0, the gradient is dw = [7.375, 2.125], db = 0: the
heavy, tall samples are male, so gradient descent lowers both weights.
"""

import numpy as np

from exercises.provided import sigmoid


def bce_loss(y_true, logits):
    """The binary cross-entropy of sigma(logits) against the labels, averaged over N.

    Inputs:
        y_true: the labels, 0 or 1, shape (N,).
        logits: the scores z before the sigmoid, shape (N,).
    Returns:
        L: (1/N) sum_n -[y_n log sigma(z_n) + (1 - y_n) log(1 - sigma(z_n))], a Python
           float, finite and warning-free even for abs(z) = 1e4.

    >>> print(f"{bce_loss(np.array([1.0, 0.0]), np.zeros(2)):.10f}")
    0.6931471806
    >>> print(f"{bce_loss(np.array([1.0, 0.0]), np.array([1e4, -1e4])):.10f}")
    0.0000000000
    >>> bce_loss(np.array([0.0]), np.array([1e4]))
    10000.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def bce_grad(y_true, logits):
    """dL/dlogits = (sigma(z) - y) / N for L = bce_loss(y_true, logits).

    Inputs:
        y_true: the labels, 0 or 1, shape (N,).
        logits: the scores z before the sigmoid, shape (N,).
    Returns:
        dz: dL/dz, float64 of shape (N,).

    >>> print(bce_grad(np.array([1.0, 0.0]), np.zeros(2)))
    [-0.25  0.25]
    """
    # YOUR CODE HERE
    raise NotImplementedError


def logistic_regression_grad(w, b, X, y):
    """The gradient of L = bce_loss(y, X w + b) with respect to w and b.

    Inputs:
        w: the weights, shape (D,).
        b: the bias, a float.
        X: the samples, shape (N, D), one per row.
        y: the labels, 0 or 1, shape (N,).
    Returns:
        (dw, db):
        dw: dL/dw, float64 of shape (D,).
        db: dL/db, a Python float.

    The gender table of the notes, from a model that knows nothing:

    >>> from exercises.provided import GENDER_X, GENDER_Y
    >>> dw, db = logistic_regression_grad(np.zeros(2), 0.0, GENDER_X, GENDER_Y)
    >>> print(dw, db)
    [7.375 2.125] 0.0
    """
    # YOUR CODE HERE
    raise NotImplementedError
