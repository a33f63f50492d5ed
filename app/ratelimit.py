"""Fixed-window rate limits kept in Redis, so every process shares one count.

`hit()` counts one event against a `Limit` and says how long the caller must wait
(0: go ahead). The increment and the window's expiry happen in one Lua script: hits
from any number of processes are counted exactly, and no key is ever left without
an expiry. A fixed window can let up to twice the limit through around a window
boundary; in exchange a hit costs one small script call, cheap enough for
per-message limits too. Each limit is its own key, so a caller checking several
never needs them in one Redis Cluster slot.

Logins count every attempt, successful or not, per username and per client address,
before any password is hashed. Counting only failures would need the verdict first,
that is an argon2 verification per attempt (the cost the limit exists to cap), and
a burst of parallel guesses would all pass the check before the first failure was
recorded. A person logs in a few times an hour, far below the limits.

Guest creation and poll creation use a token bucket instead (`take()`): a burst of
`burst` events passes at once, then `per_s` a second. A fixed window cannot tell a
room of phones behind one conference NAT joining within a minute (1,000 guests in
60 s, then quiet) from a script minting guests forever; a bucket admits the first
whole and holds the second to the refill rate. The refill and the take happen in one
script on Redis' own clock, so every process draws from the same bucket.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from sanic import Request

from app import keys
from app.config import Settings
from app.errors import RateLimited

# KEYS[1] the counter, ARGV[1] the window in ms -> {hits so far, ms until the window ends}
_HIT = """
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""


# KEYS[1] the bucket (hash: t tokens, at ms), ARGV[1] burst, ARGV[2] tokens per s
# -> 0 (taken) or ms until one token is there. An idle bucket expires once full again.
_TAKE = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """Up to `burst` events under `key` at once, refilled at `per_s` a second."""

    key: str
    burst: int
    per_s: float


async def take(*, redis: Redis, bucket: Bucket) -> None:
    """Take one token from `bucket`; raise RateLimited (with the wait) when it is empty.

    A refused event takes nothing, so a client hammering an empty bucket is let in
    again at the refill rate, not locked out for good.
    """
    script = redis.register_script(_TAKE)
    wait_ms = int(await script(keys=[bucket.key], args=[bucket.burst, repr(bucket.per_s)]))
    if wait_ms > 0:
        raise RateLimited(max(1, math.ceil(wait_ms / 1000)))


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `hits` events under `key` in each window of `window_s` seconds."""

    key: str
    hits: int
    window_s: int


async def hit(*, redis: Redis, limit: Limit) -> int:
    """Count one event; return 0 if it is within the limit, else seconds until the window ends."""
    # register_script only hashes the text; the call reloads it on NOSCRIPT (Redis restarted).
    script = redis.register_script(_HIT)
    hits, ttl_ms = await script(keys=[limit.key], args=[limit.window_s * 1000])
    if int(hits) <= limit.hits:
        return 0
    return max(1, math.ceil(int(ttl_ms) / 1000))


async def enforce(*, redis: Redis, limits: Sequence[Limit]) -> None:
    """Count one event against every limit; raise RateLimited if any of them is exhausted."""
    waits = await asyncio.gather(*(hit(redis=redis, limit=limit) for limit in limits))
    wait = max(waits, default=0)
    if wait:
        raise RateLimited(wait)


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address; X-Forwarded-For is believed only behind PROXIES_COUNT proxies."""
    if settings.proxies_count > 0:
        # Sanic takes the PROXIES_COUNT-th X-Forwarded-For entry from the right: the peer
        # our outermost proxy saw. Without the header, the bucket is the proxy's own.
        return request.remote_addr or request.ip
    return request.ip


def login_limits(settings: Settings, *, username: str, ip: str) -> list[Limit]:
    """The limits one login attempt counts against (see the module docstring)."""
    window = settings.login_window_s
    return [
        Limit(keys.login_attempts_user(username), settings.login_attempts_per_user, window),
        Limit(keys.login_attempts_ip(ip), settings.login_attempts_per_ip, window),
    ]


def register_limits(settings: Settings, *, ip: str) -> list[Limit]:
    """Registration hashes a password too, so it is capped per client IP like login."""
    return [
        Limit(
            keys.register_attempts_ip(ip), settings.login_attempts_per_ip, settings.login_window_s
        )
    ]


def refresh_ip_limits(settings: Settings, *, ip: str) -> list[Limit]:
    """Counted before the token is looked up: a flood of made-up tokens costs one query each."""
    window = settings.login_window_s
    return [Limit(keys.refresh_attempts_ip(ip), settings.refresh_attempts_per_ip, window)]


def refresh_session_limits(settings: Settings, *, family: str) -> list[Limit]:
    """A client renews once per access-token life; a loop renewing one session is capped."""
    window = settings.login_window_s
    return [
        Limit(keys.refresh_attempts_session(family), settings.refresh_attempts_per_session, window)
    ]


def guest_bucket(settings: Settings, *, ip: str) -> Bucket:
    """New guests per client address (the module docstring says why a bucket)."""
    return Bucket(keys.guests_ip(ip), settings.guest_burst, settings.guest_per_s)


def poll_create_bucket(settings: Settings, *, user_id: int) -> Bucket:
    """New polls per account."""
    return Bucket(
        keys.polls_created_user(user_id), settings.poll_create_burst, settings.poll_create_per_s
    )
