"""How long ``grader grade`` takes per submission, with one job and with two.

Makes N copies of the bundled example submissions (correct, with mistakes, unfinished)
in a temporary folder, grades them with the real CLI, and prints the wall time per
submission for ``--jobs 1`` and ``--jobs 2``, the median of ``--repeat`` runs each.

    python bench/grade_bench.py -n 60 --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"


def make_class(root: Path, n: int) -> Path:
    examples = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    folder = root / "class"
    for i in range(n):
        source = examples[i % len(examples)]
        shutil.copytree(source, folder / f"student{i:04d}_{source.name}")
    return folder


def time_grade(folder: Path, out: Path, jobs: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out),
                    "--jobs", str(jobs)], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if len(list(out.glob("*.json"))) != len(list(folder.iterdir())):
        raise SystemExit(f"bench: --jobs {jobs} did not write every report")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="submissions (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = make_class(root, args.n)
        print(f"{args.n} submissions, median of {args.repeat} runs, CLI wall time")
        results = {}
        for jobs in (1, 2):
            runs = [time_grade(folder, root / "out", jobs) for _ in range(args.repeat)]
            results[jobs] = statistics.median(runs)
            print(f"--jobs {jobs}: {results[jobs]:.2f} s total, "
                  f"{results[jobs] / args.n * 1000:.0f} ms per submission")
        print(f"speed-up of --jobs 2 over --jobs 1: {results[1] / results[2]:.2f}x")


if __name__ == "__main__":
    main()
