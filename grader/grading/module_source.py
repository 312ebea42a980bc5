"""From the bytes of one exercise file to the Python source that is graded.

A ``.py`` file is its UTF-8 text; a notebook is its code cells joined in order, without
nbgrader's autograder test cells, IPython magics and shell escapes. Each has its cap, and
what is wrong with one file (not UTF-8, empty, over a cap, not a notebook) is said in a
line that costs that exercise only.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

MiB = 1024 * 1024
# A module's source, and the code cells of a notebook once joined: the reference
# solutions are a few KiB each, so 1 MiB is hundreds of times any honest answer.
MAX_SOURCE_BYTES = 1 * MiB
# A notebook file as saved, outputs included: plots are base64 PNGs of 50 KiB to a few
# MiB each, so 64 MiB holds any course notebook with its figures, while a file past it is
# refused after reading 64 MiB + 1 bytes, never whole. Parsing one at the cap peaks at
# about three times its size (bytes, text, parsed strings): ~200 MB, one file at a time.
MAX_NOTEBOOK_BYTES = 64 * MiB
# Bytes of a notebook that can open or separate a JSON value ({ [ , :): a bound on the
# objects json.loads builds. 64 MiB of "{}," would parse into 1.5 GB of empty dicts; a
# million values is at most ~75 MB, and a notebook's plots (base64) hold none of them.
MAX_NOTEBOOK_ITEMS = 1_000_000


def read_cap(name: str) -> int:
    """The most bytes read from an exercise file: a notebook's outputs make it larger."""
    return MAX_NOTEBOOK_BYTES if name.endswith(".ipynb") else MAX_SOURCE_BYTES


def is_test_cell(cell: dict) -> bool:
    """An nbgrader autograder test cell (``grade`` and not ``solution``): the course's
    tests, which call the grader, never the student's code."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return (isinstance(nbgrader, dict) and nbgrader.get("grade") is True
            and not nbgrader.get("solution", False))


def notebook_source(raw: bytes) -> str:
    """The code cells of a notebook joined in order, without nbgrader's test cells,
    magics and shell escapes."""
    notebook = json.loads(raw.decode("utf-8"))
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("a notebook has a list of cells")
    parts = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            text = "".join(source)
        elif isinstance(source, str):
            text = source
        else:
            raise ValueError("a code cell's source is text or a list of lines")
        lines = [line for line in text.splitlines()
                 if not line.lstrip().startswith(("%", "!"))]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def read_module(name: str, raw: bytes) -> tuple[str | None, str | None]:
    """``(source, None)`` or ``(None, what is wrong)`` for one module file's bytes."""
    label = PurePosixPath(name).name
    notebook = label.endswith(".ipynb")
    cap = read_cap(label)
    if len(raw) > cap:
        # raw was read with a cap of one byte more: its length is not the file's size.
        return None, f"{label} is larger than the {cap}-byte cap" + (
            " for a notebook" if notebook else "")
    if not raw or raw.isspace():
        return None, f"{label} is empty"
    try:
        if not notebook:
            return raw.decode("utf-8-sig"), None
        items = sum(raw.count(mark) for mark in (b"{", b"[", b",", b":"))
        if items > MAX_NOTEBOOK_ITEMS:
            return None, (f"{label} is not a valid notebook (over {MAX_NOTEBOOK_ITEMS:,} "
                          "JSON values)")
        source = notebook_source(raw)
        if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
            return None, f"{label}'s code cells are larger than the {MAX_SOURCE_BYTES}-byte cap"
        return source, None
    except UnicodeDecodeError as error:
        return None, f"{label} is not UTF-8 text (byte {error.start})"
    except (ValueError, RecursionError) as error:
        return None, f"{label} is not a valid notebook ({str(error)[:200] or 'nested too deeply'})"
