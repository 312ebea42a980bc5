"""A real Dask cluster on this machine, for the tests and the benchmark: a ``dask
scheduler`` and ``dask worker`` processes on 127.0.0.1, started as an operator would."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

START_SECONDS = 120.0  # a loaded 2-core CI machine starts a worker in seconds; be patient


def missing() -> str | None:
    """Why no cluster can be started here, or None."""
    try:
        import distributed  # noqa: F401
    except ImportError as error:
        return f"Dask is not installed ({error}); pip install '.[test]' installs it"
    return None


class DaskProcesses:
    """A scheduler and workers, each in a session of its own so that closing kills them all
    (a nanny restarts its worker: the whole group goes)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file = folder / "scheduler.json"
        self.processes: list[subprocess.Popen] = []
        self.address = ""

    def _start(self, name: str, args: list[str], env: dict | None) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (the process owns it)
        process = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env=env, cwd=self.folder)
        log.close()
        self.processes.append(process)
        return process

    def start_scheduler(self) -> str:
        self._start("scheduler", ["scheduler", "--scheduler-file", str(self.file), "--host",
                                  "127.0.0.1", "--port", "0", "--no-dashboard"], None)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                self.address = json.loads(self.file.read_text())["address"]
                return self.address
            time.sleep(0.1)
        raise RuntimeError(f"the scheduler did not start: {self.log('scheduler')}")

    def start_worker(self, nthreads: int = 1, nanny: bool = True,
                     env: dict | None = None) -> subprocess.Popen:
        count = len(self.processes)
        return self._start(f"worker{count}", [
            "worker", "--scheduler-file", str(self.file), "--nthreads", str(nthreads),
            "--host", "127.0.0.1", "--no-dashboard", "--nanny" if nanny else "--no-nanny",
            "--memory-limit", "0"], env)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=START_SECONDS, set_as_default=False)

    def wait_for_workers(self, count: int) -> dict[str, int]:
        """Wait until ``count`` workers are up; their pids by address."""
        with self.client() as client:
            client.wait_for_workers(count, timeout=START_SECONDS)
            return client.run(os.getpid)

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
