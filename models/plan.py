"""The lines of the annual implementation plan (seed 004 §1.2.2): one per initiative."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.case import Case
from models.indicator import Indicator

plan_item_indicators = Table(
    "plan_item_indicators",
    Base.metadata,
    Column("plan_item_id", ForeignKey("plan_items.id"), primary_key=True),
    Column("indicator_id", ForeignKey("indicators.id"), primary_key=True),
)


class PlanItem(Base):
    """An initiative in a year's plan: purpose, anchoring, responsibility, timeline, economy."""

    __tablename__ = "plan_items"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="timeline_order"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    initiative_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, default="")
    anchoring: Mapped[str] = mapped_column(Text, default="")
    responsible_start: Mapped[str] = mapped_column(Text, default="")
    responsible_delivery: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    economy: Mapped[str] = mapped_column(Text, default="")
    economy_dkk: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan_case: Mapped[Case] = relationship(foreign_keys=[plan_case_id])
    initiative: Mapped[Case | None] = relationship(foreign_keys=[initiative_case_id])
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=plan_item_indicators, order_by="Indicator.code"
    )
