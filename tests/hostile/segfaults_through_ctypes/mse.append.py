# Reads address 0 through ctypes, imported directly and reached through numpy.
import numpy as np


def mse_loss(y_true, y_pred):
    import ctypes

    return ctypes.string_at(0, 8)


def mse_grad(y_true, y_pred):
    ctypes = np.ctypeslib.ctypes
    return ctypes.string_at(0, 8)
