"""Rating and ranking polls end to end over real HTTP, Redis and the database: their
rules, ballots, live counts, rebuild from the database, finalize, exports and reset.

Expected counts are computed here from the ballots sent, never by app/kinds/.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from app import keys
from models import Ballot, Poll, PollOption, PollReset
from tests.burst import db_ballots, drained, redis_ballots
from tests.conftest import LiveServer, Person
from tests.sync_redis import SyncRedis
from tests.test_export import results_json, rows_of
from tests.test_manage import error, finalize
from tests.test_poll_sessions import new_session, present
from tests.test_polls import create, poll_body
from tests.test_reconcile import reconcile_now
from tests.wsclient import WsClient


async def ballot(
    client: httpx.AsyncClient, who: Person, poll: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/polls/{poll['id']}/votes", json=body, headers=who.headers)


async def cast_ok(
    client: httpx.AsyncClient, who: Person, poll: dict[str, Any], body: dict[str, Any]
) -> str:
    r = await ballot(client, who, poll, body)
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def rating_counts(values: list[int], scale: int) -> dict[str, int]:
    seen = Counter(values)
    return {str(v): seen[v] for v in range(1, scale + 1)}


def ranking_counts(orders: list[list[int]], option_ids: list[int], k: int) -> dict[str, int]:
    seen = Counter(f"{oid}:{place}" for order in orders for place, oid in enumerate(order, 1))
    return {f"{oid}:{p}": seen[f"{oid}:{p}"] for oid in option_ids for p in range(1, k + 1)}


async def test_rating_rules_on_create_and_patch(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    rating = await create(client, owner, kind="rating", options=None)
    assert (rating["kind"], rating["scale"], rating["options"]) == ("rating", 5, [])
    assert (rating["max_choices"], rating["low_label"], rating["high_label"]) == (1, None, None)
    labelled = await create(
        client, owner, kind="rating", options=None, scale=10, low_label="Bad", high_label="Great"
    )
    assert (labelled["scale"], labelled["low_label"], labelled["high_label"]) == (
        10,
        "Bad",
        "Great",
    )

    async def refused(body: dict[str, Any], field: str) -> None:
        r = await client.post("/polls", json=body, headers=owner.headers)
        details = error(r, 422, "validation_failed")["details"]
        assert [d["field"] for d in details] == [field], details

    await refused(poll_body(kind="rating"), "options")  # a rating has no options
    await refused({"question": "Q?", "kind": "rating", "scale": 1}, "scale")
    await refused({"question": "Q?", "kind": "rating", "scale": 11}, "scale")
    await refused({"question": "Q?", "kind": "rating", "max_choices": 2}, "max_choices")
    await refused({"question": "Q?", "kind": "rating", "low_label": " "}, "low_label")
    await refused({"question": "Q?", "kind": "rating", "high_label": "x" * 61}, "high_label")
    await refused(poll_body(scale=5), "scale")  # a choice poll has no scale
    await refused(poll_body(kind="multiple", low_label="Low"), "low_label")
    await refused({"question": "Q?"}, "options")  # single choice (the default) needs them
    await refused({"question": "Q?", "kind": "ranking"}, "options")
    await refused(poll_body(kind="ranking", max_choices=1), "max_choices")
    await refused(poll_body(kind="ranking", max_choices=4), "max_choices")

    # A draft may change kind: to a rating it drops its options, and back it needs some.
    draft = await create(client, owner, status="draft")
    r = await client.patch(
        f"/polls/{draft['id']}", json={"kind": "rating", "scale": 7}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["scale"], r.json()["options"]) == ("rating", 7, [])
    r = await client.patch(f"/polls/{draft['id']}", json={"kind": "single"}, headers=owner.headers)
    assert error(r, 422, "validation_failed")["details"][0]["field"] == "options"
    r = await client.patch(
        f"/polls/{draft['id']}",
        json={"kind": "ranking", "options": ["A", "B", "C"]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert (ranked["kind"], ranked["max_choices"], ranked["scale"]) == ("ranking", 3, None)
    assert [o["label"] for o in ranked["options"]] == ["A", "B", "C"]

    # Open, only the words may change: a rating's end labels are words.
    r = await client.patch(
        f"/polls/{labelled['id']}", json={"low_label": "Awful"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["low_label"], r.json()["high_label"]) == ("Awful", "Great")
    r = await client.patch(f"/polls/{labelled['id']}", json={"scale": 4}, headers=owner.headers)
    error(r, 409, "poll_not_open")
    # null takes an end label away; it comes back for the duplicate below.
    r = await client.patch(
        f"/polls/{labelled['id']}", json={"high_label": None}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["low_label"], r.json()["high_label"]) == ("Awful", None)
    r = await client.patch(
        f"/polls/{labelled['id']}", json={"high_label": "Great"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text

    # A duplicate keeps the kind and its rules.
    r = await client.post(f"/polls/{labelled['id']}/duplicate", headers=owner.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert (copy["kind"], copy["scale"], copy["low_label"], copy["high_label"]) == (
        "rating",
        10,
        "Awful",
        "Great",
    )


async def test_rating_ballots(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="rating", options=None, scale=4, allow_change=True)
    a, b, c = [await make_person(guest=True) for _ in range(3)]
    assert await cast_ok(client, a, poll, {"rating": 4}) == "accepted"
    assert await cast_ok(client, b, poll, {"rating": 2.0}) == "accepted"  # JSON's 2.0 is 2
    assert await cast_ok(client, c, poll, {"rating": 4}) == "accepted"
    assert await cast_ok(client, c, poll, {"rating": 4}) == "unchanged"
    assert await cast_ok(client, c, poll, {"rating": 1}) == "changed"

    error(await ballot(client, a, poll, {"rating": 5}), 422, "invalid_option")  # past the scale
    error(await ballot(client, a, poll, {"rating": 0}), 422, "validation_failed")
    error(await ballot(client, a, poll, {"rating": "3"}), 422, "validation_failed")
    error(await ballot(client, a, poll, {"rating": 2.5}), 422, "validation_failed")
    error(await ballot(client, a, poll, {"rating": True}), 422, "validation_failed")
    both = {"rating": 2, "option_ids": [1]}
    error(await ballot(client, a, poll, both), 422, "validation_failed")
    error(await ballot(client, a, poll, {"option_ids": [1]}), 422, "wrong_ballot")

    view = (await client.get(f"/polls/{poll['id']}", headers=c.headers)).json()
    assert view["my_vote"] == [1]
    got = await results_json(client, owner, poll["id"])
    assert got["counts"] == rating_counts([4, 2, 1], 4)
    assert (got["total"], got["seq"]) == (3, 4)

    choice = await create(client, owner)
    error(await ballot(client, a, choice, {"rating": 1}), 422, "wrong_ballot")


async def test_ranking_ballots(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="ranking", options=["A", "B", "C", "D"], max_choices=3)
    assert poll["max_choices"] == 3
    a_, b_, c_, d_ = [o["id"] for o in poll["options"]]
    voters = [await make_person(guest=True) for _ in range(3)]
    orders = [[c_, a_, b_], [a_, c_, d_], [c_, d_, a_]]
    for who, order in zip(voters, orders, strict=True):
        assert await cast_ok(client, who, poll, {"option_ids": order}) == "accepted"
    # The order is the ballot: the same ids in another order are another ballot.
    error(await ballot(client, voters[0], poll, {"option_ids": [a_, c_, b_]}), 409, "already_voted")
    assert await cast_ok(client, voters[0], poll, {"option_ids": [c_, a_, b_]}) == "unchanged"

    who = voters[0]
    error(await ballot(client, who, poll, {"option_ids": [a_, b_]}), 422, "wrong_rank_count")
    four = {"option_ids": [a_, b_, c_, d_]}
    error(await ballot(client, who, poll, four), 422, "wrong_rank_count")
    error(await ballot(client, who, poll, {"option_ids": [a_, a_, b_]}), 422, "validation_failed")
    alien = {"option_ids": [a_, b_, d_ + 1000]}
    error(await ballot(client, who, poll, alien), 422, "invalid_option")
    error(await ballot(client, who, poll, {"rating": 1}), 422, "wrong_ballot")

    view = (await client.get(f"/polls/{poll['id']}", headers=voters[1].headers)).json()
    assert view["my_vote"] == [a_, c_, d_]
    got = await results_json(client, owner, poll["id"])
    assert got["counts"] == ranking_counts(orders, [a_, b_, c_, d_], 3)
    assert got["total"] == 3


async def test_rating_is_rebuilt_finalized_exported_and_reset_exactly(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(
        client, owner, kind="rating", options=None, scale=5, low_label="No", high_label="=Yes"
    )
    values = [5, 4, 4, 1, 5, 5, 2]
    voters = [await make_person(guest=True) for _ in values]
    for who, value in zip(voters, values, strict=True):
        assert await cast_ok(client, who, poll, {"rating": value}) == "accepted"
    background = worker(burst=False)
    running = asyncio.create_task(background.async_run())
    try:
        await drained(redis, poll["id"])
        assert await db_ballots(poll["id"]) == {
            p.user_id: str(v) for p, v in zip(voters, values, strict=True)
        }
        # Redis lost it all: the next vote rebuilds the distribution from the database.
        redis.flushdb()
        late = await make_person(guest=True)
        assert await cast_ok(client, late, poll, {"rating": 3}) == "accepted"
        assert await cast_ok(client, voters[0], poll, {"rating": 5}) == "unchanged"
        values.append(3)
        assert (await results_json(client, owner, poll["id"]))["counts"] == rating_counts(values, 5)
        await drained(redis, poll["id"])
        assert await db_ballots(poll["id"]) == redis_ballots(redis, poll["id"])
    finally:
        running.cancel()

    closed = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert closed.json()["results"]["counts"] == rating_counts(values, 5)
    await finalize(worker, poll["id"])
    row = await Poll.get(id=poll["id"])
    assert row.finalized_at is not None
    assert row.final_counts == rating_counts(values, 5)
    assert not await PollOption.filter(poll_id=poll["id"]).exists()
    assert not redis.exists(keys.outbox(poll["id"]))
    final = await results_json(client, owner, poll["id"])
    assert (final["counts"], final["total"]) == (rating_counts(values, 5), 8)

    rows = rows_of(await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers))
    average = f"{sum(values) / len(values):.4f}"  # 29 / 8
    assert rows == [
        ["option_id", "label", "position", "count", "points", "average", "correct"],
        ["1", "No", "1", "1", "1", average, ""],
        ["2", "", "2", "1", "2", average, ""],
        ["3", "", "3", "1", "3", average, ""],
        ["4", "", "4", "2", "8", average, ""],
        ["5", "'=Yes", "5", "3", "15", average, ""],  # a formula-like label is neutralised
    ]
    ballots = rows_of(await client.get(f"/polls/{poll['id']}/ballots.csv", headers=owner.headers))
    assert sorted(r[1] for r in ballots[1:]) == sorted(map(str, values))

    r = await client.post(f"/polls/{poll['id']}/reset", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["results"]["counts"] == rating_counts([], 5)
    record = await PollReset.get(poll_id=poll["id"])
    assert (record.ballots, record.counts) == (8, rating_counts(values, 5))
    assert await Ballot.filter(poll_id=poll["id"]).count() == 0


async def test_ranking_is_finalized_with_borda_points_and_exported(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, worker: Any
) -> None:
    owner = await make_person()
    poll = await create(
        client, owner, kind="ranking", options=["Rust", "Go", "Zig", "Odin"], max_choices=2
    )
    rust, go, zig, odin = [o["id"] for o in poll["options"]]
    orders = [[go, rust], [go, zig], [rust, go], [zig, go], [go, rust]]
    for order in orders:
        who = await make_person(guest=True)
        assert await cast_ok(client, who, poll, {"option_ids": order}) == "accepted"
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    await finalize(worker, poll["id"])

    expected = ranking_counts(orders, [rust, go, zig, odin], 2)
    row = await Poll.get(id=poll["id"])
    assert row.final_counts == expected
    # Borda with k = 2: a first place is 2 points, a second 1.
    points = {rust: 2 + 1 + 1, go: 2 + 2 + 1 + 1 + 2, zig: 1 + 2, odin: 0}
    stored = dict(await PollOption.filter(poll_id=poll["id"]).values_list("id", "vote_count"))
    assert stored == points
    assert (await results_json(client, owner, poll["id"]))["counts"] == expected

    rows = rows_of(await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers))
    assert rows[1:] == [
        [str(rust), "Rust", "0", "3", "4", f"{(1 + 2 + 2) / 3:.4f}", ""],
        [str(go), "Go", "1", "5", "8", f"{(1 + 1 + 2 + 2 + 1) / 5:.4f}", ""],
        [str(zig), "Zig", "2", "2", "3", f"{(2 + 1) / 2:.4f}", ""],
        [str(odin), "Odin", "3", "0", "0", "", ""],
    ]
    ballots = rows_of(await client.get(f"/polls/{poll['id']}/ballots.csv", headers=owner.headers))
    # A ranking's ballot keeps its order (first choice first), not sorted ids.
    assert sorted(r[1] for r in ballots[1:]) == sorted(",".join(map(str, o)) for o in orders)


@pytest.mark.parametrize("kind", ["rating", "ranking"])
async def test_a_session_export_mixes_kinds(
    client: httpx.AsyncClient, make_person: Any, kind: str
) -> None:
    owner = await make_person()
    extra: dict[str, Any] = (
        {"options": None, "scale": 3} if kind == "rating" else {"options": ["X", "Y"]}
    )
    other = await create(client, owner, kind=kind, **extra)
    choice = await create(client, owner)
    r = await client.post(
        "/sessions",
        json={"title": "Mixed", "poll_ids": [choice["id"], other["id"]]},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    voter = await make_person(guest=True)
    if kind == "rating":
        await cast_ok(client, voter, other, {"rating": 2})
    else:
        y, x = other["options"][1]["id"], other["options"][0]["id"]
        await cast_ok(client, voter, other, {"option_ids": [y, x]})
    rows = rows_of(
        await client.get(f"/sessions/{r.json()['id']}/results.csv", headers=owner.headers)
    )
    mine = [row[4:] for row in rows[1:] if row[0] == str(other["id"])]
    if kind == "rating":
        assert mine == [
            ["1", "", "1", "0", "0", "2.0000", ""],
            ["2", "", "2", "1", "2", "2.0000", ""],
            ["3", "", "3", "0", "0", "2.0000", ""],
        ]
    else:
        assert mine == [
            [str(x), "X", "0", "1", "1", "2.0000", ""],
            [str(y), "Y", "1", "1", "2", "1.0000", ""],
        ]


async def test_the_reconciler_repairs_a_rankings_counts(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer, redis: SyncRedis
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="ranking", options=["A", "B", "C"], max_choices=2)
    a_, b_, c_ = [o["id"] for o in poll["options"]]
    orders = [[a_, b_], [b_, c_], [c_, a_], [a_, c_]]
    for order in orders:
        assert await cast_ok(client, await make_person(guest=True), poll, {"option_ids": order})
    good = ranking_counts(orders, [a_, b_, c_], 2)
    await reconcile_now(live_server)  # the first full recount
    counts = keys.counts(poll["id"])
    # A field the poll cannot have, a missing one, and more marks than 4 voters x 2.
    redis.hset(counts, f"{a_}:3", 1)
    redis.hdel(counts, f"{b_}:2")
    redis.hincrby(counts, f"{c_}:1", 5)
    assert (await reconcile_now(live_server)).repaired == {poll["id"]: 3}
    assert {k: int(v) for k, v in redis.hgetall(counts).items()} == good
    assert (await results_json(client, owner, poll["id"]))["counts"] == good


async def test_a_session_of_a_rating_and_a_ranking_over_sockets(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    """Members follow the host onto each kind, vote in its own form, and get their
    ballot back as `my_vote` and every count field, zeros included, as they join."""
    host, fan, other = await make_person(), await make_person(guest=True), await make_person()
    rating = await create(client, host, kind="rating", options=None, scale=3, status="draft")
    ranking = await create(
        client, host, kind="ranking", options=["A", "B", "C"], max_choices=2, status="draft"
    )
    session = await new_session(client, host, [rating["id"], ranking["id"]])
    ws = await WsClient.open(live_server.ws_url, fan.token)
    await ws.request(type="JOIN_SESSION", session_id=session["id"])

    await present(client, host, session, step="next")
    state = await ws.recv_until(lambda m: m["type"] == "SESSION_STATE")
    assert (state["poll"]["kind"], state["poll"]["scale"]) == ("rating", 3)
    assert state["results"]["counts"] == {"1": 0, "2": 0, "3": 0}
    ack = await ws.request(type="VOTE", poll_id=rating["id"], rating=3)
    assert (ack["type"], ack["status"]) == ("VOTE_ACK", "accepted"), ack
    refused = await ws.request(type="VOTE", poll_id=rating["id"], option_ids=[1])
    assert (refused["type"], refused["code"]) == ("ERROR", "wrong_ballot"), refused
    assert await cast_ok(client, other, rating, {"rating": 1}) == "accepted"
    tally = await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["total"] == 2)
    assert tally["counts"] == {"1": 1, "2": 0, "3": 1}

    await present(client, host, session, step="next")
    state = await ws.recv_until(lambda m: m["type"] == "SESSION_STATE")
    a_, b_, c_ = [o["id"] for o in state["poll"]["options"]]
    refused = await ws.request(type="VOTE", poll_id=ranking["id"], option_ids=[c_])
    assert (refused["type"], refused["code"]) == ("ERROR", "wrong_rank_count"), refused
    ack = await ws.request(type="VOTE", poll_id=ranking["id"], option_ids=[c_, a_])
    assert (ack["type"], ack["status"]) == ("VOTE_ACK", "accepted"), ack

    await present(client, host, session, step="previous")
    back = await ws.recv_until(lambda m: m["type"] == "SESSION_STATE")
    assert back["my_vote"] == [3] and back["results"]["total"] == 2
    await present(client, host, session, step="next")
    again = await ws.recv_until(lambda m: m["type"] == "SESSION_STATE")
    assert again["my_vote"] == [c_, a_]
    assert again["results"]["counts"] == ranking_counts([[c_, a_]], [a_, b_, c_], 2)
    await ws.close()
