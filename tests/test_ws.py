"""WebSocket protocol over real sockets against an in-process server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.embedded import start_redis
from tests.conftest import LiveServer, Person
from tests.test_polls import create
from tests.wsclient import RawWs, WsClient, frame


async def test_handshake_refuses_bad_tokens_before_upgrade(live_server: LiveServer) -> None:
    for token in (None, "garbage", "a.b.c"):
        with pytest.raises(InvalidStatus) as info:
            await WsClient.open(live_server.ws_url, token)
        assert info.value.response.status_code == 401


async def test_handshake_checks_origin(live_server: LiveServer, make_person: Any) -> None:
    person = await make_person()
    for origin in ("https://evil.example", "null"):
        with pytest.raises(InvalidStatus) as info:
            await WsClient.open(live_server.ws_url, person.token, origin=origin)
        assert info.value.response.status_code == 403
    ok = await WsClient.open(live_server.ws_url, person.token, origin="http://localhost:8000")
    assert (await ok.request(type="PING"))["type"] == "PONG"
    await ok.close()


async def test_token_in_query_string(live_server: LiveServer, make_person: Any) -> None:
    person = await make_person(guest=True)
    ws = await WsClient.open(f"{live_server.ws_url}?token={person.token}")
    assert await ws.request(type="PING", ref="p1") == {"type": "PONG", "ref": "p1"}
    await ws.close()


async def test_join_vote_and_watch(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, a, b = await make_person(), await make_person(guest=True), await make_person()
    poll = await create(client, owner)
    wa = await WsClient.open(live_server.ws_url, a.token)
    wb = await WsClient.open(live_server.ws_url, b.token)
    joined = await wa.request(type="JOIN_POLL", code=poll["code"].lower())
    assert joined["type"] == "JOINED"
    assert joined["poll"]["id"] == poll["id"]
    assert joined["results"]["total"] == 0 and joined["my_vote"] is None
    assert joined["viewers"] == 1
    joined_b = await wb.request(type="JOIN_POLL", poll_id=poll["id"])
    assert joined_b["viewers"] == 2
    presence = await wa.recv_until(lambda m: m["type"] == "PRESENCE")
    assert presence == {"type": "PRESENCE", "poll_id": poll["id"], "viewers": 2}

    option = poll["options"][1]["id"]
    ack = await wb.request(type="VOTE", poll_id=poll["id"], option_ids=[option])
    assert ack == {
        "type": "VOTE_ACK",
        "ref": ack["ref"],
        "poll_id": poll["id"],
        "status": "accepted",
        "seq": 1,
    }
    for ws in (wa, wb):
        results = await ws.recv_until(lambda m: m["type"] == "RESULTS")
        assert results["seq"] == 1 and results["total"] == 1
        assert results["counts"][str(option)] == 1
    again = await wb.request(type="JOIN_POLL", poll_id=poll["id"])
    assert again["my_vote"] == [option] and again["results"]["seq"] == 1

    left = await wa.request(type="LEAVE_POLL", poll_id=poll["id"])
    assert left["type"] == "LEFT" and left["poll_id"] == poll["id"]
    err = await wa.request(type="LEAVE_POLL", poll_id=poll["id"])
    assert err["type"] == "ERROR" and err["code"] == "not_found"
    await wa.close()
    await wb.close()


async def test_vote_errors_over_the_socket(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, guest = await make_person(), await make_person(guest=True)
    poll = await create(client, owner, require_account=True)
    ws = await WsClient.open(live_server.ws_url, guest.token)
    opt = poll["options"][0]["id"]
    cases = [
        ({"poll_id": poll["id"], "option_ids": [opt]}, "account_required"),
        ({"poll_id": 10**8, "option_ids": [opt]}, "not_found"),
        ({"poll_id": poll["id"], "option_ids": []}, "bad_message"),
        ({"poll_id": "1", "option_ids": [opt]}, "bad_message"),
        ({"poll_id": poll["id"], "option_ids": ["x"]}, "bad_message"),
    ]
    for fields, code in cases:
        reply = await ws.request(type="VOTE", **fields)
        assert (reply["type"], reply["code"]) == ("ERROR", code), fields
    await ws.close()


async def test_messages_sent_together_are_answered_in_order(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    """A VOTE is acked from its Redis reply's callback, without the socket's task;
    what follows it must still wait for that ack, whatever its kind."""
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner, allow_change=True)
    a, b = (o["id"] for o in poll["options"][:2])
    ws = await RawWs.open(live_server.ws_url, voter.token)
    burst = [
        {"type": "VOTE", "ref": "1", "poll_id": poll["id"], "option_ids": [a]},
        {"type": "PING", "ref": "2"},
        {"type": "VOTE", "ref": "3", "poll_id": poll["id"], "option_ids": [b]},
        {"type": "LEAVE_POLL", "ref": "4", "poll_id": poll["id"]},
        {"type": "VOTE", "ref": "5", "poll_id": poll["id"], "option_ids": ["x"]},
        {"type": "VOTE", "ref": "6", "poll_id": poll["id"], "option_ids": [b]},
        {"type": "PING", "ref": "7"},
    ]
    for _ in range(3):
        ws.writer.write(b"".join(frame(json.dumps(m).encode()) for m in burst))
        replies = [await ws.recv() for _ in burst]
        assert [r["ref"] for r in replies] == [m["ref"] for m in burst]
        assert [r["type"] for r in replies] == [
            "VOTE_ACK", "PONG", "VOTE_ACK", "ERROR", "ERROR", "VOTE_ACK", "PONG",
        ]  # fmt: skip
        assert [r.get("code") for r in replies[3:5]] == ["not_found", "bad_message"]
        assert replies[2]["seq"] > replies[0]["seq"]
    ws.close()


async def test_socket_votes_survive_a_redis_that_lost_scripts_and_state(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, redis: redis_sync.Redis
) -> None:
    owner, a, b, c = [await make_person() for _ in range(4)]
    poll = await create(client, owner)
    opt = poll["options"][0]["id"]

    async def vote_once(who: Any) -> dict[str, Any]:
        ws = await WsClient.open(live_server.ws_url, who.token)
        try:
            return await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[opt])
        finally:
            await ws.close()

    assert (await vote_once(a))["seq"] == 1
    redis.script_flush()  # a restarted Redis: NOSCRIPT
    ack = await vote_once(b)
    assert (ack["type"], ack["status"], ack["seq"]) == ("VOTE_ACK", "accepted", 2)
    redis.flushdb()  # a Redis that lost the poll: rebuilt from the database
    ack = await vote_once(c)
    assert (ack["type"], ack["status"]) == ("VOTE_ACK", "accepted"), ack
    assert (await vote_once(c))["status"] == "unchanged"


async def test_a_hung_redis_answers_votes_with_an_error_and_logs_one_line(
    server_process: Any, make_person: Any, tmp_path: Path
) -> None:
    """A Redis that stops answering (SIGSTOP) without closing its connections: every
    vote gets an ERROR instead of no answer, the log gets one line instead of a
    traceback per vote, and the socket votes again once Redis is back."""
    redis_server, url = start_redis(tmp_path / "redis")
    try:
        server = server_process(REDIS_URL=url, REDIS_REPLY_TIMEOUT_S="0.5", PYTHONUNBUFFERED="1")
        owner, voter = await make_person(), await make_person()
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            polls = [await create(http, owner) for _ in range(4)]
        ws = await WsClient.open(server.ws_url, voter.token)

        async def vote(poll: dict[str, Any]) -> dict[str, Any]:
            option = poll["options"][0]["id"]
            return await ws.request(15, type="VOTE", poll_id=poll["id"], option_ids=[option])

        assert (await vote(polls[0]))["status"] == "accepted"
        os.kill(redis_server.pid, signal.SIGSTOP)
        try:
            for poll in polls[1:]:
                reply = await vote(poll)
                assert (reply["type"], reply["code"]) == ("ERROR", "internal_error"), reply
        finally:
            os.kill(redis_server.pid, signal.SIGCONT)
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log
        assert log.count("Redis failed") == 1
        # Redis may still run the votes it had read before it stopped: either way, the
        # same ballot now gets an ack.
        assert (await vote(polls[1]))["status"] in ("accepted", "unchanged")
        await ws.close()
    finally:
        redis_server.shutdown()


async def test_bad_frames_keep_the_connection(live_server: LiveServer, make_person: Any) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    await ws.conn.send("not json")
    assert (await ws.recv())["code"] == "bad_message"
    await ws.conn.send("[1, 2]")
    assert (await ws.recv())["code"] == "bad_message"
    reply = await ws.request(type="HELLO")
    assert (reply["type"], reply["code"]) == ("ERROR", "unknown_type")
    reply = await ws.request(type="JOIN_POLL", poll_id=True)
    assert reply["code"] == "bad_message"
    reply = await ws.request(type="JOIN_POLL", poll_id=999999)
    assert reply["code"] == "not_found"
    await ws.send(type="PING", ref="x" * 65)
    assert (await ws.recv())["code"] == "bad_message"
    assert (await ws.request(type="PING"))["type"] == "PONG"
    await ws.close()


async def test_oversized_frame_closes_1009(live_server: LiveServer, make_person: Any) -> None:
    person = await make_person()
    ws = await WsClient.open(live_server.ws_url, person.token)
    await ws.conn.send(json.dumps({"type": "PING", "pad": "x" * 100 * 1024}))
    with pytest.raises(ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    other = await WsClient.open(live_server.ws_url, person.token)
    assert (await other.request(type="PING"))["type"] == "PONG"
    await other.close()


async def test_too_many_bad_messages_close_1008(live_server: LiveServer, make_person: Any) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    for _ in range(25):
        await ws.conn.send("nope")
    errors = 0
    closed: ConnectionClosed | None = None
    while closed is None:
        try:
            errors += (await ws.recv())["type"] == "ERROR"
        except ConnectionClosed as exc:
            closed = exc
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert errors == 20


async def test_message_rate_limit(live_server: LiveServer, make_person: Any) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    for i in range(80):
        await ws.send(type="PING", ref=str(i))
    replies = [await ws.recv() for _ in range(80)]
    limited = [r for r in replies if r["type"] == "ERROR"]
    assert limited and all(r["code"] == "rate_limited" for r in limited)
    assert sum(r["type"] == "PONG" for r in replies) >= 50
    await asyncio.sleep(1.1)
    assert (await ws.request(type="PING"))["type"] == "PONG"
    await ws.close()


async def test_hidden_results_on_the_socket(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner, results_visibility="after_close")
    wo = await WsClient.open(live_server.ws_url, owner.token)
    wv = await WsClient.open(live_server.ws_url, voter.token)
    assert (await wo.request(type="JOIN_POLL", poll_id=poll["id"]))["results"]["total"] == 0
    assert (await wv.request(type="JOIN_POLL", poll_id=poll["id"]))["results"] is None
    await wv.request(type="VOTE", poll_id=poll["id"], option_ids=[poll["options"][0]["id"]])
    hidden = await wv.recv_until(lambda m: m["type"] == "RESULTS")
    assert hidden["counts"] is None and hidden["seq"] == 1
    shown = await wo.recv_until(lambda m: m["type"] == "RESULTS")
    assert shown["counts"][str(poll["options"][0]["id"])] == 1
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    update = await wv.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert update["poll"]["status"] == "closed"
    assert update["results"]["counts"][str(poll["options"][0]["id"])] == 1
    await wo.close()
    await wv.close()


async def test_owner_only_counts_never_reach_others(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner, results_visibility="owner_only")
    wv = await WsClient.open(live_server.ws_url, voter.token)
    await wv.request(type="JOIN_POLL", poll_id=poll["id"])
    await wv.request(type="VOTE", poll_id=poll["id"], option_ids=[poll["options"][0]["id"]])
    await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    await wv.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert all(
        m.get("counts") is None and m.get("results") is None
        for m in wv.seen
        if m["type"] in ("RESULTS", "POLL_UPDATED", "JOINED")
    )
    await wv.close()


async def test_open_and_delete_reach_the_room(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner: Person = await make_person()
    draft = await create(client, owner, status="draft")
    ws = await WsClient.open(live_server.ws_url, owner.token)
    joined = await ws.request(type="JOIN_POLL", poll_id=draft["id"])
    assert joined["poll"]["status"] == "draft" and joined["results"] is None
    await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)
    update = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
    assert update["poll"]["status"] == "open"
    await client.delete(f"/polls/{draft['id']}", headers=owner.headers)
    left = await ws.recv_until(lambda m: m["type"] == "LEFT")
    assert left["poll_id"] == draft["id"]
    await ws.close()


async def test_someone_elses_draft_cannot_be_joined_or_voted(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner, other = await make_person(), await make_person(guest=True)
    draft = await create(client, owner, status="draft")
    option = draft["options"][0]["id"]
    stranger = await WsClient.open(live_server.ws_url, other.token)

    async def refused() -> None:
        for message in (
            {"type": "JOIN_POLL", "poll_id": draft["id"]},
            {"type": "JOIN_POLL", "code": draft["code"]},
            {"type": "VOTE", "poll_id": draft["id"], "option_ids": [option]},
        ):
            reply = await stranger.request(**message)
            assert (reply["type"], reply["code"]) == ("ERROR", "not_found"), (message, reply)

    await refused()
    # The owner's join puts the room in this process's hub: a stranger still gets nothing.
    host = await WsClient.open(live_server.ws_url, owner.token)
    joined = await host.request(type="JOIN_POLL", code=draft["code"])
    assert joined["type"] == "JOINED" and joined["poll"]["status"] == "draft"
    await refused()
    vote = await host.request(type="VOTE", poll_id=draft["id"], option_ids=[option])
    assert (vote["type"], vote["code"]) == ("ERROR", "poll_not_open")
    # Opened, it is everyone's.
    assert (await client.post(f"/polls/{draft['id']}/open", headers=owner.headers)).is_success
    joined = await stranger.request(type="JOIN_POLL", code=draft["code"])
    assert joined["type"] == "JOINED" and joined["poll"]["status"] == "open"
    await stranger.close()
    await host.close()
