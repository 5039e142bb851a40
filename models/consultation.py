"""Consultations (høring): a draft sent to parties and bodies, and their responses."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow


class ResponseStatus(enum.StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"


class Consultation(Base):
    """A comment round on a case's draft, with one response deadline."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    draft: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    deadline: Mapped[date]
    reminder_days: Mapped[int] = mapped_column(default=3)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    responses: Mapped[list[ConsultationResponse]] = relationship(
        back_populates="consultation", order_by="ConsultationResponse.id"
    )


class ConsultationResponse(Base):
    """One consulted party's or body's answer (or that it did not answer)."""

    __tablename__ = "consultation_responses"
    __table_args__ = (
        CheckConstraint("(party_id IS NULL) != (body_id IS NULL)", name="party_or_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    status: Mapped[ResponseStatus] = mapped_column(
        enum_type(ResponseStatus), default=ResponseStatus.PENDING
    )
    text: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]

    consultation: Mapped[Consultation] = relationship(back_populates="responses")
