"""Checking the bearer token on every request to `/api/messages` when a client id is configured.

The Agents SDK's own check leaves issuer validation off unless asked, accepts a token without `exp`, and
answers 500 to a token whose header has no `kid`. ribot checks tokens itself with PyJWT instead, by Bot
Framework's rules: RS256 only, a `kid` found in the key set of the token's issuer, the issuer one of those
the SDK trusts for this app (Bot Framework, the app's own tenant, Microsoft's first-party tenants), the app
id as audience, `exp` required, an Entra token's `tid` matching its issuer's tenant. Every token that fails
any of these is refused with 401; key sets that cannot be fetched give 503, so the channel retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization._entra_issuers import (
    BOTFRAMEWORK_GOV_ISSUER,
    BOTFRAMEWORK_PUBLIC_ISSUER,
    entra_issuer_info,
    well_known_first_party_issuers,
)

log = logging.getLogger("ribot.teams")

ALGORITHM = "RS256"
LEEWAY_SECONDS = 300  # Bot Framework allows five minutes of clock skew
MAX_TOKEN_CHARS = 16_000
BOTFRAMEWORK_KEYS_URL = "https://login.botframework.com/v1/.well-known/keys"
ENTRA_KEYS_URL = "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"


class TokenRefused(Exception):
    """The token is not one ribot accepts; the message names the check, never the token."""


class KeysUnavailable(Exception):
    """The issuer's signing keys could not be fetched: nothing can be said about the token yet."""


@dataclass(frozen=True)
class KeySources:
    """Where the signing keys of Bot Framework and of Entra ID are published (settings, for sovereign clouds
    and for tests)."""

    botframework: str = BOTFRAMEWORK_KEYS_URL
    entra: str = ENTRA_KEYS_URL


class TeamsTokenValidator:
    def __init__(self, configuration: AgentAuthConfiguration, sources: KeySources) -> None:
        if not configuration.CLIENT_ID:
            raise ValueError("token validation needs the app's client id")
        self.audience = configuration.CLIENT_ID
        tenant = configuration.TENANT_ID or "common"
        issuers = [*configuration.ISSUERS, *well_known_first_party_issuers(configuration.AUTHORITY)]
        self._keys_for: dict[str, str] = {}
        for issuer in issuers:
            botframework = issuer in (BOTFRAMEWORK_PUBLIC_ISSUER, BOTFRAMEWORK_GOV_ISSUER)
            url = sources.botframework if botframework else sources.entra.format(tenant=tenant)
            self._keys_for[issuer.lower()] = url
        self._clients = {url: jwt.PyJWKClient(url, timeout=10) for url in set(self._keys_for.values())}

    @property
    def issuers(self) -> list[str]:
        return sorted(self._keys_for)

    async def validate(self, token: str) -> dict[str, Any]:
        """The token's claims once every check passed; TokenRefused or KeysUnavailable otherwise."""
        kid, issuer = _unverified_parts(token)
        keys_url = self._keys_for.get(issuer.lower())
        if keys_url is None:
            raise TokenRefused("the token's issuer is not trusted for this app")
        key = await asyncio.to_thread(self._signing_key, keys_url, kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"], "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"the token did not verify ({type(exc).__name__})") from exc
        _check_tenant(claims)
        return claims

    def _signing_key(self, keys_url: str, kid: str) -> jwt.PyJWK:
        try:
            return self._clients[keys_url].get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("the signing keys at %s could not be fetched: %s", keys_url, exc)
            raise KeysUnavailable(f"the signing keys could not be fetched from {keys_url}") from exc
        except jwt.PyJWTError as exc:
            raise TokenRefused("the token's key id is not in its issuer's key set") from exc


def _unverified_parts(token: str) -> tuple[str, str]:
    """The header's key id and the payload's issuer, read before anything is trusted (to pick the key)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("the token is empty or too long")
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"the token is malformed ({type(exc).__name__})") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenRefused(f"the token is not signed with {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise TokenRefused("the token's header names no key id")
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise TokenRefused("the token names no issuer")
    return kid, issuer


def _check_tenant(claims: Mapping[str, Any]) -> None:
    """An Entra token's `tid` must be the tenant its issuer names (a trusted issuer speaks for itself only)."""
    info = entra_issuer_info(claims.get("iss"))
    tid = claims.get("tid")
    if info is not None and tid is not None and (not isinstance(tid, str) or tid.lower() != info.tenant):
        raise TokenRefused("the token's tenant does not match its issuer")
