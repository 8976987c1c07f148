"""The hand-over in the conversation's language, with labels from one bilingual source, and a confirmation
that says what the coordinator actually received on each surface. The real engine, answerer and database."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation import ConversationEngine
from bot.escalation_text import MESSAGES
from bot.store.base import Database
from bot.types import Reply, Turn
from knowledge.triage_flow import FLOW_PATH, load_flow

ENGLISH_LABELS = {"Cancel", "Yes, share", "No, stay anonymous", "Talk to a person", "Start over"}


class Chat:
    def __init__(self, engine: Any, platform: str = "web", **identity: Any) -> None:
        self.engine, self.platform, self.identity = engine, platform, identity
        self.conversation = uuid.uuid4().hex

    def turn(self, text: str = "", action: str | None = None) -> Turn:
        ref = {"platform": self.platform, "conversation_id": self.conversation}
        user = f"{self.platform}:{self.conversation}"
        return Turn(self.platform, self.conversation, user, text, action, reply_ref=ref, **self.identity)

    def say(self, text: str) -> list[Reply]:
        return list(self.engine.handle(self.turn(text=text)))

    def press(self, action: str) -> list[Reply]:
        return list(self.engine.handle(self.turn(action=action)))


def _handover(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if r.kind == "escalation"]


def _assert_swedish(replies: list[Reply]) -> None:
    for reply in _handover(replies):
        state = reply.data["state"]
        assert reply.language == "sv", state
        english = MESSAGES[state].en.split("{")[0][:40]
        assert english not in reply.text, (state, reply.text)
        assert not {a.label for a in reply.actions} & ENGLISH_LABELS, (state, reply.actions)


def test_a_swedish_conversation_is_handed_over_in_swedish(engine: Any) -> None:
    chat = Chat(engine)
    answered = chat.say("Vem ger råd om etiska frågor i internationella samarbeten?")
    assert answered[0].language == "sv"
    person = next(a for a in answered[-1].actions if a.value == "escalate:start")
    assert person.label == "Prata med en person"

    asked = chat.press("escalate:start")
    _assert_swedish(asked)
    assert "samordnare" in asked[0].text and [a.label for a in asked[0].actions] == ["Avbryt"]
    consent = chat.say("Vi är osäkra på om partnerns etikprövning räcker för vårt projekt.")
    _assert_swedish(consent)
    assert {a.label for a in consent[-1].actions} == {"Ja, dela", "Nej, förbli anonym", "Avbryt"}
    again = chat.say("kanske")  # neither yes nor no: asked again, still in Swedish
    _assert_swedish(again)
    sent = chat.say("nej")
    _assert_swedish(sent)
    assert sent[-1].data["state"] == "sent" and sent[-1].data["reference"] in sent[-1].text


def test_asking_for_a_person_in_swedish_starts_a_swedish_hand_over(engine: Any) -> None:
    chat = Chat(engine)
    asked = chat.say("Jag vill prata med en person")
    _assert_swedish(asked)
    _assert_swedish(chat.press("escalate:cancel"))
    _assert_swedish(chat.press("escalate:consent:yes"))  # expired: its button in Swedish too


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_outcome_names_the_button_beside_it(
    answerer: Any, db: Database, tmp_path: Path, language: str
) -> None:
    """The label comes from one place: renamed in the flow file, the outcome's text follows the button."""
    raw = yaml.safe_load(FLOW_PATH.read_text(encoding="utf-8"))
    raw["messages"]["label_person"] = {"en": "Ask the coordinator", "sv": "Fråga samordnaren"}
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    engine = ConversationEngine(answerer, db, load_flow(path), ttl_hours=1)
    text = {
        "en": "We have a signed research agreement with a university in Japan and an ethical concern.",
        "sv": "Vi har ett undertecknat forskningsavtal med ett universitet i Japan och en etisk fråga.",
    }[language]
    answers = {"area": "research", "formalised": "yes", "ethical_concern": "yes", "concerns": "none"}
    replies = engine.triage(Chat(engine).turn(text=text), answers)
    outcome = next(r for r in replies if r.kind == "outcome")
    assert outcome.language == language
    button = next(a.label for a in outcome.actions if a.value == "escalate:start")
    assert button == raw["messages"]["label_person"][language]
    named = re.findall(r'"([^"]+)"', outcome.text.split("\n\n")[-1])
    assert named == [button]


def _sent(chat: Chat, share: bool) -> Reply:
    chat.say("I would like to talk to a person about a partner university's ethics review, please.")
    return chat.press("escalate:consent:yes" if share else "escalate:consent:no")[-1]


def test_the_web_chat_confirmation_does_not_claim_a_name_or_e_mail_was_shared(engine: Any) -> None:
    web = Chat(engine, platform="web")
    assert (
        "as far as this chat knows it"
        in web.say("talk to a person about my partner in Chile please")[-1].text
    )
    sent = web.press("escalate:consent:yes")[-1]
    assert sent.data["state"] == "sent"
    assert "name and e-mail" not in sent.text
    assert "agreed to share" not in sent.text
    assert "does not know your name or e-mail address" in sent.text


def test_each_surface_confirms_what_it_shared(engine: Any) -> None:
    teams = _sent(Chat(engine, platform="teams", user_name="Eva Ek", user_email="eva.ek@ki.se"), True)
    assert "You agreed to share your name and e-mail address (Eva Ek, eva.ek@ki.se)" in teams.text
    slack = _sent(Chat(engine, platform="slack", user_name="Bo Berg"), True)
    assert "You agreed to share your name (Bo Berg)" in slack.text and "e-mail" not in slack.text
    anonymous = _sent(Chat(engine, platform="teams", user_name="Eva Ek", user_email="eva.ek@ki.se"), False)
    assert "were not shared" in anonymous.text and "Eva Ek" not in anonymous.text


def test_the_consent_question_names_only_what_the_surface_knows(engine: Any) -> None:
    slack = Chat(engine, platform="slack", user_name="Bo Berg")
    asked = slack.say("I would like to talk to a person about a partner university's ethics review, please.")
    assert "May I share your name (Bo Berg)" in asked[-1].text and "e-mail" not in asked[-1].text
