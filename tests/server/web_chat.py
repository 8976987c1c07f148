"""The web chat in Debian's chromium, for the browser tests: a persistent profile on the live server, every
request that leaves the server's origin blocked and recorded, and helpers that read the page as a user
sees it. Screenshots go to test-artifacts/web-chat/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, FLAGS, require_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-chat"
ANSWER_WAIT_MS = 60_000


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


# Resolves once the page has stopped scrolling (the chat scrolls smoothly to a new message).
SETTLED_JS = """() => new Promise((resolve) => {
  let last = -1;
  const check = () => (scrollY === last ? resolve() : ((last = scrollY), setTimeout(check, 150)));
  check();
})"""


def shot(page: Any, name: str, show: Any = None) -> None:
    """What the window shows, with `show` (a locator) at its top: a full-page screenshot would draw the
    sticky footer over the messages."""
    if show is not None:
        show.evaluate("node => node.scrollIntoView({ block: 'start', behavior: 'instant' })")
    page.evaluate(SETTLED_JS)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def ask(page: Any, text: str) -> Any:
    """Types a message, sends it with Enter and returns ribot's reply to it once it is on the page."""
    from playwright.sync_api import expect

    before = page.locator("article.bot").count()
    box = page.locator("#composer-text")
    box.fill(text)
    box.press("Enter")
    expect(page.locator("article.bot")).not_to_have_count(before, timeout=ANSWER_WAIT_MS)
    return page.locator("article.bot").last


def press(page: Any, button: Any) -> Any:
    """Clicks a button and returns ribot's last reply once a new one is on the page."""
    from playwright.sync_api import expect

    before = page.locator("article.bot").count()
    button.click()
    expect(page.locator("article.bot")).not_to_have_count(before, timeout=ANSWER_WAIT_MS)
    return page.locator("article.bot").last
