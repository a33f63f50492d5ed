"""The WebSocket session room over real sockets (one process; the multi-process
follow test is tests/test_ws_sessions_multiprocess.py): join, follow the host's
moves, the waiting screen, votes and my_vote, presence per session, reconnects,
hidden counts, leaving, deletion and every refusal."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tortoise.expressions import F

from app import keys
from app.config import Settings
from models import Session
from tests.conftest import LiveServer, Person
from tests.test_poll_sessions import new_session, present
from tests.test_polls import create, vote
from tests.wsclient import WsClient


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Hosts create many polls; a socket may be in 3 rooms (the limit's test); the hub's
    heartbeat (a third of the presence TTL) runs every second."""
    return settings.model_copy(
        update={"poll_create_burst": 100_000, "ws_max_rooms": 3, "presence_ttl_s": 3}
    )


def is_state(m: dict[str, Any]) -> bool:
    return bool(m["type"] == "SESSION_STATE")


async def talk(
    client: httpx.AsyncClient, host: Person, n: int = 3, **poll: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    polls = [await create(client, host, status="draft", **poll) for _ in range(n)]
    return await new_session(client, host, [p["id"] for p in polls]), polls


async def test_members_follow_the_host_from_poll_to_poll(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan = await make_person(), await make_person(guest=True)
    session, polls = await talk(client, host)
    ws = await WsClient.open(live_server.ws_url, fan.token)
    joined = await ws.request(type="JOIN_SESSION", code=session["code"].lower())
    assert joined["type"] == "SESSION_STATE"
    assert joined["session"]["id"] == session["id"] and joined["poll"] is None
    assert joined["results"] is None and joined["my_vote"] is None
    assert joined["viewers"] == 1 and joined["server_now"] > 0

    assert (await present(client, host, session, step="next")).status_code == 200
    first = await ws.recv_until(is_state)
    assert first["ref"] is None and first["poll"]["id"] == polls[0]["id"]
    assert first["poll"]["status"] == "open"  # presenting opened the draft
    assert first["session"]["current_poll_id"] == polls[0]["id"]
    assert first["session"]["version"] == joined["session"]["version"] + 1
    assert first["results"]["total"] == 0 and first["my_vote"] is None

    # In the poll's room through the session: its tallies reach the member.
    other = await make_person()
    assert (await vote(client, other, first["poll"], 1)).status_code == 200
    tally = await ws.recv_until(lambda m: m["type"] == "RESULTS")
    assert tally["poll_id"] == polls[0]["id"] and tally["total"] == 1
    ack = await ws.request(
        type="VOTE", poll_id=polls[0]["id"], option_ids=[first["poll"]["options"][0]["id"]]
    )
    assert ack["type"] == "VOTE_ACK" and ack["status"] == "accepted"

    await present(client, host, session, step="next")
    second = await ws.recv_until(is_state)
    assert second["poll"]["id"] == polls[1]["id"] and second["my_vote"] is None
    # Out of the first poll's room: its votes no longer reach the member.
    late = await make_person()
    await vote(client, late, first["poll"], 0)
    await present(client, host, session, step="previous")
    back = await ws.recv_until(is_state)
    assert back["poll"]["id"] == polls[0]["id"]
    assert back["my_vote"] == [first["poll"]["options"][0]["id"]]
    assert back["results"]["total"] == 3
    between = ws.seen[ws.seen.index(second) : ws.seen.index(back)]
    assert not [m for m in between if m["type"] == "RESULTS" and m["poll_id"] == polls[0]["id"]]

    await present(client, host, session, poll_id=None)
    waiting = await ws.recv_until(is_state)
    assert waiting["poll"] is None and waiting["session"]["current_poll_id"] is None
    versions = [m["session"]["version"] for m in ws.seen if is_state(m)]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    await ws.close()


async def test_a_reconnect_gets_the_current_poll_and_own_vote(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan = await make_person(), await make_person(guest=True)
    session, polls = await talk(client, host, allow_change=True)
    await present(client, host, session, poll_id=polls[1]["id"])
    ws = await WsClient.open(live_server.ws_url, fan.token)
    state = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    option = state["poll"]["options"][2]["id"]
    await ws.request(type="VOTE", poll_id=polls[1]["id"], option_ids=[option])
    await ws.close()

    again = await WsClient.open(live_server.ws_url, fan.token)
    state = await again.request(type="JOIN_SESSION", code=session["code"])
    assert state["poll"]["id"] == polls[1]["id"] and state["my_vote"] == [option]
    assert state["results"]["counts"][str(option)] == 1
    assert state["viewers"] == 1
    await again.close()


async def test_session_presence_counts_members_once_and_not_in_the_poll(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, a, b = await make_person(), await make_person(), await make_person()
    session, polls = await talk(client, host, n=1)
    await present(client, host, session, step="next")
    a1 = await WsClient.open(live_server.ws_url, a.token)
    a2 = await WsClient.open(live_server.ws_url, a.token)
    bws = await WsClient.open(live_server.ws_url, b.token)
    projector = await WsClient.open(live_server.ws_url, host.token)
    assert (await a1.request(type="JOIN_SESSION", session_id=session["id"]))["viewers"] == 1
    assert (await a2.request(type="JOIN_SESSION", session_id=session["id"]))["viewers"] == 1
    assert (await bws.request(type="JOIN_SESSION", session_id=session["id"]))["viewers"] == 2
    shown = await projector.request(type="JOIN_SESSION", session_id=session["id"], view="projector")
    assert shown["viewers"] == 2
    seen = await a1.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 2)
    assert seen == {"type": "PRESENCE", "session_id": session["id"], "viewers": 2}
    # Session members are not the poll's viewers: a direct joiner counts alone.
    watcher = await WsClient.open(live_server.ws_url, (await make_person()).token)
    joined = await watcher.request(type="JOIN_POLL", poll_id=polls[0]["id"])
    assert joined["viewers"] == 1
    left = await bws.request(type="LEAVE_SESSION", session_id=session["id"])
    assert left == {"type": "LEFT_SESSION", "ref": left["ref"], "session_id": session["id"]}
    await a1.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 1)
    assert not [m for m in a1.seen if m["type"] == "PRESENCE" and "poll_id" in m]
    for ws in (a1, a2, bws, projector, watcher):
        await ws.close()


async def test_hidden_counts_never_reach_members_and_reveal_brings_them(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan, voter = await make_person(), await make_person(), await make_person()
    session, polls = await talk(client, host, n=1, results_hidden=True)
    ws = await WsClient.open(live_server.ws_url, fan.token)
    screen = await WsClient.open(live_server.ws_url, host.token)
    await ws.request(type="JOIN_SESSION", session_id=session["id"])
    await screen.request(type="JOIN_SESSION", session_id=session["id"], view="projector")
    await present(client, host, session, step="next")
    for member in (ws, screen):
        state = await member.recv_until(is_state)
        assert state["poll"]["id"] == polls[0]["id"] and state["results"] is None
    await vote(client, voter, state["poll"], 0)
    for member in (ws, screen):
        tally = await member.recv_until(lambda m: m["type"] == "RESULTS")
        assert tally["counts"] is None and tally["total"] == 1
    await client.post(f"/polls/{polls[0]['id']}/reveal", headers=host.headers)
    for member in (ws, screen):
        await member.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        shown = await member.recv_until(lambda m: m["type"] == "RESULTS" and m["counts"])
        assert shown["counts"][str(state["poll"]["options"][0]["id"])] == 1
    for member in (ws, screen):
        await member.close()


async def test_deleting_the_session_tells_members_and_frees_them(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan = await make_person(), await make_person()
    session, polls = await talk(client, host, n=1)
    await present(client, host, session, step="next")
    ws = await WsClient.open(live_server.ws_url, fan.token)
    await ws.request(type="JOIN_SESSION", session_id=session["id"])
    r = await client.delete(f"/sessions/{session['id']}", headers=host.headers)
    assert r.status_code == 204
    left = await ws.recv_until(lambda m: m["type"] == "LEFT_SESSION")
    assert left == {"type": "LEFT_SESSION", "ref": None, "session_id": session["id"]}
    hub = live_server.app.ctx.hub
    await asyncio.sleep(0.05)
    assert session["id"] not in hub.sessions.rooms and polls[0]["id"] not in hub.rooms
    gone = await ws.request(type="LEAVE_SESSION", session_id=session["id"])
    assert gone["code"] == "not_found"
    again = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    assert again["type"] == "ERROR" and again["code"] == "not_found"
    await ws.close()


async def test_bad_session_messages_are_refused(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any, settings: Settings
) -> None:
    host = await make_person()
    session, _ = await talk(client, host, n=1)
    ws = await WsClient.open(live_server.ws_url, host.token)
    for message, code in (
        ({"type": "JOIN_SESSION"}, "bad_message"),
        ({"type": "JOIN_SESSION", "session_id": "1"}, "bad_message"),
        ({"type": "JOIN_SESSION", "session_id": 0}, "bad_message"),
        ({"type": "JOIN_SESSION", "code": 7}, "bad_message"),
        ({"type": "JOIN_SESSION", "code": "ZZZZZZ"}, "not_found"),
        ({"type": "JOIN_SESSION", "code": "!!"}, "not_found"),
        ({"type": "JOIN_SESSION", "session_id": 2**31}, "not_found"),
        ({"type": "JOIN_SESSION", "session_id": session["id"], "view": "tv"}, "bad_message"),
        ({"type": "LEAVE_SESSION"}, "bad_message"),
        ({"type": "LEAVE_SESSION", "session_id": session["id"]}, "not_found"),
    ):
        reply = await ws.request(**message)
        assert reply["type"] == "ERROR" and reply["code"] == code, (message, reply)
    # Walking unknown ids leaves no session room, and no subscription, behind.
    hub = live_server.app.ctx.hub
    assert hub.sessions.rooms == {}
    await asyncio.sleep(0.1)
    assert not [c for c in hub.pubsub.channels if keys.is_session_channel(str(c))]
    ok = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    assert ok["type"] == "SESSION_STATE"
    await ws.close()


async def test_a_session_is_one_room_against_the_limit(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host = await make_person()
    session, polls = await talk(client, host, n=1)
    await present(client, host, session, step="next")
    extra = [await create(client, host) for _ in range(2)]
    ws = await WsClient.open(live_server.ws_url, host.token)
    state = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    assert state["poll"]["id"] == polls[0]["id"]
    for poll in extra:
        assert (await ws.request(type="JOIN_POLL", poll_id=poll["id"]))["type"] == "JOINED"
    one_more = await create(client, host)
    refused = await ws.request(type="JOIN_POLL", poll_id=one_more["id"])
    assert refused["code"] == "too_many_rooms"
    # Rejoining the session is fine at the limit.
    assert (await ws.request(type="JOIN_SESSION", session_id=session["id"]))[
        "type"
    ] == "SESSION_STATE"
    await ws.close()


async def test_deleting_the_poll_shown_brings_the_waiting_screen(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan = await make_person(), await make_person()
    session, polls = await talk(client, host, n=2)
    await present(client, host, session, step="next")
    ws = await WsClient.open(live_server.ws_url, fan.token)
    before = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    assert before["poll"]["id"] == polls[0]["id"]
    assert (
        await client.delete(f"/polls/{polls[0]['id']}", headers=host.headers)
    ).status_code == 204
    after = await ws.recv_until(is_state)
    assert after["poll"] is None and after["session"]["current_poll_id"] is None
    assert after["session"]["poll_ids"] == [polls[1]["id"]]
    assert after["session"]["version"] > before["session"]["version"]
    # Next goes on from the waiting screen to the poll that is left.
    await present(client, host, session, step="next")
    assert (await ws.recv_until(is_state))["poll"]["id"] == polls[1]["id"]
    await ws.close()


async def test_a_change_whose_publication_was_lost_is_caught_up(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    """The database moved on, nothing was published (Redis failed the PUBLISH): the
    rooms compare versions on the hub's heartbeat and follow within a second or so."""
    host, fan = await make_person(), await make_person()
    session, polls = await talk(client, host, n=2)
    await present(client, host, session, step="next")
    ws = await WsClient.open(live_server.ws_url, fan.token)
    before = await ws.request(type="JOIN_SESSION", session_id=session["id"])
    assert before["poll"]["id"] == polls[0]["id"]
    await client.post(f"/polls/{polls[1]['id']}/open", headers=host.headers)
    await Session.filter(id=session["id"]).update(
        version=F("version") + 1, current_poll_id=polls[1]["id"]
    )
    after = await ws.recv_until(is_state, within=5)
    assert after["poll"]["id"] == polls[1]["id"]
    assert after["session"]["version"] == before["session"]["version"] + 1
    await ws.close()


async def test_a_polls_room_learns_its_place_in_a_session(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    """The room's copy of the Poll (what every later JOIN_POLL gets) follows the poll
    into a session, along it and out of it."""
    host, fan = await make_person(), await make_person(guest=True)
    a, b = await create(client, host), await create(client, host)
    ws = await WsClient.open(live_server.ws_url, fan.token)
    joined = await ws.request(type="JOIN_POLL", poll_id=a["id"])
    assert joined["poll"]["session_id"] is None

    def placed(session_id: int | None, position: int | None) -> Any:
        return lambda m: (
            m["type"] == "POLL_UPDATED"
            and m["poll"]["session_id"] == session_id
            and m["poll"]["session_position"] == position
        )

    session = await new_session(client, host, [a["id"], b["id"]])
    update = await ws.recv_until(placed(session["id"], 0))
    assert update["results"]["total"] == 0  # the counts ride along, as on a relabel
    r = await client.patch(
        f"/sessions/{session['id']}", json={"poll_ids": [b["id"], a["id"]]}, headers=host.headers
    )
    assert r.status_code == 200, r.text
    await ws.recv_until(placed(session["id"], 1))
    late = await WsClient.open(live_server.ws_url, (await make_person(guest=True)).token)
    again = await late.request(type="JOIN_POLL", poll_id=a["id"])
    assert again["poll"]["session_id"] == session["id"]
    assert again["poll"]["session_position"] == 1

    r = await client.delete(f"/sessions/{session['id']}", headers=host.headers)
    assert r.status_code == 204
    await ws.recv_until(placed(None, None))
    await late.recv_until(placed(None, None))
    await ws.close()
    await late.close()
