"""Microsoft Teams surface on the Microsoft 365 Agents SDK: `mount(app, services)` adds `/api/messages`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connectors.teams.auth import TeamsConfigError, teams_enabled

if TYPE_CHECKING:
    from connectors.services import Services

__all__ = ["TeamsConfigError", "mount", "teams_enabled"]

log = logging.getLogger("ribot.teams")

ROUTE = "/api/messages"


def mount(app: web.Application, services: Services) -> None:
    """Serve Teams at /api/messages and register the Teams outbound. Raises TeamsConfigError on settings
    that must not run (a client id together with TEAMS_ANONYMOUS, or neither)."""
    from microsoft_agents.hosting.aiohttp import CloudAdapter, start_agent_process

    from connectors.announcing import announce_once
    from connectors.gateway import GATEWAY
    from connectors.teams.agent import TeamsAgent
    from connectors.teams.auth import build_auth, build_guard
    from connectors.teams.outbound import TeamsOutbound
    from connectors.teams.refs import ReferenceStore, engine_of
    from connectors.teams.surface import TeamsSurface

    auth = build_auth(services.settings)
    guard = build_guard(auth, services.settings)
    # With a host validator the SDK refuses (instead of only logging) a serviceurl claim whose host is not
    # the activity's serviceUrl host; the guard has checked both already.
    adapter = CloudAdapter(connection_manager=auth.connections, host_validator=guard.hosts)
    stores: dict[str, ReferenceStore] = {}

    def references() -> ReferenceStore | None:
        if "teams" not in stores and services.db is not None:
            stores["teams"] = ReferenceStore(engine_of(services.db), "teams")
        return stores.get("teams")

    gateway = app[GATEWAY]
    agent = TeamsAgent(services, gateway, adapter, auth.connections, references)
    outbound = TeamsOutbound(adapter, auth, references)
    gateway.add_surface(TeamsSurface(outbound))
    services.outbound.register("teams", outbound)
    channel = services.settings.teams_coordinator_channel
    if channel:

        async def announce(notice: Any) -> None:
            async def post() -> None:
                await outbound.announce(notice, channel)

            await announce_once(services, "teams", notice, post)

        services.outbound.on_announce(announce)

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent.app, adapter)
        return response if response is not None else web.Response(status=202)

    app.router.add_post(ROUTE, guard.wrap(messages))
    log.info("Teams mounted at %s (%s)", ROUTE, "anonymous" if auth.anonymous else "token required")
