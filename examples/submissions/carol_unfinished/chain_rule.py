"""The chain rule through a computational graph.

The maths
---------
Backpropagation is the chain rule, applied to a graph one node at a time. Take

    J(x) = cos(sin(x^2) + 3 x^2)

and break it into the steps a computer would take. Each step is a node of the
graph, and an edge joins two nodes when the value of one is an input of the other:

    a = x^2          x -> a
    b = sin(a)       a -> b
    c = 3 x^2        x -> c
    d = b + c        b -> d, c -> d
    J = cos(d)       d -> J

The forward pass computes the nodes in that order. The backward pass visits them in
reverse and computes, for every node v, dJ/dv: how J changes when v changes. It
starts from dJ/dJ = 1, and each step needs only the derivative of one node with
respect to its own inputs (the local derivative), times the dJ/d(output) already
known:

    dJ/dd = -sin(d)                  J = cos(d)
    dJ/db = dJ/dd * 1                d = b + c: a sum passes its gradient on unchanged
    dJ/dc = dJ/dd * 1
    dJ/da = dJ/db * cos(a)           b = sin(a)
    dJ/dx = dJ/da * 2x + dJ/dc * 6x  a = x^2 and c = 3x^2

The last line is the rule for a fan-out. x reaches J along two paths, through a and
through c; nudging x moves both, and the two effects add up. Forgetting one path is
the classic mistake. The local derivatives use the values of the forward pass (a for
cos(a), d for sin(d)), which is why the backward pass always runs after a forward pass.

Shapes
------
x is a float or an array of any shape; every node is computed elementwise and has the
shape of x. Both functions return a dict from node name to value.

Worked example
--------------
At x = 0.5: a = 0.25, b = sin(0.25) = 0.2474039593, c = 0.75, d = 0.9974039593 and
J = cos(d) = 0.5424849757. Backwards: dJ/dd = -sin(d) = -0.8400655041, and
dJ/dx = -0.8400655041 * (cos(0.25) * 2 * 0.5 + 6 * 0.5) = -3.3341464141.
"""

import numpy as np


def graph_forward(x):
    """The forward pass: every node of J = cos(sin(x^2) + 3 x^2), in order.

    Inputs:
        x: a float, or an array of any shape (the graph is applied elementwise).
    Returns:
        nodes: a dict with keys "a", "b", "c", "d", "J", each of the shape of x:
               a = x^2, b = sin(a), c = 3 x^2, d = b + c, J = cos(d).

    >>> nodes = graph_forward(0.5)
    >>> print(f"{nodes['d']:.10f} {nodes['J']:.10f}")
    0.9974039593 0.5424849757
    """
    # YOUR CODE HERE
    raise NotImplementedError


def graph_backward(x):
    """The backward pass: dJ/dv for every node v, from the output back to x.

    Inputs:
        x: a float, or an array of any shape.
    Returns:
        grads: a dict with keys "d", "b", "c", "a", "x", each of the shape of x:
               grads[v] = dJ/dv, the derivative of J with respect to node v. For "x"
               both paths, through a and through c, are added.

    >>> grads = graph_backward(0.5)
    >>> print(f"dJ/dd = {grads['d']:.10f}, dJ/dx = {grads['x']:.10f}")
    dJ/dd = -0.8400655041, dJ/dx = -3.3341464141
    """
    # YOUR CODE HERE
    raise NotImplementedError
