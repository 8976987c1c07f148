"""Stores for the rate-limit tests: a SQLite file, a fresh PostgreSQL database on 127.0.0.1:5432 and the Redis
at 127.0.0.1:6379 (each test gets its own key prefix there, removed afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store.base import Database, migrate, open_database

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _pg_admin(sql: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (db test, user postgres) is needed: {exc}")


@dataclass
class Store:
    kind: str  # "sqlite", "postgresql" or "redis"
    db_url: str  # the database ribot runs on (also for "redis": the login code needs one)
    redis_url: str | None

    def settings_values(self) -> dict[str, str]:
        values = {"database_url": self.db_url}
        if self.redis_url:
            values["ribot_redis_url"] = self.redis_url
        return values


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"ribot_rl_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis at 127.0.0.1:6379 is needed: {exc}")
    yield REDIS_URL
    client.close()


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    sqlite_url = f"sqlite:///{tmp_path / 'ribot.sqlite3'}"
    if request.param == "sqlite":
        return Store("sqlite", sqlite_url, None)
    if request.param == "postgresql":
        return Store("postgresql", request.getfixturevalue("pg_url"), None)
    return Store("redis", sqlite_url, request.getfixturevalue("redis_url"))


@pytest.fixture
def db(store: Store) -> Iterator[Database]:
    migrate(store.db_url)
    database = open_database(store.db_url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The database stores only (the counters table itself, and the memory fallback before it loads)."""
    if request.param == "sqlite":
        return Store("sqlite", f"sqlite:///{tmp_path / 'ribot.sqlite3'}", None)
    return Store("postgresql", request.getfixturevalue("pg_url"), None)


@pytest.fixture
def sql_db(sql_store: Store) -> Iterator[Database]:
    migrate(sql_store.db_url)
    database = open_database(sql_store.db_url)
    yield database
    database.dispose()
