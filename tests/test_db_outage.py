"""The database really goes away: answers stay fast (503 `unavailable`), votes go on.

On MySQL a server process talks to the shared MariaDB through a `TcpProxy` that the
test turns into a blackhole (connections accepted, nothing answered: a stopped or
partitioned host) or resets (every connection closed: a crashed server). SQLite is a
library inside the process, with no server that could stop answering; its one real
failure short of a broken disk is another process holding the file's write lock,
which the SQLite test does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.conftest import Person
from tests.tcp_proxy import TcpProxy
from tests.test_polls import create
from tests.wsclient import WsClient

# DB_TIMEOUT_S for the servers below; a request may meet it twice (the token check,
# then the handler's own query), so answers come within about 4 s. The bound asserted
# is generous for a loaded machine, and far below "hangs".
DB_TIMEOUT_S = 2
ANSWER_WITHIN_S = 12.0


@pytest.fixture
def db_proxy(mysql_url: str | None) -> Iterator[tuple[TcpProxy, str]]:
    if mysql_url is None:
        pytest.skip("MySQL only: SQLite has no server to lose (see the module docstring)")
    parts = urlsplit(mysql_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306).start()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    proxied = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) > 1 else host))
    yield proxy, proxied
    proxy.close()


async def timed(request: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await request
    return result, time.monotonic() - started


def assert_unavailable(r: httpx.Response, took: float) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "unavailable"
    assert set(r.json()["error"]) <= {"code", "message", "details"}
    assert int(r.headers["retry-after"]) >= 1
    assert took < ANSWER_WITHIN_S


async def ws_refused(url: str, token: str) -> tuple[int, bytes | bytearray, float]:
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as info:
        await WsClient.open(url, token)
    response = info.value.response
    return response.status_code, response.body or b"", time.monotonic() - started


@pytest.mark.multiprocess
@pytest.mark.parametrize("fault", ["blackhole", "reset"])
async def test_a_lost_database_is_a_fast_503_and_open_sockets_keep_voting(
    db_proxy: tuple[TcpProxy, str], server_process: Any, make_person: Any, fault: str
) -> None:
    proxy, proxied_url = db_proxy
    server = server_process(
        DATABASE_URL=proxied_url, DB_TIMEOUT_S=str(DB_TIMEOUT_S), AUTH_CACHE_S="300"
    )
    owner: Person = await make_person()
    voter: Person = await make_person(guest=True)
    recent: Person = await make_person(guest=True)
    stranger: Person = await make_person(guest=True)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        poll = await create(http, owner)
        elsewhere = await create(http, owner)  # a room this process does not host
        ws = await WsClient.joined(server.ws_url, voter.token, poll["id"])
        # Checked by this process just before the outage: admitted from its cache.
        assert (await http.get("/auth/me", headers=recent.headers)).status_code == 200

        proxy.set_mode(fault)  # type: ignore[arg-type]

        # Every REST route that needs the database: 503 with the error body, fast.
        for method, path, who, body in [
            ("GET", f"/polls/{poll['id']}", stranger, None),
            ("GET", f"/polls/{poll['id']}", recent, None),
            ("GET", "/auth/me", stranger, None),
            ("GET", "/polls", owner, None),
            ("POST", "/auth/guest", None, {}),
            ("POST", "/auth/login", None, {"username": "nobody", "password": "whatever1"}),
            ("POST", "/auth/logout", recent, None),
        ]:
            headers = who.headers if who else {}
            r, took = await timed(http.request(method, path, headers=headers, json=body))
            assert_unavailable(r, took)

        # The handshake: 503 for a token the cache cannot vouch for, before any upgrade.
        status, body_bytes, took = await ws_refused(server.ws_url, stranger.token)
        assert status == 503 and b'"unavailable"' in body_bytes and took < ANSWER_WITHIN_S
        admitted = await WsClient.open(server.ws_url, recent.token)
        assert (await admitted.request(type="PING"))["type"] == "PONG"

        # Open sockets keep voting: the vote path is Redis only.
        option = poll["options"][0]["id"]
        ack = await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[option], within=10)
        assert ack["type"] == "VOTE_ACK" and ack["status"] == "accepted"
        ack = await admitted.request(
            type="VOTE", poll_id=poll["id"], option_ids=[option], within=10
        )
        assert ack["type"] == "VOTE_ACK" and ack["status"] == "accepted"

        # A JOIN that needs the database gets an ERROR; the socket stays open.
        err = await admitted.request(type="JOIN_POLL", code=elsewhere["code"], within=15)
        assert err["type"] == "ERROR" and err["code"] == "internal_error"
        assert (await admitted.request(type="PING"))["type"] == "PONG"

        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["checks"]["database"] == "failed"

        # Back: the next requests are served again, no restart needed.
        proxy.set_mode("forward")
        deadline = time.monotonic() + 30
        url = f"/polls/{poll['id']}"
        while (r := await http.get(url, headers=stranger.headers)).status_code != 200:
            assert r.status_code == 503 and time.monotonic() < deadline, r.text
            await asyncio.sleep(0.2)
        assert r.json()["results"]["total"] == 2
        await ws.close()
        await admitted.close()
    log = server.log.read_text()
    assert "Traceback" not in log and "unhandled error" not in log


async def test_a_locked_sqlite_file_is_a_503_not_a_hang(
    client: httpx.AsyncClient, live_server: Any
) -> None:
    settings = live_server.app.ctx.settings
    if settings.is_mysql:
        pytest.skip("SQLite only: the MySQL outage is the test above")
    path = settings.resolved_database_url.removeprefix("sqlite://")
    guest = (await client.post("/auth/guest", json={})).json()
    # Another process's write transaction holds the file (as `sqlite3 file` + BEGIN
    # EXCLUSIVE would): writes wait for the busy timeout, then fail.
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        r, took = await timed(client.post("/auth/guest", json={}))
        assert_unavailable(r, took)
        headers = {"Authorization": f"Bearer {guest['access_token']}"}
        r, took = await timed(client.post("/auth/logout", headers=headers))
        assert_unavailable(r, took)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (await client.post("/auth/guest", json={})).status_code == 201
