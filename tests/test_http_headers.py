"""Response headers over real HTTP (app/http/headers.py): nothing sniffed, nothing live cached."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Person
from tests.test_polls import create


def assert_never_cached(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff", r.request.url
    assert r.headers["cache-control"] == "no-store", r.request.url


async def test_token_user_and_poll_responses_are_no_store_and_nosniff(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    guest = await client.post("/auth/guest", json={})
    assert guest.status_code == 201 and "access_token" in guest.json()
    assert_never_cached(guest)
    owner: Person = await make_person()
    poll = await create(client, owner)
    pid, option = poll["id"], poll["options"][0]["id"]
    h = owner.headers
    for r in [
        await client.get("/auth/me", headers=h),
        await client.get("/polls", headers=h),
        await client.get(f"/polls/{pid}", headers=h),
        await client.get(f"/polls/code/{poll['code']}", headers=h),
        await client.get(f"/polls/{pid}/results", headers=h),
        await client.post(f"/polls/{pid}/votes", json={"option_ids": [option]}, headers=h),
        await client.post(f"/polls/{pid}/close", headers=h),
        # Errors of these routes too: they can carry a user's state as well.
        await client.get("/auth/me"),
        await client.get("/polls/2147483647", headers=h),
        await client.post("/auth/login", json={"username": "nobody", "password": "x"}),
        await client.get("/readyz"),
        await client.get("/metrics"),
    ]:
        assert r.status_code < 500, r.text
        assert_never_cached(r)
    logout = await client.post("/auth/logout", headers=h)
    assert logout.status_code == 204
    assert_never_cached(logout)


async def test_every_response_is_nosniff_and_files_keep_their_own_caching(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    poll = await create(client, await make_person())
    for path in ["/no/such/route", "/docs/openapi.json", "/ws", "/healthz", "/static/nope.js"]:
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
    static = await client.get("/static/js/api.js")
    assert static.headers["x-content-type-options"] == "nosniff"
    assert static.headers["cache-control"] == "no-cache"
    qr = await client.get(f"/p/{poll['code']}/qr.svg")
    assert qr.headers["x-content-type-options"] == "nosniff"
    assert qr.headers["cache-control"] == "public, max-age=3600"
