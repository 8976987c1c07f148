"""The per-conversation draft of an escalation, and its atomic conversion into one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import Escalation, EscalationDraft
from bot.store.escalations import EscalationView, NewEscalation, find_by_key, insert_escalation, view

DRAFT_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Draft:
    key: str
    step: str  # "note", "consent" or "sent"
    reason: str
    note: str
    escalation_id: int | None
    updated_at: datetime


def _draft(row: EscalationDraft) -> Draft:
    return Draft(row.key, row.step, row.reason, row.note, row.escalation_id, row.updated_at)


def get_draft(db: Database, platform: str, conversation_id: str) -> Draft | None:
    with db.session() as session:
        row = session.get(EscalationDraft, (platform, conversation_id))
        if row is None or row.updated_at < utcnow() - DRAFT_LIFETIME:
            return None
        return _draft(row)


def start_draft(db: Database, platform: str, conversation_id: str, reason: str, note: str = "") -> Draft:
    """A fresh draft (new idempotency key), replacing any earlier one of this conversation."""
    step = "consent" if note else "note"
    with db.session() as session, session.begin():
        row = session.get(EscalationDraft, (platform, conversation_id), with_for_update=True)
        if row is None:
            row = EscalationDraft(platform=platform, conversation_id=conversation_id)
            session.add(row)
        row.key, row.step, row.reason, row.note = secrets.token_hex(16), step, reason, note
        row.escalation_id, row.updated_at = None, utcnow()
        session.flush()
        return _draft(row)


def set_note(db: Database, platform: str, conversation_id: str, key: str, note: str) -> Draft | None:
    """Record the note and move to the consent step; None when the draft changed meanwhile."""
    with db.session() as session, session.begin():
        row = session.get(EscalationDraft, (platform, conversation_id), with_for_update=True)
        if row is None or row.key != key or row.step != "note":
            return None
        row.note, row.step, row.updated_at = note, "consent", utcnow()
        session.flush()
        return _draft(row)


def drop_draft(db: Database, platform: str, conversation_id: str) -> None:
    with db.session() as session, session.begin():
        session.execute(
            delete(EscalationDraft).where(
                EscalationDraft.platform == platform, EscalationDraft.conversation_id == conversation_id
            )
        )


def submit_draft(
    db: Database, new: NewEscalation, key: str, actor: str
) -> tuple[EscalationView, bool] | None:
    """Turn the draft into an escalation in one transaction. A repeated or concurrent submit of the same draft
    returns the escalation it already made (created False). None when there is no such draft."""
    try:
        with db.session() as session, session.begin():
            row = session.get(EscalationDraft, (new.platform, new.conversation_id), with_for_update=True)
            if row is None or row.key != key:
                return None
            if row.step == "sent":
                sent = session.get(Escalation, row.escalation_id) if row.escalation_id else None
                return (view(sent), False) if sent else None
            escalation = insert_escalation(session, new, actor)
            row.step, row.escalation_id, row.updated_at = "sent", escalation.id, utcnow()
            session.flush()
            return view(escalation), True
    except IntegrityError:
        existing = find_by_key(db, new.idempotency_key)
        if existing is None:
            raise
        return existing, False
