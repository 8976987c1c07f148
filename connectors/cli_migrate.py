"""`ribot migrate`: bring the database schema to the newest migration; `ribot migrate --check`: exit 1 when
the database is not at the newest migration or the models differ from what the migrations create.

In a cluster this runs once per release (a Kubernetes Job) before the new servers start; servers told not to
migrate (MIGRATE_ON_START=false) wait until the schema is there. Progress is logged as JSON lines on stderr;
the outcome is one line on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from bot.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.store.schema import SchemaState

log = logging.getLogger("ribot.migrate")


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 unless the database is at the newest migration and matches the models",
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: DATABASE_URL, else SQLite in the data dir)"
    )


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.base import make_engine
    from bot.store.schema import schema_state
    from connectors.jsonlog import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    url = args.database_url or settings.db_url
    engine = make_engine(url)
    try:
        state = schema_state(engine)
        if state.newer:
            print(f"the database is at {state.current}, which this version of ribot does not know")
            return 1
        return check(engine, state) if args.check else upgrade(url, engine, state)
    except SQLAlchemyError as exc:
        log.error("the database cannot be reached or changed", extra={"error": str(exc).splitlines()[0]})
        print(f"ribot migrate: the database failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def upgrade(url: str, engine: Engine, before: SchemaState) -> int:
    from bot.store.base import migrate
    from bot.store.schema import schema_state

    migrate(url)  # under PostgreSQL's advisory lock: concurrent runs migrate one after the other
    after = schema_state(engine)
    if before.current == after.current:
        print(f"the database is already at {after.current}, the newest migration")
    else:
        current = before.current or "empty"
        print(f"migrated the database from {current} to {after.current}, the newest migration")
    return 0


def check(engine: Engine, state: SchemaState) -> int:
    from bot.store.schema import schema_differences

    if not state.up_to_date:
        current = state.current or "no migration"
        print(f"the database is at {current}; the newest is {state.head}: run `ribot migrate`")
        return 1
    differences = schema_differences(engine)
    if differences:
        for difference in differences:
            print(f"differs: {difference}")
        print("the models and the migrations differ: add a migration (alembic revision --autogenerate)")
        return 1
    print(f"the schema at {state.head} matches the models")
    return 0
