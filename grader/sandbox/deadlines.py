"""Waiting on a worker's non-blocking descriptors, and writing to them, by a call's deadline."""

from __future__ import annotations

import os
import select
import time


def wait_for(fd: int, events: int, deadline: float) -> None:
    """Return once ``fd`` is ready for ``events`` (or hung up); TimeoutError at ``deadline``."""
    poller = select.poll()
    poller.register(fd, events)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if poller.poll(left * 1000):
            return


def write_before(fd: int, data: bytes, deadline: float) -> None:
    """All of ``data`` onto the non-blocking ``fd`` by ``deadline``, or TimeoutError.

    A worker that stops reading its request pipe (and shrinks it to one page) cannot make
    the grader wait for room past the call's deadline.
    """
    view = memoryview(data)
    while view:
        wait_for(fd, select.POLLOUT, deadline)
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue
