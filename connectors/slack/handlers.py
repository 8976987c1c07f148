"""What ribot does with each kind of Slack request. Bolt acknowledges first (events automatically, commands
and buttons by the first line of each listener); the work runs afterwards, the blocking part in a worker
thread, and a delivery that was already handled (a retry, the message twin of an app_mention) is dropped by
claiming its key in the shared database."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any

from prometheus_client import Counter
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

from bot.types import Reply, Turn
from connectors.services import Services
from connectors.slack import events, views
from connectors.slack.blocks import ACTION_PREFIX, render
from connectors.slack.delivery import Poster
from connectors.slack.events import Incoming, Target
from connectors.slack.text import from_slack
from connectors.slack.threads import ThreadWatch

log = logging.getLogger("ribot.slack")

READY_WAIT_SECONDS = 120.0
# Turns handled at once per process. More threads contending for the GIL starve the event loop, and with
# it the 3-second acknowledgements; the answerer batches the questions of concurrent turns anyway.
CONCURRENT_TURNS = 4
ASSESS_WORDS = ("assess", "assessment", "start assessment", "start an assessment")
HELP_WORDS = ("", "help", "?")
FAILURE_TEXT = (
    "Sorry, something went wrong on my side and I could not answer. Please try again in a moment, or use "
    "“Talk to a person” to reach the network coordinators."
)
NOT_READY_TEXT = "ribot is still starting or could not load its knowledge base. Please try again shortly."


class SlackHandlers:
    def __init__(self, services: Services, poster: Poster) -> None:
        self.services = services
        self.poster = poster
        self.threads = ThreadWatch(poster)
        self.coordinator_channel = services.settings.slack_coordinator_channel
        self._working = asyncio.Semaphore(CONCURRENT_TURNS)
        self.turns = Counter(
            "ribot_slack_turns",
            "Slack messages, commands and clicks by outcome: answered, duplicate, ignored, failed, not_ready",
            ["outcome"],
            registry=services.metrics.registry,
        )

    def register(self, app: AsyncApp) -> None:
        assistant = AsyncAssistant(logger=log)
        assistant.thread_started(self.on_assistant_thread_started)
        assistant.user_message(self.on_assistant_message)
        app.use(assistant)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self.on_button)
        app.action(views.CLAIM_ACTION)(self.on_claim)
        app.action(re.compile(r"^(ribot_link:|ribot_console$)"))(self.on_link)
        app.command("/ribot")(self.on_command)

    # ---- events -------------------------------------------------------------------------------------

    async def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return self._count("ignored")
        await self.process(self._incoming(body, event, context))

    async def on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return self._count("ignored")
        channel = str(event.get("channel") or "")
        if not events.is_direct(channel, event.get("channel_type")) and not await self._follows_up(
            event, context
        ):
            return self._count("ignored")
        await self.process(self._incoming(body, event, context))

    async def _follows_up(self, event: dict[str, Any], context: AsyncBoltContext) -> bool:
        """In channels ribot answers mentions (through their app_mention twin) and, without a mention,
        follow-ups in threads it answers; never in the coordinators' channel."""
        channel, thread = str(event.get("channel") or ""), event.get("thread_ts")
        if not thread or events.mentions(event, context.bot_user_id) or channel == self.coordinator_channel:
            return False
        return await self.threads.takes_part(channel, str(thread), context.bot_user_id, context.bot_id)

    async def on_assistant_thread_started(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        set_suggested_prompts: Any,
    ) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = str(thread.get("channel_id") or ""), str(thread.get("thread_ts") or "")
        key = f"slack:evt:{_team(body, context)}:{body.get('event_id') or channel + thread_ts}"
        if not channel or not thread_ts or not await self.claim(key):
            return self._count("duplicate")
        await self.poster.post(
            Target(channel=channel, thread_ts=thread_ts), render(Reply("text", views.GREETING))
        )
        await set_suggested_prompts(prompts=views.SUGGESTED_PROMPTS)
        self._count("answered")

    async def on_assistant_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, set_status: Any
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return self._count("ignored")
        await self.process(self._incoming(body, event, context), thinking=set_status)

    async def on_home_opened(self, event: dict[str, Any], client: Any) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        await client.views_publish(user_id=event["user"], view=views.home_view(event.get("channel")))

    def _incoming(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> Incoming:
        incoming = events.from_message(event, _team(body, context), context.bot_user_id, body.get("event_id"))
        if incoming.turn.text.lower().strip(" .!") in ASSESS_WORDS:
            incoming = replace(incoming, turn=replace(incoming.turn, text="", action="triage:start"))
        return incoming

    # ---- interactivity and the slash command ---------------------------------------------------------

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incoming = events.from_action(body, action)
        if incoming is None:
            return self._count("ignored")
        await self.process(incoming)

    async def on_link(self, ack: AsyncAck) -> None:
        await ack()  # URL buttons open in the browser; Slack still tells the app they were clicked

    async def on_claim(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        from connectors.slack.claims import claim_from_slack

        await claim_from_slack(self, body, action)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        text = from_slack(" ".join(str(command.get("text") or "").split()))
        word = text.lower().strip(" .!")
        if word in HELP_WORDS:
            target = Target(channel=str(command.get("channel_id")), response_url=command.get("response_url"))
            await self.poster.post(target, [views.help_message()])
            return self._count("answered")
        if word in ASSESS_WORDS:
            incoming = events.from_command(command, "", "triage:start")
        else:
            incoming = events.from_command(command, text, None)
        await self.process(incoming)

    # ---- the pipeline ---------------------------------------------------------------------------------

    async def process(self, incoming: Incoming, thinking: Any = None) -> None:
        """Claim, answer, deliver. Never raises: a failure is logged and the user told."""
        turn, target = incoming.turn, incoming.target
        try:
            if not await self._wait_ready():
                self._count("not_ready")
                if await self.claim(incoming.key):
                    await self.poster.post(target, render(Reply(kind="error", text=NOT_READY_TEXT)))
                return
            if thinking is not None:
                await _quietly(thinking(status="is thinking…"))
            async with self._working:
                replies = await self.services.run_sync(self._claim_and_handle, incoming.key, turn)
            if replies is None:
                log.info("dropped a delivery that was already handled", extra={"key": incoming.key})
                return self._count("duplicate")
            await self.poster.reply(target, turn.action, replies)
            if target.thread_ts and not events.is_direct(target.channel):
                self.threads.remember(target.channel, target.thread_ts)
            self._count("answered")
        except Exception:
            self._count("failed")
            log.exception("Slack turn failed", extra={"key": incoming.key})
            await _quietly(self.poster.post(target, render(Reply(kind="error", text=FAILURE_TEXT))))

    def _claim_and_handle(self, key: str, turn: Turn) -> list[Reply] | None:
        from bot.store.events import claim_event

        if not claim_event(self.services.db, key):
            return None
        if not turn.action and not turn.text.strip():
            return [Reply(kind="text", text=views.EMPTY_TEXT)]
        replies: list[Reply] = self.services.require_engine().handle(turn)
        return replies

    async def claim(self, key: str) -> bool:
        """True the first time `key` is claimed by any process sharing the database."""
        from bot.store.events import claim_event

        if self.services.db is None:
            return True
        return bool(await self.services.run_sync(claim_event, self.services.db, key))

    async def _wait_ready(self) -> bool:
        waited = 0.0
        while not self.services.ready and self.services.load_error is None and waited < READY_WAIT_SECONDS:
            await asyncio.sleep(0.25)
            waited += 0.25
        return self.services.ready

    def _count(self, outcome: str) -> None:
        self.turns.labels(outcome=outcome).inc()


def _team(body: dict[str, Any], context: AsyncBoltContext) -> str:
    return str(body.get("team_id") or context.team_id or "")


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        log.warning("a secondary Slack call failed", exc_info=True)
