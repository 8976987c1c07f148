"""Announcing new escalations in Slack's coordinators' channel, once across the processes sharing the
database (connectors.announcing)."""

from __future__ import annotations

from typing import Protocol

from bot.outbound import EscalationNotice
from connectors.announcing import announce_once
from connectors.services import Services
from connectors.slack import views
from connectors.slack.delivery import Poster
from connectors.slack.events import Target


class Announcer(Protocol):
    """What announcing needs of the Slack connector."""

    services: Services
    poster: Poster


async def announce(connector: Announcer, notice: EscalationNotice) -> None:
    channel = connector.services.settings.slack_coordinator_channel
    if not channel:
        return

    async def post() -> None:
        await connector.poster.post(Target(channel=channel), [views.announcement(notice)])

    await announce_once(connector.services, "slack", notice, post)
