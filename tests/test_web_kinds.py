"""Rating, ranking and quiz polls in real Chromium over the real service: the host makes the
poll in the form, phones vote through their page (one of them changes its vote), and
the projector, the presenter view and the phones draw the tally the server counted.

Same fixtures and rules as tests/test_web_browser.py (every page watched for errors,
every wait bounded). The expected numbers are worked out by hand here, so the page's
arithmetic (a rating's average, a ranking's Borda points, average places and order)
is checked against the definition, not against itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests import test_web_browser
from tests.test_manage import finalize
from tests.test_web_browser import (
    WAIT_MS,
    Web,
    api_owner,
    api_poll,
    expect_live,
    no_problems,
    sign_in,
)
from tests.test_web_manage import owner_json
from tests.web_helpers import PHONE, PROJECTOR, Watched, open_page

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect
web = test_web_browser.web
browser = test_web_browser.browser


async def created_poll(page: Any, base_url: str, owner: dict[str, str]) -> dict[str, Any]:
    """The poll the form just created and opened (the presenter view's route names it)."""
    await expect(page.locator("#p-code")).to_have_text(
        re.compile(r"^[A-HJ-NP-Z2-9]{6}$"), timeout=WAIT_MS
    )
    match = re.search(r"#/poll/(\d+)$", page.url)
    assert match, page.url
    poll: dict[str, Any] = (await owner_json(base_url, owner, "GET", f"/polls/{match[1]}"))["poll"]
    return poll


async def audience(browser: Any, base_url: str, code: str, n: int) -> list[Watched]:
    phones = [await open_page(browser, PHONE) for _ in range(n)]
    for phone in phones:
        await phone.page.goto(f"{base_url}/p/{code}")
        await expect_live(phone.page)
    return phones


async def projector(browser: Any, base_url: str, code: str) -> Watched:
    screen = await open_page(browser, PROJECTOR)
    await screen.page.goto(f"{base_url}/present/{code}")
    await expect_live(screen.page, "#pr-conn")
    return screen


@dataclass(frozen=True)
class Drawn:
    """A chart as the page should draw it: its rows top down, and the line below."""

    labels: list[str]
    counts: list[str]
    pcts: list[str]
    summary: str


async def expect_chart(page: Any, chart: str, drawn: Drawn) -> None:
    rows = page.locator(f"{chart} li.row")
    await expect(rows.locator(".label-text")).to_have_text(drawn.labels, timeout=WAIT_MS)
    await expect(rows.locator(".count")).to_have_text(drawn.counts, timeout=WAIT_MS)
    await expect(rows.locator(".pct")).to_have_text(drawn.pcts, timeout=WAIT_MS)
    await expect(page.locator(f"{chart} + .chart-summary")).to_have_text(drawn.summary)


async def test_a_rating_poll_from_the_form_to_the_projector(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner)
    await hp.get_by_label("Question").fill("How useful was the workshop?")
    await hp.get_by_label("Rating scale").check()
    # A rating has no answers: the editor goes, the scale and its ends come.
    await expect(hp.locator("#f-options-set")).to_be_hidden()
    await expect(hp.get_by_label("At most how many?")).to_have_count(0)
    await expect(hp.get_by_label("Values from 1 to")).to_have_value("5")
    await hp.get_by_label("Values from 1 to").fill("4")
    await hp.get_by_label("Words under 1 (optional)").fill("Not at all")
    await hp.get_by_label("Words under the top value (optional)").fill("<b>Very</b>")
    await hp.get_by_label("Voters may change their vote").check()
    await hp.get_by_role("button", name="Create and open").click()
    poll = await created_poll(hp, web.base_url, owner)
    assert (poll["kind"], poll["scale"], poll["options"]) == ("rating", 4, [])
    assert (poll["low_label"], poll["high_label"]) == ("Not at all", "<b>Very</b>")
    await expect_live(hp, "#p-conn")

    screen = await projector(browser, web.base_url, poll["code"])
    phones = await audience(browser, web.base_url, poll["code"], 3)
    first = phones[0].page
    values = first.locator("#choices button.scale-value")
    await expect(values.locator(".label")).to_have_text(["1", "2", "3", "4"])
    await expect(first.locator(".scale-ends span")).to_have_text(["Not at all", "<b>Very</b>"])
    await expect(first.locator("#instructions")).to_contain_text("Tap a value from 1 to 4.")
    # The end labels describe the buttons at the ends, for a screen reader too.
    assert await values.first.get_attribute("aria-describedby") == "scale-end-1"

    for phone, value in zip(phones, ["4", "2", "3"], strict=True):
        await phone.page.get_by_role("button", name=value, exact=True).click()
        await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    third = phones[2].page
    await expect(third.locator("#instructions")).to_contain_text("Tap another value")
    await third.get_by_role("button", name="4", exact=True).click()
    await expect(third.locator("#vote-state")).to_have_text("Your vote was changed.")
    await expect(third.get_by_role("button", name="4", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(third.get_by_role("button", name="3", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )

    # 2 once, 4 twice: the average is (2 + 4 + 4) / 3 = 3.33.
    expected = Drawn(
        labels=["1", "2", "3", "4"],
        counts=["0", "1", "0", "2"],
        pcts=["0%", "33%", "0%", "67%"],
        summary="Average 3.33 out of 4",
    )
    await expect_chart(screen.page, "#pr-chart", expected)
    await expect(screen.page.locator("#pr-total")).to_have_text("3")
    await expect(screen.page.locator("#pr-chart .label-sub")).to_have_text(
        ["Not at all", "<b>Very</b>"]
    )
    await expect_chart(hp, "#p-chart", expected)
    await expect(hp.locator("#p-total")).to_have_text("3")
    for phone in phones:
        await expect_chart(phone.page, "#chart", expected)
    await expect(first.locator("#chart li.row.is-mine .label-text")).to_have_text(["4"])

    results = await owner_json(web.base_url, owner, "GET", f"/polls/{poll['id']}/results")
    assert results["counts"] == {"1": 0, "2": 1, "3": 0, "4": 2}
    assert results["total"] == 3
    # Text from the host stays text.
    assert await screen.page.locator("main b").count() == 0
    no_problems(host, screen, *phones)


async def test_an_empty_rating_shows_no_average(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    poll = await api_poll(web.base_url, owner, question="Rate it", kind="rating", scale=3)
    screen = await projector(browser, web.base_url, poll["code"])
    empty = Drawn(
        labels=["1", "2", "3"],
        counts=["0", "0", "0"],
        pcts=["0%", "0%", "0%"],
        summary="Average \u2014 out of 3",
    )
    await expect_chart(screen.page, "#pr-chart", empty)
    no_problems(screen)


RANKED = ["Alpha talk", "Beta talk", "Gamma talk", "Delta talk", "Epsilon talk"]


async def rank(page: Any, labels: list[str]) -> None:
    for label in labels:
        await page.get_by_role("button", name=label).click()


async def test_a_ranking_poll_from_the_form_to_the_projector(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner)
    await hp.get_by_label("Question").fill("Which talks should we repeat?")
    await hp.get_by_label("Ranking").check()
    await expect(hp.locator("#f-options-set")).to_be_visible()
    await expect(hp.get_by_label("Values from 1 to")).to_have_count(0)
    for i, label in enumerate(RANKED, start=1):
        if i > 2:
            await hp.get_by_role("button", name="Add answer").click()
        await hp.get_by_label(f"Answer {i}", exact=True).fill(label)
    await hp.get_by_label("How many should each voter rank?").fill("3")
    await hp.get_by_label("Voters may change their vote").check()
    await hp.get_by_role("button", name="Create and open").click()
    poll = await created_poll(hp, web.base_url, owner)
    assert (poll["kind"], poll["max_choices"]) == ("ranking", 3)
    ids = {o["label"]: o["id"] for o in poll["options"]}
    alpha, beta, gamma, delta, epsilon = (ids[label] for label in RANKED)

    screen = await projector(browser, web.base_url, poll["code"])
    phones = await audience(browser, web.base_url, poll["code"], 3)
    one, two, three = (p.page for p in phones)
    submit = one.get_by_role("button", name="Submit vote")

    # By taps: the places follow the order of the taps; submit only once 3 are placed.
    await rank(one, ["Delta talk", "Gamma talk"])
    await expect(one.locator("#choice-count")).to_have_text("2 of 3 ranked")
    await expect(submit).to_be_disabled()
    await rank(one, ["Alpha talk"])
    await expect(one.locator("#choices .rank-option .place")).to_have_text(["3", "", "2", "1", ""])
    await expect(one.get_by_role("button", name="Beta talk")).to_be_disabled()
    await expect(one.get_by_role("button", name="Delta talk, ranked 1st")).to_have_attribute(
        "aria-pressed", "true"
    )
    await submit.click()
    await expect(one.locator("#vote-state")).to_have_text("Your vote is counted.")

    # By keyboard.
    for label in ["Alpha talk", "Beta talk", "Gamma talk"]:
        await two.get_by_role("button", name=label).focus()
        await two.keyboard.press("Enter")
    await two.get_by_role("button", name="Submit vote").focus()
    await two.keyboard.press("Enter")
    await expect(two.locator("#vote-state")).to_have_text("Your vote is counted.")

    # Undo takes the last place back, and tapping a ranked answer takes it out.
    await rank(three, ["Epsilon talk", "Gamma talk"])
    await three.get_by_role("button", name="Undo last").click()
    await rank(three, ["Beta talk", "Alpha talk", "Beta talk", "Beta talk"])
    await expect(three.locator("#choices .rank-option .place")).to_have_text(
        ["2", "3", "", "", "1"]
    )
    await three.get_by_role("button", name="Submit vote").click()
    await expect(three.locator("#vote-state")).to_have_text("Your vote is counted.")
    # Then changes their mind: cleared and ranked again.
    await three.get_by_role("button", name="Clear").click()
    await expect(three.get_by_role("button", name="Change vote")).to_be_disabled()
    await rank(three, ["Beta talk", "Alpha talk", "Epsilon talk"])
    await three.get_by_role("button", name="Change vote").click()
    await expect(three.locator("#vote-state")).to_have_text("Your vote was changed.")

    # Ballots: Delta-Gamma-Alpha, Alpha-Beta-Gamma, Beta-Alpha-Epsilon; 3, 2, 1 points.
    # Alpha 1+3+2 = 6 (places 3, 1, 2: 2.00), Beta 2+3 = 5 (2, 1: 1.50), Gamma 2+1 = 3
    # (2, 3: 2.50), Delta 3 (1: 1.00), Epsilon 1 (3: 3.00). Delta ties Gamma on points
    # and goes first on its better average place, though Gamma comes first in the poll.
    expected = Drawn(
        labels=["Alpha talk", "Beta talk", "Delta talk", "Gamma talk", "Epsilon talk"],
        counts=["6 pts", "5 pts", "3 pts", "3 pts", "1 pt"],
        pcts=["avg 2.00", "avg 1.50", "avg 1.00", "avg 2.50", "avg 3.00"],
        summary="Points: 3 for a 1st place, down to 1 for a 3rd. avg: the average place.",
    )
    await expect_chart(screen.page, "#pr-chart", expected)
    await expect(screen.page.locator("#pr-total")).to_have_text("3")
    await expect_chart(hp, "#p-chart", expected)
    for phone in phones:
        await expect_chart(phone.page, "#chart", expected)
    await expect(three.locator("#chart li.row.is-mine .mine")).to_have_text(
        ["your 2nd", "your 1st", "your 3rd"]
    )

    results = await owner_json(web.base_url, owner, "GET", f"/polls/{poll['id']}/results")
    placed = {
        f"{alpha}:3": 1,
        f"{alpha}:1": 1,
        f"{alpha}:2": 1,
        f"{beta}:2": 1,
        f"{beta}:1": 1,
        f"{gamma}:2": 1,
        f"{gamma}:3": 1,
        f"{delta}:1": 1,
        f"{epsilon}:3": 1,
    }
    assert results["counts"] == {
        f"{oid}:{p}": placed.get(f"{oid}:{p}", 0) for oid in ids.values() for p in (1, 2, 3)
    }
    assert results["total"] == 3
    no_problems(host, screen, *phones)


async def test_editing_drafts_round_trips_rating_and_ranking(web: Web, browser: Any) -> None:
    owner = await api_owner(web.base_url)
    rating = await api_poll(
        web.base_url,
        owner,
        question="Rate lunch",
        kind="rating",
        scale=7,
        low_label="Cold",
        status="draft",
    )
    ranking = await api_poll(
        web.base_url,
        owner,
        question="Order the rooms",
        kind="ranking",
        options=["North", "South", "East"],
        max_choices=2,
        status="draft",
    )
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner, f"#/edit/{rating['id']}")
    await expect(hp.locator("#create-title")).to_have_text("Edit draft", timeout=WAIT_MS)
    await expect(hp.get_by_label("Rating scale")).to_be_checked()
    await expect(hp.get_by_label("Values from 1 to")).to_have_value("7")
    await expect(hp.get_by_label("Words under 1 (optional)")).to_have_value("Cold")
    await expect(hp.get_by_label("Words under the top value (optional)")).to_have_value("")
    # An emptied label goes (the PATCH sends null).
    await hp.get_by_label("Words under 1 (optional)").fill("")
    await hp.get_by_role("button", name="Save changes").click()
    await hp.wait_for_url("**/host#/", timeout=WAIT_MS)  # saved: back to the list
    saved = (await owner_json(web.base_url, owner, "GET", f"/polls/{rating['id']}"))["poll"]
    assert (saved["low_label"], saved["high_label"]) == (None, None)
    await hp.goto(f"{web.base_url}/host#/edit/{rating['id']}")
    await expect(hp.get_by_label("Values from 1 to")).to_have_value("7", timeout=WAIT_MS)
    await expect(hp.get_by_label("Words under 1 (optional)")).to_have_value("")
    await hp.get_by_label("Words under 1 (optional)").fill("Chilly")
    await hp.get_by_label("Words under the top value (optional)").fill("Hot")
    await hp.get_by_role("button", name="Save changes").click()
    await hp.wait_for_url("**/host#/", timeout=WAIT_MS)  # saved: back to the list
    saved = (await owner_json(web.base_url, owner, "GET", f"/polls/{rating['id']}"))["poll"]
    assert (saved["kind"], saved["scale"], saved["options"]) == ("rating", 7, [])
    assert (saved["low_label"], saved["high_label"]) == ("Chilly", "Hot")

    await hp.goto(f"{web.base_url}/host#/edit/{ranking['id']}")
    await expect(hp.get_by_label("Ranking")).to_be_checked(timeout=WAIT_MS)
    await expect(hp.get_by_label("How many should each voter rank?")).to_have_value("2")
    await expect(hp.get_by_label("Answer 3", exact=True)).to_have_value("East")
    await hp.get_by_label("How many should each voter rank?").fill("3")
    await hp.get_by_role("button", name="Save changes").click()
    await hp.wait_for_url("**/host#/", timeout=WAIT_MS)  # saved: back to the list
    saved = (await owner_json(web.base_url, owner, "GET", f"/polls/{ranking['id']}"))["poll"]
    assert (saved["kind"], saved["max_choices"]) == ("ranking", 3)
    assert [o["label"] for o in saved["options"]] == ["North", "South", "East"]
    # The list says what kind each is.
    items = hp.locator("#poll-list li.poll-item")
    await expect(items.filter(has_text="Rate lunch")).to_contain_text("Rating 1\u20137")
    await expect(items.filter(has_text="Order the rooms")).to_contain_text("Ranking of 3")
    no_problems(host, allow_console=("status of 422",))


async def test_a_quiz_from_the_form_to_the_reveal(web: Web, browser: Any, worker: Any) -> None:
    """The host ticks the correct answer in the form; phones vote without seeing it;
    the close reveals it on every screen, each phone says how it did, and the
    projector shows the leaderboard once the scores are final."""
    owner = await api_owner(web.base_url)
    host = await open_page(browser, PROJECTOR)
    hp = host.page
    await sign_in(hp, web.base_url, owner)
    await hp.get_by_label("Question").fill("Which planet is closest to the Sun?")
    await hp.get_by_label("Quiz").check()
    for i, label in enumerate(["Venus", "Mercury", "Mars"], start=1):
        if i > 2:
            await hp.get_by_role("button", name="Add answer").click()
        await hp.get_by_label(f"Answer {i}", exact=True).fill(label)
    # Nothing ticked: the server says what is missing, next to the key.
    await hp.get_by_role("button", name="Create and open").click()
    await expect(hp.locator('[data-error-for="correct"]')).to_contain_text(
        "at least 1", timeout=WAIT_MS
    )
    await hp.get_by_label("Answer 2 is correct").check()
    await hp.get_by_role("button", name="Create and open").click()
    poll = await created_poll(hp, web.base_url, owner)
    assert (poll["kind"], poll["max_choices"]) == ("quiz", 1)
    assert [o["correct"] for o in poll["options"]] == [False, True, False]

    screen = await projector(browser, web.base_url, poll["code"])
    phones = await audience(browser, web.base_url, poll["code"], 2)
    right, wrong = (p.page for p in phones)
    await expect(right.locator("#instructions")).to_contain_text("Tap one answer.")
    await right.get_by_role("button", name="Mercury").click()
    await wrong.get_by_role("button", name="Venus").click()
    for phone in (right, wrong):
        await expect(phone.locator("#vote-state")).to_have_text("Your vote is counted.")
    # Open: the key is nowhere on the audience's screens.
    for page in (right, wrong, screen.page):
        await expect(page.locator(".is-correct, .label-sub")).to_have_count(0)
    await expect(screen.page.locator("#pr-total")).to_have_text("2", timeout=WAIT_MS)

    await owner_json(web.base_url, owner, "POST", f"/polls/{poll['id']}/close")
    await expect(right.locator("#notice")).to_have_text(
        "Voting has closed. You got it right!", timeout=WAIT_MS
    )
    await expect(wrong.locator("#notice")).to_have_text(
        "Voting has closed. Not this time. The answer: Mercury."
    )
    await expect(wrong.locator("#choices .choice.is-correct")).to_have_text(["✓Mercury"])
    for page, chart in ((screen.page, "#pr-chart"), (right, "#chart"), (hp, "#p-chart")):
        sub = page.locator(f"{chart} li.row .label-sub")
        await expect(sub).to_have_text(["✓ correct answer"], timeout=WAIT_MS)
        marked = page.locator(f"{chart} li.row").filter(has=page.locator(".label-sub"))
        await expect(marked.locator(".label-text")).to_have_text(["Mercury"])
    await expect(right.locator("#chart li.row.is-mine .mine")).to_have_text(["you: right"])
    board = screen.page.locator("#pr-board")
    await expect(board.locator("#pr-board-note")).to_have_text("Counting the scores…")
    await finalize(worker, poll["id"])  # the worker makes the close final: scores count
    await expect(board.locator("#pr-board-note")).to_have_text("", timeout=WAIT_MS)
    lines = board.locator("li")
    await expect(lines.locator(".rank")).to_have_text(["1.", "2."])
    await expect(lines.locator(".pts").nth(1)).to_have_text("0 pts")
    await expect(lines.locator(".pts").nth(0)).to_have_text(re.compile(r"^(1,000|[5-9]\d\d) pts$"))
    # And each phone its points in it.
    await expect(right.locator("#notice")).to_have_text(
        re.compile(r"^Voting has closed\. You got it right! \+(1,000|[5-9]\d\d) pts\.$"),
        timeout=WAIT_MS,
    )
    await expect(wrong.locator("#notice")).to_have_text(
        "Voting has closed. Not this time. The answer: Mercury. +0 pts."
    )

    # The host finds the key wrong after the reveal and fixes it: verdicts, points and
    # the board follow.
    first, second = await lines.locator(".name").all_text_contents()
    await hp.get_by_role("button", name="Manage", exact=True).click()
    await hp.locator("#p-manage").get_by_role("button", name="Fix wording").click()
    form = hp.locator("#p-manage form")
    await expect(form.get_by_label("Answer 2 is correct")).to_be_checked()
    await form.get_by_label("Answer 2 is correct").uncheck()
    await form.get_by_label("Answer 1 is correct").check()
    await form.get_by_role("button", name="Save wording").click()
    await expect(wrong.locator("#notice")).to_have_text(
        re.compile(r"^Voting has closed\. You got it right! \+(1,000|[5-9]\d\d) pts\.$"),
        timeout=WAIT_MS,
    )
    await expect(right.locator("#notice")).to_have_text(
        "Voting has closed. Not this time. The answer: Venus. +0 pts.", timeout=WAIT_MS
    )
    await expect(lines.locator(".name")).to_have_text([second, first], timeout=WAIT_MS)
    await expect(lines.locator(".pts").nth(1)).to_have_text("0 pts")
    fixed = await owner_json(web.base_url, owner, "GET", f"/polls/{poll['id']}/leaderboard")
    assert [(e["name"], e["correct"]) for e in fixed["entries"]] == [(second, 1), (first, 0)]

    # A draft's key round-trips through the form, following the answers' number.
    draft = await api_poll(
        web.base_url,
        owner,
        question="Which are gas giants?",
        kind="quiz",
        options=["Jupiter", "Mars", "Saturn"],
        correct=[0, 2],
        status="draft",
    )
    await hp.goto(f"{web.base_url}/host#/edit/{draft['id']}")
    await expect(hp.get_by_label("Quiz")).to_be_checked(timeout=WAIT_MS)
    boxes = hp.locator(".key-box input")
    await expect(boxes).to_have_count(3)
    assert [await b.is_checked() for b in await boxes.all()] == [True, False, True]
    await expect(hp.get_by_label("How many may each voter pick?")).to_have_value("2")
    await hp.get_by_role("button", name="Add answer").click()
    await hp.get_by_label("Answer 4", exact=True).fill("Neptune")
    await hp.get_by_label("Answer 4 is correct").check()
    await hp.get_by_label("How many may each voter pick?").fill("")
    await hp.get_by_role("button", name="Save changes").click()
    await hp.wait_for_url("**/host#/", timeout=WAIT_MS)  # saved: back to the list
    saved = (await owner_json(web.base_url, owner, "GET", f"/polls/{draft['id']}"))["poll"]
    assert [o["correct"] for o in saved["options"]] == [True, False, True, True]
    assert saved["max_choices"] == 3  # empty: as many as the key has
    items = hp.locator("#poll-list li.poll-item")
    await expect(items.filter(has_text="gas giants")).to_contain_text("Quiz of 4 answers")
    no_problems(host, screen, *phones, allow_console=("status of 422",))


async def test_a_sessions_quiz_shows_each_phone_its_rank(
    web: Web, browser: Any, worker: Any
) -> None:
    """On a session's page a closed quiz says what it scored and where the phone
    stands over the session's quizzes; the projector draws the session's board."""
    owner = await api_owner(web.base_url)
    poll = await api_poll(
        web.base_url, owner, question="2 + 2?", kind="quiz", options=["3", "4"], correct=[1]
    )
    session = await owner_json(
        web.base_url, owner, "POST", "/sessions", {"title": "Quiz night", "poll_ids": [poll["id"]]}
    )
    await owner_json(
        web.base_url, owner, "POST", f"/sessions/{session['id']}/present", {"poll_id": poll["id"]}
    )
    screen = await projector(browser, web.base_url, session["code"])
    phone = await open_page(browser, PHONE)
    await phone.page.goto(f"{web.base_url}/s/{session['code']}")
    await expect_live(phone.page)
    await phone.page.get_by_role("button", name="4").click()
    await expect(phone.page.locator("#vote-state")).to_have_text("Your vote is counted.")
    await owner_json(web.base_url, owner, "POST", f"/polls/{poll['id']}/close")
    await finalize(worker, poll["id"])
    await expect(phone.page.locator("#notice")).to_have_text(
        re.compile(
            r"^Voting has closed\. You got it right! \+([\d,]+) pts\. \1 pts in all, rank 1\.$"
        ),
        timeout=WAIT_MS,
    )
    await expect(screen.page.locator("#pr-board li .rank")).to_have_text(["1."], timeout=WAIT_MS)
    no_problems(screen, phone)
