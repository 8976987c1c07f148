"""The web chat in Debian's chromium, driven by Playwright, against a real server with the real engine.

No browser is downloaded: the test uses /usr/bin/chromium (`apt-get install -y chromium`) and fails when it
is missing. Every request that leaves the server's origin is blocked and recorded. Screenshots go to
test-artifacts/web-chat/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.types import Reply
from tests.browser import CHROMIUM, FLAGS, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-chat"


@pytest.fixture(scope="module")
def browser_context(
    live_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, list[str]]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            accept_downloads=True,
            viewport={"width": 1100, "height": 900},
            locale="en-GB",
        )

        def route(route: Any) -> None:
            if route.request.url.startswith(live_server.base) or route.request.url.startswith(
                ("blob:", "data:")
            ):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        try:
            yield context, blocked
        finally:
            context.close()


@pytest.fixture
def page(browser_context: tuple[Any, list[str]], live_server: Any) -> Iterator[Any]:
    context, blocked = browser_context
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(live_server.base + "/")
    page.evaluate("() => { sessionStorage.clear(); localStorage.clear(); }")
    page.reload()
    yield page
    page.close()
    assert errors == [], errors
    assert blocked == [], f"the page asked for outside resources: {blocked}"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ask(page: Any, text: str) -> None:
    box = page.get_by_label("Your question or answer")
    box.fill(text)
    box.press("Enter")


def test_question_shows_answer_with_citation(page: Any) -> None:
    from playwright.sync_api import expect

    _ask(page, "Our partners overseas will perform animal experiments. What do we need to do?")
    answer = page.locator("article.kind-answer").last
    expect(answer).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Your question or answer")).to_be_focused()
    expect(page.get_by_label("Your question or answer")).to_have_value("")
    citation = answer.locator("details.citation", has_text="4.4").first
    expect(citation).to_be_visible()
    quote = citation.locator("blockquote")
    expect(quote).to_be_hidden()
    citation.locator("summary").click()
    expect(quote).to_be_visible()
    expect(answer.locator(".contacts .card", has_text="Animal Welfare Body").first).to_be_visible()
    _shot(page, "1-answer-with-citation")

    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Not helpful")).to_be_disabled()
    expect(page.locator("article.bot").last).not_to_have_class(re.compile("kind-answer"))


def test_triage_runs_to_its_outcome_with_buttons(page: Any) -> None:
    from playwright.sync_api import expect

    footer = page.locator("footer")
    footer.get_by_role("button", name="Who is responsible for my case?").click()
    for step in range(12):
        outcome = page.locator("article.kind-outcome")
        if outcome.count():
            break
        question = page.locator("article.kind-question").last
        expect(question).to_be_visible(timeout=60_000)
        choices = question.locator("button.choice:not([disabled])")
        expect(choices.first).to_be_visible()
        expect(choices.first).to_be_focused()  # keyboard users land on the choices
        if step == 0:
            _shot(page, "2-triage-question")
        count_before = page.locator("article.msg").count()
        # Answer with the keyboard: the focused button takes Enter.
        target = choices.filter(has_text=re.compile("research", re.I)).first if step == 0 else choices.first
        target.focus()
        page.keyboard.press("Enter")
        expect(page.locator("article.msg")).not_to_have_count(count_before, timeout=60_000)
    outcome = page.locator("article.kind-outcome").last
    expect(outcome).to_be_visible(timeout=60_000)
    expect(outcome.locator(".contacts .card").first).to_be_visible()
    expect(page.locator("article.kind-question button.choice[aria-pressed='true']").first).to_be_visible()
    _shot(page, "3-triage-outcome")

    footer.get_by_role("button", name="Download summary").click()
    links = page.locator(".summary-links").last
    expect(links).to_be_visible(timeout=60_000)
    with page.expect_download() as markdown:
        links.get_by_role("link", name="Markdown (.md)").click()
    assert re.fullmatch(r"ribot-[\w.-]+\.md", markdown.value.suggested_filename)
    text = Path(markdown.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# ") and "3.2" in text
    shutil.copy(markdown.value.path(), ARTIFACTS / "summary.md")
    with page.expect_download() as printable:
        links.get_by_role("link", name="Printable page (.html)").click()
    assert re.fullmatch(r"ribot-[\w.-]+\.html", printable.value.suggested_filename)
    html = Path(printable.value.path()).read_text(encoding="utf-8")
    assert html.lower().startswith("<!doctype html>") and "<script" not in html.lower()
    shutil.copy(printable.value.path(), ARTIFACTS / "summary.html")
    _shot(page, "4-summary")


def test_user_text_is_never_markup(page: Any) -> None:
    from playwright.sync_api import expect

    hostile = '<img src=x onerror="alert(1)"><b>bold</b>'
    _ask(page, hostile)
    expect(page.locator("article.user p").last).to_have_text(hostile)
    expect(page.locator("article.bot").last).to_be_visible(timeout=60_000)
    assert page.locator("article img, article b").count() == 0


def test_swedish_interface_and_phone_width(page: Any) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 375, "height": 740})
    page.get_by_role("button", name="Byt till svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("button", name="Skicka")).to_be_visible()
    expect(page.get_by_label("Din fråga eller ditt svar")).to_have_attribute("placeholder", "Ställ en fråga…")
    _ask_sv = page.get_by_label("Din fråga eller ditt svar")
    _ask_sv.fill("Vem kontaktar jag om djurförsök utomlands?")
    _ask_sv.press("Enter")
    expect(page.locator("article.kind-answer").last).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Citerat ur riktlinjerna").last).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at phone width ({width}px)"
    _shot(page, "5-swedish-375px")
    page.get_by_role("button", name="Switch to English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_talk_to_a_person_and_a_later_reply_appears(page: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    page.locator("footer").get_by_role("button", name="Talk to a person").click()
    expect(page.locator("article.kind-escalation").last).to_be_visible(timeout=60_000)
    conversation = page.evaluate("() => sessionStorage.getItem('ribot.conversation')")
    live_server.deliver(conversation, [Reply(kind="text", text="Hello, this is the network coordinator.")])
    delivered = page.locator("article.person", has_text="Hello, this is the network coordinator.")
    expect(delivered).to_be_visible(timeout=15_000)
    expect(page.get_by_role("log")).to_contain_text("network coordinator")
    _shot(page, "6-delivered-reply")
