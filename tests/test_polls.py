"""The poll lifecycle over real HTTP: create, read, patch, open, close, delete, results."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, Person


def poll_body(**overrides: Any) -> dict[str, Any]:
    return {"question": "Best fruit?", "options": ["Apple", "Pear", "Plum"], **overrides}


async def create(client: httpx.AsyncClient, owner: Person, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/polls", json=poll_body(**overrides), headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def vote(client: httpx.AsyncClient, who: Person, poll: dict[str, Any], *idx: int) -> Any:
    ids = [poll["options"][i]["id"] for i in idx]
    return await client.post(
        f"/polls/{poll['id']}/votes", json={"option_ids": ids}, headers=who.headers
    )


async def test_create_returns_the_poll(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    assert poll["status"] == "open"
    assert poll["owner_id"] == owner.user_id
    assert [o["label"] for o in poll["options"]] == ["Apple", "Pear", "Plum"]
    assert [o["position"] for o in poll["options"]] == [0, 1, 2]
    assert poll["kind"] == "multiple" and poll["max_choices"] == 2
    assert len(poll["code"]) == 6 and set(poll["code"]) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert poll["opened_at"] and poll["created_at"].endswith("Z")
    assert poll["closed_at"] is None


async def test_multiple_defaults_max_choices_to_all(client: Any, make_person: Any) -> None:
    poll = await create(client, await make_person(), kind="multiple")
    assert poll["max_choices"] == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "q" * 501}, "question"),
        ({"options": ["only one"]}, "options"),
        ({"options": ["a"] * 2}, "options"),
        ({"options": ["A", "a"]}, "options"),
        ({"options": ["ok", ""]}, "options[1]"),
        ({"options": ["ok", "x" * 201]}, "options[1]"),
        ({"options": [f"o{i}" for i in range(21)]}, "options"),
        ({"options": ["a", 2]}, "options[1]"),
        ({"kind": "ranked"}, "kind"),
        ({"kind": "multiple", "max_choices": 4}, "max_choices"),
        ({"kind": "multiple", "max_choices": 0}, "max_choices"),
        ({"max_choices": 2}, "max_choices"),
        ({"allow_change": "yes"}, "allow_change"),
        ({"results_visibility": "public"}, "results_visibility"),
        ({"closes_at": "2001-01-01T00:00:00Z"}, "closes_at"),
        ({"closes_at": "tomorrow"}, "closes_at"),
        ({"status": "closed"}, "status"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, make_person: Any, overrides: dict[str, Any], field: str
) -> None:
    owner = await make_person()
    r = await client.post("/polls", json=poll_body(**overrides), headers=owner.headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in [d["field"] for d in error["details"]], error


async def test_create_bad_bodies(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    r = await client.post("/polls", content=b"[]", headers=owner.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_json")
    r = await client.post("/polls", content=b"{", headers=owner.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_json")
    r = await client.post("/polls", json=poll_body())
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


async def test_guest_cannot_create_or_list(client: httpx.AsyncClient, make_person: Any) -> None:
    guest = await make_person(guest=True)
    r = await client.post("/polls", json=poll_body(), headers=guest.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    r = await client.get("/polls", headers=guest.headers)
    assert r.status_code == 403


async def test_list_own_polls_newest_first_paginated(client: Any, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    ids = [(await create(client, owner, question=f"q{i}"))["id"] for i in range(5)]
    await create(client, other)
    r = await client.get("/polls?limit=2&offset=1", headers=owner.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 5
    assert [p["id"] for p in body["items"]] == ids[::-1][1:3]
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=abc"):
        r = await client.get(f"/polls?{bad}", headers=owner.headers)
        assert r.status_code == 422, bad
        assert r.json()["error"]["details"][0]["field"] in ("limit", "offset")


async def test_get_by_id_and_code(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, voter = await make_person(), await make_person(guest=True)
    poll = await create(client, owner)
    assert (await vote(client, voter, poll, 1)).json()["status"] == "accepted"
    r = await client.get(f"/polls/{poll['id']}", headers=voter.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["poll"]["id"] == poll["id"]
    assert body["my_vote"] == [poll["options"][1]["id"]]
    assert body["results"]["total"] == 1
    by_code = await client.get(f"/polls/code/{poll['code'].lower()}", headers=voter.headers)
    assert by_code.status_code == 200
    assert by_code.json() == body


@pytest.mark.parametrize(
    "path",
    [
        "/polls/999999",
        "/polls/abc",
        "/polls/-1",
        "/polls/99999999999999999999",
        "/polls/code/ZZZZZZ",
        "/polls/code/0O0O0O",
        "/polls/code/toolong7",
    ],
)
async def test_unknown_polls_are_404(client: Any, make_person: Any, path: str) -> None:
    someone = await make_person()
    r = await client.get(path, headers=someone.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


async def test_patch_draft_only_and_by_owner(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    draft = await create(client, owner, status="draft")
    assert draft["status"] == "draft" and draft["opened_at"] is None
    r = await client.patch(
        f"/polls/{draft['id']}",
        headers=owner.headers,
        json={"question": "Edited?", "options": ["X", "Y"], "kind": "multiple"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["question"] == "Edited?"
    assert [o["label"] for o in r.json()["options"]] == ["X", "Y"]
    assert r.json()["max_choices"] == 2
    # Someone else's draft does not exist for them: 404, not 403.
    r = await client.patch(f"/polls/{draft['id']}", headers=other.headers, json={"question": "h"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = await client.patch(f"/polls/{draft['id']}", headers=owner.headers, json={"status": "open"})
    assert r.status_code == 422
    r = await client.patch(f"/polls/{draft['id']}", headers=owner.headers, json={"max_choices": 3})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "max_choices"
    r = await client.patch(f"/polls/{draft['id']}", headers=owner.headers, json={"question": None})
    assert r.status_code == 422
    # null clears what may be unset: a draft's closing time.
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await client.patch(
        f"/polls/{draft['id']}", headers=owner.headers, json={"closes_at": later}
    )
    assert r.status_code == 200 and r.json()["closes_at"] is not None, r.text
    r = await client.patch(f"/polls/{draft['id']}", headers=owner.headers, json={"closes_at": None})
    assert r.status_code == 200 and r.json()["closes_at"] is None, r.text
    live = await create(client, owner)
    # Once open only the wording may change (tests/test_manage.py): anything else is 409.
    r = await client.patch(f"/polls/{live['id']}", headers=owner.headers, json={"kind": "multiple"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    # A poll everyone can see is not the caller's to edit: 403.
    r = await client.patch(f"/polls/{live['id']}", headers=other.headers, json={"question": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")


async def test_open_a_draft_then_vote(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, voter = await make_person(), await make_person()
    draft = await create(client, owner, status="draft")
    r = await vote(client, owner, draft, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    # Anyone else: no such poll (the draft is its owner's only).
    r = await vote(client, voter, draft, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert (
        await client.post(f"/polls/{draft['id']}/open", headers=voter.headers)
    ).status_code == 404
    r = await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "open"
    r = await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    assert (await vote(client, voter, draft, 0)).json()["status"] == "accepted"


async def test_vote_rules(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    r = await vote(client, a, poll, 0)
    assert r.json() == {"status": "accepted", "seq": 1}
    assert (await vote(client, a, poll, 0)).json() == {"status": "unchanged", "seq": 1}
    r = await vote(client, a, poll, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_voted")
    r = await vote(client, b, poll, 0, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "too_many_choices")
    r = await client.post(
        f"/polls/{poll['id']}/votes", json={"option_ids": [10**6]}, headers=b.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_option")
    bad: dict[str, Any]
    for bad in (
        {"option_ids": []},
        {"option_ids": "1"},
        {"option_ids": [True]},
        {},
        {"option_ids": [1, 1]},
        {"option_ids": [1.5]},
    ):
        r = await client.post(f"/polls/{poll['id']}/votes", json=bad, headers=b.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_failed"), bad
    r = await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)
    assert r.json()["counts"] == {
        str(poll["options"][0]["id"]): 1,
        str(poll["options"][1]["id"]): 0,
        str(poll["options"][2]["id"]): 0,
    }


async def test_changing_a_ballot(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, a = await make_person(), await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    assert (await vote(client, a, poll, 0, 1)).json() == {"status": "accepted", "seq": 1}
    assert (await vote(client, a, poll, 1, 0)).json() == {"status": "unchanged", "seq": 1}
    assert (await vote(client, a, poll, 2)).json() == {"status": "changed", "seq": 2}
    results = (await client.get(f"/polls/{poll['id']}/results", headers=a.headers)).json()
    assert results["total"] == 1 and results["seq"] == 2
    assert sorted(results["counts"].values()) == [0, 0, 1]
    assert results["counts"][str(poll["options"][2]["id"])] == 1


async def test_require_account(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, guest, member = await make_person(), await make_person(True), await make_person()
    poll = await create(client, owner, require_account=True)
    r = await vote(client, guest, poll, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "account_required")
    assert (await vote(client, member, poll, 0)).json()["status"] == "accepted"


async def test_close_is_final_and_idempotent(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    await vote(client, a, poll, 2)
    r = await client.post(f"/polls/{poll['id']}/close", headers=a.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    first = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert first.status_code == 200
    body = first.json()
    assert body["poll"]["status"] == "closed" and body["poll"]["closed_at"]
    assert body["results"]["total"] == 1 and body["results"]["status"] == "closed"
    r = await vote(client, b, poll, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    second = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert second.json() == body
    draft = await create(client, owner, status="draft")
    r = await client.post(f"/polls/{draft['id']}/close", headers=owner.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")


async def test_delete(client: httpx.AsyncClient, make_person: Any, redis: Any) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner)
    await vote(client, other, poll, 0)
    assert (await client.delete(f"/polls/{poll['id']}", headers=other.headers)).status_code == 403
    assert (await client.delete(f"/polls/{poll['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"/polls/{poll['id']}", headers=owner.headers)).status_code == 404
    r = await vote(client, other, poll, 0)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert not redis.keys(f"{{p:{poll['id']}}}:*")


@pytest.mark.parametrize("visibility", ["after_close", "owner_only"])
async def test_hidden_results_never_reach_non_owners(
    client: httpx.AsyncClient, make_person: Any, visibility: str
) -> None:
    owner, a = await make_person(), await make_person()
    poll = await create(client, owner, results_visibility=visibility)
    await vote(client, a, poll, 0)
    r = await client.get(f"/polls/{poll['id']}/results", headers=a.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "results_hidden")
    view = (await client.get(f"/polls/{poll['id']}", headers=a.headers)).json()
    assert view["results"] is None and view["my_vote"] == [poll["options"][0]["id"]]
    assert (await client.get(f"/polls/{poll['id']}", headers=owner.headers)).json()["results"]
    closed = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    assert closed.json()["results"]["total"] == 1
    r = await client.get(f"/polls/{poll['id']}/results", headers=a.headers)
    if visibility == "after_close":
        assert r.status_code == 200 and r.json()["total"] == 1
    else:
        assert r.status_code == 403
        view = (await client.get(f"/polls/code/{poll['code']}", headers=a.headers)).json()
        assert view["results"] is None


async def test_concurrent_creates_get_distinct_codes(client: Any, make_person: Any) -> None:
    owners = [await make_person() for _ in range(5)]
    polls = await asyncio.gather(*(create(client, owners[i % 5]) for i in range(60)))
    assert len({p["code"] for p in polls}) == 60


async def test_closes_at_closes_by_itself(
    client: httpx.AsyncClient, make_person: Any, live_server: Any
) -> None:
    from arq.worker import Worker

    from workers.jobs import close_poll_at

    owner, early, late = await make_person(), await make_person(), await make_person()
    closes_at = datetime.now(UTC) + timedelta(seconds=2)
    poll = await create(client, owner, closes_at=closes_at.isoformat())
    assert (await vote(client, early, poll, 0)).json()["status"] == "accepted"
    ctx = live_server.app.ctx
    worker = Worker(
        functions=[close_poll_at],
        redis_pool=ctx.arq,
        burst=True,
        poll_delay=0.1,
        ctx={"redis_handle": ctx.redis},
        handle_signals=False,
    )
    await asyncio.wait_for(worker.async_run(), 15)
    assert worker.jobs_complete == 1
    r = await vote(client, late, poll, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "poll_not_open")
    view = (await client.get(f"/polls/{poll['id']}", headers=owner.headers)).json()
    assert view["poll"]["status"] == "closed"
    closed_at = datetime.fromisoformat(view["poll"]["closed_at"])
    assert closed_at >= closes_at - timedelta(milliseconds=5)
    assert view["results"]["total"] == 1


async def test_a_draft_is_its_owners_only(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other, guest = await make_person(), await make_person(), await make_person(guest=True)
    draft = await create(client, owner, status="draft")
    reads = [
        f"/polls/{draft['id']}",
        f"/polls/code/{draft['code']}",
        f"/polls/code/{draft['code'].lower()}",
        f"/polls/{draft['id']}/results",
    ]
    unknown = await client.get("/polls/4503599627370495", headers=other.headers)
    for who in (other, guest):
        for path in reads:
            r = await client.get(path, headers=who.headers)
            # Exactly what an unknown poll gets, so a draft's existence does not leak.
            assert r.status_code == 404, (path, r.text)
            assert r.json() == unknown.json()
        r = await vote(client, who, draft, 0)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
        for action in ("open", "close"):
            r = await client.post(f"/polls/{draft['id']}/{action}", headers=who.headers)
            assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
        r = await client.delete(f"/polls/{draft['id']}", headers=who.headers)
        assert r.status_code == 404
    # The owner reads it as before.
    r = await client.get(f"/polls/{draft['id']}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["poll"]["status"] == "draft"
    r = await client.get(f"/polls/code/{draft['code']}", headers=owner.headers)
    assert r.status_code == 200
    # Once open it is public.
    assert (await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)).is_success
    r = await client.get(f"/polls/code/{draft['code']}", headers=other.headers)
    assert r.status_code == 200 and r.json()["poll"]["status"] == "open"


async def test_poll_ids_are_random_not_sequential(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    ids = [(await create(client, owner))["id"] for _ in range(6)]
    assert len(set(ids)) == 6
    for a, b in itertools.pairwise(ids):
        assert abs(a - b) > 1_000_000, ids  # not adjacent, nor near each other
    # Integers above 2**32 that JavaScript's doubles hold exactly.
    assert all(type(i) is int and 2**32 <= i < 2**53 for i in ids)
    # Each is read back exactly (the id is a BIGINT all the way through).
    for i in ids:
        r = await client.get(f"/polls/{i}", headers=owner.headers)
        assert r.status_code == 200 and r.json()["poll"]["id"] == i
    # Newest first is by creation time, whatever the ids.
    listed = (await client.get("/polls", headers=owner.headers)).json()["items"]
    assert [p["id"] for p in listed] == ids[::-1]


# Ids that cannot name a poll; each once reached int() or the database and answered 500.
BAD_POLL_IDS = [
    "1" * 4301,  # past int()'s 4,300-digit conversion limit
    "9" * 5000,
    "9007199254740992",  # one past the largest poll id (2**53 - 1, app/polls/ids.py)
    "12345678901234567",  # more digits than any poll id has
    "99999999999999999999",  # past BIGINT too
    "0",
    "²",  # "²".isdigit() is true; int("²") raises
    "١٢",  # Arabic-Indic digits: int() would read them as 12
    "\uff11",  # fullwidth one
    "1%00",
    "-1",
    "1e3",
]


def poll_id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every route with a `{poll_id}`, as the app has them."""
    found: list[tuple[str, str]] = []
    for route in app.router.routes:
        if "<poll_id" in route.path:
            # OPTIONS: sanic-ext's preflight answers 204 without reading the id.
            methods = sorted(route.methods - {"OPTIONS"})
            found.extend((method, "/" + route.path) for method in methods)
    return found


async def test_every_poll_id_route_answers_404_for_ids_that_name_no_poll(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    make_person: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = await make_person()
    await create(client, owner)
    routes = poll_id_routes(live_server.app)
    # get, patch, delete, open, close, results, votes at least: a new route joins the list.
    assert len(routes) >= 7, routes
    for method, template in routes:
        for bad in BAD_POLL_IDS:
            path = re.sub(r"<poll_id[^>]*>", bad, template)
            r = await client.request(method, path, headers=owner.headers, json={})
            assert r.status_code == 404, (method, path[:60], r.text)
            if method != "HEAD":
                assert r.json()["error"]["code"] == "not_found"
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
