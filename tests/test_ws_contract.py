"""docs/asyncapi.json is what the WebSocket really sends and takes.

A real session (a host, an audience member and a second viewer on real sockets)
goes through every message type; every frame received and every message sent is
validated with jsonschema against the document's schemas.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed
    Draft202012Validator,
    FormatChecker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.tokens import issue_token
from app.ws import contract
from tests.conftest import LiveServer
from tests.wsclient import WsClient

ROOT = Path(__file__).resolve().parent.parent
URN = "urn:livepolls:asyncapi"
# Published on Redis for the web processes, never written to a socket.
INTERNAL_ONLY = {"POLL_DELETED", "SESSION_CHANGED", "SESSION_DELETED"}


def load() -> dict[str, Any]:
    return json.loads(contract.DOCUMENT.read_text())  # type: ignore[no-any-return]


def validators(direction: str) -> dict[str, Draft202012Validator]:
    """Message type -> validator, for the server's ("send") or the client's messages."""
    doc = load()
    registry: Registry[Any] = Registry().with_resource(
        URN, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    found = {}
    for ref in doc["operations"][direction]["messages"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        payload = doc["components"]["messages"][name]["payload"]["$ref"]
        found[name] = Draft202012Validator(
            {"$ref": URN + payload}, registry=registry, format_checker=FormatChecker()
        )
    return found


def check(direction: str, messages: list[dict[str, Any]]) -> set[str]:
    by_type = validators(direction)
    for message in messages:
        assert message.get("type") in by_type, message
        errors = [e.message for e in by_type[message["type"]].iter_errors(message)]
        assert errors == [], (message, errors)
    return {m["type"] for m in messages}


def test_the_document_is_the_models_written_out() -> None:
    assert contract.DOCUMENT.read_text() == contract.render(), (
        "run `python -m app.ws.contract` and commit docs/asyncapi.json"
    )


def test_every_message_type_the_server_sends_has_a_schema() -> None:
    sent = set()
    for path in (ROOT / "app").rglob("*.py"):
        sent |= set(re.findall(r'"type": "([A-Z_]+)"', path.read_text()))
    assert sent - INTERNAL_ONLY <= set(validators("send")), sent


async def test_a_real_session_speaks_the_document(
    live_server: LiveServer, client: httpx.AsyncClient, make_person: Any
) -> None:
    host, fan, other = await make_person(), await make_person(guest=True), await make_person()
    r = await client.post(
        "/polls",
        json={"question": "Best season?", "options": ["Spring", "Autumn"], "status": "draft"},
        headers=host.headers,
    )
    assert r.status_code == 201, r.text
    poll = r.json()
    hidden = await client.post(
        "/polls",
        json={"question": "Secret?", "options": ["Yes", "No"], "results_visibility": "after_close"},
        headers=host.headers,
    )
    secret = hidden.json()
    sent: list[dict[str, Any]] = []

    async def request(ws: WsClient, **message: Any) -> dict[str, Any]:
        message.setdefault("ref", f"r{len(sent)}")
        sent.append(message)
        return await ws.request(**message)

    presenter = await WsClient.open(live_server.ws_url, host.token)
    audience = await WsClient.open(live_server.ws_url, fan.token)
    viewer = await WsClient.open(live_server.ws_url, other.token)
    try:
        # A draft is its owner's only: the presenter's socket sees it open.
        assert (await request(presenter, type="JOIN_POLL", poll_id=poll["id"]))["type"] == "JOINED"
        await request(audience, type="JOIN_POLL", code=secret["code"].lower())
        opened = await client.post(f"/polls/{poll['id']}/open", headers=host.headers)
        assert opened.status_code == 200
        await presenter.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert (await request(audience, type="JOIN_POLL", poll_id=poll["id"]))["type"] == "JOINED"
        await request(viewer, type="JOIN_POLL", poll_id=poll["id"])
        await audience.recv_until(lambda m: m["type"] == "PRESENCE", within=15)
        option = poll["options"][1]["id"]
        ack = await request(audience, type="VOTE", poll_id=poll["id"], option_ids=[option])
        assert ack["type"] == "VOTE_ACK"
        await viewer.recv_until(lambda m: m["type"] == "RESULTS")
        first = secret["options"][0]["id"]
        await request(audience, type="VOTE", poll_id=secret["id"], option_ids=[first])
        await audience.recv_until(lambda m: m["type"] == "RESULTS" and m["counts"] is None)
        assert (await request(audience, type="PING"))["type"] == "PONG"
        # A renewed token for the same user (as POST /auth/refresh would give).
        token, _ = issue_token(live_server.app.ctx.settings, user_id=fan.user_id, is_guest=True)
        assert (await request(audience, type="AUTH", token=token))["type"] == "AUTHED"
        error = await request(audience, type="VOTE", poll_id=poll["id"], option_ids=[option + 99])
        assert error["type"] == "ERROR"
        await request(audience, type="NOT_A_TYPE")
        closed = await client.post(f"/polls/{poll['id']}/close", headers=host.headers)
        assert closed.status_code == 200
        await viewer.recv_until(lambda m: m["type"] == "POLL_UPDATED" and m["results"] is not None)
        assert (await request(audience, type="LEAVE_POLL", poll_id=poll["id"]))["type"] == "LEFT"
        deleted = await client.delete(f"/polls/{secret['id']}", headers=host.headers)
        assert deleted.status_code == 204
        await audience.recv_until(lambda m: m["type"] == "LEFT" and m["ref"] is None)
        # A session: follow the host onto a poll, see the session's presence, leave.
        talk = await client.post(
            "/sessions", json={"title": "Talk", "poll_ids": [poll["id"]]}, headers=host.headers
        )
        session = talk.json()
        state = await request(viewer, type="JOIN_SESSION", code=session["code"])
        assert state["type"] == "SESSION_STATE" and state["poll"] is None
        await request(audience, type="JOIN_SESSION", session_id=session["id"], view="projector")
        await request(presenter, type="JOIN_SESSION", session_id=session["id"])
        await viewer.recv_until(lambda m: m["type"] == "PRESENCE" and "session_id" in m)
        shown = await client.post(
            f"/sessions/{session['id']}/present", json={"step": "next"}, headers=host.headers
        )
        assert shown.status_code == 200
        await viewer.recv_until(lambda m: m["type"] == "SESSION_STATE" and m["poll"] is not None)
        left = await request(viewer, type="LEAVE_SESSION", session_id=session["id"])
        assert left["type"] == "LEFT_SESSION"
    finally:
        await asyncio.gather(presenter.close(), audience.close(), viewer.close())

    received = presenter.seen + audience.seen + viewer.seen
    assert check("send", received) == set(validators("send"))
    # The client side: every message sent (but the deliberately unknown type).
    assert check("receive", [m for m in sent if m["type"] != "NOT_A_TYPE"]) == set(
        validators("receive")
    )
