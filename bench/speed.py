"""Class-scale speed: ``grader grade --jobs 2`` against ``nbgrader autograde``, same notebooks.

In one temporary course folder, one run, one machine:

1. ``grader nbgrader`` writes the source notebooks and ``nbgrader generate_assignment``
   releases them;
2. N students' submissions are made from the release (a mix, in turn: correct but
   written differently, four classic mistakes, unfinished), each student's module
   pasted into the solution cell of the released notebook, six notebooks a student;
3. ``nbgrader autograde`` grades them (at most --nbgrader-max students: its cost per
   submission is what is compared) and ``grader grade --jobs 2`` grades all N, with
   the strongest isolation the machine has (bubblewrap where it is available);
4. each line says total wall time, seconds per submission, and the peak resident
   memory of the tool's largest process; the last line is the ratio of seconds per
   submission.

    python bench/speed.py                 # N = 50
    python bench/speed.py -n 1000 --nbgrader-max 0      # the grader alone at N = 1000
    python bench/speed.py --check         # grader check on the whole course, median of 9
    python bench/speed.py --assignment networks --nbgrader-max 0   # the second assignment

Each line also gives the seconds per submission per exercise, the figure to compare
between assignments of different sizes (and before and after a course grows).

Needs nbgrader (``pip install '.[test]'``) for the comparison.
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
EXAMPLES = ROOT / "examples" / "submissions"
KINDS = ("alice_correct", "bob_mistakes", "carol_unfinished")
ASSIGNMENT = "backprop"
# The examples are the first assignment's. For another, the three kinds are made from the
# reference (correct), these mistakes in it (one per module where listed), and the stubs.
MISTAKES = {
    "softmax": ("return grad / n", "return grad"),
    "activations": ("np.where(x > 0, dout, 0.0)", "np.where(x >= 0, dout, 0.0)"),
    "mlp": ("db = dout.sum(axis=0)", "db = dout"),
}

# Runs a command and prints its wall time and the peak RSS of its largest process (kB).
MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def measure(command: list[str], cwd: Path) -> tuple[float, int, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed:\n{done.stderr[-2000:]}")


def module_sources(kind: str, assignment: str = ASSIGNMENT) -> dict[str, str]:
    if assignment == ASSIGNMENT:
        folder = EXAMPLES / kind
        files = list(folder.glob("*.py")) + list(folder.glob("exercises/*.py"))
        return {p.stem: p.read_text(encoding="utf-8") for p in files}
    from grader import contract

    names = contract.exercise_names(assignment)
    folder = ROOT / ("exercises" if kind == "carol_unfinished" else "solutions")
    sources = {name: (folder / f"{name}.py").read_text(encoding="utf-8") for name in names}
    if kind == "bob_mistakes":
        for name, (right, wrong) in MISTAKES.items():
            if name in sources:
                sources[name] = sources[name].replace(right, wrong)
    return sources


def filled(notebook: dict, source: str) -> dict:
    """The released notebook with its solution cell replaced by a student's module."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            cell["source"] = source
            break
    else:
        raise SystemExit("bench: a released notebook has no solution cell")
    return notebook


def make_course(root: Path, students: int, assignment: str) -> Path:
    course = root / "course"
    course.mkdir()
    run([sys.executable, "-m", "grader", "nbgrader", str(course), "--assignment", assignment], ROOT)
    run(["nbgrader", "generate_assignment", assignment, "--force"], course)
    release = course / "release" / assignment
    notebooks = {p.stem: json.loads(p.read_text()) for p in release.glob("*.ipynb")}
    sources = {kind: module_sources(kind, assignment) for kind in KINDS}
    for i in range(students):
        kind = KINDS[i % len(KINDS)]
        target = course / "submitted" / f"student{i:04d}" / assignment
        target.mkdir(parents=True)
        for name, notebook in notebooks.items():
            (target / f"{name}.ipynb").write_text(json.dumps(filled(notebook, sources[kind][name])))
    return course


def subset(course: Path, students: int, root: Path) -> Path:
    """A copy of the course with only the first ``students`` submissions."""
    copy = root / "course-nbgrader"
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns("submitted"))
    for folder in sorted((course / "submitted").iterdir())[:students]:
        shutil.copytree(folder, copy / "submitted" / folder.name)
    return copy


def line(tool: str, n: int, seconds: float, rss_kb: int, exercises: int) -> str:
    return (f"{tool:<28} N={n:<5} {seconds:8.1f} s total  {seconds / n:7.3f} s/submission  "
            f"{seconds / n / exercises:7.4f} s/submission/exercise  peak {rss_kb / 1024:6.0f} MiB")


def compare(n: int, nbgrader_max: int, jobs: int, assignment: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = make_course(root, n, assignment)
        count = len(list((course / "release" / assignment).glob("*.ipynb")))
        print(f"{n} submissions of {count} notebooks each ({assignment}), {jobs} jobs; machine: "
              f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores")
        seconds, rss, code = measure([sys.executable, "-m", "grader", "grade",
                                      str(course / "submitted"), "--out", str(root / "reports"),
                                      "--jobs", str(jobs), "--assignment", assignment], ROOT)
        if code != 0 or len(list((root / "reports").glob("*.json"))) != n:
            raise SystemExit("bench: grader grade did not write every report")
        grader_per = seconds / n
        print(line(f"grader grade --jobs {jobs}", n, seconds, rss, count))
        if nbgrader_max <= 0:
            return
        m = min(n, nbgrader_max)
        nb_course = subset(course, m, root) if m < n else course
        seconds, rss, code = measure(["nbgrader", "autograde", assignment, "--force"], nb_course)
        if code != 0:
            raise SystemExit("bench: nbgrader autograde failed")
        print(line("nbgrader autograde", m, seconds, rss, count))
        print("ratio (nbgrader s/submission / grader s/submission): "
              f"{seconds / m / grader_per:.1f}")


def check_mode(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "exercises"
        folder.mkdir()
        from grader import contract

        for assignment in contract.assignments():
            for name, source in module_sources("alice_correct", assignment).items():
                (folder / f"{name}.py").write_text(source)
        count = len(list(folder.glob("*.py")))
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            # The console script, as a student runs it: `python -m` would put the folder
            # on sys.path, where exercises/ would stand in for the installed package.
            subprocess.run([str(Path(sys.executable).parent / "grader"), "check",
                            "--path", str(folder)], cwd=tmp, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"grader check, whole course ({count} exercises): median {median:.2f} s "
              f"of {repeat} runs (min {min(times):.2f}, max {max(times):.2f}); "
              f"{median / count:.3f} s per exercise")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="submissions (default 50)")
    parser.add_argument("--jobs", type=int, default=2, help="grader jobs (default 2)")
    parser.add_argument("--nbgrader-max", type=int, default=50,
                        help="nbgrader grades at most this many (default 50; 0: skip it)")
    parser.add_argument("--check", action="store_true", help="time grader check instead")
    parser.add_argument("--repeat", type=int, default=9, help="runs of grader check")
    parser.add_argument("--assignment", default=ASSIGNMENT,
                        help=f"the assignment graded (default {ASSIGNMENT})")
    args = parser.parse_args()
    if args.check:
        check_mode(args.repeat)
    else:
        compare(args.n, args.nbgrader_max, args.jobs, args.assignment)


if __name__ == "__main__":
    main()
