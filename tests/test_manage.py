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
