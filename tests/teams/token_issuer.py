"""A stand-in for the key endpoints of Bot Framework and Entra ID, and tokens signed as they sign them.

Microsoft publishes its signing keys as a JWK Set (`{"keys": [{"kty": "RSA", "kid", "n", "e", "x5c"?,
"endorsements"?}]}`) at https://login.botframework.com/v1/.well-known/keys and
https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys; tokens are RS256 JWTs with `kid` in the
header. This serves the same shapes on loopback and signs tokens with keys it made itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return data | {"kid": kid, "use": "sig", **extra}


@dataclass
class KeyServer:
    """Serves `/botframework/keys` and `/entra/{tenant}/keys`; `base` is set once it listens."""

    botframework_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    entra_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    base: str = ""
    fetches: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/botframework/keys", self.botframework)
        app.router.add_get("/entra/{tenant}/keys", self.entra)
        return app

    async def botframework(self, request: web.Request) -> web.Response:
        self.fetches.append(request.path)
        key = public_jwk(self.botframework_key, "bf-1", endorsements=["msteams", "webchat"])
        return web.json_response({"keys": [key]})

    async def entra(self, request: web.Request) -> web.Response:
        self.fetches.append(request.path)
        return web.json_response({"keys": [public_jwk(self.entra_key, "entra-1")]})

    @property
    def botframework_url(self) -> str:
        return f"{self.base}/botframework/keys"

    @property
    def entra_url(self) -> str:
        return self.base + "/entra/{tenant}/keys"


def botframework_claims(audience: str, service_url: str, **changes: Any) -> dict[str, Any]:
    """The claims of a token the Bot Connector sends with each activity."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 3600,
        "iss": BOTFRAMEWORK_ISSUER,
        "aud": audience,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def entra_claims(audience: str, tenant: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": f"https://login.microsoftonline.com/{tenant}/v2.0",
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + 3600,
        "tid": tenant,
        "azp": "https://api.botframework.com",
        "ver": "2.0",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str | None, alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    token: str = jwt.encode(claims, key, algorithm=alg, headers=headers)
    if kid is None:  # PyJWT adds nothing by itself, but make sure: a header with typ and alg only
        assert "kid" not in jwt.get_unverified_header(token)
    return token


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature."""
    return f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}."


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token keyed with `secret` (the classic confusion: an RSA public key used as HMAC key)."""
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"
