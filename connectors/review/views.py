"""The console's pages: the queue with its filters, one escalation with its transcript and triage outcome,
and the coordinator's actions on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.outbound import DeliveryError
from bot.review import FORWARD_NAMES, Actor
from bot.store.base import utcnow
from bot.store.coordinators import list_accounts
from bot.store.escalation_tables import CATEGORIES, FORWARD_TARGETS, STATUSES, escalation_id
from bot.store.escalations import QueueFilter, TransitionError, list_escalations
from connectors.review.common import PREFIX, USER, error_page, redirect, render, require_db, state_of

ACTIVE = ("open", "claimed", "answered", "forwarded")
AGES: dict[str, tuple[str, timedelta | None, timedelta | None]] = {
    # key: (label, created within, created before)
    "": ("any age", None, None),
    "1d": ("last 24 hours", timedelta(days=1), None),
    "7d": ("last 7 days", timedelta(days=7), None),
    "gt7d": ("waiting over 7 days", None, timedelta(days=7)),
    "gt30d": ("over 30 days old", None, timedelta(days=30)),
}
# Surfaces whose platform vouches for the name and e-mail (Slack's and Entra's directories). The web chat's
# come from the browser, which anyone can make say anything.
VERIFIED_IDENTITY = ("slack", "teams")
DONE = {
    "claim": "You claimed this escalation.",
    "assign": "The escalation was assigned.",
    "reply": "Your reply was delivered to the user.",
    "forward": "The escalation was marked as forwarded.",
    "resolve": "The escalation is resolved.",
    "reopen": "The escalation is open again.",
    "note": "Your internal note was added.",
}


def _filters(query: Any) -> tuple[QueueFilter, dict[str, str]]:
    status = query.get("status", "active")
    category = query.get("category", "")
    age = query.get("age", "")
    status = status if status in (*STATUSES, "active", "all") else "active"
    category = category if category in CATEGORIES else ""
    age = age if age in AGES else ""
    statuses = ACTIVE if status == "active" else () if status == "all" else (status,)
    _, within, before = AGES[age]
    now = utcnow()
    found = QueueFilter(
        statuses=statuses,
        category=category or None,
        newer_than=now - within if within else None,
        older_than=now - before if before else None,
    )
    return found, {"status": status, "category": category, "age": age}


async def queue(request: web.Request) -> web.StreamResponse:
    services = state_of(request).services
    filters, chosen = _filters(request.query)
    rows = await services.run_sync(list_escalations, require_db(services), filters)
    context = {
        "title": "Escalations",
        "rows": rows,
        "chosen": chosen,
        "statuses": ["active", *STATUSES, "all"],
        "categories": CATEGORIES,
        "ages": {key: label for key, (label, _, _) in AGES.items()},
        "now": utcnow(),
    }
    return await render(request, "queue.html", context)


def _number(raw: str) -> int | None:
    """An escalation's id, or the reference users are shown (ESC-00012)."""
    return escalation_id(raw)


async def _no_such_escalation(request: web.Request) -> web.Response:
    return await error_page(
        request, 404, "Not found", "No such escalation: ids are numbers like 12 or references like ESC-00012."
    )


async def _detail(
    request: web.Request, escalation_id: int, message: str | None, error: str | None, status: int = 200
) -> web.Response:
    state = state_of(request)
    services = state.services
    desk = state.desk()
    try:
        escalation = await services.run_sync(desk.get, escalation_id)
    except LookupError:
        raise web.HTTPNotFound() from None
    accounts = await services.run_sync(list_accounts, desk.db)
    context = {
        "title": escalation.reference,
        "e": escalation,
        "identity_verified": escalation.platform in VERIFIED_IDENTITY,
        "coordinators": [a for a in accounts if a.is_coordinator],
        "targets": [(t, FORWARD_NAMES[t]) for t in FORWARD_TARGETS],
        "message": message,
        "error": error,
    }
    return await render(request, "detail.html", context, status=status)


async def detail(request: web.Request) -> web.StreamResponse:
    escalation_id = _number(request.match_info["escalation_id"])
    if escalation_id is None:
        return await _no_such_escalation(request)
    return await _detail(request, escalation_id, DONE.get(request.query.get("done", "")), None)


def _actor(request: web.Request) -> Actor:
    account = request[USER].account
    return Actor(f"coordinator:{account.email}", account.id)


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def act(request: web.Request) -> web.StreamResponse:
    """POST /review/escalations/{id}/{action}: one change, then back to the escalation."""
    escalation_id = _number(request.match_info["escalation_id"])
    action = request.match_info["action"]
    if escalation_id is None or action not in DONE:
        return await _no_such_escalation(request)
    form = await request.post()
    state = state_of(request)
    desk, actor = state.desk(), _actor(request)
    run = state.services.run_sync
    try:
        if action == "reply":
            await desk.reply(escalation_id, _form_text(form, "text"), actor)
        elif action == "claim":
            await run(desk.claim, escalation_id, actor)
        elif action == "assign":
            assignee = _number(_form_text(form, "assignee"))
            if assignee is None:
                raise TransitionError("choose a coordinator to assign")
            await run(desk.assign, escalation_id, assignee, actor)
        elif action == "forward":
            await run(desk.forward, escalation_id, _form_text(form, "to"), actor, _form_text(form, "text"))
        elif action == "resolve":
            await run(desk.resolve, escalation_id, actor, _form_text(form, "text"))
        elif action == "reopen":
            await run(desk.reopen, escalation_id, actor)
        else:
            await run(desk.note, escalation_id, _form_text(form, "text"), actor)
    except LookupError:
        raise web.HTTPNotFound() from None
    except TransitionError as exc:
        return await _detail(request, escalation_id, None, str(exc), status=409)
    except DeliveryError as exc:
        message = f"The reply could not be delivered ({exc}). It was logged; nothing changed."
        return await _detail(request, escalation_id, None, message, status=502)
    return redirect(f"{PREFIX}/escalations/{escalation_id}?done={action}")
