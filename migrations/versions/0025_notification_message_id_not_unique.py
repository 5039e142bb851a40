"""The notifications' Message-ID is no longer a unique index of its own.

It is derived from the idempotency key (a SHA-256 of it, `outbox.message_id_for`), whose
unique index already keeps both unique, and nothing looks a notification up by it. The index
cost every notification written an insert into a b-tree of random keys: the largest of the
sweep's costs per reminder on PostgreSQL after the foreign key checks (issue 14).

notification message id not unique

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 09:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "uq_notifications_message_id"
MESSAGE = "Aftaleflow: records are never deleted and the audit trail is append-only"


def _restore_sqlite_trigger() -> None:
    # SQLite drops a table constraint only by rebuilding the table, which loses its triggers.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER IF NOT EXISTS notifications_no_delete BEFORE DELETE ON notifications "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(CONSTRAINT, type_="unique")
    _restore_sqlite_trigger()


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.create_unique_constraint(CONSTRAINT, ["message_id"])
    _restore_sqlite_trigger()
