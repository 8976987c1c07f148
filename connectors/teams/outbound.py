"""Proactive messages into Teams: a coordinator's reply reaching the user's conversation, and new escalations
announced in a coordinators' channel. Both continue a conversation from a stored reference."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from microsoft_agents.activity import Activity, ConversationAccount, ConversationReference
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext

from bot.outbound import DeliveryError, EscalationNotice
from bot.types import Reply
from connectors.teams import cards, edge, render
from connectors.teams.auth import TeamsAuth
from connectors.teams.refs import ReferenceStore

log = logging.getLogger("ribot.teams")


class TeamsOutbound:
    platform = edge.PLATFORM

    def __init__(
        self, adapter: CloudAdapter, auth: TeamsAuth, references: Callable[[], ReferenceStore | None]
    ) -> None:
        self._adapter = adapter
        self._auth = auth
        self._references = references

    def _lookup(self, conversation_id: str) -> dict[str, Any] | None:
        store = self._references()
        return store.get(conversation_id) if store is not None else None

    async def reference_for(self, reply_ref: dict[str, Any]) -> ConversationReference:
        data = reply_ref.get("reference")
        conversation_id = reply_ref.get("conversation_id")
        if not isinstance(data, dict) and isinstance(conversation_id, str) and conversation_id:
            data = await asyncio.to_thread(self._lookup, conversation_id)
        if not isinstance(data, dict):
            raise DeliveryError("the Teams reply reference names no conversation ribot has seen")
        try:
            return edge.reference_from_json(data)
        except ValueError as exc:
            raise DeliveryError(f"the stored Teams conversation reference is unusable: {exc}") from exc

    async def send(self, reference: ConversationReference, activities: list[Activity]) -> None:
        failures: list[Exception] = []

        async def write(context: TurnContext) -> None:
            # Caught here: the adapter would hand an error to its turn-error handler and report success.
            try:
                for activity in activities:
                    await context.send_activity(activity)
            except Exception as exc:
                failures.append(exc)

        continuation = reference.get_continuation_activity()
        if reference.activity_id:  # the messages answer that activity: they are sent as replies to it
            continuation.id = reference.activity_id
        if self._auth.anonymous:
            # Anonymous identity: the SDK then talks to the channel without asking Entra for a token.
            await self._adapter.continue_conversation_with_claims(ClaimsIdentity(), continuation, write)
        else:
            await self._adapter.continue_conversation(self._auth.client_id or "", continuation, write)
        if failures:
            raise DeliveryError(f"Teams refused the message: {failures[0]}") from failures[0]

    async def deliver(self, reply_ref: dict[str, Any], replies: list[Reply]) -> None:
        reference = await self.reference_for(reply_ref)
        await self.send(reference, render.reply_activities(replies))

    async def announce(self, notice: EscalationNotice, channel_id: str) -> None:
        """Post a new escalation as a new thread in the coordinators' channel."""
        store = self._references()
        data = await asyncio.to_thread(store.in_channel, channel_id) if store is not None else None
        if data is None:
            raise DeliveryError(
                f"ribot has not seen the Teams channel {channel_id} yet: add ribot to that team "
                "(or mention it there once) so it can post"
            )
        reference = edge.reference_from_json(data)
        base = reference.conversation
        tenant = base.tenant_id if base else None
        reference.conversation = ConversationAccount(
            id=channel_id, conversation_type="channel", tenant_id=tenant, is_group=True
        )
        reference.user = None
        await self.send(reference, [render.card_activity(cards.announcement_card(notice), notice.text)])
