"""Deadlines a case carries: per state, material deadlines, consultations, follow-ups."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow


class DeadlineKind(enum.StrEnum):
    STATE = "state"
    MATERIAL = "material"
    CONSULTATION = "consultation"
    FOLLOW_UP = "follow_up"


# The open deadlines, which the partial indexes below hold.
_OPEN = text("met_at IS NULL AND cancelled_at IS NULL")


class Deadline(Base):
    """A due date; open while neither met nor cancelled."""

    __tablename__ = "deadlines"
    __table_args__ = (
        # The scheduler's sweep: open deadlines by due time.
        Index(
            "ix_deadlines_open_due",
            "due_at",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # A body's open deadlines by due time (the secretariat's overdue section, per body):
        # the sweep's index above has no body, so a few bodies' oldest deadlines are found
        # only past every other body's.
        Index(
            "ix_deadlines_open_body_due",
            "body_id",
            "due_at",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_deadlines_case_state", "case_id", "state"),
        CheckConstraint(
            "kind != 'material' OR meeting_id IS NOT NULL", name="material_needs_meeting"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[DeadlineKind] = mapped_column(enum_type(DeadlineKind))
    state: Mapped[str] = mapped_column(String(64))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    due_at: Mapped[datetime]
    # Days before due_at at which reminders go out, copied from the process definition.
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=list)
    met_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Any] = relationship("Case")

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None
