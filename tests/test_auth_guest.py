"""Guest tokens and the bearer check every authenticated route relies on."""

from __future__ import annotations

import httpx


async def test_guest_token_then_me(client: httpx.AsyncClient) -> None:
    r = await client.post("/auth/guest", json={"display_name": "Ada"})
    assert r.status_code == 201
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["user"]["is_guest"] is True
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"] == body["user"]


async def test_me_without_token_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    r = await client.get("/auth/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"


async def test_guest_display_name_too_long_names_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/auth/guest", json={"display_name": "x" * 41})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "display_name"


async def test_malformed_json_is_bad_json(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/auth/guest", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_json"
    r = await client.post("/auth/guest", json=[1, 2])
    assert r.json()["error"]["code"] == "bad_json"


async def test_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/auth/guest", content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"
