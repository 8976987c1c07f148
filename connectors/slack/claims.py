"""Claiming an escalation from its announcement in the coordinators' channel. Membership of that channel is
what makes someone a coordinator here; the audit log records the Slack user who claimed."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from connectors.services import Services
from connectors.slack import views
from connectors.slack.delivery import Poster
from connectors.slack.events import Target
from connectors.slack.text import escape


class ClaimContext(Protocol):
    """What claiming needs of the Slack handlers."""

    services: Services
    poster: Poster
    coordinator_channel: str | None


log = logging.getLogger("ribot.slack")


async def claim_from_slack(handlers: ClaimContext, body: dict[str, Any], action: dict[str, Any]) -> None:
    from bot.review import Actor, ReviewDesk
    from bot.store.escalations import TransitionError

    services = handlers.services
    container = body.get("container") or {}
    channel = str(container.get("channel_id") or "")
    user = str((body.get("user") or {}).get("id") or "")
    value = str(action.get("value") or "")
    response_url = body.get("response_url")
    if channel != handlers.coordinator_channel or not value.startswith("claim:"):
        return
    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
        return
    if not value.removeprefix("claim:").isdigit() or services.db is None:
        return
    desk = ReviewDesk(services.db, services.outbound)
    try:
        view = await services.run_sync(desk.claim, int(value.removeprefix("claim:")), Actor(f"slack:{user}"))
    except (LookupError, TransitionError) as exc:
        if response_url:
            note = {"text": escape(str(exc)), "blocks": views.note_blocks(f"Not claimed: {exc}")}
            await handlers.poster.post(Target(channel=channel, response_url=str(response_url)), [note])
        return
    message = body.get("message") or {}
    blocks = views.claimed(list(message.get("blocks") or []), str(action.get("block_id")), user)
    target = Target(channel=channel, update_ts=str(container.get("message_ts") or ""))
    await handlers.poster.update(target, {"text": message.get("text") or view.reference, "blocks": blocks})
