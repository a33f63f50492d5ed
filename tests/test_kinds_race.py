"""Each new kind under real concurrency: 300 people, two sockets each on two server
processes, each socket sending a different ballot at the same instant. The counts,
the acks and the database's rows must agree exactly, live and once finalized.

The expected tallies are computed here from the acks, not by app/kinds/.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import httpx
import pytest

from models import Poll, PollOption
from tests.burst import db_ballots
from tests.conftest import LiveServer, ServerProcess
from tests.test_manage import finalize
from tests.test_polls import create
from tests.test_ws_multiprocess import close_all, open_all, people
from tests.wsclient import WsClient

pytestmark = pytest.mark.multiprocess

PEOPLE = 300


def rating_ballots(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"rating": i % 5 + 1}, {"rating": (i + 2) % 5 + 1}


def ranking_ballots(options: list[int], i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    orders = list(itertools.permutations(options, 3))
    first = list(orders[i % len(orders)])
    second = list(orders[(i + 7) % len(orders)])
    return {"option_ids": first}, {"option_ids": second}


def quiz_ballots(options: list[int], i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sets of one or two options, each sent in a shuffled order."""
    sets = [[a] for a in options] + [list(c) for c in itertools.combinations(options, 2)]
    first, second = sets[i % len(sets)], sets[(i + 3) % len(sets)]
    return {"option_ids": first[::-1]}, {"option_ids": second}


def text_of(kind: str, body: dict[str, Any]) -> str:
    """The ballot the vote script keeps: a rating's value, a ranking's ids in order,
    a quiz's sorted."""
    if kind == "rating":
        return str(body["rating"])
    ids = body["option_ids"]
    return ",".join(map(str, sorted(ids) if kind == "quiz" else ids))


@pytest.mark.parametrize("kind", ["rating", "ranking", "quiz"])
async def test_two_ballots_per_person_at_once_on_two_processes(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    make_person: Any,
    server_process: Any,
    worker: Any,
    kind: str,
) -> None:
    a: ServerProcess = server_process()
    b: ServerProcess = server_process()
    owner = await make_person()
    if kind == "rating":
        poll = await create(client, owner, kind="rating", options=None, allow_change=True)
        pairs = [rating_ballots(i) for i in range(PEOPLE)]
    elif kind == "quiz":
        poll = await create(
            client,
            owner,
            kind="quiz",
            options=["A", "B", "C", "D"],
            correct=[1, 2],
            allow_change=True,
        )
        option_ids = [o["id"] for o in poll["options"]]
        pairs = [quiz_ballots(option_ids, i) for i in range(PEOPLE)]
    else:
        poll = await create(
            client,
            owner,
            kind="ranking",
            options=["A", "B", "C", "D"],
            max_choices=3,
            allow_change=True,
        )
        option_ids = [o["id"] for o in poll["options"]]
        pairs = [ranking_ballots(option_ids, i) for i in range(PEOPLE)]
    users = await people(live_server, PEOPLE)
    first = await open_all([(a.ws_url, u.token) for u in users])
    second = await open_all([(b.ws_url, u.token) for u in users])

    async def fire(ws: WsClient, body: dict[str, Any]) -> dict[str, Any]:
        return await ws.request(type="VOTE", poll_id=poll["id"], within=30, **body)

    replies = await asyncio.gather(
        *(fire(ws, pairs[i][k]) for i in range(PEOPLE) for k, ws in ((0, first[i]), (1, second[i])))
    )
    await close_all(first + second)

    standing: dict[int, str] = {}
    for i, user in enumerate(users):
        pair = replies[2 * i : 2 * i + 2]
        assert [r["type"] for r in pair] == ["VOTE_ACK", "VOTE_ACK"], pair
        assert sorted(r["status"] for r in pair) == ["accepted", "changed"], pair
        later = max((0, 1), key=lambda k: pair[k]["seq"])
        standing[user.user_id] = text_of(kind, pairs[i][later])
    assert sorted(r["seq"] for r in replies) == list(range(1, 2 * PEOPLE + 1))

    if kind == "rating":
        seen = Counter(standing.values())
        expected = {str(v): seen[str(v)] for v in range(1, 6)}
    elif kind == "quiz":
        seen = Counter(oid for text in standing.values() for oid in text.split(","))
        expected = {str(o): seen[str(o)] for o in option_ids}
    else:
        marks = Counter(
            f"{oid}:{place}"
            for text in standing.values()
            for place, oid in enumerate(text.split(","), 1)
        )
        expected = {f"{o}:{p}": marks[f"{o}:{p}"] for o in option_ids for p in (1, 2, 3)}
    live = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()
    assert (live["total"], live["seq"], live["counts"]) == (PEOPLE, 2 * PEOPLE, expected)

    closed = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert closed.json()["results"]["counts"] == expected
    await finalize(worker, poll["id"])
    assert await db_ballots(poll["id"]) == standing
    row = await Poll.get(id=poll["id"])
    assert row.finalized_at is not None and row.final_counts == expected
    if kind == "quiz":
        key = f"{min(option_ids[1:3])},{max(option_ids[1:3])}"
        scores = await client.get(
            f"/polls/{poll['id']}/leaderboard", params={"limit": 100}, headers=owner.headers
        )
        board = scores.json()
        assert board["total"] == PEOPLE
        right = {u for u, text in standing.items() if text == key}
        assert board["entries"][: len(right)] == sorted(
            board["entries"][: len(right)], key=lambda e: -e["points"]
        )
        assert {e["user_id"] for e in board["entries"] if e["correct"]} == right
    if kind == "ranking":
        points = {o: sum(marks[f"{o}:{p}"] * (4 - p) for p in (1, 2, 3)) for o in option_ids}
        stored = await PollOption.filter(poll_id=poll["id"]).values_list("id", "vote_count")
        assert dict(stored) == points
