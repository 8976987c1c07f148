"""Who may post to `/api/messages`.

With a client id configured every request must carry a Bot Framework / Entra token that the Agents SDK's
JWT validation accepts. Without one, requests are anonymous, which is only allowed when TEAMS_ANONYMOUS
is set (local development and the Agents Playground). Both at once is a configuration error: the server
refuses to start rather than silently accepting unauthenticated traffic.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentAuthConfiguration

from bot.settings import Settings

SERVICE_CONNECTION = "SERVICE_CONNECTION"
SDK_ENV_PREFIX = "CONNECTIONS__"
CLIENT_ID_VARIABLE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
# The name under which the SDK's JWT decorator looks the configuration up on the aiohttp application.
AGENT_CONFIGURATION_KEY = "agent_configuration"


class TeamsConfigError(RuntimeError):
    """The Teams settings contradict each other or are incomplete."""


@dataclass(frozen=True)
class TeamsAuth:
    anonymous: bool
    client_id: str | None
    connections: MsalConnectionManager

    @property
    def validation(self) -> AgentAuthConfiguration:
        return self.connections.get_default_connection_configuration()


def teams_enabled(settings: Settings) -> bool:
    return bool(settings.teams_client_id) or settings.teams_anonymous


def check_settings(settings: Settings) -> None:
    if settings.teams_client_id and settings.teams_anonymous:
        raise TeamsConfigError(
            f"TEAMS_ANONYMOUS=true is refused while {CLIENT_ID_VARIABLE} is set: "
            "anonymous access is for local development without a client id only."
        )
    if not teams_enabled(settings):
        raise TeamsConfigError(
            f"Teams is not configured: set {CLIENT_ID_VARIABLE} (with its secret and tenant id), "
            "or TEAMS_ANONYMOUS=true for local development."
        )


def _sdk_configuration(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    """The SDK's own CONNECTIONS__… variables (auth type, certificates, …), with ribot's settings on top."""
    sdk_env = {key: value for key, value in environ.items() if key.startswith(SDK_ENV_PREFIX)}
    config = load_configuration_from_env(sdk_env)
    connection = config["CONNECTIONS"].setdefault(SERVICE_CONNECTION, {})
    values = connection.setdefault("SETTINGS", {})
    values["CLIENTID"] = settings.teams_client_id
    if settings.teams_client_secret:
        values["CLIENTSECRET"] = settings.teams_client_secret
    if settings.teams_tenant_id:
        values["TENANTID"] = settings.teams_tenant_id
    values["ANONYMOUS_ALLOWED"] = False
    return config


def build_auth(settings: Settings, environ: Mapping[str, str] | None = None) -> TeamsAuth:
    check_settings(settings)
    if settings.teams_anonymous:
        anonymous = AgentAuthConfiguration(anonymous_allowed=True)
        manager = MsalConnectionManager(connections_configurations={SERVICE_CONNECTION: anonymous})
        return TeamsAuth(anonymous=True, client_id=None, connections=manager)
    config = _sdk_configuration(settings, settings.teams_sdk_environment() if environ is None else environ)
    manager = MsalConnectionManager(**config)
    return TeamsAuth(anonymous=False, client_id=settings.teams_client_id, connections=manager)


def install_validation(app: web.Application, auth: TeamsAuth) -> None:
    """Give the SDK's JWT check its configuration; it reads it from the application by this plain name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app[AGENT_CONFIGURATION_KEY] = auth.validation


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require_token(handler: Handler) -> Handler:
    """Wrap a route handler in the SDK's JWT validation (401 without a valid token unless anonymous)."""
    wrapped: Handler = jwt_authorization_decorator(handler)  # type: ignore[no-untyped-call]
    return wrapped
