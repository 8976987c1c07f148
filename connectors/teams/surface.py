"""Teams for the delivery worker (connectors.worker): the replies to one activity as outgoing activities,
posted one by one into its conversation as replies to it, from the conversation reference stored with the
delivery. The Bot Framework offers no way to list what a bot has posted, so a message that was on its way
when a worker stopped is posted again by the worker that takes over."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity

from bot.types import Reply
from connectors.surfaces import Mark, Plan
from connectors.teams import edge, render
from connectors.teams.outbound import TeamsOutbound


class TeamsSurface:
    name = edge.PLATFORM
    inline = False

    def __init__(self, outbound: TeamsOutbound) -> None:
        self._outbound = outbound

    def plan(self, target: dict[str, Any], replies: list[Reply]) -> Plan:
        if replies and replies[0].data.get("notice") == "welcome":
            reference = target.get("reference") or {}
            activities = [render.welcome_activity(reference.get("locale"))]
        else:  # the gateway's own notices read best as plain messages
            activities = [
                render.text_activity(r.text) if r.data.get("edge") else render.reply_activity(r)
                for r in replies
            ]
        return [{"activity": _json(activity)} for activity in activities]

    async def started(self, target: dict[str, Any]) -> None:
        return None

    async def post(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> None:
        reference = edge.reference_from_json(dict(target.get("reference") or {}))
        await self._outbound.send(reference, [Activity.model_validate(message["activity"])])

    async def was_posted(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> bool:
        return False


def _json(activity: Activity) -> dict[str, Any]:
    data: dict[str, Any] = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data
