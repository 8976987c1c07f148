"""Who may post to `/api/messages`.

With a client id configured every request must carry a Bot Framework / Entra token that passes ribot's
check (connectors.teams.tokens, .guard). Without one, requests are anonymous, which is only allowed when
TEAMS_ANONYMOUS is set (local development and the Agents Playground). Both at once is a configuration error: the server
refuses to start rather than silently accepting unauthenticated traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import AgentAuthConfiguration

from bot.settings import Settings
from connectors.teams.guard import ServiceHosts, TeamsGuard
from connectors.teams.tokens import KeySources, TeamsTokenValidator

SERVICE_CONNECTION = "SERVICE_CONNECTION"
SDK_ENV_PREFIX = "CONNECTIONS__"
CLIENT_ID_VARIABLE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"


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


def build_guard(auth: TeamsAuth, settings: Settings) -> TeamsGuard:
    """The check in front of /api/messages: tokens and service URLs, or nothing in anonymous mode."""
    if auth.anonymous:
        return TeamsGuard(None, None)
    sources = KeySources(
        botframework=settings.teams_botframework_keys_url or KeySources.botframework,
        entra=settings.teams_entra_keys_url or KeySources.entra,
    )
    hosts = ServiceHosts(settings.teams_service_hosts.split(","))
    return TeamsGuard(TeamsTokenValidator(auth.validation, sources), hosts)
