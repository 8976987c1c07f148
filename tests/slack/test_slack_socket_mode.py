"""End to end over Socket Mode: `ribot serve` with SLACK_APP_TOKEN opens `apps.connections.open` on the
stand-in, connects to its websocket, and gets envelopes (events_api, slash_commands, interactive) there."""

from __future__ import annotations

import json

import pytest
from slack_payloads import (
    LIVE_MENTION,
    app_mention,
    block_actions,
    buttons,
    event_callback,
    ids,
    message,
    slash_command,
    until,
)
from slack_servers import RibotProcess
from slack_standin import APP_TOKEN, SlackStandIn, StandInThread

pytestmark = [pytest.mark.slow]

ANIMALS = "Who do I contact about animal experiments abroad?"


def turns(server: RibotProcess, outcome: str) -> float:
    return server.metric("ribot_turns_total", surface="slack", outcome=outcome)


async def test_connects_through_apps_connections_open(
    ribot_socket: RibotProcess, standin: SlackStandIn
) -> None:
    await until(lambda: standin.connected.is_set())
    opened = standin.of("apps.connections.open")
    assert opened and all(c.token == APP_TOKEN for c in opened)


async def test_mention_retry_and_mass_mentions_over_the_socket(
    ribot_socket: RibotProcess, standin: SlackStandIn, standin_runner: StandInThread
) -> None:
    channel, user = ids("C"), ids("U")
    event = app_mention(channel, user, "<!channel> <!here> <@U0ALICE> " + ANIMALS)
    body = event_callback(event)
    first = await standin_runner.send_envelope("events_api", body)
    await until(lambda: first in standin.acks)
    await until(lambda: standin.posts(channel=channel))
    answered = len(standin.posts(channel=channel))
    assert all(p["thread_ts"] == event["ts"] for p in standin.posts(channel=channel))
    assert "§4.4" in json.dumps(standin.posts(channel=channel), ensure_ascii=False)
    assert not LIVE_MENTION.search(json.dumps(standin.posts(channel=channel)))

    duplicates = turns(ribot_socket, "duplicate")
    retry = await standin_runner.send_envelope("events_api", body, retry_attempt=1)
    await until(lambda: retry in standin.acks)
    await until(lambda: turns(ribot_socket, "duplicate") > duplicates)
    assert len(standin.posts(channel=channel)) == answered


async def test_direct_message_and_triage_buttons_over_the_socket(
    ribot_socket: RibotProcess, standin: SlackStandIn, standin_runner: StandInThread
) -> None:
    dm, user = ids("D"), ids("U")
    envelope = await standin_runner.send_envelope(
        "events_api", event_callback(message(dm, user, "assess", channel_type="im"))
    )
    await until(lambda: envelope in standin.acks)
    await until(lambda: standin.bot_messages(dm))
    question = standin.bot_messages(dm)[-1]
    choice = next(b for b in buttons(question) if str(b.get("value")).startswith("triage:answer:"))
    updates = len(standin.of("chat.update"))
    click = await standin_runner.send_envelope(
        "interactive", block_actions(user, question, dm, choice, standin.response_url())
    )
    await until(lambda: click in standin.acks)
    await until(lambda: len(standin.of("chat.update")) > updates)
    updated = standin.of("chat.update")[-1].params
    assert updated["channel"] == dm and updated["ts"] == question["ts"]


async def test_slash_command_over_the_socket(
    ribot_socket: RibotProcess, standin: SlackStandIn, standin_runner: StandInThread
) -> None:
    channel, user, url = ids("C"), ids("U"), standin.response_url()
    envelope = await standin_runner.send_envelope(
        "slash_commands", slash_command(user, channel, ANIMALS, url)
    )
    await until(lambda: envelope in standin.acks)
    await until(lambda: any(r["_url"] == url for r in standin.responses))
    response = next(r for r in standin.responses if r["_url"] == url)
    assert response["response_type"] == "ephemeral"
    assert "§4.4" in json.dumps(response, ensure_ascii=False)
