"""The slow start of a server: embedding model, knowledge index (built when missing), database, engine."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from connectors.batching import BatchingAnswerer

if TYPE_CHECKING:
    from connectors.services import Loaded, Services

log = logging.getLogger("ribot.loading")


def load_components(services: Services) -> Loaded:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from bot.answering import Answerer
    from bot.conversation import ConversationEngine
    from bot.outbound import WebInbox
    from bot.store.base import migrate, open_database
    from bot.store.outbox import Outbox
    from connectors.services import Loaded
    from knowledge.index import open_retriever

    settings = services.settings
    settings.ribot_data_dir.mkdir(parents=True, exist_ok=True)
    log.info("opening the knowledge index", extra={"index_dir": str(settings.index_dir)})
    retriever = open_retriever(settings)
    answerer = BatchingAnswerer(
        Answerer(retriever),
        window_ms=settings.batch_window_ms,
        max_batch=settings.batch_max_size,
        workers=settings.answer_workers,
        observer=services.metrics.observe_batch,
    )
    log.info("migrating the database")
    migrate(settings.db_url)
    db = open_database(settings.db_url)
    engine = ConversationEngine(answerer, db, ttl_hours=settings.conversation_ttl_hours)
    return Loaded(answerer=answerer, engine=engine, db=db, web_inbox=WebInbox(Outbox(db)))
