"""The bodies' terms: whether a body's joint chairmanship may decide on its behalf.

formandskab terms

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Seed 000 gives a forum's chairmanship the right to decide on its behalf; the steering group's,
# the coordination committees' and the groups' are read the same way (docs/domain.md). The
# political bodies (SKU, PPU) decide at their meetings.
DECIDING_KINDS = ("steering", "coordination_committee", "forum", "theme_group", "working_group")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite).
    op.add_column(
        "bodies",
        sa.Column("formandskab_decides", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bodies = sa.table("bodies", sa.column("kind", sa.String), sa.column("formandskab_decides"))
    op.execute(
        bodies.update().where(bodies.c.kind.in_(DECIDING_KINDS)).values(formandskab_decides=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN: a batch copy of bodies would trip the foreign keys that point at it.
    op.drop_column("bodies", "formandskab_decides")
