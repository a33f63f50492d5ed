"""Who is calling: bearer tokens checked against revocation, on HTTP and WebSocket.

A token is refused when its signature or claims fail (app.tokens), or when it was
issued before its user's `tokens_valid_after` in MySQL, which logout raises before it
answers, so the refusal holds at once in every process and survives a Redis flush.

`revoke_token` (logout) raises that mark, then publishes the revocation so every
process closes the WebSocket connections opened with the user's refused tokens. It is
idempotent: revoking a token twice leaves the same state and only repeats the message.
Because `iat` has one-second resolution, the mark also refuses the user's other tokens
issued at or before the revoked one's second; tokens issued later stay valid.

While the database is down (`app.db.is_outage`), a token is checked against the mark
this process last read for its user, if it read one within `AUTH_CACHE_S`; otherwise
the check fails with 503 `unavailable`. The bound: logout needs the database, so no
token is revoked during the outage, and one revoked before it is admitted at most
`AUTH_CACHE_S` after its logout (the last read predates the logout), while the logout's
Redis message has already closed its open sockets. With the database up the cache is
never consulted.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Final

import orjson
from aiodataloader import DataLoader
from redis.asyncio import Redis
from sanic import Request
from tortoise import connections
from tortoise.expressions import Q

from app import keys
from app.config import Settings
from app.db import is_outage, placeholders
from app.errors import Unauthorized, Unavailable
from app.tokens import Principal, bearer_token, decode_token
from models import User

# A user id with no row: its token was signed for a user this database never had.
UNKNOWN: Final = -1
# The users looked up in one query; a reconnect storm brings hundreds per loop tick.
MAX_USERS_PER_QUERY = 500


class TokenVerifier:
    """Checks tokens against their users' revocation mark, one query per loop tick.

    In a reconnect storm every handshake checks a token; a query each made the
    database round trip and the ORM a third of the storm's CPU. The checks made in
    one loop tick share one `SELECT ... WHERE id IN (...)` instead. Marks read are kept
    for `auth_cache_s`, but only to answer while the database is down: a logout's mark
    must refuse the very next check, in any process.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._marks: DataLoader[int, int | None] = DataLoader(
            _revocation_marks, cache=False, max_batch_size=MAX_USERS_PER_QUERY
        )
        # user id -> (mark, when read), oldest read first, so expiry pops from the front.
        self._recent: OrderedDict[int, tuple[int | None, float]] = OrderedDict()

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized()
        principal = decode_token(self._settings, token)
        valid_after = await self._mark(principal.user_id)
        if valid_after == UNKNOWN:
            raise Unauthorized("unknown user")
        if valid_after is not None and principal.issued_at < valid_after:
            raise Unauthorized("token revoked")
        return principal

    async def _mark(self, user_id: int) -> int | None:
        now = time.monotonic()
        try:
            mark = await self._marks.load(user_id)
        except Exception as exc:
            if not is_outage(exc):
                raise
            recent = self._recent.get(user_id)
            if recent is None or now - recent[1] > self._settings.auth_cache_s:
                raise Unavailable("the database is unavailable, try again") from None
            return recent[0]
        self._remember(user_id, mark, now)
        return mark

    def _remember(self, user_id: int, mark: int | None, now: float) -> None:
        if self._settings.auth_cache_s <= 0 or mark == UNKNOWN:
            return
        self._recent.pop(user_id, None)
        self._recent[user_id] = (mark, now)
        horizon = now - self._settings.auth_cache_s
        while self._recent:
            oldest = next(iter(self._recent.values()))
            if oldest[1] >= horizon:
                break
            self._recent.popitem(last=False)


async def _revocation_marks(user_ids: list[int]) -> list[int | None]:
    """Each user's `tokens_valid_after` in epoch seconds, None if unset, or UNKNOWN.

    Raw SQL: with the ORM building its `id IN (...)` filter, a check cost 1.5-2x the
    CPU (300-370 against 170-190 µs for 5 ids, 2.8-3.2 against 1.9-2.3 ms for 300 on
    MariaDB), and a reconnect storm runs one per loop tick. The field still converts
    the value, so the time zone handling is the ORM's."""
    conn = connections.get("default")
    wanted = sorted(set(user_ids))
    sql = (
        f"SELECT id, tokens_valid_after FROM users WHERE id IN ({placeholders(conn, len(wanted))})"
    )
    _, rows = await conn.execute_query(sql, wanted)
    field = User._meta.fields_map["tokens_valid_after"]
    marks: dict[int, int | None] = {}
    for row in rows:
        mark = field.to_python_value(row["tokens_valid_after"])
        marks[int(row["id"])] = None if mark is None else int(mark.timestamp())
    return [marks.get(uid, UNKNOWN) for uid in user_ids]


async def authenticate(request: Request) -> Principal:
    """sanic-ext dependency: handlers that take a `Principal` require a valid token."""
    verifier: TokenVerifier = request.app.ctx.verifier
    return await verifier.verify(bearer_token(request.headers.get("authorization")))


async def revoke_token(*, redis: Redis, principal: Principal) -> None:
    """Refuse this token from now on, in every process and durably, and close its sockets."""
    # iat + 1 s, not "now": the check compares whole seconds, so this refuses the
    # tokens issued up to the revoked one's second and no later one, such as a fresh
    # login (users.login waits out the rare login within that same second).
    await _raise_mark(
        redis=redis,
        user_id=principal.user_id,
        valid_after=principal.issued_at + 1,
        jti=principal.jti,
        exp=principal.expires_at,
    )


async def revoke_user_tokens(*, redis: Redis, user_id: int) -> None:
    """Refuse every access token the user holds so far, and close their sockets: a
    stolen session (app/sessions.py) may have handed out any of them. The user's other
    sessions renew their access tokens and carry on."""
    now = int(time.time())
    await _raise_mark(redis=redis, user_id=user_id, valid_after=now + 1, jti=None, exp=now)


async def _raise_mark(
    *, redis: Redis, user_id: int, valid_after: int, jti: str | None, exp: int
) -> None:
    # Only ever raised, in one UPDATE, so concurrent revocations cannot lower it.
    mark = datetime.fromtimestamp(valid_after, UTC)
    await User.filter(
        Q(tokens_valid_after__isnull=True) | Q(tokens_valid_after__lt=mark),
        id=user_id,
    ).update(tokens_valid_after=mark)
    message = {
        "jti": jti,
        "user_id": user_id,
        "exp": exp,
        # Sockets of this user opened with tokens issued before this are refused too.
        "valid_after": valid_after,
    }
    await redis.publish(keys.revocations(redis), orjson.dumps(message))


def utcnow() -> datetime:
    return datetime.now(UTC)
