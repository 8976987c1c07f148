"""Announcing new escalations in the coordinators' channel, once, when several ribot processes share the
database and each looks for unannounced escalations.

The process that claims the escalation's key for the current minute posts it and then records that it did.
A process that finds the key taken waits a little for that record: present, the escalation counts as
announced; absent (the other post failed or is slow), the hook fails so the escalation stays unannounced
and is tried again, from the next minute on under a fresh key."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.outbound import EscalationNotice
from connectors.slack import views
from connectors.slack.events import Target

if TYPE_CHECKING:
    from connectors.slack.connector import SlackConnector

WAIT_FOR_OTHER_SECONDS = 5.0


class AnnouncementPending(RuntimeError):
    """Another process is announcing this escalation and has not confirmed it yet."""


def was_recorded(db: object, key: str) -> bool:
    from bot.store.base import Database
    from bot.store.events import event_key
    from bot.store.models import ProcessedEvent

    if not isinstance(db, Database):
        return False
    with db.session() as session:
        found = session.scalar(select(ProcessedEvent.key).where(ProcessedEvent.key == event_key(key)))
    return found is not None


async def announce(connector: SlackConnector, notice: EscalationNotice) -> None:
    channel = connector.services.settings.slack_coordinator_channel
    if not channel:
        return
    handlers, services = connector.handlers, connector.services
    done = f"slack:announced:{notice.id}"
    if await handlers.claim(f"slack:announce:{notice.id}:{int(time.time() // 60)}"):
        await connector.poster.post(Target(channel=channel), [views.announcement(notice)])
        await handlers.claim(done)
        return
    waited = 0.0
    while waited < WAIT_FOR_OTHER_SECONDS:
        if await services.run_sync(was_recorded, services.db, done):
            return
        await asyncio.sleep(0.25)
        waited += 0.25
    raise AnnouncementPending(f"{notice.reference} is being announced by another process")
