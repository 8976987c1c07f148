"""The first question of an assessment whose opening names no kind of activity, as the real engine asks it,
for every surface's rendering tests: one question whose choices settle the kind of activity together with
what follows from it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from bot.conversation import ConversationEngine
from bot.store import migrate, open_database
from bot.types import Reply, Turn
from knowledge.triage_flow import ComboChoice, default_flow

BLANK = {"en": "I'd like to assess a collaboration abroad", "sv": "Jag vill bedöma ett samarbete utomlands"}


def activity_question(answerer: Any, directory: Path, language: str, platform: str) -> Reply:
    """The engine's reply to a blank opening in `language`, on a database of its own in `directory`."""
    url = f"sqlite:///{directory / f'activity-{language}.sqlite3'}"
    migrate(url)
    db = open_database(url)
    try:
        engine = ConversationEngine(answerer, db, ttl_hours=1)
        turn = Turn(platform=platform, conversation_id=uuid.uuid4().hex, user_id="u1", text=BLANK[language])
        reply = engine.triage(turn)[-1]
    finally:
        db.dispose()
    assert reply.question is not None and reply.question["slot"] == "activity", reply.text
    assert reply.language == language
    return reply


def activity_choices() -> tuple[ComboChoice, ...]:
    return default_flow().combined["activity"].choices
