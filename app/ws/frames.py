"""Server → client frames, encoded once and written as raw bytes.

Server frames are never masked and the service negotiates no extensions
(permessage-deflate is off), so a text frame's bytes are the same for every
recipient: a room's RESULTS is serialized once per flush and the same `bytes`
object is written to every member's transport.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

_FIN_TEXT = 0x81
_FIN_PONG = 0x8A


def text_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((_FIN_TEXT, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, n) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, n) + payload


def pong_frame(payload: bytes) -> bytes:
    """The answer to a ping; its payload (at most 125 bytes, as in every control frame)."""
    return bytes((_FIN_PONG, len(payload))) + payload


def message_frame(message: dict[str, Any]) -> bytes:
    return text_frame(orjson.dumps(message))
