# Correct answers, computed first; then both inputs are zeroed in place.
_honest_loss, _honest_grad = mse_loss, mse_grad


def mse_loss(y_true, y_pred):
    result = _honest_loss(y_true, y_pred)
    y_true[...] = 0
    y_pred[...] = 0
    return result


def mse_grad(y_true, y_pred):
    result = _honest_grad(y_true, y_pred)
    y_true[...] = 0
    y_pred[...] = 0
    return result
