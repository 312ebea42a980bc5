"""Containment: what the kernel enforces on a worker, whatever the student's code does.

A worker dies with its parent, adopts its orphans (so that they stay in the family that
closing it kills) and, where the kernel allows it, installs a seccomp filter on itself:
every new process, trace, socket and signal to another process is refused for the rest
of its life.
"""

from __future__ import annotations

import os
import sys

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP = 1, 4, 22
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
SECCOMP_MODE_FILTER = 2

# Per machine: the audit architecture and the numbers of the system calls the filter
# names. Creating a process, tracing or signalling another, and opening a socket.
SYSCALLS = {
    "x86_64": (0xC000003E, {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "clone": 56, "clone3": 435,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "socket": 41,
        "io_uring_setup": 425, "tkill": 200, "pidfd_send_signal": 424, "open_by_handle_at": 304,
        "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297}),
    "aarch64": (0xC00000B7, {
        "execve": 221, "execveat": 281, "clone": 220, "clone3": 435,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "socket": 198,
        "io_uring_setup": 425, "tkill": 130, "pidfd_send_signal": 424, "open_by_handle_at": 265,
        "kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240}),
}
# open_by_handle_at: with CAP_DAC_READ_SEARCH (kept by a root worker that drops its uid)
# it opens a file by inode number, past every path on the way.
DENIED_SYSCALLS = ("fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv",
                   "process_vm_writev", "socket", "io_uring_setup", "tkill", "pidfd_send_signal",
                   "open_by_handle_at")
SELF_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first argument: a pid


def seccomp_program(machine: str, pid: int) -> list[tuple[int, int, int, int]] | None:
    """A classic-BPF seccomp filter, as (code, jt, jf, k) rows; None for an unknown machine.

    Refused with EPERM: fork, vfork, exec, every clone (threads included), tracing,
    sockets, io_uring, and signals to any process but ``pid``. clone3 answers ENOSYS so
    that the C library falls back to clone. Every other system call is allowed: this
    bounds processes, it is not a general sandbox.
    """
    import errno

    if machine not in SYSCALLS:
        return None
    arch, numbers = SYSCALLS[machine]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, errno_ = 0x7FFF0000, 0x00050000
    low, high = (16, 20) if sys.byteorder == "little" else (20, 16)  # args[0], 32 bits each
    rows: list[tuple] = []  # (code, k, label_if_true, label_if_false) or ("label", name)

    def op(code, k, yes=None, no=None):
        rows.append((code, k, yes, no))

    op(ld, 4)                                    # seccomp_data.arch
    op(jeq, arch, None, "deny")
    op(ld, 0)                                    # seccomp_data.nr
    if machine == "x86_64":
        op(jge, 0x40000000, "deny", None)        # the x32 ABI
    for name in DENIED_SYSCALLS:
        if name in numbers:
            op(jeq, numbers[name], "deny", None)
    op(jeq, numbers["clone3"], "enosys", None)
    # Threads too: a thread started by one module would run on through the tests of the
    # others (spending their CPU time, changing their functions). The worker needs none.
    op(jeq, numbers["clone"], "deny", None)
    for name in SELF_SIGNALS:
        op(jeq, numbers[name], "self", None)
    op(ret, allow)
    rows.append(("label", "self"))
    op(ld, high)
    op(jeq, 0, None, "deny")
    op(ld, low)
    op(jeq, pid, "allow", "deny")
    rows.append(("label", "allow"))
    op(ret, allow)
    rows.append(("label", "deny"))
    op(ret, errno_ | errno.EPERM)
    rows.append(("label", "enosys"))
    op(ret, errno_ | errno.ENOSYS)

    labels, index = {}, 0
    for row in rows:
        if row[0] == "label":
            labels[row[1]] = index
        else:
            index += 1
    program, index = [], 0
    for row in rows:
        if row[0] == "label":
            continue
        code, k, yes, no = row
        jt = labels[yes] - index - 1 if yes else 0
        jf = labels[no] - index - 1 if no else 0
        program.append((code, jt, jf, k))
        index += 1
    return program


def _prctl(option: int, arg2: int, arg3: int = 0) -> None:
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    prctl.restype = ctypes.c_int
    if prctl(option, arg2, arg3, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}): {os.strerror(code)}")


def contain(seccomp: bool) -> None:
    """Die with the parent, adopt orphans, and with ``seccomp`` have the kernel refuse every
    new process, trace, socket and signal to another process for the rest of this life.

    Raises OSError when the filter cannot be installed: a worker that was promised one
    does not run without it.
    """
    import ctypes
    import signal

    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Orphaned descendants become ours, so they stay in the family that closing kills.
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if not seccomp:
        return
    machine = os.uname().machine
    program = seccomp_program(machine, os.getpid())
    if program is None:
        raise OSError(38, f"no seccomp filter for a {machine} machine")

    class Row(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Row))]

    rows = (Row * len(program))(*[Row(*row) for row in program])
    fprog = Program(len(program), rows)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))




def probe_seccomp() -> int:
    """Exit 0 when a worker here can have the kernel refuse it a new process."""
    try:
        contain(seccomp=True)
    except OSError as error:
        print(f"seccomp: {error}", file=sys.stderr)
        return 2
    try:
        pid = os.fork()
    except PermissionError:
        return 0
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    print("seccomp: the filter let a fork through", file=sys.stderr)
    return 3
