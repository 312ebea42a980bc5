"""Softmax cross-entropy for K classes.

The forward pass
----------------
A classifier with K classes gives each sample one score per class: the logits, a row
z = (z_0, ..., z_{K-1}) of any real numbers. The softmax turns the row into a
probability for each class, positive and summing to 1:

    p_k = exp(z_k) / S,        S = sum_j exp(z_j)

The largest logit gets the largest probability, and adding the same number to every
logit of a row changes nothing. The loss of one sample whose true class is y is the
cross-entropy, the negative log of the probability given to that class:

    l(y, z) = -log p_y

It is 0 for a certain right answer and grows without bound for a confident wrong one.
For a batch, the samples are the rows of an (N, K) array z (the batch is axis 0, the
classes axis 1), softmax works on each row on its own, and the loss is the MEAN over
the N samples:

    L = (1/N) sum_n -log p[n, y_n],        p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j])

Shapes and conventions
----------------------
- z and logits have shape (N, K), float64, with N >= 1 samples and K >= 2 classes.
  softmax(z) returns p of the same shape; every row of p sums to 1.
- y holds the labels as integers: y[n] is the index of the true class of sample n,
  0 <= y[n] < K, an int64 array of shape (N,). It is not one-hot. Where the maths
  below writes onehot(y), it means the (N, K) array with a 1 at [n, y[n]] and 0
  elsewhere; you may build it, or work with the indices directly. To pick the entry
  of each row n at column y[n] without a loop, index with two integer arrays, one for
  the rows and one for the columns. Beware that p[:, y] is something else: an (N, N)
  array, every row of p read at every label.
- softmax_ce_loss(y, logits) returns L, one number: the reference returns a Python
  float, and the grader also accepts np.float64 or a 0-d array.
- softmax_ce_grad(y, logits) returns dL/dlogits, float64 of shape (N, K): the entry
  [n, j] is the partial derivative of the mean loss with respect to logits[n, j].
- Inputs are never modified: work on new arrays.

The gradient, derived
---------------------
Take one sample first, its logits z of K entries and its label y.

Step 1, the softmax Jacobian. p_k = exp(z_k) / S depends on every z_j, through S. By
the quotient rule, with dS/dz_j = exp(z_j):

    dp_k/dz_j = [k == j] exp(z_k) / S  -  exp(z_k) exp(z_j) / S^2
              = p_k ([k == j] - p_j)

where [k == j] is 1 when k equals j and 0 otherwise (the Kronecker delta). On the
diagonal it is p_k (1 - p_k), the sigmoid's s (1 - s); off the diagonal it is
-p_k p_j. Unlike the sigmoid, softmax is not elementwise: raising one logit lowers
every other probability, and those off-diagonal terms are part of the gradient.

Step 2, the loss of one sample. l = -log p_y, so dl/dp_y = -1 / p_y, and only p_y
matters. The chain rule through the Jacobian of step 1 gives

    dl/dz_j = -(1 / p_y) dp_y/dz_j = -(1 / p_y) p_y ([y == j] - p_j) = p_j - [j == y]

The probabilities, minus 1 at the true class. The same result comes without the
Jacobian from the log-softmax of the next section: l = logsumexp(z) - z_y, and the
derivative of logsumexp(z) = log S with respect to z_j is exp(z_j) / S = p_j. Each
row of the gradient sums to 0, since p and onehot(y) both sum to 1: a quick check.

Step 3, the mean over the batch. Sample n's logits reach L only through its own loss,
with weight 1/N, so

    dL/dz[n, j] = (p[n, j] - [j == y_n]) / N,    that is    dL/dz = (p - onehot(y)) / N

Computing it safely
-------------------
exp overflows to inf in float64 once its argument passes about 709, so the formula as
written gives inf / inf = nan for a row like [1e4, 0, -1e4], with a warning. The cure
is that a row's softmax does not change when one number c is subtracted from all of
its logits:

    exp(z_k - c) / sum_j exp(z_j - c) = exp(-c) exp(z_k) / (exp(-c) sum_j exp(z_j)) = p_k

Choose c = max_j z_j, the row's own maximum. Then every exponent is <= 0, so no exp
can overflow, and the largest one is exp(0) = 1, so the sum is between 1 and K and the
division is safe too. Some exps may underflow to 0, but only those of probabilities
too small for float64 to hold anyway (below about 1e-323). Each row needs its own
maximum: one maximum for the whole batch would push every exp of a row whose logits
lie far below it (1e4 lower, say) to 0, and that row's softmax to 0 / 0.

The loss must not take the log of p either. For a confident wrong answer, p_y can
be too small for float64 (exp(-2e4) for the label 2 of the row [1e4, 0, -1e4]): it
rounds to 0, log(0) is -inf with a warning, and the loss comes out inf while its true
value is 2e4. Clipping p away from 0 hides the warning but caps the loss near
-log(eps). Take the log first, on paper:

    log p_k = z_k - logsumexp(z),    logsumexp(z) = m + log(sum_j exp(z_j - m)),  m = max_j z_j

The sum inside is between 1 and K, so its log is between 0 and log K: nothing
overflows, nothing is log(0), and the loss is right, finite and warning-free for
logits up to abs(z) = 1e4, as the contract asks of softmax and softmax_ce_loss.

Two classes are logistic regression
-----------------------------------
For K = 2, with d = z_1 - z_0, the softmax is p_1 = 1 / (1 + exp(-d)) = sigma(d) and
p_0 = 1 - sigma(d). The loss is then bce_loss(y, d) of the cross-entropy exercise,
with y read as 0.0 or 1.0, and column 1 of the gradient is bce_grad(y, d), column 0
its negative. The sigmoid and the binary cross-entropy are the case K = 2 of softmax
and its cross-entropy.

Worked numbers
--------------
For the batch of two samples and three classes

    z = [[1, 2, 3],        y = [2, 1]
         [1, -1, 0]]

the softmax is

    p = [[0.0900305732, 0.2447284711, 0.6652409558],
         [0.6652409558, 0.0900305732, 0.2447284711]]

The second row is the first one rearranged: [1, -1, 0] is [3, 1, 2] minus 2, and the
shift changes nothing. Sample 0 gives its true class 2 the largest probability and
costs -log 0.6652409558 = 0.4076059644; sample 1 gives its class 1 the smallest and
costs 2.4076059644. The loss is their mean, L = 1.4076059644, and the gradient is

    dL/dz = [[0.0450152866, 0.1223642355, -0.1673795221],
             [0.3326204779, -0.4549847134, 0.1223642355]]

Gradient descent raises the logit of each true class and lowers the others, and
sample 1, the wrong one, moves most. Each row sums to 0.

At the extremes, softmax([[1e4, 0, -1e4]]) is [[1, 0, 0]] and the loss of that row
is 0 for the label 0, 1e4 for the label 1 and 2e4 for the label 2. Equal logits give
equal probabilities: the loss is log 2 = 0.6931471806 for K = 2 and
log 3 = 1.0986122887 for K = 3.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

For softmax_ce_grad, f is the loss as a function of the logits, with the labels
held fixed:

    from exercises.provided import numerical_gradient, rel_error
    z = np.random.default_rng(0).normal(size=(4, 3))
    y = np.array([0, 2, 1, 2])
    numeric = numerical_gradient(lambda v: softmax_ce_loss(y, v), z)
    print(rel_error(softmax_ce_grad(y, z), numeric))

The check is only as good as the loss it differentiates: get softmax_ce_loss right
first (the worked numbers above). Use moderate logits (abs(z) below 10 or so), a
batch of more than one sample (N = 1 hides a missing 1/N), and labels that differ.
"""

import numpy as np


def softmax(z):
    """The softmax of each row of z: probabilities over the K classes of each sample.

    Inputs:
        z: the logits, float64 of shape (N, K), one row per sample.
    Returns:
        p: float64 of shape (N, K), p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j]); every
           row sums to 1. Right, finite and warning-free for logits up to abs(z) = 1e4.

    >>> z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0]])
    >>> for row in softmax(z):
    ...     print(" ".join(f"{v:.10f}" for v in row))
    0.0900305732 0.2447284711 0.6652409558
    0.6652409558 0.0900305732 0.2447284711
    >>> print(softmax(np.array([[1e4, 0.0, -1e4]])))
    [[1. 0. 0.]]
    """
    # YOUR CODE HERE
    raise NotImplementedError


def softmax_ce_loss(y, logits):
    """The cross-entropy of softmax(logits) against the integer labels y, averaged over N.

    Inputs:
        y: the labels, integers 0 <= y[n] < K, an int64 array of shape (N,).
        logits: the scores z, float64 of shape (N, K), one row per sample.
    Returns:
        L: (1/N) sum_n -log softmax(z)[n, y[n]], a Python float: right, finite and
           warning-free for logits up to abs(z) = 1e4.

    >>> z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0]])
    >>> print(f"{softmax_ce_loss(np.array([2, 1]), z):.10f}")
    1.4076059644
    >>> print(f"{softmax_ce_loss(np.array([0]), np.zeros((1, 2))):.10f}")
    0.6931471806
    >>> print(f"{softmax_ce_loss(np.array([2]), np.array([[1e4, 0.0, -1e4]])):.6f}")
    20000.000000
    """
    # YOUR CODE HERE
    raise NotImplementedError


def softmax_ce_grad(y, logits):
    """The gradient dL/dlogits of L = softmax_ce_loss(y, logits).

    Inputs:
        y: the labels, integers 0 <= y[n] < K, an int64 array of shape (N,).
        logits: the scores z, float64 of shape (N, K), one row per sample.
    Returns:
        dz: dL/dz, float64 of shape (N, K): entry [n, j] is the partial derivative of
            the mean loss with respect to z[n, j].

    >>> z = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0]])
    >>> for row in softmax_ce_grad(np.array([2, 1]), z):
    ...     print(" ".join(f"{v:.10f}" for v in row))
    0.0450152866 0.1223642355 -0.1673795221
    0.3326204779 -0.4549847134 0.1223642355
    """
    # YOUR CODE HERE
    raise NotImplementedError
