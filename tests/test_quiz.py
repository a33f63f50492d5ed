"""Quiz polls end to end over real HTTP, sockets, Redis and the database: the answer
key's rules and secrecy until the close, scores by correctness and speed, the
leaderboard of one quiz and of a session, its ties, paging and pending quizzes.

Expected points are computed here from the ballots' rows and the poll's times with
the formula docs/protocol.md gives, never by app/kinds/quiz.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from app.polls.leaderboard import Boards
from models import Ballot, Poll
from tests.conftest import LiveServer, Person
from tests.test_export import rows_of
from tests.test_kinds import ballot, cast_ok
from tests.test_manage import error, finalize
from tests.test_poll_sessions import new_session
from tests.test_polls import create, poll_body
from tests.wsclient import WsClient

MS = timedelta(milliseconds=1)


async def quiz(
    client: httpx.AsyncClient, owner: Person, correct: list[int], **extra: Any
) -> dict[str, Any]:
    extra.setdefault("options", ["Mercury", "Venus", "Earth", "Mars"])
    return await create(client, owner, kind="quiz", correct=correct, **extra)


async def expected_points(poll_id: int, key: set[int]) -> dict[int, int]:
    """Each voter's points in one quiz, from the database's rows."""
    poll = await Poll.get(id=poll_id)
    assert poll.opened_at and poll.closed_at
    window = (poll.closed_at - poll.opened_at) // MS
    out = {}
    for user_id, ids, at in await Ballot.filter(poll_id=poll_id).values_list(
        "user_id", "option_ids", "updated_at"
    ):
        t = min(max((at - poll.opened_at) // MS, 0), window)
        right = {int(i) for i in ids.split(",")} == key
        out[user_id] = 1000 - 500 * t // window if right else 0
    return out


def ranks(entries: list[dict[str, Any]]) -> list[int]:
    """Competition ranks (1, 2, 2, 4): one more than those with more points, or as
    many points and more correct answers."""
    return [
        1 + sum((o["points"], o["correct"]) > (e["points"], e["correct"]) for o in entries)
        for e in entries
    ]


async def board(client: httpx.AsyncClient, who: Person, path: str, **query: Any) -> dict[str, Any]:
    r = await client.get(f"{path}/leaderboard", params=query, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_quiz_rules_on_create_patch_and_relabel(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()

    async def refused(body: dict[str, Any], field: str) -> None:
        r = await client.post("/polls", json=body, headers=owner.headers)
        details = error(r, 422, "validation_failed")["details"]
        assert [d["field"] for d in details] == [field], details

    await refused(poll_body(kind="quiz"), "correct")  # a quiz needs its key
    await refused(poll_body(kind="quiz", correct=[3]), "correct")  # 3 options: 0..2
    await refused(poll_body(kind="quiz", correct=[1, 1]), "correct")
    await refused(poll_body(kind="quiz", correct=[]), "correct")
    await refused(poll_body(kind="quiz", correct=[0, 2], max_choices=1), "max_choices")
    await refused(poll_body(kind="quiz", correct=[0], scale=3), "scale")
    await refused(poll_body(correct=[0]), "correct")  # only a quiz has a key
    await refused(poll_body(kind="ranking", correct=[0]), "correct")

    one = await quiz(client, owner, [2])
    assert (one["kind"], one["max_choices"]) == ("quiz", 1)
    assert [o["correct"] for o in one["options"]] == [False, False, True, False]
    # The key's size is the default limit; a host may allow more, not to give it away.
    two = await quiz(client, owner, [0, 3], max_choices=4, status="draft")
    assert two["max_choices"] == 4
    choice = await create(client, owner)
    assert all("correct" not in o for o in choice["options"])

    # A draft's key follows its edits; new options keep the positions sent.
    r = await client.patch(f"/polls/{two['id']}", json={"correct": [1]}, headers=owner.headers)
    assert [o["correct"] for o in r.json()["options"]] == [False, True, False, False]
    r = await client.patch(
        f"/polls/{two['id']}", json={"options": ["Yes", "No"]}, headers=owner.headers
    )
    assert error(r, 422, "validation_failed")["details"][0]["field"] == "max_choices"
    r = await client.patch(
        f"/polls/{two['id']}",
        json={"options": ["Yes", "No"], "max_choices": 2},
        headers=owner.headers,
    )
    assert [o["correct"] for o in r.json()["options"]] == [False, True], r.text
    r = await client.patch(f"/polls/{two['id']}", json={"kind": "single"}, headers=owner.headers)
    assert r.status_code == 200 and "correct" not in r.json()["options"][0], r.text
    r = await client.patch(
        f"/polls/{two['id']}", json={"kind": "quiz", "correct": [0]}, headers=owner.headers
    )
    assert [o["correct"] for o in r.json()["options"]] == [True, False], r.text
    r = await client.patch(f"/polls/{two['id']}", json={"correct": None}, headers=owner.headers)
    error(r, 422, "validation_failed")

    # An open quiz's key may be fixed (scores follow it), within its rules.
    r = await client.patch(f"/polls/{one['id']}", json={"correct": [0, 1]}, headers=owner.headers)
    assert error(r, 422, "validation_failed")["details"][0]["field"] == "max_choices"
    r = await client.patch(f"/polls/{one['id']}", json={"correct": [1]}, headers=owner.headers)
    assert [o["correct"] for o in r.json()["options"]] == [False, True, False, False], r.text
    r = await client.patch(f"/polls/{choice['id']}", json={"correct": [1]}, headers=owner.headers)
    assert error(r, 422, "validation_failed")["details"][0]["field"] == "correct"
    r = await client.get(f"/polls/{choice['id']}/leaderboard", headers=owner.headers)
    error(r, 409, "conflict")

    copy = await client.post(f"/polls/{one['id']}/duplicate", headers=owner.headers)
    assert [o["correct"] for o in copy.json()["options"]] == [False, True, False, False]


async def test_the_key_is_the_owners_until_the_close(
    client: httpx.AsyncClient, make_person: Any, live_server: LiveServer
) -> None:
    owner, fan = await make_person(), await make_person(guest=True)
    poll = await quiz(client, owner, [1])
    ws = await WsClient.joined(live_server.ws_url, fan.token, poll["id"])
    r = await client.get(f"/polls/{poll['id']}", headers=fan.headers)
    assert [o["correct"] for o in r.json()["poll"]["options"]] == [None] * 4
    r = await client.get(f"/polls/{poll['id']}", headers=owner.headers)
    assert [o["correct"] for o in r.json()["poll"]["options"]] == [False, True, False, False]
    # A relabel goes to the room, still without the key.
    await client.patch(f"/polls/{poll['id']}", json={"question": "Which?"}, headers=owner.headers)
    update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert [o["correct"] for o in update["poll"]["options"]] == [None] * 4
    late = await WsClient.joined(live_server.ws_url, fan.token, poll["id"])

    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    for member in (ws, late):
        closed = await member.recv_until(
            lambda m: m["type"] == "POLL_UPDATED" and m["poll"]["status"] == "closed"
        )
        assert [o["correct"] for o in closed["poll"]["options"]] == [False, True, False, False]
    r = await client.get(f"/polls/{poll['id']}", headers=fan.headers)
    assert [o["correct"] for o in r.json()["poll"]["options"]] == [False, True, False, False]
    await ws.close()
    await late.close()


async def test_one_quiz_scores_by_correctness_and_speed(
    client: httpx.AsyncClient, make_person: Any, worker: Any
) -> None:
    owner = await make_person()
    poll = await quiz(client, owner, [0, 2], max_choices=3, allow_change=True)
    mercury, venus, earth, _ = [o["id"] for o in poll["options"]]
    fast, slow, partial, wrong, changed = [await make_person(guest=True) for _ in range(5)]
    await cast_ok(client, fast, poll, {"option_ids": [earth, mercury]})
    await asyncio.sleep(0.3)
    await cast_ok(client, partial, poll, {"option_ids": [mercury]})
    await cast_ok(client, wrong, poll, {"option_ids": [venus, mercury, earth]})
    await cast_ok(client, changed, poll, {"option_ids": [venus]})
    await asyncio.sleep(0.3)
    await cast_ok(client, slow, poll, {"option_ids": [mercury, earth]})
    # A changed ballot counts as of its change: right, but late.
    assert await cast_ok(client, changed, poll, {"option_ids": [mercury, earth]}) == "changed"
    r = await ballot(client, wrong, poll, {"option_ids": [mercury, earth, venus, 99]})
    error(r, 422, "invalid_option")
    await asyncio.sleep(0.2)

    # Open: no scores yet, nothing pending.
    assert await board(client, owner, f"/polls/{poll['id']}") == {
        "quizzes": [],
        "pending": [],
        "total": 0,
        "entries": [],
        "me": None,
    }
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    waiting = await board(client, fast, f"/polls/{poll['id']}")
    assert (waiting["pending"], waiting["total"]) == ([poll["id"]], 0)
    await finalize(worker, poll["id"])

    expected = await expected_points(poll["id"], {mercury, earth})
    assert expected[partial.user_id] == expected[wrong.user_id] == 0
    # 0.3 s apart in a question open about a second: visibly apart.
    assert expected[fast.user_id] > expected[slow.user_id] + 50 > 550
    assert expected[slow.user_id] >= expected[changed.user_id] >= 500
    got = await board(client, slow, f"/polls/{poll['id']}")
    assert (got["quizzes"], got["pending"], got["total"]) == ([poll["id"]], [], 5)
    assert [(e["user_id"], e["points"]) for e in got["entries"]] == sorted(
        expected.items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert [e["correct"] for e in got["entries"]] == [1, 1, 1, 0, 0]
    assert [e["answered"] for e in got["entries"]] == [1] * 5
    assert got["entries"][0]["name"] == "guest"
    # The two wrong share fourth place (1, 2, 3, 4, 4, unless two right ones tie too).
    assert [e["rank"] for e in got["entries"]] == ranks(got["entries"])
    assert [e["rank"] for e in got["entries"]][3:] == [4, 4]
    assert got["me"] == next(e for e in got["entries"] if e["user_id"] == slow.user_id)

    rows = rows_of(await client.get(f"/polls/{poll['id']}/results.csv", headers=owner.headers))
    assert [(r[0], r[3], r[6]) for r in rows[1:]] == [
        (str(mercury), "5", "1"),
        (str(venus), "1", "0"),
        (str(earth), "4", "1"),
        (rows[4][0], "0", "0"),
    ]

    r = await client.get(f"/polls/{poll['id']}/leaderboard.csv", headers=owner.headers)
    assert [row[1:4] for row in rows_of(r)[1:]] == [
        [str(e["user_id"]), "guest", str(e["points"])] for e in got["entries"]
    ]
    r = await client.get(f"/polls/{poll['id']}/leaderboard.csv", headers=slow.headers)
    error(r, 403, "forbidden")

    # The host fixes the key after the reveal: the board follows.
    r = await client.patch(f"/polls/{poll['id']}", json={"correct": [0]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    fixed = await board(client, owner, f"/polls/{poll['id']}")
    assert [e["user_id"] for e in fixed["entries"] if e["correct"]] == [partial.user_id]


async def test_a_sessions_leaderboard_over_its_quizzes(
    client: httpx.AsyncClient, make_person: Any, worker: Any
) -> None:
    owner = await make_person()
    first = await quiz(client, owner, [1])
    second = await quiz(client, owner, [3])
    hidden = await quiz(client, owner, [0], results_visibility="owner_only")
    choice = await create(client, owner)
    session = await new_session(
        client, owner, [first["id"], choice["id"], second["id"], hidden["id"]]
    )
    path = f"/sessions/{session['id']}"
    people = [await make_person(guest=True) for _ in range(6)]
    ace, steady, once, zero_a, zero_b, absent = people

    def pick(poll: dict[str, Any], position: int) -> dict[str, Any]:
        return {"option_ids": [poll["options"][position]["id"]]}

    for who in (ace, steady, once):
        await cast_ok(client, who, first, pick(first, 1))
        await asyncio.sleep(0.15)
    for who in (zero_a, zero_b):
        await cast_ok(client, who, first, pick(first, 0))
        await cast_ok(client, who, second, pick(second, 0))
    await cast_ok(client, ace, second, pick(second, 3))
    await asyncio.sleep(0.2)
    await cast_ok(client, steady, second, pick(second, 3))
    await cast_ok(client, once, second, pick(second, 2))
    await cast_ok(client, absent, hidden, pick(hidden, 0))
    await cast_ok(client, absent, choice, pick(choice, 0))
    for poll in (first, second, hidden, choice):
        await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    pending = await board(client, ace, path)
    assert sorted(pending["pending"]) == sorted([first["id"], second["id"]])
    for poll in (first, second, hidden, choice):
        await finalize(worker, poll["id"])

    one = await expected_points(first["id"], {first["options"][1]["id"]})
    two = await expected_points(second["id"], {second["options"][3]["id"]})
    total = {u: one.get(u, 0) + two.get(u, 0) for u in {*one, *two}}
    assert total[zero_a.user_id] == total[zero_b.user_id] == 0

    seen = await board(client, once, path)
    # The owner-only quiz counts for the owner alone.
    assert sorted(seen["quizzes"]) == sorted([first["id"], second["id"]])
    assert seen["total"] == 5 and absent.user_id not in {e["user_id"] for e in seen["entries"]}
    assert [(e["user_id"], e["points"]) for e in seen["entries"]] == sorted(
        total.items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert [(e["correct"], e["answered"]) for e in seen["entries"]] == [
        (2, 2),
        (2, 2),
        (1, 2),
        (0, 2),
        (0, 2),
    ]
    assert [e["rank"] for e in seen["entries"]] == [1, 2, 3, 4, 4]
    assert seen["me"]["user_id"] == once.user_id and seen["me"]["rank"] == 3

    # Paging: the caller's own entry comes whatever the page.
    page = await board(client, zero_b, path, limit=2, offset=1)
    assert [e["user_id"] for e in page["entries"]] == [e["user_id"] for e in seen["entries"][1:3]]
    assert page["me"]["user_id"] == zero_b.user_id and page["me"]["rank"] == 4
    r = await client.get(f"{path}/leaderboard?limit=0", headers=owner.headers)
    error(r, 422, "validation_failed")

    mine = await board(client, owner, path)
    assert sorted(mine["quizzes"]) == sorted([first["id"], second["id"], hidden["id"]])
    assert mine["total"] == 6 and mine["me"] is None
    r = await client.get("/sessions/999999/leaderboard", headers=owner.headers)
    error(r, 404, "not_found")

    # The owner's export: every participant, as the owner's board has them.
    r = await client.get(f"{path}/leaderboard.csv", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    everyone = await board(client, owner, path, limit=100)
    assert rows_of(r) == [
        ["rank", "user_id", "name", "points", "correct", "answered"],
        *(
            [str(e[k]) for k in ("rank", "user_id", "name", "points", "correct", "answered")]
            for e in everyone["entries"]
        ),
    ]
    error(await client.get(f"{path}/leaderboard.csv", headers=ace.headers), 403, "forbidden")


async def test_standings_are_counted_once_per_change_and_shared(
    client: httpx.AsyncClient, make_person: Any, worker: Any
) -> None:
    """What every phone asking at once costs: one count, whoever asks, until something
    it follows from changes; and a change shows once the polls are reread."""
    owner = await make_person()
    poll = await quiz(client, owner, [0])
    people = [await make_person(guest=True) for _ in range(3)]
    for who, position in zip(people, (0, 0, 1), strict=True):
        await cast_ok(client, who, poll, {"option_ids": [poll["options"][position]["id"]]})
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    await finalize(worker, poll["id"])

    reads = 0

    async def load() -> tuple[list[Poll], int | None]:
        nonlocal reads
        reads += 1
        row = await Poll.get(id=poll["id"])
        return [row], owner.user_id

    boards = Boards(check_s=3600)
    scope = ("poll", poll["id"])
    kept = await asyncio.gather(*(boards.get(scope, load) for _ in range(50)))
    assert (reads, boards.computed) == (1, 1)  # the audience's view is the owner's here
    assert all(k is kept[0] for k in kept)
    right = [s.user_id for _, s in kept[0].views[False][1].board if s.correct]
    assert sorted(right) == sorted(p.user_id for p in people[:2])

    # A fixed key: unseen while the polls are not reread, counted again once they are.
    r = await client.patch(f"/polls/{poll['id']}", json={"correct": [1]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert (await boards.get(scope, load)).views[False][1].board == kept[0].views[False][1].board
    boards.check_s = 0
    fixed = await boards.get(scope, load)
    assert (reads, boards.computed) == (2, 2)
    assert [s.user_id for _, s in fixed.views[False][1].board if s.correct] == [people[2].user_id]
    await boards.get(scope, load)  # reread, nothing changed: not counted again
    assert (reads, boards.computed) == (3, 2)

    # Hidden from the audience: its view no longer counts the quiz; the owner's does.
    await client.post(f"/polls/{poll['id']}/hide", headers=owner.headers)
    hidden = await boards.get(scope, load)
    assert boards.computed == 3
    assert (len(hidden.views[True][1].board), len(hidden.views[False][1].board)) == (3, 0)
