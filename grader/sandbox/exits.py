"""How a worker stopped, in words: its exit code or signal, as a report says it."""

from __future__ import annotations

import signal

from grader.sandbox.limits import Limits


def describe_exit(code: int | None, limits: Limits, doing: str) -> tuple[str, str]:
    """``(status, message)`` for a worker that stopped with exit code ``code``."""
    if code == -signal.SIGXCPU:
        return "timeout", f"{doing} used more than {limits.cpu_seconds:g} s of CPU time"
    if code == -signal.SIGXFSZ:
        return "crashed", f"{doing} wrote a file larger than {limits.file_bytes} bytes"
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
        return "crashed", f"the worker was killed by signal {name} while {doing} ran"
    if code is None:
        return "crashed", f"the worker stopped answering while {doing} ran"
    return "crashed", f"the worker exited with code {code} while {doing} ran (os._exit?)"
