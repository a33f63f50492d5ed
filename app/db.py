"""Tortoise ORM wiring: one config builder shared by the web app, the workers and aerich.

The pool is sized and recycled explicitly because aiomysql's defaults (5 connections,
never recycled) starve a busy process and die on MySQL's idle timeout. The web
processes also bound every use of a connection (`deadline_s`, app.mysql_deadline), so
a database that is down or hangs fails a request within seconds; `is_outage` tells
those failures (answered 503) from bugs (500).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pymysql.constants import CR, ER  # type: ignore[import-untyped]
from pymysql.err import OperationalError as MySQLOperationalError  # type: ignore[import-untyped]
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError, OperationalError

from app.config import Settings
from models import MODEL_MODULES

# MySQL client errors that mean "the server is not there" rather than "the query is wrong".
_MYSQL_OUTAGE_CODES = frozenset(
    {
        CR.CR_CONNECTION_ERROR,
        CR.CR_CONN_HOST_ERROR,
        CR.CR_SERVER_GONE_ERROR,
        CR.CR_SERVER_LOST,
        ER.CON_COUNT_ERROR,
        ER.SERVER_SHUTDOWN,
        ER.LOCK_WAIT_TIMEOUT,
    }
)
# SQLite's: another process holds the file's lock past the busy timeout, or the file
# cannot be read or written.
_SQLITE_OUTAGE_MESSAGES = ("database is locked", "unable to open database file", "disk I/O error")


def tortoise_config(
    settings: Settings, *, with_aerich: bool = False, deadline_s: float | None = None
) -> dict[str, Any]:
    """The ORM config; `deadline_s` bounds each use of a MySQL connection (web processes:
    the workers' batches and reconcile passes may legitimately run longer, and retry)."""
    url = settings.resolved_database_url
    connection = expand_db_url(url)
    if settings.is_mysql:
        # Pin aiomysql: with asyncmy also installed Tortoise would silently pick it.
        connection["engine"] = "tortoise.backends.mysql"
        creds = connection["credentials"]
        creds.setdefault("minsize", 1)
        creds["maxsize"] = settings.db_pool_max
        creds["pool_recycle"] = settings.db_pool_recycle_s
        creds.setdefault("charset", "utf8mb4")
        creds.setdefault("connect_timeout", 5)
        if deadline_s is not None:
            connection["engine"] = "app.mysql_deadline"
            creds["deadline_s"] = deadline_s
            creds["connect_timeout"] = min(float(creds["connect_timeout"]), deadline_s)
    elif deadline_s is not None:
        # A write waits this long for another process's lock (a PRAGMA, as Tortoise
        # passes unknown SQLite credentials), then fails "database is locked".
        connection["credentials"]["busy_timeout"] = int(deadline_s * 1000)
    modules = list(MODEL_MODULES) + (["aerich.models"] if with_aerich else [])
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": modules, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_db(
    settings: Settings, *, generate_schemas: bool = False, deadline_s: float | None = None
) -> None:
    """Open the ORM for this process.

    The global fallback context makes the ORM usable from every task of the process
    (request handlers, background tasks), which a context set in a listener is not.
    """
    config = tortoise_config(settings, deadline_s=deadline_s)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    if generate_schemas:
        await Tortoise.generate_schemas(safe=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def ping_db() -> None:
    await connections.get("default").execute_query("SELECT 1")


def placeholders(conn: BaseDBAsyncClient, count: int) -> str:
    """`count` bind markers for a raw query's `IN (...)`, in the connection's dialect."""
    mark = "%s" if conn.capabilities.dialect == "mysql" else "?"
    return ", ".join([mark] * count)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database is unreachable, hung or locked (retry later),
    as opposed to a query the database refused (a bug)."""
    if isinstance(exc, DBConnectionError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.args[0] if exc.args else exc.__cause__
    if isinstance(cause, MySQLOperationalError):
        return bool(cause.args) and cause.args[0] in _MYSQL_OUTAGE_CODES
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).startswith(_SQLITE_OUTAGE_MESSAGES)
    return False
