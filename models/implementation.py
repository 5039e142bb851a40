"""Implementation of an approved case, tracked per unit (municipality, hospital, practice)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.party import Party


class ImplementationState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_RELEVANT = "not_relevant"


class ImplementationStatus(Base):
    """Where one unit stands in implementing one case."""

    __tablename__ = "implementation_statuses"
    __table_args__ = (
        UniqueConstraint("case_id", "party_id", name="case_unit"),
        # "Not relevant" must say why (issue: a not-relevant unit needs a reason).
        CheckConstraint("status != 'not_relevant' OR reason != ''", name="not_relevant_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    responsible_body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    status: Mapped[ImplementationState] = mapped_column(
        enum_type(ImplementationState), default=ImplementationState.NOT_STARTED
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date | None]
    implemented_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship()

    @property
    def is_done(self) -> bool:
        return self.status in (ImplementationState.IMPLEMENTED, ImplementationState.NOT_RELEVANT)
