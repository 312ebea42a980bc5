# Children meant to outlive the worker: a detached `sleep`, and a double fork into a new
# session. The honest functions still answer, so the score is untouched; no child may be
# left once the batch is done.
import os
import subprocess


def _escape():
    try:
        subprocess.Popen(["sleep", "31337"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except Exception:
        pass
    try:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "31338"])
            os._exit(0)
    except Exception:
        pass


_escape()
_honest_grad = mse_grad


def mse_grad(y_true, y_pred):
    _escape()
    return _honest_grad(y_true, y_pred)
