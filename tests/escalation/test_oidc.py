"""OIDC sign-in to the console against an identity provider stand-in on loopback that speaks the protocol
(discovery, JWKS, token endpoint with PKCE, RS256-signed ID tokens)."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from bot.store import coordinators
from bot.store.escalation_tables import Coordinator
from tests.escalation.conftest import Live

CLIENT_ID = "ribot-review"
SECRET = "s3cret-value"


@dataclass
class Provider:
    """The stand-in: remembers each authorization request and issues tokens for codes the test approves."""

    key: rsa.RSAPrivateKey  # signs ID tokens
    published: rsa.RSAPrivateKey  # its public half is in the JWKS
    issuer: str = ""
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def approve(self, authorize_url: str, claims: dict[str, Any], nonce: str | None = None) -> str:
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        code = uuid.uuid4().hex
        self.grants[code] = {"query": query, "claims": claims, "nonce": nonce or query["nonce"]}
        return code

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_post("/token", self.token)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.published.public_key(), as_dict=True)
        return web.json_response({"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]})

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        grant = self.grants.pop(form.get("code", ""), None)
        if request.headers.get("Authorization") != expected or grant is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(
            b"="
        )
        if challenge.decode() != grant["query"]["code_challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"]}
        claims |= grant["claims"]
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
        return web.json_response({"access_token": "at", "token_type": "Bearer", "id_token": token})


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    made = Provider(key, key)
    server = TestServer(made.app(), host="127.0.0.1")
    await server.start_server()
    made.issuer = str(server.make_url("")).rstrip("/")
    yield made
    await server.close()


@pytest.fixture
def oidc_live(live_factory: Any, provider: Provider) -> Live:
    live: Live = live_factory(
        review_oidc_issuer=provider.issuer,
        review_oidc_client_id=CLIENT_ID,
        review_oidc_client_secret=SECRET,
        review_oidc_coordinator_group="ribot-coordinators",
    )
    return live


async def _start(http: aiohttp.ClientSession, live: Live) -> str:
    async with http.get(
        f"{live.base}/review/oidc/login?next=%2Freview%2Finsight", allow_redirects=False
    ) as r:
        assert r.status == 302
        return r.headers["Location"]


async def _callback(http: aiohttp.ClientSession, live: Live, code: str, state: str) -> aiohttp.ClientResponse:
    url = f"{live.base}/review/oidc/callback?code={code}&state={state}"
    async with http.get(url, allow_redirects=False) as response:
        await response.read()
        return response


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_login_page_offers_oidc_and_the_redirect_carries_state_nonce_and_pkce(
    oidc_live: Live, provider: Provider
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{oidc_live.base}/review/login") as response:
            assert "/review/oidc/login" in await response.text()
        location = await _start(http, oidc_live)
        again = await _start(http, oidc_live)
    assert location.startswith(f"{provider.issuer}/authorize?")
    query = _query(location)
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{oidc_live.base}/review/oidc/callback"
    assert query["scope"] == "openid email profile" and query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 24 and len(query["nonce"]) >= 24 and len(query["code_challenge"]) == 43
    assert _query(again)["state"] != query["state"]


async def test_callback_refuses_a_wrong_or_missing_state(oidc_live: Live, provider: Provider) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        location = await _start(http, oidc_live)
        code = provider.approve(
            location, {"sub": "s-1", "email": "anna@ki.se", "groups": ["ribot-coordinators"]}
        )
        assert (await _callback(http, oidc_live, code, "forged-state")).status == 403
        assert (await _callback(http, oidc_live, code, "")).status == 403
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as stranger:
        # Right state, but started in another browser: no state cookie here.
        assert (await _callback(stranger, oidc_live, code, _query(location)["state"])).status == 403
    assert provider.token_requests == []  # nothing was exchanged


async def test_group_claim_signs_in_a_coordinator(oidc_live: Live, provider: Provider) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        location = await _start(http, oidc_live)
        claims = {
            "sub": "s-1",
            "email": "anna@ki.se",
            "email_verified": True,
            "name": "Anna",
            "groups": ["x", "ribot-coordinators"],
        }
        code = provider.approve(location, claims)
        response = await _callback(http, oidc_live, code, _query(location)["state"])
        assert response.status == 303 and response.headers["Location"] == "/review/insight"
        async with http.get(f"{oidc_live.base}/review/insight", allow_redirects=False) as page:
            assert page.status == 200
    assert provider.token_requests[0]["redirect_uri"] == f"{oidc_live.base}/review/oidc/callback"
    accounts = coordinators.list_accounts(oidc_live.db)
    assert [(a.email, a.is_coordinator, a.has_password) for a in accounts] == [("anna@ki.se", True, False)]


async def test_unknown_people_get_an_account_without_access(oidc_live: Live, provider: Provider) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        location = await _start(http, oidc_live)
        claims = {"sub": "s-2", "email": "student@stud.ki.se", "email_verified": True, "groups": ["students"]}
        code = provider.approve(location, claims)
        assert (await _callback(http, oidc_live, code, _query(location)["state"])).status == 303
        async with http.get(f"{oidc_live.base}/review", allow_redirects=False) as page:
            assert page.status == 403


async def _sign_in(live: Live, provider: Provider, claims: dict[str, Any]) -> tuple[int, int]:
    """One whole sign-in in a fresh browser: the callback's status, then the console's."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        location = await _start(http, live)
        code = provider.approve(location, claims)
        callback = await _callback(http, live, code, _query(location)["state"])
        async with http.get(f"{live.base}/review", allow_redirects=False) as page:
            return callback.status, page.status


async def test_existing_coordinator_is_matched_by_a_verified_email(
    oidc_live: Live, provider: Provider
) -> None:
    coordinators.add_account(oidc_live.db, "bo@ki.se", "Bo", "a long enough password")
    assert await _sign_in(
        oidc_live, provider, {"sub": "s-3", "email": "Bo@KI.se", "email_verified": True}
    ) == (
        303,
        200,
    )
    # bound to the subject from now on: the e-mail claim no longer matters
    assert await _sign_in(oidc_live, provider, {"sub": "s-3"}) == (303, 200)


@pytest.mark.parametrize("verified", [None, False, "false", "yes", 1])
async def test_an_email_the_provider_does_not_mark_verified_links_nothing(
    oidc_live: Live, provider: Provider, verified: Any
) -> None:
    coordinators.add_account(oidc_live.db, "bo@ki.se", "Bo", "a long enough password")
    claims: dict[str, Any] = {"sub": "attacker", "email": "bo@ki.se"}
    if verified is not None:
        claims["email_verified"] = verified
    assert await _sign_in(oidc_live, provider, claims) == (403, 302)
    (account,) = coordinators.list_accounts(oidc_live.db)
    with oidc_live.db.session() as session:
        stored = session.get(Coordinator, account.id)
        assert stored is not None and stored.oidc_subject is None


ENTRA_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _entra(oid: str, sub: str, email: str) -> dict[str, Any]:
    """An Entra ID token's identity claims: `oid` and `tid`, a pairwise `sub`, and no email_verified."""
    return {"sub": sub, "oid": oid, "tid": ENTRA_TENANT, "email": email, "name": "Bo", "ver": "2.0"}


async def test_an_entra_user_with_a_coordinators_address_does_not_inherit_the_account(
    oidc_live: Live, provider: Provider
) -> None:
    coordinators.add_account(oidc_live.db, "bo@ki.se", "Bo", "a long enough password")
    claims = _entra("00000000-0000-0000-0000-0000000000e1", "pairwise-1", "bo@ki.se")
    assert await _sign_in(oidc_live, provider, claims) == (403, 302)
    assert [a.email for a in coordinators.list_accounts(oidc_live.db)] == ["bo@ki.se"]


async def test_a_trusted_email_claim_links_entra_users_by_their_object_id(
    live_factory: Any, provider: Provider
) -> None:
    live: Live = live_factory(
        review_oidc_issuer=provider.issuer,
        review_oidc_client_id=CLIENT_ID,
        review_oidc_client_secret=SECRET,
        review_oidc_trusted_email_claim="email",
    )
    coordinators.add_account(live.db, "bo@ki.se", "Bo", "a long enough password")
    oid = "00000000-0000-0000-0000-0000000000b0"
    assert await _sign_in(live, provider, _entra(oid, "pairwise-1", "bo@ki.se")) == (303, 200)
    # another app registration gives another `sub`; the object id is the same person
    assert await _sign_in(live, provider, _entra(oid, "pairwise-2", "renamed@ki.se")) == (303, 200)
    with live.db.session() as session:
        (stored,) = session.scalars(select(Coordinator)).all()
        assert stored.email == "bo@ki.se" and stored.oidc_subject == f"{provider.issuer}|oid:{oid}"
    # a second person claiming the same address cannot take the bound account over
    other = _entra("00000000-0000-0000-0000-0000000000ee", "pairwise-3", "bo@ki.se")
    assert await _sign_in(live, provider, other) == (403, 302)


def test_the_stable_subject_is_scoped_by_issuer() -> None:
    from connectors.review.oidc import stable_subject

    one = stable_subject({"iss": "https://idp.ki.se", "sub": "42"})
    assert one == "https://idp.ki.se|sub:42"
    assert stable_subject({"iss": "https://other.example", "sub": "42"}) != one
    assert (
        stable_subject({"iss": "https://x", "sub": "s", "oid": "o"}) == "https://x|sub:s"
    )  # oid without tid
    long = stable_subject({"iss": "https://idp.ki.se", "sub": "x" * 400})
    assert long.startswith("sha256:") and len(long) <= 300


async def test_tokens_for_another_sign_in_or_with_a_bad_signature_are_refused(
    oidc_live: Live, provider: Provider
) -> None:
    good_claims = {"sub": "s-1", "email": "anna@ki.se", "groups": ["ribot-coordinators"]}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        location = await _start(http, oidc_live)
        code = provider.approve(location, good_claims, nonce="some-other-sign-in")
        response = await _callback(http, oidc_live, code, _query(location)["state"])
        assert response.status == 403

        location = await _start(http, oidc_live)
        code = provider.approve(location, good_claims)
        real_key = provider.key
        provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # signs, JWKS unchanged
        try:
            response = await _callback(http, oidc_live, code, _query(location)["state"])
        finally:
            provider.key = real_key
        assert response.status == 403

        location = await _start(http, oidc_live)
        code = provider.approve(location, {"sub": "s-9", "email": "x@ki.se", "email_verified": False})
        assert (await _callback(http, oidc_live, code, _query(location)["state"])).status == 403
        async with http.get(f"{oidc_live.base}/review", allow_redirects=False) as page:
            assert page.status == 302  # never signed in
