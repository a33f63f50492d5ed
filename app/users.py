"""Accounts: guests, registration and login.

Usernames are unique regardless of letter case. The `username` column holds the
lower-cased name, so its unique index decides who gets a name, even between two
concurrent registrations, and login looks it up through that index on every
database; the name as typed is kept in `display_name` and is what clients see.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError

from app import metrics, passwords, ratelimit
from app.config import Settings
from app.errors import ApiError, Conflict, RateLimited
from models import User


def user_json(user: User) -> dict[str, object]:
    return {"id": user.id, "username": user.public_name, "is_guest": user.is_guest}


async def create_guest(
    *, settings: Settings, redis: Redis, display_name: str | None, ip: str
) -> User:
    """A new guest, within the per-address bucket: each one is a row until the guest
    sweep (workers/guests.py) removes it, so a script must not mint them freely."""
    await ratelimit.take(redis=redis, bucket=ratelimit.guest_bucket(settings, ip=ip))
    return await User.create(is_guest=True, display_name=display_name)


async def register(
    *, settings: Settings, redis: Redis, username: str, password: str, ip: str
) -> User:
    """Create an account for a caller from `ip`, rate-limited per address."""
    await ratelimit.enforce(redis=redis, limits=ratelimit.register_limits(settings, ip=ip))
    return await create_account(settings=settings, username=username, password=password)


async def create_account(*, settings: Settings, username: str, password: str) -> User:
    """Create an account; a name taken in any letter case is a 409, even mid-race.
    Not rate-limited: `register` is, and the admin CLI's operator needs no limit."""
    password_hash = await passwords.hash_password(settings=settings, password=password)
    try:
        return await User.create(
            username=username.lower(),
            display_name=username,
            password_hash=password_hash,
            is_guest=False,
        )
    except IntegrityError:
        raise Conflict("that username is taken", code="username_taken") from None


async def login(*, settings: Settings, redis: Redis, username: str, password: str, ip: str) -> User:
    """The account these credentials open; rate-limited per name and per address before hashing."""
    try:
        limits = ratelimit.login_limits(settings, username=username, ip=ip)
        await ratelimit.enforce(redis=redis, limits=limits)
    except RateLimited:
        metrics.LOGINS.labels("rate_limited").inc()
        raise
    # Guests have no username, so they never match; the filter says so anyway.
    user = await User.get_or_none(username=username.lower(), is_guest=False)
    stored = user.password_hash if user else None
    ok = await passwords.verify_password(settings=settings, password_hash=stored, password=password)
    if user is None or stored is None or not ok:
        metrics.LOGINS.labels("invalid").inc()
        raise ApiError("wrong username or password", code="invalid_credentials", status=401)
    metrics.LOGINS.labels("ok").inc()
    if passwords.needs_rehash(settings=settings, password_hash=stored):
        user.password_hash = await passwords.hash_password(settings=settings, password=password)
        await user.save(update_fields=["password_hash"])
    await wait_out_revocation_second(user)
    return user


async def wait_out_revocation_second(user: User) -> None:
    """Wait until a token issued now would not be born revoked.

    A logout sets `tokens_valid_after` to the next whole second after the revoked
    token's `iat` (1 s resolution); a login or session renewal within that same second
    would get a token with the same `iat`, which the durable check refuses. Waiting
    (< 1 s, and only right after a revocation) makes that token valid.
    """
    if user.tokens_valid_after is None:
        return
    delay = user.tokens_valid_after.timestamp() - time.time()
    if delay > 0:
        # The margin covers timer rounding: issue_token must see the new second.
        await asyncio.sleep(delay + 0.01)
