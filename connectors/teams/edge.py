"""The edge between Bot Framework activities and ribot's core: one message activity becomes one `Turn`."""

from __future__ import annotations

import html
import re
from typing import Any

from microsoft_agents.activity import Activity, ConversationReference

from bot.types import Turn
from connectors.edge_texts import LANGUAGES

PLATFORM = "teams"
MAX_ACTION_CHARS = 200

_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")
_ACTION = re.compile(r"^[a-z_]+(:[A-Za-z0-9_.\-]+)*$")


def clean_text(activity: Activity) -> str:
    """The user's words: the bot's own mention removed, other mentions kept as names, markup dropped."""
    text = activity.text or ""
    own_id = activity.recipient.id if activity.recipient else None
    if own_id:
        text = activity.remove_mention_text(own_id)
    text = _MENTION.sub(lambda match: match.group(1), text)
    if "<" in text:
        text = _TAG.sub("", _BREAK.sub("\n", text))
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def action_of(activity: Activity) -> str | None:
    """The action string an Action.Submit button carried in `value`, when it is one ribot could have sent."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if not isinstance(action, str) or len(action) > MAX_ACTION_CHARS or not _ACTION.match(action):
        return None
    return action


def language_of_press(activity: Activity) -> str | None:
    """The language a pressed button carried (the welcome card's buttons do), when ribot answers in it."""
    value = activity.value
    language = value.get("language") if isinstance(value, dict) else None
    return language if language in LANGUAGES else None


def reference_json(activity: Activity) -> dict[str, Any]:
    """Where to write into this conversation later. Per-message ids and the user's display name are left
    out: a stored reference only changes when the conversation itself does, and holds no name."""
    reference = activity.get_conversation_reference()
    data: dict[str, Any] = reference.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"activity_id", "request_id"}
    )
    if isinstance(data.get("user"), dict):
        data["user"].pop("name", None)
    return data


def reference_from_json(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference.model_validate(data)


def reply_target(activity: Activity) -> dict[str, Any]:
    """Where the replies to this very activity go: its conversation's reference, naming the activity."""
    data = reference_json(activity)
    if activity.id:
        data["activityId"] = activity.id
    return data


def reply_ref(activity: Activity) -> dict[str, Any]:
    conversation_id = activity.conversation.id if activity.conversation else ""
    return {"platform": PLATFORM, "conversation_id": conversation_id, "reference": reference_json(activity)}


def event_key(activity: Activity) -> str | None:
    """Bot Framework retries a delivery with the same activity id; ids are unique within a conversation."""
    if not activity.id or not activity.conversation:
        return None
    return f"{PLATFORM}:{activity.conversation.id}:{activity.id}"


def conversation_type(activity: Activity) -> str:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind or "personal"


def to_turn(activity: Activity) -> Turn:
    sender = activity.from_property
    user_id = ""
    if sender is not None:
        user_id = sender.aad_object_id or sender.id or ""
    return Turn(
        platform=PLATFORM,
        conversation_id=activity.conversation.id if activity.conversation else "",
        user_id=user_id,
        text=clean_text(activity),
        action=action_of(activity),
        user_name=sender.name if sender is not None else None,
        reply_ref=reply_ref(activity),
        event_id=event_key(activity),
        language=language_of_press(activity),
    )


def bot_was_added(activity: Activity) -> bool:
    """True when a conversationUpdate says ribot itself joined (installed in a chat, team or group chat)."""
    own_id = activity.recipient.id if activity.recipient else None
    return any(member.id == own_id for member in activity.members_added or [])
