"""Helpers for the write-behind tests: many voters at once, drained outboxes, ballots."""

from __future__ import annotations

import asyncio
import time
import uuid

from app import keys
from app.tokens import Principal
from app.votes import VoteEngine
from models import Ballot, User
from tests.sync_redis import SyncRedis


async def make_voters(n: int) -> list[Principal]:
    """n guest users created in bulk straight in the database, as principals."""
    tag = f"burst-{uuid.uuid4().hex[:8]}"
    users = [User(is_guest=True, display_name=tag) for _ in range(n)]
    await User.bulk_create(users, batch_size=1000)
    ids = await User.filter(display_name=tag).order_by("id").values_list("id", flat=True)
    return [Principal(int(i), True, "t", 0, 2**31) for i in ids]  # type: ignore[call-overload]


async def cast(
    engine: VoteEngine, poll_id: int, ballots: list[tuple[Principal, list[int]]], chunk: int = 2000
) -> dict[int, str]:
    """Cast the ballots (pipelined by the engine, `chunk` at a time); return what was
    acked: user id -> ballot string of the last accepted or changed vote."""
    acked: dict[int, str] = {}
    for i in range(0, len(ballots), chunk):
        part = ballots[i : i + chunk]
        results = await asyncio.gather(
            *(
                engine.cast(principal=p, poll_id=poll_id, body={"option_ids": ids})
                for p, ids in part
            )
        )
        for (p, ids), result in zip(part, results, strict=True):
            if result.status in ("accepted", "changed"):
                acked[p.user_id] = ",".join(str(o) for o in sorted(ids))
    return acked


def backlog(redis: SyncRedis, poll_id: int) -> tuple[int, int]:
    """(entries in the stream, entries pending on some consumer)."""
    stream = keys.outbox(poll_id)
    if not redis.exists(stream):
        return 0, 0
    pending = redis.xpending(stream, keys.OUTBOX_GROUP)["pending"]
    return int(redis.xlen(stream)), int(pending)


async def drained(redis: SyncRedis, poll_id: int, within_s: float = 60) -> None:
    """Wait until the poll's outbox is empty and nothing is pending (acked entries are
    deleted, so an empty stream means every entry was committed)."""
    deadline = time.monotonic() + within_s
    while backlog(redis, poll_id) != (0, 0):
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not drained: {backlog(redis, poll_id)}")
        await asyncio.sleep(0.05)


async def db_ballots(poll_id: int) -> dict[int, str]:
    rows = await Ballot.filter(poll_id=poll_id).values_list("user_id", "option_ids")
    return {int(u): str(b) for u, b in rows}


def redis_ballots(redis: SyncRedis, poll_id: int) -> dict[int, str]:
    return {int(u): str(b) for u, b in redis.hgetall(keys.voters(poll_id)).items()}
