"""Putting rendered replies into Slack: new messages in the right thread, in-place updates for button presses,
ephemeral answers through a slash command's response_url, and the `slack` Outbound for later messages.
Which of these answer a turn is planned in connectors.slack.surface."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.outbound import DeliveryError
from bot.types import Reply
from connectors.slack.blocks import Message, render_all
from connectors.slack.events import Target

log = logging.getLogger("ribot.slack")

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 15


def retry_handlers() -> list[AsyncRetryHandler]:
    """429 is retried after Retry-After, and failed connections; a 5xx is not, since the message may
    have been posted all the same and a retry would post it twice."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    ]


def web_client(token: str | None, api_url: str | None) -> AsyncWebClient:
    base = api_url or DEFAULT_API_URL
    if not base.endswith("/"):
        base += "/"  # the SDK joins method names onto the base URL
    return AsyncWebClient(
        token=token, base_url=base, retry_handlers=retry_handlers(), timeout=TIMEOUT_SECONDS
    )


def api_session() -> aiohttp.ClientSession:
    """Connections kept open for the Web API client: without a session of its own the SDK opens and closes
    one per call, which costs the event loop (and so the acknowledgements) more than the call itself."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))


class Poster:
    """Posts and updates messages for one workspace's bot."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self, target: Target, messages: list[Message], metadata: dict[str, Any] | None = None
    ) -> list[str]:
        """Posts each message where `target` says; returns the timestamps of the new messages."""
        stamps: list[str] = []
        for message in messages:
            if target.response_url:
                await self._respond(target.response_url, message, replace=False)
                continue
            response = await self.client.chat_postMessage(
                channel=target.channel,
                thread_ts=target.thread_ts,
                text=message["text"],
                blocks=message["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
            stamps.append(str(response.get("ts") or ""))
        return stamps

    async def update(self, target: Target, message: Message) -> bool:
        """Replaces the message a button was pressed on; False when Slack would not let us."""
        try:
            if target.response_url:
                await self._respond(target.response_url, message, replace=True)
                return True
            if not target.update_ts:
                return False
            await self.client.chat_update(
                channel=target.channel, ts=target.update_ts, text=message["text"], blocks=message["blocks"]
            )
            return True
        except (SlackApiError, DeliveryError) as exc:
            log.warning("could not update a Slack message: %s", exc)
            return False

    async def _respond(self, url: str, message: Message, replace: bool) -> None:
        hook = AsyncWebhookClient(url, retry_handlers=retry_handlers(), timeout=TIMEOUT_SECONDS)
        body: dict[str, Any] = {"text": message["text"], "blocks": message["blocks"]}
        body["replace_original"] = replace
        if not replace:
            body["response_type"] = "ephemeral"
        response = await hook.send_dict(body)
        if response.status_code >= 300:
            raise DeliveryError(f"response_url answered {response.status_code}: {response.body[:200]}")


class SlackOutbound:
    """The `slack` Outbound: messages that reach a user later, such as a coordinator's reply."""

    platform = "slack"

    def __init__(self, poster: Poster) -> None:
        self._poster = poster

    async def deliver(self, reply_ref: dict[str, Any], replies: list[Reply]) -> None:
        channel = reply_ref.get("channel") or reply_ref.get("user")
        if not isinstance(channel, str) or not channel:
            raise DeliveryError("the Slack reply reference has no channel")
        thread = reply_ref.get("thread_ts")
        target = Target(channel=channel, thread_ts=thread if isinstance(thread, str) and thread else None)
        await self._poster.post(target, render_all(replies))
