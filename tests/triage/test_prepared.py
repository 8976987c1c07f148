"""The engine asks the model before it locks the conversation (on SQLite the lock is the database's write lock,
which deliveries waiting to be acknowledged queue for): every turn of a conversation through all its modes
gets the same replies as when the model is asked inside the lock, asks it once, and never while locked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from triage_support import RecordingAnswerer

from bot.conversation import ConversationEngine
from bot.exchange import Prepared
from bot.followup import Context
from bot.slots import extract
from bot.store import Database, migrate, open_database
from bot.store.conversations import Seen
from bot.types import Answer, Reply, Turn

PLAN = "I'm planning a collaboration with a lab in Chile and we will sign an MoU."
SCRIPT = [
    "Who carries out the risk assessment for a research collaboration?",
    "and if we sign an agreement?",
    PLAN,
    "yes",
    "Who decides about the collaboration in the end?",
    "research",
    "help",
    "cancel",
    "Vem ger råd om etiska frågor?",
    PLAN,
    "no thanks",
    "start",
    "Is the risk assessment needed before we sign?",
]


class Watched(RecordingAnswerer):
    """Records each call to the model and whether the conversation was locked at that moment."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = False
        self.calls: list[tuple[str, str, bool]] = []

    def ask(self, question: str, context: object = None) -> Answer:
        self.calls.append(("ask", question, self.locked))
        return super().ask(question, context)

    def situation(self, text: str) -> dict[str, str]:
        self.calls.append(("situation", text, self.locked))
        return extract(text)


def watched_engine(db: Database, prepare: bool) -> tuple[ConversationEngine, Watched]:
    answerer = Watched()
    engine = ConversationEngine(answerer, db, ttl_hours=24)
    opening = engine.store.open

    @contextmanager
    def locked(*args: Any) -> Iterator[Any]:
        with opening(*args) as convo:
            answerer.locked = True
            try:
                yield convo
            finally:
                answerer.locked = False

    engine.store.open = locked  # type: ignore[method-assign]
    if not prepare:
        engine._prepare = lambda turn: None  # type: ignore[method-assign]
    return engine, answerer


def database(path: Path) -> Database:
    url = f"sqlite:///{path}"
    migrate(url)
    return open_database(url)


def shown(replies: list[Reply]) -> list[tuple[str, str, list[str]]]:
    return [(r.kind, r.text, [a.value for a in r.actions]) for r in replies]


def test_every_turn_asks_the_model_once_and_before_locking(tmp_path: Path) -> None:
    prepared_db, plain_db = database(tmp_path / "a.sqlite3"), database(tmp_path / "b.sqlite3")
    prepared, seen = watched_engine(prepared_db, prepare=True)
    plain, _ = watched_engine(plain_db, prepare=False)
    try:
        for text in SCRIPT:
            turn = Turn(platform="web", conversation_id="c1", user_id="u1", text=text)
            before = len(seen.calls)
            assert shown(prepared.handle(turn)) == shown(plain.handle(turn)), text
            calls = seen.calls[before:]
            assert not [c for c in calls if c[2]], f"asked while locked: {text}"
            assert len(calls) == len(set(calls)), f"asked twice: {text}"
        kinds = {kind for kind, _, _ in seen.calls}
        assert kinds == {"ask", "situation"}  # the script reaches both
    finally:
        prepared_db.dispose()
        plain_db.dispose()


def test_a_stale_reading_is_not_used(sqlite_db: Database) -> None:
    """What was read before the lock may be out of date (another process's turn in between): the locked turn
    then asks again, in the context it finds."""
    engine, answerer = watched_engine(sqlite_db, prepare=True)
    stale = {"answered": {"intents": ["decides"], "slots": {"area": "research"}}}
    engine.store.peek = lambda *key: Seen("idle", "en", stale)  # type: ignore[method-assign]
    turn = Turn(platform="web", conversation_id="c2", user_id="u1", text="Who decides?")
    replies = engine.handle(turn)
    assert replies[0].kind == "answer"
    assert [(kind, locked) for kind, _, locked in answerer.calls] == [("ask", False), ("ask", True)]


@pytest.mark.parametrize(
    ("question", "context", "found"),
    [("Who?", Context("en"), True), ("Who? ", Context("en"), False), ("Who?", Context("sv"), False)],
)
def test_a_prepared_answer_is_for_its_own_question_and_context(
    question: str, context: Context, found: bool
) -> None:
    answer = RecordingAnswerer().ask("Who?")
    prepared = Prepared("Who?", Context("en"), answer, {"area": "research"})
    assert (prepared.answer_to(question, context) is answer) is found
    assert prepared.situation_of("Who?") == {"area": "research"}
    assert prepared.situation_of("What?") is None
