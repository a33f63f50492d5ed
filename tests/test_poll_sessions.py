"""Sessions (events) over real HTTP: create, list, read, patch, present, delete, and
every refusal of each."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.polls import codes
from models import Poll, Session
from tests.conftest import Person
from tests.test_polls import create, vote


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Sessions need many polls per host."""
    return settings.model_copy(update={"poll_create_burst": 100_000})


async def new_session(
    client: httpx.AsyncClient, owner: Person, poll_ids: list[int], title: str = "Keynote"
) -> dict[str, Any]:
    r = await client.post(
        "/sessions", json={"title": title, "poll_ids": poll_ids}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def present(
    client: httpx.AsyncClient, owner: Person, session: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(f"/sessions/{session['id']}/present", json=body, headers=owner.headers)


def error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


async def test_create_read_and_poll_payload(client: httpx.AsyncClient, make_person: Any) -> None:
    owner = await make_person()
    polls = [await create(client, owner) for _ in range(3)]
    session = await new_session(client, owner, [p["id"] for p in reversed(polls)])
    assert session["poll_ids"] == [p["id"] for p in reversed(polls)]
    assert session["current_poll_id"] is None and session["version"] == 0
    assert session["owner_id"] == owner.user_id and session["title"] == "Keynote"
    assert codes.normalize(session["code"]) == session["code"]
    assert not await Poll.exists(code=session["code"])
    poll = (await client.get(f"/polls/{polls[0]['id']}", headers=owner.headers)).json()["poll"]
    assert poll["session_id"] == session["id"] and poll["session_position"] == 2
    guest = await make_person(guest=True)
    for path in (f"/sessions/{session['id']}", f"/sessions/code/{session['code'].lower()}"):
        view = (await client.get(path, headers=guest.headers)).json()
        assert view == {"session": session, "poll": None, "results": None, "my_vote": None}


async def test_session_codes_are_never_poll_codes(
    client: httpx.AsyncClient, make_person: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    draws = iter([poll["code"], poll["code"], "ZZZZZ2"])
    monkeypatch.setattr(codes, "new_code", lambda: next(draws))
    session = await new_session(client, owner, [])
    assert session["code"] == "ZZZZZ2"
    draws = iter(["ZZZZZ2", "ZZZZZ3"])
    assert (await create(client, owner))["code"] == "ZZZZZ3"


async def test_create_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    guest = await make_person(guest=True)
    mine = await create(client, owner)
    theirs = await create(client, other)
    r = await client.post("/sessions", json={"title": "x"}, headers=guest.headers)
    error(r, 403, "forbidden")
    error(await client.post("/sessions", json={"title": "x"}), 401, "unauthorized")
    error(await client.post("/sessions", content=b"[", headers=owner.headers), 400, "bad_json")
    for body in (
        {},
        {"title": " "},
        {"title": "x" * 201},
        {"title": "x", "poll_ids": [mine["id"], mine["id"]]},
        {"title": "x", "poll_ids": list(range(1, 102))},
        {"title": "x", "poll_ids": ["1"]},
        {"title": "x", "extra": 1},
    ):
        error(
            await client.post("/sessions", json=body, headers=owner.headers),
            422,
            "validation_failed",
        )
    for unknown in (theirs["id"], 2**40):  # another's poll, as one that does not exist
        r = await client.post(
            "/sessions", json={"title": "x", "poll_ids": [unknown]}, headers=owner.headers
        )
        error(r, 404, "not_found")
    assert (await new_session(client, owner, [float(mine["id"])]))["poll_ids"] == [mine["id"]]  # type: ignore[list-item]
    r = await client.post(
        "/sessions", json={"title": "x", "poll_ids": [mine["id"]]}, headers=owner.headers
    )
    error(r, 409, "conflict")


async def test_two_sessions_racing_for_one_poll(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    replies = await asyncio.gather(
        *(
            client.post(
                "/sessions",
                json={"title": f"t{i}", "poll_ids": [poll["id"]]},
                headers=owner.headers,
            )
            for i in range(6)
        )
    )
    assert sorted(r.status_code for r in replies) == [201] + [409] * 5
    assert await Session.filter(owner_id=owner.user_id).count() == 1


async def test_list_pages_and_searches(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    for title in ("Morning keynote", "Lunch", "Evening KEYNOTE"):
        await new_session(client, owner, [], title=title)
    await new_session(client, other, [], title="keynote elsewhere")
    page = (await client.get("/sessions?limit=2", headers=owner.headers)).json()
    assert page["total"] == 3
    assert [s["title"] for s in page["items"]] == ["Evening KEYNOTE", "Lunch"]
    rest = (await client.get("/sessions?limit=2&offset=2", headers=owner.headers)).json()
    assert [s["title"] for s in rest["items"]] == ["Morning keynote"]
    found = (await client.get("/sessions?q=keyNote", headers=owner.headers)).json()
    assert found["total"] == 2
    assert {s["title"] for s in found["items"]} == {"Morning keynote", "Evening KEYNOTE"}
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=", "q=" + "x" * 101):
        error(await client.get(f"/sessions?{bad}", headers=owner.headers), 422, "validation_failed")
    guest = await make_person(guest=True)
    error(await client.get("/sessions", headers=guest.headers), 403, "forbidden")


async def test_get_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    someone = await make_person()
    for path in (
        "/sessions/123",
        "/sessions/abc",
        "/sessions/0",
        f"/sessions/{2**60}",
        "/sessions/code/ABCDEF",
        "/sessions/code/toolong1",
        "/sessions/code/I0I0I0",
    ):
        error(await client.get(path, headers=someone.headers), 404, "not_found")
    error(await client.get("/sessions/123"), 401, "unauthorized")


async def test_present_follows_next_previous_and_waiting(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    voter = await make_person(guest=True)
    a = await create(client, owner)
    b = await create(client, owner, status="draft")
    c = await create(client, owner, results_visibility="owner_only")
    session = await new_session(client, owner, [a["id"], b["id"], c["id"]])

    async def step(**body: Any) -> dict[str, Any]:
        r = await present(client, owner, session, **body)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert (await step(step="next"))["current_poll_id"] == a["id"]  # from the start
    await vote(client, voter, a, 1)
    view = (await client.get(f"/sessions/{session['id']}", headers=voter.headers)).json()
    assert view["poll"]["id"] == a["id"] and view["my_vote"] == [a["options"][1]["id"]]
    assert view["results"]["total"] == 1
    moved = await step(step="next")
    assert moved["current_poll_id"] == b["id"] and moved["version"] == 2
    opened = (await client.get(f"/polls/{b['id']}", headers=owner.headers)).json()["poll"]
    assert opened["status"] == "open"  # presenting a draft opens it
    assert (await step(poll_id=None))["current_poll_id"] is None
    view = (await client.get(f"/sessions/{session['id']}", headers=voter.headers)).json()
    assert view["poll"] is None and view["session"]["version"] == 3
    assert (await step(step="next"))["current_poll_id"] == c["id"]  # after the last shown
    view = (await client.get(f"/sessions/code/{session['code']}", headers=voter.headers)).json()
    assert view["poll"]["id"] == c["id"] and view["results"] is None  # owner_only
    error(await present(client, owner, session, step="next"), 409, "conflict")
    assert (await step(poll_id=None))["current_poll_id"] is None
    assert (await step(step="previous"))["current_poll_id"] == c["id"]
    assert (await step(step="previous"))["current_poll_id"] == b["id"]
    assert (await step(step="previous"))["current_poll_id"] == a["id"]
    error(await present(client, owner, session, step="previous"), 409, "conflict")
    assert (await step(poll_id=c["id"]))["version"] == 9


async def test_present_refusals(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner)
    outside = await create(client, owner)
    session = await new_session(client, owner, [poll["id"]])
    empty = await new_session(client, owner, [])
    error(await present(client, owner, empty, step="next"), 409, "conflict")
    error(await present(client, owner, empty, step="previous"), 409, "conflict")
    for body in (
        {},
        {"poll_id": poll["id"], "step": "next"},
        {"step": "sideways"},
        {"step": None},
        {"poll_id": "1"},
        {"x": 1},
    ):
        error(await present(client, owner, session, **body), 422, "validation_failed")
    error(await present(client, owner, session, poll_id=outside["id"]), 409, "conflict")
    error(await present(client, other, session, step="next"), 403, "forbidden")
    guest = await make_person(guest=True)
    error(await present(client, guest, session, step="next"), 403, "forbidden")
    r = await client.post("/sessions/99/present", json={"step": "next"}, headers=owner.headers)
    error(r, 404, "not_found")
    r = await client.post(f"/sessions/{session['id']}/present", content=b"x", headers=owner.headers)
    error(r, 400, "bad_json")


async def test_patch_reorders_adds_removes(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    a, b, c = [await create(client, owner) for _ in range(3)]
    session = await new_session(client, owner, [a["id"], b["id"]])
    await present(client, owner, session, poll_id=a["id"])

    async def patch(who: Person, body: Any) -> httpx.Response:
        return await client.patch(f"/sessions/{session['id']}", json=body, headers=who.headers)

    r = await patch(owner, {"title": "Renamed", "poll_ids": [c["id"], a["id"]]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title"] == "Renamed" and body["poll_ids"] == [c["id"], a["id"]]
    assert body["current_poll_id"] == a["id"] and body["version"] == 2
    assert (await Poll.get(id=b["id"])).session_id is None
    assert (await Poll.get(id=a["id"])).session_position == 1
    r = await patch(owner, {"poll_ids": [c["id"]]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current_poll_id"] is None  # the current poll removed: waiting
    for bad in (
        {"title": None},
        {"poll_ids": None},
        {"title": ""},
        {"poll_ids": [b["id"], b["id"]]},
        {"nope": 1},
    ):
        error(await patch(owner, bad), 422, "validation_failed")
    error(await patch(other, {"title": "mine"}), 403, "forbidden")
    taken = await new_session(client, owner, [b["id"]])
    error(await patch(owner, {"poll_ids": [b["id"]]}), 409, "conflict")
    assert (await Poll.get(id=b["id"])).session_id == taken["id"]
    r = await client.patch("/sessions/7", json={"title": "x"}, headers=owner.headers)
    error(r, 404, "not_found")


async def test_delete_leaves_the_polls_standalone(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner)
    session = await new_session(client, owner, [poll["id"]])
    error(
        await client.delete(f"/sessions/{session['id']}", headers=other.headers), 403, "forbidden"
    )
    r = await client.delete(f"/sessions/{session['id']}", headers=owner.headers)
    assert r.status_code == 204
    error(await client.get(f"/sessions/{session['id']}", headers=owner.headers), 404, "not_found")
    error(
        await client.delete(f"/sessions/{session['id']}", headers=owner.headers), 404, "not_found"
    )
    again = (await client.get(f"/polls/{poll['id']}", headers=owner.headers)).json()["poll"]
    assert again["session_id"] is None and again["session_position"] is None
    await new_session(client, owner, [poll["id"]])  # free to join another


async def test_a_deleted_current_poll_is_no_current_poll(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    session = await new_session(client, owner, [poll["id"]])
    await present(client, owner, session, poll_id=poll["id"])
    assert (await client.delete(f"/polls/{poll['id']}", headers=owner.headers)).status_code == 204
    view = (await client.get(f"/sessions/{session['id']}", headers=owner.headers)).json()
    assert view["session"]["poll_ids"] == [] and view["session"]["current_poll_id"] is None
    assert view["poll"] is None
