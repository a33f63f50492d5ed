"""Resetting a poll's results: only once they are final, recorded, exact, and seq
never goes backwards for a member watching (real HTTP, sockets, worker and Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import redis as redis_sync

from app import keys
from models import Ballot, Poll, PollReset
from tests.conftest import LiveServer
from tests.test_manage import finalize, stored_counts
from tests.test_polls import create, vote
from tests.wsclient import WsClient


async def test_reset_zeroes_final_results_records_them_and_votes_start_afresh(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: redis_sync.Redis,
    worker: Any,
) -> None:
    owner = await make_person()
    voters = [await make_person() for _ in range(5)]
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    for i, who in enumerate(voters):
        assert (await vote(client, who, poll, i % 2)).status_code == 200
    watcher = await WsClient.joined(live_server.ws_url, owner.token, pid)
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    final_seq = closed["results"]["seq"]
    await finalize(worker, pid)

    r = await client.post(f"/polls/{pid}/reset", headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["poll"]["status"] == "closed"
    assert body["results"]["total"] == 0 and set(body["results"]["counts"].values()) == {0}
    assert body["results"]["seq"] > final_seq
    record = await PollReset.get(poll_id=pid)
    assert record.by_id == owner.user_id and record.ballots == 5
    assert record.counts == {str(opts[0]): 3, str(opts[1]): 2, str(opts[2]): 0}
    assert await Ballot.filter(poll_id=pid).count() == 0
    assert set((await stored_counts(pid)).values()) == {0}
    seen = await watcher.recv_until(
        lambda m: m["type"] == "POLL_UPDATED" and m["results"]["seq"] > final_seq
    )
    assert seen["results"]["total"] == 0
    results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
    assert results["total"] == 0 and results["seq"] >= body["results"]["seq"]

    # Reopened, the same people vote again: their old ballots are gone for good.
    assert (await client.post(f"/polls/{pid}/reopen", headers=owner.headers)).status_code == 200
    for who in voters[:3]:
        assert (await vote(client, who, poll, 2)).json()["status"] == "accepted"
    tally = await watcher.recv_until(lambda m: m["type"] == "RESULTS" and m["total"] == 3)
    assert tally["seq"] > body["results"]["seq"]
    assert tally["counts"] == {str(opts[0]): 0, str(opts[1]): 0, str(opts[2]): 3}
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    await finalize(worker, pid)
    assert await stored_counts(pid) == {str(opts[0]): 0, str(opts[1]): 0, str(opts[2]): 3}
    assert await Ballot.filter(poll_id=pid).count() == 3
    assert not redis.exists(keys.outbox(pid))
    await watcher.close()


async def test_reset_refusals(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, worker: Any
) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner)
    pid = poll["id"]
    await vote(client, other, poll, 0)

    def refused(r: httpx.Response, status: int, code: str) -> None:
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code

    refused(await client.post(f"/polls/{pid}/reset", headers=owner.headers), 409, "conflict")
    refused(await client.post(f"/polls/{pid}/reset", headers=other.headers), 403, "forbidden")
    refused(await client.post("/polls/123456789/reset", headers=owner.headers), 404, "not_found")
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    # Closed but not yet finalized: ballots may still be on their way to the database.
    assert (await Poll.get(id=pid)).finalized_at is None
    refused(await client.post(f"/polls/{pid}/reset", headers=owner.headers), 409, "conflict")
    assert await PollReset.filter(poll_id=pid).count() == 0
    await finalize(worker, pid)
    assert (await client.post(f"/polls/{pid}/reset", headers=owner.headers)).status_code == 200


async def test_reset_racing_reopen_is_one_or_the_other(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, worker: Any
) -> None:
    """Reset and reopen at once: the status lock orders them. Reset first: the poll
    opens empty; reopen first: reset is refused and every ballot stays."""
    owner = await make_person()
    voters = [await make_person() for _ in range(20)]
    outcomes = set()
    for _ in range(4):
        poll = await create(client, owner)
        pid = poll["id"]
        await asyncio.gather(*(vote(client, v, poll, 1) for v in voters))
        await client.post(f"/polls/{pid}/close", headers=owner.headers)
        await finalize(worker, pid)
        reset, reopen = await asyncio.gather(
            client.post(f"/polls/{pid}/reset", headers=owner.headers),
            client.post(f"/polls/{pid}/reopen", headers=owner.headers),
        )
        assert reopen.status_code == 200, reopen.text
        results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
        if reset.status_code == 200:
            outcomes.add("reset first")
            assert results["total"] == 0 and await Ballot.filter(poll_id=pid).count() == 0
        else:
            outcomes.add("reopen first")
            assert reset.status_code == 409, reset.text
            assert results["total"] == 20 and await Ballot.filter(poll_id=pid).count() == 20
        # Either way the poll takes votes, counted from what it shows.
        late = await make_person()
        assert (await vote(client, late, poll, 0)).json()["status"] == "accepted"
        after = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
        assert after["total"] == results["total"] + 1
    assert outcomes  # which order won is up to the scheduler; both are exact
