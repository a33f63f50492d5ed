"""Operational endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from typing import Literal

from pydantic import BaseModel
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from app.db import ping_db
from app.http.docs import api
from app.http.headers import never_cached
from app.metrics import render

bp = Blueprint("ops")
never_cached(bp)

READY_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: Literal["ok"]
    pid: int


class Ready(BaseModel):
    status: Literal["ready"]
    checks: dict[str, Literal["ok"]]


@bp.get("/healthz")
@api("healthz", "Liveness: 200 while the process runs", reply=Health)
async def healthz(request: Request) -> HTTPResponse:
    # The pid tells which worker answered, for operators and the multi-worker tests.
    return json({"status": "ok", "pid": os.getpid()})


@bp.get("/readyz")
@api(
    "readyz",
    "Readiness: 200 when the database and Redis answer, else 503 naming which",
    reply=Ready,
    errors=("NotReady",),
)
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
@api(
    "metrics",
    "Prometheus metrics merged from every process",
    reply="text/plain",
    description="the Prometheus text format",
)
async def metrics(request: Request) -> HTTPResponse:
    body, content_type = render()
    return raw(body, content_type=content_type)
