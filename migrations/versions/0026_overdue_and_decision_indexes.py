"""Indexes for the overdue case list of a process and a body's decisions outside meetings.

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


def upgrade() -> None:
    op.create_index("ix_cases_process_next_due", "cases", ["process", "next_due_at"])
    expression = DECISION_BODY[op.get_bind().dialect.name]
    # Only events outside meetings: the chairs' decisions on the body's behalf.
    op.execute(
        f"CREATE INDEX ix_case_events_decision_body ON case_events ({expression}, created_at) "
        "WHERE meeting_id IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_case_events_decision_body")
    op.drop_index("ix_cases_process_next_due", table_name="cases")
