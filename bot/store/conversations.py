"""Conversation rows: one per platform + conversation/thread + user, read and written inside one
transaction per message with the row locked (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
SQLite), so two messages of one conversation never overwrite each other and two conversations never meet."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store.base import Database, utcnow
from bot.store.models import Conversation, Message


def _fit(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _key(platform: str, thread_id: str, user_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        Conversation.platform == _fit(platform, 32),
        Conversation.thread_id == _fit(thread_id, 512),
        Conversation.user_id == _fit(user_id, 255),
    )


@dataclass
class OpenConversation:
    """A locked conversation row inside a transaction."""

    db: Database
    session: Session
    row: Conversation
    expired: bool  # the stored state outlived the time-to-live and was not restored

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def state(self) -> dict[str, Any]:
        return {} if self.expired else dict(self.row.state or {})

    @property
    def mode(self) -> str:
        return "idle" if self.expired else self.row.mode

    def record(self, role: str, kind: str, text: str, data: dict[str, Any] | None = None) -> Message:
        """Adds a transcript line; the only place message text is written. Its id is set once flushed."""
        message = Message(
            conversation_id=self.row.id, role=role, kind=kind, text=self.db.store_text(text), data=data
        )
        self.session.add(message)
        return message

    def message_text(self, message_id: int) -> str | None:
        found = self.session.get(Message, message_id)
        return found.text if found is not None and found.conversation_id == self.row.id else None

    def save(self, mode: str, language: str, state: dict[str, Any]) -> None:
        self.row.mode = mode
        self.row.language = language
        self.row.state = state
        self.row.updated_at = utcnow()


@dataclass(frozen=True)
class Seen:
    """A conversation as last committed, read without locking it."""

    mode: str
    language: str
    state: dict[str, Any]


class ConversationStore:
    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl

    def peek(self, platform: str, thread_id: str, user_id: str) -> Seen | None:
        """The conversation as last committed (as `open` would show it), without waiting for or holding up
        a writer: what a turn may start working from before it locks the row."""
        query = select(Conversation).where(*_key(platform, thread_id, user_id))
        with self.db.reading() as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                return None
            if row.updated_at < utcnow() - self.ttl:
                return Seen("idle", row.language or "en", {})
            return Seen(row.mode, row.language or "en", dict(row.state or {}))

    def _locked(self, session: Session, platform: str, thread_id: str, user_id: str) -> Conversation | None:
        query = (
            select(Conversation)
            .where(
                Conversation.platform == platform,
                Conversation.thread_id == thread_id,
                Conversation.user_id == user_id,
            )
            .with_for_update()
        )
        return session.scalars(query).one_or_none()

    @contextmanager
    def open(self, platform: str, thread_id: str, user_id: str) -> Iterator[OpenConversation]:
        """The conversation for this key, created if new, locked until the block ends (then committed)."""
        platform, thread_id, user_id = _fit(platform, 32), _fit(thread_id, 512), _fit(user_id, 255)
        with self.db.session() as session, session.begin():
            row = self._locked(session, platform, thread_id, user_id)
            if row is None:
                now = utcnow()
                insert = self.db.insert_ignoring_duplicates(Conversation.__table__)  # type: ignore[arg-type]
                session.execute(
                    insert.values(
                        platform=platform,
                        thread_id=thread_id,
                        user_id=user_id,
                        mode="idle",
                        language="en",
                        state={},
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = self._locked(session, platform, thread_id, user_id)
            assert row is not None  # inserted above, or by a concurrent transaction
            expired = row.updated_at < utcnow() - self.ttl
            yield OpenConversation(self.db, session, row, expired)

    def transcript(self, conversation_id: int) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            )
            return [
                {"role": m.role, "kind": m.kind, "text": m.text, "data": m.data, "created_at": m.created_at}
                for m in rows
            ]

    def find(self, platform: str, thread_id: str, user_id: str) -> dict[str, Any] | None:
        query = select(Conversation).where(*_key(platform, thread_id, user_id))
        with self.db.session() as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                return None
            return {"id": row.id, "mode": row.mode, "language": row.language, "state": row.state}


def stored_language(db: Database, platform: str, thread_id: str, user_id: str) -> str | None:
    """The language a conversation continues in, as last saved; None for one not stored yet."""
    query = select(Conversation.language).where(*_key(platform, thread_id, user_id))
    with db.session() as session:
        return session.scalars(query).one_or_none()


def purge_conversations(db: Database, before: datetime) -> int:
    """Deletes conversations (and their messages) last active before `before`; returns how many."""
    with db.session() as session, session.begin():
        stale = select(Conversation.id).where(Conversation.updated_at < before)
        session.execute(delete(Message).where(Message.conversation_id.in_(stale)))
        result = session.execute(delete(Conversation).where(Conversation.updated_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
