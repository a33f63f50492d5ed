"""Who is calling: bearer tokens checked against revocation, on HTTP and WebSocket.

A token is refused when its signature or claims fail (app.tokens), when its jti is
in Redis' revocation set (fast path, set at logout), or when it was issued before
the user's `tokens_valid_after` (the durable path, which survives a Redis flush).
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis
from sanic import Request

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


def utcnow() -> datetime:
    return datetime.now(UTC)
