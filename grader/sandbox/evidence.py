"""The guard's evidence: the refusals a worker's guard reports, read by the grader.

Only records of the one shape the guard writes are kept, within their caps.
"""

from __future__ import annotations

import json
import socket

# Evidence: the guard writes each refusal as one packet on a socket that only the grader
# reads. A record is {"event": at most 64 characters, "detail": at most 200}, ASCII JSON
# of at most 3.3 KB; a submission's report keeps at most 100. One drain reads at most
# MAX_EVIDENCE_PACKETS packets (junk included) and never waits.
MAX_EVENT_CHARS = 64
MAX_DETAIL_CHARS = 200
MAX_RECORD_BYTES = 4096
MAX_REFUSALS = 100
MAX_EVIDENCE_PACKETS = 1000


def parse_refusal(packet: bytes) -> dict | None:
    """The refusal record in one evidence packet, or None for anything but the one shape:
    exactly {"event": str, "detail": str}, each within its cap, as ASCII JSON."""
    if len(packet) > MAX_RECORD_BYTES:
        return None
    try:
        record = json.loads(packet.decode("ascii"))
    except (ValueError, RecursionError):
        return None
    if type(record) is not dict or set(record) != {"event", "detail"}:
        return None
    event, detail = record["event"], record["detail"]
    if (type(event) is not str or type(detail) is not str or not event
            or len(event) > MAX_EVENT_CHARS or len(detail) > MAX_DETAIL_CHARS):
        return None
    return {"event": event, "detail": detail}


def drain_refusals(evidence: socket.socket, refusals: list[dict]) -> None:
    """Add to ``refusals`` what the guard wrote on the ``evidence`` socket since the last drain.

    Never waits, reads at most MAX_EVIDENCE_PACKETS packets, keeps only records of the
    one shape the guard writes, and at most MAX_REFUSALS of them. Forged records only
    add evidence against the student's own submission; a closed socket adds nothing.
    """
    for _ in range(MAX_EVIDENCE_PACKETS):
        if len(refusals) >= MAX_REFUSALS:
            return
        try:
            packet = evidence.recv(MAX_RECORD_BYTES + 1)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        record = parse_refusal(packet)
        if record is not None:
            refusals.append(record)
