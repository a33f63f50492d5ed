"""Session request bodies and the `Session` JSON of docs/protocol.md.

Strict like the poll bodies (app/polls/schemas.py): unknown fields are refused, so a
typo surfaces as a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.polls.ids import MAX_POLL_ID
from app.polls.schemas import iso, nulls_refused
from models import Session

MAX_POLLS = 100

Title = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
PollId = Annotated[int, Field(ge=1, le=MAX_POLL_ID)]
PollIds = Annotated[
    list[PollId],
    Field(
        max_length=MAX_POLLS,
        description="your own polls, in the order they are presented; distinct, none in "
        "another session",
        json_schema_extra={"uniqueItems": True},
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @field_validator("poll_ids", "poll_id", mode="before", check_fields=False)
    @classmethod
    def _integral(cls, value: Any) -> Any:
        """JSON has one number type: 3.0 is the integer 3 (as in app/polls/schemas.py)."""
        if type(value) is float and value.is_integer():
            return int(value)
        if type(value) is list:
            return [int(v) if type(v) is float and v.is_integer() else v for v in value]
        return value

    @field_validator("poll_ids", check_fields=False)
    @classmethod
    def _distinct(cls, poll_ids: list[int] | None) -> list[int] | None:
        if poll_ids is not None and len(set(poll_ids)) != len(poll_ids):
            raise ValueError("poll ids must be distinct")
        return poll_ids


class CreateSession(Body):
    title: Title
    poll_ids: PollIds = []


class PatchSession(Body):
    model_config = ConfigDict(json_schema_extra=nulls_refused())

    title: Title | None = None
    poll_ids: PollIds | None = None


def _one_of(schema: dict[str, Any]) -> None:
    """Exactly one field, and `step` never null (app.poll_sessions.service.present)."""
    schema["minProperties"] = schema["maxProperties"] = 1
    step = schema["properties"]["step"]
    step.update(next(a for a in step.pop("anyOf") if a != {"type": "null"}))
    step.pop("default", None)


class Present(Body):
    """Exactly one of `poll_id` (a poll of the session, or null: the waiting screen)
    and `step`."""

    model_config = ConfigDict(json_schema_extra=_one_of)

    poll_id: PollId | None = None
    step: Literal["next", "previous"] | None = None


def session_json(session: Session, poll_ids: list[int]) -> dict[str, Any]:
    current = session.current_poll_id
    return {
        "id": session.id,
        "code": session.code,
        "title": session.title,
        "owner_id": session.owner_id,
        "poll_ids": poll_ids,
        # A current poll deleted since is no current poll (see models/poll_sessions.py).
        "current_poll_id": current if current in poll_ids else None,
        "version": session.version,
        "created_at": iso(session.created_at),
    }
