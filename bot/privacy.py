"""Data protection chores: deleting what is old (`ribot purge`) and handing one user their stored data
(`ribot export-user`, for an access request under the GDPR)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.base import Database, utcnow
from bot.store.conversations import purge_conversations
from bot.store.escalation_tables import (
    Escalation,
    EscalationDraft,
    EscalationEvent,
    OutboxMessage,
    ReviewSession,
)
from bot.store.events import purge_events
from bot.store.inbox import purge_inbox
from bot.store.models import Conversation, Message

# Conversation references of the chat platforms (migration 0003_platform_refs).
_REFS = sa.table(
    "platform_refs",
    sa.column("platform", sa.String),
    sa.column("conversation_id", sa.String),
    sa.column("reference", sa.Text),
    sa.column("updated_at", sa.DateTime),
)
ACTIVE = ("open", "claimed", "answered", "forwarded")


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def purge(db: Database, older_than: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Delete conversations last active before the cut-off (with their messages), resolved escalations
    closed before it (with their history), and old drafts, outbox messages, delivery ids, sessions and
    platform references. Escalations still being handled, and what they need to reach the user, stay."""
    cutoff = (now or utcnow()) - older_than
    counts = {"conversations": purge_conversations(db, cutoff), "processed_events": purge_events(db, cutoff)}
    counts["inbox"] = purge_inbox(db, cutoff)
    with db.session() as session, session.begin():
        closed = select(Escalation.id).where(Escalation.status == "resolved", Escalation.resolved_at < cutoff)
        session.execute(delete(EscalationEvent).where(EscalationEvent.escalation_id.in_(closed)))
        session.execute(
            sa.update(EscalationDraft)
            .where(EscalationDraft.escalation_id.in_(closed))
            .values(escalation_id=None)
        )
        counts["escalations"] = _count(session.execute(delete(Escalation).where(Escalation.id.in_(closed))))
        counts["drafts"] = _count(
            session.execute(delete(EscalationDraft).where(EscalationDraft.updated_at < cutoff))
        )
        counts["outbox_messages"] = _count(
            session.execute(delete(OutboxMessage).where(OutboxMessage.created_at < cutoff))
        )
        counts["sessions"] = _count(
            session.execute(delete(ReviewSession).where(ReviewSession.expires_at < utcnow()))
        )
        counts["platform_refs"] = _purge_refs(session, cutoff)
    return counts


def _purge_refs(session: Session, cutoff: datetime) -> int:
    still_needed = select(Escalation.platform, Escalation.conversation_id).where(
        Escalation.status.in_(ACTIVE)
    )
    needed = {(p, c) for p, c in session.execute(still_needed)}
    old = session.execute(
        select(_REFS.c.platform, _REFS.c.conversation_id).where(_REFS.c.updated_at < cutoff)
    )
    doomed = [(p, c) for p, c in old if (p, c) not in needed]
    for platform, conversation in doomed:
        session.execute(
            delete(_REFS).where(_REFS.c.platform == platform, _REFS.c.conversation_id == conversation)
        )
    return len(doomed)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def export_user(db: Database, user_id: str, platform: str | None = None) -> dict[str, Any]:
    """Everything stored about one user: conversations with their messages, escalations with their history,
    messages waiting for them and the platforms' conversation references."""
    with db.session() as session:
        convo_query = select(Conversation).where(Conversation.user_id == user_id)
        esc_query = select(Escalation).where(Escalation.user_id == user_id)
        if platform:
            convo_query = convo_query.where(Conversation.platform == platform)
            esc_query = esc_query.where(Escalation.platform == platform)
        conversations = [
            _conversation(session, c) for c in session.scalars(convo_query.order_by(Conversation.id))
        ]
        escalations = [_escalation(session, e) for e in session.scalars(esc_query.order_by(Escalation.id))]
        places = {(c["platform"], c["conversation_id"]) for c in conversations}
        places |= {(e["platform"], e["conversation_id"]) for e in escalations}
        return {
            "user_id": user_id,
            "platform": platform,
            "exported_at": _when(utcnow()),
            "conversations": conversations,
            "escalations": escalations,
            "delivered_messages": _outbox(session, places),
            "platform_references": _refs(session, places),
        }


def _conversation(session: Session, row: Conversation) -> dict[str, Any]:
    messages = session.scalars(select(Message).where(Message.conversation_id == row.id).order_by(Message.id))
    return {
        "platform": row.platform,
        "conversation_id": row.thread_id,
        "created_at": _when(row.created_at),
        "updated_at": _when(row.updated_at),
        "language": row.language,
        "state": row.state,
        "messages": [
            {"role": m.role, "kind": m.kind, "text": m.text, "data": m.data, "at": _when(m.created_at)}
            for m in messages
        ],
    }


def _escalation(session: Session, row: Escalation) -> dict[str, Any]:
    events = session.scalars(
        select(EscalationEvent).where(EscalationEvent.escalation_id == row.id).order_by(EscalationEvent.id)
    )
    return {
        "id": row.id,
        "status": row.status,
        "category": row.category,
        "platform": row.platform,
        "conversation_id": row.conversation_id,
        "identity_shared": row.identity_shared,
        "user_name": row.user_name,
        "user_email": row.user_email,
        "note": row.note,
        "transcript": row.transcript,
        "triage": row.triage,
        "citations": row.citations,
        "created_at": _when(row.created_at),
        "resolved_at": _when(row.resolved_at),
        "history": [
            {"at": _when(e.at), "kind": e.kind, "to_status": e.to_status, "detail": e.detail} for e in events
        ],
    }


def _outbox(session: Session, places: set[tuple[str, str]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for platform, conversation in sorted(places):
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.platform == platform, OutboxMessage.conversation_id == conversation)
            .order_by(OutboxMessage.id)
        )
        out.extend({"platform": platform, "at": _when(r.created_at), "reply": r.payload} for r in rows)
    return out


def _refs(session: Session, places: set[tuple[str, str]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for platform, conversation in sorted(places):
        query = select(_REFS.c.reference, _REFS.c.updated_at).where(
            _REFS.c.platform == platform, _REFS.c.conversation_id == conversation
        )
        for reference, updated_at in session.execute(query):
            out.append(
                {
                    "platform": platform,
                    "conversation_id": conversation,
                    "reference": reference,
                    "updated_at": _when(updated_at),
                }
            )
    return out
