"""Bearer tokens on /api/messages, signed here and checked against key sets served on loopback in the
shapes Bot Framework and Entra ID publish: the one good token passes, every other one gets 401 (never 500)
and reaches nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import teams_activities as acts
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import CLIENT_ID_VARIABLE
from cryptography.hazmat.primitives import serialization
from token_issuer import (
    KeyServer,
    b64,
    botframework_claims,
    entra_claims,
    hmac_signed,
    new_key,
    sign,
    unsigned,
)

from bot.settings import Settings
from connectors.teams.auth import build_auth, build_guard
from connectors.teams.guard import CLAIMS_KEY, ServiceHosts

APP_ID = "0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11"
OTHER_TENANT = "5f1c2b3a-0000-4000-8000-00000000abcd"
CLIENT = {
    CLIENT_ID_VARIABLE: APP_ID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "not-a-real-secret",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": acts.TENANT,
}


@dataclass
class Door:
    """The guard in front of a handler that records the identity each admitted request carried."""

    url: str
    keys: KeyServer
    service_url: str
    admitted: list[Any]

    async def post(self, authorization: str | None, activity: dict[str, Any] | None = None) -> int:
        headers = {} if authorization is None else {"Authorization": authorization}
        body = activity if activity is not None else acts.message("hello", service_url=self.service_url)
        async with aiohttp.ClientSession() as http, http.post(self.url, json=body, headers=headers) as resp:
            await resp.read()
            return resp.status


@pytest.fixture
async def keys() -> AsyncIterator[KeyServer]:
    server = KeyServer()
    running = TestServer(server.app(), host="127.0.0.1")
    await running.start_server()
    server.base = str(running.make_url("")).rstrip("/")
    yield server
    await running.close()


def token_settings(teams_settings: Callable[..., Settings], keys: KeyServer, **values: Any) -> Settings:
    defaults = {
        "teams_botframework_keys_url": keys.botframework_url,
        "teams_entra_keys_url": keys.entra_url,
        "teams_service_hosts": "127.0.0.1",
    }
    return teams_settings(**CLIENT, **(defaults | values))


@pytest.fixture
async def door(teams_settings: Any, keys: KeyServer) -> AsyncIterator[Door]:
    settings = token_settings(teams_settings, keys)
    guard = build_guard(build_auth(settings), settings)
    admitted: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        admitted.append(request[CLAIMS_KEY])
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/api/messages", guard.wrap(handler))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    service_url = "http://127.0.0.1:9/"
    yield Door(str(server.make_url("/api/messages")), keys, service_url, admitted)
    await server.close()


def bf(door: Door, **changes: Any) -> dict[str, Any]:
    return botframework_claims(APP_ID, door.service_url, **changes)


async def test_a_bot_framework_token_for_this_activity_is_admitted(door: Door) -> None:
    token = sign(bf(door), door.keys.botframework_key, "bf-1")
    assert await door.post(f"Bearer {token}") == 202
    (identity,) = door.admitted
    assert identity.claims["aud"] == APP_ID and identity.security_token == token
    assert not identity.allow_anonymous


async def test_an_entra_token_of_the_apps_tenant_is_admitted(door: Door) -> None:
    token = sign(entra_claims(APP_ID, acts.TENANT), door.keys.entra_key, "entra-1")
    assert await door.post(f"Bearer {token}") == 202
    assert door.keys.fetches == [f"/entra/{acts.TENANT}/keys"]


def _refused_tokens(door: Door) -> dict[str, str]:
    bf_key, entra_key = door.keys.botframework_key, door.keys.entra_key
    public_pem = bf_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    good = sign(bf(door), bf_key, "bf-1")
    header, payload, signature = good.split(".")
    swapped = b64(json.dumps({"iss": "https://api.botframework.com", "aud": APP_ID, "exp": 4_000_000_000}))
    return {
        "no kid": sign(bf(door), bf_key, None),
        "empty kid": sign(bf(door), bf_key, ""),
        "kid not in the key set": sign(bf(door), bf_key, "bf-9"),
        "bad base64 header": f"!!!{header}.{payload}.{signature}",
        "bad base64 payload": f"{header}.{payload[:-3]}*&^.{signature}",
        "header not JSON": f"{b64('not json')}.{payload}.{signature}",
        "two parts": f"{header}.{payload}",
        "alg none": unsigned({"alg": "none", "kid": "bf-1"}, bf(door)),
        "alg HS256 keyed with the public key": hmac_signed(
            {"alg": "HS256", "kid": "bf-1", "typ": "JWT"}, bf(door), public_pem
        ),
        "alg RS512": sign(bf(door), bf_key, "bf-1", alg="RS512"),
        "signed by another key": sign(bf(door), new_key(), "bf-1"),
        "payload swapped after signing": f"{header}.{swapped}.{signature}",
        "expired": sign(bf(door, exp=1_600_000_000, nbf=1_599_990_000), bf_key, "bf-1"),
        "no exp": sign(bf(door, exp=None), bf_key, "bf-1"),
        "not yet valid": sign(bf(door, nbf=4_000_000_000), bf_key, "bf-1"),
        "wrong audience": sign(bf(door, aud="another-app"), bf_key, "bf-1"),
        "audience list": sign(bf(door, aud=[APP_ID, "another-app"]), bf_key, "bf-1"),
        "no issuer": sign(bf(door, iss=None), bf_key, "bf-1"),
        "unknown issuer": sign(bf(door, iss="https://evil.example"), bf_key, "bf-1"),
        "another tenant's issuer": sign(entra_claims(APP_ID, OTHER_TENANT), entra_key, "entra-1"),
        "tid other than the issuer's": sign(
            entra_claims(APP_ID, acts.TENANT, tid=OTHER_TENANT), entra_key, "entra-1"
        ),
        "Entra issuer signed with the Bot Framework key": sign(
            entra_claims(APP_ID, acts.TENANT), bf_key, "bf-1"
        ),
        "serviceurl of another host": sign(
            bf(door, serviceurl="https://smba.trafficmanager.net/x/"), bf_key, "bf-1"
        ),
        "Bot Framework token without serviceurl": sign(bf(door, serviceurl=None), bf_key, "bf-1"),
        "huge": "a" * 8_000,  # under the server's header limit (8190), so the check sees it
    }


REFUSED = [
    "no kid",
    "empty kid",
    "kid not in the key set",
    "bad base64 header",
    "bad base64 payload",
    "header not JSON",
    "two parts",
    "alg none",
    "alg HS256 keyed with the public key",
    "alg RS512",
    "signed by another key",
    "payload swapped after signing",
    "expired",
    "no exp",
    "not yet valid",
    "wrong audience",
    "audience list",
    "no issuer",
    "unknown issuer",
    "another tenant's issuer",
    "tid other than the issuer's",
    "Entra issuer signed with the Bot Framework key",
    "serviceurl of another host",
    "Bot Framework token without serviceurl",
    "huge",
]


@pytest.mark.parametrize("case", REFUSED)
async def test_every_other_token_gets_401(door: Door, case: str) -> None:
    token = _refused_tokens(door)[case]
    assert await door.post(f"Bearer {token}") == 401
    assert door.admitted == []


async def test_the_activity_must_name_a_trusted_service_url(door: Door) -> None:
    for service_url in ("http://evil.example/", "https://evil.example/", "http://user:pw@127.0.0.1:9/", ""):
        token = sign(bf(door, serviceurl=service_url or None), door.keys.botframework_key, "bf-1")
        activity = acts.message("hello", service_url=service_url)
        assert await door.post(f"Bearer {token}", activity) == 401, service_url
    assert door.admitted == []


async def test_unreachable_key_sets_give_503(teams_settings: Any, keys: KeyServer) -> None:
    settings = token_settings(teams_settings, keys, teams_botframework_keys_url="http://127.0.0.1:9/keys")
    guard = build_guard(build_auth(settings), settings)

    async def handler(request: web.Request) -> web.Response:
        raise AssertionError("nothing may be admitted")

    app = web.Application()
    app.router.add_post("/api/messages", guard.wrap(handler))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        token = sign(botframework_claims(APP_ID, "http://127.0.0.1:9/"), keys.botframework_key, "bf-1")
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {token}"}
            body = acts.message("hi", service_url="http://127.0.0.1:9/")
            async with http.post(server.make_url("/api/messages"), json=body, headers=headers) as resp:
                assert resp.status == 503 and resp.headers["Retry-After"]
    finally:
        await server.close()


def test_service_hosts_are_microsofts_over_https_and_the_listed_ones() -> None:
    hosts = ServiceHosts(["127.0.0.1", " teams-proxy.ki.se "])
    assert hosts.is_allowed("https://smba.trafficmanager.net/emea/")
    assert hosts.is_allowed("https://europe.webchat.botframework.com/")
    assert not hosts.is_allowed("http://smba.trafficmanager.net/emea/")
    assert hosts.is_allowed("http://127.0.0.1:3979/") and hosts.is_allowed("https://teams-proxy.ki.se/")
    for url in ("https://evil.example/", "https://smba.trafficmanager.net.evil.example/", "ftp://127.0.0.1/"):
        assert not hosts.is_allowed(url), url
    assert not hosts.is_allowed("https://user:pw@smba.trafficmanager.net/") and not hosts.is_allowed("")


@pytest.mark.parametrize(
    "case", ["no kid", "bad base64 header", "alg none", "no exp", "another tenant's issuer"]
)
async def test_the_served_route_refuses_malformed_tokens_with_401(
    teams_settings: Any, start_ribot: Any, connector: Any, keys: KeyServer, case: str
) -> None:
    standin, service_url = connector

    def never_loads(services: Any) -> Any:
        raise RuntimeError("this test runs without the model")

    server = await start_ribot(token_settings(teams_settings, keys), never_loads)
    door = Door(str(server.make_url("/api/messages")), keys, service_url, [])
    token = _refused_tokens(door)[case]
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}"}
        body = acts.message("hello", service_url=service_url)
        async with http.post(door.url, json=body, headers=headers) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"] == "unauthorized"
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert standin.received == []
