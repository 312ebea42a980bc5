"""Reading a submission's files and folder listings without trusting them.

A file's type is checked before it is opened and again on its descriptor, so that no
read blocks on a named pipe or a device; a link in the last component is refused unless
the caller follows it; and no read takes more than a cap and one byte, whatever size a
file declares. What cannot be read raises an :class:`~grader.errors.UnreadableSubmission`
that says why.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from grader.errors import UnreadableSubmission

READ_CHUNK = 64 * 1024

FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
              (stat.S_ISDIR, "a folder"))


def _not_a_file(mode: int) -> str:
    kind = next((name for test, name in FILE_KINDS if test(mode)), "not a regular file")
    return f"{kind} where a file should be"


def why_unreadable(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    return error.strerror or type(error).__name__


def read_capped(read: Callable[[int], bytes], cap: int) -> bytes:
    """At most ``cap + 1`` bytes from ``read``, in chunks: a size declared anywhere is
    never trusted, and one byte past the cap says the cap was passed."""
    chunks, total = [], 0
    while total <= cap:
        chunk = read(min(READ_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def open_file(path: Path, follow: bool) -> int:
    """A descriptor of the regular file at ``path``, opened without blocking.

    The type is checked before opening (a device is never opened, a named pipe never
    waited on) and again on the descriptor, in case the file was swapped in between.
    ``follow=False`` refuses a link in the last component.
    """
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableSubmission(path, _not_a_file(mode))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                     | (0 if follow else getattr(os, "O_NOFOLLOW", 0)))
    except OSError as error:
        raise UnreadableSubmission(path, why_unreadable(error)) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as error:
        os.close(fd)
        raise UnreadableSubmission(path, why_unreadable(error)) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableSubmission(path, _not_a_file(mode))
    return fd


def read_file(path: Path, cap: int, follow: bool) -> bytes:
    fd = open_file(path, follow)
    try:
        return read_capped(lambda n: os.read(fd, n), cap)
    except OSError as error:
        raise UnreadableSubmission(path, why_unreadable(error)) from None
    finally:
        os.close(fd)


def list_folder(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        raise UnreadableSubmission(folder, why_unreadable(error)) from None


def subfolders(entries: list[os.DirEntry]) -> list[os.DirEntry]:
    """The real folders among ``entries``: a link to a folder is not followed."""
    return [entry for entry in entries if entry.is_dir(follow_symlinks=False)]
