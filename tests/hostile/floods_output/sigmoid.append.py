# 200 MB printed through sys.stdout and sys.stderr, 200 MB written to fd 1, and 8 MB to
# fd 2 on every call. sigmoid still answers correctly; sigmoid_grad gives up.
import os
import sys

_CHUNK = "x" * (1 << 20)
_BLOCK = b"y" * (1 << 20)


def _flood():
    for _ in range(100):
        print(_CHUNK)
        sys.stderr.write(_CHUNK)
    for _ in range(200):
        os.write(1, _BLOCK)


_honest = sigmoid


def sigmoid(z):
    _flood()
    return _honest(z)


def sigmoid_grad(z):
    _flood()
    for _ in range(8):
        os.write(2, _BLOCK)
    raise ValueError("gave up after 400 MB of output")
