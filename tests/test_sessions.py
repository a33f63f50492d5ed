"""Sessions over real HTTP and sockets: refresh-token rotation, theft detection, logout,
and a voter who stays the same voter after its access token expires (app/sessions.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import redis as redis_sync

from app.config import Settings
from app.main import create_app
from models import RefreshToken
from tests.conftest import free_port, unique_name
from tests.test_auth import PASSWORD, bearer, error_of, register
from tests.test_ws_auth import close_code
from tests.web_helpers import serving
from tests.wsclient import WsClient
from workers.jobs import purge_sessions

# A tiny access-token life, so tests watch tokens expire; no leeway, so "expired" is exact.
SHORT_TTL_S = 2


async def start(client: httpx.AsyncClient, kind: str) -> dict[str, Any]:
    """A new session: a guest, or an account registered then logged in."""
    if kind == "guest":
        r = await client.post("/auth/guest", json={})
        assert r.status_code == 201, r.text
    else:
        name = unique_name()
        await register(client, name)
        r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def renew(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/auth/me", headers=bearer(access_token))


def session_of(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


# --- rotation -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["guest", "account"])
async def test_rotation_returns_new_tokens_for_the_same_user(
    client: httpx.AsyncClient, settings: Settings, kind: str
) -> None:
    first = await start(client, kind)
    assert first["token_type"] == "Bearer"
    ttl = settings.guest_refresh_ttl_s if kind == "guest" else settings.refresh_ttl_s
    assert first["refresh_expires_in"] == ttl
    assert len(first["refresh_token"]) >= 40

    r = await renew(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert set(second) == set(first)
    assert second["user"] == first["user"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert session_of(second["access_token"]) == session_of(first["access_token"])
    mine = await me(client, second["access_token"])
    assert mine.status_code == 200
    assert mine.json()["user"]["id"] == first["user"]["id"]

    third = (await renew(client, second["refresh_token"])).json()
    assert third["user"]["id"] == first["user"]["id"]


async def test_only_a_digest_of_the_refresh_token_is_stored(client: httpx.AsyncClient) -> None:
    body = await start(client, "guest")
    rows = await RefreshToken.filter(user_id=body["user"]["id"]).values_list(
        "token_hash", flat=True
    )
    assert len(rows) == 1
    assert body["refresh_token"] not in rows[0]
    assert len(rows[0]) == 64


async def test_expired_refresh_tokens_are_refused_and_purged(client: httpx.AsyncClient) -> None:
    old, kept = await start(client, "guest"), await start(client, "guest")
    await RefreshToken.filter(user_id=old["user"]["id"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await renew(client, old["refresh_token"])).status_code == 401
    assert await purge_sessions({}) == 1
    assert await RefreshToken.filter(user_id=old["user"]["id"]).count() == 0
    assert (await renew(client, kept["refresh_token"])).status_code == 200


async def test_reusing_a_spent_token_ends_the_session(client: httpx.AsyncClient) -> None:
    first = await start(client, "account")
    second = (await renew(client, first["refresh_token"])).json()
    third = (await renew(client, second["refresh_token"])).json()
    assert (await me(client, third["access_token"])).status_code == 200

    # `first` was rotated and its successor used since: two parties hold this session.
    reused = await renew(client, first["refresh_token"])
    assert reused.status_code == 401
    assert error_of(reused)["code"] == "unauthorized"
    assert reused.headers["www-authenticate"] == "Bearer"
    # The whole family is dead, the newest token included, and so is its access token.
    assert (await renew(client, third["refresh_token"])).status_code == 401
    assert (await me(client, third["access_token"])).status_code == 401
    # The account itself is fine: signing in again starts a new session.
    again = await client.post(
        "/auth/login", json={"username": first["user"]["username"], "password": PASSWORD}
    )
    assert again.status_code == 200
    assert (await me(client, again.json()["access_token"])).status_code == 200


async def test_a_retry_whose_reply_was_lost_continues_the_session(
    client: httpx.AsyncClient,
) -> None:
    first = await start(client, "guest")
    lost = await renew(client, first["refresh_token"])  # its reply never reached the phone
    assert lost.status_code == 200
    retried = await renew(client, first["refresh_token"])
    assert retried.status_code == 200, retried.text
    assert retried.json()["user"] == first["user"]
    nxt = await renew(client, retried.json()["refresh_token"])
    assert nxt.status_code == 200
    # Once the chain moved on, the old token is a reuse like any other.
    assert (await renew(client, first["refresh_token"])).status_code == 401
    assert (await renew(client, nxt.json()["refresh_token"])).status_code == 401


async def test_without_a_grace_period_a_retry_is_a_reuse(
    settings: Settings, redis: redis_sync.Redis
) -> None:
    async with short_lived(settings, refresh_reuse_grace_s=0) as client:
        first = await start(client, "guest")
        second = (await renew(client, first["refresh_token"])).json()
        assert (await renew(client, first["refresh_token"])).status_code == 401
        assert (await renew(client, second["refresh_token"])).status_code == 401


async def test_concurrent_renewals_leave_one_live_token(client: httpx.AsyncClient) -> None:
    first = await start(client, "guest")
    replies = await asyncio.gather(*(renew(client, first["refresh_token"]) for _ in range(2)))
    assert [r.status_code for r in replies] == [200, 200]
    assert {r.json()["user"]["id"] for r in replies} == {first["user"]["id"]}
    live = await RefreshToken.filter(
        family=session_of(first["access_token"]), used_at__isnull=True, revoked_at__isnull=True
    ).count()
    assert live == 1


# --- logout ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["guest", "account"])
async def test_logout_ends_the_session(client: httpx.AsyncClient, kind: str) -> None:
    body = await start(client, kind)
    renewed = (await renew(client, body["refresh_token"])).json()
    out = await client.post("/auth/logout", headers=bearer(renewed["access_token"]))
    assert out.status_code == 204
    assert (await renew(client, renewed["refresh_token"])).status_code == 401
    assert (await me(client, renewed["access_token"])).status_code == 401


async def test_logout_ends_only_its_own_session(client: httpx.AsyncClient) -> None:
    laptop = await start(client, "account")
    name = laptop["user"]["username"]
    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    phone = r.json()
    assert (await client.post("/auth/logout", headers=bearer(laptop["access_token"]))).status_code
    assert (await renew(client, laptop["refresh_token"])).status_code == 401
    # The phone's own session renews (to a token issued after the logout's mark).
    r = await renew(client, phone["refresh_token"])
    assert r.status_code == 200, r.text
    assert (await me(client, r.json()["access_token"])).json()["user"]["username"] == name


# --- bad input and limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"refresh_token": ""}, 422),
        ({"refresh_token": 12}, 422),
        ({"refresh_token": "x" * 257}, 422),
        ({"refresh_token": "x", "extra": 1}, 422),
        ({"refresh_token": "made-up"}, 401),
    ],
)
async def test_bad_refresh_requests(
    client: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    r = await client.post("/auth/refresh", json=body)
    assert r.status_code == status, r.text
    if status == 401:
        assert error_of(r)["code"] == "unauthorized"
    assert (await client.post("/auth/refresh", content=b"{nope")).status_code == 400


async def test_renewals_are_rate_limited_per_session_and_per_address(
    client: httpx.AsyncClient, settings: Settings, redis: redis_sync.Redis
) -> None:
    body = await start(client, "guest")
    sid = session_of(body["access_token"])
    redis.set(f"ratelimit:refresh:sid:{sid}", settings.refresh_attempts_per_session, ex=60)
    r = await renew(client, body["refresh_token"])
    assert r.status_code == 429
    assert error_of(r)["code"] == "rate_limited"
    assert 0 < int(r.headers["retry-after"]) <= 60
    # The refused attempt spent nothing: once the window passes, the token still works.
    redis.delete(f"ratelimit:refresh:sid:{sid}")
    assert (await renew(client, body["refresh_token"])).status_code == 200

    redis.set("ratelimit:refresh:ip:127.0.0.1", settings.refresh_attempts_per_ip, ex=60)
    assert (await client.post("/auth/refresh", json={"refresh_token": "x"})).status_code == 429


# --- expiry: the same voter after renewal ------------------------------------------------


@contextlib.asynccontextmanager
async def short_lived(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The service with access tokens of SHORT_TTL_S on a port of its own, and a client."""
    update = {"jwt_ttl_s": SHORT_TTL_S, "jwt_leeway_s": 0, **overrides}
    app = create_app(settings.model_copy(update=update))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with serving(app, port), httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
async def short(settings: Settings, redis: redis_sync.Redis) -> AsyncIterator[httpx.AsyncClient]:
    async with short_lived(settings) as client:
        yield client


async def wait_expired(client: httpx.AsyncClient, access_token: str, within: float = 20) -> None:
    """Poll until the server refuses `access_token` (it expired), never sleeping long."""
    deadline = time.monotonic() + within
    while (await me(client, access_token)).status_code == 200:
        assert time.monotonic() < deadline, "the access token never expired"
        await asyncio.sleep(0.2)


async def no_change_poll(client: httpx.AsyncClient) -> dict[str, Any]:
    owner = await start(client, "account")
    r = await client.post(
        "/polls",
        json={"question": "Best season?", "options": ["Spring", "Summer", "Autumn"]},
        headers=bearer(owner["access_token"]),
    )
    assert r.status_code == 201, r.text
    poll: dict[str, Any] = r.json()
    assert poll["allow_change"] is False
    return poll


async def test_an_expired_access_token_renews_to_the_same_voter(
    short: httpx.AsyncClient,
) -> None:
    poll = await no_change_poll(short)
    spring, summer, _ = (o["id"] for o in poll["options"])
    phone = await start(short, "guest")
    votes = f"/polls/{poll['id']}/votes"
    r = await short.post(
        votes, json={"option_ids": [spring]}, headers=bearer(phone["access_token"])
    )
    assert r.json()["status"] == "accepted"

    await wait_expired(short, phone["access_token"])
    r = await short.post(
        votes, json={"option_ids": [summer]}, headers=bearer(phone["access_token"])
    )
    assert r.status_code == 401  # what sent the old client off to mint a new guest

    renewed = (await renew(short, phone["refresh_token"])).json()
    assert renewed["user"]["id"] == phone["user"]["id"]
    again = bearer(renewed["access_token"])
    r = await short.post(votes, json={"option_ids": [summer]}, headers=again)
    assert r.status_code == 409
    assert error_of(r)["code"] == "already_voted"
    r = await short.post(votes, json={"option_ids": [spring]}, headers=again)
    assert r.json()["status"] == "unchanged"
    ws = await WsClient.open(
        str(short.base_url).replace("http", "ws", 1) + "/ws", renewed["access_token"]
    )
    reply = await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[summer])
    assert (reply["type"], reply["code"]) == ("ERROR", "already_voted")
    await ws.close()
    results = await short.get(f"/polls/{poll['id']}", headers=again)
    assert results.json()["results"]["total"] == 1


async def test_a_socket_renewed_in_band_outlives_its_first_token(
    short: httpx.AsyncClient,
) -> None:
    poll = await no_change_poll(short)
    spring, summer, _ = (o["id"] for o in poll["options"])
    phone = await start(short, "guest")
    ws_url = str(short.base_url).replace("http", "ws", 1) + "/ws"
    ws = await WsClient.joined(ws_url, phone["access_token"], poll["id"])
    ack = await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[spring])
    assert ack["status"] == "accepted"

    # What the browser client does: renew well before each expiry, and hand the socket
    # the new token. Three token lives pass on the one socket.
    refresh_token = phone["refresh_token"]
    first_expiry = time.time() + SHORT_TTL_S
    while time.time() < first_expiry + 2 * SHORT_TTL_S:
        renewed = (await renew(short, refresh_token)).json()
        assert renewed["user"]["id"] == phone["user"]["id"]
        refresh_token = renewed["refresh_token"]
        authed = await ws.request(type="AUTH", token=renewed["access_token"])
        assert authed["type"] == "AUTHED"
        assert 0 < authed["expires_in"] <= SHORT_TTL_S + 1  # exp is rounded up
        await asyncio.sleep(SHORT_TTL_S / 4)
    assert (await me(short, phone["access_token"])).status_code == 401
    assert (await ws.request(type="PING"))["type"] == "PONG"
    reply = await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[summer])
    assert (reply["type"], reply["code"]) == ("ERROR", "already_voted")
    await ws.close()


async def test_auth_refuses_bad_tokens_and_other_users_and_keeps_the_socket(
    client: httpx.AsyncClient, live_server: Any
) -> None:
    phone, other = await start(client, "guest"), await start(client, "guest")
    ws = await WsClient.open(live_server.ws_url, phone["access_token"])
    reply = await ws.request(type="AUTH", token=other["access_token"])
    assert (reply["type"], reply["code"]) == ("ERROR", "forbidden")
    reply = await ws.request(type="AUTH", token="not.a.token")
    assert (reply["type"], reply["code"]) == ("ERROR", "unauthorized")
    reply = await ws.request(type="AUTH")
    assert (reply["type"], reply["code"]) == ("ERROR", "bad_message")
    assert (await ws.request(type="PING"))["type"] == "PONG"
    # Renewed in band, the socket follows its new token: logging that one out closes it.
    renewed = (await renew(client, phone["refresh_token"])).json()
    assert (await ws.request(type="AUTH", token=renewed["access_token"]))["type"] == "AUTHED"
    await client.post("/auth/logout", headers=bearer(renewed["access_token"]))
    assert await close_code(ws, within=2) == 4401
