"""Tables of the escalation part (revision 0002_escalations): escalations, their audit log, the draft a
conversation keeps while a user asks for a person, coordinator accounts and console sessions, and the
messages delivered to the web chat. Times are naive UTC, like the rest of the store."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.store.base import Base, utcnow

STATUSES = ("open", "claimed", "answered", "resolved", "forwarded")
CATEGORIES = ("general", "research", "education", "ethics", "security", "animals")
FORWARD_TARGETS = ("ethics_committee", "security_forum", "animal_welfare_body")


class Coordinator(Base):
    __tablename__ = "review_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_subject: Mapped[str | None] = mapped_column(String(300), unique=True)
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ReviewSession(Base):
    __tablename__ = "review_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("review_accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    account: Mapped[Coordinator] = relationship()


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    category: Mapped[str] = mapped_column(String(20), default="general", index=True)
    reason: Mapped[str] = mapped_column(String(30), default="user")
    platform: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str] = mapped_column(String(512), index=True)
    user_id: Mapped[str] = mapped_column(String(300), index=True)
    identity_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    user_name: Mapped[str | None] = mapped_column(String(200))
    user_email: Mapped[str | None] = mapped_column(String(320))
    reply_ref: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    triage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("review_accounts.id", ondelete="SET NULL"))
    forwarded_to: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    announced_at: Mapped[datetime | None] = mapped_column(DateTime)

    assignee: Mapped[Coordinator | None] = relationship()

    @property
    def reference(self) -> str:
        return reference(self.id)


def reference(escalation_id: int) -> str:
    return f"ESC-{escalation_id:05d}"


_ID_OR_REFERENCE = re.compile(r"(?:ESC-?)?([0-9]{1,12})", re.IGNORECASE)


def escalation_id(text: str) -> int | None:
    """The id an escalation id or the reference users are shown names: "12", "ESC-00012" and "esc-12" all
    name 12. Only ASCII digits: other Unicode digits ("²", "١٢") are not ids."""
    found = _ID_OR_REFERENCE.fullmatch(text)
    return int(found[1]) if found else None


class EscalationEvent(Base):
    """The audit log: every change of an escalation, who made it and when."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EscalationDraft(Base):
    """A user's request for a person while ribot collects the note and the consent."""

    __tablename__ = "escalation_drafts"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(20))  # "note", "consent", "sent"
    reason: Mapped[str] = mapped_column(String(30), default="user")
    note: Mapped[str] = mapped_column(Text, default="")
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxMessage(Base):
    """Messages delivered to clients that poll for them (the web chat)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_conversation", "platform", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The client confirmed it (revision 0006): the payload has been kept redacted since (bot.store.outbox).
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
