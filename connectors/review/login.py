"""Signing in to the console: the password form (accounts made by `ribot coordinators add`) and, when
configured, the organisation's OpenID Connect provider."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.store.coordinators import Account, authenticate, start_session
from connectors.ratelimit import client_address
from connectors.review.auth import (
    BAD_NEXT,
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    current_session,
    forbidden,
    new_token,
    next_is_malformed,
    safe_next,
    set_cookie,
    tokens_match,
)
from connectors.review.common import PREFIX, error_page, redirect, render, require_db, state_of

MAX_FIELD = 400


async def login_page(request: web.Request) -> web.StreamResponse:
    if next_is_malformed(request.query.get("next")):
        return await error_page(request, 400, "Malformed link", BAD_NEXT)
    target = safe_next(request.query.get("next"))
    session = await current_session(request)
    if session is not None and session.account.is_coordinator:
        return redirect(target, status=302)
    return await _form(request, target, error=None)


async def _form(request: web.Request, target: str, error: str | None, status: int = 200) -> web.Response:
    token = new_token()
    context = {"next": target, "login_token": token, "error": error, "title": "Sign in"}
    response = await render(request, "login.html", context, status=status)
    set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


def _field(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value[:MAX_FIELD] if isinstance(value, str) else ""


async def login_submit(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    form = await request.post()
    if not tokens_match(request.cookies.get(LOGIN_COOKIE), _field(form, CSRF_FIELD)):
        return await forbidden(request, "The sign-in form was missing its security token. Reload the page.")
    if next_is_malformed(_field(form, "next")):
        return await error_page(request, 400, "Malformed link", BAD_NEXT)
    target = safe_next(_field(form, "next"))
    email, password = _field(form, "email").strip(), _field(form, "password")
    services, throttle = state.services, state.throttle
    address = client_address(request, state.proxies)
    refusal = await services.run_sync(throttle.refusal, email, address)
    if refusal is not None:
        return await _form(request, target, refusal.message, status=refusal.status)
    account = None
    if email and password:
        account = await services.run_sync(authenticate, require_db(services), email, password)
    if account is None:
        await services.run_sync(throttle.failed, email, address)
        return await _form(request, target, "Wrong e-mail address or password.", status=401)
    await services.run_sync(throttle.succeeded, email, address)
    return await begin_session(request, account, target)


async def begin_session(request: web.Request, account: Account, target: str) -> web.StreamResponse:
    """Start a console session for the account and send the browser on to `target`."""
    services = state_of(request).services
    lifetime = timedelta(hours=services.settings.review_session_hours)
    session = await services.run_sync(start_session, require_db(services), account.id, lifetime)
    response = redirect(safe_next(target))
    set_cookie(request, response, SESSION_COOKIE, session.token, max_age=int(lifetime.total_seconds()))
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    return response
