"""The host's sessions pages in real Chromium: the list, and the control view that
doubles as a phone remote, over the real service and a participant's WebSocket.

Same fixtures and rules as tests/test_web_browser.py (every page watched for errors,
every wait bounded). LIVEPOLLS_SCREENSHOTS=<dir> saves `remote-phone.png` there.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import test_web_browser
from tests.test_web_browser import (
    WAIT_MS,
    Web,
    api_guest_vote,
    api_owner,
    api_poll,
    expect_live,
    no_problems,
    sign_in,
)
from tests.web_helpers import PHONE, PROJECTOR, open_page
from tests.wsclient import WsClient

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect
# The fixtures of the browser tests: the service on a port of its own, one Chromium.
web = test_web_browser.web
browser = test_web_browser.browser


async def shown_to(ws: WsClient, poll_id: int | None) -> dict[str, Any]:
    """The participant's next SESSION_STATE showing `poll_id` (None: the waiting screen)."""
    return await ws.recv_until(
        lambda m: (
            m["type"] == "SESSION_STATE" and (m["poll"]["id"] if m["poll"] else None) == poll_id
        )
    )


async def no_horizontal_scroll(page: Any) -> None:
    widths = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"scrolls sideways: {widths}"


async def test_phone_remote_and_desktop_control_stay_in_sync(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    questions = ["Coffee or tea?", "Tabs or spaces?", "Cats or dogs?"]
    polls = [
        await api_poll(web.base_url, owner, question=q, options=q.rstrip("?").split(" or "))
        for q in questions
    ]
    ids = [p["id"] for p in polls]

    # The session is made in the UI on a desktop: title, then the polls in order.
    desk = await open_page(browser, PROJECTOR)
    dp = desk.page
    await sign_in(dp, web.base_url, owner, "#/sessions")
    await expect(dp.locator("#sl-empty")).to_have_text("No sessions yet.", timeout=WAIT_MS)
    await dp.get_by_label("Title", exact=True).fill("Friday keynote")
    await dp.get_by_text("Add your polls").click()
    for q in questions:
        await dp.get_by_role("button", name=f"Add “{q}”").click()
    await expect(dp.locator("#sn-chosen .q")).to_have_text(questions)
    # Reordering the picks before creating: the last one up and back down.
    await dp.get_by_role("button", name=f"Move “{questions[2]}” up").click()
    await expect(dp.locator("#sn-chosen .q")).to_have_text(
        [questions[0], questions[2], questions[1]]
    )
    await dp.get_by_role("button", name=f"Move “{questions[2]}” down").click()
    await expect(dp.locator("#sn-chosen .q")).to_have_text(questions)
    await dp.get_by_role("button", name="Create session").click()
    await dp.wait_for_url("**/host#/session/*", timeout=WAIT_MS)
    session_id = int(dp.url.rsplit("/", 1)[1])
    await expect(dp.locator("#sc-title")).to_have_text("Friday keynote", timeout=WAIT_MS)
    await expect_live(dp, "#sc-conn")
    await expect(dp.locator("#sc-polls .q")).to_have_text(questions)
    await expect(dp.locator("#sc-q")).to_have_text("Waiting screen: no poll is shown.")
    code = (await dp.locator("#sc-code").text_content()) or ""
    assert len(code) == 6
    assert await dp.locator("#sc-projector").get_attribute("href") == f"/present/{code}"
    assert (await dp.locator("#sc-link").get_attribute("href") or "").endswith(f"/s/{code}")
    # The session's join QR (/s/{code}/qr.svg) is drawn.
    await expect(dp.locator("img.sc-qr")).to_be_visible(timeout=WAIT_MS)

    # The phone: the same account in another browser, the control view as a remote.
    phone = await open_page(browser, PHONE)
    pp = phone.page
    await sign_in(pp, web.base_url, owner, f"#/session/{session_id}")
    await expect_live(pp, "#sc-conn")
    await expect(pp.locator("#sc-polls .q")).to_have_text(questions, timeout=WAIT_MS)
    # Nothing shown yet, so nothing before: the server's 409 is shown on the phone.
    await pp.get_by_role("button", name="Previous").click()
    await expect(pp.locator("#sc-error")).to_have_text(
        "There is no previous poll in this session.", timeout=WAIT_MS
    )
    await expect(pp.get_by_role("button", name="Previous")).to_be_enabled()

    # A participant following the session over the WebSocket.
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        guest = (await c.post("/auth/guest")).json()["access_token"]
    ws_url = web.base_url.replace("http://", "ws://") + "/ws"
    ws = await WsClient.open(ws_url, guest)
    try:
        state = await ws.request(type="JOIN_SESSION", session_id=session_id)
        assert state["type"] == "SESSION_STATE" and state["poll"] is None, state

        next_ = pp.get_by_role("button", name="Next")
        for i in (0, 1):
            await next_.click()
            for p in (pp, dp):
                await expect(p.locator("#sc-q")).to_have_text(questions[i], timeout=WAIT_MS)
                await expect(p.locator("#sc-polls li[aria-current=true] .q")).to_have_text(
                    questions[i]
                )
            await shown_to(ws, ids[i])
        await expect(dp.locator("#sc-status")).to_have_text("Open")

        # A vote moves both charts and reaches the participant.
        second = polls[1]["options"]
        await api_guest_vote(web.base_url, ids[1], second[0]["id"])
        for p in (pp, dp):
            await expect(p.locator("#sc-chart li.row .count")).to_have_text(
                ["1", "0"], timeout=WAIT_MS
            )
            await expect(p.locator("#sc-total")).to_have_text("1")
        await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["total"] == 1)

        # Hide on the phone: the participant loses the counts, the host keeps them.
        await pp.get_by_role("button", name="Hide results").click()
        hidden = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert hidden["poll"]["results_hidden"] is True and hidden["results"] is None, hidden
        for p in (pp, dp):
            await expect(p.locator("#sc-hidden")).to_be_visible(timeout=WAIT_MS)
            await expect(p.get_by_role("button", name="Reveal results")).to_be_visible()
            await expect(p.locator("#sc-chart li.row .count")).to_have_text(["1", "0"])
        await api_guest_vote(web.base_url, ids[1], second[1]["id"])
        tally = await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["total"] == 2)
        assert tally["counts"] is None, tally
        await expect(dp.locator("#sc-chart li.row .count")).to_have_text(
            ["1", "1"], timeout=WAIT_MS
        )

        await pp.get_by_role("button", name="Reveal results").click()
        shown = await ws.recv_until(lambda m: m["type"] == "POLL_UPDATED")
        assert shown["poll"]["results_hidden"] is False, shown
        assert shown["results"]["counts"] == {
            str(second[0]["id"]): 1,
            str(second[1]["id"]): 1,
        }, shown
        for p in (pp, dp):
            await expect(p.locator("#sc-hidden")).to_be_hidden(timeout=WAIT_MS)

        # Phone-sized: nothing sideways, and the remote's buttons on screen at the bottom.
        await no_horizontal_scroll(pp)
        box = await next_.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
        assert box["height"] >= 44, box
        shots = os.environ.get("LIVEPOLLS_SCREENSHOTS")
        if shots:
            await asyncio.sleep(0.6)  # let the bars finish their transition
            await asyncio.to_thread(Path(shots).mkdir, parents=True, exist_ok=True)
            await pp.screenshot(path=str(Path(shots) / "remote-phone.png"))

        # A countdown from the desktop shows on the phone.
        await dp.get_by_role("button", name="Countdown 60 s").click()
        await expect(pp.locator("#sc-countdown")).to_have_text(
            re.compile(r"^Closes in (5\d|60) s$"),
            timeout=WAIT_MS,
        )

        # Reorder on the desktop: the phone follows (SESSION_STATE to every device).
        await dp.get_by_role("button", name=f"Move “{questions[2]}” up").click()
        reordered = [questions[0], questions[2], questions[1]]
        for p in (pp, dp):
            await expect(p.locator("#sc-polls .q")).to_have_text(reordered, timeout=WAIT_MS)
        # The keyboard's place follows the moved poll.
        await expect(dp.get_by_role("button", name=f"Move “{questions[2]}” up")).to_be_focused()
        # Poll 2 is now last: Next is disabled on the phone.
        await expect(next_).to_be_disabled()

        # The waiting screen from the phone, then a chosen poll from the desktop.
        await pp.get_by_role("button", name="Waiting screen").click()
        await shown_to(ws, None)
        await expect(dp.locator("#sc-q")).to_have_text(
            "Waiting screen: no poll is shown.", timeout=WAIT_MS
        )
        await dp.get_by_role("button", name=f"Present “{questions[2]}”").click()
        await shown_to(ws, ids[2])
        await expect(pp.locator("#sc-q")).to_have_text(questions[2], timeout=WAIT_MS)

        await pp.get_by_role("button", name="Close poll").click()
        await expect(pp.locator("#sc-status")).to_have_text("Closed", timeout=WAIT_MS)
        await expect(pp.get_by_role("button", name="Countdown 30 s")).to_be_hidden()

        # Delete from the list, with a confirmation; the participant is told.
        async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
            auth = {"Authorization": owner["Authorization"]}
            r = await c.post("/sessions", json={"title": "Spare"}, headers=auth)
            assert r.status_code == 201, r.text
            spare = r.json()["id"]
        await dp.get_by_role("link", name="All sessions").click()
        spare_item = dp.locator("#sl-list li", has_text="Spare")
        await spare_item.get_by_role("button", name="Delete").click()
        # Deleted elsewhere meanwhile: the button shows the API's error.
        async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
            r = await c.delete(f"/sessions/{spare}", headers=auth)
            assert r.status_code == 204, r.text
        await spare_item.get_by_role("button", name="Yes, delete").click()
        await expect(spare_item.get_by_role("alert")).to_have_text(
            "Session not found.", timeout=WAIT_MS
        )
        await dp.reload()
        await expect(spare_item).to_have_count(0, timeout=WAIT_MS)
        item = dp.locator("#sl-list li", has_text="Friday keynote")
        await item.get_by_role("button", name="Delete").click()
        await item.get_by_role("button", name="Cancel").click()
        await expect(item).to_be_visible()
        await item.get_by_role("button", name="Delete").click()
        await item.get_by_role("button", name="Yes, delete").click()
        await expect(dp.locator("#sl-empty")).to_have_text("No sessions yet.", timeout=WAIT_MS)
        left = await ws.recv_until(lambda m: m["type"] == "LEFT_SESSION")
        assert left["ref"] is None and left["session_id"] == session_id
        await expect(pp.locator("#sc-gone")).to_have_text(
            "This session was deleted.", timeout=WAIT_MS
        )
        # Its control view now says so, on a fresh load too.
        await dp.goto(f"{web.base_url}/host#/session/{session_id}")
        await expect(dp.locator("#sc-gone")).to_have_text(
            "There is no such session.", timeout=WAIT_MS
        )
        await expect(dp.get_by_role("button", name="Next")).to_be_disabled()
    finally:
        await ws.close()
    no_problems(desk, phone, allow_console=("status of 409", "status of 404"))


async def test_session_list_pages_and_searches_and_guards_others_sessions(
    web: Web, browser: Any
) -> None:
    owner, other = await api_owner(web.base_url), await api_owner(web.base_url)
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        for i in range(22):
            title = f"Talk {i:02d}" + (" (workshop)" if i % 10 == 3 else "")
            r = await c.post(
                "/sessions",
                json={"title": title},
                headers={"Authorization": owner["Authorization"]},
            )
            assert r.status_code == 201, r.text
        r = await c.post(
            "/sessions",
            json={"title": "Not yours"},
            headers={"Authorization": other["Authorization"]},
        )
        assert r.status_code == 201, r.text
        foreign = r.json()["id"]

    watched = await open_page(browser, PHONE)
    page = watched.page
    await sign_in(page, web.base_url, owner, "#/sessions")
    titles = page.locator("#sl-list .q")
    # Newest first, 20 a page.
    await expect(titles).to_have_count(20, timeout=WAIT_MS)
    await expect(titles.first).to_have_text("Talk 21")
    await expect(page.locator("#sl-range")).to_have_text("1\u201320 of 22")
    await expect(page.get_by_role("button", name="Newer")).to_be_hidden()
    await page.get_by_role("button", name="Older").click()
    await expect(titles).to_have_text(["Talk 01", "Talk 00"], timeout=WAIT_MS)
    await expect(page.locator("#sl-range")).to_have_text("21\u201322 of 22")
    await expect(page.get_by_role("button", name="Older")).to_be_hidden()

    await page.get_by_role("searchbox").fill("WORKSHOP")
    await page.get_by_role("button", name="Search").click()
    await expect(titles).to_have_text(["Talk 13 (workshop)", "Talk 03 (workshop)"], timeout=WAIT_MS)
    await page.get_by_role("searchbox").fill("nothing like it")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#sl-empty")).to_have_text(
        "No session title contains “nothing like it”.", timeout=WAIT_MS
    )
    await no_horizontal_scroll(page)

    # Someone else's session: followed (anyone may), never controlled.
    await page.goto(f"{web.base_url}/host#/session/{foreign}")
    await expect(page.locator("#sc-gone")).to_have_text(
        "This session belongs to another host.", timeout=WAIT_MS
    )
    await expect(page.get_by_role("button", name="Next")).to_be_disabled()
    no_problems(watched)
