"""The slow start of a server: embedding model, knowledge index (built when missing), database, engine.

The schema is migrated here unless MIGRATE_ON_START=false: then `ribot migrate` (a Kubernetes Job, say) does
it once per release and every server waits, not ready, until the database is at its newest migration.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from connectors.batching import BatchingAnswerer
from connectors.services import Loaded, Services

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.store.schema import SchemaState

log = logging.getLogger("ribot.loading")


def load_components(services: Services) -> Loaded:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from bot.answering import Answerer
    from bot.conversation import ConversationEngine
    from bot.outbound import WebInbox
    from bot.store.base import open_database
    from bot.store.outbox import Outbox
    from knowledge.index import open_retriever

    settings = services.settings
    settings.ribot_data_dir.mkdir(parents=True, exist_ok=True)
    # The database first: deliveries are stored (and acknowledged) while the model is still loading.
    prepare_schema(services)
    db = open_database(settings.db_url)
    services.database_opened(db)
    log.info("opening the knowledge index", extra={"index_dir": str(settings.index_dir)})
    retriever = open_retriever(settings)
    answerer = BatchingAnswerer(
        Answerer(retriever),
        window_ms=settings.batch_window_ms,
        max_batch=settings.batch_max_size,
        workers=settings.answer_workers,
        observer=services.metrics.observe_batch,
    )
    engine = ConversationEngine(answerer, db, ttl_hours=settings.conversation_ttl_hours)
    return Loaded(answerer=answerer, engine=engine, db=db, web_inbox=WebInbox(Outbox(db)))


SCHEMA_POLL_SECONDS = 2.0


class SchemaNotReady(RuntimeError):
    """The database did not reach this version's schema in time."""


def prepare_schema(services: Services) -> None:
    settings = services.settings
    if settings.migrate_on_start:
        from bot.store.base import migrate

        log.info("migrating the database")
        migrate(settings.db_url)
    else:
        wait_for_schema(settings.db_url, settings.schema_wait_seconds, services.executor)


def wait_for_schema(url: str, timeout: float, executor: Executor, poll: float = SCHEMA_POLL_SECONDS) -> None:
    """Return once the database is at the newest migration this version knows, or at a later one."""
    from bot.store.base import make_engine
    from bot.store.schema import schema_state

    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        for attempt in range(1_000_000):
            # Through the server's pool: once the server shuts down it refuses new work, and the wait ends.
            problem = _schema_problem(executor.submit(schema_state, engine).result)
            if problem is None:
                return
            if time.monotonic() >= deadline:
                raise SchemaNotReady(f"{problem}; run `ribot migrate` (waited {timeout:.0f} s)")
            if attempt % 15 == 0:
                log.info("waiting for the database schema", extra={"problem": problem})
            time.sleep(poll)
    finally:
        engine.dispose()


def _schema_problem(read_state: Callable[[], SchemaState]) -> str | None:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        state = read_state()
    except SQLAlchemyError as exc:
        return f"the database is unavailable ({type(exc).__name__})"
    if state.newer:
        log.warning("the database schema is newer than this version", extra={"revision": state.current})
        return None
    if not state.up_to_date:
        return f"the database is at {state.current or 'no migration'}, this version needs {state.head}"
    return None
