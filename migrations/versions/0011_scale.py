"""Scale (issue 14): a maintained next deadline on cases and the indexes the pages need.

scale

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:00:00.000000

`cases.next_due_at` is the earliest open deadline of the case, kept in step by the engine
whenever a deadline is written (workflow.engine.deadlines), so the dashboard and the case list
sort and filter by it with an index instead of grouping every open deadline on each call.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild: on SQLite that would drop a table others refer to).
    op.add_column("cases", sa.Column("next_due_at", models.base.UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE cases SET next_due_at = (SELECT MIN(deadlines.due_at) FROM deadlines "
        "WHERE deadlines.case_id = cases.id AND deadlines.met_at IS NULL "
        "AND deadlines.cancelled_at IS NULL)"
    )
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])
    op.create_index("ix_cases_current_body_next_due", "cases", ["current_body_id", "next_due_at"])
    op.create_index(
        "ix_cases_originating_body_next_due", "cases", ["originating_body_id", "next_due_at"]
    )
    op.create_index("ix_cases_next_due_at", "cases", ["next_due_at"])
    op.create_index("ix_case_events_created_at", "case_events", ["created_at"])
    op.create_index(
        "ix_notifications_failed",
        "notifications",
        ["failed_at"],
        sqlite_where=sa.text("failed_at IS NOT NULL"),
        postgresql_where=sa.text("failed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_failed", table_name="notifications")
    op.drop_index("ix_case_events_created_at", table_name="case_events")
    op.drop_index("ix_cases_next_due_at", table_name="cases")
    op.drop_index("ix_cases_originating_body_next_due", table_name="cases")
    op.drop_index("ix_cases_current_body_next_due", table_name="cases")
    op.drop_index("ix_cases_updated_at", table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place since 3.35; Alembic's batch mode would rebuild the
        # table, which other tables' foreign keys forbid while they hold rows.
        op.execute("ALTER TABLE cases DROP COLUMN next_due_at")
    else:
        op.drop_column("cases", "next_due_at")
