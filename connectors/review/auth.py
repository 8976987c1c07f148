"""Who may use the review console: session cookies, CSRF tokens, and the guard every console page goes
through (anonymous -> the login page, signed in without the coordinator role -> 403, a form without its
token -> 403)."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.store.coordinators import SessionInfo, end_session, find_session
from connectors.review.common import PREFIX, USER, error_page, redirect, require_db, state_of
from connectors.services import Services

SESSION_COOKIE = "ribot_review"
LOGIN_COOKIE = "ribot_review_login"  # double-submit token of the login form, before there is a session
CSRF_FIELD = "csrf"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_https(request: web.Request, services: Services) -> bool:
    public = services.settings.public_url or ""
    return request.secure or public.startswith("https://")


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None
) -> None:
    services = state_of(request).services
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=is_https(request, services),
    )


def clear_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=PREFIX)


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


# Control and invisible formatting characters: never part of a console link, and a header cannot carry them.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Kept as they are when the target is %-encoded for the Location header; everything else is encoded.
_URL_SAFE = "/?=&%#:;,+@!$'()*~-._"
BAD_NEXT = "The link's next= address holds control characters. Open the console from /review."


def next_is_malformed(value: str | None) -> bool:
    """True for a next= target with control characters: the page answers 400 instead of guessing."""
    return bool(value and _UNPRINTABLE.search(value))


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a path inside the console (no other host, no scheme tricks),
    %-encoded so that it fits a Location header."""
    if not value or next_is_malformed(value) or not value.startswith(PREFIX) or value.startswith("//"):
        return PREFIX
    if "\\" in value or value.startswith(PREFIX + "/login"):
        return PREFIX
    return quote(value, safe=_URL_SAFE)


async def current_session(request: web.Request) -> SessionInfo | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    services = state_of(request).services
    db = require_db(services)
    return await services.run_sync(find_session, db, token)


def login_redirect(request: web.Request) -> web.Response:
    target = request.path_qs if request.method == "GET" else PREFIX
    return redirect(f"{PREFIX}/login?next={quote(target, safe='')}", status=302)


async def forbidden(request: web.Request, message: str) -> web.Response:
    return await error_page(request, 403, "Not allowed", message)


def coordinator_only(handler: Handler) -> Handler:
    """Wrap a console handler: sign-in, role and (for POST) CSRF checks come first."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        session = await current_session(request)
        if session is None:
            return login_redirect(request)
        if not session.account.is_coordinator:
            return await forbidden(
                request,
                "Your account is not a network coordinator account. Ask an administrator to run "
                "`ribot coordinators add` for your address.",
            )
        if request.method == "POST":
            form = await request.post()
            given = form.get(CSRF_FIELD)
            if not tokens_match(session.csrf_token, given if isinstance(given, str) else None):
                return await forbidden(
                    request, "The form was missing its security token. Reload the page and try again."
                )
        request[USER] = session
        return await handler(request)

    return guarded


async def logout(request: web.Request) -> web.StreamResponse:
    session = await current_session(request)
    if session is not None:
        form = await request.post()
        given = form.get(CSRF_FIELD)
        if not tokens_match(session.csrf_token, given if isinstance(given, str) else None):
            return await forbidden(request, "The form was missing its security token.")
        token = request.cookies.get(SESSION_COOKIE, "")
        services = state_of(request).services
        await services.run_sync(end_session, require_db(services), token)
    response = redirect(f"{PREFIX}/login")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


def new_token() -> str:
    return secrets.token_urlsafe(32)
