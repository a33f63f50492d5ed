"""Sessions: refresh tokens that renew short-lived access tokens, rotated on every use.

A session is a *family* of refresh tokens. Login and guest creation start one;
`renew` spends its newest token and returns a new access token and a new refresh
token for the same user, so a guest stays the same voter however often its access
token expires. Each access token names its family (`sid`), so logout ends the
session it was issued in. Each renewal slides the session's expiry.

Theft detection (RFC 6819 5.2.2.3, OAuth 2.1 4.3.1): a spent token presented again
means two parties hold the session. The family is revoked, every access token of
the user issued so far is refused and its sockets closed (as on logout), and the
answer is 401. One exception: the same spent token retried within
REFRESH_REUSE_GRACE_S of its rotation, while its successor is still unused, is a
reply lost on the way; it rotates that successor instead, so one token stays live.

Atomic and safe across processes: a token is spent by one conditional UPDATE
(`used_at IS NULL`), so of two concurrent renewals with one token exactly one wins.
Revocation marks every row of the family, and a token is good only while no row of
its family is revoked, so a rotation racing a revocation leaves no live token.
Ending a session is idempotent.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from app import metrics, ratelimit
from app.auth import revoke_user_tokens
from app.config import Settings
from app.errors import RateLimited, Unauthorized
from app.tokens import issue_token
from app.users import user_json, wait_out_revocation_second
from models import RefreshToken, User

# A renewal retries once when a concurrent one spent its token first.
CLAIM_ATTEMPTS = 2
MAX_REFRESH_TOKEN_CHARS = 256


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def refresh_ttl_s(settings: Settings, *, is_guest: bool) -> int:
    return settings.guest_refresh_ttl_s if is_guest else settings.refresh_ttl_s


async def _mint(settings: Settings, user: User, family: str) -> tuple[str, RefreshToken]:
    """A new refresh secret of `family`; only its digest is stored."""
    secret = secrets.token_urlsafe(32)
    ttl = refresh_ttl_s(settings, is_guest=user.is_guest)
    row = await RefreshToken.create(
        user_id=user.id,
        family=family,
        token_hash=_digest(secret),
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
    )
    return secret, row


def _token_body(settings: Settings, user: User, *, family: str, refresh: str) -> dict[str, object]:
    """PROTOCOL.md `Token`, plus the session's refresh token."""
    access, _ = issue_token(settings, user_id=user.id, is_guest=user.is_guest, session=family)
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": settings.jwt_ttl_s,
        "refresh_token": refresh,
        "refresh_expires_in": refresh_ttl_s(settings, is_guest=user.is_guest),
        "user": user_json(user),
    }


async def start_session(*, settings: Settings, user: User) -> dict[str, object]:
    """A new session for `user`: its first access and refresh tokens."""
    family = uuid.uuid4().hex
    refresh, _ = await _mint(settings, user, family)
    return _token_body(settings, user, family=family, refresh=refresh)


async def end_session(*, family: str) -> None:
    """Refuse every refresh token of the session from now on (logout)."""
    await RefreshToken.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )


async def purge_expired() -> int:
    """Delete refresh tokens past their expiry (refused anyway); returns how many."""
    return await RefreshToken.filter(expires_at__lt=datetime.now(UTC)).delete()


async def _family_ended(family: str) -> bool:
    return await RefreshToken.filter(family=family, revoked_at__isnull=False).exists()


async def renew(
    *, settings: Settings, redis: Redis, refresh_token: str, ip: str
) -> dict[str, object]:
    """Spend `refresh_token`: new access and refresh tokens for the same user, or a 401."""
    try:
        await ratelimit.enforce(redis=redis, limits=ratelimit.refresh_ip_limits(settings, ip=ip))
        row = await RefreshToken.get_or_none(token_hash=_digest(refresh_token))
        if row is None or row.expires_at <= datetime.now(UTC) or await _family_ended(row.family):
            raise Unauthorized("invalid, expired or revoked refresh token")
        limits = ratelimit.refresh_session_limits(settings, family=row.family)
        await ratelimit.enforce(redis=redis, limits=limits)
        user = await User.get_or_none(id=row.user_id)
        if user is None:
            raise Unauthorized("unknown user")
        for _ in range(CLAIM_ATTEMPTS):
            target = await _spendable(settings, redis, row)
            refresh, fresh = await _mint(settings, user, row.family)
            claimed = await RefreshToken.filter(
                id=target.id, used_at__isnull=True, revoked_at__isnull=True
            ).update(used_at=datetime.now(UTC), replaced_by=fresh.id)
            if claimed:
                # Re-checked after the claim: an end_session between the first check and
                # the claim marked every row, this one included, before `fresh` existed.
                if await _family_ended(row.family):
                    await end_session(family=row.family)
                    raise Unauthorized("invalid, expired or revoked refresh token")
                await wait_out_revocation_second(user)
                metrics.RENEWALS.labels("ok" if target is row else "retried").inc()
                return _token_body(settings, user, family=row.family, refresh=refresh)
            await fresh.delete()
            await row.refresh_from_db()
        raise Unauthorized("invalid, expired or revoked refresh token")
    except Unauthorized:
        metrics.RENEWALS.labels("refused").inc()
        raise
    except RateLimited:
        metrics.RENEWALS.labels("rate_limited").inc()
        raise


async def _spendable(settings: Settings, redis: Redis, row: RefreshToken) -> RefreshToken:
    """The token a renewal with `row` spends: `row` itself while unused, its unused
    successor for a retry within the grace period; anything else is a reuse."""
    if row.used_at is None:
        return row
    now = datetime.now(UTC)
    if row.replaced_by is not None and now - row.used_at <= timedelta(
        seconds=settings.refresh_reuse_grace_s
    ):
        successor = await RefreshToken.get_or_none(id=row.replaced_by)
        if (
            successor is not None
            and successor.used_at is None
            and successor.revoked_at is None
            and successor.expires_at > now
        ):
            return successor
    metrics.RENEWALS.labels("reused").inc()
    await end_session(family=row.family)
    await revoke_user_tokens(redis=redis, user_id=row.user_id)
    raise Unauthorized("refresh token reused: the session is ended")
