"""Reading a submission handed in as a ``.zip``.

The archive is held to its caps before zipfile parses it (its size, the size of its
central directory, its members and their declared size); only stored and deflate
members are read, and the bytes actually inflated are counted against a cap as they are
read: a zip bomb is refused, never inflated. A member that would land outside the
submission is a note, not a file.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from grader.errors import NotASubmission, ZipOverCap
from grader.grading.discovery import choose_files, exercise_file
from grader.grading.module_source import MiB, read_cap
from grader.grading.safe_read import open_file, read_capped

# A zip as a file: six notebooks with plots compress to a few MiB.
MAX_ZIP_BYTES = 16 * MiB
# Members of a zip, and the size of its central directory, checked before zipfile parses
# it (each member costs ~600 bytes of Python objects): a student's zipped project folder,
# caches and .git included, has hundreds; 2 MiB is 5,000 members with 400-byte names
# and extras, and at worst ~45,000 empty ones, ~30 MB parsed.
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_DIRECTORY_BYTES = 2 * MiB
# The members' total size as the central directory declares it, and the bytes actually
# inflated from the members read: 8 times the zip cap. Code and notebooks compress 2 to 5
# times (base64 plots barely); a bomb declares or inflates gigabytes.
MAX_ZIP_UNCOMPRESSED_BYTES = 128 * MiB
# The compressions read. zipfile inflates bzip2 and lzma without an output bound (a
# 400 KB zip of bzip2 became 2.6 GB), deflate with one; every zip tool writes deflate.
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ZIP_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
# What zipfile raises on a malformed archive or member (it documents only BadZipFile).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
              NotImplementedError, RuntimeError, struct.error, zlib.error, OSError)


def _zip_directory_size(stream) -> int | None:
    """The size of a zip's central directory, found as zipfile finds it (the last end
    record in the final 64 KiB, then a zip64 record right before it), or None."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    searched = max(size - (1 << 16) - 22, 0)
    start = max(searched - 76, 0)  # room for the zip64 locator and record before it
    stream.seek(start)
    tail = stream.read()
    at = tail.rfind(b"PK\x05\x06", searched - start)
    if at < 0 or at + 22 > len(tail):
        return None
    directory = struct.unpack_from("<I", tail, at + 12)[0]
    if (at >= 76 and tail[at - 20:at - 16] == b"PK\x06\x07"
            and tail[at - 76:at - 72] == b"PK\x06\x06"):
        directory = struct.unpack_from("<Q", tail, at - 76 + 40)[0]
    return directory


def _zip_candidates(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, zipfile.ZipInfo]:
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if info.is_dir() or not exercise_file(name.name):
            continue
        if name.is_absolute() or ".." in name.parts:
            problems.append(f"{info.filename} would land outside the submission: ignored")
            continue
        if len(name.parts) > 3:
            continue
        found[name.as_posix()] = info  # of two members with one name, unzip leaves the last
    return found


@contextlib.contextmanager
def opened_zip(path: Path, problems: list[str]
               ) -> Iterator[tuple[dict[str, str], Callable[[str], bytes]]]:
    """The zip at ``path``, held to its caps and open while in use: ``(chosen, read)``,
    the member graded for each exercise and how to read one by its name. Members left
    out are noted in ``problems``."""
    fd = open_file(path, follow=True)
    with os.fdopen(fd, "rb") as stream:
        try:
            size = os.fstat(fd).st_size
            if size > MAX_ZIP_BYTES:
                raise NotASubmission(path, f"larger than {MAX_ZIP_BYTES} bytes")
            directory = _zip_directory_size(stream)
            if directory is not None and directory > MAX_ZIP_DIRECTORY_BYTES:
                raise ZipOverCap(path, "bytes of central directory", directory,
                                 MAX_ZIP_DIRECTORY_BYTES)
            stream.seek(0)
            archive = zipfile.ZipFile(stream)
        except ZIP_ERRORS as error:
            raise NotASubmission(path, f"not a readable zip: {error}") from None
        with archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ZipOverCap(path, "members", len(members), MAX_ZIP_MEMBERS)
            declared = sum(info.file_size for info in members)
            if declared > MAX_ZIP_UNCOMPRESSED_BYTES:
                raise ZipOverCap(path, "bytes uncompressed (declared)", declared,
                                 MAX_ZIP_UNCOMPRESSED_BYTES)
            candidates = _zip_candidates(archive, problems)
            chosen = choose_files(candidates)
            if not chosen and not problems:
                raise NotASubmission(path, "the zip holds no exercise module or notebook")
            for rel in chosen.values():
                info = candidates[rel]
                if info.compress_type not in ZIP_METHODS:
                    method = ZIP_METHOD_NAMES.get(info.compress_type,
                                                  f"method {info.compress_type}")
                    raise NotASubmission(path, f"{rel} is compressed with {method}; only "
                                               "stored and deflate members are read: "
                                               "zip it again with a standard zip tool")
                if info.flag_bits & 0x1:
                    raise NotASubmission(path, f"{rel} is encrypted")
            inflated = 0

            def read(rel: str) -> bytes:
                nonlocal inflated
                try:
                    with archive.open(candidates[rel]) as member:
                        raw = read_capped(member.read, read_cap(rel))
                except ZIP_ERRORS as error:
                    raise NotASubmission(path, f"{rel} in the zip is corrupt ({error})") from None
                inflated += len(raw)
                if inflated > MAX_ZIP_UNCOMPRESSED_BYTES:
                    raise ZipOverCap(path, "bytes inflated", inflated, MAX_ZIP_UNCOMPRESSED_BYTES)
                return raw

            yield chosen, read
