"""Operations: the request id on audit events, admin entries and notifications; the
scheduler's run times.

operations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUEST_ID_TABLES = ("case_events", "admin_audit", "notifications")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite): the append-only triggers on case_events stay.
    for table in REQUEST_ID_TABLES:
        op.add_column(table, sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("scheduler_locks", sa.Column("last_duration", sa.Float(), nullable=True))
    op.add_column("scheduler_locks", sa.Column("recent", sa.JSON(), nullable=True))
    # The failed deliveries' index (ix_notifications_failed) comes with 0011.


def downgrade() -> None:
    op.drop_column("scheduler_locks", "recent")
    op.drop_column("scheduler_locks", "last_duration")
    for table in reversed(REQUEST_ID_TABLES):
        op.drop_column(table, "request_id")
