"""Conversation references in the database (migration 0003_platform_refs), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store.base import Database, migrate, open_database
from connectors.teams.refs import ReferenceStore

PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
CHANNEL = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'refs.sqlite3'}"
        migrate(url)
        database = open_database(url)
        yield database
        database.dispose()
        return
    import psycopg

    name = f"ribot_teams_refs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        database = open_database(url)
        yield database
        database.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_creates_the_table(db: Database) -> None:
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("platform_refs")}
    assert columns == {"platform", "conversation_id", "reference", "updated_at"}


def test_remember_get_and_update(db: Database) -> None:
    teams, slack = ReferenceStore(db.engine, "teams"), ReferenceStore(db.engine, "slack")
    assert teams.get("a:personal") is None
    teams.remember("a:personal", {"serviceUrl": "http://127.0.0.1:1/", "n": 1})
    teams.remember("a:personal", {"serviceUrl": "http://127.0.0.1:2/", "n": 2})
    assert teams.get("a:personal") == {"serviceUrl": "http://127.0.0.1:2/", "n": 2}
    assert slack.get("a:personal") is None


def test_a_channel_is_found_through_any_of_its_threads(db: Database) -> None:
    store = ReferenceStore(db.engine, "teams")
    store.remember(f"{CHANNEL};messageid=1", {"thread": 1})
    store.remember("19:other_channel@thread.tacv2;messageid=2", {"thread": 2})
    assert store.in_channel(CHANNEL) == {"thread": 1}
    store.remember(CHANNEL, {"root": True})
    assert store.in_channel(CHANNEL) == {"root": True}
    assert store.in_channel("19:%@thread.tacv2") is None  # LIKE wildcards in an id match nothing


def test_oversized_or_empty_keys_are_not_stored(db: Database) -> None:
    store = ReferenceStore(db.engine, "teams")
    store.remember("", {"x": 1})
    store.remember("c" * 600, {"x": 1})
    store.remember("big", {"x": "y" * 20_000})
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM platform_refs")).scalar_one() == 0


def test_concurrent_first_contact_keeps_one_row(db: Database) -> None:
    store = ReferenceStore(db.engine, "teams")
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def first_contact(n: int) -> None:
        try:
            barrier.wait()
            store.remember("a:same", {"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_contact, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM platform_refs")).scalar_one() == 1
    assert store.get("a:same") in [{"n": n} for n in range(6)]
