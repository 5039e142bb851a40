"""Full-text search: the search documents, their Danish index, and attachments' text.

search

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL stems and drops stop words itself (the 'danish' text search configuration); the
# title weighs more than the body in the ranking.
PG_TSV = (
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('danish'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('danish'::regconfig, coalesce(body, '')), 'B')) STORED"
)
PG_GIN = "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)"
# SQLite has no Danish stemmer: workflow.search.terms stems the words (Snowball Danish) and drops
# the stop words before they go in; the rowid is the search document's id. Diacritics are kept
# (å is not a).
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, "
    "tokenize = 'unicode61 remove_diacritics 0')"
)


def upgrade() -> None:
    op.add_column("attachments", sa.Column("extracted_text", sa.Text(), nullable=True))
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("happened_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_search_documents_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_search_documents_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["body_id"], ["bodies.id"], name=op.f("fk_search_documents_body_id_bodies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "source_id", name="kind_source"),
    )
    op.create_index(
        op.f("ix_search_documents_case_id"), "search_documents", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_search_documents_happened_at"), "search_documents", ["happened_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TSV)
        op.execute(PG_GIN)
    else:
        op.execute(SQLITE_FTS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE search_fts")
    op.drop_index(op.f("ix_search_documents_happened_at"), table_name="search_documents")
    op.drop_index(op.f("ix_search_documents_case_id"), table_name="search_documents")
    op.drop_table("search_documents")
    op.drop_column("attachments", "extracted_text")
