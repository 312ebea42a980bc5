"""How a worker is walled in: bubblewrap where the machine has it, rlimits alone otherwise.

``bubblewrap``: the worker gets its own user, PID, network, IPC and UTS namespaces, dies
with its parent, runs in a new session, and sees only read-only binds of the system
libraries, the interpreter with its standard library (every site-packages folder masked
by an empty tmpfs) and numpy, a small tmpfs ``/tmp``, and its own folder. No home, no
project tree, no reference solutions, no reports.

``basic``: the same interpreter flags, clean environment and rlimits, and an empty
path, on the machine's own filesystem. Its walls are the kernel's: Landlock (where the
kernel has it) confines every worker to reading the interpreter, numpy and its own
folder and to writing its home; a grader running as root also has each worker drop to
an unprivileged uid, so that nothing of root's (reports, the grader's environment) can
be written. Where neither wall can be built, grading for credit needs the instructor's
explicit consent (``--accept-weak-isolation``).

In both, where the kernel allows it, a seccomp filter that the worker installs on itself
before any student code runs refuses every new process, trace, socket and signal to
another process; and the worker's guard (an audit hook, see ``inside/guard.py``) refuses
and records what student code reaches for outside its own view.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import IsolationUnavailable, WeakIsolation
from grader.sandbox import program

INSIDE_ROOT = Path("/sandbox")
INSIDE_LIB = Path("/opt/backprop-lab/lib")
NOBODY = 65534
TMP_BYTES = 64 * 1024 * 1024  # the size of the tmpfs /tmp inside bubblewrap


@dataclass(frozen=True)
class Layout:
    """Where the worker finds things, as seen from inside it."""

    root: Path
    pkg: Path
    lib: Path
    home: Path
    program: Path  # the entry point of the worker's program
    config: Path


def _seccomp_default() -> bool:
    return seccomp_works() is None


def _landlock_default() -> bool:
    return landlock_works() is None


def _quota_default() -> bool:
    return quota_works() is None


@dataclass(frozen=True)
class Isolation:
    mechanism: str  # "bubblewrap" or "basic"
    # Why a weaker isolation than asked for is in force ("" when it is what was asked).
    reason: str = ""
    # Whether each worker installs the seccomp filter (probed once per process).
    seccomp: bool = field(default_factory=_seccomp_default)
    # Whether each worker confines itself with Landlock (probed once per process).
    landlock: bool = field(default_factory=_landlock_default)
    # Whether each worker's home can be a private size-limited tmpfs (probed once).
    quota: bool = field(default_factory=_quota_default)

    @property
    def drops_uid(self) -> bool:
        """Whether each worker becomes an unprivileged uid: basic, under a root grader
        (inside bubblewrap a worker is never root of the machine)."""
        return self.mechanism == "basic" and _root()

    def walls(self) -> list[str]:
        """The kernel walls between student code and the machine, in words."""
        found = []
        if self.mechanism == "bubblewrap":
            found.append("namespaces (bubblewrap)")
        if self.landlock:
            found.append("Landlock")
        if self.drops_uid:
            found.append(f"an unprivileged uid ({NOBODY})")
        return found

    def layout(self, root: Path) -> Layout:
        inside = INSIDE_ROOT if self.mechanism == "bubblewrap" else root
        lib = INSIDE_LIB if self.mechanism == "bubblewrap" else root / "lib"
        return Layout(root=inside, pkg=inside / "pkg", lib=lib, home=inside / "home",
                      program=inside / program.ENTRY, config=inside / "config.json")

    def argv(self, root: Path, numpy_dirs: list[Path]) -> list[str]:
        inside = self.layout(root)
        python = [interpreter(), "-I", "-S", str(inside.program), str(inside.config)]
        if self.mechanism == "basic":
            return python
        return [*bwrap_prefix(root, numpy_dirs), *python]

    def describe(self) -> dict:
        """The report's account of the isolation in force (the runner adds the limits)."""
        if self.seccomp:
            processes = ("none: a seccomp filter refuses fork, exec, every clone (threads "
                         "included), ptrace, sockets and signals to other processes")
        else:
            why = seccomp_works() or "no seccomp filter"
            processes = (f"refused by the guard only ({why}); RLIMIT_NPROC bounds the rest"
                         + (", but not for root" if _root() else ""))
        if self.landlock:
            landlock = ("Landlock: the kernel refuses every path but the interpreter, numpy and "
                        "the worker's own folder, and every write outside its home")
        else:
            landlock = f"none ({landlock_works()})"
        disk = ("the worker's home is a private size-limited tmpfs (limits.disk_bytes)"
                if self.quota else f"no quota: {quota_works()}; each file is limited")
        guard = ("an audit hook refuses and records, in the report's integrity section: "
                 "imports of the grader and of ctypes, new processes, sockets, reads outside "
                 "the interpreter, numpy and the worker's folder, writes outside its home")
        if self.mechanism == "bubblewrap":
            tmp = f"a {TMP_BYTES} byte tmpfs" if bwrap_sizes_tmpfs() else "a tmpfs"
            return {"mechanism": "bubblewrap",
                    "namespaces": ["user", "pid", "net", "ipc", "uts", "cgroup"],
                    "filesystem": "read-only: system libraries, the interpreter and its "
                                  "standard library, numpy; writable: the folder that holds "
                                  "the worker's (the guard keeps writes to its home); "
                                  f"/tmp is {tmp}; nothing else exists",
                    "network": "none (an empty network namespace)",
                    "processes": processes + "; the PID namespace ends every one with its worker",
                    "seccomp": self.seccomp, "landlock": landlock, "disk": disk,
                    "guard": guard}
        user = (f"uid {NOBODY}, keeping of root's powers only reading"
                if self.drops_uid else "the grader's")
        return {"mechanism": "basic", "namespaces": [],
                "filesystem": ("the machine's, behind Landlock" if self.landlock else
                               "the machine's; only the guard keeps student code to the "
                               "interpreter, numpy and its own folder"),
                "user": user, "landlock": landlock, "disk": disk,
                "network": "the grader's, but sockets are refused"
                           + (" by the seccomp filter" if self.seccomp else " by the guard"),
                "processes": processes + "; a worker's whole family is killed when it closes",
                "seccomp": self.seccomp, "guard": guard,
                "note": "basic isolation: no namespaces; kernel walls: "
                        + (", ".join(self.walls()) or "none")
                        + (f" ({self.reason})" if self.reason else "")}


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def interpreter() -> str:
    """The real interpreter behind this one (a venv's python is a link to it)."""
    return os.path.realpath(sys.executable)


@functools.cache
def stdlib_dirs() -> tuple[Path, ...]:
    """The standard library's folders (pure and platform-specific) of the real interpreter."""
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix,
            "installed_base": sys.base_prefix, "installed_platbase": sys.base_exec_prefix}
    paths = sysconfig.get_paths(vars=base)
    return tuple(sorted({Path(paths[key]).resolve() for key in ("stdlib", "platstdlib")}))


@functools.cache
def native_dirs() -> tuple[Path, ...]:
    """Where the standard library's native modules are (lib-dynload)."""
    found = {folder / "lib-dynload" for folder in stdlib_dirs()}
    dynload = sysconfig.get_config_var("DESTSHARED")
    if dynload:
        found.add(Path(dynload))
    return tuple(sorted({p.resolve() for p in found if p.is_dir()}))


@functools.cache
def site_package_dirs() -> tuple[Path, ...]:
    """Every site-packages or dist-packages folder this interpreter might know."""
    candidates = set(site.getsitepackages()) | {site.getusersitepackages()}
    for base in {sys.prefix, sys.base_prefix, "/usr", "/usr/local"}:
        paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
        candidates |= {paths["purelib"], paths["platlib"]}
    candidates |= {p for p in sys.path if p and "-packages" in p}
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
                    "/usr/lib/python3/dist-packages"):
        candidates |= {str(p) for p in Path("/").glob(pattern.lstrip("/"))}
    return tuple(sorted({Path(c).resolve() for c in candidates if Path(c).is_dir()}))


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
    masks = [p for p in site_package_dirs() if _under(p, roots)]
    # The project's own packages, wherever they are installed.
    for name in ("solutions", "autotests", "grader", "exercises"):
        file = getattr(sys.modules.get(name), "__file__", None)
        if file:
            folder = Path(file).resolve().parent
            if _under(folder, roots) and not any(_under(folder, [m]) for m in masks):
                masks.append(folder)
    # A mask inside another mask would be mounted on a folder that no longer exists.
    masks = [m for m in masks if not any(o != m and _under(m, [o]) for o in masks)]
    return sorted(binds), sorted(masks)


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
    args += ["--bind", str(root), str(INSIDE_ROOT)]
    if bwrap_sizes_tmpfs():
        args += ["--size", str(TMP_BYTES)]
    args += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
             "--chdir", str(INSIDE_ROOT / "home")]
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


@functools.cache
def bwrap_sizes_tmpfs() -> bool:
    """Whether this bwrap takes --size for a tmpfs (bubblewrap 0.6 and later)."""
    try:
        probe = subprocess.run(["bwrap", "--unshare-user", "--ro-bind", "/", "/",
                                "--size", "1048576", "--tmpfs", "/tmp", "true"],
                               capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _probe(flag: str, what: str) -> str | None:
    """Run the worker's program with ``flag`` in a fresh interpreter: None when it exits 0
    (the wall can be built here), else the last line it said, or why it could not run."""
    try:
        probe = subprocess.run([interpreter(), "-I", "-S", str(program.entry_in_place()), flag],
                               capture_output=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the {what} probe failed to run ({error})"
    if probe.returncode != 0:
        text = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        return text[-1] if text else f"the {what} probe exited with {probe.returncode}"
    return None


@functools.cache
def seccomp_works() -> str | None:
    """None when a worker here can install its seccomp filter, else the reason it cannot."""
    return _probe("--probe-seccomp", "seccomp")


@functools.cache
def landlock_works() -> str | None:
    """None when a worker here can confine itself with Landlock, else the reason it cannot."""
    return _probe("--probe-landlock", "Landlock")


@functools.cache
def quota_works() -> str | None:
    """None when a worker here can have a private size-limited home, else why it cannot."""
    return _probe("--probe-quota", "quota")


def choose(requested: str = "auto", accept_weak: bool = False) -> tuple[Isolation, str | None]:
    """The isolation to use, and a note for stderr when it is weaker than asked for.

    Raises WeakIsolation when the result would have no kernel wall at all (basic isolation
    without Landlock) and ``accept_weak`` is not given."""
    if requested == "basic":
        isolation, note = Isolation("basic"), None
    else:
        reason = bwrap_works()
        if reason is None:
            return Isolation("bubblewrap"), None
        if requested == "bubblewrap":
            raise IsolationUnavailable(reason)
        isolation = Isolation("basic", reason=reason)
        walls = ", ".join(isolation.walls()) or "none"
        note = (f"isolation: basic (no namespaces): {reason}; kernel walls: {walls}")
    if not isolation.landlock and not accept_weak:
        raise WeakIsolation(landlock_works() or "no Landlock")
    return isolation, note
