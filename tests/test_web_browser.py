"""The browser client in real Chromium (Playwright's async API) over the real service.

Every page is watched for uncaught errors, dialogs and console errors (a CSP
violation is one), and every wait has a timeout. Set LIVEPOLLS_SCREENSHOTS=<dir> to
save the README's screenshots from the first test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from tortoise import connections

from app.config import load_settings
from app.main import create_app
from tests.conftest import free_port, unique_name
from tests.web_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    PROJECTOR,
    TcpProxy,
    Watched,
    open_page,
    serving,
)

playwright_api = pytest.importorskip("playwright.async_api")
async_playwright = playwright_api.async_playwright
expect = playwright_api.expect
Browser = playwright_api.Browser
Page = playwright_api.Page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")

WAIT_MS = 10_000
# A dropped connection retries after 0.5, 1, 2, 4 s (with jitter): room for a few.
RECONNECT_MS = 20_000


@dataclass
class Web:
    base_url: str
    proxy: TcpProxy

    @property
    def proxied_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"


@contextlib.asynccontextmanager
async def serve_web(settings_env: dict[str, str], **overrides: Any) -> AsyncIterator[Web]:
    port, proxy_port = free_port(), free_port()
    origins = f"http://127.0.0.1:{port},http://127.0.0.1:{proxy_port}"
    settings = load_settings(
        **{k.lower(): v for k, v in settings_env.items()}, allowed_origins=origins, **overrides
    )
    app = create_app(settings)
    async with serving(app, port):
        await start_poll_ids_at_random(settings.is_mysql)
        proxy = TcpProxy(proxy_port, port)
        await proxy.start()
        try:
            yield Web(f"http://127.0.0.1:{port}", proxy)
        finally:
            await proxy.stop()


@pytest.fixture
async def web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    async with serve_web(settings_env) as served:
        yield served


# Access tokens that expire within the test: pages renew at ~80% of this (±5%), so
# the margin before each expiry is about two seconds: a renewal late by one second on a
# loaded machine (CI hit that with 6 s tokens) must not look like a dropped socket.
SHORT_TTL_S = 10


@pytest.fixture
async def short_web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    """The service with SHORT_TTL_S access tokens (no leeway): sessions renew all along."""
    async with serve_web(
        settings_env, jwt_ttl_s=SHORT_TTL_S, jwt_leeway_s=0, refresh_attempts_per_session=1000
    ) as served:
        yield served


async def start_poll_ids_at_random(is_mysql: bool) -> None:
    """Room channels are named by poll id, and Redis pub/sub is server-wide (not per
    db): another suite running on the same Redis server at the same time also has a
    poll 1 and would publish into our rooms. Far-apart ids keep the rooms ours."""
    start = secrets.randbelow(1_000_000_000) + 1_000_000
    db = connections.get("default")
    if is_mysql:
        await db.execute_script(f"ALTER TABLE polls AUTO_INCREMENT = {start}")
    else:
        await db.execute_script(
            f"INSERT INTO sqlite_sequence (name, seq) VALUES ('polls', {start})"
        )


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield chromium
        finally:
            await chromium.close()


# --- helpers ------------------------------------------------------------------------------


async def api_owner(base_url: str) -> dict[str, str]:
    """Register and sign in over REST; returns the credentials and auth headers."""
    username, password = unique_name("host"), "correct horse battery"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.post("/auth/register", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
        r = await c.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return {"username": username, "password": password, "Authorization": f"Bearer {token}"}


async def api_poll(base_url: str, owner: dict[str, str], **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.post("/polls", json=body, headers={"Authorization": owner["Authorization"]})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def api_guest_vote(base_url: str, poll_id: int, option_id: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        token = (await c.post("/auth/guest")).json()["access_token"]
        r = await c.post(
            f"/polls/{poll_id}/votes",
            json={"option_ids": [option_id]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text


async def sign_in(page: Any, base_url: str, owner: dict[str, str], hash_: str = "") -> None:
    await page.goto(f"{base_url}/host{hash_}")
    form = page.locator("form", has=page.get_by_role("heading", name="Sign in"))
    await form.get_by_label("Username").fill(owner["username"])
    await form.get_by_label("Password").fill(owner["password"])
    await form.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who-name")).to_have_text(owner["username"], timeout=WAIT_MS)


async def expect_counts(page: Any, chart: str, counts: list[int], total: int) -> None:
    rows = page.locator(f"{chart} li.row .count")
    await expect(rows).to_have_text([str(n) for n in counts], timeout=WAIT_MS)
    total_id = "#p-total" if chart == "#p-chart" else "#total"
    await expect(page.locator(total_id)).to_have_text(str(total), timeout=WAIT_MS)


async def expect_live(page: Any, conn: str = "#conn", within_ms: int = WAIT_MS) -> None:
    await expect(page.locator(conn)).to_have_attribute("data-state", "live", timeout=within_ms)


def no_problems(*pages: Watched, allow_console: tuple[str, ...] = ()) -> None:
    for watched in pages:
        assert watched.problems(allow_console=allow_console) == [], watched.page.url


# --- tests ----------------------------------------------------------------------------------


async def test_host_presents_audience_votes_live_and_sees_the_close(web: Web, browser: Any) -> None:
    host = await open_page(browser, PROJECTOR)
    page = host.page
    await page.goto(f"{web.base_url}/host")
    register = page.locator("form", has=page.get_by_role("heading", name="Create a host account"))
    username = unique_name("alice")
    await register.get_by_label("Username").fill(username)
    await register.get_by_label("Password").fill("a long enough password")
    await register.get_by_role("button", name="Create account").click()
    await expect(page.locator("#who-name")).to_have_text(username, timeout=WAIT_MS)

    labels = ["Rust in production", "Postgres at scale", "Accessible front ends"]
    await page.get_by_label("Question").fill("Which talk should open the conference?")
    await page.get_by_label("Answer 1", exact=True).fill(labels[0])
    await page.get_by_label("Answer 2", exact=True).fill(labels[1])
    await page.get_by_role("button", name="Add answer").click()
    await page.get_by_label("Answer 3", exact=True).fill(labels[2])
    await page.get_by_label("Voters may change their vote").check()
    await page.get_by_role("button", name="Create and open").click()

    code_el = page.locator("#p-code")
    await expect(code_el).to_have_text(re.compile(r"^[A-HJ-NP-Z2-9]{6}$"), timeout=WAIT_MS)
    code = (await code_el.text_content()) or ""
    await expect_live(page, "#p-conn")
    host_port = web.base_url.removeprefix("http://")
    await expect(page.locator("#p-link")).to_have_text(f"{host_port}/p/{code}")
    qr = await page.locator("#p-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr, "the QR code image did not load"

    audience = [await open_page(browser, PHONE) for _ in range(3)]
    first = audience[0].page
    await first.goto(f"{web.base_url}/")
    await first.get_by_label("Poll code").fill(code.lower())
    await first.get_by_label("Poll code").press("Enter")
    await first.wait_for_url(f"**/p/{code}", timeout=WAIT_MS)
    for watched in audience[1:]:
        await watched.page.goto(f"{web.base_url}/p/{code}")
    for watched in audience:
        await expect(watched.page.get_by_role("heading", level=1)).to_have_text(
            "Which talk should open the conference?", timeout=WAIT_MS
        )
        await expect_live(watched.page)
    await expect(page.locator("#p-viewers")).to_have_text("4", timeout=WAIT_MS)

    picks = [0, 1, 2]
    for watched, pick in zip(audience, picks, strict=True):
        await watched.page.get_by_role("button", name=labels[pick]).click()
        await expect(watched.page.locator("#vote-state")).to_have_text(
            "Your vote is counted.", timeout=WAIT_MS
        )
    # The third voter changes their mind (allowed in this poll), as the page now says.
    third = audience[2].page
    await expect(third.locator("#instructions")).to_have_text(
        "Tap another answer to change your vote."
    )
    await third.get_by_role("button", name=labels[0]).click()
    await expect(third.locator("#vote-state")).to_have_text("Your vote was changed.")
    await expect(third.get_by_role("button", name=labels[0])).to_have_attribute(
        "aria-pressed", "true"
    )

    await expect_counts(page, "#p-chart", [2, 1, 0], 3)
    for watched in audience:
        await expect_counts(watched.page, "#chart", [2, 1, 0], 3)
        await expect(watched.page.locator("#chart li.row .pct")).to_have_text(["67%", "33%", "0%"])
        await expect(watched.page.locator("#viewers")).to_have_text("4")

    shots = os.environ.get("LIVEPOLLS_SCREENSHOTS")
    if shots:
        await asyncio.sleep(0.6)  # let the bars finish their transition
        await asyncio.to_thread(Path(shots).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / "host-presenter.png"))
        await first.screenshot(path=str(Path(shots) / "audience-phone.png"))

    await page.get_by_role("button", name="Close voting").click()
    await expect(page.locator("#p-status")).to_have_text("Closed", timeout=WAIT_MS)
    await expect(page.get_by_role("button", name="Close voting")).to_be_hidden()
    for watched in audience:
        p = watched.page
        await expect(p.locator("#notice")).to_have_text("Voting has closed.", timeout=WAIT_MS)
        await expect(p.locator("#results-title")).to_have_text("Final results")
        await expect_counts(p, "#chart", [2, 1, 0], 3)
        for label in labels:
            await expect(p.get_by_role("button", name=label)).to_be_disabled()
    await expect_counts(page, "#p-chart", [2, 1, 0], 3)
    no_problems(host, *audience)


async def test_a_cut_connection_reconnects_and_resyncs(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url,
        owner,
        question="Lunch?",
        options=["Soup", "Salad", "Pasta"],
        allow_change=True,
    )
    assert poll["id"] > 1_000_000  # see start_poll_ids_at_random
    soup, salad, pasta = (o["id"] for o in poll["options"])
    # Through the proxy, so the test can take the network away from this page only.
    watched = await open_page(browser, PHONE)
    page = watched.page
    await page.goto(f"{web.proxied_url}/p/{poll['code']}")
    await expect_live(page)
    # By keyboard: the answers are real buttons.
    await page.get_by_role("button", name="Soup").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect_counts(page, "#chart", [1, 0, 0], 1)
    await page.evaluate("window.__sameDocument = true")

    await web.proxy.cut()
    await expect(page.locator("#conn")).to_have_attribute(
        "data-state", re.compile("waiting|connecting")
    )
    await expect(page.locator("#conn")).to_contain_text("Reconnecting", timeout=WAIT_MS)
    # While the page is away: someone else votes, and this voter changes their mind.
    await api_guest_vote(web.base_url, poll["id"], salad)
    await page.get_by_role("button", name="Pasta").click()
    await expect(page.locator("#vote-state")).to_contain_text("Not connected")
    await asyncio.sleep(0.5)
    await web.proxy.resume()

    await expect_live(page, within_ms=RECONNECT_MS)
    await expect(page.locator("#vote-state")).to_have_text(
        "Your vote was changed.", timeout=WAIT_MS
    )
    await expect_counts(page, "#chart", [0, 1, 1], 2)
    await expect(page.get_by_role("button", name="Pasta")).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_role("button", name="Soup")).to_have_attribute("aria-pressed", "false")
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.get(
            f"/polls/{poll['id']}/results", headers={"Authorization": owner["Authorization"]}
        )
    assert r.json()["counts"] == {str(soup): 0, str(salad): 1, str(pasta): 1}
    # The failed handshakes while the proxy was down are logged by Chromium itself.
    no_problems(watched, allow_console=("WebSocket connection", "ERR_CONNECTION_REFUSED"))


async def test_html_in_labels_is_shown_as_text_and_never_runs(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    question = "<script>alert('q')</script>Which <i>tag</i>?"
    labels = ["<img src=x onerror=alert(1)>", "<b>bold</b>", 'plain & simple "quotes"']
    poll = await api_poll(web.base_url, owner, question=question, options=labels)

    host = await open_page(browser, PROJECTOR)
    await sign_in(host.page, web.base_url, owner)
    items = host.page.locator("#poll-list .q")
    await expect(items).to_have_text([question], timeout=WAIT_MS)
    await host.page.get_by_role("link", name="Present").click()
    await expect(host.page.locator("#p-question")).to_have_text(question, timeout=WAIT_MS)
    await expect(host.page.locator("#p-chart .label-text")).to_have_text(labels)

    audience = await open_page(browser, PHONE)
    page = audience.page
    await page.goto(f"{web.base_url}/p/{poll['code']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(question, timeout=WAIT_MS)
    await expect(page.locator("#choices .label")).to_have_text(labels)
    await page.get_by_role("button", name="<b>bold</b>").click()
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect(page.locator("#chart .label-text")).to_have_text(labels)
    await expect_counts(host.page, "#p-chart", [0, 1, 0], 1)

    for watched in (host, audience):
        p = watched.page
        # Nothing the labels spelled became an element, and no handler ran.
        assert await p.locator("main img:not(#p-qr)").count() == 0
        assert await p.locator("main b, main i, main script").count() == 0
        assert await p.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    no_problems(host, audience)


async def test_draft_multiple_choice_and_an_already_counted_ballot(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await hp.goto(f"{web.base_url}/host")
    form = hp.locator("form", has=hp.get_by_role("heading", name="Sign in"))
    await form.get_by_label("Username").fill(owner["username"])
    await form.get_by_label("Password").fill("not the password")
    await form.get_by_role("button", name="Sign in").click()
    await expect(form.get_by_role("alert")).to_have_text("Wrong username or password.")
    await sign_in(hp, web.base_url, owner)

    # A field error from the API lands next to its field.
    await hp.get_by_label("Question").fill("Which colours?")
    await hp.get_by_label("Answer 1", exact=True).fill("Red")
    await hp.get_by_label("Answer 2", exact=True).fill("red")
    await hp.get_by_role("button", name="Save as draft").click()
    error = hp.locator('[data-error-for="options"]')
    await expect(error).to_contain_text("Duplicate option label", timeout=WAIT_MS)
    await expect(hp.locator("#create-error")).to_contain_text("Some fields need fixing")

    await hp.get_by_label("Answer 2", exact=True).fill("Green")
    await hp.get_by_role("button", name="Add answer").click()
    await hp.get_by_label("Answer 3", exact=True).fill("Blue")
    await hp.get_by_label("Several answers").check()
    await hp.get_by_label("At most how many?").fill("2")
    await hp.get_by_role("button", name="Save as draft").click()
    await expect(hp.locator("#host-notice")).to_contain_text("Draft saved", timeout=WAIT_MS)
    item = hp.locator("#poll-list li.poll-item")
    await expect(item.locator(".badge")).to_have_text("Draft")
    code = (await item.locator(".mono").text_content()) or ""

    context = await browser.new_context(viewport=PHONE)
    one = await open_page(browser, PHONE, context=context)
    await one.page.goto(f"{web.base_url}/p/{code}")
    # A draft is the host's only: the audience is told no open poll has the code yet,
    # and the page keeps asking until it opens.
    await expect(one.page.locator("#notice")).to_contain_text(
        "no open poll with the code", timeout=WAIT_MS
    )
    await expect(one.page.get_by_label("Red")).to_be_hidden()

    await item.get_by_role("button", name="Open voting").click()
    await expect(item.locator(".badge")).to_have_text("Open", timeout=WAIT_MS)
    await expect(one.page.locator("#notice")).to_be_hidden(timeout=WAIT_MS)
    await expect(one.page.locator("#instructions")).to_contain_text("Pick up to 2 answers")
    # A second tab of the same browser: the same guest, joined before the first votes.
    two = await open_page(browser, PHONE, context=context)
    await two.page.goto(f"{web.base_url}/p/{code}")
    await expect_live(two.page)
    await expect(two.page.get_by_label("Blue")).to_be_enabled(timeout=WAIT_MS)

    await one.page.get_by_label("Red").check()
    await one.page.get_by_label("Green").check()
    await expect(one.page.get_by_label("Blue")).to_be_disabled()
    await expect(one.page.locator("#choice-count")).to_have_text("2 of at most 2 picked")
    await one.page.get_by_role("button", name="Submit vote").click()
    await expect(one.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect(one.page.get_by_label("Red")).to_be_disabled()
    await expect(one.page.locator("#instructions")).to_be_hidden()  # nothing left to pick

    await two.page.get_by_label("Blue").check()
    await two.page.get_by_role("button", name="Submit vote").click()
    await expect(two.page.locator("#vote-state")).to_have_text(
        "You have already voted in this poll, and votes cannot be changed.", timeout=WAIT_MS
    )
    # It resynced: the boxes now show the ballot that counts.
    await expect(two.page.get_by_label("Red")).to_be_checked()
    await expect(two.page.get_by_label("Green")).to_be_checked()
    await expect(two.page.get_by_label("Blue")).not_to_be_checked()
    for p in (one.page, two.page):
        await expect_counts(p, "#chart", [1, 1, 0], 1)
        await expect(p.locator("#chart li.row .pct")).to_have_text(["100%", "100%", "0%"])
    # Chromium logs the deliberate 401 and 422 above as failed resource loads.
    no_problems(host, one, two, allow_console=("status of 422", "status of 401"))


async def test_ticks_never_submitted_go_when_the_poll_closes(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url, owner, question="Lunch?", options=["Soup", "Salad"], kind="multiple"
    )
    watched = await open_page(browser, PHONE)
    page = watched.page
    await page.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(page)
    await page.get_by_label("Soup").check()
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.post(
            f"/polls/{poll['id']}/close", headers={"Authorization": owner["Authorization"]}
        )
    assert r.status_code == 200, r.text
    await expect(page.locator("#notice")).to_have_text("Voting has closed.", timeout=WAIT_MS)
    # The page shows what counted (nothing), not a pick that never reached the server.
    await expect(page.get_by_label("Soup")).not_to_be_checked()
    await expect(page.get_by_label("Soup")).to_be_disabled()
    await expect(page.get_by_role("button", name="Submit vote")).to_be_disabled()
    no_problems(watched)


async def test_a_refused_guest_token_is_replaced(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(web.base_url, owner, question="Tea?", options=["Yes", "No"])
    watched = await open_page(browser, PHONE)
    page = watched.page
    await page.goto(f"{web.base_url}/")
    stale = '{"access_token": "not.a.token", "token_type": "Bearer", "expires_in": 60}'
    await page.evaluate(f"localStorage.setItem('livepolls.guest', {stale!r})")
    await page.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(page, within_ms=RECONNECT_MS)
    await page.get_by_role("button", name="Yes").click()
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")
    token = await page.evaluate("JSON.parse(localStorage.getItem('livepolls.guest')).access_token")
    assert token != "not.a.token"
    # The new token is kept and reused: a reload is the same voter.
    await page.reload()
    await expect(page.locator("#vote-state")).to_have_text("You have voted.", timeout=WAIT_MS)
    await expect(page.get_by_role("button", name="Yes")).to_have_attribute("aria-pressed", "true")
    # The refused handshake and the 401 that explains it are logged by Chromium.
    no_problems(watched, allow_console=("WebSocket connection", "status of 401"))


async def stored(page: Any, key: str) -> dict[str, Any]:
    token: dict[str, Any] = await page.evaluate(f"JSON.parse(localStorage.getItem('{key}'))")
    return token


async def test_pages_renew_their_sessions_and_the_phone_stays_the_same_voter(
    short_web: Web, browser: Any
) -> None:
    web = short_web
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url, owner, question="Best season?", options=["Spring", "Summer"]
    )
    assert poll["allow_change"] is False
    host = await open_page(browser, PROJECTOR)
    await sign_in(host.page, web.base_url, owner, f"#/poll/{poll['id']}")
    await expect_live(host.page, "#p-conn")
    phone = await open_page(browser, PHONE)
    sockets: dict[str, int] = {"host": 0, "phone": 0}
    host.page.on("websocket", lambda _: sockets.__setitem__("host", sockets["host"] + 1))
    phone.page.on("websocket", lambda _: sockets.__setitem__("phone", sockets["phone"] + 1))
    await phone.page.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(phone.page)
    await phone.page.get_by_role("button", name="Spring").click()
    await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    first = await stored(phone.page, "livepolls.guest")
    host_first = await stored(host.page, "livepolls.account")

    # Wait until the phone's first access token has expired (the server refuses it)
    # and the page has renewed at least twice by itself.
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        seen = {first["access_token"]}
        while True:
            token = await stored(phone.page, "livepolls.guest")
            assert token is not None, "the page dropped its guest"
            seen.add(token["access_token"])
            expired = (
                await c.get(
                    "/auth/me", headers={"Authorization": f"Bearer {first['access_token']}"}
                )
            ).status_code == 401
            if expired and len(seen) >= 3:
                break
            assert time.monotonic() < deadline, f"no renewal: {len(seen)} tokens, {expired=}"
            await asyncio.sleep(0.25)

    now = await stored(phone.page, "livepolls.guest")
    assert now["user"]["id"] == first["user"]["id"]
    assert now["refresh_token"] != first["refresh_token"]
    await expect_live(phone.page)
    # Nothing on the phone moved: the same socket, the same counted vote.
    await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect(phone.page.get_by_role("button", name="Summer")).to_be_disabled()
    # The page's renewed token is the same voter for the server: a second ballot is refused.
    summer = poll["options"][1]["id"]
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.post(
            f"/polls/{poll['id']}/votes",
            json={"option_ids": [summer]},
            headers={"Authorization": f"Bearer {now['access_token']}"},
        )
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "already_voted"
    # The projector renewed too and kept presenting: no sign-in form, one vote counted.
    assert (await stored(host.page, "livepolls.account"))["access_token"] != host_first[
        "access_token"
    ]
    await expect(host.page.locator("#auth-view")).to_be_hidden()
    await expect_live(host.page, "#p-conn")
    await expect_counts(host.page, "#p-chart", [1, 0], 1)
    # Renewed in band: neither page opened another socket (the phone's one is its first).
    assert sockets == {"host": 0, "phone": 1}

    # A reload is the same voter too.
    await phone.page.reload()
    await expect(phone.page.locator("#vote-state")).to_have_text("You have voted.", timeout=WAIT_MS)
    await expect(phone.page.get_by_role("button", name="Spring")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert (await stored(phone.page, "livepolls.guest"))["user"]["id"] == first["user"]["id"]
    await expect_counts(phone.page, "#chart", [1, 0], 1)
    no_problems(host, phone)
