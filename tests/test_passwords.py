"""Password hashing (app/passwords.py) and how login uses it."""

from __future__ import annotations

import argon2
import httpx
import pytest

from app import passwords, users
from app.config import Settings, SettingsError, load_settings
from models import User
from tests.conftest import LiveServer, metric, unique_name

PASSWORD = "correct horse battery"


async def verifications(client: httpx.AsyncClient) -> float:
    """How many argon2 verifications this process has run."""
    return await metric(client, 'livepolls_password_hash_seconds_count{op="verify"}')


def test_production_cost_is_argon2_cffi_default() -> None:
    fields = Settings.model_fields
    assert fields["argon2_time_cost"].default == argon2.DEFAULT_TIME_COST == 3
    assert fields["argon2_memory_kib"].default == argon2.DEFAULT_MEMORY_COST == 65536
    assert fields["argon2_parallelism"].default == argon2.DEFAULT_PARALLELISM == 4


def test_memory_below_the_lanes_minimum_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="ARGON2_MEMORY_KIB"):
        load_settings(argon2_memory_kib=8, argon2_parallelism=2)


async def test_hash_is_argon2id_with_the_configured_cost(settings: Settings) -> None:
    hashed = await passwords.hash_password(settings=settings, password=PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    ok = await passwords.verify_password(settings=settings, password_hash=hashed, password=PASSWORD)
    assert ok
    assert not await passwords.verify_password(
        settings=settings, password_hash=hashed, password=PASSWORD + "!"
    )


async def test_no_hash_or_a_broken_one_never_verifies(settings: Settings) -> None:
    for stored in (None, "", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$broken"):
        assert not await passwords.verify_password(
            settings=settings, password_hash=stored, password=PASSWORD
        )


async def test_unknown_user_costs_one_verification_like_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    name = unique_name()
    r = await client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201
    start = await verifications(client)
    wrong = await client.post("/auth/login", json={"username": name, "password": "x" * 9})
    after_wrong = await verifications(client)
    unknown = await client.post("/auth/login", json={"username": "nobody", "password": "x" * 9})
    after_unknown = await verifications(client)
    assert wrong.status_code == unknown.status_code == 401
    assert after_wrong - start == after_unknown - after_wrong == 1


async def test_a_broken_stored_hash_is_a_401_not_a_500(client: httpx.AsyncClient) -> None:
    name = unique_name()
    await User.create(username=name, display_name=name, password_hash="garbage", is_guest=False)
    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"


async def test_login_rehashes_a_hash_made_with_other_parameters(
    client: httpx.AsyncClient, settings: Settings, live_server: LiveServer
) -> None:
    costlier = settings.model_copy(update={"argon2_time_cost": 2})
    name = unique_name()
    user = await users.register(
        settings=costlier,
        redis=live_server.app.ctx.redis.client,
        username=name,
        password=PASSWORD,
        ip="203.0.113.9",
    )
    assert user.password_hash is not None
    assert ",t=2," in user.password_hash

    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
    await user.refresh_from_db()
    assert user.password_hash is not None
    assert ",t=1," in user.password_hash
    r = await client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
