"""Announcing a new escalation in a coordinators' channel once, when several ribot processes share the
database and each looks for unannounced escalations (Slack's and Teams' announce hooks both go through here).

The process that claims the escalation's key for the current minute posts it and then records that it did.
A process that finds the key taken waits a little for that record: present, the escalation counts as
announced; absent (the other post failed or is slow), the hook fails so the escalation stays unannounced
and is tried again, from the next minute on under a fresh key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import select

from bot.outbound import EscalationNotice

WAIT_FOR_OTHER_SECONDS = 5.0


class AnnouncementPending(RuntimeError):
    """Another process is announcing this escalation and has not confirmed it yet."""


class Host(Protocol):
    db: Any

    async def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any: ...


def _claim(db: Any, key: str) -> bool:
    from bot.store.events import claim_event

    return bool(claim_event(db, key))


def was_recorded(db: object, key: str) -> bool:
    from bot.store.base import Database
    from bot.store.events import event_key
    from bot.store.models import ProcessedEvent

    if not isinstance(db, Database):
        return False
    with db.session() as session:
        found = session.scalar(select(ProcessedEvent.key).where(ProcessedEvent.key == event_key(key)))
    return found is not None


async def announce_once(
    host: Host, platform: str, notice: EscalationNotice, post: Callable[[], Awaitable[None]]
) -> None:
    """Run `post` in one process only, for this escalation on this platform."""
    if host.db is None:
        await post()
        return
    done = f"{platform}:announced:{notice.id}"
    if await host.run_sync(_claim, host.db, f"{platform}:announce:{notice.id}:{int(time.time() // 60)}"):
        await post()
        await host.run_sync(_claim, host.db, done)
        return
    waited = 0.0
    while waited < WAIT_FOR_OTHER_SECONDS:
        if await host.run_sync(was_recorded, host.db, done):
            return
        await asyncio.sleep(0.25)
        waited += 0.25
    raise AnnouncementPending(f"{notice.reference} is being announced by another process")
