"""Reconciliation: lost Redis state rebuilt, bad counts repaired, late closes, drift."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from prometheus_client import REGISTRY

from app import keys
from app.polls.state import SEQ_REBUILD_MARGIN
from models import Poll, PollOption
from tests.burst import cast, db_ballots, drained, make_voters, redis_ballots
from tests.conftest import LiveServer
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote
from workers.reconcile import ReconcileReport, reconcile


async def reconcile_now(live_server: LiveServer) -> ReconcileReport:
    ctx = live_server.app.ctx
    return await reconcile(
        redis=ctx.redis.client, arq=ctx.arq, recount_every_s=ctx.settings.recount_interval_s
    )


def counts_of(ballots: dict[int, str], option_ids: list[int]) -> dict[str, int]:
    counter = Counter(int(o) for b in ballots.values() for o in b.split(","))
    return {str(o): counter[o] for o in option_ids}


async def test_flushed_redis_is_rebuilt_from_the_database(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner, early, late = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(500)
    ballots = [
        (p, [opts[i % 3], opts[(i + 1) % 3]] if i % 2 else [opts[i % 3]])
        for i, p in enumerate(voters)
    ]
    await cast(live_server.app.ctx.votes, poll["id"], ballots)
    assert (await vote(client, early, poll, 0, 2)).json()["status"] == "accepted"
    background = asyncio.create_task(worker(burst=False).async_run())
    await drained(redis, poll["id"])
    before = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()

    redis.flushdb()  # Redis lost everything; the database has every acked ballot
    r = await vote(client, early, poll, 1)  # the vote path rebuilds lazily
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_voted")
    for p, ids in ballots[:20]:
        r = await client.post(
            f"/polls/{poll['id']}/votes",
            json={"option_ids": [opts[2]] if len(ids) == 2 else [opts[0], opts[1]]},
            headers={"Authorization": f"Bearer {_token(live_server, p.user_id)}"},
        )
        assert r.json()["error"]["code"] == "already_voted"
    after = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()
    assert after["counts"] == before["counts"] == counts_of(await db_ballots(poll["id"]), opts)
    assert after["total"] == before["total"] == 501
    assert after["seq"] > before["seq"]  # never backwards for clients that saw the old ones
    # New votes still flow to the database after the rebuild.
    assert (await vote(client, late, poll, 1)).json()["status"] == "accepted"
    await drained(redis, poll["id"])
    assert await db_ballots(poll["id"]) == redis_ballots(redis, poll["id"])

    redis.flushdb()  # again, and this time the reconciler notices first
    report = await reconcile_now(live_server)
    assert report.rebuilt == [poll["id"]]
    assert str(poll["id"]) in redis.smembers(keys.ACTIVE_POLLS)
    assert redis_ballots(redis, poll["id"]) == await db_ballots(poll["id"])
    seq = redis.get(keys.seq(poll["id"]))
    assert seq is not None
    assert int(seq) >= SEQ_REBUILD_MARGIN
    background.cancel()


def _token(live_server: LiveServer, user_id: int) -> str:
    from app.tokens import issue_token

    return issue_token(live_server.app.ctx.settings, user_id=user_id, is_guest=True)[0]


async def test_corrupt_counts_are_repaired(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, redis: SyncRedis
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(30)
    ballots = [(p, [opts[i % 2]]) for i, p in enumerate(voters)]
    await cast(live_server.app.ctx.votes, poll["id"], ballots)
    good = redis.hgetall(keys.counts(poll["id"]))
    assert (await reconcile_now(live_server)).repaired == {}  # the first full recount
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.channel(redis, poll["id"]))  # type: ignore[no-untyped-call]  # redis-py leaves PubSub.subscribe unannotated

    # Counting an option the poll does not have, or missing one, is seen at once.
    redis.hset(keys.counts(poll["id"]), str(opts[0]), 999)
    redis.hdel(keys.counts(poll["id"]), str(opts[2]))
    redis.hset(keys.counts(poll["id"]), "424242", 3)
    report = await reconcile_now(live_server)
    assert report.repaired == {poll["id"]: 3}
    assert (
        redis.hgetall(keys.counts(poll["id"]))
        == good
        == {str(opts[0]): "15", str(opts[1]): "15", str(opts[2]): "0"}
    )
    message = None
    for _ in range(50):  # the first reads return the subscribe confirmation as None
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            break
    assert message is not None
    update = orjson.loads(message["data"])
    assert update["type"] == "RESULTS" and update["total"] == 30
    assert update["counts"] == {str(opts[0]): 15, str(opts[1]): 15, str(opts[2]): 0}
    pubsub.close()
    # Nothing to repair: nothing touched.
    assert (await reconcile_now(live_server)).repaired == {}


async def test_counts_that_cannot_add_up_are_repaired_on_the_next_pass(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, redis: SyncRedis
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(20)
    ballots = [
        (p, [opts[0], opts[1]] if i % 4 == 0 else [opts[i % 3]]) for i, p in enumerate(voters)
    ]
    acked = await cast(live_server.app.ctx.votes, poll["id"], ballots)
    good = counts_of(acked, opts)
    assert good == {str(opts[0]): 10, str(opts[1]): 10, str(opts[2]): 5}
    await reconcile_now(live_server)
    counts = keys.counts(poll["id"])
    # Each corruption keeps the right fields; only the totals give it away: more marks
    # than 20 voters can make with 2 choices each, fewer marks than voters, a negative.
    for wrong in ({opts[0]: 20}, {opts[0]: -8}, {opts[2]: -6, opts[0]: 6}):
        for option, by in wrong.items():
            redis.hincrby(counts, str(option), by)
        assert (await reconcile_now(live_server)).repaired == {poll["id"]: len(wrong)}
        assert {k: int(v) for k, v in redis.hgetall(counts).items()} == good


async def test_a_count_error_that_adds_up_waits_for_the_periodic_full_recount(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, redis: SyncRedis
) -> None:
    """Proving counts right reads every ballot, which holds Redis; a pass does it for a
    poll only every RECOUNT_INTERVAL_S, so one vote moved between two options (the
    totals still add up) stays until then, and is then repaired."""
    owner = await make_person()
    poll = await create(client, owner)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(30)
    await cast(
        live_server.app.ctx.votes, poll["id"], [(p, [opts[i % 2]]) for i, p in enumerate(voters)]
    )
    await reconcile_now(live_server)
    counts, meta = keys.counts(poll["id"]), keys.meta(poll["id"])
    redis.hincrby(counts, str(opts[0]), 1)
    redis.hincrby(counts, str(opts[1]), -1)

    assert (await reconcile_now(live_server)).repaired == {}
    assert redis.hmget(counts, [str(opts[0]), str(opts[1])]) == ["16", "14"]
    # The last full recount is now one interval old.
    interval_ms = live_server.app.ctx.settings.recount_interval_s * 1000
    recounted_ms = redis.hget(meta, "recounted_ms")
    assert recounted_ms is not None
    redis.hset(meta, "recounted_ms", int(recounted_ms) - interval_ms)
    assert (await reconcile_now(live_server)).repaired == {poll["id"]: 2}
    assert redis.hmget(counts, [str(opts[0]), str(opts[1])]) == ["15", "15"]
    assert (await reconcile_now(live_server)).repaired == {}


async def test_a_poll_past_closes_at_is_closed_and_finalized(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(40)
    ballots = [(p, [opts[i % 3]]) for i, p in enumerate(voters)]
    await cast(live_server.app.ctx.votes, poll["id"], ballots)
    # Its deferred close job was lost: closes_at passed, the row still says open.
    await Poll.filter(id=poll["id"]).update(closes_at=datetime.now(UTC) - timedelta(seconds=1))
    w = worker()  # burst: the reconcile pass at start, then the finalize job it asks for
    await asyncio.wait_for(w.async_run(), 60)
    row = await Poll.get(id=poll["id"])
    assert row.status == "closed" and row.closed_at is not None and row.finalized_at is not None
    stored = dict(await PollOption.filter(poll_id=poll["id"]).values_list("id", "vote_count"))
    assert stored == {opts[0]: 14, opts[1]: 13, opts[2]: 13}
    assert str(poll["id"]) not in redis.smembers(keys.ACTIVE_POLLS)


async def test_drift_is_measured(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(25)
    await cast(live_server.app.ctx.votes, poll["id"], [(p, [opts[0]]) for p in voters])
    redis.sadd(keys.ACTIVE_POLLS, "999999")  # a deleted poll left behind
    report = await reconcile_now(live_server)
    assert report.drift == {poll["id"]: (25, 0)}  # acked, not yet in the database
    assert report.stale == report.dropped == [999999]
    assert REGISTRY.get_sample_value("livepolls_redis_db_drift_ballots") == 25
    background = asyncio.create_task(worker(burst=False).async_run())
    await drained(redis, poll["id"])
    background.cancel()
    # Rows the database has and Redis lost (an AOF loss window) show up too.
    redis.hdel(keys.voters(poll["id"]), str(voters[0].user_id))
    report = await reconcile_now(live_server)
    assert report.drift == {poll["id"]: (0, 1)}
    assert REGISTRY.get_sample_value("livepolls_redis_db_drift_ballots") == 1
    assert redis.smembers(keys.ACTIVE_POLLS) == {str(poll["id"])}


async def test_state_of_a_poll_deleted_behind_its_back_is_dropped(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, redis: SyncRedis
) -> None:
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner)
    assert (await vote(client, voter, poll, 0)).json()["status"] == "accepted"
    await Poll.filter(id=poll["id"]).delete()  # e.g. a cascade from a deleted owner
    report = await reconcile_now(live_server)
    assert report.dropped == [poll["id"]]
    assert not redis.keys(f"{keys.poll_tag(poll['id'])}:*")
    r = await vote(client, voter, poll, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


async def test_acks_lost_by_a_redis_restart_are_folded_back(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner, a, b, c = [await make_person() for _ in range(4)]
    poll = await create(client, owner, allow_change=True)
    pid = poll["id"]
    state = [keys.voters(pid), keys.counts(pid), keys.seq(pid)]
    assert (await vote(client, a, poll, 0)).json()["status"] == "accepted"
    assert (await vote(client, b, poll, 1)).json()["status"] == "accepted"
    # What an older AOF/RDB holds: a's first ballot and b's.
    snapshot = {key: redis.dump(key) for key in state}
    assert (await vote(client, c, poll, 1)).json()["status"] == "accepted"
    assert (await vote(client, a, poll, 2)).json() == {"status": "changed", "seq": 4}
    background = asyncio.create_task(worker(burst=False).async_run())
    await drained(redis, pid)
    background.cancel()
    # Redis restarts from the older file: the last two acks are gone from it.
    for key, value in snapshot.items():
        redis.restore(key, 0, value, replace=True)
    assert redis.hlen(keys.voters(pid)) == 2

    report = await reconcile_now(live_server)
    assert report.folded == {pid: 2}
    again = await reconcile_now(live_server)
    assert again.folded == {}  # idempotent
    results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
    opts = [o["id"] for o in poll["options"]]
    assert results["counts"] == {str(opts[0]): 0, str(opts[1]): 2, str(opts[2]): 1}
    assert results["total"] == 3
    assert results["seq"] >= 4 + SEQ_REBUILD_MARGIN  # never backwards for anyone
    # b and c cannot vote as if they never had; a's change survived.
    assert (await vote(client, b, poll, 1)).json()["status"] == "unchanged"
    assert (await vote(client, a, poll, 2)).json()["status"] == "unchanged"
