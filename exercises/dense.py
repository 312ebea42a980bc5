"""Forward and backward pass of a dense layer with a sigmoid.

The forward pass
----------------
A dense layer of M sigmoid neurons reads D inputs. A batch of N samples is stacked as
the rows of X (the batch is axis 0, everywhere in the course), so one matrix product
serves the whole batch:

    Z = X W + b        (N, D) @ (D, M) -> (N, M); b, of shape (M,), is added to every row
    H = sigma(Z)       elementwise, (N, M)

Column m of W holds the D weights of neuron m, and b[m] is its bias; row n of H holds
the M outputs for sample n. Z is the pre-activation, what goes into the sigmoid; H is
the activation, what comes out. (In the functions below the batch is x and the output
h, with dh and dx for their gradients.)

The backward pass
-----------------
The layer sits inside a larger computation that ends in one number, the loss L.
dense_backward receives the upstream gradient dH = dL/dH, an (N, M) array:
dH[n, m] says how L changes when H[n, m] changes. Whatever the rest of the network
does is already inside dH, including the 1/N of a loss that is a mean over the batch,
so the layer adds no averaging of its own. It returns the gradients of L with respect
to the three inputs of the forward pass, each of the shape of what it is the gradient
of:

    dX = dL/dX   (N, D)      what the layer before this one receives as its own dH
    dW = dL/dW   (D, M)
    db = dL/db   (M,)

What to derive
--------------
Derive dX, dW and db from dH and what the forward pass computed, as array expressions
for the whole batch at once (no Python loop over the samples). A way in, one step back
at a time:

1. Through the sigmoid. H[n, m] depends on Z[n, m] alone, and its local derivative
   is sigma'(Z[n, m]): the derivative of the sigmoid at its own input, the
   pre-activation Z. In sigmoid.py you write sigma' in terms of sigma's value, and
   sigma(Z) is H, so the forward pass's H is all this step needs. But that is not
   sigma'(H), the derivative evaluated at the output: plugging H into sigma' gives a
   different number, and is a classic slip.
2. Into W, b and X. Write one element, Z[n, m] = sum_d X[n, d] W[d, m] + b[m], take
   the scalar derivative of L with respect to one W[d, m] (then one b[m], one X[n, d])
   by the chain rule, and see which sums appear: a parameter shared by all N samples
   collects a term from each of them. Then recognise each sum as a matrix product or
   a sum over an axis.

Shapes are a check, not a proof: there is only one way to multiply your arrays into
(D, M), and one into (N, D), but for a square W (D = M) the shapes no longer tell W
from W^T, so get the indices right.

The notes (004) write one sample as a column vector: h = f(W x + b), their W of shape
(M, D), the transpose of ours, and their f' is taken at the pre-activation W x + b
(written with a bar or a tilde over h), which is our Z, never at the output h. Their
column x is one row of our X; transpose their per-sample results to read them in our
layout, and over a batch a parameter shared by all samples adds up their terms.

The cache
---------
dense_forward returns (h, cache), and dense_backward gets the cache back with dh and
nothing else. Put in the cache whatever the backward pass needs (decide which of X, W,
b, Z and H it uses); a tuple or a dict will do. The grader hands the cache back
unchanged and never looks inside. It must be the only memory: with two layers chained
(forward, forward, backward, backward) each backward pass gets its own layer's cache,
and a module-level variable would hold the second layer's values by then.

Worked numbers
--------------
The feedforward example of the notes gives every neuron w = [0, 1] and b = 0. As a
batch of one, x = [[2, 3]]; the hidden layer has W = [[0, 0], [1, 1]] (one column per
neuron), b = [0, 0] and gives h = [[sigma(3), sigma(3)]] = [[0.9525741268,
0.9525741268]]; the output layer has W = [[0], [1]], b = [0] and gives
sigma(0.9525741268) = 0.7216325610.

The backprop example of the notes: Alice, x = [[-2, -1]], label y = 1, every weight 1,
every bias 0, and L = (y - y_pred)^2. The hidden layer gives h1 = h2 = sigma(-3) =
0.0474258732, the output layer y_pred = sigma(h1 + h2) = 0.5236951741. Backwards, the
output layer's upstream gradient is dL/dy_pred = -0.9526096518 (an array of shape
(1, 1)); its dX, [[-0.2376175595, -0.2376175595]], is the hidden layer's upstream
gradient; and the hidden layer's dW[0, 0], the weight w1 of the notes from input 1 to
hidden neuron 1, is dL/dw1 = 0.0214695353. The notes get that as a product of three
factors, dL/dy_pred * dy_pred/dh1 * dh1/dw1 = -0.9526096518 * 0.2494385387 *
-0.0903533195.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

A layer's output is an array, so check a number made from it: for a fixed dh of shape
(N, M), the gradient of np.sum(dh * h) with respect to x is exactly the dx that
dense_backward(dh, cache) returns, and likewise for W and b. For x:

    from exercises.provided import numerical_gradient, rel_error
    numeric = numerical_gradient(lambda v: np.sum(dh * dense_forward(v, W, b)[0]), x)
    print(rel_error(dx, numeric))

and the same with dense_forward(x, v, b) for dW and dense_forward(x, W, v) for db.
Use small random arrays with N, D and M all different, then once more with D = M and
a W that is not symmetric. This checks dense_backward against your own dense_forward,
so get the forward pass right first (the worked numbers above).
"""

import numpy as np

from exercises.provided import sigmoid


def dense_forward(x, W, b):
    """The forward pass h = sigma(x W + b) of a dense sigmoid layer.

    Inputs:
        x: the inputs, a batch of shape (N, D), one sample per row.
        W: the weights, shape (D, M), one column per neuron.
        b: the biases, shape (M,).
    Returns:
        (h, cache):
        h: the outputs sigma(x W + b), float64 of shape (N, M).
        cache: whatever dense_backward needs later; the grader never looks inside.

    The feedforward example of the notes, one layer at a time:

    >>> x = np.array([[2.0, 3.0]])
    >>> h, _ = dense_forward(x, np.array([[0.0, 0.0], [1.0, 1.0]]), np.zeros(2))
    >>> h.shape
    (1, 2)
    >>> print(f"{h[0, 0]:.10f} {h[0, 1]:.10f}")
    0.9525741268 0.9525741268
    >>> out, _ = dense_forward(h, np.array([[0.0], [1.0]]), np.zeros(1))
    >>> out.shape
    (1, 1)
    >>> print(f"{out[0, 0]:.10f}")
    0.7216325610
    """
    # YOUR CODE HERE
    raise NotImplementedError


def dense_backward(dh, cache):
    """The backward pass of dense_forward: from dL/dh to the gradients of x, W and b.

    Inputs:
        dh: dL/dh, the upstream gradient, shape (N, M).
        cache: the cache that dense_forward returned with h.
    Returns:
        (dx, dW, db):
        dx: dL/dx, float64 of shape (N, D).
        dW: dL/dW, float64 of shape (D, M).
        db: dL/db, float64 of shape (M,).

    The backprop example of the notes: Alice, x = (-2, -1), y = 1, every weight 1,
    every bias 0, and L = (y - y_pred)^2. Two layers forward, then back through both,
    starting from dL/dy_pred = -0.9526096518 (the mse exercise computes it):

    >>> x = np.array([[-2.0, -1.0]])
    >>> h, hidden = dense_forward(x, np.ones((2, 2)), np.zeros(2))
    >>> y_pred, output = dense_forward(h, np.ones((2, 1)), np.zeros(1))
    >>> print(f"h1 = {h[0, 0]:.10f}, h2 = {h[0, 1]:.10f}, y_pred = {y_pred[0, 0]:.10f}")
    h1 = 0.0474258732, h2 = 0.0474258732, y_pred = 0.5236951741
    >>> dh, dW2, db2 = dense_backward(np.array([[-0.9526096518]]), output)
    >>> print(f"dL/dh1 = {dh[0, 0]:.10f}, dL/dh2 = {dh[0, 1]:.10f}")
    dL/dh1 = -0.2376175595, dL/dh2 = -0.2376175595
    >>> dx, dW1, db1 = dense_backward(dh, hidden)
    >>> print(f"dL/dw1 = {dW1[0, 0]:.10f}")
    dL/dw1 = 0.0214695353
    """
    # YOUR CODE HERE
    raise NotImplementedError
