"""`python -m app.admin` (or `livepolls-admin`): operator commands on a running service.

    create-user USERNAME [--password-stdin]   an account (the password is prompted for)
    close-poll POLL_ID                        close now; prints the final results
    reconcile                                 one reconcile pass now; prints its report
    export POLL_ID [--ballots] [--out FILE]   results (or ballots) as CSV (app/polls/export.py)

The same settings (the environment, as for the web and the workers) and the same
services as the app: accounts through app/users.py, the close through
app/polls/service.py (the rooms are told, a worker finalizes the poll), the pass
through workers/reconcile.py. Each command opens the database and Redis, does its one
thing and closes them. Output is JSON (CSV for export) on stdout; a refusal (unknown
poll, taken name, bad input, an unreachable backend) is one line on stderr and exit
status 1, bad usage 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from arq.connections import ArqRedis
from pydantic import ValidationError
from redis.exceptions import RedisError
from tortoise.exceptions import BaseORMException

from app import users
from app.config import Settings, SettingsError, load_settings
from app.db import close_db, open_db
from app.errors import ApiError
from app.http.auth import RegisterBody
from app.logs import setup_logging
from app.polls import export
from app.polls.service import close_poll
from app.redis import RedisHandle, open_redis
from workers.reconcile import reconcile

PROG = "livepolls-admin"


class Refused(Exception):
    """The command cannot be done; the message is one line for stderr."""


class Backends:
    """The database and Redis for one command, opened and closed around it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redis: RedisHandle | None = None
        self._arq: ArqRedis | None = None

    @property
    def redis(self) -> RedisHandle:
        if self._redis is None:
            self._redis = open_redis(self.settings)
        return self._redis

    @property
    def arq(self) -> ArqRedis:
        if self._arq is None:
            self._arq = ArqRedis.from_url(self.redis.url)
        return self._arq

    async def __aenter__(self) -> Backends:
        await open_db(self.settings, generate_schemas=not self.settings.is_mysql)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._arq is not None:
            await self._arq.aclose()
        if self._redis is not None:
            await self._redis.close()
        await close_db()


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Refused("the passwords differ")
    return first


async def create_user(b: Backends, args: argparse.Namespace) -> None:
    password = _read_password(args)
    try:
        body = RegisterBody(username=args.username, password=password)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise Refused(f"invalid {err['loc'][0]}: {err['msg']}") from None
    user = await users.create_account(
        settings=b.settings, username=body.username, password=body.password
    )
    _print_json({"user": users.user_json(user)})


async def close(b: Backends, args: argparse.Namespace) -> None:
    closed = await close_poll(redis=b.redis.client, poll_id=args.poll_id, principal=None, arq=b.arq)
    _print_json(closed["results"])


async def reconcile_now(b: Backends, args: argparse.Namespace) -> None:
    report = await reconcile(
        redis=b.redis.client, arq=b.arq, recount_every_s=b.settings.recount_interval_s
    )
    _print_json(report.summary())


async def export_poll(b: Backends, args: argparse.Namespace) -> None:
    columns: tuple[str, ...]
    if args.ballots:
        columns, rows = export.BALLOT_COLUMNS, await export.ballot_rows(poll_id=args.poll_id)
    else:
        columns = export.RESULT_COLUMNS
        rows = await export.result_rows(redis=b.redis.client, poll_id=args.poll_id)
    _write(export.to_csv(columns, rows), args.out)


def _write(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


Command = Callable[[Backends, argparse.Namespace], Awaitable[None]]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="livepolls operator commands")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("create-user", help="create an account")
    c.add_argument("username")
    c.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    c.set_defaults(run=create_user)
    c = sub.add_parser("close-poll", help="close a poll now; prints its final results")
    c.add_argument("poll_id", type=int)
    c.set_defaults(run=close)
    c = sub.add_parser("reconcile", help="run one reconcile pass now; prints its report")
    c.set_defaults(run=reconcile_now)
    c = sub.add_parser("export", help="a poll's results as CSV")
    c.add_argument("poll_id", type=int)
    c.add_argument("--ballots", action="store_true", help="the raw ballots instead")
    c.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    c.set_defaults(run=export_poll)
    return p


async def _run(settings: Settings, run: Command, args: argparse.Namespace) -> None:
    async with Backends(settings) as backends:
        await run(backends, args)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings)
    try:
        asyncio.run(_run(settings, args.run, args))
    except ApiError as exc:
        print(f"{PROG}: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except (RedisError, BaseORMException, OSError) as exc:
        print(f"{PROG}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
