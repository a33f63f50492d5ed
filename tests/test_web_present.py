"""The projector page (`/present/{code}`) and the countdown, in real Chromium.

The projector must fit a 1366x768 and a 1920x1080 screen with 12 long answers and no
scrolling, follow the votes live, and show hidden results as hidden. The countdown is
drawn by the server's clock and says "closed" at zero. Set LIVEPOLLS_SCREENSHOTS=<dir>
to save the README's projector screenshots (as tests/test_web_browser.py does).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from tests.test_web_browser import (
    WAIT_MS,
    Web,
    api_guest_vote,
    api_owner,
    api_poll,
    expect_live,
    no_problems,
    serve_web,
    sign_in,
)
from tests.web_helpers import CHROMIUM, CHROMIUM_ARGS, PHONE, open_page
from tests.wsclient import WsClient

playwright_api = pytest.importorskip("playwright.async_api")
async_playwright = playwright_api.async_playwright
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")

NO_COUNT = "\u2013"  # what the chart shows for a hidden count (an en dash)
SCREENS = {"1366": {"width": 1366, "height": 768}, "1920": {"width": 1920, "height": 1080}}
# Twelve answers of about 40 characters, each different from the start (no prefix
# that a truncated label could share with another).
LABELS = [
    "Asynchronous Rust services in production",
    "Browser testing without flaky waiting",
    "Capacity planning for a sudden viral hit",
    "Database migrations that never lock up",
    "Edge caching for personalised web pages",
    "Feature flags and their long-term costs",
    "Graph queries over relational databases",
    "Hiring and growing a platform team well",
    "Incident reviews that change something",
    "JavaScript bundles under fifty kilobytes",
    "Keeping WebSocket rooms alive at scale",
    "Load testing with realistic user traffic",
]


@pytest.fixture
async def web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    async with serve_web(settings_env) as served:
        yield served


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


async def owner_post(base_url: str, owner: dict[str, str], path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.post(path, json=body, headers={"Authorization": owner["Authorization"]})
    assert r.status_code == 200, r.text
    return r.json()


async def assert_fits(page: Any) -> None:
    """No scrolling either way, and every answer wholly on the screen."""
    sizes = await page.evaluate(
        "() => { const s = document.scrollingElement;"
        " return [s.scrollHeight, innerHeight, s.scrollWidth, innerWidth]; }"
    )
    height, inner_height, width, inner_width = sizes
    assert height <= inner_height and width <= inner_width, sizes
    labels = page.locator("#pr-chart .label-text")
    await expect(labels).to_have_text(LABELS)
    for i in range(len(LABELS)):
        await expect(labels.nth(i)).to_be_in_viewport(ratio=1)
    for part in ("#pr-question", "#pr-code", "#pr-link", "#pr-qr", "#pr-countdown"):
        await expect(page.locator(part)).to_be_in_viewport(ratio=1)
    # The text of the answers is not squeezed into something unreadable either.
    font = await labels.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 14, font


@pytest.mark.parametrize("screen", sorted(SCREENS))
async def test_the_projector_fits_follows_votes_and_shows_hidden_results(
    web: Web, browser: Any, screen: str
) -> None:
    viewport = SCREENS[screen]
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url,
        owner,
        question="Which talk should open the second day of the conference?",
        options=LABELS,
    )
    await owner_post(web.base_url, owner, f"/polls/{poll['id']}/countdown", {"seconds": 600})
    option_ids = [o["id"] for o in poll["options"]]

    # The host opens it from the presenter page: a new tab, the host's own token.
    host = await open_page(browser, viewport)
    await sign_in(host.page, web.base_url, owner, f"#/poll/{poll['id']}")
    link = host.page.get_by_role("link", name="Projector")
    await expect(link).to_have_attribute("href", f"/present/{poll['code']}")
    async with host.page.context.expect_page() as opened:
        await link.click()
    page = await opened.value
    page.set_default_timeout(WAIT_MS)
    await expect_live(page, "#pr-conn")
    await expect(page.locator("#pr-question")).to_have_text(poll["question"])
    await expect(page.locator("#pr-code")).to_have_text(poll["code"])
    await expect(page.locator("#pr-link")).to_have_text(
        re.compile(rf"/p/{poll['code']}$"), timeout=WAIT_MS
    )
    await expect(page.locator("#pr-countdown")).to_have_text(
        re.compile(r"^Voting closes in (10:00|9:[0-5]\d)$")
    )
    # Nothing of the host's account and nothing to press.
    assert await page.locator("button, input, select, textarea").count() == 0
    assert owner["username"] not in await page.locator("body").inner_text()
    counts = page.locator("#pr-chart li.row .count")
    await expect(counts).to_have_text(["0"] * len(LABELS))
    await assert_fits(page)

    # A vote over REST moves the chart.
    await api_guest_vote(web.base_url, poll["id"], option_ids[3])
    await expect(counts.nth(3)).to_have_text("1", timeout=WAIT_MS)
    await expect(page.locator("#pr-total")).to_have_text("1")
    await expect(page.locator("#pr-hidden")).to_be_hidden()

    # Hidden: the projector shows the hidden state even with the owner's token.
    await owner_post(web.base_url, owner, f"/polls/{poll['id']}/hide")
    await expect(page.locator("#pr-chart")).to_have_attribute("data-hidden", "true")
    await expect(page.locator("#pr-hidden")).to_have_text("Results hidden")
    await expect(counts).to_have_text([NO_COUNT] * len(LABELS))
    await api_guest_vote(web.base_url, poll["id"], option_ids[3])
    await assert_fits(page)
    shots = os.environ.get("LIVEPOLLS_SCREENSHOTS")

    # Revealed live: the counts are back, with the vote cast while hidden.
    await owner_post(web.base_url, owner, f"/polls/{poll['id']}/reveal")
    await expect(page.locator("#pr-chart")).to_have_attribute("data-hidden", "false")
    await expect(page.locator("#pr-hidden")).to_be_hidden()
    await expect(counts.nth(3)).to_have_text("2", timeout=WAIT_MS)
    for i, n in enumerate([1, 2, 3], start=5):
        for _ in range(n):
            await api_guest_vote(web.base_url, poll["id"], option_ids[i])
    await expect(counts.nth(7)).to_have_text("3", timeout=WAIT_MS)
    await assert_fits(page)
    if shots:
        await asyncio.sleep(0.6)  # let the bars finish their transition
        await asyncio.to_thread(Path(shots).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / f"projector-{screen}.png"))
    no_problems(host)


async def test_a_guest_projector_of_a_hidden_poll_shows_hidden_until_revealed(
    web: Web, browser: Any
) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url,
        owner,
        question="Hidden from the start?",
        options=["Yes", "No"],
        results_hidden=True,
    )
    await api_guest_vote(web.base_url, poll["id"], poll["options"][1]["id"])
    screen = await open_page(browser, SCREENS["1366"])
    page = screen.page
    await page.goto(f"{web.base_url}/present/{poll['code'].lower()}")
    await expect_live(page, "#pr-conn")
    await expect(page.locator("#pr-hidden")).to_have_text("Results hidden")
    await expect(page.locator("#pr-chart li.row .count")).to_have_text([NO_COUNT, NO_COUNT])
    # No countdown without closes_at.
    await expect(page.locator("#pr-countdown")).to_be_hidden()
    await owner_post(web.base_url, owner, f"/polls/{poll['id']}/reveal")
    await expect(page.locator("#pr-chart li.row .count")).to_have_text(["0", "1"])
    await expect(page.locator("#pr-hidden")).to_be_hidden()
    no_problems(screen)


async def test_the_projector_of_an_unknown_code_says_so(web: Web, browser: Any) -> None:
    screen = await open_page(browser, SCREENS["1366"])
    page = screen.page
    await page.goto(f"{web.base_url}/present/ZZZZ22")
    # Neither a poll nor a session has the code: tried as both, and it says so.
    await expect(page.locator("#pr-question")).to_have_text(
        "Nothing to show for the code ZZZZ22 yet.", timeout=WAIT_MS
    )
    await page.goto(f"{web.base_url}/present/no!")
    await expect(page.locator("#pr-question")).to_contain_text("is not a join code")
    no_problems(screen)


def _seconds(text: str) -> int:
    match = re.fullmatch(r"Closes in (\d+):(\d\d)", text)
    assert match, text
    return int(match[1]) * 60 + int(match[2])


async def test_the_audience_countdown_follows_the_servers_clock_and_closes(
    web: Web, browser: Any
) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(web.base_url, owner, question="Quick one?", options=["Yes", "No"])
    phone = await open_page(browser, PHONE)
    page = phone.page
    # This phone's clock is 10 minutes fast: the countdown must not care.
    await page.add_init_script("""(() => {
        const skew = 10 * 60 * 1000, real = Date.now.bind(Date);
        Date.now = () => real() + skew;
    })();""")
    await page.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(page)
    countdown = page.locator("#countdown")
    await expect(countdown).to_be_hidden()

    seconds = 6
    await owner_post(web.base_url, owner, f"/polls/{poll['id']}/countdown", {"seconds": seconds})
    # POLL_UPDATED brings closes_at and the server's clock.
    await expect(countdown).to_have_attribute("data-state", "running", timeout=WAIT_MS)
    left = _seconds(await countdown.inner_text())
    assert 1 <= left <= seconds, left
    await page.wait_for_timeout(1500)
    later = _seconds(await countdown.inner_text())
    assert later < left, (left, later)

    await expect(countdown).to_have_text("Voting closed", timeout=(seconds + 3) * 1000)
    await expect(countdown).to_have_attribute("data-state", "closed")
    # The server agrees: voting is over.
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        token = (await c.post("/auth/guest")).json()["access_token"]
        r = await c.post(
            f"/polls/{poll['id']}/votes",
            json={"option_ids": [poll["options"][0]["id"]]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 409 and r.json()["error"]["code"] == "poll_not_open", r.text
    no_problems(phone)


async def server_has_session_rooms(base_url: str, session_code: str) -> bool:
    """The WebSocket session room is built in parallel (docs/protocol.md says so); until
    the server knows JOIN_SESSION, the session pages have nothing to follow."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        token = (await c.post("/auth/guest")).json()["access_token"]
    ws = await WsClient.open(base_url.replace("http", "ws", 1) + "/ws", token)
    try:
        reply = await ws.request(type="JOIN_SESSION", code=session_code)
    finally:
        await ws.close()
    return not (reply["type"] == "ERROR" and reply["code"] == "unknown_type")


async def test_a_session_projector_and_audience_follow_the_host(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    first = await api_poll(web.base_url, owner, question="First question?", options=["A", "B"])
    second = await api_poll(
        web.base_url, owner, question="Second question?", options=["C", "D"], status="draft"
    )
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.post(
            "/sessions",
            json={"title": "Friday keynote", "poll_ids": [first["id"], second["id"]]},
            headers={"Authorization": owner["Authorization"]},
        )
    assert r.status_code == 201, r.text
    session = r.json()
    if not await server_has_session_rooms(web.base_url, session["code"]):
        pytest.skip("the server has no WebSocket session room (JOIN_SESSION) yet")

    screen = await open_page(browser, SCREENS["1366"])
    projector = screen.page
    await projector.goto(f"{web.base_url}/present/{session['code']}")
    phone = await open_page(browser, PHONE)
    await phone.page.goto(f"{web.base_url}/s/{session['code']}")
    await expect_live(projector, "#pr-conn")
    await expect_live(phone.page)

    # The waiting screen: the session's title, and how to join the session.
    await expect(projector.locator("#pr-question")).to_have_text("Friday keynote")
    await expect(projector.locator("#pr-notice")).to_have_text("Waiting for the next question…")
    await expect(projector.locator("#pr-link")).to_have_text(re.compile(rf"/s/{session['code']}$"))
    await expect(phone.page.locator("#session-title")).to_have_text("Friday keynote")
    await expect(phone.page.locator("#poll")).to_be_hidden()

    async def present(body: dict[str, Any]) -> None:
        await owner_post(web.base_url, owner, f"/sessions/{session['id']}/present", body)

    await present({"poll_id": first["id"]})
    await expect(projector.locator("#pr-question")).to_have_text("First question?")
    await expect(phone.page.locator("#question")).to_have_text("First question?")
    await expect(phone.page.locator("#waiting")).to_be_hidden()
    await phone.page.get_by_role("button", name="B").click()
    await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect(projector.locator("#pr-chart li.row .count")).to_have_text(["0", "1"])

    await present({"step": "next"})  # the draft opens as it is presented
    await expect(projector.locator("#pr-question")).to_have_text("Second question?")
    await expect(projector.locator("#pr-chart li.row .count")).to_have_text(["0", "0"])
    await expect(phone.page.locator("#question")).to_have_text("Second question?")
    await expect(phone.page.get_by_role("button", name="C")).to_be_enabled()

    await present({"poll_id": None})
    await expect(projector.locator("#pr-notice")).to_have_text("Waiting for the next question…")
    await expect(phone.page.locator("#waiting")).to_be_visible()

    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.delete(
            f"/sessions/{session['id']}", headers={"Authorization": owner["Authorization"]}
        )
    assert r.status_code == 204, r.text
    await expect(phone.page.locator("#notice")).to_have_text("The host ended this session.")
    await expect(projector.locator("#pr-question")).to_have_text("This session has ended.")
    no_problems(screen, phone)
