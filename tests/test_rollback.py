"""A Redis that comes back from an older append-only file: nothing the database holds is
lost, nobody votes twice, no seq is acked twice, the close reply is the stored result.

A real fault on a redis-server of the test's own (AOF, fsync always): votes over real
WebSockets through a live server, drained into the database by a real worker process,
the AOF copied aside, more votes (new voters, changed ballots, refused second ballots)
drained too, then Redis killed with SIGKILL and started again from the copy, and voting
resumes at once: the worker's reconcile pass is an hour away, so the vote path alone
must find out.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app import keys
from app.tokens import issue_token
from models import Poll, PollOption
from tests.burst import db_ballots, drained, make_voters, redis_ballots
from tests.conftest import AofRedis, LiveServer
from tests.sync_redis import SyncRedis
from tests.test_polls import create
from tests.wsclient import WsClient
from workers.reconcile import reconcile

POLLS = 6  # even ones allow changes, odd ones do not
FIRST, SECOND, LATE = range(0, 60), range(60, 120), range(120, 140)
CHANGERS = range(0, 30)  # voters of FIRST who change (or try to) in phase B and C
SECOND_CHANGERS = range(60, 90)  # voters of SECOND who change in phase C


@pytest.fixture
def settings_env(settings_env: dict[str, str], aof_redis: AofRedis) -> dict[str, str]:
    """The server, the worker and the test all on the Redis the test rolls back."""
    return {**settings_env, "REDIS_URL": aof_redis.url}


class Acks:
    """Every VOTE reply, by poll, in the order each socket got them."""

    def __init__(self) -> None:
        # poll, user, ballot, status (or error code), seq
        self.replies: list[tuple[int, int, str, str, int | None]] = []

    def last_ballots(self, poll_id: int) -> dict[int, str]:
        """user -> the ballot of that user's last accepted or changed ack."""
        out: dict[int, str] = {}
        for pid, user, ballot, status, _ in self.replies:
            if pid == poll_id and status in ("accepted", "changed"):
                out[user] = ballot
        return out


async def _vote_round(
    ws_of: dict[int, WsClient],
    acks: Acks,
    plan: list[tuple[int, int, int]],  # user, poll id, option id
) -> None:
    """Each user's votes in order on its own socket, every socket at once."""
    by_user: dict[int, list[tuple[int, int]]] = {}
    for user, poll_id, option in plan:
        by_user.setdefault(user, []).append((poll_id, option))

    async def one(user: int, votes: list[tuple[int, int]]) -> None:
        for poll_id, option in votes:
            reply = await ws_of[user].request(30, type="VOTE", poll_id=poll_id, option_ids=[option])
            if reply["type"] == "VOTE_ACK":
                acks.replies.append((poll_id, user, str(option), reply["status"], reply["seq"]))
            else:
                acks.replies.append((poll_id, user, str(option), reply["code"], None))

    await asyncio.gather(*(one(user, votes) for user, votes in by_user.items()))


async def _finalized(poll_ids: list[int], within_s: float = 90) -> None:
    deadline = time.monotonic() + within_s
    while await Poll.filter(id__in=poll_ids, finalized_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise AssertionError("polls not finalized in time")
        await asyncio.sleep(0.1)


async def test_a_redis_back_from_an_older_aof_loses_nothing_the_database_holds(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    make_person: Any,
    worker: Any,
    aof_redis: AofRedis,
    tmp_path: Path,
) -> None:
    settings = live_server.app.ctx.settings
    redis: SyncRedis = aof_redis.client()
    owner = await make_person()
    polls = [await create(client, owner, allow_change=i % 2 == 0) for i in range(POLLS)]
    options: dict[int, list[int]] = {p["id"]: [o["id"] for o in p["options"]] for p in polls}
    changeable = {p["id"] for p in polls if p["allow_change"]}
    principals = await make_voters(len(FIRST) + len(SECOND) + len(LATE))
    user_of = {i: p.user_id for i, p in enumerate(principals)}

    # A real worker process drains the outboxes; its reconcile pass runs at start and
    # then on the hour, so after the rollback only the vote path can notice.
    drainer = worker(process=True, reconcile_interval_s=3600, outbox_claim_idle_ms=1000)
    await drainer.started()

    ws_of: dict[int, WsClient] = {}
    for i, principal in enumerate(principals):
        token, _ = issue_token(settings, user_id=principal.user_id, is_guest=True)
        ws_of[user_of[i]] = await WsClient.open(live_server.ws_url, token)
    acks = Acks()

    def option(poll_id: int, index: int) -> int:
        return options[poll_id][index % len(options[poll_id])]

    try:
        # Phase A, then the copy of the append-only file: what Redis will come back with.
        await _vote_round(
            ws_of,
            acks,
            [(user_of[i], p["id"], option(p["id"], i)) for i in FIRST for p in polls],
        )
        aof_copy = tmp_path / "older-aof"
        aof_redis.copy_aof(aof_copy)

        # Phase B: new voters, changed ballots, refused second ballots; all drained.
        # (Uneven choices, so a tally that holds the wrong ballots shows in its counts.)
        plan = [(user_of[i], p["id"], option(p["id"], 1)) for i in SECOND for p in polls]
        plan += [(user_of[i], p["id"], option(p["id"], 2)) for i in CHANGERS for p in polls]
        await _vote_round(ws_of, acks, plan)
        for p in polls:
            await drained(redis, p["id"])
        persisted = {p["id"]: await db_ballots(p["id"]) for p in polls}
        for p in polls:  # the setup is right: the database has every acked ballot
            assert persisted[p["id"]] == acks.last_ballots(p["id"])

        # The crash, and Redis back from the older file. Vote again at once.
        aof_redis.restart_from(aof_copy)
        joiner = user_of[SECOND[0]]
        # Half the polls are first asked by a JOIN, the others by the votes themselves.
        shown = polls[: POLLS // 2]
        joined = [await ws_of[joiner].request(30, type="JOIN_POLL", poll_id=p["id"]) for p in shown]
        vanished = 0  # ballots the database holds that Redis does not reflect, once asked
        for p in shown:
            in_redis = redis_ballots(redis, p["id"])
            vanished += sum(1 for u, b in persisted[p["id"]].items() if in_redis.get(u) != b)
        plan = [(user_of[i], p["id"], option(p["id"], 0)) for i in SECOND for p in polls]
        plan += [
            (user_of[i], p["id"], option(p["id"], 0 if i % 2 else 1))
            for i in CHANGERS
            for p in polls
            if p["id"] in changeable
        ]
        plan += [(user_of[i], p["id"], option(p["id"], 2)) for i in LATE for p in polls]
        await _vote_round(ws_of, acks, plan)
        for p in polls:
            await drained(redis, p["id"])

        # What went wrong, counted before anything is asserted (the report's figures).
        redis_wrong = db_wrong = doubles = reused = joins_wrong = 0
        for p in polls:
            pid = p["id"]
            expected = acks.last_ballots(pid)
            in_redis = redis_ballots(redis, pid)
            in_db = await db_ballots(pid)
            redis_wrong += sum(1 for u, b in expected.items() if in_redis.get(u) != b)
            db_wrong += sum(1 for u, b in expected.items() if in_db.get(u) != b)
            counts = {int(k): int(v) for k, v in redis.hgetall(keys.counts(pid)).items()}
            redis_wrong += counts != {o: 0 for o in options[pid]} | Counter(
                int(b) for b in in_redis.values()
            )
            if pid not in changeable:
                firsts = Counter(
                    u
                    for q, u, _, status, _ in acks.replies
                    if q == pid and status in ("accepted", "changed")
                )
                doubles += sum(1 for n in firsts.values() if n > 1)
            seqs = Counter(
                seq
                for q, _, _, status, seq in acks.replies
                if q == pid and status in ("accepted", "changed")
            )
            reused += sum(n - 1 for n in seqs.values() if n > 1)
        for p, reply in zip(shown, joined, strict=True):
            if reply.get("my_vote") != [int(persisted[p["id"]][joiner])]:
                joins_wrong += 1

        close_replies = {}
        for p in polls:
            r = await client.post(f"/polls/{p['id']}/close", headers=owner.headers)
            assert r.status_code == 200, r.text
            close_replies[p["id"]] = r.json()["results"]
        await _finalized([p["id"] for p in polls])
        differ = 0
        for p in polls:
            stored = dict(await PollOption.filter(poll_id=p["id"]).values_list("id", "vote_count"))
            reply = close_replies[p["id"]]["counts"]
            acked = Counter(int(b) for b in acks.last_ballots(p["id"]).values())
            differ += {int(k): v for k, v in reply.items()} != stored or acked != +Counter(stored)

        figures = (
            f"{vanished} persisted ballots vanished from Redis, {redis_wrong} voters (or "
            f"count hashes) in Redis not as last acked, {db_wrong} in the database not as last "
            f"acked, {doubles} double votes, {reused} reused seqs, {joins_wrong} wrong JOIN "
            f"my_vote, close reply != stored counts in {differ} of {len(polls)} polls"
        )
        print(figures)
        wrong = (vanished, redis_wrong, db_wrong, doubles, reused, joins_wrong, differ)
        assert wrong == (0,) * 7, figures

        # Refused, not lost: second ballots on the no-change polls after the rollback.
        second = {user_of[i] for i in SECOND}
        after = [r for r in acks.replies[-len(plan) :] if r[0] not in changeable and r[1] in second]
        assert after and all(r[3] == "already_voted" for r in after)
    finally:
        for ws in ws_of.values():
            await ws.close()
        redis.close()


async def test_the_reconciler_verifies_a_poll_whose_close_redis_lost(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    make_person: Any,
    worker: Any,
    aof_redis: AofRedis,
    tmp_path: Path,
) -> None:
    """Nobody votes after the rollback: the reconciler checks the poll by itself, and
    the close that only the database remembers is put back."""
    redis: SyncRedis = aof_redis.client()
    owner, early, late, third = [await make_person() for _ in range(4)]
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]

    async def vote(who: Any, option: int) -> httpx.Response:
        return await client.post(
            f"/polls/{pid}/votes", json={"option_ids": [option]}, headers=who.headers
        )

    assert (await vote(early, opts[0])).json()["status"] == "accepted"
    aof_redis.copy_aof(tmp_path / "older-aof")
    seq_acked = (await vote(late, opts[1])).json()["seq"]
    background = asyncio.create_task(worker(burst=False).async_run())
    try:
        await drained(redis, pid)
    finally:
        background.cancel()
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    aof_redis.restart_from(tmp_path / "older-aof")
    assert redis.hget(keys.meta(pid), "status") == "open"  # the fault is real
    assert redis_ballots(redis, pid) == {early.user_id: str(opts[0])}

    ctx = live_server.app.ctx
    for _ in range(3):  # the pool's connections to the killed server fail once each
        try:
            await ctx.redis.client.ping()
            break
        except redis_sync.ConnectionError:
            continue
    report = await reconcile(
        redis=ctx.redis.client, arq=ctx.arq, recount_every_s=ctx.settings.recount_interval_s
    )
    assert redis_ballots(redis, pid) == await db_ballots(pid)
    assert redis.hget(keys.meta(pid), "status") == "closed"
    assert int(redis.get(keys.seq(pid)) or 0) > seq_acked
    r = await vote(third, opts[2])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    assert report.verified == [pid]
    again = await reconcile(
        redis=ctx.redis.client, arq=ctx.arq, recount_every_s=ctx.settings.recount_interval_s
    )
    assert again.verified == []  # stamped: nothing to do until the next restart
    reply = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    assert reply["results"]["counts"] == closed["results"]["counts"]
    redis.close()
