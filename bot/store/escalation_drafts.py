"""The draft a conversation keeps while a user asks for a person, and its conversion into an escalation.

These functions run inside the conversation's own transaction (the engine holds the conversation row
locked), so a doubled click is handled after the first one committed, and the escalation is committed
with the message that announces it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.base import utcnow
from bot.store.escalation_tables import Escalation, EscalationDraft
from bot.store.escalations import EscalationView, NewEscalation, insert_escalation, view

DRAFT_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Draft:
    key: str
    step: str  # "note", "consent" or "sent"
    reason: str
    note: str
    escalation_id: int | None
    updated_at: datetime

    @property
    def open(self) -> bool:
        return self.step in ("note", "consent")


def _row(session: Session, platform: str, conversation_id: str) -> EscalationDraft | None:
    return session.get(EscalationDraft, (platform, conversation_id))


def get_draft(session: Session, platform: str, conversation_id: str) -> Draft | None:
    row = _row(session, platform, conversation_id)
    if row is None or row.updated_at < utcnow() - DRAFT_LIFETIME:
        return None
    return Draft(row.key, row.step, row.reason, row.note, row.escalation_id, row.updated_at)


def start_draft(session: Session, platform: str, conversation_id: str, reason: str, note: str = "") -> Draft:
    """A fresh draft with a new idempotency key, replacing any earlier one of this conversation."""
    row = _row(session, platform, conversation_id)
    if row is None:
        row = EscalationDraft(platform=platform, conversation_id=conversation_id)
        session.add(row)
    row.key, row.step, row.reason, row.note = (
        secrets.token_hex(16),
        "consent" if note else "note",
        reason,
        note,
    )
    row.escalation_id, row.updated_at = None, utcnow()
    session.flush()
    return Draft(row.key, row.step, row.reason, row.note, None, row.updated_at)


def set_note(session: Session, platform: str, conversation_id: str, note: str) -> Draft | None:
    """Record the note and move on to the consent question; None when no draft waits for a note."""
    row = _row(session, platform, conversation_id)
    if row is None or row.step != "note":
        return None
    row.note, row.step, row.updated_at = note, "consent", utcnow()
    session.flush()
    return Draft(row.key, row.step, row.reason, row.note, None, row.updated_at)


def drop_draft(session: Session, platform: str, conversation_id: str) -> None:
    row = _row(session, platform, conversation_id)
    if row is not None:
        session.delete(row)
        session.flush()


def submit_draft(session: Session, new: NewEscalation, actor: str) -> tuple[EscalationView, bool] | None:
    """The escalation of this conversation's draft: created now (True) or earlier by the same draft (False).
    None when there is no draft waiting for consent."""
    row = _row(session, new.platform, new.conversation_id)
    if row is None or row.step not in ("consent", "sent"):
        return None
    if row.step == "sent":
        sent = session.get(Escalation, row.escalation_id) if row.escalation_id else None
        return (view(sent), False) if sent else None
    try:
        with session.begin_nested():
            escalation = insert_escalation(session, new, actor)
    except IntegrityError:
        # Another process sharing the database made it first (only possible without the row lock).
        existing = session.query(Escalation).filter_by(idempotency_key=new.idempotency_key).one()
        escalation = existing
        created = False
    else:
        created = True
    row.step, row.escalation_id, row.updated_at = "sent", escalation.id, utcnow()
    session.flush()
    return view(escalation), created


def idempotency_key(draft: Draft) -> str:
    """One escalation per draft: the key a retried or doubled consent click finds again."""
    return f"draft:{draft.key}"
