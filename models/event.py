"""The append-only, hash-chained audit trail of every case (sealed by workflow.engine.chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.user import User

# The `prev_hash` of the first row of a chain.
GENESIS_HASH = "0" * 64


class CaseEvent(Base):
    """One thing that happened to a case. Rows are never updated or deleted."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="case_seq"),
        # Rare kinds of event read newest or oldest first (a co-chair's proposals awaiting
        # consent) without walking every event in time order.
        Index("ix_case_events_trigger_created_at", "trigger", "created_at"),
        # Migration 0026 adds `ix_case_events_decision_body`, on the decision's body (a JSON
        # field, spelt per dialect: workflow.meetings.agenda.decision_body) and time, for
        # the events outside meetings.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    trigger: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The web request or scheduler job that wrote the event (workflow.engine.request_id): a
    # correlation tag for the logs, not part of the seal.
    request_id: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()
