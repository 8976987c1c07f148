"""The conversation engine of the terminal commands (`ribot chat`, `ribot triage`, `ribot eval`)."""

from __future__ import annotations

from bot.conversation import AnswererLike, ConversationEngine

PLATFORM = "cli"  # the terminal's conversations, whichever command opened them
USER = "cli"


def open_engine(database: str | None, answerer: AnswererLike | None = None) -> ConversationEngine:
    """The engine on `database` (default: the configured one), migrated; the answerer loads on first use
    unless the caller has one already."""
    from bot.settings import get_settings
    from bot.store import migrate, open_database
    from connectors.lazy_answerer import LazyAnswerer

    settings = get_settings()
    url = database or settings.db_url
    if database is None:
        settings.ribot_data_dir.mkdir(parents=True, exist_ok=True)
    migrate(url)
    return ConversationEngine(
        answerer or LazyAnswerer(), open_database(url), ttl_hours=settings.conversation_ttl_hours
    )
