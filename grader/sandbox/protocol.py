"""Length-prefixed JSON frames: the only language spoken across the sandbox wall.

JSON (never pickle) because the trusted side must be able to read a frame that a
hostile submission wrote without running anything it chose.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from collections.abc import Callable, Mapping

TYPE_CHECKING = False  # typing's own is an import: zygotes load typing for boxes that use it
if TYPE_CHECKING:
    from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024  # a reply larger than this is an attack or a bug
# The largest value a box sends as an answer (a variable, or one call's results), as
# JSON text: far above any exercise's data, far below what would stall a grader.
MAX_VALUE = 4 * 1024 * 1024


# A call's draws (`host._draws`): one of these characters per draw, naming its outcome.
# Printable ASCII that JSON writes as itself (no quote, no backslash): one byte each.
PICKS = "".join(chr(c) for c in range(0x23, 0x7F) if c != 0x5C)


def expand_draws(draws: Any) -> list[str] | None:
    """The results a box sent as draws (`{"outcomes": [...], "picks": "..."}`), or None
    if they are not well formed: a box's frame is learner-controlled data."""
    if not isinstance(draws, dict) or draws.keys() != {"outcomes", "picks"}:
        return None
    outcomes, picks = draws["outcomes"], draws["picks"]
    # each draw is 3 characters of JSON at the least (`"",`): no more fit in MAX_VALUE
    if (not isinstance(outcomes, list) or len(outcomes) > len(PICKS)
            or not all(isinstance(o, str) for o in outcomes) or not isinstance(picks, str)
            or len(picks) > MAX_VALUE // 3):
        return None
    table = dict(zip(PICKS, outcomes))
    try:
        return list(map(table.__getitem__, picks))
    except KeyError:
        return None


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame, or hung up."""


class ConnectionClosed(ProtocolError):
    """The other side hung up (between or inside a frame)."""


class Encoded(str):
    """A value that is already JSON text: `send` puts it into the frame as it is."""


# json.dumps(..., separators=..., allow_nan=True) builds this encoder anew on every call:
# made once, every frame both ways and every value a box sends skip that Python work.
write = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode


def encode_text(message: Mapping[str, object]) -> str:
    """`message` as one JSON object; `Encoded` values are spliced in, not re-encoded."""
    spliced = [(k, v) for k, v in message.items() if isinstance(v, Encoded)]
    if not spliced:  # every request, and every reply but a call's
        return write(message)
    plain = {k: v for k, v in message.items() if not isinstance(v, Encoded)}
    text = write(plain)
    tail = "".join(f",{json.dumps(k)}:{v}" for k, v in spliced)
    return text[:-1] + (tail if plain else tail[1:]) + "}"


def encode(message: Mapping[str, object]) -> bytes:
    """`message` as one JSON object, in bytes (`encode_text`)."""
    return encode_text(message).encode()


def frame(message: Mapping[str, object]) -> bytes:
    """`message` as the bytes `send` writes: its length, then its JSON."""
    data = encode(message)
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(data)) + data


def send(sock: socket.socket, message: Mapping[str, object]) -> None:
    sock.sendall(frame(message))


def _recv_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = []
    while size:
        if deadline is not None:  # one deadline for the whole frame, not one per chunk
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the frame did not arrive in time")
            sock.settimeout(remaining)
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ConnectionClosed("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# A "\udXXX" escape may decode to a lone surrogate: text no file or JSON writer takes.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _clean(value: Any) -> Any:
    """`value` with lone surrogates in its strings written as backslash escapes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


# json's scanner itself (C where it is built): what json.loads runs once it has
# detected the encoding, decoded the bytes and skipped whitespace with a regex.
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(  # noqa: B009 (typeshed omits it)
    json.JSONDecoder(), "scan_once")


def read_request(sock: socket.socket) -> dict[str, Any]:
    """`recv` for a box, whose frames its trusted side wrote (`send`: UTF-8 JSON
    objects, no whitespace around them): the same message, decoded by json's scanner
    without json.loads's Python layers, whose code and objects a box would otherwise
    write to (refcounts), a copy-on-write page fault each (~30 per box)."""
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size, None))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    data = _recv_exactly(sock, size, None)
    try:
        text = data.decode()
        message, end = _scan_once(text, 0)
        if _SURROGATE_ESCAPE.search(data):  # as `recv`
            message = _clean(message)
    except (StopIteration, ValueError, RecursionError):
        raise ProtocolError("malformed frame") from None
    if end != len(text) or not isinstance(message, dict):
        raise ProtocolError("frame is not one JSON object")
    return message


def recv(sock: socket.socket, deadline: float | None = None) -> dict[str, Any]:
    """One frame; with `deadline` (time.monotonic), TimeoutError if it is not whole by then."""
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size, deadline))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    data = _recv_exactly(sock, size, deadline)
    try:
        message = json.loads(data)
        if _SURROGATE_ESCAPE.search(data):  # rare: only then walk the whole message
            message = _clean(message)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed frame: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message
