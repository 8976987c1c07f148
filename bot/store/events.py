"""Idempotence for platform deliveries: a retried event is handled once, even across processes."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete

from bot.store.base import Database, utcnow
from bot.store.models import ProcessedEvent

MAX_KEY = 255


def event_key(key: str) -> str:
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def claim_event(db: Database, key: str) -> bool:
    """True the first time `key` is seen, False after. Relies on the table's primary key, so processes
    sharing the database agree."""
    table = ProcessedEvent.__table__
    statement = (
        db.insert_ignoring_duplicates(table)  # type: ignore[arg-type]
        .values(key=event_key(key), created_at=utcnow())
        .returning(table.c.key)
    )
    with db.session() as session, session.begin():
        return session.execute(statement).first() is not None


def purge_events(db: Database, before: datetime) -> int:
    with db.session() as session, session.begin():
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
