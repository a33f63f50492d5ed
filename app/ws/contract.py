"""The WebSocket messages of PROTOCOL.md as models, and their AsyncAPI 3 document.

`docs/asyncapi.json` is `document()` written out (`python -m app.ws.contract`);
tests/test_ws_contract.py fails when the two differ, validates every frame a real
session receives against the document's schemas, and fails when the server code can
send a message type the document has no schema for. `Poll` and `Results` are the
REST API's models (app.polls.replies), so both documents say the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.poll_sessions.replies import Session
from app.polls.replies import Count, Id, Poll, Results

DOCUMENT = Path(__file__).resolve().parent.parent.parent / "docs" / "asyncapi.json"
REF = "#/components/schemas/{model}"

ServerNow = Annotated[
    int, Field(ge=0, description="the server's clock, ms since the epoch (draw countdowns by it)")
]
Ref = Annotated[str, Field(max_length=64, description="the client's ref, echoed")] | None
ErrorCode = Literal[
    "bad_message",
    "unknown_type",
    "not_found",
    "poll_not_open",
    "already_voted",
    "invalid_option",
    "too_many_choices",
    "wrong_rank_count",
    "wrong_ballot",
    "account_required",
    "rate_limited",
    "internal_error",
    "too_many_rooms",
    # AUTH: a bad or expired token, another user's token
    "unauthorized",
    "forbidden",
]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- server -> client ----------------------------------------------------------------------


class Joined(Message):
    """You are in the room; `results` is null when hidden from you."""

    type: Literal["JOINED"]
    ref: Ref
    poll: Poll
    results: Results | None
    my_vote: list[Id] | None
    viewers: Count
    server_now: ServerNow


class Left(Message):
    """You left the room (or its poll was deleted: `ref` null)."""

    type: Literal["LEFT"]
    ref: Ref
    poll_id: Id


class VoteAck(Message):
    type: Literal["VOTE_ACK"]
    ref: Ref
    poll_id: Id
    status: Literal["accepted", "changed", "unchanged"]
    seq: Count


class ResultsMessage(Message):
    """The live tally of a joined room, coalesced; `counts` null when hidden."""

    type: Literal["RESULTS"]
    poll_id: Id
    seq: Count
    total: Count
    counts: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]*$")], Count] | None


class Presence(Message):
    """Distinct viewers of a poll's room (`poll_id`) or of a session (`session_id`,
    whose members are counted there, not in the polls it shows): exactly one of the
    two is present."""

    type: Literal["PRESENCE"]
    poll_id: Id | None = None
    session_id: Id | None = None
    viewers: Count


class SessionState(Message):
    """The session's state: the reply to JOIN_SESSION (`ref` echoed), and again
    (`ref` null) every time the host changes the session. `poll` is the poll shown now
    (null: the waiting screen), `results` its results when visible to you, `my_vote`
    your ballot in it; from now on you get that poll's RESULTS and POLL_UPDATED as a
    member of its room. `viewers`: the session's."""

    type: Literal["SESSION_STATE"]
    ref: Ref
    session: Session
    poll: Poll | None
    results: Results | None
    my_vote: list[Id] | None
    viewers: Count
    server_now: ServerNow


class LeftSession(Message):
    """You left the session (or it was deleted: `ref` null)."""

    type: Literal["LEFT_SESSION"]
    ref: Ref
    session_id: Id


class PollUpdated(Message):
    """The poll opened, closed or changed (hide, reveal, countdown too); on close
    `results` is final when visible, on reveal the current tally when visible."""

    type: Literal["POLL_UPDATED"]
    poll: Poll
    results: Results | None
    server_now: ServerNow


class ErrorMessage(Message):
    type: Literal["ERROR"]
    ref: Ref
    code: ErrorCode
    message: str


class Pong(Message):
    type: Literal["PONG"]
    ref: Ref


class Authed(Message):
    """The socket runs on the renewed token now (it keeps its rooms) until it expires."""

    type: Literal["AUTHED"]
    ref: Ref
    expires_in: Count


# --- client -> server ----------------------------------------------------------------------


class Request(BaseModel):
    # Unknown fields are ignored by the server; a bad `ref` or field is an ERROR.
    ref: Ref = None


class JoinPoll(Request):
    """Join by `poll_id` or by `code`; `view` "projector" for a room's shared screen."""

    type: Literal["JOIN_POLL"]
    poll_id: Id | None = None
    code: Annotated[str, Field(max_length=16)] | None = None
    view: Literal["participant", "projector"] = "participant"


class LeavePoll(Request):
    type: Literal["LEAVE_POLL"]
    poll_id: Id


class JoinSession(Request):
    """Follow a session by `session_id` or by `code`: whichever poll the host shows,
    the server puts you in its room; `view` as in JOIN_POLL."""

    type: Literal["JOIN_SESSION"]
    session_id: Id | None = None
    code: Annotated[str, Field(max_length=16)] | None = None
    view: Literal["participant", "projector"] = "participant"


class LeaveSession(Request):
    type: Literal["LEAVE_SESSION"]
    session_id: Id


class Vote(Request):
    """`option_ids` (a ranking's in order, first choice first), or a rating poll's
    `rating`: one of the two."""

    type: Literal["VOTE"]
    poll_id: Id
    option_ids: Annotated[list[Id], Field(min_length=1)] | None = None
    rating: Annotated[int, Field(ge=1)] | None = None


class Ping(Request):
    type: Literal["PING"]


class Auth(Request):
    """Renew the socket's token in band, before the old one expires (same user only)."""

    type: Literal["AUTH"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]


SERVER_MESSAGES: tuple[type[Message], ...] = (
    Joined,
    Left,
    VoteAck,
    ResultsMessage,
    Presence,
    PollUpdated,
    ErrorMessage,
    Pong,
    Authed,
    SessionState,
    LeftSession,
)
CLIENT_MESSAGES: tuple[type[Request], ...] = (
    JoinPoll,
    LeavePoll,
    Vote,
    Ping,
    Auth,
    JoinSession,
    LeaveSession,
)


def message_type(model: type[BaseModel]) -> str:
    return str(model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


def document() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "serialization") for m in SERVER_MESSAGES
    ]
    models += [(m, "validation") for m in CLIENT_MESSAGES]
    _, schemas = models_json_schema(models, ref_template=REF)
    messages = {
        message_type(m): {
            "name": message_type(m),
            "contentType": "application/json",
            "payload": {"$ref": REF.format(model=m.__name__)},
        }
        for m in (*SERVER_MESSAGES, *CLIENT_MESSAGES)
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "livepolls WebSocket",
            "version": "1.0.0",
            "description": "GET /ws (PROTOCOL.md): JSON text frames of at most 64 KiB.",
        },
        "channels": {
            "ws": {
                "address": "/ws",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "receive": _operation("receive", "messages the client sends", CLIENT_MESSAGES),
            "send": _operation("send", "messages the server sends", SERVER_MESSAGES),
        },
        "components": {
            "messages": messages,
            "schemas": dict(sorted(schemas["$defs"].items())),
        },
    }


def _operation(action: str, summary: str, models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": "#/channels/ws"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/ws/messages/{message_type(m)}"} for m in models],
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render())
    sys.stdout.write(f"wrote {DOCUMENT}\n")
