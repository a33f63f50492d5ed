"""Host management over real HTTP (and real sockets): searching and filtering the poll
list, duplicating a poll, relabelling an open or closed one, reopening a closed one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import Person
from tests.test_polls import create


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
