"""Conversation references, kept in the database so ribot can write first (a coordinator's reply, an
announcement) after a restart or from another process. The table comes from migration 0003_platform_refs.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.store.base import utcnow
from bot.store.platform_refs import platform_refs

MAX_REFERENCE_CHARS = 16_000


def engine_of(db: Any) -> sa.Engine:
    """The SQLAlchemy engine behind the server's database handle."""
    if isinstance(db, sa.Engine):
        return db
    engine = getattr(db, "engine", None)
    if isinstance(engine, sa.Engine):
        return engine
    raise TypeError(f"no SQLAlchemy engine in {type(db).__name__}")


class ReferenceStore:
    """platform + conversation id -> the platform's JSON reference for writing into that conversation."""

    def __init__(self, engine: sa.Engine, platform: str) -> None:
        self._engine = engine
        self._platform = platform

    def _key(self, conversation_id: str) -> sa.ColumnElement[bool]:
        columns = platform_refs.c
        return sa.and_(columns.platform == self._platform, columns.conversation_id == conversation_id)

    def remember(self, conversation_id: str, reference: dict[str, Any]) -> None:
        text = json.dumps(reference, ensure_ascii=False, sort_keys=True)
        if not conversation_id or len(conversation_id) > 512 or len(text) > MAX_REFERENCE_CHARS:
            return
        now = utcnow()
        key = self._key(conversation_id)
        with self._engine.begin() as conn:
            current = conn.execute(sa.select(platform_refs.c.reference).where(key)).scalar_one_or_none()
            if current == text:
                return
            if current is not None:
                conn.execute(platform_refs.update().where(key).values(reference=text, updated_at=now))
                return
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    platform_refs.insert().values(
                        platform=self._platform,
                        conversation_id=conversation_id,
                        reference=text,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            with self._engine.begin() as conn:  # another process inserted it first: ours is as fresh
                conn.execute(platform_refs.update().where(key).values(reference=text, updated_at=now))

    def get(self, conversation_id: str) -> dict[str, Any] | None:
        key = self._key(conversation_id)
        with self._engine.connect() as conn:
            text = conn.execute(sa.select(platform_refs.c.reference).where(key)).scalar_one_or_none()
        return json.loads(text) if text else None

    def in_channel(self, channel_id: str) -> dict[str, Any] | None:
        """A reference to the channel itself, or failing that to any thread in it (newest first)."""
        found = self.get(channel_id)
        if found is not None:
            return found
        pattern = channel_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ";%"
        query = (
            sa.select(platform_refs.c.reference)
            .where(platform_refs.c.platform == self._platform)
            .where(platform_refs.c.conversation_id.like(pattern, escape="\\"))
            .order_by(platform_refs.c.updated_at.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            text = conn.execute(query).scalar_one_or_none()
        return json.loads(text) if text else None
