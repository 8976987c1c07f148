"""Alembic environment. `bot.store.base.migrate` (and so `ribot migrate`) hands over a connection; the
`alembic` command from the checkout (alembic.ini) connects to `sqlalchemy.url` or, unset, to ribot's own
database setting; `alembic upgrade head --sql` writes the SQL instead of running it."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from bot.store.base import make_engine, normalise_url
from bot.store.schema import metadata


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.settings import get_settings

        url = get_settings().db_url
    return normalise_url(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,  # as bot.store.schema compares: types and server defaults too
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.config.config_file_name:  # the alembic command: its ini file's logging
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

handed_over = context.config.attributes.get("connection")
if handed_over is not None:
    _run(handed_over)
elif context.is_offline_mode():
    _run_offline()
else:
    engine = make_engine(_url())
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()
