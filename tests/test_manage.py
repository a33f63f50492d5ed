"""Host management over real HTTP (and real sockets): searching and filtering the poll
list, duplicating a poll, relabelling an open or closed one, reopening a closed one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app import keys
from app.errors import ApiError, Conflict
from models import Poll, PollOption
from tests.burst import backlog, cast, db_ballots, make_voters
from tests.conftest import LiveServer, Person
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote
from tests.wsclient import WsClient
from workers import finalize as finalize_module


def error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code, body
    return body


async def listed(client: httpx.AsyncClient, who: Person, query: str) -> tuple[list[str], int]:
    """The questions `GET /polls?<query>` lists, in order, and its total."""
    r = await client.get(f"/polls?{query}", headers=who.headers)
    assert r.status_code == 200, r.text
    page = r.json()
    return [p["question"] for p in page["items"]], page["total"]


# --- 1. GET /polls ?q= and ?status= ------------------------------------------------------


async def test_list_searches_questions_and_filters_status(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, other = await make_person(), await make_person()
    await create(client, owner, question="Best FRUIT of the summer?", status="draft")
    await create(client, owner, question="Favourite colour?")
    soon = datetime.now(UTC) + timedelta(seconds=1)
    due = await create(client, owner, question="fruit for lunch?", closes_at=soon.isoformat())
    closed = await create(client, owner, question="Which fruit, finally?")
    r = await client.post(f"/polls/{closed['id']}/close", headers=owner.headers)
    assert r.status_code == 200
    await create(client, other, question="fruit elsewhere")  # not the owner's

    assert await listed(client, owner, "q=fRuIt") == (
        ["Which fruit, finally?", "fruit for lunch?", "Best FRUIT of the summer?"],
        3,
    )
    assert await listed(client, owner, "q=fruit&limit=1&offset=1") == (["fruit for lunch?"], 3)
    assert await listed(client, owner, "q=nothing like it") == ([], 0)
    assert await listed(client, owner, "status=draft") == (["Best FRUIT of the summer?"], 1)
    assert await listed(client, owner, "status=open") == (
        ["fruit for lunch?", "Favourite colour?"],
        2,
    )
    assert await listed(client, owner, "status=closed&q=fruit") == (["Which fruit, finally?"], 1)

    # closes_at passed, no close job ran (no worker here): it shows and lists as closed.
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    view = (await client.get(f"/polls/{due['id']}", headers=owner.headers)).json()
    assert view["poll"]["status"] == "closed"
    assert await listed(client, owner, "status=closed") == (
        ["Which fruit, finally?", "fruit for lunch?"],
        2,
    )
    assert await listed(client, owner, "status=open") == (["Favourite colour?"], 1)


async def test_list_query_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    await create(client, owner)
    for bad, field in (
        ("status=", "status"),
        ("status=finished", "status"),
        ("status=OPEN", "status"),
        ("q=" + "x" * 101, "q"),
        ("limit=", "limit"),
    ):
        r = await client.get(f"/polls?{bad}", headers=owner.headers)
        body = error(r, 422, "validation_failed")
        assert [d["field"] for d in body["details"]] == [field], bad
    # 100 characters is still a search, and an empty q none.
    assert await listed(client, owner, "q=" + "x" * 100) == ([], 0)
    assert (await listed(client, owner, "q="))[1] == 1
    # LIKE's wildcards are searched for, not obeyed.
    assert await listed(client, owner, "q=%25") == ([], 0)
    assert await listed(client, owner, "q=_") == ([], 0)


# --- 2. POST /polls/{id}/duplicate -------------------------------------------------------


SETTINGS_COPIED = ("question", "kind", "max_choices", "allow_change", "results_visibility")


async def test_duplicate_is_a_new_draft_like_the_original(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, voter = await make_person(), await make_person()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    source = await create(
        client,
        owner,
        question="Which talks?",
        options=["Zebra", "apple", "Mango", "kiwi"],
        kind="multiple",
        max_choices=2,
        allow_change=True,
        results_visibility="after_vote",
        require_account=True,
        results_hidden=True,
        closes_at=later,
    )
    session = await client.post(
        "/sessions", json={"title": "Day 1", "poll_ids": [source["id"]]}, headers=owner.headers
    )
    assert session.status_code == 201
    r = await client.post(
        f"/polls/{source['id']}/votes",
        json={"option_ids": [source["options"][0]["id"]]},
        headers=owner.headers,
    )
    assert r.status_code == 200
    await client.post(f"/polls/{source['id']}/close", headers=owner.headers)

    r = await client.post(f"/polls/{source['id']}/duplicate", headers=owner.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    for field in SETTINGS_COPIED:
        assert copy[field] == source[field], field
    assert copy["require_account"] is True
    assert [(o["label"], o["position"]) for o in copy["options"]] == [
        ("Zebra", 0),
        ("apple", 1),
        ("Mango", 2),
        ("kiwi", 3),
    ]
    assert copy["id"] != source["id"] and copy["code"] != source["code"]
    assert {o["id"] for o in copy["options"]}.isdisjoint(o["id"] for o in source["options"])
    assert copy["status"] == "draft" and copy["results_hidden"] is False
    assert copy["closes_at"] is None and copy["opened_at"] is None and copy["closed_at"] is None
    assert copy["session_id"] is None and copy["session_position"] is None
    assert copy["owner_id"] == owner.user_id
    # It is a real draft: the owner reads it with no results, others do not see it.
    view = (await client.get(f"/polls/{copy['id']}", headers=owner.headers)).json()
    assert view["poll"] == copy and view["results"] is None and view["my_vote"] is None
    error(await client.get(f"/polls/{copy['id']}", headers=voter.headers), 404, "not_found")
    # It opens with nothing counted, and the original is as it was.
    r = await client.post(f"/polls/{copy['id']}/open", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "open"
    results = (await client.get(f"/polls/{copy['id']}/results", headers=owner.headers)).json()
    assert results["total"] == 0 and set(results["counts"].values()) == {0}
    original = (await client.get(f"/polls/{source['id']}", headers=owner.headers)).json()
    assert original["poll"]["status"] == "closed" and original["results"]["total"] == 1
    assert original["poll"]["session_id"] == session.json()["id"]
    listed = (await client.get("/polls", headers=owner.headers)).json()
    assert [p["id"] for p in listed["items"]] == [copy["id"], source["id"]]


async def test_duplicate_a_draft_and_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    draft = await create(client, owner, status="draft", options=["One", "Two"])
    r = await client.post(f"/polls/{draft['id']}/duplicate", headers=owner.headers)
    assert r.status_code == 201
    assert [o["label"] for o in r.json()["options"]] == ["One", "Two"]
    assert r.json()["kind"] == "single" and r.json()["max_choices"] == 1
    # Someone else's draft does not exist for them; someone else's open poll is not theirs.
    path = f"/polls/{draft['id']}/duplicate"
    error(await client.post(path, headers=other.headers), 404, "not_found")
    live = await create(client, owner)
    path = f"/polls/{live['id']}/duplicate"
    error(await client.post(path, headers=other.headers), 403, "forbidden")
    guest = await make_person(guest=True)
    error(await client.post(path, headers=guest.headers), 403, "forbidden")
    for bad in ("123", "abc", "0", str(2**60)):
        r = await client.post(f"/polls/{bad}/duplicate", headers=owner.headers)
        error(r, 404, "not_found")
    error(await client.post(path), 401, "unauthorized")
    error(await client.get(path, headers=owner.headers), 405, "method_not_allowed")
    assert (await client.get("/polls", headers=other.headers)).json()["total"] == 0


async def test_duplicate_takes_from_the_creation_bucket(
    client: httpx.AsyncClient, make_person: Any, live_server: Any
) -> None:
    owner = await make_person()
    source = await create(client, owner)
    burst = live_server.app.ctx.settings.poll_create_burst
    codes = [
        (await client.post(f"/polls/{source['id']}/duplicate", headers=owner.headers)).status_code
        for _ in range(burst)
    ]
    assert codes[: burst - 1] == [201] * (burst - 1) and codes[-1] == 429


# --- 3. PATCH /polls/{id} on open and closed polls: typo fixes ---------------------------


async def test_relabel_an_open_poll_keeps_ids_counts_and_ballots(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer
) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner, question="Best frut?", options=["Aple", "Pear", "Plum"])
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    assert (await vote(client, a, poll, 0)).status_code == 200
    seq = (await vote(client, b, poll, 2)).json()["seq"]
    wa = await WsClient.joined(live_server.ws_url, a.token, pid)
    wo = await WsClient.joined(live_server.ws_url, owner.token, pid)

    body = {"question": "Best fruit?", "options": ["Apple", "Pear", "Plum "]}
    r = await client.patch(f"/polls/{pid}", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    fixed = r.json()
    assert fixed["question"] == "Best fruit?"
    assert [(o["id"], o["label"], o["position"]) for o in fixed["options"]] == [
        (opts[0], "Apple", 0),
        (opts[1], "Pear", 1),
        (opts[2], "Plum", 2),
    ]
    assert {k: v for k, v in fixed.items() if k not in ("question", "options")} == {
        k: v for k, v in poll.items() if k not in ("question", "options")
    }
    for ws in (wa, wo):
        update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert update["poll"] == fixed
        assert update["results"]["seq"] == seq and update["results"]["total"] == 2
    # A socket that joins now sees the new words; counts, ballots and seq are untouched.
    late = await WsClient.open(live_server.ws_url, b.token)
    joined = await late.request(type="JOIN_POLL", poll_id=pid)
    assert joined["poll"] == fixed and joined["my_vote"] == [opts[2]]
    assert joined["results"]["seq"] == seq
    assert joined["results"]["counts"] == {str(opts[0]): 1, str(opts[1]): 0, str(opts[2]): 1}
    # Votes go on by the same option ids.
    assert (await vote(client, owner, fixed, 1)).json()["status"] == "accepted"
    results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
    assert results["counts"] == {str(opts[0]): 1, str(opts[1]): 1, str(opts[2]): 1}
    # Only the question, only the labels: each alone is fine too.
    r = await client.patch(
        f"/polls/{pid}", json={"question": "Best fruit, really?"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["options"] == fixed["options"]
    r = await client.patch(
        f"/polls/{pid}", json={"options": ["Apple", "pear", "Plum"]}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["question"] == "Best fruit, really?"
    assert [o["label"] for o in r.json()["options"]] == ["Apple", "pear", "Plum"]
    for ws in (wa, wo, late):
        await ws.close()


async def test_relabel_a_closed_poll(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, a = await make_person(), await make_person()
    poll = await create(client, owner, options=["Yes", "No"])
    await vote(client, a, poll, 1)
    closed = (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).json()
    r = await client.patch(
        f"/polls/{poll['id']}", json={"options": ["Yes!", "No!"]}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["closed_at"] == closed["poll"]["closed_at"]
    assert [o["label"] for o in r.json()["options"]] == ["Yes!", "No!"]
    results = (await client.get(f"/polls/{poll['id']}/results", headers=a.headers)).json()
    assert results == closed["results"]


async def test_relabel_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2)
    path = f"/polls/{poll['id']}"

    async def patch(body: Any, who: Person = owner) -> httpx.Response:
        return await client.patch(path, json=body, headers=who.headers)

    body: dict[str, Any]
    for body in (
        {"kind": "single"},
        {"max_choices": 3},
        {"allow_change": True},
        {"results_visibility": "live"},
        {"require_account": False},
        {"results_hidden": True},
        {"closes_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        {"question": "Fixed?", "allow_change": True},
    ):
        body_error = error(await patch(body), 409, "poll_not_open")
        assert "only the question and the option labels" in body_error["message"], body
    for body, field in (
        ({"options": ["Apple", "Pear"]}, "options"),
        ({"options": ["Apple", "Pear", "Plum", "Fig"]}, "options"),
        ({"options": ["Apple", "apple", "Plum"]}, "options"),
        ({"options": ["Apple", "", "Plum"]}, "options[1]"),
        ({"question": ""}, "question"),
        ({"question": None}, "question"),
        ({"options": None}, "options"),
    ):
        body_error = error(await patch(body), 422, "validation_failed")
        assert [d["field"] for d in body_error["details"]] == [field], body
    error(await patch({"question": "Mine now"}, other), 403, "forbidden")
    unchanged = (await client.get(path, headers=owner.headers)).json()["poll"]
    assert unchanged == poll


# --- 4. POST /polls/{id}/reopen ----------------------------------------------------------


def tally_of(ballots: dict[int, str], option_ids: list[int]) -> dict[str, int]:
    """Per-option counts of user -> ballot, computed here (not by the code under test)."""
    counts = dict.fromkeys(map(str, option_ids), 0)
    for ballot in ballots.values():
        for oid in ballot.split(","):
            counts[oid] += 1
    return counts


async def finalize(worker: Any, poll_id: int) -> None:
    """Run the queued jobs (the finalize job a close enqueued) to the end."""
    w = worker()
    await asyncio.wait_for(w.async_run(), 60)
    assert w.jobs_failed == 0


async def stored_counts(poll_id: int) -> dict[str, int]:
    rows = await PollOption.filter(poll_id=poll_id).values_list("id", "vote_count")
    return {str(k): int(v) for k, v in rows}


async def assert_finalized_exactly(
    redis: SyncRedis, poll_id: int, ballots: dict[int, str], option_ids: list[int]
) -> None:
    row = await Poll.get(id=poll_id)
    assert row.status == "closed" and row.finalized_at is not None
    assert await db_ballots(poll_id) == ballots
    assert await stored_counts(poll_id) == tally_of(ballots, option_ids)
    assert backlog(redis, poll_id) == (0, 0)
    assert str(poll_id) not in redis.smembers(keys.ACTIVE_POLLS)


async def test_reopen_a_finalized_poll_then_close_and_finalize_again_exactly(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner, member = await make_person(), await make_person()
    # (No closes_at here: a burst worker would wait for its deferred close job.)
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(150)
    first = [
        (p, [opts[i % 3], opts[(i + 1) % 3]] if i % 2 else [opts[i % 3]])
        for i, p in enumerate(voters)
    ]
    ballots = await cast(engine, pid, first)
    assert (await vote(client, member, poll, 0)).json()["status"] == "accepted"
    ballots[member.user_id] = str(opts[0])
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    assert closed["results"]["total"] == 151
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)
    assert not redis.exists(keys.outbox(pid))  # finalization deleted the stream

    ws = await WsClient.joined(live_server.ws_url, member.token, pid)
    r = await client.post(f"/polls/{pid}/reopen", headers=owner.headers)
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert reopened["status"] == "open"
    assert reopened["closes_at"] is None and reopened["closed_at"] is None
    assert reopened["opened_at"] == poll["opened_at"]
    update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert update["poll"] == reopened
    assert (
        update["results"]["status"] == "open"
        and update["results"]["seq"] == closed["results"]["seq"]
    )
    row = await Poll.get(id=pid)
    assert row.finalized_at is None and row.closes_at is None
    # The ballots and counts it had, the seq it stopped at; my vote is still mine.
    view = (await client.get(f"/polls/{pid}", headers=member.headers)).json()
    assert view["my_vote"] == [opts[0]]
    assert view["results"] == {**closed["results"], "status": "open"}
    assert str(pid) in redis.smembers(keys.ACTIVE_POLLS)
    # Votes are accepted again (a ballot the same is unchanged), over REST and the socket.
    assert (await vote(client, member, poll, 0)).json()["status"] == "unchanged"
    ack = await ws.request(type="VOTE", poll_id=pid, option_ids=[opts[1], opts[2]])
    assert ack["status"] == "changed" and ack["seq"] == closed["results"]["seq"] + 1
    ballots[member.user_id] = ",".join(sorted(map(str, (opts[1], opts[2]))))
    newcomers = await make_voters(100)
    second = [(p, [opts[2]]) for p in newcomers] + [(p, [opts[1]]) for p in voters[::3]]
    acked = await cast(engine, pid, second)
    assert len(acked) == 150
    ballots.update(acked)

    closed2 = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    assert closed2["results"]["total"] == 251 == len(ballots)
    assert closed2["results"]["counts"] == tally_of(ballots, opts)
    assert closed2["results"]["seq"] == closed["results"]["seq"] + 1 + 150
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)
    # Served from the database alone, the same numbers.
    redis.delete(*redis.keys(f"{keys.poll_tag(pid)}:*"))
    r = await client.get(f"/polls/{pid}/results", headers=member.headers)
    assert r.json() == closed2["results"]
    await ws.close()


async def test_reopen_after_redis_lost_the_finalized_poll(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner, member = await make_person(), await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    voters = await make_voters(40)
    ballots = await cast(live_server.app.ctx.votes, pid, [(p, [opts[1]]) for p in voters])
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    await finalize(worker, pid)
    redis.delete(*redis.keys(f"{keys.poll_tag(pid)}:*"))  # Redis forgot it

    r = await client.post(f"/polls/{pid}/reopen", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "open"
    results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
    assert (results["total"], results["counts"]) == (40, closed["results"]["counts"])
    assert results["seq"] > closed["results"]["seq"]  # rebuilt: past anything acked
    r = await vote(client, member, poll, 2)
    assert r.json()["status"] == "accepted"
    ballots[member.user_id] = str(opts[2])
    # The ballots it had are known again: no second vote for those voters.
    with pytest.raises(Conflict) as refused:
        await cast(live_server.app.ctx.votes, pid, [(voters[0], [opts[0]])])
    assert refused.value.code == "already_voted"
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)


async def test_a_finalize_job_after_the_reopen_leaves_the_poll_open(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(60)
    ballots = await cast(engine, pid, [(p, [opts[0]]) for p in voters[:30]])
    await client.post(f"/polls/{pid}/close", headers=owner.headers)  # queues finalize
    assert (await client.post(f"/polls/{pid}/reopen", headers=owner.headers)).status_code == 200
    ballots.update(await cast(engine, pid, [(p, [opts[1]]) for p in voters[30:45]]))

    await finalize(worker, pid)  # the job from the first close runs now
    row = await Poll.get(id=pid)
    assert (row.status, row.finalized_at, row.closed_at) == ("open", None, None)
    assert str(pid) in redis.smembers(keys.ACTIVE_POLLS) and redis.exists(keys.outbox(pid))
    ballots.update(await cast(engine, pid, [(p, [opts[2]]) for p in voters[45:]]))
    assert len(ballots) == 60
    results = (await client.get(f"/polls/{pid}/results", headers=owner.headers)).json()
    assert results["status"] == "open" and results["counts"] == tally_of(ballots, opts)

    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)


async def test_reopen_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    live = await create(client, owner)
    draft = await create(client, owner, status="draft")

    async def reopen(poll: dict[str, Any], who: Person = owner) -> httpx.Response:
        return await client.post(f"/polls/{poll['id']}/reopen", headers=who.headers)

    body = error(await reopen(live), 409, "conflict")
    assert "only a closed poll" in body["message"]
    error(await reopen(draft), 409, "conflict")
    error(await reopen(draft, other), 404, "not_found")
    await client.post(f"/polls/{live['id']}/close", headers=owner.headers)
    error(await reopen(live, other), 403, "forbidden")
    guest = await make_person(guest=True)
    error(await reopen(live, guest), 403, "forbidden")
    assert (await reopen(live)).status_code == 200
    error(await reopen(live), 409, "conflict")  # open again: nothing to reopen
    for bad in ("123", "abc", "0"):
        r = await client.post(f"/polls/{bad}/reopen", headers=owner.headers)
        error(r, 404, "not_found")
    error(await client.post(f"/polls/{live['id']}/reopen"), 401, "unauthorized")


async def test_reopen_a_poll_whose_closes_at_passed(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, a = await make_person(), await make_person()
    soon = datetime.now(UTC) + timedelta(seconds=1)
    poll = await create(client, owner, closes_at=soon.isoformat())
    assert (await vote(client, a, poll, 0)).json()["status"] == "accepted"
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    r = await vote(client, a, poll, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    # Closed as clients see it, though no close job ran: it reopens, without closes_at.
    r = await client.post(f"/polls/{poll['id']}/reopen", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "open" and r.json()["closes_at"] is None
    b = await make_person()
    assert (await vote(client, b, poll, 1)).json()["status"] == "accepted"
    results = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()
    assert results["total"] == 2 and results["status"] == "open"


async def test_close_and_reopen_over_and_over_under_votes_and_a_worker(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    """Real concurrency: ballots stream in while the owner closes and reopens the poll
    again and again and a running worker drains the outbox and finalizes each close
    (its jobs racing the reopens). In the end every acked ballot, and only those, is in
    the database and in the final counts."""
    owner = await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(300)
    acked: dict[int, str] = {}
    refused = 0
    background = asyncio.create_task(worker(burst=False).async_run())

    async def one(i: int) -> bool:
        nonlocal refused
        try:
            await engine.cast(principal=voters[i], poll_id=pid, body={"option_ids": [opts[i % 3]]})
        except ApiError as exc:
            if exc.code != "poll_not_open":
                raise
            refused += 1
            return False
        acked[voters[i].user_id] = str(opts[i % 3])
        return True

    async def votes() -> None:
        waiting = list(range(len(voters)))
        while waiting:
            part, waiting = waiting[:15], waiting[15:]
            done = await asyncio.gather(*(one(i) for i in part))
            waiting += [i for i, ok in zip(part, done, strict=True) if not ok]
            await asyncio.sleep(0.005)

    async def cycles() -> None:
        for n in range(8):
            r = await client.post(f"/polls/{pid}/close", headers=owner.headers)
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.1 * (n % 3))  # some finalize first, some race the reopen
            r = await client.post(f"/polls/{pid}/reopen", headers=owner.headers)
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(asyncio.gather(votes(), cycles()), 120)
        assert refused > 0  # the closes did land between ballots
        closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
        deadline = asyncio.get_running_loop().time() + 60
        while (await Poll.get(id=pid)).finalized_at is None:
            assert asyncio.get_running_loop().time() < deadline, "not finalized"
            await asyncio.sleep(0.1)
    finally:
        background.cancel()
    assert len(acked) == 300
    assert closed["results"]["total"] == 300
    assert closed["results"]["counts"] == tally_of(acked, opts)
    assert {int(u): b for u, b in redis.hgetall(keys.voters(pid)).items()} == acked
    await assert_finalized_exactly(redis, pid, acked, opts)


async def finalize_paused_at(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, poll_id: int, step: str
) -> tuple[asyncio.Task[str], asyncio.Event, asyncio.Event]:
    """A finalize of the poll run up to its call of `step` (`final_counts`: drained,
    about to count the ballots; `retire_outbox`: counts stored, about to delete the
    stream) and held there: the real code on the real stack, only paused, so the test
    decides what happens in that window. (The task, reached, go.)"""
    reached, go = asyncio.Event(), asyncio.Event()
    real = getattr(finalize_module, step)

    async def paused(*args: Any) -> Any:
        reached.set()
        await go.wait()
        return await real(*args)

    monkeypatch.setattr(finalize_module, step, paused)
    ctx = live_server.app.ctx
    task = asyncio.create_task(
        finalize_module.finalize_poll(
            redis=ctx.redis.client, poll_id=poll_id, consumer="paused", settings=ctx.settings
        )
    )
    await asyncio.wait_for(reached.wait(), 30)
    return task, reached, go


async def test_a_reopen_while_finalize_counts_keeps_the_poll_open_and_its_ballots(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(30)
    ballots = await cast(engine, pid, [(p, [opts[0]]) for p in voters[:10]])
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    task, _, go = await finalize_paused_at(live_server, monkeypatch, pid, "final_counts")

    # Past its "is it closed" check, drained: now the poll reopens and takes ballots.
    assert (await client.post(f"/polls/{pid}/reopen", headers=owner.headers)).status_code == 200
    ballots.update(await cast(engine, pid, [(p, [opts[1]]) for p in voters[10:20]]))
    go.set()
    assert await asyncio.wait_for(task, 30) == "not_closed"
    row = await Poll.get(id=pid)
    assert (row.status, row.finalized_at) == ("open", None)
    # Its new ballots are still on their way to the database, not deleted with the stream.
    assert backlog(redis, pid)[0] == 10 and str(pid) in redis.smembers(keys.ACTIVE_POLLS)
    monkeypatch.undo()

    ballots.update(await cast(engine, pid, [(p, [opts[2]]) for p in voters[20:]]))
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)


async def test_a_reopen_and_close_while_finalize_counts_finalizes_the_second_close(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(20)
    ballots = await cast(engine, pid, [(p, [opts[0]]) for p in voters[:10]])
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    task, _, go = await finalize_paused_at(live_server, monkeypatch, pid, "final_counts")

    # Reopened, voted on and closed again while the first finalize counts: those
    # ballots were never drained by it, so its counts must not be stored.
    assert (await client.post(f"/polls/{pid}/reopen", headers=owner.headers)).status_code == 200
    ballots.update(await cast(engine, pid, [(p, [opts[1]]) for p in voters[10:]]))
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    go.set()
    assert await asyncio.wait_for(task, 30) == "pending"  # the job retries it
    assert (await Poll.get(id=pid)).finalized_at is None
    monkeypatch.undo()

    await finalize(worker, pid)
    assert closed["results"]["counts"] == tally_of(ballots, opts)
    await assert_finalized_exactly(redis, pid, ballots, opts)


async def test_a_reopen_just_after_finalize_stored_the_counts_keeps_the_new_stream(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    engine = live_server.app.ctx.votes
    voters = await make_voters(20)
    ballots = await cast(engine, pid, [(p, [opts[0]]) for p in voters[:10]])
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    task, _, go = await finalize_paused_at(live_server, monkeypatch, pid, "retire_outbox")
    assert (await Poll.get(id=pid)).finalized_at is not None

    # Finalized, the stream not yet deleted: the reopen unfinalizes, ballots stream in.
    assert (await client.post(f"/polls/{pid}/reopen", headers=owner.headers)).status_code == 200
    assert (await Poll.get(id=pid)).finalized_at is None
    ballots.update(await cast(engine, pid, [(p, [opts[1]]) for p in voters[10:]]))
    go.set()
    assert await asyncio.wait_for(task, 30) == "finalized"  # of the first close, as it was
    assert backlog(redis, pid)[0] == 10 and str(pid) in redis.smembers(keys.ACTIVE_POLLS)
    monkeypatch.undo()

    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    await finalize(worker, pid)
    await assert_finalized_exactly(redis, pid, ballots, opts)
