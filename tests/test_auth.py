"""Accounts over HTTP: register, login, me, logout, and revocation (app/users.py, app/auth.py)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
import orjson
import pytest
import redis as redis_sync

from app import keys
from app.auth import revoke_token
from app.config import Settings
from app.errors import Unauthorized
from app.tokens import issue_token
from models import User
from tests.conftest import LiveServer, metric, unique_name

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    r = await client.post("/auth/register", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    user: dict[str, Any] = r.json()["user"]
    return user


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    r = await client.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def error_of(r: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = r.json()["error"]
    return error


def fields_of(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "validation_failed"
    return {d["field"] for d in error_of(r)["details"]}


# --- the cycle ------------------------------------------------------------------------


async def test_register_login_me_logout_cycle(client: httpx.AsyncClient) -> None:
    name = unique_name()
    user = await register(client, name)
    assert user == {"id": user["id"], "username": name, "is_guest": False}

    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["user"] == user
    token = body["access_token"]

    me = await client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {"user": user}

    out = await client.post("/auth/logout", headers=bearer(token))
    assert out.status_code == 204
    assert out.content == b""

    me = await client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 401
    assert error_of(me)["code"] == "unauthorized"
    assert me.headers["www-authenticate"] == "Bearer"
    # Logging out again with the revoked token is refused like any other use of it.
    again = await client.post("/auth/logout", headers=bearer(token))
    assert again.status_code == 401


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/auth/logout")
    assert r.status_code == 401
    assert error_of(r)["code"] == "unauthorized"


async def test_guest_token_can_log_out(client: httpx.AsyncClient) -> None:
    token = (await client.post("/auth/guest", json={})).json()["access_token"]
    assert (await client.post("/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401


# --- revocation -----------------------------------------------------------------------


async def test_revocation_survives_a_redis_flush_and_a_later_login_works(
    client: httpx.AsyncClient, redis: redis_sync.Redis
) -> None:
    name = unique_name()
    await register(client, name)
    old = await login(client, name)
    assert (await client.post("/auth/logout", headers=bearer(old))).status_code == 204
    new = await login(client, name)  # most likely within the second of `old`'s iat

    redis.flushdb()  # revocation lives in MySQL (tokens_valid_after), not in Redis

    assert (await client.get("/auth/me", headers=bearer(old))).status_code == 401
    me = await client.get("/auth/me", headers=bearer(new))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == name


async def test_token_checks_in_one_tick_share_one_query_and_keep_their_own_answers(
    live_server: LiveServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    people = [await User.create(username=unique_name(), is_guest=True) for _ in range(12)]
    issued = [issue_token(settings, user_id=u.id, is_guest=True) for u in people]
    client = live_server.app.ctx.redis.client
    for _, principal in issued[:4]:
        await revoke_token(redis=client, principal=principal)
    ghost, _ = issue_token(settings, user_id=10**9, is_guest=True)
    tokens = [token for token, _ in issued] + [ghost, issued[0][0]]
    verifier = live_server.app.ctx.verifier

    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        results = await asyncio.gather(
            *(verifier.verify(t) for t in tokens), return_exceptions=True
        )

    queries = [
        r
        for r in caplog.records
        if "tokens_valid_after" in r.getMessage() and "SELECT" in r.getMessage().upper()
    ]
    assert len(queries) == 1
    answers = [
        r.message if isinstance(r, Unauthorized) else r.user_id  # type: ignore[union-attr]
        for r in results
    ]
    assert answers == (
        ["token revoked"] * 4 + [u.id for u in people[4:]] + ["unknown user", "token revoked"]
    )


async def test_logout_refuses_the_token_at_once_in_another_process(
    client: httpx.AsyncClient, server_process: Any
) -> None:
    other = server_process()
    token = (await client.post("/auth/guest", json={})).json()["access_token"]
    async with httpx.AsyncClient(base_url=other.base_url, timeout=10) as elsewhere:
        assert (await elsewhere.get("/auth/me", headers=bearer(token))).status_code == 200
        assert (await client.post("/auth/logout", headers=bearer(token))).status_code == 204
        r = await elsewhere.get("/auth/me", headers=bearer(token))
    assert r.status_code == 401
    assert error_of(r)["message"] == "token revoked"


async def test_logout_publishes_the_revocation(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    body = (await client.post("/auth/guest", json={})).json()
    pubsub = live_server.app.ctx.redis.client.pubsub()
    await pubsub.subscribe(keys.revocations(live_server.app.ctx.redis.client))
    try:
        subscribed = await pubsub.get_message(timeout=2)
        assert subscribed is not None
        assert subscribed["type"] == "subscribe"
        r = await client.post("/auth/logout", headers=bearer(body["access_token"]))
        assert r.status_code == 204
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py (as in app/ws/hub.py)
    assert message is not None
    data = orjson.loads(message["data"])
    assert set(data) == {"jti", "user_id", "exp", "valid_after"}
    assert data["user_id"] == body["user"]["id"]
    assert data["exp"] > 0
    assert isinstance(data["jti"], str)
    assert data["jti"]


async def test_revoke_token_raises_the_durable_mark_and_never_lowers_it(
    live_server: LiveServer, settings: Settings, redis: redis_sync.Redis
) -> None:
    user = await User.create(username=unique_name(), is_guest=False)
    _, older = issue_token(settings, user_id=user.id, is_guest=False)
    newer = type(older)(
        user_id=user.id,
        is_guest=False,
        jti="newer",
        issued_at=older.issued_at + 5,
        expires_at=older.expires_at + 5,
    )
    client = live_server.app.ctx.redis.client

    await revoke_token(redis=client, principal=newer)
    await user.refresh_from_db()
    assert user.tokens_valid_after is not None
    assert int(user.tokens_valid_after.timestamp()) == newer.issued_at + 1

    await revoke_token(redis=client, principal=older)
    await user.refresh_from_db()
    assert user.tokens_valid_after is not None
    assert int(user.tokens_valid_after.timestamp()) == newer.issued_at + 1


# --- registration ---------------------------------------------------------------------


async def test_username_is_taken_in_any_letter_case(client: httpx.AsyncClient) -> None:
    name = "Ada." + unique_name()[:8]
    user = await register(client, name)
    assert user["username"] == name  # shown as typed
    for variant in (name, name.lower(), name.upper()):
        r = await client.post("/auth/register", json={"username": variant, "password": PASSWORD})
        assert r.status_code == 409
        assert error_of(r)["code"] == "username_taken"
    # ...and any letter case logs in to the one account.
    r = await client.post("/auth/login", json={"username": name.upper(), "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["user"] == user


async def test_concurrent_registrations_of_one_name_make_one_account(
    client: httpx.AsyncClient,
) -> None:
    name = unique_name("Race")
    variants = [name, name.lower(), name.upper()] * 4
    responses = await asyncio.gather(
        *(
            client.post("/auth/register", json={"username": v, "password": PASSWORD})
            for v in variants
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (len(variants) - 1)
    assert all(error_of(r)["code"] == "username_taken" for r in responses if r.status_code == 409)
    assert await User.filter(username=name.lower()).count() == 1


@pytest.mark.parametrize(
    "username",
    [
        "ab",
        "a" * 33,
        "has space",
        "slash/y",
        "at@sign",
        "ünïcode",
        "trailing\n",
        "",
        123,
        None,
        ["abc"],
    ],
)
async def test_bad_usernames_name_the_field(client: httpx.AsyncClient, username: object) -> None:
    r = await client.post("/auth/register", json={"username": username, "password": PASSWORD})
    assert fields_of(r) == {"username"}


async def test_username_edge_lengths_and_charset_are_accepted(client: httpx.AsyncClient) -> None:
    await register(client, "a_b")
    await register(client, "Z.-_9" + "x" * 27)  # 32 characters


async def test_password_length_limits(client: httpx.AsyncClient) -> None:
    r = await client.post("/auth/register", json={"username": unique_name(), "password": "x" * 7})
    assert fields_of(r) == {"password"}
    r = await client.post("/auth/register", json={"username": unique_name(), "password": "x" * 129})
    assert fields_of(r) == {"password"}
    r = await client.post("/auth/login", json={"username": unique_name(), "password": "x" * 129})
    assert fields_of(r) == {"password"}


async def test_passwords_are_not_truncated_at_72_bytes(client: httpx.AsyncClient) -> None:
    name = unique_name()
    password = "p" * 72 + "A"  # 73 bytes: bcrypt would ignore the last one
    await register(client, name, password)
    r = await client.post("/auth/login", json={"username": name, "password": "p" * 72 + "B"})
    assert r.status_code == 401
    assert await login(client, name, password)


async def test_a_128_character_password_of_4_byte_characters_works(
    client: httpx.AsyncClient,
) -> None:
    name, password = unique_name(), "\N{GRINNING FACE}" * 128  # 512 bytes in UTF-8
    await register(client, name, password)
    assert await login(client, name, password)


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "someone"}, "password"),
        ({"username": "someone", "password": 12345678}, "password"),
        ({"username": "someone", "password": None}, "password"),
        ({"username": 12345, "password": PASSWORD}, "username"),
    ],
)
async def test_missing_or_non_string_fields_are_named(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    assert fields_of(await client.post(path, json=body)) == {field}


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{nope",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"username": "abc", "password": "\\ud800"}',
    ],
)
async def test_non_json_bodies_are_bad_json(
    client: httpx.AsyncClient, path: str, content: bytes
) -> None:
    r = await client.post(path, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert error_of(r)["code"] == "bad_json"


# --- login ----------------------------------------------------------------------------


async def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    name = unique_name()
    await register(client, name)
    wrong = await client.post("/auth/login", json={"username": name, "password": "nope-nope"})
    unknown = await client.post(
        "/auth/login", json={"username": unique_name(), "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_of(wrong)["code"] == "invalid_credentials"


async def test_guests_cannot_log_in(client: httpx.AsyncClient) -> None:
    name = unique_name()
    r = await client.post("/auth/guest", json={"display_name": name})
    assert r.status_code == 201
    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 401
    assert error_of(r)["code"] == "invalid_credentials"


async def test_openapi_documents_auth_bodies_and_replies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/docs/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    expected = {
        "/auth/register": {"201", "400", "409", "413", "422", "429", "503"},
        "/auth/login": {"200", "400", "401", "413", "422", "429", "503"},
    }
    for path, statuses in expected.items():
        post = spec["paths"][path]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert set(body["properties"]) == {"username", "password"}
        assert set(post["responses"]) == statuses
    assert set(spec["paths"]["/auth/logout"]["post"]["responses"]) == {"204", "401", "503"}
    refs = re.findall(r'"#/components/schemas/([^"]+)"', orjson.dumps(spec).decode())
    assert refs
    assert set(refs) <= set(schemas)


async def test_a_nul_character_does_not_end_the_password(client: httpx.AsyncClient) -> None:
    name = unique_name()
    await register(client, name, "12345678\x00suffix")
    r = await client.post("/auth/login", json={"username": name, "password": "12345678"})
    assert r.status_code == 401
    assert await login(client, name, "12345678\x00suffix")


async def test_register_is_rate_limited_per_ip_before_hashing(
    client: httpx.AsyncClient, settings: Settings, redis: redis_sync.Redis
) -> None:
    # Arrange a window that is one attempt from full for this client's address.
    redis.set("ratelimit:register:ip:127.0.0.1", settings.login_attempts_per_ip - 1, ex=60)
    hashes_before = await metric(client, 'livepolls_password_hash_seconds_count{op="hash"}')
    ok = await client.post("/auth/register", json={"username": unique_name(), "password": "p" * 8})
    assert ok.status_code == 201
    refused = await client.post(
        "/auth/register", json={"username": unique_name(), "password": "p" * 8}
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    hashes_after = await metric(client, 'livepolls_password_hash_seconds_count{op="hash"}')
    assert hashes_after - hashes_before == 1
