"""Operational endpoints and the error body for requests that match no handler."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import time
from typing import Any

import httpx
import pytest

from tests.conftest import metric
from tests.wsclient import WsClient


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


async def test_readyz_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    r = await client.delete("/healthz")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


async def test_metrics_exposition(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "livepolls_http_requests_total" in r.text


async def test_openapi_spec_lists_rest_routes(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs/openapi.json")
    assert r.status_code == 200
    spec: dict[str, Any] = r.json()
    assert spec["info"]["title"] == "livepolls"
    assert "/readyz" in spec["paths"]
    assert "/ws" not in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


@pytest.mark.multiprocess
def test_readyz_names_the_failed_dependency(server_process: Any) -> None:
    server = server_process(REDIS_URL="redis://127.0.0.1:1/0")
    r = httpx.get(f"{server.base_url}/readyz", timeout=10)
    assert r.status_code == 503
    body = r.json()["error"]
    assert body["code"] == "not_ready"
    assert body["details"]["checks"] == {"database": "ok", "redis": "failed"}


def _healthz_served(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("livepolls_http_requests_total{") and 'route="healthz"' in line
    )


@pytest.mark.multiprocess
def test_metrics_merge_every_worker_process(server_process: Any) -> None:
    server = server_process(workers=2)
    before = _healthz_served(server.base_url)
    pids: set[int] = set()
    sent = 0
    # A new connection each time; which worker accepts it is the kernel's choice, so
    # keep asking (bounded) until both have answered some.
    while sent < 40 or (len(pids) < 2 and sent < 400):
        r = httpx.get(f"{server.base_url}/healthz", headers={"Connection": "close"})
        pids.add(r.json()["pid"])
        sent += 1
    assert len(pids) == 2, "both workers should have answered some requests"
    assert _healthz_served(server.base_url) - before == sent


@pytest.mark.multiprocess
async def test_log_level_governs_sanics_loggers_too(server_process: Any, make_person: Any) -> None:
    person = await make_person()
    logs: dict[str, str] = {}
    for level in ("INFO", "WARNING"):
        server = server_process(LOG_LEVEL=level, PYTHONUNBUFFERED="1")
        ws = await WsClient.open(server.ws_url, person.token)
        assert (await ws.request(type="PING"))["type"] == "PONG"
        ws.conn.transport.close()  # gone without a close frame, as phones go
        # The server has seen it go once the socket is off its gauge.
        async with httpx.AsyncClient(base_url=server.base_url) as http, asyncio.timeout(10):
            while True:
                if await metric(http, "livepolls_ws_connections") == 0:
                    break
                await asyncio.sleep(0.05)
        logs[level] = server.log.read_text(errors="replace")
    assert "connection closed" in logs["INFO"]
    assert "connection closed" not in logs["WARNING"]


def _connected_within(port: int, n: int, seconds: float) -> int:
    """Open `n` TCP connections at once; how many complete their handshake in time."""
    socks = []
    poller = select.poll()
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
            poller.register(s, select.POLLOUT)
        done: set[int] = set()
        deadline = time.monotonic() + seconds
        while len(done) < n and (left := deadline - time.monotonic()) > 0:
            for fd, _ in poller.poll(left * 1000):
                poller.unregister(fd)
                done.add(fd)
        return sum(
            1
            for s in socks
            if s.fileno() in done and not s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        )
    finally:
        for s in socks:
            s.close()


@pytest.mark.multiprocess
def test_a_busy_web_process_still_takes_a_storm_of_connections(server_process: Any) -> None:
    # Stopped, the processes accept nothing: the kernel's queue (LISTEN_BACKLOG) is all
    # there is, as when every worker is busy with handshakes in a reconnect storm.
    server = server_process(LISTEN_BACKLOG="1000")
    os.killpg(server.proc.pid, signal.SIGSTOP)
    try:
        assert _connected_within(server.port, 600, 2.0) == 600
    finally:
        os.killpg(server.proc.pid, signal.SIGCONT)
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
