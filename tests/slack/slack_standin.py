"""A local stand-in for Slack: the Web API methods ribot calls (Slack's wire format: form or JSON in,
`{"ok": ...}` out, 429 with Retry-After when told to), response_url endpoints, and a Socket Mode websocket
that delivers envelopes and records acknowledgements. Every call is recorded for the tests to inspect.

It also signs HTTP deliveries the way Slack does (v0 HMAC-SHA256 over `v0:timestamp:body`)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-ribot-test-token"
APP_TOKEN = "xapp-1-ribot-test-token"
SIGNING_SECRET = "ribot-test-signing-secret"
TEAM = "T0RIBOT01"
BOT_USER = "U0RIBOTBOT"
BOT_ID = "B0RIBOTBOT"
APP_ID = "A0RIBOTAPP"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a delivery: timestamp and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    ok: bool = True  # False when the stand-in refused it (rate limited, bad token, invalid blocks)


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, oldest first
        self.acks: dict[str, float] = {}  # envelope_id -> when the Socket Mode ack arrived
        self.ack_payloads: dict[str, dict[str, Any]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self._rate_limits: dict[str, list[int]] = {}
        self.holding: set[str] = set()  # methods whose answers are held back (the call itself is done)
        self._clock = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{uuid.uuid4().hex}"

    # ---- test controls ------------------------------------------------------------------------------------

    def hold(self, method: str) -> None:
        """Calls of `method` are carried out and recorded, but answered only after `release`."""
        self.holding.add(method)

    def release(self, method: str) -> None:
        self.holding.discard(method)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with Retry-After."""
        self._rate_limits[method] = [times, retry_after]

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    def add_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message a person wrote (for conversations.replies); returns it with its new ts."""
        message = {"type": "message", "user": user, "text": text, "ts": self.new_ts(), "team": TEAM}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages.setdefault(channel, []).append(message)
        return message

    def of(self, method: str, ok: bool | None = True) -> list[Call]:
        """Calls of one method; by default only those the stand-in accepted."""
        return [c for c in list(self.calls) if c.method == method and (ok is None or c.ok == ok)]

    def posts(self, channel: str | None = None, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Messages ribot posted (accepted chat.postMessage calls), optionally in one channel or thread."""
        found = [c.params for c in self.of("chat.postMessage")]
        if channel is not None:
            found = [p for p in found if p.get("channel") == channel]
        if thread_ts is not None:
            found = [p for p in found if p.get("thread_ts") == thread_ts]
        return found

    def bot_messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """ribot's messages in a channel as they stand now (after any chat.update), oldest first."""
        found = [m for m in list(self.messages.get(channel, [])) if m.get("bot_id") == BOT_ID]
        if thread_ts is not None:
            found = [m for m in found if m.get("thread_ts") == thread_ts]
        return found

    def everything_sent(self) -> str:
        """All parameters ribot ever sent, as one JSON string (to look for leaks)."""
        return json.dumps([c.params for c in self.calls] + self.responses, ensure_ascii=False)

    async def wait_for(self, predicate: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.02)

    # ---- Web API ---------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        token = _token(request, params)
        call = Call(method, params, token)
        self.calls.append(call)
        limit = self._rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            call.ok = False
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(limit[1])}
            )
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if token != expected:
            body: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        elif handler is None:
            body = {"ok": False, "error": "unknown_method"}
        else:
            body = handler(params)
        call.ok = bool(body.get("ok"))
        while method in self.holding:  # Slack did it, but the answer is slow to come back
            await asyncio.sleep(0.02)
        return web.json_response(body)

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://ki-test.slack.com/",
            "team": "KI test",
            "user": "ribot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        problem = _check_blocks(params)
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "ts": self.new_ts(),
            "team": TEAM,
            "blocks": _blocks(params),
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            metadata = params["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        problem = _check_blocks(params)
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                message["text"] = params.get("text", "")
                message["blocks"] = _blocks(params)
                return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}
        return {"ok": False, "error": "message_not_found"}

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        thread = [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        messages = _with_metadata(thread, params)
        return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """The channel's top-level messages (no thread replies), newest first, from `oldest` on."""
        channel = str(params.get("channel") or "")
        oldest = float(params.get("oldest") or 0)
        found = [
            m
            for m in self.messages.get(channel, [])
            if float(m["ts"]) >= oldest and m.get("thread_ts") in (None, m["ts"])
        ]
        limit = int(params.get("limit") or 100)
        messages = _with_metadata(list(reversed(found))[:limit], params)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return {
            "ok": True,
            "view": {"id": "V" + uuid.uuid4().hex[:10].upper(), "team_id": TEAM, **(view or {})},
        }

    def _m_assistant_threads_setStatus(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _m_assistant_threads_setSuggestedPrompts(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _m_assistant_threads_setTitle(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ws_url = self.url.replace("http://", "ws://")
        return {"ok": True, "url": f"{ws_url}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"}

    # ---- response_url ------------------------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        body["_url"] = str(request.url)
        self.responses.append(body)
        return web.Response(text="ok")

    # ---- Socket Mode -------------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        hello = {
            "type": "hello",
            "num_connections": len(self.sockets),
            "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        await ws.send_str(json.dumps(hello))
        self.connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.acks[data["envelope_id"]] = time.monotonic()
                    self.ack_payloads[data["envelope_id"]] = data
        self.sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Delivers one Socket Mode envelope (events_api, interactive, slash_commands); returns its id."""
        await asyncio.wait_for(self.connected.wait(), 20)
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        await self.sockets[-1].send_str(json.dumps(envelope))
        return envelope_id


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if not raw:
        return params
    if request.content_type == "application/json":
        params.update(json.loads(raw))
    else:
        params.update(dict(parse_qsl(raw, keep_blank_values=True)))
    return params


def _with_metadata(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages as a read method returns them: their metadata only with `include_all_metadata`."""
    if str(params.get("include_all_metadata")).lower() in ("1", "true"):
        return list(messages)
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def _token(request: web.Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :]
    token = params.get("token")
    return str(token) if token else None


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _check_blocks(params: dict[str, Any]) -> str | None:
    """The limits Slack enforces and answers `invalid_blocks` for."""
    blocks = _blocks(params)
    if len(blocks) > MAX_BLOCKS:
        return f"more than {MAX_BLOCKS} blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if len(text) > MAX_SECTION_TEXT:
            return f"a text of {len(text)} characters"
        for element in block.get("elements") or []:
            label = element.get("text")
            if isinstance(label, dict) and element.get("type") == "button" and len(label["text"]) > 75:
                return "a button label over 75 characters"
            if isinstance(label, str) and len(label) > MAX_SECTION_TEXT:
                return f"a context text of {len(label)} characters"
    return None


class StandInThread:
    """Runs a `SlackStandIn` on its own event loop in a thread, so it outlives any one test's loop and can
    serve processes started by the tests."""

    def __init__(self) -> None:
        self.standin = SlackStandIn()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slack-standin", daemon=True)

    def start(self) -> SlackStandIn:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.standin.start(), self._loop).result(10)
        return self.standin

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.standin.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def send_envelope(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        future = asyncio.run_coroutine_threadsafe(
            self.standin.send_envelope(kind, payload, retry_attempt), self._loop
        )
        return await asyncio.wrap_future(future)
