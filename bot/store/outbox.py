"""Messages waiting for clients that poll: the web chat fetches what a coordinator sent while it was open,
or after a reload. Rows survive restarts; `ribot purge` removes old ones with their conversations.

Personal data at rest. A coordinator's reply is the one text ribot stores that a person wrote for the user
to read, and the user must read it as it was written: a phone number or e-mail address the coordinator
gives is often the point of the reply. So a message is stored as written until its client has it, and from
then on only without personal data (`Database.store_text`, bot.redact), like every other text ribot keeps.

"Has it" is the client's own word, not the moment a response was sent: the web chat polls with `after=N`,
the highest id it has shown, and only moves N on once it has taken the messages in. A response lost on the
way is asked for again with the old N and still finds the message as written. So `pending(after=N)` first
settles every message of the conversation up to N: its free texts (the reply's text, a coordinator's
message) are replaced by their redacted form and `delivered_at` is set, once. A message whose client never
comes back stays as written until `ribot purge` removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
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


def kept_payload(payload: dict[str, Any], store_text: Callable[[str], str]) -> dict[str, Any]:
    """A delivered message as it is kept: the texts people wrote pass through `store_text`."""
    kept = dict(payload)
    if isinstance(kept.get("text"), str):
        kept["text"] = store_text(kept["text"])
    data = kept.get("data")
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        kept["data"] = {**data, "message": store_text(data["message"])}
    return kept


class Outbox:
    """`bot.outbound.MessageBox` in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, platform: str, conversation_id: str, payloads: list[dict[str, Any]]) -> list[int]:
        with self._db.session() as session, session.begin():
            return add_messages(session, platform, conversation_id, payloads)

    def pending(self, platform: str, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
        """The messages after id `after`, oldest first; the client has those up to `after` (see above)."""
        if after > 0:
            self.settle(platform, conversation_id, after)
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

    def settle(self, platform: str, conversation_id: str, upto: int) -> int:
        """The conversation's messages up to id `upto` are delivered: kept redacted from now on. How many
        were settled now."""
        query = _unsettled(platform, conversation_id, upto)
        with self._db.session() as session:
            # Most polls have nothing to settle: look before taking a write transaction (SQLite's lock).
            if session.scalars(query.limit(1)).first() is None:
                return 0
        with self._db.session() as session, session.begin():
            rows = list(session.scalars(query.with_for_update()))
            for row in rows:
                row.payload = kept_payload(row.payload, self._db.store_text)
                row.delivered_at = utcnow()
            return len(rows)


def _unsettled(platform: str, conversation_id: str, upto: int) -> Select[OutboxMessage]:
    return select(OutboxMessage).where(
        OutboxMessage.platform == platform,
        OutboxMessage.conversation_id == conversation_id,
        OutboxMessage.id <= upto,
        OutboxMessage.delivered_at.is_(None),
    )
