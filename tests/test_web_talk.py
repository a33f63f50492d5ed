"""A whole talk in real Chromium: the host runs a 3-question session from the phone
remote (390x844) while the projector (1920x1080) and three audience phones follow.

The polls and the session are made over REST (making them is not what this is about);
everything the host does during the talk is done on the remote's buttons. Each step is
asserted on every device with Playwright's auto-waiting expectations. A worker runs
next to the service, as in production, so that a countdown's close is made official
(POLL_UPDATED) and reaches every screen. Same fixtures and rules as
tests/test_web_browser.py (every page watched for errors, every wait bounded).
LIVEPOLLS_SCREENSHOTS=<dir> saves `talk-remote.png`, `talk-projector.png` and
`talk-phone.png` there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app.config import load_settings
from app.redis import RedisHandle, redis_client
from tests import test_web_browser
from tests.conftest import in_process_worker
from tests.test_web_browser import (
    WAIT_MS,
    Web,
    api_owner,
    api_poll,
    expect_live,
    no_problems,
    serve_web,
    sign_in,
)
from tests.test_web_sessions import no_horizontal_scroll
from tests.web_helpers import CHROMIUM, PHONE, Watched, open_page

playwright_api = pytest.importorskip("playwright.async_api")
# Every expectation waits up to WAIT_MS (Playwright's default is 5 s): an Expect of
# this module's own, so the shared `expect` of the other browser tests is left as it is.
expect = playwright_api.Expect()
expect.set_options(timeout=WAIT_MS)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")

browser = test_web_browser.browser

SCREEN = {"width": 1920, "height": 1080}
NO_COUNT = "\u2013"  # what a chart shows for a count it was not given (an en dash)
TITLE = "Platform team all-hands"
Q1 = "Which language should the next service be written in?"
Q1_OPTIONS = ["Python", "Rust", "Go", "Elixir"]
Q2 = "What should we spend more time on?"
Q2_OPTIONS = ["Docs", "Tests", "Types", "Reviews"]
Q3 = "Ship on Fridays?"
Q3_OPTIONS = ["Yes", "No"]
WAITING = "Waiting for the next question…"


@contextlib.asynccontextmanager
async def running_worker(settings_env: dict[str, str]) -> AsyncIterator[None]:
    """The service's arq worker in this event loop (as conftest's `worker` fixture runs
    it for `live_server`): it runs the close a countdown queues."""
    settings = load_settings(**{k.lower(): v for k, v in settings_env.items()})
    url = settings.redis_url
    handle = RedisHandle(redis_client(url), url, reply_timeout_s=settings.redis_reply_timeout_s)
    worker = in_process_worker(settings, handle, burst=False)
    task = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker.close()
        await handle.close()


@pytest.fixture
async def web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    async with serve_web(settings_env) as served, running_worker(settings_env):
        yield served


async def owner_post(base_url: str, owner: dict[str, str], path: str, body: Any) -> Any:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.post(path, json=body, headers={"Authorization": owner["Authorization"]})
    assert r.status_code in (200, 201), r.text
    return r.json()


async def guest_vote(base_url: str, poll_id: int, option_ids: list[int]) -> httpx.Response:
    """A vote over REST by a new guest (someone in the room without this test's phones)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        token = (await c.post("/auth/guest")).json()["access_token"]
        return await c.post(
            f"/polls/{poll_id}/votes",
            json={"option_ids": option_ids},
            headers={"Authorization": f"Bearer {token}"},
        )


async def save_shot(page: Any, name: str, **options: Any) -> None:
    shots = os.environ.get("LIVEPOLLS_SCREENSHOTS")
    if not shots:
        return
    await asyncio.to_thread(Path(shots).mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(Path(shots) / name), **options)


# --- what each device shows -----------------------------------------------------------


async def remote_shows(rp: Any, question: str, status: str, counts: list[int], total: int) -> None:
    """The owner's view: the counts always, hidden from the audience or not."""
    await expect(rp.locator("#sc-q")).to_have_text(question)
    await expect(rp.locator("#sc-polls li[aria-current=true] .q")).to_have_text(question)
    await expect(rp.locator("#sc-status")).to_have_text(status)
    await expect(rp.locator("#sc-chart li.row .count")).to_have_text([str(n) for n in counts])
    await expect(rp.locator("#sc-total")).to_have_text(str(total))


async def projector_shows(
    pr: Any, question: str, status: str, counts: list[int] | None, total: int
) -> None:
    """`counts` None: hidden, and no count anywhere in the chart (not merely styled away)."""
    await expect(pr.locator("#pr-question")).to_have_text(question)
    await expect(pr.locator("#pr-status")).to_have_text(status)
    await expect(pr.locator("#pr-notice")).to_be_hidden()
    chart = pr.locator("#pr-chart")
    rows = chart.locator("li.row .count")
    if counts is None:
        await expect(chart).to_have_attribute("data-hidden", "true")
        await expect(pr.locator("#pr-hidden")).to_have_text("Results hidden")
        await expect(rows).to_have_text([NO_COUNT] * await rows.count())
        await expect(chart).not_to_have_text(re.compile(r"\d"))
    else:
        await expect(chart).to_have_attribute("data-hidden", "false")
        await expect(pr.locator("#pr-hidden")).to_be_hidden()
        await expect(rows).to_have_text([str(n) for n in counts])
    await expect(pr.locator("#pr-total")).to_have_text(str(total))


async def phone_shows(
    ph: Any, question: str, counts: list[int] | None, total: int, mine: list[str]
) -> None:
    """The question, the chart (`counts` None: hidden, no count in the page's chart at
    all) and `mine`, the answers of the phone's own counted ballot, marked in the chart."""
    await expect(ph.locator("#waiting")).to_be_hidden()
    await expect(ph.locator("#question")).to_have_text(question)
    chart = ph.locator("#chart")
    rows = chart.locator("li.row .count")
    if counts is None:
        await expect(rows).to_have_text([NO_COUNT] * await rows.count())
        await expect(chart.locator("li.row .pct")).to_have_text([""] * await rows.count())
        await expect(chart).not_to_have_text(re.compile(r"\d"))
        await expect(ph.locator("#results-note")).to_have_text(
            "The host has hidden the results for now."
        )
    else:
        await expect(chart).to_be_visible()
        await expect(rows).to_have_text([str(n) for n in counts])
        await expect(ph.locator("#results-note")).to_be_hidden()
    await expect(ph.locator("#total")).to_have_text(str(total))
    await expect(chart.locator("li.row.is-mine .label-text")).to_have_text(mine)


async def phone_waits(ph: Any) -> None:
    await expect(ph.locator("#waiting")).to_be_visible()
    await expect(ph.locator("#session-title")).to_have_text(TITLE)
    await expect(ph.locator("#poll")).to_be_hidden()


async def projector_waits(pr: Any) -> None:
    await expect(pr.locator("#pr-question")).to_have_text(TITLE)
    await expect(pr.locator("#pr-notice")).to_have_text(WAITING)
    await expect(pr.locator("#pr-chart li")).to_have_count(0)
    await expect(pr.locator("#pr-status")).to_be_hidden()


async def single_choice(ph: Any, pressed: str | None, *, enabled: bool) -> None:
    """The answer buttons of a single-choice poll: only `pressed` shown as my vote."""
    buttons = ph.locator("#choices button.choice")
    for i in range(await buttons.count()):
        button = buttons.nth(i)
        label = (await button.locator(".label").text_content()) or ""
        await expect(button).to_have_attribute("aria-pressed", str(label == pressed).lower())
        if enabled:
            await expect(button).to_be_enabled()
        else:
            await expect(button).to_be_disabled()


async def multiple_choice(ph: Any, checked: list[str], *, enabled: bool) -> None:
    """The boxes of a multiple-choice poll: exactly `checked` ticked (and marked mine)."""
    for label in Q2_OPTIONS:
        box = ph.get_by_label(label, exact=True)
        if label in checked:
            await expect(box).to_be_checked()
        else:
            await expect(box).not_to_be_checked()
        if not enabled:
            await expect(box).to_be_disabled()
    if enabled:
        await expect(ph.locator("#choices .choice.is-mine")).to_have_count(0)
    else:
        await expect(ph.locator("#choices .choice.is-mine .label")).to_have_text(checked)


# --- the talk ---------------------------------------------------------------------------


async def test_a_three_question_talk_from_the_phone_remote(web: Web, browser: Any) -> None:
    base = web.base_url
    owner = await api_owner(base)
    q1 = await api_poll(base, owner, question=Q1, options=Q1_OPTIONS)
    q2 = await api_poll(
        base,
        owner,
        question=Q2,
        options=Q2_OPTIONS,
        kind="multiple",
        max_choices=2,
        status="draft",
    )
    q3 = await api_poll(base, owner, question=Q3, options=Q3_OPTIONS, status="draft")
    session = await owner_post(
        base, owner, "/sessions", {"title": TITLE, "poll_ids": [q1["id"], q2["id"], q3["id"]]}
    )
    code = session["code"]

    # The remote: the host's phone, signed in, on the session's control view.
    remote = await open_page(browser, PHONE)
    rp = remote.page
    await sign_in(rp, base, owner, f"#/session/{session['id']}")
    await expect_live(rp, "#sc-conn")
    await expect(rp.locator("#sc-polls .q")).to_have_text([Q1, Q2, Q3])
    # The projector, a guest's browser in the room.
    screen = await open_page(browser, SCREEN)
    pr = screen.page
    await pr.goto(f"{base}/present/{code}")
    # Three people in the audience: separate browsers, so three different guests.
    phones: list[Watched] = [await open_page(browser, PHONE) for _ in range(3)]
    for phone in phones:
        await phone.page.goto(f"{base}/s/{code}")
    await expect_live(pr, "#pr-conn")
    for phone in phones:
        await expect_live(phone.page)

    # The waiting screen before the first question.
    await expect(rp.locator("#sc-q")).to_have_text("Waiting screen: no poll is shown.")
    await projector_waits(pr)
    for phone in phones:
        await phone_waits(phone.page)

    next_ = rp.get_by_role("button", name="Next", exact=True)
    previous = rp.get_by_role("button", name="Previous", exact=True)

    # --- question 1 (single choice), live counts ---------------------------------------
    await next_.click()
    await remote_shows(rp, Q1, "Open", [0, 0, 0, 0], 0)
    await projector_shows(pr, Q1, "Voting open", [0, 0, 0, 0], 0)
    for phone in phones:
        await phone_shows(phone.page, Q1, [0, 0, 0, 0], 0, [])
        await single_choice(phone.page, None, enabled=True)

    picks = ["Python", "Rust", "Go"]
    for phone, pick in zip(phones, picks, strict=True):
        await phone.page.get_by_role("button", name=pick, exact=True).click()
        await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await remote_shows(rp, Q1, "Open", [1, 1, 1, 0], 3)
    await projector_shows(pr, Q1, "Voting open", [1, 1, 1, 0], 3)
    for phone, pick in zip(phones, picks, strict=True):
        await phone_shows(phone.page, Q1, [1, 1, 1, 0], 3, [pick])
        # A ballot that cannot change: every answer disabled, mine pressed.
        await single_choice(phone.page, pick, enabled=False)

    # Hidden: the audience and the projector lose the counts, the remote keeps them.
    await rp.get_by_role("button", name="Hide results", exact=True).click()
    await expect(rp.locator("#sc-hidden")).to_be_visible()
    await expect(rp.get_by_role("button", name="Reveal results", exact=True)).to_be_visible()
    await projector_shows(pr, Q1, "Voting open", None, 3)
    for phone, pick in zip(phones, picks, strict=True):
        await phone_shows(phone.page, Q1, None, 3, [pick])
    # Someone votes meanwhile: the number of ballots still moves, the split does not.
    r = await guest_vote(base, q1["id"], [q1["options"][0]["id"]])
    assert r.status_code == 200, r.text
    await remote_shows(rp, Q1, "Open", [2, 1, 1, 0], 4)
    await projector_shows(pr, Q1, "Voting open", None, 4)
    for phone, pick in zip(phones, picks, strict=True):
        await phone_shows(phone.page, Q1, None, 4, [pick])

    # Revealed: the counts are back everywhere, with the vote cast while hidden.
    await rp.get_by_role("button", name="Reveal results", exact=True).click()
    await expect(rp.locator("#sc-hidden")).to_be_hidden()
    await expect(rp.get_by_role("button", name="Hide results", exact=True)).to_be_visible()
    await remote_shows(rp, Q1, "Open", [2, 1, 1, 0], 4)
    await projector_shows(pr, Q1, "Voting open", [2, 1, 1, 0], 4)
    for phone, pick in zip(phones, picks, strict=True):
        await phone_shows(phone.page, Q1, [2, 1, 1, 0], 4, [pick])
    # Phone-sized: nothing sideways on the remote or the phones.
    for page in (rp, *(phone.page for phone in phones)):
        await no_horizontal_scroll(page)
    if os.environ.get("LIVEPOLLS_SCREENSHOTS"):
        await asyncio.sleep(0.6)  # let the bars finish their transition
        await save_shot(rp, "talk-remote.png")
        await save_shot(pr, "talk-projector.png")
        await save_shot(phones[0].page, "talk-phone.png")

    # --- question 2 (multiple choice, a draft until presented) -------------------------
    await next_.click()
    await remote_shows(rp, Q2, "Open", [0, 0, 0, 0], 0)
    await projector_shows(pr, Q2, "Voting open", [0, 0, 0, 0], 0)
    for phone in phones:
        ph = phone.page
        await phone_shows(ph, Q2, [0, 0, 0, 0], 0, [])
        # Nothing of question 1 carries over: no ticks, no "your vote", no vote note.
        await multiple_choice(ph, [], enabled=True)
        await expect(ph.locator("#vote-state")).to_be_hidden()
        await expect(ph.get_by_role("button", name="Submit vote")).to_be_disabled()

    ballots = [["Docs", "Tests"], ["Tests", "Types"], ["Reviews"]]
    for phone, ballot in zip(phones, ballots, strict=True):
        ph = phone.page
        for label in ballot:
            await ph.get_by_label(label, exact=True).check()
        await ph.get_by_role("button", name="Submit vote").click()
        await expect(ph.locator("#vote-state")).to_have_text("Your vote is counted.")
    final2 = [1, 2, 1, 1]
    await remote_shows(rp, Q2, "Open", final2, 3)
    await projector_shows(pr, Q2, "Voting open", final2, 3)
    for phone, ballot in zip(phones, ballots, strict=True):
        await phone_shows(phone.page, Q2, final2, 3, ballot)
        await multiple_choice(phone.page, ballot, enabled=False)

    # A phone reloads mid-talk (same browser, same guest): back on the question shown,
    # its own ballot marked, the counts as before.
    await phones[1].page.reload()
    await expect_live(phones[1].page)
    await phone_shows(phones[1].page, Q2, final2, 3, ballots[1])
    await multiple_choice(phones[1].page, ballots[1], enabled=False)
    await expect(phones[1].page.locator("#vote-state")).to_have_text("You have voted.")

    # A countdown from the remote: every screen counts down by the server's clock.
    await rp.get_by_role("button", name="Countdown 30 s", exact=True).click()
    await expect(rp.locator("#sc-countdown")).to_have_text(re.compile(r"^Closes in (30|2\d) s$"))
    await expect(pr.locator("#pr-countdown")).to_have_text(
        re.compile(r"^Voting closes in 0:(30|2\d)$")
    )
    for phone in phones:
        await expect(phone.page.locator("#countdown")).to_have_text(
            re.compile(r"^Closes in 0:(30|2\d)$")
        )
    # The rest of the 30 seconds is cut short: a new countdown replaces the instant
    # (the remote offers 30 s at least; waiting them out would only make the test slow).
    await owner_post(base, owner, f"/polls/{q2['id']}/countdown", {"seconds": 3})
    # At zero the poll is closed (the worker makes it official): every screen says so.
    await expect(rp.locator("#sc-status")).to_have_text("Closed")
    await expect(rp.locator("#sc-countdown")).to_be_hidden()
    await expect(rp.get_by_role("button", name="Countdown 30 s", exact=True)).to_be_hidden()
    await expect(pr.locator("#pr-countdown")).to_have_text("Voting closed")
    await projector_shows(pr, Q2, "Voting closed", final2, 3)
    for phone, ballot in zip(phones, ballots, strict=True):
        ph = phone.page
        await expect(ph.locator("#countdown")).to_have_text("Voting closed")
        await expect(ph.locator("#notice")).to_have_text("Voting has closed.")
        await expect(ph.locator("#results-title")).to_have_text("Final results")
        await multiple_choice(ph, ballot, enabled=False)
    # The server refuses any vote from now on.
    r = await guest_vote(base, q2["id"], [q2["options"][0]["id"]])
    assert r.status_code == 409 and r.json()["error"]["code"] == "poll_not_open", r.text
    await remote_shows(rp, Q2, "Closed", final2, 3)

    # --- question 3, then back to question 2 -------------------------------------------
    await next_.click()
    await remote_shows(rp, Q3, "Open", [0, 0], 0)
    await expect(next_).to_be_disabled()  # the last poll
    await projector_shows(pr, Q3, "Voting open", [0, 0], 0)
    await expect(pr.locator("#pr-countdown")).to_be_hidden()
    for phone in phones:
        ph = phone.page
        await phone_shows(ph, Q3, [0, 0], 0, [])
        await single_choice(ph, None, enabled=True)
        await expect(ph.locator("#vote-state")).to_be_hidden()
        await expect(ph.locator("#notice")).to_be_hidden()
        await expect(ph.locator("#countdown")).to_be_hidden()

    await previous.click()
    await remote_shows(rp, Q2, "Closed", final2, 3)
    await projector_shows(pr, Q2, "Voting closed", final2, 3)
    for phone, ballot in zip(phones, ballots, strict=True):
        ph = phone.page
        await phone_shows(ph, Q2, final2, 3, ballot)
        await expect(ph.locator("#results-title")).to_have_text("Final results")
        await expect(ph.locator("#notice")).to_have_text("Voting has closed.")
        await multiple_choice(ph, ballot, enabled=False)
        await expect(ph.locator("#vote-state")).to_have_text("You have voted.")

    # --- the end: the waiting screen ---------------------------------------------------
    await rp.get_by_role("button", name="Waiting screen", exact=True).click()
    await expect(rp.locator("#sc-q")).to_have_text("Waiting screen: no poll is shown.")
    await expect(rp.get_by_role("button", name="Waiting screen", exact=True)).to_be_disabled()
    await projector_waits(pr)
    for phone in phones:
        await phone_waits(phone.page)
    no_problems(remote, screen, *phones)
