"""The sigmoid and its derivative.

The maths
---------
A neuron weighs its inputs, adds a bias and squashes the sum:

    z = w . x + b,        y = sigma(z),        sigma(z) = 1 / (1 + exp(-z))

sigma maps the whole real line onto (0, 1): large negative z give almost 0, large
positive z almost 1, and sigma(0) = 1/2. Mind the minus sign in exp(-z). Writing
1 / (1 + exp(z)) is a classic slip (two of the course notes make it): that function
is sigma(-z), the mirror image, and it falls where sigma rises.

For the derivative, write sigma(z) = (1 + exp(-z))^(-1) and use the chain rule:

    sigma'(z) = -(1 + exp(-z))^(-2) * (-exp(-z))
              = exp(-z) / (1 + exp(-z))^2
              = [1 / (1 + exp(-z))] * [exp(-z) / (1 + exp(-z))]
              = sigma(z) * (1 - sigma(z))

because 1 - sigma(z) = exp(-z) / (1 + exp(-z)). So once the forward pass knows
sigma(z), the backward pass gets the derivative for one multiplication. It is largest
at z = 0, where it is 1/4, and it vanishes for large abs(z).

Computing it safely
-------------------
exp(-z) overflows float64 once -z passes about 709: exp(1e4) is inf and numpy warns.
The cure is to exponentiate only numbers that are zero or negative. For z >= 0 the
formula above is safe as it stands. For z < 0 multiply the top and the bottom by
exp(z):

    sigma(z) = exp(z) / (1 + exp(z))

and now the exponent is negative. Both cases use e = exp(-abs(z)), which lies in (0, 1].

Tiny values count. sigma(-30) = 9.36e-14 and sigma(-700) = 9.86e-305 are ordinary
float64 numbers, and the grader compares them to 6 significant digits, not to a fixed
number of decimals: a sigmoid that rounds its tail to 0 (by clipping z, or by a form
such as (1 + tanh(z/2)) / 2 that loses the small values) is wrong there.

Shapes
------
Both functions work elementwise: z may be a Python float or an array of any shape,
and the result has the shape of z (a Python float for a float), in float64.

Worked example
--------------
The neuron of the notes has w = [0, 1], b = 4 and gets x = [2, 3]:
z = 0*2 + 1*3 + 4 = 7 and sigma(7) = 0.9990889488.

At z = -3: sigma(-3) = 0.0474258732, so sigma'(-3) = 0.0474258732 * 0.9525741268
= 0.0451766597. Round at the end, not in the middle: with sigma(-3) rounded to 0.047
first, the same product comes out as 0.0448, wrong in the third digit.
"""

import numpy as np


def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise, finite for any float64 z.

    Inputs:
        z: a Python float or an array of any shape, e.g. (N, M).
    Returns:
        s: sigma(z), of the shape of z (a Python float when z is a float), float64,
           every value in [0, 1], finite and warning-free even for abs(z) = 1e4, and
           accurate to 6 significant digits even in the far tail, where sigma(z) is
           tiny: sigma(-30) = 9.3576229688e-14 is not 0.

    The neuron of the notes, w = [0, 1], b = 4, x = [2, 3]:

    >>> w, b, x = np.array([0.0, 1.0]), 4.0, np.array([2.0, 3.0])
    >>> print(f"{sigmoid(w @ x + b):.10f}")
    0.9990889488
    >>> print(sigmoid(np.array([[-1e4, 0.0, 1e4]])))
    [[0.  0.5 1. ]]
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # never the exp of a positive number: it cannot overflow
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(s) if s.ndim == 0 else s
    ### END SOLUTION


def sigmoid_grad(z):
    """The derivative of the sigmoid, sigma'(z) = sigma(z) (1 - sigma(z)), elementwise.

    Inputs:
        z: a Python float or an array of any shape.
    Returns:
        ds: sigma'(z), of the shape of z (a Python float when z is a float), float64.

    The exact value at z = -3:

    >>> print(f"{sigmoid_grad(-3.0):.10f}")
    0.0451766597

    Two factors of the backprop example of the notes (all weights 1, biases 0,
    x = (-2, -1)). The hidden neuron h1 = sigma(w1 x1 + w2 x2 + b1) = sigma(-3), so
    dh1/dw1 = x1 sigma'(-3); the output is sigma(w5 h1 + w6 h2 + b3) with
    h1 = h2 = sigma(-3), so dy_pred/dh1 = w5 sigma'(h1 + h2):

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
