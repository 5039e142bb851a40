"""Triple Aim: the population's health as a field of its own on a case (issue 16, point 7).

triple aim population

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite): the cases already recorded have not yet
    # described it, which the Triple Aim rule then asks for before TSS recommends.
    op.add_column(
        "cases",
        sa.Column("triple_aim_population", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("cases", "triple_aim_population")
