"""Helpers that come complete: nothing in this file is graded.

The exercise modules import what they need from here, for example::

    from exercises.provided import sigmoid, GENDER_X, GENDER_Y

What is provided:

- ``sigmoid(z)``: a numerically stable sigmoid, 1 / (1 + exp(-z)), for the exercises
  that use it as a building block (the dense layer, cross-entropy, training). Writing
  the sigmoid yourself is its own exercise, in ``sigmoid.py``; this copy is here so
  that a slip there never costs points anywhere else.
- ``numerical_gradient(f, x)`` and ``rel_error(a, b)``: a gradient checker, to test your
  own derivatives before the grader does. Compute the gradient of a number (a loss) by
  hand, compute it again by central differences, and compare the two::

      numeric = numerical_gradient(lambda v: np.sum(my_function(v)), x)
      print(rel_error(numeric, my_derivative(x)))   # about 1e-7 or less: they agree

- The small data set of the course notes: four people, their weight and height, and
  their gender, to train the network of ``training.py`` on.
- ``two_moons(n_samples, noise, seed)``: two interleaving half circles in the plane, one
  class each, a data set no straight line separates, to train the network of ``mlp.py``
  on. The same seed gives the same points on every machine.

The grader always loads its own copy of this file, so changing it changes nothing in
your grade: build on it, do not edit it.
"""

import numpy as np

__all__ = ["sigmoid", "numerical_gradient", "rel_error", "NAMES", "GENDER_X", "GENDER_Y",
           "two_moons"]


def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise, without overflow.

    It is computed as exp(-log(1 + exp(-z))), and numpy's ``logaddexp`` evaluates
    log(1 + exp(-z)) = log(exp(0) + exp(-z)) without ever forming a huge exponential,
    so the result is finite and silent even for abs(z) = 1e4.

    Inputs:
        z: a Python float or an array of any shape.
    Returns:
        sigma(z): a Python float for a scalar z, otherwise a float64 array of z's shape.

    >>> print(f"{sigmoid(7.0):.10f}")
    0.9990889488
    >>> print(sigmoid(np.array([-1e4, 0.0, 1e4])))
    [0.  0.5 1. ]
    """
    s = np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))
    return float(s) if np.ndim(s) == 0 else s


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a number f(x) with respect to every element of x, by central differences.

    Each element x[i] in turn is moved by +h and by -h, and

        df/dx[i] ~ (f(x with x[i] + h) - f(x with x[i] - h)) / (2 h)

    which is exact up to terms in h^2. f is called with x itself, moved in place, so f may
    also read x from outside (a loss that uses the weights W, with x = W). x is put back
    as it was after each probe, even if f raises.

    Inputs:
        f: a function of one argument that returns a single number (a float, or an array
           holding one value). For a function that works elementwise, such as a sigmoid,
           sum its output: the gradient of np.sum(g(x)) is g'(x), elementwise.
        x: a float64 numpy array of any shape, writable.
        h: the step, 1e-5 by default.
    Returns:
        grad: a float64 array of the shape of x.

    The gradient of sum(v^2) is 2 v:

    >>> x = np.array([[1.0, -2.0], [3.0, 0.5]])
    >>> grad = numerical_gradient(lambda v: np.sum(v ** 2), x)
    >>> print(np.round(grad, 6))
    [[ 2. -4.]
     [ 6.  1.]]
    >>> print(x)
    [[ 1.  -2. ]
     [ 3.   0.5]]

    The derivative of sin, elementwise, is cos:

    >>> z = np.array([-3.0, 0.0, 2.0])
    >>> rel_error(numerical_gradient(lambda v: np.sum(np.sin(v)), z), np.cos(z)) < 1e-8
    True
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 numpy array, e.g. np.array([1.0, 2.0])")
    if not x.flags.writeable:
        raise ValueError("x is read-only: pass a copy, e.g. np.array(x)")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        try:
            x[index] = old + h
            plus = _one_number(f(x))
            x[index] = old - h
            minus = _one_number(f(x))
        finally:
            x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _one_number(value):
    value = np.asarray(value, dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"f must return a single number, not an array of shape {value.shape}: "
                         "sum it, e.g. lambda v: np.sum(g(v))")
    return float(value.reshape(-1)[0])


def rel_error(a, b):
    """How far apart a and b are, relative to their size: the largest, over all elements, of

        abs(a - b) / max(1e-8, abs(a) + abs(b))

    About 1e-7 or less between your gradient and numerical_gradient's means they agree
    (central differences are not exact); 1e-3 or more means a mistake. The floor 1e-8 keeps
    two values that are both almost 0 from looking far apart.

    Inputs:
        a, b: numbers or arrays of the same shape.
    Returns:
        the relative error, a Python float (0.0 for empty arrays).

    >>> print(f"{rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.000002])):.1e}")
    5.0e-07
    >>> rel_error(0.0, 1e-12) < 1e-3
    True
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b have different shapes: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _read_only(values):
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


# The table of the notes: weight in pounds minus 135, height in inches minus 66.
# The shifts only make the numbers small; the notes picked them by eye.
#
#   name      weight  height  gender
#   Alice      133      65      F
#   Bob        160      72      M
#   Charlie    152      70      M
#   Diana      120      60      F
NAMES = ("Alice", "Bob", "Charlie", "Diana")

# Shape (4, 2): one row per person, columns (weight - 135, height - 66).
GENDER_X = _read_only([[-2.0, -1.0],
                       [25.0, 6.0],
                       [17.0, 4.0],
                       [-15.0, -6.0]])

# Shape (4,): 1 for female, 0 for male, as in the notes.
GENDER_Y = _read_only([1.0, 0.0, 0.0, 1.0])


def two_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles, one class each: a small data set for classifiers.

    Class 0 lies on the upper half of the unit circle centred at (0, 0), class 1 on the
    lower half of the unit circle centred at (1, 0.5), so each moon reaches into the
    hollow of the other and no straight line separates them. Each point is moved by
    Gaussian noise of standard deviation ``noise`` in both coordinates, and the rows are
    shuffled. Everything is drawn from np.random.default_rng(seed), so a seed gives the
    same points on every machine.

    Inputs:
        n_samples: N, the number of points; class 0 gets N // 2 of them, class 1 the rest.
        noise: the standard deviation of the noise added to every coordinate.
        seed: the seed of the random generator.
    Returns:
        (X, y):
        X: the points, float64 of shape (N, 2), one per row.
        y: their labels, 0 or 1, int64 of shape (N,).

    >>> X, y = two_moons()
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((200, 2), dtype('float64'), (200,), dtype('int64'))
    >>> print(np.bincount(y))
    [100 100]
    >>> print(f"{X[0, 0]:.10f} {X[0, 1]:.10f} {y[0]}")
    0.9444197392 0.0995834251 0
    """
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    X = np.concatenate([np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
                        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])])
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]
