"""The limits a worker runs under, each with its default."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MiB = 1024 * 1024


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
