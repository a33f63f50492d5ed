"""The browser client over plain HTTP: pages, headers, static files, the join QR code."""

from __future__ import annotations

import fnmatch
import logging
import re
import tomllib
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from app.web.qr import join_link, qr_svg
from app.web.routes import CSP, PAGES, STATIC
from tests.conftest import ROOT, LiveServer
from tests.test_poll_sessions import new_session
from tests.test_polls import create

PAGE_PATHS = [
    "/",
    "/host",
    "/p/ABC234",
    "/p/abc234",
    "/p/not-a-code",
    "/s/ABC234",
    "/s/not-a-code",
    "/present/ABC234",
    "/present/not-a-code",
]


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1][0] in ("script", "style"):
            self.script_text += data.strip()


@pytest.mark.parametrize("path", PAGE_PATHS)
async def test_pages_carry_the_csp_and_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES.glob("*.html")))
async def test_pages_have_no_inline_code_and_load_only_our_files(
    client: httpx.AsyncClient, page: str
) -> None:
    parser = Tags()
    parser.feed((PAGES / page).read_text())
    assert parser.script_text == "", "inline <script> or <style>"
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts and all(a.get("type") == "module" and a.get("src") for a in scripts)
    for tag, attrs in parser.tags:
        assert tag != "style"
        assert "style" not in attrs, f"inline style on <{tag}>"
        assert not [a for a in attrs if a.startswith("on")], f"inline handler on <{tag}>"
    urls = [a.get("src") or a.get("href") for t, a in parser.tags if t in ("script", "link")]
    for url in urls:
        assert url and url.startswith("/static/")
        r = await client.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff"
        expected = {"js": "javascript", "css": "text/css", "svg": "image/svg+xml"}
        assert expected[url.rsplit(".", 1)[1]] in r.headers["content-type"]


def test_scripts_never_parse_strings_as_html() -> None:
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    for module in sorted((STATIC / "js").glob("*.js")):
        assert not sinks.search(module.read_text()), module.name


def test_every_client_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["app"]
    app_dir = ROOT / "app"
    for folder in (PAGES, STATIC):
        for path in folder.rglob("*"):
            if path.is_file():
                relative = path.relative_to(app_dir).as_posix()
                assert any(fnmatch.fnmatch(relative, g) for g in globs), relative


async def test_static_files_stay_inside_their_folder(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/js/nope.js")).status_code == 404
    for path in ("/static/../routes.py", "/static/%2e%2e/routes.py", "/static/../../main.py"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert "import" not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static/js",
        "/static/js/",
        "/static/css",
        "/static/js%00.js",
        "/static/js/api.js%00",
        "/static/%00",
        "/static/favicon.svg/x",
        "/static/" + "a" * 300,
        "/static/js/" + "a" * 5000 + ".js",
    ],
)
async def test_static_paths_that_are_no_file_are_a_json_404(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_static_files_are_revalidated_with_last_modified(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/js/api.js")
    assert r.status_code == 200 and r.content == (STATIC / "js" / "api.js").read_bytes()
    assert r.headers["cache-control"] == "no-cache"
    again = await client.get(
        "/static/js/api.js", headers={"If-Modified-Since": r.headers["last-modified"]}
    )
    assert again.status_code == 304 and again.content == b""
    head = await client.head("/static/css/app.css")
    assert head.status_code == 200 and head.content == b""


async def test_join_qr_code_is_public_svg_of_the_join_link(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    poll = await create(client, await make_person())
    r = await client.get(f"/p/{poll['code'].lower()}/qr.svg")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["cache-control"] == "public, max-age=3600"
    assert r.headers["vary"] == "Host"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    link = join_link(live_server.base_url, poll["code"])
    assert link == f"{live_server.base_url}/p/{poll['code']}"
    root = ET.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") and root.get("width") is None
    assert root.findtext("{http://www.w3.org/2000/svg}title") == link
    assert r.content == qr_svg(link)

    again = await client.get(
        f"/p/{poll['code']}/qr.svg", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_session_qr_code_is_the_join_link_of_the_session_page(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    session = await new_session(client, owner, [])
    r = await client.get(f"/s/{session['code'].lower()}/qr.svg")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["cache-control"] == "public, max-age=3600"
    link = join_link(live_server.base_url, session["code"], page="s")
    assert link == f"{live_server.base_url}/s/{session['code']}"
    root = ET.fromstring(r.content)
    assert root.findtext("{http://www.w3.org/2000/svg}title") == link
    again = await client.get(
        f"/s/{session['code']}/qr.svg", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    # A session code is no poll code, and the other way round; but a session's code on
    # the poll page (the home page's join box sends every code there) goes on.
    assert (await client.get(f"/p/{session['code']}/qr.svg")).status_code == 404
    moved = await client.get(f"/p/{session['code'].lower()}")
    assert moved.status_code == 302 and moved.headers["location"] == f"/s/{session['code']}"
    poll = await create(client, owner)
    assert (await client.get(f"/s/{poll['code']}/qr.svg")).status_code == 404
    assert (await client.get(f"/p/{poll['code']}")).status_code == 200


@pytest.mark.parametrize("page", ["p", "s"])
@pytest.mark.parametrize("code", ["ZZZZZZ", "abc", "ABCDE1", "%3Cscript%3E"])
async def test_qr_code_of_an_unknown_code_is_a_json_404(
    client: httpx.AsyncClient, live_server: LiveServer, code: str, page: str
) -> None:
    r = await client.get(f"/{page}/{code}/qr.svg")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_client_routes_stay_out_of_the_api_spec(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    assert "/polls" in paths
    prefixes = ("/p/", "/s/", "/present/", "/host", "/static")
    leaked = [p for p in paths if p == "/" or p.startswith(prefixes)]
    assert leaked == []


def test_csp_allows_no_inline_code() -> None:
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
