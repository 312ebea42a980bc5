"""Grading on Dask against grading on this machine: throughput, and what Dask adds.

Makes a class of copies of the example submissions (correct, with mistakes, unfinished)
and grades it with the real CLI, as an instructor would, in four ways:

- ``grader grade --jobs 1`` and ``--jobs 2``;
- ``grader grade --scheduler tcp://...`` on a real cluster on this machine: a ``dask
  scheduler`` and 1, then 2, ``dask worker --nthreads 1`` processes on 127.0.0.1.

Each is timed at two class sizes, N and 2N, the median of ``--repeat`` runs each. The
difference between the two sizes is the cost of N more submissions, free of what a run
pays once (starting Python, connecting, asking the workers what they grade with). The
workers are started and warmed (one run, not timed) before timing: a worker's grading
process lives as long as the worker, so a long regrade pays its start once.

    python bench/cluster.py -n 60 --repeat 3

Needs Dask (``pip install '.[dask]'``, or '.[test]').
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dask_cluster import DaskProcesses, missing  # noqa: E402

EXAMPLES = ROOT / "examples" / "submissions"


def make_class(folder: Path, n: int) -> Path:
    examples = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    for i in range(n):
        source = examples[i % len(examples)]
        shutil.copytree(source, folder / f"student{i:05d}_{source.name}")
    return folder


def time_grade(folder: Path, out: Path, options: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out",
                           str(out), *options], check=False, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or len(list(out.glob("*.json"))) != len(list(folder.iterdir())):
        raise SystemExit(f"bench: {' '.join(options)} did not grade every submission: "
                         f"{done.stderr[-500:]}")
    return elapsed


def measure(classes: dict[int, Path], out: Path, options: list[str], repeat: int
            ) -> dict[int, float]:
    return {n: statistics.median(time_grade(folder, out, options) for _ in range(repeat))
            for n, folder in classes.items()}


def round_trip(submission: dict) -> str:
    """A task that grades nothing: what Dask alone costs a submission of this size."""
    return json.dumps({"id": submission["id"]})


def dask_alone(dask: DaskProcesses, folder: Path, count: int = 400) -> float:
    """Seconds per task of ``count`` tasks that carry a real submission and grade nothing,
    sent as the grader sends them (a few per worker thread in flight)."""
    from distributed import as_completed

    from grader.grading import served
    from grader.grading import submission as loader

    payload = served.plain(loader.load(next(folder.iterdir())))
    with dask.client() as client, client.as_current():
        threads = sum(client.nthreads().values())
        started = time.perf_counter()
        flying = as_completed([client.submit(round_trip, payload, pure=False)
                               for _ in range(4 * threads)])
        sent = 4 * threads
        for future in flying:
            future.result()
            if sent < count:
                flying.add(client.submit(round_trip, payload, pure=False))
                sent += 1
        return (time.perf_counter() - started) / count


def client_alone(folder: Path, reports: Path) -> float:
    """Seconds per submission of what the client does itself for each one, whatever the
    cluster's size: read it, then take its report as JSON text, validate and write it."""
    from grader.grading import runner
    from grader.reports import store

    texts = {path.stem: path.read_text() for path in reports.glob("*.json")}
    paths = sorted(folder.iterdir())
    out = folder.parent / "client-alone"
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    for path in paths:
        runner.read(path, {})
        store.write_data(store.validate(json.loads(texts[path.name])), out)
    return (time.perf_counter() - started) / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="the smaller class (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    args = parser.parse_args()
    if missing():
        raise SystemExit(f"bench: {missing()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        classes = {n: make_class(root / f"class{n}", n) for n in (args.n, 2 * args.n)}
        small, large = classes
        results: dict[str, dict[int, float]] = {}
        alone: dict[int, float] = {}  # seconds per task that grades nothing, by workers
        for jobs in (1, 2):
            results[f"--jobs {jobs}"] = measure(classes, root / "out", ["--jobs", str(jobs)],
                                                args.repeat)
        for workers in (1, 2):
            dask = DaskProcesses(root / f"dask{workers}")
            try:
                address = dask.start_scheduler()
                for _ in range(workers):
                    dask.start_worker(nthreads=1)
                dask.wait_for_workers(workers)
                time_grade(classes[small], root / "out", ["--scheduler", address])  # warm
                results[f"dask x{workers}"] = measure(classes, root / "out",
                                                      ["--scheduler", address], args.repeat)
                alone[workers] = statistics.median(dask_alone(dask, classes[small])
                                                   for _ in range(args.repeat))
            finally:
                dask.close()
        time_grade(classes[small], root / "out", ["--jobs", "2"])
        client = statistics.median(client_alone(classes[small], root / "out")
                                   for _ in range(args.repeat))
        print(f"classes of {small} and {large} submissions, median of {args.repeat} runs, "
              "CLI wall time")
        marginal = {}
        for name, times in results.items():
            marginal[name] = (times[large] - times[small]) / (large - small)
            fixed = times[small] - marginal[name] * small
            print(f"{name:>9}: {times[small]:6.2f} s for {small}, {times[large]:6.2f} s for "
                  f"{large}; {marginal[name] * 1000:5.1f} ms per submission "
                  f"({1 / marginal[name]:5.1f}/s), {fixed:4.2f} s per run")
        for parallel in (1, 2):
            local, dask_name = marginal[f"--jobs {parallel}"], marginal[f"dask x{parallel}"]
            print(f"{parallel} grading process(es): Dask adds {(dask_name - local) * 1000:+.1f} "
                  f"ms per submission ({dask_name / local:.2f}x the time of --jobs {parallel})")
        print(f"2 Dask workers over 1: {marginal['dask x1'] / marginal['dask x2']:.2f}x "
              "the throughput")
        print(f"the client's own work: {client * 1000:.1f} ms per submission (read it; "
              "validate and write its report)")
        for workers, seconds in alone.items():
            print(f"Dask alone, {workers} worker(s): {seconds * 1000:.1f} ms per task that "
                  "carries a submission and grades nothing")


if __name__ == "__main__":
    main()
