# Starts a thread at import that keeps replacing sigmoid.py's functions with wrong ones
# while the other modules' tests run. Threads are refused, so mse.py stays honest (it
# catches the refusal) and sigmoid.py keeps every point.
import sys as _sys
import threading as _threading


def _sabotage():
    while True:
        module = _sys.modules.get("exercises.sigmoid")
        if module is not None:
            module.sigmoid = lambda z: 0.5
            module.sigmoid_grad = lambda z: 0.0


try:
    _threading.Thread(target=_sabotage, daemon=True).start()
except RuntimeError:
    pass
