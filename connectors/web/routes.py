"""The local web chat: a static page at `/` and the JSON conversation API it talks to.

`POST /api/chat` hands one message or button press to the conversation engine and returns its replies;
`GET /api/chat/{id}/messages?after=N` returns replies delivered later through the outbound registry.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.types import Reply, Turn
from connectors.http import ApiError, read_json_object, text_field
from connectors.services import SERVICES, Services, dumps

STATIC_DIR = Path(__file__).parent / "static"
PLATFORM = "web"
MAX_TEXT_CHARS = 8_000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ACTION = re.compile(r"^[\w:.@/+-]{1,200}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_AFTER = re.compile(r"^[0-9]{1,12}$")

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


class ConversationLocks:
    """One lock per conversation, so a double click cannot interleave two turns of the same chat."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


_LOCKS = web.AppKey("web_conversation_locks", ConversationLocks)


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


def _event_id(data: dict[str, Any], conversation_id: str) -> str | None:
    value = data.get("message_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _MESSAGE_ID.match(value):
        raise ApiError(422, "invalid_request", "`message_id` must be 1-64 letters, digits, - or _.")
    return f"web:{conversation_id}:{value}"


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
        event_id=_event_id(data, conversation_id),
    )


async def chat(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    turn = parse_turn(await read_json_object(request))
    engine = services.require_engine()
    async with request.app[_LOCKS].hold(turn.conversation_id):
        replies: list[Reply] = await services.run_sync(engine.handle, turn)
    for reply in replies:
        if reply.kind == "answer" and reply.answer is not None:
            grounded = "true" if reply.answer.grounded else "false"
            services.metrics.answers.labels(surface=PLATFORM, grounded=grounded).inc()
    body = {"conversation_id": turn.conversation_id, "replies": [r.to_json() for r in replies]}
    return web.json_response(body, dumps=dumps)


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
    app[_LOCKS] = ConversationLocks()
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", _asset_handler())
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/chat/{conversation_id}/messages", delivered)
