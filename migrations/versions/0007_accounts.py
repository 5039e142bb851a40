"""Accounts: a session token per user (ends sessions at logout and password change) and
login throttling counters shared by every worker and server.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:40:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): on SQLite a copied users table would lose its
    # no-delete trigger.
    op.add_column(
        'users',
        sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''),
    )
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )


def downgrade() -> None:
    op.drop_table('login_throttles')
    # SQLite 3.35+ drops a column in place, keeping the table's triggers.
    op.drop_column('users', 'session_token')
