"""The limits a worker runs under, each with its default."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MiB = 1024 * 1024

# The address space a grading process (one job of ``grader grade``) may add to what it
# holds when it starts grading: the interpreter, numpy, pytest and BLAS's threads, 160 MiB
# on a 2-core machine and more with more cores (hence a bound on growth, not a total).
# Measured: over the hostile corpus and the example submissions with --jobs 2, a grading
# process peaked at 323 MiB of address space and 65 MiB resident; under the wire's caps a
# reply costs it at most about 100 MiB (a 1 MiB header parsed, 16 MiB of arrays read and
# copied). 4 GiB is ten times what it needs, and stops a runaway before the machine does.
GRADING_MEMORY_BYTES = 4096 * MiB


def bound_grading_memory() -> int:
    """Cap this process's address space (the soft RLIMIT_AS) at what it holds now plus
    GRADING_MEMORY_BYTES, and return the cap. Only the soft limit: a worker this process
    starts sets its own, and may be configured above it."""
    import os
    import resource

    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            held = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        held = 0
    cap = held + GRADING_MEMORY_BYTES
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 5.0          # per call, measured by the grader
    cpu_seconds: float = 5.0           # per call, enforced by the kernel (RLIMIT_CPU)
    cpu_total_seconds: int = 120       # the whole life of one worker
    memory_bytes: int = 1024 * MiB     # address space (RLIMIT_AS)
    file_bytes: int = 16 * MiB         # largest file the worker may write (RLIMIT_FSIZE)
    open_files: int = 64               # RLIMIT_NOFILE
    processes: int = 32                # RLIMIT_NPROC, bounds a fork bomb
    output_chars: int = 64 * 1024      # captured stdout+stderr per call; the rest is cut
    disk_bytes: int = 64 * MiB         # the worker's home: a private tmpfs (0: no quota)
    start_seconds: float = 20.0        # time to start the interpreter and import numpy

    def to_worker(self) -> dict:
        """The limits the worker sets on itself before any student code runs."""
        return {
            "cpu_seconds": self.cpu_seconds,
            "cpu_total_seconds": self.cpu_total_seconds,
            "memory_bytes": self.memory_bytes,
            "file_bytes": self.file_bytes,
            "open_files": self.open_files,
            "processes": self.processes,
            "output_chars": self.output_chars,
        }

    def to_report(self) -> dict:
        return asdict(self)
