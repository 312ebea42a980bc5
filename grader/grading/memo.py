"""The reference's answers, computed once per grading process and handed out as copies.

Autotests draw their inputs from generators seeded by the test's name, so every
submission in a batch asks the reference the same questions. Answering each once
saves the expensive ones (a whole training run) for every submission after the first.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

import numpy as np

from grader.sandbox.wire import WireError, encode

MAX_ENTRIES = 4096


def _key(args: tuple, kwargs: dict) -> str | None:
    try:
        tree, buffers = encode([list(args), kwargs], np)
    except WireError:
        return None  # not plain data (an opaque value): not memoized
    digest = hashlib.sha256(json.dumps(tree, sort_keys=True).encode())
    for buffer in buffers:
        digest.update(len(buffer).to_bytes(8, "little"))
        digest.update(buffer)
    return digest.hexdigest()


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    return value


def memoized(function: Callable) -> Callable:
    """``function`` with its results kept by the value of its arguments; returns copies."""
    cache: dict[str, object] = {}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = _key(args, kwargs)
        if key is None:
            return function(*args, **kwargs)
        if key not in cache:
            if len(cache) >= MAX_ENTRIES:
                cache.clear()
            cache[key] = function(*args, **kwargs)
        return _copy(cache[key])

    return wrapper
