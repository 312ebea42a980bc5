"""What a worker's private folder and its configuration hold.

The folder: a copy of the submission, as the package ``exercises`` with the grader's own
``provided.py``, a home to run in, the worker's program and, in the basic isolation, links
to numpy. The configuration: what the worker's guard lets student code read, write and
load, and the kernel walls the worker builds around itself, as the worker sees those
paths; and the clean environment it starts in.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

import exercises
from grader.sandbox import program
from grader.sandbox.isolation import NOBODY, Isolation, native_dirs, site_package_dirs, stdlib_dirs
from grader.sandbox.limits import Limits

PROVIDED = Path(exercises.__file__).resolve().parent / "provided.py"
# Threads of BLAS libraries: one, so that limits and timings mean what they say.
CLEAN_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/nonexistent",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}


def forbidden_paths() -> list[Path]:
    """The folders of the reference, the autotests and the grader, wherever installed."""
    import autotests
    import grader

    folders = [Path(autotests.__file__).resolve().parent, Path(grader.__file__).resolve().parent]
    try:
        import solutions

        folders.append(Path(solutions.__file__).resolve().parent)
    except ImportError:
        pass
    return folders


def guard_config(inside_root: Path, lib: Path) -> dict:
    """What the worker's guard lets student code read, write and load, as the worker sees
    it: the standard library, numpy and the worker's own folder; writes in its home only."""
    return {
        "modules": ["solutions", "autotests", "grader"],
        "hidden": [str(p) for p in forbidden_paths()],
        "packages": [str(p) for p in site_package_dirs()],
        "numpy": [str(lib / location.name) for location in numpy_locations()],
        "native": [str(p) for p in native_dirs()],
        "read": [str(p) for p in stdlib_dirs()] + [str(inside_root)],
        "write": [str(inside_root / "home")],
    }


# Devices every program may use: reading nothing, writing nowhere, randomness.
DEVICES_READ = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]
DEVICES_WRITE = ["/dev/null"]


def walls_config(isolation: Isolation, limits: Limits, inside_root: Path, lib: Path) -> dict:
    """The kernel walls a worker builds around itself before student code runs: a private
    size-limited home, the uid to become, and what Landlock lets it read (the interpreter,
    numpy, its own folder) and write (its home), as the worker sees those paths."""
    guard = guard_config(inside_root, lib)
    return {
        "home": str(inside_root / "home"),
        "home_bytes": limits.disk_bytes if isolation.quota else 0,
        "uid": NOBODY if isolation.drops_uid else None,
        "landlock": isolation.landlock,
        "read": guard["read"] + guard["numpy"] + guard["native"] + DEVICES_READ,
        "write": guard["write"] + DEVICES_WRITE,
    }


def give_home_to_worker(root: Path, isolation: Isolation) -> None:
    """A worker that drops to an unprivileged uid must still own its home."""
    if isolation.drops_uid:
        os.chown(root / "home", NOBODY, NOBODY)


def numpy_locations() -> list[Path]:
    """numpy's package folder and, for wheels, the folder of its bundled libraries."""
    package = Path(np.__file__).resolve().parent
    return [p for p in (package, package.parent / "numpy.libs") if p.exists()]


def stage_submission(sources: dict[str, str], root: Path) -> None:
    """The submission's copy with the grader's own provided.py, and a home to run in."""
    package = root / "pkg" / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(PROVIDED, package / "provided.py")
    for module, source in sources.items():
        (package / f"{module}.py").write_text(source, encoding="utf-8")
    (root / "home").mkdir()


def stage(sources: dict[str, str], root: Path, isolation: Isolation) -> None:
    """Lay out a worker's private folder: the submission's copy, provided.py, the program."""
    stage_submission(sources, root)
    program.install(root)
    if isolation.mechanism == "basic":
        lib = root / "lib"
        lib.mkdir()
        for location in numpy_locations():
            (lib / location.name).symlink_to(location, target_is_directory=True)
