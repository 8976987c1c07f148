"""End to end in the Microsoft 365 Agents Playground, driven headless by Debian's chromium.

ribot runs as `ribot serve`'s application (Teams in anonymous mode, PostgreSQL, the real knowledge base and
conversation engine); the Playground plays Teams and renders ribot's Adaptive Cards. What the page shows
is compared with what ribot's engine actually replied, so nothing here is a fixed expected answer.
Screenshots land in test-artifacts/teams/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import TeamsStack
from playwright.sync_api import Locator, Page, expect

from bot.types import Choice, Reply, Turn
from connectors.key_lines import key_lines
from connectors.teams import cards, render
from knowledge.triage_flow import default_flow
from tests.followup_texts import FOLLOW_UP, OPENING

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.postgres]

TEXTBOX = '[data-lexical-editor="true"][role=textbox]'
WELCOME = "Hi, I'm ribot."
# The way through the assessment the test takes, by slot.
PATH = {
    "activity": "research_informal",
    "area": "research",
    "formalised": "no",
    "animals_abroad": "no",
    "security_concern": "no",
    "ethical_concern": "no",
}


class Chat:
    """The Playground's chat pane, seen through ribot's recorded Turns and replies."""

    def __init__(self, page: Page, stack: TeamsStack) -> None:
        self.page = page
        self.stack = stack

    @property
    def cards(self) -> Locator:
        return self.page.locator(".ac-adaptiveCard")

    def mark(self) -> tuple[int, int]:
        """Where the chat stands: cards on the page, exchanges the engine has had."""
        return self.cards.count(), len(self.stack.recorder.exchanges)

    def send(self, text: str) -> None:
        self.page.locator(TEXTBOX).click()
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")

    def exchange(self, since: int, matches: Any) -> tuple[Turn, list[Reply]]:
        recorder = self.stack.recorder
        return recorder.wait_for(lambda turn: matches(turn) and recorder.turns.index(turn) >= since)

    def new_cards(self, before: int, replies: list[Reply]) -> list[Locator]:
        """The cards rendered for these replies, once all of them are on the page."""
        expected = sum(1 for reply in replies if render.reply_activity(reply).attachments)
        expect(self.cards).to_have_count(before + expected)
        return [self.cards.nth(i) for i in range(before, before + expected)]

    def press(self, card: Locator, choice: Choice) -> tuple[Turn, list[Reply], list[Locator]]:
        before, since = self.mark()
        card.get_by_role("button", name=choice.label, exact=True).click()
        turn, replies = self.exchange(since, lambda t: t.action == choice.value)
        return turn, replies, self.new_cards(before, replies)

    def ask(self, text: str) -> tuple[Turn, list[Reply], list[Locator]]:
        before, since = self.mark()
        self.send(text)
        turn, replies = self.exchange(since, lambda t: t.text == text and t.action is None)
        return turn, replies, self.new_cards(before, replies)


@pytest.fixture
def chat(playground_page: Page, teams_stack: TeamsStack) -> Chat:
    expect(playground_page.locator(".ac-adaptiveCard").filter(has_text=WELCOME).first).to_be_visible()
    return Chat(playground_page, teams_stack)


def card_for(replies: list[Reply], shown: list[Locator], kind: str) -> tuple[Reply, Locator]:
    with_cards = [reply for reply in replies if render.reply_activity(reply).attachments]
    for reply, card in zip(with_cards, shown, strict=True):
        if reply.kind == kind:
            return reply, card
    pytest.fail(f"no {kind} card among {[r.kind for r in replies]}")


def label(key: str, language: str = "en") -> str:
    return default_flow().say(key, language)


def test_install_shows_the_welcome_card_in_both_languages(chat: Chat) -> None:
    """The Playground adds ribot without a locale: the welcome says it all in English and in Swedish, each
    with the flow's labels."""
    welcome = chat.cards.filter(has_text=WELCOME).first
    expect(welcome).to_contain_text("Hej, jag är ribot.")
    for key in ("label_start", "label_person"):
        for language in ("en", "sv"):
            expect(welcome.get_by_role("button", name=label(key, language), exact=True)).to_be_visible()


def test_the_swedish_start_button_starts_a_swedish_assessment(chat: Chat) -> None:
    welcome = chat.cards.filter(has_text=WELCOME).first
    turn, replies, shown = chat.press(welcome, Choice(cards.TRIAGE_ACTION, label("label_start", "sv")))
    assert turn.language == "sv" and all(reply.language == "sv" for reply in replies)
    reply, card = card_for(replies, shown, "question")
    expect(card).to_contain_text(str((reply.question or {})["text"]))
    expect(card.get_by_role("button", name=label("label_person", "sv"), exact=True)).to_be_visible()
    for key in ("label_person", "label_cancel"):
        expect(card.get_by_role("button", name=label(key), exact=True)).to_have_count(0)


def test_question_gets_a_card_with_a_citation(chat: Chat) -> None:
    question = "Do I have to contact anyone before animal experiments abroad?"
    turn, replies, shown = chat.ask(question)
    assert turn.platform == "teams" and turn.reply_ref["platform"] == "teams"
    reply, card = card_for(replies, shown, "answer")
    assert reply.answer is not None and reply.answer.grounded and reply.answer.citations
    first = reply.answer.citations[0]
    expect(card).to_contain_text(reply.answer.answer.split("\n")[0])
    expect(card).to_contain_text(cards.section_label(first.section))
    expect(card).to_contain_text(" ".join(first.quote.split())[:80])
    for contact in reply.answer.contacts:
        expect(card).to_contain_text(contact.name)
    for action in reply.actions:
        expect(card.get_by_role("button", name=action.label, exact=True)).to_be_visible()
    expect(card).not_to_contain_text(re.compile(r"Footnote \d+ · Footnote"))


def test_follow_up_is_answered_in_the_context_of_the_question(chat: Chat) -> None:
    """After an informal collaboration's question, an agreement makes it formalised: the research group's."""
    leads = []
    for text in (OPENING, FOLLOW_UP):
        _, replies, shown = chat.ask(text)
        reply, card = card_for(replies, shown, "answer")
        assert reply.answer is not None
        leads.append(reply.answer.answer.split("\n")[0])
        expect(card).to_contain_text(leads[-1])
    assert "individual researcher" in leads[0], leads[0]
    assert "research group" in leads[1] and "individual researcher" not in leads[1], leads[1]


def test_triage_completes_by_clicking_card_buttons(chat: Chat) -> None:
    welcome = chat.cards.filter(has_text=WELCOME).first
    _, replies, shown = chat.press(welcome, Choice(cards.TRIAGE_ACTION, label("label_start")))
    for _ in range(len(PATH) + 2):
        if any(reply.kind == "outcome" for reply in replies):
            break
        reply, card = card_for(replies, shown, "question")
        question = reply.question or {}
        expect(card).to_contain_text(str(question["text"]))
        choice = pick(question, reply.actions)
        _, replies, shown = chat.press(card, choice)
    else:
        pytest.fail("the assessment did not finish")
    reply, card = card_for(replies, shown, "outcome")
    outcome = reply.outcome or {}
    assert outcome["slots"]["area"] == "research" and outcome["citations"]
    expect(card).to_contain_text(cards.section_label(outcome["citations"][0]["section"]))
    expect(card).to_contain_text(outcome["contacts"][0]["name"])
    shown_lines = key_lines(reply)
    # an informal collaboration has no agreement to sign, so the guidelines name no one who decides
    assert len(shown_lines) == 2, reply.text
    for line in shown_lines:
        weight = card.get_by_text(line, exact=True).evaluate("node => getComputedStyle(node).fontWeight")
        assert int(weight) >= 600, f"{line!r} is not emphasised (font-weight {weight})"


def pick(question: dict[str, Any], actions: list[Choice]) -> Choice:
    """The button for this test's path: the slot's value, or "none of these" for a tick-all question."""
    slot = question["slot"]
    wanted = f"triage:answer:{slot}:{PATH.get(slot, 'none' if question.get('multiple') else 'no')}"
    for action in actions:
        if action.value == wanted:
            return action
    pytest.fail(f"no button {wanted} among {[a.value for a in actions]}")


def test_escalation_reply_arrives_proactively(chat: Chat, teams_stack: TeamsStack) -> None:
    from bot.review import Actor, ReviewDesk

    marker = teams_stack.marker()
    welcome = chat.cards.filter(has_text=WELCOME).first
    _, replies, shown = chat.press(welcome, Choice("escalate:start", label("label_person")))
    escalation = None
    for _ in range(4):
        escalation = next((r.data for r in replies if r.data.get("escalation_id")), None)
        if escalation:
            break
        buttons = [a for r in replies for a in r.actions]
        share = next((a for a in buttons if a.value == "escalate:consent:yes"), None)
        if share is not None:
            _, replies, shown = chat.press(shown[-1], share)
        else:
            _, replies, shown = chat.ask(f"We are planning an MoU with a university abroad ({marker}).")
    assert escalation, f"no escalation was made: {[r.text for r in replies]}"
    from bot.store.escalations import get_escalation

    stored = get_escalation(teams_stack.services.db, escalation["escalation_id"])
    assert stored is not None and stored.platform == "teams" and stored.identity_shared
    # The Playground's member record (Teams has the same) gives the address the activity lacks.
    assert stored.user_name == "Alex Wilber" and stored.user_email == "alexw@example.com"

    text = f"Hello, this is the network coordinator. Let's meet on Monday ({marker})."
    desk = ReviewDesk(teams_stack.services.db, teams_stack.services.outbound)
    teams_stack.server.call(lambda: desk.reply(escalation["escalation_id"], text, Actor("coordinator:test")))
    delivered = chat.cards.filter(has_text=f"Let's meet on Monday ({marker})")
    expect(delivered).to_be_visible()
    expect(delivered).to_contain_text(f"Reply from the network coordinator ({escalation['reference']})")


@pytest.mark.parametrize("place", ["Group Chat", "General"])
def test_mention_in_a_group_chat_or_channel_is_answered(chat: Chat, place: str) -> None:
    page = chat.page
    page.get_by_text(place, exact=True).first.click()
    since = len(chat.stack.recorder.exchanges)
    question = "Who is responsible for the risk assessment in a formalised research collaboration?"
    page.locator(TEXTBOX).click()
    page.keyboard.type("@")
    page.get_by_role("menuitem", name="Test Bot").click()
    page.keyboard.type(f" {question}")
    page.keyboard.press("Enter")
    turn, replies = chat.exchange(since, lambda t: question in t.text)
    assert turn.text == question  # the mention is gone, nothing else is
    assert turn.conversation_id != chat.stack.recorder.turns[0].conversation_id
    answer = next((r.answer for r in replies if r.answer is not None), None)
    assert answer is not None and answer.citations
    # This pane is a conversation of its own (with its own welcome card): find the answer by its words.
    card = chat.cards.filter(has_text=answer.answer.split("\n")[0]).last
    expect(card).to_contain_text(cards.section_label(answer.citations[0].section))
    expect(card).to_contain_text(" ".join(answer.citations[0].quote.split())[:80])
