"""Fixtures for the server tests: real aiohttp servers on loopback.

Unit tests use the small stand-ins below for the answerer and the conversation engine (with a real SQLite
database), so the HTTP behaviour can be pinned down (a loader that waits on a gate, an engine that blocks). The
end-to-end and browser tests use the real components (`real_server`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.outbound import WebInbox
from bot.settings import Settings
from bot.store.base import migrate, open_database
from bot.store.outbox import Outbox
from bot.types import Answer, Choice, Citation, ContactRef, Reply, Turn
from connectors.app import Loaded, Services, build_services, create_app
from connectors.batching import BatchingAnswerer


def stub_answer(question: str) -> Answer:
    return Answer(
        answer=f"About: {question}",
        grounded=True,
        citations=(
            Citation(section="4.4", title="KI's Animal Welfare Body", quote="Quoted text.", score=0.8),
        ),
        contacts=(ContactRef(id="animal_welfare_body", name="KI's Animal Welfare Body", why="4.4"),),
    )


class StubAnswerer:
    """Echoes the question; records each ask_many batch. `hold` makes the next ask_many wait."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold: threading.Event | None = None
        self.entered = threading.Event()
        self.lock = threading.Lock()

    def ask(self, question: str, context: object = None) -> Answer:
        return stub_answer(question)

    def ask_many(self, questions: list[str], contexts: object = None) -> list[Answer]:
        with self.lock:
            self.batches.append(list(questions))
        self.entered.set()
        if self.hold is not None:
            self.hold.wait(10)
        return [stub_answer(q) for q in questions]


class StubEngine:
    """Answers text through the answerer, echoes actions; `block` holds a turn until released."""

    def __init__(self, answerer: BatchingAnswerer) -> None:
        self.answerer = answerer
        self.turns: list[Turn] = []
        self.block: threading.Event | None = None
        self.started = threading.Event()

    def handle(self, turn: Turn) -> list[Reply]:
        self.turns.append(turn)
        logging.getLogger("ribot.stub-engine").info("handling a turn")
        self.started.set()
        if self.block is not None:
            self.block.wait(10)
        if turn.action:
            return [
                Reply(kind="text", text=f"pressed {turn.action}", actions=[Choice("triage:back", "Back")])
            ]
        answer = self.answerer.ask(turn.text)
        return [Reply(kind="answer", text=answer.answer, answer=answer)]


@dataclass
class Stubs:
    """A loader with a real SQLite database (opened first, as the real loader does) and the stand-ins above
    for the model; `gate` holds the rest of the loading back."""

    database: Path
    answerer: StubAnswerer = field(default_factory=StubAnswerer)
    gate: threading.Event = field(default_factory=threading.Event)
    fail_with: Exception | None = None
    engine: StubEngine | None = None
    db: Any = None  # what the loader reports as its database, when a test wants something else

    def loader(self, services: Services) -> Loaded:
        db = open_database(f"sqlite:///{self.database}")
        migrate(db)
        services.database_opened(db)
        self.gate.wait(30)
        if self.fail_with is not None:
            raise self.fail_with
        batching = BatchingAnswerer(self.answerer, window_ms=2, observer=services.metrics.observe_batch)
        self.engine = StubEngine(batching)
        return Loaded(answerer=batching, engine=self.engine, db=self.db or db, web_inbox=WebInbox(Outbox(db)))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(ribot_data_dir=tmp_path / "data", host="127.0.0.1", port=0, shutdown_timeout=10)


@pytest.fixture
def stubs(tmp_path: Path) -> Iterator[Stubs]:
    made = Stubs(tmp_path / "stub.sqlite3")
    yield made
    made.gate.set()  # never leave a loader thread waiting
    if made.answerer.hold is not None:
        made.answerer.hold.set()
    if made.engine is not None and made.engine.block is not None:
        made.engine.block.set()


ClientFactory = Callable[..., Any]


@pytest.fixture
async def client_of(settings: Settings) -> AsyncIterator[ClientFactory]:
    """`await client_of(stubs)` -> a TestClient for a real server on 127.0.0.1 over those stubs."""
    clients: list[TestClient[Any, Any]] = []

    async def make(stubs: Stubs) -> TestClient[Any, Any]:
        services = build_services(settings, loader=stubs.loader)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(services), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(client_of: ClientFactory, stubs: Stubs) -> TestClient[Any, Any]:
    """A server whose loading has finished."""
    stubs.gate.set()
    made: TestClient[Any, Any] = await client_of(stubs)
    await _wait_ready(made)
    return made


@pytest.fixture
def wait_ready() -> Callable[[TestClient[Any, Any]], Any]:
    return _wait_ready


async def _wait_ready(client: TestClient[Any, Any], attempts: int = 300) -> None:
    import asyncio

    for _ in range(attempts):
        response = await client.get("/readyz")
        if response.status == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server never became ready")


@dataclass
class LiveServer:
    """A real server (the real loader unless told otherwise) on its own event loop in a thread."""

    base: str
    services: Services
    loop: Any

    def deliver(self, conversation_id: str, replies: list[Reply]) -> None:
        import asyncio

        ref = {"platform": "web", "conversation_id": conversation_id}
        coro = self.services.outbound.deliver("web", ref, replies)
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


@pytest.fixture(scope="module")
def live_server(
    settings_factory: Callable[..., Settings], retriever: Any, tmp_path_factory: Any
) -> Iterator[LiveServer]:
    import asyncio

    from connectors.cli_serve import run_app

    database = tmp_path_factory.mktemp("live-db") / "ribot.sqlite3"
    settings = settings_factory(port=0, shutdown_timeout=5, database_url=f"sqlite:///{database}")
    services = build_services(settings)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    port: list[int] = []
    listening = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        def on_listen(bound: int) -> None:
            port.append(bound)
            listening.set()

        loop.run_until_complete(
            run_app(create_app(services), settings, stop=stop, announce=False, on_listen=on_listen)
        )

    thread = threading.Thread(target=run, name="live-server", daemon=True)
    thread.start()
    assert listening.wait(30), "the live server did not start listening"
    services._ready.wait(240)
    if not services.ready:
        pytest.fail(f"the live server did not load its components: {services.load_error}")
    yield LiveServer(f"http://127.0.0.1:{port[0]}", services, loop)
    loop.call_soon_threadsafe(stop.set)
    thread.join(60)


# The web chat's browser fixtures (chromium on the live server), for the browser tests of this folder.
from tests.server.web_chat import browser_context, page  # noqa: E402, F401
