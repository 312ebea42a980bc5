"""Student stubs made from the reference solutions, the way nbgrader clears solutions.

Every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by
``raise NotImplementedError`` at the region's indentation; everything else (the
docstrings, the signatures, any given code) stays as it is.
"""

from __future__ import annotations

from pathlib import Path

from grader import contract
from grader.errors import MalformedSolution

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_BODY = ("# YOUR CODE HERE", "raise NotImplementedError")


def clear_solutions(source: str, path: Path = Path("<source>")) -> str:
    """The stub version of ``source``: each solution region cut and replaced."""
    out: list[str] = []
    inside_since = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside_since:
                raise MalformedSolution(path, number, f"{BEGIN} inside another region")
            inside_since = number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{text}\n" for text in STUB_BODY)
        elif marker == END:
            if not inside_since:
                raise MalformedSolution(path, number, f"{END} without {BEGIN}")
            inside_since = 0
        elif not inside_since:
            out.append(line)
    if inside_since:
        raise MalformedSolution(path, inside_since, f"{BEGIN} is never closed")
    return "".join(out)


def generate(solutions_dir: Path) -> dict[str, str]:
    """``{file name: stub source}`` for every exercise module in ``solutions_dir``."""
    stubs = {}
    for name in contract.exercise_names():
        path = solutions_dir / f"{name}.py"
        stubs[path.name] = clear_solutions(path.read_text(encoding="utf-8"), path)
    return stubs


def out_of_date(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """The stub files in ``exercises_dir`` that differ from what ``generate`` makes."""
    stale = []
    for file_name, text in generate(solutions_dir).items():
        target = exercises_dir / file_name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(target)
    return stale


def write(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Regenerate the stubs; returns the files that changed."""
    changed = out_of_date(solutions_dir, exercises_dir)
    stubs = generate(solutions_dir)
    for target in changed:
        target.write_text(stubs[target.name], encoding="utf-8")
    return changed
