"""Recurring meeting series, the meetings' change history and frozen agenda/minutes versions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_type, utcnow


class SeriesFrequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class MeetingSeries(Base):
    """A rule that planned several meetings of a body (every N weeks or months)."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    frequency: Mapped[SeriesFrequency] = mapped_column(enum_type(SeriesFrequency))
    interval: Mapped[int] = mapped_column(default=1)
    count: Mapped[int]
    first_starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=120)
    location: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The days the series runs (inclusive; NULL = open-ended); a reorganisation ends a closed
    # body's series on the day before its effective date.
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]


# Which meetings a series planned (a table of its own: the meetings table is not rebuilt).
meeting_series_meetings = Table(
    "meeting_series_meetings",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id"), primary_key=True),
    Column("series_id", ForeignKey("meeting_series.id"), nullable=False, index=True),
)


class MeetingHistoryEntry(Base):
    """One change to a meeting (planned, moved, cancelled, state changed, reopened)."""

    __tablename__ = "meeting_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentVersion(Base):
    """A frozen agenda or minutes as published: later changes make a new version."""

    __tablename__ = "meeting_document_versions"
    __table_args__ = (UniqueConstraint("meeting_id", "kind", "number", name="meeting_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # agenda | minutes
    number: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
