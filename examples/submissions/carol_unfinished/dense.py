"""Forward and backward pass of a dense layer with a sigmoid.

The maths
---------
A dense layer of M sigmoid neurons reads D inputs. The course stacks a batch of N
samples as the rows of X, so one matrix product serves the whole batch:

    Z = X W + b        (N, D) @ (D, M) -> (N, M); b of shape (M,) is added to every row
    H = sigma(Z)       elementwise

Column m of W holds the D weights of neuron m, and b[m] is its bias.

The backward pass receives dH = dL/dH, how the loss L downstream changes with each
output, and returns the gradient of L with respect to every input of the layer. Go
back one step at a time.

1. Through the sigmoid. Each H[n, m] depends only on Z[n, m], and
   sigma'(z) = sigma(z) (1 - sigma(z)) is known from the forward pass:

       dZ = dH * H * (1 - H)        elementwise, (N, M)

2. Into the weights. Z[n, m] = sum_d X[n, d] W[d, m] + b[m], so W[d, m] touches
   every sample n, and its gradient adds up what each sample says:

       dW[d, m] = sum_n X[n, d] dZ[n, m]        that is   dW = X^T dZ      (D, M)

3. Into the bias. b[m] is added to all N rows: a fan-out to N places, whose
   gradients are summed:

       db[m] = sum_n dZ[n, m]        the column sums of dZ, (M,)

4. Into the input, for the layer before this one: X[n, d] feeds all M neurons,

       dX[n, d] = sum_m dZ[n, m] W[d, m]        that is   dX = dZ W^T      (N, D)

A check that catches most mistakes: every gradient has the shape of the thing it is
the gradient of, and there is only one way to multiply X, W and dZ to get that
shape. The notes write one sample as a column vector, h = f(W x + b) with
dW = [f'(h) * delta] x^T and their W being our W^T, and stacking the N samples as rows
turns that into H = f(X W + b) with dW = X^T [f'(Z) * dH], the per-sample outer
products summed over the batch.

Worked example
--------------
The 2-2-1 network of the notes gives every neuron w = [0, 1] and b = 0. As a batch of
one, x = [[2, 3]]; the hidden layer has W = [[0, 0], [1, 1]] (one column per neuron)
and gives h = sigma(3) = 0.9525741268 twice; the output layer has W = [[0], [1]] and
gives sigma(0.9525741268) = 0.7216325610.
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
        cache: whatever dense_backward needs later; nobody else looks inside.

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
    h = sigmoid(x @ W + b)
    return h, (x, h)


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
    every bias 0, and L = (y - y_pred)^2. Two layers, then back through both:

    >>> x = np.array([[-2.0, -1.0]])
    >>> h, hidden = dense_forward(x, np.ones((2, 2)), np.zeros(2))
    >>> y_pred, output = dense_forward(h, np.ones((2, 1)), np.zeros(1))
    >>> print(f"h1 = {h[0, 0]:.10f}, h2 = {h[0, 1]:.10f}, y_pred = {y_pred[0, 0]:.10f}")
    h1 = 0.0474258732, h2 = 0.0474258732, y_pred = 0.5236951741
    >>> dh, dW2, db2 = dense_backward(-2.0 * (1.0 - y_pred), output)
    >>> dx, dW1, db1 = dense_backward(dh, hidden)
    >>> print(f"dL/dw1 = {dW1[0, 0]:.10f}")
    dL/dw1 = 0.0214695353
    """
    # YOUR CODE HERE
    raise NotImplementedError
