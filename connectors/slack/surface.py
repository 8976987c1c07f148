"""Slack for the delivery worker (connectors.worker): the replies to one turn as a plan of Web API calls,
posted one by one.

Every new message carries message metadata naming its delivery and part, so a delivery taken over after
a crash reads the thread (or the DM) and sees whether the message on its way had got through, instead of
posting it twice. Updates in place are repeated safely; ephemeral answers through a response_url cannot be
read back and are sent again."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.outbound import DeliveryError
from bot.types import Reply
from connectors.slack import views
from connectors.slack.blocks import Message, chosen, in_place, render, render_all
from connectors.slack.delivery import Poster
from connectors.slack.events import Target, is_direct
from connectors.slack.threads import ThreadWatch
from connectors.surfaces import Mark, NotPosted, Plan

log = logging.getLogger("ribot.slack")

PLATFORM = "slack"
EVENT_TYPE = "ribot_reply"
THINKING = "is thinking…"
HISTORY_LIMIT = 200


def target_json(target: Target, action: str | None, assistant: bool = False) -> dict[str, Any]:
    return dataclasses.asdict(target) | {"action": action, "assistant": assistant}


def target_of(data: dict[str, Any]) -> Target:
    names = {f.name for f in dataclasses.fields(Target)}
    return Target(**{k: v for k, v in data.items() if k in names})


def plan(target: Target, action: str | None, replies: list[Reply]) -> Plan:
    """A triage answer turns the question message into the next step; any other button press marks its
    choice on the message and the replies follow below, except the thanks for feedback, which goes into
    that mark."""
    notice = replies[0].data.get("notice") if replies else None
    if notice == "greeting":
        return [_post(m) for m in render(Reply("text", views.GREETING))] + [{"op": "prompts"}]
    help_asked = bool(replies and replies[0].data.get("edge") == "help")
    messages = [views.help_message()] if help_asked else render_all(replies)
    steps: Plan = []
    if action and target.label is not None:
        if action.startswith("triage:") and messages:
            first = messages.pop(0)
            steps.append({"op": "replace", "message": in_place(target.label, first), "otherwise": first})
        elif target.blocks and target.block_id:
            note = target.label
            if action.startswith("feedback:") and [r.kind for r in replies] == ["text"]:
                note, messages = f"{target.label} {replies[0].text}", []
            marked = chosen(target.blocks, target.block_id, action, note)
            steps.append({"op": "mark", "message": {"text": target.text or "ribot", "blocks": marked}})
    return steps + [_post(m) for m in messages]


def _post(message: Message) -> dict[str, Any]:
    return {"op": "post", "message": message}


def metadata(mark: Mark) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"part": mark.id}}


class SlackSurface:
    name = PLATFORM
    inline = False

    def __init__(self, poster: Poster, threads: ThreadWatch) -> None:
        self.poster = poster
        self.threads = threads

    def plan(self, target: dict[str, Any], replies: list[Reply]) -> Plan:
        action = target.get("action")
        return plan(target_of(target), action if isinstance(action, str) else None, replies)

    async def started(self, target: dict[str, Any]) -> None:
        where = target_of(target)
        if target.get("assistant") and where.thread_ts:
            await self.poster.client.assistant_threads_setStatus(
                channel_id=where.channel, thread_ts=where.thread_ts, status=THINKING
            )

    async def post(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> None:
        where = target_of(target)
        try:
            await self._perform(where, message, mark)
        except (SlackApiError, DeliveryError) as exc:  # Slack answered, and not with ok: nothing was posted
            raise NotPosted(str(exc)) from exc
        if where.thread_ts and not is_direct(where.channel):
            self.threads.remember(where.channel, where.thread_ts)

    async def _perform(self, where: Target, message: dict[str, Any], mark: Mark) -> None:
        op = message["op"]
        if op == "post":
            await self.poster.post(where, [message["message"]], metadata=metadata(mark))
        elif op == "replace":
            if not await self.poster.update(where, message["message"]):
                await self.poster.post(where, [message["otherwise"]], metadata=metadata(mark))
        elif op == "mark":
            await self.poster.update(where, message["message"])
        elif op == "prompts" and where.thread_ts:
            await self.poster.client.assistant_threads_setSuggestedPrompts(
                channel_id=where.channel, thread_ts=where.thread_ts, prompts=views.SUGGESTED_PROMPTS
            )

    async def was_posted(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> bool:
        where = target_of(target)
        if message["op"] not in ("post", "replace") or where.response_url:
            return False
        client = self.poster.client
        if where.thread_ts:
            response = await client.conversations_replies(
                channel=where.channel, ts=where.thread_ts, include_all_metadata=True, limit=HISTORY_LIMIT
            )
        else:
            response = await client.conversations_history(
                channel=where.channel,
                oldest=f"{mark.since - 60:.6f}",
                include_all_metadata=True,
                limit=HISTORY_LIMIT,
            )
        found = any(_marked(m, mark) for m in response.get("messages") or [])
        if found:
            log.info("a message was posted before the worker stopped; not posting it again")
        return found


def _marked(message: dict[str, Any], mark: Mark) -> bool:
    data = message.get("metadata") or {}
    payload = data.get("event_payload") or {}
    return bool(data.get("event_type") == EVENT_TYPE and payload.get("part") == mark.id)
