"""Operational endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from app.db import ping_db
from app.http.headers import never_cached
from app.metrics import render

bp = Blueprint("ops")
never_cached(bp)

READY_TIMEOUT_S = 2.0


@bp.get("/healthz")
@openapi.summary("Liveness: 200 while the process runs")
async def healthz(request: Request) -> HTTPResponse:
    # The pid tells which worker answered, for operators and the multi-worker tests.
    return json({"status": "ok", "pid": os.getpid()})


@bp.get("/readyz")
@openapi.summary("Readiness: 200 when the database and Redis answer, else 503 naming which")
async def readyz(request: Request) -> HTTPResponse:
    async def check(name: str, probe: Awaitable[object]) -> tuple[str, str | None]:
        try:
            await asyncio.wait_for(probe, READY_TIMEOUT_S)
        except Exception as exc:
            return name, f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
        return name, None

    results = await asyncio.gather(
        check("database", ping_db()),
        check("redis", request.app.ctx.redis.client.ping()),
    )
    failed = {name: why for name, why in results if why is not None}
    checks = {name: ("ok" if why is None else "failed") for name, why in results}
    if failed:
        return json(
            {
                "error": {
                    "code": "not_ready",
                    "message": "not ready: " + ", ".join(sorted(failed)) + " failed",
                    "details": {"checks": checks, "failures": failed},
                }
            },
            status=503,
        )
    return json({"status": "ready", "checks": checks})


@bp.get("/metrics")
@openapi.summary("Prometheus metrics merged from every process")
async def metrics(request: Request) -> HTTPResponse:
    body, content_type = render()
    return raw(body, content_type=content_type)
