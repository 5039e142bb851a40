"""The organisation as dated data: validity of bodies, parties, planning areas and meeting
series, a body's former names, successions (mergers, splits) and applied reorganisations.

dated organisation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATED = ("bodies", "parties", "planning_areas", "meeting_series")


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): SQLite would refuse to drop a referenced table.
    for table in DATED:
        op.add_column(table, sa.Column("valid_from", sa.Date(), nullable=True))
        op.add_column(table, sa.Column("valid_to", sa.Date(), nullable=True))
    op.create_table(
        "body_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["body_id"], ["bodies.id"], name=op.f("fk_body_names_body_id_bodies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_names")),
    )
    op.create_index(op.f("ix_body_names_body_id"), "body_names", ["body_id"], unique=False)
    op.create_table(
        "body_successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("replaced", "merged", "split", name="successionkind", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),  # fmt: skip
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reorganisation", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["predecessor_id"], ["bodies.id"], name=op.f("fk_body_successions_predecessor_id_bodies")
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["bodies.id"], name=op.f("fk_body_successions_successor_id_bodies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_successions")),
        sa.UniqueConstraint("predecessor_id", "successor_id", name="predecessor_successor"),
    )
    op.create_index(
        op.f("ix_body_successions_predecessor_id"),
        "body_successions", ["predecessor_id"], unique=False,
    )  # fmt: skip
    op.create_index(
        op.f("ix_body_successions_successor_id"),
        "body_successions", ["successor_id"], unique=False,
    )  # fmt: skip
    op.create_table(
        "reorganisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("plan_digest", sa.String(length=64), nullable=False),
        sa.Column("applied_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_by_id"], ["users.id"], name=op.f("fk_reorganisations_applied_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorganisations")),
        sa.UniqueConstraint("name", name=op.f("uq_reorganisations_name")),
    )


def downgrade() -> None:
    op.drop_table("reorganisations")
    op.drop_index(op.f("ix_body_successions_successor_id"), table_name="body_successions")
    op.drop_index(op.f("ix_body_successions_predecessor_id"), table_name="body_successions")
    op.drop_table("body_successions")
    op.drop_index(op.f("ix_body_names_body_id"), table_name="body_names")
    op.drop_table("body_names")
    for table in reversed(DATED):
        op.drop_column(table, "valid_to")
        op.drop_column(table, "valid_from")
