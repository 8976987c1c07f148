"""What a network coordinator does with an escalation: claim, assign, reply, forward, resolve, note. Used by
the review console, the terminal and chat surfaces alike; every change lands in the audit log."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.outbound import DeliveryError, EscalationNotice, OutboundRegistry
from bot.store.base import Database
from bot.store.escalation_tables import FORWARD_TARGETS
from bot.store.escalations import (
    EscalationView,
    TransitionError,
    change,
    get_escalation,
    log_event,
    mark_announced,
    unannounced,
)
from bot.types import Reply

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 4000
FORWARD_NAMES = {
    "ethics_committee": "the Committee for Ethics and Good Research Practice",
    "security_forum": "KI's Security Forum",
    "animal_welfare_body": "KI's Animal Welfare Body",
}


@dataclass(frozen=True)
class Actor:
    """Who makes a change: `label` goes into the audit log ("coordinator:anna@ki.se", "cli")."""

    label: str
    account_id: int | None = None


def _text(value: str, limit: int, what: str) -> str:
    cleaned = value.replace("\r\n", "\n").strip()
    if not cleaned:
        raise TransitionError(f"the {what} is empty")
    if len(cleaned) > limit:
        raise TransitionError(f"the {what} is longer than {limit} characters")
    return cleaned


def coordinator_reply(escalation: EscalationView, text: str) -> Reply:
    """The message a user receives: plain text, marked as coming from a person."""
    return Reply(
        kind="escalation",
        text=f"Reply from the network coordinator ({escalation.reference}):\n\n{text}",
        data={
            "from": "coordinator",
            "escalation_id": escalation.id,
            "reference": escalation.reference,
            "message": text,
        },
    )


class ReviewDesk:
    def __init__(self, db: Database, outbound: OutboundRegistry) -> None:
        self.db = db
        self.outbound = outbound

    def get(self, escalation_id: int) -> EscalationView:
        found = get_escalation(self.db, escalation_id)
        if found is None:
            raise LookupError(f"no escalation {escalation_id}")
        return found

    def claim(self, escalation_id: int, actor: Actor) -> EscalationView:
        return change(self.db, escalation_id, "claim", actor.label, assignee_id=actor.account_id)

    def assign(self, escalation_id: int, assignee_id: int, actor: Actor) -> EscalationView:
        detail = {"assignee_id": assignee_id}
        return change(self.db, escalation_id, "assign", actor.label, assignee_id=assignee_id, detail=detail)

    def note(self, escalation_id: int, text: str, actor: Actor) -> EscalationView:
        body = _text(text, MAX_NOTE_CHARS, "note")
        return change(self.db, escalation_id, "note", actor.label, detail={"text": body})

    def resolve(self, escalation_id: int, actor: Actor, comment: str = "") -> EscalationView:
        detail = {"text": comment.strip()[:MAX_NOTE_CHARS]} if comment.strip() else {}
        return change(self.db, escalation_id, "resolve", actor.label, detail=detail)

    def reopen(self, escalation_id: int, actor: Actor) -> EscalationView:
        return change(self.db, escalation_id, "reopen", actor.label)

    def forward(self, escalation_id: int, target: str, actor: Actor, comment: str = "") -> EscalationView:
        if target not in FORWARD_TARGETS:
            raise TransitionError(f"forward to one of {', '.join(FORWARD_TARGETS)}")
        detail = {"to": target, "text": comment.strip()[:MAX_NOTE_CHARS]}
        return change(self.db, escalation_id, "forward", actor.label, forwarded_to=target, detail=detail)

    async def reply(self, escalation_id: int, text: str, actor: Actor) -> EscalationView:
        """Deliver the reply on the user's platform, then record it (status answered). A failed delivery is
        logged and raised; the status stays as it was."""
        body = _text(text, MAX_REPLY_CHARS, "reply")
        current = await asyncio.to_thread(self.get, escalation_id)
        if current.status == "resolved":
            raise TransitionError(f"{current.reference} is resolved; reopen it to reply")
        try:
            await self.outbound.deliver(
                current.platform, current.reply_ref, [coordinator_reply(current, body)]
            )
        except DeliveryError as exc:
            detail = {"error": str(exc)[:500], "text": body}
            await asyncio.to_thread(log_event, self.db, escalation_id, "delivery_failed", actor.label, detail)
            raise
        detail = {"text": body, "delivered_to": current.platform}
        return await asyncio.to_thread(
            change, self.db, escalation_id, "reply", actor.label, detail=detail, assignee_id=actor.account_id
        )


def notice_for(escalation: EscalationView, review_base_url: str | None) -> EscalationNotice:
    """The announcement of a new escalation, in plain text."""
    note = escalation.note or "(no note)"
    url = f"{review_base_url.rstrip('/')}/review/escalations/{escalation.id}" if review_base_url else None
    text = (
        f"{escalation.reference}: a {escalation.platform} user asks for a person "
        f"(category {escalation.category}).\nNote: {note}"
    )
    return EscalationNotice(
        id=escalation.id,
        reference=escalation.reference,
        category=escalation.category,
        platform=escalation.platform,
        created_at=escalation.created_at,
        note=escalation.note,
        text=text,
        review_url=url,
    )


async def announce_pending(db: Database, outbound: OutboundRegistry, review_base_url: str | None) -> int:
    """Announce every escalation not yet announced; how many were. Each is marked only after every hook
    succeeded, so a crash or a failing channel means a later retry, never a lost announcement."""
    if not outbound.has_announce_hooks:
        return 0
    done = 0
    for escalation in await asyncio.to_thread(unannounced, db):
        if await outbound.announce(notice_for(escalation, review_base_url)):
            await asyncio.to_thread(mark_announced, db, escalation.id)
            done += 1
    return done
