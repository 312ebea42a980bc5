# An infinite loop in mse_loss: the tests that call it time out, nothing else is lost.


def mse_loss(y_true, y_pred):
    while True:
        pass
