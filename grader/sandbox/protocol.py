"""Length-prefixed JSON frames: the only language spoken across the sandbox wall.

JSON (never pickle) because the trusted side must be able to read a frame that a
hostile submission wrote without running anything it chose.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024  # a reply larger than this is an attack or a bug


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame, or hung up."""


class ConnectionClosed(ProtocolError):
    """The other side hung up (between or inside a frame)."""


class Encoded(str):
    """A value that is already JSON text: `send` puts it into the frame as it is."""


def encode(message: dict[str, Any]) -> bytes:
    """`message` as one JSON object; `Encoded` values are spliced in, not re-encoded."""
    plain = {k: v for k, v in message.items() if not isinstance(v, Encoded)}
    text = json.dumps(plain, separators=(",", ":"), allow_nan=True)
    spliced = "".join(f",{json.dumps(k)}:{v}" for k, v in message.items()
                      if isinstance(v, Encoded))
    if spliced:
        text = text[:-1] + (spliced if plain else spliced[1:]) + "}"
    return text.encode()


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = encode(message)
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    sock.sendall(HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ConnectionClosed("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket) -> dict[str, Any]:
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    try:
        message = json.loads(_recv_exactly(sock, size))
    except ValueError as exc:
        raise ProtocolError(f"malformed frame: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message
