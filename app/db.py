"""Tortoise ORM wiring: one config builder shared by the web app, the workers and aerich.

The pool is sized and recycled explicitly because aiomysql's defaults (5 connections,
never recycled) starve a busy process and die on MySQL's idle timeout.
"""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

from app.config import Settings
from models import MODEL_MODULES


def tortoise_config(settings: Settings, *, with_aerich: bool = False) -> dict[str, Any]:
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
    modules = list(MODEL_MODULES) + (["aerich.models"] if with_aerich else [])
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": modules, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_db(settings: Settings, *, generate_schemas: bool = False) -> None:
    """Open the ORM for this process.

    The global fallback context makes the ORM usable from every task of the process
    (request handlers, background tasks), which a context set in a listener is not.
    """
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
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
