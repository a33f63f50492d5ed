"""Forged and malformed bearer tokens are all a plain 401 (app/tokens.py, app/auth.py).

Every forgery is built for a real user, and a control token built by the same
helpers with the right key is accepted, so each 401 is down to the forgery alone.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import InvalidStatus

from app.config import Settings
from tests.conftest import LiveServer
from tests.wsclient import WsClient


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def hmac_signed(
    header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: str = "sha256"
) -> str:
    """HMAC-signed by hand: PyJWT refuses a PEM key as an HMAC secret, an attacker does not."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


@dataclass(frozen=True)
class RsaKey:
    private: Path
    public_pem: bytes


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory: pytest.TempPathFactory) -> RsaKey:
    # openssl's CLI rather than the `cryptography` package, which is not a dependency.
    private = tmp_path_factory.mktemp("rsa") / "key.pem"
    genpkey = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    subprocess.run([*genpkey, "-out", str(private)], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout"], check=True, capture_output=True
    ).stdout
    assert public.startswith(b"-----BEGIN PUBLIC KEY-----")
    return RsaKey(private, public)


async def rs256(claims: dict[str, Any], key: RsaKey) -> str:
    """A genuine RS256 token: RSASSA-PKCS1-v1_5 over SHA-256, signed by openssl."""
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims)}"
    proc = await asyncio.create_subprocess_exec(
        "openssl",
        "dgst",
        "-sha256",
        "-sign",
        str(key.private),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    signature, _ = await proc.communicate(signing_input.encode())
    assert proc.returncode == 0
    assert len(signature) == 256
    return f"{signing_input}.{b64(signature)}"


async def status_of(client: httpx.AsyncClient, token: str) -> int:
    r = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    if r.status_code == 401:
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    return r.status_code


@pytest.fixture
async def victim(client: httpx.AsyncClient) -> int:
    r = await client.post("/auth/guest", json={"display_name": "victim"})
    user_id: int = r.json()["user"]["id"]
    return user_id


def claims_for(settings: Settings, user_id: int, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "guest": True,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "iss": settings.jwt_issuer,
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def secret(settings: Settings) -> str:
    return settings.jwt_secret.get_secret_value()


async def test_the_control_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    claims = claims_for(settings, victim)
    assert await status_of(client, jwt.encode(claims, secret(settings), "HS256")) == 200
    by_hand = hmac_signed({"alg": "HS256", "typ": "JWT"}, claims, secret(settings).encode())
    assert await status_of(client, by_hand) == 200


async def test_alg_none_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    claims = segment(claims_for(settings, victim))
    for alg in ("none", "None", "NONE"):
        token = f"{segment({'alg': alg, 'typ': 'JWT'})}.{claims}."
        assert await status_of(client, token) == 401


async def test_wrong_secret_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    token = jwt.encode(claims_for(settings, victim), "not-the-secret-" * 4, "HS256")
    assert await status_of(client, token) == 401


async def test_other_hmac_algorithm_with_the_right_secret_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    header = {"alg": "HS512", "typ": "JWT"}
    token = hmac_signed(header, claims_for(settings, victim), secret(settings).encode(), "sha512")
    assert await status_of(client, token) == 401


async def test_rs256_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int, rsa_key: RsaKey
) -> None:
    assert await status_of(client, await rs256(claims_for(settings, victim), rsa_key)) == 401


async def test_hs256_signed_with_a_public_key_pem_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int, rsa_key: RsaKey
) -> None:
    # The HS/RS confusion attack: the "secret" is a public key the attacker knows.
    claims = claims_for(settings, victim)
    for header in ({"alg": "HS256", "typ": "JWT"}, {"alg": "RS256", "typ": "JWT"}):
        token = hmac_signed(header, claims, rsa_key.public_pem)
        assert await status_of(client, token) == 401


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": None}, id="missing-exp"),
        pytest.param({"jti": None}, id="missing-jti"),
        pytest.param({"sub": None}, id="missing-sub"),
        pytest.param({"iat": None}, id="missing-iat"),
        pytest.param({"iss": None}, id="missing-iss"),
        pytest.param({"iss": "someone-else"}, id="wrong-iss"),
        pytest.param({"iat": -7200, "exp": -3600}, id="expired"),
        pytest.param({"sub": "abc"}, id="non-numeric-sub"),
        pytest.param({"sub": "-1"}, id="negative-sub"),
        pytest.param({"sub": "12e3"}, id="float-sub"),
        pytest.param({"sub": "99999999"}, id="unknown-user"),
        pytest.param({"jti": ""}, id="empty-jti"),
        pytest.param({"guest": "yes"}, id="non-bool-guest"),
        pytest.param({"exp": "tomorrow"}, id="non-numeric-exp"),
    ],
)
async def test_bad_claims_are_refused_even_when_signed(
    client: httpx.AsyncClient, settings: Settings, victim: int, changes: dict[str, Any]
) -> None:
    now = int(time.time())
    for name in ("iat", "exp"):  # relative to now in the table above
        if isinstance(changes.get(name), int):
            changes = {**changes, name: now + changes[name]}
    claims = claims_for(settings, victim, **changes)
    token = hmac_signed({"alg": "HS256", "typ": "JWT"}, claims, secret(settings).encode())
    assert await status_of(client, token) == 401


async def test_non_string_sub_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    claims = claims_for(settings, victim, sub=victim)  # the number, not "1"
    token = hmac_signed({"alg": "HS256", "typ": "JWT"}, claims, secret(settings).encode())
    assert await status_of(client, token) == 401


async def test_tampered_payload_is_refused(
    client: httpx.AsyncClient, settings: Settings, victim: int
) -> None:
    other = (await client.post("/auth/guest", json={})).json()["user"]["id"]
    token = jwt.encode(claims_for(settings, victim), secret(settings), "HS256")
    header, _, signature = token.split(".")
    tampered = f"{header}.{segment(claims_for(settings, other))}.{signature}"
    assert await status_of(client, token) == 200
    assert await status_of(client, tampered) == 401


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b", "Token x"],
)
async def test_malformed_authorization_is_refused(
    client: httpx.AsyncClient, authorization: str
) -> None:
    r = await client.get("/auth/me", headers={"Authorization": authorization})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "sub",
    [
        pytest.param("²", id="superscript-two"),
        pytest.param("\uff11\uff12", id="fullwidth-digits"),
        pytest.param("٣", id="arabic-indic-digit"),
        pytest.param("1" * 5000, id="5000-digits"),
        pytest.param("9" * 11, id="11-digits"),
        pytest.param("2147483648", id="beyond-users-id"),
        pytest.param("0", id="zero"),
        pytest.param("-1", id="negative"),
        pytest.param(" 1", id="leading-space"),
        pytest.param("", id="empty"),
    ],
)
async def test_a_sub_that_is_not_a_user_id_is_a_401_on_http_and_at_the_handshake(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    sub: str,
) -> None:
    claims = claims_for(settings, 1, sub=sub)
    token = hmac_signed({"alg": "HS256", "typ": "JWT"}, claims, secret(settings).encode())
    assert await status_of(client, token) == 401
    with pytest.raises(InvalidStatus) as info:
        await WsClient.open(live_server.ws_url, token)
    assert info.value.response.status_code == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
