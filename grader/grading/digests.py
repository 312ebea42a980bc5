"""Keys and digests: where the release's fingerprints and a bundle's diagnosis meet.

The release runs the autotests on the reference and writes, for each (function, inputs)
a public test may diagnose, a digest of what every catalogued mistake returns there
(:mod:`grader.course.fingerprints`); the student bundle, which has no reference, looks
the same inputs up (:func:`grader.grading.misconceptions.diagnose`). Both sides must turn
the same inputs into the same key and the same output into the same digest, so both use
this module and nothing else.

- ``key``: the function's name and its inputs, each float rounded to KEY_BITS significant
  bits (about 7 digits) with dtype, shape and structure kept. Not the exact bytes: the
  dense chain test passes a layer's own output h on to the next call, and the training
  test its trained params, so those inputs carry the student's round-off, which a key of
  exact bytes would not forgive.
- ``form`` and ``numbers``: an output's structure as ``misconceptions._close`` checks it
  (dict keys, sequence lengths, float64 array shapes, a number, None for a part that is
  not predicted), and its numbers in a fixed order. ``numbers`` with ``strict`` refuses
  what ``_close`` refuses (a list for an array, float32, a 0-d array for an array).
- ``digest``: the key, the mistake's id, the form and the numbers rounded to VALUE_BITS
  significant bits; numbers below TINY count as 0. Two outputs with the same digest are
  within ``_close``'s tolerance of each other in every number (the same rounding step
  is below rtol = 1e-6, and two numbers below TINY differ by less than atol = 1e-9), so
  a bundle never names a mistake the instructor's grader would not name for the same
  output. The reverse fails only when a number lies within its own round-off of a
  rounding step, about 1e-9 of the time per number for a mistake computed another way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

FORMAT = 1
KEY_BITS = 24
VALUE_BITS = 21
TINY = 2.0 ** -31


def _rounded(values, bits: int) -> bytes:
    """Each float as (mantissa rounded to ``bits`` bits, exponent), little-endian int64s;
    below TINY, 0; nan and the infinities as markers of their own."""
    x = np.asarray(values, dtype=np.float64).ravel()
    finite = np.isfinite(x)
    mantissa, exponent = np.frexp(np.where(finite, x, 0.0))
    scaled = np.rint(mantissa * 2.0 ** bits)
    # A mantissa that rounds up to 1.0 is the next binade's first step, written one way only.
    top = np.abs(scaled) == 2.0 ** bits
    scaled = np.where(top, scaled / 2, scaled)
    exponent = np.where(top, exponent + 1, exponent)
    zero = ~finite | (np.abs(x) < TINY)
    scaled = np.where(zero, 0.0, scaled)
    marker = np.where(np.isnan(x), 1 << 20, np.where(np.isinf(x), np.sign(x) * (1 << 21), 0))
    exponent = np.where(zero, marker, exponent)
    return np.stack([scaled, exponent], axis=-1).astype("<i8").tobytes()


def _encode(value, out: list[bytes], bits: int = KEY_BITS) -> bool:
    """Append the canonical bytes of ``value``; False for a value no test input holds."""
    if value is None:
        out.append(b"N")
    elif isinstance(value, (bool, np.bool_)):
        out.append(b"B1" if value else b"B0")
    elif isinstance(value, (int, np.integer)):
        out.append(b"I%d;" % int(value))
    elif isinstance(value, (float, np.floating)):
        out.append(b"F" + _rounded(value, bits))
    elif isinstance(value, str):
        text = value.encode("utf-8")
        out.append(b"S%d;" % len(text) + text)
    elif isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            body = _rounded(value, bits)
        elif value.dtype.kind in "biu":
            body = value.astype(value.dtype.newbyteorder("<")).tobytes()
        else:
            return False
        out.append(b"A" + value.dtype.str.encode() + repr(value.shape).encode() + body)
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return False
        out.append(b"D%d;" % len(value))
        for name in sorted(value):
            if not (_encode(name, out) and _encode(value[name], out, bits)):
                return False
    elif isinstance(value, (list, tuple)):
        out.append((b"L" if isinstance(value, list) else b"T") + b"%d;" % len(value))
        return all(_encode(item, out, bits) for item in value)
    else:
        return False
    return True


def key(function: str, inputs: dict, bits: int = KEY_BITS) -> str | None:
    """The key of a test's call: None for inputs that hold something no key can name.
    ``bits=53`` keeps every float whole (the release tells apart inputs that share a key)."""
    out: list[bytes] = []
    if not _encode(function, out) or not _encode(inputs, out, bits):
        return None
    return hashlib.blake2b(b"".join(out), digest_size=16).hexdigest()


def form(value):
    """The structure of a mistake's output, as plain JSON data."""
    if value is None:
        return None
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("a dict with keys that are not strings")
        return {"dict": {k: form(v) for k, v in value.items()}}
    if isinstance(value, (tuple, list)):
        return {"seq": [form(v) for v in value]}
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return {"array": list(value.shape)}
    return "number"


def _is_number(value) -> bool:
    return type(value) in (float, np.float64) or (
        type(value) is np.ndarray and value.shape == () and value.dtype == np.float64)


def numbers(value, shape, strict: bool = True) -> np.ndarray | None:
    """The numbers of ``value`` in the order of ``shape``; None where its structure is not
    ``shape`` (with ``strict``, as ``_close`` would refuse it as a student's output)."""
    parts: list[np.ndarray] = []

    def collect(v, s) -> bool:
        if s is None:
            return True
        if s == "number":
            if strict and not _is_number(v):
                return False
            parts.append(np.asarray(v, dtype=np.float64).reshape(1))
            return True
        if not isinstance(s, dict):
            return False
        if "dict" in s:
            spec = s["dict"]
            if type(v) is not dict or not v.keys() >= spec.keys():
                return False
            return all(collect(v[k], spec[k]) for k in sorted(spec))
        if "seq" in s:
            spec = s["seq"]
            return (type(v) in (tuple, list) and len(v) == len(spec)
                    and all(collect(item, part) for item, part in zip(v, spec, strict=True)))
        if "array" in s:
            if strict and (type(v) is not np.ndarray or v.dtype != np.float64):
                return False
            array = np.asarray(v, dtype=np.float64)
            if list(array.shape) != list(s["array"]):
                return False
            parts.append(array.ravel())
            return True
        return False

    try:
        if not collect(value, shape):
            return None
    except (TypeError, ValueError):  # a part that is no number at all
        return None
    return np.concatenate(parts) if parts else np.zeros(0)


def digest(consult: str, misconception: str, shape, values: np.ndarray) -> str | None:
    """The digest of an output's numbers; None when one is not finite (``_close`` never
    matches a prediction that is not finite, nor an output that is not)."""
    if not np.isfinite(values).all():
        return None
    head = json.dumps([consult, misconception, shape], sort_keys=True).encode()
    return hashlib.blake2b(head + _rounded(values, VALUE_BITS), digest_size=16).hexdigest()


def matches(output, consult: str, fingerprint: dict) -> bool:
    """Whether ``output`` is the mistake a fingerprint stands for."""
    try:
        shape, expected = fingerprint["form"], fingerprint["digest"]
        values = numbers(output, shape)
        return values is not None and digest(consult, fingerprint["id"], shape,
                                             values) == expected
    except (KeyError, TypeError, ValueError):  # a damaged table names nothing
        return False


def read_table(path: Path) -> dict:
    """The release's digests by key of their inputs, from ``path``; empty where there is no
    such file (the instructor's install) or it is not one this version wrote."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        consults = table["consults"] if table.get("format") == FORMAT else {}
        return consults if isinstance(consults, dict) else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
