"""Poll request bodies and the JSON shapes of PROTOCOL.md (`Poll`, `Results`).

Bodies are strict: a `"true"` is not a boolean and unknown fields are refused, so a
client's typo surfaces as a 422 naming the field instead of a silently ignored option.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from app.kinds import Shape, kind_of
from app.kinds.rating import SCALE_MAX, SCALE_MIN
from models import Poll, PollOption

MAX_OPTIONS = 20

# `\S`: blank text strips to "" and fails min_length; the pattern says so in the schema.
Label = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Question = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
EndLabel = Annotated[
    str, Field(min_length=1, max_length=60, pattern=r"\S", description="a rating's end, in words")
]
Options = Annotated[
    list[Label],
    Field(
        min_length=2,
        max_length=MAX_OPTIONS,
        description="distinct labels (in any letter case, ignoring surrounding spaces)",
        json_schema_extra={"uniqueItems": True},
    ),
]


class PollFields(BaseModel):
    """Fields shared by create and patch; every one optional so patch can reuse them."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    question: Question | None = None
    options: Options | None = None
    kind: Literal["single", "multiple", "rating", "ranking", "quiz"] | None = None
    max_choices: (
        Annotated[
            int,
            Field(
                ge=1,
                le=MAX_OPTIONS,
                description="1 for single choice and rating; at most the number of options; "
                "a ranking's k: how many options each voter orders (2 or more)",
            ),
        ]
        | None
    ) = None
    scale: (
        Annotated[
            int,
            Field(ge=SCALE_MIN, le=SCALE_MAX, description="a rating's values are 1..scale"),
        ]
        | None
    ) = None
    low_label: EndLabel | None = None
    high_label: EndLabel | None = None
    correct: (
        Annotated[
            list[Annotated[int, Field(ge=0, lt=MAX_OPTIONS)]],
            Field(
                min_length=1,
                max_length=MAX_OPTIONS,
                description="a quiz's correct answers: their positions in `options`, from 0",
                json_schema_extra={"uniqueItems": True},
            ),
        ]
        | None
    ) = None
    allow_change: bool | None = None
    results_visibility: Literal["live", "after_close", "owner_only", "after_vote"] | None = None
    require_account: bool | None = None
    results_hidden: (
        Annotated[bool, Field(description="hide counts from everyone but the owner")] | None
    ) = None
    closes_at: (
        Annotated[AwareDatetime, Field(strict=False, description="a future time, with its offset")]
        | None
    ) = None

    @field_validator("max_choices", "scale", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        """JSON has one number type: 3.0 is the integer 3 (JSON Schema says so too),
        which strict mode would refuse. True stays a boolean, refused."""
        if type(value) is float and value.is_integer():
            return int(value)
        return value

    @field_validator("correct", mode="before")
    @classmethod
    def _integral_items(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [cls._integral(v) for v in value]
        return value

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str] | None) -> list[str] | None:
        if options is not None:
            seen: set[str] = set()
            for label in options:
                if label.casefold() in seen:
                    raise ValueError(f"duplicate option label {label!r}")
                seen.add(label.casefold())
        return options

    @field_validator("closes_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("closes_at must be in the future")
        return value


class CreatePoll(PollFields):
    question: Question
    # Required but for a rating, which has none (app/kinds/ checks per kind).
    options: Options | None = None
    status: Literal["open", "draft"] = "open"


# What a PATCH may set back to null: no end label, no closing time (a draft's).
CLEARABLE = frozenset({"low_label", "high_label", "closes_at"})


def nulls_refused(keep: frozenset[str] = frozenset()) -> Callable[[dict[str, Any]], None]:
    """The schema hook of a PATCH body: it refuses an explicit null (polls and sessions
    alike) but for the fields in `keep`, so the null alternative pydantic writes for the
    optional fields is dropped from the others."""

    def hook(schema: dict[str, Any]) -> None:
        for name, prop in schema["properties"].items():
            prop.pop("default", None)
            if name in keep:
                continue
            alternatives = [a for a in prop.pop("anyOf", ()) if a != {"type": "null"}]
            if len(alternatives) == 1:
                prop.update(alternatives[0])

    return hook


class PatchPoll(PollFields):
    model_config = ConfigDict(json_schema_extra=nulls_refused(CLEARABLE))


COUNTDOWN_MIN_S, COUNTDOWN_MAX_S = 3, 86_400


class Countdown(BaseModel):
    """`POST /polls/{id}/countdown`: close the open poll this many seconds from now."""

    model_config = ConfigDict(extra="forbid", strict=True)

    seconds: Annotated[
        int,
        Field(
            ge=COUNTDOWN_MIN_S,
            le=COUNTDOWN_MAX_S,
            description="voting closes this many seconds from now, by the server's clock",
        ),
    ]

    @field_validator("seconds", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        """3.0 is the integer 3, as for max_choices."""
        if type(value) is float and value.is_integer():
            return int(value)
        return value


@dataclass(frozen=True, slots=True)
class Tally:
    """A consistent snapshot of a poll's live counts: count field -> number (what the
    fields are is the poll's kind's, app/kinds/)."""

    poll_id: int
    seq: int
    total: int
    counts: dict[str, int]


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def effective_status(poll: Poll, now: datetime | None = None) -> str:
    """`closed` as soon as `closes_at` passes, even before the close job has run:
    the vote script refuses ballots from that instant, so that is the truth."""
    closes_at = poll.closes_at
    if poll.status == "open" and closes_at is not None and closes_at <= (now or datetime.now(UTC)):
        return "closed"
    return str(poll.status)


def counts_visible(
    *,
    owner_id: int,
    visibility: str,
    status: str,
    user_id: int | None,
    hidden: bool = False,
    voted: bool = False,
    projector: bool = False,
) -> bool:
    """The one rule for who sees counts (REST, JOINED, RESULTS, POLL_UPDATED alike).

    The owner always, except in projector view, which shows what the room may see
    whoever's token it uses. `hidden` (the host's hide switch) overrides every
    visibility for everyone else. `after_vote` shows a user the counts once they have a
    ballot (`voted`), so nobody's vote is swayed by the tally; a projector shows them as
    soon as voting is on screen, and everybody once the poll is closed.
    """
    if not projector and user_id is not None and user_id == owner_id:
        return True
    if hidden:
        return False
    if visibility == "live":
        return True
    if visibility == "after_close":
        return status == "closed"
    if visibility == "after_vote":
        return projector or voted or status == "closed"
    return False


def poll_json(poll: Poll, options: list[PollOption], *, owner: bool = False) -> dict[str, Any]:
    """The Poll as its owner (`owner`) or anyone else sees it: a quiz's answer key
    (`correct` per option) is the owner's until the poll closes, null for others."""
    status = effective_status(poll)
    reveal = owner or status == "closed"
    key = kind_of(str(poll.kind)).has_answer_key
    return {
        "id": poll.id,
        "code": poll.code,
        "question": poll.question,
        "kind": str(poll.kind),
        "max_choices": poll.max_choices,
        "scale": poll.scale,
        "low_label": poll.low_label,
        "high_label": poll.high_label,
        "options": [
            {"id": o.id, "label": o.label, "position": o.position}
            | ({"correct": o.correct if reveal else None} if key else {})
            for o in sorted(options, key=lambda o: o.position)
        ],
        "allow_change": poll.allow_change,
        "results_visibility": str(poll.results_visibility),
        "require_account": poll.require_account,
        "results_hidden": poll.results_hidden,
        "status": status,
        "owner_id": poll.owner_id,  # type: ignore[attr-defined]
        "created_at": iso(poll.created_at),
        "opened_at": iso(poll.opened_at),
        "closes_at": iso(poll.closes_at),
        "closed_at": iso(poll.closed_at),
        "session_id": poll.session_id,
        "session_position": poll.session_position,
    }


def results_json(tally: Tally, status: str, shape: Shape) -> dict[str, Any]:
    """Every count field of the poll's kind, zeros included."""
    return {
        "poll_id": tally.poll_id,
        "status": status,
        "seq": tally.seq,
        "total": tally.total,
        "counts": {f: tally.counts.get(f, 0) for f in kind_of(shape.kind).fields(shape)},
    }
