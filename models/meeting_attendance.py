"""Who took part in a meeting, who sent apologies, and which participants approved its minutes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.user import User


class Attendance(enum.StrEnum):
    PRESENT = "present"  # deltager
    ABSENT = "absent"  # afbud


class MeetingAttendee(Base):
    """One person's attendance at one meeting, as the secretariat recorded it."""

    __tablename__ = "meeting_attendees"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="meeting_attendee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attendance: Mapped[Attendance] = mapped_column(enum_type(Attendance))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class MinutesApproval(Base):
    """A participant's »Godkend referat«: kept beside the chair's approval, which publishes."""

    __tablename__ = "minutes_approvals"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="minutes_approval"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The minutes version the participant read and approved.
    minutes_version: Mapped[int | None]
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
