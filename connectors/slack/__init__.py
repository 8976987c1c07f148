"""ribot as a Slack app (slack-bolt's AsyncApp): `/slack/events` on the shared server for HTTP delivery,
Socket Mode when an app-level token is set. `mount` is called by `connectors.app.create_app` when Slack is
configured (SLACK_BOT_TOKEN plus SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from connectors.services import Services

__all__ = ["mount"]


def mount(app: web.Application, services: Services) -> None:
    from connectors.slack.connector import mount as mount_slack

    mount_slack(app, services)
