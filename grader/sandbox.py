"""How a worker is walled in: bubblewrap where the machine has it, rlimits alone otherwise.

``bubblewrap``: the worker gets its own user, PID, network, IPC and UTS namespaces, dies
with its parent, runs in a new session, and sees only read-only binds of the system
libraries, the interpreter with its standard library (every site-packages folder masked
by an empty tmpfs) and numpy, a tmpfs ``/tmp``, and its own folder, the one writable
place. No home, no project tree, no reference solutions.

``basic``: the same interpreter flags, clean environment and rlimits, and an empty
path, but the filesystem and network of the user running the grader.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

INSIDE_ROOT = Path("/sandbox")
INSIDE_LIB = Path("/opt/backprop-lab/lib")
NOBODY = 65534


class IsolationUnavailable(GraderError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"bubblewrap isolation is not available here: {reason}")


@dataclass(frozen=True)
class Layout:
    """Where the worker finds things, as seen from inside it."""

    root: Path
    pkg: Path
    lib: Path
    home: Path
    worker_main: Path
    config: Path


@dataclass(frozen=True)
class Isolation:
    mechanism: str  # "bubblewrap" or "basic"

    def layout(self, root: Path) -> Layout:
        inside = INSIDE_ROOT if self.mechanism == "bubblewrap" else root
        lib = INSIDE_LIB if self.mechanism == "bubblewrap" else root / "lib"
        return Layout(root=inside, pkg=inside / "pkg", lib=lib, home=inside / "home",
                      worker_main=inside / "worker_main.py", config=inside / "config.json")

    def argv(self, root: Path, numpy_dirs: list[Path]) -> list[str]:
        inside = self.layout(root)
        python = [interpreter(), "-I", "-S", str(inside.worker_main), str(inside.config)]
        if self.mechanism == "basic":
            return python
        return [*bwrap_prefix(root, numpy_dirs), *python]

    def describe(self) -> dict:
        if self.mechanism == "bubblewrap":
            return {"mechanism": "bubblewrap", "namespaces": ["user", "pid", "net", "ipc", "uts"],
                    "filesystem": "read-only system libraries, interpreter and numpy; "
                                  "the submission's copy is the only writable place",
                    "network": "none"}
        return {"mechanism": "basic", "namespaces": [],
                "filesystem": "the grader's user can read, the worker can too",
                "network": "the grader's"}


def interpreter() -> str:
    """The real interpreter behind this one (a venv's python is a link to it)."""
    return os.path.realpath(sys.executable)


def _system_dirs() -> list[list[str]]:
    args = [["--ro-bind", "/usr", "/usr"]]
    for name in ("lib", "lib64", "lib32", "bin", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args.append(["--symlink", os.readlink(path), str(path)])
        elif path.is_dir():
            args.append(["--ro-bind", str(path), str(path)])
    return args


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _python_binds() -> tuple[list[Path], list[Path]]:
    """(folders to bind read-only, folders inside them to mask) for the interpreter."""
    exe = Path(interpreter())
    stdlib = Path(sysconfig.get_path("stdlib")).resolve()
    libdir = Path(sysconfig.get_config_var("LIBDIR") or stdlib.parent).resolve()
    binds = [p for p in {exe.parent, stdlib, libdir} if not _under(p, [Path("/usr")])]
    roots = binds + [Path("/usr")]
    candidates = set(site.getsitepackages()) | {site.getusersitepackages()}
    for base in {sys.prefix, sys.base_prefix, "/usr", "/usr/local"}:
        paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
        candidates |= {paths["purelib"], paths["platlib"]}
    candidates |= {p for p in sys.path if p and "-packages" in p}
    masks = sorted({Path(c).resolve() for c in candidates if Path(c).is_dir()
                    and _under(Path(c).resolve(), roots)})
    # The project's own packages, wherever they are installed.
    for name in ("solutions", "autotests", "grader", "exercises"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            folder = Path(module.__file__).resolve().parent
            if _under(folder, roots) and not any(_under(folder, [m]) for m in masks):
                masks.append(folder)
    return sorted(binds), masks


def bwrap_prefix(root: Path, numpy_dirs: list[Path]) -> list[str]:
    args = [shutil.which("bwrap") or "bwrap",
            "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    for group in _system_dirs():
        args += group
    binds, masks = _python_binds()
    for folder in binds:
        args += ["--ro-bind", str(folder), str(folder)]
    for folder in masks:
        args += ["--tmpfs", str(folder)]
    for folder in numpy_dirs:
        args += ["--ro-bind", str(folder), str(INSIDE_LIB / folder.name)]
    args += ["--bind", str(root), str(INSIDE_ROOT), "--tmpfs", "/tmp",
             "--proc", "/proc", "--dev", "/dev", "--chdir", str(INSIDE_ROOT / "home")]
    return args


@functools.cache
def bwrap_works() -> str | None:
    """None when bubblewrap can start a sandbox here, else the reason it cannot."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (scripts/install-system-deps installs it)"
    try:
        probe = subprocess.run(
            ["bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--die-with-parent",
             "--ro-bind", "/", "/", "true"],
            capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap failed to run ({error})"
    if probe.returncode != 0:
        text = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bwrap cannot create namespaces here ({text[-1] if text else probe.returncode})"
    return None


def choose(requested: str = "auto") -> tuple[Isolation, str | None]:
    """The isolation to use, and a note for stderr when it is weaker than asked for."""
    if requested == "basic":
        return Isolation("basic"), None
    reason = bwrap_works()
    if reason is None:
        return Isolation("bubblewrap"), None
    if requested == "bubblewrap":
        raise IsolationUnavailable(reason)
    return Isolation("basic"), (f"isolation: basic (rlimits only): {reason}; "
                                "student code can read what this user can read")
