"""Notifications in English too: the subject and body beside the Danish, for a recipient
who reads English (chosen when the notification is mailed or shown). Rows written before have
none and are sent in Danish.

notification english

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"

down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite): the append-only trigger on notifications
    # stays, and neither database rewrites the table for a nullable column without a default.
    op.add_column("notifications", sa.Column("subject_en", sa.String(length=300), nullable=True))
    op.add_column("notifications", sa.Column("body_en", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "body_en")
    op.drop_column("notifications", "subject_en")
