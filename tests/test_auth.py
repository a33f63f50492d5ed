"""Accounts over HTTP: register, login, me, logout, and revocation (app/users.py, app/auth.py)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import orjson
import pytest
from conftest import unique_name

from models import User

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
        "/auth/register": {"201", "400", "409", "422"},
        "/auth/login": {"200", "400", "401", "422", "429"},
    }
    for path, statuses in expected.items():
        post = spec["paths"][path]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert set(body["properties"]) == {"username", "password"}
        assert set(post["responses"]) == statuses
    refs = re.findall(r'"#/components/schemas/([^"]+)"', orjson.dumps(spec).decode())
    assert refs
    assert set(refs) <= set(schemas)


async def test_a_nul_character_does_not_end_the_password(client: httpx.AsyncClient) -> None:
    name = unique_name()
    await register(client, name, "12345678\x00suffix")
    r = await client.post("/auth/login", json={"username": name, "password": "12345678"})
    assert r.status_code == 401
    assert await login(client, name, "12345678\x00suffix")
