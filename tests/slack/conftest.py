"""Fixtures for the Slack tests: the Slack stand-in on loopback, and real `ribot serve` processes pointed at
it (HTTP on a fresh PostgreSQL database, a second process on the same database, and one in Socket Mode)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from slack_payloads import SlackSender
from slack_servers import COORDINATORS, RibotProcess
from slack_standin import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackStandIn, StandInThread

PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


@pytest.fixture(scope="session")
def standin_runner() -> Iterator[StandInThread]:
    runner = StandInThread()
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def standin(standin_runner: StandInThread) -> SlackStandIn:
    return standin_runner.standin


@pytest.fixture(scope="session")
def slack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slack")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the HTTP servers, dropped afterwards."""
    import psycopg

    name = f"ribot_slack_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _slack_env(standin: SlackStandIn, data_dir: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": standin.api_url,
        "SLACK_COORDINATOR_CHANNEL": COORDINATORS,
        "RIBOT_DATA_DIR": str(data_dir),
        "PUBLIC_URL": "http://ribot.example.test",
    }


def _serve(name: str, env: dict[str, str], slack_dir: Path) -> Iterator[RibotProcess]:
    server = RibotProcess(name, env, slack_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _http_env(standin: SlackStandIn, slack_dir: Path, pg_database: str) -> dict[str, str]:
    return _slack_env(standin, slack_dir / "data") | {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": pg_database,
    }


@pytest.fixture(scope="session")
def ribot_http(standin: SlackStandIn, slack_dir: Path, pg_database: str) -> Iterator[RibotProcess]:
    env = _http_env(standin, slack_dir, pg_database)
    yield from _serve("http-a", env, slack_dir)


@pytest.fixture(scope="session")
def ribot_http_twin(
    ribot_http: RibotProcess, standin: SlackStandIn, slack_dir: Path, pg_database: str
) -> Iterator[RibotProcess]:
    """A second process on the same database, as behind a load balancer."""
    env = _http_env(standin, slack_dir, pg_database)
    yield from _serve("http-b", env, slack_dir)


@pytest.fixture(scope="session")
def ribot_socket(ribot_http: RibotProcess, standin: SlackStandIn, slack_dir: Path) -> Iterator[RibotProcess]:
    """Socket Mode: no signing secret, an app-level token, SQLite in its own data dir (index reused)."""
    env = _slack_env(standin, slack_dir / "data") | {
        "SLACK_APP_TOKEN": APP_TOKEN,
        "DATABASE_URL": f"sqlite:///{slack_dir / 'socket.sqlite3'}",
    }
    yield from _serve("socket", env, slack_dir)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sender(ribot_http: RibotProcess) -> SlackSender:
    """Signs deliveries to the HTTP process's /slack/events as Slack does."""
    return SlackSender(ribot_http.events_url, SIGNING_SECRET)
