"""The whole loop in Debian's chromium (Playwright, no browser download): a web-chat user asks for a person,
the network coordinator signs in to the console, claims and replies, the user sees the reply in the chat,
the coordinator resolves. Screenshots go to test-artifacts/escalation/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import coordinators
from bot.store.escalations import get_escalation
from tests.browser import CHROMIUM, FLAGS, require_chromium
from tests.escalation.conftest import Live

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "escalation"
PASSWORD = "correct horse battery staple"
NOTE = 'We plan a joint course with a partner abroad <script>alert("note")</script> <!channel> <at>All</at>'


@pytest.fixture
def browser(live: Live, tmp_path: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
            locale="en-GB",
        )

        def route(route: Any) -> None:
            if route.request.url.startswith((live.base, "data:", "blob:")):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", route)

        def watch(page: Any) -> None:
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))

        context.on("page", watch)
        try:
            yield context, blocked, problems
        finally:
            context.close()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _send(page: Any, text: str) -> None:
    box = page.get_by_label("Your question or answer")
    box.fill(text)
    box.press("Enter")


def test_user_escalates_coordinator_replies_and_resolves(live: Live, browser: Any) -> None:
    from playwright.sync_api import expect

    context, blocked, problems = browser
    coordinators.add_account(live.db, "anna@ki.se", "Anna Svensson", PASSWORD)

    # The user, in the web chat.
    user = context.new_page()
    user.goto(live.base + "/")
    _send(user, "Can we start a joint course with a university that trains military officers?")
    expect(user.locator("article.kind-answer").last).to_be_visible(timeout=60_000)
    user.locator("footer").get_by_role("button", name="Talk to a person").click()
    asking = user.locator("article.kind-escalation", has_text="In a few sentences")
    expect(asking).to_be_visible(timeout=30_000)
    _send(user, NOTE)
    consent = user.locator("article.kind-escalation", has_text="May I also share who you are")
    expect(consent).to_be_visible(timeout=30_000)
    consent.get_by_role("button", name="No, stay anonymous").click()
    told = user.locator("article.kind-escalation", has_text="Your reference is ESC-")
    expect(told).to_be_visible(timeout=30_000)
    reference = re.search(r"ESC-\d{5}", told.inner_text())
    assert reference is not None
    _shot(user, "1-user-escalated")

    # The coordinator, in the console.
    console = context.new_page()
    console.goto(live.base + "/review")
    expect(console).to_have_url(re.compile(r"/review/login\?next="))
    console.get_by_label("E-mail address").fill("anna@ki.se")
    console.get_by_label("Password").fill(PASSWORD)
    _shot(console, "2-console-login")
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Escalations")).to_be_visible()
    row = console.locator("table.queue tr", has_text=reference.group(0))
    expect(row).to_contain_text("open")
    expect(row).to_contain_text("<script>")  # shown as text, never run
    _shot(console, "3-console-queue")
    row.get_by_role("link", name=reference.group(0)).click()
    expect(console).to_have_url(re.compile(r"/review/escalations/\d+$"))
    escalation_id = int(console.url.rsplit("/", 1)[1])
    expect(console.locator("blockquote.usertext")).to_have_text(NOTE)
    expect(console.locator(".transcript")).to_contain_text("military officers")
    console.get_by_role("button", name="Claim").click()
    expect(console.get_by_role("status")).to_have_text("You claimed this escalation.")
    expect(console.locator("h1 .badge")).to_have_text("claimed")
    reply = "Hello! For a joint course, talk to the education board of your department first. /Anna"
    console.get_by_label("Reply to the user").fill(reply)
    console.get_by_role("button", name="Send reply").click()
    expect(console.get_by_role("status")).to_have_text("Your reply was delivered to the user.")
    expect(console.get_by_role("button", name="Claim")).to_have_count(0)  # already hers
    _shot(console, "4-console-replied")

    # The reply reaches the user's chat.
    delivered = user.locator("article.person", has_text="talk to the education board of your department")
    expect(delivered).to_be_visible(timeout=30_000)
    delivered.scroll_into_view_if_needed()
    _shot(user, "5-user-sees-reply")

    # The coordinator closes the case.
    console.get_by_label("Closing comment (internal)").fill("Answered in the chat.")
    console.get_by_role("button", name="Resolve").click()
    expect(console.get_by_role("status")).to_have_text("The escalation is resolved.")
    expect(console.locator("h1 .badge")).to_have_text("resolved")
    expect(console.locator(".audit")).to_contain_text("claimed → answered")
    _shot(console, "6-console-resolved")
    console.get_by_role("link", name="Insight").click()
    expect(console.locator("svg.chart rect").first).to_be_visible()
    _shot(console, "7-console-insight")

    stored = get_escalation(live.db, escalation_id)
    assert stored is not None and stored.status == "resolved"
    assert [e.kind for e in stored.events] == ["created", "claim", "reply", "resolve"]
    assert problems == [], problems
    assert blocked == [], f"pages asked for outside resources: {blocked}"
