"""Outbox messages remember when their client confirmed them; from then on they are kept redacted.

Revision ID: 0006_outbox_delivered
Revises: 0005_inbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox_delivered"
down_revision = "0005_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("delivered_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("delivered_at")
