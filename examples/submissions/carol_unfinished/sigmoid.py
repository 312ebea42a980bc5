"""Alice's sigmoid: split on the sign so exp only ever sees a non-positive number."""
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out if out.ndim else float(out)


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)
