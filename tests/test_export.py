"""CSV exports over REST (`/polls/{id}/results.csv`, `/polls/{id}/ballots.csv`,
`/sessions/{id}/results.csv`): real votes through the API, real workers finalizing,
the files parsed with the csv module and compared with what the JSON API says."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx

from app.polls import export
from models import Ballot, PollOption
from tests.burst import cast, db_ballots, make_voters, redis_ballots
from tests.conftest import LiveServer, Person
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote

RESULTS_HEADER = ["option_id", "label", "position", "count", "points", "average", "correct"]
SESSION_HEADER = ["poll_id", "poll_position", "question", "status", *RESULTS_HEADER]


def rows_of(r: httpx.Response) -> list[list[str]]:
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.text)))


def dicts_of(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


async def results_json(client: httpx.AsyncClient, owner: Person, poll_id: int) -> Any:
    r = await client.get(f"/polls/{poll_id}/results", headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_results_csv_is_what_the_results_endpoint_says(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(
        client, owner, kind="multiple", max_choices=2, results_visibility="owner_only"
    )
    options = poll["options"]
    for choice in ((0,), (0, 2), (2,), (0, 1)):
        who = await make_person(guest=True)
        assert (await vote(client, who, poll, *choice)).status_code == 200

    r = await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="poll-{poll["id"]}-results.csv"'
    )
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    rows = rows_of(r)
    assert rows == [
        RESULTS_HEADER,
        [str(options[0]["id"]), "Apple", "0", "3", "", "", ""],
        [str(options[1]["id"]), "Pear", "1", "1", "", "", ""],
        [str(options[2]["id"]), "Plum", "2", "2", "", "", ""],
    ]
    counts = (await results_json(client, owner, poll["id"]))["counts"]
    assert {row[0]: int(row[3]) for row in rows[1:]} == counts

    # Closed (and not yet finalized): the final counts, the same as the JSON.
    closed = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert closed.status_code == 200
    r = await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers)
    assert {row[0]: int(row[3]) for row in rows_of(r)[1:]} == closed.json()["results"]["counts"]


async def test_only_the_owner_exports(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other, guest = await make_person(), await make_person(), await make_person(guest=True)
    poll = await create(client, owner)
    draft = await create(client, owner, status="draft")
    paths = [f"/polls/{poll['id']}/results.csv", f"/polls/{poll['id']}/ballots.csv"]
    for path in paths:
        error(await client.get(path, headers=other.headers), 403, "forbidden")
        error(await client.get(path, headers=guest.headers), 403, "forbidden")
        r = await client.get(path)
        error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert (await client.get(path, headers=owner.headers)).status_code == 200
    for what in ("results", "ballots"):
        error(
            await client.get(f"/polls/987654/{what}.csv", headers=owner.headers), 404, "not_found"
        )
        # Someone else's draft does not exist for them, as everywhere.
        r = await client.get(f"/polls/{draft['id']}/{what}.csv", headers=other.headers)
        error(r, 404, "not_found")
    # A draft has no results; its ballots file is the header alone.
    r = await client.get(f"/polls/{draft['id']}/results.csv", headers=owner.headers)
    error(r, 409, "poll_not_open")
    r = await client.get(f"/polls/{draft['id']}/ballots.csv", headers=owner.headers)
    assert rows_of(r) == [["user_id", "option_ids", "seq", "cast_at"]]

    r = await client.post("/sessions", json={"title": "T", "poll_ids": []}, headers=owner.headers)
    session = r.json()
    path = f"/sessions/{session['id']}/results.csv"
    error(await client.get(path, headers=other.headers), 403, "forbidden")
    error(await client.get(path, headers=guest.headers), 403, "forbidden")
    error(await client.get(path), 401, "unauthorized")
    error(await client.get("/sessions/987654/results.csv", headers=owner.headers), 404, "not_found")
    # No polls: the header alone.
    assert rows_of(await client.get(path, headers=owner.headers)) == [SESSION_HEADER]


async def test_ballots_of_a_closed_finalized_poll(
    client: httpx.AsyncClient, make_person: Any, redis: SyncRedis, worker: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    options = [o["id"] for o in poll["options"]]
    voters = [await make_person(guest=True) for _ in range(4)]
    for who, choice in zip(voters, ((0,), (0, 2), (2,), (1,)), strict=True):
        assert (await vote(client, who, poll, *choice)).status_code == 200
    changed = await vote(client, voters[0], poll, 1, 2)  # seq 5: now the last ballot
    assert changed.json() == {"status": "changed", "seq": 5}
    assert (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).is_success
    w = worker()
    await asyncio.wait_for(w.async_run(), 60)
    assert w.jobs_failed == 0

    r = await client.get(f"/polls/{poll['id']}/ballots.csv", headers=owner.headers)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="poll-{poll["id"]}-ballots.csv"'
    )
    rows = dicts_of(r)
    assert [int(row["user_id"]) for row in rows] == [v.user_id for v in voters[1:] + voters[:1]]
    assert [row["option_ids"] for row in rows] == [
        f"{options[0]},{options[2]}",
        str(options[2]),
        str(options[1]),
        f"{options[1]},{options[2]}",
    ]
    assert [row["seq"] for row in rows] == ["2", "3", "4", "5"]
    assert all(row["cast_at"].endswith("+00:00") for row in rows)
    # Every ballot Redis accepted, as the database has it.
    exported = {int(row["user_id"]): row["option_ids"] for row in rows}
    assert exported == redis_ballots(redis, poll["id"]) == await db_ballots(poll["id"])
    # Each option's count is the number of ballots naming it.
    counts = (await results_json(client, owner, poll["id"]))["counts"]
    for option in options:
        named = sum(str(option) in row["option_ids"].split(",") for row in rows)
        assert counts[str(option)] == named


async def test_a_large_poll_streams_its_ballots(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    labels = [f"Option {i}" for i in range(20)]
    poll = await create(client, owner, options=labels, kind="multiple", max_choices=3)
    options = [o["id"] for o in poll["options"]]
    voters = await make_voters(5000)
    ballots = [(p, sorted({options[i % 20], options[(i * 7) % 20]})) for i, p in enumerate(voters)]
    acked = await cast(live_server.app.ctx.votes, poll["id"], ballots)
    assert len(acked) == 5000
    assert (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).is_success
    await asyncio.wait_for(worker().async_run(), 120)

    async with client.stream("GET", f"/polls/{poll['id']}/ballots.csv", headers=owner.headers) as r:
        assert r.status_code == 200
        # Sent page by page, not as one body of known length.
        assert r.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in r.headers
        body = (await r.aread()).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["user_id", "option_ids", "seq", "cast_at"]
    assert len(rows) == 5001
    assert [int(row[2]) for row in rows[1:]] == sorted(int(row[2]) for row in rows[1:])
    assert {int(row[0]): row[1] for row in rows[1:]} == acked

    r = await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers)
    counts = {int(row["option_id"]): int(row["count"]) for row in dicts_of(r)}
    assert len(counts) == 20
    for option in options:
        assert counts[option] == sum(option in ids for _, ids in ballots)


async def test_ballot_pages_keep_ballots_of_one_seq_together(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    """The keyset goes on by user id within one seq: rows stored with equal seqs (which
    the outbox never writes, but the page boundary must not depend on it) all come."""
    owner = await make_person()
    poll = await create(client, owner)
    option = poll["options"][0]["id"]
    voters = await make_voters(7)
    await Ballot.bulk_create(
        [
            Ballot(
                poll_id=poll["id"],
                user_id=v.user_id,
                option_ids=str(option),
                seq=1 + i // 3,
                cast_at="2026-01-01T00:00:00+00:00",
                updated_at="2026-01-01T00:00:00+00:00",
            )
            for i, v in enumerate(voters)
        ]
    )
    pages = [page async for page in export.ballot_pages(poll_id=poll["id"], page=2)]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [row[0] for page in pages for row in page] == [v.user_id for v in voters]


async def test_formulas_are_neutralised(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    labels = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "Plain - text", "ok"]
    poll = await create(client, owner, question="=cmd|' /C calc'!A0", options=labels)
    # Tab and CR cannot come through the API (text is stripped): put them in the database.
    await PollOption.filter(id=poll["options"][5]["id"]).update(label="\tx")
    r = await client.post(
        "/sessions", json={"title": "T", "poll_ids": [poll["id"]]}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    session = r.json()

    rows = dicts_of(await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers))
    expected = ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "Plain - text", "'\tx"]
    assert [row["label"] for row in rows] == expected
    r = await client.get(f"/sessions/{session['id']}/results.csv", headers=owner.headers)
    rows = dicts_of(r)
    assert [row["label"] for row in rows] == expected
    assert {row["question"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    # Only the files: the JSON keeps the text as it was written.
    view = (await client.get(f"/polls/{poll['id']}", headers=owner.headers)).json()
    assert view["poll"]["question"] == "=cmd|' /C calc'!A0"
    assert view["poll"]["options"][0]["label"] == labels[0]
    assert export.neutralise("\rx") == "'\rx" and export.neutralise(-3) == -3


async def test_a_session_of_two_polls(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    first = await create(client, owner, question="First?", options=["A", "B"])
    second = await create(client, owner, question="Second?", status="draft")
    third = await create(client, owner, question="Not in it")
    r = await client.post(
        "/sessions",
        json={"title": "Talk", "poll_ids": [second["id"], first["id"]]},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    session = r.json()
    for choice in (0, 1, 1):
        assert (await vote(client, await make_person(guest=True), first, choice)).is_success
    assert (await vote(client, await make_person(guest=True), third, 0)).is_success
    # Reordered: the file follows the session's order, not the polls' ages.
    r = await client.patch(
        f"/sessions/{session['id']}",
        json={"poll_ids": [first["id"], second["id"]]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text

    r = await client.get(f"/sessions/{session['id']}/results.csv", headers=owner.headers)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="session-{session["id"]}-results.csv"'
    )
    rows = rows_of(r)
    assert rows[0] == SESSION_HEADER
    a, b = first["options"], second["options"]
    assert rows[1:] == [
        [str(first["id"]), "0", "First?", "open", str(a[0]["id"]), "A", "0", "1", "", "", ""],
        [str(first["id"]), "0", "First?", "open", str(a[1]["id"]), "B", "1", "2", "", "", ""],
        *(
            [
                *(str(second["id"]), "1", "Second?", "draft"),
                *(str(o["id"]), o["label"], str(i), "0", "", "", ""),
            ]
            for i, o in enumerate(b)
        ),
    ]
    counts = (await results_json(client, owner, first["id"]))["counts"]
    assert {row[4]: int(row[7]) for row in rows[1:3]} == counts

    # Presenting the draft opens it; closing the first: the file says so.
    r = await client.post(
        f"/sessions/{session['id']}/present", json={"poll_id": second["id"]}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert (await client.post(f"/polls/{first['id']}/close", headers=owner.headers)).is_success
    records = dicts_of(
        await client.get(f"/sessions/{session['id']}/results.csv", headers=owner.headers)
    )
    assert [row["status"] for row in records] == ["closed", "closed", "open", "open", "open"]


async def test_ballot_exports_while_votes_are_drained(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    """Exports racing the drainer's inserts (runs here see 0, then some hundreds, then
    thousands of rows): each lists every voter at most once, in seq order; after the
    drain, every ballot as it was acked."""
    owner = await make_person()
    poll = await create(client, owner, options=[f"O{i}" for i in range(20)])
    options = [o["id"] for o in poll["options"]]
    voters = await make_voters(4000)
    ballots = [(p, [options[i % 20]]) for i, p in enumerate(voters)]
    w = worker(burst=False)
    running = asyncio.create_task(w.async_run())
    try:
        votes = asyncio.create_task(cast(live_server.app.ctx.votes, poll["id"], ballots, 500))
        seen: list[int] = []
        while not votes.done() or len(seen) < 3:
            exports = await asyncio.gather(
                *(
                    client.get(f"/polls/{poll['id']}/ballots.csv", headers=owner.headers)
                    for _ in range(3)
                )
            )
            for r in exports:
                rows = dicts_of(r)
                users = [int(row["user_id"]) for row in rows]
                assert len(users) == len(set(users))
                seqs = [int(row["seq"]) for row in rows]
                assert seqs == sorted(seqs)
                seen.append(len(rows))
        acked = await votes
        assert len(acked) == 4000
        assert (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).is_success
        deadline = asyncio.get_running_loop().time() + 60
        while (await Ballot.filter(poll_id=poll["id"]).count()) < 4000:
            assert asyncio.get_running_loop().time() < deadline, "not drained"
            await asyncio.sleep(0.1)
    finally:
        running.cancel()
    r = await client.get(f"/polls/{poll['id']}/ballots.csv", headers=owner.headers)
    assert {int(row["user_id"]): row["option_ids"] for row in dicts_of(r)} == acked
    assert redis_ballots(redis, poll["id"]) == acked
