"""Meetings of a body and the items on their agendas."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.body import Body


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    AGENDA_REVIEW = "agenda_review"
    PUBLISHED = "published"
    HELD = "held"
    MINUTES_APPROVED = "minutes_approved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ItemKind(enum.StrEnum):
    DECISION = "decision"
    DISCUSSION = "discussion"
    INFORMATION = "information"


class Meeting(Base):
    """A meeting of a body; cancelled meetings keep their row."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_body_starts", "body_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"))
    title: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    location: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus), default=MeetingStatus.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # Who takes the minutes (referent); participants and apologies are in meeting_attendees.
    minute_taker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    body: Mapped[Body] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position"
    )

    __mapper_args__ = {"version_id_col": version}


class AgendaItem(Base):
    """A point on a meeting's agenda, usually a case."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "position", name="meeting_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[ItemKind] = mapped_column(enum_type(ItemKind), default=ItemKind.DECISION)
    closed: Mapped[bool] = mapped_column(default=False)
    recommendation: Mapped[str] = mapped_column(Text, default="")
    background: Mapped[str] = mapped_column(Text, default="")
    presentation: Mapped[str] = mapped_column(Text, default="")
    consequences: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[str] = mapped_column(Text, default="")
    economy: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(32))
    decision_text: Mapped[str] = mapped_column(Text, default="")
    # What a closed item (lukket punkt) may say in public beside its title.
    public_summary: Mapped[str] = mapped_column(Text, default="")
    # Taken off the agenda before it was published; the row stays (nothing is deleted).
    removed_at: Mapped[datetime | None]
    # The transition approving the minutes fired, or why the engine refused it.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    transition_error: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
