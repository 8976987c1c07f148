"""What ribot does with each kind of Slack request. Every listener only translates: a person's message,
command or button press becomes a `Turn` and is handed to the gateway, which stores it in the durable inbox;
Bolt acknowledges once the listener returns (the app processes before responding), so what Slack sees
acknowledged is stored. A worker answers it afterwards (connectors.slack.surface posts the replies). A
retry, or the message twin of an app_mention, has the key of the stored delivery and is answered once."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

from bot.types import Turn
from connectors.gateway import Arrival, Gateway
from connectors.services import Services
from connectors.slack import events, views
from connectors.slack.blocks import ACTION_PREFIX
from connectors.slack.claims import claim_from_slack
from connectors.slack.delivery import Poster
from connectors.slack.events import Incoming
from connectors.slack.surface import PLATFORM, target_json
from connectors.slack.text import from_slack
from connectors.slack.threads import ThreadWatch

log = logging.getLogger("ribot.slack")


class SlackHandlers:
    def __init__(self, services: Services, gateway: Gateway, poster: Poster) -> None:
        self.services = services
        self.gateway = gateway
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
            return self.gateway.ignored(PLATFORM)
        await self.receive(self._incoming(body, event, context))

    async def on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return self.gateway.ignored(PLATFORM)
        channel = str(event.get("channel") or "")
        if not events.is_direct(channel, event.get("channel_type")) and not await self._follows_up(
            event, context
        ):
            return self.gateway.ignored(PLATFORM)
        await self.receive(self._incoming(body, event, context))

    async def _follows_up(self, event: dict[str, Any], context: AsyncBoltContext) -> bool:
        """In channels ribot answers mentions (through their app_mention twin) and, without a mention,
        follow-ups in threads it answers; never in the coordinators' channel."""
        channel, thread = str(event.get("channel") or ""), event.get("thread_ts")
        if not thread or events.mentions(event, context.bot_user_id) or channel == self.coordinator_channel:
            return False
        return await self.threads.takes_part(channel, str(thread), context.bot_user_id, context.bot_id)

    async def on_assistant_thread_started(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = str(thread.get("channel_id") or ""), str(thread.get("thread_ts") or "")
        user = str(thread.get("user_id") or "")
        if not channel or not thread_ts:
            return self.gateway.ignored(PLATFORM)
        team = str(body.get("team_id") or "")
        turn = Turn(PLATFORM, events.conversation_id(team, channel, thread_ts), user)
        target = events.Target(channel=channel, thread_ts=thread_ts)
        key = f"slack:evt:{team}:{body.get('event_id') or channel + thread_ts}"
        arrival = Arrival(PLATFORM, key, turn, target_json(target, None), "greeting", f"{team}:{user}")
        await self.gateway.receive(arrival)

    async def on_assistant_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not events.is_person_message(event, context.bot_user_id):
            return self.gateway.ignored(PLATFORM)
        await self.receive(self._incoming(body, event, context), assistant=True)

    async def on_home_opened(self, event: dict[str, Any], client: Any) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        await client.views_publish(user_id=event["user"], view=views.home_view(event.get("channel")))

    def _incoming(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> Incoming:
        team = str(body.get("team_id") or context.team_id or "")
        return events.from_message(event, team, context.bot_user_id, body.get("event_id"))

    # ---- interactivity and the slash command ---------------------------------------------------------

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        incoming = events.from_action(body, action)
        if incoming is None:
            self.gateway.ignored(PLATFORM)
        else:
            await self.receive(incoming, kind="button")
        await ack()

    async def on_link(self, ack: AsyncAck) -> None:
        await ack()  # URL buttons open in the browser; Slack still tells the app they were clicked

    async def on_claim(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()

        await claim_from_slack(self, body, action)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        text = from_slack(" ".join(str(command.get("text") or "").split()))
        await self.receive(events.from_command(command, text, None), kind="command")
        await ack()

    async def receive(self, incoming: Incoming, kind: str = "message", assistant: bool = False) -> None:
        """Hands one turn to the gateway; returns once it is stored (then Bolt acknowledges)."""
        turn = incoming.turn
        team = str(turn.reply_ref.get("team") or "")
        target = target_json(incoming.target, turn.action, assistant)
        arrival = Arrival(PLATFORM, incoming.key, turn, target, kind, f"{team}:{turn.user_id}")
        await self.gateway.receive(arrival)

    async def claim(self, key: str) -> bool:
        """True the first time `key` is claimed by any process sharing the database."""
        from bot.store.events import claim_event

        if self.services.db is None:
            return True
        return bool(await self.services.run_sync(claim_event, self.services.db, key))
