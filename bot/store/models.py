"""Tables of the triage part (revision 0001_conversations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, utcnow


class Conversation(Base):
    """One user's conversation in one place: platform + conversation or thread + user."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("platform", "thread_id", "user_id", name="uq_conversations_key"),
        Index("ix_conversations_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[str] = mapped_column(String(512))
    user_id: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16), default="idle", server_default="idle")
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Message(Base):
    """The transcript: what the user wrote and what ribot answered, after `Database.store_text`."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(8))  # "user" or "bot"
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProcessedEvent(Base):
    """Platform delivery ids already handled (Slack retries, Teams redeliveries)."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
