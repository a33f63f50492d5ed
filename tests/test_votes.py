"""The vote engine itself: batching, and surviving a Redis that forgot its scripts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.tokens import Principal
from app.votes import VoteResult
from tests.conftest import LiveServer, metric
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote


async def test_votes_survive_a_flushed_script_cache(
    client: httpx.AsyncClient, make_person: Any, redis: SyncRedis
) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    assert (await vote(client, a, poll, 0)).json()["status"] == "accepted"
    redis.script_flush()  # what a Redis restart does to EVALSHA
    assert (await vote(client, b, poll, 1)).json() == {"status": "accepted", "seq": 2}
    assert (await vote(client, a, poll, 0)).json()["status"] == "unchanged"


async def test_one_batch_answers_each_caller(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    engine = live_server.app.ctx.votes
    people = [await make_person() for _ in range(30)]
    option = poll["options"][0]["id"]
    # Cast in one loop tick: one pipeline; every caller still gets its own answer,
    # a bad ballot fails alone.
    results = await asyncio.gather(
        *(
            engine.cast(
                principal=Principal(p.user_id, False, f"j{p.user_id}", 0, 2**31),
                poll_id=poll["id"],
                body={"option_ids": [option if i != 7 else 10**6]},
            )
            for i, p in enumerate(people)
        ),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and getattr(errors[0], "code", None) == "invalid_option"
    seqs = sorted(r.seq for r in results if isinstance(r, VoteResult))
    assert seqs == list(range(1, 30))


async def test_outcomes_reach_the_votes_counter(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    sample = 'livepolls_votes_total{status="%s"}'
    before = {
        s: await metric(client, sample % s) for s in ("accepted", "unchanged", "already_voted")
    }
    await asyncio.gather(vote(client, a, poll, 0), vote(client, b, poll, 1))
    assert (await vote(client, a, poll, 0)).json()["status"] == "unchanged"
    assert (await vote(client, a, poll, 2)).status_code == 409
    after = {s: await metric(client, sample % s) for s in before}
    assert {s: after[s] - before[s] for s in before} == {
        "accepted": 2,
        "unchanged": 1,
        "already_voted": 1,
    }
