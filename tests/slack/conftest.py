"""Fixtures for the Slack tests: the Slack stand-in on loopback, and real `ribot serve` processes pointed at
it (HTTP on a fresh PostgreSQL database, a second process on the same database, and one in Socket Mode)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from slack_standin import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackStandIn, StandInThread

REPO = Path(__file__).resolve().parents[2]
RIBOT = REPO / ".venv" / "bin" / "ribot"
COORDINATORS = "C0COORDINATORS"
PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
READY_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RibotProcess:
    """One `ribot serve` subprocess on loopback."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "RIBOT_"))}
        base.update({"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
        base.update(env)
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            [str(RIBOT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=log_dir,
            env=base,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"ribot serve ({self.name}) exited:\n{self.log.read_text()[-4000:]}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        pytest.fail(f"ribot serve ({self.name}) never became ready:\n{self.log.read_text()[-4000:]}")

    def metric(self, name: str, **labels: str) -> float:
        """The current value of one metric sample from /metrics (0 when absent)."""
        text = requests.get(f"{self.url}/metrics", timeout=5).text
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
            if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
                total += float(match.group(2))
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._out.close()


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
        "PUBLIC_URL": "https://ribot.example.test",
    }


@pytest.fixture(scope="session")
def ribot_http(standin: SlackStandIn, slack_dir: Path, pg_database: str) -> Iterator[RibotProcess]:
    env = _slack_env(standin, slack_dir / "data") | {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": pg_database,
    }
    server = RibotProcess("http-a", env, slack_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ribot_http_twin(
    ribot_http: RibotProcess, standin: SlackStandIn, slack_dir: Path, pg_database: str
) -> Iterator[RibotProcess]:
    """A second process on the same database, as behind a load balancer."""
    env = _slack_env(standin, slack_dir / "data") | {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": pg_database,
    }
    server = RibotProcess("http-b", env, slack_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ribot_socket(ribot_http: RibotProcess, standin: SlackStandIn, slack_dir: Path) -> Iterator[RibotProcess]:
    """Socket Mode: no signing secret, an app-level token, SQLite in its own data dir (index reused)."""
    env = _slack_env(standin, slack_dir / "data") | {
        "SLACK_APP_TOKEN": APP_TOKEN,
        "DATABASE_URL": f"sqlite:///{slack_dir / 'socket.sqlite3'}",
    }
    server = RibotProcess("socket", env, slack_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
