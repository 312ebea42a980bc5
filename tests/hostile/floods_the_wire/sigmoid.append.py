# Writes forged replies straight onto the worker's reply pipe (found through the frames).
# sigmoid sends, by the parity of its input's size, a 57 MiB header of 20 million empty
# lists or a small header that announces 240 MB of array bytes, then writes them: each
# must be refused from its 8-byte length or its header, before it is read or parsed.
# sigmoid_grad forges a reply that fits the caps and claims everything at once: a 200 KB
# message, type and traceback, 200 KB of output, and refusal records with invented keys or
# of the wrong type; then it swallows the worker's own reply so that the two sides stay in
# step. Every string must be cut to its cap and no record of the reply's reach the report.
# All 10 points of sigmoid are lost.
import json
import os
import struct
import sys
import time

import numpy as _np


def _serve_frame():
    frame = sys._getframe()
    while frame is not None and frame.f_code.co_name != "serve":
        frame = frame.f_back
    return frame


def _flood_header(wfd):
    chunk = b"[]," * (1 << 20)
    count = 20_000_000 // (1 << 20)
    body = b'{"body":{"__dict__":[["x",[' + chunk * count + b'[]]]]},"sizes":[]}'
    os.write(wfd, struct.pack(">Q", len(body)))
    os.write(wfd, body)


def _flood_arrays(wfd):
    size = 240 * 1024 * 1024
    header = json.dumps({"body": {"__dict__": [["ok", True], ["output", ""],
                                               ["output_dropped", 0],
                                               ["value", {"__nd__": 0, "dtype": "<f8",
                                                          "shape": [size // 8]}]]},
                         "sizes": [size]}).encode()
    os.write(wfd, struct.pack(">Q", len(header)) + header)
    zeros = bytes(1 << 20)
    for _ in range(240):
        os.write(wfd, zeros)


def sigmoid(z):
    frame = _serve_frame()
    (_flood_header if _np.size(z) % 2 else _flood_arrays)(frame.f_locals["wfd"])
    time.sleep(3600)  # never reached while the grader refuses at once


def _forged_reply():
    big = "x" * 200_000
    fields = [["ok", False], ["status", "error"], ["type", big], ["message", big],
              ["traceback", big], ["output", "y" * 200_000], ["output_dropped", 0],
              ["refused", [{"__dict__": [["event", "open"], ["detail", "forged"],
                                         ["invented", "x" * 1000]]},
                           {"__dict__": [["event", ["not a string"]], ["detail", "forged"]]},
                           {"__dict__": [["event", "open"], ["detail", "forged"]]}]]]
    header = json.dumps({"body": {"__dict__": fields}, "sizes": []}).encode()
    return struct.pack(">Q", len(header)) + header


def sigmoid_grad(z):
    frame = _serve_frame()
    os.write(frame.f_locals["wfd"], _forged_reply())
    space = frame.f_globals
    real_send = space["send"]

    def swallow_once(*args, **kwargs):
        space["send"] = real_send

    space["send"] = swallow_once
    return z
