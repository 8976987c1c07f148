"""The HTTP server every surface shares: web chat, `/api/ask`, health, readiness and metrics.

`build_services` is quick: it prepares the pieces that need no model. The model, index and database load
in a worker thread once the server listens (`/readyz` says 503 until then). Slack, Teams and the review
console mount their routes onto the same application.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from bot.outbound import OutboundRegistry
from bot.settings import Settings
from connectors.gateway import GATEWAY, Gateway, RateLimiter
from connectors.http import MAX_BODY_BYTES, read_json_object, request_middleware, text_field
from connectors.loading import load_components
from connectors.metrics import Metrics
from connectors.ratelimit import TRUSTED_PROXIES, request_client, trusted_networks
from connectors.services import SERVICES, Loaded, Loader, Services, dumps
from connectors.web import routes as web_chat

__all__ = ["GATEWAY", "SERVICES", "Loaded", "Services", "build_services", "create_app"]

MAX_QUESTION_CHARS = 20_000


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, dumps=dumps)


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.ready:
        problem = await services.probe.problem(services.db)
        if problem is None:
            return web.json_response({"status": "ready"}, dumps=dumps)
        body = {"status": "degraded", "error": problem}
        return web.json_response(body, status=503, headers={"Retry-After": "5"}, dumps=dumps)
    body = {"status": "failed" if services.load_error else "starting"}
    if services.load_error:
        body["error"] = services.load_error
    return web.json_response(body, status=503, headers={"Retry-After": "2"}, dumps=dumps)


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = services.metrics.render()
    return web.Response(body=body, headers={"Content-Type": services.metrics.content_type})


async def ask(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    question = text_field(data, "question", required=True, max_chars=MAX_QUESTION_CHARS)
    assert question is not None
    answer = await request.app[GATEWAY].ask(question, request_client(request))
    return web.json_response(answer.to_json(), dumps=dumps)


def _start_loading(services: Services) -> Callable[[web.Application], Awaitable[None]]:
    async def start(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        # Not awaited: the server starts listening (healthz, a 503 readyz) while the model loads.
        app[_LOAD_TASK] = loop.run_in_executor(None, services.load)

    return start


_LOAD_TASK = web.AppKey("load_task", asyncio.Future)


async def _close_services(app: web.Application) -> None:
    services = app[SERVICES]
    task = app.get(_LOAD_TASK)
    if task is not None and not task.done():
        await asyncio.wait([task], timeout=60)
    await asyncio.get_running_loop().run_in_executor(None, services.close)


def build_services(settings: Settings, loader: Loader | None = None) -> Services:
    """Prepare the server's services; the slow parts load later through `loader` (default: the real ones)."""
    return Services(
        settings=settings,
        metrics=Metrics(),
        outbound=OutboundRegistry(),
        loader=loader or load_components,
        executor=ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="ribot-worker"),
    )


def create_app(services: Services, limiter: RateLimiter | None = None) -> web.Application:
    """The server; `limiter` decides who may be answered now (default: everyone)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[request_middleware(services.metrics)])
    app[SERVICES] = services
    app[TRUSTED_PROXIES] = trusted_networks(services.settings.ribot_trusted_proxies)
    gateway = app[GATEWAY] = Gateway(services, limiter)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/ask", ask)

    web_chat.mount(app, services)
    _mount_optional_surfaces(app, services)
    app.on_startup.append(_start_loading(services))
    app.on_startup.append(gateway.worker.start)
    app.on_cleanup.append(gateway.worker.stop)
    app.on_cleanup.append(_close_services)
    return app


def _mount_optional_surfaces(app: web.Application, services: Services) -> None:
    """Slack, Teams and the review console add their routes here when configured."""
    if services.settings.slack_enabled:
        import connectors.slack

        connectors.slack.mount(app, services)
    if services.settings.teams_client_id or services.settings.teams_anonymous:
        import connectors.teams

        connectors.teams.mount(app, services)
    import connectors.review

    connectors.review.mount(app, services)
