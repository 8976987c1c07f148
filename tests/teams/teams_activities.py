"""Bot Framework activities as Teams sends them (shapes from Microsoft's Teams bot documentation)."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11"
BOT_NAME = "ribot"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = {
    "id": "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw",
    "name": "Megan Bowen",
    "aadObjectId": "8c1e0a8d-46a4-4e1f-9b6e-6f2f5f3c9a10",
}
CHANNEL = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
TEAM = "19:0d4f3a1b2c3d4e5f6a7b8c9d0e1f2a3b@thread.tacv2"
_ids = itertools.count(1485983408511)


def conversation(kind: str = "personal", conversation_id: str | None = None) -> dict[str, Any]:
    if kind == "channel":
        return {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": conversation_id or f"{CHANNEL};messageid=1485983408500",
        }
    if kind == "groupChat":
        return {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": conversation_id or "19:meeting_group_chat_0a1b2c3d@thread.v2",
        }
    return {
        "conversationType": "personal",
        "tenantId": TENANT,
        "id": conversation_id or "a:1pL3ns0nalChatIdForMeganBowenAndRibot",
    }


def message(
    text: str | None,
    *,
    service_url: str = "http://127.0.0.1:9/",
    kind: str = "personal",
    conversation_id: str | None = None,
    value: Any = None,
    activity_id: str | None = None,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id or str(next(_ids)),
        "timestamp": "2026-06-01T09:30:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": dict(USER),
        "conversation": conversation(kind, conversation_id),
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "textFormat": "plain",
        "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "platform": "Web"}, *(mentions or [])],
        "channelData": {"tenant": {"id": TENANT}},
    }
    if text is not None:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    if kind == "channel":
        activity["channelData"].update(
            {"teamsChannelId": CHANNEL, "teamsTeamId": TEAM, "channel": {"id": CHANNEL}, "team": {"id": TEAM}}
        )
    return activity


def bot_mention() -> dict[str, Any]:
    return {"type": "mention", "mentioned": {"id": BOT_ID, "name": BOT_NAME}, "text": f"<at>{BOT_NAME}</at>"}


def user_mention(name: str, user_id: str) -> dict[str, Any]:
    return {"type": "mention", "mentioned": {"id": user_id, "name": name}, "text": f"<at>{name}</at>"}


def members_added(*, service_url: str, kind: str = "personal", bot_included: bool = True) -> dict[str, Any]:
    members = [{"id": USER["id"], "aadObjectId": USER["aadObjectId"]}]
    if bot_included:
        members.append({"id": BOT_ID})
    activity = message(None, service_url=service_url, kind=kind)
    activity.update(type="conversationUpdate", membersAdded=members)
    activity.pop("textFormat")
    return activity
