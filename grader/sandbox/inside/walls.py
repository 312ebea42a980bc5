"""Walls: an unprivileged uid, a private size-limited home and Landlock, built by a worker
around itself before any student code runs. Each fails closed: a worker that was
promised a wall does not run without it.
"""

from __future__ import annotations

import os
import sys

from grader.sandbox.inside.contain import PR_SET_NO_NEW_PRIVS, _prctl

PR_SET_KEEPCAPS = 8
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self: one number on every
# architecture (the syscalls are newer than the split of the tables).
LANDLOCK_SYSCALLS = (444, 445, 446)
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# Filesystem rights by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_CHANGE_V1 = sum(1 << bit for bit in range(4, 13))  # remove, make dir/file/fifo/sock/symlink...
FS_MAKE_DEVICE = (1 << 6) | (1 << 11)                 # character and block devices
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where it has none (or it is switched off)."""
    import ctypes

    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[0]), None, ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(version))


def landlock(read: list, write: list) -> int:
    """Confine this process, for the rest of its life, to reading ``read`` and reading and
    writing ``write`` (folders or single files); every other path of every filesystem is
    refused by the kernel, whatever the process's uid or capabilities. Where the ABI allows,
    TCP is refused too, and signals and abstract sockets stop at this process's domain.
    Returns the ABI version used; raises OSError where Landlock is unavailable."""
    import ctypes

    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = landlock_abi()
    if abi < 1:
        raise OSError(38, "the kernel has no Landlock")
    handled = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_CHANGE_V1
    handled |= (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    handled |= FS_IOCTL_DEV if abi >= 5 else 0
    fields = [("fs", ctypes.c_uint64)]
    values = [handled]
    if abi >= 4:
        fields.append(("net", ctypes.c_uint64))
        values.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(("scoped", ctypes.c_uint64))
        values.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)

    class Ruleset(ctypes.Structure):
        _fields_ = fields

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = Ruleset(*values)
    ruleset = libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[0]), ctypes.byref(attr),
                           ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    file_rights = FS_READ_FILE | FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)
    reading = FS_READ_FILE | FS_READ_DIR
    writing = (handled & ~FS_EXECUTE & ~FS_MAKE_DEVICE & ~FS_REFER) | reading
    try:
        for paths, rights in ((read, reading), (write, writing)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a folder this machine does not have: nothing to allow
                try:
                    allowed = rights
                    if not os.path.isdir(path):
                        allowed &= file_rights | FS_READ_FILE
                    rule = PathBeneath(allowed, fd)
                    if libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[1]), ctypes.c_int(ruleset),
                                    ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                    ctypes.c_uint32(0)) < 0:
                        code = ctypes.get_errno()
                        raise OSError(code, f"landlock_add_rule({path}): {os.strerror(code)}")
                finally:
                    os.close(fd)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        if libc.syscall(ctypes.c_long(LANDLOCK_SYSCALLS[2]), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(ruleset)
    return abi


def drop_to(uid: int) -> None:
    """As root, become ``uid`` (and its gid, no groups), keeping of root's powers only
    CAP_DAC_READ_SEARCH: the interpreter may live under a folder only root can enter, but
    nothing that belongs to root or to another user can be written or changed any more.
    What may be read is Landlock's to say."""
    import ctypes

    libc = _libc()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    _prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    keep = 1 << CAP_DAC_READ_SEARCH
    data = (Data * 2)(Data(keep, keep, 0), Data(0, 0, 0))
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"capset: {os.strerror(code)}")
    _prctl(PR_SET_KEEPCAPS, 0)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(1, f"still uid {os.geteuid()} after dropping to {uid}")


CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def private_home(home: str, size: int, owner: int) -> None:
    """Mount a tmpfs of ``size`` bytes over ``home``, seen by this process alone: the disk
    quota. A root process (basic) takes a mount namespace of its own; anyone else (inside
    bubblewrap) a user namespace with it. Must come before Landlock, which forbids mounts."""
    import ctypes

    libc = _libc()
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(CLONE_NEWNS) != 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"unshare: {os.strerror(code)}")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open("/proc/self/" + name, "w") as stream:
                stream.write(text)
        owner = uid
    # Nothing mounted here may reach the machine's mount table.
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount --make-rprivate /: {os.strerror(code)}")
    options = f"size={size},mode=0700,uid={owner},gid={owner if owner != uid else gid}"
    if libc.mount(b"tmpfs", home.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options.encode()) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount tmpfs on {home}: {os.strerror(code)}")
    os.chdir(home)  # the old cwd is the folder under the mount


def probe_quota() -> int:
    """Exit 0 when a worker here can have a private, size-limited home."""
    import errno
    import tempfile

    home = tempfile.mkdtemp(prefix="backprop-quota-probe-")
    try:
        private_home(home, 1 << 20, os.geteuid())
        with open(os.path.join(home, "fill"), "wb") as stream:
            stream.write(b"x" * (2 << 20))
    except OSError as error:
        if error.errno == errno.ENOSPC:
            return 0
        print(f"quota: {error}", file=sys.stderr)
        return 2
    finally:
        try:
            os.rmdir(home)
        except OSError:
            pass
    print("quota: 2 MiB fit in a 1 MiB home", file=sys.stderr)
    return 3


def preload_numpy() -> None:
    """numpy's native parts, loaded before Landlock: they open system libraries (libstdc++)
    that the walls will not let this process open later."""
    import numpy
    import numpy.fft  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    numpy.zeros(1)


def build_walls(walls: dict) -> None:
    """The kernel walls the grader asked for, before any student code runs; fail closed."""
    uid = walls.get("uid")
    if walls.get("home_bytes"):
        private_home(walls["home"], walls["home_bytes"], uid if uid is not None else os.geteuid())
    if uid is not None and os.geteuid() == 0:
        drop_to(uid)
    if walls.get("landlock"):
        landlock(walls.get("read", []), walls.get("write", []))


def probe_landlock() -> int:
    """Exit 0 when a worker here can have the kernel refuse it every path but its own."""
    try:
        landlock([], [])
    except OSError as error:
        print(f"landlock: {error}", file=sys.stderr)
        return 2
    try:
        os.listdir("/")
    except PermissionError:
        return 0
    print("landlock: the ruleset let a read of / through", file=sys.stderr)
    return 3
