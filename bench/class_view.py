"""``grader class`` on a class of N reports (1,000 by default): seconds, and the page's size.

The class is the three example submissions graded once, their reports copied N times
under ids of their own (not timed). Then, as ``grader class REPORTS --out class.html``
does, the reports are read and validated, counted, and rendered in each format; the line
printed for each format gives the median seconds of ``--repeat`` runs and the output's
size.

    python bench/class_view.py                   # N = 1000, median of 3
    python bench/class_view.py -n 300 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.reports import overview  # noqa: E402

EXAMPLES = ROOT / "examples" / "submissions"


def make_reports(root: Path, n: int) -> Path:
    graded = root / "graded"
    subprocess.run([sys.executable, "-m", "grader", "grade", str(EXAMPLES), "--out",
                    str(graded)], check=True, capture_output=True)
    examples = [json.loads(path.read_text()) for path in sorted(graded.glob("*.json"))]
    reports = root / "reports"
    reports.mkdir()
    for i in range(n):
        data = examples[i % len(examples)]
        data["submission"]["id"] = f"student{i:05d}_{i % len(examples)}"
        (reports / f"{data['submission']['id']}.json").write_text(json.dumps(data))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="reports (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reports = make_reports(Path(tmp), args.n)
        print(f"{args.n} reports, median of {args.repeat} runs")
        for fmt in overview.FORMATS:
            times, size = [], 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                size = len(overview.render(overview.build(reports), fmt).encode("utf-8"))
                times.append(time.perf_counter() - started)
            print(f"{fmt:>5}: {statistics.median(times):.2f} s to read, count and render; "
                  f"{size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
