"""OpenID Connect sign-in for the console (authorization code flow with PKCE, state and nonce).

Settings: REVIEW_OIDC_ISSUER, REVIEW_OIDC_CLIENT_ID, REVIEW_OIDC_CLIENT_SECRET, REVIEW_OIDC_SCOPES and
REVIEW_OIDC_COORDINATOR_GROUP; the provider must allow `<PUBLIC_URL>/review/oidc/callback` as redirect URI.
Someone who signs in is bound to an account by the provider's stable subject (`oid` for Entra ID, else
`sub`). The first sign-in links to the account with the same e-mail address only when the provider marks
that address verified (`email_verified: true`) or the operator trusts a claim as one
(REVIEW_OIDC_TRUSTED_EMAIL_CLAIM, e.g. `email` or `preferred_username` for a single-tenant Entra ID); without
one the sign-in is refused. The account carries the coordinator role when an administrator granted it
(`ribot coordinators add`) or when the ID token's `groups` or `roles` claim holds REVIEW_OIDC_COORDINATOR_GROUP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.store.coordinators import OidcLinkError, oidc_account
from connectors.review.auth import (
    BAD_NEXT,
    clear_cookie,
    forbidden,
    next_is_malformed,
    safe_next,
    set_cookie,
    tokens_match,
)
from connectors.review.common import PREFIX, error_page, redirect, require_db, state_of
from connectors.review.login import begin_session

STATE_COOKIE = "ribot_review_oidc"
CALLBACK = f"{PREFIX}/oidc/callback"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_SUBJECT = 300  # review_accounts.oidc_subject


class OidcError(Exception):
    """The provider's answer cannot be trusted or used; the message is safe to show."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Pending:
    """What the browser carries (in an HttpOnly cookie) between the redirect and the callback."""

    state: str
    nonce: str
    verifier: str
    next: str

    def encode(self) -> str:
        return _b64(json.dumps([self.state, self.nonce, self.verifier, self.next]).encode())

    @classmethod
    def decode(cls, raw: str | None) -> Pending | None:
        if not raw or len(raw) > 4000:
            return None
        try:
            values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (ValueError, TypeError):
            return None
        if not (isinstance(values, list) and len(values) == 4 and all(isinstance(v, str) for v in values)):
            return None
        return cls(*values)


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        if not settings.review_oidc_issuer or not settings.review_oidc_client_id:
            raise ValueError("REVIEW_OIDC_ISSUER and REVIEW_OIDC_CLIENT_ID are needed for OIDC sign-in")
        self.issuer = settings.review_oidc_issuer.rstrip("/")
        self.client_id = settings.review_oidc_client_id
        self.client_secret = settings.review_oidc_client_secret or ""
        self.scopes = settings.review_oidc_scopes
        self.group = settings.review_oidc_coordinator_group
        self.trusted_email_claim = settings.review_oidc_trusted_email_claim
        self._config: tuple[float, dict[str, Any]] | None = None

    async def _get(self, url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.get(url) as response:
            if response.status != 200:
                raise OidcError(f"the identity provider answered {response.status} for {url}")
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise OidcError("the identity provider sent something that is not a JSON object")
        return data

    async def configuration(self) -> dict[str, Any]:
        if self._config and time.monotonic() - self._config[0] < 3600:
            return self._config[1]
        config = await self._get(f"{self.issuer}/.well-known/openid-configuration")
        if str(config.get("issuer", "")).rstrip("/") != self.issuer:
            raise OidcError("the provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(config.get(key), str):
                raise OidcError(f"the provider's discovery document has no {key}")
        self._config = (time.monotonic(), config)
        return config

    async def authorization_url(self, redirect_uri: str, pending: Pending) -> str:
        config = await self.configuration()
        challenge = _b64(hashlib.sha256(pending.verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in config["authorization_endpoint"] else "?"
        return f"{config['authorization_endpoint']}{separator}{urlencode(query)}"

    async def exchange(self, code: str, redirect_uri: str, verifier: str) -> str:
        """The ID token for an authorization code."""
        config = await self.configuration()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        form["code_verifier"] = verifier
        methods = config.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        headers = {}
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both parts form-encoded before the Basic scheme's base64.
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.post(config["token_endpoint"], data=form, headers=headers) as response,
        ):
            body = await response.json(content_type=None)
        if response.status != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise OidcError("the identity provider did not issue an ID token for this sign-in")
        return str(body["id_token"])

    async def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        import jwt

        config = await self.configuration()
        jwks = await self._get(config["jwks_uri"])
        try:
            keys = jwt.PyJWKSet.from_dict(jwks)
            header = jwt.get_unverified_header(id_token)
            key = next(k for k in keys.keys if k.key_id == header.get("kid") or header.get("kid") is None)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=config["issuer"],
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except (StopIteration, jwt.PyJWTError) as exc:
            raise OidcError("the ID token did not verify") from exc
        if not tokens_match(nonce, claims.get("nonce")):
            raise OidcError("the ID token belongs to another sign-in (nonce)")
        return claims

    def verified_email(self, claims: dict[str, Any]) -> str | None:
        """The e-mail address the provider vouches for: the operator's trusted claim, else `email` when
        `email_verified` is true. None otherwise (an absent `email_verified` is not a yes)."""
        if self.trusted_email_claim:
            value = claims.get(self.trusted_email_claim)
        elif claims.get("email_verified") is True or claims.get("email_verified") == "true":
            value = claims.get("email")
        else:
            return None
        return value if isinstance(value, str) and "@" in value and len(value) <= 320 else None

    def grants_coordinator(self, claims: dict[str, Any]) -> bool:
        if not self.group:
            return False
        values: list[Any] = []
        for name in ("groups", "roles"):
            found = claims.get(name)
            values.extend(found if isinstance(found, list) else [found])
        return self.group in values


def stable_subject(claims: dict[str, Any]) -> str:
    """Who signed in, for good: the issuer with Entra ID's object id `oid` (the same for every app of the
    tenant) when the token is Entra's, else the subject `sub`, which is unique within its issuer only."""
    oid, tid = claims.get("oid"), claims.get("tid")
    claim, value = (
        ("oid", oid) if isinstance(oid, str) and oid and isinstance(tid, str) and tid else ("sub", None)
    )
    key = f"{claims['iss']}|{claim}:{value if value is not None else claims['sub']}"
    return key if len(key) <= MAX_SUBJECT else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


OIDC = web.AppKey("review_oidc", OidcClient)


def redirect_uri(request: web.Request) -> str:
    public = state_of(request).services.settings.public_url
    base = public.rstrip("/") if public else str(request.url.origin())
    return base + CALLBACK


async def oidc_login(request: web.Request) -> web.StreamResponse:
    if next_is_malformed(request.query.get("next")):
        return await error_page(request, 400, "Malformed link", BAD_NEXT)
    client = request.app[OIDC]
    pending = Pending(
        secrets.token_urlsafe(24),
        secrets.token_urlsafe(24),
        secrets.token_urlsafe(48),
        safe_next(request.query.get("next")),
    )
    try:
        location = await client.authorization_url(redirect_uri(request), pending)
    except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
        raise web.HTTPBadGateway(text=f"Sign-in with the identity provider is unavailable: {exc}") from exc
    response = redirect(location, status=302)
    set_cookie(request, response, STATE_COOKIE, pending.encode(), max_age=600)
    return response


async def oidc_callback(request: web.Request) -> web.StreamResponse:
    pending = Pending.decode(request.cookies.get(STATE_COOKIE))
    if pending is None or not tokens_match(pending.state, request.query.get("state")):
        return await forbidden(
            request, "This sign-in did not start here or has expired. Try signing in again."
        )
    if request.query.get("error") or not request.query.get("code"):
        return await forbidden(request, "The identity provider did not sign you in.")
    client = request.app[OIDC]
    try:
        token = await client.exchange(request.query["code"], redirect_uri(request), pending.verifier)
        claims = await client.verify(token, pending.nonce)
    except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
        return await forbidden(request, f"Sign-in failed: {exc}")
    email = client.verified_email(claims)
    name = claims.get("name") if isinstance(claims.get("name"), str) else email or ""
    services = state_of(request).services
    try:
        account = await services.run_sync(
            lambda: oidc_account(
                require_db(services),
                stable_subject(claims),
                email,
                str(name),
                coordinator_by_claim=client.grants_coordinator(claims),
            )
        )
    except OidcLinkError as exc:
        return await forbidden(request, str(exc))
    response = await begin_session(request, account, pending.next)
    clear_cookie(request, response, STATE_COOKIE)
    return response
