"""The local web chat: a static page at `/` and the JSON conversation API it talks to.

`POST /api/chat` hands one message or button press to the gateway and returns its replies. Each message has
an id (`message_id`, made up when the client sends none): the same id sent again is answered once, with the
same replies. With `Prefer: respond-async` the request returns 202 as soon as the message is stored, and
the replies, like those of a message whose request was cut off, arrive with
`GET /api/chat/{id}/messages?after=N`, where coordinators' messages arrive too.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.store.inbox import FAILED, PENDING
from bot.types import Reply, Turn
from connectors.gateway import GATEWAY, Arrival, Gateway
from connectors.http import ApiError, read_json_object, text_field
from connectors.key_lines import key_lines
from connectors.ratelimit import request_client
from connectors.services import SERVICES, Services, dumps
from connectors.surfaces import Mark, Plan, Receipt

STATIC_DIR = Path(__file__).parent / "static"
PLATFORM = "web"
MAX_TEXT_CHARS = 8_000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ACTION = re.compile(r"^[\w:.@/+-]{1,200}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_AFTER = re.compile(r"^[0-9]{1,12}$")
WAIT_SECONDS = 60.0
LANGUAGES = ("en", "sv")  # the page's interface languages (static/i18n.js)

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


def _conversation_id(value: Any) -> str:
    if not isinstance(value, str) or not _CONVERSATION_ID.match(value):
        raise ApiError(422, "invalid_request", "`conversation_id` must be 8-64 letters, digits, - or _.")
    return value


def _action(data: dict[str, Any]) -> str | None:
    value = data.get("action")
    if value is None:
        return None
    if not isinstance(value, str) or not _ACTION.match(value):
        raise ApiError(422, "invalid_request", "`action` is not a valid button value.")
    return value


def _message_id(data: dict[str, Any]) -> str:
    value = data.get("message_id")
    if value is None:
        return uuid.uuid4().hex[:24]
    if not isinstance(value, str) or not _MESSAGE_ID.match(value):
        raise ApiError(422, "invalid_request", "`message_id` must be 1-64 letters, digits, - or _.")
    return value


def _language(data: dict[str, Any]) -> str | None:
    value = data.get("language")
    if value is None:
        return None
    if value not in LANGUAGES:
        raise ApiError(422, "invalid_request", "`language` must be one of: " + ", ".join(LANGUAGES) + ".")
    return str(value)


def parse_turn(data: dict[str, Any]) -> Turn:
    conversation_id = _conversation_id(data.get("conversation_id"))
    action = _action(data)
    text = text_field(data, "text", required=False, max_chars=MAX_TEXT_CHARS) or ""
    if not text and action is None:
        raise ApiError(422, "invalid_request", "Send `text` (a message) or `action` (a button value).")
    return Turn(
        platform=PLATFORM,
        conversation_id=conversation_id,
        user_id=f"web:{conversation_id}",
        text=text,
        action=action,
        user_name=text_field(data, "user_name", required=False, max_chars=200) or None,
        user_email=text_field(data, "user_email", required=False, max_chars=320) or None,
        reply_ref={"platform": PLATFORM, "conversation_id": conversation_id},
        event_id=f"{PLATFORM}:{conversation_id}:{_message_id(data)}",
        language=_language(data),
    )


def _payload(reply: Reply, answered: str) -> dict[str, Any]:
    return {**reply.to_json(), "in_reply_to": answered, "key_lines": key_lines(reply)}


class WebSurface:
    """The web chat for the delivery worker: replies go back in the response of a request that waits for
    them; otherwise into the conversation's messages, stored together with the count that says so."""

    name = PLATFORM
    inline = True

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def plan(self, target: dict[str, Any], replies: list[Reply]) -> Plan:
        answered = str(target.get("message_id") or "")
        return [{"replies": [_payload(reply, answered) for reply in replies]}]

    async def started(self, target: dict[str, Any]) -> None:
        return None

    async def post(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> None:
        inbox = self._gateway.worker.inbox
        assert inbox is not None
        conversation_id = str(target.get("conversation_id") or "")
        payloads = list(message.get("replies") or [])
        await self._gateway.services.run_sync(
            inbox.post_to_outbox, mark.key, mark.index, PLATFORM, conversation_id, payloads
        )

    async def was_posted(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> bool:
        return False  # `post` counts the message in the same transaction: an uncounted one is not there


async def chat(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    turn = parse_turn(await read_json_object(request))
    assert turn.event_id is not None
    message_id = turn.event_id.rsplit(":", 1)[1]
    later = "respond-async" in request.headers.get("Prefer", "").lower()
    target = {"conversation_id": turn.conversation_id, "message_id": message_id}
    kind = "button" if turn.action else "message"
    arrival = Arrival(PLATFORM, turn.event_id, turn, target, kind, request_client(request))
    receipt = await gateway.receive(arrival, wait=not later)
    body: dict[str, Any] = {"conversation_id": turn.conversation_id, "message_id": message_id}
    if later:
        return web.json_response(body | {"status": "accepted"}, status=202, dumps=dumps)
    if receipt.status == PENDING and receipt.waiter is not None:
        finished = await gateway.worker.wait(turn.event_id, receipt.waiter, WAIT_SECONDS)
        if finished is None:  # still being answered: the replies will arrive as messages
            return web.json_response(body | {"status": "pending"}, status=202, dumps=dumps)
        receipt = finished
    return _answered(receipt, body)


def _answered(receipt: Receipt, body: dict[str, Any]) -> web.Response:
    if receipt.status == FAILED:
        raise ApiError(503, "not_answered", "ribot could not answer this message; please send it again.")
    if receipt.sent:  # it went to the conversation's messages, where the page finds it
        return web.json_response(body | {"replies": [], "delivered": "messages"}, dumps=dumps)
    replies = list((receipt.plan or [{}])[0].get("replies") or [])
    return web.json_response(body | {"replies": replies}, dumps=dumps)


async def delivered(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    conversation_id = _conversation_id(request.match_info["conversation_id"])
    raw_after = request.query.get("after", "0")
    if not _AFTER.match(raw_after):
        raise ApiError(422, "invalid_request", "`after` must be a whole number.")
    inbox = services.require_web_inbox()
    messages = await services.run_sync(inbox.pending, conversation_id, int(raw_after))
    return web.json_response({"messages": messages}, dumps=dumps)


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


def _asset_handler() -> Any:
    # Only the files shipped with the package are served: no directory walking, no traversal.
    assets = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.name != "index.html"}

    async def asset(request: web.Request) -> web.FileResponse:
        path = assets.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return asset


def mount(app: web.Application, services: Services) -> None:
    app[GATEWAY].add_surface(WebSurface(app[GATEWAY]))
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", _asset_handler())
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/chat/{conversation_id}/messages", delivered)
