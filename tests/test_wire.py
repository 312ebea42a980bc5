"""The worker protocol: only plain data crosses, in both directions, and nothing else decodes."""

from __future__ import annotations

import json
import math
import os
import pickle
import threading

import numpy as np
import pytest

from grader.worker_main import (HEADER, MAX_DEPTH, Handle, WireError, decode, encode, receive,
                                send)

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
    """Does a message with arrays and handles cross a real pipe intact, arrays larger than a pipe buffer too?"""
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
