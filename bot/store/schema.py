"""Every table ribot keeps, registered on one MetaData, and how the database compares with it: which
migration it is at, which one is the newest, and what differs between the migrated schema and the models
(`ribot migrate --check`, `alembic check`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, column, inspect, select, table

import bot.store.escalation_tables
import bot.store.inbox
import bot.store.models
import bot.store.platform_refs
import bot.store.rate_limits
from bot.store.base import MIGRATIONS, Base

MODEL_MODULES = (
    bot.store.models,
    bot.store.escalation_tables,
    bot.store.platform_refs,
    bot.store.rate_limits,
)
metadata: MetaData = Base.metadata

# Compared beyond alembic's defaults: column types and server defaults, so that a changed String length or
# default is a difference too.
COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in " + str(MIGRATIONS))
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: an empty database
    head: str
    known: bool  # whether this version of ribot has the migration the database is at

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer(self) -> bool:
        """The database was migrated by a later version of ribot (during a rolling upgrade, say)."""
        return self.current is not None and not self.known


def current_revision(engine: Engine) -> str | None:
    """The revision in alembic's version table (None: an empty database). Read directly rather than through
    a MigrationContext, which logs two lines each time: a server waiting for the schema asks every 2 s."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revision: str | None = connection.execute(
            select(column("version_num")).select_from(table(VERSION_TABLE))
        ).scalar()
        return revision


def schema_state(engine: Engine) -> SchemaState:
    current = current_revision(engine)
    return SchemaState(current=current, head=head_revision(), known=current in known_revisions())


def schema_differences(engine: Engine) -> list[str]:
    """What a new migration would have to change to make the database match the models (empty: nothing)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
        return [_describe(diff) for diff in compare_metadata(context, metadata)]


def _describe(diff: Any) -> str:
    """One line per difference, e.g. `remove_table escalations` or `modify_type messages.kind: ...`."""
    if isinstance(diff, list):  # alembic groups the changes to one column
        return "; ".join(_describe(item) for item in diff)
    kind = diff[0]
    if kind.startswith("modify_"):
        _, _schema, table, column, _existing, old, new = diff
        return f"{kind} {table}.{column}: {old!r} -> {new!r}"
    if kind in ("add_column", "remove_column"):
        _, _schema, table, column = diff
        return f"{kind} {table}.{column.name}"
    item = diff[1]
    table = getattr(item, "table", None)
    name = getattr(item, "name", None) or "(unnamed)"
    return f"{kind} {name} on {table.name}" if table is not None else f"{kind} {name}"
