import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(z))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)
