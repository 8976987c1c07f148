"""The network coordinator's review console at /review, mounted on ribot's server with
`connectors.review.mount(app, services)`. Server-rendered pages, no script; only coordinators get in.

The mount also starts the announcer: escalations not yet announced in the coordinators' channels (Slack,
Teams, when those surfaces registered hooks) are announced every few seconds, and marked once all hooks
succeeded, so an announcement survives a restart of the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.review import announce_pending
from bot.store.base import Database
from connectors.ratelimit import RateLimits, trusted_networks
from connectors.review.auth import coordinator_only, logout
from connectors.review.common import PREFIX, STATE, STATIC, ReviewState, environment, redirect
from connectors.review.insight import insight_page
from connectors.review.login import login_page, login_submit
from connectors.review.throttle import LoginThrottle
from connectors.review.views import act, detail, queue
from connectors.services import Services

log = logging.getLogger("ribot.review")

ANNOUNCE_EVERY = 3.0

__all__ = ["PREFIX", "mount"]


def mount(app: web.Application, services: Services) -> None:
    settings = services.settings
    throttle = LoginThrottle(RateLimits.for_services(services), settings)
    app[STATE] = ReviewState(
        services, environment(), throttle, trusted_networks(settings.ribot_trusted_proxies)
    )
    router = app.router
    router.add_get(PREFIX, coordinator_only(queue))
    router.add_get(PREFIX + "/", _to_queue)
    router.add_get(PREFIX + "/login", login_page)
    router.add_post(PREFIX + "/login", login_submit)
    router.add_post(PREFIX + "/logout", logout)
    router.add_get(PREFIX + "/insight", coordinator_only(insight_page))
    router.add_get(PREFIX + "/escalations/{escalation_id}", coordinator_only(detail))
    router.add_post(PREFIX + "/escalations/{escalation_id}/{action}", coordinator_only(act))
    router.add_static(PREFIX + "/static/", STATIC, show_index=False, follow_symlinks=False)
    if services.settings.review_oidc_enabled:
        _mount_oidc(app, services)
    app.cleanup_ctx.append(_announcer(services))


def _mount_oidc(app: web.Application, services: Services) -> None:
    from connectors.review.oidc import OIDC, OidcClient, oidc_callback, oidc_login

    app[OIDC] = OidcClient(services.settings)
    app.router.add_get(PREFIX + "/oidc/login", oidc_login)
    app.router.add_get(PREFIX + "/oidc/callback", oidc_callback)


async def _to_queue(request: web.Request) -> web.StreamResponse:
    return redirect(PREFIX, status=302)


def _announcer(services: Services) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_announce_forever(services))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _announce_forever(services: Services) -> None:
    while True:
        await asyncio.sleep(ANNOUNCE_EVERY)
        db = services.db
        if not isinstance(db, Database) or not services.outbound.has_announce_hooks:
            continue
        try:
            await announce_pending(db, services.outbound, services.settings.public_url)
        except Exception:
            log.exception("announcing new escalations failed; will retry")
