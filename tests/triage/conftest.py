"""Fixtures for the triage part: real databases (a SQLite file and a private schema in the PostgreSQL at
127.0.0.1:5432) and a small hand-written Answerer with the real interface."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import ConversationEngine
from bot.store import Database, migrate, open_database

sys.path.insert(0, str(Path(__file__).parent))
from triage_support import Chat, Lines, RecordingAnswerer

PG_USERS = ("postgres", "root")
PG_DSN = "host=127.0.0.1 port=5432 dbname=test user={user} connect_timeout=5"


def _pg_user() -> str:
    import psycopg

    problems = []
    for user in PG_USERS:
        try:
            with psycopg.connect(PG_DSN.format(user=user)):
                return user
        except psycopg.OperationalError as exc:
            problems.append(f"{user}: {exc}")
    pytest.fail("the PostgreSQL at 127.0.0.1:5432 (db test) is unreachable: " + "; ".join(problems))


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards, so parallel runs never meet."""
    import psycopg

    user = _pg_user()
    schema = f"triage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN.format(user=user), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN.format(user=user), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ribot.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture()
def database(db_url: str) -> Iterator[Database]:
    migrate(db_url)
    db = open_database(db_url)
    yield db
    db.dispose()


@pytest.fixture()
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    migrate(sqlite_url)
    db = open_database(sqlite_url)
    yield db
    db.dispose()


@pytest.fixture()
def stub_answerer() -> RecordingAnswerer:
    return RecordingAnswerer()


@pytest.fixture()
def engine(sqlite_db: Database, stub_answerer: RecordingAnswerer) -> ConversationEngine:
    return ConversationEngine(stub_answerer, sqlite_db, ttl_hours=24)


@pytest.fixture()
def chat(engine: ConversationEngine) -> Callable[..., Chat]:
    def make(conversation: str = "", user: str = "u1", platform: str = "web") -> Chat:
        return Chat(engine, conversation, user, platform)

    return make


@pytest.fixture()
def lines(data_dir: Path, retriever: Any, tmp_path: Path) -> Iterator[Any]:
    """Starts `ribot COMMAND --json` over the session's index and a fresh database."""
    started: list[Lines] = []

    def start(command: str) -> Lines:
        database = f"sqlite:///{tmp_path / f'{command}.sqlite3'}"
        running = Lines([command, "--json", "--database", database], data_dir, tmp_path / f"{command}.log")
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()
