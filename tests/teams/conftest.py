"""Fixtures for the Teams tests."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # the helper modules beside the tests (pytest runs with importlib mode)

from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from connector_standin import ConnectorStandIn  # noqa: E402

from bot.settings import Settings  # noqa: E402

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
