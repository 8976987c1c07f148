"""Fixtures for the inbox tests: migrated databases (SQLite files and fresh PostgreSQL databases on
127.0.0.1:5432), the Slack and Bot Connector stand-ins, and real `ribot serve` processes facing them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store.base import Database, migrate, open_database

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "slack", TESTS / "teams", TESTS / "inbox"):
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))  # the stand-ins beside those tests (pytest runs in importlib mode)

from connector_standin import ConnectorStandIn  # noqa: E402
from deliveries import Platforms  # noqa: E402
from inbox_databases import drop_pg, fresh_pg_url  # noqa: E402
from playground_harness import ServerThread, free_port  # noqa: E402
from slack_standin import StandInThread  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ribot.sqlite3'}"
        return
    url = fresh_pg_url()
    yield url
    drop_pg(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    migrate(db_url)
    database = open_database(db_url)
    yield database
    database.dispose()


# ---- real `ribot serve` processes against the Slack and Bot Connector stand-ins -------------------------


@pytest.fixture(scope="session")
def platforms(
    retriever: Any, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platforms]:
    slack = StandInThread()
    slack.start()
    connector = ConnectorStandIn()
    teams = ServerThread(connector.app, free_port()).start()
    made = Platforms(
        slack.standin, connector, f"{teams.url}/", data_dir, tmp_path_factory.mktemp("inbox-logs")
    )
    try:
        yield made
    finally:
        for server in made.started:
            server.stop()
        slack.stop()
        teams.stop()
