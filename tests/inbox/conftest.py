"""Fixtures for the inbox tests: migrated databases (SQLite files and fresh PostgreSQL databases on
127.0.0.1:5432), the Slack and Bot Connector stand-ins, and real `ribot serve` processes facing them."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store.base import Database, migrate, open_database

TESTS = Path(__file__).resolve().parents[1]


def _teams_helper(name: str) -> None:
    """Loads a helper module from tests/teams without putting that folder on sys.path: its tests import
    their own `conftest` by name, which must come from there and not from here or tests/slack."""
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, TESTS / "teams" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


for helper in ("teams_activities", "connector_standin", "playground_harness"):
    _teams_helper(helper)
for folder in (TESTS / "slack", TESTS / "inbox"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # the Slack stand-in and this folder's helpers

from connector_standin import ConnectorStandIn  # noqa: E402
from deliveries import Platforms  # noqa: E402
from inbox_databases import drop_pg, fresh_pg_url  # noqa: E402
from playground_harness import ServerThread  # noqa: E402
from slack_standin import StandInThread  # noqa: E402

from tests.ports import free_port  # noqa: E402


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
