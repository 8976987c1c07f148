"""Wiring: the Bolt app, its HTTP route, Socket Mode, and ribot's outbound and announce hooks for Slack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_sdk.signature import SignatureVerifier

from bot.outbound import EscalationNotice
from connectors.gateway import GATEWAY, Gateway
from connectors.http import ApiError, parse_json
from connectors.services import Services
from connectors.slack.announce import announce
from connectors.slack.delivery import Poster, SlackOutbound, api_session, web_client
from connectors.slack.handlers import SlackHandlers
from connectors.slack.surface import SlackSurface

log = logging.getLogger("ribot.slack")

EVENTS_PATH = "/slack/events"
SOCKET_RETRY_SECONDS = (1, 2, 5, 10, 30)


class SlackConnector:
    def __init__(self, services: Services, gateway: Gateway) -> None:
        settings = services.settings
        self.services = services
        self.gateway = gateway
        self.client = web_client(settings.slack_bot_token, settings.slack_api_url)
        self.poster = Poster(self.client)
        self.handlers = SlackHandlers(services, gateway, self.poster)
        gateway.add_surface(SlackSurface(self.poster, self.handlers.threads))
        secret = settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret) if secret else None  # HTTP delivery only
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            name="ribot",
            logger=logging.getLogger("ribot.slack.bolt"),
            # the listeners only store the delivery; acknowledging after them means acknowledged is stored
            process_before_response=True,
        )
        self.handlers.register(self.bolt)
        self.socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None

    async def handle_http(self, request: web.Request) -> web.Response:
        """Slack's Events API and interactivity. A body that is not UTF-8 (Slack only sends UTF-8) gets 400,
        an unsigned one 401, and signed junk (not an object, nested too deep) 400, all before Bolt sees it;
        Bolt checks the signature again, hands the delivery to a listener that stores it, then
        acknowledges."""
        raw = await request.read()
        try:
            text = _utf8(raw)
            if not self._signed(text, request.headers):
                return web.json_response({"error": "invalid request"}, status=401)
            kind = payload_type(text, request.content_type)
        except ApiError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        if kind != "url_verification" and not self.gateway.accepting:
            body = {"error": "ribot is starting; Slack will deliver this again"}
            return web.json_response(body, status=503, headers={"Retry-After": "5"})
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            return web.json_response({"error": "the body is not a Slack payload"}, status=400)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    def _signed(self, body: str, headers: Mapping[str, str]) -> bool:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if self.verifier is None or not timestamp.isdigit() or not signature:
            return False
        return self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)

    async def warm_up(self, app: web.Application) -> None:
        self.client.session = api_session()
        self._warming = asyncio.create_task(self._check_token())

    async def _check_token(self) -> None:
        """auth.test once at startup: a bad token shows in the log at once, and a burst of first deliveries
        does not each make the call while Bolt's single-workspace authorisation has no result yet."""
        try:
            result = await self.client.auth_test()
        except Exception as exc:
            log.error("Slack rejected the bot token or could not be reached (auth.test): %s", exc)
            return
        log.info("Slack bot %s in team %s", result.get("user_id"), result.get("team_id"))
        for middleware in getattr(self.bolt, "_async_middleware_list", []):
            if isinstance(middleware, AsyncSingleTeamAuthorization) and middleware.auth_test_result is None:
                middleware.auth_test_result = result

    async def announce(self, notice: EscalationNotice) -> None:
        """Posts a new escalation in the coordinators' channel (see connectors.slack.announce)."""
        await announce(self, notice)

    async def start_socket_mode(self, app: web.Application) -> None:
        token = self.services.settings.slack_app_token
        if not token:
            return
        self.socket = AsyncSocketModeHandler(self.bolt, app_token=token, web_client=self.client)
        self._connecting = asyncio.create_task(self._connect(self.socket))

    async def _connect(self, socket: AsyncSocketModeHandler) -> None:
        """Keeps trying until the first connection stands; the SDK reconnects by itself after that."""
        for attempt in range(10_000):
            try:
                await socket.connect_async()  # type: ignore[no-untyped-call]
                log.info("Slack Socket Mode connected")
                return
            except Exception as exc:
                delay = SOCKET_RETRY_SECONDS[min(attempt, len(SOCKET_RETRY_SECONDS) - 1)]
                log.warning("Slack Socket Mode connection failed (%s); retrying in %ss", exc, delay)
                await asyncio.sleep(delay)

    async def stop(self, app: web.Application) -> None:
        for task in (self._warming, self._connecting):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.client.session is not None:
            await self.client.session.close()


def payload_type(text: str, content_type: str) -> str:
    """The `type` of a Slack delivery: a JSON object (events) or a form whose `payload` is one
    (interactivity); a form without one is a slash command. ApiError (400) for anything else."""
    if content_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in form:
            return "command" if form.get("command") else "unknown"
        data = parse_json(form["payload"])
    else:
        data = parse_json(text)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "a Slack payload is a JSON object")
    return str(data.get("type") or "unknown")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "the body is not UTF-8 text") from None


SLACK = web.AppKey("slack", SlackConnector)


def mount(app: web.Application, services: Services) -> SlackConnector:
    """Adds Slack to the server: `/slack/events` when a signing secret is set, Socket Mode when an app-level
    token is set, the `slack` outbound, and announcements in SLACK_COORDINATOR_CHANNEL."""
    settings = services.settings
    connector = SlackConnector(services, app[GATEWAY])
    app[SLACK] = connector
    app.on_startup.append(connector.warm_up)
    app.on_cleanup.append(connector.stop)
    if settings.slack_signing_secret:
        app.router.add_post(EVENTS_PATH, connector.handle_http)
    if settings.slack_app_token:
        app.on_startup.append(connector.start_socket_mode)
    services.outbound.register("slack", SlackOutbound(connector.poster))
    if settings.slack_coordinator_channel:
        services.outbound.on_announce(connector.announce)
    return connector
