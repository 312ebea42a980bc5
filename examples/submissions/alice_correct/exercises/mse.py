import numpy as np


def mse_loss(y_true, y_pred):
    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.sum(diff * diff) / diff.size)


def mse_grad(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return 2.0 * (y_pred - y_true) / y_pred.size
