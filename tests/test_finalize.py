"""Close -> finalize: the outbox drained, final counts stored, results served from the database."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app import keys
from models import Poll, PollOption
from tests.burst import backlog, cast, db_ballots, make_voters, redis_ballots
from tests.conftest import LiveServer
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote


async def test_close_finalizes_and_results_outlive_the_redis_state(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner, member = await make_person(), await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(300)
    ballots = [
        (p, [opts[i % 3], opts[(i + 1) % 3]] if i % 4 else [opts[i % 3]])
        for i, p in enumerate(voters)
    ]
    # then a third of them change their minds
    ballots += [(p, [opts[2]]) for p in voters[::3]]
    await cast(live_server.app.ctx.votes, poll["id"], ballots)
    assert (await vote(client, member, poll, 1)).json()["status"] == "accepted"
    assert backlog(redis, poll["id"])[0] == 401  # nothing drained yet: no worker ran

    closed = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert closed.status_code == 200
    final = closed.json()["results"]
    assert final["total"] == 301

    w = worker()  # burst: runs the finalize job the close enqueued, then stops
    await asyncio.wait_for(w.async_run(), 60)
    assert w.jobs_failed == 0

    row = await Poll.get(id=poll["id"])
    assert row.finalized_at is not None
    assert await db_ballots(poll["id"]) == redis_ballots(redis, poll["id"])
    stored = dict(await PollOption.filter(poll_id=poll["id"]).values_list("id", "vote_count"))
    assert {str(k): v for k, v in stored.items()} == final["counts"]
    assert str(poll["id"]) not in redis.smembers(keys.ACTIVE_POLLS)
    assert backlog(redis, poll["id"]) == (0, 0)

    # Redis forgets the poll: the database alone serves it, with the same numbers.
    redis.delete(*redis.keys(f"{keys.poll_tag(poll['id'])}:*"))
    r = await client.get(f"/polls/{poll['id']}/results", headers=member.headers)
    assert r.status_code == 200 and r.json() == final
    view = (await client.get(f"/polls/{poll['id']}", headers=member.headers)).json()
    assert view["results"] == final and view["my_vote"] == [opts[1]]
    again = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert again.json() == closed.json()
    assert not redis.exists(keys.meta(poll["id"]))  # served without rebuilding
    r = await vote(client, member, poll, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")


async def test_finalize_waits_for_entries_a_live_worker_still_holds(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(50)
    await cast(live_server.app.ctx.votes, poll["id"], [(p, [opts[0]]) for p in voters])
    # Another consumer read every entry and then went silent without acking.
    redis.xreadgroup(keys.OUTBOX_GROUP, "silent", {keys.outbox(poll["id"]): ">"}, count=1000)
    assert backlog(redis, poll["id"]) == (50, 50)
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    await asyncio.wait_for(worker().async_run(), 60)
    assert (await Poll.get(id=poll["id"])).finalized_at is not None
    counts = dict(await PollOption.filter(poll_id=poll["id"]).values_list("id", "vote_count"))
    assert counts == {opts[0]: 50, opts[1]: 0, opts[2]: 0}
