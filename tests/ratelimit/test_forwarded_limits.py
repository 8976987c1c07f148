"""`/api/ask` and `/api/chat` count turns per client address, read through the trusted proxies only: a real
server on loopback (the real answerer and conversation engine, a SQLite database holding the counters)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings

pytestmark = pytest.mark.slow

Client = TestClient[Any, Any]
Start = Callable[[str], Any]
LIMITS = {"ask": "2/minute", "chat": "2/minute"}


def _loader(answerer: Any) -> Callable[[Any], Any]:
    """The real components, with the session's answerer instead of a second copy of the model."""

    def load(services: Any) -> Any:
        from bot.conversation import ConversationEngine
        from bot.outbound import WebInbox
        from bot.store.base import migrate, open_database
        from bot.store.outbox import Outbox
        from connectors.batching import BatchingAnswerer
        from connectors.services import Loaded

        migrate(services.settings.db_url)
        db = open_database(services.settings.db_url)
        services.database_opened(db)
        batching = BatchingAnswerer(answerer, window_ms=2, observer=services.metrics.observe_batch)
        engine = ConversationEngine(batching, db, ttl_hours=24)
        return Loaded(answerer=batching, engine=engine, db=db, web_inbox=WebInbox(Outbox(db)))

    return load


@pytest.fixture
async def start(
    answerer: Any, settings_factory: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Start]:
    """`await start(trusted_proxies)`: ribot's server, with its real rate limits, ready to answer."""
    from connectors.app import build_services, create_app
    from connectors.ratelimit import RateLimits

    clients: list[Client] = []

    async def make(proxies: str) -> Client:
        database = tmp_path / f"{uuid.uuid4().hex[:8]}.sqlite3"
        settings = settings_factory(
            database_url=f"sqlite:///{database}", ribot_trusted_proxies=proxies, ribot_rate_limits=LIMITS
        )
        services = build_services(settings, loader=_loader(answerer))
        app = create_app(services, limiter=RateLimits.for_services(services))
        client: Client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        for _ in range(600):
            if services.ready:
                return client
            await asyncio.sleep(0.05)
        pytest.fail(f"the server never became ready: {services.load_error}")

    yield make
    for client in clients:
        await client.close()


async def statuses(client: Client, path: str, forwarded_for: str, times: int) -> list[int]:
    out = []
    for _ in range(times):
        if path == "/api/ask":
            body: dict[str, str] = {"question": "Who decides on a programme-level collaboration?"}
        else:
            body = {"conversation_id": uuid.uuid4().hex[:16], "text": "Who is told the outcome?"}
        response = await client.post(path, json=body, headers={"X-Forwarded-For": forwarded_for})
        out.append(response.status)
    return out


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
async def test_clients_behind_a_trusted_proxy_have_limits_of_their_own(start: Start, path: str) -> None:
    client = await start("127.0.0.1")  # the test client connects from loopback: it is the proxy
    assert await statuses(client, path, "198.51.100.1", 3) == [200, 200, 429]
    assert await statuses(client, path, "198.51.100.2", 2) == [200, 200]
    # what a client writes into the header itself stays left of the proxy's entry and is not believed
    assert await statuses(client, path, "198.51.100.3, 198.51.100.1", 1) == [429]


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
async def test_an_untrusted_peers_forwarded_for_is_ignored(start: Start, path: str) -> None:
    client = await start("10.0.0.0/8")  # loopback is no proxy of ours
    assert await statuses(client, path, "198.51.100.1", 2) == [200, 200]
    assert await statuses(client, path, "198.51.100.2", 1) == [429]  # the same peer, however it says
