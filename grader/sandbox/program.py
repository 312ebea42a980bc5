"""The worker's program as files: what the grader copies into each worker's folder.

A worker runs ``grader/sandbox/inside`` and ``grader/sandbox/wire.py`` (standard library
only), copied under ``<folder>/program/`` with empty package files, so that nothing else
of the grader is on its path or in its folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# grader/sandbox: where the files come from (a test may point it at a changed copy).
SOURCE = Path(__file__).resolve().parent
FILES = ("wire.py", "inside/__init__.py", "inside/main.py", "inside/serve.py",
         "inside/contain.py", "inside/walls.py", "inside/guard.py", "inside/zygote.py")
FOLDER = "program"
# The program's entry point, relative to the folder it was copied into.
ENTRY = Path(FOLDER, "grader", "sandbox", "inside", "main.py")


def install(folder: Path) -> Path:
    """Copy the worker's program into ``folder/program``; returns the path of its entry point."""
    target = Path(folder) / FOLDER / "grader" / "sandbox"
    (target / "inside").mkdir(parents=True)
    for package in (target.parent, target):
        (package / "__init__.py").write_text("", encoding="utf-8")
    for name in FILES:
        shutil.copyfile(SOURCE / name, target / name)
    return Path(folder) / ENTRY


def entry_in_place() -> Path:
    """The entry point where the grader is installed (for the probes, which run no student
    code): it puts the folder that holds ``grader/`` on its path."""
    return SOURCE / "inside" / "main.py"
