"""The process designer: one draft per process, and the versions the designer published.

process designer

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name="fk_process_drafts_updated_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_process_drafts"),
        sa.UniqueConstraint("name", name="uq_process_drafts_name"),
    )
    op.create_table(
        "process_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_version_id"],
            ["process_versions.id"],
            name="fk_process_publications_process_version_id_process_versions",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name="fk_process_publications_published_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_process_publications"),
        sa.UniqueConstraint(
            "process_version_id", name="uq_process_publications_process_version_id"
        ),
    )
    op.create_index("ix_process_publications_name", "process_publications", ["name"])


def downgrade() -> None:
    op.drop_index("ix_process_publications_name", table_name="process_publications")
    op.drop_table("process_publications")
    op.drop_table("process_drafts")
