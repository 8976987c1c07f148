"""A stand-in for the Bot Connector service that Teams exposes at an activity's serviceUrl.

It speaks the Bot Framework REST protocol ribot's SDK uses: replies are POSTed to
`/v3/conversations/{conversationId}/activities/{replyToId}`, proactive messages to
`/v3/conversations/{conversationId}/activities`; both answer 200 with a resource id. Typing indicators are
kept apart from messages. `refusing` stands for an outage of the service (503, nothing delivered).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]
    authorization: str | None


@dataclass
class ConnectorStandIn:
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    refusing: bool = False  # an outage: every post is answered 503 and nothing is delivered
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self.post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self.post)
        return app

    async def post(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.refusing:
            error = {"error": {"code": "ServiceUnavailable", "message": "The service is unavailable."}}
            return web.json_response(error, status=503)
        self.received.append(
            Received(
                conversation_id=request.match_info["conversation"],
                reply_to=request.match_info.get("reply_to"),
                activity=body,
                authorization=request.headers.get("Authorization"),
            )
        )
        self.arrived.set()
        return web.json_response({"id": f"standin-{next(self._ids)}"})

    def messages(self) -> list[Received]:
        return [r for r in self.received if r.activity.get("type") == "message"]

    async def wait_for_messages(self, count: int, timeout: float = 60) -> list[Received]:
        async def enough() -> None:
            while len(self.messages()) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.messages()


def card_of(received: Received) -> dict[str, Any]:
    attachments = received.activity.get("attachments") or []
    assert attachments, f"expected an Adaptive Card, got {received.activity}"
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachments[0]["content"]
    return content
