"""Rate limits (app/ratelimit.py): logins per name and per address before any hashing,
new guests per address and new polls per account (token buckets)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.ratelimit import Limit, hit
from tests.conftest import LiveServer, metric, unique_name
from tests.sync_redis import SyncRedis

PASSWORD = "correct horse battery"
LIMITS = {"login_attempts_per_user": 3, "login_attempts_per_ip": 6, "login_window_s": 60}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Small limits; a test may add more overrides with indirect parametrization."""
    return settings.model_copy(update={**LIMITS, **getattr(request, "param", {})})


async def verifications(client: httpx.AsyncClient) -> float:
    """How many argon2 verifications this process has run."""
    return await metric(client, 'livepolls_password_hash_seconds_count{op="verify"}')


async def attempt(
    client: httpx.AsyncClient, username: str, password: str, **kw: Any
) -> httpx.Response:
    return await client.post("/auth/login", json={"username": username, "password": password}, **kw)


async def registered(client: httpx.AsyncClient) -> str:
    name = unique_name()
    r = await client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201
    return name


def assert_limited(r: httpx.Response, window_s: int = 60) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= window_s


async def test_per_user_limit_refuses_before_hashing(
    client: httpx.AsyncClient, redis: SyncRedis
) -> None:
    name = await registered(client)
    before = await verifications(client)
    for _ in range(3):
        assert (await attempt(client, name, "wrong password")).status_code == 401
    assert await verifications(client) == before + 3

    # Limited now: the right password and a wrong one get the same 429...
    assert_limited(await attempt(client, name, PASSWORD))
    assert_limited(await attempt(client, name.upper(), "wrong password"))
    # ...and neither was hashed: the limiter answered before argon2 ran.
    assert await verifications(client) == before + 3
    key = f"ratelimit:login:user:{name.lower()}"
    assert redis.get(key) == "5"
    assert 0 < redis.ttl(key) <= 60

    # Another account from the same address is still fine.
    other = await registered(client)
    assert (await attempt(client, other, PASSWORD)).status_code == 200


async def test_successful_logins_count_too(client: httpx.AsyncClient) -> None:
    name = await registered(client)
    for _ in range(3):
        assert (await attempt(client, name, PASSWORD)).status_code == 200
    assert_limited(await attempt(client, name, PASSWORD))


async def test_unknown_names_are_limited_like_real_ones(client: httpx.AsyncClient) -> None:
    name = unique_name()
    for _ in range(3):
        r = await attempt(client, name, PASSWORD)
        assert r.json()["error"]["code"] == "invalid_credentials"
    assert_limited(await attempt(client, name, PASSWORD))


async def test_per_address_limit_spans_usernames(
    client: httpx.AsyncClient, redis: SyncRedis
) -> None:
    for _ in range(6):
        assert (await attempt(client, unique_name(), PASSWORD)).status_code == 401
    name = await registered(client)
    before = await verifications(client)
    assert_limited(await attempt(client, name, PASSWORD))
    assert await verifications(client) == before
    assert redis.get("ratelimit:login:ip:127.0.0.1") == "7"


async def test_forwarded_for_is_ignored_without_trusted_proxies(
    client: httpx.AsyncClient, redis: SyncRedis
) -> None:
    # A client cannot pick a fresh bucket per attempt by inventing X-Forwarded-For.
    for i in range(7):
        r = await attempt(
            client, unique_name(), PASSWORD, headers={"X-Forwarded-For": f"203.0.113.{i}"}
        )
    assert_limited(r)
    assert redis.keys("ratelimit:login:ip:203.*") == []


@pytest.mark.parametrize("settings", [{"proxies_count": 1}], indirect=True)
async def test_behind_a_proxy_the_forwarded_address_is_the_bucket(
    client: httpx.AsyncClient, redis: SyncRedis
) -> None:
    for i in range(7):
        headers = {"X-Forwarded-For": f"198.51.100.7, 203.0.113.{i}"}
        r = await attempt(client, unique_name(), PASSWORD, headers=headers)
        assert r.status_code == 401
    assert redis.get("ratelimit:login:ip:203.0.113.0") == "1"
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(6):
        assert (await attempt(client, unique_name(), PASSWORD, headers=spoofed)).status_code == 401
    assert_limited(await attempt(client, unique_name(), PASSWORD, headers=spoofed))


async def test_invalid_bodies_do_not_count(client: httpx.AsyncClient, redis: SyncRedis) -> None:
    for _ in range(5):
        r = await client.post("/auth/login", json={"username": "someone", "password": 1})
        assert r.status_code == 422
    assert redis.keys("ratelimit:*") == []


async def test_hit_counts_within_a_window(live_server: LiveServer, redis: SyncRedis) -> None:
    client = live_server.app.ctx.redis.client
    limit = Limit("ratelimit:test:window", hits=2, window_s=1)
    assert await hit(redis=client, limit=limit) == 0
    assert await hit(redis=client, limit=limit) == 0
    assert await hit(redis=client, limit=limit) == 1  # over: wait out the 1 s window
    assert 0 < redis.pttl(limit.key) <= 1000
    redis.delete(limit.key)  # as when the window ends
    assert await hit(redis=client, limit=limit) == 0


async def test_hit_heals_a_counter_without_expiry(
    live_server: LiveServer, redis: SyncRedis
) -> None:
    client = live_server.app.ctx.redis.client
    redis.set("ratelimit:test:stuck", 100)  # e.g. written by hand, no TTL
    limit = Limit("ratelimit:test:stuck", hits=5, window_s=30)
    assert await hit(redis=client, limit=limit) == 30
    assert 0 < redis.ttl(limit.key) <= 30


# --- token buckets: new guests per address, new polls per account -------------------------

GUESTS = {"guest_burst": 20, "guest_per_s": 0.01}  # a token every 100 s: none refill here


def assert_bucket_empty(r: httpx.Response, refill_s: float) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= refill_s


async def guest_flood(client: httpx.AsyncClient, n: int) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post("/auth/guest", json={}) for _ in range(n))))


@pytest.mark.parametrize("settings", [GUESTS], indirect=True)
async def test_guest_flood_from_one_address_is_cut_at_the_burst(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    from models import User

    replies = await guest_flood(client, 60)
    created = [r for r in replies if r.status_code == 201]
    refused = [r for r in replies if r.status_code != 201]
    assert len(created) == 20
    for r in refused:
        assert_bucket_empty(r, refill_s=100)
    # A refused request made no row.
    assert await User.filter(is_guest=True).count() == 20

    # Another address (a real one: the client socket is bound to 127.0.0.2) has its own
    # bucket, untouched by the flood.
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=live_server.base_url, transport=other) as c:
        for r in await guest_flood(c, 5):
            assert r.status_code == 201, r.text
    assert_bucket_empty(await client.post("/auth/guest", json={}), refill_s=100)


@pytest.mark.parametrize("settings", [{"guest_burst": 2, "guest_per_s": 2.0}], indirect=True)
async def test_an_empty_guest_bucket_refills(client: httpx.AsyncClient, redis: SyncRedis) -> None:
    for r in await guest_flood(client, 6):
        assert r.status_code in (201, 429)
    r = await client.post("/auth/guest", json={})
    assert_bucket_empty(r, refill_s=1)
    await asyncio.sleep(int(r.headers["retry-after"]) + 0.1)
    assert (await client.post("/auth/guest", json={})).status_code == 201
    # The bucket expires once it would be full again: no key outlives its use.
    assert 0 < redis.pttl("ratelimit:guest:ip:127.0.0.1") <= 2000


@pytest.mark.parametrize("settings", [{**GUESTS, "proxies_count": 1}], indirect=True)
async def test_behind_a_proxy_each_forwarded_address_has_a_guest_bucket(
    client: httpx.AsyncClient,
) -> None:
    venue = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(20):
        assert (await client.post("/auth/guest", json={}, headers=venue)).status_code == 201
    assert_bucket_empty(await client.post("/auth/guest", json={}, headers=venue), 100)
    home = {"X-Forwarded-For": "203.0.113.5"}
    assert (await client.post("/auth/guest", json={}, headers=home)).status_code == 201


POLLS = {"poll_create_burst": 3, "poll_create_per_s": 0.01}
POLL_BODY = {"question": "Best fruit?", "options": ["Apple", "Pear"]}


@pytest.mark.parametrize("settings", [POLLS], indirect=True)
async def test_poll_creation_burst_is_cut_per_account(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    from models import Poll

    host, other = await make_person(), await make_person()
    replies = await asyncio.gather(
        *(client.post("/polls", json=POLL_BODY, headers=host.headers) for _ in range(10))
    )
    assert sorted(r.status_code for r in replies) == [201] * 3 + [429] * 7
    for r in replies:
        if r.status_code == 429:
            assert_bucket_empty(r, refill_s=100)
    assert await Poll.filter(owner_id=host.user_id).count() == 3
    # Another account is unaffected, from the same address.
    for _ in range(3):
        r = await client.post("/polls", json=POLL_BODY, headers=other.headers)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("settings", [{"max_polls_per_user": 2}], indirect=True)
async def test_an_account_owns_at_most_max_polls(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    host = await make_person()
    for _ in range(2):
        r = await client.post("/polls", json=POLL_BODY, headers=host.headers)
        assert r.status_code == 201
    r = await client.post("/polls", json=POLL_BODY, headers=host.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    # Deleting one makes room again.
    mine = (await client.get("/polls", headers=host.headers)).json()["items"]
    assert (await client.delete(f"/polls/{mine[0]['id']}", headers=host.headers)).status_code == 204
    assert (await client.post("/polls", json=POLL_BODY, headers=host.headers)).status_code == 201
