"""Indicators the health agreement follows up on each year, their values, and the cases that
aim to move them (seed 004 §1.2.1)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.goal import NationalGoal
from models.party import Party

case_indicators = Table(
    "case_indicators",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("indicator_id", ForeignKey("indicators.id"), primary_key=True),
)


class IndicatorDirection(enum.StrEnum):
    UP = "up"
    DOWN = "down"


class Indicator(Base):
    """A measure followed up yearly: what it is, where its data come from, which way is good."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, default="")
    data_source: Mapped[str] = mapped_column(String(300), default="")
    direction: Mapped[IndicatorDirection] = mapped_column(enum_type(IndicatorDirection))
    unit: Mapped[str] = mapped_column(String(32), default="")
    national_goal_id: Mapped[int | None] = mapped_column(ForeignKey("national_goals.id"))
    active: Mapped[bool] = mapped_column(default=True)

    national_goal: Mapped[NationalGoal | None] = relationship()

    def __repr__(self) -> str:
        return f"<Indicator {self.code}>"


class IndicatorValue(Base):
    """An indicator's value for one year in the region or one municipality."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        UniqueConstraint("indicator_id", "year", "party_id", name="indicator_year_party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    year: Mapped[int]
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship()
    party: Mapped[Party] = relationship()
