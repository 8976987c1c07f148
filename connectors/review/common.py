"""Shared pieces of the review console: its state on the application, page rendering with the console's
security headers, and access to the database once the server is ready."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.review import ReviewDesk
from bot.store.base import Database
from bot.store.coordinators import SessionInfo
from connectors.ratelimit import Network
from connectors.review.throttle import LoginThrottle
from connectors.services import Services

PREFIX = "/review"
USER = web.RequestKey("review_user", SessionInfo)  # the signed-in coordinator of a request
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


@dataclass
class ReviewState:
    services: Services
    templates: jinja2.Environment
    throttle: LoginThrottle
    proxies: list[Network] = field(default_factory=list)  # RIBOT_TRUSTED_PROXIES
    extras: dict[str, Any] = field(default_factory=dict)

    def desk(self) -> ReviewDesk:
        return ReviewDesk(require_db(self.services), self.services.outbound)


STATE = web.AppKey("review_state", ReviewState)


def state_of(request: web.Request) -> ReviewState:
    return request.app[STATE]


def require_db(services: Services) -> Database:
    db = services.db
    if db is None:
        raise web.HTTPServiceUnavailable(
            text="ribot is still starting; try again in a few seconds.", headers={"Retry-After": "2"}
        )
    assert isinstance(db, Database)
    return db


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: user text is always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M") + " UTC" if value else ""
    env.globals["prefix"] = PREFIX
    return env


def redirect(location: str, status: int = 303) -> web.Response:
    """A redirect that can still carry cookies (raised HTTP exceptions are for plain ones)."""
    return web.Response(status=status, headers={"Location": location, **HEADERS})


async def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    state = state_of(request)
    session = request.get(USER)
    values = {
        "user": session.account if session else None,
        "csrf": session.csrf_token if session else "",
        "oidc": state.services.settings.review_oidc_enabled,
        **context,
    }
    body = state.templates.get_template(template).render(values)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


async def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "error.html", {"title": title, "message": message}, status=status)
