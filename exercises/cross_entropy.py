"""Cross-entropy and logistic regression.

The forward pass
----------------
Logistic regression is the single sigmoid neuron used as a classifier. For a sample x
of D features it computes a score, the logit z = w . x + b, and reads p = sigma(z) as
the probability that the label y is 1. The loss that goes with a probability is the
binary cross-entropy, the negative log of the probability given to the true label:

    l(y, z) = -[ y log p + (1 - y) log(1 - p) ],        p = sigma(z)

It is 0 for a confident right answer and grows without bound for a confident wrong
one. For a batch, the samples are the rows of X (the batch is axis 0), so the logits
are z = X w + b, one per sample, and the loss is the MEAN over the N samples:

    L = (1/N) sum_n l(y_n, z_n)

Shapes and conventions
----------------------
y_true (or y) holds N labels, 0.0 or 1.0, shape (N,); the logits z have shape (N,);
X is (N, D), w is (D,) and b is a float. bce_loss and bce_grad take the logits z, the
scores before the sigmoid, not the probabilities. The losses and db are one number
each: a Python float is what the reference returns, and the grader also accepts
np.float64 or a 0-d array.

What to derive
--------------
1. bce_grad(y_true, logits) is dL/dz, shape (N,): element n is the partial derivative
   of the mean loss with respect to z_n. Derive it for one sample first, going back
   through the two steps z -> p -> l: dl/dp from the logarithms, then dp/dz, which
   sigmoid.py taught you to write with p alone. Simplify the product as far as it goes
   (it goes a long way), and only then bring in what the mean over N does.
2. logistic_regression_grad(w, b, X, y) is dL/dw, shape (D,), and dL/db, a float, for
   z = X w + b. Go one step further back from the dL/dz of part 1: write one logit,
   z_n = sum_d X[n, d] w[d] + b, take the scalar derivative with respect to one w[d]
   and with respect to b, and see which sums over the batch appear. Then write them
   with X and the vector dL/dz, without a loop over the samples.

Compare your result with the MSE behind a sigmoid (the training exercise): which one
keeps learning when a neuron saturates on the wrong answer?

Computing the loss safely
-------------------------
Do not take the logarithm of sigma(z). In float64, sigma(z) rounds to exactly 1.0 once
z passes about 37, so log(1 - sigma(z)) is log(0) = -inf, with a warning: the loss of
a confident wrong answer (y = 0) comes out inf, and that of a confident right one
(y = 1) as 0 * (-inf) = nan. Clipping p into [eps, 1 - eps] hides the warning but caps
the loss near -log(eps), about 37 for eps = 1e-16, while the true loss of a confident
wrong answer at z = 50 is 50, and at z = 1e4 it is 1e4.

Write the loss with z itself instead. With the softplus function
softplus(t) = log(1 + exp(t)):

    log sigma(z)       = -softplus(-z)
    log(1 - sigma(z))  = -softplus(z)
    softplus(-z)       = softplus(z) - z

Written as it stands, softplus overflows too: exp(1e4) is inf. For t > 0 it equals
t + log(1 + exp(-t)), whose exponential sees only a negative number, and numpy's
np.logaddexp(0, t) = log(exp(0) + exp(t)) computes it that way, finite and without a
warning for any float64 t. The contract asks for a loss that is right, finite and
warning-free for logits up to abs(z) = 1e4.

Worked numbers
--------------
A model that knows nothing has z = 0, so p = 1/2 for everyone, and the loss is
log 2 = 0.6931471806 whatever the labels; there, for y = [1, 0], dL/dz = [-0.25, 0.25].
Confident right answers (y = 1 at z = 1e4, y = 0 at z = -1e4) cost 0; a confident
wrong answer at z = 1e4 costs 1e4.

On the gender table of the notes (exercises.provided.GENDER_X and GENDER_Y, y = 1 for
female), from w = 0 and b = 0, the gradient is dw = [7.375, 2.125] and db = 0: the
heavy, tall samples are male, so gradient descent lowers both weights, and with two
women and two men the bias has no reason to move.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

For bce_grad, f is the loss as a function of the logits; for dw, the loss as a
function of w:

    from exercises.provided import numerical_gradient, rel_error
    print(rel_error(bce_grad(y, z), numerical_gradient(lambda v: bce_loss(y, v), z)))
    print(rel_error(dw, numerical_gradient(lambda v: bce_loss(y, X @ v + b), w)))

For db, which is one number, nudge b inside an array of one element and compare with
that element: numerical_gradient(lambda v: bce_loss(y, X @ w + v[0]), np.array([b]))[0].
Use moderate logits (abs(z) below 10 or so), and get bce_loss right first (the worked
numbers above).
"""

import numpy as np

from exercises.provided import sigmoid


def bce_loss(y_true, logits):
    """The binary cross-entropy of sigma(logits) against the labels, averaged over N.

    Inputs:
        y_true: the labels, 0.0 or 1.0, shape (N,).
        logits: the scores z before the sigmoid, shape (N,).
    Returns:
        L: (1/N) sum_n -[y_n log sigma(z_n) + (1 - y_n) log(1 - sigma(z_n))], a Python
           float: right, finite and warning-free for logits up to abs(z) = 1e4.

    >>> print(f"{bce_loss(np.array([1.0, 0.0]), np.zeros(2)):.10f}")
    0.6931471806
    >>> print(abs(bce_loss(np.array([1.0, 0.0]), np.array([1e4, -1e4]))) < 1e-12)
    True
    >>> print(f"{bce_loss(np.array([0.0]), np.array([1e4])):.6f}")
    10000.000000
    """
    # YOUR CODE HERE
    raise NotImplementedError


def bce_grad(y_true, logits):
    """The gradient dL/dlogits of L = bce_loss(y_true, logits).

    Inputs:
        y_true: the labels, 0.0 or 1.0, shape (N,).
        logits: the scores z before the sigmoid, shape (N,).
    Returns:
        dz: dL/dz, float64 of shape (N,): element n is the partial derivative of the
            mean loss with respect to z_n.

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
        y: the labels, 0.0 or 1.0, shape (N,).
    Returns:
        (dw, db):
        dw: dL/dw, float64 of shape (D,).
        db: dL/db, a Python float.

    The gender table of the notes, from a model that knows nothing:

    >>> from exercises.provided import GENDER_X, GENDER_Y
    >>> dw, db = logistic_regression_grad(np.zeros(2), 0.0, GENDER_X, GENDER_Y)
    >>> print(dw)
    [7.375 2.125]
    >>> print(abs(db) < 1e-12)
    True
    """
    # YOUR CODE HERE
    raise NotImplementedError
