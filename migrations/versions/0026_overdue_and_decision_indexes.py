"""An index for a body's decisions outside meetings.

overdue and decision indexes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 09:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The decision's body is a field of the event's JSON data. The expression is spelt exactly as
# workflow.meetings.agenda.decision_body compiles it, or the database does not use the index.
DECISION_BODY = {
    "sqlite": "json_extract(data, '$.decision_body')",
    "postgresql": "(data ->> 'decision_body')",
}


# No index on (process, next_due_at) for the overdue list: with it SQLite's planner read the
# front page's sections through it (a MULTI-INDEX OR over the open states), 25 ms -> 1.2 s at
# 100,000 cases; the overdue list reads the next_due_at index alone (30 ms against 17 ms).


def upgrade() -> None:
    expression = DECISION_BODY[op.get_bind().dialect.name]
    # Only events outside meetings: the chairs' decisions on the body's behalf.
    op.execute(
        f"CREATE INDEX ix_case_events_decision_body ON case_events ({expression}, created_at) "
        "WHERE meeting_id IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_case_events_decision_body")
