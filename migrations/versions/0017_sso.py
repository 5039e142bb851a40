"""Single sign-on: external identities, seen SAML assertions, where a membership came from.

sso

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "external_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_external_identities_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_external_identities"),
        sa.UniqueConstraint("provider", "subject", name="uq_external_identities_provider_subject"),
    )
    op.create_index("ix_external_identities_user_id", "external_identities", ["user_id"])
    op.create_table(
        "sso_seen_assertions",
        sa.Column("assertion_id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assertion_id", name="pk_sso_seen_assertions"),
    )
    op.create_index(
        "ix_sso_seen_assertions_expires_at", "sso_seen_assertions", ["expires_at"]
    )
    # Plain ADD COLUMN (no batch copy on SQLite), so the table's triggers stay.
    op.add_column("memberships", sa.Column("source", sa.String(length=80), nullable=True))


def downgrade() -> None:
    op.drop_column("memberships", "source")
    op.drop_index("ix_sso_seen_assertions_expires_at", table_name="sso_seen_assertions")
    op.drop_table("sso_seen_assertions")
    op.drop_index("ix_external_identities_user_id", table_name="external_identities")
    op.drop_table("external_identities")
