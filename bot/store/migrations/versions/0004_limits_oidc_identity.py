"""Rate-limit counters shared by every process on the database, and OIDC accounts bound to the provider's
stable subject.

`review_accounts.oidc_subject` now holds `<issuer>|<claim>:<value>` (the claim is `oid` for Entra ID, else
`sub`). Subjects stored before this revision were linked by an e-mail address the provider may never have
verified, so they are dropped: each person links again at their next sign-in, under the new rule.

Revision ID: 0004_limits_oidc_identity
Revises: 0003_platform_refs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_limits_oidc_identity"
down_revision = "0003_platform_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limit_counters_expires_at", "rate_limit_counters", ["expires_at"])
    op.execute(sa.text("UPDATE review_accounts SET oidc_subject = NULL"))


def downgrade() -> None:
    op.drop_index("ix_rate_limit_counters_expires_at", table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
