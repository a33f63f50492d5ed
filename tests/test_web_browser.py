"""The browser client in real Chromium (Playwright's async API) over the real service.

Every page is watched for uncaught errors, dialogs and console errors (a CSP
violation is one), and every wait has a timeout. Set LIVEPOLLS_SCREENSHOTS=<dir> to
save the README's screenshots from the first test.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

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


@pytest.fixture
async def web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    port, proxy_port = free_port(), free_port()
    origins = f"http://127.0.0.1:{port},http://127.0.0.1:{proxy_port}"
    settings = load_settings(
        **{k.lower(): v for k, v in settings_env.items()}, allowed_origins=origins
    )
    app = create_app(settings)
    async with serving(app, port):
        proxy = TcpProxy(proxy_port, port)
        await proxy.start()
        try:
            yield Web(f"http://127.0.0.1:{port}", proxy)
        finally:
            await proxy.stop()


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


async def expect_live(page: Any, conn: str = "#conn", timeout: int = WAIT_MS) -> None:
    await expect(page.locator(conn)).to_have_attribute("data-state", "live", timeout=timeout)


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
    await expect(page.locator("#p-link")).to_have_text(f"127.0.0.1:{web.base_url.rsplit(':', 1)[1]}/p/{code}")
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
    # The third voter changes their mind (allowed in this poll).
    third = audience[2].page
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
        Path(shots).mkdir(parents=True, exist_ok=True)
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
