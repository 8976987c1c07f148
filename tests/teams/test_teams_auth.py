"""Who may post to /api/messages: a valid token whenever a client id is set; anonymous only on request."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import teams_activities as acts
from conftest import CLIENT_ID_VARIABLE

from connectors.edge_texts import say
from connectors.teams import TeamsConfigError

CLIENT = {
    CLIENT_ID_VARIABLE: "0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "not-a-real-secret",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": acts.TENANT,
}


def never_loads(services: Any) -> Any:
    raise RuntimeError("this test runs without the model")


async def test_client_id_with_anonymous_refuses_to_start(teams_settings: Any, start_ribot: Any) -> None:
    settings = teams_settings(**CLIENT, teams_anonymous=True)
    with pytest.raises(TeamsConfigError, match="TEAMS_ANONYMOUS"):
        await start_ribot(settings, never_loads)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c extra", "bearer \u00e9"],
)
async def test_with_a_client_id_requests_without_a_valid_token_get_401(
    teams_settings: Any, start_ribot: Any, connector: Any, authorization: str | None
) -> None:
    standin, service_url = connector
    server = await start_ribot(teams_settings(**CLIENT), never_loads)
    headers = {} if authorization is None else {"Authorization": authorization}
    async with aiohttp.ClientSession() as http:
        url = server.make_url("/api/messages")
        activity = acts.message("hello", service_url=service_url)
        async with http.post(url, json=activity, headers=headers) as resp:
            assert resp.status == 401
    assert standin.received == []


async def test_anonymous_requests_reach_the_agent_when_allowed(
    teams_settings: Any, start_ribot: Any, connector: Any
) -> None:
    standin, service_url = connector
    server = await start_ribot(teams_settings(teams_anonymous=True), never_loads)
    async with aiohttp.ClientSession() as http:
        url = server.make_url("/api/messages")
        async with http.post(url, json=acts.message("hello", service_url=service_url)) as resp:
            assert resp.status == 202
    (reply,) = await standin.wait_for_messages(1)
    assert reply.activity["text"] == say("not_ready", "en")
    assert reply.reply_to is not None


async def test_malformed_activities_are_refused_without_reaching_the_agent(
    teams_settings: Any, start_ribot: Any, connector: Any
) -> None:
    standin, _ = connector
    server = await start_ribot(teams_settings(teams_anonymous=True), never_loads)
    async with aiohttp.ClientSession() as http:
        url = server.make_url("/api/messages")
        async with http.post(url, data=b"{not json", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400
        async with http.post(url, json={"type": "message", "text": "no conversation"}) as resp:
            assert resp.status == 400
    assert standin.received == []


def test_teams_off_without_either_setting(teams_settings: Any) -> None:
    from connectors.teams.auth import build_auth, teams_enabled

    settings = teams_settings()
    assert not teams_enabled(settings)
    with pytest.raises(TeamsConfigError, match="not configured"):
        build_auth(settings)


async def test_mount_registers_the_outbound_and_the_channel_announcement(
    teams_settings: Any, start_ribot: Any
) -> None:
    from connectors.app import SERVICES

    plain = await start_ribot(teams_settings(teams_anonymous=True), never_loads)
    assert plain.app[SERVICES].outbound.get("teams") is not None
    assert not plain.app[SERVICES].outbound.has_announce_hooks
    settings = teams_settings(teams_anonymous=True, teams_coordinator_channel=acts.CHANNEL)
    announcing = await start_ribot(settings, never_loads)
    assert announcing.app[SERVICES].outbound.has_announce_hooks
