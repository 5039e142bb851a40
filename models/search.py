"""The search index: one row per searchable text (workflow.search keeps it in step)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SearchDocument(Base):
    """A searchable text and where it lives: a case, an event's comment, an agenda item, a
    consultation, an answer or an attachment's extracted text. Rebuilt, never edited by hand.

    The language-aware index beside it is dialect-specific and made by migration 0020: on
    PostgreSQL a generated `tsv` column (`to_tsvector('danish', …)`) with a GIN index, on SQLite
    the FTS5 table `search_fts` holding the Danish-stemmed terms under the same rowid."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "source_id", name="kind_source"),
        Index("ix_search_documents_happened_at", "happened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # case, event, item, consultation, answer, attachment (workflow.search.index.KINDS)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    # The meeting's body, for an agenda item: its closed items are for its members only.
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    closed: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    happened_at: Mapped[datetime]
