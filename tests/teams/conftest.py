"""Fixtures for the Teams tests."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Condition
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # the helper modules beside the tests (pytest runs with importlib mode)

from connector_standin import ConnectorStandIn  # noqa: E402
from playground_harness import (  # noqa: E402
    ARTIFACTS,
    Playground,
    ServerThread,
    is_local,
)

from bot.settings import Settings  # noqa: E402
from bot.types import Reply, Turn  # noqa: E402
from tests.browser import FLAGS, require_chromium  # noqa: E402
from tests.ports import free_port  # noqa: E402

CLIENT_ID_VARIABLE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"


@pytest.fixture
def teams_settings(tmp_path: Path, clean_env: None) -> Callable[..., Settings]:
    """Settings for one test's server: its own data dir and SQLite database; Teams options by keyword."""

    def make(**values: Any) -> Settings:
        values.setdefault("ribot_data_dir", tmp_path / "data")
        return Settings(**values)

    return make


StartServer = Callable[[Settings, Callable[[Any], Any]], Awaitable[TestServer]]


@pytest.fixture
async def start_ribot() -> AsyncIterator[StartServer]:
    """Start `ribot serve`'s application (connectors.app.create_app) on loopback with the given loader."""
    from connectors.app import build_services, create_app

    servers: list[TestServer] = []

    async def start(settings: Settings, loader: Callable[[Any], Any]) -> TestServer:
        server = TestServer(create_app(build_services(settings, loader)), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[ConnectorStandIn, str]]:
    """The Bot Connector stand-in and the serviceUrl that points at it."""
    standin = ConnectorStandIn()
    server = TestServer(standin.app(), host="127.0.0.1")
    await server.start_server()
    yield standin, str(server.make_url("/"))
    await server.close()


# --- End-to-end: ribot's server, the Agents Playground and chromium ---------------------------------------


PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
READY_TIMEOUT = 300.0


@pytest.fixture(scope="session")
def teams_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the end-to-end server, dropped afterwards."""
    import psycopg

    name = f"ribot_teams_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TurnRecorder:
    """Delegates to the real conversation engine and keeps each Turn with the replies it produced."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.exchanges: list[tuple[Turn, list[Reply]]] = []
        self._changed = Condition()

    def handle(self, turn: Turn) -> list[Reply]:
        replies: list[Reply] = self.engine.handle(turn)
        with self._changed:
            self.exchanges.append((turn, replies))
            self._changed.notify_all()
        return replies

    @property
    def turns(self) -> list[Turn]:
        with self._changed:
            return [turn for turn, _ in self.exchanges]

    def wait_for(self, matches: Callable[[Turn], bool], timeout: float = 120) -> tuple[Turn, list[Reply]]:
        """The first exchange whose Turn matches, waiting for it to happen."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((ex for ex in self.exchanges if matches(ex[0])), None), timeout=timeout
            )
        if found is None:
            pytest.fail(f"ribot's engine saw no matching Turn in {timeout} s; it saw {self.turns}")
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


@dataclass
class TeamsStack:
    server: ServerThread
    playground: Playground
    services: Any
    recorder: TurnRecorder
    markers: set[str] = field(default_factory=set)

    def marker(self) -> str:
        value = uuid.uuid4().hex[:8]
        self.markers.add(value)
        return value


def _wait_ready(server: ServerThread, services: Any) -> None:
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if services.load_error:
            pytest.fail(f"ribot could not load: {services.load_error}")
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail("ribot never became ready")


@pytest.fixture(scope="session")
def teams_stack(
    retriever: Any, data_dir: Path, teams_pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TeamsStack]:
    """`ribot serve`'s application, Teams in anonymous mode, on PostgreSQL; the Playground facing it."""
    from connectors.app import build_services, create_app

    settings = Settings(ribot_data_dir=data_dir, database_url=teams_pg_url, teams_anonymous=True, port=0)
    services = build_services(settings)
    server = ServerThread(lambda: create_app(services), free_port()).start()
    playground: Playground | None = None
    try:
        _wait_ready(server, services)
        recorder = TurnRecorder(services.engine)
        services.engine = recorder
        playground = Playground(f"{server.url}/api/messages", tmp_path_factory.mktemp("playground")).start()
        yield TeamsStack(server, playground, services, recorder)
    finally:
        if playground is not None:
            playground.stop()
        server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def playground_page(chromium: Any, teams_stack: TeamsStack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The Playground's Teams page; requests leaving the machine (its CDN fonts) are blocked."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1280, "height": 1000})

    def only_local(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)  # a busy machine renders slowly; these are waits, not time limits
    page.goto(teams_stack.playground.url)
    page.locator('[data-lexical-editor="true"][role=textbox]').wait_for()
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()
