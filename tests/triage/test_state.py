"""Conversation state in a real database, on SQLite and on the PostgreSQL at 127.0.0.1:5432: it survives a
new engine and a new process, conversations never see each other, concurrent messages are all kept, stale
conversations expire, and platform events are claimed once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from triage_support import Chat, RecordingAnswerer

from bot.conversation import ConversationEngine
from bot.store import Database, migrate, open_database
from bot.store.base import utcnow
from bot.store.conversations import purge_conversations
from bot.store.events import claim_event
from bot.store.models import Conversation, Message

REPO = Path(__file__).resolve().parents[2]
RIBOT = Path(sys.executable).parent / "ribot"


def new_engine(db: Database, ttl_hours: float = 24) -> ConversationEngine:
    return ConversationEngine(RecordingAnswerer(), db, ttl_hours=ttl_hours)


def test_migrations_reach_head_and_can_run_again(database: Database, db_url: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.store.base import MIGRATIONS

    migrate(db_url)  # a second run changes nothing
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    chain = [r.revision for r in script.walk_revisions()]
    assert chain[-1] == "0001_conversations"
    with database.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            == script.get_current_head()
        )
        for table in ("conversations", "messages", "processed_events"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_a_conversation_continues_in_a_new_engine(database: Database, db_url: str) -> None:
    first = Chat(new_engine(database), conversation="thread-1")
    first.triage("Our department will sign a research agreement with a university in Japan.")
    assert first.question["multiple"]
    database.dispose()
    reopened = open_database(db_url)
    second = Chat(new_engine(reopened), conversation="thread-1")
    second.press("triage:answer:security_concern:yes")
    second.press("triage:answer:concerns:none")
    assert second.outcome["responsible"] == "research_group_and_department"
    assert "security_forum" in [c["id"] for c in second.outcome["contacts"]]
    reopened.dispose()


def run_cli(db_url: str, session: str, lines: list[dict[str, Any]], data_dir: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RIBOT_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [str(RIBOT), "triage", "--json", "--session", session, "--database", db_url],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_triage_lines_in_later_processes_stand_alone(
    database: Database, db_url: str, index_copy: Path
) -> None:
    """`ribot triage --json` lines are whole assessments: a later process with the same session carries
    nothing over, and a line with the whole situation comes out the same in any process."""
    line = {"text": "My course will include a study visit to a lab in Estonia."}
    first = run_cli(db_url, "restart-1", [line], index_copy)
    assert first[0]["status"] == "need_input" and first[0]["known"]["level"] == "course"
    alone = run_cli(db_url, "restart-1", [{"text": "", "answers": {"animals_abroad": "no"}}], index_copy)
    assert alone[0]["status"] == "need_input" and alone[0]["question"]["slot"] == "activity"
    whole = run_cli(db_url, "restart-1", [{**line, "answers": {"concerns": "none"}}], index_copy)
    assert whole[0]["status"] == "done" and whole[0]["outcome"]["responsible"] == "course_education_board"


def test_two_interleaved_conversations_never_see_each_other(database: Database) -> None:
    engine = new_engine(database)
    alice = Chat(engine, conversation="C1", user="alice", platform="slack")
    bob = Chat(engine, conversation="C1", user="bob", platform="slack")  # same thread, another user
    carol = Chat(engine, conversation="C1", user="alice", platform="teams")  # same ids, another platform
    alice.triage(
        "We are formalising a research collaboration and I worry the partner could misuse our technology."
    )
    bob.triage("My course will include a study visit to a lab in Estonia.")
    carol.triage("")
    assert alice.last.data["known"]["security_concern"] == "yes"
    assert bob.last.data["known"]["level"] == "course" and "formalised" not in bob.last.data["known"]
    assert carol.question["slot"] == "activity"
    assert carol.last.data["known"] == {"area": None, "formalised": None, "level": None}
    bob.say("1")  # bob: animal experiments abroad
    alice.say("none")
    carol.say("banana")
    assert alice.outcome["responsible"] == "research_group_and_department"
    assert "animal_welfare_body" not in [c["id"] for c in alice.outcome["contacts"]]
    assert bob.outcome["responsible"] == "course_education_board"
    assert "animal_welfare_body" in [c["id"] for c in bob.outcome["contacts"]]
    assert carol.question["slot"] == "activity"  # not an answer: asked again, nothing of the others leaked in
    carol.say("student mobility")
    carol.say("none of these")
    assert carol.outcome["contacts"][0]["id"] == "international_office"


def test_concurrent_messages_are_all_kept_and_conversations_stay_apart(database: Database) -> None:
    engine = new_engine(database)
    texts = {
        f"conv-{n}": text
        for n, text in enumerate(
            [
                "I want to collaborate informally with a researcher in Chile.",
                "Our department will sign a research agreement with a university in Japan.",
                "My course will include a study visit to a lab in Estonia.",
                "A programme managed by KU wants a partner in Norway.",
            ]
            * 2
        )
    }
    start = threading.Barrier(len(texts) + 4)
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def drive(conversation: str, description: str) -> None:
        try:
            user = Chat(engine, conversation=conversation)
            start.wait()
            user.triage(description)
            user.triage(description, {"concerns": "none"})
            results[conversation] = user.outcome
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    def hammer(n: int) -> None:
        try:
            start.wait()
            Chat(engine, conversation="shared", user="same").say(f"message number {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=item) for item in texts.items()]
    threads += [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    expected = [
        "individual_researcher",
        "research_group_and_department",
        "course_education_board",
        "programme_board",
    ]
    assert [results[f"conv-{n}"]["responsible"] for n in range(8)] == expected * 2
    with database.session() as session:
        shared = session.scalars(select(Conversation).where(Conversation.thread_id == "shared")).all()
        assert len(shared) == 1
        said = session.scalars(
            select(Message.text).where(Message.conversation_id == shared[0].id, Message.role == "user")
        ).all()
        assert sorted(said) == [f"message number {n}" for n in range(4)]


def test_stale_conversations_expire_and_can_be_purged(database: Database) -> None:
    engine = new_engine(database, ttl_hours=2)
    user = Chat(engine, conversation="old")
    user.triage("I want to collaborate informally with a researcher in Chile.")
    assert user.last.data["known"]["formalised"] == "no"
    with database.session() as session, session.begin():
        session.execute(update(Conversation).values(updated_at=utcnow() - timedelta(hours=3)))
    user.say("2")
    assert "expired after 2 hours" in user.last.text
    assert user.last.kind == "answer"  # the old assessment is gone: "2" is just a message now
    with database.session() as session, session.begin():
        session.execute(update(Conversation).values(updated_at=utcnow() - timedelta(hours=3)))
    assert purge_conversations(database, utcnow() - timedelta(hours=2)) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_events_are_claimed_once_even_under_concurrency(database: Database) -> None:
    assert claim_event(database, "slack:Ev1") is True
    assert claim_event(database, "slack:Ev1") is False
    assert claim_event(database, "teams:" + "x" * 600) is True
    assert claim_event(database, "teams:" + "x" * 600) is False
    start = threading.Barrier(8)
    won: list[bool] = []

    def claim() -> None:
        start.wait()
        won.append(claim_event(database, "slack:Ev2"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


def test_every_stored_text_goes_through_the_one_filter(db_url: str) -> None:
    migrate(db_url)
    db = open_database(db_url, text_filter=lambda value: value.replace("secret", "[removed]"))
    user = Chat(new_engine(db), conversation="filtered")
    user.triage("A secret plan: we will sign a research agreement with a university in Japan.")
    user.say("secret answer")
    with db.session() as session:
        stored = session.scalars(select(Message.text)).all()
    assert stored and not any("secret" in s for s in stored)
    db.dispose()
