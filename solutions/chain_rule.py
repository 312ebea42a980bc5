"""The chain rule through a computational graph.

The forward pass
----------------
Backpropagation is the chain rule, applied to a graph one node at a time. Take

    J(x) = cos(sin(x^2) + 3 x^2)

and break it into the steps a computer would take. Each step is a node of the graph,
one operation and the value it produces; an edge joins two nodes when the value of one
is an input of the other:

    a = x^2          edge x -> a
    b = sin(a)       edge a -> b
    c = 3 x^2        edge x -> c
    d = b + c        edges b -> d and c -> d
    J = cos(d)       edge d -> J

The forward pass computes the nodes in that order.

What to derive
--------------
The backward pass visits the nodes in reverse and computes, for every node v, dJ/dv:
how J changes when v alone is nudged and everything downstream of v follows. It starts
from dJ/dJ = 1. At each node, the gradient of its input is the gradient already known
at its output times the node's local derivative, the derivative of its one operation
with respect to that input, evaluated at the values of the forward pass (which is why
a backward pass always runs after a forward pass).

Derive the five local derivatives (of cos, of a sum with respect to each term, of sin,
of x^2 and of 3 x^2), then chain them from J back to x. One node needs a thought of its
own: x is an input of two nodes, a and c, so a nudge of x reaches J along two paths.
Work out what that does to dJ/dx; forgetting a path is the classic mistake.

Shapes and conventions
----------------------
x is a scalar or an array of any shape; every node is computed elementwise and has the
shape of x (for an array x, each element is its own graph). Both functions return a
dict from node name to value. A scalar x may come as a Python float, an int, an
np.float64 or a 0-d array; each node's value is then one number, and a Python float,
an np.float64 (what np.sin of a float gives) or a 0-d array will do. The tests call
these functions with Python floats and float64 arrays.

Worked numbers
--------------
At x = 0.5 the forward pass gives a = 0.25, b = sin(0.25) = 0.2474039593, c = 0.75,
d = 0.9974039593 and J = cos(d) = 0.5424849757. The backward pass gives
dJ/dd = dJ/db = dJ/dc = -0.8400655041, dJ/da = -0.8139499019 and
dJ/dx = -3.3341464141.

Checking your gradient
----------------------
exercises/provided.py has a gradient checker. numerical_gradient(f, x, h=1e-5)
estimates the gradient of f at x by central differences: f takes an array of the
shape of x and returns one number, x is a float64 array (nudged in place and put
back), and the result has the shape of x. rel_error(a, b) is the largest elementwise
abs(a - b) / max(1e-8, abs(a) + abs(b)). About 1e-7 or less means that your gradient
and the estimate agree; 1e-3 or more means a mistake.

J acts elementwise, so the sum of J over an array x has dJ/dx as its gradient:

    from exercises.provided import numerical_gradient, rel_error
    x = np.array([-1.3, -0.4, 0.5, 0.9, 1.6])
    numeric = numerical_gradient(lambda v: np.sum(graph_forward(v)["J"]), x)
    print(rel_error(graph_backward(x)["x"], numeric))

This checks graph_backward against your own graph_forward, so get the forward pass
right first (the worked numbers above).
"""

import numpy as np


def graph_forward(x):
    """The forward pass: every node of J = cos(sin(x^2) + 3 x^2), in order.

    Inputs:
        x: a scalar, or an array of any shape (the graph is applied elementwise).
    Returns:
        nodes: a dict with keys "a", "b", "c", "d", "J", each of the shape of x:
               a = x^2, b = sin(a), c = 3 x^2, d = b + c, J = cos(d).

    >>> nodes = graph_forward(0.5)
    >>> print(f"{nodes['d']:.10f} {nodes['J']:.10f}")
    0.9974039593 0.5424849757
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    a = x ** 2
    b = np.sin(a)
    c = 3.0 * x ** 2
    d = b + c
    return {"a": a, "b": b, "c": c, "d": d, "J": np.cos(d)}
    ### END SOLUTION


def graph_backward(x):
    """The backward pass: dJ/dv for every node v, from the output back to x.

    Inputs:
        x: a scalar, or an array of any shape.
    Returns:
        grads: a dict with keys "d", "b", "c", "a", "x", each of the shape of x:
               grads[v] = dJ/dv, the derivative of J with respect to node v. For "x"
               it is the total derivative: how J changes when x moves and both a and
               c move with it.

    >>> grads = graph_backward(0.5)
    >>> print(f"dJ/dd = {grads['d']:.10f}, dJ/da = {grads['a']:.10f}")
    dJ/dd = -0.8400655041, dJ/da = -0.8139499019
    >>> print(f"dJ/dx = {grads['x']:.10f}")
    dJ/dx = -3.3341464141
    """
    ### BEGIN SOLUTION
    nodes = graph_forward(x)
    dd = -np.sin(nodes["d"])
    db = dd * 1.0
    dc = dd * 1.0
    da = db * np.cos(nodes["a"])
    x = np.asarray(x, dtype=np.float64)
    dx = da * 2.0 * x + dc * 6.0 * x  # x fans out to a and c: add both paths
    return {"d": dd, "b": db, "c": dc, "a": da, "x": dx}
    ### END SOLUTION
