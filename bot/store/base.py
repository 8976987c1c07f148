"""Engine, sessions and migrations. Every text a user or ribot writes goes through `Database.store_text`
before it reaches a table, so redaction of personal data has one place to hook in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Insert, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from bot.store.turns import TakeTurns, is_first_in_line, is_only_reading, only_reading

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x72_69_62_6F  # PostgreSQL advisory lock id: one migrating process at a time


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    """Naive UTC: what both SQLite and PostgreSQL give back for DateTime columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use psycopg 3, the driver installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _identity(value: str) -> str:
    return value


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    text_filter: Callable[[str], str] = field(default=_identity)  # e.g. bot.redact.redact

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it waits for no writer and holds up none (WAL), and sees
        the last committed state. It must not write."""
        with only_reading(), self.sessions() as session:
            yield session

    def store_text(self, value: str) -> str:
        return self.text_filter(value)

    def insert_ignoring_duplicates(self, table: Table) -> Insert:
        """INSERT that does nothing when a unique key already exists (rowcount 0)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL with WAL: a commit is written to the WAL file before it returns but not fsynced, so a stored
        # (and so acknowledged) delivery survives the process being killed; a power cut may lose the last
        # commits before a checkpoint. FULL would fsync every commit, which the acknowledgements would wait
        # for; a deployment that must survive power loss runs PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    turns = TakeTurns()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock up front: two processes updating one conversation queue instead of
        # overwriting each other's state. Within a process the transactions queue first come, first served
        # (SQLite's own wait polls with sleeps of up to 100 ms and lets late comers overtake), except those
        # marked `first_in_line`.
        if is_only_reading():
            connection.exec_driver_sql("BEGIN")
            return
        turns.acquire(is_first_in_line())
        connection.info[_TURN] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end_turn(connection.info)
            raise

    def _end_turn(info: dict[str, Any]) -> None:
        if info.pop(_TURN, False):
            turns.release()

    event.listen(engine, "commit", lambda connection: _end_turn(connection.info))
    event.listen(engine, "rollback", lambda connection: _end_turn(connection.info))
    event.listen(engine.pool, "checkin", lambda _dbapi, record: _end_turn(record.info))
    return engine


_TURN = "ribot_writer_turn"


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def open_database(url: str, text_filter: Callable[[str], str] | None = None) -> Database:
    """The database; text stored through it loses personal data (bot.redact) unless `text_filter` differs."""
    if text_filter is None:
        from bot.redact import redact

        text_filter = redact
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    return Database(normalise_url(url), engine, sessions, text_filter)


def migrate(url: str | Database) -> None:
    """Brings the database to the newest schema (Alembic `upgrade head`)."""
    from alembic import command
    from alembic.config import Config

    engine = url.engine if isinstance(url, Database) else make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if not isinstance(url, Database):
            engine.dispose()
