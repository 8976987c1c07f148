"""One language per conversation in the web chat, follow-ups in context, and the page at phone width: Debian's
chromium against the live server with the real engine (fixtures in tests/server/web_chat.py). The browser's
locale is English throughout, so a Swedish page can only come from the conversation. Screenshots go to
test-artifacts/web-chat/.
"""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.text import language_of
from knowledge.triage_flow import default_flow
from tests.followup_texts import FOLLOW_UP, OPENING, SV_FOLLOW_UP, SV_OPENING
from tests.server.web_chat import ask, press, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SV_NOTE = "Vi behöver hjälp att bedöma avtalet med universitetet utomlands."
# The hand-over's English button labels, written by bot/escalation.py rather than the flow file.
HANDOVER_EN = ("Cancel", "Yes, share", "No, stay anonymous", "Talk to a person")
# The way through the assessment, by the end of a choice's button value.
PATH = (":research_agreement", ":formalised:yes", ":none")
PHONE = {"width": 390, "height": 844}

# Every label the page shows or reads out, leaving out the language button (it names the other language
# on purpose) and the guidelines' own section titles (quoted in English, marked lang="en").
LABELS_JS = """() => {
  const text = (node) => {
    const copy = node.cloneNode(true);
    copy.querySelectorAll(".title[lang=en]").forEach((title) => title.remove());
    return copy.textContent.trim();
  };
  const shown = [...document.querySelectorAll(
    "button, a, h1, h2, h3, h4, summary, label, .status, .hint, .ask, .label, .from"
  )].filter((node) => node.id !== "lang" && node.checkVisibility());
  const named = [...document.querySelectorAll("[aria-label]:not(#lang)")].map((n) => n.ariaLabel);
  return [...shown.map(text), ...named, document.querySelector("#composer-text").placeholder, document.title];
}"""
PROSE_JS = """() => {
  const skip = [...document.querySelectorAll("#lang, .title[lang=en]")].map((node) => node.innerText);
  return skip.reduce((text, part) => text.split(part).join(" "), document.body.innerText);
}"""

# What ribot says, paragraph by paragraph, long enough to tell its language.
SAID_JS = """() => [...document.querySelectorAll("article.bot p, article.bot li")]
  .filter((node) => node.checkVisibility() && !node.closest("blockquote"))
  .map((node) => node.innerText.trim()).filter((text) => text.split(/\\s+/).length > 3)"""


def english_labels(page: Any) -> set[str]:
    """The English labels of the page (static/i18n.js) and of the engine (the flow file) that differ from
    their Swedish ones."""
    en, sv = page.evaluate("() => [window.RIBOT_TEXT.en, window.RIBOT_TEXT.sv]")
    labels = {text for key, text in en.items() if text != sv[key] and not key.startswith("otherLanguage")}
    flow = default_flow()
    texts = [text for key, text in flow.messages.items() if key.startswith("label_")]
    texts += [choice.label for question in flow.questions for choice in question.choices]
    texts += [choice.label for combined in flow.combined.values() for choice in combined.choices]
    texts += [q.option for q in flow.questions if q.option is not None]
    texts += [label for group in flow.groups.values() for label in (group.none_label, group.done_label)]
    texts += [*flow.slot_labels.values(), *flow.roles.values()]
    labels |= {text.en for text in texts if text.en != text.sv}
    return labels | set(HANDOVER_EN)


def assert_no_english(page: Any, english: set[str], step: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", "sv")
    found = [label for label in page.evaluate(LABELS_JS) if label in english]
    prose = page.evaluate(PROSE_JS)
    found += [label for label in english if len(label.split()) > 1 and label in prose]
    found += [text for text in page.evaluate(SAID_JS) if language_of(text, "sv") == "en"]
    assert not found, f"{step}: English on the page of a Swedish conversation: {sorted(set(found))}"


def choose(reply: Any) -> Any:
    """The button for this test's way through the assessment, or its first choice."""
    for ending in PATH:
        button = reply.locator(f"button.choice[data-action$='{ending}']:not([disabled])")
        if button.count():
            return button.first
    return reply.locator("button.choice:not([disabled])").first


def test_a_swedish_conversation_shows_no_english_label(page: Any) -> None:
    from playwright.sync_api import expect

    english = english_labels(page)
    footer = page.locator("footer")
    ask(page, SV_OPENING)
    answer = page.locator("article.kind-answer").last
    expect(answer.locator(".lead").first).to_contain_text("enskilde forskaren")
    assert_no_english(page, english, "question")
    shot(page, "sv-1-question", answer)

    ask(page, SV_FOLLOW_UP)
    follow_up = page.locator("article.kind-answer").last.locator(".lead").first
    expect(follow_up).to_contain_text("forskargruppen")  # the agreement makes it formalised
    expect(follow_up).not_to_contain_text("enskilde forskaren")
    assert_no_english(page, english, "follow-up")
    shot(page, "sv-2-follow-up", follow_up)

    reply = press(page, footer.get_by_role("button", name="Vem ansvarar i mitt fall?"))
    for step in range(6):
        if "kind-outcome" in (reply.get_attribute("class") or ""):
            break
        expect(reply).not_to_contain_text(default_flow().say("answer_hint", "sv"))
        assert_no_english(page, english, f"assessment question {step + 1}")
        shot(page, f"sv-3-assessment-{step + 1}", reply)
        reply = press(page, choose(reply))
    outcome = page.locator("article.kind-outcome").last
    key = outcome.locator("p.key strong")
    expect(key).to_have_count(3)
    flow = default_flow()
    for n, name in enumerate(("responsible", "report_to", "decides")):
        expect(key.nth(n)).to_contain_text(flow.say(name, "sv"))
    assert_no_english(page, english, "outcome")
    shot(page, "sv-4-outcome", outcome)

    hand_over(page, english)


def hand_over(page: Any, english: set[str]) -> None:
    """Talk to a person, through whatever the hand-over asks (a note, consent), to its reference."""
    from playwright.sync_api import expect

    reply = press(page, page.locator("footer").get_by_role("button", name="Prata med en person"))
    for step in range(4):
        assert_no_english(page, english, f"hand-over step {step + 1}")
        shot(page, f"sv-5-hand-over-{step + 1}", reply)
        if "ESC-" in reply.inner_text():
            break
        share = reply.locator("button[data-action='escalate:consent:yes']:not([disabled])")
        reply = press(page, share) if share.count() else ask(page, SV_NOTE)
    expect(page.locator("article.bot").last).to_contain_text("ESC-")


def test_the_page_follows_the_conversation_and_the_language_button(page: Any) -> None:
    from playwright.sync_api import expect

    html, footer = page.locator("html"), page.locator("footer")
    box = page.locator("#composer-text")
    expect(html).to_have_attribute("lang", "en")  # the browser's locale, before anything is said
    ask(page, "Vem kontaktar jag om djurförsök utomlands?")
    expect(html).to_have_attribute("lang", "sv")
    expect(footer.get_by_role("button", name="Prata med en person")).to_be_visible()
    expect(box).to_have_attribute("placeholder", "Ställ en fråga…")
    page.reload()  # the conversation's language, not the browser's, after a reload too
    expect(html).to_have_attribute("lang", "sv")

    # The language button switches the conversation: the engine's next question comes in English.
    page.get_by_role("button", name="Switch to English").click()
    question = press(page, footer.get_by_role("button", name="Who is responsible for my case?"))
    expect(question).to_have_attribute("lang", "en")
    research = default_flow().combined["activity"].choices[0].label.en
    expect(question.get_by_role("button", name=research, exact=True)).to_be_visible()
    expect(html).to_have_attribute("lang", "en")

    # Writing in Swedish switches back; a reply that does not tell keeps the language.
    ask(page, "Det gäller ett forskningssamarbete med ett universitet i Kanada.")
    expect(html).to_have_attribute("lang", "sv")
    ask(page, "1")
    expect(page.locator("article.bot").last).to_have_attribute("lang", "sv")
    expect(footer.get_by_role("button", name="Vem ansvarar i mitt fall?")).to_be_visible()
    expect(page.get_by_role("button", name="Tillbaka", exact=True).last).to_be_visible()
    shot(page, "language-follows-conversation", page.locator("article.bot").last)


def test_a_follow_up_is_answered_in_the_context_of_the_question(page: Any) -> None:
    from playwright.sync_api import expect

    ask(page, OPENING)
    first = page.locator("article.kind-answer").last.locator(".lead").first
    expect(first).to_contain_text("individual researcher")
    ask(page, FOLLOW_UP)
    expect(page.locator("article.kind-answer")).to_have_count(2)
    second = page.locator("article.kind-answer").last.locator(".lead").first
    expect(second).to_contain_text("research group")  # an agreement makes it a formalised collaboration
    expect(second).not_to_contain_text("individual researcher")
    shot(page, "follow-up-in-context", second)


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_shortcut_is_in_view_at_390px(page: Any, language: str) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size(PHONE)
    if language == "sv":
        ask(page, "Vem kontaktar jag om djurförsök utomlands?")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
    row = page.locator("footer .shortcuts")
    buttons = row.locator("button")
    expect(buttons).to_have_count(3)
    edge = row.bounding_box()
    for n in range(3):
        expect(buttons.nth(n)).to_be_visible()
        box = buttons.nth(n).bounding_box()
        inside_row = box["x"] >= edge["x"] and box["x"] + box["width"] <= edge["x"] + edge["width"]
        inside_window = box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
        assert inside_row and inside_window, f"{buttons.nth(n).inner_text()} is cut off: {box}, row {edge}"
        words = buttons.nth(n).evaluate("node => [node.scrollWidth, node.clientWidth]")
        assert words[0] <= words[1], f"{buttons.nth(n).inner_text()} does not fit its button: {words}"
    widths = row.evaluate("node => [node.scrollWidth, node.clientWidth]")
    assert widths[0] <= widths[1], f"the shortcuts scroll sideways: {widths}"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"shortcuts-390px-{language}")
