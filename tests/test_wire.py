"""The worker protocol: only plain data crosses, in both directions, and nothing else decodes."""

from __future__ import annotations

import fcntl
import json
import math
import os
import pickle
import socket
import threading
import time
import tracemalloc

import numpy as np
import pytest

from grader.sandbox.client import (
    MAX_MESSAGE_CHARS,
    MAX_TRACEBACK_CHARS,
    MAX_TYPE_CHARS,
    MAX_WARNING_CHARS,
    MAX_WARNINGS,
    WorkerClient,
    WorkerDied,
)
from grader.sandbox.deadlines import write_before
from grader.sandbox.evidence import MAX_REFUSALS
from grader.sandbox.forkserver import Zygote
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from grader.sandbox.wire import (
    HEADER,
    MAX_DEPTH,
    MAX_JSON_DEPTH,
    MAX_REPLY_ARRAY_BYTES,
    MAX_REPLY_HEADER_BYTES,
    Handle,
    WireError,
    _write_all,
    decode,
    encode,
    receive,
    send,
)
from tests.conftest import reference_sources
from tests.test_hostile import MODES, require
from tests.test_loading import no_hang

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8, np.uint64,
          np.bool_]


def round_trip(value):
    tree, buffers = encode(value, np)
    json.dumps(tree, allow_nan=False)  # the tree is strict JSON
    return decode(tree, buffers, np)


def same(a, b) -> bool:
    """Equal in value and in type, all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_arrays_of_every_numeric_dtype_round_trip(dtype):
    """Does an array of each numeric dtype come back with its dtype, shape and values?"""
    rng = np.random.default_rng(3)
    for shape in [(0,), (5,), (2, 3), (2, 0, 4), (1, 2, 3, 2)]:
        array = np.asarray(np.abs(rng.normal(size=shape)) * 50).astype(dtype)
        back = round_trip(array)
        assert same(array, back), (dtype, shape)


def test_a_zero_dimensional_array_keeps_its_shape():
    """Does a 0-d array (what np.where returns for a float) arrive with shape ()?"""
    back = round_trip(np.where(np.asarray(7.0) >= 0, 0.5, 0.25))
    assert type(back) is np.ndarray and back.shape == () and back == 0.5


def test_big_endian_and_strided_arrays_arrive_native_and_equal():
    """Do a big-endian array and a transposed view arrive as plain arrays with the same values?"""
    big = np.arange(6, dtype=">f8").reshape(2, 3)
    back = round_trip(big)
    assert back.dtype == np.float64 and np.array_equal(back, big)
    view = np.arange(12.0).reshape(3, 4).T[::2]
    back = round_trip(view)
    assert back.shape == view.shape and np.array_equal(back, view)


def test_nested_containers_and_special_floats_round_trip():
    """Do tuples, lists, dicts, None, bools, strings, NaN and infinities keep their types?"""
    value = {
        "params": {"W1": np.eye(2), "b1": np.zeros(2)},
        "losses": [0.5, float("nan"), float("inf"), float("-inf"), -0.0],
        "pair": (1, (2.5, [True, None, "text"]), ()),
        "empty": {}, "nested": [[[]]], "big": 2 ** 70, "text": "üñí €",
        "nan_array": np.array([np.nan, np.inf, -np.inf, 1.0]),
    }
    back = round_trip(value)
    assert same(value, back)
    assert math.copysign(1.0, back["losses"][4]) == -1.0


def test_numpy_scalars_cross_as_python_numbers():
    """Does a numpy float64 or int32 scalar arrive as a Python float or int?"""
    back = round_trip([np.float64(0.25), np.int32(7), np.bool_(True)])
    assert back == [0.25, 7, True]
    assert [type(v) for v in back] == [float, int, bool]


def test_a_decoded_array_is_a_plain_writable_array_that_owns_its_data():
    """Is what decode gives a base ndarray, writable, owning its memory (not the message's)?"""
    tree, buffers = encode({"x": np.arange(4.0)}, np)
    x = decode(tree, buffers, np)["x"]
    assert type(x) is np.ndarray
    assert x.flags.writeable and x.flags.owndata and x.base is None
    x[0] = 99.0
    assert decode(tree, buffers, np)["x"][0] == 0.0


class Agreeable(np.ndarray):
    """A subclass that claims to equal anything: what a cheat would return."""

    def __eq__(self, other):
        return True

    def __array_finalize__(self, obj):
        self.secret = "from the student"


def test_an_ndarray_subclass_crosses_as_a_plain_ndarray():
    """Does an ndarray subclass arrive as a plain ndarray with only its data, no behaviour?"""
    sneaky = np.arange(3.0).view(Agreeable)
    back = round_trip((sneaky, [sneaky]))
    for array in (back[0], back[1][0]):
        assert type(array) is np.ndarray
        assert not hasattr(array, "secret")
        assert not np.array_equal(array, np.zeros(3))


@pytest.mark.parametrize("value, reason", [
    (object(), "not plain data"),
    (np.array([object()], dtype=object), "dtype object"),
    (np.array(["a", "b"]), "only numeric"),
    (np.array([1 + 2j]), "only numeric"),
    (np.array(["2024-01-01"], dtype="datetime64[D]"), "only numeric"),
    ({1: "a"}, "keys must be str"),
    ({("a",): 1}, "keys must be str"),
    ({1, 2}, "not plain data"),
    (b"bytes", "not plain data"),
    (Exception("boom"), "not plain data"),
    (pickle, "not plain data"),
])
def test_encode_refuses_what_is_not_plain_data(value, reason):
    """Does encode refuse objects, object and text arrays, non-str keys, sets and bytes?"""
    with pytest.raises(WireError, match=reason):
        encode({"value": value}, np)


def test_too_deep_nesting_is_refused_both_ways():
    """Are values nested deeper than the limit refused by encode and by decode?"""
    deep = []
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(WireError, match="deep"):
        encode(deep, np)
    tree = []
    for _ in range(MAX_DEPTH + 2):
        tree = [tree]
    with pytest.raises(WireError, match="deep"):
        decode(tree, [], np)
    ok = []
    for _ in range(MAX_DEPTH - 1):
        ok = [ok]
    assert round_trip(ok) == ok


def array_spec(dtype="<f8", shape=(2,), index=0):
    return {"__nd__": index, "dtype": dtype, "shape": list(shape)}


@pytest.mark.parametrize("tree, buffers", [
    (array_spec("|O"), [b"\0" * 16]),
    (array_spec("O"), [b"\0" * 16]),
    (array_spec("<U1"), [b"\0" * 8]),
    (array_spec("<c16"), [b"\0" * 32]),
    (array_spec("|V8"), [b"\0" * 16]),
    (array_spec(">f8"), [b"\0" * 16]),
    (array_spec("<M8[D]"), [b"\0" * 16]),
    (array_spec("<f8", (3,)), [b"\0" * 16]),
    (array_spec("<f8", (2,), index=1), [b"\0" * 16]),
    (array_spec("<f8", (-2,)), [b"\0" * 16]),
    (array_spec("<f8", (2 ** 62, 2 ** 62)), [b"\0" * 16]),
    ({"__nd__": 0, "dtype": "<f8", "shape": [2], "extra": 1}, [b"\0" * 16]),
    ({"__dict__": [[1, "a"]]}, []),
    ({"__dict__": [["a"]]}, []),
    ({"__tuple__": "abc"}, []),
    ({"__float__": "1e999"}, []),
    ({"__handle__": "1"}, []),
    ({"__reduce__": ["os.system", ["true"]]}, []),
    ({"py/object": "os.system"}, []),
    ({}, []),
], ids=lambda v: json.dumps(v)[:40] if not isinstance(v, list) else "")
def test_decode_refuses_malformed_messages(tree, buffers):
    """Does decode refuse object and text dtypes, sizes that do not match, and foreign objects?"""
    with pytest.raises(WireError):
        decode(tree, buffers, np)


@pytest.mark.parametrize("dtype", ["<f3", "|b2", "<i3"])
def test_decode_refuses_dtype_strings_numpy_does_not_know(dtype):
    """Does decode refuse a dtype string like '<f3' with a WireError, as it does '|O'?"""
    with pytest.raises(WireError):
        decode(array_spec(dtype), [b"\0" * 16], np)


def pipe_message(raw: bytes):
    """Write ``raw`` into a pipe from a thread and read one message back with ``receive``."""
    rfd, wfd = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(wfd, raw), os.close(wfd)))
    writer.start()
    try:
        return receive(rfd, np)
    finally:
        writer.join()
        os.close(rfd)


def test_send_and_receive_carry_a_message_over_a_pipe():
    """Does a message with arrays and handles cross a real pipe intact, arrays larger than a
    pipe buffer too?"""
    message = {"op": "call", "args": [np.arange(100_000.0), (Handle(3), {"k": np.int8(-1)})],
               "kwargs": {"lr": float("nan")}}
    rfd, wfd = os.pipe()
    writer = threading.Thread(target=lambda: send(wfd, message, np))
    writer.start()
    try:
        back = receive(rfd, np)
    finally:
        writer.join()
        os.close(rfd)
        os.close(wfd)
    assert back["op"] == "call"
    assert np.array_equal(back["args"][0], message["args"][0])
    assert back["args"][1][0] == Handle(3) and back["args"][1][1] == {"k": -1}
    assert math.isnan(back["kwargs"]["lr"])


class Trap:
    """Unpickling this creates a file: proof that someone unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_on_the_wire_is_refused_and_never_unpickled(tmp_path):
    """Is a pickle sent as a message refused, without its payload ever running?"""
    marker = tmp_path / "unpickled"
    payload = pickle.dumps({"body": Trap(str(marker)), "sizes": []})
    with pytest.raises((WireError, ValueError)):
        pipe_message(HEADER.pack(len(payload)) + payload)
    assert not marker.exists()


@pytest.mark.parametrize("header, reason", [
    (b'{"body": {}, "sizes": [], "x": 1}', "malformed message header"),
    (b'{"body": {}, "sizes": [-1]}', "malformed buffer sizes"),
    (b'{"body": {}, "sizes": [1e3]}', "malformed buffer sizes"),
    (b'{"body": [1], "sizes": []}', "must be a dict"),
    (b'{"body": {"__dict__": []}, "sizes": [999999999999]}', "more than"),
])
def test_receive_refuses_malformed_frames(header, reason):
    """Does receive refuse extra keys, negative or huge buffer sizes, and non-dict messages?"""
    with pytest.raises(WireError, match=reason):
        pipe_message(HEADER.pack(len(header)) + header)


def test_receive_refuses_a_giant_header_without_reading_it():
    """Is a frame announcing a header over the limit refused before anything is read?"""
    with pytest.raises(WireError, match="header"):
        pipe_message(HEADER.pack(2 ** 40))


def test_receive_refuses_a_header_nested_deeper_than_json_can_parse():
    """Is a header of 100000 nested lists refused as a WireError, not a RecursionError?"""
    header = b'{"body":' + b"[" * 100_000 + b"]" * 100_000 + b',"sizes":[]}'
    with pytest.raises((WireError, ValueError)):
        pipe_message(HEADER.pack(len(header)) + header)


# -- the grader's side: caps before parsing, deadlines on every read and write ----------

def reply_from(raw: bytes):
    """``raw`` written into a pipe by a thread and read back with the grader's caps on
    replies; the writer gives up quietly when the reader does."""
    rfd, wfd = os.pipe()

    def write():
        try:
            _write_all(wfd, raw)
        except BrokenPipeError:
            pass
        finally:
            os.close(wfd)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        return receive(rfd, np, max_header=MAX_REPLY_HEADER_BYTES,
                       max_arrays=MAX_REPLY_ARRAY_BYTES)
    finally:
        os.close(rfd)
        writer.join()


def frame(header: dict | bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return HEADER.pack(len(text)) + text


def test_a_reply_header_over_its_cap_is_refused_before_it_is_read_or_parsed():
    """Is a reply header one byte over the cap refused for its size alone: not read, not
    parsed (it is not even JSON), and with the reader's memory staying small?"""
    raw = frame(b"[" * (MAX_REPLY_HEADER_BYTES + 1))
    tracemalloc.start()
    try:
        with pytest.raises(WireError, match=f"header of {MAX_REPLY_HEADER_BYTES + 1} bytes"):
            reply_from(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024, peak


def test_a_reply_of_a_20_mb_message_is_refused_unparsed():
    """Is a well-formed reply carrying a 20 MB message refused by its header's size?"""
    body = {"__dict__": [["ok", False], ["status", "error"], ["message", "x" * 20_000_000]]}
    raw = frame({"body": body, "sizes": []})
    tracemalloc.start()
    try:
        with pytest.raises(WireError, match="header of"):
            reply_from(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024, peak


def test_a_reply_whose_arrays_exceed_their_cap_is_refused_before_they_are_read():
    """Is a small header announcing more array bytes than a reply may carry refused before
    the reader waits for them (none follow here: a reader that waited would see EOF)?"""
    spec = {"__nd__": 0, "dtype": "<f8", "shape": [MAX_REPLY_ARRAY_BYTES // 8 + 1]}
    raw = frame({"body": {"__dict__": [["value", spec]]}, "sizes": [MAX_REPLY_ARRAY_BYTES + 8]})
    with pytest.raises(WireError, match="bytes of arrays"):
        reply_from(raw)


def test_a_header_nested_deeper_than_any_message_is_refused_before_it_is_parsed():
    """Is a header nested deeper than any encodable message refused before the parser sees
    it (it is not JSON past the brackets), while the deepest real message still crosses?"""
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(WireError, match="nested more than"):
        reply_from(frame(b'{"body":' + deep + b',"sizes":[]} not JSON'))
    # The deepest value encode allows: dicts all the way down to an array, in a tuple.
    value = np.arange(3.0)
    for _ in range(MAX_DEPTH - 2):
        value = {"k": value}
    message = {"value": (value,)}
    tree, buffers = encode(message, np)
    raw = frame({"body": tree, "sizes": [len(b) for b in buffers]}) + b"".join(buffers)
    back = reply_from(raw)
    assert same(back, message)


def test_strings_inside_a_header_do_not_count_as_nesting():
    """Do brackets, quotes and backslashes inside strings leave the nesting check alone?"""
    message = {"text": '[[[{{{"\\"\\\\' * 1000, "list": ["]]]", "\\", '"']}
    tree, _ = encode(message, np)
    assert reply_from(frame({"body": tree, "sizes": []})) == message


def test_decode_refuses_two_arrays_that_share_one_buffer():
    """Can a small header make one buffer into many arrays (a copy each)? It must not."""
    spec = array_spec("<f8", (2,), index=0)
    with pytest.raises(WireError, match="one buffer"):
        decode({"__tuple__": [spec, dict(spec)]}, [b"\0" * 16], np)


def test_send_refuses_a_message_over_the_cap_its_reader_applies():
    """Does an honest sender learn that its reply is too large, before writing a byte?"""
    rfd, wfd = os.pipe()
    try:
        with pytest.raises(WireError, match="too large to send"):
            send(wfd, {"output": "x" * (MAX_REPLY_HEADER_BYTES + 1)}, np,
                 max_header=MAX_REPLY_HEADER_BYTES)
        with pytest.raises(WireError, match="too large to send"):
            send(wfd, {"value": np.zeros(MAX_REPLY_ARRAY_BYTES // 8 + 1)}, np,
                 max_arrays=MAX_REPLY_ARRAY_BYTES)
        os.set_blocking(rfd, False)
        with pytest.raises(BlockingIOError):
            os.read(rfd, 1)
    finally:
        os.close(rfd)
        os.close(wfd)


def test_a_write_into_a_pipe_nobody_reads_gives_up_at_its_deadline():
    """Shrunk to one page and never read, does a pipe make the grader's write of a larger
    request raise TimeoutError at its deadline, rather than wait for room forever?"""
    rfd, wfd = os.pipe()
    try:
        fcntl.fcntl(rfd, fcntl.F_SETPIPE_SZ, 4096)
        os.set_blocking(wfd, False)
        with no_hang(), pytest.raises(TimeoutError):
            write_before(wfd, b"x" * 6000, time.monotonic() + 0.2)
    finally:
        os.close(rfd)
        os.close(wfd)


def test_only_refusal_records_of_the_one_shape_are_kept():
    """From the evidence socket, are records with invented keys, wrong types, fields over
    their caps, oversized packets and junk dropped, and at most 100 kept?"""
    worker = WorkerClient(reference_sources(), Limits(), Isolation("basic"))
    worker.evidence, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker.evidence.setblocking(False)
    good = {"event": "open", "detail": "/etc/shadow"}
    packets = [
        {"event": "open", "detail": "forged", "invented": "x" * 1000},
        {"event": ["open"], "detail": "a list"},
        {"event": "open", "detail": 3},
        {"event": "", "detail": "no event"},
        {"event": "e" * 65, "detail": "event too long"},
        {"event": "open", "detail": "d" * 201},
        {"detail": "no event at all"},
        ["open", "/etc/shadow"],
    ]
    try:
        for packet in packets:
            theirs.send(json.dumps(packet).encode() + b"\n")
        theirs.send(b"not json\n")
        theirs.send(b"")
        theirs.send(b'{"event": "open", "detail": "' + b"x" * 5000 + b'"}\n')
        theirs.send(b"[" * 4000)
        theirs.send('{"event": "open", "detail": "é"}'.encode())
        theirs.send(json.dumps(good).encode() + b"\n")
        assert worker.refusals == [good]
        for i in range(150):
            theirs.send(json.dumps({"event": "open", "detail": str(i)}).encode())
        assert len(worker.refusals) == MAX_REFUSALS
    finally:
        theirs.close()
        worker.close()


# -- against a real worker: what student code can do to the wire from inside ----------

SERVE_FRAME = '''

import json as _json
import os as _os
import struct as _struct
import sys as _sys
import time as _time


def _serve():
    frame = _sys._getframe()
    while frame is not None and frame.f_code.co_name != "serve":
        frame = frame.f_back
    return frame


def _forge(fields):
    """Write a reply of ``fields`` onto the reply pipe, and swallow the worker's own."""
    frame = _serve()
    header = _json.dumps({"body": {"__dict__": fields}, "sizes": []}).encode()
    _os.write(frame.f_locals["wfd"], _struct.pack(">Q", len(header)) + header)
    space = frame.f_globals
    real = space["send"]

    def swallow(*args, **kwargs):
        space["send"] = real

    space["send"] = swallow
'''

STOPS_READING = SERVE_FRAME + '''

import fcntl as _fcntl


def mse_loss(y_true, y_pred):
    frame = _serve()
    _fcntl.fcntl(frame.f_locals["rfd"], _fcntl.F_SETPIPE_SZ, 4096)
    frame.f_globals["receive"] = lambda *args, **kwargs: _time.sleep(3600)
    return 0.5
'''

ERASES = SERVE_FRAME + '''

def mse_loss(y_true, y_pred):
    for attempt in (lambda: __import__("solutions"), lambda: open("/etc/shadow").read(),
                    lambda: __import__("ctypes")):
        try:
            attempt()
        except BaseException:
            pass
    _serve().f_locals["self"].refusals.clear()
    return 0.5
'''

FORGES = SERVE_FRAME + '''

def mse_loss(y_true, y_pred):
    _forge([["ok", True], ["value", 0.5], ["output", "o" * 300_000], ["output_dropped", 0],
            ["warnings", ["RuntimeWarning: " + "w" * 300] * 2000]])


def mse_grad(y_true, y_pred):
    big = "x" * 250_000
    _forge([["ok", False], ["status", "error"], ["message", big], ["type", big],
            ["traceback", big], ["output", "o" * 150_000], ["output_dropped", 0]])
    return y_pred


def forges_a_20_mb_message():
    _forge([["ok", False], ["status", "error"], ["message", "x" * 20_000_000]])
'''

CRASHES = '''

import os as _os


def graph_forward(x):
    _os.write(2, b"the worker's last words\\n")
    _os._exit(3)
'''


@pytest.fixture(params=[(mode, forked) for mode in MODES for forked in (False, True)],
                ids=lambda p: f"{p[0]}-{'forked' if p[1] else 'fresh'}")
def start_worker(request):
    """A worker for the reference with extra code appended to a module, started fresh or
    forked from a zygote, in each isolation; closed (with its zygote) after the test."""
    mode, forked = request.param
    require(mode)
    isolation = Isolation(mode)
    made = []

    def start(module: str, extra: str, wall_seconds: float = 2.0) -> WorkerClient:
        sources = reference_sources()
        sources[module] += extra
        zygote = Zygote(isolation) if forked else None
        worker = WorkerClient(sources, Limits(wall_seconds=wall_seconds, cpu_seconds=wall_seconds),
                        isolation, zygote)
        made.append((worker, zygote))
        worker.start()
        return worker

    yield start
    for worker, zygote in made:
        worker.close()
        if zygote is not None:
            zygote.close()


@pytest.mark.slow  # waits out the call's wall clock, in each of the four kinds of worker
def test_a_worker_that_stops_reading_its_requests_costs_the_call_a_timeout(start_worker):
    """When student code shrinks the request pipe to a page and never reads it again, does
    the grader's next (larger) request end as that call's timeout, not a hang?"""
    worker = start_worker("mse", STOPS_READING)
    assert worker.call("mse", "mse_loss", (np.zeros(2), np.zeros(2))).value == 0.5
    with no_hang(), pytest.raises(WorkerDied) as died:
        worker.call("mse", "mse_loss", (np.zeros(100_000), np.zeros(100_000)))
    assert died.value.failure.status == "timeout"
    assert not worker.alive


def test_refusals_stay_recorded_when_the_worker_clears_its_list(start_worker):
    """Refused three times, then clearing the worker's own list through the frames: does
    the grader still hold all three refusals, read from the evidence socket?"""
    worker = start_worker("mse", ERASES)
    assert worker.call("mse", "mse_loss", (np.zeros(2), np.zeros(2))).value == 0.5
    assert [(r["event"], r["detail"]) for r in worker.refusals] == [
        ("import", "solutions"), ("open", "/etc/shadow"), ("import", "ctypes")]


def test_forged_replies_reach_the_grader_cut_to_their_caps(start_worker):
    """Forged onto the reply pipe, is a reply's output, warnings, message, type and
    traceback each cut to its cap, and a 20 MB message refused outright?"""
    worker = start_worker("mse", FORGES)
    limits = worker.limits
    reply = worker.call("mse", "mse_loss", (np.zeros(2), np.zeros(2)))
    assert reply.value == 0.5
    assert len(reply.output) == limits.output_chars
    assert reply.output_dropped == 300_000 - limits.output_chars
    assert len(reply.warnings) == MAX_WARNINGS
    assert all(len(w) <= MAX_WARNING_CHARS for w in reply.warnings)
    failure = worker.call("mse", "mse_grad", (np.zeros(2), np.zeros(2))).failure
    assert failure.status == "error"
    assert len(failure.message) <= MAX_MESSAGE_CHARS + 100  # and what was cut, said
    assert len(failure.kind) <= MAX_TYPE_CHARS
    assert len(failure.traceback) <= MAX_TRACEBACK_CHARS
    assert len(failure.output) == limits.output_chars
    with no_hang(), pytest.raises(WorkerDied) as died:
        worker.call("mse", "forges_a_20_mb_message")
    assert died.value.failure.status == "crashed"
    assert "header of" in died.value.failure.message


def test_a_fifo_where_stderr_used_to_be_cannot_hold_the_grader(start_worker):
    """With a FIFO at the worker's stderr.log and a symlink to a host file beside it (what a
    guard bypass could leave), does a crash report the worker's own stderr, read through
    the grader's descriptor, without waiting on the FIFO?"""
    worker = start_worker("chain_rule", CRASHES)
    os.mkfifo(worker.root / "stderr.log")
    (worker.root / "stderr.log.link").symlink_to("/etc/passwd")
    with no_hang(), pytest.raises(WorkerDied) as died:
        worker.call("chain_rule", "graph_forward", (1.0,))
    assert died.value.failure.status == "crashed"
    assert "the worker's last words" in died.value.failure.output
    assert "root:" not in died.value.failure.output
