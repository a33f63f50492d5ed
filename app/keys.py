"""Every Redis key and channel name, in one place.

A poll's keys share the hash tag `{p:<id>}` so each Lua script touches one slot
(Redis Cluster ready). Layout of a poll's state:

    {p:ID}:meta      hash   status, kind, max_choices, allow_change (0/1), require_account
                            (0/1), visibility, owner_id, closes_at_ms (0 = none),
                            options (",3,4,5," for substring checks), code
    {p:ID}:voters    hash   user id -> ballot ("3,5": app/lua/kinds.lua per kind)
    {p:ID}:counts    hash   count field (an option id; per kind: kinds.lua) -> count
    {p:ID}:seq       int    grows by one per accepted or changed ballot
    {p:ID}:outbox    stream one entry per accepted/changed ballot: u, b, s (seq), t (ms);
                            consumer group OUTBOX_GROUP drains it into MySQL; entries are
                            trimmed once committed (app/lua/ack.lua), and the stream is
                            deleted when the poll is finalized (workers/outbox.py)
    {p:ID}:pres      zset   "<user id>|<process id>" -> expiry (ms); refreshed by heartbeat
    {p:ID}:presn     hash   user id -> number of processes showing that user
    {p:ID}:ch:dbN    channel tally / presence / poll-change messages for the room

A session's (event's) keys share `{s:<id>}`:

    {s:ID}:pres      zset   as a poll's: presence is counted per session
    {s:ID}:presn     hash   as a poll's
    {s:ID}:ch:dbN    channel the session's state changes (SESSION_CHANGED, SESSION_DELETED)
                            and its PRESENCE

Pub/sub channels are server-wide, unlike keys, which live in a numbered db: every
channel name carries the client's db number, so two deployments (or test runs) on
different dbs of one Redis server never hear each other's rooms.
"""

from __future__ import annotations

from typing import Any

OUTBOX_GROUP = "persist"

# Polls whose outbox streams workers drain: open polls and closed ones not yet finalized.
ACTIVE_POLLS = "polls:active"


def _db(redis: Any) -> int:
    return int(redis.connection_pool.connection_kwargs.get("db") or 0)


def outbox_wakeup(redis: Any) -> str:
    """Nudges idle workers the moment a poll becomes active."""
    return f"outbox:wakeup:db{_db(redis)}"


def revocations(redis: Any) -> str:
    """Token revocations: every web process closes the sockets opened with that jti."""
    return f"auth:revocations:db{_db(redis)}"


def poll_tag(poll_id: int) -> str:
    return f"{{p:{poll_id}}}"


def meta(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:meta"


def voters(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:voters"


def counts(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:counts"


def seq(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:seq"


def outbox(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:outbox"


def presence(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:pres"


def presence_users(poll_id: int) -> str:
    return f"{{p:{poll_id}}}:presn"


def channel(redis: Any, poll_id: int) -> str:
    return f"{{p:{poll_id}}}:ch:db{_db(redis)}"


def session_presence(session_id: int) -> str:
    return f"{{s:{session_id}}}:pres"


def session_presence_users(session_id: int) -> str:
    return f"{{s:{session_id}}}:presn"


def session_channel(redis: Any, session_id: int) -> str:
    return f"{{s:{session_id}}}:ch:db{_db(redis)}"


def is_session_channel(channel: str) -> bool:
    return channel.startswith("{s:")


def poll_state_keys(poll_id: int) -> list[str]:
    """The keys every vote-path script takes, in the order the scripts expect."""
    return [meta(poll_id), voters(poll_id), counts(poll_id), seq(poll_id), outbox(poll_id)]


def login_attempts_user(username: str) -> str:
    return f"ratelimit:login:user:{username.lower()}"


def login_attempts_ip(ip: str) -> str:
    return f"ratelimit:login:ip:{ip}"


def register_attempts_ip(ip: str) -> str:
    return f"ratelimit:register:ip:{ip}"


def refresh_attempts_ip(ip: str) -> str:
    return f"ratelimit:refresh:ip:{ip}"


def refresh_attempts_session(family: str) -> str:
    return f"ratelimit:refresh:sid:{family}"


def guests_ip(ip: str) -> str:
    return f"ratelimit:guest:ip:{ip}"


def polls_created_user(user_id: int) -> str:
    return f"ratelimit:polls:user:{user_id}"
