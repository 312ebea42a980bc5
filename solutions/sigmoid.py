"""The sigmoid and its derivative.

The forward pass
----------------
A neuron weighs its inputs, adds a bias and squashes the sum with the logistic
sigmoid:

    z = w . x + b,        y = sigma(z),        sigma(z) = 1 / (1 + exp(-z))

sigma maps the whole real line onto (0, 1): it tends to 0 as z goes to -infinity, to 1
as z goes to +infinity, and sigma(0) = 1/2. Mind the minus sign in exp(-z). Two of the
course notes write 1 / (1 + exp(z)); that function is sigma(-z), the mirror image,
which falls where sigma rises. The grader knows this slip and names it.

What to derive
--------------
sigmoid_grad(z) is the derivative sigma'(z) = d sigma / dz. Derive it by hand, then
simplify until it is written with sigma(z) alone, with no exponential of its own. That
form is the point of the exercise: a backward pass can then reuse the value that its
forward pass already computed (the dense layer and the training exercise rely on it).
A way in: apply the chain rule to (1 + exp(-z))^(-1), then look for sigma(z) in what
comes out. The worked numbers below tell you when you have it.

Shapes and conventions
----------------------
Both functions work elementwise. z is a scalar or an array of any shape, e.g. (N,) or
(N, M); the result has the shape of z, in float64, and z is not modified.

- An array in (any shape, even (1,)) gives a float64 array of that shape out.
- A scalar in gives one number out. A scalar may come as a Python float or int, a numpy
  scalar such as np.float64 (w @ x + b of two 1-D arrays is one), or a 0-d array:
  np.asarray(z, dtype=np.float64) makes a 0-d float64 array of each, so one code path
  serves them all. Return one number: the reference returns a Python float (float() of
  the 0-d result); np.float64 (a subclass of float) and a 0-d float64 array are
  accepted too. A result of shape (1,) is an array, not a number, and fails.
- The tests call these functions with Python floats and float64 arrays.

Computing sigma safely
----------------------
exp overflows float64 once its argument passes about 709: exp(1e4) is inf, and numpy
warns ("overflow encountered in exp"). So 1 / (1 + exp(-z)) as written warns for
z = -1e4, although the value it returns, 1 / inf = 0, is right. The contract asks for a
sigmoid that is finite and silent for abs(z) up to 1e4. The cure is to exponentiate
only numbers that are zero or negative: for z >= 0 the formula above already does;
for z < 0, multiply the top and the bottom of the fraction by exp(z) and it does too.

Choosing between the two forms with np.where(z >= 0, first, second) is not enough on
its own: numpy evaluates both arguments for every element before it chooses, so the
form meant for the other sign still overflows, and warns, on the elements it will not
be used for. Make every exponent non-positive before choosing (exp(-abs(z)) serves
both signs), or compute each sign on its own part of the array.

Tiny values count. sigma(-30) = 9.3576229688e-14 and sigma(-700) = 9.8596765438e-305
are ordinary float64 numbers, and the grader compares them to 6 significant digits,
not to a fixed number of decimals: a sigmoid that rounds its tail to 0 (by clipping z,
or through a form such as (1 + tanh(z/2)) / 2 that loses the small values) is wrong
there.

Worked numbers
--------------
The neuron of the notes has w = [0, 1], b = 4 and gets x = [2, 3]:
z = 0*2 + 1*3 + 4 = 7 and sigma(7) = 0.9990889488.

At z = -3: sigma(-3) = 0.0474258732 and sigma'(-3) = 0.0451766597. Carry full
precision through: the notes round sigma(-3) to 0.047 midway and get 0.044791 for
sigma'(-3), which is wrong from the third significant digit on.

Two factors of the backprop example of the notes (every weight 1, every bias 0,
x = (-2, -1)): the hidden neuron h1 = sigma(-3), so dh1/dw1 = x1 sigma'(-3) =
-0.0903533195; the output neuron is sigma(h1 + h2) with h1 = h2 = sigma(-3), so
dy_pred/dh1 = w5 sigma'(h1 + h2) = 0.2494385387.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

sigma acts elementwise, so the sum of sigma(z) over an array z has sigma'(z) as its
gradient:

    from exercises.provided import numerical_gradient, rel_error
    z = np.linspace(-5.0, 5.0, 11)
    print(rel_error(sigmoid_grad(z), numerical_gradient(lambda v: np.sum(sigmoid(v)), z)))

Check at moderate z: far in the tails both values are tiny and the comparison says
little.
"""

import numpy as np


def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise.

    Inputs:
        z: a scalar (a Python float, an int, np.float64 or a 0-d array) or an array of
           any shape, e.g. (N, M). It is not modified.
    Returns:
        s: sigma(z) in float64: one number for a scalar z (a Python float; np.float64
           or a 0-d array will do), otherwise an array of the shape of z. Every value
           is in [0, 1], finite and warning-free for abs(z) up to 1e4, and accurate to
           6 significant digits even in the far tail, where sigma(z) is tiny but not 0.

    The neuron of the notes, w = [0, 1], b = 4, x = [2, 3] (w @ x + b is an np.float64):

    >>> w, b, x = np.array([0.0, 1.0]), 4.0, np.array([2.0, 3.0])
    >>> print(f"{sigmoid(w @ x + b):.10f}")
    0.9990889488
    >>> print(sigmoid(np.array([[-1e4, 0.0, 1e4]])))
    [[0.  0.5 1. ]]
    >>> print(f"{sigmoid(-30.0):.9e}")
    9.357622969e-14
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # never the exp of a positive number: it cannot overflow
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(s) if s.ndim == 0 else s
    ### END SOLUTION


def sigmoid_grad(z):
    """The derivative sigma'(z) of the sigmoid, elementwise.

    Inputs:
        z: a scalar (as for sigmoid) or an array of any shape. It is not modified.
    Returns:
        ds: sigma'(z) in float64: one number for a scalar z (as for sigmoid),
            otherwise an array of the shape of z.

    The exact value at z = -3:

    >>> print(f"{sigmoid_grad(-3.0):.10f}")
    0.0451766597

    Two factors of the backprop example of the notes (every weight 1, every bias 0,
    x = (-2, -1)). The hidden neuron is h1 = sigma(w1 x1 + w2 x2 + b1) = sigma(-3), so
    dh1/dw1 = x1 sigma'(-3) with x1 = -2; the output is sigma(w5 h1 + w6 h2 + b3) with
    h1 = h2 = sigma(-3), so dy_pred/dh1 = w5 sigma'(h1 + h2) with w5 = 1:

    >>> print(f"{-2.0 * sigmoid_grad(-3.0):.10f}")
    -0.0903533195
    >>> h1 = sigmoid(-3.0)
    >>> print(f"{h1:.10f} {sigmoid_grad(h1 + h1):.10f}")
    0.0474258732 0.2494385387
    """
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1.0 - s)
    ### END SOLUTION
