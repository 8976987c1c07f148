"""The door of `/api/messages`: a request reaches the Teams agent only with a token ribot accepts
(connectors.teams.tokens) and an activity whose `serviceUrl` that token vouches for.

Bot Framework puts the channel's service URL in the token's `serviceurl` claim; the activity names the URL
ribot will send its replies (and its own bearer token) to. The two must have the same host, and that host
must be one of Microsoft's channel hosts (the SDK's OutboundHostValidator) or one the operator listed in
TEAMS_SERVICE_HOSTS. The same validator is handed to the SDK's CloudAdapter, which checks it again.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from microsoft_agents.hosting.core import ClaimsIdentity, OutboundHostValidator
from yarl import URL

from connectors.http import json_error
from connectors.teams.tokens import KeysUnavailable, TeamsTokenValidator, TokenRefused

log = logging.getLogger("ribot.teams")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLAIMS_KEY = "claims_identity"  # where the SDK's request adapter looks for the caller's identity
SERVICE_URL_CLAIM = "serviceurl"
MAX_TOKEN_HEADER = 16_100


class ServiceHosts(OutboundHostValidator):
    """Which hosts an activity's serviceUrl may name: Microsoft's (https only, as the SDK decides) and the
    hosts the operator trusts by name (a private channel proxy, a test connector)."""

    def __init__(self, extra_hosts: Iterable[str] = ()) -> None:
        super().__init__(enabled=True)
        self._extra = {host.strip().lower() for host in extra_hosts if host.strip()}

    def is_allowed(self, url: str | URL) -> bool:
        parsed = _url(url)
        if parsed is None or not parsed.host or parsed.user or parsed.password:
            return False
        if parsed.host.lower() in self._extra and parsed.scheme in ("http", "https"):
            return True
        return bool(super().is_allowed(url))


def _url(value: object) -> URL | None:
    if isinstance(value, URL):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return URL(value)
    except (ValueError, TypeError):
        return None


def _bearer(header: str | None) -> str | None:
    if not header or len(header) > MAX_TOKEN_HEADER:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(ch.isspace() for ch in token):
        return None
    return token


def _refused(message: str) -> web.Response:
    response = json_error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def service_url_problem(claims: dict[str, Any], service_url: object, hosts: ServiceHosts) -> str | None:
    """Why this activity's serviceUrl may not be used with this token; None when it may."""
    activity_url = _url(service_url)
    if activity_url is None or not activity_url.host:
        return "the activity names no usable serviceUrl"
    if not hosts.is_allowed(activity_url):
        return "the activity's serviceUrl is not a Teams channel host ribot trusts"
    claimed = claims.get(SERVICE_URL_CLAIM)
    if claimed is None and claims.get("iss") in (
        "https://api.botframework.com",
        "https://api.botframework.us",
    ):
        return "the Bot Framework token carries no serviceurl claim"
    if claimed is not None:
        claimed_url = _url(claimed)
        if claimed_url is None or (claimed_url.host or "").casefold() != activity_url.host.casefold():
            return "the activity's serviceUrl is not the one the token was issued for"
    return None


_NOT_AN_OBJECT = object()


async def _service_url(request: web.Request) -> object:
    """The activity's serviceUrl (None when missing); a body that is not a JSON object gives a marker and
    is left for the SDK to refuse with 400."""
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):
        return _NOT_AN_OBJECT
    return body.get("serviceUrl") if isinstance(body, dict) else _NOT_AN_OBJECT


class TeamsGuard:
    """Wraps the route handler. Anonymous mode (TEAMS_ANONYMOUS, no client id) lets every request in with
    an anonymous identity, as the Agents Playground needs."""

    def __init__(self, validator: TeamsTokenValidator | None, hosts: ServiceHosts | None) -> None:
        self.validator = validator
        self.hosts = hosts

    def wrap(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.validator is None or self.hosts is None:
                _set_identity(request, ClaimsIdentity())
                return await handler(request)
            refusal = await self._check(request, self.validator, self.hosts)
            return refusal if refusal is not None else await handler(request)

        return guarded

    async def _check(
        self, request: web.Request, validator: TeamsTokenValidator, hosts: ServiceHosts
    ) -> web.Response | None:
        token = _bearer(request.headers.get("Authorization"))
        if token is None:
            return _refused("Send the Bot Framework token as `Authorization: Bearer <token>`.")
        try:
            claims = await validator.validate(token)
        except TokenRefused as exc:
            log.warning("refused a Teams request: %s", exc)
            return _refused("The token was not accepted.")
        except KeysUnavailable:
            response = json_error(503, "not_ready", "The token cannot be checked right now; try again.")
            response.headers["Retry-After"] = "10"
            return response
        service_url = await _service_url(request)
        if service_url is not _NOT_AN_OBJECT:
            problem = service_url_problem(claims, service_url, hosts)
            if problem is not None:
                log.warning("refused a Teams request: %s", problem)
                return _refused("The activity's serviceUrl does not match the token.")
        _set_identity(request, ClaimsIdentity(claims, security_token=token))
        return None


def _set_identity(request: web.Request, identity: ClaimsIdentity) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)  # the SDK reads this plain string key
        request[CLAIMS_KEY] = identity
