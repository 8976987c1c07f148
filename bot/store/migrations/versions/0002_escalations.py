"""Escalations with their audit log and drafts, coordinator accounts and console sessions, and the outbox of
messages delivered to clients that poll (the web chat).

Revision ID: 0002_escalations
Revises: 0001_conversations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_escalations"
down_revision = "0001_conversations"
branch_labels = None
depends_on = None


def _accounts() -> None:
    op.create_table(
        "review_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("oidc_subject", sa.String(300), nullable=True, unique=True),
        sa.Column("is_coordinator", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "review_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("review_accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_review_sessions_account_id", "review_sessions", ["account_id"])
    op.create_index("ix_review_sessions_expires_at", "review_sessions", ["expires_at"])


def _escalations() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("user_id", sa.String(300), nullable=False),
        sa.Column("identity_shared", sa.Boolean, nullable=False),
        sa.Column("user_name", sa.String(200), nullable=True),
        sa.Column("user_email", sa.String(320), nullable=True),
        sa.Column("reply_ref", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("triage", sa.JSON, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column(
            "assignee_id", sa.Integer, sa.ForeignKey("review_accounts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("forwarded_to", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
        sa.Column("announced_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_escalations_status_created", "escalations", ["status", "created_at"])
    op.create_index("ix_escalations_category", "escalations", ["category"])
    op.create_index("ix_escalations_conversation_id", "escalations", ["conversation_id"])
    op.create_index("ix_escalations_user_id", "escalations", ["user_id"])
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "escalation_id", sa.Integer, sa.ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_escalation_events_escalation_id", "escalation_events", ["escalation_id"])
    op.create_table(
        "escalation_drafts",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("conversation_id", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column(
            "escalation_id", sa.Integer, sa.ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def _outbox() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_outbox_conversation", "outbox_messages", ["platform", "conversation_id", "id"])


def upgrade() -> None:
    _accounts()
    _escalations()
    _outbox()


def downgrade() -> None:
    op.drop_table("outbox_messages")
    op.drop_table("escalation_drafts")
    op.drop_table("escalation_events")
    op.drop_table("escalations")
    op.drop_table("review_sessions")
    op.drop_table("review_accounts")
