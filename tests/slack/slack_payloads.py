"""Slack deliveries shaped like the documented ones (Events API envelopes, block_actions, slash commands),
and a client that signs and sends them to `/slack/events` the way Slack does."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_standin import APP_ID, BOT_USER, TEAM, sign

_seq = itertools.count(1)
# A mention Slack would make live: ribot must never echo one.
LIVE_MENTION = re.compile(r"<(!channel|!here|!everyone|@U[A-Z0-9]+)(\|[^>]*)?>")


def ids(prefix: str) -> str:
    """A fresh Slack-style id (channel, user, team) so tests never share a conversation."""
    return prefix + uuid.uuid4().hex[:9].upper()


async def until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def new_ts() -> str:
    return f"{int(time.time())}.{next(_seq):06d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def app_mention(
    channel: str, user: str, text: str, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    ts = ts or new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM,
        "client_msg_id": str(uuid.uuid4()),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    channel: str,
    user: str,
    text: str,
    *,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ts = ts or new_ts()
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "team": TEAM,
        "client_msg_id": str(uuid.uuid4()),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = user
    event.update(extra)
    return event


def assistant_thread_started(user: str, channel: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": "C0CONTEXT", "team_id": TEAM, "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": new_ts(),
    }


def app_home_opened(user: str, channel: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home", "event_ts": new_ts()}


def block_actions(
    user: str, posted: dict[str, Any], channel: str, action: dict[str, Any], response_url: str
) -> dict[str, Any]:
    """A click on one of ribot's messages (`posted` as the Web API stand-in stored it)."""
    container = {"type": "message", "message_ts": posted["ts"], "channel_id": channel, "is_ephemeral": False}
    if posted.get("thread_ts"):
        container["thread_ts"] = posted["thread_ts"]
    return _block_actions(user, container, action, response_url, message=posted, channel=channel)


def ephemeral_block_actions(
    user: str, channel: str, action: dict[str, Any], response_url: str
) -> dict[str, Any]:
    container = {"type": "message", "message_ts": new_ts(), "channel_id": channel, "is_ephemeral": True}
    return _block_actions(user, container, action, response_url, channel=channel)


def home_block_actions(user: str, view: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    container = {"type": "view", "view_id": view.get("id", "V0HOME")}
    body = _block_actions(user, container, action, None)
    body["view"] = view
    return body


def _block_actions(
    user: str,
    container: dict[str, Any],
    action: dict[str, Any],
    response_url: str | None,
    *,
    message: dict[str, Any] | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    clicked = {
        "action_id": action["action_id"],
        "block_id": action.get("block_id", ""),
        "text": action["text"],
        "value": action.get("value"),
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": f"{next(_seq)}.{int(time.time())}.{uuid.uuid4().hex[:16]}",
        "team": {"id": TEAM, "domain": "ki-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [clicked],
    }
    if response_url:
        body["response_url"] = response_url
    if channel:
        body["channel"] = {"id": channel, "name": "ribot-test"}
    if message is not None:
        body["message"] = message
    return body


def slash_command(user: str, channel: str, text: str, response_url: str) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "team_domain": "ki-test",
        "channel_id": channel,
        "channel_name": "ribot-test",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/ribot",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_seq)}.{int(time.time())}.{uuid.uuid4().hex[:16]}",
    }


def buttons(posted: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a posted message, each with its block_id."""
    found = []
    for block in posted.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block["elements"]:
                found.append({**element, "block_id": block.get("block_id", "")})
    return found


class SlackSender:
    """Sends deliveries to ribot's `/slack/events` as Slack would: signed, with the right content type."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    async def send_event(
        self,
        session: aiohttp.ClientSession,
        body: dict[str, Any],
        *,
        retry: int = 0,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> aiohttp.ClientResponse:
        raw = json.dumps(body)
        headers = {"Content-Type": "application/json", **sign(raw, secret or self.secret, timestamp)}
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with session.post(self.url, data=raw.encode(), headers=headers) as response:
            await response.read()
            return response

    async def send_form(
        self,
        session: aiohttp.ClientSession,
        fields: dict[str, str],
        *,
        secret: str | None = None,
    ) -> aiohttp.ClientResponse:
        raw = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw, secret or self.secret)}
        async with session.post(self.url, data=raw.encode(), headers=headers) as response:
            await response.read()
            return response

    async def send_action(
        self, session: aiohttp.ClientSession, payload: dict[str, Any]
    ) -> aiohttp.ClientResponse:
        return await self.send_form(session, {"payload": json.dumps(payload)})
