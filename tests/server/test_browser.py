"""The web chat in Debian's chromium, driven by Playwright, against a real server with the real engine.

No browser is downloaded: the test uses /usr/bin/chromium (`apt-get install -y chromium`) and fails when it
is missing. Every request that leaves the server's origin is blocked and recorded (the fixtures are in
tests/server/web_chat.py). Screenshots go to test-artifacts/web-chat/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.types import Reply
from tests.server.web_chat import ARTIFACTS, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
    shot(page, "1-answer-with-citation", answer)

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
        # buttons, not numbers: the plain text's typing hint is not shown under them
        expect(question).not_to_contain_text("Answer with a number")
        expect(question).not_to_contain_text("for example 1 and 3")
        expect(choices.first).to_be_focused()  # keyboard users land on the choices
        if step == 0:
            # one question for the kind of activity and what follows from it, each choice a button
            expect(question.locator(".ask")).to_have_text("What kind of international activity is it?")
            expect(choices).to_have_count(8)
            shot(page, "2-triage-question", question)
        count_before = page.locator("article.msg").count()
        # Answer with the keyboard: the focused button takes Enter.
        target = (
            choices.filter(has_text=re.compile("research.*agreement", re.I)).first
            if step == 0
            else choices.first
        )
        target.focus()
        page.keyboard.press("Enter")
        expect(page.locator("article.msg")).not_to_have_count(count_before, timeout=60_000)
    outcome = page.locator("article.kind-outcome").last
    expect(outcome).to_be_visible(timeout=60_000)
    expect(outcome.locator(".contacts .card").first).to_be_visible()
    # who carries out, who is told, who decides: the three key lines stand out
    key = outcome.locator("p.key strong")
    expect(key).to_have_count(3)
    for n, label in enumerate(("Carries out the risk assessment:", "Is told the outcome:", "Decides ")):
        expect(key.nth(n)).to_contain_text(label)
    expect(page.locator("article.kind-question button.choice[aria-pressed='true']").first).to_be_visible()
    shot(page, "3-triage-outcome", outcome)

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
    shot(page, "4-summary", links)


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
    shot(page, "5-swedish-375px")
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
    shot(page, "6-delivered-reply", delivered)
