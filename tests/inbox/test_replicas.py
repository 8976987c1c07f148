"""Two `ribot serve` processes on one PostgreSQL database, as behind a load balancer: Slack and Teams
retries of one delivery, sent to both at once, produce one answer; and when one process is SIGKILLed right
after acknowledging a batch, the other takes its deliveries over once their leases run out and answers each
exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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
from inbox_databases import drop_pg, fresh_pg_url
from slack_payloads import SlackSender
from slack_servers import RibotProcess
from slack_standin import SIGNING_SECRET

from bot.store.base import migrate

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def shared_pg() -> Iterator[str]:
    url = fresh_pg_url()
    yield url
    drop_pg(url)


@pytest.fixture(scope="module")
def replicas(platforms: Platforms, shared_pg: str) -> Iterator[tuple[RibotProcess, RibotProcess]]:
    migrate(shared_pg)
    first = platforms.serve("replica-a", shared_pg)
    second = platforms.serve("replica-b", shared_pg)
    yield first, second
    for server in (first, second):
        server.stop()


async def _retries(urls: list[str], batch: Batch) -> list[int]:
    """Every delivery of the batch, sent to every process at once, Slack's marked as retries."""
    async with aiohttp.ClientSession() as http:

        async def slack(url: str, body: dict[str, object], attempt: int) -> int:
            sender = SlackSender(f"{url}/slack/events", SIGNING_SECRET)
            return (await sender.send_event(http, body, retry=attempt)).status

        async def teams(url: str, activity: dict[str, object]) -> int:
            async with http.post(f"{url}/api/messages", json=activity) as response:
                return response.status

        sends = [slack(url, body, n) for body in batch.slack for n, url in enumerate(urls * 2)]
        sends += [teams(url, activity) for activity in batch.teams for url in urls * 2]
        return list(await asyncio.gather(*sends))


def test_retries_to_both_processes_are_answered_once(
    platforms: Platforms, replicas: tuple[RibotProcess, RibotProcess], shared_pg: str
) -> None:
    batch = Batch.make(6, platforms.teams_url, platforms.slack)
    batch.web = []
    statuses = asyncio.run(_retries([r.url for r in replicas], batch))
    assert set(statuses) <= {200, 202}
    wait_until_answered(shared_pg)
    check_slack(platforms.slack, batch)
    check_teams(platforms.teams, batch)
    duplicates = sum(
        r.metric("ribot_turns_total", surface=s, outcome="duplicate")
        for r in replicas
        for s in ("slack", "teams")
    )
    assert duplicates == 3 * (len(batch.slack) + len(batch.teams))


def test_the_other_process_takes_over_what_a_killed_one_acknowledged(
    platforms: Platforms, replicas: tuple[RibotProcess, RibotProcess], shared_pg: str
) -> None:
    killed, survivor = replicas
    batch = Batch.make(10, platforms.teams_url, platforms.slack)
    platforms.teams.refusing = True  # nothing the killed process sends to Teams gets through
    try:
        statuses = asyncio.run(send(killed.url, batch))
        killed.kill()
    finally:
        platforms.teams.refusing = False
    assert statuses == {200: 10, 202: 20}
    assert open_deliveries(shared_pg) >= 10, "the kill interrupted nothing: the run did not test a takeover"
    wait_until_answered(shared_pg)
    check_slack(platforms.slack, batch)
    check_teams(platforms.teams, batch)
    asyncio.run(check_web(survivor.url, batch))
