"""The engine with the real Answerer over a real index (the root conftest's `answerer` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from triage_support import Chat

from bot.conversation import ConversationEngine
from bot.store import Database

pytestmark = pytest.mark.slow


def test_a_question_mid_assessment_gets_a_grounded_answer_and_the_assessment_resumes(
    answerer: Any, sqlite_db: Database
) -> None:
    user = Chat(ConversationEngine(answerer, sqlite_db, ttl_hours=1))
    user.triage("Our department will sign a research agreement with a university in Japan.")
    asked = user.question
    replies = user.say("Who has to be contacted for animal experiments abroad?")
    assert [r.kind for r in replies] == ["answer", "question"]
    found = replies[0].answer
    assert found is not None and found.grounded
    assert "4.4" in {c.section for c in found.citations}
    assert "animal_welfare_body" in {c.id for c in found.contacts}
    assert user.question == asked
    user.say("animal experiments abroad")
    assert "animal_welfare_body" in [c["id"] for c in user.outcome["contacts"]]


def test_a_plan_with_a_question_is_answered_and_offered_the_assessment(
    answerer: Any, sqlite_db: Database
) -> None:
    user = Chat(ConversationEngine(answerer, sqlite_db, ttl_hours=1))
    replies = user.say(
        "I'm planning a research collaboration with a lab in Chile. Who carries out the risk assessment?"
    )
    assert [r.kind for r in replies] == ["answer", "text"]
    assert replies[0].answer is not None and "3.2" in {c.section for c in replies[0].answer.citations}
    assert replies[1].data.get("offer") is True
    user.press("triage:start")
    assert user.last.data["known"]["area"] == "research"
