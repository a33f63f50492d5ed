"""Session rooms across two server processes, over real sockets: 2,000 members follow
the host's "next", their own votes come back with them, a reconnect on the other
process gets the current state, and hidden counts never reach a member anywhere."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer, Person, ServerProcess
from tests.test_poll_sessions import new_session, present
from tests.test_polls import create
from tests.test_ws_multiprocess import close_all, open_all, people
from tests.wsclient import WsClient

pytestmark = pytest.mark.multiprocess

MEMBERS = 2000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"poll_create_burst": 100_000})


async def shown(members: list[WsClient], poll_id: int | None) -> list[dict[str, Any]]:
    """Each member's first SESSION_STATE showing `poll_id` (waiting up to 60 s)."""

    def showing(m: dict[str, Any]) -> bool:
        return m["type"] == "SESSION_STATE" and (m["poll"] or {}).get("id") == poll_id

    return list(await asyncio.gather(*(ws.recv_until(showing, within=60) for ws in members)))


async def test_two_thousand_members_on_two_processes_follow_next(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    a: ServerProcess = server_process()
    b: ServerProcess = server_process()
    host = await make_person()
    polls = [await create(client, host, status="draft", allow_change=True) for _ in range(2)]
    session = await new_session(client, host, [p["id"] for p in polls])
    users = await people(live_server, MEMBERS, guest=True)
    urls = [a.ws_url if i % 2 else b.ws_url for i in range(MEMBERS)]
    members = await open_all([(url, u.token) for url, u in zip(urls, users, strict=True)])
    try:
        joined = await asyncio.gather(
            *(ws.request(type="JOIN_SESSION", code=session["code"], within=60) for ws in members)
        )
        assert {j["type"] for j in joined} == {"SESSION_STATE"}
        assert {j["poll"] is None for j in joined} == {True}

        assert (await present(client, host, session, step="next")).status_code == 200
        first = await shown(members, polls[0]["id"])
        assert {s["poll"]["status"] for s in first} == {"open"}
        assert {s["results"]["total"] for s in first} == {0}
        options = first[0]["poll"]["options"]

        # Every third member votes, on both processes at once.
        voters = {i: options[i % 3]["id"] for i in range(0, MEMBERS, 3)}
        acks = await asyncio.gather(
            *(
                members[i].request(type="VOTE", poll_id=polls[0]["id"], option_ids=[o], within=60)
                for i, o in voters.items()
            )
        )
        assert {ack["status"] for ack in acks} == {"accepted"}

        assert (await present(client, host, session, step="next")).status_code == 200
        second = await shown(members, polls[1]["id"])
        assert {s["my_vote"] is None for s in second} == {True}
        versions = {s["session"]["version"] for s in second}
        assert versions == {first[0]["session"]["version"] + 1}

        # A reconnect mid-session, on the other process: the current poll and its state.
        movers = list(range(0, 30))
        await close_all([members[i] for i in movers])
        back = await open_all([(b.ws_url if i % 2 else a.ws_url, users[i].token) for i in movers])
        for i, ws in zip(movers, back, strict=True):
            members[i] = ws
        again = await asyncio.gather(
            *(members[i].request(type="JOIN_SESSION", session_id=session["id"]) for i in movers)
        )
        assert {s["poll"]["id"] for s in again} == {polls[1]["id"]}

        # Back to the first poll: each member's own ballot comes with it.
        assert (await present(client, host, session, step="previous")).status_code == 200
        third = await shown(members, polls[0]["id"])
        for i, state in enumerate(third):
            assert state["my_vote"] == ([voters[i]] if i in voters else None), i
            assert state["results"]["total"] == len(voters)
        counts = third[0]["results"]["counts"]
        assert sum(counts.values()) == len(voters)
        assert third[0]["viewers"] == MEMBERS
    finally:
        await close_all(members)


async def test_hidden_counts_never_reach_members_on_either_process(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    a: ServerProcess = server_process()
    b: ServerProcess = server_process()
    host = await make_person()
    poll = await create(client, host, status="draft", results_hidden=True)
    session = await new_session(client, host, [poll["id"]])
    users: list[Person] = await people(live_server, 40)
    urls = [a.ws_url if i % 2 else b.ws_url for i in range(len(users))]
    members = await open_all([(url, u.token) for url, u in zip(urls, users, strict=True)])
    screens = await open_all([(a.ws_url, host.token), (b.ws_url, host.token)])
    try:
        await asyncio.gather(
            *(ws.request(type="JOIN_SESSION", session_id=session["id"]) for ws in members),
            *(
                ws.request(type="JOIN_SESSION", session_id=session["id"], view="projector")
                for ws in screens
            ),
        )
        await present(client, host, session, step="next")
        everyone = members + screens
        states = await shown(everyone, poll["id"])
        assert {s["results"] is None for s in states} == {True}
        options = states[0]["poll"]["options"]
        await asyncio.gather(
            *(
                ws.request(type="VOTE", poll_id=poll["id"], option_ids=[options[i % 3]["id"]])
                for i, ws in enumerate(members)
            )
        )
        await asyncio.gather(
            *(
                ws.recv_until(lambda m: m["type"] == "RESULTS" and m["total"] == len(members))
                for ws in everyone
            )
        )
        r = await client.post(f"/polls/{poll['id']}/reveal", headers=host.headers)
        assert r.status_code == 200
        revealed = await asyncio.gather(
            *(
                ws.recv_until(lambda m: m["type"] == "RESULTS" and m["counts"] is not None)
                for ws in everyone
            )
        )
        assert {sum(m["counts"].values()) for m in revealed} == {len(members)}
        for ws in everyone:
            flip = next(
                i
                for i, m in enumerate(ws.seen)
                if m["type"] == "POLL_UPDATED" and not m["poll"]["results_hidden"]
            )
            for m in ws.seen[:flip]:
                assert m.get("counts") is None and m.get("results") is None, m
    finally:
        await close_all(members + screens)
