"""Two `ribot serve` processes on one PostgreSQL database, both with Teams and a coordinators' channel: each
looks for unannounced escalations every few seconds, and each escalation is posted to the channel once."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import teams_activities as acts
from connector_standin import ConnectorStandIn, card_of
from playground_harness import ServerThread

from bot.store.base import migrate, open_database
from bot.store.escalations import NewEscalation, create_escalation
from tests.ports import free_port
from tests.slack.slack_servers import RibotProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def channel_connector() -> Iterator[tuple[ConnectorStandIn, str]]:
    connector = ConnectorStandIn()
    server = ServerThread(connector.app, free_port()).start()
    yield connector, f"{server.url}/"
    server.stop()


@pytest.fixture(scope="module")
def replicas(
    retriever: Any, data_dir: Path, teams_pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[RibotProcess]]:
    """Both processes share the session's index (built by `retriever`) and one database."""
    migrate(teams_pg_url)
    logs = tmp_path_factory.mktemp("teams-replicas")
    env = {
        "RIBOT_DATA_DIR": str(data_dir),
        "DATABASE_URL": teams_pg_url,
        "TEAMS_ANONYMOUS": "true",
        "TEAMS_COORDINATOR_CHANNEL": acts.CHANNEL,
        "PUBLIC_URL": "http://ribot.example.test",
    }
    servers = [RibotProcess(name, env, logs) for name in ("teams-a", "teams-b")]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def post(server: RibotProcess, activity: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"{server.url}/api/messages",
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return int(response.status)


def test_each_escalation_is_announced_once_by_two_replicas(
    replicas: list[RibotProcess], channel_connector: tuple[ConnectorStandIn, str], teams_pg_url: str
) -> None:
    connector, service_url = channel_connector
    thread = f"{acts.CHANNEL};messageid={time.monotonic_ns()}"
    mention = acts.message(
        "<at>ribot</at> hello", service_url=service_url, kind="channel", conversation_id=thread
    )
    assert post(replicas[0], mention) == 202  # ribot has now seen the channel, in the shared database

    db = open_database(teams_pg_url)
    notes = [f"Export control question {uuid.uuid4().hex[:6]}" for _ in range(3)]
    try:
        for note in notes:
            ref = {"platform": "web", "conversation_id": note}
            create_escalation(
                db, NewEscalation(note, "web", note, f"web:{note}", ref, note=note), "user:web:x"
            )
    finally:
        db.dispose()

    def announced(note: str) -> list[Any]:
        in_channel = [r for r in connector.messages() if r.conversation_id == acts.CHANNEL]
        return [r for r in in_channel if note in json.dumps(card_of(r))]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(announced(note) for note in notes):
        time.sleep(0.5)
    time.sleep(8)  # both processes poll every few seconds: give the other one its chances
    assert [len(announced(note)) for note in notes] == [1, 1, 1]
