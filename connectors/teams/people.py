"""Who is writing: Teams activities carry a display name but no e-mail address. The conversation's member
record has it; ribot asks once per user and conversation and keeps the answer for a while, so the
coordinator can reach a user who chose to share who they are."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

log = logging.getLogger("ribot.teams")

MAX_ENTRIES = 10_000
KEEP_SECONDS = 6 * 3600


class EmailDirectory:
    def __init__(self, max_entries: int = MAX_ENTRIES, keep_seconds: float = KEEP_SECONDS) -> None:
        self._known: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()
        self._max = max_entries
        self._keep = keep_seconds

    async def email(self, context: TurnContext) -> str | None:
        activity = context.activity
        if not activity.conversation or not activity.from_property or not activity.from_property.id:
            return None
        key = (activity.conversation.id, activity.from_property.id)
        found = self._known.get(key)
        if found is not None and time.monotonic() - found[0] < self._keep:
            return found[1]
        email = await self._look_up(context, *key)
        self._known[key] = (time.monotonic(), email)
        self._known.move_to_end(key)
        while len(self._known) > self._max:
            self._known.popitem(last=False)
        return email

    async def _look_up(self, context: TurnContext, conversation_id: str, member_id: str) -> str | None:
        client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if client is None:
            return None
        try:
            member = await client.conversations.get_conversation_member(conversation_id, member_id)
        except Exception as exc:  # the address is a convenience; the turn goes on without it
            log.info("no member record for a Teams user: %s", type(exc).__name__)
            return None
        extra = getattr(member, "model_extra", None) or {}
        email = extra.get("email") or extra.get("userPrincipalName")
        return email if isinstance(email, str) and "@" in email and len(email) <= 320 else None
