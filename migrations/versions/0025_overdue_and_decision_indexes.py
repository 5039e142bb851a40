"""Indexes for the overdue case list of a process and the decisions taken outside meetings.

overdue and decision indexes

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 09:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_process_next_due", "cases", ["process", "next_due_at"])
    op.create_index(
        "ix_case_events_meeting_trigger_created_at",
        "case_events",
        ["meeting_id", "trigger", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_case_events_meeting_trigger_created_at", table_name="case_events")
    op.drop_index("ix_cases_process_next_due", table_name="cases")
