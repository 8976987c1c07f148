"""The table of conversation references per platform (revision 0003_platform_refs): what a connector needs
to write into a conversation later, after a restart or from another process."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.base import Base

platform_refs = sa.Table(
    "platform_refs",
    Base.metadata,
    sa.Column("platform", sa.String(32), primary_key=True),
    sa.Column("conversation_id", sa.String(512), primary_key=True),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_platform_refs_updated_at", "updated_at"),
)
