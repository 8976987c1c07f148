"""Escalations in the database: idempotent creation, the queue, status changes with their audit log, and the
draft a conversation keeps while a user is asking for a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import (
    CATEGORIES,
    FORWARD_TARGETS,
    STATUSES,
    Coordinator,
    Escalation,
    EscalationDraft,
    EscalationEvent,
    OutboxMessage,
    ReviewSession,
    reference,
)

__all__ = [
    "CATEGORIES",
    "FORWARD_TARGETS",
    "STATUSES",
    "Coordinator",
    "Escalation",
    "EscalationDraft",
    "EscalationEvent",
    "EscalationView",
    "EventView",
    "NewEscalation",
    "OutboxMessage",
    "ReviewSession",
    "TransitionError",
    "reference",
]

# Which statuses each change may start from. Every change is refused on a resolved escalation.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "claim": ("open", "claimed", "answered", "forwarded"),
    "assign": ("open", "claimed", "answered", "forwarded"),
    "reply": ("open", "claimed", "answered", "forwarded"),
    "forward": ("open", "claimed", "answered", "forwarded"),
    "resolve": ("open", "claimed", "answered", "forwarded"),
    "reopen": ("resolved",),
    "note": STATUSES,
}
FREE_TEXT_KEYS = ("text", "error")  # what people (or a failing platform) wrote into an event's detail
RESULT_STATUS = {
    "claim": "claimed",
    "assign": "claimed",
    "reply": "answered",
    "forward": "forwarded",
    "resolve": "resolved",
    "reopen": "open",
}


class TransitionError(ValueError):
    """The change does not apply to the escalation as it now stands."""


@dataclass(frozen=True)
class NewEscalation:
    idempotency_key: str
    platform: str
    conversation_id: str
    user_id: str
    reply_ref: dict[str, Any]
    category: str = "general"
    reason: str = "user"
    note: str = ""
    identity_shared: bool = False
    user_name: str | None = None
    user_email: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    triage: dict[str, Any] = field(default_factory=dict)
    citations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class EscalationView:
    id: int
    reference: str
    status: str
    category: str
    reason: str
    platform: str
    conversation_id: str
    user_id: str
    identity_shared: bool
    user_name: str | None
    user_email: str | None
    reply_ref: dict[str, Any]
    note: str
    transcript: list[dict[str, Any]]
    triage: dict[str, Any]
    citations: list[dict[str, Any]]
    assignee_id: int | None
    assignee_name: str | None
    forwarded_to: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    events: tuple[EventView, ...] = ()

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "status": self.status,
            "category": self.category,
            "platform": self.platform,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
            "assignee": self.assignee_name,
            "forwarded_to": self.forwarded_to,
            "reason": self.reason,
            "note": self.note,
        }


def _events(session: Session, escalation_id: int) -> list[EscalationEvent]:
    query = select(EscalationEvent).where(EscalationEvent.escalation_id == escalation_id)
    return list(session.scalars(query.order_by(EscalationEvent.id)))


def _event_view(row: EscalationEvent) -> EventView:
    return EventView(row.at, row.actor, row.kind, row.from_status, row.to_status, dict(row.detail or {}))


def view(row: Escalation, events: list[EscalationEvent] | None = None) -> EscalationView:
    return EscalationView(
        id=row.id,
        reference=reference(row.id),
        status=row.status,
        category=row.category,
        reason=row.reason,
        platform=row.platform,
        conversation_id=row.conversation_id,
        user_id=row.user_id,
        identity_shared=row.identity_shared,
        user_name=row.user_name,
        user_email=row.user_email,
        reply_ref=dict(row.reply_ref or {}),
        note=row.note,
        transcript=list(row.transcript or []),
        triage=dict(row.triage or {}),
        citations=list(row.citations or []),
        assignee_id=row.assignee_id,
        assignee_name=row.assignee.name if row.assignee else None,
        forwarded_to=row.forwarded_to,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        events=tuple(_event_view(e) for e in events or []),
    )


def insert_escalation(session: Session, new: NewEscalation, actor: str) -> Escalation:
    """Add the escalation and its `created` event to the session's transaction (flushed, not committed).
    Raises IntegrityError when the idempotency key exists."""
    if new.category not in CATEGORIES:
        raise ValueError(f"unknown category {new.category!r}")
    now = utcnow()
    row = Escalation(
        idempotency_key=new.idempotency_key,
        status="open",
        category=new.category,
        reason=new.reason,
        platform=new.platform,
        conversation_id=new.conversation_id,
        user_id=new.user_id,
        identity_shared=new.identity_shared,
        user_name=new.user_name if new.identity_shared else None,
        user_email=new.user_email if new.identity_shared else None,
        reply_ref=new.reply_ref,
        note=new.note,
        transcript=new.transcript,
        triage=new.triage,
        citations=new.citations,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(EscalationEvent(escalation_id=row.id, at=now, actor=actor, kind="created", to_status="open"))
    session.flush()
    return row


def create_escalation(db: Database, new: NewEscalation, actor: str) -> tuple[EscalationView, bool]:
    """The escalation for this idempotency key, created (and committed) if it did not exist yet."""
    try:
        with db.session() as session, session.begin():
            created = view(insert_escalation(session, new, actor))
        return created, True
    except IntegrityError:
        existing = find_by_key(db, new.idempotency_key)
        if existing is None:
            raise
        return existing, False


def find_by_key(db: Database, key: str) -> EscalationView | None:
    with db.session() as session:
        row = session.scalar(select(Escalation).where(Escalation.idempotency_key == key))
        return view(row) if row else None


def get_escalation(db: Database, escalation_id: int, *, events: bool = True) -> EscalationView | None:
    with db.session() as session:
        row = session.get(Escalation, escalation_id)
        if row is None:
            return None
        return view(row, _events(session, row.id) if events else None)


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = ()  # any of these; empty: every status
    category: str | None = None
    older_than: datetime | None = None  # created before
    newer_than: datetime | None = None  # created after
    limit: int = 200
    offset: int = 0


def list_escalations(db: Database, filters: QueueFilter | None = None) -> list[EscalationView]:
    """Escalations matching the filters, newest first."""
    f = filters or QueueFilter()
    query = select(Escalation)
    if f.statuses:
        query = query.where(Escalation.status.in_(f.statuses))
    if f.category:
        query = query.where(Escalation.category == f.category)
    if f.older_than:
        query = query.where(Escalation.created_at < f.older_than)
    if f.newer_than:
        query = query.where(Escalation.created_at >= f.newer_than)
    query = query.order_by(Escalation.created_at.desc(), Escalation.id.desc()).limit(f.limit).offset(f.offset)
    with db.session() as session:
        return [view(r) for r in session.scalars(query)]


def change(
    db: Database,
    escalation_id: int,
    kind: str,
    actor: str,
    *,
    detail: dict[str, Any] | None = None,
    assignee_id: int | None = None,
    forwarded_to: str | None = None,
) -> EscalationView:
    """Apply one change (claim, assign, reply, forward, resolve, reopen, note) and log it; one transaction.
    The texts in `detail` (a coordinator's reply, note or comment) are stored through `Database.store_text`."""
    if kind not in ALLOWED_FROM:
        raise TransitionError(f"unknown change {kind!r}")
    with db.session() as session, session.begin():
        row = session.get(Escalation, escalation_id, with_for_update=True)
        if row is None:
            raise LookupError(f"no escalation {escalation_id}")
        if row.status not in ALLOWED_FROM[kind]:
            raise TransitionError(f"{reference(row.id)} is {row.status}; it cannot be changed by {kind!r}")
        before = row.status
        _apply(session, row, kind, assignee_id, forwarded_to)
        now = utcnow()
        row.updated_at = now
        event = EscalationEvent(
            escalation_id=row.id,
            at=now,
            actor=actor,
            kind=kind,
            from_status=before,
            to_status=row.status,
            detail=_stored_detail(db, detail),
        )
        session.add(event)
        session.flush()
        return view(row, _events(session, row.id))


def _apply(
    session: Session, row: Escalation, kind: str, assignee_id: int | None, forwarded_to: str | None
) -> None:
    if kind in RESULT_STATUS:
        row.status = RESULT_STATUS[kind]
    if kind == "assign" and assignee_id is None:
        raise TransitionError("choose a coordinator to assign")
    if kind in ("claim", "assign") and assignee_id is not None:
        account = session.get(Coordinator, assignee_id)
        if account is None or not account.is_coordinator:
            raise TransitionError("no such coordinator")
        row.assignee_id = assignee_id
    if kind == "reply" and row.assignee_id is None:
        row.assignee_id = assignee_id
    if kind == "forward":
        if forwarded_to not in FORWARD_TARGETS:
            raise TransitionError(f"forward to one of {', '.join(FORWARD_TARGETS)}")
        row.forwarded_to = forwarded_to
    if kind == "resolve":
        row.resolved_at = utcnow()
    if kind == "reopen":
        row.resolved_at = None


def log_event(db: Database, escalation_id: int, kind: str, actor: str, detail: dict[str, Any]) -> None:
    """Record something that happened to an escalation without changing it (a failed delivery)."""
    with db.session() as session, session.begin():
        row = session.get(Escalation, escalation_id)
        if row is None:
            raise LookupError(f"no escalation {escalation_id}")
        stored = _stored_detail(db, detail)
        session.add(EscalationEvent(escalation_id=row.id, at=utcnow(), actor=actor, kind=kind, detail=stored))


def _stored_detail(db: Database, detail: dict[str, Any] | None) -> dict[str, Any]:
    """The event's detail with its free texts as they may be stored (personal data removed)."""
    return {
        key: db.store_text(value) if key in FREE_TEXT_KEYS and isinstance(value, str) else value
        for key, value in (detail or {}).items()
    }


def unannounced(db: Database, limit: int = 50) -> list[EscalationView]:
    """Escalations not yet announced to the coordinators' channels, oldest first."""
    query = select(Escalation).where(Escalation.announced_at.is_(None)).order_by(Escalation.id).limit(limit)
    with db.session() as session:
        return [view(r) for r in session.scalars(query)]


def mark_announced(db: Database, escalation_id: int) -> None:
    with db.session() as session, session.begin():
        row = session.get(Escalation, escalation_id)
        if row is not None and row.announced_at is None:
            row.announced_at = utcnow()
