# Leaves the interpreter at import, without cleanup: the worker dies importing training.py.
import os

os._exit(0)
