"""A multi-layer perceptron for K classes, trained end to end.

The network
-----------
A list layer_sizes = [n_0, n_1, ..., n_L] describes a network of L layers: n_0 = D
inputs, n_L = K classes, and n_1, ..., n_{L-1} neurons in the hidden layers between
them. [2, 16, 16, 2] is a network of L = 3 layers: 2 inputs, two hidden layers of 16
and 2 classes. For a batch X of N samples, one per row (the batch is axis 0):

    A_0 = X                              (N, n_0)
    Z_l = A_{l-1} W_l + b_l              (N, n_l)    W_l (n_{l-1}, n_l), b_l (n_l,)
    A_l = tanh(Z_l)                      (N, n_l)    for the hidden layers, l < L
    logits = Z_L = A_{L-1} W_L + b_L     (N, K)      the last layer has no tanh

The logits are scores, one per class. The loss is the softmax cross-entropy of
softmax.py: the softmax turns each row of logits into probabilities, and the loss is
the mean over the batch of -log(the probability given to the true class),

    L = -(1/N) sum_n log softmax(logits)[n, y_n],

with y_n, an integer from 0 to K - 1, the label of sample n. The last layer has no tanh
because a tanh would squeeze every score into (-1, 1), and a softmax of scores that
close together can never be confident: with K = 2 it gives at most
e / (e + 1/e) = 0.88 to the right class, and the loss never falls below 0.127.

affine_forward(x, W, b) is one layer's x W + b: the dense layer of dense.py without
its sigmoid. affine_backward is its backward pass. mlp_forward chains L of them with a
tanh after each one but the last; mlp_backward goes back through the chain.

Your own modules
----------------
This module builds on two that you write in this assignment, activations.py
(tanh_forward and tanh_backward) and softmax.py (softmax_ce_loss and softmax_ce_grad).
It imports them at its top, relatively:

    from .activations import tanh_backward, tanh_forward
    from .softmax import softmax_ce_grad, softmax_ce_loss

The grader (grader check and grader grade alike) loads your modules together as the
package exercises, so these are your own functions, not a copy of the course's: a
mistake in activations.py or softmax.py costs points in this exercise too, and a
missing or broken one makes this module fail to import, which costs all of them. Get
the tests of those two exercises passing first.

Initialisation
--------------
init_mlp draws the weights at random and sets the biases to zero, exactly so, so that
everyone starts from the same numbers:

    rng = np.random.default_rng(seed)
    for l = 1, 2, ..., L in this order:
        W_l = rng.standard_normal((n_{l-1}, n_l)) * sqrt(1 / n_{l-1})
        b_l = np.zeros(n_l)

and the keys of the dict are "W1", "b1", ..., "WL", "bL". Why the factor
sqrt(1 / n_{l-1}): each pre-activation Z_l[n, j] adds up n_{l-1} products
A_{l-1}[n, i] W_l[i, j]. With inputs of size about 1 and weights of variance 1, the sum
has a variance of about n_{l-1}: behind 16 inputs a typical Z is about 4, where tanh is
flat (tanh'(4) = 0.0013), and the gradient that comes back through tanh' all but
vanishes. The network starts saturated and learns slowly, if at all. Weights of
variance 1 / n_{l-1} keep the variance of Z about 1 at every width, in the sloped
middle of tanh. The weights must be random, not all equal: the neurons of a layer that
start equal get equal gradients and stay equal for ever.

The backward pass
-----------------
Backpropagation walks the chain the other way, carrying the gradient of the loss with
respect to each array of the forward pass. Write dZ_l for dL/dZ_l, dA_l for dL/dA_l,
dW_l for dL/dW_l and db_l for dL/db_l; each has the shape of what it is the gradient of.

1. The top. softmax_ce_grad(y, logits) of softmax.py is dL/dlogits:

       dZ_L = (softmax(Z_L) - onehot(y)) / N                      (N, K)

   It already holds the 1/N of the mean over the batch: nothing below divides by N
   again.

2. Back through an affine layer Z = A W + b, with A (N, n_in), W (n_in, n_out) and
   b (n_out,). One element is Z[n, j] = sum_i A[n, i] W[i, j] + b[j]. The weight W[i, j]
   appears in Z[n, j] of every sample n, times A[n, i]; the bias b[j] in Z[n, j] of
   every sample, times 1; the input A[n, i] in Z[n, j] of every output j, times
   W[i, j]. The chain rule adds up one term for each place where a variable appears:

       dW[i, j] = sum_n A[n, i] dZ[n, j]    so  dW = A^T dZ                  (n_in, n_out)
       db[j]    = sum_n dZ[n, j]            so  db = the sum of dZ's rows    (n_out,)
       dA[n, i] = sum_j dZ[n, j] W[i, j]    so  dA = dZ W^T                  (N, n_in)

   That is affine_backward, with dout = dZ and dx = dA. The sums over n are where a
   batch adds up: the bias and the weights are shared by every sample.

3. Back through a tanh, A_l = tanh(Z_l), elementwise. A_l[n, j] depends on Z_l[n, j]
   alone, so

       dZ_l = dA_l * tanh'(Z_l) = dA_l * (1 - A_l^2)              elementwise, (N, n_l)

   That is tanh_backward of activations.py.

Together, for l = L, L - 1, ..., 1:

    dW_l = A_{l-1}^T dZ_l,    db_l = the sum of the rows of dZ_l,    dA_{l-1} = dZ_l W_l^T,

and below a hidden layer, dZ_{l-1} = dA_{l-1} * (1 - A_{l-1}^2). The last dA_0 = dL/dX
is not needed for training (X is data, not a parameter); affine_backward computes it
anyway, since in general the layer below needs it.

The cache
---------
affine_forward and mlp_forward return (result, cache), and their backward passes get
the cache back, with dout (affine_backward) or with params and y (mlp_backward), and
nothing else. Put in it whatever the backward pass needs: for the network, the cache of
each layer (its affine cache and its tanh cache) and the logits will do. The grader
hands the cache back unchanged and never looks inside. It must be the only memory: a
network run forward on two batches, then backward on the first, must get the first
batch's gradients.

Training
--------
train_mlp is full-batch gradient descent, as in training.py. Each epoch runs
mlp_forward and mlp_backward on the whole batch, records the loss, then moves every
parameter, p <- p - lr * dL/dp, into a new dict. losses[k] is the loss before step k,
the loss of the parameters that step starts from, so losses[0] is the loss of the
given params and there are epochs of them. The given params are left as they were.

The defaults, lr = 0.8 and epochs = 200, are the course's choice for two_moons of
exercises/provided.py. From init_mlp([2, 16, 16, 2], seed=0) on
X, y = two_moons(200, noise=0.1, seed=0), they bring the loss from 0.7421546532 down
to about 0.0068, and the trained network classifies every one of the 200 points right
(the grader asks for a training accuracy of at least 0.97), in about 0.02 s.

predict(params, X) is the class of the largest logit, row by row. The softmax keeps
the order of a row's scores, so it need not be computed.

Worked numbers
--------------
init_mlp([2, 3, 2], seed=0) gives

    W1 = [[0.0889046919, -0.0934122447, 0.4528471990],
          [0.0741755842, -0.3787754462, 0.2556863154]],      b1 = [0, 0, 0],
    W2 = [[0.7528647771, 0.5467974490],
          [-0.4063017278, -0.7305914269],
          [-0.3598476787, 0.0238595653]],                    b2 = [0, 0].

On the four points X = [[1, 2], [-1, 0.5], [0, -1], [2, 0]] with labels y = [0, 1, 1, 0]
its logits are

    [[ 0.1878293207,  0.6504099732],
     [ 0.1129004813,  0.0341038497],
     [-0.1126242044, -0.3106694768],
     [-0.0512424231,  0.2482965352]],

so predict gives [1, 0, 0, 1]: every point wrong, before training. The loss is
0.8338565971; among the gradients, dL/dW1[0, 1] = -0.1576501381 and
dL/db2 = [-0.0297292282, 0.0297292282]. With two classes the two columns of dW_L and the
two entries of db_L are always opposite: a softmax row sums to 1 and a one-hot row to 1,
so each row of dZ_L sums to 0. Five steps of train_mlp with lr = 0.5 from there record
the losses 0.8338565971, 0.6997271193, 0.6163515556, 0.5378928909 and 0.4537115818.

For affine_forward, x = [[1, 2], [3, -1]], W = [[1, 0, -1], [2, 1, 0]] and
b = [0.5, 0, -0.5] give [[5.5, 2, -1.5], [1.5, -1, -3.5]], and the upstream gradient
dout = [[1, -1, 2], [0, 1, -1]] gives dx = [[-1, 1], [1, 1]],
dW = [[1, 2, -1], [2, -3, 5]] and db = [1, 0, 1].

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

For the network, f is the loss as a function of one parameter, the others held fixed;
for W1:

    from exercises.provided import numerical_gradient, rel_error
    loss = lambda v: softmax_ce_loss(y, mlp_forward({**params, "W1": v}, X)[0])
    print(rel_error(grads["W1"], numerical_gradient(loss, params["W1"])))

and the same for every other key. For affine_backward, fold the output into one number
with a fixed dout of its shape: the gradient of np.sum(dout * affine_forward(v, W, b)[0])
with respect to v is dx, and likewise for W and b. Check a network of three layers or
more with a batch of several samples and layers of different widths. This checks
mlp_backward against your own mlp_forward and softmax_ce_loss, so get those right first
(the worked numbers above).
"""

import numpy as np

from .activations import tanh_backward, tanh_forward
from .softmax import softmax_ce_grad, softmax_ce_loss


def affine_forward(x, W, b):
    """One affine layer, out = x W + b.

    Inputs:
        x: the inputs, a batch of shape (N, D), one sample per row.
        W: the weights, shape (D, M).
        b: the biases, shape (M,).
    Returns:
        (out, cache):
        out: x W + b, float64 of shape (N, M).
        cache: whatever affine_backward needs later; the grader never looks inside.

    >>> x = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    >>> out, _ = affine_forward(x, W, np.array([0.5, 0.0, -0.5]))
    >>> print(out)
    [[ 5.5  2.  -1.5]
     [ 1.5 -1.  -3.5]]
    """
    # YOUR CODE HERE
    raise NotImplementedError


def affine_backward(dout, cache):
    """The backward pass of affine_forward: from dL/dout to the gradients of x, W and b.

    Inputs:
        dout: dL/dout, the upstream gradient, shape (N, M).
        cache: the cache that affine_forward returned with out.
    Returns:
        (dx, dW, db):
        dx: dL/dx, float64 of shape (N, D).
        dW: dL/dW, float64 of shape (D, M).
        db: dL/db, float64 of shape (M,).

    >>> x = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    >>> _, cache = affine_forward(x, W, np.array([0.5, 0.0, -0.5]))
    >>> dx, dW, db = affine_backward(np.array([[1.0, -1.0, 2.0], [0.0, 1.0, -1.0]]), cache)
    >>> print(dx)
    [[-1.  1.]
     [ 1.  1.]]
    >>> print(dW)
    [[ 1.  2. -1.]
     [ 2. -3.  5.]]
    >>> print(db)
    [1. 0. 1.]
    """
    # YOUR CODE HERE
    raise NotImplementedError


def init_mlp(layer_sizes, seed=0):
    """Random weights, scaled by sqrt(1 / fan-in), and zero biases for an L-layer network.

    Exactly this recipe: rng = np.random.default_rng(seed); then for l = 1, ..., L in
    order, W{l} = rng.standard_normal((n_{l-1}, n_l)) * sqrt(1 / n_{l-1}) and
    b{l} = np.zeros(n_l). The scale keeps the pre-activations of size about 1, where
    tanh is not saturated.

    Inputs:
        layer_sizes: a list [n_0, n_1, ..., n_L] of L + 1 positive ints: the inputs, the
                     widths of the hidden layers and the number of classes.
        seed: the seed of the random generator.
    Returns:
        params: a dict of float64 arrays, "W1" (n_0, n_1), "b1" (n_1,), ...,
                "WL" (n_{L-1}, n_L), "bL" (n_L,).

    >>> params = init_mlp([2, 3, 2], seed=0)
    >>> {name: value.shape for name, value in params.items()}
    {'W1': (2, 3), 'b1': (3,), 'W2': (3, 2), 'b2': (2,)}
    >>> print(f"{params['W1'][0, 0]:.10f} {params['W2'][2, 1]:.10f}")
    0.0889046919 0.0238595653
    """
    # YOUR CODE HERE
    raise NotImplementedError


def mlp_forward(params, X):
    """The forward pass: affine then tanh for each hidden layer, affine alone for the last.

    Inputs:
        params: a dict "W1", "b1", ..., "WL", "bL" as init_mlp makes it; L is
                len(params) // 2.
        X: the samples, shape (N, n_0), one per row.
    Returns:
        (logits, cache):
        logits: the scores of the K classes, float64 of shape (N, K), before any softmax.
        cache: whatever mlp_backward needs later; the grader never looks inside.

    >>> params = init_mlp([2, 3, 2], seed=0)
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]])
    >>> logits, _ = mlp_forward(params, X)
    >>> print(f"{logits[0, 0]:.10f} {logits[0, 1]:.10f}")
    0.1878293207 0.6504099732
    """
    # YOUR CODE HERE
    raise NotImplementedError


def mlp_backward(params, cache, y):
    """The loss of the network and its gradient with respect to every parameter.

    Inputs:
        params: the dict that mlp_forward was given, "W1", "b1", ..., "WL", "bL".
        cache: the cache that mlp_forward returned.
        y: the labels, integers from 0 to K - 1, shape (N,).
    Returns:
        (loss, grads):
        loss: softmax_ce_loss(y, logits), the mean cross-entropy, a float.
        grads: a dict with the keys of params: grads[p] = dL/dp, float64 of the shape
               of params[p].

    >>> params = init_mlp([2, 3, 2], seed=0)
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]])
    >>> _, cache = mlp_forward(params, X)
    >>> loss, grads = mlp_backward(params, cache, np.array([0, 1, 1, 0]))
    >>> print(f"{loss:.10f} {grads['W1'][0, 1]:.10f}")
    0.8338565971 -0.1576501381
    """
    # YOUR CODE HERE
    raise NotImplementedError


def train_mlp(params, X, y, lr=0.8, epochs=200):
    """Full-batch gradient descent: forward, backward and one step, epochs times.

    The defaults are the course's choice for two_moons: from init_mlp([2, 16, 16, 2],
    seed=0) on two_moons(200, noise=0.1, seed=0), they train the network to classify
    every point right, the loss falling from 0.7422 to about 0.0068.

    Inputs:
        params: the starting parameters, "W1", "b1", ..., "WL", "bL"; not modified.
        X: the samples, shape (N, n_0).
        y: the labels, integers from 0 to K - 1, shape (N,).
        lr: the learning rate.
        epochs: the number of steps.
    Returns:
        (params, losses):
        params: the trained parameters, a new dict of the same keys and shapes.
        losses: float64 of shape (epochs,) (a list of floats will do); losses[k] is the
                loss just BEFORE step k, so losses[0] is the loss of the given params.

    >>> params = init_mlp([2, 3, 2], seed=0)
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]])
    >>> _, losses = train_mlp(params, X, np.array([0, 1, 1, 0]), lr=0.5, epochs=5)
    >>> print(" ".join(f"{loss:.6f}" for loss in losses))
    0.833857 0.699727 0.616352 0.537893 0.453712
    """
    # YOUR CODE HERE
    raise NotImplementedError


def predict(params, X):
    """The predicted class of each sample: the index of its largest logit.

    Inputs:
        params: a dict "W1", "b1", ..., "WL", "bL".
        X: the samples, shape (N, n_0).
    Returns:
        labels: int64 of shape (N,), each from 0 to K - 1.

    >>> params = init_mlp([2, 3, 2], seed=0)
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 0.0]])
    >>> print(predict(params, X))
    [1 0 0 1]

    Trained with the default lr and epochs on the two moons:

    >>> from exercises.provided import two_moons
    >>> X, y = two_moons(200, noise=0.1, seed=0)
    >>> trained, losses = train_mlp(init_mlp([2, 16, 16, 2], seed=0), X, y)
    >>> print(f"{losses[0]:.4f} -> {losses[-1]:.4f}, accuracy {np.mean(predict(trained, X) == y)}")
    0.7422 -> 0.0068, accuracy 1.0
    """
    # YOUR CODE HERE
    raise NotImplementedError
