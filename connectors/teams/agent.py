"""ribot as a Microsoft 365 Agents SDK application: activities in, the conversation engine, cards out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState
from prometheus_client import Counter

from bot.types import Reply, Turn
from connectors.teams import edge, render
from connectors.teams.people import EmailDirectory
from connectors.teams.refs import ReferenceStore

log = logging.getLogger("ribot.teams")

NOT_READY = "ribot is still starting up. Please try again in a few seconds."
FAILED = "Sorry, something went wrong on my side and I could not answer. Please try again in a moment."
EMPTY = "I read text messages and the buttons on my cards. Type your question and I'll look it up."
STALE_BUTTON = "That button is no longer valid. Type your question, or ask me to start over."


class Host(Protocol):
    """What the Teams surface needs from the server (a subset of connectors.app.Services)."""

    engine: Any
    db: Any

    async def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any: ...


ClaimEvent = Callable[[Any, str], bool]
References = Callable[[], ReferenceStore | None]


class TeamsAgent:
    """Routes Teams activities to ribot's conversation engine and sends its replies back."""

    def __init__(
        self,
        host: Host,
        adapter: CloudAdapter,
        connections: Any,
        claim_event: ClaimEvent,
        references: References,
        metrics: Any = None,
    ) -> None:
        self.host = host
        self.metrics = metrics
        self.turns = (
            Counter(
                "ribot_teams_turns",
                "Teams messages and card presses by outcome: answered, duplicate, empty, failed, not_ready",
                ["outcome"],
                registry=metrics.registry,
            )
            if metrics is not None
            else None
        )
        self.adapter = adapter
        self._claim_event = claim_event
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

    def count(self, outcome: str, replies: list[Reply] | None = None) -> None:
        if self.turns is not None:
            self.turns.labels(outcome=outcome).inc()
        for reply in replies or []:
            if reply.answer is not None and self.metrics is not None:
                grounded = str(reply.answer.grounded).lower()
                self.metrics.answers.labels(surface="teams", grounded=grounded).inc()

    async def on_turn(self, context: TurnContext) -> None:
        await self.app.on_turn(context)

    async def remember(self, activity: Activity) -> None:
        store = self._references()
        if store is None or not activity.conversation:
            return
        try:
            await self.host.run_sync(store.remember, activity.conversation.id, edge.reference_json(activity))
        except Exception:
            log.exception("storing the Teams conversation reference failed")

    async def first_time(self, key: str | None) -> bool:
        """False when this delivery was handled before (a Bot Framework retry)."""
        if key is None or self.host.db is None:
            return True
        return bool(await self.host.run_sync(self._claim_event, self.host.db, key))

    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        await self.remember(activity)
        turn = edge.to_turn(activity)
        if not turn.action and not turn.text:
            stale = activity.value is not None
            self.count("empty")
            await context.send_activity(render.text_activity(STALE_BUTTON if stale else EMPTY))
            return
        engine = self.host.engine
        if engine is None:
            self.count("not_ready")
            await context.send_activity(render.text_activity(NOT_READY))
            return
        if not await self.first_time(turn.event_id):
            log.info("ignoring a repeated Teams activity %s", turn.event_id)
            self.count("duplicate")
            return
        turn = replace(turn, user_email=await self.people.email(context))
        replies = await self.answer(engine, turn)
        self.count("failed" if any(r.kind == "error" for r in replies) else "answered", replies)
        for outgoing in render.reply_activities(replies):
            await context.send_activity(outgoing)

    async def answer(self, engine: Any, turn: Turn) -> list[Reply]:
        try:
            replies = await self.host.run_sync(engine.handle, turn)
        except Exception:
            log.exception("the conversation engine failed on a Teams turn")
            return [Reply(kind="error", text=FAILED)]
        return list(replies)

    async def on_members_added(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        await self.remember(activity)
        if not edge.bot_was_added(activity):
            return
        if not await self.first_time(edge.event_key(activity)):
            return
        await context.send_activity(render.welcome_activity())

    async def on_installation(self, context: TurnContext, state: TurnState) -> None:
        await self.remember(context.activity)

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await context.send_activity(render.text_activity(FAILED))
        except Exception:
            log.exception("could not tell the Teams user about the failure")
