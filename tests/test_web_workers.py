"""The web launcher replaces a worker process that died (app/worker_supervisor.py)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.multiprocess


def answering_pids(base_url: str, want: int, within_s: float = 30) -> set[int]:
    """The pids of the workers that answer /healthz: new connections each time (the
    kernel picks the worker) until `want` distinct ones answered. Every request must
    succeed: the service never stops answering while a worker is replaced."""
    pids: set[int] = set()
    deadline = time.monotonic() + within_s
    while len(pids) < want:
        assert time.monotonic() < deadline, f"only {pids} answered"
        r = httpx.get(f"{base_url}/healthz", headers={"Connection": "close"}, timeout=10)
        assert r.status_code == 200, r.text
        pids.add(r.json()["pid"])
    return pids


def test_a_killed_web_worker_is_logged_and_replaced(server_process: Any) -> None:
    server = server_process(workers=2, LOG_LEVEL="INFO")
    first = answering_pids(server.base_url, 2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    # A new worker comes up next to the survivor; meanwhile every request is answered.
    deadline = time.monotonic() + 60
    while True:
        pids = answering_pids(server.base_url, 1)
        if pids - first:
            break
        assert time.monotonic() < deadline, "no new worker process answered"
        time.sleep(0.2)
    after = answering_pids(server.base_url, 2)
    assert victim not in after and len(after - first) == 1, (first, after)
    log = server.log.read_text(errors="replace")
    assert f"(pid {victim}) died (killed by SIGKILL); starting a new one" in log, log[-3000:]
    assert httpx.get(f"{server.base_url}/metrics", timeout=10).status_code == 200
