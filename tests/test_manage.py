"""Host management over real HTTP (and real sockets): searching and filtering the poll
list, duplicating a poll, relabelling an open or closed one, reopening a closed one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import LiveServer, Person
from tests.test_polls import create, vote
from tests.wsclient import WsClient


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
