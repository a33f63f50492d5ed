"""The server's clock as clients are given it (`server_now`, ms since the epoch), so a
countdown is drawn against the server's time, not a phone's that may be minutes off."""

from __future__ import annotations

import time


def server_now_ms() -> int:
    return time.time_ns() // 1_000_000
