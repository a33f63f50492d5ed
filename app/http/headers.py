"""Headers of API responses: what a browser may sniff, what a cache may keep.

Every response of the service says `X-Content-Type-Options: nosniff`, so a JSON error
that echoes user text can never be run as a script or styled as a page. Responses that
carry a token, a user or live poll state (the `auth`, `polls` and `ops` blueprints) say
`Cache-Control: no-store`: a shared cache or the browser's back button must not hand
one user's token or an old tally to anyone. Routes that set their own Cache-Control
(static files, the QR code) keep it.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import BaseHTTPResponse


async def nosniff(request: Request, response: BaseHTTPResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


async def no_store(request: Request, response: BaseHTTPResponse) -> None:
    response.headers.setdefault("Cache-Control", "no-store")


def setup_headers(app: Sanic[Any, Any]) -> None:
    app.register_middleware(nosniff, "response")


def never_cached(bp: Blueprint) -> None:
    """Mark every response of `bp`, its errors included, `Cache-Control: no-store`."""
    bp.middleware(no_store, "response")


def attachment(filename: str) -> dict[str, str]:
    """`Content-Disposition` of a download: saved under `filename`, never shown inline.
    The names are ours (ids and fixed words), so they need no quoting."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
