"""The JSON the session API answers with (docs/protocol.md `Session`), as models:
documentation for OpenAPI and AsyncAPI, as app/polls/replies.py is for polls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.polls.codes import ALPHABET
from app.polls.replies import Count, Id, Poll, Reply, Results


class Session(Reply):
    """A session (event): its polls in order and the one shown now (null: waiting)."""

    id: Id
    code: Annotated[str, Field(pattern=f"^[{ALPHABET}]{{6}}$")]
    title: str
    owner_id: Id
    poll_ids: list[Id]
    current_poll_id: Id | None
    version: Count
    created_at: datetime


class SessionList(Reply):
    items: list[Session]
    total: Count


class SessionView(Reply):
    """A session, its current poll (null: the waiting screen), that poll's results when
    visible to the caller, and the caller's ballot in it."""

    session: Session
    poll: Poll | None
    results: Results | None
    my_vote: list[Id] | None
