"""What ribot does with each kind of Slack request. Bolt acknowledges first (events automatically, commands
and buttons by the first line of each listener); the work runs afterwards, the blocking part in a worker
thread, and a delivery that was already handled (a retry, the message twin of an app_mention) is dropped by
claiming its key in the shared database."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.errors import SlackApiError

from bot.types import Reply, Turn
from connectors.services import Services
from connectors.slack import events, views
from connectors.slack.blocks import ACTION_PREFIX
from connectors.slack.delivery import Poster
from connectors.slack.events import Incoming, Target

log = logging.getLogger("ribot.slack")

READY_WAIT_SECONDS = 120.0
FAILURE_TEXT = (
    "Sorry, something went wrong on my side and I could not answer. Please try again in a moment, or use "
    "“Talk to a person” to reach the network coordinators."
)
NOT_READY_TEXT = "ribot is still starting or could not load its knowledge base. Please try again shortly."


class ThreadWatch:
    """Which channel threads ribot takes part in, so follow-ups there need no new mention. Threads ribot
    posted in are remembered; others are checked against the thread itself (conversations.replies), which
    also covers threads another ribot process answered."""

    def __init__(self, poster: Poster, size: int = 10_000) -> None:
        self._poster = poster
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size

    def remember(self, channel: str, thread_ts: str) -> None:
        self._known[(channel, thread_ts)] = None
        self._known.move_to_end((channel, thread_ts))
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    async def takes_part(
        self, channel: str, thread_ts: str, bot_user_id: str | None, bot_id: str | None
    ) -> bool:
        if (channel, thread_ts) in self._known:
            return True
        try:
            response = await self._poster.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200
            )
        except SlackApiError as exc:
            log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc)
            return False
        for message in response.get("messages") or []:
            if (bot_user_id and message.get("user") == bot_user_id) or (
                bot_id and message.get("bot_id") == bot_id
            ):
                self.remember(channel, thread_ts)
                return True
        return False


class SlackHandlers:
    def __init__(self, services: Services, poster: Poster) -> None:
        self.services = services
        self.poster = poster
        self.threads = ThreadWatch(poster)
        self.coordinator_channel = services.settings.slack_coordinator_channel

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
            return
        incoming = events.from_message(event, _team(body, context), context.bot_user_id, body.get("event_id"))
        await self.process(incoming)

    async def on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return
        channel = str(event.get("channel") or "")
        incoming = events.from_message(event, _team(body, context), context.bot_user_id, body.get("event_id"))
        if not events.is_direct(channel, event.get("channel_type")):
            # In channels ribot answers mentions (the app_mention twin) and follow-ups in its own threads.
            thread = event.get("thread_ts")
            if (
                not thread
                or events.mentions(event, context.bot_user_id)
                or channel == self.coordinator_channel
            ):
                return
            if not await self.threads.takes_part(channel, str(thread), context.bot_user_id, context.bot_id):
                return
        await self.process(incoming)

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
            return
        greeting = Reply(kind="text", text=views.GREETING)
        await self.poster.reply(Target(channel=channel, thread_ts=thread_ts), None, [greeting])
        await set_suggested_prompts(prompts=views.SUGGESTED_PROMPTS)

    async def on_assistant_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, set_status: Any
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return
        incoming = events.from_message(event, _team(body, context), context.bot_user_id, body.get("event_id"))
        await self.process(incoming, thinking=set_status)

    async def on_home_opened(self, event: dict[str, Any], client: Any) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        await client.views_publish(user_id=event["user"], view=views.home_view(event.get("channel")))

    # ---- interactivity and the slash command ---------------------------------------------------------

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incoming = events.from_action(body, action)
        if incoming is not None:
            await self.process(incoming)

    async def on_link(self, ack: AsyncAck) -> None:
        await ack()  # URL buttons open in the browser; Slack still tells the app they were clicked

    async def on_claim(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        from connectors.slack.claims import claim_from_slack

        await claim_from_slack(self, body, action)

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], command: dict[str, Any]) -> None:
        await ack()
        text = " ".join(str(command.get("text") or "").split())
        word = text.lower()
        if word in ("", "help", "?"):
            response_url = command.get("response_url")
            if response_url:
                target = Target(channel=str(command.get("channel_id")), response_url=str(response_url))
                await self.poster.post(target, [views.help_message()])
            return
        from connectors.slack.text import from_slack

        if word in ("assess", "assessment", "start"):
            incoming = events.from_command(command, "", "triage:start")
        else:
            incoming = events.from_command(command, from_slack(text), None)
        await self.process(incoming)

    # ---- the pipeline ---------------------------------------------------------------------------------

    async def process(self, incoming: Incoming, thinking: Any = None) -> None:
        """Claim, answer, deliver. Never raises: a failure is logged and the user told."""
        turn, target = incoming.turn, incoming.target
        try:
            if not await self._wait_ready():
                if await self.claim(incoming.key):
                    await self.poster.reply(target, None, [Reply(kind="error", text=NOT_READY_TEXT)])
                return
            if thinking is not None:
                await _quietly(thinking(status="is thinking…"))
            replies = await self.services.run_sync(self._claim_and_handle, incoming.key, turn)
            if replies is None:
                log.info("dropped a delivery that was already handled", extra={"key": incoming.key})
                return
            await self.poster.reply(target, turn.action, replies)
            if target.thread_ts and not events.is_direct(target.channel):
                self.threads.remember(target.channel, target.thread_ts)
        except Exception:
            log.exception("Slack turn failed", extra={"key": incoming.key})
            await _quietly(self.poster.post(target, _failure_messages()))

    def _claim_and_handle(self, key: str, turn: Turn) -> list[Reply] | None:
        from bot.store.events import claim_event

        if not claim_event(self.services.db, key):
            return None
        if not turn.action and not turn.text.strip():
            return [Reply(kind="text", text=views.EMPTY_TEXT)]
        replies: list[Reply] = self.services.require_engine().handle(turn)
        return replies

    async def claim(self, key: str) -> bool:
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


def _team(body: dict[str, Any], context: AsyncBoltContext) -> str:
    return str(body.get("team_id") or context.team_id or "")


def _failure_messages() -> list[dict[str, Any]]:
    from connectors.slack.blocks import render

    return render(Reply(kind="error", text=FAILURE_TEXT))


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        log.warning("a secondary Slack call failed", exc_info=True)
