"""Routes of the browser client: the pages, their static files, the join QR code.

Every response of this blueprint carries the security headers below. The pages load
only same-origin scripts and styles (no inline code, no inline handlers), so the
Content-Security-Policy forbids everything else; an injected `<img onerror=...>`
could not run even if one got into the DOM (the pages never use innerHTML).

`/static/` serves exactly the files under `static/` at start, by their relative path;
any other path (a folder, a NUL byte, `..`, a name too long for the filesystem) is a
plain 404, without touching the filesystem.

`GET /p/{code}/qr.svg` (a poll) and `GET /s/{code}/qr.svg` (a session) are public:
they encode nothing but the join link, which is written on the projector anyway.
The link's origin is the request's own (Sanic only trusts forwarded host and scheme
when PROXIES_COUNT is set), so it matches what the host page shows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, raw, redirect

from app.db import is_outage
from app.errors import NotFound
from app.poll_sessions import service as sessions
from app.polls import codes, service
from app.web.qr import join_link, qr_svg
from models import Session

bp = Blueprint("web")

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
STATIC = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Pages and static files are revalidated on every load (they are not fingerprinted,
# so a long max-age would pin old code after a deploy); Last-Modified makes it a 304.
REVALIDATE = "no-cache"
QR_MAX_AGE_S = 3600

# Every file the client may load, by its path under /static/ (the package ships them).
STATIC_FILES = {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}


async def security_headers(request: Request, response: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", REVALIDATE)


bp.middleware(security_headers, "response")


async def _page(name: str) -> HTTPResponse:
    return await file(PAGES / name, mime_type="text/html; charset=utf-8")


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    return await _page("index.html")


@bp.get("/host")
async def host(request: Request) -> HTTPResponse:
    return await _page("host.html")


@bp.get("/p/<code>")
async def audience(request: Request, code: str) -> HTTPResponse:
    """Served for any code (the page itself tells the visitor when no poll has it), but
    a session's code, typed in the home page's join box or shared as a poll link, goes
    on to the session's page."""
    normalized = codes.normalize(code)
    try:
        is_session = normalized is not None and await Session.exists(code=normalized)
    except Exception as exc:
        if not is_outage(exc):
            raise
        is_session = False  # the database is away: the poll page says what it can
    if is_session:
        return redirect(f"/s/{normalized}")
    return await _page("poll.html")


@bp.get("/s/<code>")
async def session_audience(request: Request, code: str) -> HTTPResponse:
    # The audience page following a session: whichever poll the host shows, or none.
    return await _page("session.html")


@bp.get("/present/<code>")
async def projector(request: Request, code: str) -> HTTPResponse:
    # A poll's or a session's code: the page finds out which over the WebSocket.
    return await _page("present.html")


@bp.route("/static/<path:path>", methods=["GET", "HEAD"], name="static")  # type: ignore[untyped-decorator]
async def static(request: Request, path: str) -> HTTPResponse:
    found = STATIC_FILES.get(path)
    if found is None:
        raise NotFound("file not found")
    # request_headers: Last-Modified, and a 304 for a matching If-Modified-Since.
    return await file(found, request_headers=request.headers)


@bp.get("/p/<code>/qr.svg")
async def join_qr(request: Request, code: str) -> HTTPResponse:
    poll = await service.find_poll(code=code)
    return _qr_response(request, join_link(f"{request.scheme}://{request.host}", poll.code))


@bp.get("/s/<code>/qr.svg")
async def session_qr(request: Request, code: str) -> HTTPResponse:
    session = await sessions.find_session(code=code)
    origin = f"{request.scheme}://{request.host}"
    return _qr_response(request, join_link(origin, session.code, page="s"))


def _qr_response(request: Request, link: str) -> HTTPResponse:
    etag = '"' + hashlib.sha256(link.encode()).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={QR_MAX_AGE_S}",
        "ETag": etag,
        # The picture depends on the origin it was asked on.
        "Vary": "Host",
        # Opened on its own, the SVG may not load anything either.
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
    }
    if etag in request.headers.get("if-none-match", ""):
        return HTTPResponse(status=304, headers=headers)
    return raw(qr_svg(link), content_type="image/svg+xml; charset=utf-8", headers=headers)
