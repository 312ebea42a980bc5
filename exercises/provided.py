"""Helpers that come complete: nothing in this file is graded.

The exercise modules import what they need from here, for example::

    from exercises.provided import sigmoid, GENDER_X, GENDER_Y

What is provided:

- ``sigmoid(z)``: a numerically stable sigmoid, 1 / (1 + exp(-z)), for the exercises
  that use it as a building block (the dense layer, cross-entropy, training). Writing
  the sigmoid yourself is its own exercise, in ``sigmoid.py``; this copy is here so
  that a slip there never costs points anywhere else.
- The small data set of the course notes: four people, their weight and height, and
  their gender, to train the network of ``training.py`` on.

The grader always loads its own copy of this file, so changing it changes nothing in
your grade: build on it, do not edit it.
"""

import numpy as np

__all__ = ["sigmoid", "NAMES", "GENDER_X", "GENDER_Y"]


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
