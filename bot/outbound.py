"""Messages ribot sends on its own initiative: a coordinator's reply reaching the user on the platform where
they asked, and the announcement of a new escalation in the coordinators' channel.

Each platform registers one `Outbound` (the web chat's is below; Slack and Teams add theirs when mounted) and
may register announce hooks. The core only ever talks to the registry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.types import Reply

log = logging.getLogger(__name__)


class Outbound(Protocol):
    async def deliver(self, reply_ref: dict[str, Any], replies: list[Reply]) -> None: ...


class DeliveryError(RuntimeError):
    """The message could not be handed to the user's platform; the caller keeps it and says so."""


@dataclass(frozen=True)
class EscalationNotice:
    """What a coordinators' channel is told about a new escalation. `text` is plain text; connectors escape it
    for their markup (Slack mrkdwn, Teams HTML) before posting."""

    id: int
    reference: str
    category: str
    platform: str
    created_at: datetime
    note: str
    text: str
    review_url: str | None = None


AnnounceHook = Callable[[EscalationNotice], Awaitable[None]]


class OutboundRegistry:
    """Platform name -> Outbound, plus the hooks that announce new escalations."""

    def __init__(self) -> None:
        self._outbounds: dict[str, Outbound] = {}
        self._hooks: list[AnnounceHook] = []

    def register(self, platform: str, outbound: Outbound) -> None:
        self._outbounds[platform] = outbound

    def get(self, platform: str) -> Outbound | None:
        return self._outbounds.get(platform)

    @property
    def platforms(self) -> list[str]:
        return sorted(self._outbounds)

    async def deliver(self, platform: str, reply_ref: dict[str, Any], replies: list[Reply]) -> None:
        outbound = self._outbounds.get(platform)
        if outbound is None:
            raise DeliveryError(f"no outbound is registered for the platform {platform!r}")
        try:
            await outbound.deliver(reply_ref, replies)
        except DeliveryError:
            raise
        except Exception as exc:
            raise DeliveryError(f"{platform}: {exc}") from exc

    def on_announce(self, hook: AnnounceHook) -> None:
        self._hooks.append(hook)

    @property
    def has_announce_hooks(self) -> bool:
        return bool(self._hooks)

    async def announce(self, notice: EscalationNotice) -> bool:
        """Run every announce hook; True when all of them succeeded. A failing hook never stops the others."""
        ok = True
        for hook in list(self._hooks):
            try:
                await hook(notice)
            except Exception:
                ok = False
                log.exception("announcing escalation %s failed", notice.reference)
        return ok


class MessageBox(Protocol):
    """Durable per-conversation storage of messages for clients that poll (see bot.store.outbox)."""

    def put(self, platform: str, conversation_id: str, payloads: list[dict[str, Any]]) -> list[int]: ...

    def pending(self, platform: str, conversation_id: str, after: int = 0) -> list[dict[str, Any]]: ...


class WebInbox:
    """The web chat's outbound: replies are stored and the page polls for them
    (`GET /api/chat/{conversation_id}/messages?after=ID` -> `pending(conversation_id, after)`)."""

    platform = "web"

    def __init__(self, box: MessageBox) -> None:
        self._box = box

    async def deliver(self, reply_ref: dict[str, Any], replies: list[Reply]) -> None:
        conversation_id = reply_ref.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise DeliveryError("the web reply reference has no conversation id")
        payloads = [reply.to_json() for reply in replies]
        await asyncio.to_thread(self._box.put, self.platform, conversation_id, payloads)

    def pending(self, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Messages for this conversation with id > after, oldest first: `{"id", "created_at", "reply"}`.
        The client has those up to `after`: they are kept without personal data from now on."""
        return self._box.pending(self.platform, conversation_id, after)
