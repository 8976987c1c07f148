"""Conversation references per platform, for writing into a conversation later (proactive messages).

Revision ID: 0003_platform_refs
Revises: 0002_escalations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_platform_refs"
down_revision = "0002_escalations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_refs",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(512), primary_key=True),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_platform_refs_updated_at", "platform_refs", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_platform_refs_updated_at", table_name="platform_refs")
    op.drop_table("platform_refs")
