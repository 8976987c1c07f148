"""Messages waiting for clients that poll: the web chat fetches what a coordinator sent while it was open,
or after a reload. Rows survive restarts; `ribot purge` removes old ones with their conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import OutboxMessage

MAX_BATCH = 200


def add_messages(
    session: Session, platform: str, conversation_id: str, payloads: list[dict[str, Any]]
) -> list[int]:
    """Adds the messages to the session's transaction; their ids."""
    rows = [
        OutboxMessage(platform=platform, conversation_id=conversation_id, payload=p, created_at=utcnow())
        for p in payloads
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


class Outbox:
    """`bot.outbound.MessageBox` in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, platform: str, conversation_id: str, payloads: list[dict[str, Any]]) -> list[int]:
        with self._db.session() as session, session.begin():
            return add_messages(session, platform, conversation_id, payloads)

    def pending(self, platform: str, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.conversation_id == conversation_id,
                OutboxMessage.id > after,
            )
            .order_by(OutboxMessage.id)
            .limit(MAX_BATCH)
        )
        with self._db.session() as session:
            return [
                {"id": row.id, "created_at": row.created_at.isoformat() + "Z", "reply": row.payload}
                for row in session.scalars(query)
            ]
