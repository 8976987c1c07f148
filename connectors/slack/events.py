"""Slack payloads to `Turn`s: where the message came from, where the answer goes, and the key that makes a
retried or doubled delivery count once. Pure functions over Slack's documented payload shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.types import Turn
from connectors.slack.text import from_slack

PLATFORM = "slack"
# message subtypes that are a person saying something; the rest (edits, joins, deletions...) are ignored
USER_SUBTYPES = (None, "file_share", "thread_broadcast")


@dataclass(frozen=True)
class Target:
    """Where ribot's replies to one turn go."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None  # ephemeral surfaces (slash commands) answer through this
    update_ts: str | None = None  # the message a button press changes in place
    blocks: list[dict[str, Any]] = field(default_factory=list)  # that message's blocks
    block_id: str | None = None  # the clicked row of buttons
    label: str | None = None  # the clicked button's label
    text: str = ""  # that message's fallback text


@dataclass(frozen=True)
class Incoming:
    turn: Turn
    target: Target
    key: str  # idempotence key: the same user message or click always gives the same key


def conversation_id(team: str, channel: str, thread_ts: str | None) -> str:
    return f"{team}:{channel}:{thread_ts}" if thread_ts else f"{team}:{channel}"


def is_direct(channel: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" if channel_type else channel.startswith("D")


def is_person_message(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """True for what a person wrote; false for bots (ribot included), edits, joins and other subtypes."""
    if event.get("subtype") not in USER_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return False
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
        return False
    return isinstance(user, str) and bool(user) and user != bot_user_id


def mentions(event: Mapping[str, Any], user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in str(event.get("text") or "")


def message_key(team: str, channel: str, ts: str) -> str:
    """One key per user message, shared by a retried delivery and by the app_mention + message pair."""
    return f"slack:msg:{team}:{channel}:{ts}"


def from_message(
    event: Mapping[str, Any], team: str, bot_user_id: str | None, event_id: str | None
) -> Incoming:
    channel = str(event["channel"])
    ts = str(event["ts"])
    thread = event.get("thread_ts")
    if is_direct(channel, event.get("channel_type")) and not thread:
        target = Target(channel=channel)
    else:
        target = Target(channel=channel, thread_ts=str(thread or ts))
    user = str(event["user"])
    turn = Turn(
        platform=PLATFORM,
        conversation_id=conversation_id(team, channel, target.thread_ts),
        user_id=user,
        text=from_slack(str(event.get("text") or ""), bot_user_id),
        reply_ref=reply_ref(team, target.channel, target.thread_ts, user),
        event_id=event_id,
    )
    return Incoming(turn=turn, target=target, key=message_key(team, channel, ts))


def reply_ref(team: str, channel: str, thread_ts: str | None, user: str) -> dict[str, Any]:
    return {"team": team, "channel": channel, "thread_ts": thread_ts, "user": user}


def from_command(body: Mapping[str, Any], text: str, action: str | None) -> Incoming:
    """A `/ribot` invocation. Answers are ephemeral in place; later messages go to the user's DM."""
    team = str(body.get("team_id") or "")
    channel = str(body.get("channel_id") or "")
    user = str(body["user_id"])
    turn = Turn(
        platform=PLATFORM,
        conversation_id=f"{team}:{channel}:slash:{user}",
        user_id=user,
        text=text,
        action=action,
        user_name=_str(body.get("user_name")),
        reply_ref=reply_ref(team, user, None, user),
        event_id=_str(body.get("trigger_id")),
    )
    target = Target(channel=channel, response_url=_str(body.get("response_url")))
    return Incoming(turn=turn, target=target, key=f"slack:cmd:{team}:{body.get('trigger_id')}")


def from_action(body: Mapping[str, Any], action: Mapping[str, Any]) -> Incoming | None:
    """A button press on one of ribot's messages (a channel or DM message, an ephemeral one, or App Home)."""
    user = body.get("user") or {}
    team = str((body.get("team") or {}).get("id") or user.get("team_id") or "")
    container = body.get("container") or {}
    value = str(action.get("value") or "")
    label = str((action.get("text") or {}).get("text") or value)
    user_id = str(user.get("id") or "")
    if not value or not user_id:
        return None
    where = _action_target(body, container, team, user_id, action, label)
    if where is None:
        return None
    conversation, target, ref = where
    turn = Turn(
        platform=PLATFORM,
        conversation_id=conversation,
        user_id=user_id,
        action=value,
        user_name=_str(user.get("name") or user.get("username")),
        reply_ref=ref,
        event_id=_str(action.get("action_ts")),
    )
    place = container.get("message_ts") or container.get("view_id") or ""
    key = f"slack:act:{team}:{place}:{action.get('action_ts')}:{user_id}"
    return Incoming(turn=turn, target=target, key=key)


def _action_target(
    body: Mapping[str, Any],
    container: Mapping[str, Any],
    team: str,
    user_id: str,
    action: Mapping[str, Any],
    label: str,
) -> tuple[str, Target, dict[str, Any]] | None:
    block_id = _str(action.get("block_id"))
    if container.get("type") == "view":
        direct = str((body.get("view") or {}).get("private_metadata") or "")
        if not direct:
            return None
        return (
            conversation_id(team, direct, None),
            Target(channel=direct),
            reply_ref(team, direct, None, user_id),
        )
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    if not channel:
        return None
    if container.get("is_ephemeral"):
        target = Target(
            channel=channel, response_url=_str(body.get("response_url")), block_id=block_id, label=label
        )
        return f"{team}:{channel}:slash:{user_id}", target, reply_ref(team, user_id, None, user_id)
    message = body.get("message") or {}
    message_ts = str(container.get("message_ts") or message.get("ts") or "")
    thread = _str(message.get("thread_ts") or container.get("thread_ts"))
    if not thread and not is_direct(channel):
        thread = message_ts
    target = Target(
        channel=channel,
        thread_ts=thread,
        update_ts=message_ts or None,
        blocks=list(message.get("blocks") or []),
        text=str(message.get("text") or ""),
        block_id=block_id,
        label=label,
    )
    return conversation_id(team, channel, thread), target, reply_ref(team, channel, thread, user_id)


def _str(value: Any) -> str | None:
    return str(value) if value else None
