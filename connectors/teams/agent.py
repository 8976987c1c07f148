"""ribot as a Microsoft 365 Agents SDK application. A message activity becomes a `Turn` and is handed to the
gateway, which stores it in the durable inbox before the SDK acknowledges the request (202); a worker answers
it afterwards and connectors.teams.surface posts the replies into the conversation. A Bot Framework retry
carries the same activity id and is answered once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState
from microsoft_agents.hosting.core.authorization import Connections

from bot.types import Turn
from connectors.edge_texts import say
from connectors.gateway import Arrival, Gateway
from connectors.services import Services
from connectors.teams import edge, render
from connectors.teams.people import EmailDirectory
from connectors.teams.refs import ReferenceStore

log = logging.getLogger("ribot.teams")

References = Callable[[], ReferenceStore | None]


class TeamsAgent:
    """Routes Teams activities to the gateway."""

    def __init__(
        self,
        services: Services,
        gateway: Gateway,
        adapter: CloudAdapter,
        connections: Connections,
        references: References,
    ) -> None:
        self.services = services
        self.gateway = gateway
        self.adapter = adapter
        self._references = references
        self.people = EmailDirectory()
        self.app: AgentApplication[TurnState] = AgentApplication[TurnState](
            storage=MemoryStorage(),
            connection_manager=connections,
            # ribot keeps conversation state in its own database; the SDK's per-turn state stays empty.
            turn_state_factory=TurnState,
        )
        self.app.activity(ActivityTypes.message)(self.on_message)
        self.app.conversation_update("membersAdded")(self.on_members_added)
        self.app.activity(ActivityTypes.installation_update)(self.on_installation)
        self.app.error(self.on_error)
        adapter.on_turn_error = self.on_error

    async def on_turn(self, context: TurnContext) -> None:
        await self.app.on_turn(context)

    async def remember(self, activity: Activity) -> None:
        store = self._references()
        if store is None or not activity.conversation:
            return
        try:
            await self.services.run_sync(
                store.remember, activity.conversation.id, edge.reference_json(activity)
            )
        except Exception:
            log.exception("storing the Teams conversation reference failed")

    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        await self.remember(activity)
        turn = edge.to_turn(activity)
        if not self.gateway.accepting:  # no database to store it in yet: say so while the request is open
            self.gateway.count(edge.PLATFORM, "not_ready")
            await context.send_activity(render.text_activity(await self._notice("not_ready", turn)))
            return
        if turn.text or turn.action:
            turn = replace(turn, user_email=await self.people.email(context))
        kind = "button" if activity.value is not None and not turn.text else "message"
        await self._receive(activity, turn, kind)

    async def _receive(self, activity: Activity, turn: Turn, kind: str) -> None:
        key = turn.event_id or f"{edge.PLATFORM}:{uuid.uuid4().hex}"  # no activity id: nothing to match
        target = {"reference": edge.reply_target(activity)}
        await self.gateway.receive(Arrival(edge.PLATFORM, key, turn, target, kind, turn.user_id))

    async def on_members_added(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        await self.remember(activity)
        if not edge.bot_was_added(activity):
            return
        if not self.gateway.accepting:
            await context.send_activity(render.welcome_activity(activity.locale))
            return
        turn = replace(edge.to_turn(activity), text="", action=None, event_id=edge.event_key(activity))
        await self._receive(activity, turn, "welcome")

    async def on_installation(self, context: TurnContext, state: TurnState) -> None:
        await self.remember(context.activity)

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            notice = await self._notice("failed", edge.to_turn(context.activity))
            await context.send_activity(render.text_activity(notice))
        except Exception:
            log.exception("could not tell the Teams user about the failure")

    async def _notice(self, name: str, turn: Turn) -> str:
        """One of the gateway's notices, in the conversation's language (the gateway's reading of it)."""
        return say(name, await self.services.run_sync(self.gateway.language_for, turn))
