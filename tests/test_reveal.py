"""Reveal and countdown, the visibility rule and the projector view, over real HTTP and
real sockets (one process; tests/test_reveal_multiprocess.py spans two)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.polls.schemas import counts_visible
from models import Poll
from tests.conftest import LiveServer, Person
from tests.test_polls import create, vote
from tests.wsclient import WsClient

VISIBILITIES = ("live", "after_close", "owner_only", "after_vote")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The REST matrix creates a poll per case: the creation bucket is opened wide."""
    return settings.model_copy(update={"poll_create_burst": 100_000})


def expected(
    visibility: str, *, hidden: bool, closed: bool, owner: bool, voted: bool, projector: bool
) -> bool:
    """The spec's rule, written out case by case (not by calling the code under test)."""
    if owner and not projector:
        return True
    if hidden:
        return False
    return {
        "live": True,
        "after_close": closed,
        "owner_only": False,
        "after_vote": projector or voted or closed,
    }[visibility]


def test_counts_visible_is_the_spec_rule() -> None:
    both = (False, True)
    for visibility, hidden, closed, owner, voted, projector in itertools.product(
        VISIBILITIES, both, both, both, both, both
    ):
        got = counts_visible(
            owner_id=7,
            visibility=visibility,
            status="closed" if closed else "open",
            user_id=7 if owner else 8,
            hidden=hidden,
            voted=voted,
            projector=projector,
        )
        case = (visibility, hidden, closed, owner, voted, projector)
        assert got is expected(
            visibility, hidden=hidden, closed=closed, owner=owner, voted=voted, projector=projector
        ), case


async def _sees_rest(client: httpx.AsyncClient, who: Person, poll: dict[str, Any]) -> bool:
    """Both REST reads agree: results 200 with counts, or 403 results_hidden and null."""
    r = await client.get(f"/polls/{poll['id']}/results", headers=who.headers)
    view = (await client.get(f"/polls/{poll['id']}", headers=who.headers)).json()
    if r.status_code == 200:
        assert view["results"]["counts"] == r.json()["counts"]
        assert sum(r.json()["counts"].values()) == r.json()["total"] > 0
        return True
    assert (r.status_code, r.json()["error"]["code"]) == (403, "results_hidden")
    assert view["results"] is None
    return False


@pytest.mark.parametrize("visibility", VISIBILITIES)
async def test_rest_follows_the_rule(
    client: httpx.AsyncClient, make_person: Any, visibility: str
) -> None:
    owner, voter, bystander = await make_person(), await make_person(), await make_person()
    for hidden, closed in itertools.product((False, True), (False, True)):
        poll = await create(client, owner, results_visibility=visibility, results_hidden=hidden)
        assert poll["results_hidden"] is hidden and poll["results_visibility"] == visibility
        assert (await vote(client, voter, poll, 0)).status_code == 200
        if closed:
            assert (
                await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
            ).is_success
        for who, is_owner, voted in (
            (owner, True, False),
            (voter, False, True),
            (bystander, False, False),
        ):
            want = expected(
                visibility,
                hidden=hidden,
                closed=closed,
                owner=is_owner,
                voted=voted,
                projector=False,
            )
            assert await _sees_rest(client, who, poll) is want, (hidden, closed, is_owner, voted)


async def test_hide_and_reveal_over_rest(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other, guest = await make_person(), await make_person(), await make_person(guest=True)
    poll = await create(client, owner)
    pid = poll["id"]
    assert (await vote(client, other, poll, 1)).status_code == 200
    assert await _sees_rest(client, other, poll)
    r = await client.post(f"/polls/{pid}/hide", headers=owner.headers)
    assert r.status_code == 200 and r.json()["results_hidden"] is True
    assert r.json()["status"] == "open"
    assert not await _sees_rest(client, other, poll)
    assert not await _sees_rest(client, guest, poll)
    assert await _sees_rest(client, owner, poll)
    by_code = (await client.get(f"/polls/code/{poll['code']}", headers=other.headers)).json()
    assert by_code["results"] is None and by_code["my_vote"] == [poll["options"][1]["id"]]
    again = await client.post(f"/polls/{pid}/hide", headers=owner.headers)  # idempotent
    assert again.status_code == 200 and again.json()["results_hidden"] is True
    for path in (f"/polls/{pid}/hide", f"/polls/{pid}/reveal"):
        for who in (other, guest):
            r = await client.post(path, headers=who.headers)
            assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
        r = await client.post(path)
        assert r.status_code == 401
        r = await client.post(path.replace(str(pid), "4503599627370495"), headers=owner.headers)
        assert r.status_code == 404
    # Closing keeps it hidden, final results included.
    closed = (await client.post(f"/polls/{pid}/close", headers=owner.headers)).json()
    assert closed["poll"]["results_hidden"] is True and closed["results"]["total"] == 1
    assert not await _sees_rest(client, other, poll)
    r = await client.post(f"/polls/{pid}/reveal", headers=owner.headers)
    assert r.status_code == 200 and r.json()["results_hidden"] is False
    assert await _sees_rest(client, other, poll)
    assert (await Poll.get(id=pid)).results_hidden is False


async def test_hide_a_draft_and_patch_it(client: httpx.AsyncClient, make_person: Any) -> None:
    owner, other = await make_person(), await make_person()
    draft = await create(client, owner, status="draft")
    r = await client.post(f"/polls/{draft['id']}/hide", headers=owner.headers)
    assert r.status_code == 200 and r.json()["results_hidden"] is True
    # Someone else's draft does not exist, for these routes too.
    for path in ("hide", "reveal", "countdown"):
        r = await client.post(
            f"/polls/{draft['id']}/{path}", json={"seconds": 5}, headers=other.headers
        )
        assert r.status_code == 404, path
    r = await client.patch(
        f"/polls/{draft['id']}", json={"results_hidden": False}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["results_hidden"] is False
    opened = (await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)).json()
    assert opened["results_hidden"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"results_hidden": "yes"},
        {"results_hidden": 1},
        {"results_hidden": None},
        {"results_visibility": "after_votes"},
    ],
)
async def test_create_refuses_bad_fields(
    client: httpx.AsyncClient, make_person: Any, body: dict[str, Any]
) -> None:
    owner = await make_person()
    r = await client.post(
        "/polls", json={"question": "Q?", "options": ["a", "b"], **body}, headers=owner.headers
    )
    if body.get("results_hidden", "x") is None:  # an explicit null is the default
        assert r.status_code == 201 and r.json()["results_hidden"] is False
        return
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == next(iter(body))


# --- WebSocket ------------------------------------------------------------------------------


async def seen_or_next(ws: WsClient, pred: Any) -> dict[str, Any]:
    """The first message matching `pred` this client received, even one that arrived
    before the reply a request waited for."""
    for message in ws.seen:
        if pred(message):
            return message
    return await ws.recv_until(pred)


def carries_counts(message: dict[str, Any]) -> bool:
    if message["type"] == "RESULTS":
        return message["counts"] is not None
    if message["type"] in ("JOINED", "POLL_UPDATED"):
        return message["results"] is not None
    return False


async def test_ws_hide_and_reveal_live(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, a, b = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    pid = poll["id"]
    wa = await WsClient.joined(live_server.ws_url, a.token, pid)
    wo = await WsClient.joined(live_server.ws_url, owner.token, pid)
    wp = await WsClient.open(live_server.ws_url, owner.token)
    joined = await wp.request(type="JOIN_POLL", poll_id=pid, view="projector")
    assert joined["results"] is not None and isinstance(joined["server_now"], int)

    await client.post(f"/polls/{pid}/hide", headers=owner.headers)
    for ws in (wa, wp):
        update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert update["poll"]["results_hidden"] is True and update["results"] is None
        assert abs(update["server_now"] - datetime.now(UTC).timestamp() * 1000) < 60_000
    update = await wo.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert update["poll"]["results_hidden"] is True
    assert update["results"]["total"] == 0  # the owner keeps the counts

    wb = await WsClient.open(live_server.ws_url, b.token)
    ack = await wb.request(type="VOTE", poll_id=pid, option_ids=[poll["options"][0]["id"]])
    assert ack["status"] == "accepted"
    for ws, view in ((wa, "participant"), (wp, "projector")):
        results = await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["seq"] == ack["seq"])
        assert results["counts"] is None and results["total"] == 1
        rejoined = await ws.request(type="JOIN_POLL", poll_id=pid, view=view)
        assert rejoined["results"] is None
    owners = await wo.recv_until(lambda m: m["type"] == "RESULTS" and m["seq"] == ack["seq"])
    assert owners["counts"][str(poll["options"][0]["id"])] == 1

    await client.post(f"/polls/{pid}/reveal", headers=owner.headers)
    for ws in (wa, wp):
        update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert update["poll"]["results_hidden"] is False
        assert update["results"]["total"] == 1 and update["results"]["seq"] == ack["seq"]
        results = await ws.recv_until(lambda m: m["type"] == "RESULTS")
        assert results["counts"][str(poll["options"][0]["id"])] == 1
    for ws in (wa, wo, wp, wb):
        await ws.close()


async def test_ws_after_vote(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, a, b, c = (
        await make_person(),
        await make_person(),
        await make_person(),
        await make_person(),
    )
    poll = await create(client, owner, results_visibility="after_vote", allow_change=True)
    pid, opts = poll["id"], [o["id"] for o in poll["options"]]
    a1 = await WsClient.open(live_server.ws_url, a.token)
    assert (await a1.request(type="JOIN_POLL", poll_id=pid))["results"] is None
    a2 = await WsClient.joined(live_server.ws_url, a.token, pid)  # a's other socket
    wb = await WsClient.joined(live_server.ws_url, b.token, pid)
    wc = await WsClient.joined(live_server.ws_url, c.token, pid)
    proj = await WsClient.open(live_server.ws_url, c.token)
    joined = await proj.request(type="JOIN_POLL", poll_id=pid, view="projector")
    assert joined["results"] is not None and joined["results"]["total"] == 0

    ack = await a1.request(type="VOTE", poll_id=pid, option_ids=[opts[0]])
    assert ack["status"] == "accepted"
    for ws in (a1, a2, proj):
        r = await seen_or_next(ws, lambda m: m["type"] == "RESULTS" and m["counts"] is not None)
        assert r["counts"][str(opts[0])] == 1 and r["seq"] == ack["seq"]
    for ws in (wb, wc):  # not voted: still hidden
        r = await seen_or_next(ws, lambda m: m["type"] == "RESULTS" and m["seq"] == ack["seq"])
        assert r["counts"] is None

    # b votes over REST while its socket is joined: the socket sees the counts.
    assert (await vote(client, b, poll, 1)).json()["status"] == "accepted"
    r = await wb.recv_until(lambda m: m["type"] == "RESULTS" and m["counts"] is not None)
    assert r["total"] == 2 and r["counts"][str(opts[1])] == 1
    # ... and JOINED says so from then on; a changed ballot keeps it so.
    assert (await wb.request(type="JOIN_POLL", poll_id=pid))["results"]["total"] == 2
    assert (await vote(client, b, poll, 2)).json()["status"] == "changed"
    r = await wb.recv_until(lambda m: m["type"] == "RESULTS" and m["counts"] is not None)
    assert r["counts"][str(opts[2])] == 1
    # c never voted: nothing it received carried counts, until the poll closes.
    assert not any(carries_counts(m) for m in wc.seen)
    assert not await _sees_rest(client, c, poll)
    await client.post(f"/polls/{pid}/close", headers=owner.headers)
    closed = await wc.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert closed["results"]["total"] == 2
    for ws in (a1, a2, wb, wc, proj):
        await ws.close()


async def test_ws_after_vote_on_join_with_a_ballot(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, a = await make_person(), await make_person()
    poll = await create(client, owner, results_visibility="after_vote")
    assert (await vote(client, a, poll, 0)).status_code == 200
    ws = await WsClient.open(live_server.ws_url, a.token)
    joined = await ws.request(type="JOIN_POLL", code=poll["code"])
    assert joined["my_vote"] == [poll["options"][0]["id"]] and joined["results"]["total"] == 1
    await ws.close()


async def test_projector_view(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, a = await make_person(), await make_person()
    poll = await create(client, owner, results_visibility="owner_only")
    pid = poll["id"]
    proj = await WsClient.open(live_server.ws_url, owner.token)
    joined = await proj.request(type="JOIN_POLL", poll_id=pid, view="projector")
    assert joined["results"] is None  # the room may not see owner_only counts
    assert joined["viewers"] == 0  # and a projector is no viewer
    wa = await WsClient.joined(live_server.ws_url, a.token, pid)
    assert wa.seen[-1]["viewers"] == 1
    presence = await proj.recv_until(lambda m: m["type"] == "PRESENCE")
    assert presence["viewers"] == 1
    ack = await wa.request(type="VOTE", poll_id=pid, option_ids=[poll["options"][0]["id"]])
    r = await proj.recv_until(lambda m: m["type"] == "RESULTS" and m["seq"] == ack["seq"])
    assert r["counts"] is None
    # The same socket as a participant: the owner sees counts, and counts as a viewer.
    again = await proj.request(type="JOIN_POLL", poll_id=pid, view="participant")
    assert again["results"]["total"] == 1 and again["viewers"] == 2
    # Back to projector: no longer a viewer.
    back = await proj.request(type="JOIN_POLL", poll_id=pid, view="projector")
    assert back["results"] is None
    # (Not by PRESENCE frames: 1 → 2 → 1 inside one presence window is coalesced away.)
    for _ in range(100):
        if (await wa.request(type="JOIN_POLL", poll_id=pid))["viewers"] == 1:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("a socket turned projector is still counted as a viewer")
    left = await proj.request(type="LEAVE_POLL", poll_id=pid)
    assert left["type"] == "LEFT"
    # A projector leaving moves no viewer count: a's own JOIN still says 1.
    assert (await wa.request(type="JOIN_POLL", poll_id=pid))["viewers"] == 1
    for ws in (proj, wa):
        await ws.close()


@pytest.mark.parametrize("view", ["audience", "", None, 1, True, ["projector"], "PROJECTOR"])
async def test_join_refuses_a_bad_view(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, view: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    ws = await WsClient.open(live_server.ws_url, owner.token)
    reply = await ws.request(type="JOIN_POLL", poll_id=poll["id"], view=view)
    assert reply["type"] == "ERROR" and reply["code"] == "bad_message"
    assert (await ws.request(type="PING"))["type"] == "PONG"  # still open
    await ws.close()


# --- countdown --------------------------------------------------------------------------


async def _until_past(moment: datetime) -> None:
    """Sleep past `moment` (by this machine's clock, which the server shares)."""
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.1)


async def test_countdown_closes_voting_at_the_server_time(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, worker: Any
) -> None:
    owner, early, late = await make_person(), await make_person(), await make_person()
    poll = await create(client, owner)
    pid = poll["id"]
    ws = await WsClient.joined(live_server.ws_url, early.token, pid)
    before = datetime.now(UTC)
    r = await client.post(f"/polls/{pid}/countdown", json={"seconds": 3}, headers=owner.headers)
    assert r.status_code == 200, r.text
    closes_at = datetime.fromisoformat(r.json()["closes_at"])
    assert before + timedelta(seconds=2) < closes_at < datetime.now(UTC) + timedelta(seconds=4)
    assert r.json()["status"] == "open"
    update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert update["poll"]["closes_at"] == r.json()["closes_at"]
    assert update["server_now"] < int(closes_at.timestamp() * 1000)
    assert (await ws.request(type="VOTE", poll_id=pid, option_ids=[poll["options"][0]["id"]]))[
        "status"
    ] == "accepted"
    await _until_past(closes_at)
    # vote.lua refuses from that instant, before any close job ran.
    refused = await vote(client, late, poll, 1)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "poll_not_open")
    err = await ws.request(type="VOTE", poll_id=pid, option_ids=[poll["options"][1]["id"]])
    assert err["code"] == "poll_not_open"
    view = (await client.get(f"/polls/{pid}", headers=late.headers)).json()
    assert view["poll"]["status"] == "closed"  # by closes_at, already
    w = worker()  # burst: the close job, then the finalize job it asks for
    await asyncio.wait_for(w.async_run(), 60)
    row = await Poll.get(id=pid)
    assert row.status == "closed" and row.finalized_at is not None
    assert row.closed_at is not None and row.closed_at >= closes_at - timedelta(milliseconds=5)
    closed = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert closed["poll"]["status"] == "closed" and closed["results"]["total"] == 1
    r = await client.post(f"/polls/{pid}/countdown", json={"seconds": 3}, headers=owner.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
    await ws.close()


async def test_a_later_countdown_outlives_the_earlier_close_job(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    from workers.jobs import close_poll_at

    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner)
    pid = poll["id"]
    ctx = live_server.app.ctx
    job_ctx = {"redis_handle": ctx.redis, "redis": ctx.arq}
    first = await client.post(f"/polls/{pid}/countdown", json={"seconds": 3}, headers=owner.headers)
    later = await client.post(
        f"/polls/{pid}/countdown", json={"seconds": 600.0}, headers=owner.headers
    )
    assert later.status_code == 200
    assert later.json()["closes_at"] > first.json()["closes_at"]
    await _until_past(datetime.fromisoformat(first.json()["closes_at"]))
    # The first countdown's job, when it comes, leaves the poll open...
    assert await close_poll_at(job_ctx, pid) == "not_due"
    assert (await vote(client, voter, poll, 0)).json()["status"] == "accepted"
    # ... and the reconciler's rule (closes_at passed) still closes it: the job of the
    # instant the poll has now closes it.
    await Poll.filter(id=pid).update(closes_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await close_poll_at(job_ctx, pid) == "closed"
    assert (await Poll.get(id=pid)).status == "closed"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seconds": 2},
        {"seconds": 86401},
        {"seconds": "5"},
        {"seconds": True},
        {"seconds": 3.5},
        {"seconds": None},
        {"seconds": 5, "extra": 1},
    ],
)
async def test_countdown_refuses_bad_bodies(
    client: httpx.AsyncClient, make_person: Any, body: dict[str, Any]
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    r = await client.post(f"/polls/{poll['id']}/countdown", json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_failed"
    assert (await Poll.get(id=poll["id"])).closes_at is None


async def test_countdown_needs_the_owner_and_an_open_poll(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    owner, other = await make_person(), await make_person()
    poll = await create(client, owner)
    r = await client.post(
        f"/polls/{poll['id']}/countdown", json={"seconds": 5}, headers=other.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    draft = await create(client, owner, status="draft")
    r = await client.post(
        f"/polls/{draft['id']}/countdown", json={"seconds": 5}, headers=owner.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    r = await client.post(
        f"/polls/{poll['id']}/countdown", json={"seconds": 5}, headers=owner.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
    r = await client.post(
        "/polls/4503599627370495/countdown", json={"seconds": 5}, headers=owner.headers
    )
    assert r.status_code == 404
    r = await client.post(f"/polls/{poll['id']}/countdown", content=b"nope", headers=owner.headers)
    assert r.status_code == 400
