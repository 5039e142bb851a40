"""Meeting attendance (deltagere, afbud, referent) and participants' approvals of the minutes.

meeting attendance

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "attendance",
            sa.Enum("present", "absent", name="attendance", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),  # fmt: skip
        sa.Column("recorded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "user_id", name="meeting_attendee"),
    )
    op.create_index(
        op.f("ix_meeting_attendees_meeting_id"), "meeting_attendees", ["meeting_id"], unique=False
    )
    op.create_table(
        "minutes_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("minutes_version", sa.Integer(), nullable=True),
        sa.Column("approved_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "user_id", name="minutes_approval"),
    )
    op.create_index(
        op.f("ix_minutes_approvals_meeting_id"), "minutes_approvals", ["meeting_id"], unique=False
    )
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("minute_taker_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_meetings_minute_taker_id_users", "users", ["minute_taker_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_constraint("fk_meetings_minute_taker_id_users", type_="foreignkey")
        batch.drop_column("minute_taker_id")
    op.drop_index(op.f("ix_minutes_approvals_meeting_id"), table_name="minutes_approvals")
    op.drop_table("minutes_approvals")
    op.drop_index(op.f("ix_meeting_attendees_meeting_id"), table_name="meeting_attendees")
    op.drop_table("meeting_attendees")
