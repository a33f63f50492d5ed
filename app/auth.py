"""Who is calling: bearer tokens checked against revocation, on HTTP and WebSocket.

A token is refused when its signature or claims fail (app.tokens), when its jti is
in Redis' revocation set (fast path, set at logout), or when it was issued before
the user's `tokens_valid_after` (the durable path, which survives a Redis flush).

`revoke_token` (logout) writes both, then publishes the revocation so every process
closes the WebSocket connections opened with that token. It is idempotent: revoking a
token twice leaves the same state and only repeats the message. Because `iat` has
one-second resolution, the durable path also refuses the user's other tokens issued
at or before the revoked one's second; tokens issued later stay valid.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis
from sanic import Request
from tortoise.expressions import Q

from app import keys
from app.config import Settings
from app.errors import Unauthorized
from app.tokens import Principal, bearer_token, decode_token
from models import User


async def verify_token(settings: Settings, redis: Redis, token: str | None) -> Principal:
    if not token:
        raise Unauthorized()
    principal = decode_token(settings, token)
    if await redis.exists(keys.revoked(principal.jti)):
        raise Unauthorized("token revoked")
    row = await User.filter(id=principal.user_id).values_list("tokens_valid_after", flat=True)
    if not row:
        raise Unauthorized("unknown user")
    valid_after: datetime | None = row[0]  # type: ignore[assignment]
    if valid_after is not None and principal.issued_at < int(valid_after.timestamp()):
        raise Unauthorized("token revoked")
    return principal


async def authenticate(request: Request) -> Principal:
    """sanic-ext dependency: handlers that take a `Principal` require a valid token."""
    ctx = request.app.ctx
    token = bearer_token(request.headers.get("authorization"))
    return await verify_token(ctx.settings, ctx.redis.client, token)


async def revoke_token(*, settings: Settings, redis: Redis, principal: Principal) -> None:
    """Refuse this token from now on, in every process and durably, and close its sockets."""
    # Live as long as decode_token could still accept the token (exp plus leeway).
    ttl = principal.expires_at + settings.jwt_leeway_s - int(time.time())
    await redis.set(keys.revoked(principal.jti), 1, ex=max(1, ttl))
    # iat + 1 s, not "now": the durable check compares whole seconds, so this refuses the
    # tokens issued up to the revoked one's second and no later one, such as a fresh
    # login (users.login waits out the rare login within that same second). Only ever
    # raised, in one UPDATE, so concurrent logouts cannot lower it.
    valid_after = datetime.fromtimestamp(principal.issued_at + 1, UTC)
    await User.filter(
        Q(tokens_valid_after__isnull=True) | Q(tokens_valid_after__lt=valid_after),
        id=principal.user_id,
    ).update(tokens_valid_after=valid_after)
    message = {
        "jti": principal.jti,
        "user_id": principal.user_id,
        "exp": principal.expires_at,
        # Sockets of this user opened with tokens issued before this are refused too.
        "valid_after": principal.issued_at + 1,
    }
    await redis.publish(keys.revocations(redis), orjson.dumps(message))


def utcnow() -> datetime:
    return datetime.now(UTC)
