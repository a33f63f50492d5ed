"""Accounts-only polls on the audience pages (`/p/{code}`, `/s/{code}`), in real Chromium.

A guest shown a `require_account` poll is told so before any tap (the answers are
disabled, the reason is next to them), signs in or creates an account inline, and is
back on the same poll as the account: the socket joins again with the account's token
and the ballot is the account's. Set LIVEPOLLS_SCREENSHOTS=<dir> to save the README's
`accounts-only.png` (as tests/test_web_browser.py does).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import test_web_browser
from tests.conftest import unique_name
from tests.test_web_browser import (
    WAIT_MS,
    Web,
    api_owner,
    api_poll,
    expect_live,
    no_problems,
    stored,
)
from tests.web_helpers import CHROMIUM, PHONE, open_page

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")

# The service and Chromium, as tests/test_web_browser.py serves and launches them.
web = test_web_browser.web
browser = test_web_browser.browser

GATE = "Only signed-in users can vote in this poll."
PASSWORD = "a long enough password"


async def count_sockets(page: Any) -> list[str]:
    """The URLs of the WebSockets `page` opens from now on."""
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


async def expect_gated(page: Any, labels: list[str]) -> None:
    """The notice is up and no answer can be tapped (checked before any tap)."""
    gate = page.locator("#account-gate")
    await expect(gate).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#account-gate-text")).to_have_text(GATE)
    await expect(page.locator("#choices-set")).to_have_attribute(
        "aria-describedby", "account-gate-text"
    )
    await expect(page.locator("#instructions")).to_be_hidden()
    for label in labels:
        await expect(page.get_by_role("button", name=label)).to_be_disabled()


async def my_vote(base_url: str, poll_id: int, token: str) -> Any:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.get(f"/polls/{poll_id}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["my_vote"]


async def who(base_url: str, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        r = await c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    user: dict[str, Any] = r.json()["user"]
    return user


async def test_a_guest_creates_an_account_inline_and_votes(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    labels = ["Keep the Friday demo", "Move it to Monday"]
    poll = await api_poll(
        web.base_url,
        owner,
        question="Staff only: when is the demo?",
        options=labels,
        require_account=True,
    )
    keep = poll["options"][0]["id"]
    watched = await open_page(browser, PHONE)
    page = watched.page
    sockets = await count_sockets(page)
    url = f"{web.base_url}/p/{poll['code']}"
    await page.goto(url)
    await expect_live(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text(poll["question"])
    await expect_gated(page, labels)
    # Results are still shown as the poll's visibility allows (live: to everyone).
    await expect(page.locator("#results")).to_be_visible()
    await expect(page.locator("#total")).to_have_text("0")
    guest = await stored(page, "livepolls.guest")
    assert guest["user"]["is_guest"] is True
    await page.evaluate("window.__sameDocument = true")

    shots = os.environ.get("LIVEPOLLS_SCREENSHOTS")
    if shots:
        await asyncio.to_thread(Path(shots).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / "accounts-only.png"))

    # A disabled answer does nothing when tapped anyway: no vote goes out.
    await page.get_by_role("button", name=labels[0]).click(force=True)
    await expect(page.locator("#vote-state")).to_be_hidden()

    await page.get_by_role("button", name="Sign in or create an account").click()
    register = page.locator("form", has=page.get_by_role("heading", name="Create an account"))
    await expect(register).to_be_visible()
    username = unique_name("voter")
    await register.get_by_label("Username").fill(username)
    await register.get_by_label("Password").fill(PASSWORD)
    await register.get_by_role("button", name="Create account").click()

    await expect(page.locator("#account-gate")).to_be_hidden(timeout=WAIT_MS)
    await expect(page.get_by_role("button", name=labels[0])).to_be_enabled(timeout=WAIT_MS)
    await expect_live(page)
    await expect(page.locator("#instructions")).to_contain_text("Tap one answer.")
    assert page.url == url
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    # A new socket, with the account's token (AUTH only takes the same user's).
    assert len(sockets) == 2, sockets
    account = await stored(page, "livepolls.account")
    assert account["access_token"] in sockets[1]
    assert guest["access_token"] not in sockets[1]

    await page.get_by_role("button", name=labels[0]).click()
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await expect(page.locator("#total")).to_have_text("1")
    # The ballot is the new account's, and the guest has none.
    me = await who(web.base_url, account["access_token"])
    assert me["username"] == username and me["is_guest"] is False
    assert await my_vote(web.base_url, poll["id"], account["access_token"]) == [keep]
    assert await my_vote(web.base_url, poll["id"], guest["access_token"]) is None
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.get(
            f"/polls/{poll['id']}/results", headers={"Authorization": owner["Authorization"]}
        )
    assert r.json()["total"] == 1

    # Signed in, a reload shows no notice: the vote is there.
    await page.reload()
    await expect(page.locator("#vote-state")).to_have_text("You have voted.", timeout=WAIT_MS)
    await expect(page.locator("#account-gate")).to_be_hidden()

    # Closed: nothing to vote in, so no sign-in prompt for a new guest either.
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.post(
            f"/polls/{poll['id']}/close", headers={"Authorization": owner["Authorization"]}
        )
    assert r.status_code == 200, r.text
    late = await open_page(browser, PHONE)
    await late.page.goto(url)
    await expect(late.page.locator("#notice")).to_have_text("Voting has closed.", timeout=WAIT_MS)
    await expect(late.page.locator("#account-gate")).to_be_hidden()
    await expect(late.page.locator("#total")).to_have_text("1")
    no_problems(watched, late)


async def test_a_session_page_gates_a_presented_accounts_only_poll(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    open_labels = ["Tea", "Coffee"]
    staff_labels = ["Yes", "No"]
    anyone = await api_poll(web.base_url, owner, question="Tea or coffee?", options=open_labels)
    staff = await api_poll(
        web.base_url,
        owner,
        question="Staff only: pizza on Friday?",
        options=staff_labels,
        require_account=True,
    )
    # An account that exists already: the visitor signs in (not registers) this time.
    username = unique_name("member")
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
        r = await c.post("/auth/register", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = await c.post(
            "/sessions",
            json={"title": "Team meeting", "poll_ids": [anyone["id"], staff["id"]]},
            headers={"Authorization": owner["Authorization"]},
        )
    assert r.status_code == 201, r.text
    session = r.json()

    async def present(poll_id: int) -> None:
        async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as c:
            r = await c.post(
                f"/sessions/{session['id']}/present",
                json={"poll_id": poll_id},
                headers={"Authorization": owner["Authorization"]},
            )
        assert r.status_code == 200, r.text

    await present(anyone["id"])
    watched = await open_page(browser, PHONE)
    page = watched.page
    sockets = await count_sockets(page)
    url = f"{web.base_url}/s/{session['code']}"
    await page.goto(url)
    await expect_live(page)
    # A poll anyone may vote in: no notice for the guest.
    await expect(page.get_by_role("heading", level=1)).to_have_text(anyone["question"])
    await expect(page.get_by_role("button", name="Tea")).to_be_enabled()
    await expect(page.locator("#account-gate")).to_be_hidden()

    await present(staff["id"])
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        staff["question"], timeout=WAIT_MS
    )
    await expect_gated(page, staff_labels)
    guest = await stored(page, "livepolls.guest")

    await page.get_by_role("button", name="Sign in or create an account").click()
    signin = page.locator("form", has=page.get_by_role("heading", name="Sign in"))
    await signin.get_by_label("Username").fill(username)
    await signin.get_by_label("Password").fill("not the password")
    await signin.get_by_role("button", name="Sign in").click()
    await expect(signin.get_by_role("alert")).to_have_text("Wrong username or password.")
    await expect_gated(page, staff_labels)
    await signin.get_by_label("Password").fill(PASSWORD)
    await signin.get_by_role("button", name="Sign in").click()

    # The same session, the same presented poll, now as the account.
    await expect(page.locator("#account-gate")).to_be_hidden(timeout=WAIT_MS)
    await expect(page.get_by_role("heading", level=1)).to_have_text(staff["question"])
    await expect(page.get_by_role("button", name="Yes")).to_be_enabled(timeout=WAIT_MS)
    await expect_live(page)
    assert page.url == url
    assert len(sockets) == 2, sockets
    account = await stored(page, "livepolls.account")
    assert account["access_token"] in sockets[1]
    await page.get_by_role("button", name="Yes").click()
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")

    yes = staff["options"][0]["id"]
    me = await who(web.base_url, account["access_token"])
    assert me["username"] == username
    assert await my_vote(web.base_url, staff["id"], account["access_token"]) == [yes]
    assert await my_vote(web.base_url, staff["id"], guest["access_token"]) is None

    # The host goes back to the open poll: the account votes there too, with no notice.
    await present(anyone["id"])
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        anyone["question"], timeout=WAIT_MS
    )
    await page.get_by_role("button", name="Coffee").click()
    await expect(page.locator("#vote-state")).to_have_text("Your vote is counted.")
    coffee = anyone["options"][1]["id"]
    assert await my_vote(web.base_url, anyone["id"], account["access_token"]) == [coffee]
    # Chromium logs the deliberate 401 of the wrong password as a failed resource load.
    no_problems(watched, allow_console=("status of 401",))
