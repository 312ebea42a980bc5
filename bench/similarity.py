"""``grader.course.similarity.compare`` on a class of N (1,000 by default): seconds and pairs.

The class is written to a temporary folder first (not timed), a mix of:

- disguised copies (every local name renamed, layout, comments and docstrings changed,
  functions reordered, one moved to another module) of Alice's example, of the
  reference solutions, of the third correct solution of tests/test_similarity.py, and
  of Carol's unfinished example: four groups, each more than 10 % of the class, so
  that their code is the course's common code and ignored, as MOSS's ``-m`` ignores it;
- the stubs as handed out (nothing filled in);
- individual work: the stubs with each ``raise NotImplementedError`` replaced by a body
  drawn at random (numpy calls, loops, numbers), each student's own;
- planted copies: ``--planted`` of the individual submissions are copied, disguised,
  by another student.

``compare`` runs ``--repeat`` times; the line printed gives the median seconds, the
pairs that share something, the pairs flagged, and whether every planted copy is
flagged (exit 1 if one is not).

    python bench/similarity.py                    # N = 1000, median of 3
    python bench/similarity.py -n 200 --repeat 5
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course import similarity  # noqa: E402
from tests.test_similarity import ALICE, EXAMPLES, REFERENCE, STUB, THIRD, disguise, read  # noqa: E402

CAROL = read(EXAMPLES / "carol_unfinished")
# Share of the class for each group; the rest is individual work (and its copies).
GROUPS = {"alice": (ALICE, 0.15), "reference": (REFERENCE, 0.15), "third": (THIRD, 0.12),
          "carol": (CAROL, 0.12), "stubs": (STUB, 0.08)}
TODO = "    # YOUR CODE HERE\n    raise NotImplementedError\n"
CALLS = ("exp", "log1p", "tanh", "sum", "mean", "maximum", "abs", "sqrt", "outer", "dot",
         "clip", "where", "square", "cumsum")


def expression(rng: random.Random, names: list[str]) -> str:
    """A random numpy expression over ``names``: its structure and numbers are its own."""
    a, b = rng.choice(names), rng.choice(names)
    number = round(rng.uniform(0.1, 9.9), rng.randint(1, 3))
    forms = (f"np.{rng.choice(CALLS)}({a}) * {number}",
             f"({a} {rng.choice('+-*')} {number}) / (1.0 + np.{rng.choice(CALLS)}({b}))",
             f"np.{rng.choice(CALLS)}({a} {rng.choice('+-*')} {b}, axis={rng.randint(0, 1)})",
             f"{a}[{rng.randint(0, 3)}:] {rng.choice('+-*')} {b}.T ** {rng.randint(2, 4)}",
             f"np.{rng.choice(CALLS)}({a}, {number}) - {b}.{rng.choice(('sum', 'mean'))}()")
    return rng.choice(forms)


def body(rng: random.Random, params: list[str]) -> str:
    """Two to six statements, a loop among them now and then, ending in a return."""
    names = list(params) or ["x"]
    lines = []
    for _ in range(rng.randint(2, 6)):
        target = f"v{len(names)}"
        if rng.random() < 0.25:
            lines += [f"    {target} = np.zeros_like({rng.choice(names)})",
                      f"    for i in range({rng.choice(names)}.shape[0]):",
                      f"        {target}[i] += {expression(rng, names + ['i'])}"]
        else:
            lines.append(f"    {target} = {expression(rng, names)}")
        names.append(target)
    lines.append(f"    return {names[-1]}, {rng.choice(names)}")
    return "\n".join(lines) + "\n"


def individual(rng: random.Random) -> dict[str, str]:
    """The stubs, every function filled in with a body of its own."""
    out = {}
    for module, stub in STUB.items():
        pieces = stub.split(TODO)
        filled = pieces[0]
        for piece in pieces[1:]:
            signature = filled[filled.rindex("\ndef "):].split("(", 1)[1].split(")")[0]
            params = [p.split("=")[0].strip() for p in signature.split(",") if p.strip()]
            filled += body(rng, params) + piece
        out[module] = filled
    return out


def make_class(folder: Path, n: int, planted: int, seed: int) -> list[tuple[str, str]]:
    """Write the class; returns the planted pairs (a, b) with a < b."""
    rng = random.Random(seed)
    index = 0

    def write(modules: dict[str, str], kind: str) -> str:
        nonlocal index
        sub_id = f"s{index:04d}_{kind}"
        index += 1
        (folder / sub_id).mkdir()
        for module, source in modules.items():
            (folder / sub_id / f"{module}.py").write_text(source, encoding="utf-8")
        return sub_id

    for kind, (modules, share) in GROUPS.items():
        for _ in range(round(share * n)):
            write(modules if kind == "stubs" else disguise(modules, rng.randrange(10**9)), kind)
    pairs = []
    for _ in range(planted):
        original = individual(rng)
        pairs.append((write(original, "own"), write(disguise(original, rng.randrange(10**9)),
                                                     "copy")))
    while index < n:
        write(individual(rng), "own")
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="submissions in the class")
    parser.add_argument("--repeat", type=int, default=3, help="runs of compare; the median")
    parser.add_argument("--planted", type=int, default=10, help="copied pairs planted")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.repeat = max(1, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        started = time.perf_counter()
        planted = make_class(folder, args.n, args.planted, args.seed)
        print(f"made a class of {args.n} in {time.perf_counter() - started:.1f} s "
              f"({args.planted} planted copies)")
        seconds = []
        for _ in range(args.repeat):
            result = None  # the last run's pairs are not held while the next one runs
            started = time.perf_counter()
            result = similarity.compare([folder])
            seconds.append(time.perf_counter() - started)
    flagged = {(p.a, p.b) for p in result.pairs if p.flagged}
    missed = [pair for pair in planted if pair not in flagged]
    others = len(flagged - set(planted))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"compare: {statistics.median(seconds):.2f} s (median of {args.repeat}; "
          f"{', '.join(f'{s:.2f}' for s in seconds)}), peak RSS {peak:.0f} MB")
    print(f"{len(result.compared)} compared, {len(result.skipped)} skipped, "
          f"{len(result.pairs)} pairs share something, {len(flagged)} flagged: "
          f"{len(planted) - len(missed)} of {len(planted)} planted copies, {others} others")
    for a, b in missed:
        print(f"MISSED planted copy {a} / {b}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
