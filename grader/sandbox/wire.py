"""The wire between the grader and a worker: plain data only, never a pickle.

Both sides import this module: the grader, and the worker's program (a copy of
``grader/sandbox/inside`` with this file), so it imports only the standard library;
numpy is passed in by whoever has it. A message is an 8-byte big-endian length, a UTF-8
JSON header of that length, then the raw bytes of every array the header refers to. Only
plain data crosses: numbers, strings, None, lists, tuples, string-keyed dicts and
numeric numpy arrays. Values that must stay in the worker (a layer's ``cache``) are kept
there and cross as handles.
"""

from __future__ import annotations

import json
import math
import os
import struct

HEADER = struct.Struct(">Q")
# Requests come from the grader, which makes them: a generous cap, checked before reading.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Replies come from student code. The grader reads them under these caps, each checked
# before a byte of what it bounds is read or parsed. The course's own tests get replies of
# under 1 KB of header and 10 KB of arrays (measured over the reference and the example
# submissions); an honest worker's longest header, with its capped output (64K characters),
# traceback (8K), message (2K) and 20 warnings, is under 500 KB of UTF-8 JSON.
MAX_REPLY_HEADER_BYTES = 1024 * 1024
MAX_REPLY_ARRAY_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
# How deep a header's JSON may nest: each of MAX_DEPTH + 1 levels of a value takes at most
# three ({"__dict__": [[key, value]]}), an array two more ({"shape": [...]}), the frame one.
MAX_JSON_DEPTH = 3 * (MAX_DEPTH + 1) + 3
ARRAY_KINDS = "biuf"


class WireError(Exception):
    """A message that breaks the protocol: too big, too deep, not plain data."""


# -- encoding -----------------------------------------------------------------------


def encode(value, np=None) -> tuple[dict | list | str | int | float | None, list[bytes]]:
    """``(json_tree, buffers)`` for a plain-data ``value``.

    Arrays become ``{"__nd__": i, "dtype": ..., "shape": [...]}`` with their bytes in
    ``buffers[i]``; tuples ``{"__tuple__": [...]}``; dicts ``{"__dict__": [[k, v], ...]}``;
    non-finite floats ``{"__float__": "nan" | "inf" | "-inf"}`` so the JSON stays strict.
    """
    buffers: list[bytes] = []

    def walk(x, depth):
        if depth > MAX_DEPTH:
            raise WireError(f"nested more than {MAX_DEPTH} levels deep")
        kind = type(x)
        if x is None or kind is bool or kind is str:
            return x
        if kind is int:
            return x
        if kind is float:
            return x if math.isfinite(x) else {"__float__": repr(x)}
        if kind is list:
            return [walk(item, depth + 1) for item in x]
        if kind is tuple:
            return {"__tuple__": [walk(item, depth + 1) for item in x]}
        if kind is dict:
            items = []
            for key, item in x.items():
                if type(key) is not str:
                    raise WireError(f"a dict key of type {type(key).__name__} (keys must be str)")
                items.append([key, walk(item, depth + 1)])
            return {"__dict__": items}
        if isinstance(x, Handle):
            return {"__handle__": x.id}
        if np is not None:
            if isinstance(x, np.ndarray):
                # Whatever the class, only its data crosses, rebuilt as a base ndarray.
                # np.require keeps a 0-d array 0-d (ascontiguousarray makes it 1-d).
                base = np.require(x.view(np.ndarray), requirements="C")
                if base.dtype.kind not in ARRAY_KINDS:
                    raise WireError(f"an array of dtype {base.dtype} (only numeric arrays are "
                                    "plain data)")
                native = base.astype(base.dtype.newbyteorder("<"), copy=False)
                buffers.append(native.tobytes())
                return {"__nd__": len(buffers) - 1, "dtype": native.dtype.str,
                        "shape": list(native.shape)}
            if isinstance(x, np.generic) and x.dtype.kind in ARRAY_KINDS:
                item = x.item()
                if isinstance(item, np.generic):  # a longdouble: no Python number holds it
                    raise WireError(f"a numpy scalar of dtype {x.dtype} (only float64 and smaller "
                                    "cross as numbers)")
                return walk(item, depth)
        raise WireError(f"an object of type {kind.__name__}, which is not plain data")

    return walk(value, 0), buffers


def decode(tree, buffers: list[bytes], np=None):
    """The value that ``encode`` made ``(tree, buffers)`` from; strict about everything.

    Each buffer makes at most one array (as ``encode`` writes them): a small header cannot
    ask for the same 16 MiB of bytes to be copied a hundred thousand times.
    """
    used: set[int] = set()

    def walk(x, depth):
        if depth > MAX_DEPTH:
            raise WireError(f"nested more than {MAX_DEPTH} levels deep")
        kind = type(x)
        if x is None or kind in (bool, str, int, float):
            return x
        if kind is list:
            return [walk(item, depth + 1) for item in x]
        if kind is not dict or len(x) == 0:
            raise WireError(f"unexpected {kind.__name__} in a message")
        if "__tuple__" in x and len(x) == 1:
            return tuple(walk(item, depth + 1) for item in _list(x["__tuple__"]))
        if "__dict__" in x and len(x) == 1:
            out = {}
            for pair in _list(x["__dict__"]):
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise WireError("malformed dict entry")
                out[pair[0]] = walk(pair[1], depth + 1)
            return out
        if "__float__" in x and len(x) == 1:
            text = x["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise WireError("malformed float")
            return float(text)
        if "__handle__" in x and len(x) == 1:
            if type(x["__handle__"]) is not int:
                raise WireError("malformed handle")
            return Handle(x["__handle__"])
        if "__nd__" in x and set(x) == {"__nd__", "dtype", "shape"}:
            return _array(x, buffers, np, used)
        raise WireError("unexpected object in a message")

    return walk(tree, 0)


def _list(x):
    if type(x) is not list:
        raise WireError("expected a list")
    return x


def _array(spec, buffers, np, used):
    index, dtype, shape = spec["__nd__"], spec["dtype"], spec["shape"]
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("array refers to a missing buffer")
    if index in used:
        raise WireError("two arrays refer to one buffer")
    used.add(index)
    if (type(dtype) is not str or len(dtype) > 4 or dtype[:1] not in "<|"
            or dtype[1:2] not in ARRAY_KINDS):
        raise WireError(f"array of unsupported dtype {dtype!r}")
    if type(shape) is not list or len(shape) > MAX_DEPTH or not all(
            type(n) is int and n >= 0 for n in shape):
        raise WireError("array of malformed shape")
    try:
        dt = np.dtype(dtype)
    except TypeError:  # a dtype string numpy does not know, such as '<f3'
        raise WireError(f"array of unsupported dtype {dtype!r}") from None
    count = 1
    for n in shape:
        count *= n
    data = buffers[index]
    if count * dt.itemsize != len(data):
        raise WireError(f"array shape {tuple(shape)} does not match its {len(data)} bytes")
    # A copy: the grader owns a plain, writable, base-class array.
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def describe_error(error: BaseException) -> str:
    """``Type: message`` of an exception, in at most 2,000 characters, whatever it does."""
    try:
        text = str(error)
    except Exception:  # a student exception whose __str__ itself raises
        text = "(unprintable)"
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:2000]


class Handle:
    """A reference to a value that stays inside the worker."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __eq__(self, other):
        return type(other) is Handle and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"Handle({self.id})"


# -- framing ------------------------------------------------------------------------


def send(fd: int, message: dict, np=None, write=None, max_header: int = MAX_MESSAGE_BYTES,
         max_arrays: int = MAX_MESSAGE_BYTES) -> None:
    """``message`` onto ``fd``; ``write(fd, data)`` may be given to add a deadline.

    A message over the caps its reader will apply is refused here, before a byte is
    written, so that an honest sender gets a WireError to report rather than a reader
    that gives up on it. The header is UTF-8 (surrogates passed through, as ``receive``
    reads it): at most 4 bytes a character where escaping would take 12.
    """
    tree, buffers = encode(message, np)
    header = json.dumps({"body": tree, "sizes": [len(b) for b in buffers]}, allow_nan=False,
                        ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if len(header) > max_header:
        raise WireError(f"too large to send: {len(header)} bytes of header "
                        f"(at most {max_header})")
    if sum(len(b) for b in buffers) > max_arrays:
        raise WireError(f"too large to send: {sum(len(b) for b in buffers)} bytes of arrays "
                        f"(at most {max_arrays})")
    (write or _write_all)(fd, b"".join([HEADER.pack(len(header)), header, *buffers]))


def receive(fd: int, np=None, read=None, max_header: int = MAX_MESSAGE_BYTES,
            max_arrays: int = MAX_MESSAGE_BYTES) -> dict:
    """One message from ``fd``; ``read(fd, n)`` may be given to add a deadline.

    Every size is checked before what it announces is read, and the header's nesting
    before it is parsed: a reader pays for at most ``max_header`` bytes of JSON nested at
    most MAX_JSON_DEPTH deep, and ``max_arrays`` bytes of arrays, whatever it is sent.
    """
    read = read or _read_exact
    (size,) = HEADER.unpack(read(fd, HEADER.size))
    if size > max_header:
        raise WireError(f"message header of {size} bytes (at most {max_header})")
    text = read(fd, size)
    if not _nests_within(text, MAX_JSON_DEPTH):
        raise WireError(f"message header nested more than {MAX_JSON_DEPTH} levels deep "
                        "(or unbalanced)")
    try:
        header = json.loads(text.decode("utf-8", "surrogatepass"))
    except RecursionError:  # nested deeper than the parser can go
        raise WireError("message header nested too deeply") from None
    if type(header) is not dict or set(header) != {"body", "sizes"}:
        raise WireError("malformed message header")
    sizes = header["sizes"]
    if type(sizes) is not list or not all(type(n) is int and n >= 0 for n in sizes):
        raise WireError("malformed buffer sizes")
    if sum(sizes) > max_arrays:
        raise WireError(f"message of more than {max_arrays} bytes of arrays")
    buffers = [read(fd, n) for n in sizes]
    message = decode(header["body"], buffers, np)
    if type(message) is not dict:
        raise WireError("a message must be a dict")
    return message


_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nests_within(text: bytes, limit: int) -> bool:
    """Whether the JSON ``text`` nests at most ``limit`` deep, found without parsing it.

    Escaped backslashes and quotes go first, then what is between quotes (the strings),
    then all but the brackets; each round then takes away the innermost pairs. Linear
    passes in C, at most ``limit`` of them; valid JSON is measured exactly, and text that
    is not JSON either fails here or in the parser.
    """
    text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(text.split(b'"')[::2]).translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False  # unbalanced: not JSON
        brackets = shorter
    return not brackets


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


# -- what student code prints -------------------------------------------------------


class CappedOutput:
    """A stand-in for sys.stdout/sys.stderr that keeps the first ``cap`` characters: what a
    reply carries of the output (the worker's, and the notebook runtime's)."""

    def __init__(self, cap: int):
        self.cap = cap
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text):
        text = str(text)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def take(self) -> tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, dropped
