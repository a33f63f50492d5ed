"""The poll lifecycle: create, read, patch (draft only), open, close, delete, results.

Status changes go through Redis first: the close script is the instant after which
no vote is accepted, and only then is the database row updated. A crash between the
two leaves Redis `closed` and the row `open`; closing again (or the reconciler)
finishes the job, because every step here is idempotent. After a close a worker
finalizes the poll (`finalize_poll` job: drain its outbox, store the final counts);
from then on the database alone can serve its results.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from arq.connections import ArqRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from app import keys, ratelimit
from app.config import Settings
from app.errors import ApiError, Conflict, Forbidden, NotFound, invalid_field
from app.kinds import Asked, Rules, kind_of, shape_of
from app.polls import codes, ids
from app.polls.schemas import (
    CLEARABLE,
    MAX_OPTIONS,
    Countdown,
    CreatePoll,
    PatchPoll,
    Tally,
    counts_visible,
    effective_status,
    poll_json,
    results_json,
)
from app.polls.state import (
    ClosedTally,
    close_state,
    drop_state,
    ensure_state,
    my_ballot,
    read_tally,
    redis_now_ms,
    reopen_state,
    reset_floor,
    set_closes_at,
    status_lock,
    write_state,
)
from app.tokens import Principal
from models import Ballot, Poll, PollOption, PollReset, PollStatus, Session

log = logging.getLogger("livepolls.polls")

CLOSE_JOB = "close_poll_at"
FINALIZE_JOB = "finalize_poll"


def results_visible(
    poll: Poll, user_id: int | None, status: str | None = None, *, voted: bool = False
) -> bool:
    """`counts_visible` for a REST caller (never in projector view); `voted`: the caller
    has a ballot in the poll (matters for after_vote only)."""
    return counts_visible(
        owner_id=poll.owner_id,  # type: ignore[attr-defined]
        visibility=str(poll.results_visibility),
        status=status or effective_status(poll),
        user_id=user_id,
        hidden=poll.results_hidden,
        voted=voted,
    )


def parse_poll_id(raw: str) -> int:
    poll_id = ids.parse_poll_id(raw)
    if poll_id is None:
        raise NotFound("poll not found")
    return poll_id


async def _options(poll: Poll) -> list[PollOption]:
    return await PollOption.filter(poll_id=poll.id).order_by("position")


def check_readable(*, status: str, owner_id: int, user_id: int) -> None:
    """A draft exists for its owner only: anyone else is told there is no such poll
    (404, not 403, so that walking ids or codes cannot even learn a draft exists)."""
    if status == PollStatus.DRAFT and owner_id != user_id:
        raise NotFound("poll not found")


async def _owned(poll_id: int, principal: Principal) -> Poll:
    poll = await Poll.get_or_none(id=poll_id)
    if poll is None:
        raise NotFound("poll not found")
    owner_id: int = poll.owner_id  # type: ignore[attr-defined]
    if owner_id != principal.user_id:
        check_readable(status=poll.status, owner_id=owner_id, user_id=principal.user_id)
        raise Forbidden("only the poll's owner may do this")
    return poll


async def find_owned_poll(*, principal: Principal, poll_id: int) -> Poll:
    """The poll, for its owner only: someone else's draft is 404 (it does not exist for
    them), someone else's poll 403."""
    return await _owned(poll_id, principal)


def _rules(kind: str, sent: dict[str, Any], n_options: int) -> Rules:
    """The poll's rules by its kind, or the 422 naming the field (app/kinds/)."""
    rules = kind_of(kind)
    if rules.has_options and n_options == 0:
        raise invalid_field("options", f"a {kind} poll needs between 2 and {MAX_OPTIONS} options")
    for field in END_LABELS:
        if rules.has_options and sent.get(field) is not None:
            raise invalid_field(field, "only a rating poll has end labels")
    if not rules.has_scale and sent.get("scale") is not None:
        raise invalid_field("scale", "only a rating poll has a scale")
    if not rules.has_answer_key and sent.get("correct") is not None:
        raise invalid_field("correct", "only a quiz has correct answers")
    return rules.rules(
        Asked(
            n_options=n_options,
            max_choices=sent.get("max_choices"),
            scale=sent.get("scale"),
            correct=sent.get("correct"),
        )
    )


def _key_of(options: list[PollOption]) -> list[int] | None:
    """A poll's answer key as a body sends it (positions), None without one."""
    return [o.position for o in options if o.correct] or None


async def _set_key(options: list[PollOption], correct: tuple[int, ...]) -> None:
    for option in options:
        if option.correct != (option.position in correct):
            option.correct = not option.correct
            await option.save(update_fields=["correct"])


async def _options_from(poll: Poll, labels: list[str], rules: Rules) -> None:
    for position, label in enumerate(labels):
        await PollOption.create(
            poll_id=poll.id, position=position, label=label, correct=position in rules.correct
        )


END_LABELS = ("low_label", "high_label")


def _require_registered(principal: Principal) -> None:
    if principal.is_guest:
        raise Forbidden("guests cannot manage polls; register an account")


async def create_poll(
    *, settings: Settings, redis: Redis, arq: ArqRedis, principal: Principal, body: CreatePoll
) -> dict[str, Any]:
    """Create a poll (draft or open) with a fresh unique join code and a random id,
    within the account's creation bucket and its cap on polls."""
    _require_registered(principal)
    kind = body.kind or "single"
    rules = _rules(kind, body.model_dump(), len(body.options or ()))
    await ratelimit.take(
        redis=redis, bucket=ratelimit.poll_create_bucket(settings, user_id=principal.user_id)
    )
    cap = settings.max_polls_per_user
    # Counted, not locked: concurrent creates may pass the cap by a few, which the
    # bucket above bounds; the cap is about storage, not an exact quota.
    if cap and await Poll.filter(owner_id=principal.user_id).count() >= cap:
        raise Forbidden(f"an account may own at most {cap} polls; delete some first")
    # Redis' clock, which stamps ballots and closes: a quiz's speed is measured on it.
    now = datetime.fromtimestamp(await redis_now_ms(redis) / 1000, UTC)
    for _ in range(codes.MAX_ATTEMPTS):
        code = codes.new_code()
        if await Session.exists(code=code):  # codes are unique across polls and sessions
            continue
        try:
            async with in_transaction():
                poll = await Poll.create(
                    id=ids.new_poll_id(),
                    owner_id=principal.user_id,
                    code=code,
                    question=body.question,
                    kind=kind,
                    max_choices=rules.max_choices,
                    scale=rules.scale,
                    low_label=body.low_label,
                    high_label=body.high_label,
                    allow_change=bool(body.allow_change),
                    results_visibility=body.results_visibility or "live",
                    require_account=bool(body.require_account),
                    results_hidden=bool(body.results_hidden),
                    status=body.status,
                    closes_at=body.closes_at,
                    opened_at=now if body.status == "open" else None,
                )
                await _options_from(poll, body.options or [], rules)
            break
        except IntegrityError:
            # A join-code or id collision (or a vanished owner, which the next round
            # reports): both are drawn again.
            continue
    else:
        raise ApiError("could not allocate a join code; try again", code="unavailable", status=503)
    options = await _options(poll)
    if poll.status == PollStatus.OPEN:
        await _go_live(redis, arq, poll, options)
    log.info("poll created (%s)", poll.status, extra={"poll_id": poll.id})
    return poll_json(poll, options, owner=True)


async def duplicate_poll(
    *, settings: Settings, redis: Redis, arq: ArqRedis, principal: Principal, poll_id: int
) -> dict[str, Any]:
    """A new draft asking the same question the same way, for running a poll again
    (another room, another day): its results, hide switch, closing time, session and
    code are the new poll's own. A poll like any other, so the creation bucket and
    the cap on polls apply."""
    source = await _owned(poll_id, principal)
    options = await _options(source)
    body = CreatePoll(
        question=source.question,
        options=[o.label for o in options] or None,
        kind=str(source.kind),  # type: ignore[arg-type]
        max_choices=source.max_choices,
        scale=source.scale,
        low_label=source.low_label,
        high_label=source.high_label,
        correct=_key_of(options),
        allow_change=source.allow_change,
        results_visibility=str(source.results_visibility),  # type: ignore[arg-type]
        require_account=source.require_account,
        status="draft",
    )
    created = await create_poll(
        settings=settings, redis=redis, arq=arq, principal=principal, body=body
    )
    log.info("poll duplicated", extra={"poll_id": created["id"], "source": source.id})
    return created


async def _go_live(redis: Redis, arq: ArqRedis, poll: Poll, options: list[PollOption]) -> None:
    await write_state(redis, poll, [o.id for o in options], fresh=True)
    if poll.closes_at is not None:
        await arq.enqueue_job(
            CLOSE_JOB, poll.id, _job_id=f"close:{poll.id}", _defer_until=poll.closes_at
        )


def _status_filter(status: str, now: datetime) -> Q:
    """Polls whose status, as `poll_json` shows it, is `status`: an open poll whose
    `closes_at` has passed shows (and votes) as closed before its close job runs."""
    due = Q(status=PollStatus.OPEN, closes_at__lte=now)
    if status == PollStatus.CLOSED:
        return Q(status=PollStatus.CLOSED) | due
    if status == PollStatus.OPEN:
        return Q(status=PollStatus.OPEN) & (Q(closes_at=None) | Q(closes_at__gt=now))
    return Q(status=status)


async def list_polls(
    *, principal: Principal, limit: int, offset: int, q: str | None, status: str | None
) -> dict[str, Any]:
    """The caller's polls, newest first; `q` a part of the question (any letter case,
    as sessions' titles), `status` as clients see it."""
    _require_registered(principal)
    query = Poll.filter(owner_id=principal.user_id)
    if q:
        query = query.filter(question__icontains=q)
    if status:
        query = query.filter(_status_filter(status, datetime.now(UTC)))
    total = await query.count()
    polls = await query.order_by("-created_at", "-id").offset(offset).limit(limit)
    by_poll: dict[int, list[PollOption]] = {p.id: [] for p in polls}
    for option in await PollOption.filter(poll_id__in=list(by_poll)):
        by_poll[option.poll_id].append(option)  # type: ignore[attr-defined]
    return {"items": [poll_json(p, by_poll[p.id], owner=True) for p in polls], "total": total}


async def find_poll(*, poll_id: int | None = None, code: str | None = None) -> Poll:
    poll = None
    if poll_id is not None:
        poll = await Poll.get_or_none(id=poll_id)
    elif code is not None and (normalized := codes.normalize(code)) is not None:
        poll = await Poll.get_or_none(code=normalized)
    if poll is None:
        raise NotFound("poll not found")
    return poll


async def find_readable_poll(
    *, principal: Principal, poll_id: int | None = None, code: str | None = None
) -> Poll:
    """The poll by id or code, as `find_poll`, unless it is someone else's draft."""
    poll = await find_poll(poll_id=poll_id, code=code)
    check_readable(
        status=poll.status,
        owner_id=poll.owner_id,  # type: ignore[attr-defined]
        user_id=principal.user_id,
    )
    return poll


async def poll_payload(poll: Poll) -> dict[str, Any]:
    return poll_json(poll, await _options(poll))


async def current_tally(redis: Redis, poll: Poll) -> Tally | None:
    """The live tally (rebuilding lost Redis state); None for drafts. A finalized poll
    without Redis state is served from its stored final counts instead."""
    if poll.status == PollStatus.DRAFT:
        return None
    tally = await read_tally(redis, poll.id)
    if tally is None and poll.finalized_at is not None:
        return await final_tally(poll)
    if tally is None and await ensure_state(redis, poll.id) is not None:
        tally = await read_tally(redis, poll.id)
    return tally


async def final_tally(poll: Poll) -> Tally:
    """The tally of a finalized poll from the database: counts stored at finalization,
    total and seq from its ballots (seq is the last ballot's, as Redis had it)."""
    stats = (
        await Ballot.filter(poll_id=poll.id).annotate(n=Count("id"), s=Max("seq")).values("n", "s")
    )
    row = stats[0] if stats else {}
    return Tally(
        poll_id=poll.id,
        seq=max(int(row.get("s") or 0), await reset_floor(poll.id)),
        total=int(row.get("n") or 0),
        counts=poll.final_counts if poll.final_counts is not None else await _vote_counts(poll),
    )


async def _vote_counts(poll: Poll) -> dict[str, int]:
    """The final counts of a poll finalized before `final_counts` was kept: its options'."""
    options = await PollOption.filter(poll_id=poll.id).values_list("id", "vote_count")
    return {str(oid): int(n) for oid, n in options}


async def _my_vote(redis: Redis, poll: Poll, user_id: int) -> list[int] | None:
    mine = await my_ballot(redis, poll.id, user_id)
    gone = poll.finalized_at is not None and not await redis.exists(keys.meta(poll.id))
    if mine is None and gone:
        ballot = await Ballot.get_or_none(poll_id=poll.id, user_id=user_id)
        mine = [int(x) for x in ballot.option_ids.split(",")] if ballot else None
    return mine


async def poll_view(*, redis: Redis, principal: Principal, poll: Poll) -> dict[str, Any]:
    """`{"poll", "results", "my_vote"}` as this caller may see it."""
    options = await _options(poll)
    tally = await current_tally(redis, poll)
    status = effective_status(poll)
    mine = None
    if poll.status != PollStatus.DRAFT:
        mine = await _my_vote(redis, poll, principal.user_id)
    results = None
    if tally is not None and results_visible(poll, principal.user_id, status, voted=bool(mine)):
        results = results_json(tally, status, shape_of(poll, [o.id for o in options]))
    owner = principal.user_id == poll.owner_id  # type: ignore[attr-defined]
    return {"poll": poll_json(poll, options, owner=owner), "results": results, "my_vote": mine}


async def patch_poll(
    *, redis: Redis, principal: Principal, poll_id: int, body: PatchPoll
) -> dict[str, Any]:
    """Edit a draft; fields not sent keep their values, options are replaced whole.
    An open or closed poll takes typo fixes only (`relabel_poll`)."""
    poll = await _owned(poll_id, principal)
    sent = body.model_dump(exclude_unset=True)
    for field, value in sent.items():
        if value is None and field not in CLEARABLE:
            raise invalid_field(field, "may not be null")
    if poll.status != PollStatus.DRAFT:
        return await relabel_poll(redis=redis, poll=poll, body=body, sent=set(sent))
    kind = body.kind or str(poll.kind)
    has_options = kind_of(kind).has_options
    options = await _options(poll) if has_options else []
    n_options = len(body.options) if body.options is not None else len(options)
    # Unsent rules keep the poll's values while its kind stays (max_choices checked
    # against the new options) and mean "default" once it changes; a rating's end
    # labels go with its kind.
    same = kind == poll.kind
    kept = {f: getattr(poll, f) if same else None for f in ("max_choices", "scale", *END_LABELS)}
    kept["correct"] = _key_of(options) if same else None
    rules = _rules(kind, {**kept, **sent}, n_options)
    poll.max_choices, poll.scale = rules.max_choices, rules.scale
    if has_options:
        poll.low_label = poll.high_label = None
    async with in_transaction():
        for field in (
            "question",
            "kind",
            "low_label",
            "high_label",
            "allow_change",
            "results_visibility",
            "require_account",
            "results_hidden",
            "closes_at",
        ):
            if field in sent:
                setattr(poll, field, sent[field])
        await poll.save()
        if body.options is not None or not has_options:
            await PollOption.filter(poll_id=poll.id).delete()
            await _options_from(poll, body.options or [], rules)
        else:
            await _set_key(options, rules.correct)
    return poll_json(poll, await _options(poll), owner=True)


RELABEL_FIELDS = frozenset({"question", "options", "correct", *END_LABELS})


async def relabel_poll(
    *, redis: Redis, poll: Poll, body: PatchPoll, sent: set[str]
) -> dict[str, Any]:
    """Fix the wording of a poll people may have voted on: the question, each option's
    label in position order, a rating's end labels, a quiz's answer key (a wrong key
    is fixed after the reveal: scores are computed from the key as it is). What a
    ballot means (option ids, their number and order, the rules of voting) stays, so
    no ballot or count changes; the rooms get POLL_UPDATED with the new words. Any
    other field is 409, as every edit of a non-draft was before."""
    if sent - RELABEL_FIELDS:
        raise Conflict(
            "only the question and the option labels may change once a poll is open",
            code="poll_not_open",
        )
    for field in END_LABELS:
        if field in sent and kind_of(str(poll.kind)).has_options:
            raise invalid_field(field, "only a rating poll has end labels")
    options = await _options(poll)
    key = None
    if "correct" in sent:  # the kind's rules, as for a draft, within the poll's limit
        asked = {"max_choices": poll.max_choices, "correct": body.correct}
        key = _rules(str(poll.kind), asked, len(options)).correct
    if body.options is not None and len(body.options) != len(options):
        raise invalid_field(
            "options",
            f"must have exactly {len(options)} labels, one for each option in position order",
        )
    async with in_transaction():
        words = {f: getattr(body, f) for f in ("question", *END_LABELS) if f in sent}
        if words:
            await Poll.filter(id=poll.id).update(**words)
        for option, label in zip(options, body.options or (), strict=False):
            if label != option.label:
                await PollOption.filter(id=option.id).update(label=label)
        if key is not None:
            await _set_key(options, key)
    poll = await find_poll(poll_id=poll.id)  # deleted meanwhile: 404
    options = await _options(poll)
    # With the tally, as on reveal: a client redrawing from the message keeps its bars.
    await publish_poll_update(redis, poll, options, tally=await current_tally(redis, poll))
    log.info("poll relabelled", extra={"poll_id": poll.id})
    return poll_json(poll, options, owner=True)


async def open_poll(
    *, redis: Redis, arq: ArqRedis, principal: Principal, poll_id: int
) -> dict[str, Any]:
    poll = await _owned(poll_id, principal)
    if poll.status != PollStatus.DRAFT:
        raise Conflict("only a draft can be opened", code="poll_not_open")
    if poll.closes_at is not None and poll.closes_at <= datetime.now(UTC):
        raise invalid_field("closes_at", "is in the past; patch it before opening")
    # Redis' clock, which stamps ballots and closes: a quiz's speed is measured on it.
    opened_at = datetime.fromtimestamp(await redis_now_ms(redis) / 1000, UTC)
    updated = await Poll.filter(id=poll.id, status=PollStatus.DRAFT).update(
        status=PollStatus.OPEN, opened_at=opened_at
    )
    if not updated:
        raise Conflict("only a draft can be opened", code="poll_not_open")
    poll = await Poll.get(id=poll.id)
    options = await _options(poll)
    await _go_live(redis, arq, poll, options)
    body = poll_json(poll, options, owner=True)
    await publish_poll_update(redis, poll, options, tally=None)
    log.info("poll opened", extra={"poll_id": poll.id})
    return body


async def close_poll(
    *, redis: Redis, poll_id: int, principal: Principal | None, arq: ArqRedis | None = None
) -> dict[str, Any]:
    """Close now (or return the final results of a closed poll) and, given `arq`, have a
    worker finalize it. `principal=None` is the system closing a poll whose `closes_at`
    has come."""
    poll = await _owned(poll_id, principal) if principal else await find_poll(poll_id=poll_id)
    if poll.status == PollStatus.DRAFT:
        raise Conflict("a draft is not open; open it or delete it", code="poll_not_open")
    if poll.finalized_at is not None:
        options = await _options(poll)
        tally = await current_tally(redis, poll)
        assert tally is not None
        results = results_json(tally, "closed", shape_of(poll, [o.id for o in options]))
        return {"poll": poll_json(poll, options), "results": results}
    async with status_lock(redis, poll.id):  # a reopen is not half done meanwhile
        closed = await close_state(redis, poll.id)
        if closed in ("no_state", "unverified"):  # lost, or maybe older than the database
            await ensure_state(redis, poll.id)
            closed = await close_state(redis, poll.id)
        if not isinstance(closed, ClosedTally):
            raise Conflict("the poll is not open", code=str(closed))
        closed_at = datetime.fromtimestamp(closed.closed_at_ms / 1000, UTC)
        changed = await Poll.filter(id=poll.id, status=PollStatus.OPEN).update(
            status=PollStatus.CLOSED, closed_at=closed_at
        )
    poll = await Poll.get(id=poll.id)
    options = await _options(poll)
    results = results_json(closed.tally, "closed", shape_of(poll, [o.id for o in options]))
    if changed:
        await publish_poll_update(redis, poll, options, tally=closed.tally)
        log.info("poll closed", extra={"poll_id": poll.id, "total": closed.tally.total})
    if arq is not None:
        await enqueue_finalize(arq, poll.id)
    return {"poll": poll_json(poll, options), "results": results}


async def reopen_poll(*, redis: Redis, principal: Principal, poll_id: int) -> dict[str, Any]:
    """Take votes on a closed poll again, exactly where it stopped: its ballots, counts
    and seq stay, `closes_at` and `closed_at` go. A finalized poll is unfinalized (its
    stored counts are stale from the first new ballot), and its Redis state, kept or
    rebuilt from the ballots, gets the outbox stream finalization deleted. The database
    first, under the status lock: a close cannot slip between the row and the script,
    and a finalize job still queued finds the poll open and leaves it alone
    (workers/finalize.py); one already past that check cannot store counts on an open
    row nor delete the new stream."""
    poll = await _owned(poll_id, principal)
    if poll.status == PollStatus.OPEN and effective_status(poll) == PollStatus.CLOSED:
        # closes_at came and its job has not run yet: make that close official first.
        await close_poll(redis=redis, poll_id=poll.id, principal=principal)
    async with status_lock(redis, poll.id):
        updated = await Poll.filter(id=poll.id, status=PollStatus.CLOSED).update(
            status=PollStatus.OPEN, closes_at=None, closed_at=None, finalized_at=None
        )
        if not updated:
            raise Conflict("only a closed poll can be reopened", code="conflict")
        outcome = await reopen_state(redis, poll.id)
        if outcome in ("no_state", "unverified"):  # rebuilt or verified from the open row
            await ensure_state(redis, poll.id)
            outcome = await reopen_state(redis, poll.id)
        if outcome != "ok":  # pragma: no cover - a closed row never has a draft's state
            raise Conflict("only a closed poll can be reopened", code="conflict")
    poll = await find_poll(poll_id=poll.id)
    options = await _options(poll)
    await publish_poll_update(redis, poll, options, tally=await current_tally(redis, poll))
    log.info("poll reopened", extra={"poll_id": poll.id})
    return poll_json(poll, options, owner=True)


async def reset_results(*, redis: Redis, principal: Principal, poll_id: int) -> dict[str, Any]:
    """Zero a poll's results, recorded (models/poll_resets.py: who, when, what was
    dropped). Only once its results are final (closed and finalized): every ballot is
    then in the database and none still on its way there, so none can come back. Under
    the status lock, so no reopen or close falls in between; reopen to vote again."""
    poll = await _owned(poll_id, principal)
    async with status_lock(redis, poll.id):
        async with in_transaction() as conn:
            locked = await Poll.filter(id=poll.id).using_db(conn).select_for_update().first()
            if locked is None:
                raise NotFound("poll not found")
            if locked.status != PollStatus.CLOSED or locked.finalized_at is None:
                raise Conflict(
                    "only a closed poll whose results are final can be reset: close it, "
                    "and try again in a few seconds if it was closed just now",
                    code="conflict",
                )
            before = await final_tally(locked)
            seq = before.seq + 1
            await PollReset.create(
                poll_id=poll.id,
                by_id=principal.user_id,
                reset_at=datetime.now(UTC),
                ballots=before.total,
                counts=before.counts,
                seq=seq,
                using_db=conn,
            )
            await Ballot.filter(poll_id=poll.id).using_db(conn).delete()
            await PollOption.filter(poll_id=poll.id).using_db(conn).update(vote_count=0)
            await Poll.filter(id=poll.id).using_db(conn).update(final_counts={})
        # A finalized poll may keep its Redis state: the next read rebuilds it, zeroed.
        await drop_state(redis, poll.id)
    log.info("poll results reset", extra={"poll_id": poll.id, "ballots": before.total})
    options = await _options(poll)
    tally = Tally(poll_id=poll.id, seq=seq, total=0, counts={})
    await publish_poll_update(redis, locked, options, tally=tally)
    return {
        "poll": poll_json(locked, options),
        "results": results_json(
            tally, effective_status(locked), shape_of(poll, [o.id for o in options])
        ),
    }


async def enqueue_finalize(arq: ArqRedis, poll_id: int) -> None:
    """Ask a worker to finalize a closed poll; one job per poll at a time (by job id).
    Best effort: the reconciler finalizes any closed poll this misses."""
    try:
        await arq.enqueue_job(FINALIZE_JOB, poll_id, _job_id=f"finalize:{poll_id}")
    except RedisError as exc:
        log.warning("could not enqueue finalizing poll %d: %s", poll_id, exc)


async def delete_poll(*, redis: Redis, principal: Principal, poll_id: int) -> None:
    poll = await _owned(poll_id, principal)
    # Redis first: votes stop being accepted before the rows disappear.
    await drop_state(redis, poll.id)
    await poll.delete()
    log.info("poll deleted", extra={"poll_id": poll.id})
    await redis.publish(
        keys.channel(redis, poll.id), orjson.dumps({"type": "POLL_DELETED", "poll_id": poll.id})
    )
    session_id: int | None = poll.session_id
    if session_id is not None:
        # Imported here: the session service builds on this one.
        from app.poll_sessions.service import poll_deleted

        await poll_deleted(redis=redis, session_id=session_id, poll_id=poll.id)


async def poll_results(*, redis: Redis, principal: Principal, poll_id: int) -> dict[str, Any]:
    poll = await find_readable_poll(principal=principal, poll_id=poll_id)
    status = effective_status(poll)
    voted = False
    if poll.results_visibility == "after_vote" and poll.status != PollStatus.DRAFT:
        voted = await _my_vote(redis, poll, principal.user_id) is not None
    if not results_visible(poll, principal.user_id, status, voted=voted):
        raise Forbidden("results are not visible to you yet", code="results_hidden")
    if poll.status == PollStatus.DRAFT:
        raise Conflict("a draft has no results", code="poll_not_open")
    tally = await current_tally(redis, poll)
    assert tally is not None
    return results_json(tally, status, shape_of(poll, [o.id for o in await _options(poll)]))


async def set_results_hidden(
    *, redis: Redis, principal: Principal, poll_id: int, hidden: bool
) -> dict[str, Any]:
    """Hide or reveal the counts (owner, any status). Rooms are told with POLL_UPDATED
    and the current tally, which the hub masks per member as ever: on a reveal every
    member who may see it now gets it at once; on a hide the owner keeps it (a page
    told "results: null" for a hidden poll blanks its chart)."""
    poll = await _owned(poll_id, principal)
    changed = (
        await Poll.filter(id=poll.id).exclude(results_hidden=hidden).update(results_hidden=hidden)
    )
    poll = await Poll.get(id=poll.id)
    options = await _options(poll)
    if changed:
        await publish_poll_update(redis, poll, options, tally=await current_tally(redis, poll))
        log.info("results %s", "hidden" if hidden else "revealed", extra={"poll_id": poll.id})
    return poll_json(poll, options, owner=True)


async def start_countdown(
    *, redis: Redis, arq: ArqRedis, principal: Principal, poll_id: int, body: Countdown
) -> dict[str, Any]:
    """Close the open poll `body.seconds` from now by Redis' clock, the one vote.lua
    refuses ballots by. The database first (the durable record, from which a lost Redis
    state is rebuilt with the new instant), then Redis, then a close job for that
    instant; a job still deferred to an earlier `closes_at` finds it not yet due."""
    poll = await _owned(poll_id, principal)
    if effective_status(poll) != PollStatus.OPEN:
        raise Conflict("only an open poll can count down", code="conflict")
    closes_at_ms = await redis_now_ms(redis) + body.seconds * 1000
    closes_at = datetime.fromtimestamp(closes_at_ms / 1000, UTC)
    updated = await Poll.filter(id=poll.id, status=PollStatus.OPEN).update(closes_at=closes_at)
    outcome = await set_closes_at(redis, poll.id, closes_at_ms) if updated else "poll_not_open"
    if outcome == "no_state":  # rebuilt from the row, new closes_at included
        await ensure_state(redis, poll.id)
        outcome = await set_closes_at(redis, poll.id, closes_at_ms)
    if outcome != "ok":
        # Closed (or its previous closes_at came) meanwhile: the close stands; the row
        # gets its closes_at back, so the reconciler still closes it on time.
        if updated:
            await Poll.filter(id=poll.id, closes_at=closes_at).update(closes_at=poll.closes_at)
        raise Conflict("only an open poll can count down", code="conflict")
    await arq.enqueue_job(
        CLOSE_JOB, poll.id, _job_id=f"close:{poll.id}:{closes_at_ms}", _defer_until=closes_at
    )
    poll = await Poll.get(id=poll.id)
    options = await _options(poll)
    await publish_poll_update(redis, poll, options, tally=None)
    log.info("countdown %d s", body.seconds, extra={"poll_id": poll.id})
    return poll_json(poll, options, owner=True)


async def announce_placement(redis: Redis, poll_ids: list[int]) -> None:
    """Polls put in a session, moved in it or taken out: their rooms hold the Poll they
    were joined with, `session_id` and `session_position` included, and would hand the
    old place to every later joiner. Best effort once the change is made (MySQL has it):
    a failed PUBLISH leaves a room's copy stale until the poll's next update."""
    if not poll_ids:
        return
    options: dict[int, list[PollOption]] = {}
    for option in await PollOption.filter(poll_id__in=poll_ids).order_by("position"):
        options.setdefault(option.poll_id, []).append(option)  # type: ignore[attr-defined]
    for poll in await Poll.filter(id__in=poll_ids):
        try:
            tally = await current_tally(redis, poll)
            await publish_poll_update(redis, poll, options.get(poll.id, []), tally=tally)
        except RedisError as exc:
            log.warning("poll %d moved but not announced: %s", poll.id, exc)


def close_due(poll: Poll, now: datetime | None = None) -> bool:
    """Whether a deferred close job may close the poll: its `closes_at` has come (a
    countdown may have moved it later since the job was queued). Half a second early
    still counts, for a worker whose clock runs a little ahead of Redis'."""
    if poll.closes_at is None:
        return False
    return (poll.closes_at - (now or datetime.now(UTC))).total_seconds() <= 0.5


async def publish_poll_update(
    redis: Redis, poll: Poll, options: list[PollOption], *, tally: Tally | None
) -> None:
    """Tell every process hosting the room; each masks results per member."""
    message: dict[str, Any] = {"type": "POLL_UPDATED", "poll": poll_json(poll, options)}
    if tally is not None:
        message["results"] = results_json(
            tally, effective_status(poll), shape_of(poll, [o.id for o in options])
        )
    await redis.publish(keys.channel(redis, poll.id), orjson.dumps(message))
