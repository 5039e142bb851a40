"""Reading a meeting's attendance: who attended, who sent apologies, who takes the minutes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Attendance, Meeting, MeetingAttendee, User


@dataclass(frozen=True)
class Roll:
    """Who attended the meeting, who sent apologies and who takes the minutes."""

    present: list[User]
    absent: list[User]
    minute_taker: User | None

    @property
    def recorded(self) -> bool:
        return bool(self.present or self.absent or self.minute_taker)


# Read on every meeting page: built once, with its SQL cache key.
_ROLL = (
    select(MeetingAttendee.attendance, User)
    .join(User, User.id == MeetingAttendee.user_id)
    .where(MeetingAttendee.meeting_id == bindparam("meeting_id"))
    .order_by(User.name, User.id)
)


def roll(session: Session, meeting: Meeting) -> Roll:
    """Return the meeting's attendance, each list by name."""
    rows = session.execute(_ROLL, {"meeting_id": meeting.id}).all()
    taker = session.get(User, meeting.minute_taker_id) if meeting.minute_taker_id else None
    return Roll(
        present=[user for kind, user in rows if kind is Attendance.PRESENT],
        absent=[user for kind, user in rows if kind is Attendance.ABSENT],
        minute_taker=taker,
    )
