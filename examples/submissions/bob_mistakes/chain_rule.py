import numpy as np


def graph_forward(x):
    a = x ** 2
    b = np.sin(a)
    c = 3 * x ** 2
    d = b + c
    return {"a": a, "b": b, "c": c, "d": d, "J": np.cos(d)}


def graph_backward(x):
    n = graph_forward(x)
    dd = -np.sin(n["d"])
    db = dd
    dc = dd
    da = db * np.cos(n["a"])
    dx = da * 2 * x
    return {"d": dd, "b": db, "c": dc, "a": da, "x": dx}
