"""The SAML NameID a user last signed in with, so an IdP's LogoutRequest finds their sessions.

saml_name_id

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "external_identities", sa.Column("saml_name_id", sa.String(length=255), nullable=True)
    )
    op.create_index(
        "ix_external_identities_provider_saml_name_id",
        "external_identities",
        ["provider", "saml_name_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_external_identities_provider_saml_name_id", table_name="external_identities"
    )
    with op.batch_alter_table("external_identities") as batch:
        batch.drop_column("saml_name_id")
