"""Managing polls from the host page in real Chromium over the real service: the list
(pages, search, status filter, duplicate, delete), editing a draft, and the presenter
view's "Manage this poll" (fix wording, reopen, reset, CSV downloads), plus the
session control view's CSV.

Same fixtures and rules as tests/test_web_browser.py (every page watched for errors,
every wait bounded). The web fixture runs no worker: where a test needs a closed
poll's results final, it runs the worker's finalize (workers/finalize.py) itself.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app.config import load_settings
from app.redis import redis_client
from tests import test_web_browser
from tests.test_export import RESULTS_HEADER, SESSION_HEADER
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
from tests.web_helpers import PHONE, PROJECTOR, open_page
from workers.finalize import finalize_poll

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect
# The fixtures of the browser tests: the service on a port of its own, one Chromium.
web = test_web_browser.web
browser = test_web_browser.browser

# Chromium logs each refused request of these tests (on purpose) as a failed load.
REFUSALS = ("status of 409", "status of 422")


@pytest.fixture
async def roomy_web(settings_env: dict[str, str], redis: redis_sync.Redis) -> AsyncIterator[Web]:
    """The service with room in the poll-creation bucket for more than a page of polls."""
    async with serve_web(settings_env, poll_create_burst=100) as served:
        yield served


async def owner_request(
    base_url: str, owner: dict[str, str], method: str, path: str, body: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as c:
        return await c.request(
            method, path, json=body, headers={"Authorization": owner["Authorization"]}
        )


async def owner_json(
    base_url: str, owner: dict[str, str], method: str, path: str, body: Any = None
) -> Any:
    r = await owner_request(base_url, owner, method, path, body)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def finalize(settings_env: dict[str, str], poll_id: int) -> None:
    """What the worker does a few seconds after a close: drain the poll's outbox and
    store its final counts (the job the close enqueued, run here to its end)."""
    settings = load_settings(**{k.lower(): v for k, v in settings_env.items()})
    client = redis_client(settings.redis_url)
    try:
        outcome = await finalize_poll(
            redis=client, poll_id=poll_id, consumer="test-finalize", settings=settings
        )
    finally:
        await client.aclose()
    assert outcome == "finalized", outcome


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def downloaded(page: Any, button: Any) -> tuple[str, str]:
    """Click `button` and return the saved file's (name, text)."""
    async with page.expect_download(timeout=WAIT_MS) as info:
        await button.click()
    download = await info.value
    path = await download.path()
    assert path is not None, await download.failure()
    text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    return download.suggested_filename, text


def item_of(page: Any, question: str) -> Any:
    return page.locator("#poll-list li.poll-item").filter(
        has=page.locator(".q", has_text=re.compile(f"^{re.escape(question)}$"))
    )


# --- the list -----------------------------------------------------------------------------


async def test_the_list_pages_searches_filters_and_deletes_after_a_confirmation(
    roomy_web: Web, browser: Any
) -> None:
    web = roomy_web
    owner = await api_owner(web.base_url)
    polls = []
    for i in range(1, 22):
        status = "draft" if i <= 2 else "open"
        polls.append(
            await api_poll(
                web.base_url,
                owner,
                question=f"Question {i:02d}: which snack?",
                options=["Crisps", "Fruit"],
                status=status,
            )
        )
    for poll in polls[2:4]:  # 03 and 04 closed
        await owner_json(web.base_url, owner, "POST", f"/polls/{poll['id']}/close")

    watched = await open_page(browser, PROJECTOR)
    page = watched.page
    await sign_in(page, web.base_url, owner)
    questions = page.locator("#poll-list .q")
    rng = page.locator("#pl-range")
    newer, older = (
        page.get_by_role("button", name="Newer"),
        page.get_by_role("button", name="Older"),
    )
    # Newest first, 20 a page: the oldest is on the second page.
    await expect(questions).to_have_count(20, timeout=WAIT_MS)
    await expect(questions.first).to_have_text("Question 21: which snack?")
    await expect(rng).to_have_text("1\u201320 of 21")
    await expect(newer).to_be_hidden()
    await older.click()
    await expect(questions).to_have_text(["Question 01: which snack?"], timeout=WAIT_MS)
    await expect(rng).to_have_text("21\u201321 of 21")
    await expect(older).to_be_hidden()
    await newer.click()
    await expect(questions).to_have_count(20, timeout=WAIT_MS)

    # Typing searches (debounced, no Enter), from the first page, case-insensitively.
    search = page.get_by_role("searchbox", name="Search your polls")
    await search.fill("question 01")
    await expect(questions).to_have_text(["Question 01: which snack?"], timeout=WAIT_MS)
    await expect(rng).to_have_text("1\u20131 of 1")
    await expect(older).to_be_hidden()
    await search.fill("")
    await expect(questions).to_have_count(20, timeout=WAIT_MS)

    status_filter = page.get_by_label("Status")
    await status_filter.select_option("draft")
    await expect(questions).to_have_text(
        ["Question 02: which snack?", "Question 01: which snack?"], timeout=WAIT_MS
    )
    await expect(page.locator("#poll-list .badge")).to_have_text(["Draft", "Draft"])
    await status_filter.select_option("closed")
    await expect(questions).to_have_text(
        ["Question 04: which snack?", "Question 03: which snack?"], timeout=WAIT_MS
    )
    # A closed poll's row reopens it.
    await expect(
        item_of(page, "Question 04: which snack?").get_by_role("button", name="Reopen voting")
    ).to_be_visible()
    await status_filter.select_option("open")
    await expect(questions).to_have_count(17, timeout=WAIT_MS)
    await expect(rng).to_have_text("1\u201317 of 17")
    # Both at once: an open poll's question with "03" in it is none.
    await search.fill("03")
    await expect(page.locator("#list-empty")).to_have_text(
        "No open poll has “03” in its question.", timeout=WAIT_MS
    )
    await expect(questions).to_have_count(0)
    await status_filter.select_option("")
    await expect(questions).to_have_text(["Question 03: which snack?"], timeout=WAIT_MS)
    await search.fill("")
    await expect(questions).to_have_count(20, timeout=WAIT_MS)

    # Delete asks first; Cancel keeps the poll.
    await older.click()
    oldest = item_of(page, "Question 01: which snack?")
    await expect(oldest).to_be_visible(timeout=WAIT_MS)
    await oldest.get_by_role("button", name="Delete", exact=False).first.click()
    await expect(oldest.get_by_text("Delete this draft?")).to_be_visible()
    await oldest.get_by_role("button", name="Cancel").click()
    await expect(oldest.get_by_role("button", name="Yes, delete")).to_be_hidden()
    r = await owner_request(web.base_url, owner, "GET", f"/polls/{polls[0]['id']}")
    assert r.status_code == 200, r.text
    # Yes, delete: the second page emptied, so the list shows the last page left.
    await oldest.get_by_role("button", name="Delete “Question 01: which snack?”").click()
    await oldest.get_by_role("button", name="Yes, delete").click()
    await expect(rng).to_have_text("1\u201320 of 20", timeout=WAIT_MS)
    await expect(questions).to_have_count(20)
    await expect(older).to_be_hidden()
    await expect(newer).to_be_hidden()
    r = await owner_request(web.base_url, owner, "GET", f"/polls/{polls[0]['id']}")
    assert r.status_code == 404, r.text
    no_problems(watched)


# --- the poll form: editing a draft, duplicating --------------------------------------------


async def test_edit_a_draft_then_open_it_and_duplicate_it(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    closes_at = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    draft = await api_poll(
        web.base_url,
        owner,
        question="Lunch optionz?",
        options=["Pizza", "Sushi"],
        status="draft",
        closes_at=closes_at.isoformat(),
    )
    pid = draft["id"]
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner)
    row = item_of(hp, "Lunch optionz?")
    await row.get_by_role("link", name="Edit").click()
    await hp.wait_for_url(f"**/host#/edit/{pid}", timeout=WAIT_MS)
    await expect(hp.locator("#create-title")).to_have_text("Edit draft")
    await expect(hp.locator("#f-editing")).to_contain_text(draft["code"])
    question = hp.get_by_label("Question")
    await expect(question).to_have_value("Lunch optionz?")
    await expect(hp.get_by_label("Answer 1", exact=True)).to_have_value("Pizza")
    await expect(hp.get_by_label("Answer 2", exact=True)).to_have_value("Sushi")
    await expect(hp.get_by_role("button", name="Create and open")).to_be_hidden()
    # An emptied closing time goes (the PATCH sends null); it can be set again.
    closes = hp.get_by_label("Close automatically at")
    await expect(closes).not_to_have_value("")
    when = await closes.input_value()
    await closes.fill("")
    await hp.get_by_role("button", name="Save changes").click()
    await hp.wait_for_url("**/host#/", timeout=WAIT_MS)  # saved: back to the list
    assert (await owner_json(web.base_url, owner, "GET", f"/polls/{pid}"))["poll"][
        "closes_at"
    ] is None
    await row.get_by_role("link", name="Edit").click()
    await expect(question).to_have_value("Lunch optionz?", timeout=WAIT_MS)
    await expect(closes).to_have_value("")
    await closes.fill(when)

    # Every field of the form goes into the PATCH.
    await question.fill("Lunch options?")
    await hp.get_by_role("button", name="Add answer").click()
    await hp.get_by_label("Answer 3", exact=True).fill("Tacos")
    await hp.get_by_label("Several answers").check()
    await hp.get_by_label("At most how many?").fill("2")
    await hp.get_by_label("Who sees the results").select_option("after_close")
    await hp.get_by_label("Voters may change their vote").check()
    await hp.get_by_label("Keep the results hidden until I reveal them").check()
    await hp.get_by_role("button", name="Save changes").click()
    await expect(hp.locator("#host-notice")).to_have_text(
        f"Draft saved (code {draft['code']}).", timeout=WAIT_MS
    )
    await expect(hp.locator("#create-title")).to_have_text("New poll")
    assert hp.url.endswith("/host#/")
    await expect(item_of(hp, "Lunch options?").locator(".badge")).to_have_text("Draft")
    saved = (await owner_json(web.base_url, owner, "GET", f"/polls/{pid}"))["poll"]
    assert [o["label"] for o in saved["options"]] == ["Pizza", "Sushi", "Tacos"]
    assert saved["kind"] == "multiple" and saved["max_choices"] == 2, saved
    assert saved["allow_change"] is True and saved["results_visibility"] == "after_close"
    assert saved["results_hidden"] is True and saved["status"] == "draft"
    assert datetime.fromisoformat(saved["closes_at"]) == closes_at  # sent back unchanged

    # Editing again: the form shows what was saved; the server's field error lands
    # next to its field; then "Save and open" saves, opens and presents it.
    await item_of(hp, "Lunch options?").get_by_role("link", name="Edit").click()
    await expect(hp.get_by_label("Answer 3", exact=True)).to_have_value("Tacos", timeout=WAIT_MS)
    await expect(hp.get_by_label("Several answers")).to_be_checked()
    await expect(hp.get_by_label("At most how many?")).to_have_value("2")
    await expect(hp.get_by_label("Who sees the results")).to_have_value("after_close")
    await expect(hp.get_by_label("Keep the results hidden until I reveal them")).to_be_checked()
    await hp.get_by_label("Keep the results hidden until I reveal them").uncheck()
    await hp.get_by_label("Who sees the results").select_option("live")
    await hp.get_by_label("Answer 2", exact=True).fill("")
    await hp.get_by_role("button", name="Save changes").click()
    await expect(hp.locator('[data-error-for="options[1]"]')).to_have_text(
        "This cannot be empty.", timeout=WAIT_MS
    )
    await expect(hp.locator("#create-error")).to_contain_text("Some fields need fixing")
    await hp.get_by_label("Answer 2", exact=True).fill("Sushi")
    await hp.get_by_role("button", name="Save and open").click()
    await hp.wait_for_url(f"**/host#/poll/{pid}", timeout=WAIT_MS)
    await expect(hp.locator("#p-status")).to_have_text("Open", timeout=WAIT_MS)
    await expect(hp.locator("#p-question")).to_have_text("Lunch options?")
    await expect(hp.locator("#p-chart .label-text")).to_have_text(["Pizza", "Sushi", "Tacos"])

    audience = await open_page(browser, PHONE)
    ap = audience.page
    await ap.goto(f"{web.base_url}/p/{draft['code']}")
    await expect(ap.get_by_role("heading", level=1)).to_have_text("Lunch options?", timeout=WAIT_MS)
    await expect(ap.locator("#instructions")).to_contain_text("Pick up to 2 answers")
    await ap.get_by_label("Tacos").check()
    await ap.get_by_role("button", name="Submit vote").click()
    await expect(ap.locator("#vote-state")).to_have_text("Your vote is counted.", timeout=WAIT_MS)
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(
        ["0", "0", "1"], timeout=WAIT_MS
    )

    # Duplicate from the list: a new draft, first in the list, its Edit link focused.
    await hp.get_by_role("link", name="Back to your polls").click()
    rows = hp.locator("#poll-list li.poll-item")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    await rows.first.get_by_role("button", name="Duplicate “Lunch options?”").click()
    await expect(hp.locator("#host-notice")).to_contain_text(
        "Copied as a new draft", timeout=WAIT_MS
    )
    await expect(rows).to_have_count(2, timeout=WAIT_MS)
    await expect(rows.locator(".badge")).to_have_text(["Draft", "Open"])
    await expect(rows.locator(".q")).to_have_text(["Lunch options?", "Lunch options?"])
    await expect(rows.first.get_by_role("link", name="Edit")).to_be_focused()
    listing = await owner_json(web.base_url, owner, "GET", "/polls")
    assert listing["total"] == 2
    copy = listing["items"][0]
    assert copy["id"] != pid and copy["status"] == "draft" and copy["code"] != draft["code"]
    assert [o["label"] for o in copy["options"]] == ["Pizza", "Sushi", "Tacos"]
    assert copy["kind"] == "multiple" and copy["max_choices"] == 2
    no_problems(host, audience, allow_console=REFUSALS)


# --- "Manage this poll" in the presenter view ------------------------------------------------


async def test_fix_wording_of_an_open_poll_reaches_the_audience_and_keeps_its_vote(
    web: Web, browser: Any
) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url, owner, question="Best editr?", options=["Vim", "Emaks", "Nano"]
    )
    audience = await open_page(browser, PHONE)
    ap = audience.page
    await ap.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(ap)
    await ap.get_by_role("button", name="Emaks").click()
    await expect(ap.locator("#vote-state")).to_have_text("Your vote is counted.", timeout=WAIT_MS)

    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner, f"#/poll/{poll['id']}")
    await expect_live(hp, "#p-conn")
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(
        ["0", "1", "0"], timeout=WAIT_MS
    )
    manage = hp.locator("#p-manage")
    await hp.get_by_role("button", name="Manage", exact=True).click()
    await expect(manage).to_be_in_viewport()
    # An open poll keeps its answers: no editing of a draft's kind here, only words.
    await expect(manage.get_by_role("link", name="Edit draft")).to_have_count(0)
    await manage.get_by_role("button", name="Fix wording").click()
    form = manage.locator("form")
    await expect(form.get_by_label("Question")).to_have_value("Best editr?")
    await expect(form.get_by_label("Answer 2", exact=True)).to_have_value("Emaks")
    await expect(form.get_by_role("button", name="Add answer")).to_have_count(0)

    # The server's 422 is shown next to the form: labels must stay distinct.
    await form.get_by_label("Answer 3", exact=True).fill("vim")
    await form.get_by_role("button", name="Save wording").click()
    await expect(form.locator('[data-error-for="options"]')).to_contain_text(
        "Duplicate option label", timeout=WAIT_MS
    )
    await expect(form.get_by_role("alert")).to_contain_text("Some fields need fixing")

    await form.get_by_label("Question").fill("Best editor?")
    await form.get_by_label("Answer 2", exact=True).fill("Emacs")
    await form.get_by_label("Answer 3", exact=True).fill("Nano")
    await form.get_by_role("button", name="Save wording").click()
    await expect(manage.locator("#pm-note")).to_have_text("The wording is fixed.", timeout=WAIT_MS)
    await expect(manage.locator("form")).to_have_count(0)
    await expect(hp.locator("#p-question")).to_have_text("Best editor?", timeout=WAIT_MS)
    await expect(hp.locator("#p-chart .label-text")).to_have_text(["Vim", "Emacs", "Nano"])
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(["0", "1", "0"])

    # The audience sees the new words live, and its vote is still the same answer.
    await expect(ap.get_by_role("heading", level=1)).to_have_text("Best editor?", timeout=WAIT_MS)
    await expect(ap.locator("#choices .label")).to_have_text(["Vim", "Emacs", "Nano"])
    await expect(ap.get_by_role("button", name="Emacs")).to_have_attribute("aria-pressed", "true")
    await expect(ap.locator("#chart li.row .count")).to_have_text(["0", "1", "0"])
    body = await owner_json(web.base_url, owner, "GET", f"/polls/{poll['id']}")
    assert body["results"]["total"] == 1
    assert [o["id"] for o in body["poll"]["options"]] == [o["id"] for o in poll["options"]]
    no_problems(host, audience, allow_console=REFUSALS)


async def test_reopen_vote_again_export_and_reset_a_closed_poll(
    web: Web, browser: Any, settings_env: dict[str, str]
) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(web.base_url, owner, question="Tea or coffee?", options=["Tea", "Coffee"])
    pid = poll["id"]
    tea, coffee = (o["id"] for o in poll["options"])
    await api_guest_vote(web.base_url, pid, tea)

    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner, f"#/poll/{pid}")
    await expect_live(hp, "#p-conn")
    audience = await open_page(browser, PHONE)
    ap = audience.page
    await ap.goto(f"{web.base_url}/p/{poll['code']}")
    await expect_live(ap)
    manage = hp.locator("#p-manage")
    await expect(manage.get_by_role("button", name="Reopen voting")).to_have_count(0)

    await hp.get_by_role("button", name="Close voting").click()
    await expect(hp.locator("#p-status")).to_have_text("Closed", timeout=WAIT_MS)
    await expect(ap.get_by_role("button", name="Coffee")).to_be_disabled(timeout=WAIT_MS)

    # Reopened where it stopped: the audience votes again, the first vote still counts.
    await manage.get_by_role("button", name="Reopen voting").click()
    await expect(hp.locator("#p-status")).to_have_text("Open", timeout=WAIT_MS)
    await expect(manage.locator("#pm-note")).to_contain_text("Voting is open again")
    await ap.get_by_role("button", name="Coffee").click()
    await expect(ap.locator("#vote-state")).to_have_text("Your vote is counted.", timeout=WAIT_MS)
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(["1", "1"], timeout=WAIT_MS)
    await expect(hp.locator("#p-total")).to_have_text("2")
    await hp.get_by_role("button", name="Close voting").click()
    await expect(hp.locator("#p-status")).to_have_text("Closed", timeout=WAIT_MS)

    # The exports, fetched with the host's token and saved as files.
    name, text = await downloaded(hp, manage.get_by_role("button", name="Download results (CSV)"))
    assert name == f"poll-{pid}-results.csv"
    assert rows_of(text) == [
        RESULTS_HEADER,
        [str(tea), "Tea", "0", "1", "", "", ""],
        [str(coffee), "Coffee", "1", "1", "", "", ""],
    ]
    r = await owner_request(web.base_url, owner, "GET", f"/polls/{pid}/results.csv")
    assert r.text == text
    await expect(manage.locator("#pm-note")).to_have_text(f"Saved {name}.")

    # Reset asks first, saying what it does; before the worker finalized the close the
    # server's 409 is shown, not swallowed.
    await manage.get_by_role("button", name="Reset results").click()
    question = manage.locator(".confirm-question")
    await expect(question).to_contain_text("All 2 ballots of this poll will be deleted")
    await expect(question).to_contain_text("The reset is recorded")
    await manage.get_by_role("button", name="Yes, reset").click()
    await expect(manage.locator("#pm-error")).to_contain_text(
        "Only a closed poll whose results are final can be reset", timeout=WAIT_MS
    )
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(["1", "1"])

    await finalize(settings_env, pid)
    # Ballots export what the workers persisted: all of them once finalized.
    name, text = await downloaded(hp, manage.get_by_role("button", name="Download ballots (CSV)"))
    assert name == f"poll-{pid}-ballots.csv"
    ballots = rows_of(text)
    assert ballots[0] == ["user_id", "option_ids", "seq", "cast_at"]
    assert sorted(row[1] for row in ballots[1:]) == sorted([str(tea), str(coffee)])
    r = await owner_request(web.base_url, owner, "GET", f"/polls/{pid}/ballots.csv")
    assert r.text == text

    await manage.get_by_role("button", name="Yes, reset").click()
    await expect(manage.locator("#pm-note")).to_have_text(
        "The results were reset: no votes.", timeout=WAIT_MS
    )
    await expect(manage.locator("#pm-error")).to_be_hidden()
    await expect(hp.locator("#p-chart li.row .count")).to_have_text(["0", "0"], timeout=WAIT_MS)
    await expect(hp.locator("#p-total")).to_have_text("0")
    results = await owner_json(web.base_url, owner, "GET", f"/polls/{pid}/results")
    assert results["total"] == 0 and set(results["counts"].values()) == {0}, results
    name, text = await downloaded(hp, manage.get_by_role("button", name="Download results (CSV)"))
    assert [row[3] for row in rows_of(text)[1:]] == ["0", "0"]
    no_problems(host, audience, allow_console=REFUSALS)


async def test_the_session_control_view_downloads_the_sessions_results(
    web: Web, browser: Any
) -> None:
    owner = await api_owner(web.base_url)
    first = await api_poll(
        web.base_url, owner, question="Coffee or tea?", options=["Coffee", "Tea"]
    )
    second = await api_poll(
        web.base_url, owner, question="=1+1 or more?", options=["Yes", "No"], status="draft"
    )
    session = await owner_json(
        web.base_url,
        owner,
        "POST",
        "/sessions",
        {"title": "Friday keynote", "poll_ids": [first["id"], second["id"]]},
    )
    await api_guest_vote(web.base_url, first["id"], first["options"][1]["id"])

    watched = await open_page(browser, PHONE)
    page = watched.page
    await sign_in(page, web.base_url, owner, f"#/session/{session['id']}")
    await expect(page.locator("#sc-title")).to_have_text("Friday keynote", timeout=WAIT_MS)
    name, text = await downloaded(page, page.get_by_role("button", name="Download results (CSV)"))
    assert name == f"session-{session['id']}-results.csv"
    rows = rows_of(text)
    assert rows[0] == SESSION_HEADER
    assert [(r[0], r[2], r[3], r[5], r[7]) for r in rows[1:]] == [
        (str(first["id"]), "Coffee or tea?", "open", "Coffee", "0"),
        (str(first["id"]), "Coffee or tea?", "open", "Tea", "1"),
        # A formula-like cell is neutralised (PROTOCOL.md "CSV exports").
        (str(second["id"]), "'=1+1 or more?", "draft", "Yes", "0"),
        (str(second["id"]), "'=1+1 or more?", "draft", "No", "0"),
    ]
    r = await owner_request(web.base_url, owner, "GET", f"/sessions/{session['id']}/results.csv")
    assert r.text == text
    await expect(page.locator("#sc-csv-note")).to_have_text(f"Saved {name}.")
    no_problems(watched)
