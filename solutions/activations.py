"""Activation layers with a cache: ReLU and tanh, forward and backward.

The forward pass
----------------
An activation layer applies one function of one number to every element of its input,
independently:

    ReLU:  out = max(0, x)
    tanh:  out = tanh(x) = (e^x - e^-x) / (e^x + e^-x)

x may have any shape: a batch (N, D), as everywhere in the course, a single row (1, D),
or a batch of images (N, C, P). out always has the shape of x, and element i of out
depends on element i of x alone. ReLU (the rectified linear unit) passes positive
numbers through and turns negative ones into 0; tanh squashes every number into the
open interval (-1, 1), like the sigmoid, but centred on 0: tanh(-x) = -tanh(x).

As with the dense layer of the first assignment, each forward function returns a pair
(out, cache), and the backward function gets the cache back with the upstream gradient
and nothing else.

The upstream gradient
---------------------
The layer sits inside a larger computation that ends in one number, the loss L. The
backward function receives the upstream gradient dout = dL/dout, an array of the
shape of out: dout[i] says how L changes when out[i] changes. The rest of the network,
after this layer, is already folded into it. The backward function returns
dx = dL/dx, of the shape of x. By the chain rule, summing over every way x[i] can reach
L:

    dx[i] = sum_j dout[j] * d out[j] / d x[i]

The numbers d out[j] / d x[i] form the Jacobian J of the layer, and the sum is the
vector-Jacobian product dx = J^T dout. For a dense layer every output depends on every
input and J is full. For an elementwise layer out[j] does not depend on x[i] at all
when i != j: J is diagonal, its diagonal holds the local derivatives f'(x[i]), and the
whole sum collapses to one term:

    dx[i] = dout[i] * f'(x[i])        elementwise: dx = dout * f'(x)

No J is ever built (for a batch of shape (64, 100), it would have 6400 x 6400
entries, all but 6400 of them zero). Each backward pass multiplies the upstream
gradient elementwise by the local derivative, and never drops it: dout carries
everything the loss has to say, and a layer that returned f'(x) alone would answer as
if L were the sum of its outputs.

The derivative of ReLU, and its kink
------------------------------------
For x > 0, max(0, x) = x, with slope 1; for x < 0, max(0, x) = 0, with slope 0. At
x = 0 the two pieces meet at an angle (a kink) and there is no derivative: the slope
from the left is 0, from the right 1. What gradient descent needs there is a
subgradient: a slope g such that the line through (0, 0) with slope g stays below the
function, max(0, t) >= g t for every t. Any g in [0, 1] qualifies. The course takes
g = 0, as PyTorch and TensorFlow do:

    relu'(x) = 1 if x > 0,  0 if x <= 0,  so  dx = dout where x > 0, and 0 elsewhere

The convention matters more often than one might think: exact zeros do reach a ReLU
(zero-padded inputs, features that are 0 in the data, the output of a previous ReLU),
and the grader holds you to it: at x == 0, dx is 0 whatever dout is.

The derivative of tanh
----------------------
Write tanh = s / c with s = e^x - e^-x and c = e^x + e^-x. Their derivatives swap
over: s' = e^x + e^-x = c and c' = e^x - e^-x = s. By the quotient rule,

    tanh'(x) = (s' c - s c') / c^2 = (c^2 - s^2) / c^2 = 1 - (s / c)^2 = 1 - tanh(x)^2

so the derivative is written with the function's own value: dx = dout * (1 - out^2),
where out = tanh(x) is what the forward pass returned. This is the point of the
cache: the forward pass has already paid for the exponentials, and the backward pass
reuses its result for the price of a multiplication and a subtraction. It is also the
numerically safe way: tanh(1e4) is exactly 1.0 in float64, and 1 - 1.0^2 = 0, the
right derivative to float64 precision. Going back to the exponentials instead fails
far sooner: e^800 overflows to inf, and inf / inf is nan (with a RuntimeWarning);
1 / cosh(x)^2, the same derivative written another way, overflows in the same place.
Keep the two variables apart, too: 1 - x^2, the formula applied to the input instead
of the output, is not the derivative (at x = 2 it is -3, while tanh only rises).

np.tanh is accurate and never overflows, for any float64: use it. The contract asks
for tanh_forward and tanh_backward to be right, finite and warning-free for abs(x) up
to 1e4 (and beyond).

Shapes and the cache
--------------------
    x      any shape S, float64         the layer's input
    out    shape S                      the forward's result
    dout   shape S (that of out)        dL/dout, given to the backward
    dx     shape S (that of x)          dL/dx, what the backward returns

Put in the cache what the backward pass needs: for ReLU, x (or anything that tells
where x > 0); for tanh, out. The grader hands the cache back unchanged and never looks
inside. It must be the only memory: with two layers (forward, forward, backward,
backward) each backward gets its own layer's cache, and a module-level variable would
by then hold the second layer's values. Neither function may change its arguments:
work on new arrays, not in place.

Worked numbers
--------------
For x = [[-2, -0.5, 0, 0.5, 2]] and dout = [[1, 2, 3, 4, 5]] (arrays of shape (1, 5)):

    relu_forward:   out = [[0, 0, 0, 0.5, 2]]
    relu_backward:  dx  = [[0, 0, 0, 4, 5]]            (0 at the kink x = 0, not 3)
    tanh_forward:   out = [[-0.9640275801, -0.4621171573, 0, 0.4621171573, 0.9640275801]]
    1 - out^2         = [[0.0706508249, 0.7864477330, 1, 0.7864477330, 0.0706508249]]
    tanh_backward:  dx  = [[0.0706508249, 1.5728954659, 3, 3.1457909319, 0.3532541243]]

tanh is odd and its derivative even, so the local derivatives come in mirrored pairs;
the upstream gradient breaks the symmetry of dx. At x = 1e4, tanh_forward gives 1 and
tanh_backward gives 0 for any dout.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

A layer's output is an array, so check a number made from it: for a fixed dout of the
shape of out, the gradient of np.sum(dout * out) with respect to x is exactly the dx
that the backward pass returns (that is the vector-Jacobian product above):

    from exercises.provided import numerical_gradient, rel_error
    x = np.random.randn(3, 4)
    dout = np.random.randn(3, 4)
    out, cache = tanh_forward(x)
    numeric = numerical_gradient(lambda v: np.sum(dout * tanh_forward(v)[0]), x)
    print(rel_error(tanh_backward(dout, cache), numeric))

For ReLU, mind the kink. A central difference that straddles 0 does not see either
slope: at x = 0 it computes (max(0, h) - max(0, -h)) / (2 h) = 1/2, and for any x
within h of 0 something between 0 and 1. Your dx (0 there, by the convention) and the
estimate then disagree, and neither is wrong. Check ReLU at points farther than h from
0, for example x = np.random.randn(3, 4) with x[np.abs(x) < 0.01] = 0.5, and check the
kink itself against the convention, by hand (the worked numbers above). This checks
your backward pass against your own forward pass, so get the forward pass right first.
"""

import numpy as np


def relu_forward(x):
    """The forward pass of a ReLU layer: out = max(0, x), elementwise.

    Inputs:
        x: the inputs, a float64 array of any shape (a batch (N, D), typically).
    Returns:
        (out, cache):
        out: max(0, x), float64 of the shape of x.
        cache: whatever relu_backward needs later; the grader never looks inside.

    >>> out, _ = relu_forward(np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]))
    >>> out.shape
    (1, 5)
    >>> print(out)
    [[0.  0.  0.  0.5 2. ]]
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0), x
    ### END SOLUTION


def relu_backward(dout, cache):
    """The backward pass of relu_forward: from dL/dout to dL/dx.

    Inputs:
        dout: dL/dout, the upstream gradient, float64 of the shape of out.
        cache: the cache that relu_forward returned with out.
    Returns:
        dx: dL/dx, float64 of the shape of x: dout where x > 0, and 0 where x <= 0
            (at exactly x = 0 the course takes the subgradient 0).

    >>> _, cache = relu_forward(np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]))
    >>> print(relu_backward(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), cache))
    [[0. 0. 0. 4. 5.]]
    """
    ### BEGIN SOLUTION
    x = cache
    return np.where(x > 0, dout, 0.0)  # x == 0 gets 0: the course's subgradient
    ### END SOLUTION


def tanh_forward(x):
    """The forward pass of a tanh layer: out = tanh(x), elementwise.

    Inputs:
        x: the inputs, a float64 array of any shape (a batch (N, D), typically).
    Returns:
        (out, cache):
        out: tanh(x), float64 of the shape of x; finite and warning-free for abs(x)
             up to 1e4.
        cache: whatever tanh_backward needs later; the grader never looks inside.

    >>> out, _ = tanh_forward(np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]))
    >>> print(" ".join(f"{v:.10f}" for v in out[0]))
    -0.9640275801 -0.4621171573 0.0000000000 0.4621171573 0.9640275801
    >>> print(tanh_forward(np.array([-1e4, 1e4]))[0])
    [-1.  1.]
    """
    ### BEGIN SOLUTION
    out = np.tanh(np.asarray(x, dtype=np.float64))
    return out, out  # the backward pass needs tanh(x) itself, not x
    ### END SOLUTION


def tanh_backward(dout, cache):
    """The backward pass of tanh_forward: from dL/dout to dL/dx.

    Inputs:
        dout: dL/dout, the upstream gradient, float64 of the shape of out.
        cache: the cache that tanh_forward returned with out.
    Returns:
        dx: dL/dx = dout * tanh'(x), float64 of the shape of x; finite and
            warning-free for abs(x) up to 1e4.

    >>> _, cache = tanh_forward(np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]))
    >>> dx = tanh_backward(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), cache)
    >>> print(" ".join(f"{v:.10f}" for v in dx[0]))
    0.0706508249 1.5728954659 3.0000000000 3.1457909319 0.3532541243
    >>> _, cache = tanh_forward(np.array([1e4]))
    >>> print(tanh_backward(np.array([7.0]), cache))
    [0.]
    """
    ### BEGIN SOLUTION
    out = cache
    return dout * (1.0 - out * out)
    ### END SOLUTION
