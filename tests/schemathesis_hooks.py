"""Schemathesis hooks for tests/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

Authentication: every token comes from the API itself, a new registered account per
fetch, so a fuzzed `POST /auth/logout` (which revokes all of its user's tokens) costs
one refetch on the next 401 and never the rest of the run.

Positive cases only, the poll bodies' rules JSON Schema cannot state and the spec
states in words: labels distinct ignoring letter case and surrounding spaces, a
single-choice poll's `max_choices` is 1 and a multiple one's at most its number of
options, `closes_at` in the future, and the per-kind rules (options for every kind
but a rating, which has none; `scale` and end labels for a rating only; a ranking's
`max_choices` 2..its options; a quiz's `correct`, distinct positions of its options,
and its `max_choices` from their number to its options'). A positive case that breaks
one of them is not schema-valid data the server wrongly refuses, so it is dropped, not
sent. Negative cases and every check are untouched.

Likewise a positive ballot for a poll that exists is one of that poll's: its options
(up to its max_choices; a ranking's exactly max_choices), or a rating of its scale.
Which ballot is valid depends on the poll, not on the schema, and a ballot of another
poll's options is rightly a 422 `invalid_option`.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import httpx
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import AuthContext, HookContext
from schemathesis.core.jsonschema.types import JsonValue

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # defined for type checkers only

BASE_URL = os.environ.get("LIVEPOLLS_BASE_URL", "")
PASSWORD = "schemathesis-password"


@schemathesis.auth()
class FreshAccount:
    """A bearer token of a new registered account."""

    def get(self, case: OpenApiCase, ctx: AuthContext) -> str:
        return _fresh_token()

    def set(self, case: OpenApiCase, data: str, ctx: AuthContext) -> None:
        headers = CaseInsensitiveDict(case.headers)  # a copy, as the case's own may be shared
        headers["Authorization"] = f"Bearer {data}"
        case.headers = headers


def _fresh_token() -> str:
    name = "st" + uuid.uuid4().hex[:20]
    with httpx.Client(base_url=BASE_URL, timeout=30) as client:
        client.post("/auth/register", json={"username": name, "password": PASSWORD})
        r = client.post("/auth/login", json={"username": name, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["access_token"])


def _future(value: Any) -> bool:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return True  # not ours to judge: the server must refuse it
    # A minute of margin: the request must still be in the future on arrival.
    return when.tzinfo is None or when > datetime.now(UTC) + timedelta(minutes=1)


def poll_body_rules_hold(body: Any, *, partial: bool) -> bool:
    """Whether a poll body keeps the rules above; for a patch, also whether that can be
    told without the stored poll (its kind and options), else it is dropped too."""
    if not isinstance(body, dict):
        return True
    options = body.get("options")
    if isinstance(options, list) and all(isinstance(o, str) for o in options):
        labels = [o.strip().casefold() for o in options]
        if len(set(labels)) != len(labels):
            return False
    kind, max_choices = body.get("kind"), body.get("max_choices")
    n = len(options) if isinstance(options, list) else None
    if isinstance(max_choices, float) and max_choices.is_integer():
        max_choices = int(max_choices)  # JSON's 3.0 is the integer 3
    correct = body.get("correct")
    if partial and kind is None and any(x is not None for x in (options, max_choices, correct)):
        return False  # their rules are the stored poll's kind's (a rating has no options)
    if kind == "quiz":
        if not isinstance(correct, list):
            return False  # a quiz needs its key (a patch: with the options it names)
        if len(set(map(str, correct))) != len(correct) or n is None:
            return False
        if any(not isinstance(c, int) or c >= n for c in correct):
            return False
        if max_choices is not None and not len(correct) <= cast(int, max_choices) <= n:
            return False
    elif correct is not None:
        return False  # only a quiz has a key
    if kind == "rating":
        if options is not None or max_choices not in (None, 1):
            return False
    elif any(body.get(f) is not None for f in ("scale", "low_label", "high_label")):
        return False  # a rating's fields on another kind (or, patching, maybe not a rating)
    elif options is None and (not partial or kind is not None):
        return False  # options needed: on create, and for a patch maybe leaving a rating
    # More than 1: valid only for a multiple choice or a ranking with that many options.
    many = type(max_choices) is int and max_choices != 1
    if many and (
        kind not in ("multiple", "ranking", "quiz") or n is None or cast(int, max_choices) > n
    ):
        return False
    if kind == "ranking" and max_choices == 1:
        return False
    # New options keep a stored multiple poll's max_choices, which may exceed them.
    if partial and n is not None and "max_choices" not in body and kind != "single":
        return False
    closes_at = body.get("closes_at")
    return closes_at is None or _future(closes_at)


def _positive(case: OpenApiCase) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


# schemathesis types hook() as a bare Callable: apply_to is attached to it at run time.
@schemathesis.hook("filter_case").apply_to(method="POST", path="/polls")  # type: ignore[attr-defined,untyped-decorator]
def create_rules(context: HookContext, case: OpenApiCase) -> bool:
    return not _positive(case) or poll_body_rules_hold(case.body, partial=False)


@schemathesis.hook("filter_case").apply_to(method="PATCH", path="/polls/{poll_id}")  # type: ignore[attr-defined,untyped-decorator]
def patch_rules(context: HookContext, case: OpenApiCase) -> bool:
    return not _positive(case) or poll_body_rules_hold(case.body, partial=True)


_reader: list[str] = []


def _as_int(value: JsonValue) -> int:
    """int(value): an option id, an integer in a positive case; TypeError as int() gives
    for what is not a number."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"int() argument must be a string or a real number, not {value!r}")


def _poll(poll_id: Any) -> dict[str, Any] | None:
    if not _reader:
        _reader.append(_fresh_token())
    with httpx.Client(base_url=BASE_URL, timeout=30) as client:
        r = client.get(f"/polls/{poll_id}", headers={"Authorization": f"Bearer {_reader[0]}"})
    return r.json()["poll"] if r.status_code == 200 else None


@schemathesis.hook("map_case").apply_to(method="POST", path="/polls/{poll_id}/votes")  # type: ignore[attr-defined,untyped-decorator]
def ballot_of_the_poll(context: HookContext, case: OpenApiCase) -> OpenApiCase:
    body = case.body
    if not _positive(case) or not isinstance(body, dict):
        return case
    poll = _poll((case.path_parameters or {}).get("poll_id"))
    if poll is None:
        return case
    chosen = body.get("option_ids")
    picks = chosen if isinstance(chosen, list) else [body.get("rating", 0)]
    if poll["kind"] == "rating":
        case.body = {"rating": _as_int(picks[0] if picks else 0) % poll["scale"] + 1}
        return case
    ids = [o["id"] for o in poll["options"]]
    limit = 1 if poll["kind"] == "single" else poll["max_choices"]
    picked = list(dict.fromkeys(ids[_as_int(x) % len(ids)] for x in picks))[:limit]
    if poll["kind"] == "ranking":  # exactly k: the rest of the options, in order
        picked = [*picked, *(i for i in ids if i not in picked)][:limit]
    case.body = {"option_ids": picked}
    return case
