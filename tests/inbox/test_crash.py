"""What was acknowledged survives SIGKILL: signed Slack events, Teams activities and web-chat messages sent
at once to `ribot serve`, the process killed right after the acknowledgements, started again, and each
delivery answered exactly once. SQLite and PostgreSQL.

The Bot Connector is down while the first process runs (it answers 503): Teams cannot tell a bot whether a
message that was on its way got through, so this keeps every Teams reply in the first process's hands
unsent. Slack stays up: a message posted just before the kill is found by its metadata and not posted again
(the next test holds one such post deliberately)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from deliveries import (
    Batch,
    Platforms,
    check_slack,
    check_teams,
    check_web,
    open_deliveries,
    send,
    wait_until_answered,
)
from slack_payloads import SlackSender, event_callback, ids, message
from slack_standin import SIGNING_SECRET

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PER_SURFACE = 12


def test_acknowledged_deliveries_are_answered_once_after_sigkill(platforms: Platforms, db_url: str) -> None:
    first = platforms.serve(f"crash-{db_url.split(':')[0]}-1", db_url)
    batch = Batch.make(PER_SURFACE, platforms.teams_url, platforms.slack)
    platforms.teams.refusing = True
    try:
        statuses = asyncio.run(send(first.url, batch))
        first.kill()
    finally:
        platforms.teams.refusing = False
    assert statuses == {200: PER_SURFACE, 202: 2 * PER_SURFACE}
    interrupted = open_deliveries(db_url)
    assert interrupted >= PER_SURFACE, "the kill interrupted nothing: the run did not test a crash"

    second = platforms.serve(f"crash-{db_url.split(':')[0]}-2", db_url)
    wait_until_answered(db_url)
    check_slack(platforms.slack, batch)
    check_teams(platforms.teams, batch)
    asyncio.run(check_web(second.url, batch))
    second.stop()


def test_a_post_slack_took_just_before_the_kill_is_not_posted_again(
    platforms: Platforms, db_url: str
) -> None:
    first = platforms.serve(f"doubt-{db_url.split(':')[0]}-1", db_url)
    channel = ids("D")
    question = "Who decides about a formalised collaboration?"
    body = event_callback(message(channel, ids("U"), question, channel_type="im"))
    platforms.slack.hold("chat.postMessage")  # Slack posts it; its answer never reaches the killed process
    try:
        assert asyncio.run(_deliver(first.events_url, body)) == 200
        deadline = time.monotonic() + 120
        while not platforms.slack.posts(channel=channel):
            assert time.monotonic() < deadline, "ribot never posted"
            time.sleep(0.05)
        first.kill()
    finally:
        platforms.slack.release("chat.postMessage")
    assert open_deliveries(db_url) == 1

    second = platforms.serve(f"doubt-{db_url.split(':')[0]}-2", db_url)
    wait_until_answered(db_url)
    reads = [c for c in platforms.slack.of("conversations.history") if c.params.get("channel") == channel]
    assert reads, "the message in doubt was not looked for"
    check_slack(platforms.slack, Batch(slack=[body]))
    second.stop()


async def _deliver(url: str, body: dict[str, Any]) -> int:
    async with aiohttp.ClientSession() as http:
        return (await SlackSender(url, SIGNING_SECRET).send_event(http, body)).status
