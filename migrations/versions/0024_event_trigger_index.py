"""An index on the events' trigger and time: the dashboard's proposals awaiting consent.

event trigger index

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_events_trigger_created_at", "case_events", ["trigger", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_case_events_trigger_created_at", table_name="case_events")
