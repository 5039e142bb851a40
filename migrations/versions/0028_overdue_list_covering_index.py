"""The overdue cases of a process counted from one index, the access rule's columns with them.

overdue list covering index

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns the access rule (workflow.policy.visible_cases) reads besides the id: with them in
# the index, the overdue list (`overskredet=1&proces=`) counts and pages its cases without
# reading each overdue case's row. next_due_at stays first, as in 0027, so that no plan reading
# cases by process can take it.
COLUMNS = ["next_due_at", "process", "process_version", "state", "originating_body_id"]


def upgrade() -> None:
    # PostgreSQL keeps the id beside them (SQLite's index holds the rowid anyway): the list
    # selects it, and with it the count may be read from the index alone.
    op.create_index("ix_cases_next_due_visible", "cases", COLUMNS, postgresql_include=["id"])
    op.drop_index("ix_cases_next_due_process", table_name="cases")
    # PostgreSQL needs no new statistics: the index is on plain columns.
    if _analyzed(op.get_bind()):
        # As 0027: SQLite plans by the statistics ANALYZE stored, if any; the new index needs
        # its own or SQLite guesses its selectivity.
        op.execute("ANALYZE ix_cases_next_due_visible")


def downgrade() -> None:
    op.create_index("ix_cases_next_due_process", "cases", ["next_due_at", "process"])
    op.drop_index("ix_cases_next_due_visible", table_name="cases")
    if _analyzed(op.get_bind()):
        op.execute("ANALYZE ix_cases_next_due_process")


def _analyzed(bind: sa.Connection) -> bool:
    """Whether this is SQLite with statistics stored by ANALYZE."""
    if bind.dialect.name != "sqlite":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"))
    return found.first() is not None
