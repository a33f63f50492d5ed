"""A rating, a ranking and a quiz through a Redis that comes back from an older append-only
file (the hardening issue's rollback rule, tests/test_rollback.py for choice): the vote
path verifies each poll (verify.lua folds back what the database holds, with each
kind's marks), so nothing persisted is lost, nobody votes twice and no seq is acked
twice. A real fault: redis-server killed with SIGKILL and started from a copy.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app import keys
from app.tokens import issue_token
from tests import test_rollback
from tests.burst import db_ballots, drained, make_voters, redis_ballots
from tests.conftest import AofRedis, LiveServer
from tests.test_polls import create

# The server, the worker and the test all on the Redis the test rolls back.
settings_env = test_rollback.settings_env


def marks(kind: str, ballot: str) -> list[str]:
    """The count fields a ballot marks (docs/protocol.md), computed here."""
    ids = ballot.split(",")
    return [f"{o}:{p}" for p, o in enumerate(ids, 1)] if kind == "ranking" else ids


async def test_a_rating_a_ranking_and_a_quiz_survive_a_redis_rollback(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    make_person: Any,
    worker: Any,
    aof_redis: AofRedis,
    tmp_path: Path,
) -> None:
    settings = live_server.app.ctx.settings
    redis = aof_redis.client()
    owner = await make_person()
    rating = await create(client, owner, kind="rating", options=None, scale=5, allow_change=True)
    ranking = await create(
        client,
        owner,
        kind="ranking",
        options=["A", "B", "C", "D"],
        max_choices=2,
        allow_change=True,
    )
    quiz = await create(
        client,
        owner,
        kind="quiz",
        options=["A", "B", "C", "D"],
        correct=[0, 1],
        allow_change=True,
    )
    polls = {"rating": rating, "ranking": ranking, "quiz": quiz}
    opts = [o["id"] for o in ranking["options"]]
    quiz_opts = [o["id"] for o in quiz["options"]]
    voters = await make_voters(90)
    headers = {
        p.user_id: {
            "Authorization": f"Bearer {issue_token(settings, user_id=p.user_id, is_guest=True)[0]}"
        }
        for p in voters
    }

    def ballot(kind: str, i: int) -> tuple[dict[str, Any], str]:
        if kind == "rating":
            return {"rating": i % 5 + 1}, str(i % 5 + 1)
        if kind == "quiz":  # sent in any order, kept sorted
            picked = [quiz_opts[(i + 1) % 4], quiz_opts[i % 4]][: 1 + i % 2]
            return {"option_ids": picked}, ",".join(map(str, sorted(picked)))
        order = [opts[i % 4], opts[(i + 1 + (i // 4) % 3) % 4]]  # 12 distinct orders
        return {"option_ids": order}, ",".join(map(str, order))

    acked: dict[str, dict[int, str]] = {kind: {} for kind in polls}
    seqs: dict[str, Counter[int]] = {kind: Counter() for kind in polls}

    async def round_(users: range, shift: int) -> None:
        async def one(kind: str, poll: dict[str, Any], i: int) -> None:
            body, text = ballot(kind, i + shift)
            user = voters[i].user_id
            r = await client.post(f"/polls/{poll['id']}/votes", json=body, headers=headers[user])
            assert r.status_code == 200, r.text
            if r.json()["status"] in ("accepted", "changed"):
                acked[kind][user] = text
                seqs[kind][r.json()["seq"]] += 1

        await asyncio.gather(*(one(k, p, i) for i in users for k, p in polls.items()))

    background = asyncio.create_task(worker(burst=False).async_run())
    try:
        await round_(range(0, 30), 0)
        aof_copy = tmp_path / "older-aof"
        aof_redis.copy_aof(aof_copy)
        await round_(range(30, 60), 0)  # new voters
        await round_(range(0, 15), 1)  # changed ballots
        for poll in polls.values():
            await drained(redis, poll["id"])

        aof_redis.restart_from(aof_copy)  # the crash; Redis forgot the last two rounds
        assert len(redis_ballots(redis, rating["id"])) == 30
        await round_(range(60, 90), 0)
        await round_(range(15, 30), 2)
        for poll in polls.values():
            await drained(redis, poll["id"])
    finally:
        background.cancel()

    for kind, poll in polls.items():
        assert redis_ballots(redis, poll["id"]) == acked[kind], kind
        assert await db_ballots(poll["id"]) == acked[kind], kind
        assert all(n == 1 for n in seqs[kind].values()), f"{kind}: a seq acked twice"
        expected = Counter(f for b in acked[kind].values() for f in marks(kind, b))
        counts = {k: int(v) for k, v in redis.hgetall(keys.counts(poll["id"])).items()}
        assert +Counter(counts) == expected, kind
        r = await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)
        assert r.json()["total"] == len(acked[kind]) == 90
    redis.close()
