"""Fixtures for the escalation tests: migrated databases (SQLite files and fresh PostgreSQL databases on
127.0.0.1:5432), the real conversation engine over the real answerer, and a real server on loopback
with the review console mounted."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.store.base import Database, migrate, open_database

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5"


def _pg_admin(sql: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (db test, user postgres) is needed: {exc}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"ribot_esc_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ribot.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    migrate(db_url)
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def engine(db: Database, answerer: Any) -> Any:
    """The real conversation engine (with its escalation hook) over the real answerer."""
    from bot.conversation import ConversationEngine

    return ConversationEngine(answerer, db, ttl_hours=24)


@dataclass
class Live:
    """A real ribot server in a thread: web chat, review console, the real engine and database."""

    base: str
    services: Any
    loop: asyncio.AbstractEventLoop

    @property
    def db(self) -> Database:
        db = self.services.db
        assert isinstance(db, Database)
        return db

    def call(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def _loader(answerer: Any) -> Callable[[Any], Any]:
    """Loads the real components, reusing the session's answerer instead of loading the model again."""

    def load(services: Any) -> Any:
        from bot.conversation import ConversationEngine
        from bot.outbound import WebInbox
        from bot.store.outbox import Outbox
        from connectors.batching import BatchingAnswerer
        from connectors.services import Loaded

        settings = services.settings
        migrate(settings.db_url)
        db = open_database(settings.db_url)
        batching = BatchingAnswerer(answerer, window_ms=2, observer=services.metrics.observe_batch)
        engine = ConversationEngine(batching, db, ttl_hours=24)
        return Loaded(answerer=batching, engine=engine, db=db, web_inbox=WebInbox(Outbox(db)))

    return load


@pytest.fixture
def live_factory(answerer: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Live]]:
    """`live_factory(**settings)` starts a server; every one started is stopped after the test."""
    from connectors.app import build_services, create_app
    from connectors.cli_serve import run_app

    stops: list[tuple[asyncio.AbstractEventLoop, asyncio.Event, threading.Thread]] = []

    def start(**overrides: Any) -> Live:
        data = tmp_path_factory.mktemp("review-live")
        values: dict[str, Any] = {
            "ribot_data_dir": data,
            "database_url": f"sqlite:///{data / 'ribot.sqlite3'}",
            "host": "127.0.0.1",
            "port": 0,
            "shutdown_timeout": 5,
        }
        values.update(overrides)
        settings = Settings(**values)
        services = build_services(settings, loader=_loader(answerer))
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        ports: list[int] = []
        listening = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)

            def on_listen(port: int) -> None:
                ports.append(port)
                listening.set()

            app = create_app(services)
            loop.run_until_complete(run_app(app, settings, stop=stop, announce=False, on_listen=on_listen))

        thread = threading.Thread(target=run, name="review-live", daemon=True)
        thread.start()
        assert listening.wait(30), "the server did not start listening"
        assert services._ready.wait(120), f"the server did not load: {services.load_error}"
        stops.append((loop, stop, thread))
        return Live(f"http://127.0.0.1:{ports[0]}", services, loop)

    yield start
    for loop, stop, thread in stops:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


@pytest.fixture
def live(live_factory: Callable[..., Live]) -> Live:
    return live_factory()
